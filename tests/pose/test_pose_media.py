import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.pose.conftest import PHOTO
from tests.support.clips import SQUAT_CLIP, reencoded_clip
from tracking.pose import media
from tracking.pose.media import (
    MediaError,
    MediaLimits,
    browsers_play,
    iter_video_frames,
    probe_video,
    read_image,
    sniff_media_kind,
    sniff_media_type,
)


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG start that announces width×height pixels and holds almost none."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_announcing(width: int, height: int) -> bytes:
    """The real photo with its frame header (SOF0) rewritten to claim another size."""
    data = bytearray(PHOTO.read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def write_video(path, *, size, frames, fps=30.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), i * 4 % 256, np.uint8))
    writer.release()
    return path


def squat_clip_declaring_h264() -> bytes:
    """The squat clip with its stream relabelled H.264 (MPEG-4 object type 0x21): the container
    opens, but no frame decodes, as with a codec this build cannot read."""
    data = bytearray(SQUAT_CLIP.read_bytes())
    descriptor = data.index(b"\x04\x80\x80\x80", data.index(b"esds"))  # DecoderConfigDescriptor
    data[descriptor + 5] = 0x21
    return bytes(data)


@pytest.fixture
def refuse_decoding(monkeypatch):
    """Decoding an image fails the test: size checks must come before it."""

    def imread(*args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(media.cv2, "imread", imread)


def test_real_media_is_recognised_from_its_content(tmp_path):
    video_named_as_image = tmp_path / "holiday.jpg"
    video_named_as_image.write_bytes(SQUAT_CLIP.read_bytes())
    image_without_extension = tmp_path / "upload"
    image_without_extension.write_bytes(PHOTO.read_bytes())

    assert sniff_media_kind(video_named_as_image) == "video"
    assert sniff_media_kind(image_without_extension) == "image"


def test_probe_reads_the_videos_geometry_and_length():
    info = probe_video(SQUAT_CLIP)

    assert (info.width, info.height, info.fps, info.frame_count) == (152, 248, 10.0, 103)
    assert info.duration_s == pytest.approx(10.3)
    assert info.codec == "FMP4"  # FFmpeg's tag for MPEG-4 Part 2 (mp4v)


@pytest.mark.parametrize(
    ("name", "ffmpeg_args", "plays"),
    [
        ("phone.mp4", ("-c:v", "libx264", "-pix_fmt", "yuv420p"), True),
        ("full-range.mp4", ("-c:v", "libx264", "-pix_fmt", "yuvj420p"), True),
        ("camera.mp4", ("-c:v", "mpeg4"), False),  # MPEG-4 part 2, as the fixture clips
        ("hevc.mp4", ("-c:v", "libx265", "-pix_fmt", "yuv420p"), False),
        ("ten-bit.mp4", ("-c:v", "libx264", "-pix_fmt", "yuv420p10le"), False),
        ("four-four-four.mp4", ("-c:v", "libx264", "-pix_fmt", "yuv444p"), False),
        ("quicktime.mov", ("-c:v", "libx264", "-pix_fmt", "yuv420p"), False),
        ("windows.avi", ("-c:v", "libx264", "-pix_fmt", "yuv420p"), False),
        ("webm.webm", ("-c:v", "libvpx-vp9"), False),
        ("large.mp4", ("-vf", "scale=1984:-2", "-c:v", "libx264", "-pix_fmt", "yuv420p"), False),
    ],
)
def test_only_an_h264_mp4_of_a_page_size_plays_in_every_browser_as_it_is(
    tmp_path, name, ffmpeg_args, plays
):
    video = reencoded_clip(SQUAT_CLIP, tmp_path / name, "-t", "1", *ffmpeg_args)

    assert browsers_play(sniff_media_type(video).mime, probe_video(video)) is plays


def truncated_clip() -> bytes:
    return SQUAT_CLIP.read_bytes()[: SQUAT_CLIP.stat().st_size // 2]


def clip_with_garbage_after_its_header() -> bytes:
    return SQUAT_CLIP.read_bytes()[:64] + bytes(range(256)) * 2000


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.mp4", lambda: b"", "empty_file"),
        ("notes.mp4", lambda: b"My workout notes, not a video.\n" * 20, "unsupported_media"),
        (
            "document.jpg",
            lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 400,
            "unsupported_media",
        ),
        ("truncated.mp4", truncated_clip, "video_load_error"),
        ("corrupt.mp4", clip_with_garbage_after_its_header, "video_load_error"),
        ("undecodable.mp4", squat_clip_declaring_h264, "media_decode_error"),
    ],
)
def test_broken_or_foreign_files_are_refused_with_a_code(tmp_path, name, content, code):
    path = tmp_path / name
    path.write_bytes(content())

    with pytest.raises(MediaError) as refused:
        sniff_media_kind(path)

    assert refused.value.code == code
    assert refused.value.message


