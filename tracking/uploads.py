"""The upload lifecycle: accept a file (validate, store, take a call, queue its analysis), analyse
it (a job a worker claims: config/jobs.py), fail it, delete it, and the progress a page follows
(its ticket, its socket group, its status events)."""

import datetime
import logging
import tempfile
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import services
from accounts.errors import AccessError
from config import background
from config.errors import FormTrackError
from references.selectors import ReferenceUnavailable, reference_signature_for
from tracking import links, media_intake, results, webhooks
from tracking.access import TrackingAccess
from tracking.engine import events as contract
from tracking.media_links import media_link
from tracking.models import SessionResult, Upload, UploadEvent
from tracking.params import parse_tracking_params
from tracking.pose import media, pipeline

# Queued by its name (config/background.py): the task calls this module, not the other way.
ANALYSIS_TASK = "tracking.tasks.analyze_upload"
PROGRESS_TICKET_SALT = "formtrack.upload-progress"

logger = logging.getLogger(__name__)


class UploadRejected(FormTrackError):
    """A file refused before anything is stored: an HTTP status and a contract error code."""


def upload_create(*, access: TrackingAccess, file=None, callback_url: str = "") -> Upload:
    """Validate and store an uploaded file, take one call, and queue its analysis. Without a
    file, the page's videoSrc or imageSrc (params.remote_media) is fetched instead.

    Nothing is stored and no call is taken unless the file is acceptable.
    """
    params = access.params
    if callback_url:
        webhooks.callback_url_validate(callback_url)
    if file is not None:
        incoming = media_intake.receive_media(file)
    else:
        name, url = params.remote_media
        incoming = media_intake.fetch_media(url, param=name)
    try:
        with incoming as received:
            if received.kind != params.source:
                raise UploadRejected(
                    "media_type_mismatch",
                    f"This file is {'an image' if received.kind == 'image' else 'a video'}: "
                    f"send source={received.kind} to analyse it.",
                )
            with transaction.atomic():
                try:
                    services.usage_take_call(
                        token=access.token, exercise=params.exercise or "", kind="upload"
                    )
                except AccessError as error:
                    raise UploadRejected(error.code, error.message, error.status) from error
                upload = Upload(
                    organization=access.token.organization,
                    token=access.token,
                    kind=received.kind,
                    query=params.to_query(),
                    exercise=params.exercise or "",
                    link=access.link,
                    original_name=received.original_name,
                    size_bytes=received.size_bytes,
                    duration_s=received.duration_s,
                    callback_url=callback_url,
                    external_user_id=params.external_user_id or "",
                )
                with received.path.open("rb") as content:
                    upload.file.save(received.storage_name, File(content), save=False)
                try:
                    upload.save()
                except Exception:
                    upload.file.delete(save=False)
                    raise
                background.enqueue(ANALYSIS_TASK, str(upload.id))
    except media.MediaError as error:
        raise UploadRejected(error.code, error.message, error.status) from error
    return upload


def upload_delete(*, upload: Upload) -> None:
    storage_names = upload.stored_files
    upload.delete()
    for name in storage_names:
        default_storage.delete(name)


class UploadLeased(FormTrackError):
    """Another worker holds the job's lease: try again once it has run out."""

    def __init__(self, seconds_left: float):
        message = f"the job is leased for {seconds_left:.0f} more seconds"
        super().__init__("upload_leased", message, 409)
        self.seconds_left = seconds_left


def upload_claim(*, upload_id) -> int | None:
    """Take the job for this worker: its attempt number, or None when there is nothing to do
    (finished or deleted: a second delivery of the same job does nothing).

    Raises UploadLeased while another worker holds the job: one whose worker died is taken over
    once its lease has run out, so it is not left stuck.
    """
    attempt = Upload.claim(upload_id)
    if attempt is None and (seconds_left := Upload.lease_left(upload_id)) is not None:
        raise UploadLeased(seconds_left)
    return attempt


