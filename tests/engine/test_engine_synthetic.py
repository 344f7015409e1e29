"""Every exercise on synthetic takes with known ground truth (tests/support/synthetic.py).

Counts must be exact across tempos, frame rates, noise, mirroring, occlusion and dropped frames;
standing still or an empty room never counts; scores fall as faults grow; holds time correctly.
"""

from dataclasses import replace

import pytest

from tests.support.synthetic import TEMPO_S, generate, noise_only, stand_still
from tracking.engine.catalog import EXERCISES

# Exercises counting every rep (a physical test counts one: tests/engine/test_physical_tests.py).
REPETITION = sorted(
    e.id for e in EXERCISES.values() if e.kind == "repetition" and e.counting.limit is None
)
HOLDS = sorted(e.id for e in EXERCISES.values() if e.kind == "duration")


def _summary(engine, exercise: str, poses, extra: str = "") -> dict:
    return engine.summary(f"exercise={exercise}{extra}", poses)


def _spliced(*takes) -> list:
    """Takes one after the other, as one stream."""
    poses, offset = [], 0.0
    for take in takes:
        poses.extend(replace(p, timestamp_ms=offset + p.timestamp_ms) for p in take.poses)
        offset = poses[-1].timestamp_ms + 1000.0 / take.fps
    return poses


# -- counting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", REPETITION)
@pytest.mark.parametrize("fps", [10, 30])
@pytest.mark.parametrize("tempo", [0.7, 1.0, 1.6])
def test_exact_count_at_several_tempos_and_frame_rates(engine, exercise, fps, tempo):
    take = generate(exercise, reps=5, fps=fps, tempo_s=TEMPO_S[exercise] * tempo, seed=11)
    summary = _summary(engine, exercise, take.poses)
    assert summary["counter"] == take.rep_count == 5
    assert summary["attempts"] == 0
    assert all(entry["grade"] in "ABCDF" for entry in summary["history"])


@pytest.mark.parametrize("exercise", REPETITION)
@pytest.mark.parametrize(
    "conditions",
    [
        {"noise_px": 3.0},
        {"mirror": True},
        {"occlusion": 0.6},
        {"drop_rate": 0.3},
        {"timing_jitter": 0.5, "tempo_jitter": 0.3},
        {"fps": 60},
    ],
    ids=["noise", "mirror", "occlusion", "dropped", "jitter", "60fps"],
)
def test_exact_count_survives_real_world_conditions(engine, exercise, conditions):
    take = generate(exercise, reps=5, seed=12, **{"fps": 30, **conditions})
    assert _summary(engine, exercise, take.poses)["counter"] == 5


@pytest.mark.parametrize("exercise", REPETITION)
def test_a_person_short_of_the_textbook_range_is_still_counted(engine, exercise):
    take = generate(exercise, reps=5, depth=0.6, seed=13)
    assert _summary(engine, exercise, take.poses)["counter"] == 5


@pytest.mark.parametrize("fps", [10, 30])
def test_side_on_alternating_lunges_count_whichever_leg_is_nearest(engine, fps):
    """The near leg is the front leg in one lunge and the back leg in the next; with a long
    stride the back knee bends 25-45 degrees less and the far leg is hidden. The hips drop
    alike."""
    take = generate(
        "lunge",
        reps=6,
        view="side",
        depth=0.6,
        faults={"back_knee_straight": 1.0},
        occlusion=0.8,
        noise_px=2.0,
        fps=fps,
        seed=25,
    )
    assert _summary(engine, "lunge", take.poses)["counter"] == 6


def test_front_raises_filmed_from_the_front_count_from_the_first_rep(engine):
    take = generate("front_raise", reps=4, view="front", seed=26)
    events, final = engine.run("exercise=front_raise", take.poses)
    assert final[-1]["counter"] == 4
    assert not any("sideways" in e["message"] for e in events if e["type"] == "posture")


