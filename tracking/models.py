"""Uploaded videos and photos, analysed in the background, and the events they produced; the
results sessions leave for an end user; the webhooks that tell a host about both."""

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import ApiToken, Organization, TenantQuerySet
from config.jobs import Job, JobStates
from tracking.engine.workout import Workout, WorkoutStep, workout_from_steps


def upload_path(upload, filename):
    return f"uploads/org_{upload.organization_id}/{upload.id}/source{_extension(filename)}"


def _extension(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f".{suffix}" if suffix.isalnum() and len(suffix) <= 5 else ""


class TrackingLink(models.Model):
    """A single-use, short-lived link to a tracking page, issued by POST /api/v1/sessions.

    It carries the parameters it was issued for, without the API token, and only the SHA-256 of
    its secret id is stored. Opening it marks it used; the page opened from it then works with a
    signed ticket bound to it (tracking/links.py).
    """

    class Endpoint(models.TextChoices):
        TRACKING = "tracking", "Live tracking"
        UPLOAD = "upload", "Upload tracking"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tracking_links"
    )
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="tracking_links")
    endpoint = models.CharField(max_length=10, choices=Endpoint.choices)
    # The canonical query (TrackingParams.to_query()) without the token.
    query = models.TextField()
    digest = models.CharField(max_length=64, unique=True)  # accounts.models.secret_digest
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "expires_at"])]

    def __str__(self):
        return f"{self.endpoint} link {self.id} ({'used' if self.used_at else 'open'})"


