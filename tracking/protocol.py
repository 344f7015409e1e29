"""The live WebSocket protocol's incoming messages, validated. Pure Python + NumPy (no Django).

Documented for app developers in docs/protocol.md.
"""

import json
import math

import numpy as np
import orjson

from tracking.engine.pose import Pose

MAX_TEXT_BYTES = 64 * 1024  # 33 landmarks as JSON take about 3 KB; anything near this is abuse
MAX_BINARY_BYTES = 2 * 1024 * 1024  # a JPEG frame for server inference
MAX_IMAGE_SIDE = 4096
LANDMARK_COUNT = 33


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def to_event(self) -> dict:
        return {"type": "error", "code": self.code, "error": self.code, "message": self.message}


def _bad(message: str) -> ProtocolError:
    return ProtocolError("invalid_message", message)


def decode_text(text: str) -> dict:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise ProtocolError(
            "message_too_large", f"Text messages are limited to {MAX_TEXT_BYTES} bytes."
        )
    try:
        # orjson: a tenth of the standard library's time on a landmarks frame, which matters at
        # 30 messages a second per session.
        message = orjson.loads(text)
    except ValueError:
        # orjson refuses NaN and Infinity, which Python's json.dumps writes: read those with the
        # standard library so the frame gets its precise error (and its ack) further on.
        try:
            message = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise _bad("Messages must be JSON objects.") from error
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise _bad('Messages must be JSON objects with a "type".')
    return message


def _finite_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"{name} must be a finite number.")
    return float(value)


def _image_side(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IMAGE_SIDE:
        raise _bad(f"image.{name} must be an integer from 1 to {MAX_IMAGE_SIDE}.")
    return value


def landmarks_to_pose(message: dict, *, last_timestamp_ms: float | None) -> Pose:
    """A `landmarks` message as the engine's Pose; `landmarks: null` means no person in frame."""
    timestamp = _finite_number(message.get("t"), "t")
    if last_timestamp_ms is not None and timestamp < last_timestamp_ms:
        raise _bad("t (milliseconds) must not go backwards.")
    image = message.get("image")
    if not isinstance(image, dict):
        raise _bad('image must be an object {"w": width, "h": height}.')
    width, height = _image_side(image.get("w"), "w"), _image_side(image.get("h"), "h")
    frame_id = message.get("frameId")
    if frame_id is not None and (isinstance(frame_id, bool) or not isinstance(frame_id, int)):
        raise _bad("frameId must be an integer.")
    raw = message.get("landmarks")
    if raw is None:
        return Pose(None, timestamp, width, height, frame_id=frame_id)
    if not isinstance(raw, list) or len(raw) != LANDMARK_COUNT:
        raise _bad(f"landmarks must be a list of {LANDMARK_COUNT} [x, y, z, visibility] lists.")
    try:
        landmarks = np.array(raw, dtype=float)
    except (TypeError, ValueError) as error:
        if not all(isinstance(point, list) and len(point) == 4 for point in raw):
            raise _bad("each landmark must be [x, y, z, visibility].") from error
        raise _bad("landmark values must be numbers.") from error
    if landmarks.shape != (LANDMARK_COUNT, 4):
        raise _bad("each landmark must be [x, y, z, visibility].")
    # One reduction on the usual frame; the detailed checks only when something is off.
    if not np.abs(landmarks).max() <= 100:
        if not np.isfinite(landmarks).all():
            raise _bad("landmark values must be finite numbers (no NaN or Infinity).")
        if (np.abs(landmarks[:, :3]) > 100).any():
            raise _bad("landmark x, y, z must be normalised (about 0..1).")
    visibility = landmarks[:, 3]
    visibility.clip(0.0, 1.0, out=visibility)
    return Pose(landmarks, timestamp, width, height, frame_id=frame_id)
