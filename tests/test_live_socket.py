"""The live tracking WebSocket: authentication, quota, real landmark streams, bad input."""

import asyncio
import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import MonthlyUsage, UsageRecord
from config.asgi import application
from references.models import ReferenceMovement
from tests.factories import make_token
from tests.support.clips import (
    CURL_CLIP,
    SQUAT_CLIP,
    clip_jpegs,
    clip_poses,
    half_squat_frames,
    landmark_messages,
)
from tests.test_tracking_pages import page_config
from tracking import consumers
from tracking.engine.reference import build_signature
from tracking.engine.reference.signature import SIGNATURE_VERSION
from tracking.engine.tracker import open_tracker
from tracking.params import parse_tracking_params

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


async def streamed_summary(token, messages) -> dict:
    """A squat session streaming `messages`, each after the previous one's ack: its summary."""
    socket = await open_session(f"token={token}&exercise=squat")
    await socket.receive_json_from()  # session_started
    for message in messages:
        await socket.send_json_to(message)
        await receive_until(socket, lambda e: e["type"] == "ack")
    await socket.send_json_to({"type": "finish"})
    events = await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    await socket.disconnect()
    return events[-1]


async def test_world_landmarks_reach_the_engine_as_an_uploads_do(acme_token):
    """The page's world landmarks, rounded to the millimetre, grade each rep as the same poses
    fed straight to the engine, as the upload pipeline feeds them (issue #16 item 4)."""
    tracker = open_tracker(parse_tracking_params("token=t&exercise=squat"))
    events = [event for pose in clip_poses(SQUAT_CLIP) for event in tracker.feed(pose)]
    (uploaded,) = [e for e in events + tracker.finish() if e["type"] == "exercise_summary"]
    live = await streamed_summary(acme_token, landmark_messages())
    assert live["counter"] == uploaded["counter"] == 4
    assert [rep["score"] for rep in live["history"]] == [
        rep["score"] for rep in uploaded["history"]
    ]


async def test_a_client_sending_no_world_landmarks_still_counts(acme_token):
    """Clients from before world landmarks: knee angles read in the image plane, the count the
    same."""
    live = await streamed_summary(acme_token, landmark_messages(world=False))
    assert live["counter"] == 4 and live["grade"] in "ABCDF"


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
    page = await sync_to_async(client.get)(
        "/pose_tracker/tracking", {"token": acme_token, "exercise": "squat", "timer": "3"}
    )
    config = json.loads(
        re.search(r'id="formtrack-config" type="application/json">(.*?)</script>', page.text)[1]
    )
    assert [event["type"] for event in config["initialEvents"]] == ["warning"]
    socket = await open_session(config["accessQuery"])
    assert (await socket.receive_json_from())["type"] == "session_started"
    await socket.send_json_to(landmark_messages()[0])
    await socket.send_json_to({"type": "finish"})
    events = await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    assert "warning" not in {event["type"] for event in events}
    await socket.disconnect()


async def test_origin_outside_the_allow_list_is_refused(acme):
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


async def test_a_reference_the_engine_cannot_read_reaches_the_socket_as_an_error(acme, acme_token):
    # A reference stored by the previous engine version: the engine refuses it as the session
    # opens, and the app hears why (and no call is taken).
    signature = build_signature(clip_poses(CURL_CLIP), start_ms=3300, end_ms=5700)
    reference = await ReferenceMovement.objects.acreate(
        organization=acme,
        name="Curl",
        status=ReferenceMovement.Status.READY,
        signature={**signature, "version": SIGNATURE_VERSION - 1},
    )
    socket = await open_session(f"token={acme_token}&reference={reference.pk}")
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "reference_unreadable")
    assert "rebuild the reference" in error["message"]
    assert await closing_code(socket) == consumers.CLOSE_INVALID_PARAMETERS
    assert not await MonthlyUsage.objects.filter(organization=acme).aexists()


# -- one session, one call ------------------------------------------------------------------------


async def _page_access_query(client, token) -> str:
    """What the tracking page's socket presents, read from a page loaded with `token`."""
    page = await sync_to_async(client.get)(
        "/pose_tracker/tracking", {"token": token, "exercise": "squat"}
    )
    return page_config(page)["accessQuery"]


async def calls_this_month(organization) -> int:
    usage = await MonthlyUsage.objects.filter(organization=organization).afirst()
    return usage.calls if usage else 0


async def _track_one_frame(query) -> dict:
    """A session that analyses one frame; its session_started."""
    socket = await open_session(query)
    started = await socket.receive_json_from()
    await socket.send_json_to(landmark_messages()[0])
    await receive_until(socket, lambda e: e["type"] == "ack")
    await socket.disconnect()
    return started


