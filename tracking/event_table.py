"""Every event of the PoseTracker contract (§4 of the API research) against what FormTrack sends,
in one table, as tracking/param_table.py is for parameters.

Each row names an event type, the fields the contract documents for it, and a sample FormTrack
event with every optional field set, built by its constructor: tracking/engine/events.py; errors,
tracking.params (the one parser's error event); summaries, the engine's own trackers;
`environment`, the one event only the live page builds, as its script does. A contract field
FormTrack sends in some sessions only says which in `conditional`; one it never sends, why, in
`missing`. docs/compatibility.md's events section is generated from this table (`manage.py
compatibility_doc`); tests check the samples against real sessions and that every constructor has
its row. Events FormTrack adds, which the contract does not have, have no section (`—`) and no
contract fields. Pure Python, no Django.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from tracking.engine import events
from tracking.engine.tracker import open_tracker
from tracking.params import ParamsError, Problem, parse_tracking_params

DEFAULT_BUILDER = "tracking/engine/events.py"
# The section of an event the contract does not have: a FormTrack extension.
NOT_IN_CONTRACT = "—"
_POINT = {"name": "left_knee", "x": 0.42, "y": 0.71, "z": -0.05, "score": 0.98}
_SCORES = events.scores(score=92.0, average=88.5)
_HIPS = {"left": True, "right": True}
_REFERENCE = {
    "overallScore": 0.87,
    "nccScore": 0.9,
    "dtwScore": 0.84,
    "timingScore": 0.91,
    "distScore": 0.8,
    "poseScore": 0.82,
    "movementScore": 0.88,
    "grade": "A",
}
_JUMP = {
    "height_cm": 31.2,
    "air_time_s": 0.504,
    "baseline_y": 412.0,
    "min_y": 350.5,
    "side_used": "left",
    "visible_hips": _HIPS,
}


_ROM_READING = {
    "joint": "knee",
    "movement": "flexion",
    "side": "left",
    "view": "side",
    "degrees": 128.4,
    "uncertainty": 4.2,
    "normal": (0, 135),
    "source": "AAOS",
    "held_ms": 400.0,
}


@dataclass(frozen=True)
class Event:
    type: str
    section: str  # where the contract describes it (posetracker-api.md §4.x), or NOT_IN_CONTRACT
    when: str  # one line: when FormTrack sends it
    contract: tuple[str, ...]  # the fields the contract documents, `type` aside
    sample: Callable[[], dict]  # a FormTrack event of this type, every optional field set
    # Contract fields FormTrack sends in some sessions only -> which.
    conditional: dict[str, str] = field(default_factory=dict)
    # Contract fields FormTrack never sends -> why.
    missing: dict[str, str] = field(default_factory=dict)
    # How a value differs from the contract's, when one does.
    differs: str = ""
    built_by: str = DEFAULT_BUILDER

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name in self.sample() if name != "type")

    @property
    def sent(self) -> tuple[str, ...]:
        """The contract's fields FormTrack sends (in some sessions, for `conditional` ones)."""
        return tuple(name for name in self.contract if name not in self.missing)

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(name for name in self.fields if name not in self.contract)

    @property
    def status(self) -> str:
        if self.missing or self.differs:
            return "different"
        return "extended" if self.added else "same"


def _summary() -> dict:
    """Every field of the summaries of a repetition exercise, a hold and a physical test, as the
    engine's trackers send them (finished at once: the fields, not the values, matter here)."""
    merged: dict = {}
    for exercise in ("squat", "plank", "back_flexibility_test"):
        params = parse_tracking_params({"token": "-", "exercise": exercise})
        for event in open_tracker(params).finish():
            if event["type"] == "exercise_summary":
                merged |= event
    return merged


_SQUATS = {"exercise": "squat", "reference": None, "target": 10, "unit": "reps", "sets": 3}
_PLANK = {"exercise": "plank", "reference": None, "target": 45, "unit": "seconds"}
_NEXT = events.workout_next(index=2, set_number=1, step=_PLANK)


def _workout_summary() -> dict:
    """A workout ended before its last step: its first step's three sets done, a timed set's
    reps and a plank not reached."""
    summary = {"average_score": 88.5, "grade": "B", "durationMs": 21000}
    history = [
        events.workout_set(set_number=1, count=10, reps=None, completed=True, summary=summary),
        events.workout_set(set_number=2, count=30, reps=12, completed=True, summary=summary),
    ]
    steps = [
        events.workout_step_result(
            index=1, step=_SQUATS | {"rest_s": 30}, history=history, average=88.5, duration_ms=42000
        ),
        events.workout_step_result(
            index=2, step=_PLANK | {"sets": 1, "rest_s": 0}, history=[], average=None, duration_ms=0
        ),
    ]
    return events.workout_summary(
        workout_id="0b6a…", name="Leg day", completed=False, steps=steps, first_ms=0, last_ms=9e4
    )


