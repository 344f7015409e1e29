"""Tracking services: opening a page or session (parameters, token, origin, plan, quota) and the
upload lifecycle (validate, store, queue, analyse, notify)."""

import datetime
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts import errors, selectors, services
from accounts.errors import AccessError
from accounts.models import ApiToken
from accounts.origins import origin_of
from config import background, ratelimit
from references.selectors import ReferenceUnavailable, reference_signature_for
from tracking import links, media_intake, tasks, webhooks
from tracking.live import LiveSession, server_busy
from tracking.models import TrackingLink, Upload, UploadEvent
from tracking.params import ParamsError, TrackingParams, parse_tracking_params
from tracking.pose import media, pipeline

# A worker holds a job this long past its last progress report before another may take it over.
ANALYSIS_LEASE = datetime.timedelta(seconds=settings.UPLOAD_ANALYSIS_LEASE_S)
MEDIA_LINK_SALT = "formtrack.media-link"
PROGRESS_TICKET_SALT = "formtrack.upload-progress"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackingAccess:
    params: TrackingParams
    token: ApiToken
    calls_left: int
    reference_signature: dict | None = None
    # The single-use link (POST /api/v1/sessions) the request came through, if any.
    link: TrackingLink | None = None


class TrackingRefused(Exception):
    """Why a page, session or upload cannot start: an HTTP status and the `error` event."""

    def __init__(
        self,
        status: int,
        event: dict,
        problems: list[dict],
        language: str = "en",
        retry_after: int | None = None,
    ):
        super().__init__(event["message"])
        self.status = status
        self.event = event
        self.problems = problems
        self.language = language
        self.retry_after = retry_after  # seconds: a 429 rate_limited, a 503 server_busy

    @classmethod
    def from_params_error(cls, error: ParamsError) -> "TrackingRefused":
        problems = [
            {"code": p.code, "param": p.param, "message": p.message} for p in error.problems
        ]
        return cls(error.status, error.to_event(), problems, error.language)

    @classmethod
    def from_access_error(cls, error: AccessError, param: str = "token") -> "TrackingRefused":
        problem = {"code": error.code, "param": param, "message": error.message}
        return cls(error.status, error.to_event(), [problem])

    @classmethod
    def from_rate_limited(cls, limited: ratelimit.RateLimited) -> "TrackingRefused":
        event = limited.to_event()
        problem = {"code": event["code"], "param": "rate", "message": limited.message}
        return cls(429, event, [problem], retry_after=limited.retry_after)


def tracking_open(
    query,
    *,
    endpoint: str,
    origin: str | None,
    browser: bool = True,
    via: str = "api",
    client_ip: str | None = None,
) -> TrackingAccess:
    """Validate everything a tracking page, WebSocket or upload needs before it starts.

    `via` says where the request comes from: "page", "websocket" or "api". Pages and sockets count
    against the burst rate limits here, per client address and per token (the API counts its own).
    The credential is the API token (`token=`), a single-use link (`session=`, pages and sockets;
    opening uses it up) or the ticket of a page opened from one (`ticket=`): tracking/links.py.

    Takes no quota: a call is taken when a session actually starts or an upload is accepted.
    """
    credential = None
    credential_param = links.credential_name(query) or "token"
    try:
        if via != "api":
            ratelimit.hit_ip(client_ip)
        if credential_param == "token":
            params = parse_tracking_params(query, endpoint=endpoint)
            token = services.token_authenticate(params.token, origin=origin, browser=browser)
        else:
            credential = links.link_credential(query, endpoint=endpoint, via=via)
            params = credential.params
            token = services.token_authorize(credential.link.token, origin=origin, browser=browser)
        if via != "api":
            ratelimit.hit_token(token.pk, via)
            services.token_note_page_use(token)
    except ratelimit.RateLimited as limited:
        raise TrackingRefused.from_rate_limited(limited) from limited
    except ParamsError as error:
        raise TrackingRefused.from_params_error(error) from error
    except AccessError as error:
        raise TrackingRefused.from_access_error(error, credential_param) from error
    org = token.organization
    quota = selectors.quota_status(organization=org)
    if quota.left == 0:
        raise TrackingRefused.from_access_error(errors.quota_exceeded(quota.limit))
    signature = None
    if params.reference is not None:
        try:
            signature = reference_signature_for(organization=org, reference_id=params.reference)
        except ReferenceUnavailable as error:
            problem = {"code": error.code, "param": "reference", "message": error.message}
            event = {"type": "error", "code": error.code, "error": error.code}
            raise TrackingRefused(
                error.status, event | {"message": error.message}, [problem], params.language
            ) from error
    if credential is not None and credential.opens_link:  # last: a refused request keeps it
        try:
            links.link_consume(credential.link)
        except AccessError as error:
            raise TrackingRefused.from_access_error(error, credential_param) from error
    return TrackingAccess(
        params=params.gated_for(org.plan_obj),
        token=token,
        calls_left=quota.left,
        reference_signature=signature,
        link=credential.link if credential is not None else None,
    )


