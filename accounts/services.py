"""Writes for organisations, members, tokens and usage (reads live in selectors.py)."""

import datetime
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import errors, selectors
from accounts.models import (
    PLAYGROUND_TOKEN_NAME,
    ApiToken,
    Invitation,
    Membership,
    MonthlyUsage,
    Organization,
    UsageRecord,
    new_webhook_secret,
    secret_digest,
    validate_organization_name,
)
from accounts.origins import origin_of
from config.errors import FormTrackError

# last_used_at is written at most this often per token: a tracking page must not cost a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def organization_create(*, name: str, owner, plan: str = "free") -> Organization:
    org = Organization(name=name.strip(), plan=plan)
    org.full_clean()  # e.g. a line break in the name, which would break every invitation e-mail
    with transaction.atomic():
        org.save()
        Membership.objects.create(organization=org, user=owner, role=Membership.Role.OWNER)
    return org


def membership_add(*, organization, user, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


def token_create(
    *,
    organization,
    name: str,
    kind: str = ApiToken.Kind.SECRET,
    created_by=None,
    expires_at=None,
    allowed_origins=(),
) -> tuple[ApiToken, str]:
    """A new key and its secret. The secret is returned once and never stored."""
    origins = _origins(allowed_origins)
    raw = ApiToken.new_secret(kind)
    token = ApiToken.objects.create(
        organization=organization,
        name=name,
        kind=kind,
        prefix=ApiToken.visible_prefix(raw),
        digest=secret_digest(raw),
        created_by=created_by,
        expires_at=expires_at,
        allowed_origins=origins,
    )
    return token, raw


def _origins(values) -> list[str]:
    origins = set()
    for value in values:
        origin = origin_of(value)
        if origin is None:
            raise ValueError(f"'{value}' is not an origin like https://app.example.com")
        origins.add(origin)
    return sorted(origins)


def token_set_allowed_origins(*, token: ApiToken, allowed_origins) -> ApiToken:
    """Change where a key may be used from; empty: anywhere. Applies to the next page, socket
    or API call."""
    token.allowed_origins = _origins(allowed_origins)
    token.save(update_fields=["allowed_origins"])
    return token


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(
    raw: str, *, origin: str | None = None, origin_required: bool = True
) -> ApiToken:
    """The active token for a secret, checked against its allowed origins.

    `origin` is the request's Origin (or Referer) header. With `origin_required` (pages, sockets),
    a token that has allowed origins needs one of them; without it (the REST API, called from
    servers that send none) a request is only refused when it names an origin that is not allowed.
    """
    token = (
        ApiToken.objects.select_related("organization").filter(digest=secret_digest(raw)).first()
        if raw
        else None
    )
    if token is None:
        raise errors.invalid_token()
    return token_authorize(token, origin=origin, origin_required=origin_required)


def token_authorize(
    token: ApiToken, *, origin: str | None, origin_required: bool = True
) -> ApiToken:
    """The token itself when it is still active and usable from `origin` (see token_authenticate);
    for credentials that stand for a token without its secret, e.g. a single-use tracking link."""
    if not token.is_active:
        raise errors.invalid_token()
    request_origin = origin_of(origin) if origin else None
    if token.allowed_origins and (origin_required or request_origin is not None):
        if not token.allows_origin(request_origin):
            raise errors.origin_not_allowed(request_origin)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def webhook_secret_roll(*, organization: Organization) -> str:
    """A new signing secret for the organisation's callbacks; the old one stops at once."""
    organization.webhook_secret = new_webhook_secret()
    organization.save(update_fields=["webhook_secret"])
    return organization.webhook_secret


def organization_results_settings_set(
    *, organization: Organization, webhook_url: str, retention_days: int
) -> None:
    """Where session.completed goes (empty: nowhere), and how long end users' results are kept.
    The caller checks the address as callbacks are checked (tracking.webhooks)."""
    changed = ["webhook_url", "result_retention_days"]
    organization.webhook_url = webhook_url
    organization.result_retention_days = retention_days
    organization.clean_fields(
        exclude=[f.name for f in Organization._meta.fields if f.name not in changed]
    )
    organization.save(update_fields=changed)


def token_note_page_use(token: ApiToken) -> None:
    """Remember that a secret key opened a page or socket, or reached the REST API from a browser
    on another site, so the dashboard can warn that it sat in a page (where it should be a
    publishable key)."""
    now = timezone.now()
    last = token.used_in_page_at
    if token.is_secret and (last is None or now - last > LAST_USED_RESOLUTION):
        ApiToken.objects.filter(pk=token.pk).update(used_in_page_at=now)
        token.used_in_page_at = now


def token_note_page_open(token: ApiToken, *, from_own_site: bool) -> None:
    """Remember that a tracking page opened with the key: from our own site (tried in the
    dashboard) or from anywhere else (embedded in a site or an app), for the getting-started
    checklist."""
    field = "tried_at" if from_own_site else "embedded_at"
    now = timezone.now()
    last = getattr(token, field)
    if last is None or now - last > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(**{field: now})
        setattr(token, field, now)


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def usage_take_call(*, token: ApiToken, exercise: str, kind: str) -> None:
    """Take one call of the organisation's monthly quota, or raise `quota_exceeded`.

    The check and the increment are one conditional UPDATE, so two concurrent requests can never
    both take the last call.
    """
    org = token.organization
    today = timezone.localdate()
    month = _month_start(today)
    limit = org.monthly_call_limit
    # get_or_create survives a concurrent create of the same month (unique constraint + re-get).
    MonthlyUsage.objects.get_or_create(organization=org, month=month)
    taken = MonthlyUsage.objects.filter(organization=org, month=month, calls__lt=limit).update(
        calls=F("calls") + 1
    )
    if not taken:
        raise errors.quota_exceeded(limit)
    _usage_record_add(org=org, token=token, exercise=exercise, kind=kind, day=today, calls=1)


def usage_add_seconds(*, token: ApiToken, exercise: str, kind: str, seconds: float) -> None:
    _usage_record_add(
        org=token.organization,
        token=token,
        exercise=exercise,
        kind=kind,
        day=timezone.localdate(),
        seconds=seconds,
    )


def _usage_record_add(*, org, token, exercise, kind, day, calls=0, seconds=0.0) -> None:
    lookup = {"organization": org, "token": token, "exercise": exercise or "", "kind": kind}
    updated = UsageRecord.objects.filter(day=day, **lookup).update(
        calls=F("calls") + calls, seconds_tracked=F("seconds_tracked") + seconds
    )
    if updated:
        return
    try:
        with transaction.atomic():
            UsageRecord.objects.create(day=day, calls=calls, seconds_tracked=seconds, **lookup)
    except IntegrityError:
        UsageRecord.objects.filter(day=day, **lookup).update(
            calls=F("calls") + calls, seconds_tracked=F("seconds_tracked") + seconds
        )


# --- Dashboard: organisations, members, invitations ----------------------------------------------

INVITATION_LIFETIME = datetime.timedelta(days=7)
PLAYGROUND_TOKEN_LIFETIME = datetime.timedelta(hours=2)


class MembershipRejected(FormTrackError):
    """A member or invitation change the organisation's rules refuse (status 400 or 403)."""


def organization_rename(*, organization: Organization, name: str) -> Organization:
    name = (name or "").strip()
    if not name:
        raise MembershipRejected("invalid_name", "Give the organisation a name.")
    try:
        validate_organization_name(name)
    except ValidationError as error:
        raise MembershipRejected("invalid_name", error.messages[0]) from error
    organization.name = name[:120]
    organization.save(update_fields=["name"])
    return organization


def _require_manager(actor: Membership) -> None:
    if not actor.can_manage:
        raise MembershipRejected(
            "not_allowed", "Only owners and admins can manage members and tokens.", 403
        )


def _require_owner_for(actor: Membership, *roles: str) -> None:
    if Membership.Role.OWNER in roles and actor.role != Membership.Role.OWNER:
        raise MembershipRejected("not_allowed", "Only owners can give or take the owner role.", 403)


def _keep_an_owner(membership: Membership) -> None:
    if selectors.is_sole_owner(membership):
        raise MembershipRejected(
            "last_owner",
            "An organisation needs an owner: make someone else owner first.",
        )


def membership_change_role(*, membership: Membership, role: str, actor: Membership) -> Membership:
    if role not in Membership.Role.values:
        raise MembershipRejected("invalid_role", "Choose owner, admin or member.")
    _require_manager(actor)
    _require_owner_for(actor, role, membership.role)
    if role == membership.role:
        return membership
    with transaction.atomic():
        # Lock the owners so two concurrent demotions cannot leave the organisation ownerless.
        list(
            Membership.objects.select_for_update()
            .for_org(membership.organization_id)
            .filter(role=Membership.Role.OWNER)
        )
        _keep_an_owner(membership)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership, actor: Membership) -> None:
    """Remove a member; anyone may leave, managers remove others, only owners remove owners."""
    if membership.pk != actor.pk:
        _require_manager(actor)
        _require_owner_for(actor, membership.role)
    with transaction.atomic():
        list(
            Membership.objects.select_for_update()
            .for_org(membership.organization_id)
            .filter(role=Membership.Role.OWNER)
        )
        _keep_an_owner(membership)
        membership.delete()
        _playground_keys(membership.organization, membership.user).update(revoked_at=timezone.now())