@pytest.mark.parametrize("exercise", ["squat", "bicep_curl", "lateral_raise", "deadlift"])
def test_a_rep_that_falls_short_is_an_attempt(engine, exercise):
    take = generate(exercise, reps=5, depth=[1.0, 1.0, 1.0, 0.45, 1.0], seed=14)
    events, final = engine.run(f"exercise={exercise}&recommendations=true", take.poses)
    summary = final[-1]
    assert summary["counter"] == 4
    assert [a["reason"] for a in summary["attempt_details"]] == ["too_shallow"]
    cues = [m for e in events if e["type"] == "recommendations" for m in e["data"]]
    assert EXERCISES[exercise].depth_cue in cues


@pytest.mark.parametrize(
    ("exercise", "other", "view"),
    [("front_raise", "lateral_raise", "side"), ("lateral_raise", "front_raise", "front")],
)
def test_the_wrong_movement_inside_a_set_does_not_count(engine, exercise, other, view):
    options = {"view": view, "camera_distance_m": 3.0}
    poses = _spliced(
        generate(exercise, reps=2, tail_s=0.0, **options),
        generate(other, reps=1, lead_in_s=0.3, tail_s=0.0, **options),
        generate(exercise, reps=2, lead_in_s=0.3, **options),
    )
    summary = _summary(engine, exercise, poses)
    assert summary["counter"] == 4
    assert [a["reason"] for a in summary["attempt_details"]] == ["wrong_movement"]


# Counted exercises (assessments measure instead: tests/engine/test_rom.py stands still for them).
COUNTED = sorted(e.id for e in EXERCISES.values() if e.kind not in ("jump", "assessment"))


@pytest.mark.parametrize("exercise", COUNTED)
def test_standing_still_counts_nothing(engine, exercise):
    still = stand_still(15.0, exercise=exercise, noise_px=3.0, seed=15)
    final_counter, summary = engine.run(f"exercise={exercise}", still.poses)[1]
    assert final_counter["current_count"] == 0
    assert summary["attempts"] == 0


@pytest.mark.parametrize("exercise", ["squat", "jumping_jack", "plank", "bicep_curl"])
def test_an_empty_room_counts_nothing(engine, exercise):
    empty = noise_only(20.0, seed=16)
    events, final = engine.run(f"exercise={exercise}", empty.poses)
    assert final[0]["current_count"] == 0
    assert all(not e["ready"] for e in events if e["type"] == "posture")


# -- scores -------------------------------------------------------------------------------------

# (exercise, view or None for its own, generator fault, the catalog's fault id it must raise)
FAULT_CASES = [
    ("squat", "front", "knees_caving", "knees_cave"),
    ("squat", "side", "forward_lean", "chest_forward"),
    ("squat", "side", "shallow", "shallow"),
    ("squat", "side", "heels_rising", "heels_up"),
    ("push_up", None, "hips_sagging", "hips_sag"),
    ("push_up", None, "hips_piking", "hips_high"),
    ("lunge", None, "knee_over_toe", "knee_over_toe"),
    ("lunge", None, "torso_lean", "torso_forward"),
    ("side_lunge", None, "leaning_sideways", "lean"),
    ("deadlift", None, "knees_too_bent", "squatting"),
    ("bicep_curl", None, "partial_range", "shallow"),
    ("tricep_dip", None, "torso_leaning_forward", "torso_forward"),
    ("tricep_dip", None, "shallow", "shallow"),
    ("shoulder_press", None, "incomplete_lockout", "no_lockout"),
    ("lateral_raise", None, "too_high", "too_high"),
    ("front_raise", "side", "swinging", "swing"),
    ("glute_bridge", None, "hips_low", "shallow"),
    ("jumping_jack", None, "arms_not_overhead", "arms_low"),
    ("jumping_jack", None, "feet_not_apart", "feet_close"),
    ("high_knees", None, "knees_low", "shallow"),
    ("mountain_climber", None, "short_drive", "shallow"),
    ("leg_raise", None, "bent_knees", "knees_bent"),
    ("sit_up", None, "partial_range", "shallow"),
    ("sit_up", None, "neck_pulling", "neck_pull"),
]


