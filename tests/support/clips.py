"""The real clips of tests/fixtures/clips/ (see its README) as the tests and the benchmarks use
them: their recorded BlazePose landmarks (as engine poses or as the live protocol's `landmarks`
messages), their video frames (as JPEGs, looped into a longer video, or as a fake camera file).

A clip is named by its video's path; its landmarks are in `<video>.landmarks.json` beside it.
"""

import json
from pathlib import Path

import cv2
import numpy as np

from tracking.engine.pose import Pose

CLIPS = Path(__file__).resolve().parents[1] / "fixtures" / "clips"
SQUAT_CLIP = CLIPS / "fitness-squat-counter.mp4"  # 10 fps, 152×248, 4 squats in 10.3 s
CURL_CLIP = CLIPS / "fitness-biceps-curls.mp4"  # 10 fps, 152×264, 6 curls


def clip_landmarks(clip: Path = SQUAT_CLIP) -> dict:
    """The recorded landmarks: `frames` (frame_id, timestamp_ms, landmarks, world), `fps`,
    `image_width` and `image_height`."""
    return json.loads(clip.with_suffix(".landmarks.json").read_text())


def clip_poses(clip: Path) -> list[Pose]:
    """The recorded landmarks as the engine's poses (None where no one was seen)."""
    data = clip_landmarks(clip)
    return [
        Pose(
            np.array(frame["landmarks"]) if frame["landmarks"] else None,
            frame["timestamp_ms"],
            data["image_width"],
            data["image_height"],
            np.array(frame["world"]) if frame["world"] else None,
            frame["frame_id"],
        )
        for frame in data["frames"]
    ]


def landmark_messages(clip: Path = SQUAT_CLIP) -> list[dict]:
    """The recorded landmarks as the `landmarks` messages a page running inference sends."""
    data = clip_landmarks(clip)
    return [
        {
            "type": "landmarks",
            "frameId": frame["frame_id"],
            "t": frame["timestamp_ms"],
            "image": {"w": data["image_width"], "h": data["image_height"]},
            "landmarks": frame["landmarks"],
        }
        for frame in data["frames"]
    ]


def clip_frames(clip: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of the video (BGR) and its frame rate."""
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    if not frames or not fps:
        raise ValueError(f"cannot read {clip}")
    return frames, fps


def clip_jpegs(count: int, clip: Path = SQUAT_CLIP) -> list[bytes]:
    """The clip's first `count` frames as JPEGs, as the tracking page sends them."""
    frames, _ = clip_frames(clip)
    return [cv2.imencode(".jpg", frame)[1].tobytes() for frame in frames[:count]]


def looped_clip(source: Path, target: Path, loops: int) -> Path:
    """A real clip played `loops` times in a row (mp4v): a longer analysis of known content."""
    frames, fps = clip_frames(source)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for _ in range(loops):
        for frame in frames:
            writer.write(frame)
    writer.release()
    return target


def clip_to_y4m(
    source: Path, target: Path, *, scale: int = 1, repeat: int = 1, stamped: bool = False
) -> int:
    """Write a video as Y4M (4:2:0), the format Chromium's fake camera plays; returns its frames.

    Chromium plays the file at its header's frame rate and loops it. Each frame is scaled by
    `scale` (to even sides, as 4:2:0 needs) and repeated `repeat` times, so the timing of the clip
    is kept at `repeat` times its frame rate. `stamped` adds a band under each frame that codes its
    index in the clip, read back by `stamped_frame_index` from what the camera showed.
    """
    frames, fps = clip_frames(source)
    height, width = frames[0].shape[:2]
    width, height = width * scale // 2 * 2, height * scale // 2 * 2
    band = STAMP_BAND_HEIGHT * scale if stamped else 0
    with target.open("wb") as out:
        rate = round(fps * repeat)
        out.write(f"YUV4MPEG2 W{width} H{height + band} F{rate}:1 Ip A1:1 C420jpeg\n".encode())
        for index, frame in enumerate(frames):
            picture = cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
            if stamped:
                picture = np.vstack([picture, _stamp(index, width, band)])
            planes = cv2.cvtColor(picture, cv2.COLOR_BGR2YUV_I420).tobytes()
            for _ in range(repeat):
                out.write(b"FRAME\n")
                out.write(planes)
    return len(frames)


# The stamp: a band of white and black cells, big enough to survive a camera recording's lossy
# compression and any rescaling. The first cell is always white; the others are the frame's index
# in binary, most significant bit first.
STAMP_BAND_HEIGHT = 16
STAMP_BITS = 7  # clips of up to 128 frames


def _stamp(index: int, width: int, height: int) -> np.ndarray:
    assert index < 2**STAMP_BITS, f"frame {index} does not fit in the stamp"
    bits = [1] + [index >> shift & 1 for shift in range(STAMP_BITS - 1, -1, -1)]
    band = np.zeros((height, width, 3), np.uint8)
    for cell, bit in enumerate(bits):
        band[:, cell * width // len(bits) : (cell + 1) * width // len(bits)] = 255 * bit
    return band


def stamped_frame_index(picture: np.ndarray, clip_height: int) -> int | None:
    """The clip frame index stamped on a picture of a stamped camera (BGR, at any scale), or None
    when its band does not read as a stamp. `clip_height`: the clip frame's height, unscaled."""
    height, width = picture.shape[:2]
    band_height = height * STAMP_BAND_HEIGHT // (clip_height + STAMP_BAND_HEIGHT)
    band = cv2.cvtColor(picture[height - band_height :], cv2.COLOR_BGR2GRAY)
    cells = 1 + STAMP_BITS
    # The middle of each cell, away from the edges that compression smears.
    values = [
        np.median(
            band[
                band_height // 4 : band_height * 3 // 4,
                (4 * cell + 1) * width // (4 * cells) : (4 * cell + 3) * width // (4 * cells),
            ]
        )
        for cell in range(cells)
    ]
    if values[0] < 128:
        return None
    return sum(1 << (STAMP_BITS - 1 - i) for i, value in enumerate(values[1:]) if value >= 128)
