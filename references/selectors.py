"""Reads for reference movements."""

from references.models import ReferenceMovement


class ReferenceUnavailable(Exception):
    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


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