def upload_analyze(*, upload_id, attempt: int, worker: str = "") -> None:
    """Run a claimed upload through pose estimation and the engine, and store what it gives,
    unless another attempt took the job over meanwhile. `worker` (the Celery worker's name) is
    recorded in the upload's stats.
    """
    upload = Upload.objects.select_related("organization", "token").get(pk=upload_id)
    params = parse_tracking_params(upload.query, endpoint="upload").gated_for(
        upload.organization.plan_obj
    )
    signature = None
    if params.reference is not None:
        try:
            signature = reference_signature_for(
                organization=upload.organization, reference_id=params.reference
            )
        except ReferenceUnavailable as error:  # deleted or failed since the upload was accepted
            _fail(upload, attempt, error.code, error.message)
            return
    progress = _ProgressReporter(upload, attempt)
    folder = f"uploads/org_{upload.organization_id}/{upload.id}"
    video = upload.kind == Upload.Kind.VIDEO
    with tempfile.TemporaryDirectory(prefix="formtrack-analysis-") as workdir:
        annotated_tmp = Path(workdir) / ("annotated.mp4" if video else "annotated.png")
        timeline_tmp = Path(workdir) / "timeline.json"
        preview_tmp = Path(workdir) / "preview.mp4"
        try:
            result = pipeline.analyze_file(
                Path(upload.file.path),
                params=params,
                on_progress=progress,
                # Rendering an annotated video costs about as much again as the analysis: only
                # when asked for. The pages draw the timeline over the original instead.
                export_path=annotated_tmp if video and params.export else None,
                overlay_path=annotated_tmp if not video else None,
                timeline_path=timeline_tmp if video else None,
                preview_path=preview_tmp if video and not params.export else None,
                analysis_fps=settings.UPLOAD_ANALYSIS_FPS,
                workers=settings.UPLOAD_ANALYSIS_WORKERS,
                limits=media_intake.media_limits(),
                reference_signature=signature,
            )
        except FormTrackError as error:  # the file, or the engine (e.g. an unreadable reference)
            _fail(upload, attempt, error.code, error.message)
            return
        for produced, field in (
            (annotated_tmp, "annotated_file"),
            (timeline_tmp, "timeline_file"),
            (preview_tmp, "preview_file"),
        ):
            if produced.exists():
                with produced.open("rb") as content:
                    stored = default_storage.save(f"{folder}/{produced.name}", File(content))
                getattr(upload, field).name = stored
    events = list(result.events)
    if upload.annotated_file:
        events.extend(_media_events(upload, params))
    upload.summary = result.summary
    upload.stats = result.stats | ({"worker": worker} if worker else {})
    with transaction.atomic():
        # Only the job's current holder stores its outcome: a worker that stalled past its lease
        # while another took over stops here, so nothing is stored or counted twice.
        if not upload.finish(
            attempt, "summary", "stats", "annotated_file", "timeline_file", "preview_file"
        ):
            logger.warning(
                "Upload %s: attempt %s lost its lease, result dropped", upload.pk, attempt
            )
            for produced in upload.analysis_files:
                default_storage.delete(produced.name)
            return
        UploadEvent.objects.filter(upload=upload).delete()  # a re-run replaces, never duplicates
        UploadEvent.objects.bulk_create(
            UploadEvent(upload=upload, seq=i, type=e["type"], payload=e)
            for i, e in enumerate(events)
        )
        if upload.token and upload.duration_s:
            services.usage_add_seconds(
                token=upload.token,
                exercise=upload.exercise,
                kind="upload",
                seconds=upload.duration_s,
            )
        summary = results.session_summary(events)
        if upload.external_user_id and summary is not None:
            results.result_record(
                org=upload.organization,
                external_user_id=upload.external_user_id,
                kind=SessionResult.Kind.UPLOAD,
                exercise=upload.exercise,
                reference=params.reference,
                summary=summary,
                upload=upload,
            )
        webhooks.upload_callback_queue(upload)
    _notify(upload)


def uploads_requeue_stalled(*, queued_for: datetime.timedelta) -> list:
    """Queue again the jobs a broker may have lost (it restarted without persistence, or was down
    when they were queued): uploads queued for longer than `queued_for`, and uploads whose worker
    died (processing, lease run out). A job queued twice is still analysed once."""
    now = timezone.now()
    stalled = list(
        Upload.objects.filter(
            Q(status=Upload.Status.QUEUED, created_at__lt=now - queued_for)
            | Q(status=Upload.Status.PROCESSING, lease_until__lt=now)
        ).values_list("pk", flat=True)
    )
    for upload_id in stalled:
        background.enqueue(ANALYSIS_TASK, str(upload_id))
    return stalled


