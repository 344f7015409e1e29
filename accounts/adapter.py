from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts import selectors, services
from accounts.dashboard import switch_organization

PENDING_INVITATION_SESSION_KEY = "pending_invitation"


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

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit and not self._accept_pending_invitation(request, user):
            # Every new account starts with its own organisation, which it owns.
            services.organization_create(name=f"{user.email.split('@')[0]}'s team", owner=user)
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
