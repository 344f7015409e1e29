"""TrackingSession: one person's stream of poses in, contract events (plain dicts) out.

    session = TrackingSession(params)        # any object with TrackingParams' attributes
    for pose in poses:
        send(session.feed(pose))             # list of events for this frame, often empty
    send(session.finish())                   # final counter and exercise_summary

Per frame, in this order: `posture` (until ready, and when the person is lost), `keypoints`
(every frame when asked for, always in pose-only mode), `angles` (at most every
outputs.ANGLES_INTERVAL_MS), then the exercise's own events (`progression`, `counter`,
`form_score`, `recommendations`). Jump exercises are handed to tracking.engine.jumps.JumpAnalyzer.
"""

from tracking.engine import events as contract
from tracking.engine.body import Coach
from tracking.engine.catalog import DIFFICULTIES, EXERCISES, resolve_exercise
from tracking.engine.holds import HoldAnalysis
from tracking.engine.metrics import Frame
from tracking.engine.outputs import FrameOutputs
from tracking.engine.pose import Pose
from tracking.engine.posture import ExerciseNeeds, PostureGate
from tracking.engine.reps import RepAnalysis


class TrackingSession:
    def __init__(self, params):
        self.params = params
        self.language = params.language if params.language in ("en", "fr") else "en"
        exercise_id = resolve_exercise(params.exercise) if params.exercise else None
        self.exercise = EXERCISES.get(exercise_id) if exercise_id else None
        self.pose_only = self.exercise is None and params.reference is None
        self.difficulty = DIFFICULTIES.get(params.difficulty) or DIFFICULTIES["medium"]
        self.outputs = FrameOutputs(
            keypoints=params.keypoints or self.pose_only,
            angles=params.angles,
            blazepose=params.blazepose,
            width=params.width,
            height=params.height,
        )
        self.coach = Coach(self.language)
        self.analysis: RepAnalysis | HoldAnalysis | None = None
        self.gate: PostureGate | None = None
        kind = self.exercise.kind if self.exercise else None
        if kind == "repetition":
            self.analysis = RepAnalysis(self.exercise, self.difficulty, params, self.coach)
        elif kind == "duration":
            self.analysis = HoldAnalysis(self.exercise, self.difficulty, params, self.coach)
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
            # Imported here so the session works before (and without) the jump module.
            from tracking.engine.jumps import JumpAnalyzer

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
                analysis.start(gate.view)
            if frame is not None:
                events.extend(analysis.update(frame))
        elif was == "ready":
            analysis.pause()
        elif placement is not None and placement.ok and frame is not None:
            analysis.warm_up(frame, placement.view)
        else:
            analysis.clear_warm_up()
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
