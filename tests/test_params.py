"""The shared tracking parameter parser: the table's rows (tracking/param_table.py), one test per
rule, plus properties over any input.

Pure Python: no database, no Django settings.
"""

import dataclasses
import json
import math
import pickle
import uuid
from urllib.parse import urlencode

import pytest
from django.utils.datastructures import MultiValueDict
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.plans import BUSINESS, DEVELOPER, DEVELOPER_OUTPUTS, FREE
from tracking.engine.catalog import ALIASES, EXERCISES
from tracking.engine.i18n import LANGUAGES, translate
from tracking.engine.workout import SetPosition, parse_workout
from tracking.param_messages import MESSAGES
from tracking.param_table import (
    BY_NAME,
    ENDPOINTS,
    KINDS,
    MAX_VALUE_CHARS,
    PARAMETERS,
    STATUSES,
    parameters_for,
)
from tracking.params import (
    MAX_PARAMETERS,
    ParamsError,
    Problem,
    TrackingParams,
    parse_tracking_params,
)
from tracking.pose.skeleton import STYLES

REFERENCE = "0f8fad5b-d9cb-469f-a165-70867728950e"
# Fields of TrackingParams that are not parameters.
RECORD_FIELDS = {"endpoint", "reference_param", "passthrough", "warnings", "blocked"}
# Fields more than one row fills: the one sent does.
SHARED_FIELDS = {"reference": ["reference", "userExercise"]}


def parse(endpoint: str = "tracking", **query: str) -> TrackingParams:
    return parse_tracking_params({"token": "tok", **query}, endpoint=endpoint)


def problems_of(query, endpoint: str = "tracking") -> tuple[Problem, ...]:
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params(query, endpoint=endpoint)
    return caught.value.problems


def only_problem(endpoint: str = "tracking", **query: str) -> Problem:
    (problem,) = problems_of({"token": "tok", **query}, endpoint)
    return problem


def only_warning(endpoint: str = "tracking", **query: str) -> Problem:
    (warning,) = parse(endpoint, **query).warnings
    return warning


def rows(where=lambda parameter: True):
    """Table rows as pytest params, with their names as ids."""
    return [pytest.param(p, id=p.name) for p in PARAMETERS if where(p)]


# What a parameter needs beside it to apply.
NEEDS = {"imageSrc": {"source": "image"}}


def endpoint_of(parameter) -> str:
    return parameter.endpoints[0]


def sending(parameter, value: object, endpoint: str | None = None) -> TrackingParams:
    """The parameter sent alone, with a repetition exercise (so minGrade applies)."""
    movements = ("exercise", "reference", "userExercise")
    query = {} if parameter.name in movements else {"exercise": "squat"}
    return parse(endpoint or endpoint_of(parameter), **query, **{parameter.name: value})


# A value each kind of parameter cannot take (text takes anything printable).
UNREADABLE = {
    "boolean": "maybe",
    "integer": "wide",
    "number": "12cm",
    "choice": "zzz",
    "skeleton": "<script>",
    "url": "javascript:alert(1)",
    "text": "a\x00b",
    "language": "français",
    "external_id": "jane.doe@example.com",
    "set_position": "2.0",
}
# A value each kind takes, and what it reads as.
READABLE = {
    "boolean": ("TRUE", True),
    "integer": ("640.4", 640),
    "number": None,  # in range: see number_inside()
    "skeleton": ("neon", "neon"),
    "url": ("https://cdn.example.com/a.mp4", "https://cdn.example.com/a.mp4"),
    "text": ("Chargement…", "Chargement…"),
    "uuid": (REFERENCE, uuid.UUID(REFERENCE)),
    "external_id": ("u:7f3a.b_9-X", "u:7f3a.b_9-X"),
    "workout": (" Squat:10X3, rest:30 ,plank:1m", parse_workout("squat:10x3,rest:30,plank:60s")),
    "set_position": ("2.3", SetPosition(2, 3)),
}


def readable(parameter) -> tuple[str, object]:
    if parameter.kind == "choice":
        spelling, value = parameter.choices[-1]
        return spelling.upper(), value
    if parameter.kind == "number":
        middle = (parameter.low + parameter.high) / 2
        return repr(middle), middle
    return READABLE[parameter.kind]


# The table itself


@pytest.mark.parametrize("parameter", rows())
def test_every_row_is_well_formed(parameter):
    assert parameter.kind in KINDS and parameter.status in STATUSES
    assert parameter.endpoints and set(parameter.endpoints) <= set(ENDPOINTS)
    assert parameter.doc.endswith(".") and parameter.section.startswith("2.")
    assert (parameter.status == "ignored") == (parameter.reason is not None)
    assert (parameter.kind == "choice") <= bool(parameter.choices)
    assert (parameter.kind in ("integer", "number") and parameter.kept) <= (
        parameter.low is not None and parameter.high is not None
    )
    assert parameter.feature is None or parameter.feature in DEVELOPER_OUTPUTS
    if parameter.kept:
        assert parameter.kind not in ("colour", "timer"), "the parser cannot read these kinds"
    if parameter.reason is not None:
        assert f"reason_{parameter.reason}" in MESSAGES


