"""Live sessions always end cleanly: whatever ends one (the client finishing or leaving at once, an
invalid number, garbage, a flood, idleness, an error, the server stopping), its seconds are
recorded and its pose estimator (server inference) is freed, in one `finally`.

In process, on any database: each way a session ends, served as Daphne serves it (a send after the
client left raises). On a real Daphne (PostgreSQL, as in CI): after rounds of abusive sessions the
server's threads and memory are back to their baseline and every session is in the usage report.
"""

import asyncio
import glob
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.db.models import Sum

from accounts.models import UsageRecord
from config.asgi import application
from tests.factories import make_token
from tests.processes import Closed, Processes, server_database_url, tracking_socket
from tests.support.clips import clip_jpegs, landmark_messages
from tests.support.needs import needs
from tests.support.servers import free_port, stop, wait_until
from tracking import consumers, live
from tracking.live import LiveSession

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
HUGE = 10**400  # what orjson cannot write back in an ack ("Integer exceeds 64-bit range")


class Client(WebsocketCommunicator):
    """A live socket served as Daphne serves it: once the client has gone, the consumer's sends
    raise (autobahn's Disconnected, a RuntimeError), as after a `finish` and an immediate close."""

    def __init__(self, query: str):
        self.gone = False

        async def served(scope, receive, send):
            async def daphne_send(message):
                if self.gone:
                    raise RuntimeError("Attempt to send on a closed protocol")
                await send(message)

            await application(scope, receive, daphne_send)

        super().__init__(served, f"/ws/pose_tracker/tracking?{query}", headers=ORIGIN)

    async def send_frame(self, frame):
        if isinstance(frame, bytes):
            await self.send_to(bytes_data=frame)
        else:
            await self.send_json_to(frame)

    async def leave(self):
        """The client closes at once, whatever the server is doing."""
        self.gone = True
        await self.send_input({"type": "websocket.disconnect", "code": 1000})

    async def until_closed(self, timeout: float = 15) -> tuple[list[dict], int]:
        events = []
        while True:
            output = await self.receive_output(timeout=timeout)
            if output["type"] == "websocket.close":
                return events, output["code"]
            events.append(json.loads(output["text"]))

    async def until_ack(self, timeout: float = 30) -> list[dict]:
        events = []
        while not events or events[-1]["type"] != "ack":
            events.append(await self.receive_json_from(timeout=timeout))
        return events


@pytest.fixture
def opened_sessions(monkeypatch):
    """Every LiveSession the consumer opens (the real ones), to check each was closed."""
    sessions: list[LiveSession] = []
    start = live.live_session_start

    def recording_start(*args, **kwargs):
        session = start(*args, **kwargs)
        sessions.append(session)
        return session

    monkeypatch.setattr(live, "live_session_start", recording_start)
    return sessions


ENDINGS = [
    ("finish_then_leave", "browser"),
    ("finish_then_leave", "server"),
    ("leave_mid_stream", "browser"),
    ("leave_mid_stream", "server"),
    ("huge_frame_id", "browser"),
    ("huge_frame_id", "server"),
    ("garbage", "server"),
    ("flood", "browser"),
    ("flood", "server"),
    ("idle", "server"),
    ("server_stops", "browser"),
    ("server_stops", "server"),
    ("engine_error", "browser"),  # analysed in line: the error ends the session's own task
    ("engine_error", "server"),  # analysed in a task of its own, which closes the socket (1011)
]


