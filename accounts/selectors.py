"""Reads for organisations and usage."""

from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Membership, MonthlyUsage


@dataclass(frozen=True)
class QuotaStatus:
    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


def quota_status(*, organization) -> QuotaStatus:
    month = timezone.localdate().replace(day=1)
    row = MonthlyUsage.objects.for_org(organization).filter(month=month).first()
    return QuotaStatus(limit=organization.monthly_call_limit, used=row.calls if row else 0)


def memberships_of(user):
    return Membership.objects.filter(user=user).select_related("organization")