def _error() -> dict:
    problem = Problem("invalid_exercise", "exercise", "Unknown exercise 'split': …")
    return ParamsError([problem]).to_event()


EVENTS: tuple[Event, ...] = (
    Event(
        "initialization",
        "4.2",
        "Upload page: the analysis' progress, then Analysis completed (ready: true) after the "
        "last event, for a photo too (PoseTracker's photo page says initializing pose model, "
        "then running: read ready, not the message). The live page posts its own (checking, "
        "camera, model, running).",
        ("message", "ready", "source"),
        lambda: events.initialization(
            message="Analysis completed",
            ready=True,
            source="video",
            upload_id="6f1c2b44-…",
            status="done",
            progress=100,
        ),
    ),
    Event(
        "environment",
        "4.2",
        "Live page, once the model runs (the upload page runs no model in the browser).",
        ("poseBackend", "webgl"),
        lambda: {
            "type": "environment",
            "poseBackend": "webgl",
            "webgl": True,
            "worker": False,
            "inference": "browser",
        },
        built_by="static/formtrack/live/inference.js",
    ),
    Event(
        "posture",
        "4.3",
        "Placement, until the person is ready.",
        ("message", "direction", "ready", "requirements", "placementMessage", "postureDirection"),
        lambda: events.posture(
            message="Step back: show your whole body.",
            direction="in-frame",
            ready=False,
            requirements=["full_body_visible"],
            missing_keypoints=["left_ankle"],
        ),
    ),
    Event(
        "counter",
        "4.3",
        "Each counted rep (each second of a hold); the last with final: true.",
        ("current_count", "final", "form_score", "reference_score", "analysis"),
        lambda: events.counter(
            current_count=4,
            form_score=_SCORES,
            final=True,
            reference_score=_REFERENCE,
            analysis={"peaks": {}},
        ),
    ),
    Event(
        "form_score",
        "4.2",
        "After each rep's counter (counter.form_score is the authoritative one).",
        ("score", "avg_score", "grade"),
        lambda: events.form_score(**_SCORES),
    ),
    Event(
        "progression",
        "4.3",
        "progression=true: 0-100 within the rep or hold.",
        ("value",),
        lambda: events.progression(value=40, phase="descent"),
    ),
    Event(
        "recommendations",
        "4.3",
        "recommendations=true: form cues (the live page shows them to the person in any case).",
        ("data",),
        lambda: events.recommendations(cues=["Go lower"]),
    ),
    Event(
        "angles",
        "4.3",
        "angles=true: joint angles by side.",
        ("data",),
        lambda: events.angles(frame_id=42, timestamp_ms=2800.0, sides={"left_side": {}}),
    ),
    Event(
        "keypoints",
        "4.3",
        "Every frame in pose tracking; keypoints=true during an exercise.",
        ("data", "keypoints", "timestampMs", "frameId", "score"),
        lambda: events.keypoints(frame_id=42, timestamp_ms=2800.0, score=0.97, points=[_POINT]),
    ),
    Event(
        "reference_score",
        "4.5",
        "Each rep counted against a reference (also in counter.reference_score).",
        (
            "overallScore",
            "poseScore",
            "timingScore",
            "movementScore",
            "nccScore",
            "dtwScore",
            "distScore",
            "grade",
        ),
        lambda: events.reference_score(comparison=_REFERENCE, rep_index=1),
    ),
    Event(
        "exercise_summary",
        "4.3",
        "The end of a session or upload, with each analysis' own fields.",
        (
            "exercise",
            "counter",
            "avg_rep_score",
            "avg_similarity",
            "grade",
            "history",
            "durationMs",
            "timestampMs",
            "disclaimer",
            "method",
        ),
        _summary,
        conditional={
            "avg_similarity": "reference sessions (kind reference): the mean overallScore of "
            "their reps",
            "disclaimer": "physical tests",
            "method": "physical tests",
        },
    ),
    Event(
        "jump_calibration",
        "4.6",
        "jump_analysis: once the standing height is measured.",
        ("calibrated", "cmPerPixel", "baselineY", "visibleHips", "message"),
        lambda: events.jump_calibration(
            cm_per_pixel=0.42,
            baseline_y=412.0,
            visible_hips=_HIPS,
            message="Calibration complete - ready to jump",
            timestamp_ms=1200.0,
        ),
    ),
    Event(
        "jump_started",
        "4.6",
        "Take-off.",
        ("message",),
        lambda: events.jump_started(message="Jump detected - measuring height", timestamp_ms=1.0),
    ),
    Event(
        "jump_height",
        "4.6",
        "In the air (measuring), then once landed (final).",
        (
            "jumpHeightCm",
            "baselineY",
            "minY",
            "measuring",
            "landed",
            "final",
            "deltaPixels",
            "sideUsed",
            "airTimeMs",
            "airTimeSeconds",
            "visibleHips",
        ),
        lambda: events.jump_height(**_JUMP, landed=True, timestamp_ms=2000.0),
    ),
    Event(
        "jump_discarded",
        "4.6",
        "A jump not measured, with why.",
        ("reason", "userMessage"),
        lambda: events.jump_discarded(
            reason="tracking_lost", message="Stay in the frame", timestamp_ms=2000.0
        ),
    ),
    Event(
        "jump_result",
        "4.6",
        "Each measured jump.",
        ("jumpNumber", "jumpHeightCm", "airTimeMs", "airTimeSeconds"),
        lambda: events.jump_result(
            jump_number=1,
            **_JUMP,
            ground_contact_ms=None,
            hip_height_cm=12.0,
            takeoff_ms=1500.0,
            landing_ms=2004.0,
            timestamp_ms=2004.0,
        ),
    ),
    Event(
        "jump_summary",
        "4.6",
        "After each jump, and at the end.",
        (
            "totalJumps",
            "avgJumpHeight",
            "maxJumpHeight",
            "minJumpHeight",
            "avgAirTimeSeconds",
            "jumps",
        ),
        lambda: events.jump_summary(results=[], timestamp_ms=2004.0),
    ),
    Event(
        "keypoints_batch",
        "4.2",
        "Uploaded video, keypoints=true: before the summary.",
        (),
        lambda: events.keypoints_batch(frames=[]),
    ),
    Event(
        "export_ready",
        "4.2",
        "Uploaded video, export=true.",
        ("url",),
        lambda: events.export_ready(url="https://formtrack.example/files/…"),
        differs="url is a signed link to the annotated MP4 that works outside the page, where "
        "PoseTracker's is a blob URL valid only inside it",
    ),
    Event(
        "image_overlay",
        "4.2",
        "Uploaded photo.",
        (),
        lambda: events.image_overlay(url="https://formtrack.example/files/…"),
        differs="the PNG with the skeleton drawn comes as a signed link (url and image), where "
        "PoseTracker sends a data URL in a field it does not name",
    ),
    Event(
        "error",
        "4.8",
        "Anything refused or failed, in this shape everywhere (the parser's, here); both "
        "envelopes of the contract, code and error.",
        ("code", "error", "message", "details"),
        _error,
        built_by="tracking/params.py",
    ),
    Event(
        "workout_started",
        NOT_IN_CONTRACT,
        "workout=: with the first analysed frame, every step of the workout; from: the set a "
        "reconnected page continues at (workoutFrom), else null.",
        (),
        lambda: events.workout_started(
            workout_id="0b6a…",
            name="Leg day",
            steps=[{"index": 1, **_SQUATS, "rest_s": 30}],
            timestamp_ms=0.0,
        ),
    ),
    Event(
        "workout_step",
        NOT_IN_CONTRACT,
        "workout=: as each set starts (done: false), and as it meets its target (done: true, "
        "with its count).",
        (),
        lambda: events.workout_step(
            index=1,
            steps=2,
            set_number=3,
            step=_SQUATS,
            done=True,
            next_step=_NEXT,
            timestamp_ms=62000.0,
            count=30,
            reps=12,
        ),
    ),
    Event(
        "rest",
        NOT_IN_CONTRACT,
        "workout=: as a rest starts, then each second it goes down.",
        (),
        lambda: events.rest(seconds_left=30, seconds=30, next_step=_NEXT, timestamp_ms=62000.0),
    ),
    Event(
        "workout_summary",
        NOT_IN_CONTRACT,
        "workout=: when its last set ends, or when the session ends before (completed: false).",
        (),
        _workout_summary,
    ),
    Event(
        "warning",
        "4.2",
        "What a request ignored, once, as the page or socket starts.",
        ("error",),
        lambda: events.warning(
            code="ignored_parameters", message="…", parameters=["timer"], problems=[]
        ),
    ),
    # FormTrack's own events.
    Event(
        "rom_measurement",
        NOT_IN_CONTRACT,
        "Range-of-motion assessments (knee_rom …): each attempt's held peak, once the person "
        "comes back from it.",
        (),
        lambda: events.rom_measurement(
            assessment="knee_rom", attempt=1, timestamp_ms=3200.0, **_ROM_READING
        ),
    ),
    Event(
        "rom_summary",
        NOT_IN_CONTRACT,
        "Range-of-motion assessments: at the end, the best measurement per side and movement "
        "(in place of the counter and exercise_summary).",
        (),
        lambda: events.rom_summary(
            assessment="knee_rom",
            results=[
                events.rom_measurement(
                    assessment="knee_rom", attempt=1, timestamp_ms=3200.0, **_ROM_READING
                )
            ],
            disclaimer="In addition to the Terms of Use, …",
            first_ms=0.0,
            last_ms=9000.0,
        ),
    ),
)

BY_TYPE: dict[str, Event] = {event.type: event for event in EVENTS}
