"""Repetition exercises: counting, per-rep scores, minGrade, cues, progression and the summary.

Which sides are read:
- side-on, the more visible side only (the far side is mostly guessed by the model);
- facing the camera, each side has its own detector, and reps of the two sides that overlap in
  time by half or more are one rep (both arms curling together count once, alternating arms
  count each);
- alternating exercises (high knees, mountain climbers) read both sides in every view and count
  every limb's rep; their limbs take turns, so two reps at once are still one (a hip pike moves
  the resting leg's angle too).

Reps are read from the first frame the body can be measured, before the person is ready: the
placement gate guides a person getting into position, it does not filter movement. A rep made
before readiness is held; it counts, and makes the person ready there and then, when the person
was in the start position (every placement check passing) within CONFIRM_BEFORE_MS before the rep
began or CONFIRM_AFTER_MS after it ended: a set that starts at once, or is one continuous
movement, shows its start position at the ends of its own reps. A held rep that shows no start
position (another movement, a person still getting into place) is dropped, with no attempt and no
cue.
"""

from collections import deque
from dataclasses import dataclass, field

from tracking.engine import events as contract
from tracking.engine import physical_tests
from tracking.engine.body import Coach, FaultWatch, ProgressionPacer, SidePicker, Smoother
from tracking.engine.catalog import Check, Condition, Difficulty, Exercise, Signal, Travel
from tracking.engine.counting import MAX_REP_MS, STILL_SPEED, RepCandidate, RepDetector
from tracking.engine.i18n import translate
from tracking.engine.metrics import OTHER_SIDE, PER_SIDE_METRICS, SIDES, Frame
from tracking.engine.posture import LOST_AFTER_MS, READY_STABLE_MS
from tracking.engine.scoring import Evidence, RepScore, grade_at_least, score_rep

MERGE_OVERLAP = 0.5
# Movements both sides make alike (`Counting.alike`, a squat): the two sides' movements share at
# least this much of the larger one in time and depth together (the shared share of the longer
# time times the shallower over the deeper depth): 0.52-1 on real squats, 0.31-0.42 when a
# dancer dips on one knee while the other bends a little.
TOGETHER = 0.45
RECENT_REPS = 8
MAX_STEP_MS = 250.0
# Below this depth score the exercise's depth cue is given.
DEPTH_CUE_BELOW = 0.7
# A short movement that runs straight into a rep (within this time) is its wind-up, such as the
# knee bending while stepping into a lunge, not a failed attempt.
WIND_UP_MS = 400.0
# Progress (textbook scale) past which a person holding still is holding the turn of the movement.
HELD_DEEP = 0.6
# A rep made before the person was ready counts when the start position was seen this long
# before it began (the gate's own hold-still time) or after it ended (the rest of the return, or
# the lockout after a pull from the floor).
CONFIRM_BEFORE_MS = READY_STABLE_MS
CONFIRM_AFTER_MS = 500.0


@dataclass
class RepRecord:
    index: int
    side: str | None
    candidate: RepCandidate
    result: RepScore
    analysis: dict | None = None  # a physical test's reading of the rep

    def to_history(self) -> dict:
        c, r = self.candidate, self.result
        extra = {"analysis": self.analysis} if self.analysis is not None else {}
        return {
            "index": self.index,
            "formScore": r.score,
            "durationMs": round(c.duration_ms),
            "score": r.score,
            "grade": r.grade,
            "faults": list(r.faults),
            "depth": round(r.depth, 3),
            "tempo": round(r.tempo, 3),
            "stability": round(r.stability, 3),
            "descentMs": round(c.descent_ms),
            "ascentMs": round(c.ascent_ms),
            "side": self.side,
            "startMs": round(c.start_ms, 1),
            "endMs": round(c.end_ms, 1),
            **extra,
        }


@dataclass
class Attempt:
    side: str | None
    candidate: RepCandidate
    reason: str  # "too_shallow" | "one_sided" | "wrong_movement"

    def to_dict(self) -> dict:
        return {
            "reason": self.reason,
            "durationMs": round(self.candidate.duration_ms),
            "depth": round(self.candidate.depth, 3),
            "side": self.side,
            "endMs": round(self.candidate.end_ms, 1),
        }