# --- Uploads -------------------------------------------------------------------------------------


class UploadRejected(Exception):
    """A file refused before anything is stored: an HTTP status and a contract error code."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _check_callback_url(url: str) -> None:
    try:
        webhooks.callback_url_check(url)
    except webhooks.CallbackRefused as refused:
        raise UploadRejected("invalid_callback_url", refused.message) from refused
    except OSError as error:
        raise UploadRejected(
            "invalid_callback_url", "callback_url's host does not resolve."
        ) from error


def upload_create(*, access: TrackingAccess, file, callback_url: str = "") -> Upload:
    """Validate and store an uploaded file, take one call, and queue its analysis.

    Nothing is stored and no call is taken unless the file is acceptable.
    """
    params = access.params
    if callback_url:
        _check_callback_url(callback_url)
    try:
        with media_intake.receive_media(file) as received:
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
                )
                with received.path.open("rb") as content:
                    upload.file.save(received.storage_name, File(content), save=False)
                try:
                    upload.save()
                except Exception:
                    upload.file.delete(save=False)
                    raise
                background.enqueue(tasks.analyze_upload, str(upload.id))
    except media.MediaError as error:
        raise UploadRejected(error.code, error.message, error.status) from error
    return upload


def upload_delete(*, upload: Upload) -> None:
    storage_names = [f.name for f in (upload.file, *upload.analysis_files) if f]
    upload.delete()
    for name in storage_names:
        default_storage.delete(name)


class UploadLeased(Exception):
    """Another worker holds the job's lease: try again once it has run out."""

    def __init__(self, seconds_left: float):
        super().__init__(f"the job is leased for {seconds_left:.0f} more seconds")
        self.seconds_left = seconds_left


def _claim(upload_id) -> int | None:
    """Take the job for this worker and return its attempt number; None when there is nothing to
    do (finished or deleted). A second delivery of the same job does nothing.

    A job stays claimable after its lease runs out, so a worker that died mid-analysis does not
    leave it stuck: the redelivered task picks it up again (UploadLeased until then).
    """
    now = timezone.now()
    claimed = (
        Upload.objects.filter(pk=upload_id)
        .filter(
            Q(status=Upload.Status.QUEUED) | Q(status=Upload.Status.PROCESSING, lease_until__lt=now)
        )
        .update(
            status=Upload.Status.PROCESSING,
            started_at=now,
            lease_until=now + ANALYSIS_LEASE,
            attempts=F("attempts") + 1,
            progress=0,
        )
    )
    state = Upload.objects.filter(pk=upload_id).values("status", "attempts", "lease_until").first()
    if claimed and state:
        return state["attempts"]
    if state and state["status"] == Upload.Status.PROCESSING:
        lease_until = state["lease_until"] or now
        raise UploadLeased(max(0.0, (lease_until - now).total_seconds()))
    return None


