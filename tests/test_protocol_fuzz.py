"""The live protocol under random and malformed input: only error events, never a crash."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.asgi import application
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
