"""Event shapes (contract §4) and tracker behaviour: outputs, posture, holds, cues, jumps."""

from dataclasses import replace

import numpy as np
import pytest

from tests.support.synthetic import generate
from tracking.engine.jumps import JumpAnalyzer
from tracking.engine.outputs import ANGLES_INTERVAL_MS
from tracking.engine.pose import COCO_NAMES, LANDMARK_NAMES, Pose
from tracking.engine.posture import VIEW_GRACE_MS
from tracking.engine.tracker import ExerciseTracker
from tracking.params import parse_tracking_params

GRADES = {"A", "B", "C", "D", "F"}


def _of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def _at_fps(poses: list[Pose], fps: float, seconds: float) -> list[Pose]:
    """The poses cycled for `seconds` at `fps`, with fresh timestamps."""
    count = int(seconds * fps)
    return [
        replace(poses[i % len(poses)], timestamp_ms=i * 1000.0 / fps, frame_id=i)
        for i in range(count)
    ]


# -- keypoints and angles -----------------------------------------------------------------------


def test_keypoints_are_17_movenet_names_normalised_with_depth_by_default(engine, squat_clip):
    events, _ = engine.run("exercise=squat&keypoints=true", squat_clip[:3])
    keypoints = _of(events, "keypoints")
    assert len(keypoints) == 3
    first = keypoints[0]
    assert first["data"] == first["keypoints"]
    assert [k["name"] for k in first["data"]] == list(COCO_NAMES)
    assert first["frameId"] == 0 and first["timestampMs"] == 0
    x, y, z, visibility = squat_clip[0].landmarks[0]
    nose = first["data"][0]
    assert set(nose) == {"name", "x", "y", "z", "score"}  # contract §4.3
    assert nose["x"] == pytest.approx(x, abs=1e-4) and nose["y"] == pytest.approx(y, abs=1e-4)
    assert nose["z"] == pytest.approx(z, abs=1e-4)
    assert nose["score"] == pytest.approx(visibility, abs=1e-3)


def test_blazepose_keypoints_on_the_mirrored_preview(squat_clip):
    """The live page shows the front camera as a mirror, and its keypoints are on that picture:
    x is 1 - x of the camera's own image; y, z and the body's left and right stay."""
    params = parse_tracking_params("token=t&exercise=squat&keypoints=true&blazepose=true")
    tracker = ExerciseTracker(params, mirrored=True)
    points = _of(tracker.feed(squat_clip[0]), "keypoints")[0]["data"]
    assert [k["name"] for k in points] == list(LANDMARK_NAMES)
    landmarks = squat_clip[0].landmarks
    for point, (x, y, z, _) in zip(points, landmarks, strict=True):
        assert point["x"] == pytest.approx(1 - x, abs=1e-4), point["name"]
        assert point["y"] == pytest.approx(y, abs=1e-4) and point["z"] == pytest.approx(z, abs=1e-4)
    # The person's left shoulder is on the right of the camera's image: on the left of the mirror.
    left, right = points[LANDMARK_NAMES.index("left_shoulder")], points[12]
    assert landmarks[11][0] > landmarks[12][0] and left["x"] < right["x"]


def test_keypoints_only_when_asked_during_an_exercise(engine, squat_clip):
    events, final = engine.run("exercise=squat", squat_clip[:5])
    assert not _of(events, "keypoints") and not _of(events, "angles")


def test_pose_only_mode_always_streams_keypoints_and_nothing_else(engine, squat_clip):
    no_person = Pose(None, 200.0, 152, 248, frame_id=2)
    events, final = engine.run("", [*squat_clip[:2], no_person])
    assert [e["type"] for e in events] == ["keypoints"] * 3
    assert events[-1]["data"] == [] and events[-1]["keypoints"] == []
    assert final == []


