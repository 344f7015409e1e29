"""The engine's measurements and form checks on real, labelled people (tests/fixtures/README.md).

These are classification-style checks: the labels come from other people's data sets, so the
tests ask for a clear separation, not perfection.
"""

import pytest

from tracking.engine.body import SidePicker, view_of
from tracking.engine.catalog import DIFFICULTIES, EXERCISES
from tracking.engine.metrics import Frame

MEDIUM = DIFFICULTIES["medium"]


def _check(exercise_id: str, check_id: str):
    return next(c for c in EXERCISES[exercise_id].checks if c.id == check_id)


def _more_visible_side(frame: Frame, exercise_id: str) -> str:
    return SidePicker(EXERCISES[exercise_id].needs).update(frame)


def _deepest_progress(frame: Frame, exercise_id: str) -> float:
    """The exercise's counting progress on the deeper side (0 start position, 1 textbook turn)."""
    component = EXERCISES[exercise_id].signal_for("side").components[0]
    values = [frame.metric(component.metric, side) for side in ("left", "right")]
    return max((v - component.top) / (component.target - component.top) for v in values)


@pytest.mark.parametrize(
    ("exercise_id", "down", "up"),
    [("squat", "squats_down", "squats_up"), ("push_up", "pushups_down", "pushups_up")],
)
def test_mlkit_photos_separate_bottom_from_top_at_the_first_rep_threshold(
    engine, exercise_id, down, up
):
    threshold = max(EXERCISES[exercise_id].counting.floor, MEDIUM.first_rep)
    agree = {down: 0, up: 0}
    total = {down: 0, up: 0}
    for label, pose in engine.mlkit_samples():
        if label not in total:
            continue
        total[label] += 1
        is_down = _deepest_progress(Frame(pose), exercise_id) >= threshold
        agree[label] += is_down == (label == down)
    assert total[down] > 150 and total[up] > 150
    for label in (down, up):
        assert agree[label] / total[label] >= 0.9, (label, agree[label], total[label])


def test_squat_train_cycle_count_matches_the_labels(engine):
    rows = engine.exercise_correction("squat_train.csv", fps=30.0)
    labels = [label for label, _ in rows]
    runs = [labels[0]] + [b for a, b in zip(labels, labels[1:], strict=False) if a != b]
    # A cycle is a labelled "down" run with "up" before and after it (the set starts squatting).
    true_cycles = sum(1 for i, run in enumerate(runs[1:-1], 1) if run == "down")
    assert true_cycles == 36
    summary = engine.summary("exercise=squat", [pose for _, pose in rows])
    assert abs(summary["counter"] - true_cycles) <= 2


def test_plank_hip_checks_tell_correct_from_hips_high_and_sagging(engine):
    sag, high = _check("plank", "hips_sag"), _check("plank", "hips_high")
    agree = total = 0
    per_label = {}
    for label, pose in engine.exercise_correction("plank_test.csv"):
        frame = Frame(pose)
        line = frame.metric("body_line", _more_visible_side(frame, "plank"))
        if sag.is_fault(line, MEDIUM.tolerance):
            predicted = "L"
        elif high.is_fault(line, MEDIUM.tolerance):
            predicted = "H"
        else:
            predicted = "C"
        per_label.setdefault(label, []).append(predicted == label)
        agree += predicted == label
        total += 1
    assert agree / total >= 0.9
    for label, hits in per_label.items():
        assert sum(hits) / len(hits) >= 0.8, label


def test_bicep_lean_back_check_finds_leaning_back(engine):
    lean_back = _check("bicep_curl", "lean_back")
    per_label = {}
    for label, pose in engine.exercise_correction("bicep_test.csv"):
        frame = Frame(pose)
        lean = frame.metric("torso_lean", _more_visible_side(frame, "bicep_curl"))
        predicted = "L" if lean is not None and lean_back.is_fault(lean, 0.0) else "C"
        per_label.setdefault(label, []).append(predicted == label)
    for label, hits in per_label.items():
        assert sum(hits) / len(hits) >= 0.9, label


def test_lunge_knee_over_toe_check_finds_knees_past_the_toes(engine):
    knee_over_toe = _check("lunge", "knee_over_toe")
    per_label = {}
    for label, pose in engine.exercise_correction("lunge_err.test.csv"):
        shin = Frame(pose).metric("front_shin_lean")
        predicted = "L" if shin is not None and knee_over_toe.is_fault(shin, 0.0) else "C"
        per_label.setdefault(label, []).append(predicted == label)
    for label, hits in per_label.items():
        assert sum(hits) / len(hits) >= 0.85, label


def test_side_on_views_are_recognised_in_side_view_data(engine):
    views = [view_of(Frame(pose), None) for _, pose in engine.exercise_correction("plank_test.csv")]
    assert views.count("side") / len(views) >= 0.95