@pytest.mark.parametrize(("exercise", "view", "fault", "fault_id"), FAULT_CASES)
def test_scores_fall_as_faults_grow(engine, exercise, view, fault, fault_id):
    scores = []
    for severity in (0.0, 0.5, 1.0):
        take = generate(exercise, reps=4, view=view, faults={fault: severity}, seed=17)
        summary = _summary(engine, exercise, take.poses)
        assert summary["counter"] == 4
        scores.append(summary["avg_rep_score"])
        if severity == 1.0:
            assert all(fault_id in entry["faults"] for entry in summary["history"])
    # Non-increasing (two points of slack for a fault that also changes depth or tempo a little).
    assert scores[0] + 2 >= scores[1] >= scores[2] - 2
    assert scores[2] < scores[0]


def test_min_grade_rejects_the_faulty_reps_only(engine):
    take = generate("push_up", reps=4, faults={"hips_sagging": [0.0, 1.0, 0.0, 1.0]}, seed=18)
    events, final = engine.run("exercise=push_up&minGrade=B", take.poses)
    summary = final[-1]
    assert summary["counter"] == 2 and summary["rejected_reps"] == 2
    assert [e["current_count"] for e in events if e["type"] == "counter"] == [1, 2]
    assert all("hips_sag" in entry["faults"] for entry in summary["rejected"])


# -- holds --------------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", HOLDS)
@pytest.mark.parametrize("fps", [10, 30])
def test_hold_timer_counts_the_seconds_held(engine, exercise, fps):
    take = generate(exercise, hold_s=8.0, fps=fps, noise_px=2.0, seed=19)
    events, (final_counter, summary) = engine.run(f"exercise={exercise}", take.poses)
    ((start, end),) = take.holds
    assert abs(final_counter["current_count"] - (end - start)) <= 1.5
    seconds = [e["current_count"] for e in events if e["type"] == "counter"]
    assert seconds == list(range(1, final_counter["current_count"] + 1))


def test_balance_on_the_wrong_leg_does_not_count(engine):
    take = generate("balance_leg_left", hold_s=8.0, seed=20)
    assert engine.summary("exercise=balance_leg_left", take.poses)["counter"] >= 7
    assert engine.summary("exercise=balance_leg_right", take.poses)["counter"] == 0


def test_hold_timer_pauses_when_the_pose_breaks(engine):
    steady = engine.summary(
        "exercise=balance_leg", generate("balance_leg", hold_s=10.0, seed=21).poses
    )
    broken = generate("balance_leg", hold_s=10.0, faults={"touchdown": 1.0}, seed=21)
    summary = engine.summary("exercise=balance_leg", broken.poses)
    assert 1 <= steady["counter"] - summary["counter"] <= 3
    assert len(summary["history"]) == 2


@pytest.mark.parametrize(
    ("exercise", "fault", "fault_id"),
    [
        ("plank", "hips_low", "hips_sag"),
        ("plank", "hips_high", "hips_high"),
        ("wall_sit", "too_low", "too_low"),
        ("wall_sit", "leaning_forward", "back_off_wall"),
        ("balance_leg", "sway", "lean"),
    ],
)
def test_hold_scores_fall_with_faults_and_cue_them(engine, exercise, fault, fault_id):
    good = engine.summary(f"exercise={exercise}", generate(exercise, hold_s=8.0, seed=22).poses)
    take = generate(exercise, hold_s=8.0, faults={fault: 1.0}, seed=22)
    events, final = engine.run(f"exercise={exercise}&recommendations=true", take.poses)
    summary = final[-1]
    assert summary["avg_rep_score"] <= good["avg_rep_score"] - 5
    assert fault_id in summary["history"][0]["faults"]
    cue = next(c for c in EXERCISES[exercise].checks if c.id == fault_id).message
    assert cue in [m for e in events if e["type"] == "recommendations" for m in e["data"]]
