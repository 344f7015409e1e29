"""Fault: the database cannot be reached.

Pages answer a small 503 HTML page, the API its JSON error envelope (`code: service_unavailable`),
both with `Retry-After`; the live WebSocket sends an `error` event and closes with 4503. When the
database is back, everything answers again by itself: no restart, no broken connection reused.

The first tests fake the failure (any database). The last one cuts a real one: a Daphne process
reaches the PostgreSQL test database through a TCP proxy on loopback, which the test cuts (new
connections refused, open ones reset) and restores; the shared PostgreSQL is never stopped.
"""

import os
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import OperationalError, connection
from django.test import Client

from accounts.authentication import ApiTokenAuthentication
from config.asgi import application
from tests.processes import (
    Closed,
    Processes,
    TcpProxy,
    WebSocketRefused,
    http,
    server_database_url,
    stream_frames,
    tracking_socket,
)
from tests.support.clips import landmark_messages
from tests.support.needs import needs
from tests.support.servers import free_port, wait_until
from tracking import consumers, live, views

pytestmark = pytest.mark.django_db(transaction=True)

DOWN = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def _down(*args, **kwargs):
    raise DOWN


def test_api_answers_503_json_with_retry_after(client, acme_token, monkeypatch):
    monkeypatch.setattr(ApiTokenAuthentication, "authenticate", _down)
    response = client.get("/api/v1/uploads", HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    body = response.json()
    assert body["type"] == "error" and body["code"] == "service_unavailable" and body["message"]


def test_pages_answer_a_small_503_page_with_retry_after(client, acme_token, monkeypatch):
    monkeypatch.setattr(views, "tracking_open", _down)
    response = client.get("/pose_tracker/tracking", {"token": acme_token, "exercise": "squat"})
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response["Content-Type"].startswith("text/html")
    assert "briefly unavailable" in response.content.decode().lower()


@pytest.mark.parametrize("path", ["/api/v1/uploads", "/dashboard/"])
def test_a_database_error_in_a_middleware_is_a_503_too(path, monkeypatch):
    monkeypatch.setattr(SessionMiddleware, "process_request", _down)
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 503 and response["Retry-After"].isdigit()


async def test_live_socket_sends_an_error_event_then_closes_4503(acme_token, monkeypatch):
    monkeypatch.setattr(live, "live_session_start", _down)
    socket = WebsocketCommunicator(
        application,
        f"/ws/pose_tracker/tracking?token={acme_token}&exercise=squat",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")],
    )
    connected, _ = await socket.connect()
    assert connected
    event = await socket.receive_json_from()
    assert event["type"] == "error" and event["code"] == "service_unavailable"
    closing = await socket.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": consumers.CLOSE_SERVICE_UNAVAILABLE}


@pytest.mark.slow
@pytest.mark.postgres
@needs(connection.vendor != "postgresql", "needs PostgreSQL (DATABASE_URL)")
def test_a_real_database_outage_gives_503s_then_recovers_by_itself(acme_token, tmp_path):
    db = connection.settings_dict
    proxy = TcpProxy(int(db["PORT"] or 5432), db["HOST"] or "127.0.0.1")
    proxy.start()
    processes = Processes(tmp_path, base_env=dict(os.environ))
    port = free_port()
    base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    api = f"{base}/api/v1/uploads"
    page = f"{base}/pose_tracker/upload_tracking?token={acme_token}&exercise=squat"
    auth = {"Authorization": f"Bearer {acme_token}"}
    try:
        processes.daphne(
            "daphne",
            port,
            {
                "DATABASE_URL": server_database_url(port=proxy.port),
                "DATABASE_CONNECT_TIMEOUT": "2",
                "MEDIA_ROOT": str(tmp_path / "media"),
                "PYTHONUNBUFFERED": "1",
            },
        )
        assert http("GET", api, headers=auth)[0] == 200
        assert http("GET", page)[0] == 200
        # A live session already running keeps counting through the outage (engine in memory).
        frames = list(landmark_messages())
        live = tracking_socket(ws, acme_token, exercise="squat")
        assert live.receive()["type"] == "session_started"
        events = stream_frames(live, frames[:40])

        proxy.cut()
        events += stream_frames(live, frames[40:80])
        started = time.monotonic()
        status, headers, body = http("GET", api, headers=auth)
        api_503_s = time.monotonic() - started
        assert status == 503, body
        assert headers["Retry-After"].isdigit()
        assert b'"code": "service_unavailable"' in body
        status, headers, body = http("GET", page)
        assert status == 503 and headers["Retry-After"].isdigit()
        assert headers["Content-Type"].startswith("text/html") and b"<html" in body
        session = tracking_socket(ws, acme_token, exercise="squat")
        refused = session.receive_until(lambda e: isinstance(e, Closed), timeout=20)
        assert refused[0]["type"] == "error" and refused[0]["code"] == "service_unavailable"
        assert refused[-1].code == consumers.CLOSE_SERVICE_UNAVAILABLE

        proxy.restore()
        restored = time.monotonic()
        wait_until(lambda: http("GET", api, headers=auth)[0] == 200, 30, "the API to recover")
        recovery_s = time.monotonic() - restored
        assert http("GET", page)[0] == 200
        session = tracking_socket(ws, acme_token, exercise="squat")
        assert session.receive()["type"] == "session_started"
        session.close()
        events += stream_frames(live, frames[80:])
        live.send_json({"type": "finish"})
        events += live.receive_until(lambda e: isinstance(e, Closed))
        counters = [e for e in events if isinstance(e, dict) and e["type"] == "counter"]
        assert counters[-1]["current_count"] == 4
        assert events[-1].code == 1000

        # A database host that stops answering (connections accepted, nothing comes back): the
        # connect timeout (DATABASE_CONNECT_TIMEOUT, 2 s here) turns it into a 503, not a hang.
        proxy.stall()
        started = time.monotonic()
        status, headers, _ = http("GET", api, headers=auth)
        stalled_503_s = time.monotonic() - started
        assert status == 503 and headers["Retry-After"].isdigit()
        assert stalled_503_s < 10
        proxy.restore()
        wait_until(lambda: http("GET", api, headers=auth)[0] == 200, 30, "the API to recover")

        log = processes.log("daphne")
        assert "Exception inside application" not in log and '" 500 ' not in log
        print(
            f"refused: 503 in {api_503_s:.2f} s, 200 again {recovery_s:.2f} s after the restore; "
            f"stalled: 503 in {stalled_503_s:.2f} s"
        )
    except WebSocketRefused as refused:
        raise AssertionError(f"socket refused: {refused}") from refused
    finally:
        processes.close()
        proxy.close()
