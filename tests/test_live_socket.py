"""The live tracking WebSocket: authentication, quota, real landmark streams, bad input."""

import json
import re

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import MonthlyUsage, UsageRecord
from config.asgi import application
from tests.support.clips import clip_jpegs, landmark_messages
from tracking import consumers

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


async def open_session(query, headers=ORIGIN):
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{query}", headers=headers
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


async def receive_until(socket, predicate, timeout=10):
    seen = []
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        seen.append(event)
        if predicate(event):
            return seen


async def closing_code(socket):
    output = await socket.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    return output["code"]


async def test_real_squat_stream_counts_four_reps_and_ends_with_a_summary(acme, acme_token):
    socket = await open_session(f"token={acme_token}&exercise=squat")
    started = await socket.receive_json_from()
    assert started["type"] == "session_started" and started["exercise"] == "squat"
    events = []
    for message in landmark_messages():
        await socket.send_json_to(message)
        events += await receive_until(socket, lambda e: e["type"] == "ack")
    await socket.send_json_to({"type": "finish"})
    events += await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    assert await closing_code(socket) == 1000
    counters = [e for e in events if e["type"] == "counter"]
    assert counters[-1]["current_count"] == 4
    assert all(c["form_score"]["grade"] in "ABCDF" for c in counters if "form_score" in c)
    assert all("type" in e for e in events)
    await socket.disconnect()
    usage = await UsageRecord.objects.aget(organization=acme, kind="live")
    assert usage.calls == 1 and usage.exercise == "squat" and usage.seconds_tracked > 0


@pytest.mark.parametrize(
    ("query", "code", "close"),
    [
        ("exercise=squat", "missing_token", 4401),
        ("token=ft_live_unknown&exercise=squat", "invalid_token", 4401),
        ("token={token}&exercise=squatz", "invalid_exercise", 4400),
    ],
)
async def test_refused_sessions_get_an_error_then_a_documented_close(
    acme_token, query, code, close
):
    socket = await open_session(query.format(token=acme_token))
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert await closing_code(socket) == close


async def test_a_socket_opened_directly_hears_what_was_ignored_after_session_started(acme_token):
    socket = await open_session(f"token={acme_token}&exercise=squat&width=392.7&timer=3&foo=1")
    started = await socket.receive_json_from()
    assert (started["type"], started["exercise"]) == ("session_started", "squat")
    warning = await socket.receive_json_from()
    assert (warning["type"], warning["code"]) == ("warning", "ignored_parameters")
    assert warning["parameters"] == ["timer", "foo"]
    await socket.disconnect()


async def test_the_pages_own_socket_does_not_repeat_the_pages_warning(client, acme_token):
    from asgiref.sync import sync_to_async

    page = await sync_to_async(client.get)(
        "/pose_tracker/tracking", {"token": acme_token, "exercise": "squat", "timer": "3"}
    )
    config = json.loads(
        re.search(r'id="formtrack-config" type="application/json">(.*?)</script>', page.text)[1]
    )
    assert [event["type"] for event in config["initialEvents"]] == ["warning"]
    socket = await open_session(config["accessQuery"])
    assert (await socket.receive_json_from())["type"] == "session_started"
    await socket.send_json_to({"type": "finish"})
    events = await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    assert "warning" not in {event["type"] for event in events}
    await socket.disconnect()


async def test_origin_outside_the_allow_list_is_refused(acme):
    from asgiref.sync import sync_to_async

    from tests.factories import make_token

    raw = await sync_to_async(make_token)(acme, allowed_origins=["https://app.example.com"])
    foreign = [(b"origin", b"https://evil.example.com"), (b"host", b"127.0.0.1:8000")]
    socket = await open_session(f"token={raw}&exercise=squat", headers=foreign)
    assert (await socket.receive_json_from())["code"] == "origin_not_allowed"
    assert await closing_code(socket) == 4403
    # Our own page, embedded by the allowed app, connects from our origin and is let in.
    own_page = await open_session(f"token={raw}&exercise=squat")
    assert (await own_page.receive_json_from())["type"] == "session_started"
    await own_page.disconnect()


