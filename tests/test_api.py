import json
import re

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import services
from config.errors import FormTrackError
from tracking.engine.catalog import EXERCISES

pytestmark = pytest.mark.django_db


def test_exercises_lists_the_catalog_with_kind_and_view(acme_api):
    response = acme_api.get("/api/v1/exercises")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert set(rows) == set(EXERCISES)
    assert rows["squat"]["kind"] == "repetition" and "face_squat" in rows["squat"]["aliases"]
    assert rows["plank"]["kind"] == "duration"
    assert rows["jump_analysis"]["kind"] == "jump"
    assert rows["push_up"]["view"] in {"front", "side", "either"}


def test_me_reports_org_plan_and_quota(acme_api, acme, acme_token):
    services.usage_take_call(
        token=services.token_authenticate(acme_token), exercise="squat", kind="live"
    )
    body = acme_api.get("/api/v1/me").json()
    assert body["organization"]["name"] == "Acme"
    assert body["plan"]["id"] == "developer" and "keypoints" in body["plan"]["features"]
    assert body["quota"] == {"limit": 5000, "used": 1, "left": 4999}
    assert body["token"]["prefix"] == acme_token[:16]


def test_token_in_the_query_string_also_authenticates(api_client, globex_token):
    response = api_client.get("/api/v1/me", {"token": globex_token})
    assert response.status_code == 200
    assert response.json()["plan"]["id"] == "free"


def test_missing_token_is_a_401_json_error(api_client):
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "error" and body["code"] == "missing_token" and body["message"]


@pytest.mark.parametrize("header", ["Bearer ft_live_wrong", "Token abc", "Bearer"])
def test_bad_token_is_a_401_json_error(api_client, header):
    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_revoked_token_is_refused_by_the_api(acme_api, acme_token):
    services.token_revoke(token=services.token_authenticate(acme_token))
    assert acme_api.get("/api/v1/me").status_code == 401


def test_openapi_schema_and_swagger_ui_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/exercises" in schema.content and b"bearer" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def untyped_objects(node, path="#"):
    """Where a schema says only "an object": Swagger shows such a value as additionalProp1…"""
    if isinstance(node, dict):
        if node.get("type") == "object" and (
            "additionalProperties" in node or "properties" not in node
        ):
            yield path
        for key, value in node.items():
            yield from untyped_objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from untyped_objects(value, f"{path}/{index}")


def test_every_schema_of_the_api_is_typed(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert list(untyped_objects(schema)) == []
    event = schema["components"]["schemas"]["Event"]
    assert (
        event["properties"]["type"]["type"] == "string"
        and "/api/docs/events/" in (event["description"])
    )
    results = schema["components"]["schemas"]["EventPage"]["properties"]["results"]
    assert results["items"] == {"$ref": "#/components/schemas/Event"}


def test_the_api_docs_lead_to_the_tracking_page_events(client):
    description = client.get("/api/schema/", {"format": "json"}).json()["info"]["description"]
    links = dict(re.findall(r"\[([^\]]+)\]\(([^)]+)\)", description))
    events = links["every event type, when it is sent, and examples"]
    assert events == "/api/docs/events/"
    for href in links.values():
        assert client.get(href).status_code == 200, href
    html = client.get(events).content.decode()
    assert '<h1 id="tracking-page-events">Tracking page events</h1>' in html
    for event_type in ("posture", "counter", "form_score", "exercise_summary", "warning"):
        assert f'<h2 id="{event_type}' in html, event_type
    # Links between the documents lead to their pages, and to their headings.
    assert 'href="/api/docs/integration/"' in html and 'href="#form-checks"' in html
    assert '<h2 id="form-checks">' in html


def test_admin_registers_every_model(admin_client):
    for path in (
        "organization",
        "membership",
        "apitoken",
        "monthlyusage",
        "usagerecord",
    ):
        assert admin_client.get(f"/admin/accounts/{path}/").status_code == 200


def test_unknown_api_urls_answer_json_404(api_client):
    response = api_client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


class Teapot(FormTrackError):
    """An error no part of the API knows about."""


class TeapotView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise Teapot("teapot", "This server brews tea only.", 418, retry_after=5, brews=["tea"])


def test_any_formtrack_error_raised_in_a_view_answers_its_status_and_its_event():
    response = TeapotView.as_view()(APIRequestFactory().get("/api/v1/coffee"))
    assert response.status_code == 418
    assert json.loads(response.content) == {
        "type": "error",
        "code": "teapot",
        "error": "teapot",
        "message": "This server brews tea only.",
        "details": {"brews": ["tea"]},
        "retryAfter": 5,
    }
    assert response["Retry-After"] == "5"
