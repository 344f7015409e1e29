"""The exercise catalog. Interface used outside the engine (parser, API):

- EXERCISES: dict[str, Exercise], keyed by canonical id; Exercise has .id, .kind
  ("repetition" | "duration" | "jump"), .view ("front" | "side" | "either"), .label.
- ALIASES: legacy id -> canonical id.
- resolve_exercise(name) -> canonical id or None.

The engine issue fills each definition with signals, phases, form checks and progression.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    id: str
    kind: str
    view: str
    label: str


def _ex(id_, kind, view, label):
    return Exercise(id=id_, kind=kind, view=view, label=label)


EXERCISES: dict[str, Exercise] = {
    e.id: e
    for e in [
        _ex("squat", "repetition", "either", "Squat"),
        _ex("push_up", "repetition", "side", "Push-up"),
        _ex("lunge", "repetition", "side", "Lunge"),
        _ex("side_lunge", "repetition", "front", "Side lunge"),
        _ex("deadlift", "repetition", "side", "Deadlift"),
        _ex("bicep_curl", "repetition", "either", "Bicep curl"),
        _ex("hammer_curl", "repetition", "either", "Hammer curl"),
        _ex("tricep_dip", "repetition", "side", "Tricep dip"),
        _ex("shoulder_press", "repetition", "front", "Shoulder press"),
        _ex("lateral_raise", "repetition", "front", "Lateral raise"),
        _ex("front_raise", "repetition", "side", "Front raise"),
        _ex("glute_bridge", "repetition", "side", "Glute bridge"),
        _ex("calf_raise", "repetition", "either", "Calf raise"),
        _ex("jumping_jack", "repetition", "front", "Jumping jack"),
        _ex("low_impact_jack", "repetition", "front", "Low-impact jack"),
        _ex("high_knees", "repetition", "either", "High knees"),
        _ex("mountain_climber", "repetition", "side", "Mountain climber"),
        _ex("leg_raise", "repetition", "side", "Leg raise"),
        _ex("sit_up", "repetition", "side", "Sit-up"),
        _ex("plank", "duration", "side", "Plank"),
        _ex("wall_sit", "duration", "side", "Wall sit"),
        _ex("balance_leg", "duration", "either", "Balance on one leg"),
        _ex("balance_leg_left", "duration", "either", "Balance on the left leg"),
        _ex("balance_leg_right", "duration", "either", "Balance on the right leg"),
        _ex("jump_analysis", "jump", "front", "Jump analysis"),
        _ex("air_time_jump", "jump", "either", "Air-time jump"),
    ]
}

ALIASES: dict[str, str] = {
    "face_squat": "squat",
    "face_pushup": "push_up",
    "face_plank": "plank",
    "face_lunge": "lunge",
    "face_jumping_jack": "jumping_jack",
    "face_low_impact_jack": "low_impact_jack",
    "face_balance_leg": "balance_leg",
    "face_balance_leg_left": "balance_leg_left",
    "face_balance_leg_right": "balance_leg_right",
    "side_squat": "squat",
    "side_pushup": "push_up",
    "side_plank": "plank",
    "jump": "air_time_jump",
}


def resolve_exercise(name: str) -> str | None:
    key = name.strip().lower()
    if key in EXERCISES:
        return key
    return ALIASES.get(key)
