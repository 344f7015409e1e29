"""Writes for organisations, members, tokens and usage (reads live in selectors.py)."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import errors
from accounts.models import (
    VISIBLE_PREFIX_LENGTH,
    ApiToken,
    Membership,
    MonthlyUsage,
    Organization,
    UsageRecord,
    origin_of,
    token_digest,
)

# last_used_at is written at most this often per token: a tracking page must not cost a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def organization_create(*, name: str, owner, plan: str = "free") -> Organization:
    with transaction.atomic():
        org = Organization.objects.create(name=name, plan=plan)
        Membership.objects.create(organization=org, user=owner, role=Membership.Role.OWNER)
    return org


def membership_add(*, organization, user, role: str = Membership.Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    return membership


def token_create(
    *, organization, name: str, created_by=None, expires_at=None, allowed_origins=()
) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is returned once and never stored."""
    origins = []
    for value in allowed_origins:
        origin = origin_of(value)
        if origin is None:
            raise ValueError(f"'{value}' is not an origin like https://app.example.com")
        origins.append(origin)
    raw = ApiToken.new_secret()
    token = ApiToken.objects.create(
        organization=organization,
        name=name,
        prefix=raw[:VISIBLE_PREFIX_LENGTH],
        digest=token_digest(raw),
        created_by=created_by,
        expires_at=expires_at,
        allowed_origins=sorted(set(origins)),
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw: str, *, origin: str | None = None, browser: bool = True) -> ApiToken:
    """The active token for a secret, checked against its allowed origins.

    `origin` is the request's Origin (or Referer) header. Browser contexts (pages, WebSockets) must
    send one that is allowed; server-to-server API calls send none and are only refused when they
    do name an origin that is not allowed.
    """
    token = (
        ApiToken.objects.select_related("organization").filter(digest=token_digest(raw)).first()
        if raw
        else None
    )
    if token is None or not token.is_active:
        raise errors.invalid_token()
    request_origin = origin_of(origin) if origin else None
    if token.allowed_origins and (browser or request_origin is not None):
        if not token.allows_origin(request_origin):
            raise errors.origin_not_allowed(request_origin)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


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
