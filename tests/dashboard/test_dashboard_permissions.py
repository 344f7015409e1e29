"""Every dashboard page enforces the organisation and the role.

Owners and admins manage members and tokens; members see usage, uploads, references, the plan
and the playground (403 on management); an outsider gets 404 for another organisation's objects.
"""

import uuid

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from accounts import services
from accounts.models import ApiToken, Invitation, Membership
from references.models import ReferenceMovement
from tests.dashboard.conftest import signed_in
from tracking.models import Upload

pytestmark = pytest.mark.django_db

READ_PAGES = [
    "/dashboard/",
    "/dashboard/usage/",
    "/dashboard/plan/",
    "/dashboard/playground/",
    "/dashboard/uploads/",
    "/dashboard/references/",
    "/dashboard/workouts/",
]
MANAGE_PAGES = ["/dashboard/members/", "/dashboard/tokens/", "/dashboard/references/new/"]


def make_upload(org, **fields) -> Upload:
    upload = Upload(
        organization=org,
        kind="video",
        query="token=x&exercise=squat",
        exercise="squat",
        size_bytes=10,
        original_name="squats.mp4",
        **fields,
    )
    upload.file.save("source.mp4", ContentFile(b"0" * 10), save=False)
    upload.save()
    return upload


def make_reference(org, **fields) -> ReferenceMovement:
    reference = ReferenceMovement(organization=org, name="Coach squat", **fields)
    reference.video.save("source.mp4", ContentFile(b"0" * 10), save=False)
    reference.save()
    return reference


@pytest.mark.parametrize("path", READ_PAGES + MANAGE_PAGES)
def test_signed_out_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("path", READ_PAGES + MANAGE_PAGES)
def test_owner_and_admin_see_every_page_in_the_dashboard_layout(
    owner_client, admin_client_acme, path
):
    for client in (owner_client, admin_client_acme):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert 'class="sidebar"' in html and "dashboard.css" in html
        assert "Acme" in html


@pytest.mark.parametrize("path", READ_PAGES)
def test_member_sees_usage_references_plan_uploads_and_playground(member_client, path):
    assert member_client.get(path).status_code == 200


@pytest.mark.parametrize("path", MANAGE_PAGES)
def test_member_gets_403_on_management_pages(member_client, path):
    response = member_client.get(path)
    assert response.status_code == 403
    assert "Owners and admins manage members and tokens" in response.content.decode()


def test_member_navigation_hides_management(member_client):
    html = member_client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/tokens/"' not in html
    assert 'href="/dashboard/members/"' not in html
    assert 'href="/dashboard/usage/"' in html


def test_member_gets_403_on_every_management_post(member_client, acme, owner, member):
    token, _ = services.token_create(organization=acme, name="App", created_by=owner)
    invitation, _ = services.invitation_create(
        organization=acme,
        email="new@acme.test",
        role="member",
        invited_by=owner,
        actor=Membership.objects.get(user=owner, organization=acme),
    )
    owner_membership = Membership.objects.get(user=owner, organization=acme)
    reference = make_reference(acme)
    posts = [
        ("/dashboard/tokens/", {"name": "Mine"}),
        (f"/dashboard/tokens/{token.pk}/revoke/", {}),
        ("/dashboard/members/", {"email": "friend@acme.test", "role": "member"}),
        (f"/dashboard/members/{owner_membership.pk}/role/", {"role": "member"}),
        (f"/dashboard/members/{owner_membership.pk}/remove/", {}),
        (f"/dashboard/invitations/{invitation.pk}/resend/", {}),
        (f"/dashboard/invitations/{invitation.pk}/cancel/", {}),
        ("/dashboard/organization/rename/", {"name": "Max's company"}),
        (f"/dashboard/references/{reference.pk}/rename/", {"name": "x"}),
        (f"/dashboard/references/{reference.pk}/delete/", {}),
    ]
    for path, data in posts:
        assert member_client.post(path, data).status_code == 403, path
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.for_org(acme).count() == 1
    assert Membership.objects.get(pk=owner_membership.pk).role == "owner"
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    assert ReferenceMovement.objects.filter(pk=reference.pk).exists()


