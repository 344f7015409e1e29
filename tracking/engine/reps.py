"""Repetition exercises: counting, per-rep scores, minGrade, cues, progression and the summary.

Which sides are read:
- side-on, the more visible side only (the far side is mostly guessed by the model);
- facing the camera, each side has its own detector, and reps of the two sides that overlap in
  time by half or more are one rep (both arms curling together count once, alternating arms
  count each);
- alternating exercises (high knees, mountain climbers) read both sides in every view and count
  every limb's rep; their limbs take turns, so two reps at once are still one (a hip pike moves
  the resting leg's angle too).
"""

from dataclasses import dataclass, field

from tracking.engine import events as contract
from tracking.engine import physical_tests
from tracking.engine.body import Coach, ProgressionPacer, SidePicker, Smoother
from tracking.engine.catalog import Check, Condition, Difficulty, Exercise, Signal, Text
from tracking.engine.counting import RepCandidate, RepDetector
from tracking.engine.metrics import OTHER_SIDE, PER_SIDE_METRICS, SIDES, Frame
from tracking.engine.scoring import Evidence, RepScore, grade_at_least, score_rep

MERGE_OVERLAP = 0.5
RECENT_REPS = 8
MAX_STEP_MS = 250.0
# Below this depth score the exercise's depth cue is given.
DEPTH_CUE_BELOW = 0.7
# A short movement that runs straight into a rep (within this time) is its wind-up, such as the
# knee bending while stepping into a lunge, not a failed attempt.
WIND_UP_MS = 400.0


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
    rest_seed: float | None = None
    rest_seen_ms: float = 0.0
    pending_attempt: RepCandidate | None = None


