"""Run a Celery task in the background once the current transaction commits.

With a broker (REDIS_URL) the task goes to a real Celery worker. With the zero-config default the
task runs in a small in-process thread pool, so a request still never waits for an analysis.
"""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

_local_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="formtrack-jobs")


def _run_locally(task, args):
    close_old_connections()
    try:
        task.apply(args=args, throw=False)
    finally:
        close_old_connections()


def enqueue(task, *args):
    if settings.BACKGROUND_RUNNER == "celery":
        task.delay_on_commit(*args)
    else:
        transaction.on_commit(lambda: _local_pool.submit(_run_locally, task, args))
