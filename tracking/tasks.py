"""Celery tasks: take an id, call a service. Errors are handled here, business logic is not."""

import logging
import threading

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from config import background
from tracking import privacy, uploads, webhooks
from tracking.models import Upload
from tracking.pose.chunks import idle_workers

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
MAX_RETRIES = 3


@worker_process_init.connect
def warm_up_pose_workers(**_) -> None:
    """Each Celery process starts its pose workers now rather than on its first video."""
    idle_workers.warm_up(settings.UPLOAD_ANALYSIS_WORKERS - 1)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def analyze_upload(self, upload_id: str) -> None:
    attempt = None  # until claimed; every outcome is stored only while its attempt holds the job
    try:
        attempt = uploads.upload_claim(upload_id=upload_id)
        if attempt is not None:
            uploads.upload_analyze(
                upload_id=upload_id, attempt=attempt, worker=self.request.hostname or ""
            )
    except uploads.UploadLeased as leased:
        # Redelivered while another worker holds the job (e.g. the one that died with it): look
        # again when the lease runs out, as a new task so this wait uses none of the retries.
        if not self.request.is_eager:
            queue = (self.request.delivery_info or {}).get("routing_key")  # the one it came from
            analyze_upload.apply_async(
                args=[upload_id], countdown=leased.seconds_left + 1, queue=queue
            )
    except SoftTimeLimitExceeded:
        uploads.upload_fail(
            upload_id=upload_id,
            attempt=attempt,
            code="analysis_timeout",
            message="The analysis took too long and was stopped. The file is kept.",
        )
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= MAX_RETRIES:
            uploads.upload_fail(
                upload_id=upload_id,
                attempt=attempt,
                code="analysis_failed",
                message="The analysis could not finish (a service was unavailable). "
                "The file is kept.",
            )
            return
        requeued = uploads.upload_requeue(upload_id=upload_id, attempt=attempt)
        # Not requeued (e.g. the database is still down): wait for the job's lease to run out.
        countdown = 30 * 2**self.request.retries if requeued else Upload.LEASE.seconds
        raise self.retry(exc=error, countdown=countdown) from error
    except Exception:
        logger.exception("Upload %s failed", upload_id)
        uploads.upload_fail(
            upload_id=upload_id,
            attempt=attempt,
            code="analysis_failed",
            message="The analysis failed unexpectedly. The file is kept; try again later.",
        )


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_upload_callback(self, upload_id: str) -> None:
    _deliver(self, webhooks.upload_callback_deliver, upload_id=upload_id)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_session_completed(self, result_id: str) -> None:
    _deliver(self, webhooks.session_completed_deliver, result_id=result_id)


def _deliver(task, deliver, **row_id) -> None:
    # The delivery keeps its own count of attempts (its row), so it sets when to stop.
    (pk,) = row_id.values()
    try:
        retry_in = deliver(**row_id)
    except TRANSIENT_ERRORS as error:
        # The database failed: the delivery is due again once an attempt's lease has run out.
        logger.warning("%s %s: webhook not attempted (%s)", task.name, pk, error)
        retry_in = webhooks.ATTEMPT_LEASE.total_seconds()
    if retry_in is None:
        return
    if not task.request.is_eager:
        raise task.retry(countdown=retry_in)
    # The in-process runner has no countdown: a timer queues the retry. One lost to a restart
    # stays due in the database, and requeue_uploads queues it again.
    timer = threading.Timer(retry_in, background.enqueue, (task.name, pk))
    timer.daemon = True
    timer.start()


@shared_task
def prune_end_user_data() -> None:
    # Periodic (CELERY_BEAT_SCHEDULE): no id, every organisation's expired results.
    privacy.end_user_data_prune()
