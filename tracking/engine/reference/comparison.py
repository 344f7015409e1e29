"""Scoring one performance against a reference, once per candidate repetition.

The candidate is resampled to SAMPLES points and aligned to the reference by DTW within a
Sakoe-Chiba band. Each channel counts by how much it moves in either performance (a still arm does
not drown the moving one, but an arm the reference keeps still and the user swings counts fully),
plus a STILL_SHARE for the rest. Deviations are in units of the channel's range of motion, or of a
NOTICEABLE difference for still channels.
- dtwScore: the mean deviation of the movement along the alignment, each performance measured from
  its own start pose (a different stance or body proportions are not a different movement);
- poseScore: joint angles at the key poses (where the reference rests and where it turns);
- nccScore: normalised cross-correlation of the moving channels, small lags allowed (the shape);
- movementScore: each moving channel's range of motion against the reference's (the amplitude);
- timingScore: the duration ratio;
- overallScore: the OVERALL_WEIGHTS blend; the grade is overallScore x 100 (A >= 90 ... F < 60).
Distances become scores linearly: up to DISTANCE_FREE (about the spread of one person's own
repetitions) is 1, from DISTANCE_ZERO (another movement) it is 0. A candidate counts when it is
recognisably the movement: at least a D overall (hosted references grade A-D), a shape that
correlates and a tempo within MAX_TEMPO_RATIO. Anything else is an attempt, reported in the summary.
"""

import math
from dataclasses import dataclass

import numpy as np

from tracking.engine.pose import Pose
from tracking.engine.reference.signature import (
    IS_ANGLE,
    MAX_TEMPO_RATIO,
    MIRROR_ORDER,
    NOTICEABLE_BY_CHANNEL,
    SAMPLES,
    Reference,
    SignatureError,
    active_bounds,
    channel_weights,
    features_of,
    mirror_channels,
    range_of_motion,
    resample,
)
from tracking.engine.scoring import grade_for

# Deviation (mean, in range-of-motion units) -> score: 1 up to DISTANCE_FREE, 0 from DISTANCE_ZERO.
DISTANCE_FREE = 0.08
DISTANCE_ZERO = 0.6
# Sakoe-Chiba band, as a share of SAMPLES; lags allowed in the cross-correlation.
BAND_SHARE = 0.2
NCC_MAX_LAG_SHARE = 0.1
# Timing: ratios within TIMING_FREE of the reference are free, TIMING_ZERO (4x off) scores 0.
TIMING_FREE = 1.15
TIMING_ZERO = 4.0
# Range of motion: within AMPLITUDE_FREE is free, half (or double) the range scores 0.
AMPLITUDE_FREE = 1.1
AMPLITUDE_ZERO = 2.0
OVERALL_WEIGHTS = {"dtw": 0.3, "pose": 0.2, "ncc": 0.2, "movement": 0.2, "timing": 0.1}
# What makes a candidate the movement at all (else an attempt): at least a D overall (reference
# grades are A-D; an F is not recognisably the movement) and a shape that correlates.
MATCH_MIN_OVERALL = 0.6
MATCH_MIN_NCC = 0.5
# Key poses for poseScore: the reference's rest (progress below) and its turn (progress above).
REST_LEVEL, TURN_LEVEL = 0.15, 0.8


def dtw_align(cost: np.ndarray, band: int | None = None) -> tuple[float, list[tuple[int, int]]]:
    """Dynamic time warping over a local cost matrix (reference rows x user columns), steps
    (1,0), (0,1), (1,1), inside a Sakoe-Chiba band of `band` cells around the diagonal.

    Returns the mean local cost along the best path and the path, from (0, 0) to (n-1, m-1)."""
    n, m = cost.shape
    if band is None:
        band = max(n, m)
    # The band follows the diagonal of a non-square matrix, and is never narrower than the slope.
    band = max(band, abs(n - m))
    rows = cost.tolist()
    inf = math.inf
    acc = [[inf] * m for _ in range(n)]
    for i in range(n):
        centre = i * (m - 1) / (n - 1) if n > 1 else 0.0
        low, high = max(0, math.ceil(centre - band)), min(m - 1, math.floor(centre + band))
        row, above, local = acc[i], acc[i - 1] if i else None, rows[i]
        for j in range(low, high + 1):
            if i == 0 and j == 0:
                best = 0.0
            else:
                best = inf
                if above is not None:
                    best = above[j]
                    if j and above[j - 1] < best:
                        best = above[j - 1]
                if j and row[j - 1] < best:
                    best = row[j - 1]
            row[j] = local[j] + best
    path = [(n - 1, m - 1)]
    i, j = n - 1, m - 1
    while i or j:
        steps = []
        if i and j:
            steps.append((acc[i - 1][j - 1], i - 1, j - 1))
        if i:
            steps.append((acc[i - 1][j], i - 1, j))
        if j:
            steps.append((acc[i][j - 1], i, j - 1))
        _, i, j = min(steps)
        path.append((i, j))
    path.reverse()
    return acc[n - 1][m - 1] / len(path), path


