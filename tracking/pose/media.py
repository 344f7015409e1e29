"""Uploaded media: what it is (from its bytes, never its name), whether it is safe to decode, and
its frames.

Every refusal is a MediaError whose code follows the PoseTracker contract (`video_load_error`,
`image_load_error`, `media_decode_error`) plus our own limits (`empty_file`, `file_too_large`,
`unsupported_media`, `video_too_long`, `video_too_large`, `image_too_large`). Sizes are checked
from headers before anything is decoded, so a decompression bomb never reaches the decoder.
"""

import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import filetype
import numpy as np
from PIL import Image

from config.errors import FormTrackError

# Formats OpenCV decodes here; filetype also knows e.g. GIF, HEIC and AVIF, which it cannot.
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff"})
# Frame rates outside this range are broken metadata, not video.
_FRAME_RATE_RANGE = (0.5, 1000.0)


class MediaError(FormTrackError):
    """A file that cannot be analysed; `status` is what a refused upload answers with."""


@dataclass(frozen=True)
class MediaLimits:
    max_duration_s: float = 10 * 60
    max_frame_count: int = 10 * 60 * 240
    max_video_side: int = 4096
    max_video_pixels: int = 4096 * 2160
    max_image_side: int = 16384
    max_image_pixels: int = 40_000_000


DEFAULT_LIMITS = MediaLimits()
# Larger videos that play get a preview all the same: a phone's 4K original is too heavy to replay.
BROWSER_PLAYABLE_MAX_SIDE = 1920


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str
    pixel_format: str  # OpenCV's four-letter code of the pictures' layout: I420 is 8-bit 4:2:0


@dataclass(frozen=True)
class MediaType:
    kind: str  # "video" or "image"
    mime: str
    extension: str  # without the dot, from the type: what a stored or served file is named


def sniff_media_type(path: str | os.PathLike, *, limits: MediaLimits = DEFAULT_LIMITS) -> MediaType:
    """The file's type, from its content, once it is known to be decodable within limits.

    Videos are opened and their first frame decoded; images are checked from their header only
    (read_image decodes them).
    """
    if os.path.getsize(path) == 0:
        raise MediaError("empty_file", "The file is empty.")
    guessed = filetype.guess(str(path))
    if guessed is None:
        raise MediaError("unsupported_media", "The file is neither a known image nor video format.")
    media_type = _media_type(guessed)
    if media_type is None:
        raise MediaError(
            "unsupported_media",
            f"Files of type {guessed.mime} are not supported: upload a video, or a JPEG, PNG, "
            "WebP, BMP or TIFF image.",
        )
    if media_type.kind == "image":
        check_image(path, limits=limits)
    else:
        probe_video(path, limits=limits)
    return media_type


def sniff_media_kind(path: str | os.PathLike, *, limits: MediaLimits = DEFAULT_LIMITS) -> str:
    """ "video" or "image": the kind of sniff_media_type."""
    return sniff_media_type(path, limits=limits).kind


def served_media_type(content: str | os.PathLike | bytes | BinaryIO) -> MediaType | None:
    """The video or image type that a stored file's first bytes show (a path, the bytes or an
    open file, left where it was), None for anything else. Media are served only as these types:
    none of them is a document a browser renders or runs (HTML, SVG, XML)."""
    guessed = filetype.guess(content)
    return _media_type(guessed) if guessed is not None else None


def _media_type(guessed) -> MediaType | None:
    if guessed.mime in IMAGE_MIMES:
        return MediaType("image", guessed.mime, guessed.extension)
    if guessed.mime.startswith("video/"):
        return MediaType("video", guessed.mime, guessed.extension)
    return None


def probe_video(path: str | os.PathLike, *, limits: MediaLimits = DEFAULT_LIMITS) -> VideoInfo:
    """The video's size, rate and length, once its first frame has been decoded."""
    capture = _open_video(path)
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = capture.get(cv2.CAP_PROP_FPS)
        frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        codec = _fourcc_text(capture.get(cv2.CAP_PROP_FOURCC))
        pixel_format = _fourcc_text(capture.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT))
        _check_video_size(width, height, limits)
        if not _FRAME_RATE_RANGE[0] <= fps <= _FRAME_RATE_RANGE[1]:
            raise MediaError(
                "video_load_error", f"The video's frame rate ({fps:g}) is not plausible."
            )
        ok, frame = capture.read()
    finally:
        capture.release()
    if not ok:
        raise MediaError(
            "media_decode_error",
            f"The video could not be decoded: codec {codec or 'unknown'} is not supported "
            "or the data is damaged.",
        )
    # The decoded frame is the truth: rotation metadata may have turned it.
    height, width = frame.shape[:2]
    duration_s = frame_count / fps
    if duration_s > limits.max_duration_s or frame_count > limits.max_frame_count:
        raise MediaError(
            "video_too_long",
            f"The video lasts {duration_s:.0f} s; the limit is {limits.max_duration_s:.0f} s.",
        )
    return VideoInfo(width, height, fps, frame_count, duration_s, codec, pixel_format)


