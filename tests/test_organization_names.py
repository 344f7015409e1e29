"""An organisation's name is one line of text: it goes into invitation e-mail subjects, where a
line break made the send fail with a 500 after the row was saved. Every way to set a name refuses
control characters and line breaks with a clear message: the dashboard's create and rename, the
admin, and the services themselves. Names saved before this are made one line by a migration."""

import importlib

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Organization
from accounts.services import MembershipRejected
from tests.dashboard.conftest import signed_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BAD_NAMES = {
    "CRLF": "Evil\r\nBcc: everyone@example.com",
    "LF": "Two\nlines",
    "NUL": "Nul\x00byte",
    "bidi override": "Acme\u202egnp.exe",
    "line separator": "Line\u2028separator",
}
REFUSAL = "no line breaks or control characters"


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_the_dashboard_refuses_to_create_an_organisation_so_named(owner, name):
    response = signed_in(owner).post("/dashboard/organizations/new/", {"name": name})
    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    assert not Organization.objects.exists()


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_the_dashboard_refuses_to_rename_an_organisation_so(owner, acme, name):
    response = signed_in(owner).post("/dashboard/organization/rename/", {"name": name})
    assert response.status_code == 302
    assert any(REFUSAL in str(m) for m in get_messages(response.wsgi_request))
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_the_admin_refuses_such_a_name(acme):
    admin = UserFactory(username="root@formtrack.test", is_staff=True, is_superuser=True)
    response = signed_in(admin).post(
        f"/admin/accounts/organization/{acme.pk}/change/",
        {
            "name": BAD_NAMES["CRLF"],
            "plan": acme.plan,
            "webhook_secret": acme.webhook_secret,
            "created_at_0": "2026-01-01",
            "created_at_1": "00:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_the_services_refuse_such_a_name(owner, acme):
    with pytest.raises(ValidationError, match=REFUSAL):
        services.organization_create(name=BAD_NAMES["CRLF"], owner=owner)
    with pytest.raises(MembershipRejected) as refused:
        services.organization_rename(organization=acme, name=BAD_NAMES["LF"])
    assert refused.value.code == "invalid_name" and REFUSAL in refused.value.message
    assert Organization.objects.filter(name__contains="\n").count() == 0


def test_names_are_trimmed_and_any_script_or_emoji_is_welcome(owner, acme):
    created = services.organization_create(name="  Café Zürich 🏋️ 東京  ", owner=owner)
    assert created.name == "Café Zürich 🏋️ 東京"
    response = signed_in(owner).post("/dashboard/organization/rename/", {"name": " Acme Ltd "})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Ltd"


def test_a_name_saved_before_is_made_one_line_and_invitations_to_it_are_sent(owner, acme):
    Organization.objects.filter(pk=acme.pk).update(name="Evil\r\nBcc: x@example.com\u202e")
    migration = importlib.import_module("accounts.migrations.0004_organization_name_one_line")
    migration.one_line_names(apps, None)
    acme.refresh_from_db()
    assert acme.name == "Evil Bcc: x@example.com"

    response = signed_in(owner).post(
        "/dashboard/members/", {"email": "new@acme.test", "role": "member"}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].subject == "Join Evil Bcc: x@example.com on FormTrack"
