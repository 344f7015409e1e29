"""Background jobs: a row that one worker at a time holds while it works on it.

Uploads (tracking) and reference movements (references) are both analysed this way. The abstract
model sits in config, the layer both apps import, because neither app may hold what the other
needs and accounts is about organisations, not jobs (pyproject.toml: import-linter's layers).

A worker claims a job with one conditional UPDATE, which counts the attempt and leases the job to
it. Every write that follows names that attempt: a worker that stalled past its lease while
another took the job over (fencing) stores nothing, neither progress, nor a failure, nor a result.
"""

import datetime
from dataclasses import dataclass
from typing import ClassVar

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone


@dataclass(frozen=True)
class JobStates:
    """The values of a model's own `status` field (what users and the API see) for each state."""

    queued: str  # waiting for a worker
    processing: str  # held by a worker, or again claimable once its lease ran out
    done: str
    failed: str


class Job(models.Model):
    STATES: ClassVar[JobStates]
    # A worker holds the job this long past its last progress report; then another may take over.
    LEASE: ClassVar[datetime.timedelta]

    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A crashed worker's job can be claimed again once this time has passed.
    lease_until = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (self.STATES.done, self.STATES.failed)

    @property
    def failure(self) -> dict | None:
        """Why the job failed, as its owner reads it (the API, callbacks, the dashboard)."""
        if not self.error_code:
            return None
        return {"code": self.error_code, "message": self.error_message}

    @classmethod
    def claim(cls, pk) -> int | None:
        """Take the job for the calling worker: its attempt number, or None when the job is not
        there to take (finished, deleted, or held by another worker: see `lease_left`).

        A waiting job has no lease; a held one stays claimable once its lease has run out, so a
        worker that died does not leave its job stuck."""
        now = timezone.now()
        with transaction.atomic():  # the UPDATE locks the row: the attempt read back is ours
            claimed = cls._holding(pk, None).update(
                status=cls.STATES.processing,
                started_at=now,
                lease_until=now + cls.LEASE,
                attempts=F("attempts") + 1,
                progress=0,
            )
            if not claimed:
                return None
            return cls._default_manager.filter(pk=pk).values_list("attempts", flat=True).get()

    @classmethod
    def lease_left(cls, pk) -> float | None:
        """Seconds until the worker holding the job loses it; None when no worker holds it."""
        lease_until = (
            cls._default_manager.filter(pk=pk, status=cls.STATES.processing)
            .exclude(lease_until=None)
            .values_list("lease_until", flat=True)
            .first()
        )
        if lease_until is None:
            return None
        return max(0.0, (lease_until - timezone.now()).total_seconds())

    @classmethod
    def release(cls, pk, attempt: int) -> bool:
        """Put the job back in the queue (its attempt hit an error that may pass); False when
        this attempt no longer holds it."""
        return bool(cls._holding(pk, attempt).update(status=cls.STATES.queued, lease_until=None))

    @classmethod
    def _holding(cls, pk, attempt: int | None):
        """The job, while this attempt holds it; with None, while no worker holds it (waiting,
        or its lease run out)."""
        jobs = cls._default_manager.filter(pk=pk)
        if attempt is not None:
            return jobs.filter(status=cls.STATES.processing, attempts=attempt)
        return jobs.filter(
            Q(status=cls.STATES.queued, lease_until__isnull=True)
            | Q(status=cls.STATES.processing, lease_until__lt=timezone.now())
        )

    def report_progress(self, attempt: int, percent: float) -> bool:
        """Record progress (0-99: 100 is for `finish`) and renew the lease; False when this
        attempt no longer holds the job."""
        value = max(0, min(99, int(percent)))
        if not self._holding(self.pk, attempt).update(
            progress=value, lease_until=timezone.now() + self.LEASE
        ):
            return False
        self.progress = value
        return True

    def finish(self, attempt: int, *outcome: str) -> bool:
        """Mark the job done and save the `outcome` fields set on this instance, unless another
        attempt holds the job now. Inside a transaction, the row stays locked until it ends: the
        rest of the outcome written in it after this returned True is the holder's too."""
        return self._store(attempt, {"status": self.STATES.done, "progress": 100}, outcome)

    def fail(self, attempt: int | None, code: str, message: str) -> bool:
        """Mark the job failed with a code and a message for its owner, unless another attempt
        holds the job now. A worker whose claim itself failed (attempt None) fails the job only
        while no worker holds it, so that the job does not wait forever for a worker."""
        failed = {"status": self.STATES.failed, "error_code": code, "error_message": message}
        return self._store(attempt, failed)

    def _store(self, attempt: int | None, changes: dict, outcome: tuple[str, ...] = ()) -> bool:
        now = timezone.now()
        changes = changes | {"finished_at": now, "lease_until": None}
        # One conditional UPDATE: the check that this attempt holds the job and the write are one.
        values = changes | {name: getattr(self, name) for name in outcome}
        # A model's auto_now timestamp (e.g. updated_at) moves with every write, this one too.
        for field in self._meta.concrete_fields:
            if getattr(field, "auto_now", False):
                values[field.name] = changes[field.name] = now
        if not self._holding(self.pk, attempt).update(**values):
            return False
        for name, value in changes.items():
            setattr(self, name, value)
        return True
