import cv2
import numpy as np
import pytest

from tests.pose.conftest import PHOTO
from tests.support.clips import SQUAT_CLIP, reencoded_clip
from tracking.engine.pose import LANDMARK_INDEX, Pose
from tracking.pose.estimator import PoseEstimator
from tracking.pose.media import probe_video
from tracking.pose.render import (
    PREVIEW_MAX_SIDE,
    AnnotatedVideoWriter,
    PreviewEncoder,
    draw_skeleton,
    draw_status,
    export_size,
    render_image_overlay,
)


@pytest.fixture(scope="module")
def photo_pose():
    image = cv2.imread(str(PHOTO))
    with PoseEstimator("lite", "image") as estimator:
        return estimator.estimate(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0.0)


def changed_pixels(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.argwhere((before != after).any(axis=2))


def pose_with(points: dict[str, tuple[float, float, float]], size=(200, 100)) -> Pose:
    landmarks = np.zeros((33, 4))
    for name, (x, y, visibility) in points.items():
        landmarks[LANDMARK_INDEX[name]] = (x, y, 0.0, visibility)
    return Pose(landmarks, 0.0, *size)


def test_the_skeleton_is_drawn_where_the_landmarks_are(photo_pose):
    image = cv2.imread(str(PHOTO))
    drawn = image.copy()

    draw_skeleton(drawn, photo_pose)

    changed = changed_pixels(image, drawn)
    x, y = photo_pose.landmarks[LANDMARK_INDEX["left_knee"], :2] * (548, 342)
    assert len(changed) > 500
    assert np.abs(changed - (round(y), round(x))).sum(axis=1).min() <= 2


def test_hidden_landmarks_and_their_bones_are_not_drawn():
    frame = np.zeros((100, 200, 3), np.uint8)
    pose = pose_with({"left_hip": (0.25, 0.5, 0.9), "left_knee": (0.75, 0.5, 0.1)})

    draw_skeleton(frame, pose, skeleton="coco")

    changed = changed_pixels(np.zeros_like(frame), frame)
    assert len(changed) > 0
    assert changed[:, 1].max() < 60  # only the hip's dot, nothing towards the hidden knee


def test_an_overlay_asked_without_a_skeleton_is_the_photo_itself(photo_pose):
    image = cv2.imread(str(PHOTO))

    png = render_image_overlay(image, photo_pose, style=None)

    assert np.array_equal(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), image)


def test_no_person_draws_nothing():
    frame = np.zeros((100, 200, 3), np.uint8)

    draw_skeleton(frame, Pose(None, 0.0, 200, 100))

    assert not frame.any()


def test_the_counter_and_grade_panel_sits_in_the_top_left_corner():
    frame = np.zeros((480, 640, 3), np.uint8)

    draw_status(frame, count=3, grade="B")

    rows, cols = np.nonzero(frame.any(axis=2))
    assert rows.max() < 120 and cols.max() < 320


def test_the_image_overlay_is_a_png_of_the_image_size(photo_pose):
    image = cv2.imread(str(PHOTO))

    png = render_image_overlay(image, photo_pose)

    assert png.startswith(b"\x89PNG")
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == image.shape
    assert len(changed_pixels(image, decoded)) > 500


def test_a_large_image_overlay_is_scaled_down(photo_pose):
    image = cv2.resize(cv2.imread(str(PHOTO)), (2740, 1710))

    png = render_image_overlay(image, photo_pose, max_side=1000)

    assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape == (624, 1000, 3)


def test_the_annotated_video_can_be_read_back(tmp_path):
    path = tmp_path / "annotated.mp4"
    with AnnotatedVideoWriter(path, fps=15.0, size=(320, 240)) as writer:
        for shade in range(0, 250, 10):
            writer.write(np.full((480, 640, 3), shade, np.uint8))  # resized to the video's size

    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 25
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (
        320,
        240,
    )
    assert capture.get(cv2.CAP_PROP_FOURCC) == cv2.VideoWriter_fourcc(*"h264")
    capture.release()
    assert writer.browser_playable


@pytest.mark.parametrize(
    ("source", "expected"),
    [((1920, 1080), (1280, 720)), ((1080, 1920), (720, 1280)), ((152, 247), (152, 248))],
)
def test_export_size_caps_the_long_side_and_keeps_sides_even(source, expected):
    assert export_size(*source) == expected


def test_the_preview_of_a_video_browsers_cannot_play_is_a_small_h264_copy(tmp_path):
    # The real squat clip as a camera records it: MPEG-4 part 2 in AVI, 608×992, with sound.
    camera = reencoded_clip(
        SQUAT_CLIP,
        tmp_path / "camera.avi",
        *("-f", "lavfi", "-i", "sine=duration=10.3", "-map", "0:v", "-map", "1:a"),
        *("-vf", "scale=iw*4:ih*4", "-c:v", "mpeg4", "-c:a", "mp3"),
    )
    assert probe_video(camera).codec == "FMP4"  # MPEG-4 part 2
    target = tmp_path / "preview.mp4"
    with PreviewEncoder(camera, target, max_s=600) as preview:
        assert preview.finish(timeout=60) is None
    info = probe_video(target)
    assert (info.codec, info.height) == ("h264", PREVIEW_MAX_SIDE)
    assert info.width == 440 and abs(info.duration_s - 10.3) < 0.15  # the source's time line
    content = target.read_bytes()
    assert b"soun" not in content  # no audio track
    assert content.index(b"moov") < content.index(b"mdat")  # faststart: plays as it loads
    # A small video is not enlarged.
    with PreviewEncoder(SQUAT_CLIP, target, max_s=600) as preview:
        assert preview.finish(timeout=60) is None
    assert (probe_video(target).width, probe_video(target).height) == (152, 248)


def test_a_preview_that_cannot_be_made_leaves_no_file_and_says_why(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(SQUAT_CLIP.read_bytes()[:3000])
    target = tmp_path / "preview.mp4"
    with PreviewEncoder(broken, target, max_s=600) as preview:
        error = preview.finish(timeout=60)
    assert error and not target.exists()
