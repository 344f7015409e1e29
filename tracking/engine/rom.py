"""Range-of-motion assessments: how far a joint goes, held long enough to trust, with the
measurement's uncertainty, against published normal ranges.

An assessment (a catalog exercise of kind "assessment") measures its movements
(catalog.Movement), each in the camera view it is seen in: side-on, the side toward the camera
(the assessment's own side when it names one); facing the camera, each side (a hip abduction:
the leg that moves; the spine: the side it bends to). The movement's metric reads degrees as a
goniometer does (tracking/engine/metrics.py), smoothed as every measurement is (body.Smoother).

Held: a value held over a window of at least HOLD_MS (each frame standing for the time since the
one before, at most MAX_STEP_MS; a frame without a reading breaks the window) is the window's
lowest smoothed reading. A one-frame spike never lasts a window.

Attempts: the side's rest is the lowest median of a window it has held (never under the
anatomical 0). An attempt starts when the reading holds MOVE_DEG past rest, and ends once it has
stayed back halfway to rest for HOLD_MS (a glitch of a frame or two is not a return) with its
peak MOVE_DEG past rest. Its peak is the best value held within it, sent then as a
`rom_measurement` (an attempt still going when the session ends, at its end, if its peak is past
rest); the next starts only after the reading has been back within MOVE_DEG of rest. The first
attempt starts with the first window: a person already moving when first seen (rest not known
yet) is measured once their return shows where rest is. When the furthest point reached was not
held (the peak falls HOLD_SLACK_DEG short of it), the person is told to hold it.

Uncertainty (± degrees), the root of the sum of the squares of:
- spread: the standard deviation of the raw readings over the peak's window;
- visibility: up to VISIBILITY_DEG as the least visible landmark the metric reads falls from 1 to
  the visibility gate (BlazePose guesses the rest);
- view: a movement seen in a plane turned by φ from the image projects an angle α to
  atan2(sin α · cos φ, cos α); the term is how far the reading moves when that is undone. φ is
  the body's turn from the view's own (facing, or side-on), from the shoulders' depth in the
  world landmarks, else from the shoulder width (metrics.shoulder_width_ratio: FRONT_RATIO
  facing the camera).
never under MIN_UNCERTAINTY_DEG. BlazePose's own bias against a goniometer is not in it
(docs/events.md, "Range of motion").
"""

import math
import statistics
from dataclasses import dataclass

from tracking.engine import events as contract
from tracking.engine.body import Coach, ProgressionPacer, SidePicker, Smoother, view_of
from tracking.engine.catalog import Exercise, Movement
from tracking.engine.i18n import N_, translate
from tracking.engine.metrics import JOINTS, ROM_LANDMARKS, SIDES, VISIBILITY_GATE, Frame
from tracking.engine.physical_tests import DISCLAIMER

HOLD_MS = 300.0
MAX_STEP_MS = 250.0
MOVE_DEG = 10.0
HOLD_SLACK_DEG = 10.0
VISIBILITY_DEG = 10.0
MIN_UNCERTAINTY_DEG = 1.0
FRONT_RATIO = 0.7
MAX_TILT_DEG = 60.0
NORMAL_SOURCE = "AAOS"
HOLD_LONGER = N_("Hold your furthest point for a moment")


@dataclass(frozen=True)
class Sample:
    """One frame's reading of a side's movement."""

    t: float
    value: float  # smoothed degrees
    raw: float
    visibility: float  # the least visible landmark the metric reads
    tilt: float  # φ, degrees


@dataclass
class Attempt:
    start_t: float  # a window's steps must start from here on
    peak: float
    window: tuple[Sample, ...]
    furthest: float
    held_ms: float  # the peak's window, and for as long as the reading stayed there after it
    holding: bool = True
    back_ms: float = 0.0  # how long the reading has been back halfway to rest

    def hold(self, window: tuple[Sample, ...], steps: list[float]) -> None:
        """A window held within the attempt: the new peak when it is higher."""
        held = min(sample.value for sample in window)
        if held > self.peak:
            self.peak, self.window, self.held_ms, self.holding = held, window, sum(steps), True

    def follow(self, value: float, step: float) -> None:
        self.furthest = max(self.furthest, value)
        self.holding = self.holding and value >= self.peak
        if self.holding:
            self.held_ms += step


