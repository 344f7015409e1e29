"""Receiving an uploaded video or photo, for uploads and reference movements alike.

The client's bytes go to a private temporary file, are checked for size and sniffed; what is
stored is named after the sniffed type, never after the client's file name (an MP4 sent as
`evil.html` is stored as `source.mp4`, so nothing ever serves it as a page). The client's name is
kept for display only.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tracking.pose import media

ORIGINAL_NAME_MAX = 255  # Upload.original_name


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
        limit_mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        raise media.MediaError("file_too_large", f"Files are limited to {limit_mb} MB.", 413)
    handle, name = tempfile.mkstemp(prefix="formtrack-upload-")  # readable by this user only
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        limits = media_limits()
        media_type = media.sniff_media_type(path, limits=limits)
        duration = (
            media.probe_video(path, limits=limits).duration_s
            if media_type.kind == "video"
            else None
        )
        yield ReceivedMedia(
            path=path,
            type=media_type,
            duration_s=duration,
            size_bytes=file.size,
            original_name=(file.name or "")[:ORIGINAL_NAME_MAX],
        )
    finally:
        path.unlink(missing_ok=True)
