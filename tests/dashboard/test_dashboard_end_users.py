"""The End users pages: each end user with their result count, one end user's progress over time
as charts (count, score and range of motion per session), erasing one, and the webhook endpoint
and retention settings. One organisation's end users only; managers only for the writes."""

import datetime

import pytest

from tests.dashboard.conftest import signed_in
from tests.factories import stored_result
from tests.support.clips import CURL_CLIP
from tracking.models import SessionResult

pytestmark = pytest.mark.django_db

ATHLETE = "athlete-42"
DAY = datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def sessions(acme, globex):
    """Acme's athlete: four squat sessions over four days and a curl session; a second Acme
    athlete; Globex's own athlete-42."""
    squats = [
        stored_result(acme, ATHLETE, completed_at=DAY + datetime.timedelta(days=i))
        for i in range(4)
    ]
    stored_result(
        acme,
        ATHLETE,
        clip=CURL_CLIP,
        exercise="bicep_curl",
        completed_at=DAY - datetime.timedelta(days=1),
    )
    stored_result(acme, "athlete-43", completed_at=DAY)
    stored_result(globex, "globex-only", completed_at=DAY)
    namesake = stored_result(globex, ATHLETE, completed_at=DAY)
    return {"squats": squats, "namesake": namesake}


def test_the_list_shows_each_end_user_with_their_result_count(member_client, sessions):
    page = member_client.get("/dashboard/end-users/")
    assert page.status_code == 200
    html = page.content.decode()
    table = html.split('id="end-users"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    assert f"<code>{ATHLETE}</code>" in rows[0] and '<td class="num">5</td>' in rows[0]
    assert "<code>athlete-43</code>" in rows[1] and '<td class="num">1</td>' in rows[1]
    assert "globex-only" not in html
    found = member_client.get("/dashboard/end-users/", {"q": "athlete-43"}).content.decode()
    assert "athlete-43" in found and f"<code>{ATHLETE}</code>" not in found


@pytest.mark.parametrize("q", ["\x00", "athlete\x00", "athlète", "athlete 42"])
def test_a_search_no_id_could_start_with_finds_no_one(member_client, sessions, q):
    # PostgreSQL refuses a NUL in a query's text outright (a 500 before the search was checked).
    page = member_client.get("/dashboard/end-users/", {"q": q})
    assert page.status_code == 200
    assert ATHLETE not in page.content.decode().split('id="end-users"', 1)[-1]


def test_an_end_users_page_charts_their_progress_for_each_movement(member_client, sessions):
    page = member_client.get(f"/dashboard/end-users/{ATHLETE}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "5 results stored" in html
    # The latest movement first (squat), its four sessions charted at both widths.
    assert 'aria-label="Repetitions per session"' in html
    assert 'aria-label="Average form score per session"' in html
    assert html.count('class="progress-dot"') == 4 * 2 * 2
    assert "4 sessions from 2026-03-10 to 2026-03-13" in html
    assert "Range of motion" not in html  # no session measured one
    table = html.split('id="end-user-results"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 4
    curls = member_client.get(f"/dashboard/end-users/{ATHLETE}/", {"movement": "bicep_curl"})
    assert "1 sessions from 2026-03-09 to 2026-03-09: 6 reps" in curls.content.decode()


def test_a_measured_range_of_motion_is_charted_in_degrees(member_client, acme):
    for day, degrees in enumerate((96.0, 104.5, 111.0)):
        stored_result(
            acme,
            ATHLETE,
            kind=SessionResult.Kind.ASSESSMENT,
            degrees=degrees,
            completed_at=DAY + datetime.timedelta(days=day),
        )
    html = member_client.get(f"/dashboard/end-users/{ATHLETE}/").content.decode()
    assert 'aria-label="Range of motion per session (degrees)"' in html
    assert "96 degrees at first, 111 at last, best 111" in html


@pytest.mark.parametrize("external_user_id", [ATHLETE, "globex-only", "nobody", "a@b"])
def test_another_organisations_or_an_unknown_end_user_is_not_found(
    outsider_client, sessions, external_user_id
):
    # Globex has its own athlete-42: Oscar sees that one, never Acme's.
    response = outsider_client.get(f"/dashboard/end-users/{external_user_id}/")
    if external_user_id in (ATHLETE, "globex-only"):
        assert response.status_code == 200
        assert "1 result stored" in response.content.decode()
    else:
        assert response.status_code == 404


def test_only_a_manager_erases_an_end_user_and_only_in_their_organisation(
    member_client, owner_client, sessions
):
    url = f"/dashboard/end-users/{ATHLETE}/erase/"
    assert member_client.post(url).status_code == 403
    assert "Erase athlete-42" not in member_client.get(url[: -len("erase/")]).content.decode()
    response = owner_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/end-users/"
    assert "Erased athlete-42: 5 result(s)" in response.content.decode()
    assert not SessionResult.objects.filter(organization__name="Acme", external_user_id=ATHLETE)
    assert SessionResult.objects.filter(pk=sessions["namesake"].pk).exists()


def test_a_manager_sets_the_webhook_endpoint_and_the_retention(
    owner_client, member_client, acme, settings
):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = False
    refused = owner_client.post(
        "/dashboard/end-user-settings/",
        {"webhook_url": "http://127.0.0.1:8000/hook", "retention_days": "30"},
    )
    assert refused.status_code == 400
    assert "The webhook endpoint must point at a public address." in refused.content.decode()
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = True
    saved = owner_client.post(
        "/dashboard/end-user-settings/",
        {"webhook_url": "http://127.0.0.1:8000/hook", "retention_days": "30"},
    )
    assert saved.status_code == 302 and saved.url == "/dashboard/end-users/#settings"
    acme.refresh_from_db()
    assert (acme.webhook_url, acme.result_retention_days) == ("http://127.0.0.1:8000/hook", 30)
    too_long = owner_client.post(
        "/dashboard/end-user-settings/", {"webhook_url": "", "retention_days": "5000"}
    )
    assert too_long.status_code == 400
    forbidden = member_client.post(
        "/dashboard/end-user-settings/", {"webhook_url": "", "retention_days": "7"}
    )
    assert forbidden.status_code == 403
    shown = member_client.get("/dashboard/end-users/").content.decode()
    assert "<code>http://127.0.0.1:8000/hook</code>" in shown and "30 days" in shown


@pytest.mark.parametrize("private_hosts", [False, True])
def test_an_endpoint_whose_host_cannot_be_looked_up_is_refused_with_the_form(
    owner_client, settings, private_hosts
):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = private_hosts
    # A zero-width space: a label no resolver can encode, which Django's URL check lets by.
    url = "https://\u200b.example.com/hook"
    response = owner_client.post(
        "/dashboard/end-user-settings/", {"webhook_url": url, "retention_days": "30"}
    )
    assert response.status_code == 400
    assert "The webhook endpoint&#x27;s host name is not valid." in response.content.decode()


def test_the_pages_need_a_signed_in_member(client, outsider, sessions):
    assert client.get("/dashboard/end-users/").status_code == 302
    assert signed_in(outsider).get("/dashboard/end-users/").status_code == 200
