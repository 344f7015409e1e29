"""Reads for organisations and usage."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import (
    PLAYGROUND_TOKEN_NAME,
    ApiToken,
    Invitation,
    Membership,
    MonthlyUsage,
    UsageRecord,
    secret_digest,
)
from config.errors import FormTrackError


@dataclass(frozen=True)
class QuotaStatus:
    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.used / self.limit) if self.limit else 100.0


def quota_status(*, organization) -> QuotaStatus:
    month = timezone.localdate().replace(day=1)
    row = MonthlyUsage.objects.for_org(organization).filter(month=month).first()
    return QuotaStatus(limit=organization.monthly_call_limit, used=row.calls if row else 0)


def memberships_of(user):
    return Membership.objects.filter(user=user).select_related("organization")


def members_of(*, organization):
    return (
        Membership.objects.for_org(organization)
        .select_related("user")
        .order_by("user__email", "user__username")
    )


def is_sole_owner(membership: Membership) -> bool:
    """An organisation keeps an owner: its only one may not leave or step down."""
    if membership.role != Membership.Role.OWNER:
        return False
    owners = Membership.objects.for_org(membership.organization_id).filter(
        role=Membership.Role.OWNER
    )
    return not owners.exclude(pk=membership.pk).exists()


def open_invitations_of(*, organization):
    return (
        Invitation.objects.for_org(organization)
        .filter(accepted_at=None)
        .select_related("invited_by")
        .order_by("email")
    )


def invitation_for_secret(raw: str) -> Invitation | None:
    if not raw:
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=secret_digest(raw))
        .first()
    )


def app_keys(*, organization):
    """The organisation's keys, but the short-lived ones the dashboard's playground makes."""
    return ApiToken.objects.for_org(organization).exclude(name=PLAYGROUND_TOKEN_NAME)


def tokens_with_month_calls(*, organization):
    """The organisation's tokens, newest first, each with `calls_this_month` from the usage rows."""
    month = timezone.localdate().replace(day=1)
    return (
        ApiToken.objects.for_org(organization)
        .select_related("created_by")
        .annotate(
            calls_this_month=Sum("usage_records__calls", filter=Q(usage_records__day__gte=month)),
        )
        .order_by("-created_at")
    )


# --- Usage reports -------------------------------------------------------------------------------

GROUPS = ("day", "token", "member", "exercise", "kind")
# What every plan gets; the other groups are the team report (`team_reports` plan feature).
SUMMARY_GROUPS = ("day",)
MAX_RANGE_DAYS = 366


class UsageQueryError(FormTrackError):
    """A bad `from`, `to` or `group_by`: the API's answer names the parameter (`param`)."""

    def __init__(self, param: str, message: str):
        super().__init__("invalid_parameter", message)
        self.param = param

    def to_event(self) -> dict:
        return super().to_event() | {"param": self.param}


@dataclass(frozen=True)
class UsageQuery:
    start: datetime.date
    end: datetime.date
    group_by: str = "day"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _parse_day(params, name: str, default: datetime.date) -> datetime.date:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise UsageQueryError(
            name, f"'{name}' must be a date like 2025-01-31 (YYYY-MM-DD), got '{value[:40]}'."
        ) from None


def usage_query_parse(params, *, today: datetime.date | None = None) -> UsageQuery:
    """`from`, `to` (ISO dates, inclusive; default: this month so far) and `group_by`."""
    today = today or timezone.localdate()
    start = _parse_day(params, "from", today.replace(day=1))
    end = _parse_day(params, "to", today if not params.get("from") else max(start, today))
    if start > end:
        raise UsageQueryError("from", f"'from' ({start}) must not be after 'to' ({end}).")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise UsageQueryError(
            "to", f"The range may cover at most {MAX_RANGE_DAYS} days: narrow 'from' or 'to'."
        )
    group_by = (params.get("group_by") or "day").strip()
    if group_by not in GROUPS:
        raise UsageQueryError(
            "group_by", f"'group_by' must be one of {', '.join(GROUPS)}, got '{group_by[:40]}'."
        )
    return UsageQuery(start=start, end=end, group_by=group_by)


@dataclass(frozen=True)
class UsageRow:
    key: str
    label: str
    calls: int
    seconds_tracked: float
    extra: tuple = ()

    @property
    def minutes_tracked(self) -> float:
        return round(self.seconds_tracked / 60, 2)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "calls": self.calls,
            "seconds_tracked": round(self.seconds_tracked, 3),
            "minutes_tracked": self.minutes_tracked,
            **dict(self.extra),
        }


