"""Run a Celery task in the background once the current transaction commits.

With a broker (REDIS_URL) the task goes to a real Celery worker. With the zero-config default the
task runs in a small in-process thread pool, so a request still never waits for an analysis.

A broker that cannot be reached is retried for a few seconds (CELERY_TASK_PUBLISH_RETRY_POLICY:
a Redis restart); past that the job is logged, not raised: the upload is stored and stays
`queued` until `manage.py requeue_uploads` queues it again.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

_local_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="formtrack-jobs")
logger = logging.getLogger(__name__)


def _run_locally(task, args):
    close_old_connections()
    try:
        task.apply(args=args, throw=False)
    finally:
        close_old_connections()


def _publish(task, args):
    try:
        task.apply_async(args=args)
    except Exception:
        logger.exception("%s%r not queued, broker unavailable", task.name, tuple(args))


def enqueue(task, *args):
    if settings.BACKGROUND_RUNNER == "celery":
        transaction.on_commit(lambda: _publish(task, args))
    else:
        transaction.on_commit(lambda: _local_pool.submit(_run_locally, task, args))
