"""Per-rep and per-hold scores (0-100) and A-F grades.

A rep's score blends depth (range of motion against the textbook turn, scaled by difficulty),
tempo (inside the exercise's tempo band; a rep already under way when first seen is never too
fast) and stability (how far the hips travel sideways), then
subtracts the weight of every failed form check:

    score = 100 * (0.6 * depth + 0.2 * tempo + 0.2 * stability) - sum(failed check weights)

A hold's score starts at 100 and loses each check's weight in proportion to the share of the held
time it was failing (all of it once failing half the time), and up to 20 for instability. A pose
with targets also loses up to TARGET_WEIGHT for how far from their ideal it was held: the
farthest target's distance (0 inside its ideal, 1 at the edge of what still counts), averaged
over the hold. A pose is as good as its weakest joint: held at the edge of its range it grades F,
halfway C, the textbook pose A.

A test (exercise.scoring "depth") scores its measurement alone: 100 times its progress, 0 at the
signal's `top` and 100 at its `target`.
"""

import math
from dataclasses import dataclass, field

from tracking.engine.catalog import Check, Difficulty, Exercise
from tracking.engine.counting import RepCandidate

GRADE_BANDS = (("A", 90.0), ("B", 80.0), ("C", 70.0), ("D", 60.0))
GRADE_ORDER = ("A", "B", "C", "D", "F")
DEPTH_WEIGHT, TEMPO_WEIGHT, STABILITY_WEIGHT = 0.6, 0.2, 0.2
# A rep whose depth scores below this is reported as shallow (and cued).
SHALLOW_DEPTH = 0.6
SHALLOW = "shallow"  # that fault's name in a rep's `faults`
# A "rep" phase check fails when its fault covers this share of the rep.
REP_FAULT_SHARE = 0.3
# Hip travel (torso lengths) that starts to cost stability, and the span over which it costs all.
SWAY_FREE, SWAY_SPAN = 0.1, 0.3
TARGET_WEIGHT = 50.0


def grade_for(score: float) -> str:
    for grade, low in GRADE_BANDS:
        if score >= low:
            return grade
    return "F"


def grade_at_least(grade: str, minimum: str) -> bool:
    return GRADE_ORDER.index(grade) <= GRADE_ORDER.index(minimum)


