"""Reference movements: the maths, the signature, invariances, and real clips counted and scored
against one of their own repetitions.

The curl clip starts at rest (straight arms for 0.7 s) and holds six complete curls, so a reference
made from any one of them must count six: the reference's own repetition counts like the others.
"""

import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from tracking.engine.i18n import translate
from tracking.engine.pose import LANDMARK_INDEX, LANDMARK_NAMES, Pose
from tracking.engine.reference import (
    Reference,
    ReferenceTracker,
    SignatureError,
    build_signature,
    compare_poses,
)
from tracking.engine.reference.comparison import (
    distance_score,
    dtw_align,
    normalised_cross_correlation,
    timing_score,
)
from tracking.engine.reference.cues import CUES
from tracking.engine.reference.signature import SAMPLES, resample
from tracking.engine.tracker import open_tracker
from tracking.params import parse_tracking_params

# -- helpers ------------------------------------------------------------------------------------


def params(**overrides) -> SimpleNamespace:
    values = {
        "reference": "8d3c1f8e-5a57-4d6e-9a51-3f1f7c4b2a10",
        "recommendations": False,
        "progression": False,
        "keypoints": False,
        "angles": False,
        "blazepose": False,
        "width": None,
        "height": None,
        "language": "en",
        "difficulty": "medium",
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def run(poses: list[Pose], signature: dict, **overrides) -> tuple[list[dict], dict]:
    """Every event, and the exercise summary."""
    tracker = ReferenceTracker(params(**overrides), signature)
    events = []
    for pose in poses:
        events.extend(tracker.feed(pose))
    events.extend(tracker.finish())
    return events, events[-1]


def elbow_angles(poses: list[Pose]) -> np.ndarray:
    """Mean of both elbows' image-plane angles, degrees, per frame (computed here, independently
    of the module under test)."""
    angles = []
    for pose in poses:
        xy = pose.landmarks[:, :2] * (pose.image_width, pose.image_height)
        both = []
        for side in ("left", "right"):
            s, e, w = (
                LANDMARK_INDEX[f"{side}_{joint}"] for joint in ("shoulder", "elbow", "wrist")
            )
            a, b = xy[s] - xy[e], xy[w] - xy[e]
            both.append(math.degrees(math.atan2(abs(a[0] * b[1] - a[1] * b[0]), a @ b)))
        angles.append(sum(both) / 2)
    return np.array(angles)


def curls(poses: list[Pose]) -> list[tuple[int, int]]:
    """(first, last) frame of each curl: runs of frames with the elbows bent past half-way between
    the straightest and the most bent the clip shows."""
    angles = elbow_angles(poses)
    bent = angles < (angles.max() + angles.min()) / 2
    runs, start = [], None
    for i, is_bent in enumerate(bent):
        if is_bent and start is None:
            start = i
        if not is_bent and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(bent) - 1))
    return runs


def trim_of_curl(poses: list[Pose], which: int) -> tuple[float, float]:
    """A trim around one curl as a person would set it: from half-way through the rest before it
    to half-way through the rest after it."""
    runs = curls(poses)
    first, last = runs[which]
    before = (runs[which - 1][1] + first) // 2 if which > 0 else 0
    after = (last + runs[which + 1][0]) // 2 if which + 1 < len(runs) else len(poses) - 1
    return poses[before].timestamp_ms, poses[after].timestamp_ms


_SWAPPED = [
    LANDMARK_NAMES.index(name.replace("left", "@").replace("right", "left").replace("@", "right"))
    for name in LANDMARK_NAMES
]


def mirrored(pose: Pose) -> Pose:
    """The mirror image: x -> 1 - x, left and right landmarks swapped."""
    landmarks = pose.landmarks.copy()
    landmarks[:, 0] = 1.0 - landmarks[:, 0]
    return replace(pose, landmarks=landmarks[_SWAPPED])


