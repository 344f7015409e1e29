"""Writes for reference movements: create (validate, store, queue extraction), extract, rename,
delete."""

import datetime

from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organization
from config import background
from references import tasks
from references.models import ReferenceMovement
from tracking import media_intake
from tracking.pose import media

EXTRACTION_LEASE = datetime.timedelta(minutes=5)
# One repetition: long enough to hold a movement, short enough to be one rep.
MIN_SPAN_MS = 300
MAX_SPAN_MS = 30_000


class ReferenceRejected(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


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
            background.enqueue(tasks.extract_reference, str(reference.pk))
    except Exception:
        reference.video.delete(save=False)
        raise
    return reference


def _check_reference_limit(organization) -> None:
    limit = organization.plan_obj.max_references
    if limit is not None and ReferenceMovement.objects.for_org(organization).count() >= limit:
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


def _claim(reference_id) -> bool:
    now = timezone.now()
    return bool(
        ReferenceMovement.objects.filter(pk=reference_id, status="processing")
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + EXTRACTION_LEASE, progress=F("progress"))
    )


def reference_extract(*, reference_id) -> None:
    """Estimate the poses of the trimmed span and turn them into the movement signature."""
    from tracking.engine.reference import SignatureError, build_signature
    from tracking.pose.estimator import PoseEstimator

    if not _claim(reference_id):
        return
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
                done = (timestamp_ms - reference.trim_start_ms) / span
                _progress(reference, 5 + 90 * done)
        signature = build_signature(
            poses, start_ms=reference.trim_start_ms, end_ms=reference.trim_end_ms
        )
    except media.MediaError as error:
        _fail(reference, error.code, error.message)
        return
    except SignatureError as error:
        _fail(reference, "no_movement_found", str(error))
        return
    reference.landmarks = _landmarks_json(poses)
    reference.signature = signature
    reference.status = ReferenceMovement.Status.READY
    reference.progress = 100
    reference.lease_until = None
    reference.save()


def reference_fail(*, reference_id, code: str, message: str) -> None:
    reference = ReferenceMovement.objects.filter(pk=reference_id, status="processing").first()
    if reference is not None:
        _fail(reference, code, message)


def _fail(reference, code, message) -> None:
    reference.status = ReferenceMovement.Status.FAILED
    reference.error_code = code
    reference.error_message = message
    reference.lease_until = None
    reference.save(
        update_fields=["status", "error_code", "error_message", "lease_until", "updated_at"]
    )


def _progress(reference, percent: float) -> None:
    value = max(0, min(99, int(percent)))
    if value > reference.progress:
        reference.progress = value
        ReferenceMovement.objects.filter(pk=reference.pk).update(
            progress=value, lease_until=timezone.now() + EXTRACTION_LEASE
        )


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