def upload_requeue(*, upload_id, attempt: int | None) -> bool:
    """Put a job whose attempt hit a transient error back in the queue; False if that was
    impossible (the attempt, None when the claim itself failed, does not hold the job)."""
    if attempt is None:
        return False
    try:
        return Upload.release(upload_id, attempt)
    except Exception:  # the database itself may be what is failing
        return False


def upload_fail(*, upload_id, attempt: int | None, code: str, message: str) -> None:
    """Fail the job while this attempt holds it (None, the claim itself failed: while no worker
    does)."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is not None:
        _fail(upload, attempt, code, message)


def _fail(upload: Upload, attempt: int | None, code: str, message: str) -> None:
    with transaction.atomic():
        if not upload.fail(attempt, code, message):
            return
        webhooks.upload_callback_queue(upload)
    _notify(upload)


def _media_events(upload: Upload, params) -> list[dict]:
    url = media_link(upload.annotated_file.name)
    if upload.kind == Upload.Kind.IMAGE:
        return [contract.image_overlay(url=url)]
    if params.export:
        return [contract.export_ready(url=url)]
    return []


class _ProgressReporter:
    """Saves progress and pushes it to the upload's WebSocket group, at most once per percent."""

    def __init__(self, upload: Upload, attempt: int):
        self.upload = upload
        self.attempt = attempt
        self.last = -1

    def __call__(self, percent: float) -> None:
        value = max(0, min(99, int(percent)))
        if value <= self.last:
            return
        self.last = value
        if self.upload.report_progress(self.attempt, value):
            _notify(self.upload)


def upload_status_event(upload: Upload) -> dict:
    """The `initialization` event the upload page shows (contract §4.2)."""
    if upload.status == Upload.Status.DONE:
        return contract.initialization(
            message="Analysis completed",
            ready=True,
            source=upload.kind,
            upload_id=str(upload.id),
            status=upload.status,
            progress=100,
        )
    if upload.status == Upload.Status.FAILED:
        return FormTrackError(upload.error_code, upload.error_message).to_event() | {
            "uploadId": str(upload.id),
            "status": upload.status,
        }
    return contract.initialization(
        message=f"Your video is processing, please stay on this page ({upload.progress}%)"
        if upload.kind == Upload.Kind.VIDEO
        else f"Your image is processing ({upload.progress}%)",
        ready=False,
        source=upload.kind,
        upload_id=str(upload.id),
        status=upload.status,
        progress=upload.progress,
    )


def upload_group(upload_id) -> str:
    return f"upload_{upload_id}"


def _notify(upload: Upload) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    event = upload_status_event(upload)
    try:
        async_to_sync(layer.group_send)(
            upload_group(upload.pk), {"type": "upload.status", "event": event}
        )
    except Exception as error:  # e.g. Redis restarting: a push never fails the analysis
        # The database holds the progress; the upload page polls it when its socket drops.
        logger.warning(
            "Upload %s: status not pushed (%s: %s)", upload.pk, type(error).__name__, error
        )


def upload_progress_ticket(upload: Upload) -> str:
    """A signed ticket that lets a page follow one upload's progress without the API token."""
    return signing.dumps(str(upload.pk), salt=PROGRESS_TICKET_SALT)


def upload_for_ticket(ticket: str, upload_id, *, origin: str | None) -> Upload:
    """The upload that an upload ticket (upload_progress_ticket) stands for, while the key that
    made the upload may still be used (from `origin`, a browser's): the one rule of the API's
    `?upload_ticket=` and the progress socket's `?ticket=`. Raises AccessError."""
    try:
        signed_id = signing.loads(ticket, salt=PROGRESS_TICKET_SALT, max_age=24 * 3600)
    except signing.BadSignature:
        signed_id = None
    upload = None
    if signed_id == str(upload_id):
        upload = Upload.objects.select_related("token").filter(pk=upload_id).first()
    if upload is None or upload.token is None:
        raise links.invalid_link("This upload ticket is not valid.")
    services.token_authorize(upload.token, origin=origin, origin_required=False)
    return upload
