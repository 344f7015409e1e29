"""The two tracking pages that host apps embed."""

import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_safe

from accounts.origins import origin_of, request_origin
from config.ratelimit import client_ip
from tracking import links, services
from tracking.engine.catalog import EXERCISES
from tracking.pose import media
from tracking.services import TrackingRefused, tracking_open

# Served file names are ours (source, annotated, timeline...): anything else is not echoed back.
_SAFE_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}")


@xframe_options_exempt
@require_GET
def tracking_page(request):
    return _tracking_page(request, endpoint="tracking", template="tracking/page.html")


@xframe_options_exempt
@require_GET
def upload_tracking_page(request):
    return _tracking_page(request, endpoint="upload", template="tracking/upload.html")


def _tracking_page(request, *, endpoint, template):
    try:
        access = tracking_open(
            request.GET,
            endpoint=endpoint,
            origin=request_origin(request),
            via="page",
            client_ip=client_ip(request),
        )
    except TrackingRefused as refused:
        context = {
            "status": refused.status,
            "problems": refused.problems,
            "lang": refused.language,
            "bridge_config": {"initialEvents": [refused.event]},
        }
        response = render(request, "tracking/refused.html", context, status=refused.status)
        if refused.retry_after:
            response["Retry-After"] = str(refused.retry_after)
        return _embeddable(response, allowed_origins=[])

    params = access.params
    # Posted to the host as the page starts: what the plan switched off, what was ignored.
    initial_events = [event for event in (params.blocked_event(), params.warning_event()) if event]
    origin = origin_of(request_origin(request) or "")
    context = {
        "params": params,
        "blocked": params.blocked,
        "lang": params.language,
        "exercise_label": EXERCISES[params.exercise].label if params.exercise else "",
        "bridge_config": {
            "params": params.to_config(),
            "initialEvents": initial_events,
            # With an allow-list, events go only to the (checked) embedding origin, never to "*".
            "parentOrigin": origin if access.token.allowed_origins else "*",
            "callsLeft": access.calls_left,
            # What the page's own socket and uploads present to be let in: the parameters and key.
            "accessQuery": params.to_query(),
        },
    }
    if access.link is not None:
        # Opened from a single-use link: no token anywhere in the page. Its socket and its uploads
        # present a ticket bound to the link instead; the link holds the parameters.
        ticket = links.ticket_issue(access.link)
        context["bridge_config"] |= {"ticket": ticket, "accessQuery": urlencode({"ticket": ticket})}
    response = render(request, template, context)
    if access.link is not None:
        response["Cache-Control"] = "no-store"  # its ticket stays in this one page
    return _embeddable(response, access.token.allowed_origins)


def _embeddable(response, allowed_origins):
    """Tracking pages live in other apps' iframes: only the token's origins may frame them, and
    the token in our URL must never leave as a Referer."""
    ancestors = " ".join(allowed_origins) if allowed_origins else "*"
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
def media_file(request, signed):
    """Serve a stored upload or export behind a signed, expiring link.

    Uploaded bytes are the client's: they are served as the video or image type they show, or
    else as a download, and never as anything a browser renders as a page on our origin (the
    type comes from the bytes, not the stored name: files stored before names were sniffed may
    end in .html). A sandbox policy and nosniff hold even if a browser thinks otherwise.
    """
    name = services.media_link_resolve(signed)
    if name is None or not default_storage.exists(name):
        raise Http404("This link is invalid or has expired.")
    media_origin = origin_of(settings.MEDIA_URL)
    media_host = urlsplit(media_origin).hostname if media_origin else None
    if media_host and urlsplit(f"//{request.get_host()}").hostname != media_host:
        # Our own pages ask their own host: the same signed link, on the media host, so nothing
        # uploaded is ever served on the origin that holds the session.
        return redirect(media_origin + request.get_full_path())
    try:
        content = default_storage.open(name, "rb")
    except IsADirectoryError:  # a link forged with a known key may name a folder
        raise Http404("This link is invalid or has expired.") from None
    media_type = media.served_media_type(content)
    stem = Path(name).stem
    stem = stem if _SAFE_STEM.fullmatch(stem) else "media"
    if media_type is None:
        response = FileResponse(
            content,
            content_type="application/octet-stream",
            as_attachment=True,
            filename=f"{stem}.bin",
        )
        response["Cross-Origin-Resource-Policy"] = "same-origin"
    else:
        response = FileResponse(
            content, content_type=media_type.mime, filename=f"{stem}.{media_type.extension}"
        )
        # Host apps show the annotated video or photo in their own pages: the signed link is
        # the permission, as with any media CDN link.
        response["Cross-Origin-Resource-Policy"] = "cross-origin"
    if media_origin:
        # Its links carry their own permission and the host no cookies: our pages on the app's
        # origin may read a timeline (fetch) they were redirected to.
        response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    if request.method == "HEAD":
        # The same headers (type, length, disposition) without reading the file.
        response.streaming_content = []
    return response
