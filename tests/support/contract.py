"""PoseTracker's exercise catalog as its contract lists it (posetracker-api.md §3.1): the ids an
app may send as `exercise=`, by kind, and the legacy aliases with the id each stands for."""

REPETITION = [
    "squat",
    "push_up",
    "lunge",
    "side_lunge",
    "deadlift",
    "bicep_curl",
    "hammer_curl",
    "tricep_dip",
    "shoulder_press",
    "lateral_raise",
    "glute_bridge",
    "calf_raise",
    "mountain_climber",
    "high_knees",
    "jumping_jack",
    "low_impact_jack",
    "leg_raise",
    "shoulder_roll",
    "shoulder_deep_breath",
    "back_flexibility_test",
]
DURATION = [
    "plank",
    "wall_sit",
    "balance_leg",
    "balance_leg_left",
    "balance_leg_right",
    # chair_forward_fold and chair_side_stretch: "static" in the demo list, "dynamic" in the V4
    # SDK; FormTrack holds them (docs/events.md).
    "chair_forward_fold",
    "chair_side_stretch",
    "split",
    "facial_split",
    "pancake",
    "closing",
    "bridge",
    "cobra",
    "bow",
    "tiger",
    "camel",
    "king_pigeon",
    "foot_to_hand",
    "i",
    "needle",
]
JUMP = ["jump_analysis", "air_time_jump"]
CONTRACT_IDS = REPETITION + DURATION + JUMP
ALIASES = {
    "face_squat": "squat",
    "face_pushup": "push_up",
    "face_plank": "plank",
    "face_lunge": "lunge",
    "face_jumping_jack": "jumping_jack",
    "face_low_impact_jack": "low_impact_jack",
    "face_balance_leg": "balance_leg",
    "face_balance_leg_left": "balance_leg_left",
    "face_balance_leg_right": "balance_leg_right",
    "jump": "air_time_jump",
}

# The fields the contract names for each event a host reads (posetracker-api.md §4.2, §4.3, and the
# SDK's classic exercise_summary): every one must be there, under these names. FormTrack's own
# added fields may sit beside them.
EVENT_FIELDS = {
    "initialization": {"message", "ready"},
    "environment": {"poseBackend", "webgl"},
    "posture": {"message", "direction", "ready", "requirements"},
    "counter": {"current_count"},
    "form_score": {"score", "avg_score", "grade"},
    "progression": {"value"},
    "recommendations": {"data"},
    "angles": {"data"},
    "keypoints": {"timestampMs", "frameId", "score", "data", "keypoints"},
    "exercise_summary": {"exercise", "counter", "avg_rep_score", "grade", "history"}
    | {"durationMs", "timestampMs"},
    "error": {"code", "error", "message"},
    "warning": {"code", "error", "message"},
}
FORM_SCORE_FIELDS = {"score", "avg_score", "grade"}
GRADES = {"A", "B", "C", "D", "E", "F"}
KEYPOINT_FIELDS = {"name", "x", "y", "z", "score"}
ANGLE_FIELDS = {
    "knee_angle": "from_hip_to_ankle",
    "hip_angle": "from_knee_to_shoulder",
    "shoulder_angle": "from_hip_to_elbow",
    "elbow_angle": "from_shoulder_to_wrist",
}
HISTORY_FIELDS = {"index", "formScore", "durationMs"}


def contract_problems(event) -> list[str]:
    """What in one event a PoseTracker host would miss or misread: [] when it reads as the
    contract has it."""
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return [f"not an event object with a type: {event!r:.80}"]
    kind = event["type"]
    problems = [f"{kind}: no {name}" for name in sorted(EVENT_FIELDS.get(kind, set()) - set(event))]
    if problems:
        return problems
    if kind == "counter" and "form_score" in event:
        problems += _form_score_problems(event["form_score"], "counter.form_score")
    elif kind == "form_score":
        problems += _form_score_problems(event, "form_score")
    elif kind == "progression" and not 0 <= event["value"] <= 100:
        problems.append(f"progression: value {event['value']} outside 0..100")
    elif kind == "recommendations" and not all(isinstance(cue, str) for cue in event["data"]):
        problems.append("recommendations: data is not a list of strings")
    elif kind == "angles":
        for side in ("left_side", "right_side"):
            for angle, key in ANGLE_FIELDS.items():
                if key not in event["data"].get(side, {}).get(angle, {}):
                    problems.append(f"angles: no {side}.{angle}.{key}")
    elif kind == "keypoints":
        problems += _keypoints_problems(event)
    elif kind == "exercise_summary":
        for entry in event["history"]:
            problems += [
                f"exercise_summary.history: no {name}" for name in HISTORY_FIELDS - set(entry)
            ]
    return problems


def _form_score_problems(form_score, where: str) -> list[str]:
    problems = [f"{where}: no {name}" for name in sorted(FORM_SCORE_FIELDS - set(form_score))]
    if not problems and form_score["grade"] not in GRADES:
        problems.append(f"{where}: grade {form_score['grade']!r}")
    return problems


def _keypoints_problems(event) -> list[str]:
    problems = []
    if event["data"] != event["keypoints"]:
        problems.append("keypoints: data and keypoints differ")
    if not isinstance(event["timestampMs"], int):
        problems.append(
            f"keypoints: timestampMs {event['timestampMs']!r} is not whole milliseconds"
        )
    for point in event["keypoints"]:
        missing = KEYPOINT_FIELDS - set(point)
        if missing:
            problems.append(f"keypoints: {point.get('name')} has no {', '.join(sorted(missing))}")
        # Normalised to the picture: a point seen in the picture is within 0..1.
        elif point["score"] >= 0.5 and not (0 <= point["x"] <= 1 and 0 <= point["y"] <= 1):
            problems.append(f"keypoints: {point['name']} at {point['x']}, {point['y']}")
    return problems
