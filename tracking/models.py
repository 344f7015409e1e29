"""Uploaded videos and photos, analysed in the background, and the events they produced."""

import uuid

from django.db import models
from django.utils import timezone

from accounts.models import ApiToken, Organization, TenantQuerySet


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
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "expires_at"])]

    def __str__(self):
        return f"{self.endpoint} link {self.id} ({'used' if self.used_at else 'open'})"


class Upload(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

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
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A worker holds the job until this time; a crashed worker's job can be claimed again after it.
    lease_until = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    summary = models.JSONField(null=True, blank=True)
    stats = models.JSONField(null=True, blank=True)
    # The annotated MP4 (videos, only with export=true) or PNG overlay (images).
    annotated_file = models.FileField(max_length=255, blank=True)
    # A video's poses and counter per analysed frame (JSON), drawn by the pages over the original.
    timeline_file = models.FileField(max_length=255, blank=True)

    callback_url = models.URLField(max_length=500, blank=True)
    # The outcome of the last delivery attempt, e.g. "delivered: HTTP 204", "retrying: HTTP 503".
    callback_status = models.CharField(max_length=200, blank=True)
    callback_attempts = models.PositiveSmallIntegerField(default=0)
    callback_last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt is due; None once the callback was delivered or given up on.
    callback_next_attempt_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def analysis_files(self) -> list:
        """The files the analysis stored (annotated file, timeline): the upload itself aside."""
        return [f for f in (self.annotated_file, self.timeline_file) if f]


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
