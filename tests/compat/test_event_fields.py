"""An analysed clip's events read as the contract names them (posetracker-api.md §4): the squat
clip's recorded landmarks through the live socket, and the clip's video uploaded, with every
developer output asked for. Keypoints are normalised 0–1 with depth, on the mirrored preview in
live sessions, and every timestampMs is whole milliseconds: a Unix time live, the time within the
video for uploads."""

import time

import pytest

from tests.support.clips import SQUAT_CLIP, clip_landmarks, landmark_messages
from tests.support.contract import contract_problems
from tests.test_live_socket import closing_code, open_session, receive_until
from tests.test_uploads import events_of, post_file, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)

ALL_OUTPUTS = "keypoints=true&angles=true&progression=true&recommendations=true"


def _problems(events: list[dict]) -> list[str]:
    return [problem for event in events for problem in contract_problems(event)]


async def test_a_live_squat_session_speaks_the_contracts_field_names(acme_token):
    socket = await open_session(f"token={acme_token}&exercise=squat&{ALL_OUTPUTS}")
    assert (await socket.receive_json_from())["type"] == "session_started"
    started_ms = time.time() * 1000
    events, first_ack_ms = [], None
    for message in landmark_messages():
        await socket.send_json_to(message)
        events += await receive_until(socket, lambda e: e["type"] == "ack")
        first_ack_ms = first_ack_ms or time.time() * 1000
    await socket.send_json_to({"type": "finish"})
    events += await receive_until(socket, lambda e: e["type"] == "exercise_summary")
    assert await closing_code(socket) == 1000
    events = [e for e in events if e["type"] != "ack"]

    assert not _problems(events)
    types = {e["type"] for e in events}
    assert {"posture", "keypoints", "angles", "progression", "counter", "form_score"} <= types
    assert max(e["current_count"] for e in events if e["type"] == "counter") == 4

    # The first frame at the Unix time it arrived; then the frames' own times (the clip is sent
    # faster than it was filmed: its 100 ms steps stay 100 ms steps).
    keypoints = [e for e in events if e["type"] == "keypoints"]
    stamps = [e["timestampMs"] for e in keypoints]
    assert started_ms - 1 <= stamps[0] <= first_ack_ms + 1
    clip = clip_landmarks()["frames"]
    for event, frame in zip(keypoints, clip, strict=True):
        expected = stamps[0] + frame["timestamp_ms"] - clip[0]["timestamp_ms"]
        assert abs(event["timestampMs"] - expected) <= 1
    summary = events[-1]
    assert summary["timestampMs"] == stamps[-1]

    # The mirrored preview: the camera's left is the host's right.
    nose = clip[0]["landmarks"][0]
    point = keypoints[0]["keypoints"][0]
    assert point["name"] == "nose" and point["x"] == pytest.approx(1 - nose[0], abs=1e-4)
    assert point["y"] == pytest.approx(nose[1], abs=1e-4)
    await socket.disconnect()


@pytest.mark.slow
def test_an_analysed_upload_speaks_the_contracts_field_names(client, worker, acme_token):
    query = dict(pair.split("=") for pair in ALL_OUTPUTS.split("&"))
    response = post_file(client, acme_token, SQUAT_CLIP, SQUAT_CLIP.name, exercise="squat", **query)
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    events = events_of(client, acme_token, upload.pk)

    assert not _problems(events)
    final = [e for e in events if e["type"] == "counter" and e.get("final")]
    assert final[-1]["current_count"] == 4 and final[-1]["form_score"]["grade"]
    # Within the video, as a person writes times: 0, 100, 200… for a 10 fps clip.
    stamps = [e["timestampMs"] for e in events if "timestampMs" in e]
    assert stamps and all(isinstance(stamp, int) for stamp in stamps)
    (batch,) = [e for e in events if e["type"] == "keypoints_batch"]
    assert [frame["timestampMs"] for frame in batch["frames"]][:3] == [0, 100, 200]
    # Uploads show the video as it is: not mirrored.
    first = batch["frames"][0]["keypoints"][0]
    nose = clip_landmarks()["frames"][0]["landmarks"][0]
    assert first["x"] == pytest.approx(nose[0], abs=0.05)
