"""Workouts: a sequence of steps, each an exercise of the catalog or a reference movement with a
target (reps or seconds), a number of sets and the rest after each set.

    workout = parse_workout("squat:10x3,rest:30,plank:45s")   # the inline grammar, below
    workout = workout_from_steps([{"exercise": "squat", "target": 10, "sets": 3, "rest_s": 30}])
    str(workout)                                               # its canonical inline text

tracking.engine.tracker.WorkoutTracker guides a person through one. Both constructors raise
WorkoutInvalid: a message key of tracking/param_messages.py and its details, which the parameter
parser and the API turn into their `invalid_workout` refusal. Pure Python, no Django.

The inline grammar (docs/events.md, "Workouts"), items separated by commas:
- `<exercise>:<target>[x<sets>]`: an exercise id or alias of the catalog, or a reference
  movement's UUID. The target is reps (`squat:10`), or seconds with `s` or minutes with `m`
  (`plank:45s`, `plank:1m`); a hold always counts seconds (`plank:45` is 45 s). `x<sets>` repeats
  it (`squat:10x3`: 3 sets of 10).
- `rest:<seconds>` (also `30s`, `1m`): the rest after each set of the step before it.
"""

import dataclasses
import re
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from tracking.engine.catalog import EXERCISES, resolve_exercise

UNITS = ("reps", "seconds")
MAX_STEPS = 30
# Inclusive bounds, as the live page's own targets (reps=, duration=) have them.
TARGET_RANGE = {"reps": (1, 1000), "seconds": (1, 3600)}
SETS_RANGE = (1, 20)
REST_RANGE = (0, 900)

