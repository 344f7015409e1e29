"""User-facing engine messages that do not belong to one exercise, in English and French.

Exercise cues (form checks, depth cues, start positions) live with their exercise in the catalog.
"""

from tracking.engine.catalog import Text

MESSAGES: dict[str, Text] = {
    "step_in": Text(
        "Step into the frame so your whole body is visible",
        "Placez-vous dans le cadre, le corps entier visible",
    ),
    "show_body": Text(
        "Keep your full body in frame",
        "Gardez tout votre corps dans le cadre",
    ),
    "face_camera": Text("Face the camera", "Placez-vous face à la caméra"),
    "profile_camera": Text("Turn sideways to the camera", "Mettez-vous de profil face à la caméra"),
    "move_back": Text("Move back from the camera", "Reculez un peu de la caméra"),
    "move_closer": Text("Come closer to the camera", "Rapprochez-vous de la caméra"),
    "move_left": Text("Move a little to the left", "Décalez-vous un peu vers la gauche"),
    "move_right": Text("Move a little to the right", "Décalez-vous un peu vers la droite"),
    "hold_still": Text("Hold still…", "Ne bougez plus…"),
    "ready": Text("Ready! Start when you want", "Prêt ! Commencez quand vous voulez"),
    "lost": Text(
        "We lost you: come back into the frame",
        "Nous ne vous voyons plus : revenez dans le cadre",
    ),
}


def message(key: str, language: str) -> str:
    return MESSAGES[key].in_language(language)