def _unit(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def depth_score(peak_progress: float, difficulty: Difficulty) -> float:
    """0..1: 0 at a quarter of the textbook range, 1 at the difficulty's ideal depth."""
    return _unit((peak_progress - 0.25) / (difficulty.ideal_depth - 0.25))


def tempo_score(duration_ms: float, band: tuple[float, float]) -> float:
    fast, slow = band
    if duration_ms < fast:
        return _unit((duration_ms - 0.4 * fast) / (0.6 * fast))
    if duration_ms > slow:
        return max(0.5, 1.0 - 0.5 * (duration_ms - slow) / slow)
    return 1.0


def stability_score(sway: float) -> float:
    return 1.0 - _unit((sway - SWAY_FREE) / SWAY_SPAN)


class Evidence:
    """What one side saw during the current rep or hold: fault time per check, the measurements
    at the deepest point, and the hips' sideways sway.

    Sway is 2.83 standard deviations of the hips' horizontal position (the peak-to-peak of a steady
    oscillation) over the longest torso seen, so a brief step at the end of a long hold hardly
    counts. `settle_ms`: sway is measured from this long on (getting into a hold moves the hips)."""

    __slots__ = (
        "settle_ms",
        "fault_ms",
        "observed_ms",
        "at_peak",
        "_sway_n",
        "_sway_mean",
        "_sway_m2",
        "torso",
        "_last_t",
        "shortfall_ms",
        "extremes",
    )

    def __init__(self, settle_ms: float = 0.0):
        self.settle_ms = settle_ms
        self.fault_ms: dict[str, float] = {}
        self.observed_ms = 0.0
        self.shortfall_ms = 0.0
        self.extremes: dict[str, float] = {}
        self.at_peak: dict[str, float] = {}
        self._sway_n = 0
        self._sway_mean = 0.0
        self._sway_m2 = 0.0
        self.torso = 0.0
        self._last_t: float | None = None

    def observe(
        self,
        t_ms: float,
        faults: list[str],
        sway_x: float | None,
        torso: float | None,
        max_step_ms: float,
        shortfall: float = 0.0,
    ) -> None:
        """`shortfall`: how far a held pose is from its targets' ideal now (0..1, the farthest
        target's)."""
        last = self._last_t
        self._last_t = t_ms
        step = 0.0 if last is None else min(t_ms - last, max_step_ms)
        self.observed_ms += step
        self.shortfall_ms += shortfall * step
        for check_id in faults:
            self.fault_ms[check_id] = self.fault_ms.get(check_id, 0.0) + step
        if torso is not None and torso > self.torso:
            self.torso = torso
        if sway_x is not None and self.observed_ms >= self.settle_ms:
            # Welford's running variance.
            self._sway_n += 1
            delta = sway_x - self._sway_mean
            self._sway_mean += delta / self._sway_n
            self._sway_m2 += delta * (sway_x - self._sway_mean)

    @property
    def sway(self) -> float:
        if self._sway_n < 2 or self.torso <= 0:
            return 0.0
        return 2.83 * math.sqrt(self._sway_m2 / self._sway_n) / self.torso

    def track(self, key: str, value: float | None, mode: str) -> None:
        """Keep the largest ("max") or smallest ("min") value of `key` seen."""
        if value is None:
            return
        seen = self.extremes.get(key)
        if seen is None or (value > seen if mode == "max" else value < seen):
            self.extremes[key] = value

    @property
    def shortfall(self) -> float:
        """The time-averaged distance from the targets' ideal (0 perfect, 1 at their edges)."""
        return self.shortfall_ms / self.observed_ms if self.observed_ms > 0 else 0.0

    def fault_share(self, check_id: str) -> float:
        if self.observed_ms <= 0:
            return 0.0
        return self.fault_ms.get(check_id, 0.0) / self.observed_ms


@dataclass
class RepScore:
    score: int
    grade: str
    depth: float
    tempo: float
    stability: float
    faults: list[str] = field(default_factory=list)
    failed_checks: list[Check] = field(default_factory=list)


def score_rep(
    exercise: Exercise,
    difficulty: Difficulty,
    view: str,
    candidate: RepCandidate,
    peak_progress: float,
    evidence: Evidence,
) -> RepScore:
    if exercise.scoring == "depth":
        score = round(100.0 * _unit(peak_progress))
        return RepScore(score, grade_for(score), _unit(peak_progress), 1.0, 1.0)
    depth = depth_score(peak_progress, difficulty)
    band = exercise.counting.tempo_ms
    # A rep whose start was not seen lasted at least what was seen: too slow can be told, too
    # fast cannot.
    seen_ms = candidate.duration_ms if candidate.start_seen else max(candidate.duration_ms, band[0])
    tempo = tempo_score(seen_ms, band)
    stability = stability_score(evidence.sway) if exercise.steady else 1.0
    failed = []
    for check in exercise.checks:
        if view not in check.views:
            continue
        if check.phase == "bottom":
            measured = evidence.at_peak.get(check.id)
            if measured is not None and check.is_fault(measured, difficulty.tolerance):
                failed.append(check)
        elif check.phase == "rep" and evidence.fault_share(check.id) >= REP_FAULT_SHARE:
            failed.append(check)
    blended = 100.0 * (DEPTH_WEIGHT * depth + TEMPO_WEIGHT * tempo + STABILITY_WEIGHT * stability)
    score = round(max(0.0, min(100.0, blended - sum(check.weight for check in failed))))
    faults = [check.id for check in failed]
    if depth < SHALLOW_DEPTH:
        faults.append(SHALLOW)
    return RepScore(score, grade_for(score), depth, tempo, stability, faults, failed)


def score_hold(exercise: Exercise, view: str, evidence: Evidence) -> RepScore:
    penalty = 0.0
    failed = []
    for check in exercise.checks:
        if view not in check.views or check.phase != "hold":
            continue
        share = evidence.fault_share(check.id)
        if share > 0:
            penalty += check.weight * min(1.0, 2.0 * share)
        if share >= REP_FAULT_SHARE:
            failed.append(check)
    stability = stability_score(evidence.sway) if exercise.steady else 1.0
    penalty += 20.0 * (1.0 - stability)
    if exercise.hold.targets:
        penalty += TARGET_WEIGHT * evidence.shortfall
    score = round(max(0.0, min(100.0, 100.0 - penalty)))
    return RepScore(score, grade_for(score), 1.0, 1.0, stability, [c.id for c in failed], failed)
