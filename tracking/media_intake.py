"""Receiving an uploaded video or photo, for uploads and reference movements alike.

The client's bytes (sent, or fetched from the address the upload page was given) go to a private
temporary file, are checked for size and sniffed; what is stored is named after the sniffed type,
never after the client's file name (an MP4 sent as `evil.html` is stored as `source.mp4`, so
nothing ever serves it as a page). The client's name is kept for display only.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from django.conf import settings

from tracking import outbound
from tracking.pose import media

ORIGINAL_NAME_MAX = 255  # Upload.original_name
FETCH_USER_AGENT = "FormTrack-Media/1"


@dataclass(frozen=True)
class ReceivedMedia:
    path: Path  # the private temporary copy, removed when the `with` block ends
    type: media.MediaType
    duration_s: float | None  # videos
    size_bytes: int
    original_name: str  # the client's file name: shown, never used to store or serve

    @property
    def kind(self) -> str:
        return self.type.kind

    @property
    def storage_name(self) -> str:
        """The name to store the file under: its extension is the sniffed type's."""
        return f"source.{self.type.extension}"


def media_limits() -> media.MediaLimits:
    return media.MediaLimits(max_duration_s=settings.UPLOAD_MAX_DURATION_S)


@contextmanager
def receive_media(file) -> Iterator[ReceivedMedia]:
    """The uploaded file checked and sniffed, in a private temporary copy for the `with` block.

    Raises media.MediaError (its `status` is the HTTP answer) before anything is stored.
    """
    if not file.size:
        raise media.MediaError("empty_file", "The uploaded file is empty.")
    if file.size > settings.UPLOAD_MAX_BYTES:
        raise _too_large()
    with _private_copy() as (path, out):
        for chunk in file.chunks():
            out.write(chunk)
        out.close()
        yield _sniffed(path, file.size, file.name or "")


@contextmanager
def fetch_media(url: str, *, param: str) -> Iterator[ReceivedMedia]:
    """A remote video or photo (the upload page's videoSrc or imageSrc, named by `param`) fetched
    under tracking/outbound.py's rules, then checked like an uploaded file: the same size limit,
    the same sniffing. Raises media.MediaError: `{video,image}_load_error` when it cannot be
    fetched (400 for an address we never call, 502 for the remote side), `file_too_large`."""
    load_error = "image_load_error" if param == "imageSrc" else "video_load_error"
    with _private_copy() as (path, out):
        try:
            fetched = outbound.fetch(
                url,
                out,
                name=param,
                max_bytes=settings.UPLOAD_MAX_BYTES,
                timeout_s=settings.MEDIA_FETCH_TIMEOUT_S,
                user_agent=FETCH_USER_AGENT,
            )
        except outbound.AddressRefused as refused:
            raise media.MediaError(load_error, refused.message) from refused
        except outbound.FetchFailed as failed:
            if failed.too_large:
                raise _too_large() from failed
            message = f"{param} could not be fetched: {failed.reason}."
            raise media.MediaError(load_error, message, 502) from failed
        out.close()
        if not fetched.size_bytes:
            raise media.MediaError("empty_file", f"{param} is an empty file.")
        yield _sniffed(path, fetched.size_bytes, Path(urlsplit(fetched.url).path).name)


def _too_large() -> media.MediaError:
    limit_mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
    return media.MediaError("file_too_large", f"Files are limited to {limit_mb} MB.", 413)


@contextmanager
def _private_copy() -> Iterator[tuple[Path, BinaryIO]]:
    """A temporary file readable by this user only, open for writing, removed afterwards."""
    handle, name = tempfile.mkstemp(prefix="formtrack-upload-")
    path = Path(name)
    try:
        with os.fdopen(handle, "w+b") as out:
            yield path, out
    finally:
        path.unlink(missing_ok=True)


def _sniffed(path: Path, size: int, original_name: str) -> ReceivedMedia:
    limits = media_limits()
    media_type = media.sniff_media_type(path, limits=limits)
    duration = (
        media.probe_video(path, limits=limits).duration_s if media_type.kind == "video" else None
    )
    return ReceivedMedia(
        path=path,
        type=media_type,
        duration_s=duration,
        size_bytes=size,
        original_name=original_name[:ORIGINAL_NAME_MAX],
    )
