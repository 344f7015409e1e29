import cv2
import numpy as np
import pytest

from tests.pose.conftest import PHOTO
from tracking.engine.pose import LANDMARK_INDEX, Pose
from tracking.pose.estimator import PoseEstimator
from tracking.pose.render import (
    AnnotatedVideoWriter,
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
