"""Reads the dashboard's own pages need beyond each app's selectors."""

from dataclasses import dataclass

from accounts import selectors
from accounts.models import ApiToken
from references.models import ReferenceMovement


@dataclass(frozen=True)
class GettingStarted:
    """The overview's checklist, each step ticked by what has happened, never by a visit."""

    key_created: bool  # a publishable key for an app (not the playground's own)
    tried: bool  # a tracking page opened from the dashboard: the playground or a "Try it" link
    reference_recorded: bool
    embedded: bool  # a tracking page opened with a key from another site or an app

    @property
    def all_done(self) -> bool:
        return self.key_created and self.tried and self.reference_recorded and self.embedded


def getting_started(*, organization) -> GettingStarted:
    tokens = ApiToken.objects.for_org(organization)
    return GettingStarted(
        key_created=selectors.app_keys(organization=organization)
        .filter(kind=ApiToken.Kind.PUBLISHABLE)
        .exists(),
        tried=tokens.filter(tried_at__isnull=False).exists(),
        reference_recorded=ReferenceMovement.objects.for_org(organization).exists(),
        embedded=tokens.filter(embedded_at__isnull=False).exists(),
    )
