import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from references import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def extract_reference(reference_id: str) -> None:
    attempt = None  # until claimed; every outcome is stored only while its attempt holds the job
    try:
        attempt = services.reference_claim(reference_id=reference_id)
        if attempt is not None:
            services.reference_extract(reference_id=reference_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        services.reference_fail(
            reference_id=reference_id,
            attempt=attempt,
            code="extraction_timeout",
            message="Extracting the movement took too long. The video is kept.",
        )
    except Exception:
        logger.exception("Reference %s extraction failed", reference_id)
        services.reference_fail(
            reference_id=reference_id,
            attempt=attempt,
            code="extraction_failed",
            message="Extracting the movement failed unexpectedly. The video is kept.",
        )