def test_names_and_aliases_are_unique():
    spellings = [s for parameter in PARAMETERS for s in (parameter.name, *parameter.aliases)]
    assert len(spellings) == len(set(spellings))


def test_every_field_of_the_params_has_its_rows():
    table_fields = [parameter.field for parameter in PARAMETERS if parameter.field]
    params_fields = {field.name for field in dataclasses.fields(TrackingParams)} - RECORD_FIELDS
    assert set(table_fields) == params_fields
    for field in params_fields:
        rows_of = [parameter.name for parameter in PARAMETERS if parameter.field == field]
        assert rows_of == SHARED_FIELDS.get(field, rows_of[:1]), field


def test_every_developer_output_has_a_parameter():
    assert {parameter.feature for parameter in PARAMETERS if parameter.feature} == set(
        DEVELOPER_OUTPUTS
    )


def test_every_user_facing_message_reads_in_every_language_and_the_others_in_english():
    english_only = {"too_many", "not_a_query", "language_fallback"}
    for key, text in MESSAGES.items():
        for language in LANGUAGES[1:]:
            assert (translate(text, language) == text) == (key in english_only), (key, language)


@pytest.mark.parametrize("kind", sorted({e.kind for e in EXERCISES.values()} - {"repetition"}))
def test_every_kind_minGrade_does_not_apply_to_has_its_words(kind):
    assert f"min_grade_{kind}" in MESSAGES


# Defaults and input shapes


@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and p.name != "token"))
def test_an_absent_parameter_takes_the_tables_default(parameter):
    params = parse(endpoint_of(parameter))
    if parameter.field is None:
        assert params.page_settings()[parameter.name] == parameter.default
    else:
        assert getattr(params, parameter.field) == parameter.default
    assert params.warnings == () and params.blocked == ()


@pytest.mark.parametrize(
    "parameter",
    rows(
        lambda p: (
            p.status in ("same", "extended", "different")
            # a workout replaces the exercise: tests/engine/test_workouts.py reads it (and
            # workoutFrom, below)
            and p.kind not in ("token", "exercise", "uuid", "language", "workout", "set_position")
        )
    ),
)
def test_every_parameter_and_alias_reads_its_value_without_warning(parameter):
    spelling, value = readable(parameter)
    for name in (parameter.name, *parameter.aliases):
        needs = NEEDS.get(parameter.name, {})
        params = parse(endpoint_of(parameter), exercise="squat", **needs, **{name: spelling})
        assert params.warnings == ()
        if parameter.field:
            assert getattr(params, parameter.field) == value
        else:
            assert dict(params.passthrough) == {parameter.name: value}


@pytest.mark.parametrize(
    "query",
    [
        "token=tok&exercise=squat&keypoints=true",
        "?token=tok&exercise=squat&keypoints=true",
        b"token=tok&exercise=squat&keypoints=true",
        {"token": "tok", "exercise": "squat", "keypoints": "true"},
        {"token": ["tok"], "exercise": ["squat"], "keypoints": ["true"]},
        MultiValueDict({"token": ["tok"], "exercise": ["squat"], "keypoints": ["true"]}),
    ],
    ids=[
        "string",
        "string-with-question-mark",
        "bytes",
        "mapping",
        "mapping-of-lists",
        "querydict",
    ],
)
def test_every_query_shape_reads_the_same(query):
    params = parse_tracking_params(query)
    assert (params.token, params.exercise, params.keypoints) == ("tok", "squat", True)


def test_json_scalars_from_request_bodies_are_read_as_text():
    params = parse_tracking_params(
        {"token": "tok", "keypoints": True, "width": 640, "userHeightCm": 175.5, "reference": None}
    )
    assert (params.keypoints, params.width, params.user_height_cm) == (True, 640, 175.5)
    assert params.reference is None and params.warnings == ()


def test_a_query_of_the_wrong_type_is_invalid_not_a_crash():
    (problem,) = problems_of(42)
    assert (problem.code, problem.param) == ("invalid_parameter", "query")


def test_an_unknown_endpoint_is_a_programming_error():
    with pytest.raises(ValueError, match="endpoint"):
        parse_tracking_params("token=tok", endpoint="pixel")


def test_surrounding_whitespace_is_trimmed_from_values():
    assert parse(exercise=" squat ").exercise == "squat"
    assert parse_tracking_params({"token": " tok "}).token == "tok"


# Loose values: the default and a warning, never a refusal


@pytest.mark.parametrize("blank", ["", "   ", "undefined", "null", "NULL"])
@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and p.name != "token"))
def test_undefined_null_and_empty_values_get_the_default_and_a_warning(parameter, blank):
    params = sending(parameter, blank)
    assert [(w.code, w.param) for w in params.warnings] == [("blank_value", parameter.name)]
    assert params.passthrough == ()
    if parameter.field:
        assert getattr(params, parameter.field) == parameter.default


