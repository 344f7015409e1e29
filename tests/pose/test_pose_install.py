"""What scripts/install_models.sh puts in place: the browser runtime and the `.task` bundles."""

import zipfile
from pathlib import Path

import mediapipe as mp
import numpy as np
import pytest
from mediapipe.tasks.python import BaseOptions, vision

from tests.pose.test_pose_landmark_model import operators, read_model
from tracking.pose.estimator import PoseEstimator, server_landmark_model

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "mediapipe"
NOT_INSTALLED = "run scripts/install_models.sh"


def test_the_browser_runtime_is_served_from_static_files():
    runtime = VENDOR / "tasks-vision"
    for name in (
        "vision_bundle.mjs",
        "vision_bundle.cjs",
        "wasm/vision_wasm_internal.js",
        "wasm/vision_wasm_internal.wasm",
        "wasm/vision_wasm_nosimd_internal.js",
        "wasm/vision_wasm_nosimd_internal.wasm",
    ):
        assert (runtime / name).is_file(), NOT_INSTALLED
    assert (runtime / "wasm/vision_wasm_internal.wasm").read_bytes()[:4] == b"\0asm"


@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_each_task_bundle_finds_the_same_landmarks_as_the_python_model(
    model, photo_rgb, no_network
):
    bundle = VENDOR / "models" / f"pose_landmarker_{model}.task"
    assert bundle.is_file(), NOT_INSTALLED
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(bundle)),
        running_mode=vision.RunningMode.IMAGE,
    )
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=photo_rgb))
    with PoseEstimator(model, "image") as estimator:
        expected = estimator.estimate(photo_rgb, 0.0).landmarks

    assert len(result.pose_landmarks) == 1
    found = np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks[0]])
    # Same networks; the two APIs crop the person slightly differently.
    assert found[:, :2] == pytest.approx(expected[:, :2], abs=0.01)
    assert found[:, 2] == pytest.approx(expected[:, 3], abs=0.01)


@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_each_task_bundle_runs_the_landmark_model_without_its_segmentation_branch(model):
    """The live page runs what the server runs: a third less time a frame in the browser."""
    bundle = VENDOR / "models" / f"pose_landmarker_{model}.task"
    with zipfile.ZipFile(bundle) as members:
        bundled = read_model(members.read("pose_landmarks_detector.tflite"))

    assert operators(bundled) == operators(read_model(server_landmark_model(model).read_bytes()))