_AMOUNT = r"(?P<amount>[0-9]{1,6})(?P<suffix>[sm]?)"
_STEP = re.compile(rf"(?P<movement>[^:]+):{_AMOUNT}(?:x(?P<sets>[0-9]{{1,6}}))?", re.IGNORECASE)
_REST = re.compile(rf"rest:{_AMOUNT}", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


class WorkoutInvalid(ValueError):
    """What is wrong with a workout: `key`, a message of tracking/param_messages.py, and the
    `details` it is written with. `position`: the step at fault (1 for the first exercise or
    reference), or for the inline text's own problems the item (rests count)."""

    def __init__(self, key: str, **details: object):
        super().__init__(key)
        self.key = key
        self.details = details


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


@dataclass(frozen=True)
class WorkoutStep:
    """One exercise (`exercise`, a catalog id) or reference movement (`reference`), done `sets`
    times to `target` reps or seconds (`unit`), with `rest_s` seconds of rest after each set."""

    exercise: str | None
    reference: uuid.UUID | None
    target: int
    unit: str
    sets: int = 1
    rest_s: int = 0

    @property
    def kind(self) -> str:
        """repetition or duration: what its tracker counts (a reference counts repetitions)."""
        return EXERCISES[self.exercise].kind if self.exercise else "repetition"

    @property
    def timed(self) -> bool:
        """A time target on a movement that counts reps: it lasts that long, reps counted."""
        return self.unit == "seconds" and self.kind == "repetition"

    def to_dict(self) -> dict:
        """The step as the API stores and returns it, and as the workout events describe it."""
        return {
            "exercise": self.exercise,
            "reference": str(self.reference) if self.reference else None,
            "target": self.target,
            "unit": self.unit,
            "sets": self.sets,
            "rest_s": self.rest_s,
        }

    def __str__(self) -> str:
        movement = self.exercise or str(self.reference)
        amount = f"{self.target}s" if self.unit == "seconds" else str(self.target)
        sets = f"x{self.sets}" if self.sets > 1 else ""
        rest = f",rest:{self.rest_s}" if self.rest_s else ""
        return f"{movement}:{amount}{sets}{rest}"


@dataclass(frozen=True)
class Workout:
    """The steps, in order; `id` and `name` for a workout the organisation saved."""

    steps: tuple[WorkoutStep, ...]
    id: uuid.UUID | None = None
    name: str | None = None

    @property
    def references(self) -> tuple[uuid.UUID, ...]:
        """The reference movements its steps name, each once."""
        return tuple(dict.fromkeys(step.reference for step in self.steps if step.reference))

    def __str__(self) -> str:
        """The canonical inline text: parse_workout(str(w)) has w's steps."""
        return ",".join(str(step) for step in self.steps)

    def has(self, position: "SetPosition") -> bool:
        """Whether `position` is one of its sets."""
        return 1 <= position.step <= len(self.steps) and (
            1 <= position.set <= self.steps[position.step - 1].sets
        )


class SetPosition(NamedTuple):
    """One set of a workout, 1-based: its step and the set within it. A reconnected live page
    continues there (workoutFrom=2.3: the second step's third set)."""

    step: int
    set: int

    def __str__(self) -> str:
        return f"{self.step}.{self.set}"


def _in_range(value: object, bounds: tuple[int, int]) -> bool:
    """A whole number within bounds (JSON's true is not 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return bounds[0] <= value <= bounds[1]


def workout_step(
    *,
    position: int,
    exercise: str | None = None,
    reference: object = None,
    target: object,
    unit: str | None = None,
    sets: object = 1,
    rest_s: object = 0,
) -> WorkoutStep:
    """A checked step. `unit` None: what the movement counts (reps, or seconds for a hold)."""
    if (exercise is None) == (reference is None):
        raise WorkoutInvalid("workout_movement", position=position)
    exercise_id = None
    if exercise is not None:
        exercise_id = resolve_exercise(str(exercise))
        if exercise_id is None:
            raise WorkoutInvalid("workout_exercise", position=position, item=_shown(str(exercise)))
        if EXERCISES[exercise_id].kind in ("jump", "assessment"):
            key = f"workout_{EXERCISES[exercise_id].kind}"
            raise WorkoutInvalid(key, position=position, exercise=exercise_id)
    else:
        if not isinstance(reference, uuid.UUID):
            if not (isinstance(reference, str) and _UUID.fullmatch(reference)):
                raise WorkoutInvalid("workout_reference", position=position)
            reference = uuid.UUID(reference)
    hold = exercise_id is not None and EXERCISES[exercise_id].kind == "duration"
    unit = unit or ("seconds" if hold else "reps")
    if unit not in UNITS:
        raise WorkoutInvalid("workout_unit", position=position)
    if hold and unit == "reps":
        raise WorkoutInvalid("workout_hold_reps", position=position, exercise=exercise_id)
    low, high = TARGET_RANGE[unit]
    if not _in_range(target, TARGET_RANGE[unit]):
        raise WorkoutInvalid(f"workout_{unit}_range", position=position, low=low, high=high)
    if not _in_range(sets, SETS_RANGE):
        raise WorkoutInvalid("workout_sets_range", position=position, high=SETS_RANGE[1])
    if not _in_range(rest_s, REST_RANGE):
        raise WorkoutInvalid("workout_rest_range", position=position, high=REST_RANGE[1])
    return WorkoutStep(exercise_id, reference, target, unit, sets, rest_s)


def _workout(steps: list[WorkoutStep], **fields) -> Workout:
    if not steps:
        raise WorkoutInvalid("workout_empty")
    if len(steps) > MAX_STEPS:
        raise WorkoutInvalid("workout_too_many_steps", limit=MAX_STEPS)
    return Workout(tuple(steps), **fields)


def _seconds(match: re.Match) -> int:
    return int(match["amount"]) * (60 if match["suffix"].lower() == "m" else 1)


def parse_workout(text: str) -> Workout:
    """The inline grammar (this module's docstring) read into a workout."""
    steps: list[WorkoutStep] = []
    rested = True  # a rest must follow a step, once
    for position, raw in enumerate(text.split(","), 1):
        item = raw.strip()
        if rest := _REST.fullmatch(item):
            if rested:
                raise WorkoutInvalid("workout_rest_misplaced", position=position)
            rested = True
            seconds = _seconds(rest)
            if not _in_range(seconds, REST_RANGE):
                raise WorkoutInvalid("workout_rest_range", position=position, high=REST_RANGE[1])
            steps[-1] = dataclasses.replace(steps[-1], rest_s=seconds)
            continue
        step = _STEP.fullmatch(item)
        if step is None:
            raise WorkoutInvalid("workout_syntax", position=position, item=_shown(item))
        movement = step["movement"].strip()
        is_reference = _UUID.fullmatch(movement) is not None
        timed = bool(step["suffix"])
        steps.append(
            workout_step(
                position=len(steps) + 1,
                exercise=None if is_reference else movement,
                reference=movement if is_reference else None,
                target=_seconds(step) if timed else int(step["amount"]),
                unit="seconds" if timed else None,
                sets=int(step["sets"]) if step["sets"] else 1,
            )
        )
        rested = False
    return _workout(steps)


def workout_from_steps(steps: list[dict], **fields) -> Workout:
    """A workout from its steps as the API takes and stores them (WorkoutStep.to_dict's fields;
    `unit`, `sets` and `rest_s` optional). `fields`: the saved workout's id and name."""
    checked = []
    for position, step in enumerate(steps, 1):
        checked.append(
            workout_step(
                position=position,
                exercise=step.get("exercise"),
                reference=step.get("reference"),
                target=step.get("target"),
                unit=step.get("unit"),
                sets=step.get("sets", 1),
                rest_s=step.get("rest_s", 0),
            )
        )
    return _workout(checked, **fields)