def moved(pose: Pose, dx: float, dy: float, scale: float) -> Pose:
    """The same person elsewhere in the image and at another size (about the image centre)."""
    landmarks = pose.landmarks.copy()
    landmarks[:, :2] = (landmarks[:, :2] - 0.5) * scale + 0.5 + (dx, dy)
    return replace(pose, landmarks=landmarks)


def restamped(poses: list[Pose], step_ms: float) -> list[Pose]:
    return [replace(pose, timestamp_ms=i * step_ms) for i, pose in enumerate(poses)]


def upsampled(poses: list[Pose], factor: int) -> list[Pose]:
    """Landmarks linearly interpolated between frames: the same movement at factor x the rate."""
    out = []
    for a, b in zip(poses, poses[1:], strict=False):
        for k in range(factor):
            share = k / factor
            out.append(
                replace(
                    a,
                    landmarks=a.landmarks * (1 - share) + b.landmarks * share,
                    timestamp_ms=a.timestamp_ms * (1 - share) + b.timestamp_ms * share,
                )
            )
    return [*out, poses[-1]]


ARM = ("elbow", "wrist", "pinky", "index", "thumb")


def one_armed(pose: Pose, still_side: str, rest: Pose) -> Pose:
    """The pose with one arm held as in `rest` (relative to its shoulder): a one-arm movement."""
    landmarks = pose.landmarks.copy()
    shoulder = LANDMARK_INDEX[f"{still_side}_shoulder"]
    arm = [LANDMARK_INDEX[f"{still_side}_{joint}"] for joint in ARM]
    landmarks[arm, :3] = (
        rest.landmarks[arm, :3] - rest.landmarks[shoulder, :3] + landmarks[shoulder, :3]
    )
    return replace(pose, landmarks=landmarks)


