import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.pose.conftest import PHOTO
from tests.support.clips import CURL_CLIP, SQUAT_CLIP, reencoded_clip
from tracking.params import parse_tracking_params
from tracking.pose import pipeline
from tracking.pose.media import MediaError
from tracking.pose.pipeline import analyze_file


def upload_params(query: str):
    return parse_tracking_params(f"token=test&{query}", endpoint="upload")


@dataclass
class Recorded:
    """An analysis with what its callbacks heard, its annotated video and its pose timeline."""

    export: Path
    timeline: Path
    result: pipeline.AnalysisResult | None = None
    events: list = field(default_factory=list)
    progress: list = field(default_factory=list)


def analyse(tmp_path_factory, path, query, **options) -> Recorded:
    outputs = tmp_path_factory.mktemp("outputs")
    recorded = Recorded(export=outputs / "annotated.mp4", timeline=outputs / "timeline.json")
    recorded.result = analyze_file(
        path,
        params=upload_params(query),
        on_event=recorded.events.append,
        on_progress=recorded.progress.append,
        export_path=recorded.export,
        timeline_path=recorded.timeline,
        **options,
    )
    return recorded


@pytest.fixture(scope="module")
def squats(tmp_path_factory):
    return analyse(tmp_path_factory, SQUAT_CLIP, "source=video&exercise=squat&keypoints=true")


@pytest.fixture(scope="module")
def squats_in_workers(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "MIN_SECONDS_PER_WORKER", 2.0)  # the clip lasts 10.3 s
        return analyse(
            tmp_path_factory, SQUAT_CLIP, "source=video&exercise=squat&keypoints=true", workers=2
        )


def counters(events):
    return [e for e in events if e["type"] == "counter"]


def batch_frames(events):
    (batch,) = [e for e in events if e["type"] == "keypoints_batch"]
    return batch["frames"]


@pytest.mark.slow
def test_the_squat_clip_ends_with_a_final_count_of_four(squats):
    final = counters(squats.result.events)[-1]

    assert final["final"] is True and final["current_count"] == 4
    assert squats.result.summary["final_count"] == 4
    assert squats.result.summary["exercise_summary"]["type"] == "exercise_summary"


@pytest.mark.slow
def test_the_curl_clip_counts_six():
    result = analyze_file(CURL_CLIP, params=upload_params("source=video&exercise=bicep_curl"))

    assert [e["current_count"] for e in counters(result.events)] == [1, 2, 3, 4, 5, 6, 6]
    assert counters(result.events)[-1]["final"] is True


@pytest.mark.slow
def test_the_keypoints_batch_covers_every_analysed_frame_before_the_summary(squats):
    events = squats.result.events
    frames = batch_frames(events)

    assert [f["frameId"] for f in frames] == list(range(103))
    assert np.all(np.diff([f["timestampMs"] for f in frames]) > 0)
    assert {len(f["keypoints"]) for f in frames} == {17}
    types = [e["type"] for e in events]
    assert types.index("keypoints_batch") == types.index("exercise_summary") - 1


@pytest.mark.slow
def test_events_are_passed_on_as_they_come_and_progress_climbs_to_100(squats):
    assert squats.events == squats.result.events
    assert squats.progress == sorted(set(squats.progress))
    assert squats.progress[0] <= 1 and squats.progress[-1] == 100


@pytest.mark.slow
def test_stats_time_each_stage(squats):
    stats = squats.result.stats

    assert stats["frames_analyzed"] == stats["frames_with_person"] == 103
    assert set(stats["stages_s"]) == {"decode", "inference", "engine", "storage"}
    assert set(stats["stages_cpu_s"]) == set(stats["stages_s"])
    assert stats["stages_s"]["inference"] > stats["stages_s"]["engine"]
    # MediaPipe's graph runs in threads of its own: their CPU time is counted too (a network
    # of some hundred million operations takes more than a millisecond of CPU a frame).
    assert stats["stages_cpu_s"]["inference"] > 0.001 * stats["frames_analyzed"]
    assert stats["peak_rss_mb"] > 100 and stats["realtime_factor"] > 0