def test_outsider_gets_404_for_acme_objects(outsider_client, acme, owner):
    token, _ = services.token_create(organization=acme, name="App", created_by=owner)
    membership = Membership.objects.get(user=owner, organization=acme)
    invitation, _ = services.invitation_create(
        organization=acme, email="x@acme.test", role="member", invited_by=owner, actor=membership
    )
    upload = make_upload(acme)
    reference = make_reference(acme, status="ready", landmarks={"frames": []})
    gets = [
        f"/dashboard/uploads/{upload.pk}/",
        f"/dashboard/references/{reference.pk}/",
        f"/dashboard/references/{reference.pk}/status/",
        f"/dashboard/references/{reference.pk}/landmarks.json",
        f"/dashboard/uploads/{uuid.uuid4()}/",
    ]
    for path in gets:
        assert outsider_client.get(path).status_code == 404, path
    posts = [
        (f"/dashboard/tokens/{token.pk}/revoke/", {}),
        (f"/dashboard/members/{membership.pk}/role/", {"role": "member"}),
        (f"/dashboard/members/{membership.pk}/remove/", {}),
        (f"/dashboard/invitations/{invitation.pk}/resend/", {}),
        (f"/dashboard/invitations/{invitation.pk}/cancel/", {}),
        (f"/dashboard/references/{reference.pk}/rename/", {"name": "mine"}),
        (f"/dashboard/references/{reference.pk}/delete/", {}),
        ("/dashboard/organizations/switch/", {"organization": acme.pk}),
    ]
    for path, data in posts:
        assert outsider_client.post(path, data).status_code == 404, path
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ReferenceMovement.objects.get(pk=reference.pk).name == "Coach squat"
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_outsider_never_sees_acme_data_in_lists(outsider_client, acme, owner):
    services.token_create(organization=acme, name="Acme secret app", created_by=owner)
    make_upload(acme)
    make_reference(acme)
    for path in ["/dashboard/", "/dashboard/uploads/", "/dashboard/references/"]:
        html = outsider_client.get(path).content.decode()
        assert "Acme" not in html and "squats.mp4" not in html and "Coach squat" not in html
    html = outsider_client.get("/dashboard/tokens/").content.decode()
    assert "Acme secret app" not in html


def test_a_forged_session_org_falls_back_to_the_users_own(outsider, acme, globex):
    client = signed_in(outsider)
    session = client.session
    session["dashboard_org_id"] = acme.pk
    session.save()
    html = client.get("/dashboard/").content.decode()
    assert "Globex" in html and "Acme" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/tokens/",
        "/dashboard/members/",
        "/dashboard/organizations/switch/",
        "/dashboard/playground/token/",
        "/dashboard/references/new/",
        "/dashboard/organizations/new/",
    ],
)
def test_posts_without_csrf_token_are_refused(owner, acme, path):
    client = signed_in(owner, csrf=True)
    response = client.post(path, {"name": "x", "organization": acme.pk})
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_posts_with_the_csrf_token_pass(owner, acme):
    client = signed_in(owner, csrf=True)
    page = client.get("/dashboard/tokens/")
    csrf = page.cookies["csrftoken"].value
    response = client.post("/dashboard/tokens/", {"name": "CSRF ok", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    assert ApiToken.objects.for_org(acme).filter(name="CSRF ok").exists()


def test_switching_organisation_changes_every_page(owner, acme, globex):
    services.membership_add(organization=globex, user=owner, role="member")
    client = signed_in(owner)
    assert "Acme" in client.get("/dashboard/").content.decode()
    response = client.post(
        "/dashboard/organizations/switch/", {"organization": globex.pk, "next": "/dashboard/usage/"}
    )
    assert response.status_code == 302 and response.url == "/dashboard/usage/"
    html = client.get("/dashboard/").content.decode()
    assert "<h1>Globex</h1>" in html
    # In Globex the owner is only a member.
    assert client.get("/dashboard/tokens/").status_code == 403


def test_switch_never_redirects_off_site(owner, acme, globex):
    services.membership_add(organization=globex, user=owner, role="member")
    client = signed_in(owner)
    for target in ["https://evil.example/", "//evil.example/dashboard/", "/admin/"]:
        response = client.post(
            "/dashboard/organizations/switch/", {"organization": globex.pk, "next": target}
        )
        assert response.url == "/dashboard/", target


def test_a_user_without_organisation_is_asked_to_create_one(db):
    from tests.factories import UserFactory

    client = signed_in(UserFactory(username="lonely@example.com"))
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.url == "/dashboard/organizations/new/"
    response = client.post("/dashboard/organizations/new/", {"name": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_name_error"' in html
    response = client.post("/dashboard/organizations/new/", {"name": "Solo Fitness"})
    assert response.status_code == 302
    assert "<h1>Solo Fitness</h1>" in client.get("/dashboard/").content.decode()


def test_anonymous_client_cannot_reach_json_views(acme):
    reference = make_reference(acme)
    response = Client().get(f"/dashboard/references/{reference.pk}/status/")
    assert response.status_code == 302
