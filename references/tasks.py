import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def extract_reference(reference_id: str) -> None:
    from references import services  # the services module enqueues this task

    try:
        services.reference_extract(reference_id=reference_id)
    except SoftTimeLimitExceeded:
        services.reference_fail(
            reference_id=reference_id,
            code="extraction_timeout",
            message="Extracting the movement took too long. The video is kept.",
        )
    except Exception:
        logger.exception("Reference %s extraction failed", reference_id)
        services.reference_fail(
            reference_id=reference_id,
            code="extraction_failed",
            message="Extracting the movement failed unexpectedly. The video is kept.",
        )