def test_angles_use_contract_names_and_are_throttled(engine, curl_clip):
    stream = _at_fps(curl_clip[:30], 60, 2.0)
    events, _ = engine.run("exercise=bicep_curl&angles=true", stream)
    angles = _of(events, "angles")
    assert 18 <= len(angles) <= 21
    gaps = [b["timestampMs"] - a["timestampMs"] for a, b in zip(angles, angles[1:], strict=False)]
    assert min(gaps) >= ANGLES_INTERVAL_MS
    data = angles[0]["data"]
    assert set(data) == {"left_side", "right_side"}
    fields = {
        "knee_angle": "from_hip_to_ankle",
        "hip_angle": "from_knee_to_shoulder",
        "shoulder_angle": "from_hip_to_elbow",
        "elbow_angle": "from_shoulder_to_wrist",
    }
    for side in data.values():
        for name, key in fields.items():
            assert set(side[name]) == {key, f"score_{key}"}
            assert 0 <= side[name][key] <= 180
            assert 0 <= side[name][f"score_{key}"] <= 1


# -- posture ------------------------------------------------------------------------------------


def test_posture_until_ready_then_counting(engine, squat_clip):
    no_person = [Pose(None, t * 100.0, 152, 248) for t in range(3)]
    stream = no_person + [replace(p, timestamp_ms=p.timestamp_ms + 300) for p in squat_clip]
    events, _ = engine.run("exercise=squat", stream)
    postures = _of(events, "posture")
    first = postures[0]
    assert first == {
        **first,
        "ready": False,
        "direction": "in-frame",
        "requirements": ["full_body_visible"],
    }
    assert isinstance(first["message"], str) and first["message"]
    assert postures[-1]["ready"] is True and postures[-1]["requirements"] == []
    ready_at = events.index(postures[-1])
    assert not _of(events[:ready_at], "counter")
    assert len(_of(events, "counter")) == 4


def test_posture_asks_for_the_right_view(engine, curl_clip):
    # A facing person asked for a side-on exercise.
    events, final = engine.run("exercise=sit_up", curl_clip[:20])
    posture = _of(events, "posture")[0]
    assert posture["direction"] == "profile-camera" and posture["ready"] is False
    assert final[-1]["counter"] == 0


def test_curls_standing_facing_the_camera_are_not_push_ups(engine, curl_clip):
    # Push-ups may be filmed head-on, where the wrists rise towards the shoulders as in a curl:
    # a standing person (hips far below the shoulders) is asked into position, never counted.
    events, final = engine.run("exercise=push_up", curl_clip)
    assert {p["message"] for p in _of(events, "posture")} == {
        "Get into push-up position, arms straight"
    }
    assert final[-1]["counter"] == 0


@pytest.mark.parametrize("exercise", ["push_up", "face_pushup"])
@pytest.mark.parametrize("view", ["front", 20, 45, "side"])
def test_push_ups_count_and_grade_filmed_head_on_or_side_on(engine, exercise, view):
    # PoseTracker's face_pushup: the phone on the floor facing the person. Clean push-ups count
    # exactly and grade well from the front, turned, or side-on.
    take = generate("push_up", reps=5, view=view, noise_px=2.0, seed=4)
    events, final = engine.run(f"exercise={exercise}", take.poses)
    summary = final[-1]
    assert summary["counter"] == 5, [p["message"] for p in _of(events, "posture")]
    assert all(rep["grade"] in {"A", "B"} for rep in summary["history"]), summary["history"]


def test_a_floor_exercise_filmed_head_on_keeps_asking_to_turn_sideways(engine):
    # Head-on, the body points at the camera and its lying start position cannot be seen: past
    # the view's grace period the person must still hear what to change, not "get into position".
    take = generate("sit_up", reps=4, view="front", seed=3)
    events, _ = engine.run("exercise=sit_up", take.poses)
    posture = _of(events, "posture")
    assert posture and all(p["direction"] == "profile-camera" for p in posture), posture
    assert take.poses[-1].timestamp_ms > VIEW_GRACE_MS + 2_000
    assert not _of(events, "counter")


def test_french_messages(engine, squat_clip):
    events, _ = engine.run("exercise=squat&language=fr", squat_clip[:10])
    messages = [p["message"] for p in _of(events, "posture")]
    assert "Prêt ! Commencez quand vous voulez" in messages


