"""BlazePose (MediaPipe's legacy Pose solution) on one stream of images, fully offline.

The mediapipe wheel ships only the full landmark model; `scripts/install_models.sh` puts the lite
and heavy ones beside it. Without them mediapipe would try to download at run time, so a missing
model is refused here before mediapipe is asked.
"""

import importlib.util
from pathlib import Path

import numpy as np
from mediapipe.python.solutions import pose as mp_pose

from tracking.engine.pose import Pose

MODEL_COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
MODES = ("video", "image")

_MEDIAPIPE_DIR = Path(importlib.util.find_spec("mediapipe").submodule_search_locations[0])


class ModelNotInstalledError(FileNotFoundError):
    pass


def model_files(model: str) -> tuple[Path, Path]:
    """The person detector and the landmark model that `model` needs."""
    return (
        _MEDIAPIPE_DIR / "modules" / "pose_detection" / "pose_detection.tflite",
        _MEDIAPIPE_DIR / "modules" / "pose_landmark" / f"pose_landmark_{model}.tflite",
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
        missing = [str(path) for path in model_files(model) if not path.is_file()]
        if missing:
            raise ModelNotInstalledError(
                f"BlazePose {model} model missing ({', '.join(missing)}): "
                "run scripts/install_models.sh"
            )
        self.model = model
        self.mode = mode
        self._pose = mp_pose.Pose(
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
