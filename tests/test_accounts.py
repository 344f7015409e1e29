import datetime
import hashlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from accounts import selectors, services, tenancy
from accounts.adapter import default_organization_name
from accounts.errors import AccessError
from accounts.models import ApiToken, Membership, MonthlyUsage, Organization, UsageRecord
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def test_new_token_has_visible_prefix_and_only_its_digest_is_stored(acme):
    token, raw = services.token_create(organization=acme, name="Mobile app")
    assert re.fullmatch(r"ft_live_[A-Za-z0-9]{32,}", raw)
    assert raw.startswith(token.prefix) and len(token.prefix) == len("ft_live_") + 8
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    stored_values = ApiToken.objects.filter(pk=token.pk).values().get().values()
    assert all(raw not in str(value) for value in stored_values)


def test_token_digest_uses_the_pepper_when_configured(acme, settings):
    settings.API_TOKEN_PEPPER = "pepper"
    token, raw = services.token_create(organization=acme, name="Peppered")
    assert token.digest != hashlib.sha256(raw.encode()).hexdigest()
    assert services.token_authenticate(raw).pk == token.pk


def test_the_pepper_keys_invitation_links_as_it_keys_tokens(acme, owner, settings):
    settings.API_TOKEN_PEPPER = "pepper"
    invitation, raw = services.invitation_create(
        organization=acme,
        email="new@acme.test",
        role=Membership.Role.MEMBER,
        invited_by=owner,
        actor=Membership.objects.get(organization=acme, user=owner),
    )
    assert invitation.token_hash != hashlib.sha256(raw.encode()).hexdigest()
    assert selectors.invitation_for_secret(raw) == invitation


def test_token_authenticates_and_records_last_use(acme_token):
    token = services.token_authenticate(acme_token)
    assert token.organization.name == "Acme"
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize("raw", ["", "ft_live_nope", "not-a-token"])
def test_unknown_token_is_refused(raw, acme_token):
    with pytest.raises(AccessError) as refused:
        services.token_authenticate(raw)
    assert (refused.value.code, refused.value.status) == ("invalid_token", 401)


def test_revoked_token_is_refused(acme_token):
    services.token_revoke(token=services.token_authenticate(acme_token))
    with pytest.raises(AccessError, match="revoked"):
        services.token_authenticate(acme_token)


