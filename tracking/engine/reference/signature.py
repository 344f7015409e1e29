"""The movement signature: one clean repetition, resampled, with what comparing needs.

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
and how many times the movement leaves rest and comes back (`excursions`, found with the detector
the tracker segments the user's movement with).
"""

import math
from dataclasses import dataclass

import numpy as np

from config.errors import FormTrackError
from tracking.engine.catalog import DIFFICULTIES, Counting
from tracking.engine.counting import RepDetector
from tracking.engine.metrics import VISIBILITY_GATE
from tracking.engine.pose import LANDMARK_INDEX, Pose

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
# Tempos accepted: from a third to three times the reference's duration.
MAX_TEMPO_RATIO = 3.0
# Segmentation: the twitch guard (share of the reference's excursion) and the shortest excursion.
FLOOR = 0.25
MIN_EXCURSION_MS = 150.0
# Torso length scale: an upper quantile over recent frames (bending forward only shortens it).
SCALE_QUANTILE = 0.75


class SignatureError(FormTrackError, ValueError):
    """The span cannot make a signature (too few frames with a person, no movement), or a stored
    signature is not one this engine reads (UNREADABLE: the reference must be rebuilt)."""

    UNREADABLE = "reference_unreadable"

    def __init__(self, message: str, code: str = "no_movement_found"):
        super().__init__(code, message, 409)


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
    *(
        f"{side}_{joint}"
        for joint in ("shoulder", "elbow", "wrist", "knee", "ankle")
        for side in ("left", "right")
    ),
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


def landmarks_of(channel: Channel) -> tuple[str, ...]:
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


def scale_positions(values: np.ndarray, torso: float) -> np.ndarray:
    values[..., _ANGLE_COUNT:] /= torso
    return values


# -- series -----------------------------------------------------------------------------------


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


def _fill_gaps(times: np.ndarray, values: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Channels unseen in some frames take values interpolated from the frames that saw them."""
    filled = values.copy()
    for c in range(values.shape[1]):
        seen = visibility[:, c] > 0
        if seen.all():
            continue
        filled[:, c] = np.interp(times, times[seen], values[seen, c]) if seen.any() else 0.0
    return filled


def range_of_motion(series: np.ndarray) -> np.ndarray:
    low, high = np.percentile(series, [2.0, 98.0], axis=0)
    return high - low


def channel_weights(
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
    times, values, visibility = features_of(span)
    if len(times) < MIN_SIGNATURE_FRAMES or len(times) < MIN_VISIBLE_SHARE * len(span):
        raise SignatureError(
            f"Only {len(times)} of the {len(span)} frames of the span show a person: "
            "record the repetition with the whole body in frame."
        )
    no_movement = "Nothing moves in this span: trim the video to one repetition of the movement."
    scale, _, movement = channel_weights(range_of_motion(values), visibility.mean(axis=0))
    if movement.sum() <= 0:
        raise SignatureError(no_movement)
    # The movement without its still lead-in and tail.
    first, last = active_bounds(values, scale, movement)
    duration = float(times[last] - times[first])
    if duration < MIN_DURATION_MS or last - first + 1 < 3:
        raise SignatureError(
            f"The movement lasts only {duration:.0f} ms: record one whole repetition."
        )
    series = resample(times[first : last + 1], values[first : last + 1])
    seen = resample(times[first : last + 1], visibility[first : last + 1])
    reliability = seen.mean(axis=0)
    motion = range_of_motion(series)
    scale, weights, movement = channel_weights(motion, reliability)
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
            raise SignatureError(
                f"Not a movement signature: {error}", SignatureError.UNREADABLE
            ) from error
        if version != SIGNATURE_VERSION or names != CHANNEL_NAMES:
            raise SignatureError(
                f"Signature version {version} is not readable by this engine "
                f"(version {SIGNATURE_VERSION}): rebuild the reference.",
                SignatureError.UNREADABLE,
            )
        shape_ok = series.shape == (SAMPLES, len(CHANNELS)) and reliability.shape == (
            len(CHANNELS),
        )
        if not shape_ok or not np.isfinite(series).all() or not np.isfinite(reliability).all():
            raise SignatureError(
                "The signature's series are malformed: rebuild the reference.",
                SignatureError.UNREADABLE,
            )
        self.series = series
        self.duration_ms = duration
        self.reliability = reliability
        self.motion = range_of_motion(series)
        self.scale, self.weights, self.movement = channel_weights(self.motion, reliability)
        self.rest = series[0].copy()
        # Progress directions: the reference's excursions from rest, in scale units weighted by
        # movement, for the samples at least DIRECTION_LEVEL of the way to its turn.
        deviation = (series - self.rest) / self.scale
        norms = np.sqrt((self.movement * deviation**2).sum(axis=1))
        self.peak = float(norms.max())
        if self.peak <= 0:
            raise SignatureError(
                "The signature does not move: rebuild the reference.", SignatureError.UNREADABLE
            )
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


def excursion_detector(duration_ms: float, min_rep_ms: float, difficulty) -> RepDetector:
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
    detector = excursion_detector(duration_ms, duration_ms / 10, DIFFICULTIES["medium"])
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


def features_of(poses: list[Pose]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    values = scale_positions(np.array([row[1] for row in rows]), torso)
    return times, _fill_gaps(times, values, visibility), visibility


def active_bounds(values: np.ndarray, scale: np.ndarray, movement: np.ndarray) -> tuple[int, int]:
    """First and last frame of the movement: one frame either side of where the pose is at least
    TRIM_LEVEL of its largest excursion away from the first frame's pose."""
    excursion = np.sqrt((movement * ((values - values[0]) / scale) ** 2).sum(axis=1))
    active = np.flatnonzero(excursion >= TRIM_LEVEL * excursion.max())
    if not len(active) or excursion.max() <= 0:
        return 0, len(values) - 1
    return max(0, int(active[0]) - 1), min(len(values) - 1, int(active[-1]) + 1)
