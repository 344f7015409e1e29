"""The live socket's limits (docs/protocol.md): every number a client sends is range-checked, a
session over its message rate is answered `rate_limited` and its excess is not analysed, frames
up to the documented 2 MiB pass a real Daphne and larger ones get a clear answer, and a socket to
a path we do not serve is refused at the handshake."""

import functools
import json
import os
import time

import cv2
import numpy as np
import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection

from config.asgi import application
from tests.processes import (
    Closed,
    Processes,
    WebSocket,
    WebSocketRefused,
    http,
    server_database_url,
    tracking_socket,
)
from tests.support.clips import SQUAT_CLIP, clip_frames, clip_jpegs, landmark_messages
from tests.support.needs import needs
from tests.support.servers import free_port
from tests.test_live_socket import calls_this_month, receive_until
from tracking import protocol

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


async def open_session(query: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{query}", headers=ORIGIN
    )
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "session_started"
    return socket


async def received(socket: WebsocketCommunicator, quiet: float = 0.3) -> list[dict]:
    """Everything the server sends until it has been quiet for `quiet` seconds: after a flood,
    how many frames it answers is what is measured, so only silence says it is done."""
    events = []
    while not await socket.receive_nothing(timeout=quiet):
        events.append(await socket.receive_json_from())
    return events


async def until_ack(socket: WebsocketCommunicator) -> list[dict]:
    """The events of the next analysed frame, up to its ack (server inference takes a while)."""
    events = [await socket.receive_json_from(timeout=30)]
    while events[-1]["type"] != "ack":
        events.append(await socket.receive_json_from(timeout=30))
    return events


async def until_closed(socket: WebsocketCommunicator) -> tuple[list[dict], int]:
    """The events sent up to the close, and its code."""
    events = []
    while (output := await socket.receive_output(timeout=30))["type"] == "websocket.send":
        events.append(json.loads(output["text"]))
    return events, output["code"]


def with_landmark(frame: dict, index: int, value) -> dict:
    landmarks = [list(point) for point in frame["landmarks"]]
    landmarks[11][index] = value  # the left shoulder
    return frame | {"landmarks": landmarks}


def with_world(frame: dict, index: int, value) -> dict:
    world = [list(point) for point in frame["world"]]
    world[11][index] = value  # the left shoulder
    return frame | {"world": world}


FIRST = landmark_messages()[0]
OUT_OF_RANGE = {
    "frameId beyond 64 bits": FIRST | {"frameId": 10**400},
    "frameId past 2^53": FIRST | {"frameId": 2**53},
    "negative frameId": FIRST | {"frameId": -1},
    "fractional frameId": FIRST | {"frameId": 1.5},
    "boolean frameId": FIRST | {"frameId": True},
    "t beyond 64 bits": FIRST | {"t": 10**400},
    "t beyond 2^53": FIRST | {"t": -(2**60)},
    "t NaN": FIRST | {"t": float("nan")},
    "t Infinity": FIRST | {"t": float("inf")},
    "t 1e400 (Infinity once read)": "1e400",
    "image width beyond 64 bits": FIRST | {"image": {"w": 10**400, "h": 480}},
    "image height 0": FIRST | {"image": {"w": 640, "h": 0}},
    "x beyond 64 bits": with_landmark(FIRST, 0, 10**400),
    "x far off": with_landmark(FIRST, 0, 1e300),
    "z NaN": with_landmark(FIRST, 2, float("nan")),
    "visibility above 1": with_landmark(FIRST, 3, 1.5),
    "visibility below 0": with_landmark(FIRST, 3, -0.1),
    "a landmark given as text": with_landmark(FIRST, 1, "0.5"),
    "world x beyond 10 m": with_world(FIRST, 0, 10.5),
    "world y beyond 64 bits": with_world(FIRST, 1, 10**400),
    "world z NaN": with_world(FIRST, 2, float("nan")),
    "world z Infinity": with_world(FIRST, 2, float("inf")),
    "a world landmark given as text": with_world(FIRST, 0, "0.1"),
    "a world landmark with a visibility": FIRST | {"world": [[*p, 1.0] for p in FIRST["world"]]},
    "world of 32 landmarks": FIRST | {"world": FIRST["world"][:32]},
    "world without landmarks": FIRST | {"landmarks": None},
}


