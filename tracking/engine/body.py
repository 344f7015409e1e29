"""Reading the body over time: camera view, the side to trust, smoothed measurements, cues, and
the pace of progression events."""

from tracking.engine.catalog import Text
from tracking.engine.filters import OneEuroFilter
from tracking.engine.metrics import JOINTS, SIDES, Frame

# Shoulder width over torso length: about 0.7 facing the camera, under 0.2 side-on.
FRONT_ABOVE = 0.45
SIDE_BELOW = 0.35
# Visibility lead (0..1) the other side needs before the side-on reading switches to it.
SIDE_SWITCH_MARGIN = 0.15
VISIBILITY_EMA = 0.2
# Degree-like measurements are filtered in units of 90 degrees, ratios as they are, so one set of
# One-Euro parameters suits both.
_DEGREE_METRICS = frozenset(
    {
        "knee_angle",
        "knee_angle_3d",
        "hip_angle",
        "elbow_angle",
        "elbow_angle_3d",
        "shoulder_angle",
        "body_line",
        "torso_lean",
        "torso_elevation",
        "shin_lean",
        "front_shin_lean",
        "upper_arm_angle",
        "thigh_lift",
        "arm_plane",
        "torso_tilt",
        "leg_spread",
        "shin_tilt",
        "thigh_tilt",
        "shin_ground_angle",
        "trunk_angle",
    }
)
# Speed coefficient of the measurement filters: twice the filter's default, because at 10 fps a
# fast rep lasts a handful of frames and lag would shave its peak (real clips under-count that way).
MEASUREMENT_BETA = 3.0
CUE_COOLDOWN_MS = 8_000.0
MAX_CUES_PER_EVENT = 2
PROGRESSION_MIN_STEP_MS = 50.0


def view_of(frame: Frame, current: str | None) -> str:
    """ "front" or "side", with hysteresis so a slight turn does not flip it."""
    ratio = frame.metric("shoulder_width_ratio")
    if ratio is None:
        # One shoulder hidden: the person is side-on.
        return "side"
    if current == "front":
        return "side" if ratio < SIDE_BELOW else "front"
    if current == "side":
        return "front" if ratio > FRONT_ABOVE else "side"
    return "front" if ratio >= (FRONT_ABOVE + SIDE_BELOW) / 2 else "side"


class SidePicker:
    """The more visible body side, judged on the joints an exercise needs (never an average)."""

    __slots__ = ("joints", "side", "_scores")

    def __init__(self, joint_names: tuple[str, ...]):
        self.joints = {side: [JOINTS[side][name] for name in joint_names] for side in SIDES}
        self.side: str | None = None
        self._scores = {"left": 0.0, "right": 0.0}

    def update(self, frame: Frame) -> str:
        v = frame.v
        scores = self._scores
        for side in SIDES:
            indices = self.joints[side]
            visibility = sum(v[i] for i in indices) / len(indices)
            scores[side] += VISIBILITY_EMA * (visibility - scores[side])
        best = "left" if scores["left"] >= scores["right"] else "right"
        if self.side is None:
            self.side = best
        elif best != self.side and scores[best] > scores[self.side] + SIDE_SWITCH_MARGIN:
            self.side = best
        return self.side

    def reset(self) -> None:
        self.side = None
        self._scores = {"left": 0.0, "right": 0.0}


class Smoother:
    """One-Euro filtered measurements, one filter per (metric, side)."""

    __slots__ = ("_filters",)

    def __init__(self):
        self._filters: dict[tuple[str, str | None], tuple[OneEuroFilter, float]] = {}

    def value(self, frame: Frame, metric: str, side: str | None) -> float | None:
        raw = frame.metric(metric, side)
        if raw is None:
            return None
        key = (metric, side)
        entry = self._filters.get(key)
        if entry is None:
            entry = (
                OneEuroFilter(beta=MEASUREMENT_BETA),
                90.0 if metric in _DEGREE_METRICS else 1.0,
            )
            self._filters[key] = entry
        smoothing, scale = entry
        return smoothing(raw / scale, frame.t) * scale

    def reset(self) -> None:
        self._filters.clear()


class Coach:
    """Turns failed checks into short cues; the same cue is not repeated within its cool-down."""

    __slots__ = ("language", "_last_said")

    def __init__(self, language: str):
        self.language = language
        self._last_said: dict[str, float] = {}

    def cues(self, t_ms: float, texts: list[Text]) -> list[str]:
        said = []
        for text in texts:
            if len(said) == MAX_CUES_PER_EVENT:
                break
            last = self._last_said.get(text.en)
            if last is not None and t_ms - last < CUE_COOLDOWN_MS:
                continue
            self._last_said[text.en] = t_ms
            said.append(text.in_language(self.language))
        return said


class ProgressionPacer:
    """Which progression values are sent: a changed value, at most every PROGRESSION_MIN_STEP_MS
    except 0 and 100 (the rest and the count are never skipped)."""

    __slots__ = ("_last",)

    def __init__(self):
        self._last: tuple[float, int] | None = None

    def due(self, t_ms: float, value: int, force: bool = False) -> bool:
        last = self._last
        if last is not None and not force:
            last_t, last_value = last
            if value == last_value:
                return False
            if value not in (0, 100) and t_ms - last_t < PROGRESSION_MIN_STEP_MS:
                return False
        self._last = (t_ms, value)
        return True

    def reset(self) -> None:
        self._last = None