@pytest.mark.slow
def test_the_annotated_video_has_one_frame_per_analysed_frame(squats):
    capture = cv2.VideoCapture(str(squats.export))

    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 103
    assert squats.result.stats["export_codec"] == "h264"


@pytest.mark.slow
def test_worker_processes_give_the_same_frames_and_count(squats, squats_in_workers):
    result = squats_in_workers.result

    assert result.stats["workers"] == 2
    assert len(result.stats["workers_peak_rss_mb"]) == 1
    # Landmarks just after the chunk boundary differ a little (the tracker warmed up on fewer
    # frames), so scores may too; the count may not.
    assert [e["current_count"] for e in counters(result.events)] == [1, 2, 3, 4, 4]
    in_workers = batch_frames(result.events)
    in_one = batch_frames(squats.result.events)
    assert [f["frameId"] for f in in_workers] == [f["frameId"] for f in in_one]
    assert [f["timestampMs"] for f in in_workers] == [f["timestampMs"] for f in in_one]
    assert squats_in_workers.progress[-1] == 100
    assert cv2.VideoCapture(str(squats_in_workers.export)).get(cv2.CAP_PROP_FRAME_COUNT) == 103
    timelines = [json.loads(r.timeline.read_text())["frames"] for r in (squats_in_workers, squats)]
    assert [[t, count] for t, count, *_ in timelines[0]] == [
        [t, count] for t, count, *_ in timelines[1]
    ]


@pytest.mark.slow
def test_workers_kept_from_a_previous_video_give_the_same_events(
    squats_in_workers, tmp_path_factory, monkeypatch
):
    # The first analysis may have started its worker; this one finds it waiting. Chunk
    # boundaries must not depend on that, or a video analysed again would score differently.
    monkeypatch.setattr(pipeline, "MIN_SECONDS_PER_WORKER", 2.0)
    again = analyse(
        tmp_path_factory, SQUAT_CLIP, "source=video&exercise=squat&keypoints=true", workers=2
    )

    assert again.result.events == squats_in_workers.result.events


@pytest.mark.slow
def test_the_timeline_has_each_analysed_frame_with_the_counter_drawn_on_it(squats):
    timeline = json.loads(squats.timeline.read_text())
    frames = timeline["frames"]

    assert (timeline["width"], timeline["height"], timeline["skeleton"]) == (152, 248, "coco")
    analysed = batch_frames(squats.result.events)
    assert [t for t, *_ in frames] == [round(f["timestampMs"], 1) for f in analysed]
    assert all(points is None or len(points) == 33 * 3 for *_, points in frames)
    assert (
        sum(points is not None for *_, points in frames)
        == squats.result.stats["frames_with_person"]
    )
    # The counter as the annotated video burns it in: rising 1..4, with a grade once counted.
    counts = [count for _, count, _, _ in frames if count is not None]
    assert counts == sorted(counts) and counts[-1] == 4
    assert all(grade in set("ABCDF") for _, count, grade, _ in frames if count)
    assert all(b < 33 for edge in timeline["edges"] for b in edge)
    assert timeline["style"] == {}  # skeleton=true: each side in its colour


@pytest.mark.slow
def test_the_timeline_says_when_in_the_video_each_event_happened(squats):
    timeline = json.loads(squats.timeline.read_text())
    times = timeline["eventTimesMs"]
    events = squats.result.events
    assert len(times) == len(events) and times == sorted(times)
    # Each rep's counter event at the frame whose count it first shows.
    first_shown = {}
    for t, count, *_ in timeline["frames"]:
        first_shown.setdefault(count, t)
    counted = [
        (event["current_count"], t)
        for event, t in zip(events, times, strict=True)
        if event["type"] == "counter" and not event.get("final")
    ]
    assert len(counted) == 4
    assert [t for _, t in counted] == [first_shown[count] for count, _ in counted]
    # Keypoints events at their own frame's time; the closing events at the last frame's.
    for event, t in zip(events, times, strict=True):
        if event["type"] == "keypoints":
            assert t == round(event["timestampMs"], 1)
    assert times[-1] == timeline["frames"][-1][0]