@pytest.mark.parametrize("message", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
async def test_every_out_of_range_number_is_refused_with_an_error_and_the_session_goes_on(
    acme_token, message
):
    socket = await open_session(f"token={acme_token}&exercise=squat")
    if message == "1e400":  # as a client's JSON library may write it
        text = json.dumps(FIRST | {"t": "1e400"}).replace('"1e400"', "1e400")
    else:
        text = json.dumps(message, allow_nan=True)
    await socket.send_to(text_data=text)
    error, ack = await socket.receive_json_from(), await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "invalid_message" and error["message"]
    valid_id = protocol.frame_id(json.loads(text))
    assert ack == {"type": "ack", "frameId": valid_id, "dropped": 0, "error": "invalid_message"}
    await socket.send_json_to(FIRST)
    events = await receive_until(socket, lambda event: event["type"] == "ack")
    assert events[-1] == {"type": "ack", "frameId": FIRST["frameId"], "dropped": 0}
    await socket.disconnect()


async def test_a_flooding_session_is_rate_limited_and_its_excess_is_not_analysed(
    acme_token, settings
):
    settings.LIVE_MAX_MESSAGES_PER_S = 10  # bursts of 20
    frames = landmark_messages()
    socket = await open_session(f"token={acme_token}&exercise=squat")
    started = time.monotonic()
    for frame in frames[:60]:  # all at once, no waiting for acks
        await socket.send_json_to(frame)
    events = await received(socket)
    # Then one frame at a time, once the budget has refilled: each frame's ack counts every
    # earlier frame that was not analysed, so the flood's fate adds up.
    sent = 60
    for probe in frames[60:70]:
        await socket.send_json_to(probe)
        sent += 1
        events += await received(socket)
        if events[-1]["type"] == "ack" and events[-1]["frameId"] == probe["frameId"]:
            break
    else:
        raise AssertionError("no frame analysed after the flood")
    elapsed = time.monotonic() - started

    acks = [e for e in events if e["type"] == "ack"]
    limited = [e for e in events if e.get("code") == "rate_limited"]
    # The first 20 (the burst) are analysed, then about 10 a second as the budget refills.
    assert [ack["frameId"] for ack in acks[:20]] == [f["frameId"] for f in frames[:20]]
    assert len(acks) <= 20 + 10 * elapsed + 1, (len(acks), elapsed)
    assert len(acks) + acks[-1]["dropped"] == sent, "analysed or dropped: none queued for later"
    assert 1 <= len(limited) <= 1 + int(elapsed), "at most one rate_limited event a second"
    assert limited[0]["message"] and limited[0]["retryAfter"] == 1
    assert limited[0]["dropped"] >= 1
    await socket.disconnect()


@functools.cache
def camera_frame() -> bytes:
    """The squat clip's first frame as a JPEG, as the tracking page sends it."""
    return clip_jpegs(1)[0]


@pytest.mark.parametrize(
    ("width", "height"),
    [(6000, 6000), (4000, 2400), (16000, 16000)],
    ids=["side over 4096", "over 4096x2160", "the attack's 1 MB frame"],
)
async def test_a_jpeg_frame_declaring_too_many_pixels_is_refused_and_the_session_goes_on(
    acme_token, width, height
):
    # All black, greyscale: at most 1 MB, which would decode to width × height × 3 bytes, twice
    # (16000 × 16000: 2.3 GB of server memory and 4.5 s before the fix).
    black = np.zeros((height, width), np.uint8)
    bomb = cv2.imencode(".jpg", black, [cv2.IMWRITE_JPEG_OPTIMIZE, 1])[1].tobytes()
    del black
    socket = await open_session(f"token={acme_token}&exercise=squat&inference=server")
    await socket.send_to(bytes_data=bomb)
    error = await socket.receive_json_from(timeout=30)
    assert error["code"] == "invalid_frame", error
    assert "8.85 megapixels and 4096 pixels a side" in error["message"]
    assert await socket.receive_json_from() == {
        "type": "ack",
        "frameId": 1,
        "dropped": 0,
        "error": "invalid_frame",
    }
    await socket.send_to(bytes_data=camera_frame())
    ack = (await until_ack(socket))[-1]
    assert ack["frameId"] == 2 and len(ack["landmarks"]) == 33 and "error" not in ack
    await socket.disconnect()


async def test_server_inference_sessions_over_the_process_limit_are_asked_to_come_back_later(
    acme, acme_token, settings
):
    settings.LIVE_MAX_SERVER_INFERENCE_SESSIONS = 1
    server_query = f"token={acme_token}&exercise=squat&inference=server"
    first = await open_session(server_query)
    calls = await calls_this_month(acme)

    # A second one is refused at its start, and costs no call of the quota.
    second = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?{server_query}", headers=ORIGIN
    )
    assert (await second.connect())[0]
    events, code = await until_closed(second)
    assert [e["code"] for e in events] == ["server_busy"] and code == 4503
    assert events[0]["retryAfter"] == 10 and "inference=browser" in events[0]["message"]
    assert await calls_this_month(acme) == calls

    # A browser-inference session is let in, but not its switch to JPEG frames.
    browser = await open_session(f"token={acme_token}&exercise=squat")
    await browser.send_to(bytes_data=camera_frame())
    events, code = await until_closed(browser)
    # Nothing was analysed: no summary, and no call taken.
    assert [e["code"] for e in events] == ["server_busy"] and code == 4503
    assert await calls_this_month(acme) == calls
    await browser.disconnect()

    # Once the first session has ended, its place is free again.
    await first.send_json_to({"type": "finish"})
    assert (await until_closed(first))[1] == 1000
    await first.disconnect()
    again = await open_session(server_query)
    await again.send_to(bytes_data=camera_frame())
    assert len((await until_ack(again))[-1]["landmarks"]) == 33
    await again.disconnect()


