"""Signed, expiring links to stored files (/files/…): they work without the API token, e.g. in a
<video> tag, and the signature is the permission itself (config/redaction.py keeps it out of logs).
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from accounts.origins import origin_of

MEDIA_LINK_SALT = "formtrack.media-link"


def media_link(storage_name: str) -> str:
    """A link to a stored file. It points at the media host when MEDIA_URL names one (an absolute
    URL on a cookie-less domain: docs/deploy.md), else at SITE_URL."""
    signed = signing.dumps(storage_name, salt=MEDIA_LINK_SALT)
    base = origin_of(settings.MEDIA_URL) or settings.SITE_URL.rstrip("/")
    return base + reverse("media-file", args=[signed])


def media_link_resolve(signed: str) -> str | None:
    """The storage name a link stands for; None when forged or expired."""
    try:
        return signing.loads(signed, salt=MEDIA_LINK_SALT, max_age=settings.MEDIA_LINK_MAX_AGE_S)
    except signing.BadSignature:
        return None
