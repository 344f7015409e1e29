"""Reference movements: one clean repetition becomes a movement signature, then anyone's
movement is counted and scored against it, live and on uploads.

    signature = build_signature(poses, start_ms=..., end_ms=...)  # JSON-serialisable dict
    tracker = ReferenceTracker(params, signature)  # the same interface as TrackingSession
    for pose in poses:
        send(tracker.feed(pose))
    send(tracker.finish())

Channels (per frame):
- joint angles in the image plane, in radians: both elbows, shoulders, hips and knees, and the
  trunk's signed inclination from vertical;
- positions of the nose, shoulders, elbows, wrists, knees and ankles relative to the hip centre, in
  torso lengths (so where the person stands and their size do not matter).
A mirror image (the other arm, facing the other way) swaps left and right channels and negates x;
every comparison reads the user as performed and mirrored, and keeps the better.

The signature (version SIGNATURE_VERSION) holds each channel resampled to SAMPLES points over the
movement (the trimmed span without its still lead-in and tail), the real duration, per-channel
reliability (mean visibility) and range of motion, the weights derived from them, the mirror map,
and how many times the movement leaves rest and comes back (`excursions`).

Segmentation, per frame and without DTW: the pose minus the reference's rest pose is projected on
the reference's own excursion directions (weighted by how much each channel moves), which gives a
progress signal, 0 at rest and about 1 where the reference turns. The engine's adaptive hysteresis
detector (tracking.engine.counting.RepDetector) closes excursions on it, whatever the tempo, frame
rate or pauses between repetitions. Each excursion is then trimmed to the foot of its rise and its
return to rest, as the signature was. A repetition is `excursions` consecutive excursions (a dance
step left then right is two).

Scoring, once per candidate repetition: it is resampled to SAMPLES points and aligned to the
reference by DTW within a Sakoe-Chiba band. Each channel counts by how much it moves in either
performance (a still arm does not drown the moving one, but an arm the reference keeps still and
the user swings counts fully), plus a STILL_SHARE for the rest. Deviations are in units of the
channel's range of motion, or of a NOTICEABLE difference for still channels.
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
from collections import deque
from dataclasses import dataclass

import numpy as np

from tracking.engine.body import Coach, recommendations_event
from tracking.engine.catalog import DIFFICULTIES, Counting, Text
from tracking.engine.counting import RepCandidate, RepDetector
from tracking.engine.filters import OneEuroFilter
from tracking.engine.messages import message
from tracking.engine.metrics import VISIBILITY_GATE, Frame
from tracking.engine.outputs import angles_event, keypoints_event
from tracking.engine.pose import LANDMARK_INDEX, LANDMARK_NAMES, Pose
from tracking.engine.scoring import grade_at_least, grade_for

SIGNATURE_VERSION = 1
SAMPLES = 64

# The signature needs this many frames with a person, and at least this share of the span.
MIN_SIGNATURE_FRAMES = 6
MIN_VISIBLE_SHARE = 0.5
MIN_DURATION_MS = 300.0
# A still lead-in or tail is where the pose stays within this share of the largest excursion.
TRIM_LEVEL = 0.1

# A "noticeable difference" per channel kind: 20 degrees, 0.15 torso lengths. Channels moving less
# than this are still; deviations of still channels are measured in these units.
NOTICEABLE = {"angle": math.radians(20.0), "position": 0.15}
# Share of the comparison weight kept by still channels (a curl's legs must stay straight).
STILL_SHARE = 0.3
# Directions the progress is measured along: reference samples at least this far to the turn.
DIRECTION_LEVEL = 0.5

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
MAX_TEMPO_RATIO = 3.0
# Key poses for poseScore: the reference's rest (progress below) and its turn (progress above).
REST_LEVEL, TURN_LEVEL = 0.15, 0.8

# Segmentation: the twitch guard (share of the reference's excursion), and the candidate's tail:
# after the detector closes a rep, wait for the return to rest (TRIM_LEVEL), the next movement,
# or SETTLE_MAX_SHARE of the reference's duration.
FLOOR = 0.25
MIN_EXCURSION_MS = 150.0
SETTLE_MAX_SHARE = 0.25
# The foot of a rise: walking back from the peak, the progress stops falling by RISE_STEP within
# STILL_SHARE_OF_REFERENCE of the reference's duration.
RISE_STEP = 0.05
STILL_SHARE_OF_REFERENCE = 0.15
# Torso length scale: an upper quantile over recent frames (bending forward only shortens it).
SCALE_WINDOW_MS = 3000.0
SCALE_QUANTILE = 0.75
READY_STABLE_MS = 300.0
LOST_AFTER_MS = 500.0
PROGRESSION_MIN_STEP_MS = 50.0
# A deviation worth a cue: at least a fifth of the channel's scale and a noticeable amount.
CUE_MIN_SHARE = 0.2
CUE_MIN = {"angle": math.radians(15.0), "position": 0.12}


class SignatureError(ValueError):
    """The span cannot make a signature (too few frames with a person, no movement), or a stored
    signature is not one this engine reads."""


# -- channels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str  # "angle" (radians) | "position" (torso lengths)
    joint: str  # body part named in cues: elbow, shoulder, hip, knee, trunk, wrist, ...
    side: str | None
    mirror: str  # the channel it becomes in a mirror image
    mirror_sign: float  # x positions and the signed trunk inclination change sign


def _side_swapped(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


_ANGLE_JOINTS = (
    # (joint, first, middle, last): the interior angle at the middle landmark.
    ("elbow", "shoulder", "elbow", "wrist"),
    ("shoulder", "hip", "shoulder", "elbow"),
    ("hip", "shoulder", "hip", "knee"),
    ("knee", "hip", "knee", "ankle"),
)
_POSITION_LANDMARKS = (
    "nose",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


def _build_channels() -> tuple[Channel, ...]:
    channels = []
    for joint, *_ in _ANGLE_JOINTS:
        for side in ("left", "right"):
            name = f"{side}_{joint}_angle"
            channels.append(Channel(name, "angle", joint, side, _side_swapped(name), 1.0))
    channels.append(Channel("trunk_inclination", "angle", "trunk", None, "trunk_inclination", -1.0))
    for landmark in _POSITION_LANDMARKS:
        side = landmark.split("_")[0] if "_" in landmark else None
        joint = landmark.split("_")[-1]
        for axis in ("x", "y"):
            name = f"{landmark}_{axis}"
            sign = -1.0 if axis == "x" else 1.0
            channels.append(Channel(name, "position", joint, side, _side_swapped(name), sign))
    return tuple(channels)


CHANNELS: tuple[Channel, ...] = _build_channels()
CHANNEL_NAMES: tuple[str, ...] = tuple(c.name for c in CHANNELS)
_CHANNEL_INDEX = {name: i for i, name in enumerate(CHANNEL_NAMES)}
MIRROR_ORDER = np.array([_CHANNEL_INDEX[c.mirror] for c in CHANNELS])
MIRROR_SIGN = np.array([c.mirror_sign for c in CHANNELS])
IS_ANGLE = np.array([c.kind == "angle" for c in CHANNELS])
NOTICEABLE_BY_CHANNEL = np.array([NOTICEABLE[c.kind] for c in CHANNELS])
_ANGLE_COUNT = int(IS_ANGLE.sum())

_L = LANDMARK_INDEX
_ANGLE_POINTS = np.array(
    [
        [_L[f"{side}_{first}"], _L[f"{side}_{middle}"], _L[f"{side}_{last}"]]
        for _, first, middle, last in _ANGLE_JOINTS
        for side in ("left", "right")
    ]
)
_POSITION_POINTS = np.array([_L[name] for name in _POSITION_LANDMARKS])
_SHOULDERS = np.array([_L["left_shoulder"], _L["right_shoulder"]])
_HIPS = np.array([_L["left_hip"], _L["right_hip"]])


def mirror_channels(values: np.ndarray) -> np.ndarray:
    """The channels of the mirror-image performance (last axis = channels)."""
    return values[..., MIRROR_ORDER] * MIRROR_SIGN


def _landmarks_of(channel: Channel) -> tuple[str, ...]:
    if channel.kind == "position":
        return (channel.name[:-2], "left_hip", "right_hip", "left_shoulder", "right_shoulder")
    if channel.joint == "trunk":
        return ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    for joint, first, middle, last in _ANGLE_JOINTS:
        if joint == channel.joint:
            return tuple(f"{channel.side}_{name}" for name in (first, middle, last))
    raise AssertionError(channel.name)


# -- per-frame features -----------------------------------------------------------------------


def frame_features(pose: Pose) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(channel values with positions in pixels from the hip centre, channel visibility, torso
    length in pixels), or None when no torso is visible (no shoulder-hip pair on either side).

    A channel's visibility is the lowest of its landmarks' (0 below the visibility gate); NaN
    landmarks are not visible."""
    landmarks = pose.landmarks
    if landmarks is None:
        return None
    finite = np.isfinite(landmarks).all(axis=1)
    visibility = np.where(finite, landmarks[:, 3], 0.0)
    visibility = np.where(visibility >= VISIBILITY_GATE, visibility, 0.0)
    left_torso = min(visibility[_L["left_shoulder"]], visibility[_L["left_hip"]])
    right_torso = min(visibility[_L["right_shoulder"]], visibility[_L["right_hip"]])
    torso_visibility = max(left_torso, right_torso)
    if torso_visibility <= 0.0 or not finite[_SHOULDERS].all() or not finite[_HIPS].all():
        return None
    xy = np.where(finite[:, None], landmarks[:, :2], 0.0) * (pose.image_width, pose.image_height)
    hip = xy[_HIPS].mean(axis=0)
    shoulder = xy[_SHOULDERS].mean(axis=0)
    torso = float(math.hypot(*(shoulder - hip)))
    if torso < 1e-6:
        return None
    first, middle, last = (xy[_ANGLE_POINTS[:, k]] for k in range(3))
    v1, v2 = first - middle, last - middle
    cross = v1[:, 0] * v2[:, 1] - v1[:, 1] * v2[:, 0]
    dot = (v1 * v2).sum(axis=1)
    values = np.empty(len(CHANNELS))
    values[: _ANGLE_COUNT - 1] = np.arctan2(np.abs(cross), dot)
    # Trunk: hip centre to shoulder centre from vertical, + towards the image's right (y is down).
    values[_ANGLE_COUNT - 1] = math.atan2(shoulder[0] - hip[0], hip[1] - shoulder[1])
    values[_ANGLE_COUNT:] = (xy[_POSITION_POINTS] - hip).ravel()
    channel_visibility = np.empty(len(CHANNELS))
    channel_visibility[: _ANGLE_COUNT - 1] = visibility[_ANGLE_POINTS].min(axis=1)
    channel_visibility[_ANGLE_COUNT - 1] = torso_visibility
    channel_visibility[_ANGLE_COUNT:] = np.repeat(
        np.minimum(visibility[_POSITION_POINTS], torso_visibility), 2
    )
    return values, channel_visibility, torso