def normalised_cross_correlation(
    reference: np.ndarray, user: np.ndarray, max_lag: int = 0
) -> np.ndarray:
    """Per channel (columns), the best Pearson correlation of the two equal-length series over
    shifts of up to `max_lag` samples either way; 0 where either series is flat."""
    n = len(reference)
    best = np.full(reference.shape[1:], -1.0)
    for lag in range(-max_lag, max_lag + 1):
        a = reference[max(0, lag) : n + min(0, lag)]
        b = user[max(0, -lag) : n - max(0, lag)]
        a = a - a.mean(axis=0)
        b = b - b.mean(axis=0)
        norm = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
        flat = norm < 1e-9
        correlation = np.where(flat, 0.0, (a * b).sum(axis=0) / np.where(flat, 1.0, norm))
        best = np.maximum(best, correlation)
    return best


def _ramp_down(value: float, free: float, zero: float) -> float:
    """1 up to `free`, 0 from `zero`, linear between."""
    if value <= free:
        return 1.0
    if value >= zero:
        return 0.0
    return (zero - value) / (zero - free)


def distance_score(distance: float, leniency: float = 1.0) -> float:
    return _ramp_down(distance, DISTANCE_FREE * leniency, DISTANCE_ZERO * leniency)


def timing_score(duration_ms: float, reference_ms: float) -> float:
    ratio = abs(math.log(max(duration_ms, 1.0) / max(reference_ms, 1.0)))
    return _ramp_down(ratio, math.log(TIMING_FREE), math.log(TIMING_ZERO))


@dataclass
class Comparison:
    overall: float
    pose: float
    timing: float
    movement: float
    ncc: float
    dtw: float
    mirrored: bool
    distance: float
    duration_ms: float
    # Per channel on the user's own sides, at the moments the channel is judged (cue_moments):
    deviations: np.ndarray  # mean signed user - reference
    reference_values: np.ndarray  # mean reference value
    matches: bool = False

    @property
    def score(self) -> int:
        return round(100.0 * self.overall)

    @property
    def grade(self) -> str:
        return grade_for(100.0 * self.overall)

    def fields(self) -> dict:
        return {
            "overallScore": round(self.overall, 3),
            "poseScore": round(self.pose, 3),
            "timingScore": round(self.timing, 3),
            "movementScore": round(self.movement, 3),
            "nccScore": round(self.ncc, 3),
            "dtwScore": round(self.dtw, 3),
            "grade": self.grade,
        }


@dataclass
class _Alignment:
    """One way of reading the user (as performed, or mirrored) aligned to the reference."""

    user: np.ndarray
    seen: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    movement: np.ndarray
    user_motion: np.ndarray
    distance: float
    path: list[tuple[int, int]]


def _align(reference: Reference, user: np.ndarray, seen: np.ndarray, band: int) -> _Alignment:
    """DTW of the movement relative to each performance's own start pose (a different stance or
    different proportions are not a different movement). Channels weigh by how much they move in
    either performance: an arm the reference keeps still but the user swings counts fully."""
    user_motion = range_of_motion(user)
    motion = np.maximum(reference.motion, user_motion)
    scale, weights, movement = channel_weights(motion, reference.reliability)
    moved = (user - user[0]) / scale
    reference_moved = (reference.series - reference.rest) / scale
    per_sample = weights * seen
    total = per_sample.sum(axis=1)
    per_sample = per_sample / np.where(total > 0, total, 1.0)[:, None]
    # Local costs inside the band only (both series have SAMPLES points): row i, column i + k.
    samples = len(user)
    offsets = np.arange(-band, band + 1)
    columns = np.arange(samples)[:, None] + offsets[None, :]
    inside = (columns >= 0) & (columns < samples)
    columns = np.clip(columns, 0, samples - 1)
    gap = np.abs(reference_moved[:, None, :] - moved[columns])
    banded = np.einsum("ikc,ikc->ik", gap, per_sample[columns])
    cost = np.full((samples, samples), np.inf)
    rows = np.broadcast_to(np.arange(samples)[:, None], columns.shape)
    cost[rows[inside], columns[inside]] = banded[inside]
    distance, path = dtw_align(cost, band)
    return _Alignment(user, seen, scale, weights, movement, user_motion, distance, path)


