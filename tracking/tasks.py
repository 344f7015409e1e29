"""Celery tasks: take an id, call a service. Errors are handled here, business logic is not."""

import logging
import threading

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from config import background
from tracking import webhooks

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
MAX_RETRIES = 3


@worker_process_init.connect
def warm_up_pose_workers(**_) -> None:
    """Each Celery process starts its pose workers now rather than on its first video."""
    from tracking.pose.chunks import idle_workers

    idle_workers.warm_up(settings.UPLOAD_ANALYSIS_WORKERS - 1)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def analyze_upload(self, upload_id: str) -> None:
    from tracking import services  # the services module enqueues this task

    try:
        services.upload_analyze(upload_id=upload_id, worker=self.request.hostname or "")
    except services.UploadLeased as leased:
        # Redelivered while another worker holds the job (e.g. the one that died with it): look
        # again when the lease runs out, as a new task so this wait uses none of the retries.
        if not self.request.is_eager:
            queue = (self.request.delivery_info or {}).get("routing_key")  # the one it came from
            analyze_upload.apply_async(
                args=[upload_id], countdown=leased.seconds_left + 1, queue=queue
            )
    except SoftTimeLimitExceeded:
        services.upload_fail(
            upload_id=upload_id,
            code="analysis_timeout",
            message="The analysis took too long and was stopped. The file is kept.",
        )
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= MAX_RETRIES:
            services.upload_fail(
                upload_id=upload_id,
                code="analysis_failed",
                message="The analysis could not finish (a service was unavailable). "
                "The file is kept.",
            )
            return
        requeued = services.upload_requeue(upload_id=upload_id)
        # Not requeued (e.g. the database is still down): wait for the job's lease to run out.
        countdown = 30 * 2**self.request.retries if requeued else services.ANALYSIS_LEASE.seconds
        raise self.retry(exc=error, countdown=countdown) from error
    except Exception:
        logger.exception("Upload %s failed", upload_id)
        services.upload_fail(
            upload_id=upload_id,
            code="analysis_failed",
            message="The analysis failed unexpectedly. The file is kept; try again later.",
        )


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_upload_callback(self, upload_id: str) -> None:
    # The delivery keeps its own count of attempts (the upload row), so it sets when to stop.
    try:
        retry_in = webhooks.upload_callback_deliver(upload_id=upload_id)
    except TRANSIENT_ERRORS as error:
        # The database failed: the delivery is due again once an attempt's lease has run out.
        logger.warning("Upload %s: callback not attempted (%s)", upload_id, error)
        retry_in = webhooks.ATTEMPT_LEASE.total_seconds()
    if retry_in is None:
        return
    if not self.request.is_eager:
        raise self.retry(countdown=retry_in)
    # The in-process runner has no countdown: a timer queues the retry. One lost to a restart
    # stays due in the database, and requeue_uploads queues it again.
    timer = threading.Timer(retry_in, background.enqueue, (deliver_upload_callback, upload_id))
    timer.daemon = True
    timer.start()