@pytest.fixture
def server(tmp_path):
    """A Daphne as `make run` starts it (config.daphne), on a free port; stopped at the end."""
    processes = Processes(tmp_path, base_env=dict(os.environ))
    port = free_port()
    env = {"MEDIA_ROOT": str(tmp_path / "media"), "PYTHONUNBUFFERED": "1"}
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = server_database_url()  # shared with the test
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.sqlite3'}"  # never reached
    try:
        processes.daphne("daphne", port, env)
        yield processes, port
    finally:
        processes.close()


@pytest.mark.slow
def test_a_ping_flood_is_closed_with_1008_and_keep_alives_are_answered(seeded_server):
    """autobahn answers pings below the application, so the session's message rate never sees
    them: a flood of pings slowed every other session of the process (p95 2 → 45 ms)."""
    port, key = seeded_server
    session = tracking_socket(f"ws://127.0.0.1:{port}", key, exercise="squat")
    assert session.receive()["type"] == "session_started"
    # Within the budget (10 a second, bursts of 20): every ping answered, the session goes on.
    for n in range(15):
        session.send_ping(b"keep-alive %d" % n)
    session.send_json(FIRST)
    session.receive_until(lambda e: e.get("type") == "ack")
    assert session.pongs == [b"keep-alive %d" % n for n in range(15)]

    session.sock.sendall(b"".join(ping_frame(b"flood %d" % n) for n in range(500)))
    closed = session.receive_until(lambda e: False, timeout=10)[-1]
    assert isinstance(closed, Closed) and closed.code == 1008
    assert len(session.pongs) < 15 + 20  # the pings past the budget were never answered


def ping_frame(payload: bytes) -> bytes:
    """A client's ping frame (masked, with a zero key)."""
    return bytes([0x89, 0x80 | len(payload)]) + bytes(4) + payload


@pytest.mark.slow
def test_sockets_to_unknown_paths_are_refused_at_the_handshake(server):
    processes, port = server
    for path in ("/ws/nothing", "/ws/pose_tracker/trackingx", "/ws/uploads/not-an-id", "/"):
        with pytest.raises(WebSocketRefused) as refused:
            WebSocket(f"ws://127.0.0.1:{port}{path}")
        assert refused.value.status == 403, path
    # Plain HTTP to the same paths is the usual 404.
    assert http("GET", f"http://127.0.0.1:{port}/ws/nothing")[0] == 404
    log = processes.log("daphne")
    assert "Exception inside application" not in log and "No route found" not in log


def _jpeg_of(size_between: tuple[int, int]) -> bytes:
    """A real frame of the squat clip, upscaled, as a JPEG of a size in the range."""
    frame = clip_frames(SQUAT_CLIP)[0][0]
    for width in range(1280, 6000, 160):
        height = round(frame.shape[0] * width / frame.shape[1])
        big = cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
        jpeg = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 99])[1].tobytes()
        if size_between[0] <= len(jpeg) < size_between[1]:
            return jpeg
    raise AssertionError(f"no JPEG of the clip between {size_between} bytes")


@pytest.mark.slow
@pytest.mark.postgres
@needs(
    connection.vendor != "postgresql",
    "needs PostgreSQL (DATABASE_URL): the server and the test share the database",
)
def test_frames_up_to_the_documented_size_pass_a_real_server_and_larger_get_an_answer(
    acme_token, server
):
    processes, port = server
    mib = 1024 * 1024
    session = tracking_socket(f"ws://127.0.0.1:{port}", acme_token, inference="server")
    assert session.receive()["type"] == "session_started"

    # 1.6 MB: over Daphne's own 1 MiB default, within the documented 2 MiB.
    session.send_bytes(_jpeg_of((int(1.5 * mib), 2 * mib)))
    ack = session.receive_until(lambda e: e.get("type") == "ack", timeout=60)[-1]
    assert ack.get("landmarks") and "error" not in ack, ack
    # Over 2 MiB: the documented error, and the session goes on.
    session.send_bytes(_jpeg_of((2 * mib + 1, int(2.9 * mib))))
    events = session.receive_until(lambda e: e.get("type") == "ack", timeout=60)
    assert events[-2]["code"] == "message_too_large", events
    assert events[-1]["error"] == "message_too_large"
    # Far over (past Daphne's limit): a close frame saying so (1009), not a dropped connection.
    session.send_bytes(b"\xff\xd8\xff" + bytes(4 * mib))
    closed = session.receive_until(lambda e: False, timeout=30)[-1]
    assert isinstance(closed, Closed) and closed.code == 1009
    assert "Exception inside application" not in processes.log("daphne")