@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and not p.refusal))
def test_a_value_a_parameter_cannot_take_gets_its_default_and_a_warning(parameter):
    params = sending(parameter, UNREADABLE[parameter.kind])
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("invalid_value", parameter.name)
    assert parameter.name in warning.message
    if parameter.default is None:
        assert warning.message.endswith("It was ignored.")
    else:
        assert warning.message.endswith("is used instead.")
    if parameter.field:
        assert getattr(params, parameter.field) == parameter.default
    assert params.passthrough == ()
    assert params.page_settings() == parse(endpoint_of(parameter)).page_settings()


@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and not p.refusal))
def test_an_overlong_value_gets_the_default_and_a_warning(parameter):
    params = sending(parameter, "x" * (MAX_VALUE_CHARS + 1))
    (warning,) = params.warnings
    assert warning.code == "invalid_value" and "2048 characters" in warning.message


def test_values_that_are_not_text_get_the_default_and_a_warning():
    params = parse_tracking_params({"token": "tok", "keypoints": {"nested": "dict"}})
    assert params.keypoints is False
    assert [w.code for w in params.warnings] == ["invalid_value"]


@pytest.mark.parametrize(
    ("sent", "width"),
    [("392.72727272727275", 393), ("392.5", 393), ("392.49", 392), ("640", 640), ("6.4e2", 640)],
)
def test_fractional_sizes_are_rounded_as_javascript_rounds(sent, width):
    """PoseTracker's Expo example sends width=${Dimensions.width}."""
    params = parse(width=sent, height=sent)
    assert (params.width, params.height, params.warnings) == (width, width, ())


@pytest.mark.parametrize("bad", ["63", "4097", "-100", "abc", "６４０", "6_40", "nan", "1e999"])
def test_sizes_outside_64_to_4096_are_ignored_with_a_warning(bad):
    warning = only_warning(width=bad)
    assert warning.param == "width" and "64 to 4096" in warning.message
    assert parse(width=bad).width is None


@pytest.mark.parametrize(
    ("name", "field", "low", "high"),
    [("userHeightCm", "user_height_cm", 50, 250), ("devicePitchDeg", "device_pitch_deg", -90, 90)],
)
def test_height_and_pitch_are_finite_numbers_in_range(name, field, low, high):
    assert getattr(parse(**{name: str(low)}), field) == low
    assert getattr(parse(**{name: f"{high}.0"}), field) == high
    assert getattr(parse(**{name: "0.6e2"}), field) == 60.0
    for bad in [str(low - 1), str(high + 0.5), "nan", "inf", "-inf", "1e999", "12cm", "0x10"]:
        warning = only_warning(**{name: bad})
        assert (warning.code, warning.param) == ("invalid_value", name)
        assert getattr(parse(**{name: bad}), field) is None


@pytest.mark.parametrize(
    ("sent", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True)]
    + [("false", False), ("False", False), ("0", False), ("NO", False)],
)
@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and p.kind in ("boolean", "skeleton")))
def test_booleans_accept_true_false_1_0_yes_no_in_any_case(parameter, sent, value):
    params = sending(parameter, sent)
    if parameter.field:
        assert getattr(params, parameter.field) is value
    else:
        assert dict(params.passthrough) == {parameter.name: value}


@pytest.mark.parametrize("style", ["neon", "NEON", "default", "#4DD21D", "#fff"])
def test_skeleton_that_is_not_a_boolean_is_a_style_or_a_colour(style):
    assert parse(skeleton=style).skeleton == style


@pytest.mark.parametrize("preset", [REFERENCE, "brand_dark-2", "x" * 64, "#12345"])
def test_a_skeleton_preset_id_or_unknown_name_draws_the_default_look_with_a_warning(preset):
    params = parse(skeleton=preset)
    assert params.skeleton is True
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("invalid_value", "skeleton")
    assert warning.message.endswith("Its default (true) is used instead.")
    assert "green, blue, red, orange, white, dark, neon" in warning.message


@pytest.mark.parametrize(
    ("sent", "difficulty"),
    [
        ("easy", "easy"),
        ("Medium", "medium"),
        ("hard", "hard"),
        ("normal", "medium"),
        ("pro", "hard"),
    ],
)
def test_difficulty_accepts_easy_medium_hard_and_the_legacy_scale(sent, difficulty):
    assert parse(difficulty=sent).difficulty == difficulty


def test_a_choice_warning_lists_the_values():
    assert "easy, medium, hard" in only_warning(difficulty="insane").message
    assert "A, B, C, D" in only_warning(minGrade="E").message


def test_blazepose_without_a_model_means_the_full_model():
    assert parse(blazepose="true").mediapipe_model == "full"
    assert parse(blazepose="true", mediapipeModel="heavy").mediapipe_model == "heavy"
    assert parse(blazepose="true", mediapipeModel="gpu").mediapipe_model == "full"
    assert parse(blazepose="false").mediapipe_model == "lite"


def test_run_in_worker_defaults_to_false_and_is_the_path_asked_for():
    assert parse().run_in_worker is False
    assert parse(runInWorker="true").run_in_worker is True


