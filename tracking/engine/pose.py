"""The engine's input: one pose per frame, plus BlazePose and COCO/MoveNet landmark names."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pose:
    """One frame of pose estimation.

    landmarks: (33, 4) float: x, y normalised to the image [0..1], z, visibility;
        None = no person in frame.
    world: (33, 3) metres, hip-centred (BlazePose world landmarks) when known.
    """

    landmarks: np.ndarray | None
    timestamp_ms: float
    image_width: int
    image_height: int
    world: np.ndarray | None = None
    frame_id: int | None = None


# BlazePose's 33 landmarks, in model output order.
LANDMARK_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
LANDMARK_INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}

NOSE = 0
LEFT_EYE = 2
RIGHT_EYE = 5
LEFT_EAR = 7
RIGHT_EAR = 8
LEFT_SHOULDER = 11
RIGHT_SHOULDER = 12
LEFT_ELBOW = 13
RIGHT_ELBOW = 14
LEFT_WRIST = 15
RIGHT_WRIST = 16
LEFT_HIP = 23
RIGHT_HIP = 24
LEFT_KNEE = 25
RIGHT_KNEE = 26
LEFT_ANKLE = 27
RIGHT_ANKLE = 28
LEFT_HEEL = 29
RIGHT_HEEL = 30
LEFT_FOOT_INDEX = 31
RIGHT_FOOT_INDEX = 32

# The 17 COCO keypoints with MoveNet names, in COCO order, each with its BlazePose index.
COCO_KEYPOINTS: tuple[tuple[str, int], ...] = (
    ("nose", NOSE),
    ("left_eye", LEFT_EYE),
    ("right_eye", RIGHT_EYE),
    ("left_ear", LEFT_EAR),
    ("right_ear", RIGHT_EAR),
    ("left_shoulder", LEFT_SHOULDER),
    ("right_shoulder", RIGHT_SHOULDER),
    ("left_elbow", LEFT_ELBOW),
    ("right_elbow", RIGHT_ELBOW),
    ("left_wrist", LEFT_WRIST),
    ("right_wrist", RIGHT_WRIST),
    ("left_hip", LEFT_HIP),
    ("right_hip", RIGHT_HIP),
    ("left_knee", LEFT_KNEE),
    ("right_knee", RIGHT_KNEE),
    ("left_ankle", LEFT_ANKLE),
    ("right_ankle", RIGHT_ANKLE),
)
COCO_NAMES: tuple[str, ...] = tuple(name for name, _ in COCO_KEYPOINTS)
COCO_TO_BLAZEPOSE: tuple[int, ...] = tuple(index for _, index in COCO_KEYPOINTS)
