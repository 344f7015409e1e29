"""A tracker: one person's stream of poses in, contract events (plain dicts) out.

    tracker = open_tracker(params)           # any object with TrackingParams' attributes
    for pose in poses:
        send(tracker.feed(pose))             # list of events for this frame, often empty
    send(tracker.finish())                   # final counter and exercise_summary

ExerciseTracker follows an exercise of the catalog (or, with none, only the pose);
tracking.engine.reference.ReferenceTracker a reference movement; WorkoutTracker a workout
(tracking.engine.workout), one of those for each set.

Per frame, in this order: `posture` (until ready, and when the person is lost), `keypoints`
(every frame when asked for, always in pose-only mode), `angles` (at most every
outputs.ANGLES_INTERVAL_MS), then the exercise's own events (`progression`, `counter`,
`form_score`, `recommendations`; an assessment's `rom_measurement`, and at the end `rom_summary`
instead of the counter and summary). Jump exercises are handed to
tracking.engine.jumps.JumpAnalyzer.
"""

import dataclasses
import math
from collections.abc import Mapping

from tracking.engine import events as contract
from tracking.engine.body import Coach
from tracking.engine.catalog import DIFFICULTIES, EXERCISES, resolve_exercise
from tracking.engine.holds import HoldAnalysis
from tracking.engine.i18n import spoken
from tracking.engine.jumps import JumpAnalyzer
from tracking.engine.metrics import Frame
from tracking.engine.outputs import FrameOutputs
from tracking.engine.pose import Pose
from tracking.engine.posture import ExerciseNeeds, PostureGate
from tracking.engine.reference import Reference, ReferenceTracker
from tracking.engine.reps import RepAnalysis
from tracking.engine.rom import RomAnalysis
from tracking.engine.workout import SetPosition, Workout, WorkoutStep

# What a placement asks for when the joints the exercise needs are not seen: nothing to measure.
NOT_SEEN = ("full_body_visible",)


def open_tracker(
    params,
    reference_signature: dict | None = None,
    *,
    mirrored: bool = False,
    screen: bool = False,
    workout: Workout | None = None,
    signatures: Mapping | None = None,
    workout_from: SetPosition | None = None,
):
    """The tracker for a request: a workout's, a reference movement's, or the exercise's.

    All have `feed(pose) -> list[dict]` and `finish() -> list[dict]`. `mirrored`: keypoints on
    the mirrored preview (live sessions), else on the picture as it is (uploads). `screen`: the
    events go to a page that shows the person their cues (the live page), so `recommendations`
    are among them whatever the request asked; else (uploads, a native app's socket) the events
    are the host's, with cues only when it asks for them (recommendations=true). A workout's
    reference steps need `signatures`: the signature of each reference it names, by UUID;
    `workout_from`, the set it starts at (a reconnected page's), else its first.
    """
    if workout is not None:
        return WorkoutTracker(
            params,
            workout,
            signatures or {},
            mirrored=mirrored,
            screen=screen,
            start=workout_from,
        )
    if params.reference is not None:
        if reference_signature is None:
            raise ValueError("a reference tracker needs the reference's signature")
        return ReferenceTracker(params, reference_signature, mirrored=mirrored, screen=screen)
    return ExerciseTracker(params, mirrored=mirrored, screen=screen)


