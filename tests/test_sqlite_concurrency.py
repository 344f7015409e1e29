"""The embedded SQLite default takes concurrent writes: parallel uploads each take their call of the
quota in one transaction (read, then write), and none fails with "database is locked".

Run in a fresh process on a file database, as `make run` and a small self-hosted install use it
(the test database is in memory, where SQLite locks differently)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THREADS = 10
CALLS_EACH = 5

pytestmark = pytest.mark.slow  # a process of its own, with parallel writers

# What upload_create does for each accepted upload: take one call inside a transaction.
SCRIPT = f"""
import json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
call_command("migrate", verbosity=0)
from accounts import services
from accounts.models import MonthlyUsage
from django.contrib.auth import get_user_model

owner = get_user_model().objects.create_user(username="olivia@acme.test", password="x")
org = services.organization_create(name="Acme", owner=owner, plan="developer")
token, _ = services.token_create(organization=org, name="uploads")
connection.close()
start, errors = threading.Barrier({THREADS}), []

def upload_calls():
    start.wait()
    try:
        for _ in range({CALLS_EACH}):
            with transaction.atomic():
                services.usage_take_call(token=token, exercise="squat", kind="upload")
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=upload_calls) for _ in range({THREADS})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({{
    "errors": errors,
    "calls": MonthlyUsage.objects.get(organization=org).calls,
    "journal_mode": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0],
}}))
"""


def test_parallel_uploads_on_the_sqlite_default_all_take_their_call(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["errors"] == []
    assert outcome["calls"] == THREADS * CALLS_EACH
    assert outcome["journal_mode"] == "wal"
