"""Fault: the Celery worker is killed (SIGKILL) in the middle of an analysis.

The job was acknowledged late, so its message is still unacknowledged in Redis: after the
visibility timeout another worker gets it again, waits out the dead worker's lease in the database
and analyses the upload once more. The upload ends `done` once, with the same events as a clean
run, one call and one duration of usage, and no duplicated events.

Real processes: a private redis-server (so the short visibility timeout used here restores no
other test's messages), Celery workers on the PostgreSQL test database. CI only (Redis broker and
PostgreSQL); skipped otherwise.
"""

import os
import re
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Sum

from accounts.models import MonthlyUsage, UsageRecord
from config import background
from config.celery import app as celery_app
from tests.processes import PrivateRedis, Processes, server_database_url
from tests.support.clips import looped_clip
from tests.support.needs import needs, needs_tool
from tests.support.servers import wait_until
from tracking.models import Upload, UploadEvent

CURL_CLIP = Path(__file__).parent / "fixtures" / "clips" / "fitness-biceps-curls.mp4"
LOOPS = 3  # 34 s of video: about 9 s of analysis, time enough to kill the worker in the middle
VISIBILITY_TIMEOUT_S = 3
LEASE_S = 6

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    needs(
        settings.BACKGROUND_RUNNER != "celery" or connection.vendor != "postgresql",
        "needs the Celery runner (REDIS_URL) and PostgreSQL (DATABASE_URL): CI",
    ),
    needs_tool("redis-server"),
]


@pytest.fixture(scope="module")
def curls_looped(tmp_path_factory) -> Path:
    return looped_clip(CURL_CLIP, tmp_path_factory.mktemp("clips") / "curls-looped.mp4", LOOPS)


@pytest.fixture
def processes(tmp_path):
    stack = Processes(tmp_path, base_env=dict(os.environ))
    yield stack
    stack.close()


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def upload(client, token, clip: Path) -> str:
    data = {"file": SimpleUploadedFile(clip.name, clip.read_bytes()), "exercise": "bicep_curl"}
    response = client.post("/api/v1/uploads", data, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def finished(upload_id, timeout: float) -> Upload:
    return wait_until(
        lambda: (u := Upload.objects.get(pk=upload_id)).is_finished and u,
        timeout,
        f"upload {upload_id} to finish",
        interval=0.3,
    )


def timeline(upload_id) -> list[tuple[int, str, dict]]:
    return list(
        UploadEvent.objects.filter(upload_id=upload_id)
        .order_by("seq")
        .values_list("seq", "type", "payload")
    )


def test_a_worker_killed_mid_analysis_is_replaced_and_the_job_finishes_once(
    client, acme, acme_token, processes, curls_looped, settings, tmp_path, monkeypatch
):
    redis = PrivateRedis(processes)
    redis.start()
    queue = f"formtrack-kill-{os.getpid()}"
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {
        "DATABASE_URL": server_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "REDIS_URL": redis.url,
        "CELERY_QUEUE": queue,
        "CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "UPLOAD_ANALYSIS_LEASE_S": str(LEASE_S),
        "PYTHONUNBUFFERED": "1",
    }
    # Uploads accepted here are queued on the private broker, as the web process would.
    broker = celery_app.connection_for_write(redis.url)

    def enqueue(task_name, *args):
        transaction.on_commit(
            lambda: celery_app.send_task(task_name, args=args, queue=queue, connection=broker)
        )

    monkeypatch.setattr(background, "enqueue", enqueue)
    first = processes.celery_worker("worker-1", queue, env)

    # A clean run of the clip: what the interrupted one must end with.
    clean = finished(upload(client, acme_token, curls_looped), timeout=180)
    assert clean.status == "done", clean.error_message
    assert clean.attempts == 1 and clean.stats["worker"].startswith("worker-1@")

    # The same clip again; SIGKILL the worker (not its chunk processes) halfway through.
    upload_id = upload(client, acme_token, curls_looped)
    wait_until(
        lambda: Upload.objects.get(pk=upload_id).progress >= 20, 120, "the analysis to be underway"
    )
    chunk_workers = children_of(first.pid)
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(timeout=10)
    stalled = Upload.objects.get(pk=upload_id)
    assert stalled.status == "processing" and 20 <= stalled.progress < 100
    # The dead worker's chunk processes notice and end (no orphan keeps a core busy).
    wait_until(lambda: not any(alive(pid) for pid in chunk_workers), 20, "orphans to exit")

    second = processes.celery_worker("worker-2", queue, env)
    redone = finished(upload_id, timeout=180)
    recovery_s = time.monotonic() - killed_at
    print(f"worker killed at {stalled.progress}%: done {recovery_s:.1f} s later")

    assert redone.status == "done", redone.error_message
    assert redone.attempts == 2, "one interrupted attempt, one complete"
    assert redone.stats["worker"].startswith("worker-2@")
    # The very message the dead worker held was delivered again to the new one.
    killed_task = re.findall(r"analyze_upload\[([0-9a-f-]+)\] received", processes.log("worker-1"))
    assert f"analyze_upload[{killed_task[-1]}] received" in processes.log("worker-2")
    # Same result as the clean run, each event once.
    events, expected = timeline(upload_id), timeline(clean.pk)
    assert [seq for seq, _, _ in events] == list(range(len(events)))
    assert [(t, p) for _, t, p in events] == [(t, p) for _, t, p in expected]
    assert redone.summary == clean.summary
    final = [p for _, t, p in events if t == "counter" and p.get("final")]
    assert final[-1]["current_count"] == 6 * LOOPS
    # One call per upload, and each upload's duration counted once.
    assert MonthlyUsage.objects.get(organization=acme).calls == 2
    # Usage is kept per day, and this test may run across midnight: sum the days.
    usage = UsageRecord.objects.filter(organization=acme, kind="upload").aggregate(
        calls=Sum("calls"), seconds=Sum("seconds_tracked")
    )
    assert usage["calls"] == 2
    assert usage["seconds"] == pytest.approx(clean.duration_s + redone.duration_s)
    assert second.poll() is None