def browsers_play(mime: str, info: VideoInfo) -> bool:
    """Whether every browser plays the video (of type `mime`, as sniff_media_type found it) as it
    is, at a size fit for a page: H.264 in MP4, 8-bit 4:2:0, the long side at most
    BROWSER_PLAYABLE_MAX_SIDE. Anything else (MPEG-4 part 2, HEVC, AVI, MOV, 10-bit or 4:2:2,
    4K) needs a preview to be replayed."""
    return (
        mime == "video/mp4"
        and info.codec.lower() in {"h264", "avc1"}
        and info.pixel_format == "I420"
        and max(info.width, info.height) <= BROWSER_PLAYABLE_MAX_SIDE
    )


def iter_video_frames(
    path: str | os.PathLike,
    *,
    analysis_fps: float = 15.0,
    start_frame: int = 0,
    stop_frame: int | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
    decode_threads: int = 0,
) -> Iterator[tuple[np.ndarray, float, int]]:
    """(frame_bgr, timestamp_ms, frame_index) for the frames to analyse, in order.

    Keeps the first frame of each 1/analysis_fps slot of source time, so a source slower than
    analysis_fps gives every frame, and variable frame rates are sampled evenly. Timestamps are the
    source's presentation times. start_frame/stop_frame select a range of source frames (the first
    frame after a seek is always kept). Only kept frames are converted to BGR. The length limit is
    enforced while decoding too, as container headers can lie. decode_threads 0 lets FFmpeg choose.
    """
    if analysis_fps <= 0:
        raise ValueError("analysis_fps must be positive")
    capture = _open_video(path, threads=decode_threads)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
        frame_interval_ms = 1000.0 / fps if fps > 0 else 1000.0 / 30
        if start_frame:
            capture.set(cv2.CAP_PROP_POS_FRAMES, start_frame)
        index = int(capture.get(cv2.CAP_PROP_POS_FRAMES))
        previous_ms = -math.inf
        previous_slot = None
        yielded = False
        while stop_frame is None or index < stop_frame:
            if not capture.grab():
                break
            timestamp_ms = capture.get(cv2.CAP_PROP_POS_MSEC)
            if timestamp_ms <= previous_ms:  # no or broken timestamps: count frames instead
                timestamp_ms = previous_ms + frame_interval_ms
            if timestamp_ms > limits.max_duration_s * 1000:
                raise MediaError(
                    "video_too_long", f"The video is longer than {limits.max_duration_s:.0f} s."
                )
            # The small offset absorbs rounding: 66.66666 ms at 15 fps is slot 1, not slot 0.
            slot = math.floor(timestamp_ms * analysis_fps / 1000 + 1e-3)
            if slot != previous_slot:
                ok, frame = capture.retrieve()
                if not ok:
                    raise MediaError("media_decode_error", f"Frame {index} could not be decoded.")
                yielded = True
                yield frame, timestamp_ms, index
            previous_ms, previous_slot = timestamp_ms, slot
            index += 1
    finally:
        capture.release()
    if not yielded and start_frame == 0:
        raise MediaError("media_decode_error", "No frame of the video could be decoded.")


def check_image(
    source: str | os.PathLike | BinaryIO, *, limits: MediaLimits = DEFAULT_LIMITS
) -> tuple[int, int]:
    """(width, height) from the image header (a file's path, or its bytes as a binary file),
    refused if decoding it would be unreasonable."""
    limit = (
        f"the limit is {limits.max_image_pixels / 1e6:.3g} megapixels and "
        f"{limits.max_image_side} pixels a side"
    )
    try:
        # Pillow reads only the header here. Its own bomb warning is moot: our limit is lower.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
    except Image.DecompressionBombError as error:  # Pillow's own limit, far above ours
        raise MediaError("image_too_large", f"The image has too many pixels: {limit}.") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise MediaError("image_load_error", "The image header could not be read.") from error
    if width <= 0 or height <= 0:
        raise MediaError("image_load_error", "The image has no pixels.")
    if max(width, height) > limits.max_image_side or width * height > limits.max_image_pixels:
        raise MediaError("image_too_large", f"The image is {width}×{height}; {limit}.")
    return width, height


def read_image(path: str | os.PathLike, *, limits: MediaLimits = DEFAULT_LIMITS) -> np.ndarray:
    """The image as BGR, turned upright by its EXIF orientation."""
    check_image(path, limits=limits)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise MediaError("image_load_error", "The image could not be decoded.")
    return image


def _open_video(path: str | os.PathLike, *, threads: int = 0) -> cv2.VideoCapture:
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    options = [cv2.CAP_PROP_N_THREADS, threads] if threads else []
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, options)
    if not capture.isOpened():
        raise MediaError(
            "video_load_error", "The video could not be opened: it is damaged or incomplete."
        )
    return capture


def _check_video_size(width: int, height: int, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise MediaError("video_load_error", "The video has no picture size.")
    if max(width, height) > limits.max_video_side or width * height > limits.max_video_pixels:
        raise MediaError(
            "video_too_large",
            f"The video is {width}×{height}; the limit is {limits.max_video_side} pixels a side "
            f"and {limits.max_video_pixels / 1e6:.1f} megapixels.",
        )


def _fourcc_text(value: float) -> str:
    code = int(value)
    return "".join(chr((code >> shift) & 0xFF) for shift in (0, 8, 16, 24)).strip("\x00 ")
