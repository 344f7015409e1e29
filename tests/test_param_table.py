"""What the parameter table (tracking/param_table.py) drives besides the parser: the OpenAPI fields
of the endpoints that take tracking parameters, and docs/compatibility.md."""

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from tracking.management.commands import compatibility_doc
from tracking.param_table import BY_NAME, ENDPOINTS, PARAMETERS, parameters_for
from tracking.params import parse_tracking_params

# The REST bodies that take tracking parameters, and what they take besides.
BODIES = {
    "UploadCreateRequest": (("upload",), {"file", "callback_url"}),
    "TrackingLinkCreateRequest": (ENDPOINTS, {"endpoint"}),
}


@pytest.fixture(scope="module")
def schemas() -> dict:
    return SchemaGenerator().get_schema(public=True)["components"]["schemas"]


def enum_of(schemas: dict, field: dict) -> list[str] | None:
    """The values a field's schema allows, through the references drf-spectacular writes."""
    for ref in [field, *field.get("allOf", [])]:
        if "$ref" in ref:
            return schemas[ref["$ref"].rsplit("/", 1)[1]]["enum"]
    return field.get("enum")


def test_docs_compatibility_md_is_generated_from_the_table():
    call_command("compatibility_doc", "--check")


def test_a_stale_compatibility_md_is_caught_and_rewritten():
    text = compatibility_doc.DOC.read_text()
    stale = text.replace("| `minGrade` | choice |", "| `minGrade` | text |")
    assert stale != text
    assert compatibility_doc.updated(stale) == text


def test_every_parameter_of_the_table_has_a_line_in_the_doc():
    text = compatibility_doc.DOC.read_text()
    for parameter in PARAMETERS:
        assert f"\n| `{parameter.name}`" in text, parameter.name


@pytest.mark.parametrize("component", BODIES)
def test_the_api_documents_every_parameter_its_endpoints_read(schemas, component):
    endpoints, own = BODIES[component]
    read = {parameter.name for endpoint in endpoints for parameter in parameters_for(endpoint)}
    assert set(schemas[component]["properties"]) == read - {"token"} | own


@pytest.mark.parametrize("component", BODIES)
def test_every_value_the_api_lists_is_one_the_parser_reads(schemas, component):
    """The schema's choices are the parser's: difficulty's legacy normal and pro included."""
    endpoints, own = BODIES[component]
    for name, field in schemas[component]["properties"].items():
        enum = enum_of(schemas, field)
        if name in own or enum is None:
            continue
        parameter = BY_NAME[name]
        assert set(enum) == {*parameter.values, *parameter.legacy_spellings}, name
        endpoint = next(e for e in endpoints if e in parameter.endpoints)
        base = {"userHeightCm": "180"} if name == "exercise" else {"exercise": "squat"}
        for value in enum:
            params = parse_tracking_params({"token": "t", **base, name: value}, endpoint=endpoint)
            assert params.warnings == (), (name, value)
            if parameter.field:
                read = getattr(params, parameter.field)
            else:
                read = params.page_settings()[name]
            assert read == parameter.choice_map[value.lower()], (name, value)
