"""The physical test back_flexibility_test: one forward fold, counted once, with the `analysis`
object of the contract (§3.3, §4.7): its field names, peaks, flags, camera and reading."""

import pytest

from tests.support.synthetic import generate
from tracking.engine.catalog import EXERCISES
from tracking.engine.physical_tests import DISCLAIMER

TEST = "back_flexibility_test"
PEAKS = {
    "trunk_angle_deg",
    "hip_angle_deg",
    "knee_angle_deg",
    "shank_from_vertical_deg",
    "ground_ankle_knee_deg",
    "wrist_to_ankle",
}


def _run(engine, take, extra: str = ""):
    events, (final_counter, summary) = engine.run(f"exercise={TEST}{extra}", take.poses)
    counters = [e for e in events if e["type"] == "counter"]
    return counters, final_counter, summary


@pytest.mark.parametrize("fps", [10, 30])
def test_one_fold_is_one_repetition_and_later_folds_are_not_counted(engine, fps):
    counters, final_counter, summary = _run(engine, generate(TEST, reps=3, fps=fps, seed=51))
    assert [c["current_count"] for c in counters] == [1]
    assert final_counter["current_count"] == summary["counter"] == 1
    assert summary["attempts"] == 0 and len(summary["history"]) == 1


def test_the_counter_carries_the_analysis_with_the_contract_field_names(engine):
    counters, _, summary = _run(engine, generate(TEST, reps=1, seed=52))
    analysis = counters[0]["analysis"]
    assert set(analysis) == {
        "peaks",
        "flags",
        "camera",
        "disclaimer",
        "method",
        "interpretation",
        "opinion",
    }
    assert set(analysis["peaks"]) == PEAKS
    assert set(analysis["flags"]) == {"knee_locked", "leg_straight", "shank_vertical"}
    assert set(analysis["camera"]) == {"placement", "bias", "ratio"}
    assert set(analysis["interpretation"]) == {"tone", "title", "text"}
    assert analysis["opinion"] is True
    assert analysis["disclaimer"] == DISCLAIMER
    assert "not a medical or professional opinion" in analysis["disclaimer"]
    assert analysis["disclaimer"] not in analysis["interpretation"]["text"]
    # The summary repeats the disclaimer and method once, and the rep's analysis in its history.
    assert summary["disclaimer"] == analysis["disclaimer"]
    assert summary["method"] == analysis["method"] == EXERCISES[TEST].test.method
    assert summary["history"][0]["analysis"] == analysis


def test_other_exercises_send_no_analysis(engine):
    events, (_, summary) = engine.run("exercise=deadlift", generate("deadlift", reps=2).poses)
    assert not any("analysis" in e for e in events if e["type"] == "counter")
    assert "disclaimer" not in summary and "method" not in summary


@pytest.mark.parametrize(("depth", "tone"), [(1.0, "strong"), (0.6, "partial"), (0.45, "limited")])
def test_the_peaks_measure_the_fold_and_the_grade_follows_the_trunk(engine, depth, tone):
    take = generate(TEST, reps=1, depth=depth, seed=53)
    counters, _, _ = _run(engine, take)
    analysis = counters[0]["analysis"]
    peaks = analysis["peaks"]
    # The generator leans the trunk 3 + 80 * depth degrees from vertical, knees straight.
    assert peaks["trunk_angle_deg"] == pytest.approx(3 + 80 * depth, abs=2.0)
    assert peaks["knee_angle_deg"] >= 170 and analysis["flags"]["knee_locked"]
    assert peaks["ground_ankle_knee_deg"] == pytest.approx(90 - peaks["shank_from_vertical_deg"])
    # PoseTracker's anchors: 0 at 22 degrees of trunk, 100 at 75.
    expected = max(0, min(100, round(100 * (peaks["trunk_angle_deg"] - 22) / 53)))
    assert abs(counters[0]["form_score"]["score"] - expected) <= 1
    assert analysis["interpretation"]["tone"] == tone


def test_the_hands_reach_is_measured_against_the_ankle(engine):
    """Arms hanging from a trunk folded 83 degrees stop above the ankles; the deeper the fold,
    the lower they reach."""
    reaches = []
    for depth in (0.6, 1.0):
        counters, _, _ = _run(engine, generate(TEST, reps=1, depth=depth, seed=54))
        reaches.append(counters[0]["analysis"]["peaks"]["wrist_to_ankle"])
    assert reaches[0] < reaches[1] < 0
    assert "above your ankles" in counters[0]["analysis"]["interpretation"]["text"]


def test_bent_knees_are_flagged_and_the_reading_says_so(engine):
    counters, _, _ = _run(engine, generate(TEST, reps=1, seed=55, faults={"knees_bent": 1.0}))
    analysis = counters[0]["analysis"]
    assert analysis["flags"] == {
        "knee_locked": False,
        "leg_straight": False,
        "shank_vertical": False,
    }
    assert analysis["interpretation"]["tone"] != "strong"
    assert "knees bent" in analysis["interpretation"]["text"]


def test_squatting_down_is_not_the_test(engine):
    take = generate(TEST, reps=2, seed=56, faults={"squatting": 1.0})
    summary = engine.summary(f"exercise={TEST}", take.poses)
    assert summary["counter"] == 0
    assert {a["reason"] for a in summary["attempt_details"]} == {"wrong_movement"}
    squats = generate("squat", reps=2, view="side", seed=56)
    assert engine.summary(f"exercise={TEST}", squats.poses)["counter"] == 0


def test_a_real_yoga_flow_that_never_stands_up_has_no_test_rep(engine):
    """MediaPipe's clip starts and ends folded forward: there is no fold from standing."""
    summary = engine.summary(f"exercise={TEST}", engine.load_clip("pose_tracking_example"))
    assert summary["counter"] == 0


@pytest.mark.parametrize(("pitch", "placement"), [(0.0, "mid"), (25.0, "ground"), (-25.0, "high")])
def test_the_camera_height_is_read_from_the_standing_body(engine, pitch, placement):
    """A phone low and tilted up sees the legs longer against the trunk; high and tilted down,
    shorter."""
    take = generate(TEST, reps=1, seed=57, camera_pitch_deg=pitch)
    camera = _run(engine, take)[0][0]["analysis"]["camera"]
    assert camera["placement"] == placement
    if pitch:
        assert (camera["bias"] > 0) == (pitch > 0)


def test_the_reading_speaks_the_requested_language(engine):
    counters, _, summary = _run(engine, generate(TEST, reps=1, seed=58), "&language=fr")
    analysis = counters[0]["analysis"]
    assert analysis["disclaimer"] == summary["disclaimer"]
    assert analysis["disclaimer"].startswith("En complément des conditions d'utilisation")
    assert analysis["interpretation"]["text"].startswith("Votre tronc")
    assert analysis["method"].startswith("Vue de profil")
