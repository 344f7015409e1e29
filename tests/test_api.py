import pytest

from accounts import services
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
