"""Members and invitations: who may invite, change roles and remove; the last owner stays;
invitation links join the organisation when logged in, after sign-up, or on e-mail confirmation."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, Organization
from tests.dashboard.conftest import signed_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def invite(client, email, role="member"):
    return client.post("/dashboard/members/", {"email": email, "role": role})


def link_in_last_mail() -> str:
    """The path of the invitation link in the last e-mail."""
    match = re.search(r"https?://\S+/dashboard/invitations/accept/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return urlsplit(match.group(0)).path


def test_an_invitation_made_on_another_host_links_to_the_site(owner_client, acme, settings):
    settings.ALLOWED_HOSTS = ["*"]  # any Host header gets through (refused in production)
    settings.SITE_URL = "https://formtrack.example.com"
    owner_client.post(
        "/dashboard/members/", {"email": "new@example.com", "role": "member"}, HTTP_HOST="evil.ex"
    )
    assert re.search(
        r"^https://formtrack\.example\.com/dashboard/invitations/accept/\S+/$",
        mail.outbox[-1].body,
        re.M,
    ), mail.outbox[-1].body
    assert "evil.ex" not in mail.outbox[-1].body


def test_owner_invites_by_email_and_only_the_hash_is_stored(owner_client, acme):
    response = invite(owner_client, "New.Person@Example.com", "admin")
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=acme)
    assert (invitation.email, invitation.role) == ("new.person@example.com", "admin")
    message = mail.outbox[-1]
    assert message.to == ["new.person@example.com"]
    assert "Acme" in message.subject and "olivia@acme.test" in message.body
    secret = link_in_last_mail().rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash != secret and len(invitation.token_hash) == 64
    assert invitation.expires_at > timezone.now() + datetime.timedelta(days=6)
    html = owner_client.get("/dashboard/members/").content.decode()
    assert "new.person@example.com" in html


def test_invite_form_errors_are_linked_to_the_field(owner_client, member, acme):
    response = invite(owner_client, "not-an-email")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_email_error"' in html and 'aria-invalid="true"' in html
    assert 'aria-describedby="id_email_error"' in html
    response = invite(owner_client, "max@acme.test")
    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def test_admin_can_invite_members_but_not_owners(admin_client_acme, acme):
    assert invite(admin_client_acme, "helper@acme.test", "admin").status_code == 302
    response = invite(admin_client_acme, "boss@acme.test", "owner")
    assert response.status_code == 400  # "owner" is not one of the admin's choices
    assert not Invitation.objects.filter(email="boss@acme.test").exists()


def test_inviting_again_renews_the_open_invitation(owner_client, acme):
    invite(owner_client, "twice@acme.test")
    first = Invitation.objects.get(email="twice@acme.test")
    invite(owner_client, "twice@acme.test", "admin")
    renewed = Invitation.objects.get(email="twice@acme.test")
    assert renewed.pk == first.pk and renewed.role == "admin"
    assert renewed.token_hash != first.token_hash
    assert len(mail.outbox) == 2


def test_resend_and_cancel(owner_client, acme):
    invite(owner_client, "later@acme.test")
    invitation = Invitation.objects.get(email="later@acme.test")
    old_hash = invitation.token_hash
    assert owner_client.post(f"/dashboard/invitations/{invitation.pk}/resend/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash and len(mail.outbox) == 2
    assert owner_client.post(f"/dashboard/invitations/{invitation.pk}/cancel/").status_code == 302
    assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_logged_in_user_accepts_with_the_invited_address(owner_client, acme, globex, outsider):
    invite(owner_client, "oscar@globex.test", "admin")
    path = link_in_last_mail()
    client = signed_in(outsider)
    page = client.get(path)
    assert page.status_code == 200 and "Accept and join" in page.content.decode()
    response = client.post(path)
    assert response.status_code == 302 and response.url == "/dashboard/"
    assert Membership.objects.get(organization=acme, user=outsider).role == "admin"
    # The accepted organisation is now the current one, and the link cannot be used again.
    assert "<h1>Acme</h1>" in client.get("/dashboard/").content.decode()
    assert Invitation.objects.get(email="oscar@globex.test").accepted_by == outsider
    assert client.post(path).status_code in (200, 302)
    assert Membership.objects.filter(organization=acme, user=outsider).count() == 1


def test_another_account_cannot_use_the_link(owner_client, acme, outsider, globex):
    invite(owner_client, "someone.else@example.com")
    response = signed_in(outsider).post(link_in_last_mail())
    assert response.status_code == 403
    assert "sent to someone.else@example.com" in response.content.decode()
    assert not Membership.objects.filter(organization=acme, user=outsider).exists()


def test_expired_and_unknown_links(owner_client, acme, outsider, globex):
    invite(owner_client, "oscar@globex.test")
    path = link_in_last_mail()
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    client = signed_in(outsider)
    assert "expired" in client.get(path).content.decode()
    client.post(path)
    assert not Membership.objects.filter(organization=acme, user=outsider).exists()
    assert client.get("/dashboard/invitations/accept/nope/").status_code == 404


def test_sign_up_from_the_link_joins_the_organisation_without_a_personal_one(
    client, owner_client, acme
):
    invite(owner_client, "newbie@example.com", "admin")
    path = link_in_last_mail()
    page = client.get(path)
    assert "Sign up with newbie@example.com" in page.content.decode()
    # Its sign-up link opens the form with the invited address already filled in.
    signup = re.search(r'href="(/accounts/signup/\?[^"]+)">Sign up with', page.content.decode())
    form = client.get(signup.group(1).replace("&amp;", "&")).content.decode()
    assert re.search(r'<input[^>]*name="email"[^>]*value="newbie@example.com"', form)
    response = client.post(
        f"/accounts/signup/?next={path}",
        {
            "email": "newbie@example.com",
            "password1": "s3cret-Pass!word",
            "password2": "s3cret-Pass!word",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="newbie@example.com")
    assert membership.organization == acme and membership.role == "admin"
    assert Organization.objects.filter(memberships__user__email="newbie@example.com").count() == 1


def test_confirming_the_address_accepts_open_invitations(owner, acme, client):
    membership = Membership.objects.get(user=owner, organization=acme)
    services.invitation_create(
        organization=acme,
        email="late@example.com",
        role="member",
        invited_by=owner,
        actor=membership,
    )
    user = UserFactory(username="late@example.com")
    address = EmailAddress.objects.create(user=user, email="late@example.com", verified=False)
    from allauth.account.models import EmailConfirmationHMAC

    key = EmailConfirmationHMAC(address).key
    response = client.post(f"/accounts/confirm-email/{key}/")
    assert response.status_code == 302
    assert Membership.objects.filter(organization=acme, user=user, role="member").exists()


def test_owner_changes_roles_and_the_last_owner_stays(owner_client, owner, member, acme):
    member_row = Membership.objects.get(user=member, organization=acme)
    owner_row = Membership.objects.get(user=owner, organization=acme)
    owner_client.post(f"/dashboard/members/{member_row.pk}/role/", {"role": "admin"})
    assert Membership.objects.get(pk=member_row.pk).role == "admin"
    # Olivia is the only owner: she can neither demote herself nor leave.
    owner_client.post(f"/dashboard/members/{owner_row.pk}/role/", {"role": "member"})
    assert Membership.objects.get(pk=owner_row.pk).role == "owner"
    response = owner_client.post(f"/dashboard/members/{owner_row.pk}/remove/", follow=True)
    assert "needs an owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner_row.pk).exists()
    # With a second owner, she can step down.
    owner_client.post(f"/dashboard/members/{member_row.pk}/role/", {"role": "owner"})
    owner_client.post(f"/dashboard/members/{owner_row.pk}/role/", {"role": "member"})
    assert Membership.objects.get(pk=owner_row.pk).role == "member"


def test_admin_manages_members_but_not_owners(admin_client_acme, owner, member, acme):
    owner_row = Membership.objects.get(user=owner, organization=acme)
    member_row = Membership.objects.get(user=member, organization=acme)
    assert (
        admin_client_acme.post(
            f"/dashboard/members/{owner_row.pk}/role/", {"role": "member"}
        ).status_code
        == 403
    )
    assert admin_client_acme.post(f"/dashboard/members/{owner_row.pk}/remove/").status_code == 403
    assert (
        admin_client_acme.post(
            f"/dashboard/members/{member_row.pk}/role/", {"role": "owner"}
        ).status_code
        == 403
    )
    assert (
        admin_client_acme.post(
            f"/dashboard/members/{member_row.pk}/role/", {"role": "admin"}
        ).status_code
        == 302
    )
    assert admin_client_acme.post(f"/dashboard/members/{member_row.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member_row.pk).exists()
    assert Membership.objects.get(pk=owner_row.pk).role == "owner"


def leave_buttons(html: str) -> int:
    return len(re.findall(r"<button[^>]*>Leave\b", html))


def test_the_sole_owner_is_not_offered_leave(owner_client, owner, member, acme):
    members_page = owner_client.get("/dashboard/members/").content.decode()
    assert leave_buttons(members_page) == 0 and "Only owner" in members_page
    assert "make someone else owner before you leave" in members_page
    assert leave_buttons(owner_client.get("/dashboard/").content.decode()) == 0
    # With a second owner, either may leave, from the members page or the overview.
    member_row = Membership.objects.get(user=member, organization=acme)
    owner_client.post(f"/dashboard/members/{member_row.pk}/role/", {"role": "owner"})
    assert leave_buttons(owner_client.get("/dashboard/members/").content.decode()) == 1
    assert leave_buttons(owner_client.get("/dashboard/").content.decode()) == 1


def test_a_member_may_leave(member_client, member, acme):
    row = Membership.objects.get(user=member, organization=acme)
    response = member_client.post(f"/dashboard/members/{row.pk}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=row.pk).exists()


def test_rename_organisation(owner_client, acme):
    owner_client.post("/dashboard/organization/rename/", {"name": "Acme Health"})
    acme.refresh_from_db()
    assert acme.name == "Acme Health"


def test_invitation_admin_is_registered(admin_client, acme, owner):
    membership = Membership.objects.get(user=owner, organization=acme)
    invitation, _ = services.invitation_create(
        organization=acme, email="a@b.test", role="member", invited_by=owner, actor=membership
    )
    response = admin_client.get(f"/admin/accounts/invitation/{invitation.pk}/change/")
    assert response.status_code == 200
    assert "token_hash" not in response.content.decode()
