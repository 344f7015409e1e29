"""A range-of-motion assessment live equals uploaded: QuickPose's trunk side bend clip
(tests/fixtures/clips/health-back-rom.mp4) through the upload pipeline, and the same clip streamed
to a real server's live socket as the tracking page streams it (the upload's model, frame by frame,
with world landmarks), give the same measurement; the upload keeps its rom_summary in its
summary."""

import json
import time

import cv2
import pytest

from tests.processes import tracking_socket
from tests.support.clips import CLIPS, clip_frames, page_message
from tracking.models import UploadResults
from tracking.params import parse_tracking_params
from tracking.pose.estimator import PoseEstimator
from tracking.pose.pipeline import analyze_file

pytestmark = pytest.mark.slow

BACK_CLIP = CLIPS / "health-back-rom.mp4"
QUERY = {"exercise": "back_rom"}


def only_result(rom_summary: dict) -> dict:
    (result,) = rom_summary["results"]
    return result


@pytest.fixture(scope="module")
def upload():
    params = parse_tracking_params("token=t&source=video&exercise=back_rom", endpoint="upload")
    return analyze_file(BACK_CLIP, params=params)


def test_an_uploaded_assessment_keeps_its_rom_summary_in_the_summary(upload):
    types = [event["type"] for event in upload.events]
    assert "rom_measurement" in types and types[-1] == "rom_summary"
    assert "counter" not in types and "exercise_summary" not in types
    assert upload.summary["rom_summary"] == upload.events[-1]
    assert upload.summary["exercise_summary"] is None and upload.summary["final_count"] is None
    result = only_result(upload.summary["rom_summary"])
    assert (result["movement"], result["side"]) == ("lateral_flexion", "left")
    assert abs(result["degrees"] - 21) <= 10  # the vendor's readout (tests/engine/test_rom.py)
    # What the upload page, the API and the dashboard read: its measurement, no count.
    results = UploadResults.from_summary(upload.summary)
    assert results.measurements == [result] and results.counter is None


def test_an_uploaded_assessments_replay_draws_no_count(tmp_path):
    """An assessment counts nothing: its replay's timeline carries no counter ("Count 0" over a
    side bend said the wrong thing; the annotated export reads the same flag)."""
    params = parse_tracking_params("token=t&source=video&exercise=back_rom", endpoint="upload")
    timeline = tmp_path / "timeline.json"
    analyze_file(BACK_CLIP, params=params, timeline_path=timeline)
    frames = json.loads(timeline.read_text())["frames"]
    assert frames and all(count is None and grade is None for _, count, grade, _ in frames)


def test_a_live_assessment_measures_as_when_uploaded(seeded_server, upload):
    params = parse_tracking_params("token=t&exercise=back_rom")
    frames, fps = clip_frames(BACK_CLIP)
    with PoseEstimator(params.mediapipe_model, "video") as estimator:
        poses = [
            estimator.estimate(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), i * 1000 / fps, i)
            for i, frame in enumerate(frames)
        ]
    port, key = seeded_server
    socket = tracking_socket(f"ws://127.0.0.1:{port}", key, **QUERY)
    events = socket.receive_until(lambda e: e.get("type") == "session_started")
    for pose in poses:
        socket.send_json(page_message(pose))
        events += socket.receive_until(lambda e: e.get("type") == "ack", timeout=60)
    socket.send_json({"type": "finish"})
    events += socket.receive_until(lambda e: e.get("type") == "rom_summary")
    socket.close()
    live = only_result(events[-1])
    uploaded = only_result(upload.summary["rom_summary"])
    assert {key: live[key] for key in ("joint", "movement", "side")} == {
        key: uploaded[key] for key in ("joint", "movement", "side")
    }
    assert abs(live["degrees"] - uploaded["degrees"]) <= 1.0, (live, uploaded)
    # Live, timestamps are Unix times.
    assert events[-1]["timestampMs"] > time.time() * 1000 - 600_000
