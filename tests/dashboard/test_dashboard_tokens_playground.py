"""Tokens from the dashboard: shown once, then only the prefix; origins, expiry, revocation, calls
this month; and the playground's short-lived token, kept in the session only."""

import datetime
import re

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, UsageRecord
from tests.dashboard.conftest import signed_in
from tracking.engine.catalog import EXERCISES

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
