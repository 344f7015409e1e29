"""Hold timing: seconds spent in a valid pose, pausing when the pose breaks.

The pose must be valid for ENTER_MS before a hold starts (a pose passing through is not a hold),
and invalid for EXIT_MS before it ends (one bad frame does not stop the clock). Only time spent in
a valid pose is credited, and a gap between frames counts for at most MAX_STEP_MS, so a frozen
stream never adds time.

A pose with targets (the flexibility poses) is valid while every target is within its accepted
range; how far the targets are from their ideal while held lowers the hold's score, and a target
short of its ideal for most of the last second is cued (which joint to move which way), whether
holding or still getting into the pose.
"""

from dataclasses import dataclass

from tracking.engine import events as contract
from tracking.engine.body import CUE_SHARE, FAULT_WINDOW_MS, Coach, FaultWatch, SidePicker, Smoother
from tracking.engine.catalog import AnyOf, Condition, Difficulty, Exercise, Target
from tracking.engine.metrics import OTHER_SIDE, PER_SIDE_METRICS, SIDES, Frame, higher_ankle
from tracking.engine.scoring import Evidence, RepScore, score_hold

ENTER_MS = 300.0
EXIT_MS = 400.0
MAX_STEP_MS = 250.0


@dataclass
class HoldSegment:
    start_ms: float
    end_ms: float
    held_ms: float


class HoldTimer:
    __slots__ = ("held_ms", "holding", "segments", "_valid_since", "_invalid_since", "_last_t")

    def __init__(self):
        self.held_ms = 0.0
        self.holding = False
        self.segments: list[HoldSegment] = []
        self._valid_since: float | None = None
        self._invalid_since: float | None = None
        self._last_t: float | None = None

    @property
    def current(self) -> HoldSegment | None:
        return self.segments[-1] if self.holding else None

    def update(self, t_ms: float, valid: bool) -> None:
        last = self._last_t
        self._last_t = t_ms
        step = 0.0 if last is None else max(0.0, min(t_ms - last, MAX_STEP_MS))
        if valid:
            self._invalid_since = None
            if self._valid_since is None:
                self._valid_since = t_ms
            if self.holding:
                self._credit(t_ms, step)
            elif t_ms - self._valid_since >= ENTER_MS:
                self.holding = True
                self.segments.append(HoldSegment(self._valid_since, t_ms, 0.0))
                self._credit(t_ms, t_ms - self._valid_since)
            return
        self._valid_since = None
        if not self.holding:
            return
        if self._invalid_since is None:
            self._invalid_since = t_ms
        if t_ms - self._invalid_since >= EXIT_MS:
            self.stop()

    def stop(self) -> None:
        """End the current hold now (pose broken, or person lost)."""
        self.holding = False
        self._valid_since = None
        self._invalid_since = None

    def _credit(self, t_ms: float, step: float) -> None:
        segment = self.segments[-1]
        segment.held_ms += step
        segment.end_ms = t_ms
        self.held_ms += step


# A pose's target is cued as a hold's checks are (body.FaultWatch): once short of its ideal for
# a running share of time above CUE_SHARE; a swaying fault that fails at each swing gets there too.
# Getting into position moves the hips: sway counts from this long into a hold.
SETTLE_MS = 1_000.0


