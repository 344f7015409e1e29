"""Tokens from the dashboard: shown once, then only the prefix; origins (edited later too), expiry,
revocation, calls this month, the "Try it" link; the playground's short-lived token, kept in the
session only; and the getting-started checklist their use ticks."""

import datetime
import re

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, UsageRecord
from tests.dashboard.conftest import signed_in
from tests.dashboard.test_dashboard_permissions import make_reference
from tracking.engine.catalog import EXERCISES
from tracking.param_table import BY_NAME

pytestmark = pytest.mark.django_db


def test_new_token_is_shown_once_then_only_its_prefix(owner_client, acme):
    response = owner_client.post(
        "/dashboard/tokens/",
        {
            "name": "iOS app",
            "allowed_origins": "https://App.example.com/page\n\nhttps://staging.example.com",
            "expires_on": (timezone.now().date() + datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    html = owner_client.get("/dashboard/tokens/").content.decode()
    raw = re.search(r'<code id="new-token-value">(ft_pub_\w+)</code>', html).group(1)
    assert 'data-copy="#new-token-value"' in html
    token = ApiToken.objects.get(organization=acme, name="iOS app")
    assert raw.startswith(token.prefix) and token.digest != raw
    assert token.allowed_origins == ["https://app.example.com", "https://staging.example.com"]
    assert token.expires_at.date() == timezone.now().date() + datetime.timedelta(days=31)
    assert services.token_authenticate(raw, origin="https://app.example.com").pk == token.pk
    # The next visit shows only the prefix.
    html = owner_client.get("/dashboard/tokens/").content.decode()
    assert raw not in html and f"{token.prefix}…" in html


def test_token_form_errors_are_accessible(owner_client, acme):
    response = owner_client.post(
        "/dashboard/tokens/",
        {"name": "", "allowed_origins": "app.example.com", "expires_on": "2001-01-01"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("name", "allowed_origins", "expires_on"):
        assert f'id="id_{field}_error"' in html
    assert 'aria-describedby="id_allowed_origins_helptext id_allowed_origins_error"' in html
    assert "not: app.example.com" in html and "today or a later day" in html
    assert not ApiToken.objects.for_org(acme).exists()


def test_revoke_stops_the_token(owner_client, acme, acme_token):
    token = services.token_authenticate(acme_token)
    response = owner_client.post(f"/dashboard/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in owner_client.get("/dashboard/tokens/").content.decode()


def test_tokens_list_calls_this_month_and_last_use(owner_client, acme, acme_token):
    token = services.token_authenticate(acme_token)  # records last use
    today = timezone.localdate()
    UsageRecord.objects.create(
        organization=acme, token=token, exercise="squat", kind="live", day=today, calls=1234
    )
    UsageRecord.objects.create(
        organization=acme,
        token=token,
        exercise="plank",
        kind="live",
        day=today.replace(day=1) - datetime.timedelta(days=1),
        calls=99,
    )
    html = owner_client.get("/dashboard/tokens/").content.decode()
    assert '<td class="num">1,234</td>' in html  # this month only, not last month's 99
    assert "ago" in html


def test_get_on_revoke_is_not_allowed(owner_client, acme_token):
    token = services.token_authenticate(acme_token)
    assert owner_client.get(f"/dashboard/tokens/{token.pk}/revoke/").status_code == 405


def test_playground_lists_exercises_references_and_options(member_client):
    html = member_client.get("/dashboard/playground/").content.decode()
    assert '<option value="squat" selected>Squat</option>' in html
    for name in ("keypoints", "angles", "progression", "recommendations"):
        assert f'name="{name}"' in html
    for name in ("skeleton", "minGrade", "difficulty", "language", "inference"):
        assert f'name="{name}"' in html
    assert "playground.js" in html and 'id="playground-config"' in html


def test_playground_offers_what_the_parameters_accept_and_says_what_they_do(member_client):
    html = member_client.get("/dashboard/playground/").content.decode()
    for name, select in (("minGrade", "pg-mingrade"), ("difficulty", "pg-difficulty")):
        offered = re.search(rf'<select id="{select}"[^>]*>(.*?)</select>', html).group(1)
        values = re.findall(r'<option value="([^"]*)"', offered)
        assert [value for value in values if value] == list(BY_NAME[name].values)
    assert '<option value="medium" selected>Medium</option>' in html
    assert 'min="50" max="250"' in html  # userHeightCm's range
    for name in ("keypoints", "progression"):
        assert f'title="{BY_NAME[name].doc}"' in html.replace("&#x27;", "'")


def test_playground_offers_every_exercise_of_the_catalog(member_client):
    html = member_client.get("/dashboard/playground/").content.decode()
    for exercise in EXERCISES.values():
        assert f'<option value="{exercise.id}"' in html and f">{exercise.label}</option>" in html


def playground_secret(client, org) -> str:
    return client.session["dashboard_playground_tokens"][str(org.pk)]


def test_playground_token_lives_in_the_session_and_rotates(member, acme):
    client = signed_in(member)
    assert client.post("/dashboard/playground/token/").status_code == 302
    first_raw = playground_secret(client, acme)
    first = services.token_authenticate(first_raw)
    assert first.organization == acme and first.created_by == member
    assert first.expires_at <= timezone.now() + datetime.timedelta(hours=2)
    html = client.get("/dashboard/playground/").content.decode()
    assert first_raw in html  # in the page's config, for the iframe
    client.post("/dashboard/playground/token/")
    second_raw = playground_secret(client, acme)
    assert second_raw != first_raw
    first.refresh_from_db()
    assert first.is_revoked
    assert ApiToken.objects.for_org(acme).filter(revoked_at=None).count() == 1
    # Another user's session never sees it.
    assert second_raw not in signed_in(member).get("/dashboard/playground/").content.decode()


def test_a_revoked_playground_token_is_dropped_from_the_session(owner_client, acme):
    owner_client.post("/dashboard/playground/token/")
    raw = playground_secret(owner_client, acme)
    services.token_revoke(token=services.token_authenticate(raw))
    html = owner_client.get("/dashboard/playground/").content.decode()
    assert raw not in html and "Create a playground token" in html


def test_a_new_publishable_key_s_try_it_is_a_link_to_the_tracking_page(owner_client, acme):
    owner_client.post("/dashboard/tokens/", {"name": "Web app"})
    html = owner_client.get("/dashboard/tokens/").content.decode()
    raw = re.search(r'<code id="new-token-value">(ft_pub_\w+)</code>', html).group(1)
    href = re.search(r'<a id="new-token-try" href="([^"]+)"', html).group(1)
    assert href == f"http://testserver/pose_tracker/tracking?token={raw}&amp;exercise=squat"
    page = owner_client.get(href.replace("&amp;", "&").removeprefix("http://testserver"))
    assert page.status_code == 200 and 'id="formtrack-root"' in page.content.decode()
    # A key kept to other origins is refused on this site: the link says so.
    owner_client.post(
        "/dashboard/tokens/", {"name": "Shop", "allowed_origins": "https://shop.example"}
    )
    html = owner_client.get("/dashboard/tokens/").content.decode()
    assert 'id="new-token-try"' in html and "leave out this site" in html


def test_allowed_origins_are_edited_after_the_key_is_made(owner_client, acme, acme_publishable_key):
    token = ApiToken.objects.get(organization=acme, name="Acme website")
    assert token.allowed_origins == []
    page = owner_client.get("/dashboard/tokens/").content.decode()
    assert f'href="/dashboard/tokens/{token.pk}/origins/"' in page
    form = owner_client.get(f"/dashboard/tokens/{token.pk}/origins/").content.decode()
    assert 'name="allowed_origins"' in form and "Acme website" in form
    response = owner_client.post(
        f"/dashboard/tokens/{token.pk}/origins/",
        {"allowed_origins": "https://acme.example/shop\nhttps://www.acme.example"},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.allowed_origins == ["https://acme.example", "https://www.acme.example"]
    # Applied at once: another site's page is refused, the listed one is let in.
    with pytest.raises(services.errors.AccessError):
        services.token_authenticate(acme_publishable_key, origin="https://evil.example")
    assert services.token_authenticate(acme_publishable_key, origin="https://acme.example")
    # Mistakes are explained next to the field; emptying the list allows any origin again.
    bad = owner_client.post(
        f"/dashboard/tokens/{token.pk}/origins/", {"allowed_origins": "acme.example"}
    )
    assert bad.status_code == 400 and 'id="id_allowed_origins_error"' in bad.content.decode()
    owner_client.post(f"/dashboard/tokens/{token.pk}/origins/", {"allowed_origins": ""})
    token.refresh_from_db()
    assert token.allowed_origins == []


def test_origins_of_a_revoked_or_another_organisation_s_key_cannot_be_edited(
    owner_client, member_client, acme, acme_publishable_key, globex_token
):
    token = ApiToken.objects.get(organization=acme, name="Acme website")
    assert member_client.get(f"/dashboard/tokens/{token.pk}/origins/").status_code == 403
    other = services.token_authenticate(globex_token)
    assert owner_client.get(f"/dashboard/tokens/{other.pk}/origins/").status_code == 404
    services.token_revoke(token=token)
    assert owner_client.get(f"/dashboard/tokens/{token.pk}/origins/").status_code == 404


def checklist(client) -> dict[str, bool]:
    """The overview's getting-started steps: which are ticked."""
    html = client.get("/dashboard/").content.decode()
    steps = re.findall(r'<li( class="done")? data-step="(\w+)">', html)
    return {step: bool(done) for done, step in steps}


def open_tracking_page(client, raw: str, referer: str | None):
    headers = {"Referer": referer} if referer else {}
    response = client.get(f"/pose_tracker/tracking?token={raw}&exercise=squat", headers=headers)
    assert response.status_code == 200


def test_the_getting_started_checklist_ticks_from_what_happened(owner_client, owner, acme):
    nothing = {"key": False, "try": False, "reference": False, "embed": False}
    assert checklist(owner_client) == nothing
    # The playground's own key is not the app's key, and making it is not trying anything.
    owner_client.post("/dashboard/playground/token/")
    assert checklist(owner_client) == nothing
    # The playground's iframe opens the tracking page from the dashboard.
    playground_raw = playground_secret(owner_client, acme)
    open_tracking_page(owner_client, playground_raw, "http://testserver/dashboard/playground/")
    assert checklist(owner_client) == nothing | {"try": True}
    # A publishable key for the app, then its page opened in the app's site: embedded.
    _, app_raw = services.token_create(
        organization=acme, name="Acme site", kind="publishable", created_by=owner
    )
    assert checklist(owner_client) == nothing | {"try": True, "key": True}
    open_tracking_page(owner_client, app_raw, "https://www.acme.example/train")
    assert checklist(owner_client) == nothing | {"try": True, "key": True, "embed": True}
    make_reference(acme)
    html = owner_client.get("/dashboard/").content.decode()
    assert "Every step is done" in html and "(to do)" not in html


def test_an_app_s_webview_opening_the_page_counts_as_embedded(
    owner_client, acme, acme_publishable_key
):
    open_tracking_page(owner_client, acme_publishable_key, referer=None)  # WebViews send none
    assert checklist(owner_client)["embed"] and not checklist(owner_client)["try"]