def _amplitude_score(reference_motion: np.ndarray, user_motion: np.ndarray) -> np.ndarray:
    """Per channel, 1 when the user's range is within AMPLITUDE_FREE of the reference's, 0 at
    AMPLITUDE_ZERO times more or less. Ranges below half a noticeable unit count as that much."""
    floor = NOTICEABLE_BY_CHANNEL / 2
    ratio = np.maximum(user_motion, floor) / np.maximum(reference_motion, floor)
    off = np.abs(np.log(ratio))
    span = math.log(AMPLITUDE_ZERO) - math.log(AMPLITUDE_FREE)
    return np.clip((math.log(AMPLITUDE_ZERO) - off) / span, 0.0, 1.0)


def compare(
    reference: Reference,
    times: np.ndarray,
    values: np.ndarray,
    visibility: np.ndarray,
    leniency: float = 1.0,
) -> Comparison:
    """Score one performance (frames at `times`: channel values, visibility) against the reference,
    as performed and mirrored, keeping the better."""
    user = resample(times, values)
    seen = resample(times, visibility)
    band = max(2, round(BAND_SHARE * SAMPLES))
    performed = _align(reference, user, seen, band)
    mirrored = _align(reference, mirror_channels(user), seen[:, MIRROR_ORDER], band)
    best = mirrored if mirrored.distance < performed.distance else performed
    rows = np.array([i for i, _ in best.path])
    columns = np.array([j for _, j in best.path])

    # Key poses: joint angles (proportion-free) where the reference rests and where it turns.
    progress = reference.progress[rows]
    key = (progress <= REST_LEVEL) | (progress >= TURN_LEVEL)
    angle_weights = best.weights * IS_ANGLE * best.seen[columns[key]]
    gap = np.abs(reference.series[rows[key]] - best.user[columns[key]]) / best.scale
    total = angle_weights.sum()
    pose_distance = float((gap * angle_weights).sum() / total) if total > 0 else best.distance

    # Shape of every channel that moves in either performance (a leg the reference keeps still
    # but the user bends correlates with nothing).
    moving = best.movement > 0
    lag = max(1, round(NCC_MAX_LAG_SHARE * SAMPLES))
    correlation = normalised_cross_correlation(
        reference.series[:, moving], best.user[:, moving], lag
    )
    ncc = float(np.clip((best.movement[moving] * correlation).sum(), 0.0, 1.0))
    amplitude = _amplitude_score(reference.motion, best.user_motion)
    movement_score = float((best.movement * amplitude).sum())

    duration = float(times[-1] - times[0])
    parts = {
        "dtw": distance_score(best.distance, leniency),
        "pose": distance_score(pose_distance, leniency),
        "ncc": ncc,
        "movement": movement_score,
        "timing": timing_score(duration, reference.duration_ms),
    }
    overall = sum(OVERALL_WEIGHTS[name] * value for name, value in parts.items())

    # Signed deviation per channel where it matters (for cues), on the user's own sides.
    judged = reference.cue_moments[rows]
    difference = (best.user[columns] - reference.series[rows]) * (best.seen[columns] > 0)
    counted = judged.sum(axis=0)
    deviations = (difference * judged).sum(axis=0) / np.maximum(counted, 1)
    reference_values = (reference.series[rows] * judged).sum(axis=0) / np.maximum(counted, 1)
    if best is mirrored:
        deviations = mirror_channels(deviations)
        reference_values = mirror_channels(reference_values)
    tempo = duration / reference.duration_ms
    return Comparison(
        overall=overall,
        pose=parts["pose"],
        timing=parts["timing"],
        movement=movement_score,
        ncc=ncc,
        dtw=parts["dtw"],
        mirrored=best is mirrored,
        distance=best.distance,
        duration_ms=duration,
        deviations=deviations,
        reference_values=reference_values,
        matches=overall >= MATCH_MIN_OVERALL
        and ncc >= MATCH_MIN_NCC
        and 1.0 / MAX_TEMPO_RATIO <= tempo <= MAX_TEMPO_RATIO,
    )


def compare_poses(signature: dict, poses: list[Pose], leniency: float = 1.0) -> dict:
    """reference_score fields of one performance (the poses given, still lead-in and tail trimmed
    as in the signature) against a signature, plus `matches` and `mirrored`."""
    reference = Reference(signature)
    times, values, visibility = features_of(poses)
    if len(times) < 2:
        raise SignatureError("Too few frames show a person to compare.")
    first, last = active_bounds(values, reference.scale, reference.movement)
    window = slice(first, last + 1)
    comparison = compare(reference, times[window], values[window], visibility[window], leniency)
    return {**comparison.fields(), "matches": comparison.matches, "mirrored": comparison.mirrored}
