"""Live equals upload (issue #16 item 4): the same real squat clip, uploaded and streamed to a real
server's live socket, gives the same count and grades within 2 points, because both feed the
engine the same 3-D (world) landmarks. Before, the live socket carried image landmarks only, and a
front-facing squat graded from 2-D knee angles: A (99.8) uploaded, B (80) live.

Live landmarks come from the upload's own model (its estimator, video mode) frame by frame, packed
as the tracking page packs them; with server inference the server estimates JPEG frames itself.
Counts also hold when the live path drops frames and its timestamps jitter (issue #16 item 5).
"""

import random
import time

import cv2
import pytest

from tests.processes import tracking_socket
from tests.support.clips import SQUAT_CLIP, clip_frames, page_message
from tracking.params import parse_tracking_params
from tracking.pose.estimator import PoseEstimator
from tracking.pose.pipeline import analyze_file

pytestmark = pytest.mark.slow

QUERY = "exercise=squat"
SCORE_TOLERANCE = 2  # points of a rep's 0..100 score


def outcome(events: list[dict]) -> tuple[int, list[int], float]:
    """(reps counted, each rep's score, the average score) from the exercise summary."""
    (summary,) = [e for e in events if e.get("type") == "exercise_summary"]
    return (
        summary["counter"],
        [rep["score"] for rep in summary["history"]],
        summary["average_score"],
    )


def assert_grades_match(live, upload):
    (live_count, live_scores, live_average), (count, scores, average) = live, upload
    assert live_count == count, (live, upload)
    assert all(abs(a - b) <= SCORE_TOLERANCE for a, b in zip(live_scores, scores, strict=True)), (
        live,
        upload,
    )
    assert abs(live_average - average) <= SCORE_TOLERANCE, (live, upload)


@pytest.fixture(scope="module")
def upload():
    params = parse_tracking_params(f"token=t&source=video&{QUERY}", endpoint="upload")
    return outcome(analyze_file(SQUAT_CLIP, params=params).events)


@pytest.fixture(scope="module")
def page_stream():
    """The clip as a page running the upload's model would stream it: every camera frame's
    image and world landmarks, at the clip's own timing."""
    params = parse_tracking_params(f"token=t&{QUERY}")
    frames, fps = clip_frames(SQUAT_CLIP)
    with PoseEstimator(params.mediapipe_model, "video") as estimator:
        poses = [
            estimator.estimate(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), i * 1000 / fps, i)
            for i, frame in enumerate(frames)
        ]
    assert all(p.world is not None for p in poses if p.landmarks is not None)
    return [page_message(pose) for pose in poses]


def live_session(seeded_server, messages=(), jpegs=(), fps=None, **params) -> list[dict]:
    """One session on the real server's socket: landmark messages or JPEG frames (paced at `fps`,
    as a camera delivers them: the server stamps JPEG frames on arrival), each sent once the
    previous one is answered; then finish. Every event received."""
    port, key = seeded_server
    socket = tracking_socket(f"ws://127.0.0.1:{port}", key, exercise="squat", **params)
    events = socket.receive_until(lambda e: e.get("type") == "session_started")
    started = time.monotonic()
    for index, frame in enumerate([*messages, *jpegs]):
        if fps is not None:
            time.sleep(max(0.0, started + index / fps - time.monotonic()))  # the camera's clock
        if isinstance(frame, bytes):
            socket.send_bytes(frame)
        else:
            socket.send_json(frame)
        events += socket.receive_until(lambda e: e.get("type") == "ack", timeout=60)
        assert "error" not in events[-1], events[-3:]
    socket.send_json({"type": "finish"})
    events += socket.receive_until(lambda e: e.get("type") == "exercise_summary")
    socket.close()
    return events


def test_a_clip_streamed_with_world_landmarks_grades_as_when_uploaded(
    seeded_server, upload, page_stream
):
    assert page_stream[40]["world"] and len(page_stream[40]["world"]) == 33
    live = outcome(live_session(seeded_server, page_stream))
    assert live[0] == 4
    assert_grades_match(live, upload)


def test_server_inference_grades_as_when_uploaded(seeded_server, upload):
    frames, fps = clip_frames(SQUAT_CLIP)
    jpegs = [cv2.imencode(".jpg", frame)[1].tobytes() for frame in frames]
    live = outcome(live_session(seeded_server, jpegs=jpegs, fps=fps, inference="server"))
    assert_grades_match(live, upload)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_counts_hold_with_dropped_frames_and_jittered_timestamps(
    seeded_server, upload, page_stream, seed
):
    """A third of the frames never sent (a busy device skips them), the others stamped up to
    30 ms early or late (a camera's clock), as the page's flow control and timer give them."""
    rng = random.Random(seed)
    messages, last_t = [], 0.0
    for message in page_stream:
        if rng.random() < 1 / 3:
            continue
        last_t = max(last_t, message["t"] + rng.uniform(-30, 30))  # t never goes backwards
        messages.append(message | {"t": round(last_t, 1)})
    live = outcome(live_session(seeded_server, messages))
    assert live[0] == upload[0] == 4
