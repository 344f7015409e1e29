"""The `keypoints` and `angles` events (contract §4.3)."""

from tracking.engine import events as contract
from tracking.engine.metrics import JOINTS, Frame, angle_at
from tracking.engine.pose import COCO_KEYPOINTS, LANDMARK_NAMES

# Angles are for display and logging: ten a second is plenty, and keeps 60 fps streams light.
ANGLES_INTERVAL_MS = 100.0

BLAZEPOSE_KEYPOINTS: tuple[tuple[str, int], ...] = tuple(
    (name, index) for index, name in enumerate(LANDMARK_NAMES)
)

# Contract field names: angle name, its "from_..." key, and the three joints (middle one second).
ANGLE_FIELDS = (
    ("knee_angle", "from_hip_to_ankle", ("hip", "knee", "ankle")),
    ("hip_angle", "from_knee_to_shoulder", ("knee", "hip", "shoulder")),
    ("shoulder_angle", "from_hip_to_elbow", ("hip", "shoulder", "elbow")),
    ("elbow_angle", "from_shoulder_to_wrist", ("shoulder", "elbow", "wrist")),
)
_ANGLE_INDICES = {
    side: [
        (name, key, "score_" + key, tuple(JOINTS[side][joint] for joint in joints))
        for name, key, joints in ANGLE_FIELDS
    ]
    for side in ("left", "right")
}


def keypoints_event(
    frame: Frame | None,
    blazepose: bool,
    capture_size: tuple[int, int] | None,
    frame_id: int | None,
    timestamp_ms: float,
) -> dict:
    """x and y in pixels of the capture size (the host's width/height when given, else the image);
    score is the landmark's visibility. No person: an empty list, so the host clears its overlay."""
    points: list[dict] = []
    mean_score = 0.0
    if frame is not None:
        sx = sy = 1.0
        if capture_size is not None:
            sx, sy = capture_size[0] / frame.width, capture_size[1] / frame.height
        x, y, v = frame.x, frame.y, frame.v
        for name, index in BLAZEPOSE_KEYPOINTS if blazepose else COCO_KEYPOINTS:
            xi, yi = x[index], y[index]
            if xi != xi or yi != yi:  # NaN: the landmark is unknown
                xi = yi = 0.0
            points.append(
                {
                    "name": name,
                    "x": round(xi * sx, 1),
                    "y": round(yi * sy, 1),
                    "score": round(v[index], 3),
                }
            )
        mean_score = sum(point["score"] for point in points) / len(points)
    return contract.keypoints(
        frame_id=frame_id, timestamp_ms=timestamp_ms, score=round(mean_score, 3), points=points
    )


def angles_event(frame: Frame, frame_id: int | None, timestamp_ms: float) -> dict:
    """Knee, hip, shoulder and elbow angles per side, in degrees in the image plane; each score
    is the lowest visibility of its three landmarks."""
    v = frame.v
    data = {}
    for side, fields in _ANGLE_INDICES.items():
        side_data = {}
        for name, key, score_key, (a, b, c) in fields:
            degrees = angle_at(frame, a, b, c)
            side_data[name] = {
                key: round(degrees, 1) if degrees == degrees else None,
                score_key: round(min(v[a], v[b], v[c]), 3),
            }
        data[side + "_side"] = side_data
    return contract.angles(frame_id=frame_id, timestamp_ms=timestamp_ms, sides=data)


class FrameOutputs:
    """A session's `keypoints` (every frame) and `angles` (at most every ANGLES_INTERVAL_MS) events,
    as the request asks for them. `width` and `height`: the host's capture size, when both given."""

    def __init__(self, *, keypoints: bool, angles: bool, blazepose: bool, width, height):
        self.keypoints = keypoints
        self.angles = angles
        self.blazepose = blazepose
        self.capture_size = (width, height) if width and height else None
        self._last_angles_t: float | None = None

    def events(self, frame: Frame | None, frame_id: int | None, t: float) -> list[dict]:
        events = []
        if self.keypoints:
            events.append(keypoints_event(frame, self.blazepose, self.capture_size, frame_id, t))
        if self.angles and frame is not None:
            last = self._last_angles_t
            if last is None or t - last >= ANGLES_INTERVAL_MS or t < last:
                self._last_angles_t = t
                events.append(angles_event(frame, frame_id, t))
        return events