@pytest.mark.parametrize(
    ("name", "sent", "language"),
    [
        ("language", "fr", "fr"),
        ("language", "FR", "fr"),
        ("language", "fr-FR", "fr"),
        ("locale", "fr_CA", "fr"),
        ("language", "en-GB", "en"),
        ("language", "es-MX", "es"),
        ("locale", "de_AT", "de"),
    ],
)
def test_language_and_its_locale_alias_accept_region_tags(name, sent, language):
    assert parse(**{name: sent}).language == language


def test_an_unavailable_language_falls_back_to_english_with_a_warning():
    warning = only_warning(language="it-IT")
    assert parse(language="it-IT").language == "en"
    assert (warning.code, warning.message) == (
        "language_unavailable",
        "language 'it-IT' is not available, using en",
    )


def test_a_parameter_repeated_with_different_values_takes_the_first_with_a_warning():
    params = parse_tracking_params("token=tok&exercise=squat&exercise=lunge")
    assert params.exercise == "squat"
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("repeated_parameter", "exercise")
    assert parse_tracking_params("token=tok&exercise=squat&exercise=squat").warnings == ()


def test_a_parameter_and_its_alias_with_different_values_take_the_first():
    params = parse_tracking_params("token=tok&isAndroid=true&android=false")
    assert params.is_android is True
    assert "isAndroid/android" in params.warnings[0].message


def test_long_values_are_cut_short_in_messages():
    assert len(only_warning(minGrade="Z" * 2000).message) < 200


# The contract's refusals


def test_missing_token_is_a_401_missing_token_error():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("exercise=squat")
    assert caught.value.status == 401
    assert caught.value.code == "missing_token"
    assert caught.value.problems[0].param == "token"


@pytest.mark.parametrize("blank", ["", "   ", "undefined", "null"])
def test_blank_token_is_missing_token(blank):
    (problem,) = problems_of({"token": blank})
    assert problem.code == "missing_token"


def test_token_with_other_problems_is_a_400():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("exercise=squat&reference=" + REFERENCE)
    assert caught.value.status == 400
    assert [p.code for p in caught.value.problems] == ["missing_token", "conflicting_parameters"]


def test_an_overlong_token_is_invalid():
    (problem,) = problems_of({"token": "t" * (MAX_VALUE_CHARS + 1)})
    assert (problem.code, problem.param) == ("invalid_parameter", "token")


@pytest.mark.parametrize("reference_name", ["reference", "reference_movement"])
def test_exercise_with_reference_is_an_error_naming_both(reference_name):
    problem = only_problem(exercise="squat", **{reference_name: REFERENCE})
    assert problem.code == "conflicting_parameters"
    assert problem.param == f"exercise,{reference_name}"
    assert problem.message.startswith(f"You cannot combine {reference_name} & exercise")


def test_user_exercise_names_a_reference_movement_on_the_live_page():
    """PoseTracker Studio's custom movements are reference movements here: same field, same
    checks (tracking_open), and the request keeps the name it used."""
    params = parse(userExercise=REFERENCE.upper())
    assert (params.reference, params.reference_param) == (uuid.UUID(REFERENCE), "userExercise")
    assert not params.pose_only and params.warnings == ()
    assert f"userExercise={REFERENCE}" in params.to_query()
    assert "reference=" not in params.to_query()
    assert parse(reference=REFERENCE).reference_param == "reference"


@pytest.mark.parametrize("other", ["exercise", "reference", "reference_movement"])
def test_user_exercise_with_another_movement_is_an_error_naming_both(other):
    value = "squat" if other == "exercise" else REFERENCE
    problem = only_problem(userExercise=REFERENCE, **{other: value})
    assert problem.code == "conflicting_parameters"
    assert set(problem.param.split(",")) == {other, "userExercise"}


def test_user_exercise_that_is_not_a_uuid_is_refused_like_a_reference():
    problem = only_problem(userExercise="my-curl")
    assert (problem.code, problem.param) == ("invalid_reference", "userExercise")


def test_user_exercise_is_not_read_by_the_upload_page():
    warning = only_warning("upload", userExercise=REFERENCE)
    assert (warning.code, warning.param) == ("other_endpoint", "userExercise")
    assert parse("upload", userExercise=REFERENCE).pose_only


@pytest.mark.parametrize("blank", ["", "undefined", "null"])
def test_a_blank_exercise_or_reference_is_none_and_conflicts_with_nothing(blank):
    params = parse(exercise="squat", reference=blank)
    assert (params.exercise, params.reference) == ("squat", None)
    pose_only = parse(exercise=blank)
    assert pose_only.pose_only
    assert [w.code for w in pose_only.warnings] == ["blank_value"]


def test_unknown_exercise_lists_every_valid_id_sorted():
    problem = only_problem(exercise="moonwalk")
    assert (problem.code, problem.param) == ("invalid_exercise", "exercise")
    assert "'moonwalk'" in problem.message and "did you mean" not in problem.message
    assert ", ".join(sorted(EXERCISES)) in problem.message


