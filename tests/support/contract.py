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