class ExerciseTracker:
    """`mirrored` and `screen`: as open_tracker's."""

    def __init__(self, params, *, mirrored: bool = False, screen: bool = False):
        self.params = params
        self.language = spoken(params.language)
        exercise_id = resolve_exercise(params.exercise) if params.exercise else None
        self.exercise = EXERCISES.get(exercise_id) if exercise_id else None
        self.pose_only = self.exercise is None and params.reference is None
        self.difficulty = DIFFICULTIES.get(params.difficulty) or DIFFICULTIES["medium"]
        self.outputs = FrameOutputs(
            keypoints=params.keypoints or self.pose_only,
            angles=params.angles,
            blazepose=params.blazepose,
            mirrored=mirrored,
        )
        self.coach = Coach(self.language, heard=screen or bool(params.recommendations))
        self.analysis: RepAnalysis | HoldAnalysis | RomAnalysis | None = None
        self.gate: PostureGate | None = None
        kind = self.exercise.kind if self.exercise else None
        if kind == "repetition":
            self.analysis = RepAnalysis(self.exercise, self.difficulty, params, self.coach)
        elif kind == "duration":
            self.analysis = HoldAnalysis(self.exercise, self.difficulty, params, self.coach)
        elif kind == "assessment":
            self.analysis = RomAnalysis(self.exercise, params, self.coach)
        if self.analysis is not None:
            self.gate = PostureGate(ExerciseNeeds(self.exercise), self.language)
        self._jumps = None
        self._first_t: float | None = None
        self._last_t: float | None = None
        self.finished = False

    @property
    def is_jump(self) -> bool:
        return self.exercise is not None and self.exercise.kind == "jump"

    def _jump_analyzer(self):
        if self._jumps is None:
            self._jumps = JumpAnalyzer(self.params)
        return self._jumps

    def feed(self, pose: Pose) -> list[dict]:
        t = pose.timestamp_ms
        if self._first_t is None:
            self._first_t = t
        self._last_t = t
        frame = Frame(pose) if pose.landmarks is not None else None
        events: list[dict] = []
        exercise_events: list[dict] = []
        if self.is_jump:
            exercise_events = self._jump_analyzer().feed(pose)
        elif self.analysis is not None:
            exercise_events = self._exercise_events(t, frame)
        if exercise_events and exercise_events[0]["type"] == "posture":
            events.append(exercise_events.pop(0))
        events.extend(self.outputs.events(frame, pose.frame_id, t))
        events.extend(exercise_events)
        return events

    def _exercise_events(self, t: float, frame: Frame | None) -> list[dict]:
        gate, analysis = self.gate, self.analysis
        was = gate.state
        event, placement = gate.update(t, frame)
        events = [event] if event is not None else []
        if gate.state == "ready":
            if was != "ready":
                events.extend(analysis.start(gate.view))
            if frame is not None:
                events.extend(analysis.update(frame))
        elif was == "ready":
            analysis.pause()
        elif frame is not None and placement.requirements != NOT_SEEN:
            # Measurable, whatever else the person is still asked to do.
            if analysis.warm_up(frame, placement.view, placement.ok):
                # Their own rep showed them in place: ready now, instead of this frame's prompt.
                ready = gate.confirm()
                events = ([ready] if ready is not None else []) + analysis.start(gate.view)
        else:
            analysis.unmeasured(t)
        return events

    def finish(self) -> list[dict]:
        if self.finished:
            return []
        self.finished = True
        if self.is_jump:
            return self._jump_analyzer().finish()
        if self.analysis is None:
            return []
        first = self._first_t if self._first_t is not None else 0.0
        last = self._last_t if self._last_t is not None else first
        if isinstance(self.analysis, RomAnalysis):
            return self.analysis.finish(first, last, self.language)
        final_counter = self.analysis.final_counter()
        summary = contract.exercise_summary(
            exercise=self.exercise.id,
            kind=self.exercise.kind,
            difficulty=self.params.difficulty,
            results=self.analysis.summary_fields(),
            first_ms=first,
            last_ms=last,
        )
        return [final_counter, summary]


