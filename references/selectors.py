"""Reads for reference movements."""

from dataclasses import dataclass

from config.errors import FormTrackError
from references.models import ReferenceMovement


@dataclass(frozen=True)
class ReferenceAllowance:
    """How many reference movements the organisation's plan allows (None: any number), and has."""

    limit: int | None
    used: int

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def reached(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def reference_allowance(*, organization) -> ReferenceAllowance:
    return ReferenceAllowance(
        limit=organization.plan_obj.max_references,
        used=ReferenceMovement.objects.for_org(organization).count(),
    )


class ReferenceUnavailable(FormTrackError):
    """A reference that cannot be used: not found in the organisation, not ready, or failed."""


def reference_signature_for(*, organization, reference_id) -> dict:
    """The signature of a ready reference of this organisation.

    Another organisation's reference gets exactly the error of a missing one.
    """
    reference = ReferenceMovement.objects.for_org(organization).filter(pk=reference_id).first()
    if reference is None:
        raise ReferenceUnavailable(
            "reference_not_found",
            f"Reference movement {reference_id} was not found in your organisation.",
            404,
        )
    if reference.status == ReferenceMovement.Status.PROCESSING:
        raise ReferenceUnavailable(
            "reference_not_ready",
            "This reference movement is still being processed: try again in a moment.",
            409,
        )
    if reference.status == ReferenceMovement.Status.FAILED:
        raise ReferenceUnavailable(
            "reference_failed",
            f"This reference movement could not be processed: {reference.error_message}",
            409,
        )
    return reference.signature
