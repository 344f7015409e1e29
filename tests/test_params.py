"""The shared tracking parameter parser: one test per rule, plus properties over any input.

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
from tracking.params import (
    MAX_PARAMETERS,
    MAX_VALUE_CHARS,
    ParamsError,
    Problem,
    TrackingParams,
    parse_tracking_params,
)

REFERENCE = "0f8fad5b-d9cb-469f-a165-70867728950e"


def parse(endpoint: str = "tracking", **query: str) -> TrackingParams:
    return parse_tracking_params({"token": "tok", **query}, endpoint=endpoint)


def problems_of(query, endpoint: str = "tracking") -> tuple[Problem, ...]:
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params(query, endpoint=endpoint)
    return caught.value.problems


def only_problem(endpoint: str = "tracking", **query: str) -> Problem:
    (problem,) = problems_of({"token": "tok", **query}, endpoint)
    return problem


# Defaults and input shapes


def test_a_token_alone_gives_the_documented_defaults():
    params = parse()
    assert params == TrackingParams(endpoint="tracking", token="tok")
    assert params.skeleton is True
    assert params.run_in_worker is True
    assert (params.pose_backend, params.mediapipe_model, params.inference) == (
        "webgl",
        "lite",
        "browser",
    )
    assert (params.difficulty, params.language, params.source) == ("medium", "en", "video")
    assert params.warnings == () and params.blocked == ()


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
    assert params.reference is None


def test_values_that_are_not_text_are_invalid():
    problem = only_problem(exercise={"nested": "dict"})
    assert (problem.code, problem.param) == ("invalid_parameter", "exercise")


def test_a_query_of_the_wrong_type_is_invalid_not_a_crash():
    (problem,) = problems_of(42)
    assert (problem.code, problem.param) == ("invalid_parameter", "query")


def test_an_unknown_endpoint_is_a_programming_error():
    with pytest.raises(ValueError, match="endpoint"):
        parse_tracking_params("token=tok", endpoint="pixel")


# token


def test_missing_token_is_a_401_missing_token_error():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("exercise=squat")
    assert caught.value.status == 401
    assert caught.value.code == "missing_token"
    assert caught.value.problems[0].param == "token"


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_token_is_missing_token(blank):
    (problem,) = problems_of({"token": blank})
    assert problem.code == "missing_token"


def test_token_with_other_problems_is_a_400():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("width=5")
    assert caught.value.status == 400
    assert caught.value.code == "missing_token"


def test_surrounding_whitespace_is_trimmed_from_values():
    assert parse(exercise=" squat ").exercise == "squat"
    assert parse_tracking_params({"token": " tok "}).token == "tok"


# exercise and reference


@pytest.mark.parametrize("reference_name", ["reference", "reference_movement"])
def test_exercise_with_reference_is_an_error_naming_both(reference_name):
    problem = only_problem(exercise="squat", **{reference_name: REFERENCE})
    assert problem.code == "conflicting_parameters"
    assert problem.param == f"exercise,{reference_name}"
    assert "exercise" in problem.message and reference_name in problem.message
    assert problem.message.startswith(f"You cannot combine {reference_name} & exercise")


def test_unknown_exercise_lists_every_valid_id_sorted():
    problem = only_problem(exercise="moonwalk")
    assert (problem.code, problem.param) == ("invalid_exercise", "exercise")
    assert "'moonwalk'" in problem.message
    assert ", ".join(sorted(EXERCISES)) in problem.message


def test_empty_exercise_is_an_unknown_exercise():
    assert only_problem(exercise="").code == "invalid_exercise"


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [*ALIASES.items(), ("SQUAT", "squat"), ("Push_Up", "push_up"), ("Face_Squat", "squat")],
)
def test_legacy_aliases_and_any_case_resolve_to_canonical_ids(sent, canonical):
    assert parse(exercise=sent).exercise == canonical


@pytest.mark.parametrize("endpoint", ["tracking", "upload"])
def test_no_exercise_and_no_reference_is_pose_only_mode(endpoint):
    params = parse(endpoint)
    assert params.pose_only
    assert (params.exercise, params.reference) == (None, None)
    assert not parse(endpoint, exercise="squat").pose_only
    assert not parse(endpoint, reference=REFERENCE).pose_only


@pytest.mark.parametrize("reference_name", ["reference", "reference_movement"])
def test_reference_is_read_as_a_uuid_under_either_name(reference_name):
    params = parse(**{reference_name: REFERENCE.upper()})
    assert params.reference == uuid.UUID(REFERENCE)


@pytest.mark.parametrize("bad", ["not-a-uuid", "", "0f8fad5b", "{" + REFERENCE + "}", "１" * 32])
def test_reference_that_is_not_a_uuid_is_invalid_reference(bad):
    problem = only_problem(reference=bad)
    assert (problem.code, problem.param) == ("invalid_reference", "reference")


def test_jump_analysis_without_user_height_is_an_error():
    problem = only_problem(exercise="jump_analysis")
    assert problem.code == "jump_analysis_missing_height"
    assert problem.param == "userHeightCm"
    assert problem.message == (
        "User height (userHeightCm) must be provided for jump_analysis exercise"
    )
    assert parse(exercise="jump_analysis", userHeightCm="180").user_height_cm == 180.0


def test_jump_analysis_with_an_invalid_height_reports_only_the_height():
    problem = only_problem(exercise="jump_analysis", userHeightCm="tall")
    assert (problem.code, problem.param) == ("invalid_parameter", "userHeightCm")


# Scalar parameters


@pytest.mark.parametrize(("sent", "grade"), [("A", "A"), ("b", "B"), ("C", "C"), ("d", "D")])
def test_min_grade_accepts_a_to_d_in_any_case(sent, grade):
    assert parse(minGrade=sent).min_grade == grade


@pytest.mark.parametrize("bad", ["E", "F", "f", "Z", "", "AB"])
def test_min_grade_outside_a_to_d_is_invalid(bad):
    problem = only_problem(minGrade=bad)
    assert (problem.code, problem.param) == ("invalid_parameter", "minGrade")
    assert "A, B, C, D" in problem.message


BOOLEAN_PARAMETERS = {
    "isAndroid": "is_android",
    "android": "is_android",
    "keypoints": "keypoints",
    "angles": "angles",
    "recommendations": "recommendations",
    "progression": "progression",
    "blazepose": "blazepose",
    "runInWorker": "run_in_worker",
}


@pytest.mark.parametrize("name", BOOLEAN_PARAMETERS)
@pytest.mark.parametrize(
    ("sent", "value"),
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True)]
    + [("false", False), ("False", False), ("0", False), ("NO", False)],
)
def test_booleans_accept_true_false_1_0_yes_no_in_any_case(name, sent, value):
    assert getattr(parse(**{name: sent}), BOOLEAN_PARAMETERS[name]) is value


@pytest.mark.parametrize("name", BOOLEAN_PARAMETERS)
@pytest.mark.parametrize("bad", ["", "on", "off", "2", "y", "truee", "vrai"])
def test_booleans_reject_everything_else_including_empty(name, bad):
    problem = only_problem(**{name: bad})
    assert (problem.code, problem.param) == ("invalid_parameter", name)
    assert name in problem.message


@pytest.mark.parametrize(("sent", "value"), [("true", True), ("0", False), ("no", False)])
def test_skeleton_is_a_boolean(sent, value):
    assert parse(skeleton=sent).skeleton is value


@pytest.mark.parametrize("style", ["neon", "#4DD21D", "brand_dark-2", REFERENCE, "x" * 64])
def test_skeleton_that_is_not_a_boolean_is_a_style_name(style):
    assert parse(skeleton=style).skeleton == style


@pytest.mark.parametrize("bad", ["", "x" * 65, "red blue", "<script>", "rgb(0,0,0)", "é"])
def test_skeleton_style_names_are_short_and_plain(bad):
    problem = only_problem(skeleton=bad)
    assert (problem.code, problem.param) == ("invalid_parameter", "skeleton")


@pytest.mark.parametrize("name", ["width", "height"])
def test_width_and_height_are_integers_from_64_to_4096(name):
    assert getattr(parse(**{name: "64"}), name) == 64
    assert getattr(parse(**{name: "4096"}), name) == 4096
    for bad in ["63", "4097", "-100", "640.0", "abc", "", "６４０", "6_40"]:
        problem = only_problem(**{name: bad})
        assert (problem.code, problem.param) == ("invalid_parameter", name)
        assert "64 to 4096" in problem.message


@pytest.mark.parametrize(
    ("name", "field", "accepted", "choices"),
    [
        ("poseBackend", "pose_backend", ["webgl", "WASM"], "webgl, wasm"),
        ("mediapipeModel", "mediapipe_model", ["lite", "Full", "heavy"], "lite, full, heavy"),
        ("inference", "inference", ["browser", "server"], "browser, server"),
    ],
)
def test_enumerated_parameters_accept_only_their_values(name, field, accepted, choices):
    for sent in accepted:
        assert getattr(parse(**{name: sent}), field) == sent.lower()
    problem = only_problem(**{name: "gpu"})
    assert (problem.code, problem.param) == ("invalid_parameter", name)
    assert choices in problem.message


def test_blazepose_without_a_model_means_the_full_model():
    assert parse(blazepose="true").mediapipe_model == "full"
    assert parse(blazepose="true", mediapipeModel="heavy").mediapipe_model == "heavy"
    assert parse(blazepose="false").mediapipe_model == "lite"


@pytest.mark.parametrize(
    ("name", "field", "low", "high"),
    [("userHeightCm", "user_height_cm", 50, 250), ("devicePitchDeg", "device_pitch_deg", -90, 90)],
)
def test_height_and_pitch_are_finite_numbers_in_range(name, field, low, high):
    assert getattr(parse(**{name: str(low)}), field) == low
    assert getattr(parse(**{name: f"{high}.0"}), field) == high
    assert getattr(parse(**{name: "0.6e2"}), field) == 60.0
    for bad in [str(low - 1), str(high + 0.5), "nan", "inf", "-inf", "1e999", "", "12cm", "0x10"]:
        problem = only_problem(**{name: bad})
        assert (problem.code, problem.param) == ("invalid_parameter", name)


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


def test_unknown_difficulty_is_invalid():
    problem = only_problem(difficulty="insane")
    assert problem.param == "difficulty" and "easy, medium, hard" in problem.message


@pytest.mark.parametrize(
    ("name", "sent", "language"),
    [
        ("language", "fr", "fr"),
        ("language", "FR", "fr"),
        ("language", "fr-FR", "fr"),
        ("locale", "fr_CA", "fr"),
        ("language", "en-GB", "en"),
    ],
)
def test_language_and_its_locale_alias_accept_region_tags(name, sent, language):
    assert parse(**{name: sent}).language == language


def test_an_unavailable_language_falls_back_to_english_with_a_warning():
    params = parse(language="de-DE")
    assert params.language == "en"
    assert params.warnings == ("language 'de-DE' is not available, using en",)


def test_a_malformed_language_is_invalid():
    problem = only_problem(locale="français")
    assert (problem.code, problem.param) == ("invalid_parameter", "locale")


# Upload-only parameters


def test_source_and_export_apply_to_uploads():
    params = parse("upload", source="IMAGE", export="true")
    assert (params.source, params.export) == ("image", True)
    problem = only_problem("upload", source="gif")
    assert (problem.code, problem.param) == ("invalid_parameter", "source")
    assert "video, image" in problem.message


def test_upload_only_parameters_on_live_tracking_are_warnings():
    params = parse(source="image", export="maybe", showUpload="true")
    assert (params.source, params.export, params.passthrough) == ("video", False, ())
    assert params.warnings == (
        "parameter 'source' only applies to upload_tracking and was ignored",
        "parameter 'export' only applies to upload_tracking and was ignored",
        "parameter 'showUpload' only applies to upload_tracking and was ignored",
    )


# Known, unknown and unsupported parameters


def test_known_appearance_parameters_pass_through_without_warning():
    query = {
        "postureBox": "true",
        "placementOverlay": "true",
        "placementZoneColor": "#19221f",
        "timer": "3",
        "silhouette": "false",
        "loading_message": "Chargement…",
        "isMobile": "true",
        "engine": "v4",
    }
    params = parse(**query)
    assert params.warnings == ()
    assert params.passthrough == tuple(sorted(query.items()))


def test_upload_appearance_parameters_pass_through_on_uploads():
    params = parse("upload", showUpload="false", objectFit="cover")
    assert params.warnings == ()
    assert dict(params.passthrough) == {"showUpload": "false", "objectFit": "cover"}


@pytest.mark.parametrize("name", ["videoSrc", "imageSrc", "placementOverlayImageUrl"])
def test_addresses_a_page_loads_must_be_web_addresses(name):
    assert dict(parse("upload", **{name: "https://cdn.example.com/a.mp4"}).passthrough) == {
        name: "https://cdn.example.com/a.mp4"
    }
    problem = only_problem("upload", **{name: "javascript:alert(1)"})
    assert (problem.code, problem.param) == ("invalid_parameter", name)


def test_unknown_parameters_are_warnings_not_errors():
    params = parse(utm_source="app", foo="1")
    assert params.warnings == (
        "unknown parameter 'utm_source' ignored",
        "unknown parameter 'foo' ignored",
    )


def test_a_misspelt_parameter_warning_suggests_the_right_name():
    (warning,) = parse(mingrade="A").warnings
    assert warning == "unknown parameter 'mingrade' ignored (did you mean 'minGrade'?)"


def test_studio_custom_movements_are_warned_as_unsupported():
    (warning,) = parse(userExercise=REFERENCE).warnings
    assert warning == "parameter 'userExercise' is not supported by FormTrack and was ignored"


# Repetition and size limits


def test_a_parameter_repeated_with_the_same_value_is_fine():
    assert parse_tracking_params("token=tok&exercise=squat&exercise=squat").exercise == "squat"


def test_a_parameter_repeated_with_different_values_is_invalid():
    (problem,) = problems_of("token=tok&exercise=squat&exercise=lunge")
    assert (problem.code, problem.param) == ("invalid_parameter", "exercise")
    assert "more than once" in problem.message


def test_a_parameter_and_its_alias_with_different_values_are_invalid():
    (problem,) = problems_of("token=tok&isAndroid=true&android=false")
    assert problem.code == "invalid_parameter"
    assert "isAndroid/android" in problem.message


def test_a_value_over_2048_characters_is_invalid():
    assert parse(loading_message="x" * MAX_VALUE_CHARS).passthrough
    problem = only_problem(loading_message="x" * (MAX_VALUE_CHARS + 1))
    assert (problem.code, problem.param) == ("invalid_parameter", "loading_message")
    (token_problem,) = problems_of({"token": "t" * (MAX_VALUE_CHARS + 1)})
    assert token_problem.code == "invalid_parameter"


def test_more_than_100_parameters_is_one_invalid_parameter_problem():
    within = {"token": "tok", **{f"extra{i}": "1" for i in range(MAX_PARAMETERS - 1)}}
    assert len(parse_tracking_params(within).warnings) == MAX_PARAMETERS - 1
    (problem,) = problems_of({**within, "one_too_many": "1"})
    assert (problem.code, problem.param) == ("invalid_parameter", "query")
    assert "100" in problem.message


@pytest.mark.parametrize("value", ["squ\x00at", "a\nb", "\x1b[31m", "\ud800"])
def test_control_characters_in_a_value_are_invalid(value):
    problem = only_problem(exercise=value)
    assert (problem.code, problem.param) == ("invalid_parameter", "exercise")
    assert "control characters" in problem.message


def test_long_values_are_cut_short_in_messages():
    problem = only_problem(minGrade="Z" * 2000)
    assert len(problem.message) < 200


# The error


def test_the_error_lists_every_problem():
    query = f"token=tok&exercise=squat&reference={REFERENCE}&minGrade=Z&width=5"
    error_problems = problems_of(query)
    assert [p.code for p in error_problems] == [
        "conflicting_parameters",
        "invalid_parameter",
        "invalid_parameter",
    ]
    assert [p.param for p in error_problems] == ["exercise,reference", "minGrade", "width"]
    assert "exercise" in error_problems[0].message and "reference" in error_problems[0].message


def test_the_error_event_carries_code_message_and_every_problem():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("exercise=jump_analysis&minGrade=Z")
    error = caught.value
    event = error.to_event()
    assert event["type"] == "error"
    assert event["code"] == event["error"] == "missing_token"
    assert event["message"] == error.message == str(error)
    assert error.message.count(".") >= 3  # one sentence per problem
    assert [p["code"] for p in event["details"]["problems"]] == [
        "missing_token",
        "jump_analysis_missing_height",
        "invalid_parameter",
    ]
    assert set(event["details"]["problems"][0]) == {"code", "param", "message"}
    json.dumps(event)


def test_the_error_survives_pickling_for_background_tasks():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("width=5")
    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert (copy.problems, copy.message, copy.status) == (
        caught.value.problems,
        caught.value.message,
        400,
    )


def test_messages_are_in_french_when_the_query_asks_for_french():
    with pytest.raises(ParamsError) as caught:
        parse_tracking_params("language=fr&exercise=jump_analysis&minGrade=Z")
    messages = [problem.message for problem in caught.value.problems]
    assert messages[0] == "Le paramètre token est obligatoire : envoyez token=VOTRE_CLE_API."
    assert "obligatoire pour l'exercice jump_analysis" in messages[1]
    assert "doit être l'une de ces valeurs" in messages[2]
    assert caught.value.language == "fr"
    (warning,) = parse(locale="fr-FR", mingrade="A").warnings
    assert warning.startswith("paramètre inconnu 'mingrade' ignoré")


def test_messages_are_in_english_by_default():
    (problem,) = problems_of("exercise=squat")
    assert problem.message.startswith("The token parameter is required")


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
    params = parse(reference=REFERENCE, timer="3", foo="1")
    config = params.to_config()
    assert set(config) == {field.name for field in dataclasses.fields(TrackingParams)}
    assert config["reference"] == REFERENCE
    assert config["passthrough"] == {"timer": "3"}
    assert json.loads(json.dumps(config)) == config


def test_to_query_spells_out_a_canonical_query():
    params = parse(exercise="face_squat", locale="fr-FR", difficulty="pro", skeleton="#fff")
    query = params.to_query()
    assert "exercise=squat" in query and "language=fr" in query and "difficulty=hard" in query
    assert "skeleton=%23fff" in query
    assert parse_tracking_params(query) == params


# Properties

PARAMETER_NAMES = [
    *BOOLEAN_PARAMETERS,
    "token",
    "exercise",
    "reference",
    "reference_movement",
    "minGrade",
    "skeleton",
    "poseBackend",
    "mediapipeModel",
    "inference",
    "width",
    "height",
    "userHeightCm",
    "devicePitchDeg",
    "difficulty",
    "language",
    "locale",
    "source",
    "export",
    "timer",
    "videoSrc",
    "userExercise",
]
ANY_SCALAR = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["true", "0", "squat", "jump_analysis", REFERENCE, "A", "640", "nan", "fr"]),
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
@given(query=ANY_QUERY, endpoint=st.sampled_from(["tracking", "upload"]))
def test_any_query_gives_params_or_a_params_error_and_nothing_else(query, endpoint):
    try:
        outcome = parse_tracking_params(query, endpoint=endpoint)
    except ParamsError as error:
        outcome = error
    if isinstance(outcome, ParamsError):
        assert outcome.problems
        assert outcome.status in (400, 401)
        json.dumps(outcome.to_event())
    else:
        assert isinstance(outcome, TrackingParams)
        json.dumps(outcome.to_config())


def booleans() -> st.SearchStrategy[str]:
    return st.sampled_from(["true", "false", "1", "0", "yes", "no", "TRUE", "No"])


def numbers(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_nan=False).map(repr) | st.integers(
        math.ceil(low), math.floor(high)
    ).map(str)


VALID_VALUES = {
    "isAndroid": booleans(),
    "minGrade": st.sampled_from("ABCDabcd"),
    "skeleton": booleans() | st.from_regex(r"[A-Za-z0-9_#-]{1,64}", fullmatch=True),
    "keypoints": booleans(),
    "angles": booleans(),
    "recommendations": booleans(),
    "progression": booleans(),
    "blazepose": booleans(),
    "poseBackend": st.sampled_from(["webgl", "wasm", "WASM"]),
    "runInWorker": booleans(),
    "mediapipeModel": st.sampled_from(["lite", "full", "heavy"]),
    "inference": st.sampled_from(["browser", "server"]),
    "width": st.integers(64, 4096).map(str),
    "height": st.integers(64, 4096).map(str),
    "userHeightCm": numbers(50, 250),
    "devicePitchDeg": numbers(-90, 90),
    "difficulty": st.sampled_from(["easy", "medium", "hard", "normal", "pro"]),
    "language": st.sampled_from(["en", "fr", "fr-FR", "EN", "de"]),
    "source": st.sampled_from(["video", "image"]),
    "export": booleans(),
    "timer": st.text(max_size=10).filter(lambda text: text.isprintable()),
    "postureBox": booleans(),
    "unknownExtra": st.text(max_size=10),
}
WHAT_TO_TRACK = st.one_of(
    st.just({}),
    st.sampled_from([*EXERCISES, *ALIASES]).map(lambda name: {"exercise": name}),
    st.uuids().map(lambda ref: {"reference": str(ref)}),
)


@st.composite
def valid_params(draw) -> TrackingParams:
    endpoint = draw(st.sampled_from(["tracking", "upload"]))
    token = draw(
        st.text(min_size=1, max_size=40).filter(
            lambda text: text.strip().isprintable() and text.strip()
        )
    )
    names = draw(st.sets(st.sampled_from(sorted(VALID_VALUES))))
    query = {"token": token, **draw(WHAT_TO_TRACK)}
    query |= {name: draw(VALID_VALUES[name]) for name in names}
    if query.get("exercise") == "jump_analysis":
        query["userHeightCm"] = "180"
    return parse_tracking_params(query, endpoint=endpoint)


@settings(max_examples=300, deadline=None)
@given(params=valid_params(), plan=st.sampled_from([None, FREE, DEVELOPER]))
def test_to_query_round_trips_everything_but_warnings_and_gating(params, plan):
    """Round trip: parsing p.to_query() gives p back, except `warnings` (ignored parameters are not
    in the canonical query) and `blocked` (the record of gating, not part of the request)."""
    if plan is not None:
        params = params.gated_for(plan)
    reparsed = parse_tracking_params(params.to_query(), endpoint=params.endpoint)
    assert reparsed == dataclasses.replace(params, warnings=(), blocked=())
