"""What the parameter parser says about a query, in English and French.

Problems (errors), warnings (parameters or values ignored) and the reasons a parameter is ignored
(tracking/param_table.py names them). Pure Python, no Django.
"""

MESSAGES: dict[str, dict[str, str]] = {
    # Errors: the contract refuses these.
    "missing_token": {
        "en": "The token parameter is required: send token=YOUR_API_KEY.",
        "fr": "Le paramètre token est obligatoire : envoyez token=VOTRE_CLE_API.",
    },
    "conflicting_parameters": {
        "en": "You cannot combine {reference} & exercise: "
        "send either exercise=… or {reference}=…, not both.",
        "fr": "Vous ne pouvez pas combiner {reference} et exercise : "
        "envoyez soit exercise=…, soit {reference}=…, pas les deux.",
    },
    "invalid_exercise": {
        "en": "Unknown exercise {value}: exercise must be one of {choices}.",
        "fr": "Exercice inconnu {value} : exercise doit être l'un de {choices}.",
    },
    "invalid_exercise_suggestion": {
        "en": "Unknown exercise {value} (did you mean {suggestion}?): "
        "exercise must be one of {choices}.",
        "fr": "Exercice inconnu {value} (vouliez-vous dire {suggestion} ?) : "
        "exercise doit être l'un de {choices}.",
    },
    "invalid_reference": {
        "en": "{param} must be the UUID of a reference movement, got {value}.",
        "fr": "{param} doit être l'UUID d'un mouvement de référence, reçu {value}.",
    },
    "jump_analysis_missing_height": {
        "en": "User height (userHeightCm) must be provided for jump_analysis exercise",
        "fr": "La taille de l'utilisateur (userHeightCm) est obligatoire "
        "pour l'exercice jump_analysis",
    },
    # What a value should have been: an error for the parameters the contract refuses, else the
    # start of a warning that ends with "default_used" or "value_ignored".
    "choice": {
        "en": "{param} must be one of {choices}, got {value}.",
        "fr": "{param} doit être l'une de ces valeurs : {choices} ; reçu {value}.",
    },
    "boolean": {
        "en": "{param} must be true or false (1/0 and yes/no also work), got {value}.",
        "fr": "{param} doit valoir true ou false (1/0 et yes/no sont aussi acceptés), "
        "reçu {value}.",
    },
    "skeleton": {
        "en": "skeleton must be true, false or a style name of at most 64 letters, digits, "
        "_, - or #, got {value}.",
        "fr": "skeleton doit valoir true, false ou un nom de style d'au plus 64 lettres, chiffres, "
        "_, - ou #, reçu {value}.",
    },
    "integer": {
        "en": "{param} must be a number from {low} to {high} (fractions are rounded), got {value}.",
        "fr": "{param} doit être un nombre de {low} à {high} (arrondi à l'entier), reçu {value}.",
    },
    "number": {
        "en": "{param} must be a number from {low} to {high}, got {value}.",
        "fr": "{param} doit être un nombre de {low} à {high}, reçu {value}.",
    },
    "language": {
        "en": "{param} must be a language code such as en or fr, got {value}.",
        "fr": "{param} doit être un code de langue comme en ou fr, reçu {value}.",
    },
    "web_address": {
        "en": "{param} must be an http:// or https:// address, got {value}.",
        "fr": "{param} doit être une adresse http:// ou https://, reçu {value}.",
    },
    "blank": {
        "en": "{param} was sent without a value ({value}).",
        "fr": "{param} a été envoyé sans valeur ({value}).",
    },
    "too_long": {
        "en": "{param} is longer than {limit} characters.",
        "fr": "{param} dépasse {limit} caractères.",
    },
    "control_characters": {
        "en": "{param} contains control characters.",
        "fr": "{param} contient des caractères de contrôle.",
    },
    "not_text": {
        "en": "{param} must be text, got {value}.",
        "fr": "{param} doit être du texte, reçu {value}.",
    },
    "name_not_text": {
        "en": "Parameter names must be text, got {value}.",
        "fr": "Les noms de paramètres doivent être du texte, reçu {value}.",
    },
    "default_used": {
        "en": "{problem} Its default ({default}) is used instead.",
        "fr": "{problem} Sa valeur par défaut ({default}) est utilisée à la place.",
    },
    "value_ignored": {
        "en": "{problem} It was ignored.",
        "fr": "{problem} Il a été ignoré.",
    },
    # Warnings about parameters.
    "repeated": {
        "en": "{param} was sent more than once with different values; the first one was used.",
        "fr": "{param} a été envoyé plusieurs fois avec des valeurs différentes ; "
        "la première a été utilisée.",
    },
    "unknown_parameter": {
        "en": "unknown parameter {param} ignored",
        "fr": "paramètre inconnu {param} ignoré",
    },
    "unknown_parameter_suggestion": {
        "en": "unknown parameter {param} ignored (did you mean {suggestion}?)",
        "fr": "paramètre inconnu {param} ignoré (vouliez-vous dire {suggestion} ?)",
    },
    "other_endpoint": {
        "en": "parameter {param} only applies to {endpoint} and was ignored",
        "fr": "le paramètre {param} ne s'applique qu'à {endpoint} et a été ignoré",
    },
    "ignored_parameter": {
        "en": "parameter {param} was ignored: {reason}",
        "fr": "le paramètre {param} a été ignoré : {reason}",
    },
    "pending_parameter": {
        "en": "parameter {param} is read, but the upload page does not apply it yet",
        "fr": "le paramètre {param} est lu, mais la page d'envoi ne l'applique pas encore",
    },
    "min_grade_ignored": {
        "en": "minGrade only applies to repetition exercises and was ignored for {what}",
        "fr": "minGrade ne s'applique qu'aux exercices à répétitions et a été ignoré pour {what}",
    },
    "min_grade_reference": {"en": "a reference movement", "fr": "un mouvement de référence"},
    "min_grade_duration": {"en": "a hold ({exercise})", "fr": "un maintien ({exercise})"},
    "min_grade_jump": {"en": "a jump ({exercise})", "fr": "un saut ({exercise})"},
    "min_grade_image": {"en": "a photo (source=image)", "fr": "une photo (source=image)"},
    "min_grade_pose_only": {
        "en": "pose tracking without an exercise",
        "fr": "le suivi de pose sans exercice",
    },
    # Why a parameter is ignored (param_table.Parameter.reason). The English ones also go to
    # docs/compatibility.md.
    "reason_overlay": {
        "en": "the page draws the skeleton and a posture message only (no placement zone, "
        "silhouette, guide or placement image)",
        "fr": "la page ne dessine que le squelette et un message de posture (ni zone de "
        "placement, ni silhouette, ni guide, ni image de placement)",
    },
    "reason_timer": {
        "en": "counting starts once the person has held the start position for 0.3 s, "
        "with no countdown",
        "fr": "le comptage commence quand la personne a tenu la position de départ 0,3 s, "
        "sans compte à rebours",
    },
    "reason_engine": {
        "en": "FormTrack has one engine: a data-driven catalog like V4's, sending V3's events",
        "fr": "FormTrack a un seul moteur : un catalogue de données comme celui de V4, "
        "qui envoie les événements de V3",
    },
    "reason_pose_engine": {
        "en": "the page always runs MediaPipe BlazePose (17 COCO keypoints by default), "
        "never TensorFlow.js",
        "fr": "la page utilise toujours MediaPipe BlazePose (17 points COCO par défaut), "
        "jamais TensorFlow.js",
    },
    "reason_scoring_profile": {
        "en": "reference movements are scored one way, with the tolerance set by difficulty",
        "fr": "les mouvements de référence sont notés d'une seule façon, "
        "avec la tolérance fixée par difficulty",
    },
    "reason_is_mobile": {
        "en": "the page adapts to the device by itself",
        "fr": "la page s'adapte d'elle-même à l'appareil",
    },
    "reason_engine_debug": {
        "en": "PoseTracker's internal debug display does not exist here",
        "fr": "l'affichage de débogage interne de PoseTracker n'existe pas ici",
    },
    "reason_user_exercise": {
        "en": "Studio custom movements do not exist in FormTrack: record a reference movement "
        "and send reference=<its id>",
        "fr": "les mouvements personnalisés de Studio n'existent pas dans FormTrack : "
        "enregistrez un mouvement de référence et envoyez reference=<son id>",
    },
    "developer_features_not_allowed": {
        "en": "You cannot use developer features on your current plan: {features}.",
        "fr": "Vous ne pouvez pas utiliser les fonctions développeur avec votre offre actuelle : "
        "{features}.",
    },
    # These are written before a language is known, or because it is not available: English only.
    "too_many": {"en": "The query has more than {limit} parameters."},
    "not_a_query": {
        "en": "The query must be a query string or a mapping of parameters, got {value}."
    },
    "language_fallback": {"en": "language {value} is not available, using en"},
}


def message(key: str, language: str, **details: object) -> str:
    templates = MESSAGES[key]
    return templates.get(language, templates["en"]).format(**details)
