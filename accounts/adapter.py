from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import selectors, services
from accounts.current import switch_organization
from accounts.models import Organization, breaks_one_line

PENDING_INVITATION_SESSION_KEY = "pending_invitation"
DEFAULT_ORGANIZATION_NAME = "My team"


def default_organization_name(email: str) -> str:
    """A new account's own organisation, named after its e-mail's local part ("ana's team"):
    one line of text that fits the name's length, or "My team" when nothing of it is left."""
    suffix = "'s team"
    local = email.rpartition("@")[0].strip('"')  # a quoted local part's quotes are not its name
    local = "".join(c for c in local if not breaks_one_line(c)).strip()
    room = Organization._meta.get_field("name").max_length - len(suffix)
    local = local[:room].rstrip()
    return f"{local}{suffix}" if local else DEFAULT_ORGANIZATION_NAME


def site_link(path: str) -> str:
    """An absolute link for an e-mail: on SITE_URL, never on the Host header of the request that
    caused the e-mail (a password-reset request naming another site would send its victim
    there, with the reset key)."""
    return settings.SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class EmailSite:
    """`current_site` in allauth's e-mail templates, which would otherwise be the request's Host."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        """Every e-mail allauth sends. It builds its links (password reset, e-mail confirmation,
        sign-up) on the request's Host: they are rebuilt on SITE_URL."""
        host = self.request.get_host() if self.request else None
        on_site = {}
        for key, value in context.items():
            parts = urlsplit(value) if isinstance(value, str) else None
            if parts and parts.scheme in ("http", "https") and parts.netloc == host:
                value = site_link(urlunsplit(("", "", parts.path, parts.query, parts.fragment)))
            on_site[key] = value
        site = EmailSite(name="FormTrack", domain=urlsplit(settings.SITE_URL).netloc)
        super().send_mail(template_prefix, email, {**on_site, "current_site": site})

    def clean_email(self, email: str) -> str:
        """Sign-up and added addresses. A quoted local part may hold control characters, which
        would reach e-mail headers and the organisation's default name."""
        if any(breaks_one_line(c) for c in email):
            raise ValidationError(
                "Enter an e-mail address without control or formatting characters.",
                code="invalid_characters",
            )
        return super().clean_email(email)

    def save_user(self, request, user, form, commit=True):
        # One transaction: an account never exists without its organisation.
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit and not self._accept_pending_invitation(request, user):
                # Every new account starts with its own organisation, which it owns.
                services.organization_create(name=default_organization_name(user.email), owner=user)
        return user

    def _accept_pending_invitation(self, request, user) -> bool:
        """Signed up from an invitation link, with the invited address: join that organisation.

        Following the link proves the user received the e-mail, so no second confirmation.
        """
        secret = request.session.pop(PENDING_INVITATION_SESSION_KEY, None) if request else None
        invitation = selectors.invitation_for_secret(secret) if secret else None
        if invitation is None or invitation.email.lower() != (user.email or "").lower():
            return False
        try:
            membership = services.invitation_accept(invitation=invitation, user=user)
        except services.MembershipRejected:
            return False
        switch_organization(request, membership)
        return True

    def confirm_email(self, request, email_address):
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            # A confirmed address may hold open invitations: accept them now.
            services.invitations_accept_for_address(
                user=email_address.user, email=email_address.email
            )
        return confirmed