def test_spanish_and_german_messages(engine, squat_clip):
    for language, ready in (
        ("es", "¡Listo! Empieza cuando quieras"),
        ("de", "Bereit! Leg los, wann du willst"),
    ):
        events, _ = engine.run(f"exercise=squat&language={language}", squat_clip[:10])
        assert ready in [p["message"] for p in _of(events, "posture")]


def test_missing_legs_name_the_missing_keypoints(engine, squat_clip):
    pose = squat_clip[0]
    landmarks = pose.landmarks.copy()
    landmarks[25:33, 3] = 0.05  # knees, ankles and feet only guessed
    events, _ = engine.run("exercise=squat", [replace(pose, landmarks=landmarks)])
    posture = _of(events, "posture")[0]
    assert posture["ready"] is False
    assert "left_knee" in posture["missing_keypoints"]


# -- counters, progression, cues, summary -------------------------------------------------------


def test_counter_and_form_score_events(engine, squat_clip):
    events, _ = engine.run("exercise=squat", squat_clip)
    counters, scores = _of(events, "counter"), _of(events, "form_score")
    assert len(counters) == len(scores) == 4
    for counter, score in zip(counters, scores, strict=True):
        assert set(counter) == {"type", "current_count", "form_score"}
        assert set(counter["form_score"]) == {"score", "avg_score", "grade"}
        assert counter["form_score"]["grade"] in GRADES
        assert {k: v for k, v in score.items() if k != "type"} == counter["form_score"]


def test_progression_rises_to_100_at_each_counted_rep(engine, squat_clip):
    events, _ = engine.run("exercise=squat&progression=true", squat_clip)
    progression = _of(events, "progression")
    assert progression and all(0 <= e["value"] <= 100 for e in progression)
    assert all(isinstance(e["value"], int) for e in progression)
    for index, event in enumerate(events):
        if event["type"] == "counter":
            previous = [e for e in events[:index] if e["type"] == "progression"]
            assert previous[-1]["value"] == 100
    assert not _of(engine.run("exercise=squat", squat_clip)[0], "progression")


def test_exercise_summary_has_contract_and_rich_fields(engine, curl_clip):
    _, final = engine.run("exercise=bicep_curl", curl_clip)
    summary = final[-1]
    assert summary["type"] == "exercise_summary"
    for key in ("exercise", "counter", "avg_rep_score", "grade", "history", "durationMs"):
        assert key in summary
    assert summary["timestampMs"] == curl_clip[-1].timestamp_ms
    assert summary["durationMs"] == round(curl_clip[-1].timestamp_ms - curl_clip[0].timestamp_ms)
    for key in ("reps", "attempts", "rejected_reps", "time_under_tension_ms", "tempo"):
        assert key in summary
    entry = summary["history"][0]
    for key in ("index", "formScore", "durationMs", "grade", "faults"):
        assert key in entry
    assert summary["tempo"]["avgRepMs"] > 0


def test_finish_is_final_once(engine, squat_clip):
    tracker = engine.tracker("exercise=squat")
    for pose in squat_clip:
        tracker.feed(pose)
    assert len(tracker.finish()) == 2
    assert tracker.finish() == []


def test_recommendations_shape_and_language(engine, curl_clip):
    # Hard difficulty asks for a fuller curl than this person gives: a depth cue.
    query = "exercise=bicep_curl&recommendations=true&difficulty=hard"
    events, _ = engine.run(query, curl_clip)
    cues = _of(events, "recommendations")
    assert cues
    for cue in cues:
        assert cue["data"] == cue["recommendations"] and cue["data"]
    events_fr, _ = engine.run(query + "&language=fr", curl_clip)
    french = [m for cue in _of(events_fr, "recommendations") for m in cue["data"]]
    assert "Montez jusqu'en haut du mouvement" in french
    events_es, _ = engine.run(query + "&language=es", curl_clip)
    spanish = [m for cue in _of(events_es, "recommendations") for m in cue["data"]]
    assert "Sube hasta arriba del todo" in spanish


