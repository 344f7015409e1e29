"""Run upload analyses the way the deployment does: a real Celery worker with Redis (CI), or the
in-process background runner (the zero-config default)."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def start_celery_worker(media_root: Path) -> subprocess.Popen:
    """A real worker process on the test database, the test media folder and a private queue."""
    env = dict(os.environ)
    db = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["MEDIA_ROOT"] = str(media_root)
    env["CELERY_QUEUE"] = worker_queue()  # what the worker queues itself (callbacks) comes back
    worker = subprocess.Popen(  # noqa: S603 - our own worker command
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            worker_queue(),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    time.sleep(2)
    assert worker.poll() is None, "the Celery worker exited at start-up"
    return worker


def worker_queue() -> str:
    return f"formtrack-tests-{os.getpid()}"


def uses_celery() -> bool:
    return settings.BACKGROUND_RUNNER == "celery"
