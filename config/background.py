"""Run a Celery task in the background once the current transaction commits.

With a broker (REDIS_URL) the task goes to a real Celery worker. With the zero-config default the
task runs in a small in-process thread pool, so a request still never waits for an analysis.

Tasks are queued by name, the way a worker finds them: a task calls the services that queue it,
so those services cannot import it (no import cycle).

A broker that cannot be reached is retried for a few seconds (CELERY_TASK_PUBLISH_RETRY_POLICY:
a Redis restart); past that the job is logged, not raised: the upload is stored and stays
`queued` until `manage.py requeue_uploads` queues it again.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

from config.celery import app

_local_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="formtrack-jobs")
logger = logging.getLogger(__name__)


def registered_task(name: str):
    """The task of that name, its app's tasks module imported as a worker imports it."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def _run_locally(name, args):
    close_old_connections()
    try:
        registered_task(name).apply(args=args, throw=False)
    except Exception:  # the task's own errors are its to handle: this is an unknown name
        logger.exception("%s%r not run", name, tuple(args))
    finally:
        close_old_connections()


def _publish(name, args):
    try:
        app.send_task(name, args=args)
    except Exception:
        logger.exception("%s%r not queued, broker unavailable", name, tuple(args))


def enqueue(task_name: str, *args):
    if settings.BACKGROUND_RUNNER == "celery":
        transaction.on_commit(lambda: _publish(task_name, args))
    else:
        transaction.on_commit(lambda: _local_pool.submit(_run_locally, task_name, args))