def _scale_positions(values: np.ndarray, torso: float) -> np.ndarray:
    values[..., _ANGLE_COUNT:] /= torso
    return values


# -- maths ------------------------------------------------------------------------------------


def resample(times: np.ndarray, values: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """Rows of `values` (taken at `times`) interpolated at `samples` evenly spaced times."""
    times = np.asarray(times, dtype=float)
    if len(times) == 1:
        return np.repeat(values[:1], samples, axis=0)
    grid = np.linspace(times[0], times[-1], samples)
    index = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 2)
    gap = times[index + 1] - times[index]
    share = np.clip((grid - times[index]) / np.where(gap > 0, gap, 1.0), 0.0, 1.0)
    share = share.reshape(-1, *([1] * (values.ndim - 1)))
    return values[index] * (1.0 - share) + values[index + 1] * share


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


def _fill_gaps(times: np.ndarray, values: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Channels unseen in some frames take values interpolated from the frames that saw them."""
    filled = values.copy()
    for c in range(values.shape[1]):
        seen = visibility[:, c] > 0
        if seen.all():
            continue
        filled[:, c] = np.interp(times, times[seen], values[seen, c]) if seen.any() else 0.0
    return filled


def _range_of_motion(series: np.ndarray) -> np.ndarray:
    low, high = np.percentile(series, [2.0, 98.0], axis=0)
    return high - low


def _channel_weights(
    motion: np.ndarray, reliability: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(deviation scale, comparison weights, movement weights) per channel.

    A channel's activity is its range of motion in noticeable units; channels that move at least one
    unit share the movement weights by activity. The comparison weights give still channels
    STILL_SHARE between them."""
    scale = np.maximum(motion, NOTICEABLE_BY_CHANNEL)
    activity = motion / NOTICEABLE_BY_CHANNEL
    moving = (activity >= 1.0) & (reliability > 0)
    movement = np.where(moving, activity * reliability, 0.0)
    if movement.sum() > 0:
        movement = movement / movement.sum()
    seen = reliability > 0
    still = np.where(seen, reliability, 0.0)
    still = still / still.sum() if still.sum() > 0 else still
    weights = STILL_SHARE * still + (1.0 - STILL_SHARE) * movement
    return scale, weights, movement


# -- the signature ----------------------------------------------------------------------------


def _round_list(values: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def build_signature(
    poses: list[Pose], *, start_ms: float | None = None, end_ms: float | None = None
) -> dict:
    """The movement signature of one repetition (the poses between start_ms and end_ms).

    Raises SignatureError when too few frames show a person or nothing moves."""
    span = [
        pose
        for pose in poses
        if (start_ms is None or pose.timestamp_ms >= start_ms)
        and (end_ms is None or pose.timestamp_ms <= end_ms)
    ]
    times, values, visibility = _features_of(span)
    if len(times) < MIN_SIGNATURE_FRAMES or len(times) < MIN_VISIBLE_SHARE * len(span):
        raise SignatureError(
            f"Only {len(times)} of the {len(span)} frames of the span show a person: "
            "record the repetition with the whole body in frame."
        )
    no_movement = "Nothing moves in this span: trim the video to one repetition of the movement."
    scale, _, movement = _channel_weights(_range_of_motion(values), visibility.mean(axis=0))
    if movement.sum() <= 0:
        raise SignatureError(no_movement)
    # The movement without its still lead-in and tail.
    first, last = _active_bounds(values, scale, movement)
    duration = float(times[last] - times[first])
    if duration < MIN_DURATION_MS or last - first + 1 < 3:
        raise SignatureError(
            f"The movement lasts only {duration:.0f} ms: record one whole repetition."
        )
    series = resample(times[first : last + 1], values[first : last + 1])
    seen = resample(times[first : last + 1], visibility[first : last + 1])
    reliability = seen.mean(axis=0)
    motion = _range_of_motion(series)
    scale, weights, movement = _channel_weights(motion, reliability)
    if movement.sum() <= 0:
        raise SignatureError(no_movement)
    span_frames = last - first + 1
    signature = {
        "version": SIGNATURE_VERSION,
        "samples": SAMPLES,
        "duration_ms": round(duration, 1),
        "active_span_ms": [float(times[first]), float(times[last])],
        "source_span_ms": [start_ms, end_ms],
        "frames": span_frames,
        "fps": round(1000.0 * (span_frames - 1) / duration, 2),
        "channels": list(CHANNEL_NAMES),
        "channel_kinds": [c.kind for c in CHANNELS],
        "active_channels": [CHANNEL_NAMES[i] for i in np.flatnonzero(movement > 0)],
        "mirrored": True,
        "mirror": {"order": MIRROR_ORDER.tolist(), "sign": MIRROR_SIGN.tolist()},
        "series": _round_list(series.T),
        "reliability": _round_list(reliability, 3),
        "range_of_motion": _round_list(motion),
        "scale": _round_list(scale),
        # Derived from the series and reliability (the tracker derives them again), for display.
        "weights": _round_list(weights, 5),
        "movement_weights": _round_list(movement, 5),
    }
    reference = Reference(signature)
    signature["excursions"] = reference.excursions
    return signature


class Reference:
    """A signature read back, with what the tracker derives from it."""

    def __init__(self, signature: dict):
        try:
            version = signature["version"]
            names = tuple(signature["channels"])
            series = np.array(signature["series"], dtype=float).T
            reliability = np.array(signature["reliability"], dtype=float)
            duration = float(signature["duration_ms"])
        except (KeyError, TypeError, ValueError) as error:
            raise SignatureError(f"Not a movement signature: {error}") from error
        if version != SIGNATURE_VERSION or names != CHANNEL_NAMES:
            raise SignatureError(
                f"Signature version {version} is not readable by this engine "
                f"(version {SIGNATURE_VERSION}): rebuild the reference."
            )
        shape_ok = series.shape == (SAMPLES, len(CHANNELS)) and reliability.shape == (
            len(CHANNELS),
        )
        if not shape_ok or not np.isfinite(series).all() or not np.isfinite(reliability).all():
            raise SignatureError("The signature's series are malformed: rebuild the reference.")
        self.series = series
        self.duration_ms = duration
        self.reliability = reliability
        self.motion = _range_of_motion(series)
        self.scale, self.weights, self.movement = _channel_weights(self.motion, reliability)
        self.rest = series[0].copy()
        # Progress directions: the reference's excursions from rest, in scale units weighted by
        # movement, for the samples at least DIRECTION_LEVEL of the way to its turn.
        deviation = (series - self.rest) / self.scale
        norms = np.sqrt((self.movement * deviation**2).sum(axis=1))
        self.peak = float(norms.max())
        if self.peak <= 0:
            raise SignatureError("The signature does not move: rebuild the reference.")
        far = norms >= DIRECTION_LEVEL * self.peak
        self.directions = (deviation[far] * self.movement) / (
            norms[far, None] * self.peak * self.scale
        )
        self.progress = self.progress_of(series)
        self.excursions = _count_excursions(self.progress, duration)
        self.cue_moments = self._cue_moments()

    def progress_of(self, values: np.ndarray) -> np.ndarray:
        """Progress (0 at rest, 1 at the turn) of poses (last axis = channels)."""
        return (self.directions @ (values - self.rest).T).max(axis=0)

    def _cue_moments(self) -> np.ndarray:
        """(samples, channels) mask: where each channel's deviation is judged for cues. A moving
        channel at its own extreme (furthest fifth from rest); a still one throughout."""
        away = np.abs(self.series - self.rest)
        extreme = away >= 0.8 * away.max(axis=0)
        still = self.movement <= 0
        return extreme | still


def _detector(duration_ms: float, min_rep_ms: float, difficulty) -> RepDetector:
    counting = Counting(
        floor=FLOOR,
        min_rep_ms=max(MIN_EXCURSION_MS, min_rep_ms),
        tempo_ms=(duration_ms / MAX_TEMPO_RATIO, duration_ms * MAX_TEMPO_RATIO),
    )
    return RepDetector(counting, difficulty)


def _count_excursions(progress: np.ndarray, duration_ms: float) -> int:
    """How many times the reference leaves rest and comes back, found as the tracker finds the
    user's movements (a dance step to the left then to the right is two)."""
    # The reference is one clean repetition: any excursion of a tenth of it is one of its parts.
    detector = _detector(duration_ms, duration_ms / 10, DIFFICULTIES["medium"])
    count = 0
    times = np.linspace(0.0, duration_ms, len(progress))
    for t, value in zip(times.tolist(), progress.tolist(), strict=True):
        candidate = detector.update(t, value)
        if candidate is not None and candidate.reached:
            detector.counted(candidate.depth)
            count += 1
    if detector.in_rep and detector.reached:
        count += 1  # the span ends before the last return
    return max(1, count)


# -- comparing one performance ----------------------------------------------------------------


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
    user_motion = _range_of_motion(user)
    motion = np.maximum(reference.motion, user_motion)
    scale, weights, movement = _channel_weights(motion, reference.reliability)
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


def _features_of(poses: list[Pose]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, channel values with positions in torso lengths, visibility) of the frames that show
    a person, in time order; positions scaled by the SCALE_QUANTILE torso length."""
    rows = []
    last_t = None
    for pose in sorted(poses, key=lambda p: p.timestamp_ms):
        features = frame_features(pose)
        if features is None or (last_t is not None and pose.timestamp_ms <= last_t):
            continue
        last_t = pose.timestamp_ms
        rows.append((pose.timestamp_ms, *features))
    if not rows:
        empty = np.empty((0, len(CHANNELS)))
        return np.empty(0), empty, empty
    times = np.array([row[0] for row in rows])
    visibility = np.array([row[2] for row in rows])
    torso = float(np.quantile([row[3] for row in rows], SCALE_QUANTILE))
    values = _scale_positions(np.array([row[1] for row in rows]), torso)
    return times, _fill_gaps(times, values, visibility), visibility


def _active_bounds(values: np.ndarray, scale: np.ndarray, movement: np.ndarray) -> tuple[int, int]:
    """First and last frame of the movement: one frame either side of where the pose is at least
    TRIM_LEVEL of its largest excursion away from the first frame's pose."""
    excursion = np.sqrt((movement * ((values - values[0]) / scale) ** 2).sum(axis=1))
    active = np.flatnonzero(excursion >= TRIM_LEVEL * excursion.max())
    if not len(active) or excursion.max() <= 0:
        return 0, len(values) - 1
    return max(0, int(active[0]) - 1), min(len(values) - 1, int(active[-1]) + 1)


def compare_poses(signature: dict, poses: list[Pose], leniency: float = 1.0) -> dict:
    """reference_score fields of one performance (the poses given, still lead-in and tail trimmed
    as in the signature) against a signature, plus `matches` and `mirrored`."""
    reference = Reference(signature)
    times, values, visibility = _features_of(poses)
    if len(times) < 2:
        raise SignatureError("Too few frames show a person to compare.")
    first, last = _active_bounds(values, reference.scale, reference.movement)
    window = slice(first, last + 1)
    comparison = compare(reference, times[window], values[window], visibility[window], leniency)
    return {**comparison.fields(), "matches": comparison.matches, "mirrored": comparison.mirrored}


# -- cues -------------------------------------------------------------------------------------


def _cue_texts(en: tuple[str, str, str], fr: tuple[str, str, str]) -> dict[str, Text]:
    """(left, right, both) in English and French."""
    return {side: Text(en[i], fr[i]) for i, side in enumerate(("left", "right", "both"))}


# (joint, what to do) -> texts. Angles are interior angles: larger is straighter.
CUES: dict[tuple[str, str], dict[str, Text]] = {
    ("elbow", "bend"): _cue_texts(
        ("Bend your left elbow more", "Bend your right elbow more", "Bend your elbows more"),
        (
            "Pliez davantage le coude gauche",
            "Pliez davantage le coude droit",
            "Pliez davantage les coudes",
        ),
    ),
    ("elbow", "straighten"): _cue_texts(
        ("Straighten your left elbow", "Straighten your right elbow", "Straighten your elbows"),
        ("Tendez davantage le bras gauche", "Tendez davantage le bras droit", "Tendez les bras"),
    ),
    ("shoulder", "raise"): _cue_texts(
        ("Raise your left arm higher", "Raise your right arm higher", "Raise your arms higher"),
        (
            "Levez le bras gauche plus haut",
            "Levez le bras droit plus haut",
            "Levez les bras plus haut",
        ),
    ),
    ("shoulder", "lower"): _cue_texts(
        (
            "Don't raise your left arm so high",
            "Don't raise your right arm so high",
            "Don't raise your arms so high",
        ),
        (
            "Levez le bras gauche moins haut",
            "Levez le bras droit moins haut",
            "Levez les bras moins haut",
        ),
    ),
    ("hip", "bend"): _cue_texts(
        ("Bend more at your left hip", "Bend more at your right hip", "Bend more at the hips"),
        (
            "Fléchissez davantage la hanche gauche",
            "Fléchissez davantage la hanche droite",
            "Fléchissez davantage les hanches",
        ),
    ),
    ("hip", "straighten"): _cue_texts(
        ("Open your left hip more", "Open your right hip more", "Open your hips more"),
        (
            "Ouvrez davantage la hanche gauche",
            "Ouvrez davantage la hanche droite",
            "Ouvrez davantage les hanches",
        ),
    ),
    ("knee", "bend"): _cue_texts(
        ("Bend your left knee more", "Bend your right knee more", "Bend your knees more"),
        (
            "Pliez davantage le genou gauche",
            "Pliez davantage le genou droit",
            "Pliez davantage les genoux",
        ),
    ),
    ("knee", "straighten"): _cue_texts(
        ("Straighten your left leg", "Straighten your right leg", "Straighten your legs"),
        (
            "Tendez davantage la jambe gauche",
            "Tendez davantage la jambe droite",
            "Tendez davantage les jambes",
        ),
    ),
    ("wrist", "raise"): _cue_texts(
        ("Raise your left hand higher", "Raise your right hand higher", "Raise your hands higher"),
        (
            "Levez la main gauche plus haut",
            "Levez la main droite plus haut",
            "Levez les mains plus haut",
        ),
    ),
    ("wrist", "lower"): _cue_texts(
        ("Keep your left hand lower", "Keep your right hand lower", "Keep your hands lower"),
        (
            "Gardez la main gauche plus basse",
            "Gardez la main droite plus basse",
            "Gardez les mains plus basses",
        ),
    ),
}
TRUNK_CUES = {
    "upright": Text("Keep your upper body more upright", "Gardez le buste plus droit"),
    "lean": Text("Lean your upper body more", "Penchez davantage le buste"),
}
# Channels cues are given on: joint angles, and hand height (y grows downwards in the image).
_CUE_CHANNELS = tuple(
    i
    for i, c in enumerate(CHANNELS)
    if c.kind == "angle" or c.name in ("left_wrist_y", "right_wrist_y")
)
# When the other side differs the same way by at least this share as much, the cue names both.
BOTH_SIDES_SHARE = 0.6


def _what_to_do(channel: Channel, deviation: float, reference_value: float) -> str:
    if channel.joint == "trunk":
        return "upright" if abs(reference_value + deviation) > abs(reference_value) else "lean"
    if channel.joint == "shoulder":
        return "raise" if deviation < 0 else "lower"
    if channel.joint == "wrist":
        return "raise" if deviation > 0 else "lower"
    return "bend" if deviation > 0 else "straighten"


def cue_for(reference: Reference, comparison: Comparison) -> Text | None:
    """The body part that differs most from the reference, as something to do; None when nothing
    differs by a noticeable amount."""
    deviations = comparison.deviations
    candidates = []
    for i in _CUE_CHANNELS:
        channel = CHANNELS[i]
        size = abs(float(deviations[i]))
        share = size / float(reference.scale[i])
        if size >= CUE_MIN[channel.kind] and share >= CUE_MIN_SHARE:
            candidates.append((share, i))
    if not candidates:
        return None
    share, i = max(candidates)
    channel = CHANNELS[i]
    action = _what_to_do(channel, float(deviations[i]), float(comparison.reference_values[i]))
    if channel.joint == "trunk":
        return TRUNK_CUES[action]
    partner = MIRROR_ORDER[i]
    both = any(
        j == partner
        and other >= BOTH_SIDES_SHARE * share
        and _what_to_do(CHANNELS[j], float(deviations[j]), 0.0) == action
        for other, j in candidates
    )
    return CUES[(channel.joint, action)]["both" if both else channel.side]


# -- placement --------------------------------------------------------------------------------


class _Placement:
    """Getting the person in view before counting, and noticing when they are lost.

    A reference has no camera view or start position of its own: the joints its movement uses
    (and the torso, which positions are measured from) must be visible and inside the image for
    READY_STABLE_MS. Once counting, a person with no torso or most of those joints unseen for
    LOST_AFTER_MS is lost."""

    def __init__(self, needs: tuple[int, ...], language: str):
        self.needs = needs
        self.language = language
        self.state = "placing"
        self._ok_since: float | None = None
        self._absent_since: float | None = None
        self._last_sent: tuple | None = None

    def _missing(self, pose: Pose) -> list[int]:
        landmarks = pose.landmarks
        missing = []
        for i in self.needs:
            x, y, _, visibility = landmarks[i]
            seen = visibility >= VISIBILITY_GATE and -0.02 <= x <= 1.02 and -0.02 <= y <= 1.02
            if not seen:  # NaN fails every comparison: unseen
                missing.append(i)
        return missing

    def update(self, t_ms: float, pose: Pose, has_torso: bool) -> dict | None:
        """The posture event to send, if any."""
        missing = self._missing(pose) if pose.landmarks is not None else list(self.needs)
        if self.state == "ready":
            if has_torso and len(missing) <= len(self.needs) // 2:
                self._absent_since = None
                return None
            if self._absent_since is None:
                self._absent_since = t_ms
            if t_ms - self._absent_since < LOST_AFTER_MS:
                return None
            self.state = "lost"
            self._ok_since = None
            return self._event("lost", "in-frame", ("full_body_visible",), missing)
        if pose.landmarks is None:
            self._ok_since = None
            return self._event("step_in", "in-frame", ("full_body_visible",), missing)
        if missing or not has_torso:
            self._ok_since = None
            key, direction = self._which_way(pose, missing)
            return self._event(key, direction, ("full_body_visible",), missing)
        if self._ok_since is None:
            self._ok_since = t_ms
        if t_ms - self._ok_since < READY_STABLE_MS:
            return self._event("hold_still", "in-frame", ("hold_still",), [])
        self.state = "ready"
        self._absent_since = None
        return self._event("ready", "in-frame", (), [])

    @staticmethod
    def _which_way(pose: Pose, missing: list[int]) -> tuple[str, str]:
        """Where the unseen joints went: off a side of the image, off the top or bottom, or simply
        not seen. Left and right are the image's own, as the host shows it."""
        points = pose.landmarks[missing or list(range(len(pose.landmarks))), :2]
        points = points[np.isfinite(points).all(axis=1)]
        if not len(points):
            return "show_body", "in-frame"
        if points[:, 1].min() < 0.0 or points[:, 1].max() > 1.0:
            return "move_back", "move-back"
        if points[:, 0].min() < 0.0:
            return "move_right", "right"
        if points[:, 0].max() > 1.0:
            return "move_left", "left"
        return "show_body", "in-frame"

    def _event(
        self, key: str, direction: str, requirements: tuple[str, ...], missing: list[int]
    ) -> dict | None:
        text = message(key, self.language)
        sent = (text, direction, self.state)
        if sent == self._last_sent:
            return None
        self._last_sent = sent
        return {
            "type": "posture",
            "message": text,
            "direction": direction,
            "ready": self.state == "ready",
            "requirements": list(requirements),
            "missing_keypoints": [LANDMARK_NAMES[i] for i in missing],
        }


# -- the tracker ------------------------------------------------------------------------------


@dataclass
class _Excursion:
    """One excursion from rest closed by the detector: from its last still frame before the
    movement to the first still frame after it (still: within TRIM_LEVEL of the way from rest to
    the peak, as the signature is trimmed)."""

    candidate: RepCandidate
    start_ms: float
    rest: float  # progress where it started from
    end_ms: float | None = None

    def still_at(self, progress: float) -> bool:
        return progress <= self.rest + TRIM_LEVEL * (self.candidate.peak_progress - self.rest)


@dataclass
class _Attempt:
    start_ms: float
    end_ms: float
    reason: str  # "partial" | "different_movement" | "tempo" | "too_few_frames" | "incomplete"
    comparison: Comparison | None

    def to_dict(self) -> dict:
        details = {
            "reason": self.reason,
            "startMs": round(self.start_ms, 1),
            "endMs": round(self.end_ms, 1),
            "durationMs": round(self.end_ms - self.start_ms),
        }
        if self.comparison is not None:
            details["referenceScore"] = self.comparison.fields()
        return details


@dataclass
class _Rep:
    index: int
    start_ms: float
    end_ms: float
    comparison: Comparison

    def to_history(self) -> dict:
        comparison = self.comparison
        return {
            "index": self.index,
            "formScore": comparison.score,
            "score": comparison.score,
            "grade": comparison.grade,
            "durationMs": round(self.end_ms - self.start_ms),
            "referenceScore": round(comparison.overall, 3),
            "reference_score": comparison.fields(),
            "mirrored": comparison.mirrored,
            "startMs": round(self.start_ms, 1),
            "endMs": round(self.end_ms, 1),
        }


def _needed_landmarks(reference: Reference) -> tuple[int, ...]:
    names = {"left_shoulder", "right_shoulder", "left_hip", "right_hip"}
    for i, channel in enumerate(CHANNELS):
        if reference.movement[i] > 0 and reference.reliability[i] >= VISIBILITY_GATE:
            names.update(_landmarks_of(channel))
    return tuple(sorted(LANDMARK_INDEX[name] for name in names))


class ReferenceTracker:
    """One person's stream of poses in, events out, counting and scoring repetitions of a
    reference movement. Same interface as TrackingSession: feed(pose) per frame, then finish().

    `params` is duck-typed (tracking.params.TrackingParams or any object with its fields):
    reference, min_grade, recommendations, progression, keypoints, angles, blazepose, width,
    height, language, difficulty."""

    def __init__(self, params, signature: dict):
        self.params = params
        self.reference = Reference(signature)
        language = getattr(params, "language", "en")
        self.language = language if language in ("en", "fr") else "en"
        difficulty = getattr(params, "difficulty", None) or "medium"
        self.difficulty = DIFFICULTIES.get(difficulty) or DIFFICULTIES["medium"]
        # Easy accepts deviations a fifth larger, hard a fifth smaller.
        self.leniency = 1.0 + 0.2 * self.difficulty.tolerance
        self.min_grade = getattr(params, "min_grade", None)
        self.want_recommendations = bool(getattr(params, "recommendations", False))
        self.want_progression = bool(getattr(params, "progression", False))
        self.want_keypoints = bool(getattr(params, "keypoints", False))
        self.want_angles = bool(getattr(params, "angles", False))
        self.blazepose = bool(getattr(params, "blazepose", False))
        width, height = getattr(params, "width", None), getattr(params, "height", None)
        self.capture_size = (width, height) if width and height else None
        self.coach = Coach(self.language)
        self.placement = _Placement(_needed_landmarks(self.reference), self.language)

        reference = self.reference
        # An excursion is at least one of the reference's, at the fastest tempo accepted.
        shortest = reference.duration_ms / reference.excursions / MAX_TEMPO_RATIO
        self.detector = _detector(reference.duration_ms, shortest, self.difficulty)
        self.smoother = OneEuroFilter()
        self._buffer_ms = MAX_TEMPO_RATIO * reference.duration_ms + 1000.0
        # (time, channel values, channel visibility, smoothed progress) of recent frames.
        self._frames: deque[tuple[float, np.ndarray, np.ndarray, float]] = deque()
        self._torso: deque[tuple[float, float]] = deque()
        # Channels not seen yet read as the reference's rest: neutral for the progress.
        self._last_seen = reference.rest.copy()
        self._settling: _Excursion | None = None
        self._settle_low: tuple[float, float] = (math.inf, 0.0)  # (progress, t)
        self._excursions: list[_Excursion] = []

        self.reps: list[_Rep] = []
        self.rejected: list[_Rep] = []
        self.attempts: list[_Attempt] = []
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._last_angles_t: float | None = None
        self._last_progression: tuple[float, int] | None = None
        self.finished = False

    # -- per frame ----------------------------------------------------------------------------

    def feed(self, pose: Pose) -> list[dict]:
        t = pose.timestamp_ms
        if self._first_t is None:
            self._first_t = t
        self._last_t = t
        features = frame_features(pose)
        events: list[dict] = []
        was_ready = self.placement.state == "ready"
        posture = self.placement.update(t, pose, features is not None)
        if posture is not None:
            events.append(posture)
        if was_ready and self.placement.state != "ready":
            self._abandon()
        if self.want_keypoints or self.want_angles:
            events.extend(self._display_events(pose, t))
        if features is not None and self.placement.state != "lost":
            events.extend(self._track(t, *features))
        return events

    def _display_events(self, pose: Pose, t: float) -> list[dict]:
        frame = Frame(pose) if pose.landmarks is not None else None
        events = []
        if self.want_keypoints:
            events.append(
                keypoints_event(frame, self.blazepose, self.capture_size, pose.frame_id, t)
            )
        if self.want_angles and frame is not None:
            last = self._last_angles_t
            if last is None or t - last >= 100.0 or t < last:
                self._last_angles_t = t
                events.append(angles_event(frame, pose.frame_id, t))
        return events

    def _scale(self, t: float, torso: float) -> float:
        window = self._torso
        window.append((t, torso))
        while window[0][0] < t - SCALE_WINDOW_MS:
            window.popleft()
        lengths = sorted(length for _, length in window)
        return lengths[int(SCALE_QUANTILE * (len(lengths) - 1))]

    def _track(self, t: float, values: np.ndarray, seen: np.ndarray, torso: float) -> list[dict]:
        if self._frames and t <= self._frames[-1][0]:
            return []  # a repeated or out-of-order timestamp carries no new movement
        values = _scale_positions(values, self._scale(t, torso))
        # Channels unseen this frame keep their last seen value: a wrist briefly hidden at the top
        # of a raise must not look like a return to rest.
        values = np.where(seen > 0, values, self._last_seen)
        self._last_seen = values
        both_ways = np.stack((values, mirror_channels(values)))
        progress = float(self.reference.progress_of(both_ways).max())
        progress = self.smoother(progress, t)
        frames = self._frames
        frames.append((t, values, seen, progress))
        while frames[0][0] < t - self._buffer_ms:
            frames.popleft()
        detector = self.detector
        candidate = detector.update(t, progress)
        if self.placement.state != "ready":
            # Warming up: the detector learns the rest position, nothing counts yet.
            self._settling = None
            return []
        events: list[dict] = []
        if self._settling is not None:
            events.extend(self._settle(t, progress, detector.in_rep))
        if candidate is not None:
            self._settling = self._lead_in(candidate)
            self._settle_low = (math.inf, t)
            events.extend(self._settle(t, progress, False))
        if self.want_progression:
            event = self._progression_event(t)
            if event is not None:
                events.insert(0, event)
        return events

    def _lead_in(self, candidate: RepCandidate) -> _Excursion:
        """Where the excursion really started: the foot of the rise to its peak.

        Walking back from the peak to the lower half of the excursion, then on until the progress
        stops falling (by RISE_STEP within STILL_SHARE_OF_REFERENCE of the reference's duration)
        or rises again: the rest level is the lowest progress seen, and the start the last frame
        within TRIM_LEVEL of it. The detector's own start can lie much earlier, when the person
        paused a little way from rest before the repetition."""
        before = [
            (t, progress)
            for t, _, _, progress in self._frames
            if candidate.start_ms <= t <= candidate.peak_ms
        ]
        if not before:
            rest = candidate.peak_progress - candidate.depth
            return _Excursion(candidate, candidate.start_ms, rest)
        still_ms = max(READY_STABLE_MS, STILL_SHARE_OF_REFERENCE * self.reference.duration_ms)
        half_way = candidate.peak_progress - candidate.depth / 2
        lowest = step_level = candidate.peak_progress
        step_t = candidate.peak_ms
        foot = []
        for t, progress in reversed(before):
            if progress < step_level - RISE_STEP:
                step_level, step_t = progress, t
            elif progress <= half_way and (progress > lowest + RISE_STEP or step_t - t > still_ms):
                break
            lowest = min(lowest, progress)
            foot.append((t, progress))
        excursion = _Excursion(candidate, foot[-1][0], lowest)
        for t, progress in foot:
            if excursion.still_at(progress):
                excursion.start_ms = t
                break
        return excursion

    def _settle(self, t: float, progress: float, moving_again: bool) -> list[dict]:
        """Follow a closed excursion's tail back to rest, then judge it."""
        excursion = self._settling
        if progress < self._settle_low[0]:
            self._settle_low = (progress, t)
        waited = t - excursion.candidate.end_ms >= SETTLE_MAX_SHARE * self.reference.duration_ms
        if excursion.still_at(progress):
            excursion.end_ms = t
        elif waited or moving_again:
            excursion.end_ms = self._settle_low[1]
        else:
            return []
        self._settling = None
        self._excursions.append(excursion)
        return self._judge()

    def _judge(self) -> list[dict]:
        """Enough excursions for one repetition of the reference: compare them with it. An
        excursion that ends up in no repetition is an attempt."""
        needed = self.reference.excursions
        pending = self._excursions
        # Excursions too long before the latest cannot be in the same repetition.
        limit = MAX_TEMPO_RATIO * self.reference.duration_ms
        while len(pending) > 1 and pending[-1].end_ms - pending[0].start_ms > limit:
            self._attempt(pending.pop(0), "incomplete", None)
        if len(pending) < needed:
            return []
        events, failure = self._verify(pending[-needed:])
        if failure is None:
            pending.clear()
        else:
            # The oldest may have been the end of something else: slide by one excursion.
            reason, comparison = failure
            self._attempt(pending.pop(0), reason, comparison)
        return events

    def _verify(self, group: list[_Excursion]) -> tuple[list[dict], tuple | None]:
        """Events for a candidate repetition; None when it was the movement, else why not (a
        reason and the comparison, when one was made)."""
        start_ms, end_ms = group[0].start_ms, group[-1].end_ms
        reference = self.reference
        tempo = (end_ms - start_ms) / reference.duration_ms
        if not 1 / MAX_TEMPO_RATIO <= tempo <= MAX_TEMPO_RATIO:
            return [], ("tempo", None)
        window = [frame for frame in self._frames if start_ms <= frame[0] <= end_ms]
        if len(window) < 3:
            return [], ("too_few_frames", None)
        times = np.array([frame[0] for frame in window])
        values = np.array([frame[1] for frame in window])
        visibility = np.array([frame[2] for frame in window])
        comparison = compare(reference, times, values, visibility, self.leniency)
        events: list[dict] = []
        failure = None
        if not all(excursion.candidate.reached for excursion in group):
            failure = ("partial", comparison)
        elif not comparison.matches:
            failure = ("different_movement", comparison)
        else:
            for excursion in group:
                self.detector.counted(excursion.candidate.depth)
            if self.min_grade and not grade_at_least(comparison.grade, self.min_grade):
                self.rejected.append(_Rep(len(self.rejected) + 1, start_ms, end_ms, comparison))
                events.append(
                    {
                        "type": "reference_score",
                        **comparison.fields(),
                        "repIndex": None,
                        "counted": False,
                        "reason": "below_min_grade",
                    }
                )
            else:
                events.extend(self._count(_Rep(len(self.reps) + 1, start_ms, end_ms, comparison)))
        if self.want_recommendations:
            cue = cue_for(reference, comparison)
            said = self.coach.cues(end_ms, [cue]) if cue is not None else []
            if said:
                events.append(recommendations_event(said))
        return events, failure

    def _count(self, rep: _Rep) -> list[dict]:
        self.reps.append(rep)
        fields = rep.comparison.fields()
        form_score = self._form_score(rep.comparison.score)
        events = []
        if self.want_progression:
            events.append(self._progression_value(rep.end_ms, 100, force=True))
        events.extend(
            [
                {
                    "type": "counter",
                    "current_count": len(self.reps),
                    "form_score": form_score,
                    "reference_score": fields,
                },
                {"type": "form_score", **form_score},
                {"type": "reference_score", **fields, "repIndex": rep.index, "counted": True},
            ]
        )
        return [event for event in events if event is not None]

    def _attempt(self, excursion: _Excursion, reason: str, comparison) -> None:
        self.attempts.append(_Attempt(excursion.start_ms, excursion.end_ms, reason, comparison))

    def _abandon(self) -> None:
        """The person was lost: forget the movement in progress."""
        self.detector.reset()
        self.smoother.reset()
        self._settling = None
        self._excursions.clear()
        self._frames.clear()
        self._last_progression = None

    # -- progression --------------------------------------------------------------------------

    def _progression_event(self, t: float) -> dict | None:
        """0-100 through the current repetition (all its excursions); 100 is sent when it counts."""
        done = len(self._excursions) % self.reference.excursions
        if self._settling is not None:
            done += 1
            current = 0.0
        else:
            current = self.detector.progression if self.detector.in_rep else 0.0
        value = 100.0 * (done + min(current, 99.0) / 100.0) / self.reference.excursions
        return self._progression_value(t, min(99, round(value)))

    def _progression_value(self, t: float, value: int, force: bool = False) -> dict | None:
        last = self._last_progression
        if last is not None and not force:
            last_t, last_value = last
            if value == last_value:
                return None
            if value not in (0, 100) and t - last_t < PROGRESSION_MIN_STEP_MS:
                return None
        self._last_progression = (t, value)
        return {"type": "progression", "value": value}

    # -- reporting ----------------------------------------------------------------------------

    @property
    def average_score(self) -> float | None:
        if not self.reps:
            return None
        return sum(rep.comparison.score for rep in self.reps) / len(self.reps)

    def _form_score(self, score: float | None) -> dict:
        average = self.average_score
        shown = score if score is not None else average
        return {
            "score": round(shown) if shown is not None else 0,
            "avg_score": round(average, 1) if average is not None else 0,
            "grade": grade_for(shown) if shown is not None else "F",
        }

    def finish(self) -> list[dict]:
        if self.finished:
            return []
        self.finished = True
        events: list[dict] = []
        if self._settling is not None and self.placement.state == "ready":
            # The stream ended during the tail of a repetition: judge what was seen.
            self._settling.end_ms = self._settle_low[1]
            self._excursions.append(self._settling)
            self._settling = None
            events.extend(event for event in self._judge() if event["type"] not in ("progression",))
        first = self._first_t if self._first_t is not None else 0.0
        last = self._last_t if self._last_t is not None else first
        reps = self.reps
        average = self.average_score
        similarity = sum(rep.comparison.overall for rep in reps) / len(reps) if reps else None
        events.append(
            {
                "type": "counter",
                "current_count": len(reps),
                "final": True,
                "form_score": self._form_score(None),
            }
        )
        reference_id = getattr(self.params, "reference", None)
        events.append(
            {
                "type": "exercise_summary",
                "exercise": None,
                "reference": str(reference_id) if reference_id is not None else None,
                "kind": "reference",
                "difficulty": getattr(self.params, "difficulty", None),
                "counter": len(reps),
                "reps": len(reps),
                "attempts": len(self.attempts),
                "rejected_reps": len(self.rejected),
                "avg_similarity": round(similarity, 3) if similarity is not None else None,
                "avg_rep_score": round(average, 1) if average is not None else None,
                "average_score": round(average, 1) if average is not None else None,
                "grade": grade_for(average) if average is not None else None,
                "history": [rep.to_history() for rep in reps],
                "rejected": [rep.to_history() for rep in self.rejected],
                "attempt_details": [attempt.to_dict() for attempt in self.attempts],
                "min_grade": self.min_grade,
                "reference_duration_ms": round(self.reference.duration_ms),
                "unit": "reps",
                "durationMs": round(last - first),
                "total_time_ms": round(last - first),
                "timestampMs": last,
            }
        )
        return events