@pytest.mark.parametrize(
    ("sent", "suggestion"),
    [("sqaut", "squat"), ("squats", "squat"), ("pushup", "push_up"), ("face_sqat", "face_squat")],
)
def test_a_misspelt_exercise_is_refused_with_a_suggestion(sent, suggestion):
    problem = only_problem(exercise=sent)
    assert problem.code == "invalid_exercise"
    assert f"(did you mean {suggestion}?)" in problem.message


def test_french_suggests_in_french():
    (problem,) = problems_of({"token": "tok", "exercise": "squats", "language": "fr"})
    assert "(vouliez-vous dire squat ?)" in problem.message


def test_spanish_and_german_queries_are_answered_in_their_language():
    (spanish,) = problems_of({"token": "tok", "exercise": "squats", "language": "es"})
    assert spanish.message.startswith("Ejercicio desconocido 'squats' (¿querías decir squat?)")
    warning = only_warning(language="de", difficulty="brutal")
    assert warning.message.startswith("difficulty muss einer dieser Werte sein")


@pytest.mark.parametrize("value", ["squ\x00at", "a\nb", "\x1b[31m", "\ud800"])
def test_control_characters_in_an_exercise_are_invalid(value):
    problem = only_problem(exercise=value)
    assert (problem.code, problem.param) == ("invalid_parameter", "exercise")
    assert "control characters" in problem.message


def test_an_exercise_that_is_not_text_is_invalid():
    problem = only_problem(exercise={"nested": "dict"})
    assert (problem.code, problem.param) == ("invalid_parameter", "exercise")


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [*ALIASES.items(), ("SQUAT", "squat"), ("Push_Up", "push_up"), ("Face_Squat", "squat")],
)
def test_legacy_aliases_and_any_case_resolve_to_canonical_ids(sent, canonical):
    assert parse(exercise=sent).exercise == canonical


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_exercise_and_no_reference_is_pose_only_mode(endpoint):
    params = parse(endpoint)
    assert params.pose_only
    assert not parse(endpoint, exercise="squat").pose_only
    assert not parse(endpoint, reference=REFERENCE).pose_only


@pytest.mark.parametrize("reference_name", ["reference", "reference_movement"])
def test_reference_is_read_as_a_uuid_under_either_name(reference_name):
    params = parse(**{reference_name: REFERENCE.upper()})
    assert params.reference == uuid.UUID(REFERENCE)


@pytest.mark.parametrize("bad", ["not-a-uuid", "0f8fad5b", "{" + REFERENCE + "}", "１" * 32])
def test_reference_that_is_not_a_uuid_is_invalid_reference(bad):
    problem = only_problem(reference=bad)
    assert (problem.code, problem.param) == ("invalid_reference", "reference")


def test_jump_analysis_without_user_height_is_an_error():
    for query in ({}, {"userHeightCm": "undefined"}):
        problem = only_problem(exercise="jump_analysis", **query)
        assert (problem.code, problem.param) == ("jump_analysis_missing_height", "userHeightCm")
        assert problem.message == (
            "User height (userHeightCm) must be provided for jump_analysis exercise"
        )
    assert parse(exercise="jump_analysis", userHeightCm="180").user_height_cm == 180.0


def test_jump_analysis_with_an_unusable_height_reports_the_height():
    problem = only_problem(exercise="jump_analysis", userHeightCm="tall")
    assert (problem.code, problem.param) == ("jump_analysis_missing_height", "userHeightCm")
    assert problem.message == "userHeightCm must be a number from 50 to 250, got 'tall'."


def test_more_than_100_parameters_is_one_invalid_parameter_problem():
    within = {"token": "tok", **{f"extra{i}": "1" for i in range(MAX_PARAMETERS - 1)}}
    assert len(parse_tracking_params(within).warnings) == MAX_PARAMETERS - 1
    (problem,) = problems_of({**within, "one_too_many": "1"})
    assert (problem.code, problem.param) == ("invalid_parameter", "query")


def test_the_error_lists_every_problem_and_only_problems():
    query = f"token=&exercise=squatz&reference={REFERENCE}&minGrade=Z&width=5"
    error_problems = problems_of(query)
    assert [p.code for p in error_problems] == [
        "missing_token",
        "invalid_exercise",
        "conflicting_parameters",
    ]
    assert [p.param for p in error_problems] == ["token", "exercise", "exercise,reference"]


def test_the_error_event_carries_code_message_and_every_problem():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("exercise=jump_analysis")
    error = caught.value
    event = error.to_event()
    assert event["type"] == "error"
    assert event["code"] == event["error"] == "missing_token"
    assert event["message"] == error.message == str(error)
    assert error.message.count(".") >= 2  # one sentence per problem
    assert [p["code"] for p in event["details"]["problems"]] == [
        "missing_token",
        "jump_analysis_missing_height",
    ]
    assert set(event["details"]["problems"][0]) == {"code", "param", "message"}
    json.dumps(event)


