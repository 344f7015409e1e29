"""Counting real people who do not hold still first (#16): a rep cut out of a real set counts from
its first frame, a fragment of one does not, and counts hold at any frame rate and timing.

Landmarks of real clips (tests/fixtures/clips/, README there). Reps are cut where the movement
itself turns and rests (tests.support.clips.Segments reads the exercise's signal on the raw
landmarks), not where the counter under test says. bench/accuracy.py runs the same cuts on every
labelled clip of the shared data set.
"""

import pytest

from tests.support.clips import Segments, rate_variants
from tests.support.synthetic import generate

SETS = [
    ("pose_classification_squats", "squat", 5),  # brisk: a squat every 1.1 s
    ("fitness-squat-counter", "squat", 4),
    ("fitness-biceps-curls", "bicep_curl", 6),
    ("pose_classification_pushups", "push_up", 5),
]
WRONG_MOVEMENTS = [
    ("fitness-cobra-wings", "push_up"),  # lying prone, arms sweeping along the floor
    ("pose_tracking_example", "push_up"),  # yoga: down dog and low lunge, hands on the floor
    ("pose_segmentation", "jumping_jack"),  # dancing: feet stepping wide, one hand up
    # Dancing: dips on one bent knee while the other bends a little, or each knee in turn.
    ("pose_segmentation", "squat"),
    # Elbow at the side, the forearm swinging out and back (read in 3-D as a 30-degree bend),
    # and once raised to 90/90: not a curl, not a lateral raise.
    ("fitness-shoulder-externalrotation", "bicep_curl"),
    ("fitness-shoulder-externalrotation", "lateral_raise"),
]


def _set(engine, clip: str, exercise: str, reps: int):
    poses = engine.load_clip(clip)
    segments = Segments.of(exercise, poses)
    assert len(segments.peaks) == reps  # the cuts find the set's labelled reps
    return poses, segments


def _count(engine, exercise: str, poses) -> int:
    return engine.summary(f"exercise={exercise}", poses)["counter"]


@pytest.mark.parametrize(("clip", "exercise", "reps"), SETS)
def test_every_rep_cut_from_a_real_set_counts_from_its_first_frame(engine, clip, exercise, reps):
    poses, segments = _set(engine, clip, exercise, reps)
    for i in range(reps):
        excerpt = poses[segments.start(i) : segments.end(i) + 1]
        events, final = engine.run(f"exercise={exercise}", excerpt)
        assert final[-1]["counter"] == 1, (clip, i)
        # Never held still: the rep itself shows the person ready, and says so before counting.
        kinds = [(e["type"], e.get("ready")) for e in events if e["type"] in ("posture", "counter")]
        assert kinds.index(("posture", True)) < kinds.index(("counter", None))


@pytest.mark.parametrize(("clip", "exercise", "reps"), SETS)
def test_a_rep_cut_halfway_back_adds_nothing(engine, clip, exercise, reps):
    poses, segments = _set(engine, clip, exercise, reps)
    for i in range(reps):
        assert (
            _count(engine, exercise, poses[segments.start(i) : segments.halfway_back(i) + 1]) == 0
        )
    assert _count(engine, exercise, poses[: segments.halfway_back(reps - 1) + 1]) == reps - 1


@pytest.mark.parametrize(("clip", "exercise", "reps"), SETS)
def test_a_clip_starting_at_a_rep_s_turn_does_not_count_that_fragment(engine, clip, exercise, reps):
    poses, segments = _set(engine, clip, exercise, reps)
    for i in range(reps):
        assert _count(engine, exercise, poses[segments.peaks[i] : segments.end(i) + 1]) == 0
    assert _count(engine, exercise, poses[segments.peaks[0] :]) == reps - 1


@pytest.mark.parametrize(("clip", "exercise", "reps"), SETS)
def test_a_rep_caught_on_its_way_down_is_never_called_too_fast(engine, clip, exercise, reps):
    """A live page often starts mid-rep: what was seen of such a rep is a lower bound on its
    duration, so it can be too slow but never too fast, and it grades at least as its whole."""
    poses, segments = _set(engine, clip, exercise, reps)
    whole = [rep["score"] for rep in engine.summary(f"exercise={exercise}", poses)["history"]]
    caught = 0
    for i in range(reps):
        for cut in range(segments.start(i) + 1, segments.peaks[i]):
            summary = engine.summary(f"exercise={exercise}", poses[cut:])
            if summary["counter"] == reps - i:  # deep enough, from where it was seen, to count
                caught += 1
                assert summary["history"][0]["score"] >= whole[i] - 3, (clip, i, cut)
    assert caught