def test_an_image_format_we_cannot_decode_is_unsupported(tmp_path):
    path = tmp_path / "animation.gif"
    Image.new("RGB", (32, 32)).save(path)

    with pytest.raises(MediaError) as refused:
        sniff_media_kind(path)

    assert refused.value.code == "unsupported_media"


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (MediaLimits(max_duration_s=5), "video_too_long"),
        (MediaLimits(max_frame_count=50), "video_too_long"),
        (MediaLimits(max_video_side=200), "video_too_large"),
        (MediaLimits(max_video_pixels=150 * 200), "video_too_large"),
    ],
)
def test_videos_beyond_the_limits_are_refused(limits, code):
    with pytest.raises(MediaError) as refused:
        sniff_media_kind(SQUAT_CLIP, limits=limits)

    assert refused.value.code == code


def test_an_absurdly_wide_video_is_refused_before_decoding(tmp_path):
    path = write_video(tmp_path / "strip.mp4", size=(4800, 16), frames=3)

    with pytest.raises(MediaError) as refused:
        sniff_media_kind(path)

    assert refused.value.code == "video_too_large"


def test_decoding_stops_at_the_length_limit_whatever_the_header_says():
    frames = iter_video_frames(SQUAT_CLIP, limits=MediaLimits(max_duration_s=5))

    with pytest.raises(MediaError) as refused:
        for _ in frames:
            pass

    assert refused.value.code == "video_too_long"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (lambda: png_header_only(100_000, 100_000), "bomb.png"),  # 10 gigapixels
        (lambda: png_header_only(8000, 6000), "large.png"),  # 48 MP: Pillow allows it, we do not
        (lambda: jpeg_announcing(65_000, 65_000), "bomb.jpg"),
    ],
)
def test_oversized_images_are_refused_from_their_header(tmp_path, refuse_decoding, content, name):
    path = tmp_path / name
    path.write_bytes(content())

    for check in (sniff_media_kind, read_image):
        with pytest.raises(MediaError) as refused:
            check(path)
        assert refused.value.code == "image_too_large"


def test_a_truncated_image_cannot_be_loaded(tmp_path):
    ok, png = cv2.imencode(".png", cv2.imread(str(PHOTO)))
    path = tmp_path / "cut.png"
    path.write_bytes(png.tobytes()[: len(png) // 3])

    with pytest.raises(MediaError) as refused:
        read_image(path)

    assert refused.value.code == "image_load_error"


def test_read_image_gives_bgr_pixels():
    image = read_image(PHOTO)

    assert image.shape == (342, 548, 3) and image.dtype == np.uint8


def test_a_source_slower_than_the_analysis_rate_gives_every_frame():
    frames = [(t, i) for _, t, i in iter_video_frames(SQUAT_CLIP, analysis_fps=15.0)]

    assert [i for _, i in frames] == list(range(103))
    assert [t for t, _ in frames] == pytest.approx([100.0 * i for i in range(103)])


def test_a_faster_source_is_sampled_evenly_with_source_timestamps(tmp_path):
    path = write_video(tmp_path / "thirty.mp4", size=(64, 48), frames=60, fps=30.0)

    frames = [(t, i) for _, t, i in iter_video_frames(path, analysis_fps=15.0)]

    assert [i for _, i in frames] == list(range(0, 60, 2))
    assert np.diff([t for t, _ in frames]) == pytest.approx(np.full(29, 2000 / 30))


def test_a_range_of_frames_can_be_decoded_on_its_own():
    frames = iter_video_frames(SQUAT_CLIP, analysis_fps=5.0, start_frame=41, stop_frame=60)

    kept = [(i, t) for _, t, i in frames]

    assert kept == [(i, pytest.approx(100.0 * i)) for i in (41, 42, 44, 46, 48, 50, 52, 54, 56, 58)]
