"""Webhooks: upload callbacks (once an upload is finished, its outcome to its own callback_url)
and session.completed (each result stored for an end user, to the organisation's webhook_url).
A task of its own POSTs each event, retried with backoff; the session or analysis never waits on
a receiver. Both kinds follow the same rules, on rows that are WebhookDelivery models.

Each attempt follows tracking/outbound.py's rules (resolved once, public addresses only, pinned,
cut off at CALLBACK_TIMEOUT_S); redirects are never followed. Requests are signed the Standard
Webhooks way (https://www.standardwebhooks.com/) and with the older X-FormTrack-Signature header.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from config import background
from config.errors import FormTrackError
from tracking import outbound
from tracking.models import SessionResult, Upload, WebhookDelivery

# Queued by their names (config/background.py): the tasks call this module, not the other way.
DELIVERY_TASK = "tracking.tasks.deliver_upload_callback"
SESSION_COMPLETED_TASK = "tracking.tasks.deliver_session_completed"

# While an attempt is in flight its delivery is not due; a worker that died mid-attempt leaves
# it due again after this long (requeue_uploads then queues it).
ATTEMPT_LEASE = datetime.timedelta(minutes=5)
# A retry queued with a countdown may start a little before the stored due time on a worker
# whose clock is slightly behind.
CLOCK_SLACK = datetime.timedelta(seconds=2)
USER_AGENT = "FormTrack-Webhooks/1"
_NAME = "callback_url"


def callback_url_check(url: str, *, name: str = _NAME) -> None:
    """Refuse at upload time a callback that could not be sent now (outbound.AddressRefused).
    Every attempt checks again: what a name resolves to may change in between."""
    outbound.target(url, name=name)
    if not settings.CALLBACK_ALLOW_PRIVATE_HOSTS:
        outbound.public_addresses(url, name=name)


def callback_url_validate(url: str, *, name: str = _NAME) -> None:
    """callback_url_check, as the refusal a client reads: 400 invalid_callback_url. For an
    upload's callback_url, and the organisation's webhook endpoint."""
    try:
        callback_url_check(url, name=name)
    except outbound.AddressRefused as refused:
        raise FormTrackError("invalid_callback_url", refused.message) from refused
    except OSError as error:
        raise FormTrackError("invalid_callback_url", f"{name}'s host does not resolve.") from error


def callback_addresses(url: str) -> list[str]:
    """The addresses `url`'s host resolves to now, once (outbound.public_addresses)."""
    return outbound.public_addresses(url, name=_NAME)


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature`: HMAC-SHA256 of "id.timestamp.body" keyed with
    the base64-decoded part of the whsec_ secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _upload_finished(upload: Upload) -> dict:
    return {
        "type": "upload_finished",
        "uploadId": str(upload.id),
        "status": upload.status,
        "summary": upload.summary,
        "error": upload.failure,
    }


def _session_completed(result: SessionResult) -> dict:
    return {"type": "session.completed", "data": result.as_data()}


@dataclass(frozen=True)
class Hook:
    """An event we deliver: the rows that carry its deliveries, the task that makes an attempt,
    the event's JSON for a row, and where an attempt sends it."""

    model: type[WebhookDelivery]
    task: str
    body: Callable[[WebhookDelivery], dict]
    url: Callable[[WebhookDelivery], str]


UPLOAD_FINISHED = Hook(Upload, DELIVERY_TASK, _upload_finished, lambda upload: upload.callback_url)
# The organisation's endpoint as it is at each attempt: a retry follows it when it moves, and
# stops when there is none any more (the organisation asked for nothing more to be sent).
SESSION_COMPLETED = Hook(
    SessionResult,
    SESSION_COMPLETED_TASK,
    _session_completed,
    lambda result: result.organization.webhook_url,
)
HOOKS = (UPLOAD_FINISHED, SESSION_COMPLETED)


def callback_headers(row: WebhookDelivery, body: bytes) -> dict:
    secret = row.organization.webhook_secret
    # One id per event (an upload, a result): a receiver that sees it again knows it is a retry.
    msg_id = f"msg_{row.pk.hex}"
    timestamp = int(time.time())
    legacy = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
        "X-FormTrack-Signature": f"sha256={legacy}",
    }


@dataclass(frozen=True)
class Outcome:
    status: str  # recorded as callback_status
    delivered: bool = False
    refused: bool = False
    retry: bool = False  # worth trying again later


def _attempt(hook: Hook, row: WebhookDelivery) -> Outcome:
    url = hook.url(row)
    if not url:
        return Outcome("refused: your organisation has no webhook endpoint now", refused=True)
    try:
        addresses = callback_addresses(url)
    except outbound.AddressRefused as refused:
        reason = (
            f"{refused.address} is not a public address" if refused.address else refused.message
        )
        return Outcome(f"refused: {reason}", refused=True)
    except OSError as error:  # DNS down or the name gone: may come back
        return Outcome(f"host did not resolve ({error})", retry=True)
    body = json.dumps(hook.body(row)).encode()
    failure = ""
    with outbound.pinned_connection(
        url, addresses, name=_NAME, timeout_s=settings.CALLBACK_TIMEOUT_S
    ) as (connection, path):
        try:
            connection.request("POST", path, body=body, headers=callback_headers(row, body))
            # Only the status is used: the receiver's body is never read.
            code = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:  # timeouts, resets, TLS, bad replies
            failure = f"{type(error).__name__}: {error}"
    if connection.expired:  # a reply cut short can still parse: its status says nothing
        return Outcome(f"timed out after {settings.CALLBACK_TIMEOUT_S:g} s", retry=True)
    if failure:
        return Outcome(failure, retry=True)
    if 200 <= code < 300:
        return Outcome(f"delivered: HTTP {code}", delivered=True)
    if 300 <= code < 400:
        return Outcome(f"HTTP {code}: redirects are not followed")
    # A server error, a timeout (408) or "slow down" (429) may pass; any other client error (a
    # wrong URL, a signature refused) will not.
    return Outcome(f"HTTP {code}", retry=code >= 500 or code in (408, 429))


def _queue(hook: Hook, row: WebhookDelivery) -> None:
    """Have the row's event delivered once the current transaction commits."""
    if not row.callback_url:
        return
    hook.model.objects.filter(pk=row.pk).update(callback_next_attempt_at=timezone.now())
    background.enqueue(hook.task, str(row.pk))


def upload_callback_queue(upload: Upload) -> None:
    """Have the upload's outcome delivered to its callback_url, if it has one."""
    _queue(UPLOAD_FINISHED, upload)


def session_completed_queue(result: SessionResult) -> None:
    """Have session.completed delivered for a new result, if its organisation has an endpoint."""
    _queue(SESSION_COMPLETED, result)


def callbacks_requeue_overdue(*, overdue_for: datetime.timedelta) -> list:
    """Queue again the deliveries whose task was lost (a broker or an in-process runner
    restarted): due for longer than `overdue_for`. A delivery queued twice is attempted once."""
    overdue = []
    for hook in HOOKS:
        due = hook.model.objects.filter(
            callback_next_attempt_at__lt=timezone.now() - overdue_for
        ).values_list("pk", flat=True)
        for pk in due:
            background.enqueue(hook.task, str(pk))
            overdue.append(pk)
    return overdue


def upload_callback_deliver(*, upload_id) -> float | None:
    return _deliver(UPLOAD_FINISHED, upload_id)


def session_completed_deliver(*, result_id) -> float | None:
    return _deliver(SESSION_COMPLETED, result_id)


def _deliver(hook: Hook, pk) -> float | None:
    """Make the row's delivery attempt if one is due, and record its outcome.

    Returns the seconds until the next attempt (a retry), or None when there is none: delivered,
    given up, or nothing was due (e.g. a second copy of the task).
    """
    rows = hook.model.objects
    now = timezone.now()
    claimed = (
        rows.filter(pk=pk, callback_next_attempt_at__lte=now + CLOCK_SLACK)
        .exclude(callback_url="")
        .update(
            callback_attempts=F("callback_attempts") + 1,
            callback_last_attempt_at=now,
            callback_next_attempt_at=now + ATTEMPT_LEASE,
        )
    )
    if not claimed:
        return None
    row = rows.select_related("organization").filter(pk=pk).first()
    if row is None:  # deleted meanwhile
        return None
    outcome = _attempt(hook, row)
    schedule = settings.CALLBACK_RETRY_SCHEDULE_S
    retry_in = None
    if outcome.retry and row.callback_attempts <= len(schedule):
        retry_in = float(schedule[row.callback_attempts - 1])
        status = f"retrying: {outcome.status}"
    elif outcome.delivered or outcome.refused:
        status = outcome.status
    else:
        status = f"failed after {row.callback_attempts} attempt(s): {outcome.status}"
    rows.filter(pk=pk).update(
        callback_status=status[:200],
        callback_next_attempt_at=timezone.now() + datetime.timedelta(seconds=retry_in)
        if retry_in is not None
        else None,
    )
    return retry_in