def test_expired_token_is_refused(acme):
    raw = make_token(acme, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(AccessError) as refused:
        services.token_authenticate(raw)
    assert refused.value.code == "invalid_token"


def test_allowed_origins_are_normalised_and_enforced_in_browsers(acme):
    raw = make_token(acme, allowed_origins=["https://App.example.com/some/page"])
    token = services.token_authenticate(raw, origin="https://app.example.com/workout?x=1")
    assert token.allowed_origins == ["https://app.example.com"]
    for bad_origin in ("https://evil.example.com", None):
        with pytest.raises(AccessError) as refused:
            services.token_authenticate(raw, origin=bad_origin)
        assert (refused.value.code, refused.value.status) == ("origin_not_allowed", 403)


def test_server_calls_without_origin_pass_an_origin_restricted_token(acme):
    raw = make_token(acme, allowed_origins=["https://app.example.com"])
    assert services.token_authenticate(raw, origin=None, origin_required=False)
    with pytest.raises(AccessError):
        services.token_authenticate(raw, origin="https://evil.example.com", origin_required=False)


def test_invalid_allowed_origin_is_rejected(acme):
    with pytest.raises(ValueError, match="not an origin"):
        services.token_create(organization=acme, name="x", allowed_origins=["app.example.com"])


def test_tenant_lookup_hides_other_organisations_rows(acme, globex, acme_token):
    acme_row = ApiToken.objects.for_org(acme).get()
    assert tenancy.get_for_org(ApiToken, acme, pk=acme_row.pk) == acme_row
    with pytest.raises(Http404):
        tenancy.get_for_org(ApiToken, globex, pk=acme_row.pk)
    with pytest.raises(Http404):
        tenancy.get_for_org(Membership, globex, pk=Membership.objects.for_org(acme).first().pk)
    assert list(tenancy.list_for_org(UsageRecord, globex)) == []


def test_plans_set_the_monthly_limit(acme, globex, initech):
    assert (globex.monthly_call_limit, acme.monthly_call_limit) == (500, 5_000)
    assert initech.monthly_call_limit == 20_000
    assert Organization(plan="business").monthly_call_limit > 0


def test_quota_takes_calls_until_the_limit_then_refuses(globex, globex_token):
    token = services.token_authenticate(globex_token)
    MonthlyUsage.objects.create(
        organization=globex, month=timezone.localdate().replace(day=1), calls=498
    )
    services.usage_take_call(token=token, exercise="squat", kind="live")
    services.usage_take_call(token=token, exercise="squat", kind="upload")
    with pytest.raises(AccessError) as refused:
        services.usage_take_call(token=token, exercise="squat", kind="live")
    assert (refused.value.code, refused.value.status) == ("quota_exceeded", 429)
    assert MonthlyUsage.objects.get(organization=globex).calls == 500


def test_usage_rows_keep_token_exercise_kind_day_calls_and_seconds(acme, acme_token):
    token = services.token_authenticate(acme_token)
    services.usage_take_call(token=token, exercise="squat", kind="live")
    services.usage_take_call(token=token, exercise="squat", kind="live")
    services.usage_add_seconds(token=token, exercise="squat", kind="live", seconds=42.5)
    services.usage_take_call(token=token, exercise="plank", kind="upload")
    rows = {
        (r.exercise, r.kind): (r.calls, r.seconds_tracked, r.token_id, r.day)
        for r in UsageRecord.objects.for_org(acme)
    }
    today = timezone.localdate()
    assert rows == {
        ("squat", "live"): (2, 42.5, token.pk, today),
        ("plank", "upload"): (1, 0.0, token.pk, today),
    }


def test_signup_creates_an_owned_organisation(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@team.test",
            "password1": "a-long-pass-phrase!",
            "password2": "a-long-pass-phrase!",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="new@team.test")
    assert membership.role == "owner" and membership.organization.plan == "free"


def test_seed_demo_is_idempotent_and_prints_a_working_token(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    tokens = re.findall(r"^DEMO_TOKEN=(\S+)$", capsys.readouterr().out, re.M)
    assert len(tokens) == 2
    assert Organization.objects.filter(name="FormTrack Demo").count() == 1
    org = services.token_authenticate(tokens[-1]).organization
    assert org.plan == "developer"


def sign_up(client, email: str):
    password = "a-long-pass-phrase!"
    return client.post(
        "/accounts/signup/", {"email": email, "password1": password, "password2": password}
    )


def test_signup_with_a_local_part_too_long_for_a_name_gets_a_shortened_team_name(client):
    email = "a" * 130 + "@team.test"
    assert sign_up(client, email).status_code == 302
    organization = Membership.objects.get(user__email=email).organization
    assert organization.name == "a" * 113 + "'s team"
    assert len(organization.name) == Organization._meta.get_field("name").max_length


@pytest.mark.parametrize(
    "email", ['"e\x1b[31mred"@team.test', '"b\x07\x08"@team.test', '"del\x7f"@team.test']
)
def test_signup_refuses_an_address_with_control_characters(client, email):
    response = sign_up(client, email)
    assert response.status_code == 200
    assert "without control or formatting characters" in response.content.decode()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("ana@team.test", "ana's team"),
        ('"ana smith"@team.test', "ana smith's team"),
        ('"ana\x1b\u202e"@team.test', "ana's team"),
        ('"\x07"@team.test', "My team"),
        (f"{'b' * 112} x@team.test", "b" * 112 + "'s team"),  # no space left at the cut
    ],
)
def test_the_default_team_name_is_one_line_that_fits(email, name):
    assert default_organization_name(email) == name
    Organization(name=name).full_clean()


def test_an_account_is_never_saved_without_its_organisation(client, monkeypatch):
    def refused(**kwargs):
        raise ValidationError("refused")

    monkeypatch.setattr(services, "organization_create", refused)
    with pytest.raises(ValidationError):
        sign_up(client, "new@team.test")
    assert not get_user_model().objects.filter(email="new@team.test").exists()