def test_the_error_survives_pickling_for_background_tasks():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("exercise=squatz&token=t")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert (copy.problems, copy.message, copy.status) == (
        caught.value.problems,
        caught.value.message,
        400,
    )


def test_messages_are_in_french_when_the_query_asks_for_french():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("language=fr&exercise=jump_analysis")
    messages = [problem.message for problem in caught.value.problems]
    assert messages[0] == "Le paramètre token est obligatoire : envoyez token=VOTRE_CLE_API."
    assert "obligatoire pour l'exercice jump_analysis" in messages[1]
    assert caught.value.language == "fr"
    warnings = parse(locale="fr-FR", mingrade="A", minGrade="Z").warnings
    assert warnings[0].message.startswith("paramètre inconnu 'mingrade' ignoré")
    assert "doit être l'une de ces valeurs" in warnings[1].message
    assert warnings[1].message.endswith("Il a été ignoré.")


def test_messages_are_in_english_by_default():
    (problem,) = problems_of("exercise=squat")
    assert problem.message.startswith("The token parameter is required")


# minGrade applies to repetition exercises only (contract §2.3)


@pytest.mark.parametrize(
    ("endpoint", "query", "ignored_for"),
    [
        ("tracking", {"reference": REFERENCE}, "a reference movement"),
        ("tracking", {"exercise": "plank"}, "a hold (plank)"),
        ("tracking", {"exercise": "face_balance_leg"}, "a hold (balance_leg)"),
        ("tracking", {"exercise": "jump"}, "a jump (air_time_jump)"),
        ("upload", {"exercise": "squat", "source": "image"}, "a photo (source=image)"),
        ("tracking", {}, "pose tracking without an exercise"),
    ],
)
def test_min_grade_is_ignored_with_a_warning_where_it_cannot_apply(endpoint, query, ignored_for):
    params = parse(endpoint, minGrade="A", **query)
    assert params.min_grade is None
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("min_grade_ignored", "minGrade")
    assert warning.message.endswith(f"ignored for {ignored_for}")


@pytest.mark.parametrize(("sent", "grade"), [("A", "A"), ("b", "B"), ("C", "C"), ("d", "D")])
def test_min_grade_applies_to_repetition_exercises_in_any_case(sent, grade):
    for endpoint in ENDPOINTS:
        params = parse(endpoint, exercise="squat", minGrade=sent)
        assert (params.min_grade, params.warnings) == (grade, ())


# Parameters that are unknown, ignored, for the page or for the other page


def test_unknown_parameters_are_warnings_not_errors():
    assert [(w.code, w.message) for w in parse(utm_source="app", foo="1").warnings] == [
        ("unknown_parameter", "unknown parameter 'utm_source' ignored"),
        ("unknown_parameter", "unknown parameter 'foo' ignored"),
    ]


def test_a_misspelt_parameter_warning_suggests_the_right_name():
    warning = only_warning(mingrade="A")
    assert warning.message == "unknown parameter 'mingrade' ignored (did you mean 'minGrade'?)"


@pytest.mark.parametrize("parameter", rows(lambda p: p.status == "ignored"))
def test_ignored_parameters_are_dropped_with_their_reason(parameter):
    endpoint = endpoint_of(parameter)
    params = parse(endpoint, **{parameter.name: "true"})
    warning = only_warning(endpoint, **{parameter.name: "true"})
    assert (warning.code, warning.param) == ("ignored_parameter", parameter.name)
    assert warning.message.endswith(MESSAGES[f"reason_{parameter.reason}"])
    assert params.passthrough == () and parameter.name not in params.to_query()


@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and len(p.endpoints) == 1))
def test_a_parameter_of_the_other_page_is_dropped_with_a_warning(parameter):
    (other,) = set(ENDPOINTS) - set(parameter.endpoints)
    spelling, _ = readable(parameter)
    params = parse(other, **{parameter.name: spelling})
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("other_endpoint", parameter.name)
    assert dataclasses.replace(params, warnings=()) == parse(other)


@pytest.mark.parametrize("parameter", rows(lambda p: p.kept and p.field is None))
def test_page_parameters_reach_the_page_typed(parameter):
    spelling, value = readable(parameter)
    needs = NEEDS.get(parameter.name, {})
    params = parse(endpoint_of(parameter), **needs, **{parameter.name: spelling})
    assert dict(params.passthrough) == {parameter.name: value}
    assert params.page_settings()[parameter.name] == value
    assert params.to_config()["passthrough"][parameter.name] == value
    assert params.warnings == ()


@pytest.mark.parametrize(
    ("source", "sent", "fetched"),
    [("video", "imageSrc", "videoSrc"), ("image", "videoSrc", "imageSrc")],
)
def test_the_media_address_of_the_other_source_is_dropped_with_a_warning(source, sent, fetched):
    url = "https://cdn.example.com/a"
    params = parse("upload", source=source, **{sent: url})
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("media_for_other_source", sent)
    assert params.remote_media is None and sent not in params.to_query()
    assert parse("upload", source=source, **{fetched: url}).remote_media == (fetched, url)


