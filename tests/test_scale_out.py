"""Scale-out as deployed (docs/deploy.md): two Daphne processes and two Celery workers on loopback,
sharing one PostgreSQL database (the test database) and one Redis (channel layer and broker).

- uploads are spread over both workers (each upload's stats record the worker that analysed it);
- progress pushed by whichever worker reaches a progress socket on either Daphne (each upload's
  socket is opened on the Daphne that did not receive the upload);
- a live session on one Daphne runs on when the other Daphne stops;
- deploy/nginx.conf (when nginx is installed) fronts both: uploads, progress and live sessions go
  through it, WebSocket upgrades included, spread over both servers.

CI only (Redis and PostgreSQL); skipped otherwise. Every process is stopped at the end.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from tests.processes import (
    Closed,
    Processes,
    WebSocket,
    post_upload,
    server_database_url,
    stream_frames,
    tracking_socket,
)
from tests.support.clips import landmark_messages
from tests.support.needs import needs, needs_tool
from tests.support.servers import free_port, nginx_config, port_open, stop, wait_until
from tracking.models import Upload

ROOT = Path(__file__).resolve().parent.parent
SQUAT_CLIP = ROOT / "tests" / "fixtures" / "clips" / "fitness-squat-counter.mp4"
UPLOADS = 4

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    needs(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        "needs Redis (REDIS_URL) and PostgreSQL (DATABASE_URL): CI",
    ),
]


@pytest.fixture
def cluster(tmp_path):
    """Daphne A and B, workers w1 and w2, on a queue of their own; all stopped at the end."""
    processes = Processes(tmp_path, base_env=dict(os.environ))
    env = {
        "DATABASE_URL": server_database_url(),
        "MEDIA_ROOT": str(tmp_path / "media"),  # shared storage, as a volume or bucket would be
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": f"formtrack-scale-out-{os.getpid()}",
        "UPLOAD_ANALYSIS_WORKERS": "1",  # two workers, one process each, on a 2-core machine
        "PYTHONUNBUFFERED": "1",
    }
    try:
        servers = {}
        for name in ("daphne-a", "daphne-b"):
            port = free_port()
            process = processes.daphne(name, port, env)
            servers[name] = (process, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
        for name in ("w1", "w2"):
            processes.celery_worker(name, env["CELERY_QUEUE"], env)
        yield processes, servers
    finally:
        processes.close()


def test_uploads_spread_over_workers_and_progress_reaches_either_daphne(acme_token, cluster):
    _, servers = cluster
    names = list(servers)
    jobs = []
    for i in range(UPLOADS):
        posted_to = names[i % 2]
        status, created = post_upload(
            servers[posted_to][1], acme_token, SQUAT_CLIP, exercise="squat"
        )
        assert status == 202, created
        # The upload's progress followed from both servers at once.
        sockets = {name: WebSocket(servers[name][2] + created["progress_ws"]) for name in names}
        jobs.append((created["id"], posted_to, sockets))

    delivered = set()  # (worker, daphne) pairs: pushes from that worker reached that server
    for upload_id, posted_to, sockets in jobs:
        pushed = {}
        for name, socket in sockets.items():
            events = socket.receive_until(lambda e: e.get("status") in ("done", "failed"), 180)
            socket.close()
            pushed[name] = events[1:]  # after the state sent on connect: what the worker pushed
            assert pushed[name] and pushed[name][-1]["status"] == "done", events[-3:]
        upload = Upload.objects.get(pk=upload_id)
        assert upload.status == "done", upload.error_message
        worker = upload.stats["worker"].split("@")[0]
        delivered |= {(worker, name) for name in names}
        counts = ", ".join(f"{len(pushed[name])} on {name}" for name in names)
        print(f"posted to {posted_to}, analysed by {worker}; events pushed: {counts}")
    assert {worker for worker, _ in delivered} == {"w1", "w2"}, "both workers took jobs"
    assert len(delivered) == 4, "every worker's pushes reached every server"


def test_a_live_session_runs_on_when_the_other_daphne_stops(acme_token, cluster):
    _, servers = cluster
    (_, _, ws_a), (daphne_b, _, _) = servers["daphne-a"], servers["daphne-b"]
    frames = list(landmark_messages())
    session = tracking_socket(ws_a, acme_token, exercise="squat")
    assert session.receive()["type"] == "session_started"
    events = stream_frames(session, frames[: len(frames) // 2])

    stop(daphne_b)
    wait_until(lambda: daphne_b.poll() is not None, 20, "daphne-b to stop")
    events += stream_frames(session, frames[len(frames) // 2 :])
    session.send_json({"type": "finish"})
    events += session.receive_until(lambda e: isinstance(e, Closed))

    counters = [e for e in events if isinstance(e, dict) and e["type"] == "counter"]
    assert counters[-1]["current_count"] == 4
    assert events[-1].code == 1000
    another = tracking_socket(ws_a, acme_token, exercise="squat")
    assert another.receive()["type"] == "session_started"
    another.close()


@needs_tool("nginx")
def test_the_shipped_nginx_config_fronts_both_servers(acme_token, cluster, tmp_path):
    processes, servers = cluster
    port = free_port()
    upstream_ports = [urlsplit(http_url).port for _, http_url, _ in servers.values()]
    config = nginx_config(tmp_path / "nginx", port, upstream_ports)
    processes.start("nginx", ["nginx", "-c", str(config), "-p", str(config.parent)])
    wait_until(lambda: port_open(port), 20, "nginx")
    base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"

    status, created = post_upload(base, acme_token, SQUAT_CLIP, exercise="squat")
    assert status == 202, created
    progress = WebSocket(ws + created["progress_ws"])
    events = progress.receive_until(lambda e: e.get("status") == "done", timeout=180)
    assert len(events) > 2, "progress pushed through the proxy"

    sessions = [tracking_socket(ws, acme_token, exercise="squat") for _ in range(4)]
    assert all(s.receive()["type"] == "session_started" for s in sessions)
    events = stream_frames(sessions[0], list(landmark_messages()))
    sessions[0].send_json({"type": "finish"})
    events += sessions[0].receive_until(lambda e: isinstance(e, Closed))
    counters = [e for e in events if isinstance(e, dict) and e["type"] == "counter"]
    assert counters[-1]["current_count"] == 4 and events[-1].code == 1000
    for session in sessions[1:]:
        session.close()
    live = {name: processes.log(name).count('"WSCONNECT /ws/pose_tracker') for name in servers}
    assert all(live.values()), f"sessions spread over both servers: {live}"
    print(f"through nginx: {len(events)} live events, sessions per server {live}")