async def test_a_session_takes_its_call_at_its_first_frame_not_when_it_opens(acme, acme_token):
    socket = await open_session(f"token={acme_token}&exercise=squat")
    assert (await socket.receive_json_from())["type"] == "session_started"
    assert await calls_this_month(acme) == 0  # the user may still refuse the camera
    await socket.send_json_to(landmark_messages()[0])
    await receive_until(socket, lambda e: e["type"] == "ack")
    assert await calls_this_month(acme) == 1
    await socket.disconnect()


async def test_a_session_that_analysed_nothing_costs_nothing_and_sums_nothing_up(acme, acme_token):
    socket = await open_session(f"token={acme_token}&exercise=squat")
    assert (await socket.receive_json_from())["type"] == "session_started"
    await socket.send_json_to({"type": "finish"})  # what the page does when the camera fails
    assert await closing_code(socket) == 1000  # no final counter (no "F 0"), no summary
    await socket.disconnect()
    assert await calls_this_month(acme) == 0
    assert not await UsageRecord.objects.filter(organization=acme).aexists()


async def test_the_pages_reconnects_are_one_visit_and_one_call(client, acme, acme_token):
    query = await _page_access_query(client, acme_token)
    first = await _track_one_frame(query)
    assert await calls_this_month(acme) == 1
    again = await _track_one_frame(query)  # the socket dropped; the page reconnects
    assert await calls_this_month(acme) == 1 and again["callsLeft"] == first["callsLeft"]
    # Loading the page again is another visit.
    await _track_one_frame(await _page_access_query(client, acme_token))
    assert await calls_this_month(acme) == 2


async def test_a_page_visit_of_another_key_is_a_visit_of_its_own(client, acme, acme_token):
    query = await _page_access_query(client, acme_token)
    await _track_one_frame(query)
    other_key = await sync_to_async(make_token)(acme, name="other")
    page_visit = query[query.index("pageSession=") :]
    await _track_one_frame(f"token={other_key}&exercise=squat&{page_visit}")
    await _track_one_frame(f"{query}x")  # a forged signature
    assert await calls_this_month(acme) == 3


# -- the person's cues ----------------------------------------------------------------------------


def _half_squats() -> list[dict]:
    """The squat clip without the deep half of each squat, one frame every 100 ms as a camera
    shows them: squats that fall short, which the engine cues ("Go lower")."""
    messages = landmark_messages()
    return [messages[i] | {"frameId": n, "t": n * 100.0} for n, i in enumerate(half_squat_frames())]


async def _cues_heard(query) -> list[str]:
    socket = await open_session(query)
    await socket.receive_json_from()  # session_started
    events = []
    for message in _half_squats():
        await socket.send_json_to(message)
        events += await receive_until(socket, lambda e: e["type"] == "ack")
    await socket.disconnect()
    return [cue for e in events if e["type"] == "recommendations" for cue in e["data"]]


async def test_the_pages_socket_gets_the_persons_cues_whatever_the_host_asked(client, acme_token):
    """The live page coaches the person on screen, with or without recommendations=true (which
    decides what its host hears, static/formtrack/live/main.js); a native app's own socket gets
    the cues only when it asks for them."""
    go_lower = "Go lower: thighs to parallel"
    page_query = await _page_access_query(client, acme_token)
    assert "recommendations=false" in page_query
    assert go_lower in await _cues_heard(page_query)
    assert await _cues_heard(f"token={acme_token}&exercise=squat") == []
    assert go_lower in await _cues_heard(f"token={acme_token}&exercise=squat&recommendations=true")


async def test_the_months_last_call_gone_before_the_first_frame_ends_the_session(
    globex, globex_token
):
    socket = await open_session(f"token={globex_token}&exercise=squat")
    started = await socket.receive_json_from()
    assert started["type"] == "session_started" and started["callsLeft"] == 499
    # Other sessions take every call left meanwhile.
    await MonthlyUsage.objects.acreate(
        organization=globex, month=timezone.localdate().replace(day=1), calls=500
    )
    await socket.send_json_to(landmark_messages()[0])
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "quota_exceeded"
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
    assert await closing_code(socket) == consumers.CLOSE_ABUSE


async def test_a_silent_session_is_closed(acme_token, monkeypatch):
    monkeypatch.setattr(consumers, "IDLE_TIMEOUT_S", 1.0)
    socket = await open_session(f"token={acme_token}&exercise=squat")
    await socket.receive_json_from()
    events = await receive_until(socket, lambda e: e.get("code") == "idle_timeout", timeout=10)
    assert events[-1]["type"] == "error"
    assert await closing_code(socket) == consumers.CLOSE_IDLE  # nothing analysed: no summary


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
    socket = await open_session(f"token={acme_token}&exercise=squat")
    await socket.receive_json_from()
    await asyncio.sleep(6.5)  # the idleness under test, not a wait for anything
    await socket.send_json_to(landmark_messages()[0])
    events = await receive_until(socket, lambda e: e["type"] == "ack")
    assert events[-1]["frameId"] == 0
    await socket.disconnect()