@pytest.mark.parametrize(
    ("ending", "inference"),
    # Server inference runs MediaPipe on the clip's frames, a model for each session: slow.
    [pytest.param(*e, marks=pytest.mark.slow) if e[1] == "server" else e for e in ENDINGS],
)
async def test_every_way_a_session_ends_records_its_seconds_and_frees_its_estimator(
    acme, acme_token, opened_sessions, monkeypatch, settings, ending, inference
):
    settings.LIVE_MAX_MESSAGES_PER_S = 5 if ending == "flood" else 100
    monkeypatch.setattr(consumers, "RATE_LIMITED_CLOSE_S", 0.5)
    monkeypatch.setattr(consumers, "IDLE_TIMEOUT_S", 1.0)
    frames = clip_jpegs(6) if inference == "server" else landmark_messages()[:6]
    client = Client(f"token={acme_token}&exercise=squat&inference={inference}")
    assert (await client.connect())[0]
    assert (await client.receive_json_from())["type"] == "session_started"
    for index, frame in enumerate(frames[:2]):
        await client.send_frame(frame)
        await client.until_ack()
        if index == 0:
            started = time.monotonic()  # tracking started with the first analysed frame

    if ending == "finish_then_leave":
        await client.send_json_to({"type": "finish"})
        await client.leave()
    elif ending == "leave_mid_stream":
        for frame in frames[2:]:  # still being estimated when the client goes
            await client.send_frame(frame)
        await client.leave()
    elif ending == "huge_frame_id":
        await client.send_to(text_data=json.dumps(landmark_messages()[2] | {"frameId": HUGE}))
        events = await client.until_ack()
        assert events[-2]["code"] == "invalid_message"
        assert events[-1] == {
            "type": "ack",
            "frameId": None,
            "dropped": 0,
            "error": events[-2]["code"],
        }
        await client.leave()
    elif ending == "garbage":
        for _ in range(consumers.MAX_INVALID_MESSAGES):
            await client.send_to(text_data="garbage")
        events, code = await client.until_closed()
        assert code == consumers.CLOSE_ABUSE
        assert "too_many_invalid_messages" in {e.get("code") for e in events}
        await client.leave()
    elif ending == "flood":
        stop_flooding = asyncio.Event()

        async def flood():
            for index in range(10_000):
                if stop_flooding.is_set():
                    return
                frame = frames[index % len(frames)]
                if inference == "browser":  # time moves on
                    frame = frame | {"frameId": 1000 + index, "t": 1000.0 + 10 * index}
                await client.send_frame(frame)
                await asyncio.sleep(0.005)  # 200 messages a second, on a limit of 5

        flooding = asyncio.create_task(flood())
        events, code = await client.until_closed()
        stop_flooding.set()
        await flooding
        codes = [e["code"] for e in events if e["type"] == "error"]
        assert code == consumers.CLOSE_ABUSE
        assert codes[0] == "rate_limited" and codes[-1] == "too_many_messages"
        await client.leave()
    elif ending == "idle":
        events, code = await client.until_closed()
        assert code == consumers.CLOSE_IDLE and events[0]["code"] == "idle_timeout"
        await client.leave()
    elif ending == "server_stops":
        client.future.cancel()  # what Daphne does to every session when it stops
    elif ending == "engine_error":

        def broken_feed(pose):
            raise ZeroDivisionError("a bug in the engine")

        monkeypatch.setattr(opened_sessions[0].tracker, "feed", broken_feed)
        await client.send_frame(frames[2])
        if inference == "server":
            assert (await client.until_closed())[1] == consumers.CLOSE_INTERNAL_ERROR
            await client.leave()
    ended = time.monotonic()

    if ending == "engine_error" and inference == "browser":
        with pytest.raises(ZeroDivisionError):
            await client.wait(timeout=10)
    else:
        await client.wait(timeout=10)
    assert client.future.done()
    record = await UsageRecord.objects.aget(organization=acme, kind="live")
    assert record.calls == 1
    # Added when the session ends (0 until then), and at least as long as the client saw it.
    assert record.seconds_tracked > 0
    assert record.seconds_tracked >= round(ended - started, 3) - 0.001
    [session] = opened_sessions
    assert session.estimator is None and session.closed


def server_threads(pid: int) -> list[str]:
    """The names of a process's threads (MediaPipe's are `mediapipe/<n>`)."""
    names = []
    for path in glob.glob(f"/proc/{pid}/task/*/comm"):
        try:
            names.append(Path(path).read_text().strip())
        except FileNotFoundError:  # a thread that just ended
            continue
    return names


def server_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) / 1024


def session_usage(token_name: str) -> SimpleNamespace | None:
    """The usage of the one session made with this token, summed over the days it touched (a
    session's call is counted when it opens, its seconds when it ends, perhaps after midnight)."""
    usage = UsageRecord.objects.filter(kind="live", token__name=token_name).aggregate(
        calls=Sum("calls"), seconds_tracked=Sum("seconds_tracked")
    )
    return SimpleNamespace(**usage) if usage["calls"] is not None else None


# Each abusive session: server inference, two frames analysed, then the abuse. Returns the seconds
# the session tracked at least, as the client saw it (from its first analysed frame).
def _opened(ws_url, token, jpegs):
    session = tracking_socket(ws_url, token, exercise="squat", inference="server")
    assert session.receive()["type"] == "session_started"
    started = None
    for jpeg in jpegs[:2]:
        session.send_bytes(jpeg)
        events = session.receive_until(lambda e: e.get("type") == "ack", timeout=30)
        assert not isinstance(events[-1], Closed), events
        started = started or time.monotonic()
    return session, started


def huge_frame_id_then_vanish(ws_url, token, jpegs):
    session, started = _opened(ws_url, token, jpegs)
    session.send_json(landmark_messages()[0] | {"frameId": HUGE})
    events = session.receive_until(lambda e: e.get("type") == "ack")
    assert events[-2]["code"] == "invalid_message" and events[-1]["frameId"] is None, events
    ended = time.monotonic()
    session.drop()
    return ended - started


def finish_then_close_at_once(ws_url, token, jpegs):
    session, started = _opened(ws_url, token, jpegs)
    session.send_json({"type": "finish"})
    ended = time.monotonic()
    session.close()
    return ended - started