async def test_no_calls_left_closes_with_quota_exceeded(globex, globex_token):
    await MonthlyUsage.objects.acreate(
        organization=globex, month=timezone.localdate().replace(day=1), calls=500
    )
    socket = await open_session(f"token={globex_token}&exercise=squat")
    assert (await socket.receive_json_from())["code"] == "quota_exceeded"
    assert await closing_code(socket) == 4429


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{not json", "invalid_message"),
        ('["a list"]', "invalid_message"),
        ('{"type": "dance"}', "unknown_message_type"),
        (
            '{"type": "landmarks", "t": 1, "image": {"w": 10, "h": 10}, "landmarks": [[0,0,0,1]]}',
            "invalid_message",
        ),
        (
            '{"type": "landmarks", "t": NaN, "image": {"w": 10, "h": 10}, "landmarks": null}',
            "invalid_message",
        ),
        (
            '{"type": "landmarks", "t": 1, "image": {"w": 0, "h": 10}, "landmarks": null}',
            "invalid_message",
        ),
        ('{"type": "landmarks", "pad": "' + "x" * 70_000 + '"}', "message_too_large"),
    ],
)
async def test_bad_messages_get_error_events_and_the_session_goes_on(acme_token, payload, code):
    socket = await open_session(f"token={acme_token}&exercise=squat")
    await socket.receive_json_from()  # session_started
    await socket.send_to(text_data=payload)
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == code
    await socket.send_json_to(landmark_messages()[0])
    events = await receive_until(socket, lambda e: e["type"] == "ack" and e["frameId"] == 0)
    if code == "invalid_message" and '"landmarks"' in payload:  # refused frames are answered too
        assert events[0] == {"type": "ack", "frameId": None, "dropped": 0, "error": code}
    await socket.disconnect()


async def test_repeated_abuse_closes_the_socket(acme_token):
    socket = await open_session(f"token={acme_token}&exercise=squat")
    await socket.receive_json_from()
    for _ in range(consumers.MAX_INVALID_MESSAGES):
        await socket.send_to(text_data="garbage")
    await receive_until(socket, lambda e: e.get("code") == "too_many_invalid_messages")
    await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    assert await closing_code(socket) == consumers.CLOSE_ABUSE


async def test_a_silent_session_is_closed(acme_token, monkeypatch):
    monkeypatch.setattr(consumers, "IDLE_TIMEOUT_S", 1.0)
    socket = await open_session(f"token={acme_token}&exercise=squat")
    await socket.receive_json_from()
    events = await receive_until(socket, lambda e: e.get("code") == "idle_timeout", timeout=10)
    assert events[-1]["type"] == "error"
    await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    assert await closing_code(socket) == consumers.CLOSE_IDLE


@pytest.mark.slow
async def test_server_inference_takes_jpeg_frames_and_drops_stale_ones(acme_token):
    jpegs = clip_jpegs(12)
    socket = await open_session(f"token={acme_token}&exercise=squat&inference=server")
    await socket.receive_json_from()
    for jpeg in jpegs:  # all at once: the server must not queue them all
        await socket.send_to(bytes_data=jpeg)
    acks = []
    while len(acks) + (acks[-1]["dropped"] if acks else 0) < len(jpegs):
        event = await socket.receive_json_from(timeout=30)
        if event["type"] == "ack":
            acks.append(event)
    assert acks[-1]["dropped"] > 0
    assert len(acks) + acks[-1]["dropped"] == len(jpegs)
    assert all(len(ack["landmarks"]) == 33 for ack in acks if "landmarks" in ack)
    assert any("landmarks" in ack for ack in acks)
    await socket.send_to(bytes_data=b"not a jpeg")
    events = await receive_until(socket, lambda e: e["type"] == "ack" and "error" in e)
    assert events[-2]["code"] == "invalid_frame" and events[-1]["error"] == "invalid_frame"
    await socket.disconnect()


@pytest.mark.slow
async def test_a_session_idle_for_a_while_still_answers(acme_token):
    """Idle longer than the Redis client's default socket timeout (CI runs on channels-redis)."""
    import asyncio

    socket = await open_session(f"token={acme_token}&exercise=squat")
    await socket.receive_json_from()
    await asyncio.sleep(6.5)  # the idleness under test, not a wait for anything
    await socket.send_json_to(landmark_messages()[0])
    events = await receive_until(socket, lambda e: e["type"] == "ack")
    assert events[-1]["frameId"] == 0
    await socket.disconnect()