class HoldAnalysis:
    """Duration exercises: the hold timer, live cues, per-hold scores and the summary."""

    def __init__(self, exercise: Exercise, difficulty: Difficulty, params, coach: Coach):
        self.exercise = exercise
        self.difficulty = difficulty
        self.want_progression = bool(params.progression)
        # What progression counts towards: the catalog's hold, or a workout step's own target.
        self.target_s = exercise.hold.target_s
        self.coach = coach
        self.smoother = Smoother()
        self.picker = SidePicker(exercise.needs)
        self.timer = HoldTimer()
        self.view = "front"
        self._checks: tuple = ()
        self._evidence: Evidence | None = None
        self._target_share: dict[int, float] = {}
        self.watch = FaultWatch(coach, difficulty.tolerance)
        self._last_t: float | None = None
        self._scores: list[RepScore] = []  # one per finished hold, parallel to timer.segments
        self._seconds_sent = 0
        self._progress_sent: int | None = None

    def start(self, view: str) -> list[dict]:
        self.view = view
        self._checks = tuple(
            c for c in self.exercise.checks if c.phase == "hold" and view in c.views
        )
        return []

    def pause(self) -> None:
        self._close_segment()
        self.timer.stop()
        self.watch.reset()
        self.smoother.reset()
        self.picker.reset()

    def warm_up(self, frame: Frame, view: str, placed: bool) -> bool:
        """A hold is timed once the person is ready: nothing before it makes them ready."""
        self.picker.update(frame)
        return False

    def unmeasured(self, t: float) -> None:
        """Holds keep nothing from the warm-up."""

    def _value(self, frame: Frame, metric: str, side: str | None):
        if metric not in PER_SIDE_METRICS:
            side = None
        return self.smoother.value(frame, metric, side)

    def _values(self, frame: Frame, condition: Condition, side: str) -> list[float | None]:
        """The condition's measurement on each side it names (one value for most)."""
        wanted = condition.side
        if wanted in ("any", "both"):
            return [self._value(frame, condition.metric, s) for s in SIDES]
        if wanted in ("upper", "lower"):
            raised = higher_ankle(frame)
            if raised is None:
                return [None]
            wanted = raised if wanted == "upper" else OTHER_SIDE[raised]
        return [self._value(frame, condition.metric, wanted or side)]

    def in_pose(self, frame: Frame, side: str) -> bool:
        """Whether this frame is within every condition and target of the hold (smoothed)."""
        hold = self.exercise.hold
        return all(self._within(frame, c, side) for c in (*hold.conditions, *hold.targets))

    def _within(self, frame: Frame, condition: Condition | AnyOf, side: str) -> bool:
        if isinstance(condition, AnyOf):
            return any(
                all(self._within(frame, c, side) for c in option) for option in condition.options
            )
        results = [condition.holds(v) for v in self._values(frame, condition, side)]
        return any(results) if condition.side == "any" else all(results)

    def _reading(self, frame: Frame, target: Target, side: str) -> tuple[float, str | None]:
        """How far a target is from its ideal (0 within it, 1 at the accepted edge) and the cue
        toward it: the best side for "any", the worst for "both"; unseen, no reading."""
        readings = [
            (target.shortfall(v), target.cue(v))
            for v in self._values(frame, target, side)
            if v is not None
        ]
        if not readings:
            return 0.0, None
        pick = min if target.side == "any" else max
        return pick(readings, key=lambda reading: reading[0])

    def _share(self, index: int, failing: bool, weight: float) -> float:
        """The running share of time target `index` has been short of its ideal."""
        share = self._target_share.get(index, 0.0)
        share += weight * ((1.0 if failing else 0.0) - share)
        self._target_share[index] = share
        return share

    def update(self, frame: Frame) -> list[dict]:
        t = frame.t
        side = self.picker.update(frame)
        was_holding = self.timer.holding
        self.timer.update(t, self.in_pose(frame, side))
        events: list[dict] = []
        if was_holding and not self.timer.holding:
            self._close_segment()
        step = 0.0 if self._last_t is None else max(0.0, min(t - self._last_t, MAX_STEP_MS))
        self._last_t = t
        weight = min(1.0, step / FAULT_WINDOW_MS)
        # Targets guide the person into the pose and, once held, toward its ideal.
        due: list[tuple[float, str]] = []
        shortfalls = []
        for index, target in enumerate(self.exercise.hold.targets):
            shortfall, cue = self._reading(frame, target, side)
            shortfalls.append(min(1.0, shortfall))
            if self._share(index, cue is not None, weight) >= CUE_SHARE and cue:
                due.append((shortfall, cue))
        due.sort(key=lambda item: -item[0])
        texts = [cue for _, cue in due]
        # The hold's checks are judged while it is held.
        readings = {}
        if self.timer.holding:
            for check in self._checks:
                value = self._value(frame, check.metric, side)
                if value is not None:
                    readings[check] = value
        texts.extend(check.message for check in self.watch.update(t, readings))
        if self.timer.holding:
            if self._evidence is None:
                self._evidence = Evidence(SETTLE_MS)
            tolerance = self.difficulty.tolerance
            faults = [check.id for check, v in readings.items() if check.is_fault(v, tolerance)]
            self._evidence.observe(
                t,
                faults,
                frame.metric("hip_centre_x"),
                frame.metric("torso_length"),
                MAX_STEP_MS,
                shortfall=max(shortfalls, default=0.0),
            )
            seconds = int(self.timer.held_ms // 1000)
            if seconds > self._seconds_sent:
                self._seconds_sent = seconds
                events.append(contract.counter(current_count=seconds, form_score=self.form_score()))
        events.extend(self.coach.event(t, texts))
        if self.want_progression:
            value = min(100, int(100 * self.timer.held_ms / (1000 * self.target_s)))
            if value != self._progress_sent:
                self._progress_sent = value
                events.insert(0, contract.progression(value=value))
        return events

    def _current_score(self) -> RepScore | None:
        if self._evidence is None:
            return None
        return score_hold(self.exercise, self.view, self._evidence)

    def _close_segment(self) -> None:
        if self._evidence is not None and self.timer.segments:
            self._scores.append(self._current_score())
        self._evidence = None

    def _all_scores(self) -> list[tuple[float, float]]:
        """(score, held ms) for every hold so far, the one in progress included."""
        finished = zip(self._scores, self.timer.segments, strict=False)
        pairs = [(result.score, segment.held_ms) for result, segment in finished]
        current = self._current_score() if self.timer.holding else None
        if current is not None:
            pairs.append((current.score, self.timer.segments[-1].held_ms))
        return pairs

    def _average(self) -> float | None:
        pairs = [(score, held) for score, held in self._all_scores() if held > 0]
        total = sum(held for _, held in pairs)
        if total <= 0:
            return None
        return sum(score * held for score, held in pairs) / total

    def form_score(self) -> dict:
        current = self._current_score()
        score = current.score if current is not None else None
        return contract.scores(score=score, average=self._average())

    def final_counter(self) -> dict:
        self._close_segment()
        self.timer.stop()
        return contract.counter(
            current_count=int(self.timer.held_ms // 1000),
            final=True,
            form_score=contract.scores(score=None, average=self._average()),
        )

    def summary_fields(self) -> dict:
        average = self._average()
        history = []
        finished = zip(self.timer.segments, self._scores, strict=False)
        for index, (segment, result) in enumerate(finished, 1):
            history.append(
                {
                    "index": index,
                    "formScore": result.score,
                    "durationMs": round(segment.held_ms),
                    "score": result.score,
                    "grade": result.grade,
                    "faults": list(result.faults),
                    "startMs": round(segment.start_ms, 1),
                    "endMs": round(segment.end_ms, 1),
                }
            )
        held = self.timer.held_ms
        return {
            "counter": int(held // 1000),
            "reps": None,
            "attempts": 0,
            "rejected_reps": 0,
            **contract.average_fields(average),
            "history": history,
            "rejected": [],
            "attempt_details": [],
            "time_under_tension_ms": round(held),
            "held_ms": round(held),
            "longest_hold_ms": round(max((s.held_ms for s in self.timer.segments), default=0.0)),
            "target_s": self.target_s,
            "tempo": {},
            "unit": "seconds",
        }