def garbage_until_closed(ws_url, token, jpegs):
    session, started = _opened(ws_url, token, jpegs)
    for _ in range(consumers.MAX_INVALID_MESSAGES):
        session.send_text("garbage")
    events = session.receive_until(lambda e: False)
    assert events[-1].code == consumers.CLOSE_ABUSE, events[-3:]
    return time.monotonic() - started


def vanish_mid_stream(ws_url, token, jpegs):
    session, started = _opened(ws_url, token, jpegs)
    for jpeg in jpegs[2:]:  # being estimated when the connection goes
        session.send_bytes(jpeg)
    ended = time.monotonic()
    session.drop()
    return ended - started


ABUSES = [
    huge_frame_id_then_vanish,
    finish_then_close_at_once,
    garbage_until_closed,
    vanish_mid_stream,
]
ROUNDS = 3
# Threads the server may keep beyond its baseline: idle workers of the event loop's default
# executor, which runs the estimates (asyncio.to_thread) and keeps its threads once started; a
# session vanishing mid-estimate leaves its thread busy while the next session starts one more.
# Measured: 4 -> 4. Before the fix, three of the four abuses leaked an estimator and its two
# MediaPipe threads each: +18 threads after 3 rounds, never returned.
THREAD_SLACK = 4
# Memory the server may keep beyond its baseline (taken after one full server-inference session,
# so models and libraries are loaded): an estimator takes ~240 MiB while open; once closed, and
# the allocator trimmed, what stays is noise. Measured: +10 to +70 MiB after the 12 sessions.
# Before the fix: +300 MiB a round (+890 MiB after 3), never returned.
RSS_SLACK_MIB = 150


@pytest.mark.slow
@pytest.mark.postgres
@needs(
    connection.vendor != "postgresql",
    "needs PostgreSQL (DATABASE_URL): the server and the test share the database",
)
def test_abusive_sessions_leave_no_threads_or_memory_behind_and_all_are_billed(acme, tmp_path):
    processes = Processes(tmp_path, base_env=dict(os.environ))
    port = free_port()
    ws_url = f"ws://127.0.0.1:{port}"
    jpegs = clip_jpegs(6)
    env = {
        "DATABASE_URL": server_database_url(),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    try:
        server = processes.daphne("daphne", port, env)
        # Baseline after one clean server-inference session: models loaded, executors started.
        session, _ = _opened(ws_url, make_token(acme, name="warm-up"), jpegs)
        session.send_json({"type": "finish"})
        assert session.receive_until(lambda e: False)[-1].code == 1000
        wait_until(
            lambda: getattr(session_usage("warm-up"), "seconds_tracked", 0) > 0,
            20,
            "the warm-up session's seconds",
        )
        wait_until(
            lambda: not any(n.startswith("mediapipe") for n in server_threads(server.pid)),
            20,
            "the warm-up session's estimator to close",
        )
        threads, rss = len(server_threads(server.pid)), server_rss_mib(server.pid)

        lasted = {}  # token name: the seconds its session lasted at least
        for round_ in range(ROUNDS):
            for abuse in ABUSES:
                name = f"{abuse.__name__} {round_}"
                lasted[name] = abuse(ws_url, make_token(acme, name=name), jpegs)

        wait_until(
            lambda: all(getattr(session_usage(name), "seconds_tracked", 0) > 0 for name in lasted),
            30,
            "every session's usage to be recorded",
        )
        for name, seconds in lasted.items():
            record = session_usage(name)
            assert record.calls == 1 and record.seconds_tracked > 0, name
            assert record.seconds_tracked >= round(seconds, 3) - 0.001, (name, seconds)
        wait_until(
            lambda: len(server_threads(server.pid)) <= threads + THREAD_SLACK,
            30,
            f"the server's threads to return to {threads} (+{THREAD_SLACK})",
        )
        names = server_threads(server.pid)
        assert not [name for name in names if name.startswith("mediapipe")], names
        rss_after = server_rss_mib(server.pid)
        assert rss_after <= rss + RSS_SLACK_MIB
        print(
            f"{len(lasted)} abusive sessions: threads {threads} -> {len(names)}, "
            f"RSS {rss:.0f} -> {rss_after:.0f} MiB"
        )

        # The server stopping (SIGTERM) with two sessions open still records both.
        browser = tracking_socket(ws_url, make_token(acme, name="open 1"), exercise="squat")
        assert browser.receive()["type"] == "session_started"
        browser.send_json(landmark_messages()[0])  # tracking, with its call taken
        browser.receive_until(lambda e: e.get("type") == "ack", timeout=30)
        server_side, _ = _opened(ws_url, make_token(acme, name="open 2"), jpegs)
        stop(server)
        assert not browser.closed and not server_side.closed  # the server closed them
        assert session_usage("open 1").seconds_tracked > 0
        assert session_usage("open 2").seconds_tracked > 0
        assert "Exception inside application" not in processes.log("daphne")
    finally:
        processes.close()