def test_the_page_gets_every_page_parameter_with_its_default():
    settings_ = parse("upload", showUpload="false").to_config()["passthrough"]
    assert settings_ == {
        parameter.name: parameter.default
        for parameter in parameters_for("upload")
        if parameter.field is None
    } | {"showUpload": False}


# The warning event


def test_everything_ignored_is_one_warning_event_listing_the_parameters():
    params = parse(
        exercise="squat", width="392.7", height="undefined", timer="3", foo="1", minGrade="Z"
    )
    event = params.warning_event()
    assert event["type"] == "warning"
    assert event["code"] == event["error"] == "ignored_parameters"
    assert event["parameters"] == ["timer", "foo", "height", "minGrade"]
    problems = event["details"]["problems"]
    assert [p["code"] for p in problems] == [
        "ignored_parameter",
        "unknown_parameter",
        "blank_value",
        "invalid_value",
    ]
    assert event["message"] == " ".join(
        p["message"] if p["message"].endswith(".") else p["message"] + "." for p in problems
    )
    json.dumps(event)
    assert parse(exercise="squat").warning_event() is None


def test_the_warning_event_speaks_the_querys_language():
    event = parse(language="fr", foo="1", placement="1").warning_event()
    assert event["message"].startswith("paramètre inconnu 'foo' ignoré. le paramètre 'placement'")


# Plan gating

ALL_OUTPUTS = {name: "true" for name in ("keypoints", "angles", "recommendations", "progression")}


def test_free_plan_switches_off_and_lists_every_developer_output_it_lacks():
    params = parse("upload", exercise="squat", blazepose="true", export="true", **ALL_OUTPUTS)
    gated = params.gated_for(FREE)
    assert gated.blocked == tuple(sorted(DEVELOPER_OUTPUTS))
    assert not any(getattr(gated, output) for output in DEVELOPER_OUTPUTS)
    assert gated.mediapipe_model == "lite"
    assert gated.exercise == "squat"


@pytest.mark.parametrize("plan", [DEVELOPER, BUSINESS])
def test_developer_plans_keep_every_output(plan):
    params = parse("upload", exercise="squat", blazepose="true", export="true", **ALL_OUTPUTS)
    assert params.gated_for(plan) == params
    assert params.gated_for(plan).blocked_event() is None


def test_free_plan_keeps_keypoints_in_pose_only_mode():
    gated = parse(keypoints="true").gated_for(FREE)
    assert gated.keypoints is True and gated.blocked == ()


@pytest.mark.parametrize("mode", [{"exercise": "squat"}, {"reference": REFERENCE}])
def test_free_plan_blocks_keypoints_during_an_exercise_or_reference(mode):
    gated = parse(keypoints="true", **mode).gated_for(FREE)
    assert gated.keypoints is False and gated.blocked == ("keypoints",)


def test_free_plan_blocks_the_larger_models_however_they_are_asked_for():
    gated = parse(mediapipeModel="heavy").gated_for(FREE)
    assert (gated.mediapipe_model, gated.blocked) == ("lite", ("blazepose",))


def test_blocked_event_names_the_blocked_outputs():
    gated = parse(exercise="squat", keypoints="true", angles="true").gated_for(FREE)
    assert gated.blocked_event() == {
        "type": "error",
        "code": "developer_features_not_allowed",
        "error": "developer_features_not_allowed",
        "message": "You cannot use developer features on your current plan: angles, keypoints.",
        "details": {"blocked": ["angles", "keypoints"]},
    }
    french = parse(exercise="squat", angles="1", language="fr").gated_for(FREE)
    assert french.blocked_event()["message"].startswith("Vous ne pouvez pas utiliser")


def test_nothing_requested_means_nothing_blocked():
    gated = parse(exercise="squat").gated_for(FREE)
    assert gated.blocked == () and gated.blocked_event() is None


# Canonical query and page configuration


def test_to_config_is_json_ready_and_has_every_field():
    params = parse(reference=REFERENCE, loading_message="Un instant", foo="1")
    config = params.to_config()
    assert set(config) == {field.name for field in dataclasses.fields(TrackingParams)}
    assert config["reference"] == REFERENCE
    # Every page parameter of the live page: the one given, the others at their defaults.
    assert config["passthrough"] == {
        "loading_message": "Un instant",
        "reps": None,
        "duration": None,
        "voice": False,
        "sound": False,
    }
    assert config["warnings"] == [params.warnings[0].to_dict()]
    assert json.loads(json.dumps(config)) == config


def test_to_query_spells_out_a_canonical_query():
    params = parse(exercise="face_squat", locale="fr-FR", difficulty="pro", skeleton="#fff")
    query = params.to_query()
    assert "exercise=squat" in query and "language=fr" in query and "difficulty=hard" in query
    assert "skeleton=%23fff" in query
    assert parse_tracking_params(query) == params


# Properties

