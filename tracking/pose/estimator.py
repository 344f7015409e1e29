"""BlazePose (MediaPipe's legacy Pose solution) on one stream of images, fully offline.

The mediapipe wheel ships only the full landmark model; `scripts/install_models.sh` puts the lite
and heavy ones beside it, and writes each without its segmentation branch (landmark_model.py):
MediaPipe's graph runs that copy, unchanged otherwise. Without them mediapipe would try to
download at run time, so a missing model is refused here before mediapipe is asked.
"""

import importlib.util
from pathlib import Path

import numpy as np
from mediapipe.calculators.core.constant_side_packet_calculator_pb2 import (
    ConstantSidePacketCalculatorOptions,
)
from mediapipe.python.solutions import pose as mp_pose

from config.errors import FormTrackError
from tracking.engine.pose import Pose

MODEL_COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
MODES = ("video", "image")

_MEDIAPIPE_DIR = Path(importlib.util.find_spec("mediapipe").submodule_search_locations[0])
# Where scripts/install_models.sh writes the landmark models the server runs.
SERVER_MODELS_DIR = Path(__file__).resolve().parents[2] / "static/vendor/mediapipe/models"
# The node of MediaPipe's pose graph (0.10.21) that names the landmark model file, for
# model_complexity 0, 1 and 2 (its suffixes 1, 2, 3).
_MODEL_PATH_NODE = (
    "poselandmarkbyroicpu__poselandmarkmodelloader__"
    "switchcontainer__ConstantSidePacketCalculator_{}"
)


class ModelNotInstalledError(FormTrackError, FileNotFoundError):
    """This install lacks a model (scripts/install_models.sh): the server's fault, not the
    request's."""

    def __init__(self, message: str):
        super().__init__("model_not_installed", message, 503)


def model_files(model: str) -> tuple[Path, Path]:
    """The person detector and the landmark model that `model` needs."""
    return (
        _MEDIAPIPE_DIR / "modules" / "pose_detection" / "pose_detection.tflite",
        _MEDIAPIPE_DIR / "modules" / "pose_landmark" / f"pose_landmark_{model}.tflite",
    )


def server_landmark_model(model: str) -> Path:
    """The landmark model without its segmentation branch, which the estimator runs."""
    return SERVER_MODELS_DIR / f"pose_landmark_{model}_no_segmentation.tflite"


class _Pose(mp_pose.Pose):
    """MediaPipe's Pose, loading its landmark model from `landmark_model` (an absolute path)."""

    def __init__(self, landmark_model: Path, *, model_complexity: int, **options):
        packet = ConstantSidePacketCalculatorOptions.ConstantSidePacket(
            string_value=str(landmark_model)
        )
        self._model_path = {f"{_MODEL_PATH_NODE.format(model_complexity + 1)}.packet": [packet]}
        super().__init__(model_complexity=model_complexity, **options)

    def _modify_calculator_options(self, calculator_graph_config, calculator_params):
        # SolutionBase refuses a parameter for a node it does not find: a mediapipe whose graph
        # differs fails here, loudly.
        super()._modify_calculator_options(
            calculator_graph_config, {**calculator_params, **self._model_path}
        )


class PoseEstimator:
    """One person's 33 BlazePose landmarks per image.

    mode "video" tracks the person from frame to frame (the detector runs only when tracking is
    lost) and smooths landmarks: feed one stream's frames in order. mode "image" treats every
    image on its own. Not thread-safe, and it keeps state between frames in video mode: use one
    instance per stream, created once and reused (creation takes about 0.2 s and ~240 MiB).
    """

    def __init__(
        self,
        model: str = "full",
        mode: str = "video",
        *,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        if model not in MODEL_COMPLEXITY:
            raise ValueError(f"model must be one of {', '.join(MODEL_COMPLEXITY)}, not {model!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        files = (*model_files(model), server_landmark_model(model))
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise ModelNotInstalledError(
                f"BlazePose {model} model missing ({', '.join(missing)}): "
                "run scripts/install_models.sh"
            )
        self.model = model
        self.mode = mode
        self._pose = _Pose(
            server_landmark_model(model),
            static_image_mode=mode == "image",
            model_complexity=MODEL_COMPLEXITY[model],
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def estimate(
        self, image_rgb: np.ndarray, timestamp_ms: float, frame_id: int | None = None
    ) -> Pose:
        """Landmarks of the most prominent person in an RGB image (OpenCV decodes to BGR:
        convert first; BGR input gives worse landmarks, not an error).

        In video mode, MediaPipe's smoothing assumes frames about 33 ms apart whatever
        `timestamp_ms` says; the timestamp is carried into the returned Pose for the engine.
        """
        if self._pose is None:
            raise RuntimeError("PoseEstimator is closed")
        height, width = image_rgb.shape[:2]
        result = self._pose.process(image_rgb)
        if result.pose_landmarks is None:
            return Pose(None, timestamp_ms, width, height, frame_id=frame_id)
        landmarks = np.array(
            [(lm.x, lm.y, lm.z, lm.visibility) for lm in result.pose_landmarks.landmark]
        )
        world = np.array([(lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks.landmark])
        return Pose(landmarks, timestamp_ms, width, height, world=world, frame_id=frame_id)

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self) -> "PoseEstimator":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