@pytest.mark.parametrize(
    ("name", "codec", "previewed"),
    [("phone.mp4", "libx264", False), ("camera.mp4", "mpeg4", True)],
)
def test_a_preview_is_encoded_only_for_a_video_browsers_cannot_play(
    tmp_path, name, codec, previewed
):
    # Encoding a preview costs about half the analysis' CPU again: an H.264 MP4 replays as it is.
    video = reencoded_clip(SQUAT_CLIP, tmp_path / name, "-c:v", codec, "-pix_fmt", "yuv420p")
    preview = tmp_path / "preview.mp4"

    result = analyze_file(
        video,
        params=upload_params("source=video&exercise=squat"),
        timeline_path=tmp_path / "timeline.json",
        preview_path=preview,
    )

    assert preview.exists() is previewed
    assert "preview_error" not in result.stats
    assert counters(result.events)[-1]["current_count"] == 4


def test_a_photo_gives_posture_keypoints_angles_and_an_overlay(tmp_path):
    overlay = tmp_path / "overlay.png"

    result = analyze_file(
        PHOTO, params=upload_params("source=image&angles=true"), overlay_path=overlay
    )

    types = [e["type"] for e in result.events]
    assert types == ["posture", "keypoints", "angles"]  # pose-only: keypoints always
    posture, keypoints, angles = result.events
    assert posture["ready"] is True
    assert len(keypoints["keypoints"]) == 17
    assert 90 < angles["data"]["left_side"]["knee_angle"]["from_hip_to_ankle"] <= 180
    image = cv2.imread(str(overlay))
    assert image.shape == (342, 548, 3)
    assert result.summary == {
        "media": "image",
        "width": 548,
        "height": 342,
        "person_detected": True,
    }


def test_the_skeleton_parameter_draws_the_photo_overlay(tmp_path):
    """skeleton=false: the photo as it was; a colour: bones of that colour; true: each side's."""
    original = cv2.imread(str(PHOTO))
    drawn = {}
    for skeleton in ("false", "%23ff0000", "true"):
        overlay = tmp_path / f"{skeleton}.png"
        analyze_file(
            PHOTO, params=upload_params(f"source=image&skeleton={skeleton}"), overlay_path=overlay
        )
        drawn[skeleton] = cv2.imread(str(overlay))
    assert np.array_equal(drawn["false"], original)
    red = (drawn["%23ff0000"] == (0, 0, 255)).all(axis=2)
    assert red.sum() > 200 and not (original == (0, 0, 255)).all(axis=2).any()
    assert not (drawn["true"] == (0, 0, 255)).all(axis=2).any()
    assert (drawn["true"] != original).any()


def test_a_photo_without_anyone_is_reported_not_refused(tmp_path):
    photo = tmp_path / "empty-gym.png"
    cv2.imwrite(str(photo), np.full((240, 320, 3), 170, np.uint8))

    result = analyze_file(
        photo,
        params=upload_params("source=image&exercise=squat&language=fr"),
        overlay_path=tmp_path / "overlay.png",
    )

    (posture,) = result.events
    assert posture["ready"] is False and posture["requirements"] == ["full_body_visible"]
    assert "cadre" in posture["message"]
    assert result.summary["person_detected"] is False
    assert (tmp_path / "overlay.png").read_bytes().startswith(b"\x89PNG")


def test_unusable_media_raises_a_media_error(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()

    with pytest.raises(MediaError) as refused:
        analyze_file(empty, params=upload_params("source=video&exercise=squat"))

    assert refused.value.code == "empty_file"
