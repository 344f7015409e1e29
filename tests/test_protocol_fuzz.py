"""The live protocol under random and malformed input: only error events, never a crash."""

import json

import numpy as np
import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.asgi import application
from tests.support.clips import SQUAT_CLIP
from tests.support.clips import landmark_messages as landmark_messages_of
from tracking import protocol
from tracking.engine.pose import Pose

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=40)
        | st.dictionaries(st.text(max_size=10), children, max_size=6)
    ),
    max_leaves=200,
)
point = st.lists(
    st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.none(),
    min_size=0,
    max_size=6,
)
landmark_messages = st.fixed_dictionaries(
    {"type": st.just("landmarks")},
    optional={
        "t": st.floats(allow_nan=True) | st.integers() | st.text(max_size=5) | st.none(),
        "frameId": st.integers() | st.floats() | st.booleans() | st.none(),
        "image": st.dictionaries(
            st.sampled_from(["w", "h", "x"]), st.integers(-5, 10_000) | st.floats()
        ),
        "landmarks": st.none() | st.lists(point, min_size=0, max_size=40),
        "world": st.none() | st.lists(point, min_size=0, max_size=40),
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(json_values, landmark_messages))
def test_any_json_message_becomes_a_pose_or_a_protocol_error(message):
    text = json.dumps(message, allow_nan=True)
    try:
        decoded = protocol.decode_text(text)
        outcome = (
            protocol.landmarks_to_pose(decoded, last_timestamp_ms=None)
            if decoded["type"] == "landmarks"
            else decoded
        )
    except protocol.ProtocolError as error:
        outcome = error
    if isinstance(outcome, protocol.ProtocolError):
        assert outcome.to_event()["type"] == "error" and outcome.code
    elif isinstance(outcome, Pose):
        assert outcome.landmarks is None or outcome.landmarks.shape == (33, 4)
        assert outcome.world is None or outcome.world.shape == (33, 3)
    else:
        assert isinstance(outcome, dict)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_becomes_a_message_or_a_protocol_error(text):
    try:
        outcome = protocol.decode_text(text)
    except protocol.ProtocolError as error:
        outcome = error.code
    assert isinstance(outcome, dict) or outcome in {"invalid_message", "message_too_large"}


odd_values = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.booleans()
    | st.none()
    | st.text(max_size=3)
    | st.lists(st.floats(0, 1), max_size=4)
)


# Real frames: the squat clip's landmarks, as the tracking page sends them.
CLIP_MESSAGES = [m for m in landmark_messages_of(SQUAT_CLIP) if m["landmarks"] is not None]


@st.composite
def nearly_usual_rows(draw, field: str):
    """A real frame's landmarks (or world landmarks), a few values or rows of it made odd, or
    every value a boolean."""
    rows = [list(row) for row in draw(st.sampled_from(CLIP_MESSAGES))[field]]
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.integers(0, 32))
        odd = draw(st.sampled_from(["value", "row", "booleans"]))
        if odd == "value" and rows[index]:
            rows[index][draw(st.integers(0, len(rows[index]) - 1))] = draw(odd_values)
        elif odd == "row":
            rows[index] = draw(st.lists(odd_values | st.floats(-1, 1), max_size=5))
        elif odd == "booleans":
            rows = [[draw(st.booleans()) for _ in row] for row in rows]
    return rows


def checked(check, raw):
    try:
        return check(raw)
    except protocol.ProtocolError as error:
        return error


@settings(max_examples=400, deadline=None)
@given(nearly_usual_rows("landmarks"), nearly_usual_rows("world"))
def test_frames_taken_on_the_quick_checks_pass_the_full_checks_as_the_same_array(raw, world):
    for quick, full, rows in (
        (protocol._usual_landmarks, protocol._checked_landmarks, raw),
        (protocol._usual_world, protocol._checked_world, world),
    ):
        taken = quick(rows)
        if taken is not None:
            array = checked(full, rows)
            assert isinstance(array, np.ndarray) and array.dtype == taken.dtype == np.float64
            assert np.array_equal(array, taken)


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(
            json_values.filter(
                lambda v: not (isinstance(v, dict) and v.get("type") == "finish")
            ).map(json.dumps),
            st.binary(min_size=1, max_size=64),
            st.text(min_size=1, max_size=64),
        ),
        min_size=1,
        max_size=15,
    )
)
async def test_a_flood_of_junk_gets_errors_and_the_session_still_counts(acme_token, messages):
    socket = WebsocketCommunicator(
        application, f"/ws/pose_tracker/tracking?token={acme_token}&exercise=squat", headers=HEADERS
    )
    assert (await socket.connect())[0]
    assert (await socket.receive_json_from())["type"] == "session_started"
    for message in messages:
        if isinstance(message, bytes):
            await socket.send_to(bytes_data=message)
        else:
            await socket.send_to(text_data=message)
    valid = {
        "type": "landmarks",
        "frameId": 99_999,
        "t": 1e12,
        "image": {"w": 100, "h": 100},
        "landmarks": None,
    }
    await socket.send_json_to(valid)
    while True:
        event = await socket.receive_json_from(timeout=10)
        assert "type" in event
        if event["type"] == "ack" and event["frameId"] == 99_999:
            break
    await socket.disconnect()