class WorkoutTracker:
    """A workout, set by set. Each set has a tracker of its own (open_tracker, for the step's
    exercise or reference), whose events pass through as a single exercise's do, with the same
    placement, cues and grades, until the set's target is met: its reps, its seconds held, or for
    a time target on a movement that counts reps, that long since the person was ready. Then the
    step's rest, counted down, and the next set. `params`: a TrackingParams (a dataclass: each
    set's tracker gets a copy naming its movement).

    Its own events (docs/events.md, "Workouts"): workout_started with the first frame;
    workout_step as a set starts (before the frame's other events) and as it ends (after them);
    rest as a rest starts and each whole second it goes down; workout_summary when the last set
    ends, or from finish() when the session ends first. A set's own final counter and
    exercise_summary are not sent: workout_summary has them, per set.

    `start`: the set to begin with (a SetPosition of the workout), for a live page that
    reconnected mid-workout: that set starts from 0, and workout_summary has the sets since.
    """

    def __init__(
        self,
        params,
        workout: Workout,
        signatures: Mapping,
        *,
        mirrored: bool = False,
        screen: bool = False,
        start: SetPosition | None = None,
    ):
        if start is not None and not workout.has(start):
            raise ValueError(f"the workout has no set {start}")
        if set(workout.references) - set(signatures):
            raise ValueError("a workout's reference steps need their references' signatures")
        for reference in workout.references:
            # A signature this engine cannot read is refused now (SignatureError), as a
            # reference session's is, not when its step comes.
            Reference(signatures[reference])
        self.params = params
        self.workout = workout
        self.signatures = signatures
        self.mirrored, self.screen = mirrored, screen
        # Keypoints and angles go on while the person rests, as during a set.
        self.outputs = FrameOutputs(
            keypoints=params.keypoints,
            angles=params.angles,
            blazepose=params.blazepose,
            mirrored=mirrored,
        )
        self.steps = [step.to_dict() for step in workout.steps]
        self.start = start
        # The step under way, or coming after the rest (0-based), and its set (1-based).
        self.index, self.set_number = (start.step - 1, start.set) if start else (0, 1)
        self.phase = "waiting"  # for the first frame; then set, rest, and done
        self.current = None  # the set's tracker
        self.count = 0  # the set's count so far (reps, or seconds held), from its counters
        self.counting_since: float | None = None  # when the set's tracker was first ready
        self.rest_s = 0
        self.rest_until = 0.0
        self.rest_left = 0
        self.history: list[list[dict]] = [[] for _ in workout.steps]  # workout_set's, per step
        self._first_t: float | None = None
        self._last_t: float | None = None
        self.finished = False

    @property
    def _workout_id(self) -> str | None:
        return str(self.workout.id) if self.workout.id else None

    @property
    def step(self) -> WorkoutStep:
        return self.workout.steps[self.index]

    def _following(self) -> tuple[int, int] | None:
        """(step index, set) of the set after the current one; None after the last."""
        if self.set_number < self.step.sets:
            return self.index, self.set_number + 1
        if self.index + 1 < len(self.steps):
            return self.index + 1, 1
        return None

    def _described(self, position: tuple[int, int] | None) -> dict | None:
        if position is None:
            return None
        index, set_number = position
        return contract.workout_next(index=index + 1, set_number=set_number, step=self.steps[index])

    def feed(self, pose: Pose) -> list[dict]:
        t = pose.timestamp_ms
        if self._first_t is None:
            self._first_t = t
        self._last_t = t
        events: list[dict] = []
        if self.phase == "waiting":
            events.append(
                contract.workout_started(
                    workout_id=self._workout_id,
                    name=self.workout.name,
                    steps=[{"index": i, **step} for i, step in enumerate(self.steps, 1)],
                    timestamp_ms=t,
                    start=self.start,
                )
            )
            events.append(self._start_set(t))
        elif self.phase == "rest" and t >= self.rest_until:
            events.append(self._start_set(t))
        if self.phase == "set":
            return events + self._set_frame(pose)
        frame = Frame(pose) if pose.landmarks is not None else None
        events.extend(self.outputs.events(frame, pose.frame_id, t))
        left = math.ceil((self.rest_until - t) / 1000.0)
        if self.phase == "rest" and left < self.rest_left:
            self.rest_left = left
            events.append(self._rest_event(t))
        return events

    def _start_set(self, t: float) -> dict:
        step = self.step
        params = dataclasses.replace(
            self.params, exercise=step.exercise, reference=step.reference, workout=None
        )
        signature = self.signatures.get(step.reference) if step.reference else None
        self.current = open_tracker(params, signature, mirrored=self.mirrored, screen=self.screen)
        if step.kind == "duration":  # a hold: its progression counts towards the step's seconds
            self.current.analysis.target_s = step.target
        self.phase = "set"
        self.count = 0
        self.counting_since = None
        return contract.workout_step(
            index=self.index + 1,
            steps=len(self.steps),
            set_number=self.set_number,
            step=self.steps[self.index],
            done=False,
            next_step=self._described(self._following()),
            timestamp_ms=t,
        )

    def _set_frame(self, pose: Pose) -> list[dict]:
        t = pose.timestamp_ms
        events = self.current.feed(pose)
        for event in events:
            if event["type"] == "counter":
                self.count = event["current_count"]
        if self.counting_since is None and self.current.gate.ready:
            self.counting_since = t
        step = self.step
        if step.timed:
            reached = self.counting_since is not None and self._seconds(t) >= step.target
        else:
            reached = self.count >= step.target
        if reached:
            events.extend(self._end_set(t))
        return events

    def _seconds(self, t: float) -> int:
        """Whole seconds since the set's person was ready (a time target on reps)."""
        if self.counting_since is None:
            return 0
        return min(int((t - self.counting_since) // 1000), self.step.target)

    def _close_set(self, t: float, *, completed: bool) -> tuple[int, int | None]:
        """Finish the set's tracker and keep its result: (its count, reps of a timed set)."""
        step = self.step
        count = self._seconds(t) if step.timed else self.count
        (summary,) = [e for e in self.current.finish() if e["type"] == "exercise_summary"]
        reps = summary["counter"] if step.timed else None
        self.history[self.index].append(
            contract.workout_set(
                set_number=self.set_number,
                count=count,
                reps=reps,
                completed=completed,
                summary=summary,
            )
        )
        self.current = None
        return count, reps

    def _end_set(self, t: float) -> list[dict]:
        count, reps = self._close_set(t, completed=True)
        following = self._following()
        events = [
            contract.workout_step(
                index=self.index + 1,
                steps=len(self.steps),
                set_number=self.set_number,
                step=self.steps[self.index],
                done=True,
                count=count,
                reps=reps,
                next_step=self._described(following),
                timestamp_ms=t,
            )
        ]
        if following is None:
            self.phase = "done"
            events.append(self._summary(completed=True))
            return events
        rest_s = self.step.rest_s
        self.index, self.set_number = following
        if not rest_s:
            events.append(self._start_set(t))
            return events
        self.phase = "rest"
        self.rest_s = self.rest_left = rest_s
        self.rest_until = t + rest_s * 1000.0
        events.append(self._rest_event(t))
        return events

    def _rest_event(self, t: float) -> dict:
        return contract.rest(
            seconds_left=self.rest_left,
            seconds=self.rest_s,
            next_step=self._described((self.index, self.set_number)),
            timestamp_ms=t,
        )

    def _summary(self, *, completed: bool) -> dict:
        steps = []
        for index, history in enumerate(self.history):
            # Each set's average weighs as many reps, or seconds held, as it had.
            weighed = [
                (result["average_score"], result.get("reps", result["count"]))
                for result in history
                if result["average_score"] is not None
            ]
            weight = sum(count for _, count in weighed)
            average = sum(score * count for score, count in weighed) / weight if weight else None
            steps.append(
                contract.workout_step_result(
                    index=index + 1,
                    step=self.steps[index],
                    history=history,
                    average=average,
                    duration_ms=sum(result["durationMs"] for result in history),
                )
            )
        return contract.workout_summary(
            workout_id=self._workout_id,
            name=self.workout.name,
            completed=completed,
            steps=steps,
            first_ms=self._first_t,
            last_ms=self._last_t,
        )

    def finish(self) -> list[dict]:
        """The workout_summary of a workout the session ends before its last set."""
        if self.finished or self.phase in ("waiting", "done"):
            self.finished = True
            return []
        self.finished = True
        if self.phase == "set":
            self._close_set(self._last_t, completed=False)
        return [self._summary(completed=False)]
