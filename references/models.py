"""Reference movements: one clean repetition a team recorded, turned into a movement signature."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization, TenantQuerySet
from config.jobs import Job, JobStates


def reference_video_path(reference, filename):
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    suffix = suffix if suffix.isalnum() and len(suffix) <= 5 else "bin"
    return f"references/org_{reference.organization_id}/{reference.id}/source.{suffix}"


class ReferenceMovement(Job):
    """Its extraction is a job (config/jobs.py) a worker claims."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    # A reference is "processing" to its users from the start: waiting for a worker and held by
    # one differ only by the lease.
    STATES = JobStates(
        queued=Status.PROCESSING,
        processing=Status.PROCESSING,
        done=Status.READY,
        failed=Status.FAILED,
    )
    LEASE = datetime.timedelta(minutes=5)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="references"
    )
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    video = models.FileField(upload_to=reference_video_path, max_length=255)
    # The trimmed span of the video that holds the one clean repetition.
    trim_start_ms = models.PositiveIntegerField(default=0)
    trim_end_ms = models.PositiveIntegerField(null=True, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    # Landmarks of the trimmed span ({image_width, image_height, frames: [...]}) and the signature.
    landmarks = models.JSONField(null=True, blank=True)
    signature = models.JSONField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.id})"