def test_a_cue_is_not_repeated_within_its_cool_down(engine, curl_clip):
    looped = [
        replace(pose, timestamp_ms=pose.timestamp_ms + loop * 17_100.0)
        for loop in range(2)
        for pose in curl_clip
    ]
    tracker = engine.tracker("exercise=bicep_curl&recommendations=true&difficulty=hard")
    said: dict[str, list[float]] = {}
    for pose in looped:
        for event in tracker.feed(pose):
            if event["type"] == "recommendations":
                for message in event["data"]:
                    said.setdefault(message, []).append(pose.timestamp_ms)
    assert said
    for times in said.values():
        assert all(b - a >= 8000 for a, b in zip(times, times[1:], strict=False))


# -- holds (real planks from plank_test.csv) ----------------------------------------------------


@pytest.fixture(scope="module")
def plank_rows(engine):
    rows = engine.exercise_correction("plank_test.csv")
    correct = [pose for _, pose in rows[:40]]  # one person's correct plank
    hips_high = [pose for label, pose in rows if label == "H"][:33]
    sagging = [pose for label, pose in rows if label == "L"][:41]
    return correct, hips_high, sagging


def _segments(parts, fps=30.0):
    stream, t = [], 0.0
    for poses, seconds in parts:
        for i in range(round(seconds * fps)):
            stream.append(replace(poses[i % len(poses)], timestamp_ms=t))
            t += 1000.0 / fps
    return stream


def _cues(events: list[dict]) -> list[tuple[float, str]]:
    return [(e["t"], m) for e in _of(events, "recommendations") for m in e["data"]]


def _run_timed(engine, query: str, stream: list[Pose]) -> tuple[list[dict], list[dict]]:
    """Like engine.run, each event stamped `t` with its frame's time."""
    tracker = engine.tracker(query)
    events = []
    for pose in stream:
        events += [{**e, "t": pose.timestamp_ms} for e in tracker.feed(pose)]
    return events, tracker.finish()


def test_plank_timer_counts_whole_seconds_and_pauses_when_the_pose_breaks(
    engine, plank_rows, squat_clip
):
    correct, _, _ = plank_rows
    standing = squat_clip[:3]  # the person gets up
    events, final = engine.run(
        "exercise=plank&progression=true", _segments([(correct, 5), (standing, 2), (correct, 3)])
    )
    counts = [e["current_count"] for e in _of(events, "counter")]
    assert counts == list(range(1, len(counts) + 1))
    final_counter, summary = final
    # About 4.4 s then 2.7 s held (ready and hold entry take 0.3 s each); 2 s standing not held.
    assert final_counter["final"] is True and final_counter["current_count"] == 7
    assert len(summary["history"]) == 2
    assert summary["unit"] == "seconds"
    assert all(e["value"] <= 100 for e in _of(events, "progression"))


def test_a_strongly_piked_plank_is_told_to_lower_the_hips_and_keeps_holding(engine, plank_rows):
    """Real piked planks, their body line 240-266 degrees: far past the hips_high band, still a
    plank with its hips too high."""
    correct, hips_high, _ = plank_rows
    stream = _segments([(correct, 4), (hips_high, 3), (correct, 2)])
    events, final = _run_timed(engine, "exercise=plank&recommendations=true", stream)
    told = [t for t, cue in _cues(events) if cue == "Lower your hips"]
    assert len(told) == 1 and 4000 <= told[0] <= 4500
    summary = final[-1]
    assert len(summary["history"]) == 1 and summary["counter"] >= 8
    assert "hips_high" in summary["history"][0]["faults"]


def test_plank_sagging_is_cued_and_scored_down(engine, plank_rows):
    correct, _, sagging = plank_rows
    stream = _segments([(correct, 4), (sagging, 4)])
    events, final = engine.run("exercise=plank&recommendations=true", stream)
    cues = [m for e in _of(events, "recommendations") for m in e["data"]]
    assert cues == ["Lift your hips in line with your body"]
    good = engine.summary("exercise=plank", _segments([(correct, 8)]))
    assert final[-1]["avg_rep_score"] < good["avg_rep_score"]
    assert "hips_sag" in final[-1]["history"][-1]["faults"]


