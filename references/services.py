"""Writes for reference movements: create (validate, store, queue extraction), extract (a job a
worker claims: config/jobs.py), rename, delete."""

import logging

from django.core.files import File
from django.db import transaction

from accounts.models import Organization
from config import background
from config.errors import FormTrackError
from references import selectors
from references.models import ReferenceMovement
from tracking import media_intake
from tracking.engine.reference import SignatureError, build_signature
from tracking.pose import media
from tracking.pose.estimator import PoseEstimator

# Queued by its name (config/background.py): the task calls this module, not the other way.
EXTRACTION_TASK = "references.tasks.extract_reference"
# One repetition: long enough to hold a movement, short enough to be one rep.
MIN_SPAN_MS = 300
MAX_SPAN_MS = 30_000

logger = logging.getLogger(__name__)


class ReferenceRejected(FormTrackError):
    """A reference video or change refused before anything is stored."""


def reference_create(
    *, organization, name: str, file, trim_start_ms: int = 0, trim_end_ms=None, created_by=None
) -> ReferenceMovement:
    """Store a reference video and queue the extraction of its signature."""
    name = (name or "").strip()
    if not name:
        raise ReferenceRejected("invalid_name", "Give the reference movement a name.")
    _check_reference_limit(organization)  # early, before the video is read
    try:
        with media_intake.receive_media(file) as received:
            if received.kind != "video":
                raise ReferenceRejected("not_a_video", "Record or upload a video, not a photo.")
            start, end = _checked_span(trim_start_ms, trim_end_ms, received.duration_s * 1000)
            reference = ReferenceMovement(
                organization=organization,
                name=name[:120],
                created_by=created_by,
                trim_start_ms=start,
                trim_end_ms=end,
            )
            with received.path.open("rb") as content:
                reference.video.save(received.storage_name, File(content), save=False)
    except media.MediaError as error:
        raise ReferenceRejected(error.code, error.message, error.status) from error
    try:
        with transaction.atomic():
            # Counted again under a lock on the organisation's row, so parallel creates insert
            # one after another and the last one counts the others (on SQLite writes are
            # serialized anyway). The video is stored before: the lock is held for a moment.
            Organization.objects.select_for_update().get(pk=organization.pk)
            _check_reference_limit(organization)
            reference.save()
            background.enqueue(EXTRACTION_TASK, str(reference.pk))
    except Exception:
        reference.video.delete(save=False)
        raise
    return reference


def _check_reference_limit(organization) -> None:
    allowance = selectors.reference_allowance(organization=organization)
    if allowance.reached:
        limit = allowance.limit
        raise ReferenceRejected(
            "reference_limit_reached",
            f"Your plan allows {limit} reference movement{'s' if limit != 1 else ''}: "
            "delete one or upgrade your plan.",
            403,
        )


def _checked_span(start, end, duration_ms: float) -> tuple[int, int]:
    start = int(start or 0)
    end = int(duration_ms if end is None else end)
    end = min(end, int(duration_ms))
    if start < 0 or start >= end:
        raise ReferenceRejected(
            "invalid_trim", "The trim start must come before its end, inside the video."
        )
    if not MIN_SPAN_MS <= end - start <= MAX_SPAN_MS:
        raise ReferenceRejected(
            "invalid_trim",
            f"Trim the video to one repetition: between {MIN_SPAN_MS / 1000:.1f} and "
            f"{MAX_SPAN_MS / 1000:.0f} seconds.",
        )
    return start, end


def reference_rename(*, reference: ReferenceMovement, name: str) -> ReferenceMovement:
    name = (name or "").strip()
    if not name:
        raise ReferenceRejected("invalid_name", "Give the reference movement a name.")
    reference.name = name[:120]
    reference.save(update_fields=["name", "updated_at"])
    return reference


def reference_delete(*, reference: ReferenceMovement) -> None:
    video = reference.video.name
    reference.delete()
    if video:
        reference.video.storage.delete(video)


def reference_claim(*, reference_id) -> int | None:
    """Take the extraction for this worker: its attempt number, or None when there is nothing to
    do (ready, failed or deleted) or another worker holds it."""
    return ReferenceMovement.claim(reference_id)


def reference_extract(*, reference_id, attempt: int) -> None:
    """Estimate the poses of the trimmed span and turn them into the movement signature, unless
    another attempt took the extraction over meanwhile."""
    reference = ReferenceMovement.objects.get(pk=reference_id)
    poses = []
    try:
        span = reference.trim_end_ms - reference.trim_start_ms
        with PoseEstimator(model="full", mode="video") as estimator:
            for frame, timestamp_ms, _ in media.iter_video_frames(
                reference.video.path, analysis_fps=30.0
            ):
                if timestamp_ms < reference.trim_start_ms:
                    continue
                if timestamp_ms > reference.trim_end_ms:
                    break
                rgb = frame[:, :, ::-1].copy()
                poses.append(estimator.estimate(rgb, timestamp_ms))
                percent = 5 + 90 * (timestamp_ms - reference.trim_start_ms) / span
                if int(percent) > reference.progress:  # one write per whole percent
                    reference.report_progress(attempt, percent)
        signature = build_signature(
            poses, start_ms=reference.trim_start_ms, end_ms=reference.trim_end_ms
        )
    except media.MediaError as error:
        reference.fail(attempt, error.code, error.message)
        return
    except SignatureError as error:
        reference.fail(attempt, "no_movement_found", str(error))
        return
    reference.landmarks = _landmarks_json(poses)
    reference.signature = signature
    if not reference.finish(attempt, "landmarks", "signature"):
        logger.warning(
            "Reference %s: attempt %s lost its lease, result dropped", reference.pk, attempt
        )


def reference_fail(*, reference_id, attempt: int | None, code: str, message: str) -> None:
    """Fail the extraction while this attempt holds it (None, the claim itself failed: while no
    worker does)."""
    reference = ReferenceMovement.objects.filter(pk=reference_id).first()
    if reference is not None:
        reference.fail(attempt, code, message)


def _landmarks_json(poses) -> dict:
    first = poses[0] if poses else None
    return {
        "image_width": first.image_width if first else None,
        "image_height": first.image_height if first else None,
        "frames": [
            {
                "timestamp_ms": round(p.timestamp_ms, 1),
                "landmarks": None
                if p.landmarks is None
                else [[round(float(v), 5) for v in point] for point in p.landmarks],
            }
            for p in poses
        ],
    }
