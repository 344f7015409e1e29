"""The engine's building blocks: catalog, filter, rep detector, hold timer, grades."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import contract
from tracking.engine.catalog import (
    DIFFICULTIES,
    EXERCISES,
    AnyOf,
    Check,
    Counting,
    Target,
    resolve_exercise,
)
from tracking.engine.counting import RepDetector
from tracking.engine.filters import OneEuroFilter
from tracking.engine.holds import HoldTimer
from tracking.engine.i18n import LANGUAGES, translate
from tracking.engine.metrics import METRICS
from tracking.engine.scoring import depth_score, grade_at_least, grade_for, tempo_score

# The contract's catalog, plus two exercises FormTrack adds.
REQUIRED = {
    "repetition": [*contract.REPETITION, "front_raise", "sit_up"],
    "duration": contract.DURATION,
    "jump": contract.JUMP,
}
MEDIUM = DIFFICULTIES["medium"]


# -- catalog ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "exercise_id"), [(k, e) for k, ids in REQUIRED.items() for e in ids]
)
def test_catalog_defines_every_exercise_declaratively(kind, exercise_id):
    exercise = EXERCISES[exercise_id]
    assert exercise.kind == kind
    assert exercise.view in ("front", "side", "either")
    assert exercise.label
    if kind == "repetition":
        for view in ("front", "side"):
            signal = exercise.signal_for(view)
            assert signal.components
            for component in signal.components:
                assert component.metric in METRICS
                assert component.top != component.target
        assert exercise.depth_cue is not None
        assert len(exercise.phases) == 4
    if kind == "duration":
        assert exercise.hold is not None and exercise.hold.target_s > 0
        conditions = [
            condition
            for item in exercise.hold.conditions
            for condition in (
                [c for option in item.options for c in option]
                if isinstance(item, AnyOf)
                else [item]
            )
        ]
        assert all(condition.metric in METRICS for condition in conditions)
        for target in exercise.hold.targets:
            assert target.metric in METRICS
            assert target.side in (None, "left", "right", "any", "both", "upper", "lower")
            # An ideal lies inside what still counts, with a cue saying which way to move.
            if target.ideal_low is not None:
                assert target.low < target.ideal_low and target.below is not None
            if target.ideal_high is not None:
                assert target.ideal_high < target.high and target.above is not None
            for cue in (target.below, target.above):
                assert cue is None or _in_every_catalog(cue)
    if exercise.category == "flexibility":
        assert exercise.hold.targets and exercise.fixed_view and exercise.view in ("front", "side")
    for check in exercise.checks:
        assert check.metric in METRICS
        assert check.op in ("<", ">")
        assert check.phase in ("bottom", "rep", "hold")
        assert _in_every_catalog(check.message)
        assert check.weight > 0


def _in_every_catalog(cue: str) -> bool:
    return all(translate(cue, language) != cue for language in LANGUAGES if language != "en")


def test_legacy_aliases_resolve():
    assert resolve_exercise("face_squat") == "squat"
    assert resolve_exercise("jump") == "air_time_jump"
    assert resolve_exercise(" Push_Up ") == "push_up"
    assert resolve_exercise("split") == "split"
    assert resolve_exercise("splits") is None


def test_a_target_scores_its_distance_from_the_ideal_and_cues_the_way_back():
    knees = Target("knee_angle", 135.0, None, None, 165.0, None, "straighten", None)
    assert knees.shortfall(170.0) == 0.0 and knees.cue(170.0) is None
    assert knees.shortfall(150.0) == pytest.approx(0.5)
    assert knees.shortfall(135.0) == pytest.approx(1.0) and knees.holds(135.0)
    assert knees.shortfall(120.0) > 1.0 and not knees.holds(120.0)
    assert knees.cue(150.0) == "straighten"
    fold = Target("knee_drop", None, 0.8, None, None, 0.35, None, "fold")
    assert fold.shortfall(0.2) == 0.0 and fold.shortfall(0.575) == pytest.approx(0.5)
    assert fold.cue(0.6) == "fold"


def test_difficulty_moves_check_thresholds_towards_lenient_or_strict():
    check = Check("x", "knee_angle", "<", 100.0, "bottom", "a", 10, 5)
    assert check.threshold(DIFFICULTIES["easy"].tolerance) == 95.0
    assert check.threshold(MEDIUM.tolerance) == 100.0
    assert check.threshold(DIFFICULTIES["hard"].tolerance) == 105.0
    assert check.is_fault(97.0, DIFFICULTIES["hard"].tolerance)
    assert not check.is_fault(97.0, DIFFICULTIES["easy"].tolerance)


# -- One-Euro filter ----------------------------------------------------------------------------


def test_one_euro_filter_removes_jitter_and_keeps_up_with_movement():
    rng = random.Random(3)
    smoothing = OneEuroFilter()
    raw, smooth = [], []
    for i in range(300):
        value = 1.0 + rng.gauss(0, 0.02)
        raw.append(value)
        smooth.append(smoothing(value, i * 1000 / 30))
    spread = lambda xs: max(xs[100:]) - min(xs[100:])  # noqa: E731
    assert spread(smooth) < spread(raw) / 2
    # A 1-unit step is mostly followed within 200 ms.
    for i in range(300, 306):
        out = smoothing(2.0, i * 1000 / 30)
    assert out > 1.8


def test_one_euro_filter_works_in_time_not_frames():
    def settle(fps):
        smoothing = OneEuroFilter()
        smoothing(0.0, 0.0)
        out = 0.0
        for i in range(1, int(fps * 0.3) + 1):
            out = smoothing(1.0, i * 1000 / fps)
        return out

    assert settle(10) == pytest.approx(settle(60), abs=0.15)


# -- rep detector -------------------------------------------------------------------------------


def _run_detector(signal, fps, seconds, counting=None, difficulty=MEDIUM):
    detector = RepDetector(counting or Counting(), difficulty)
    candidates = []
    for i in range(int(fps * seconds)):
        t = i * 1000.0 / fps
        candidate = detector.update(t, signal(t / 1000.0))
        if candidate is not None:
            candidates.append(candidate)
            if candidate.reached:
                detector.counted(candidate.depth)
    return detector, candidates


def _reps(amplitude, period_s, pause_s=0.5):
    """Rest, then cosine-shaped reps of the given depth, with a pause at rest between them."""

    def signal(seconds):
        cycle = period_s + pause_s
        phase = (seconds - 1.0) % cycle
        if seconds < 1.0 or phase > period_s:
            return 0.0
        return amplitude * (1 - math.cos(2 * math.pi * phase / period_s)) / 2

    return signal


@pytest.mark.parametrize("fps", [10, 15, 30, 60])
@pytest.mark.parametrize("period_s", [0.8, 2.0, 4.0])
def test_detector_counts_each_rep_at_any_frame_rate_and_tempo(fps, period_s):
    seconds = 1.0 + 5 * (period_s + 0.5)
    _, candidates = _run_detector(_reps(1.0, period_s), fps, seconds + 0.2)
    assert [c.reached for c in candidates] == [True] * 5
    for candidate in candidates:
        assert candidate.duration_ms == pytest.approx(period_s * 1000, rel=0.35)


def test_person_short_of_the_textbook_range_still_counts():
    # 40 % of the textbook range, every rep.
    _, candidates = _run_detector(_reps(0.4, 2.0), 30, 14)
    assert len(candidates) >= 5 and all(c.reached for c in candidates)


def test_partial_rep_after_full_ones_is_an_attempt():
    full, partial = _reps(1.0, 2.0), _reps(0.3, 2.0)

    def signal(seconds):
        return full(seconds) if seconds < 1.0 + 4 * 2.5 else partial(seconds)

    _, candidates = _run_detector(signal, 30, 1.0 + 5 * 2.5)
    assert [c.reached for c in candidates] == [True, True, True, True, False]


@settings(max_examples=60, deadline=None)
@given(
    amplitude=st.floats(min_value=0.0, max_value=0.2),
    noise=st.floats(min_value=0.0, max_value=0.03),
    fps=st.sampled_from([10, 30, 60]),
    period_s=st.floats(min_value=0.3, max_value=4.0),
    seed=st.integers(0, 1000),
)
def test_twitches_and_noise_are_never_reps(amplitude, noise, fps, period_s, seed):
    rng = random.Random(seed)
    base = _reps(amplitude, period_s)

    def signal(seconds):
        return base(seconds) + rng.gauss(0, noise)

    smoothing = OneEuroFilter()
    _, candidates = _run_detector(lambda s: smoothing(signal(s), s * 1000), fps, 12)
    assert not [c for c in candidates if c.reached]


def test_a_spike_shorter_than_a_rep_is_not_a_rep():
    def spike(seconds):
        return 1.0 if 2.0 <= seconds < 2.2 else 0.0

    _, candidates = _run_detector(spike, 30, 4, Counting(min_rep_ms=500.0))
    assert candidates == []


def test_jitter_while_holding_the_bottom_is_not_a_rep():
    rng = random.Random(5)

    def signal(seconds):
        if seconds < 1.0:
            return 0.0
        if seconds < 1.5:
            return 2 * (seconds - 1.0) * 1.2
        return 1.2 + 0.35 * math.sin(seconds * 9) + rng.gauss(0, 0.05)

    _, candidates = _run_detector(signal, 30, 1.8)
    assert candidates == []
    _, candidates = _run_detector(signal, 30, 8)
    assert not [c for c in candidates if c.reached]


def test_threshold_adapts_within_the_exercise_bounds():
    counting = Counting(floor=0.25)
    detector, _ = _run_detector(_reps(1.5, 2.0), 30, 14, counting)
    assert detector.threshold == pytest.approx(MEDIUM.ceiling)
    detector, _ = _run_detector(_reps(0.35, 2.0), 30, 14, counting)
    assert detector.threshold == pytest.approx(counting.floor)
    hard, _ = _run_detector(_reps(1.0, 2.0), 30, 14, counting, DIFFICULTIES["hard"])
    easy, _ = _run_detector(_reps(1.0, 2.0), 30, 14, counting, DIFFICULTIES["easy"])
    assert easy.threshold < hard.threshold


# -- hold timer ---------------------------------------------------------------------------------


def test_hold_timer_credits_only_valid_time_and_rides_over_short_breaks():
    timer = HoldTimer()
    fps = 30
    for i in range(int(fps * 6)):
        t = i * 1000 / fps
        broken_briefly = 2000 <= t < 2200
        broken_long = 4000 <= t < 5000
        timer.update(t, not (broken_briefly or broken_long))
    assert len(timer.segments) == 2
    assert timer.segments[0].held_ms == pytest.approx(3800, abs=80)
    # The second hold is credited from when the pose became valid again (5 s) to the end.
    assert timer.segments[1].held_ms == pytest.approx(1000, abs=80)


def test_hold_timer_does_not_credit_a_frozen_stream():
    timer = HoldTimer()
    timer.update(0.0, True)
    timer.update(400.0, True)
    timer.update(10_400.0, True)
    assert timer.held_ms <= 400.0 + 250.0


# -- grades -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (90, "A"), (89.9, "B"), (80, "B"), (70, "C"), (60, "D"), (59, "F"), (0, "F")],
)
def test_grade_bands(score, grade):
    assert grade_for(score) == grade


def test_grade_at_least():
    assert grade_at_least("A", "B") and grade_at_least("B", "B")
    assert not grade_at_least("C", "B") and not grade_at_least("F", "D")


def test_depth_and_tempo_scores():
    assert depth_score(MEDIUM.ideal_depth, MEDIUM) == 1.0
    assert depth_score(0.25, MEDIUM) == 0.0
    assert tempo_score(2000, (1000, 6000)) == 1.0
    assert tempo_score(400, (1000, 6000)) == 0.0
    assert 0.5 <= tempo_score(20_000, (1000, 6000)) < 1.0
