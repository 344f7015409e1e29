"""Drawing poses onto frames: the skeleton, the rep counter and the last grade; annotated videos
and image overlays."""

import os
import subprocess

import cv2
import imageio_ffmpeg
import numpy as np

from tracking.engine.pose import Pose
from tracking.pose.skeleton import (
    LANDMARK_SIDES,
    MIN_VISIBILITY,
    SIDE_COLOURS,
    SKELETONS,
    line_width,
)

# BGR.
_PANEL = (32, 32, 32)
_TEXT = (255, 255, 255)
_GRADE_COLOURS = {"A": (80, 200, 60), "B": (60, 200, 160), "C": (40, 200, 230), "D": (40, 140, 255)}
_FAILING_GRADE = (60, 60, 230)
_LANDMARK_COLOURS = tuple(SIDE_COLOURS[side][::-1] for side in LANDMARK_SIDES)


def draw_skeleton(frame: np.ndarray, pose: Pose, *, skeleton: str = "blazepose") -> None:
    """Draw the pose's skeleton (tracking/pose/skeleton.py) onto a BGR frame in place."""
    if pose.landmarks is None:
        return
    points, edges = SKELETONS[skeleton]
    height, width = frame.shape[:2]
    pixels = np.rint(pose.landmarks[:, :2] * (width, height)).astype(int)
    visible = pose.landmarks[:, 3] >= MIN_VISIBILITY
    thickness = line_width(width, height)
    for a, b in edges:
        if visible[a] and visible[b]:
            cv2.line(frame, pixels[a], pixels[b], _LANDMARK_COLOURS[b], thickness, cv2.LINE_AA)
    for index in points:
        if visible[index]:
            cv2.circle(
                frame, pixels[index], thickness + 1, _LANDMARK_COLOURS[index], -1, cv2.LINE_AA
            )


def draw_status(frame: np.ndarray, *, count: int | None, grade: str | None) -> None:
    """Draw the counter and the last rep's grade in the top-left corner of a BGR frame."""
    if count is None and grade is None:
        return
    height, width = frame.shape[:2]
    scale = max(0.5, min(width, height) / 480)
    thickness = max(1, round(scale * 2))
    line_height = round(34 * scale)
    pad = round(10 * scale)
    lines = []
    if count is not None:
        lines.append((f"Count {count}", _TEXT))
    if grade is not None:
        lines.append((f"Grade {grade}", _GRADE_COLOURS.get(grade, _FAILING_GRADE)))
    text_width = max(
        cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0][0] for text, _ in lines
    )
    cv2.rectangle(frame, (0, 0), (text_width + 2 * pad, len(lines) * line_height + pad), _PANEL, -1)
    for row, (text, colour) in enumerate(lines, start=1):
        origin = (pad, row * line_height - round(6 * scale))
        cv2.putText(
            frame, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA
        )


def render_image_overlay(
    image: np.ndarray, pose: Pose, *, skeleton: str = "blazepose", max_side: int = 1920
) -> bytes:
    """PNG bytes of a BGR image with the pose drawn on it, scaled down to max_side if larger."""
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        image = image.copy()
    draw_skeleton(image, pose, skeleton=skeleton)
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()


class AnnotatedVideoWriter:
    """An H.264 MP4 that every browser plays, written frame by frame.

    OpenCV's bundled FFmpeg has no H.264 encoder, so raw frames are piped to the FFmpeg binary
    that the imageio-ffmpeg wheel ships (libx264, `+faststart` so playback starts before the
    whole file has loaded).
    """

    codec = "h264"
    browser_playable = True

    def __init__(self, path: str | os.PathLike, *, fps: float, size: tuple[int, int]):
        self.size = size
        width, height = size
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own binary
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "bgr24",
                "-s",
                f"{width}x{height}",
                "-r",
                f"{fps:.3f}",
                "-i",
                "-",
                "-an",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "26",
                "-pix_fmt",
                "yuv420p",
                "-movflags",
                "+faststart",
                str(path),
            ],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def write(self, frame_bgr: np.ndarray) -> None:
        if (frame_bgr.shape[1], frame_bgr.shape[0]) != self.size:
            frame_bgr = cv2.resize(frame_bgr, self.size, interpolation=cv2.INTER_AREA)
        self._process.stdin.write(np.ascontiguousarray(frame_bgr, dtype=np.uint8).tobytes())

    def close(self) -> None:
        if self._process.stdin.closed:
            return
        self._process.stdin.close()
        errors = self._process.stderr.read().decode(errors="replace")
        if self._process.wait() != 0:
            raise RuntimeError(f"Encoding the annotated video failed: {errors.strip()[:500]}")

    def __enter__(self) -> "AnnotatedVideoWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def export_size(width: int, height: int, max_side: int = 1280) -> tuple[int, int]:
    """The annotated video's frame size: the source's, scaled down to max_side, with even sides
    (4:2:0 encoders need them)."""
    scale = min(1.0, max_side / max(width, height))
    return 2 * round(width * scale / 2), 2 * round(height * scale / 2)
