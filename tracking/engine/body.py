"""Reading the body over time: camera view, the side to trust, smoothed measurements, cues, and
the pace of progression events."""

from tracking.engine import events as contract
from tracking.engine.catalog import Check
from tracking.engine.filters import OneEuroFilter
from tracking.engine.i18n import translate
from tracking.engine.metrics import JOINTS, ROM_LANDMARKS, SIDES, Frame

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
        "neck_flexion",
        *ROM_LANDMARKS,
    }
)
# Speed coefficient of the measurement filters: twice the filter's default, because at 10 fps a
# fast rep lasts a handful of frames and lag would shave its peak (real clips under-count that way).
MEASUREMENT_BETA = 3.0
CUE_COOLDOWN_MS = 8_000.0
# A fault the person fixed and then made again is told again, this long after it was last told.
CUE_AGAIN_MS = 2_000.0
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
    """One-Euro filtered measurements, one filter per (metric, side). A measurement asked for
    again in the same frame (a rep's checks are read for its evidence and for the live cues) is
    the value already given, which its filter would give again, with no time gone by."""

    __slots__ = ("_filters", "_frame", "_values")

    def __init__(self):
        self._filters: dict[tuple[str, str | None], tuple[OneEuroFilter, float]] = {}
        self._frame: Frame | None = None
        self._values: dict[tuple[str, str | None], float | None] = {}

    def value(self, frame: Frame, metric: str, side: str | None) -> float | None:
        key = (metric, side)
        values = self._values
        if frame is not self._frame:
            self._frame = frame
            values.clear()
        elif key in values:
            return values[key]
        raw = frame.metric(metric, side)
        if raw is None:
            smoothed = None
        else:
            entry = self._filters.get(key)
            if entry is None:
                entry = (
                    OneEuroFilter(beta=MEASUREMENT_BETA),
                    90.0 if metric in _DEGREE_METRICS else 1.0,
                )
                self._filters[key] = entry
            smoothing, scale = entry
            smoothed = smoothing(raw / scale, frame.t) * scale
        values[key] = smoothed
        return smoothed

    def reset(self) -> None:
        self._filters.clear()
        self._frame = None
        self._values.clear()


class Coach:
    """Turns failed checks into short cues. The same cue is not repeated within its cool-down
    while its fault lasts; once the fault has cleared (`cleared`), its return is told again.

    The cues are worked out whatever the request asked; `heard` says whether they leave the
    tracker as `recommendations` events: for a person watching a screen (the live page coaches
    whatever its host asked for), or for a host that asked for them (recommendations=true)."""

    __slots__ = ("language", "heard", "_last_said", "_cleared")

    def __init__(self, language: str, *, heard: bool):
        self.language = language
        self.heard = heard
        self._last_said: dict[str, float] = {}
        self._cleared: set[str] = set()

    def event(self, t_ms: float, texts: list[str]) -> list[dict]:
        """The cues due now as a `recommendations` event: none when nothing is new to tell, or
        nobody hears it."""
        said = self.cues(t_ms, texts)
        return [contract.recommendations(cues=said)] if said and self.heard else []

    def cues(self, t_ms: float, texts: list[str]) -> list[str]:
        said = []
        for text in texts:
            if len(said) == MAX_CUES_PER_EVENT:
                break
            last = self._last_said.get(text)
            cooldown = CUE_AGAIN_MS if text in self._cleared else CUE_COOLDOWN_MS
            if last is not None and t_ms - last < cooldown:
                continue
            self._last_said[text] = t_ms
            self._cleared.discard(text)
            said.append(translate(text, self.language))
        return said

    def cleared(self, text: str) -> None:
        """The fault behind `text` is gone: its next occurrence is a new one."""
        if text in self._last_said:
            self._cleared.add(text)


# A fault is told once it has been failing for most of the last second or so: a running share of
# time failing (time constant FAULT_WINDOW_MS) above CUE_SHARE, which a steady fault just past its
# threshold reaches in about half a second. The share fills faster the further past the threshold
# the measurement is (in the check's difficulty steps, `slack`): a fault far past its band is a
# stronger fault, told within a few frames. No frame adds more than MAX_FRAME_SHARE, so a single
# bad frame is never told; a fault is told only while it is failing. Once it has passed for
# CLEARED_MS the person has fixed it: its return is a new fault.
FAULT_WINDOW_MS = 1_000.0
CUE_SHARE = 0.4
MAX_FRAME_SHARE = 0.2
CLEARED_MS = 500.0


class FaultWatch:
    """The live verdict on form checks: which faults to tell the person now."""

    __slots__ = ("coach", "tolerance", "_share", "_last_failing", "_last_t")

    def __init__(self, coach: Coach, tolerance: float):
        self.coach = coach
        self.tolerance = tolerance
        self._share: dict[Check, float] = {}
        self._last_failing: dict[Check, float] = {}
        self._last_t: float | None = None

    def update(self, t_ms: float, readings: dict[Check, float]) -> list[Check]:
        """This frame's measurement of each check being judged now; a check left out (not judged
        in this phase, or unseen) fades as if passing. Returns the checks due to be told,
        strongest first."""
        step = 0.0 if self._last_t is None else max(0.0, t_ms - self._last_t)
        self._last_t = t_ms
        base = step / FAULT_WINDOW_MS
        due = []
        for check in {**self._share, **readings}:
            share = self._share.get(check, 0.0)
            value = readings.get(check)
            if value is not None and check.is_fault(value, self.tolerance):
                limit = check.threshold(self.tolerance)
                past = abs(value - limit) / check.slack if check.slack else 0.0
                share += min(MAX_FRAME_SHARE, base * (1.0 + past)) * (1.0 - share)
                self._last_failing[check] = t_ms
                if share >= CUE_SHARE:
                    due.append((share, check))
            else:
                share -= min(1.0, base) * share
                if t_ms - self._last_failing.get(check, t_ms) >= CLEARED_MS:
                    self.coach.cleared(check.message)
            self._share[check] = share
        return [check for _, check in sorted(due, key=lambda item: -item[0])]

    def reset(self) -> None:
        self._share.clear()
        self._last_failing.clear()
        self._last_t = None


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