def invitation_create(
    *, organization: Organization, email: str, role: str, invited_by, actor: Membership
) -> tuple[Invitation, str]:
    """A new (or renewed) invitation and the secret of its accept link, returned once."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise MembershipRejected("invalid_email", "Enter the e-mail address to invite.")
    if role not in Membership.Role.values:
        raise MembershipRejected("invalid_role", "Choose owner, admin or member.")
    _require_manager(actor)
    _require_owner_for(actor, role)
    already = Membership.objects.for_org(organization).filter(user__email__iexact=email)
    if already.exists():
        raise MembershipRejected("already_member", f"{email} is already a member.")
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation, _ = Invitation.objects.update_or_create(
            organization=organization,
            email=email,
            accepted_at=None,
            defaults={
                "role": role,
                "token_hash": secret_digest(raw),
                "invited_by": invited_by,
                "created_at": timezone.now(),
                "expires_at": timezone.now() + INVITATION_LIFETIME,
            },
        )
    return invitation, raw


def invitation_send(*, invitation: Invitation, accept_url: str) -> None:
    context = {
        "invitation": invitation,
        "accept_url": accept_url,
        "inviter": invitation.invited_by.email if invitation.invited_by else "A FormTrack user",
    }
    subject = f"Join {invitation.organization.name} on FormTrack"
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def invitation_cancel(*, invitation: Invitation, actor: Membership) -> None:
    _require_manager(actor)
    _require_owner_for(actor, invitation.role)
    if not invitation.is_accepted:
        invitation.delete()


def _emails_of(user) -> set[str]:
    emails = {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    if user.email:
        emails.add(user.email.lower())
    return emails


def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """Join the organisation: the invitation must be open and sent to one of the user's
    addresses."""
    if invitation.is_accepted:
        raise MembershipRejected("invitation_used", "This invitation has already been accepted.")
    if invitation.is_expired:
        raise MembershipRejected(
            "invitation_expired", "This invitation has expired: ask for a new one."
        )
    if invitation.email.lower() not in _emails_of(user):
        raise MembershipRejected(
            "wrong_account",
            f"This invitation was sent to {invitation.email}: "
            "log in with that address to accept it.",
            403,
        )
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at=None).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not updated:
            raise MembershipRejected(
                "invitation_used", "This invitation has already been accepted."
            )
        membership = Membership.objects.filter(
            organization=invitation.organization, user=user
        ).first()
        if membership is None:
            membership = Membership.objects.create(
                organization=invitation.organization, user=user, role=invitation.role
            )
    return membership


def invitations_accept_for_address(*, user, email: str) -> list[Membership]:
    """Accept every open invitation to `email` (called once the user has proved they own it)."""
    memberships = []
    open_invitations = Invitation.objects.filter(
        email__iexact=email, accepted_at=None, expires_at__gt=timezone.now()
    )
    for invitation in open_invitations:
        try:
            memberships.append(invitation_accept(invitation=invitation, user=user))
        except MembershipRejected:
            continue
    return memberships


def _playground_keys(organization: Organization, user):
    return ApiToken.objects.for_org(organization).filter(
        name=PLAYGROUND_TOKEN_NAME, created_by=user, revoked_at=None
    )


def playground_token_issue(*, organization: Organization, user) -> tuple[ApiToken, str]:
    """A short-lived publishable key for the dashboard playground; the user's previous one is
    revoked, and so is this one when the user leaves the organisation.

    Publishable, so any member may have one: it opens tracking pages, never the REST API.
    """
    with transaction.atomic():
        _playground_keys(organization, user).update(revoked_at=timezone.now())
        return token_create(
            organization=organization,
            name=PLAYGROUND_TOKEN_NAME,
            kind=ApiToken.Kind.PUBLISHABLE,
            created_by=user,
            expires_at=timezone.now() + PLAYGROUND_TOKEN_LIFETIME,
        )