def upload_analyze(*, upload_id, worker: str = "") -> None:
    """Run one claimed upload through pose estimation and the engine, and store what it gives.

    Raises UploadLeased while another worker holds the job. `worker` (the Celery worker's name)
    is recorded in the upload's stats.
    """
    attempt = _claim(upload_id)
    if attempt is None:
        return
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
            _fail(upload, error.code, error.message)
            return
    progress = _ProgressReporter(upload, attempt)
    folder = f"uploads/org_{upload.organization_id}/{upload.id}"
    video = upload.kind == Upload.Kind.VIDEO
    with tempfile.TemporaryDirectory(prefix="formtrack-analysis-") as workdir:
        annotated_tmp = Path(workdir) / ("annotated.mp4" if video else "annotated.png")
        timeline_tmp = Path(workdir) / "timeline.json"
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
                analysis_fps=settings.UPLOAD_ANALYSIS_FPS,
                workers=settings.UPLOAD_ANALYSIS_WORKERS,
                limits=media_intake.media_limits(),
                reference_signature=signature,
            )
        except media.MediaError as error:
            _fail(upload, error.code, error.message)
            return
        for produced, field in ((annotated_tmp, "annotated_file"), (timeline_tmp, "timeline_file")):
            if produced.exists():
                with produced.open("rb") as content:
                    stored = default_storage.save(f"{folder}/{produced.name}", File(content))
                getattr(upload, field).name = stored
    events = list(result.events)
    if upload.annotated_file:
        events.extend(_media_events(upload, params))
    with transaction.atomic():
        # Only the job's current holder stores its outcome: a worker that stalled past its lease
        # while another took over stops here, so nothing is stored or counted twice.
        if not _holds(upload, attempt):
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
        upload.summary = result.summary
        upload.stats = result.stats | ({"worker": worker} if worker else {})
        upload.status = Upload.Status.DONE
        upload.progress = 100
        upload.finished_at = timezone.now()
        upload.lease_until = None
        upload.save()
        if upload.token and upload.duration_s:
            services.usage_add_seconds(
                token=upload.token,
                exercise=upload.exercise,
                kind="upload",
                seconds=upload.duration_s,
            )
        _queue_callback(upload)
    _notify(upload)


def _holds(upload: Upload, attempt: int) -> bool:
    """Whether this attempt still holds the job (locks the row until the transaction ends)."""
    return (
        Upload.objects.select_for_update()
        .filter(pk=upload.pk, status=Upload.Status.PROCESSING, attempts=attempt)
        .exists()
    )


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
        background.enqueue(tasks.analyze_upload, str(upload_id))
    return stalled


def upload_callbacks_requeue_overdue(*, overdue_for: datetime.timedelta) -> list:
    """Queue again the callback deliveries whose task was lost (a broker or an in-process runner
    restarted): due for longer than `overdue_for`. A delivery queued twice is attempted once."""
    overdue = list(
        Upload.objects.filter(
            callback_next_attempt_at__lt=timezone.now() - overdue_for
        ).values_list("pk", flat=True)
    )
    for upload_id in overdue:
        background.enqueue(tasks.deliver_upload_callback, str(upload_id))
    return overdue


def upload_requeue(*, upload_id) -> bool:
    """Put a job that hit a transient error back in the queue; False if that was impossible."""
    try:
        return bool(
            Upload.objects.filter(pk=upload_id, status=Upload.Status.PROCESSING).update(
                status=Upload.Status.QUEUED, lease_until=None
            )
        )
    except Exception:  # the database itself may be what is failing
        return False


def upload_fail(*, upload_id, code: str, message: str) -> None:
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is not None and not upload.is_finished:
        _fail(upload, code, message)


def _fail(upload: Upload, code: str, message: str) -> None:
    upload.status = Upload.Status.FAILED
    upload.error_code = code
    upload.error_message = message
    upload.finished_at = timezone.now()
    upload.lease_until = None
    with transaction.atomic():
        upload.save(
            update_fields=["status", "error_code", "error_message", "finished_at", "lease_until"]
        )
        _queue_callback(upload)
    _notify(upload)