class SavedWorkout(models.Model):
    """A workout an organisation saved (POST /api/v1/workouts, the dashboard), which the live
    page follows with workout=<its id>. `steps`: each tracking.engine.workout.WorkoutStep's
    to_dict(), checked when saved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="workouts"
    )
    name = models.CharField(max_length=120)
    steps = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "workout"
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self):
        return f"workout {self.name} ({self.id})"

    @property
    def plan(self) -> Workout:
        """The workout as the engine follows it (WorkoutInvalid should the catalog have lost an
        exercise it names since it was saved)."""
        return workout_from_steps(self.steps, id=self.pk, name=self.name)

    @property
    def inline(self) -> str:
        """The steps as workout= writes them inline, as saved: read without checking them, so a
        workout the catalog no longer reads still lists (pages refuse it, saying why)."""
        return str(Workout(tuple(WorkoutStep(**step) for step in self.steps)))


@dataclass(frozen=True)
class UploadResults:
    """What an analysed video gave: the engine's exercise_summary as the pipeline stores it
    (tracking/pose/pipeline.py), read in one place for the dashboard, the API and the CSV."""

    counter: int | None  # reps counted or seconds held; None when nothing is counted (jumps)
    unit: str  # what counter counts: "reps" or "seconds" ("" when nothing is counted)
    average_score: float | None
    grade: str | None
    rejected_reps: int | None
    history: list[dict]  # one entry per counted rep or hold: index, formScore, grade, durationMs…
    exercise_summary: dict  # the whole event ({} for jumps, which send jump_summary instead)
    # A range-of-motion assessment's best reading per side and movement (its rom_summary's).
    measurements: list[dict]

    @classmethod
    def from_summary(cls, summary) -> "UploadResults | None":
        if not isinstance(summary, dict) or summary.get("media") != "video":
            return None
        event = summary.get("exercise_summary")
        event = event if isinstance(event, dict) else {}
        history = event.get("history")
        rom = summary.get("rom_summary")
        measured = rom.get("results") if isinstance(rom, dict) else None
        return cls(
            # An assessment measures, it does not count.
            counter=None
            if measured is not None
            else event.get("counter", summary.get("final_count")),
            unit=event.get("unit") or "",
            average_score=event.get("average_score"),
            grade=event.get("grade"),
            rejected_reps=event.get("rejected_reps"),
            history=[rep for rep in history if isinstance(rep, dict)]
            if isinstance(history, list)
            else [],
            exercise_summary=event,
            measurements=[m for m in measured if isinstance(m, dict)]
            if isinstance(measured, list)
            else [],
        )


class LiveCall(models.Model):
    """A visit of the tracking page that has taken its monthly call, when its first frame was
    analysed.

    The page's socket presents the page visit id (signed with the page, tracking/live.py) on
    every (re)connection: one page visit, one call, however often it reconnects. Rows live as
    long as the page may reconnect (TRACKING_TICKET_MAX_AGE_S).
    """

    page_visit = models.CharField(max_length=32, unique=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="live_calls"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self):
        return f"live call {self.page_visit}"


class WebhookDelivery(models.Model):
    """A row whose event is POSTed to a receiver by tracking/webhooks.py: where to (a result's
    attempts go to its organisation's endpoint as it is then), and how its attempts went (signing,
    retries and their schedule are the module's, the same for all)."""

    callback_url = models.URLField(max_length=500, blank=True)
    # The outcome of the last delivery attempt, e.g. "delivered: HTTP 204", "retrying: HTTP 503".
    callback_status = models.CharField(max_length=200, blank=True)
    callback_attempts = models.PositiveSmallIntegerField(default=0)
    callback_last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt is due; None once the callback was delivered or given up on.
    callback_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Upload(Job, WebhookDelivery):
    """An uploaded video or photo, and its analysis: a job (config/jobs.py) a worker claims. Its
    outcome goes to its own callback_url, when it has one."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    STATES = JobStates(
        queued=Status.QUEUED, processing=Status.PROCESSING, done=Status.DONE, failed=Status.FAILED
    )
    LEASE = datetime.timedelta(seconds=settings.UPLOAD_ANALYSIS_LEASE_S)

    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        IMAGE = "image", "Image"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="uploads")
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    # Set when a page opened from a single-use link made the upload: its ticket sees only these.
    link = models.ForeignKey(
        TrackingLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The canonical query (TrackingParams.to_query()); the worker parses it with the same parser.
    query = models.TextField()
    exercise = models.CharField(max_length=64, blank=True)
    file = models.FileField(upload_to=upload_path, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField()
    duration_s = models.FloatField(null=True, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(null=True, blank=True)
    stats = models.JSONField(null=True, blank=True)
    # The annotated MP4 (videos, only with export=true) or PNG overlay (images).
    annotated_file = models.FileField(max_length=255, blank=True)
    # A video's poses and counter per analysed frame (JSON), drawn by the pages over the original.
    timeline_file = models.FileField(max_length=255, blank=True)
    # A small H.264 copy of a video that every browser plays (render.PreviewEncoder): the pages
    # replay it, with the timeline drawn over it, whatever format the original is in.
    preview_file = models.FileField(max_length=255, blank=True)

    # The host's id of the person (externalUserId): the upload is theirs, erased with their data.
    external_user_id = models.CharField(max_length=128, blank=True)

    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "external_user_id"]),
        ]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def analysis_files(self) -> list:
        """The files the analysis stored (annotated file, timeline, preview): the upload itself
        aside."""
        return [f for f in (self.annotated_file, self.timeline_file, self.preview_file) if f]

    @property
    def stored_files(self) -> list[str]:
        """The storage names of everything kept for it: the upload itself and the analysis'."""
        return [f.name for f in (self.file, *self.analysis_files) if f]

    @property
    def results(self) -> UploadResults | None:
        """A finished video's count, scores and per-rep history; None for photos and until the
        analysis is done."""
        if self.status != self.Status.DONE:
            return None
        return UploadResults.from_summary(self.summary)


class UploadEvent(models.Model):
    """One event of an upload's timeline, in the order the engine produced it."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField()

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "seq"], name="unique_upload_event_seq")
        ]

    def __str__(self):
        return f"{self.upload_id} #{self.seq} {self.type}"


class SessionResult(WebhookDelivery):
    """What one session left for one end user: its summary event, stored with the host's
    externalUserId for its organisation (tracking/results.py), and announced to the
    organisation's webhook endpoint as session.completed. Kept the organisation's
    result_retention_days; a live session's video never is.

    The figures charted over time (counter, score, grade, degrees) are read from the summary
    when the result is recorded, so lists and charts need not open it.
    """

    class Kind(models.TextChoices):
        LIVE = "live", "Live"
        UPLOAD = "upload", "Upload"
        WORKOUT = "workout", "Workout"
        ASSESSMENT = "assessment", "Assessment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="session_results"
    )
    external_user_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    exercise = models.CharField(max_length=64, blank=True)  # a catalog id; "" for a reference
    reference = models.UUIDField(null=True, blank=True)
    # The upload it came from (kind upload); its summary stays when the upload is deleted.
    upload = models.OneToOneField(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="session_result"
    )
    # A live session's page visit: the live sessions of one page (reconnects) share it.
    page_visit = models.CharField(max_length=32, blank=True)
    completed_at = models.DateTimeField(default=timezone.now)
    duration_s = models.FloatField(null=True, blank=True)
    counter = models.IntegerField(null=True, blank=True)  # reps, seconds held or jumps
    unit = models.CharField(max_length=12, blank=True)  # what counter counts
    average_score = models.FloatField(null=True, blank=True)  # 0-100
    grade = models.CharField(max_length=2, blank=True)
    degrees = models.FloatField(null=True, blank=True)  # a range of motion's peak angle
    summary = models.JSONField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "external_user_id", "-completed_at"]),
            models.Index(fields=["organization", "-completed_at"]),
        ]

    def __str__(self):
        return f"{self.kind} result of {self.external_user_id} ({self.completed_at:%Y-%m-%d})"

    def as_data(self) -> dict:
        """The result as the API lists it and the session.completed webhook sends it."""
        return {
            "id": str(self.id),
            "external_user_id": self.external_user_id,
            "kind": self.kind,
            "exercise": self.exercise or None,
            "reference": str(self.reference) if self.reference else None,
            "upload_id": str(self.upload_id) if self.upload_id else None,
            "page_visit": self.page_visit or None,
            "completed_at": self.completed_at.isoformat().replace("+00:00", "Z"),
            "duration_s": self.duration_s,
            "counter": self.counter,
            "unit": self.unit,
            "average_score": self.average_score,
            "grade": self.grade or None,
            "degrees": self.degrees,
            "summary": self.summary,
        }
