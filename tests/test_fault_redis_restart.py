"""Fault: Redis restarts (and loses everything: no persistence) while sessions and analyses run.

Live landmark sessions keep their engine state in the Daphne process and do not use the channel
layer, so they do not notice. An analysis goes on: its progress pushes fail while Redis is down
(logged, not raised; the database keeps the progress) and it ends `done`. Upload progress sockets
close with 4503 (service unavailable: try again) and work again once reconnected. An upload sent
while Redis is down is queued once it is back (publishing is retried for a few seconds), and the
worker, reconnected to the broker, analyses it.

The machine's shared Redis is left alone: the test restarts a private redis-server of its own, with
a Daphne and a Celery worker pointed at it, on the PostgreSQL test database. CI only.
"""

import os
import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.processes import (
    Closed,
    PrivateRedis,
    Processes,
    WebSocket,
    post_upload,
    server_database_url,
    stream_frames,
    tracking_socket,
)
from tests.support.clips import landmark_messages, looped_clip
from tests.support.needs import needs, needs_tool
from tests.support.servers import free_port, wait_until
from tracking.models import Upload

CLIPS = Path(__file__).parent / "fixtures" / "clips"
REDIS_DOWN_S = 2.0
# A task that ends while the broker is down cannot be acknowledged: kombu logs this with its
# traceback and Celery restores the message, which the job's claim then skips (attempts stay 1).
LOST_ACK = "Couldn't ack"
LOG_RECORD = re.compile(r"^(?=\[\d{4}-\d\d-\d\d )", re.MULTILINE)


def _unexpected_tracebacks(log: str) -> list[str]:
    """The worker's log records that carry a traceback, but for the broker's lost acks."""
    records = LOG_RECORD.split(log)
    return [r for r in records if "Traceback" in r and LOST_ACK not in r.splitlines()[0]]


pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    needs(connection.vendor != "postgresql", "needs PostgreSQL (DATABASE_URL): CI"),
    needs_tool("redis-server"),
]


@pytest.fixture
def stack(tmp_path):
    """A private Redis, a Daphne and a Celery worker on it; all stopped at the end."""
    processes = Processes(tmp_path, base_env=dict(os.environ))
    redis = PrivateRedis(processes)
    try:
        redis.start()
        port = free_port()
        env = {
            "DATABASE_URL": server_database_url(),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": redis.url,
            "CELERY_QUEUE": f"formtrack-redis-restart-{os.getpid()}",
            "PYTHONUNBUFFERED": "1",
        }
        processes.daphne("daphne", port, env)
        processes.celery_worker("worker", env["CELERY_QUEUE"], env)
        yield processes, redis, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    finally:
        processes.close()


def restart(redis: PrivateRedis, while_down=None) -> None:
    redis.stop()
    if while_down:
        while_down()
    threading.Event().wait(REDIS_DOWN_S)
    redis.start()


def test_live_sessions_keep_counting_through_a_redis_restart(acme_token, stack):
    processes, redis, _, ws_url = stack
    frames = list(landmark_messages())
    half = len(frames) // 2
    session = tracking_socket(ws_url, acme_token, exercise="squat")
    assert session.receive()["type"] == "session_started"
    events = stream_frames(session, frames[:half])
    opened_while_down = []

    def while_down():
        # Frames keep flowing while Redis is down, and a new session opens normally.
        events.extend(stream_frames(session, frames[half : half + 10]))
        other = tracking_socket(ws_url, acme_token, exercise="squat")
        opened_while_down.append(other.receive())
        other.close()

    restart(redis, while_down)
    events += stream_frames(session, frames[half + 10 :])
    session.send_json({"type": "finish"})
    events += session.receive_until(lambda e: isinstance(e, Closed))

    assert opened_while_down[0]["type"] == "session_started"
    counters = [e for e in events if isinstance(e, dict) and e["type"] == "counter"]
    assert counters[-1]["current_count"] == 4, "the count went on across the restart"
    assert any(isinstance(e, dict) and e["type"] == "exercise_summary" for e in events)
    assert events[-1].code == 1000
    assert not [e for e in events if isinstance(e, dict) and e["type"] == "error"]
    assert "Exception inside application" not in processes.log("daphne")


def test_an_analysis_and_its_progress_page_survive_a_redis_restart(acme_token, stack, tmp_path):
    processes, redis, http_url, ws_url = stack
    clip = looped_clip(CLIPS / "fitness-biceps-curls.mp4", tmp_path / "curls-looped.mp4", 3)
    status, created = post_upload(http_url, acme_token, clip, exercise="bicep_curl")
    assert status == 202, created
    progress = WebSocket(ws_url + created["progress_ws"])
    seen = progress.receive_until(lambda e: 10 <= e.get("progress", 0) < 100, timeout=120)
    assert seen[-1]["status"] == "processing"

    # An upload sent while Redis is down: its job is published once Redis is back (retried).
    during = []

    def send_during_outage():
        started = time.monotonic()
        answer = post_upload(
            http_url, acme_token, CLIPS / "fitness-squat-counter.mp4", exercise="squat"
        )
        during.append((*answer, time.monotonic() - started))

    sender = threading.Thread(target=send_during_outage)
    restart(redis, while_down=sender.start)
    # The socket was closed by the server (try again later) or still works; the page's polling
    # covers the gap either way. Reconnected, it gets the current state, then the pushes.
    ending = progress.receive_until(
        lambda e: isinstance(e, Closed) or e.get("status") == "done", timeout=120
    )
    closed_with = ending[-1].code if isinstance(ending[-1], Closed) else None
    assert closed_with in (None, 4503), ending[-3:]
    again = WebSocket(ws_url + created["progress_ws"])
    events = again.receive_until(lambda e: e.get("status") == "done", timeout=120)
    assert events[-1]["progress"] == 100
    again.close()

    upload = Upload.objects.get(pk=created["id"])
    assert upload.status == "done" and upload.attempts == 1, upload.error_message
    worker_log = processes.log("worker")
    assert "status not pushed" in worker_log, "pushes failed while Redis was down"
    assert not _unexpected_tracebacks(worker_log.split("ready.", 1)[1])
    assert "Exception inside application" not in processes.log("daphne")

    # The worker is back on the restarted broker: the job sent during the outage is not lost.
    sender.join(timeout=30)
    status, second, post_s = during[0]
    assert status == 202, second
    wait_until(lambda: Upload.objects.get(pk=second["id"]).status == "done", 120, "the next upload")
    print(
        f"Redis down {REDIS_DOWN_S} s: progress socket closed with {closed_with or 'nothing'}, "
        f"{worker_log.count('status not pushed')} pushes failed and were logged, upload done; "
        f"an upload sent meanwhile answered {status} in {post_s:.1f} s and was analysed"
    )
