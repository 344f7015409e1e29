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
    mirrored: bool,
    frame_id: int | None,
    timestamp_ms: float,
) -> dict:
    """x and y normalised to the picture (0..1), on the mirrored preview when `mirrored` (the live
    page shows the front camera as a mirror: contract §4.3); z is the landmark's depth on x's scale
    (negative: nearer the camera than the hips); score is its visibility. Names stay the body's:
    a mirrored left_wrist is still the person's left wrist. An unknown landmark is 0, 0, 0 with
    score 0. No person: an empty list, so the host clears its overlay."""
    points: list[dict] = []
    mean_score = 0.0
    if frame is not None:
        width, height = frame.width, frame.height
        xs, ys, zs, v = frame.x, frame.y, frame.z, frame.v
        for name, index in BLAZEPOSE_KEYPOINTS if blazepose else COCO_KEYPOINTS:
            x, y, z = xs[index] / width, ys[index] / height, zs[index] / width
            if x != x or y != y or z != z:  # NaN: the landmark is unknown
                x = y = z = 0.0
            elif mirrored:
                x = 1.0 - x
            points.append(
                {
                    "name": name,
                    "x": round(x, 4),
                    "y": round(y, 4),
                    "z": round(z, 4),
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
    """A tracker's `keypoints` (every frame) and `angles` (at most every ANGLES_INTERVAL_MS) events,
    as the request asks for them; keypoints on the mirrored preview when `mirrored`."""

    def __init__(self, *, keypoints: bool, angles: bool, blazepose: bool, mirrored: bool):
        self.keypoints = keypoints
        self.angles = angles
        self.blazepose = blazepose
        self.mirrored = mirrored
        self._last_angles_t: float | None = None

    def events(self, frame: Frame | None, frame_id: int | None, t: float) -> list[dict]:
        events = []
        if self.keypoints:
            events.append(keypoints_event(frame, self.blazepose, self.mirrored, frame_id, t))
        if self.angles and frame is not None:
            last = self._last_angles_t
            if last is None or t - last >= ANGLES_INTERVAL_MS or t < last:
                self._last_angles_t = t
                events.append(angles_event(frame, frame_id, t))
        return events
