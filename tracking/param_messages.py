"""What the parameter parser says about a query, in English and French. Pure Python, no Django."""

MESSAGES: dict[str, dict[str, str]] = {
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
    "invalid_reference": {
        "en": "{param} must be the UUID of a reference movement, got {value}.",
        "fr": "{param} doit être l'UUID d'un mouvement de référence, reçu {value}.",
    },
    "jump_analysis_missing_height": {
        "en": "User height (userHeightCm) must be provided for jump_analysis exercise",
        "fr": "La taille de l'utilisateur (userHeightCm) est obligatoire "
        "pour l'exercice jump_analysis",
    },
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
        "en": "{param} must be a whole number from {low} to {high}, got {value}.",
        "fr": "{param} doit être un nombre entier de {low} à {high}, reçu {value}.",
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
    "repeated": {
        "en": "{param} was sent more than once with different values; send it once.",
        "fr": "{param} a été envoyé plusieurs fois avec des valeurs différentes ; "
        "envoyez-le une seule fois.",
    },
    "unknown_parameter": {
        "en": "unknown parameter {param} ignored",
        "fr": "paramètre inconnu {param} ignoré",
    },
    "unknown_parameter_suggestion": {
        "en": "unknown parameter {param} ignored (did you mean {suggestion}?)",
        "fr": "paramètre inconnu {param} ignoré (vouliez-vous dire {suggestion} ?)",
    },
    "upload_only": {
        "en": "parameter {param} only applies to upload_tracking and was ignored",
        "fr": "le paramètre {param} ne s'applique qu'à upload_tracking et a été ignoré",
    },
    "unsupported": {
        "en": "parameter {param} is not supported by FormTrack and was ignored",
        "fr": "le paramètre {param} n'est pas pris en charge par FormTrack et a été ignoré",
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
