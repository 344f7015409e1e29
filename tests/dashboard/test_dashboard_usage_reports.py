"""Usage reports: the REST endpoint, the dashboard page and the CSV give exactly the usage rows.

A month of UsageRecords is seeded for Initech (business) across days, tokens, members, exercises
and kinds (tests/dashboard/conftest.py); every group's sums must equal the rows'.
"""

import csv
import datetime
import io
import re
from collections import defaultdict

import pytest
from rest_framework.test import APIClient

from accounts.models import UsageRecord
from tests.dashboard.conftest import SEED_MONTH
from tests.factories import make_token

pytestmark = pytest.mark.django_db

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def api(raw_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    return client


def expected(rows, key) -> dict:
    sums = defaultdict(lambda: [0, 0.0])
    for row in rows:
        k = key(row)
        sums[k][0] += row.calls
        sums[k][1] += row.seconds_tracked
    return {k: (calls, round(seconds, 3)) for k, (calls, seconds) in sums.items()}


GROUP_KEYS = {
    "day": lambda r: r.day.isoformat(),
    "token": lambda r: str(r.token_id) if r.token_id else "",
    "member": lambda r: str(r.token.created_by_id) if r.token_id else "",
    "exercise": lambda r: r.exercise,
    "kind": lambda r: r.kind,
}


@pytest.mark.parametrize("group_by", list(GROUP_KEYS))
def test_api_rows_equal_the_usage_rows_for_every_group(seeded_usage, initech_token, group_by):
    response = api(initech_token).get("/api/v1/usage", {**MARCH, "group_by": group_by})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["report"] == "full" and body["group_by"] == group_by
    assert (body["from"], body["to"]) == ("2026-03-01", "2026-03-31")
    got = {
        row["key"]: (row["calls"], row["seconds_tracked"])
        for row in body["rows"]
        if row["calls"] or row["seconds_tracked"]
    }
    assert got == expected(seeded_usage["rows"], GROUP_KEYS[group_by])
    rows = seeded_usage["rows"]
    assert body["totals"]["calls"] == sum(r.calls for r in rows) == 48
    assert body["totals"]["seconds_tracked"] == round(sum(r.seconds_tracked for r in rows), 3)
    assert sum(row["calls"] for row in body["rows"]) == body["totals"]["calls"]
    assert body["totals"]["active_days"] == len({r.day for r in rows})


def test_api_day_rows_cover_every_day_of_the_range(seeded_usage, initech_token):
    body = api(initech_token).get("/api/v1/usage", MARCH).json()
    assert [row["key"] for row in body["rows"]] == [
        (SEED_MONTH + datetime.timedelta(days=i)).isoformat() for i in range(31)
    ]
    assert body["rows"][0] == {
        "key": "2026-03-01",
        "label": "2026-03-01",
        "calls": 15,
        "seconds_tracked": 395.5,
        "minutes_tracked": 6.59,
    }
    assert body["rows"][2]["calls"] == 0


def test_api_labels_tokens_members_and_exercises(seeded_usage, initech_token):
    client = api(initech_token)
    tokens = {
        r["label"]: r
        for r in client.get("/api/v1/usage", {**MARCH, "group_by": "token"}).json()["rows"]
    }
    assert set(tokens) == {"Web", "iOS", "Deleted token"}
    assert tokens["Web"]["token_prefix"] == seeded_usage["web"].prefix
    assert tokens["Web"]["calls"] == 12 + 3 + 5 + 9
    members = {
        r["label"]: r["calls"]
        for r in client.get("/api/v1/usage", {**MARCH, "group_by": "member"}).json()["rows"]
    }
    assert members == {
        "bill@initech.test": 29,
        "carol@initech.test": 13,
        "No member (token without creator)": 6,
    }
    exercises = {
        r["key"]: r["label"]
        for r in client.get("/api/v1/usage", {**MARCH, "group_by": "exercise"}).json()["rows"]
    }
    assert exercises["squat"] == "Squat" and exercises[""] == "Reference movement / none"


def test_api_never_counts_another_organisation(seeded_usage, initech_token, acme, acme_token):
    UsageRecord.objects.create(
        organization=acme, exercise="squat", kind="live", day=SEED_MONTH, calls=777
    )
    body = api(initech_token).get("/api/v1/usage", MARCH).json()
    assert body["totals"]["calls"] == 48
    acme_body = api(acme_token).get("/api/v1/usage", MARCH).json()
    assert acme_body["totals"]["calls"] == 777
    assert acme_body["organization"]["name"] == "Acme"


@pytest.mark.parametrize("group_by", ["token", "member", "exercise", "kind"])
def test_developer_and_free_plans_get_403_for_the_team_report(acme_token, globex_token, group_by):
    for raw in (acme_token, globex_token):
        response = api(raw).get("/api/v1/usage", {"group_by": group_by})
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "team_reports_not_allowed" and body["type"] == "error"
        assert "Business" in body["message"]


def test_developer_plan_gets_the_summary(acme, acme_token):
    UsageRecord.objects.create(
        organization=acme, exercise="squat", kind="live", day=SEED_MONTH, calls=3
    )
    body = api(acme_token).get("/api/v1/usage", MARCH).json()
    assert body["report"] == "summary" and body["available_group_by"] == ["day"]
    assert body["totals"]["calls"] == 3


@pytest.mark.parametrize(
    ("query", "param", "fragment"),
    [
        ({"from": "2026-13-01"}, "from", "YYYY-MM-DD"),
        ({"from": "yesterday"}, "from", "YYYY-MM-DD"),
        ({"from": "2026-03-01", "to": "31/03/2026"}, "to", "YYYY-MM-DD"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "from", "must not be after"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to", "at most 366 days"),
        ({"group_by": "week"}, "group_by", "day, token, member, exercise, kind"),
    ],
)
def test_api_rejects_bad_ranges_with_clear_400s(initech_token, query, param, fragment):
    response = api(initech_token).get("/api/v1/usage", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter" and body["param"] == param
    assert fragment in body["message"]


def test_api_accepts_exactly_366_days(initech_token):
    response = api(initech_token).get("/api/v1/usage", {"from": "2024-01-01", "to": "2024-12-31"})
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 366


def test_api_defaults_to_this_month_so_far(initech_token):
    body = api(initech_token).get("/api/v1/usage").json()
    today = datetime.date.today()
    assert body["from"] == today.replace(day=1).isoformat()
    assert body["to"] == today.isoformat()


def test_api_needs_a_token(api_client, initech):
    response = api_client.get("/api/v1/usage")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("group_by", list(GROUP_KEYS))
def test_csv_rows_equal_the_api_rows(seeded_usage, initech_token, bill_client, group_by):
    api_rows = (
        api(initech_token).get("/api/v1/usage", {**MARCH, "group_by": group_by}).json()["rows"]
    )
    rows = read_csv(bill_client.get("/dashboard/usage.csv", {**MARCH, "group_by": group_by}))
    assert [(r["key"], r["label"], int(r["calls"])) for r in rows] == [
        (r["key"], r["label"], r["calls"]) for r in api_rows
    ]
    assert [float(r["seconds_tracked"]) for r in rows] == [r["seconds_tracked"] for r in api_rows]
    got = {
        r["key"]: (int(r["calls"]), float(r["seconds_tracked"])) for r in rows if int(r["calls"])
    }
    assert got == expected(seeded_usage["rows"], GROUP_KEYS[group_by])


def test_csv_defuses_spreadsheet_formulas(initech, bill, bill_client):
    raw = make_token(initech, name="=HYPERLINK(1)", created_by=bill)
    from accounts.services import token_authenticate

    token = token_authenticate(raw)
    UsageRecord.objects.create(
        organization=initech, token=token, exercise="squat", kind="live", day=SEED_MONTH, calls=1
    )
    rows = read_csv(bill_client.get("/dashboard/usage.csv", {**MARCH, "group_by": "token"}))
    assert rows[0]["label"] == "'=HYPERLINK(1)"


def test_csv_of_the_team_report_is_403_below_business(owner_client, member_client):
    for client in (owner_client, member_client):
        assert client.get("/dashboard/usage.csv", {"group_by": "token"}).status_code == 403
        assert client.get("/dashboard/usage.csv", {"group_by": "day"}).status_code == 200


def test_csv_rejects_bad_ranges(bill_client):
    response = bill_client.get("/dashboard/usage.csv", {"from": "2026-03-05", "to": "2026-03-01"})
    assert response.status_code == 400


def test_usage_page_shows_the_full_report_to_business(seeded_usage, bill_client):
    response = bill_client.get("/dashboard/usage/", MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    for group in ("day", "token", "member", "exercise", "kind"):
        assert f'id="usage-by-{group}"' in html
    assert 'role="img"' in html and "<title" in html and 'aria-label="Calls and minutes' in html
    assert "48 calls and" in html  # the chart's description says the total in words
    assert "carol@initech.test" in html and "Deleted token" in html


def test_usage_page_summary_for_developer_plan(acme, member_client):
    UsageRecord.objects.create(
        organization=acme, exercise="squat", kind="live", day=SEED_MONTH, calls=4
    )
    html = member_client.get("/dashboard/usage/", MARCH).content.decode()
    assert 'id="usage-by-day"' in html
    assert 'id="usage-by-token"' not in html
    assert "Business plan" in html


def test_usage_page_explains_a_bad_range(bill_client):
    response = bill_client.get("/dashboard/usage/", {"from": "2026-03-05", "to": "2026-03-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="usage-range-error"' in html
    assert "must not be after" in html


def axis_ticks(html: str, axis: str, chart: str = "usage-chart") -> list[str]:
    svg = html[html.index(f'<svg class="chart" id="{chart}"') :]
    svg = svg[: svg.index("</svg>")]
    return re.findall(rf'<text class="axis axis-{axis}"[^>]*>([^<]+)</text>', svg)


def test_the_chart_counts_calls_in_whole_numbers(seeded_usage, bill_client):
    # The seeded month: at most 15 calls a day (axis 0 to 15) and 13.7 minutes (0 to 15).
    html = bill_client.get("/dashboard/usage/", MARCH).content.decode()
    for chart in ("usage-chart", "usage-chart-phone"):  # a laptop's and a phone's
        assert axis_ticks(html, "calls", chart) == ["0", "5", "10", "15"]
        assert axis_ticks(html, "minutes", chart) == ["0", "5", "10", "15"]


def test_a_few_calls_get_one_tick_per_call(acme, member_client):
    for day, calls in ((2, 1), (3, 3)):
        UsageRecord.objects.create(
            organization=acme,
            exercise="squat",
            kind="live",
            day=SEED_MONTH.replace(day=day),
            calls=calls,
            seconds_tracked=20.0 * calls,
        )
    html = member_client.get("/dashboard/usage/", MARCH).content.decode()
    assert axis_ticks(html, "calls") == ["0", "1", "2", "3"]
    assert axis_ticks(html, "minutes") == ["0.0", "0.5", "1.0", "1.5"]


def test_a_range_without_usage_says_no_usage_yet(seeded_usage, bill_client):
    html = bill_client.get("/dashboard/usage/", {"from": "2026-02-01", "to": "2026-02-28"}).content
    html = html.decode()
    assert "No usage yet in this range" in html
    assert 'id="usage-chart"' not in html and 'id="usage-by-day"' not in html
    march = bill_client.get("/dashboard/usage/", MARCH).content.decode()
    assert "No usage yet" not in march and 'id="usage-chart"' in march
