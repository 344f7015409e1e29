from allauth.account.adapter import DefaultAccountAdapter

from accounts import selectors, services
from accounts.current import switch_organization

PENDING_INVITATION_SESSION_KEY = "pending_invitation"


class AccountAdapter(DefaultAccountAdapter):
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
