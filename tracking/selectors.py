"""Reads of the tracking app (writes live in services.py)."""

from tracking.authentication import PageTicket, UploadTicket
from tracking.models import Upload


def uploads_visible_to(auth):
    """The uploads an API caller may see, to narrow further through accounts.tenancy: all of an
    API token's organisation, or only its own for an upload page opened from a single-use link."""
    if isinstance(auth, PageTicket):
        return Upload.objects.filter(link=auth.link)
    if isinstance(auth, UploadTicket):
        return Upload.objects.filter(pk=auth.upload.pk)
    return Upload.objects.all()
