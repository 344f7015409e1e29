"""Run upload analyses the way the deployment does: a real Celery worker with Redis (CI), or the
in-process background runner (the zero-config default)."""

import os

from django.conf import settings


def worker_queue() -> str:
    return f"formtrack-tests-{os.getpid()}"


def uses_celery() -> bool:
    return settings.BACKGROUND_RUNNER == "celery"