class Track:
    """One side's movement: its current stretch of readings, its rest, and its attempt."""

    __slots__ = ("movement", "side", "run", "rest", "armed", "attempt", "attempts")

    def __init__(self, movement: Movement, side: str):
        self.movement = movement
        self.side = side
        self.run: list[Sample] = []
        self.rest: float | None = None
        self.armed = True  # back near rest since the last attempt
        self.attempt: Attempt | None = None
        self.attempts = 0

    def step(self, i: int) -> float:
        """The time run[i] stands for: since the reading before it, at most MAX_STEP_MS."""
        return min(self.run[i].t - self.run[i - 1].t, MAX_STEP_MS) if i > 0 else 0.0

    def window(self, since: float | None = None) -> tuple[Sample, ...] | None:
        """The samples covering the stretch's last HOLD_MS (from `since` on), or None."""
        run, covered = self.run, 0.0
        for i in range(len(run) - 1, 0, -1):
            if since is not None and run[i - 1].t < since:
                return None
            covered += self.step(i)
            if covered >= HOLD_MS:
                return tuple(run[i:])
        return None

    def steps(self, window: tuple[Sample, ...]) -> list[float]:
        first = len(self.run) - len(window)
        return [self.step(i) for i in range(first, len(self.run))]

    def add(self, sample: Sample) -> Attempt | None:
        """This frame's reading; the attempt it ends, if it ends one."""
        run = self.run
        run.append(sample)
        window = self.window()
        if window is not None:
            del run[: len(run) - len(window) - 1]  # what the next windows can still need
            low = statistics.median(s.value for s in window)
            self.rest = max(0.0, low if self.rest is None else min(self.rest, low))
        rest = self.rest or 0.0
        attempt = self.attempt
        value = sample.value
        if attempt is None:
            if value < rest + MOVE_DEG:
                self.armed = True
            if window is None or not self.armed:
                return None
            held = min(s.value for s in window)
            if self.attempts and held < rest + MOVE_DEG:
                return None
            steps = self.steps(window)
            attempt = Attempt(window[0].t, held, window, max(s.value for s in window), sum(steps))
            self.attempt = attempt
        else:
            attempt.follow(value, self.step(len(run) - 1))
            window = self.window(attempt.start_t)
            if window is not None:
                attempt.hold(window, self.steps(window))
        if value > rest + (attempt.furthest - rest) / 2:
            attempt.back_ms = 0.0
            return None
        attempt.back_ms += self.step(len(run) - 1)
        return self.close() if attempt.back_ms >= HOLD_MS and self.past_rest() else None

    def past_rest(self) -> bool:
        """The attempt's peak is a movement: MOVE_DEG past rest."""
        return self.attempt.peak >= (self.rest or 0.0) + MOVE_DEG

    def close(self) -> Attempt:
        attempt = self.attempt
        self.attempt = None
        self.armed = False
        self.attempts += 1
        return attempt

    def break_run(self) -> None:
        self.run.clear()


def tilt(frame: Frame, view: str) -> float:
    """φ: how far the body is turned from the view's own plane, degrees."""
    world = frame.world
    left, right = JOINTS["left"]["shoulder"], JOINTS["right"]["shoulder"]
    if world is not None:
        dx = world[left][0] - world[right][0]
        dz = world[left][2] - world[right][2]
        yaw = math.degrees(math.atan2(abs(dz), abs(dx)))
    else:
        ratio = frame.metric("shoulder_width_ratio")
        yaw = 90.0 if ratio is None else math.degrees(math.acos(min(1.0, ratio / FRONT_RATIO)))
    return min(MAX_TILT_DEG, yaw if view == "front" else 90.0 - yaw)


def uncertainty(degrees: float, window: tuple[Sample, ...]) -> float:
    raws = [sample.raw for sample in window]
    spread = statistics.pstdev(raws) if len(raws) > 1 else 0.0
    seen = min(sample.visibility for sample in window)
    unseen = VISIBILITY_DEG * max(0.0, min(1.0, (1.0 - seen) / (1.0 - VISIBILITY_GATE)))
    phi = math.radians(statistics.median(sample.tilt for sample in window))
    alpha = math.radians(degrees)
    undone = math.atan2(math.sin(alpha) / max(math.cos(phi), 1e-3), math.cos(alpha))
    view = abs((math.degrees(undone - alpha) + 180.0) % 360.0 - 180.0)
    return max(MIN_UNCERTAINTY_DEG, math.sqrt(spread**2 + unseen**2 + view**2))


