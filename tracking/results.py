"""Results that outlive the page: a session's summary stored for one end user.

A host that passes `externalUserId` (tracking/param_table.py) gets each session's summary kept for
its organisation: live sessions when they end (tracking/live.py), uploads when their analysis is
done (tracking/uploads.py), and workouts and assessments through `result_record`. Each result is
announced to the organisation's webhook endpoint as session.completed (tracking/webhooks.py).
Storing one takes no call of the quota. Erasure and retention: tracking/privacy.py.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from tracking import webhooks
from tracking.models import SessionResult, Upload

# The events that sum a session up, in the engine's words (tracking/engine/events.py).
SUMMARY_TYPES = ("exercise_summary", "jump_summary", "workout_summary", "rom_summary")


def session_summary(events: list[dict]) -> dict | None:
    """The last summary event among a session's events, or None (pose tracking, a photo)."""
    return next((e for e in reversed(events) if e.get("type") in SUMMARY_TYPES), None)


@dataclass(frozen=True)
class Figures:
    """What a result's charts and lists show, read once from its summary."""

    counter: int | None = None
    unit: str = ""
    average_score: float | None = None
    grade: str = ""
    duration_s: float | None = None
    degrees: float | None = None  # an assessment's best angle

    @classmethod
    def of(cls, summary: dict) -> "Figures":
        duration_ms = summary.get("durationMs")
        duration_s = round(duration_ms / 1000, 3) if _is_number(duration_ms) else None
        if summary.get("type") == "jump_summary":
            jumps = summary.get("totalJumps")
            return cls(counter=jumps if _is_number(jumps) else None, unit="jumps")
        if summary.get("type") == "rom_summary":
            peaks = [r.get("degrees") for r in summary.get("results") or [] if isinstance(r, dict)]
            peaks = [float(p) for p in peaks if _is_number(p)]
            return cls(unit="degrees", duration_s=duration_s, degrees=max(peaks, default=None))
        counter, score = summary.get("counter"), summary.get("average_score")
        return cls(
            counter=int(counter) if _is_number(counter) else None,
            unit=str(summary.get("unit") or ""),
            average_score=float(score) if _is_number(score) else None,
            grade=str(summary.get("grade") or ""),
            duration_s=duration_s,
        )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def result_record(
    *,
    org: Organization,
    external_user_id: str,
    kind: str,
    exercise: str = "",
    summary: dict,
    reference: uuid.UUID | None = None,
    upload: Upload | None = None,
    page_visit: str = "",
    duration_s: float | None = None,
    degrees: float | None = None,
    completed_at=None,
) -> SessionResult:
    """Store one session's summary for an end user, and have session.completed sent to the
    organisation's webhook endpoint (if it has one) once the transaction commits.

    `external_user_id` must be one the parser accepted (TrackingParams.external_user_id);
    `kind` a SessionResult.Kind. The figures are read from `summary` (one of SUMMARY_TYPES: an
    assessment's `degrees` is its best angle); `duration_s` and `degrees` given here take
    precedence.
    """
    figures = Figures.of(summary)
    with transaction.atomic():
        result = SessionResult.objects.create(
            organization=org,
            external_user_id=external_user_id,
            kind=kind,
            exercise=exercise or "",
            reference=reference,
            upload=upload,
            page_visit=page_visit,
            completed_at=completed_at or timezone.now(),
            duration_s=duration_s if duration_s is not None else figures.duration_s,
            counter=figures.counter,
            unit=figures.unit,
            average_score=figures.average_score,
            grade=figures.grade,
            degrees=degrees if degrees is not None else figures.degrees,
            summary=summary,
            callback_url=org.webhook_url,
        )
        webhooks.session_completed_queue(result)
    return result