def per_curl(poses: list[Pose], still_sides: list[str]) -> list[Pose]:
    """Curl k done with one arm only: the other arm (still_sides[k % len]) stays at rest."""
    runs = curls(poses)
    bounds = [0] + [(runs[k][1] + runs[k + 1][0]) // 2 for k in range(len(runs) - 1)]
    bounds.append(len(poses))
    out = []
    for k in range(len(runs)):
        still = still_sides[k % len(still_sides)]
        out.extend(one_armed(pose, still, poses[0]) for pose in poses[bounds[k] : bounds[k + 1]])
    return out


def counted(summary: dict) -> int:
    return summary["counter"]


def grades(summary: dict) -> list[str]:
    return [rep["grade"] for rep in summary["history"]]


@pytest.fixture(scope="module")
def curl_signature(curl_clip) -> dict:
    start_ms, end_ms = trim_of_curl(curl_clip, 0)
    return build_signature(curl_clip, start_ms=start_ms, end_ms=end_ms)


# -- maths --------------------------------------------------------------------------------------


def _cost(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a[:, None] - b[None, :])


def test_dtw_of_a_sequence_with_itself_is_zero_along_the_diagonal():
    walk = np.cumsum(np.random.default_rng(1).normal(size=SAMPLES))
    distance, path = dtw_align(_cost(walk, walk), band=8)
    assert distance == 0.0
    assert path == [(i, i) for i in range(SAMPLES)]


def test_dtw_of_a_time_warped_copy_is_small():
    t = np.linspace(0.0, 1.0, SAMPLES)
    movement = np.sin(2 * np.pi * t) + 0.5 * np.sin(6 * np.pi * t)
    warped = np.interp(t**1.4, t, movement)  # slow start, fast finish
    aligned, _ = dtw_align(_cost(movement, warped), band=13)
    unaligned = float(np.abs(movement - warped).mean())
    span = float(movement.max() - movement.min())
    assert aligned < 0.02 * span  # what is left is sampling, not timing
    assert aligned < 0.2 * unaligned


def test_dtw_stays_inside_its_sakoe_chiba_band():
    t = np.linspace(0.0, 1.0, SAMPLES)
    _, path = dtw_align(_cost(np.sin(3 * t), np.sin(3 * t**3)), band=5)
    assert max(abs(i - j) for i, j in path) <= 5
    assert path[0] == (0, 0) and path[-1] == (SAMPLES - 1, SAMPLES - 1)


def test_normalised_cross_correlation_measures_shape_only():
    t = np.linspace(0.0, 1.0, SAMPLES)
    shape = np.sin(2 * np.pi * t)[:, None]
    assert normalised_cross_correlation(shape, shape)[0] == pytest.approx(1.0)
    assert normalised_cross_correlation(shape, 3 * shape + 7)[0] == pytest.approx(1.0)
    assert normalised_cross_correlation(shape, -shape)[0] == pytest.approx(-1.0)
    assert normalised_cross_correlation(shape, np.zeros_like(shape))[0] == 0.0
    late = np.roll(shape, 3, axis=0)
    assert normalised_cross_correlation(shape, late)[0] < 0.99
    assert normalised_cross_correlation(shape, late, max_lag=3)[0] > 0.99


def test_resampling_and_score_maps():
    times = np.array([0.0, 100.0, 300.0])
    values = np.array([[0.0], [1.0], [3.0]])
    assert resample(times, values, 4)[:, 0] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert distance_score(0.0) == 1.0 and distance_score(10.0) == 0.0
    assert distance_score(0.2) > distance_score(0.3) > distance_score(0.4)
    assert distance_score(0.3, leniency=1.2) > distance_score(0.3)
    assert timing_score(1000.0, 1000.0) == timing_score(1100.0, 1000.0) == 1.0
    assert timing_score(500.0, 1000.0) == pytest.approx(timing_score(2000.0, 1000.0))
    assert 0.0 < timing_score(2000.0, 1000.0) < 1.0 == timing_score(1000.0, 1050.0)


# -- the signature ------------------------------------------------------------------------------


def test_signature_of_one_real_curl(curl_signature, curl_clip):
    stored = json.loads(json.dumps(curl_signature))  # JSON-serialisable as it is
    assert stored["version"] == 1 and stored["samples"] == SAMPLES
    assert len(stored["series"]) == len(stored["channels"])
    assert all(len(series) == SAMPLES for series in stored["series"])
    # The still lead-in and tail are trimmed: one curl lasts about two seconds in this clip.
    start_ms, end_ms = trim_of_curl(curl_clip, 0)
    assert 1000 < stored["duration_ms"] < end_ms - start_ms
    active = set(stored["active_channels"])
    assert {"left_elbow_angle", "right_elbow_angle"} <= active
    assert not active & {"left_knee_angle", "right_knee_angle", "left_ankle_y"}
    assert stored["excursions"] == 1 and stored["mirrored"] is True
    Reference(stored)  # reads back


def test_a_span_without_a_person_or_without_movement_makes_no_signature(curl_clip):
    nobody = [replace(pose, landmarks=None) for pose in curl_clip[:30]]
    with pytest.raises(SignatureError, match="show a person"):
        build_signature(nobody)
    still = [replace(curl_clip[0], timestamp_ms=i * 100.0) for i in range(20)]
    with pytest.raises(SignatureError, match="Nothing moves"):
        build_signature(still)
    assert issubclass(SignatureError, ValueError)


def test_a_signature_from_another_version_is_refused(curl_signature):
    with pytest.raises(SignatureError, match="version"):
        ReferenceTracker(params(), {**curl_signature, "version": 99})
    with pytest.raises(SignatureError):
        ReferenceTracker(params(), {"version": 1})


# -- invariances --------------------------------------------------------------------------------


def _one_curl(poses: list[Pose], which: int) -> list[Pose]:
    start_ms, end_ms = trim_of_curl(poses, which)
    return [pose for pose in poses if start_ms <= pose.timestamp_ms <= end_ms]


@pytest.mark.parametrize(
    "change",
    [
        lambda pose: moved(pose, 0.15, 0.05, 1.0),
        lambda pose: moved(pose, -0.1, 0.0, 0.55),
        lambda pose: moved(pose, 0.0, 0.0, 1.3),
        mirrored,
    ],
    ids=["shifted", "smaller", "larger", "mirrored"],
)
def test_the_same_curl_shifted_scaled_or_mirrored_scores_near_one(
    curl_signature, curl_clip, change
):
    performance = [change(pose) for pose in _one_curl(curl_clip, 0)]
    score = compare_poses(curl_signature, performance)
    assert score["overallScore"] >= 0.9 and score["matches"]


def test_another_curl_of_the_clip_scores_high_and_a_squat_scores_low(
    curl_signature, curl_clip, squat_clip
):
    for which in range(1, 6):
        assert compare_poses(curl_signature, _one_curl(curl_clip, which))["overallScore"] >= 0.9
    squat = squat_clip[: len(squat_clip) // 4 + 5]  # the first squat and the rest around it
    score = compare_poses(curl_signature, squat)
    assert score["overallScore"] < 0.6 and not score["matches"]


def test_a_one_arm_movement_matches_the_other_arm_as_a_mirror_image(curl_clip):
    left_arm = per_curl(curl_clip, ["right"])
    signature = build_signature(left_arm, start_ms=trim_of_curl(curl_clip, 0)[0], end_ms=2900.0)
    assert {"left_elbow_angle"} <= set(signature["active_channels"])
    assert "right_elbow_angle" not in signature["active_channels"]
    right_arm = _one_curl(per_curl(curl_clip, ["left"]), 1)
    score = compare_poses(signature, right_arm)
    assert score["mirrored"] and score["overallScore"] >= 0.9


# -- counting real clips ------------------------------------------------------------------------


def test_curl_clip_counts_all_six_curls_against_one_of_them(curl_clip, curl_signature):
    events, summary = run(curl_clip, curl_signature)
    assert counted(summary) == 6
    assert summary["attempts"] == 0
    assert sum(grade in "AB" for grade in grades(summary)) >= 5
    assert summary["avg_similarity"] >= 0.85
    counters = [e for e in events if e["type"] == "counter" and not e.get("final")]
    assert [c["current_count"] for c in counters] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("which", range(6))
def test_any_curl_of_the_clip_makes_a_reference_that_counts_six(curl_clip, which):
    start_ms, end_ms = trim_of_curl(curl_clip, which)
    signature = build_signature(curl_clip, start_ms=start_ms, end_ms=end_ms)
    assert counted(run(curl_clip, signature)[1]) == 6


def test_squats_against_a_curl_reference_count_nothing_and_are_reported_as_attempts(
    squat_clip, curl_signature
):
    events, summary = run(squat_clip, curl_signature, recommendations=True)
    assert counted(summary) == 0
    assert [e for e in events if e["type"] == "counter" and not e.get("final")] == []
    assert summary["attempts"] >= 3
    assert all(a["reason"] == "different_movement" for a in summary["attempt_details"])
    assert all(a["referenceScore"]["grade"] == "F" for a in summary["attempt_details"])


def test_the_mirrored_curl_clip_counts_the_same(curl_clip, curl_signature):
    summary = run([mirrored(pose) for pose in curl_clip], curl_signature)[1]
    assert counted(summary) == 6
    assert all(rep["mirrored"] for rep in summary["history"])


@pytest.mark.parametrize(
    "retime",
    [
        lambda poses: restamped(poses[::2], 100.0),  # twice as fast, 10 fps
        lambda poses: poses[::2],  # same speed, 5 fps
        lambda poses: restamped(poses, 200.0),  # half speed, 5 fps
        lambda poses: restamped(upsampled(poses, 2), 100.0),  # half speed, 10 fps
        lambda poses: upsampled(poses, 3),  # 30 fps
    ],
    ids=["2x-speed", "5fps", "half-speed", "half-speed-10fps", "30fps"],
)
def test_curls_count_at_other_tempos_and_frame_rates(curl_clip, curl_signature, retime):
    summary = run(retime(curl_clip), curl_signature)[1]
    assert counted(summary) == 6
    assert sum(grade in "AB" for grade in grades(summary)) >= 5


def test_curls_count_with_long_pauses_between_them(curl_clip, curl_signature):
    """Two seconds standing still (repeating the last straight-arm frame) before every curl."""
    angles = elbow_angles(curl_clip)
    straight = angles.max() - 15.0
    poses, t = [], 0.0
    for i, pose in enumerate(curl_clip):
        if i + 1 < len(curl_clip) and angles[i] > straight and angles[i + 1] <= straight:
            for _ in range(20):
                poses.append(replace(pose, timestamp_ms=t))
                t += 100.0
        poses.append(replace(pose, timestamp_ms=t))
        t += 100.0
    assert counted(run(poses, curl_signature)[1]) == 6


def test_a_one_arm_reference_counts_either_arm(curl_clip):
    left_arm = per_curl(curl_clip, ["right"])
    start_ms, end_ms = trim_of_curl(curl_clip, 0)
    signature = build_signature(left_arm, start_ms=start_ms, end_ms=end_ms)
    assert counted(run(left_arm, signature)[1]) == 6
    right_arm = run(per_curl(curl_clip, ["left"]), signature)[1]
    assert counted(right_arm) == 6 and all(rep["mirrored"] for rep in right_arm["history"])
    assert counted(run(per_curl(curl_clip, ["left", "right"]), signature)[1]) == 6


def test_a_reference_of_two_movements_counts_the_pair(curl_clip):
    """Left curl then right curl as one repetition: an alternating set of six curls is three."""
    alternating = per_curl(curl_clip, ["right", "left"])
    start_ms = trim_of_curl(curl_clip, 0)[0]
    end_ms = trim_of_curl(curl_clip, 1)[1]
    signature = build_signature(alternating, start_ms=start_ms, end_ms=end_ms)
    assert signature["excursions"] == 2
    assert counted(run(alternating, signature)[1]) == 3
    assert counted(run([mirrored(p) for p in alternating], signature)[1]) == 3
    assert counted(run(per_curl(curl_clip, ["right"]), signature)[1]) == 0


def test_min_grade_does_not_apply_to_references(curl_clip):
    """minGrade is for repetition exercises (contract §2.3): a reference tracker asked for
    minGrade=A, through the parser, counts every matching repetition as it would without it."""
    alternating = per_curl(curl_clip, ["right", "left"])
    start_ms, end_ms = trim_of_curl(curl_clip, 0)[0], trim_of_curl(curl_clip, 1)[1]
    signature = build_signature(alternating, start_ms=start_ms, end_ms=end_ms)
    # Both arms at once against a left-then-right reference: the same rhythm, a worse match.
    free = run(curl_clip, signature)[1]
    assert counted(free) == 3 and set(grades(free)) - {"A"}
    strict_params = parse_tracking_params(f"token=t&reference={params().reference}&minGrade=A")
    assert strict_params.min_grade is None
    assert strict_params.warnings[0].code == "min_grade_ignored"
    tracker = open_tracker(strict_params, signature)
    events = [event for pose in curl_clip for event in tracker.feed(pose)] + tracker.finish()
    strict = events[-1]
    assert counted(strict) == 3 and strict["rejected_reps"] == 0
    assert grades(strict) == grades(free)


# -- events -------------------------------------------------------------------------------------

SCORE_FIELDS = {
    "overallScore",
    "poseScore",
    "timingScore",
    "movementScore",
    "nccScore",
    "dtwScore",
    "grade",
}


def test_each_rep_sends_a_counter_and_a_reference_score(curl_clip, curl_signature):
    events, summary = run(curl_clip, curl_signature)
    counters = [e for e in events if e["type"] == "counter" and not e.get("final")]
    scores = [e for e in events if e["type"] == "reference_score"]
    assert len(counters) == len(scores) == 6
    for counter, score in zip(counters, scores, strict=True):
        assert set(counter["form_score"]) == {"score", "avg_score", "grade"}
        assert SCORE_FIELDS <= set(counter["reference_score"])
        assert all(0.0 <= counter["reference_score"][k] <= 1.0 for k in SCORE_FIELDS - {"grade"})
        assert counter["form_score"]["score"] == round(100 * score["overallScore"])
        assert score["repIndex"] == counter["current_count"]
        assert {k: score[k] for k in SCORE_FIELDS} == counter["reference_score"]
    final = [e for e in events if e.get("final")]
    assert len(final) == 1 and final[0]["current_count"] == 6
    assert summary["type"] == "exercise_summary" and summary["reps"] == 6
    for key in ("avg_similarity", "avg_rep_score", "grade", "durationMs", "timestampMs"):
        assert summary[key] is not None
    history = summary["history"]
    assert [rep["index"] for rep in history] == [1, 2, 3, 4, 5, 6]
    for rep in history:
        assert {"index", "formScore", "grade", "durationMs", "referenceScore"} <= set(rep)
    json.dumps(events)


def test_progression_runs_through_each_rep(curl_clip, curl_signature):
    events, _ = run(curl_clip, curl_signature, progression=True)
    values = [e["value"] for e in events if e["type"] == "progression"]
    assert all(0 <= value <= 100 for value in values)
    assert values.count(100) == 6
    # Between two counted reps the value climbs through the middle of the range.
    assert sum(40 <= value <= 99 for value in values) >= 6


def test_recommendations_name_the_body_part_that_differs_most(curl_clip):
    """Against a left-arm curl, curling both arms: the right arm should have stayed straight."""
    start_ms, end_ms = trim_of_curl(curl_clip, 0)
    signature = build_signature(per_curl(curl_clip, ["right"]), start_ms=start_ms, end_ms=end_ms)
    straighten_right = CUES[("elbow", "straighten")]["right"]
    for language in ("en", "fr", "es"):
        events, summary = run(curl_clip, signature, recommendations=True, language=language)
        said = [cue for e in events if e["type"] == "recommendations" for cue in e["data"]]
        assert said[0] == translate(straighten_right, language)
        # One cue per judged repetition at most, and never the same one twice within its
        # cool-down (about three curls here).
        assert len(said) <= counted(summary) + summary["attempts"]
        assert said.count(said[0]) <= 3


def test_posture_until_the_person_is_seen_and_when_they_are_lost(curl_clip, curl_signature):
    nobody = [
        replace(curl_clip[0], landmarks=None, timestamp_ms=-1000.0 + 100 * i) for i in range(10)
    ]
    gap_start = curl_clip[30].timestamp_ms
    lost = [
        replace(pose, landmarks=None)
        for pose in curl_clip
        if gap_start <= pose.timestamp_ms < gap_start + 1000
    ]
    kept = [pose for pose in curl_clip if not gap_start <= pose.timestamp_ms < gap_start + 1000]
    stream = nobody + kept[:30] + lost + kept[30:]
    events, summary = run(stream, curl_signature)
    postures = [e for e in events if e["type"] == "posture"]
    assert postures[0]["ready"] is False and postures[0]["direction"] == "in-frame"
    assert "full_body_visible" in postures[0]["requirements"]
    readiness = [p["ready"] for p in postures]
    assert readiness.count(True) == 2  # ready, lost, ready again
    assert readiness.index(True) < len(readiness) - 1
    assert all({"message", "direction", "ready", "requirements"} <= set(p) for p in postures)
    # The curl interrupted by the gap is lost; the others count.
    assert counted(summary) == 5


def test_keypoints_and_angles_when_asked(curl_clip, curl_signature):
    events, _ = run(curl_clip[:20], curl_signature, keypoints=True, angles=True)
    assert sum(e["type"] == "keypoints" for e in events) == 20
    assert any(e["type"] == "angles" for e in events)