def _media_events(upload: Upload, params) -> list[dict]:
    url = media_link(upload.annotated_file.name)
    if upload.kind == Upload.Kind.IMAGE:
        return [{"type": "image_overlay", "url": url, "image": url}]
    if params.export:
        return [{"type": "export_ready", "url": url}]
    return []


def media_link(storage_name: str) -> str:
    """A signed, expiring link to a stored file; it works without the API token (e.g. <video>).

    It points at the media host when MEDIA_URL names one (an absolute URL on a cookie-less domain:
    docs/deploy.md), else at SITE_URL."""
    signed = signing.dumps(storage_name, salt=MEDIA_LINK_SALT)
    base = origin_of(settings.MEDIA_URL) or settings.SITE_URL.rstrip("/")
    return base + reverse("media-file", args=[signed])


def media_link_resolve(signed: str) -> str | None:
    try:
        return signing.loads(signed, salt=MEDIA_LINK_SALT, max_age=settings.MEDIA_LINK_MAX_AGE_S)
    except signing.BadSignature:
        return None


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
        Upload.objects.filter(pk=self.upload.pk, attempts=self.attempt).update(
            progress=value, lease_until=timezone.now() + ANALYSIS_LEASE
        )
        self.upload.progress = value
        _notify(self.upload)


def upload_status_event(upload: Upload) -> dict:
    """The `initialization` event the upload page shows (contract §4.2)."""
    if upload.status == Upload.Status.DONE:
        return {
            "type": "initialization",
            "message": "Analysis completed",
            "ready": True,
            "source": upload.kind,
            "uploadId": str(upload.id),
            "status": upload.status,
            "progress": 100,
        }
    if upload.status == Upload.Status.FAILED:
        return {
            "type": "error",
            "code": upload.error_code,
            "error": upload.error_code,
            "message": upload.error_message,
            "uploadId": str(upload.id),
            "status": upload.status,
        }
    return {
        "type": "initialization",
        "message": f"Your video is processing, please stay on this page ({upload.progress}%)"
        if upload.kind == Upload.Kind.VIDEO
        else f"Your image is processing ({upload.progress}%)",
        "ready": False,
        "source": upload.kind,
        "uploadId": str(upload.id),
        "status": upload.status,
        "progress": upload.progress,
    }


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


def _queue_callback(upload: Upload) -> None:
    """Have the outcome POSTed to the upload's callback_url by a task of its own once this
    commits: the analysis never waits on a receiver (tracking.webhooks)."""
    if not upload.callback_url:
        return
    Upload.objects.filter(pk=upload.pk).update(callback_next_attempt_at=timezone.now())
    background.enqueue(tasks.deliver_upload_callback, str(upload.pk))


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
        raise links.invalid_session("This upload ticket is not valid.")
    services.token_authorize(upload.token, origin=origin, browser=False)
    return upload


# --- Live sessions -------------------------------------------------------------------------------


def live_session_start(
    query, *, origin: str | None, browser: bool = True, client_ip: str | None = None
) -> LiveSession:
    """Open a live session: validate like the page does, reserve its pose estimator (server
    inference) while the process has one free, then take one call of the quota."""
    access = tracking_open(
        query,
        endpoint="tracking",
        origin=origin,
        browser=browser,
        via="websocket",
        client_ip=client_ip,
    )
    live = LiveSession(access)
    if access.params.inference == "server" and not live.reserve_estimator():
        busy = server_busy()
        problem = {"code": busy.code, "param": "inference", "message": busy.message}
        raise TrackingRefused(503, busy.to_event(), [problem], retry_after=busy.retry_after)
    started = False
    try:
        services.usage_take_call(
            token=access.token, exercise=access.params.exercise or "", kind="live"
        )
        started = True
    except AccessError as error:
        raise TrackingRefused.from_access_error(error) from error
    finally:
        if not started:
            live.close()  # gives its estimator slot back
    return live


def live_session_end(live: LiveSession) -> None:
    live.close()
    services.usage_add_seconds(
        token=live.token,
        exercise=live.params.exercise or "",
        kind="live",
        seconds=round(live.seconds_tracked, 3),
    )
