import cv2
import numpy as np
import pytest
from mediapipe.python.solutions import pose as mp_pose

from tests.support.clips import CURL_CLIP, SQUAT_CLIP, clip_landmarks
from tracking.engine.pose import LANDMARK_INDEX
from tracking.pose import estimator as estimator_module
from tracking.pose.estimator import MODEL_COMPLEXITY, ModelNotInstalledError, PoseEstimator
from tracking.pose.media import iter_video_frames, probe_video

BODY = [
    LANDMARK_INDEX[f"{side}_{part}"]
    for side in ("left", "right")
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
]


def estimate_clip(path, model):
    with PoseEstimator(model, "video") as estimator:
        return [
            estimator.estimate(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), timestamp_ms, index)
            for frame, timestamp_ms, index in iter_video_frames(path)
        ]


@pytest.mark.slow
def test_full_model_reproduces_the_recorded_clip_landmarks():
    recorded = clip_landmarks(SQUAT_CLIP)["frames"]

    poses = estimate_clip(SQUAT_CLIP, "full")

    assert [pose.frame_id for pose in poses] == [frame["frame_id"] for frame in recorded]
    for pose, frame in zip(poses, recorded, strict=True):
        assert pose.timestamp_ms == pytest.approx(frame["timestamp_ms"])
        assert pose.landmarks == pytest.approx(np.array(frame["landmarks"]), abs=1e-4)
        assert pose.world == pytest.approx(np.array(frame["world"]), abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("clip", [SQUAT_CLIP, CURL_CLIP], ids=lambda path: path.stem)
def test_lite_model_sees_the_whole_body_confidently_on_real_clips(clip):
    poses = estimate_clip(clip, "lite")

    assert all(pose.landmarks is not None for pose in poses)
    assert all(pose.landmarks.shape == (33, 4) and pose.world.shape == (33, 3) for pose in poses)
    confident = [np.median(pose.landmarks[BODY, 3]) > 0.9 for pose in poses]
    assert sum(confident) >= 0.9 * len(poses)
    info = probe_video(clip)
    assert {(pose.image_width, pose.image_height) for pose in poses} == {(info.width, info.height)}


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_without_the_segmentation_branch_mediapipe_tracks_exactly_the_same_landmarks(model):
    frames = [
        cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for frame, _, _ in iter_video_frames(SQUAT_CLIP)
    ][:40]
    with PoseEstimator(model, "video") as estimator:
        poses = [estimator.estimate(frame, 100.0 * n) for n, frame in enumerate(frames)]
    with mp_pose.Pose(model_complexity=MODEL_COMPLEXITY[model]) as original:
        results = [original.process(frame) for frame in frames]

    for pose, result in zip(poses, results, strict=True):
        landmarks = [(p.x, p.y, p.z, p.visibility) for p in result.pose_landmarks.landmark]
        world = [(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark]
        assert np.array_equal(pose.landmarks, np.array(landmarks))
        assert np.array_equal(pose.world, np.array(world))


def test_the_estimator_runs_the_server_landmark_model(monkeypatch, tmp_path, photo_rgb):
    monkeypatch.setattr(estimator_module, "SERVER_MODELS_DIR", tmp_path)
    estimator_module.server_landmark_model("lite").write_bytes(b"not a model")

    with pytest.raises(RuntimeError, match="Failed to load TfLite model"):
        with PoseEstimator("lite", "image") as estimator:
            estimator.estimate(photo_rgb, 0.0)


@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_every_model_runs_offline_on_a_photo(model, photo_rgb, no_network):
    with PoseEstimator(model, "image") as estimator:
        pose = estimator.estimate(photo_rgb, 0.0)

    assert pose.landmarks.shape == (33, 4)
    assert pose.world.shape == (33, 3)
    assert (pose.image_width, pose.image_height) == (548, 342)
    ankles = [LANDMARK_INDEX["left_ankle"], LANDMARK_INDEX["right_ankle"]]
    assert (pose.landmarks[ankles, 3] > 0.5).all()
    assert ((pose.landmarks[:, :2] > 0) & (pose.landmarks[:, :2] < 1)).all()


def test_an_image_without_a_person_gives_no_landmarks():
    empty_room = np.full((240, 320, 3), 180, np.uint8)
    with PoseEstimator("lite", "image") as estimator:
        pose = estimator.estimate(empty_room, 40.0, frame_id=7)

    assert pose.landmarks is None and pose.world is None
    assert (pose.timestamp_ms, pose.frame_id, pose.image_width, pose.image_height) == (
        40.0,
        7,
        320,
        240,
    )


def test_one_estimator_serves_many_frames_then_closes(photo_rgb):
    estimator = PoseEstimator("lite", "video")
    with estimator:
        first = estimator.estimate(photo_rgb, 0.0)
        second = estimator.estimate(photo_rgb, 33.0)
    assert first.landmarks is not None and second.landmarks is not None

    with pytest.raises(RuntimeError, match="closed"):
        estimator.estimate(photo_rgb, 66.0)


def test_a_missing_model_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(estimator_module, "_MEDIAPIPE_DIR", tmp_path)

    with pytest.raises(ModelNotInstalledError, match="run scripts/install_models.sh"):
        PoseEstimator("heavy")


def test_a_missing_server_model_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(estimator_module, "SERVER_MODELS_DIR", tmp_path)

    with pytest.raises(ModelNotInstalledError, match="no_segmentation.*run scripts/install"):
        PoseEstimator("lite")


@pytest.mark.parametrize(("model", "mode"), [("medium", "video"), ("lite", "live")])
def test_unknown_model_or_mode_is_refused(model, mode):
    with pytest.raises(ValueError, match="must be one of"):
        PoseEstimator(model, mode)