@dataclass
class _Limb:
    side: str | None
    detector: RepDetector
    evidence: Evidence = field(default_factory=Evidence)
    pending_attempt: RepCandidate | None = None
    last_reading: tuple[float, float] | None = None  # (t ms, progress)

    def still(self, t_ms: float, progress: float) -> bool:
        """Whether the limb has hardly moved since its last reading."""
        last, self.last_reading = self.last_reading, (t_ms, progress)
        if last is None or t_ms <= last[0]:
            return False
        return abs(progress - last[1]) * 1000.0 / (t_ms - last[0]) < STILL_SPEED


@dataclass
class _Rep:
    """A rep judged to be one, scored, not yet counted: held while the person is not ready."""

    side: str | None
    candidate: RepCandidate
    result: RepScore
    texts: list[str]
    analysis: dict | None
    # The ranges of motion it teaches when counted: its own and those of the other sides' reps
    # merged into it.
    depths: list[tuple[RepDetector, float]]
    started_in_place: bool = False


class RepAnalysis:
    def __init__(self, exercise: Exercise, difficulty: Difficulty, params, coach: Coach):
        self.exercise = exercise
        self.difficulty = difficulty
        self.min_grade = params.min_grade
        self.want_progression = bool(params.progression)
        self.coach = coach
        self.smoother = Smoother()
        self.picker = SidePicker(exercise.needs)
        self.limbs = {
            side: _Limb(side, RepDetector(exercise.counting, difficulty)) for side in (*SIDES, None)
        }
        self.view: str | None = None  # configured by the first view read
        self.signal: Signal | None = exercise.signal_for("front")
        self._requires = exercise.requires_in("front")
        self.reps: list[RepRecord] = []
        # The counted reps' scores summed as they come (whole numbers: the same sum in any
        # order), not again over every rep at each one.
        self._score_total = 0
        self.rejected: list[RepRecord] = []
        self.attempts: list[Attempt] = []
        self._recent: list[tuple[str | None, RepCandidate]] = []
        self._bottom_checks: tuple[Check, ...] = ()
        self._rep_checks: tuple[Check, ...] = ()
        self._progression = ProgressionPacer()
        self.watch = FaultWatch(coach, difficulty.tolerance)
        self._camera = physical_tests.CameraHeight() if exercise.test else None
        # Before the person is ready: whether each recent frame passed every placement check,
        # the reps held, and since when the body could not be measured.
        self.counting = False
        self._counting_view: str | None = None
        self._placed: deque[tuple[float, bool]] = deque()
        self._held: list[_Rep] = []
        self._unmeasured_since: float | None = None

    @property
    def done(self) -> bool:
        """A test with its repetitions counted: nothing more is counted."""
        limit = self.exercise.counting.limit
        return limit is not None and len(self.reps) >= limit

    # -- configuration ------------------------------------------------------------------------

    def _configure(self, view: str) -> None:
        """Read this camera view: its signal and the checks that apply to it."""
        self.view = view
        self.signal = self.exercise.signal_for(view)
        self._requires = self.exercise.requires_in(view)
        checks = [c for c in self.exercise.checks if view in c.views]
        self._bottom_checks = tuple(c for c in checks if c.phase == "bottom")
        self._rep_checks = tuple(c for c in checks if c.phase == "rep")

    def start(self, view: str) -> list[dict]:
        """The person is ready in this camera view: count from here, the reps held first.

        What was read while they got into position carries on: a rep under way counts when it
        ends, and then the reading turns to this view if it was another."""
        self._counting_view = view
        self._follow_view(view)
        self.counting = True
        self._placed.clear()
        self._unmeasured_since = None
        held, self._held = self._held, []
        events: list[dict] = []
        for rep in held:
            events.extend(self._count(rep))
        return events

    def pause(self) -> None:
        """The person was lost: read them afresh once they are back."""
        self._reset_limbs()
        self.counting = False
        self._placed.clear()
        self._held.clear()
        self._unmeasured_since = None
        self.smoother.reset()
        self.picker.reset()
        self.watch.reset()

    def _follow_view(self, view: str) -> None:
        """Read the camera view the gate sees, from the next rest on: a rep is read to its end in
        the view it began in (leaning into a squat can flip a diagonal view)."""
        if view != self.view and not any(limb.detector.in_rep for limb in self.limbs.values()):
            self._configure(view)
            self._reset_limbs()

    def _reset_limbs(self) -> None:
        for limb in self.limbs.values():
            limb.detector.reset()
            limb.evidence = Evidence()
            limb.pending_attempt = None
            limb.last_reading = None

    def _active_sides(self, frame: Frame) -> tuple[str | None, ...]:
        signal = self.signal
        if signal is None or not signal.per_side:
            return (None,)
        if self.exercise.counting.alternating or self.view == "front":
            return SIDES
        return (self.picker.update(frame),)

    # -- per frame ----------------------------------------------------------------------------

    def _measure(self, frame: Frame, metric: str, side: str | None) -> float | None:
        """A smoothed measurement; a one-side metric asked for the whole body is the mean of the
        visible sides (only used for whole-body signals, which are front-view)."""
        if side is None and metric in PER_SIDE_METRICS:
            values = [self.smoother.value(frame, metric, s) for s in SIDES]
            values = [v for v in values if v is not None]
            return sum(values) / len(values) if values else None
        return self.smoother.value(frame, metric, side)

    def _progress(self, frame: Frame, side: str | None) -> float | None:
        progresses = []
        signal = self.signal
        for component in signal.components:
            value = self._measure(frame, component.metric, side)
            if value is None:
                if signal.combine == "max":
                    continue  # another component still reads the movement
                return None
            progresses.append((value - component.top) / (component.target - component.top))
        if not progresses:
            return None
        if signal.combine == "max":
            return max(progresses)
        return sum(progresses) / len(progresses)

    def warm_up(self, frame: Frame, view: str, placed: bool) -> bool:
        """Before the person is ready: read this frame (`view` as the gate sees it, `placed`
        whether every placement check passed). True when a held rep shows the person was in the
        start position: they are ready now (`start`)."""
        self._follow_view(view)
        self._unmeasured_since = None
        t = frame.t
        placed_log = self._placed
        placed_log.append((t, placed))
        while placed_log and t - placed_log[0][0] > MAX_REP_MS + CONFIRM_BEFORE_MS:
            placed_log.popleft()
        self.update(frame)
        self._held = [
            rep
            for rep in self._held
            if rep.started_in_place or t - rep.candidate.end_ms <= CONFIRM_AFTER_MS
        ]
        return any(rep.started_in_place for rep in self._held) or (placed and bool(self._held))

    def unmeasured(self, t: float) -> None:
        """Before the person is ready, a frame where the body cannot be measured: a short gap is
        bridged (a flicker of visibility), a longer one starts the reading afresh."""
        if self._unmeasured_since is None:
            self._unmeasured_since = t
        elif t - self._unmeasured_since >= LOST_AFTER_MS:
            self._reset_limbs()
            self._held.clear()

    def _placed_between(self, start: float, end: float) -> bool:
        return any(placed and start <= t <= end for t, placed in self._placed)

    def update(self, frame: Frame) -> list[dict]:
        if self.done:
            return []
        if self.counting:
            self._follow_view(self._counting_view)
        events: list[dict] = []
        t = frame.t
        progression = None
        readings: dict[Check, float] = {}
        for side in self._active_sides(frame):
            progress = self._progress(frame, side)
            if progress is None:
                continue
            limb = self.limbs[side]
            detector = limb.detector
            if self._camera is not None and not detector.in_rep:
                self._camera.observe(frame, side)
            was_resting = not detector.in_rep
            candidate = detector.update(t, progress)
            if was_resting and detector.in_rep:
                limb.evidence = Evidence()
            if detector.in_rep or candidate is not None:
                self._observe(frame, limb)
            # Faults are judged as they happen: the rep's checks throughout it, the turn's at the
            # turn, or while holding still deep in the movement (a set that starts at the bottom).
            still = limb.still(t, progress)
            self._judge(
                frame, limb, detector.phase == 2 or (still and progress >= HELD_DEEP), readings
            )
            if candidate is not None:
                events.extend(self._complete(limb, candidate))
                limb.evidence = Evidence()
            if limb.pending_attempt is not None:
                events.extend(self._settle_attempt(limb, t))
            if progression is None or detector.progression > progression:
                progression = detector.progression
        if self.counting:
            # Cues reach the person once they are ready (a rep held before then is scored as it
            # ends, and counted with the rest).
            live = [check.message for check in self.watch.update(t, readings)]
            events.extend(self.coach.event(t, live))
        if self.want_progression and self.counting and progression is not None:
            event = self._progression_event(t, progression)
            if event is not None:
                events.insert(0, event)
        return events

    def _judge(
        self, frame: Frame, limb: _Limb, at_turn: bool, readings: dict[Check, float]
    ) -> None:
        """Into `readings`, the measurements the limb's checks are judged on now (the worst of
        the limbs): the rep's checks during a rep, the turn's at the turn."""
        checks = self._rep_checks if limb.detector.in_rep else ()
        if at_turn:
            checks = (*checks, *self._bottom_checks)
        for check in checks:
            value = self._measure(frame, check.metric, limb.side)
            if value is None:
                continue
            worst = readings.get(check)
            if worst is None or (value > worst if check.op == ">" else value < worst):
                readings[check] = value

    def _observe(self, frame: Frame, limb: _Limb) -> None:
        side = limb.side
        faults = []
        tolerance = self.difficulty.tolerance
        for check in self._rep_checks:
            value = self._measure(frame, check.metric, side)
            if value is not None and check.is_fault(value, tolerance):
                faults.append(check.id)
        evidence = limb.evidence
        evidence.observe(
            frame.t,
            faults,
            frame.metric("hip_centre_x"),
            frame.metric("torso_length"),
            MAX_STEP_MS,
        )
        for index, condition in enumerate(self._requires):
            if isinstance(condition, Travel):
                value = self._condition_value(frame, condition, side)
                evidence.track(f"requires:{index}:max", value, "max")
                evidence.track(f"requires:{index}:min", value, "min")
        if limb.detector.peak_ms == frame.t:
            at_peak = evidence.at_peak
            for check in self._bottom_checks:
                value = self._measure(frame, check.metric, side)
                if value is not None:
                    at_peak[check.id] = value
            for index, condition in enumerate(self._requires):
                value = self._condition_value(frame, condition, side)
                if value is not None and not isinstance(condition, Travel):
                    at_peak[f"requires:{index}"] = value
        if self.exercise.test is not None:
            for peak in self.exercise.test.peaks:
                evidence.track(peak.key, self._measure(frame, peak.metric, side), peak.mode)

    def _condition_value(self, frame: Frame, condition: Condition, side: str | None):
        wanted = side if condition.side is None else condition.side
        if wanted is None and condition.metric in PER_SIDE_METRICS:
            values = [frame.metric(condition.metric, s) for s in SIDES]
            values = [v for v in values if v is not None]
            return sum(values) / len(values) if values else None
        return frame.metric(condition.metric, wanted)

    def _progression_event(self, t: float, value: float) -> dict | None:
        rounded = round(value)
        if not self._progression.due(t, rounded):
            return None
        limb_phase = max(limb.detector.phase for limb in self.limbs.values())
        if rounded == 100:
            limb_phase = 0
        return contract.progression(value=rounded, phase=self.exercise.phases[limb_phase])

    # -- a rep completes ----------------------------------------------------------------------

    def _overlapping(self, side: str | None, candidate: RepCandidate) -> bool:
        """Another side already reported this rep."""
        if self.exercise.counting.alternating:
            return False
        return any(
            other_side != side and other.reached and candidate.overlap_share(other) >= MERGE_OVERLAP
            for other_side, other in self._recent
        )

    def _other_side_moved(self, limb: _Limb, candidate: RepCandidate) -> bool:
        """For movements both sides make together: did the other side move with this one, over
        at least half of the longer of the two movements, and, for movements made alike, about
        as far (TOGETHER)? A knee bending on one side only is a shift of weight; one knee
        bending after the other, or far deeper than the other, a dance step, not a squat. Unseen
        is not evidence against."""
        other = self.limbs[OTHER_SIDE[limb.side]]
        counting = self.exercise.counting
        floor = counting.floor
        detector = other.detector

        def together(shared: float, depth: float) -> bool:
            if shared < MERGE_OVERLAP:
                return False
            deeper = max(depth, candidate.depth)
            return not counting.alike or shared * min(depth, candidate.depth) >= TOGETHER * deeper

        if detector.in_rep and detector.depth >= floor:
            shared = candidate.end_ms - max(candidate.start_ms, detector.start_ms)
            longer = max(candidate.duration_ms, candidate.end_ms - detector.start_ms)
            return together(shared / longer, detector.depth)
        last_seen = detector.last_update_ms
        if last_seen is None or last_seen < candidate.start_ms:
            return True
        return any(
            other_side == other.side
            and earlier.depth >= floor
            and together(candidate.coincidence(earlier), earlier.depth)
            for other_side, earlier in self._recent
        )

    def _remember(self, side: str | None, candidate: RepCandidate) -> None:
        self._recent.append((side, candidate))
        del self._recent[:-RECENT_REPS]

    def _complete(self, limb: _Limb, candidate: RepCandidate) -> list[dict]:
        """Judge a finished movement: a rep (counted, or held until the person is ready), an
        attempt (recorded only while counting), or another side's view of a rep already judged."""
        side = limb.side
        merged = self._overlapping(side, candidate)
        self._remember(side, candidate)
        counting = self.counting
        if merged:
            if candidate.reached:
                if counting:
                    limb.detector.counted(candidate.depth)
                elif self._held:
                    self._held[-1].depths.append((limb.detector, candidate.depth))
            return []
        if not candidate.reached:
            if counting:
                limb.pending_attempt = candidate
            return []
        if counting:
            self._drop_attempts_overlapping(side, candidate)
        together = self.exercise.counting.both_sides and self.view == "front"
        if together and side is not None and not self._other_side_moved(limb, candidate):
            if counting:
                self.attempts.append(Attempt(side, candidate, "one_sided"))
            return []
        if not self._is_this_exercise(limb.evidence):
            if counting:
                self.attempts.append(Attempt(side, candidate, "wrong_movement"))
            return []
        rep = self._scored(limb, candidate)
        if counting:
            return self._count(rep)
        rep.started_in_place = self._placed_between(
            candidate.start_ms - CONFIRM_BEFORE_MS, candidate.start_ms
        )
        self._held.append(rep)
        return []

    def _scored(self, limb: _Limb, candidate: RepCandidate) -> _Rep:
        peak = candidate.peak_progress
        if self.signal.from_rest:
            peak = candidate.depth
        elif not self.exercise.counting.alternating:
            # Facing the camera both sides move together: the rep is as deep as the deeper side.
            for other in self.limbs.values():
                if other is not limb and other.detector.in_rep:
                    peak = max(peak, other.detector.peak_progress)
        result = score_rep(
            self.exercise, self.difficulty, self.view, candidate, peak, limb.evidence
        )
        texts: list[str] = [
            check.message for check in sorted(result.failed_checks, key=lambda c: -c.weight)
        ]
        if result.depth < DEPTH_CUE_BELOW and self.exercise.depth_cue:
            texts.insert(0, self.exercise.depth_cue)
        analysis = self._analysis(limb.evidence)
        depths = [(limb.detector, candidate.depth)]
        return _Rep(limb.side, candidate, result, texts, analysis, depths)

    def _count(self, rep: _Rep) -> list[dict]:
        for detector, depth in rep.depths:
            detector.counted(depth)
        side, candidate, result = rep.side, rep.candidate, rep.result
        events: list[dict] = []
        if self.min_grade and not grade_at_least(result.grade, self.min_grade):
            self.rejected.append(RepRecord(len(self.rejected) + 1, side, candidate, result))
        else:
            record = RepRecord(len(self.reps) + 1, side, candidate, result, rep.analysis)
            self.reps.append(record)
            self._score_total += result.score
            form_score = self.form_score(result.score)
            events.append(
                contract.counter(
                    current_count=len(self.reps), form_score=form_score, analysis=rep.analysis
                )
            )
            events.append(contract.form_score(**form_score))
        events.extend(self.coach.event(candidate.end_ms, rep.texts))
        return events

    def _analysis(self, evidence: Evidence) -> dict | None:
        test = self.exercise.test
        if test is None:
            return None
        return physical_tests.analysis(
            test, evidence.extremes, self._camera.reading(), self.coach.language
        )

    def _settle_attempt(self, limb: _Limb, t: float) -> list[dict]:
        """A shallow movement is an attempt unless a rep follows it at once (its wind-up)."""
        attempt = limb.pending_attempt
        detector = limb.detector
        if detector.in_rep and detector.start_ms - attempt.end_ms <= WIND_UP_MS:
            limb.pending_attempt = None
            return []
        if detector.in_rep or t - attempt.end_ms > WIND_UP_MS:
            return self._record_attempt(limb)
        return []

    def _record_attempt(self, limb: _Limb) -> list[dict]:
        attempt, limb.pending_attempt = limb.pending_attempt, None
        if any(
            earlier.side != limb.side and attempt.overlap_share(earlier.candidate) >= MERGE_OVERLAP
            for earlier in self.attempts
        ):
            return []  # both sides fell short together: one attempt, already reported
        self.attempts.append(Attempt(limb.side, attempt, "too_shallow"))
        cue = self.exercise.depth_cue
        return self.coach.event(attempt.end_ms, [cue] if cue else [])

    def _is_this_exercise(self, evidence: Evidence) -> bool:
        for index, condition in enumerate(self._requires):
            if isinstance(condition, Travel):
                highest = evidence.extremes.get(f"requires:{index}:max")
                lowest = evidence.extremes.get(f"requires:{index}:min")
                value = None if highest is None else highest - lowest
            else:
                value = evidence.at_peak.get(f"requires:{index}")
            # Unmeasured (landmarks hidden at the turn) is not evidence of another movement.
            if value is not None and not condition.holds(value):
                return False
        return True

    def _drop_attempts_overlapping(self, side: str | None, candidate: RepCandidate) -> None:
        self.attempts = [
            attempt
            for attempt in self.attempts
            if attempt.side == side or candidate.overlap_share(attempt.candidate) < MERGE_OVERLAP
        ]

    # -- reporting ----------------------------------------------------------------------------

    @property
    def average_score(self) -> float | None:
        if not self.reps:
            return None
        return self._score_total / len(self.reps)

    def form_score(self, score: float | None) -> dict:
        return contract.scores(score=score, average=self.average_score)

    def final_counter(self) -> dict:
        for limb in self.limbs.values():
            if limb.pending_attempt is not None and not self.done:
                self._record_attempt(limb)
        return contract.counter(
            current_count=len(self.reps), final=True, form_score=self.form_score(None)
        )

    def summary_fields(self) -> dict:
        reps = self.reps
        average = self.average_score
        tension = sum(record.candidate.duration_ms for record in reps)
        tempo: dict = {}
        if reps:
            count = len(reps)
            span_ms = reps[-1].candidate.end_ms - reps[0].candidate.start_ms
            tempo = {
                "avgRepMs": round(tension / count),
                "avgDescentMs": round(sum(r.candidate.descent_ms for r in reps) / count),
                "avgAscentMs": round(sum(r.candidate.ascent_ms for r in reps) / count),
                "repsPerMinute": round(count * 60_000.0 / span_ms, 1) if span_ms > 0 else None,
            }
        return {
            "counter": len(reps),
            "reps": len(reps),
            "attempts": len(self.attempts),
            "rejected_reps": len(self.rejected),
            **contract.average_fields(average),
            "history": [record.to_history() for record in reps],
            "rejected": [record.to_history() for record in self.rejected],
            "attempt_details": [attempt.to_dict() for attempt in self.attempts],
            "time_under_tension_ms": round(tension),
            "tempo": tempo,
            "min_grade": self.min_grade,
            "unit": "reps",
            **self._test_notice(),
        }

    def _test_notice(self) -> dict:
        """A test's summary repeats its disclaimer and method once (contract §4.7)."""
        test = self.exercise.test
        if test is None:
            return {}
        language = self.coach.language
        return {
            "disclaimer": translate(physical_tests.DISCLAIMER, language),
            "method": translate(test.method, language),
        }