@pytest.mark.parametrize("fps", [30.0, 10.0])
def test_a_short_sag_is_told_while_it_lasts_and_again_when_it_returns(engine, plank_rows, fps):
    """Half-second sags of a real plank, fixed and made again 3 s later: each is told within it
    (or just after), once."""
    correct, _, sagging = plank_rows
    parts = [(correct, 3), (sagging, 0.5), (correct, 3), (sagging, 0.5), (correct, 2)]
    events, _ = _run_timed(engine, "exercise=plank&recommendations=true", _segments(parts, fps))
    told = [t for t, cue in _cues(events) if cue == "Lift your hips in line with your body"]
    assert len(told) == 2
    assert 3000 <= told[0] <= 3500 + 500 and 6500 <= told[1] <= 7000 + 500


def test_a_lunge_set_that_starts_at_the_bottom_starts_and_is_told_its_faults(engine):
    """Exercise-Correction's lunges open at the bottom of a lunge, the front knee past the toes
    (labelled) and the torso leaning 45 degrees forward."""
    rows = engine.exercise_correction("lunge_err.test.csv")[:46]
    assert [label for label, _ in rows[:30]] == ["L"] * 30
    events, _ = _run_timed(engine, "exercise=lunge&recommendations=true", [p for _, p in rows])
    assert any(e["ready"] for e in _of(events, "posture"))
    told = [t for t, cue in _cues(events) if cue == "Keep your front knee behind your toes"]
    assert told and told[0] <= 1000.0


def test_min_grade_is_ignored_for_holds(engine, plank_rows):
    correct, _, sagging = plank_rows
    stream = _segments([(correct, 2), (sagging, 4)])
    plain = engine.summary("exercise=plank", stream)
    strict = engine.summary("exercise=plank&minGrade=A", stream)
    assert strict["counter"] == plain["counter"] > 0


# -- jumps --------------------------------------------------------------------------------------


def test_jump_exercises_go_to_the_jump_analyzer(engine):
    """A jump exercise's tracker sends what the jump analyzer sends, after the frame's keypoints."""
    take = generate("jump_analysis", jump_heights_cm=[25, 45], height_cm=180.0)
    query = "exercise=jump_analysis&userHeightCm=180&keypoints=true"
    tracker = engine.tracker(query)
    analyzer = JumpAnalyzer(parse_tracking_params(f"token=test&{query}"))
    sent = []
    for pose in take.poses:
        events = tracker.feed(pose)
        kinds = [event["type"] for event in events if event["type"] != "posture"]
        assert kinds[0] == "keypoints" and "keypoints" not in kinds[1:]
        assert [event for event in events if event["type"] != "keypoints"] == analyzer.feed(pose)
        sent += events
    assert [e["jumpNumber"] for e in sent if e["type"] == "jump_result"] == [1, 2]
    assert tracker.finish() == analyzer.finish()


def test_nan_landmarks_are_not_counted_from(engine, squat_clip):
    broken = []
    for pose in squat_clip:
        landmarks = pose.landmarks.copy()
        landmarks[25:29, :2] = np.nan
        broken.append(replace(pose, landmarks=landmarks))
    events, final = engine.run("exercise=squat&keypoints=true", broken)
    assert final[-1]["counter"] == 0
    assert all(point["x"] == 0.0 for point in _of(events, "keypoints")[0]["data"][13:15])


def test_posture_events_also_carry_the_older_names_posetrackers_examples_read(engine, curl_clip):
    # PoseTracker's own HTML example reads info.placementMessage, its Expo one postureDirection.
    events, _ = engine.run("exercise=sit_up", curl_clip[:20])
    for posture in _of(events, "posture"):
        assert posture["placementMessage"] == posture["message"]
        assert posture["postureDirection"] == posture["direction"]
