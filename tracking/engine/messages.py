"""User-facing engine messages that do not belong to one exercise, said in the tracker's language.

Exercise cues (form checks, depth cues, start positions) live with their exercise in the catalog.
"""

from tracking.engine.i18n import N_, translate

MESSAGES: dict[str, str] = {
    "step_in": N_("Step into the frame so your whole body is visible"),
    "show_body": N_("Keep your full body in frame"),
    "face_camera": N_("Face the camera"),
    "profile_camera": N_("Turn sideways to the camera"),
    "turn_left_side": N_("Turn your left side toward the camera"),
    "turn_right_side": N_("Turn your right side toward the camera"),
    "move_back": N_("Move back from the camera"),
    "move_closer": N_("Come closer to the camera"),
    "move_left": N_("Move a little to the left"),
    "move_right": N_("Move a little to the right"),
    "hold_still": N_("Hold still…"),
    "ready": N_("Ready! Start when you want"),
    "lost": N_("We lost you: come back into the frame"),
}


def message(key: str, language: str) -> str:
    return translate(MESSAGES[key], language)
