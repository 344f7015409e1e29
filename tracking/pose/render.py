"""Drawing poses onto frames: the skeleton, the rep counter and the last grade; annotated videos
and image overlays."""

import os
import re
import subprocess
from collections.abc import Mapping

import cv2
import imageio_ffmpeg
import numpy as np

from tracking.engine.pose import Pose
from tracking.pose.skeleton import (
    LANDMARK_SIDES,
    MIN_VISIBILITY,
    SIDE_COLOURED,
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
_GLOW_OPACITY = 0.35
# The CSS colours of skeleton.STYLES: #rgb, #rrggbb, rgb(r,g,b) and rgba(r,g,b,a) (drawn opaque).
_CSS_RGB = re.compile(r"rgba?\((\d+),(\d+),(\d+)(?:,[\d.]+)?\)")
# What every browser plays: H.264 in MP4, 4:2:0, its index first so playback starts at once.
_H264_MP4 = [
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
]
PREVIEW_MAX_SIDE = 720
PREVIEW_MAX_FPS = 30


def css_bgr(colour: str) -> tuple[int, int, int]:
    """A skeleton style's CSS colour as OpenCV's BGR."""
    colour = colour.replace(" ", "").lower()
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(2 * digit for digit in digits)
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    else:
        red, green, blue = (int(part) for part in _CSS_RGB.fullmatch(colour).groups())
    return blue, green, red


def draw_skeleton(
    frame: np.ndarray,
    pose: Pose,
    *,
    skeleton: str = "blazepose",
    style: Mapping[str, str] = SIDE_COLOURED,
) -> None:
    """Draw the pose's skeleton (tracking/pose/skeleton.py) onto a BGR frame in place, in a
    style of skeleton.style_for: its bone and point colours, or each side's where it has none."""
    if pose.landmarks is None:
        return
    points, edges = SKELETONS[skeleton]
    height, width = frame.shape[:2]
    pixels = np.rint(pose.landmarks[:, :2] * (width, height)).astype(int)
    visible = pose.landmarks[:, 3] >= MIN_VISIBILITY
    thickness = line_width(width, height)
    bones = [(a, b) for a, b in edges if visible[a] and visible[b]]
    if "glow" in style:
        halo = frame.copy()
        for a, b in bones:
            cv2.line(halo, pixels[a], pixels[b], css_bgr(style["glow"]), 3 * thickness, cv2.LINE_AA)
        cv2.addWeighted(halo, _GLOW_OPACITY, frame, 1 - _GLOW_OPACITY, 0, dst=frame)
    line = css_bgr(style["line"]) if "line" in style else None
    point = css_bgr(style["point"]) if "point" in style else None
    for a, b in bones:
        colour = line or _LANDMARK_COLOURS[b]
        cv2.line(frame, pixels[a], pixels[b], colour, thickness, cv2.LINE_AA)
    for index in points:
        if visible[index]:
            colour = point or _LANDMARK_COLOURS[index]
            cv2.circle(frame, pixels[index], thickness + 1, colour, -1, cv2.LINE_AA)


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
    image: np.ndarray,
    pose: Pose,
    *,
    skeleton: str = "blazepose",
    style: Mapping[str, str] | None = SIDE_COLOURED,
    max_side: int = 1920,
) -> bytes:
    """PNG bytes of a BGR image with the pose drawn on it (`style` as draw_skeleton's; None: no
    skeleton), scaled down to max_side if larger."""
    scale = max_side / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        image = image.copy()
    if style is not None:
        draw_skeleton(image, pose, skeleton=skeleton, style=style)
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
                *_H264_MP4,
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


class PreviewEncoder:
    """A small copy of an uploaded video that every browser plays, encoded beside the analysis.

    Phones and cameras record formats browsers do not all play (MPEG-4 part 2, AVI, HEVC, some
    MOV variants): the pages replay this copy, with the pose timeline drawn over it. H.264 MP4 by
    the FFmpeg of the imageio-ffmpeg wheel, the long side at most PREVIEW_MAX_SIDE (never
    enlarged), at most PREVIEW_MAX_FPS, no audio. Timestamps start at 0, as the timeline's do.
    """

    def __init__(self, source: str | os.PathLike, target: str | os.PathLike, *, max_s: float):
        self.target = target
        side = PREVIEW_MAX_SIDE
        fit = f"min(1\\,{side}/max(iw\\,ih))"  # the scale factor, escaped for the filter graph
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own binary
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-y",
                "-i",
                str(source),
                "-map",
                "0:v:0",
                "-t",
                f"{max_s:.3f}",
                "-vf",
                f"scale=trunc(iw*{fit}/2)*2:trunc(ih*{fit}/2)*2",
                "-fpsmax",
                str(PREVIEW_MAX_FPS),
                "-sn",
                "-dn",
                "-map_metadata",
                "-1",
                *_H264_MP4,
                str(target),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def finish(self, timeout: float) -> str | None:
        """Wait for the copy; None when it was written, else why not (the copy is then removed:
        the pages fall back to the original)."""
        try:
            _, errors = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            return f"not done after {timeout:.0f} s"
        if self._process.returncode != 0:
            self.close()
            return errors.decode(errors="replace").strip()[-500:] or "FFmpeg failed"
        return None

    def close(self) -> None:
        """Stop the encoder if it still runs, and remove an unfinished copy."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        if self._process.returncode != 0 and os.path.exists(self.target):
            os.remove(self.target)

    def __enter__(self) -> "PreviewEncoder":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
