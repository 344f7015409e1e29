"""The wellness shoulder movements: shoulder_roll and shoulder_deep_breath.

Their counting across tempos, frame rates and noise is in test_engine_synthetic.py (every
repetition exercise); here: what they must not count, and their scores from the person's own rest.
"""

from dataclasses import replace

import pytest

from tests.support.synthetic import generate

WELLNESS = ["shoulder_roll", "shoulder_deep_breath"]


def _image_only(poses):
    """What a live session gets: image landmarks, no world landmarks."""
    return [replace(pose, world=None) for pose in poses]


@pytest.mark.parametrize("exercise", WELLNESS)
@pytest.mark.parametrize("world", [True, False], ids=["world", "image"])
def test_each_roll_or_breath_counts_with_or_without_world_landmarks(engine, exercise, world):
    take = generate(exercise, reps=5, noise_px=2.0, seed=41)
    poses = take.poses if world else _image_only(take.poses)
    summary = engine.summary(f"exercise={exercise}", poses)
    assert summary["counter"] == 5 and summary["attempts"] == 0


@pytest.mark.parametrize("exercise", WELLNESS)
def test_raising_the_arms_is_another_movement(engine, exercise):
    take = generate(exercise, reps=4, seed=42, faults={"arms_raised": 1.0})
    summary = engine.summary(f"exercise={exercise}", take.poses)
    assert summary["counter"] == 0
    assert {a["reason"] for a in summary["attempt_details"]} == {"wrong_movement"}


@pytest.mark.parametrize("exercise", WELLNESS)
@pytest.mark.parametrize(
    "other", ["lateral_raise", "shoulder_press", "bicep_curl", "squat", "jumping_jack"]
)
def test_other_movements_are_not_shoulder_movements(engine, exercise, other):
    take = generate(other, reps=4, view="front", seed=43)
    assert engine.summary(f"exercise={exercise}", take.poses)["counter"] == 0


@pytest.mark.parametrize("exercise", WELLNESS)
@pytest.mark.parametrize(
    "clip", ["fitness-squat-counter", "fitness-biceps-curls", "health-back-rom", "pose_1"]
)
def test_real_people_doing_other_things_are_not_counted(engine, exercise, clip):
    """Real squats, curls, a side bend and a one-legged balance with the arms overhead."""
    assert engine.summary(f"exercise={exercise}", engine.load_clip(clip))["counter"] == 0


def test_a_quick_roll_is_not_a_deep_breath(engine):
    take = generate("shoulder_roll", reps=5, seed=44)
    assert engine.summary("exercise=shoulder_deep_breath", take.poses)["counter"] == 0


@pytest.mark.parametrize(
    ("exercise", "fault"), [("shoulder_roll", "small_circles"), ("shoulder_deep_breath", "shallow")]
)
def test_a_smaller_rise_from_the_persons_own_rest_scores_lower(engine, exercise, fault):
    full = engine.summary(f"exercise={exercise}", generate(exercise, reps=4, seed=45).poses)
    small = engine.summary(
        f"exercise={exercise}", generate(exercise, reps=4, seed=45, faults={fault: 1.0}).poses
    )
    assert full["counter"] == small["counter"] == 4
    assert small["avg_rep_score"] <= full["avg_rep_score"] - 20
    assert all("shallow" in entry["faults"] for entry in small["history"])
