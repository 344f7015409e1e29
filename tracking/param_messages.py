"""What the parameter parser says about a query, in the query's language.

Problems (errors), warnings (parameters or values ignored) and the reasons a parameter is ignored
(tracking/param_table.py names them). Pure Python, no Django: English marked with N_ and
translated with the engine's gettext reader (tracking/engine/i18n.py).
"""

from tracking.engine.i18n import N_, translate

MESSAGES: dict[str, str] = {
    # Errors: the contract refuses these.
    "missing_token": N_("The token parameter is required: send token=YOUR_API_KEY."),
    "conflicting_parameters": N_(
        "You cannot combine {reference} & exercise: "
        "send either exercise=… or {reference}=…, not both."
    ),
    "conflicting_movements": N_(
        "You cannot combine {reference} & {user_exercise}: both name a reference movement; "
        "send one."
    ),
    "conflicting_workout": N_(
        "You cannot combine workout & {other}: a workout names the exercise of each of its "
        "steps; send one."
    ),
    # A workout written inline (workout=squat:10x3,rest:30,plank:45s) or sent to the API:
    # tracking/engine/workout.py says what each is about.
    "workout_syntax": N_(
        "Workout item {position} ({item}) must read exercise:target, such as squat:10x3, "
        "plank:45s or rest:30."
    ),
    "workout_movement": N_("Workout step {position} must name an exercise or a reference, one."),
    "workout_exercise": N_("Workout step {position}: unknown exercise {item}."),
    "workout_reference": N_("Workout step {position}: reference must be a reference's UUID."),
    "workout_jump": N_(
        "Workout step {position}: {exercise} is a jump exercise, which a workout cannot hold."
    ),
    "workout_assessment": N_(
        "Workout step {position}: {exercise} is a range-of-motion assessment, which a workout "
        "cannot hold."
    ),
    "workout_hold_reps": N_(
        "Workout step {position}: {exercise} is a hold, whose target is in seconds "
        "(such as {exercise}:45s)."
    ),
    "workout_unit": N_("Workout step {position}: unit must be reps or seconds."),
    "workout_reps_range": N_("Workout step {position}: the target must be {low} to {high} reps."),
    "workout_seconds_range": N_(
        "Workout step {position}: the target must be {low} to {high} seconds."
    ),
    "workout_sets_range": N_("Workout step {position}: sets must be 1 to {high}."),
    "workout_rest_range": N_("Workout item {position}: a rest must be 0 to {high} seconds."),
    "workout_rest_misplaced": N_(
        "Workout item {position}: a rest comes after an exercise, once (squat:10,rest:30)."
    ),
    "workout_empty": N_("A workout needs at least one exercise step."),
    "workout_too_many_steps": N_("A workout has at most {limit} exercise steps."),
    "invalid_exercise": N_("Unknown exercise {value}: exercise must be one of {choices}."),
    "invalid_exercise_suggestion": N_(
        "Unknown exercise {value} (did you mean {suggestion}?): exercise must be one of {choices}."
    ),
    "invalid_reference": N_("{param} must be the UUID of a reference movement, got {value}."),
    "jump_analysis_missing_height": N_(
        "User height (userHeightCm) must be provided for jump_analysis exercise"
    ),
    # What a value should have been: an error for the parameters the contract refuses, else the
    # start of a warning that ends with "default_used" or "value_ignored".
    "choice": N_("{param} must be one of {choices}, got {value}."),
    "boolean": N_("{param} must be true or false (1/0 and yes/no also work), got {value}."),
    "skeleton": N_(
        "skeleton must be true, false, a style ({styles}) or a hex colour such as #40c057, "
        "got {value}."
    ),
    "integer": N_(
        "{param} must be a number from {low} to {high} (fractions are rounded), got {value}."
    ),
    "number": N_("{param} must be a number from {low} to {high}, got {value}."),
    "language": N_("{param} must be a language code such as en or fr, got {value}."),
    "web_address": N_("{param} must be an http:// or https:// address, got {value}."),
    "external_id": N_(
        "{param} must be your own id of the person: 1 to {limit} letters, digits, dots, "
        "underscores, colons or hyphens, got {value}."
    ),
    "external_id_dots": N_("{param} cannot be . or .. (a web address cannot name it)."),
    "external_id_email": N_(
        "{param} must be your own opaque id of the person, never an e-mail address."
    ),
    "blank": N_("{param} was sent without a value ({value})."),
    "too_long": N_("{param} is longer than {limit} characters."),
    "control_characters": N_("{param} contains control characters."),
    "not_text": N_("{param} must be text, got {value}."),
    "name_not_text": N_("Parameter names must be text, got {value}."),
    "set_position": N_(
        "{param} must read step.set, such as 2.3 for the second step's third set, got {value}."
    ),
    "workout_from_range": N_(
        "{param} must name a set of the workout (step 1 to {steps}, then one of that step's "
        "sets), got {value}."
    ),
    "default_used": N_("{problem} Its default ({default}) is used instead."),
    "value_ignored": N_("{problem} It was ignored."),
    # Warnings about parameters.
    "repeated": N_(
        "{param} was sent more than once with different values; the first one was used."
    ),
    "unknown_parameter": N_("unknown parameter {param} ignored"),
    "unknown_parameter_suggestion": N_(
        "unknown parameter {param} ignored (did you mean {suggestion}?)"
    ),
    "other_endpoint": N_("parameter {param} only applies to {endpoint} and was ignored"),
    "ignored_parameter": N_("parameter {param} was ignored: {reason}"),
    "media_for_other_source": N_(
        "parameter {param} does not apply with source={source} and was ignored"
    ),
    "workout_from_alone": N_("parameter {param} was ignored: it names a set of a workout"),
    "target_with_workout": N_(
        "parameter {param} was ignored: each step of the workout has its own target"
    ),
    "min_grade_ignored": N_(
        "minGrade only applies to repetition exercises and was ignored for {what}"
    ),
    "min_grade_reference": N_("a reference movement"),
    "min_grade_duration": N_("a hold ({exercise})"),
    "min_grade_jump": N_("a jump ({exercise})"),
    "min_grade_assessment": N_("a range-of-motion assessment ({exercise})"),
    "min_grade_image": N_("a photo (source=image)"),
    "min_grade_pose_only": N_("pose tracking without an exercise"),
    # Why a parameter is ignored (param_table.Parameter.reason). The English ones also go to
    # docs/compatibility.md.
    "reason_overlay": N_(
        "the page draws the skeleton and a posture message only (no placement zone, "
        "silhouette, guide or placement image)"
    ),
    "reason_timer": N_(
        "counting starts once the person has held the start position for 0.3 s, with no countdown"
    ),
    "reason_engine": N_(
        "FormTrack has one engine: a data-driven catalog like V4's, sending V3's events"
    ),
    "reason_pose_engine": N_(
        "the page always runs MediaPipe BlazePose (17 COCO keypoints by default), "
        "never TensorFlow.js"
    ),
    "reason_scoring_profile": N_(
        "reference movements are scored one way, with the tolerance set by difficulty"
    ),
    "reason_is_mobile": N_("the page adapts to the device by itself"),
    "reason_engine_debug": N_("PoseTracker's internal debug display does not exist here"),
    "developer_features_not_allowed": N_(
        "You cannot use developer features on your current plan: {features}."
    ),
    # These are written before a language is known, or because it is not available: English only,
    # so they are not marked for the catalogs.
    "too_many": "The query has more than {limit} parameters.",
    "not_a_query": "The query must be a query string or a mapping of parameters, got {value}.",
    "language_fallback": "language {value} is not available, using en",
}


def message(key: str, language: str, **details: object) -> str:
    return translate(MESSAGES[key], language).format(**details)
