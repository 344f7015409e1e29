"""The live WebSocket protocol's incoming messages, validated. Pure Python + NumPy (no Django).

Documented for app developers in docs/protocol.md.
"""

import json
from itertools import chain

import numpy as np
import orjson

from config.errors import FormTrackError
from tracking.engine.pose import Pose

MAX_TEXT_BYTES = 64 * 1024  # 33 landmarks as JSON take about 3 KB; anything near this is abuse
MAX_IMAGE_SIDE = 4096
LANDMARK_COUNT = 33
# Every number a client sends is range-checked before use: a huge integer passed on would break
# float conversion or the JSON of the ack that echoes it. frameId and t stay within the integers
# a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER; in milliseconds, 285,000 years).
MAX_SAFE_INTEGER = 2**53 - 1
MAX_COORDINATE = 100.0  # normalised x, y, z are about 0..1; off-frame points go a little beyond
# World landmarks are metres from the point between the hips: a body spans about ±1 m of it.
MAX_WORLD_METRES = 10.0


class ProtocolError(FormTrackError, ValueError):
    """A message the live protocol refuses. `retry_after`: seconds after which trying again may
    succeed (`retryAfter` in the event)."""

    def __init__(self, code: str, message: str, retry_after: int | None = None):
        super().__init__(code, message, 400, retry_after=retry_after)


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


def _timestamp(value) -> float:
    # Compared before any float conversion, which a huge integer would overflow; NaN and
    # Infinity fail the comparison.
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _bad(f"t must be a finite number of milliseconds, within ±{MAX_SAFE_INTEGER}.")
    return float(value)


def frame_id(message: dict) -> int | None:
    """The message's frameId when it is a valid one (the ack echoes it), else None."""
    value = message.get("frameId")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SAFE_INTEGER:
        return value
    return None


def _image_side(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IMAGE_SIDE:
        raise _bad(f"image.{name} must be an integer from 1 to {MAX_IMAGE_SIDE}.")
    return value


def landmarks_to_pose(message: dict, *, last_timestamp_ms: float | None) -> Pose:
    """A `landmarks` message as the engine's Pose; `landmarks: null` means no person in frame.
    `world` (optional, so older clients work unchanged): the same landmarks in metres around the
    hips, which the engine measures joint angles with in 3-D, as it does on uploads."""
    timestamp = _timestamp(message.get("t"))
    if last_timestamp_ms is not None and timestamp < last_timestamp_ms:
        raise _bad("t (milliseconds) must not go backwards.")
    image = message.get("image")
    if not isinstance(image, dict):
        raise _bad('image must be an object {"w": width, "h": height}.')
    width, height = _image_side(image.get("w"), "w"), _image_side(image.get("h"), "h")
    frame = frame_id(message)
    if frame is None and message.get("frameId") is not None:
        raise _bad(f"frameId must be an integer from 0 to {MAX_SAFE_INTEGER}.")
    raw, raw_world = message.get("landmarks"), message.get("world")
    if raw is None:
        if raw_world is not None:
            raise _bad("world must be null when landmarks is null.")
        return Pose(None, timestamp, width, height, frame_id=frame)
    landmarks = _usual_landmarks(raw)
    if landmarks is None:
        landmarks = _checked_landmarks(raw)
    world = None
    if raw_world is not None:
        world = _usual_world(raw_world)
        if world is None:
            world = _checked_world(raw_world)
    return Pose(landmarks, timestamp, width, height, world=world, frame_id=frame)


# The usual frame is checked in plain Python, which takes a third of NumPy's time on 33 short
# lists, and only then made an array. Anything off in it (a value out of range, NaN, a string, a
# list of the wrong length: a comparison that fails or raises) goes to the NumPy checks, which
# say precisely what. A first value that is a boolean goes there too: an array of booleans only
# is refused, one with numbers among them is not.


def _usual_landmarks(raw) -> np.ndarray | None:
    if type(raw) is not list or len(raw) != LANDMARK_COUNT:
        return None
    low, high = -MAX_COORDINATE, MAX_COORDINATE
    try:
        for x, y, z, visibility in raw:
            if not (
                low <= x <= high and low <= y <= high and low <= z <= high and 0 <= visibility <= 1
            ):
                return None
    except (TypeError, ValueError):
        return None
    return None if type(raw[0][0]) is bool else _array(raw, 4)


def _usual_world(raw) -> np.ndarray | None:
    if type(raw) is not list or len(raw) != LANDMARK_COUNT:
        return None
    low, high = -MAX_WORLD_METRES, MAX_WORLD_METRES
    try:
        for x, y, z in raw:
            if not (low <= x <= high and low <= y <= high and low <= z <= high):
                return None
    except (TypeError, ValueError):
        return None
    return None if type(raw[0][0]) is bool else _array(raw, 3)


def _array(rows: list, width: int) -> np.ndarray:
    return np.fromiter(chain.from_iterable(rows), float, LANDMARK_COUNT * width).reshape(
        LANDMARK_COUNT, width
    )


def _checked_landmarks(raw) -> np.ndarray:
    landmarks = _landmark_array(raw, "landmarks", "landmark", ("x", "y", "z", "visibility"))
    # Whole-array checks (NaN fails them all); the detailed ones only when something is off.
    if not (np.abs(landmarks[:, :3]).max() <= MAX_COORDINATE and _unit(landmarks[:, 3])):
        _finite(landmarks, "landmark")
        if not _unit(landmarks[:, 3]):
            raise _bad("landmark visibility must be from 0 to 1.")
        raise _bad(f"landmark x, y, z must be normalised (about 0..1, within ±{MAX_COORDINATE:g}).")
    return landmarks


def _checked_world(raw) -> np.ndarray:
    world = _landmark_array(raw, "world", "world landmark", ("x", "y", "z"))
    if not np.abs(world).max() <= MAX_WORLD_METRES:
        _finite(world, "world landmark")
        raise _bad(f"world x, y, z must be metres from the hips, within ±{MAX_WORLD_METRES:g}.")
    return world


def _landmark_array(raw, field: str, item: str, fields: tuple[str, ...]) -> np.ndarray:
    """A message's list of 33 landmarks as a float array, one column per field."""
    shape = f"[{', '.join(fields)}]"
    if not isinstance(raw, list) or len(raw) != LANDMARK_COUNT:
        raise _bad(f"{field} must be a list of {LANDMARK_COUNT} {shape} lists.")
    try:
        array = np.array(raw)
    except ValueError:  # ragged lists
        array = None
    if array is None or array.shape != (LANDMARK_COUNT, len(fields)):
        raise _bad(f"each {item} must be {shape}.")
    # Strings, nulls and integers beyond 64 bits give a non-numeric array.
    if array.dtype.kind not in "iuf":
        raise _bad(f"{item} values must be numbers.")
    return array.astype(float, copy=False)


def _finite(array: np.ndarray, name: str) -> None:
    if not np.isfinite(array).all():
        raise _bad(f"{name} values must be finite numbers (no NaN or Infinity).")


def _unit(values: np.ndarray) -> bool:
    return bool(values.min() >= 0.0 and values.max() <= 1.0)