@pytest.mark.parametrize(("clip", "exercise", "reps"), SETS)
def test_counts_hold_at_10_15_and_30_fps_with_dropped_frames_and_jittered_timestamps(
    engine, clip, exercise, reps
):
    for variant, stream in rate_variants(engine.load_clip(clip)):
        assert _count(engine, exercise, stream) == reps, variant


@pytest.mark.parametrize(("clip", "exercise"), WRONG_MOVEMENTS)
def test_a_wrong_movement_counts_nothing_at_any_frame_rate(engine, clip, exercise):
    poses = engine.load_clip(clip)
    assert _count(engine, exercise, poses) == 0
    for variant, stream in rate_variants(poses):
        assert _count(engine, exercise, stream) == 0, variant


def test_lying_on_the_floor_is_asked_into_push_up_position(engine):
    # Cobra wings: prone, the arms on the floor. A push-up starts with the body held up on
    # straight arms, so the person is never ready, and their arm sweeps are never reps.
    events, final = engine.run("exercise=push_up", engine.load_clip("fitness-cobra-wings"))
    postures = [e for e in events if e["type"] == "posture"]
    assert not any(p["ready"] for p in postures)
    assert "Get into push-up position, arms straight" in {p["message"] for p in postures}
    assert final[-1]["counter"] == 0 and final[-1]["attempts"] == 0


def test_a_deadlift_set_from_the_floor_counts_its_first_pull(engine):
    # The bar starts on the floor: the set begins at the bottom of the movement, which for a
    # deadlift is a start position, and each pull to lockout is a rep.
    take = generate("deadlift", reps=5, lead_in_s=1.0, noise_px=2.0, seed=21)
    from_the_floor = [p for p in take.poses if p.timestamp_ms >= take.reps[0].peak_s * 1000]
    assert _count(engine, "deadlift", from_the_floor) == 5
    # A squat has one start position, standing: starting at the bottom is half a rep.
    take = generate("squat", reps=5, lead_in_s=1.0, noise_px=2.0, seed=21)
    from_the_bottom = [p for p in take.poses if p.timestamp_ms >= take.reps[0].peak_s * 1000]
    assert _count(engine, "squat", from_the_bottom) == 4


# The vendor's plank timer clip, its labels read from the picture (../shared/data MANIFEST.md).
PLANK_IN_GOOD_FORM_S = [(0.9, 2.5), (4.4, 6.2), (8.4, 9.7), (11.4, 12.4)]  # on the forearms
PLANK_PIKED_S = [(2.6, 4.3), (9.8, 11.3)]  # hips high: a plank told to lower them
PLANK_ROLLED_S = (6.3, 8.3)  # rolled towards the camera onto one side: out of the plank


def _held_share(segments: list[dict], start_s: float, end_s: float) -> float:
    covered = sum(
        max(0.0, min(end_s, s["endMs"] / 1000) - max(start_s, s["startMs"] / 1000))
        for s in segments
    )
    return covered / (end_s - start_s)


def test_a_low_forearm_plank_is_held_though_its_arms_are_misread(engine):
    """A low forearm plank side-on: the near elbow is placed at shoulder height and the far arm is
    hidden, so the arms do not show the body held up. Its body does: off the floor on the toes,
    in line, face down. Rolled onto one side it is not a plank any more."""
    poses = engine.load_clip("fitness-plank-timer")
    for variant, stream in [("as filmed", poses), *rate_variants(poses)]:
        tracker = engine.tracker("exercise=plank&recommendations=true")
        told = [
            pose.timestamp_ms / 1000
            for pose in stream
            for event in tracker.feed(pose)
            if event["type"] == "recommendations" and "Lower your hips" in event["data"]
        ]
        segments = tracker.finish()[-1]["history"]
        for start, end in PLANK_IN_GOOD_FORM_S + PLANK_PIKED_S:
            assert _held_share(segments, start, end) >= 0.9, (variant, start)
        middle = (PLANK_ROLLED_S[0] + 0.3, PLANK_ROLLED_S[1] - 0.3)
        assert _held_share(segments, *middle) == 0.0, variant
        for start, end in PLANK_PIKED_S:
            assert any(start <= t <= end for t in told), (variant, start)


def test_lying_prone_is_never_held_as_a_plank(engine):
    poses = engine.load_clip("fitness-cobra-wings")
    for _, stream in [("as filmed", poses), *rate_variants(poses)]:
        assert engine.summary("exercise=plank", stream)["held_ms"] == 0