class RepAnalysis:
    def __init__(self, exercise: Exercise, difficulty: Difficulty, params, coach: Coach):
        self.exercise = exercise
        self.difficulty = difficulty
        self.min_grade = params.min_grade
        self.want_recommendations = bool(params.recommendations)
        self.want_progression = bool(params.progression)
        self.coach = coach
        self.smoother = Smoother()
        self.picker = SidePicker(exercise.needs)
        self.limbs = {
            side: _Limb(side, RepDetector(exercise.counting, difficulty)) for side in (*SIDES, None)
        }
        self.view = "front"
        self.signal: Signal | None = exercise.signal_for("front")
        self._requires = exercise.requires_in("front")
        self.reps: list[RepRecord] = []
        self.rejected: list[RepRecord] = []
        self.attempts: list[Attempt] = []
        self._recent: list[tuple[str | None, RepCandidate]] = []
        self._bottom_checks: tuple[Check, ...] = ()
        self._rep_checks: tuple[Check, ...] = ()
        self._progression = ProgressionPacer()
        self._camera = physical_tests.CameraHeight() if exercise.test else None

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

    def start(self, view: str) -> None:
        """Counting (re)starts in this camera view, from the rest position seen while warming up."""
        self._configure(view)
        for limb in self.limbs.values():
            limb.detector.reset()
            if limb.rest_seed is not None:
                limb.detector.seed_rest(limb.rest_seed, limb.rest_seen_ms)
            limb.evidence = Evidence()

    def pause(self) -> None:
        for limb in self.limbs.values():
            limb.detector.reset()
            limb.rest_seed = None
        self.smoother.reset()
        self.picker.reset()

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

    def warm_up(self, frame: Frame, view: str) -> None:
        """While the person gets ready: smooth, and remember the most start-like position."""
        if view != self.view:
            self._configure(view)
            self.clear_warm_up()
        if self._camera is not None:
            self._camera.observe(frame, self.picker.update(frame))
        for side in self._active_sides(frame):
            progress = self._progress(frame, side)
            if progress is None:
                continue
            limb = self.limbs[side]
            if limb.rest_seed is None or progress < limb.rest_seed:
                limb.rest_seed = progress
            if progress <= limb.rest_seed + self.exercise.counting.floor / 8:
                limb.rest_seen_ms = frame.t

    def clear_warm_up(self) -> None:
        for limb in self.limbs.values():
            limb.rest_seed = None

    def update(self, frame: Frame) -> list[dict]:
        if self.done:
            return []
        events: list[dict] = []
        t = frame.t
        progression = None
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
            if candidate is not None:
                events.extend(self._complete(limb, candidate))
                limb.evidence = Evidence()
            if limb.pending_attempt is not None:
                events.extend(self._settle_attempt(limb, t))
            if progression is None or detector.progression > progression:
                progression = detector.progression
        if self.want_progression and progression is not None:
            event = self._progression_event(t, progression)
            if event is not None:
                events.insert(0, event)
        return events

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
        if limb.detector.peak_ms == frame.t:
            at_peak = evidence.at_peak
            for check in self._bottom_checks:
                value = self._measure(frame, check.metric, side)
                if value is not None:
                    at_peak[check.id] = value
            for index, condition in enumerate(self._requires):
                value = self._condition_value(frame, condition, side)
                if value is not None:
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
        """For movements both sides make together: did the other side move too? (A knee bending
        on one side only is a shift of weight, not a squat.) Unseen is not evidence against."""
        other = self.limbs[OTHER_SIDE[limb.side]]
        floor = self.exercise.counting.floor
        if other.detector.in_rep and other.detector.depth >= floor:
            return True
        last_seen = other.detector.last_update_ms
        if last_seen is None or last_seen < candidate.start_ms:
            return True
        return any(
            other_side == other.side
            and earlier.depth >= floor
            and candidate.overlap_share(earlier) >= MERGE_OVERLAP
            for other_side, earlier in self._recent
        )

    def _remember(self, side: str | None, candidate: RepCandidate) -> None:
        self._recent.append((side, candidate))
        del self._recent[:-RECENT_REPS]

    def _complete(self, limb: _Limb, candidate: RepCandidate) -> list[dict]:
        side = limb.side
        merged = self._overlapping(side, candidate)
        self._remember(side, candidate)
        if merged:
            if candidate.reached:
                limb.detector.counted(candidate.depth)
            return []
        if not candidate.reached:
            limb.pending_attempt = candidate
            return []
        self._drop_attempts_overlapping(side, candidate)
        together = self.exercise.counting.both_sides and self.view == "front"
        if together and side is not None and not self._other_side_moved(limb, candidate):
            self.attempts.append(Attempt(side, candidate, "one_sided"))
            return []
        if not self._is_this_exercise(limb.evidence):
            self.attempts.append(Attempt(side, candidate, "wrong_movement"))
            return []
        limb.detector.counted(candidate.depth)
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
        texts: list[Text] = [
            check.message for check in sorted(result.failed_checks, key=lambda c: -c.weight)
        ]
        if result.depth < DEPTH_CUE_BELOW and self.exercise.depth_cue:
            texts.insert(0, self.exercise.depth_cue)
        events: list[dict] = []
        if self.min_grade and not grade_at_least(result.grade, self.min_grade):
            self.rejected.append(RepRecord(len(self.rejected) + 1, side, candidate, result))
        else:
            analysis = self._analysis(limb.evidence)
            record = RepRecord(len(self.reps) + 1, side, candidate, result, analysis)
            self.reps.append(record)
            form_score = self.form_score(result.score)
            events.append(
                contract.counter(
                    current_count=len(self.reps), form_score=form_score, analysis=analysis
                )
            )
            events.append(contract.form_score(**form_score))
        events.extend(self._cue_event(candidate.end_ms, texts))
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
        return self._cue_event(attempt.end_ms, [cue] if cue else [])

    def _is_this_exercise(self, evidence: Evidence) -> bool:
        for index, condition in enumerate(self._requires):
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

    def _cue_event(self, t: float, texts: list[Text]) -> list[dict]:
        if not self.want_recommendations or not texts:
            return []
        cues = self.coach.cues(t, texts)
        return [contract.recommendations(cues=cues)] if cues else []

    # -- reporting ----------------------------------------------------------------------------

    @property
    def average_score(self) -> float | None:
        if not self.reps:
            return None
        return sum(record.result.score for record in self.reps) / len(self.reps)

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
            "disclaimer": physical_tests.DISCLAIMER.in_language(language),
            "method": test.method.in_language(language),
        }