class RomAnalysis:
    """An assessment's analysis, fed by the tracker once the posture gate has the person ready."""

    def __init__(self, exercise: Exercise, params, coach: Coach):
        self.exercise = exercise
        self.want_progression = bool(params.progression)
        self.coach = coach
        self.smoother = Smoother()
        self.picker = SidePicker(exercise.needs)
        self.view: str | None = None
        self.tracks: dict[tuple[str, str], Track] = {}
        self.measurements: list[dict] = []
        self.pacer = ProgressionPacer()

    def movement_in(self, view: str | None) -> Movement | None:
        return next((m for m in self.exercise.rom if m.view == view), None)

    def start(self, view: str) -> list[dict]:
        self.view = view
        return []

    def pause(self) -> None:
        self.smoother.reset()
        self.picker.reset()
        for track in self.tracks.values():
            track.break_run()

    def warm_up(self, frame: Frame, view: str, placed: bool) -> bool:
        """Nothing is measured before the person is in place."""
        return False

    def unmeasured(self, t: float) -> None:
        """Nothing to keep from frames before the person is in place."""

    def _track(self, movement: Movement, side: str) -> Track:
        key = (movement.movement, side)
        if key not in self.tracks:
            self.tracks[key] = Track(movement, side)
        return self.tracks[key]

    def _readings(self, frame: Frame, view: str, movement: Movement) -> dict[str, float | None]:
        """This frame's smoothed reading of each side measured: facing the camera both (the
        assessment's own side only, when it has one), side-on the side toward the camera."""
        if view == "side":
            side = self.exercise.side or self.picker.update(frame)
            return {side: self.smoother.value(frame, movement.metric, side)}
        readings = {side: self.smoother.value(frame, movement.metric, side) for side in SIDES}
        if movement.lifted_leg and None not in readings.values():
            # The standing hip tilts with the pelvis: only the leg that moves is measured.
            readings[min(SIDES, key=readings.__getitem__)] = None
        if self.exercise.side is not None:
            return {self.exercise.side: readings[self.exercise.side]}
        return readings

    def update(self, frame: Frame) -> list[dict]:
        view = self.view = view_of(frame, self.view)
        movement = self.movement_in(view)
        for key, track in self.tracks.items():
            if movement is None or key[0] != movement.movement:
                track.break_run()
        if movement is None:
            return []
        readings = self._readings(frame, view, movement)
        phi = tilt(frame, view)
        events: list[dict] = []
        texts: list[str] = []
        for side, value in readings.items():
            track = self._track(movement, side)
            if value is None:
                track.break_run()
                continue
            landmarks = ROM_LANDMARKS[movement.metric](side)
            sample = Sample(
                frame.t,
                value,
                frame.metric(movement.metric, side),
                min(frame.v[i] for i in landmarks),
                phi,
            )
            attempt = track.add(sample)
            if attempt is not None:
                events.append(self._measurement(track, attempt))
                if attempt.furthest - attempt.peak > HOLD_SLACK_DEG:
                    texts.append(HOLD_LONGER)
        if self.want_progression:
            events[:0] = self._progression(frame.t, movement, readings)
        events.extend(self.coach.event(frame.t, texts))
        return events

    def _progression(self, t: float, movement: Movement, readings: dict) -> list[dict]:
        """The furthest side's reading as a share of the normal range, 0-100."""
        shown = [value for value in readings.values() if value is not None]
        if not shown:
            return []
        value = max(0, min(100, round(100 * max(shown) / movement.normal[1])))
        return [contract.progression(value=value)] if self.pacer.due(t, value) else []

    def _measurement(self, track: Track, attempt: Attempt) -> dict:
        movement = track.movement
        event = contract.rom_measurement(
            assessment=self.exercise.id,
            attempt=track.attempts,
            timestamp_ms=attempt.window[-1].t,
            joint=movement.joint,
            movement=movement.movement,
            side=track.side,
            view=movement.view,
            degrees=attempt.peak,
            uncertainty=uncertainty(attempt.peak, attempt.window),
            normal=movement.normal,
            source=NORMAL_SOURCE,
            held_ms=attempt.held_ms,
        )
        self.measurements.append(event)
        return event

    def finish(self, first_ms: float, last_ms: float, language: str) -> list[dict]:
        """Attempts still going are measured as they stand; then the summary."""
        events = []
        for track in self.tracks.values():
            if track.attempt is not None and track.past_rest():
                events.append(self._measurement(track, track.close()))
        events.append(
            contract.rom_summary(
                assessment=self.exercise.id,
                results=self.measurements,
                disclaimer=translate(DISCLAIMER, language),
                first_ms=first_ms,
                last_ms=last_ms,
            )
        )
        return events
