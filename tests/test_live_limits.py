"""The live socket's limits (docs/protocol.md): every number a client sends is range-checked, a
session over its message rate is answered `rate_limited` and its excess is not analysed, frames
up to the documented 2 MiB pass a real Daphne and larger ones get a clear answer, and a socket to
a path we do not serve is refused at the handshake."""

import json
import os
import time

import cv2
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
from tests.support.clips import SQUAT_CLIP, clip_frames, landmark_messages
from tests.support.servers import free_port
from tests.test_live_socket import receive_until
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


def with_landmark(frame: dict, index: int, value) -> dict:
    landmarks = [list(point) for point in frame["landmarks"]]
    landmarks[11][index] = value  # the left shoulder
    return frame | {"landmarks": landmarks}


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
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): the server and the test share the database",
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
