"""An end user's data: erased on request (GDPR), and pruned past its organisation's retention.

What FormTrack keeps of a person the host names with `externalUserId`: their results
(SessionResult), their uploads (the file, what the analysis made of it, its events) and, for
minutes, the single-use links issued for them. Live sessions keep no video at all. Each
organisation keeps results `result_retention_days` (default 365); `end_user_data_prune` runs daily
from Celery beat (config/settings.py, CELERY_BEAT_SCHEDULE).
"""

import datetime
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts import tenancy
from accounts.models import Organization
from tracking import uploads
from tracking.models import SessionResult, TrackingLink, Upload


@dataclass(frozen=True)
class Erased:
    results: int
    uploads: int
    links: int


def end_user_erase(*, organization: Organization, external_user_id: str) -> Erased:
    """Delete everything `organization` keeps of one end user; another organisation's end user
    of the same id is someone else, and keeps theirs.

    One transaction, their uploads locked first: a worker storing the analysis of one of them
    has committed its result before (deleted here with the others) or waits, then finds its
    upload gone and stores nothing. A session still running stores its result when it ends."""
    with transaction.atomic():
        their_uploads = list(
            tenancy.list_for_org(Upload, organization)
            .filter(external_user_id=external_user_id)
            .select_for_update()
        )
        files = [name for upload in their_uploads for name in upload.stored_files]
        tenancy.list_for_org(Upload, organization).filter(
            pk__in=[upload.pk for upload in their_uploads]
        ).delete()
        results, _ = (
            tenancy.list_for_org(SessionResult, organization)
            .filter(external_user_id=external_user_id)
            .delete()
        )
        links = _links_naming(organization, external_user_id)
        TrackingLink.objects.filter(pk__in=links).delete()
    # Once the rows are gone for good: the files of a row that stayed would be lost.
    for name in files:
        default_storage.delete(name)
    return Erased(results=results, uploads=len(their_uploads), links=len(links))


def _links_naming(organization: Organization, external_user_id: str) -> list:
    """The organisation's single-use links whose parameters name this end user."""
    pair = urlencode({"externalUserId": external_user_id})
    candidates = tenancy.list_for_org(TrackingLink, organization).filter(query__contains=pair)
    return [
        link.pk
        for link in candidates
        if ("externalUserId", external_user_id) in parse_qsl(link.query)
    ]


def end_user_data_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete, in every organisation, the results and end users' uploads older than its
    retention: what completed (or was uploaded) `result_retention_days` ago or earlier. Returns
    how many rows went."""
    now = now or timezone.now()
    pruned = 0
    retentions = Organization.objects.values_list("result_retention_days", flat=True).distinct()
    for days in retentions:
        cutoff = now - datetime.timedelta(days=days)
        in_scope = {"organization__result_retention_days": days}
        deleted, _ = SessionResult.objects.filter(**in_scope, completed_at__lte=cutoff).delete()
        pruned += deleted
        expired = Upload.objects.filter(**in_scope, created_at__lte=cutoff).exclude(
            external_user_id=""
        )
        for upload in expired:
            uploads.upload_delete(upload=upload)
            pruned += 1
    return pruned
