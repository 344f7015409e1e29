"""GET and DELETE /api/v1/results: secret keys only, filters, pages, one organisation's end users
only, and erasure (GDPR) that leaves another organisation's namesake alone."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import stored_result
from tests.support.clips import CURL_CLIP
from tracking.models import SessionResult
from tracking.results_api import ResultSerializer

pytestmark = pytest.mark.django_db

ATHLETE = "athlete-42"
DAY = datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def history(acme, globex):
    """Acme's athlete: three squat sessions on consecutive days and a curl session; another
    athlete of Acme's; Globex's own athlete-42, who is someone else."""
    squats = [
        stored_result(acme, ATHLETE, completed_at=DAY + datetime.timedelta(days=i))
        for i in range(3)
    ]
    curls = stored_result(
        acme,
        ATHLETE,
        clip=CURL_CLIP,
        exercise="bicep_curl",
        completed_at=DAY - datetime.timedelta(hours=1),
    )
    other = stored_result(acme, "athlete-43", completed_at=DAY)
    namesake = stored_result(globex, ATHLETE, completed_at=DAY)
    return {"squats": squats, "curls": curls, "other": other, "namesake": namesake}


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_end_users_results_come_newest_first_with_their_summaries(acme_api, history):
    body = acme_api.get("/api/v1/results", {"externalUserId": ATHLETE}).json()
    squats, curls = history["squats"], history["curls"]
    assert [row["id"] for row in body["results"]] == [
        str(r.pk) for r in (squats[2], squats[1], squats[0], curls)
    ]
    newest = body["results"][0]
    assert newest == squats[2].as_data() | {"completed_at": "2026-03-12T08:00:00Z"}
    assert newest["summary"]["type"] == "exercise_summary" and newest["counter"] == 4


def test_without_an_end_user_every_result_of_the_organisation_is_listed(acme_api, history):
    listed = set(ids(acme_api.get("/api/v1/results")))
    assert str(history["other"].pk) in listed and str(history["namesake"].pk) not in listed
    assert len(listed) == 5


def test_another_organisations_end_user_of_the_same_id_is_never_seen(globex_token, history):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {globex_token}")
    assert ids(client.get("/api/v1/results", {"externalUserId": ATHLETE})) == [
        str(history["namesake"].pk)
    ]


def test_exercise_and_time_filters(acme_api, history):
    squats = history["squats"]
    by_exercise = ids(acme_api.get("/api/v1/results", {"exercise": "bicep_curl"}))
    assert by_exercise == [str(history["curls"].pk)]
    # A legacy alias reads as its exercise, as on the pages.
    aliased = ids(
        acme_api.get("/api/v1/results", {"externalUserId": ATHLETE, "exercise": "side_squat"})
    )
    assert aliased == [str(r.pk) for r in reversed(squats)]
    # Dates are whole days (UTC), both ends included.
    days = ids(
        acme_api.get(
            "/api/v1/results",
            {
                "externalUserId": ATHLETE,
                "exercise": "squat",
                "from": "2026-03-11",
                "to": "2026-03-11",
            },
        )
    )
    assert days == [str(squats[1].pk)]
    # A date-time is exact; `to` is exclusive.
    moments = ids(
        acme_api.get(
            "/api/v1/results",
            {"exercise": "squat", "from": "2026-03-11T08:00:00Z", "to": "2026-03-12T08:00:00Z"},
        )
    )
    assert moments == [str(squats[1].pk)]


@pytest.mark.parametrize(
    ("query", "code", "param"),
    [
        ({"externalUserId": "jane@example.com"}, "invalid_parameter", "externalUserId"),
        ({"externalUserId": "x" * 129}, "invalid_parameter", "externalUserId"),
        ({"exercise": "squatz"}, "invalid_exercise", "exercise"),
        ({"from": "last week"}, "invalid_parameter", "from"),
        ({"to": "2026-02-30"}, "invalid_parameter", "to"),
        # The right shape, but the day after (or the time in UTC) is past what a date holds.
        ({"to": "9999-12-31"}, "invalid_parameter", "to"),
        ({"to": "9999-12-31T23:59:59-05:00"}, "invalid_parameter", "to"),
        ({"from": "0001-01-01T00:00:00+14:00"}, "invalid_parameter", "from"),
        ({"from": "2026-03-12", "to": "2026-03-11"}, "invalid_parameter", "from"),
    ],
)
def test_bad_filters_are_refused_with_the_parameter_named(acme_api, query, code, param):
    response = acme_api.get("/api/v1/results", query)
    assert response.status_code == 400
    body = response.json()
    assert (body["type"], body["code"]) == ("error", code)
    assert [p["param"] for p in body["details"]["problems"]] == [param]
    assert "jane@example.com" not in response.content.decode()


def test_a_filter_sent_twice_with_different_values_is_refused(acme_api, history):
    response = acme_api.get(f"/api/v1/results?externalUserId=athlete-43&externalUserId={ATHLETE}")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_parameter"
    assert error["details"]["problems"][0]["param"] == "externalUserId"
    same = acme_api.get(f"/api/v1/results?externalUserId={ATHLETE}&externalUserId={ATHLETE}")
    assert len(ids(same)) == 4


def test_results_come_in_pages(acme_api, history):
    first = acme_api.get("/api/v1/results", {"externalUserId": ATHLETE, "page_size": 3}).json()
    assert first["count"] == 4 and len(first["results"]) == 3 and first["next"]
    second = acme_api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [str(history["curls"].pk)]
    assert second["next"] is None


@pytest.mark.parametrize("method", ["get", "delete"])
def test_a_publishable_key_is_refused_403_and_no_key_401(
    api_client, acme_publishable_key, history, method
):
    query = "/api/v1/results?externalUserId=" + ATHLETE
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme_publishable_key}")
    refused = getattr(api_client, method)(query)
    assert refused.status_code == 403 and refused.json()["code"] == "secret_key_required"
    api_client.credentials()
    assert getattr(api_client, method)(query).status_code == 401
    assert SessionResult.objects.count() == 6


def test_delete_erases_one_end_user_and_no_one_else(acme_api, history):
    response = acme_api.delete(f"/api/v1/results?externalUserId={ATHLETE}")
    assert response.status_code == 200
    assert response.json() == {
        "external_user_id": ATHLETE,
        "results_deleted": 4,
        "uploads_deleted": 0,
        "links_deleted": 0,
    }
    assert ids(acme_api.get("/api/v1/results", {"externalUserId": ATHLETE})) == []
    left = set(SessionResult.objects.values_list("pk", flat=True))
    assert left == {history["other"].pk, history["namesake"].pk}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?externalUserId=",
        "?externalUserId=jane%40example.com",
        # Which one? A careless client joining ids must not erase the wrong person.
        f"?externalUserId=athlete-43&externalUserId={ATHLETE}",
    ],
)
def test_delete_names_exactly_one_valid_end_user(acme_api, history, query):
    response = acme_api.delete(f"/api/v1/results{query}")
    assert response.status_code == 400 and response.json()["code"] == "invalid_parameter"
    assert SessionResult.objects.count() == 6


def test_the_schema_describes_every_field_a_result_has(acme):
    schema = SchemaGenerator().get_schema(public=True)
    fields = set(schema["components"]["schemas"]["Result"]["properties"])
    result = stored_result(acme, ATHLETE, completed_at=timezone.now())
    assert fields == set(result.as_data()) == set(ResultSerializer().fields)
    assert "/api/v1/results" in schema["paths"]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