@dataclass(frozen=True)
class UsageTotals:
    calls: int
    seconds_tracked: float
    active_days: int

    @property
    def minutes_tracked(self) -> float:
        return round(self.seconds_tracked / 60, 2)

    def to_dict(self) -> dict:
        return {
            "calls": self.calls,
            "seconds_tracked": round(self.seconds_tracked, 3),
            "minutes_tracked": self.minutes_tracked,
            "active_days": self.active_days,
        }


def _usage_rows(organization, query: UsageQuery):
    return UsageRecord.objects.for_org(organization).filter(
        day__gte=query.start, day__lte=query.end
    )


def usage_totals(*, organization, query: UsageQuery) -> UsageTotals:
    totals = _usage_rows(organization, query).aggregate(
        calls_sum=Sum("calls"),
        seconds_sum=Sum("seconds_tracked"),
        days_count=Count("day", distinct=True, filter=Q(calls__gt=0) | Q(seconds_tracked__gt=0)),
    )
    return UsageTotals(
        calls=totals["calls_sum"] or 0,
        seconds_tracked=totals["seconds_sum"] or 0.0,
        active_days=totals["days_count"] or 0,
    )


# Usage recorded without an exercise: tracking a reference movement, or none named.
NO_EXERCISE_LABEL = "Reference movement / none"


def usage_report(
    *, organization, query: UsageQuery, exercise_label: Callable[[str], str]
) -> list[UsageRow]:
    """Calls and seconds tracked per group. `day` lists every day of the range (zeros included);
    the other groups list what has usage, most calls first. `exercise_label` names an exercise id
    (the exercise catalog is above this layer)."""
    rows = _usage_rows(organization, query)
    sums = {"calls_sum": Sum("calls"), "seconds_sum": Sum("seconds_tracked")}
    group_by = query.group_by
    if group_by == "day":
        by_day = {r["day"]: r for r in rows.values("day").annotate(**sums)}
        result = []
        for offset in range(query.days):
            day = query.start + datetime.timedelta(days=offset)
            found = by_day.get(day, {})
            result.append(
                UsageRow(
                    key=day.isoformat(),
                    label=day.isoformat(),
                    calls=found.get("calls_sum") or 0,
                    seconds_tracked=found.get("seconds_sum") or 0.0,
                )
            )
        return result
    if group_by == "token":
        grouped = rows.values("token", "token__name", "token__prefix").annotate(**sums)
        result = [
            UsageRow(
                key=str(r["token"]) if r["token"] else "",
                label=r["token__name"] or "Deleted token",
                calls=r["calls_sum"] or 0,
                seconds_tracked=r["seconds_sum"] or 0.0,
                extra=(("token_prefix", r["token__prefix"] or ""),),
            )
            for r in grouped
        ]
    elif group_by == "member":
        grouped = rows.values("token__created_by", "token__created_by__email").annotate(**sums)
        result = [
            UsageRow(
                key=str(r["token__created_by"]) if r["token__created_by"] else "",
                label=r["token__created_by__email"] or "No member (token without creator)",
                calls=r["calls_sum"] or 0,
                seconds_tracked=r["seconds_sum"] or 0.0,
            )
            for r in grouped
        ]
    elif group_by == "exercise":
        grouped = rows.values("exercise").annotate(**sums)
        result = [
            UsageRow(
                key=r["exercise"],
                label=exercise_label(r["exercise"]) if r["exercise"] else NO_EXERCISE_LABEL,
                calls=r["calls_sum"] or 0,
                seconds_tracked=r["seconds_sum"] or 0.0,
            )
            for r in grouped
        ]
    else:
        kinds = dict(UsageRecord.Kind.choices)
        grouped = rows.values("kind").annotate(**sums)
        result = [
            UsageRow(
                key=r["kind"],
                label=kinds.get(r["kind"], r["kind"]),
                calls=r["calls_sum"] or 0,
                seconds_tracked=r["seconds_sum"] or 0.0,
            )
            for r in grouped
        ]
    return sorted(result, key=lambda row: (-row.calls, -row.seconds_tracked, row.label))


def usage_group_allowed(*, organization, group_by: str) -> bool:
    return group_by in SUMMARY_GROUPS or organization.plan_obj.allows("team_reports")