PARAMETER_NAMES = [
    spelling for parameter in PARAMETERS for spelling in (parameter.name, *parameter.aliases)
]
ANY_SCALAR = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["true", "0", "squat", "jump_analysis", REFERENCE, "A", "640", "nan", "fr", "undefined"]
    ),
    st.binary(max_size=10),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
)
ANY_VALUE = st.one_of(
    ANY_SCALAR,
    st.lists(ANY_SCALAR, max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
ANY_QUERY = st.one_of(
    st.text(),
    st.binary(),
    st.dictionaries(st.text(), st.text()),
    st.dictionaries(st.one_of(st.sampled_from(PARAMETER_NAMES), st.text()), ANY_VALUE),
    st.lists(st.tuples(st.sampled_from(PARAMETER_NAMES), st.text())).map(urlencode),
    st.none(),
    st.integers(),
)


@settings(max_examples=300, deadline=None)
@given(query=ANY_QUERY, endpoint=st.sampled_from(ENDPOINTS))
def test_any_query_gives_params_or_a_params_error_and_nothing_else(query, endpoint):
    try:
        outcome = parse_tracking_params(query, endpoint=endpoint)
    except ParamsError as error:
        outcome = error
    if isinstance(outcome, ParamsError):
        assert outcome.problems
        assert outcome.status in (400, 401)
        assert {p.code for p in outcome.problems} <= {
            "missing_token",
            "invalid_parameter",
            "invalid_exercise",
            "invalid_reference",
            "invalid_workout",
            "conflicting_parameters",
            "jump_analysis_missing_height",
        }
        json.dumps(outcome.to_event())
    else:
        assert isinstance(outcome, TrackingParams)
        json.dumps(outcome.to_config())
        if outcome.warnings:
            json.dumps(outcome.warning_event())


def booleans() -> st.SearchStrategy[str]:
    return st.sampled_from(["true", "false", "1", "0", "yes", "no", "TRUE", "No"])


def numbers(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_nan=False).map(repr) | st.integers(
        math.ceil(low), math.floor(high)
    ).map(str)


def valid_values(parameter) -> st.SearchStrategy[str]:
    """Any value the parameter takes, as an app would spell it (ignored ones: anything)."""
    if not parameter.kept:
        return st.text(max_size=10)
    if parameter.kind == "boolean":
        return booleans()
    if parameter.kind == "skeleton":
        looks = st.sampled_from(sorted(STYLES)) | st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True)
        return booleans() | looks
    if parameter.kind in ("integer", "number"):
        return numbers(parameter.low, parameter.high)
    if parameter.kind == "choice":
        return st.sampled_from([spelling for spelling, _ in parameter.choices]).map(
            lambda spelling: spelling.upper()
        )
    if parameter.kind == "language":
        return st.sampled_from(["en", "fr", "fr-FR", "EN", "de"])
    if parameter.kind == "url":
        return st.just("https://cdn.example.com/a.mp4")
    return st.text(min_size=1, max_size=10).filter(
        lambda text: (
            text.strip().isprintable() and text.strip().lower() not in {"", "undefined", "null"}
        )
    )


SETTABLE = [
    parameter
    for parameter in PARAMETERS
    if parameter.name not in ("token", "exercise", "reference", "userExercise", "workout")
]
WHAT_TO_TRACK = st.one_of(
    st.just({}),
    st.sampled_from([*EXERCISES, *ALIASES]).map(lambda name: {"exercise": name}),
    st.uuids().map(lambda ref: {"reference": str(ref)}),
    st.uuids().map(lambda ref: {"userExercise": str(ref)}),
    st.uuids().map(lambda workout: {"workout": str(workout)}),
    st.sampled_from(["squat:10x3,rest:30,plank:45s", "Face_Squat:8", "lunge:30sX2,rest:1m"]).map(
        lambda workout: {"workout": workout}
    ),
)


@st.composite
def valid_params(draw) -> TrackingParams:
    endpoint = draw(st.sampled_from(ENDPOINTS))
    token = draw(valid_values(BY_NAME["token"]))
    chosen = draw(st.sets(st.sampled_from(SETTABLE)))
    query = {"token": token, **draw(WHAT_TO_TRACK), "unknownExtra": "1"}
    query |= {parameter.name: draw(valid_values(parameter)) for parameter in chosen}
    if query.get("exercise") == "jump_analysis":
        query["userHeightCm"] = "180"
    return parse_tracking_params(query, endpoint=endpoint)


@settings(max_examples=300, deadline=None)
@given(params=valid_params(), plan=st.sampled_from([None, FREE, DEVELOPER]))
def test_to_query_round_trips_everything_but_warnings_and_gating(params, plan):
    """Round trip: parsing p.to_query() gives p back, except `warnings` (ignored parameters and
    values are not in the canonical query) and `blocked` (the record of gating, not part of the
    request). Re-reading it warns about nothing."""
    if plan is not None:
        params = params.gated_for(plan)
    reparsed = parse_tracking_params(params.to_query(), endpoint=params.endpoint)
    assert dataclasses.replace(reparsed, warnings=()) == dataclasses.replace(
        params, warnings=(), blocked=()
    )
    assert reparsed.warnings == ()
