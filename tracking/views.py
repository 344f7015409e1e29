"""The two tracking pages that host apps embed."""

import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from accounts.origins import from_own_site, origin_of, request_origin
from accounts.services import token_note_page_open
from config.errors import FormTrackError
from config.ratelimit import client_ip
from tracking import links
from tracking.access import TrackingRefused, tracking_open
from tracking.engine.catalog import EXERCISES
from tracking.live import PAGE_VISIT_PARAM, page_visit_issue
from tracking.media_links import media_link_resolve
from tracking.page_text import page_text
from tracking.pose import media

# Served file names are ours (source, annotated, timeline...): anything else is not echoed back.
_SAFE_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}")
# One byte range (RFC 9110 §14.1.2): what browsers ask of a video to seek in it.
_BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_RANGE_CHUNK_BYTES = 64 * 1024


@xframe_options_exempt
@require_safe
def tracking_page(request):
    return _tracking_page(request, endpoint="tracking", template="tracking/page.html")


@xframe_options_exempt
@require_safe
def upload_tracking_page(request):
    return _tracking_page(request, endpoint="upload", template="tracking/upload.html")


def _tracking_page(request, *, endpoint, template):
    """GET, or HEAD (the same answer without its body) for a page opened with a token: opening a
    single-use link uses it up, which a safe method must not do."""
    if request.method == "HEAD" and links.credential_name(request.GET) == "session":
        return HttpResponseNotAllowed(["GET"])
    try:
        access = tracking_open(
            request.GET,
            endpoint=endpoint,
            origin=request_origin(request),
            via="page",
            client_ip=client_ip(request),
        )
    except FormTrackError as error:
        return _refused_page(request, error)
    token_note_page_open(access.token, from_own_site=from_own_site(request))

    params = access.params
    # Posted to the host as the page starts: what the plan switched off, what was ignored.
    initial_events = [event for event in (params.blocked_event(), params.warning_event()) if event]
    origin = origin_of(request_origin(request) or "")
    exercise = EXERCISES[params.exercise] if params.exercise else None
    kind = exercise.kind if exercise else "repetition"
    # A workout's page starts on its first step, or on workoutFrom's.
    first_step = params.workout_from.step - 1 if params.workout_from else 0
    if access.workout is not None:
        kind = access.workout.steps[first_step].kind
    context = {
        "params": params,
        "blocked": params.blocked,
        "lang": params.language,
        "exercise_label": exercise.label if exercise else "",
        # What the live page counts: reps (exercises and references), seconds held, or jumps.
        "exercise_kind": kind,
        # The live page's model in the browser (scripts/install_models.sh builds it).
        "pose_model": f"vendor/mediapipe/models/pose_landmarker_{params.mediapipe_model}.task",
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
    if endpoint == "tracking":
        # The live page's reconnects are one page visit, which takes one call (docs/protocol.md).
        page_visit = urlencode({PAGE_VISIT_PARAM: page_visit_issue(access.token)})
        context["bridge_config"]["accessQuery"] += "&" + page_visit
    with translation.override(params.language):
        context["page_text"] = page_text(endpoint, params.exercise)
        if access.workout is not None:
            workout = _workout_config(access.workout)
            context["bridge_config"]["workout"] = workout
            context["exercise_label"] = workout["steps"][first_step]["label"]
        response = render(request, template, context)
    if access.link is not None:
        response["Cache-Control"] = "no-store"  # its ticket stays in this one page
    return _embeddable(response, access.token.allowed_origins)


def _workout_config(workout) -> dict:
    """The workout as the live page shows it before its events come: each step with its label
    (in the page's language) and what it counts."""
    steps = []
    for index, step in enumerate(workout.steps, 1):
        label = EXERCISES[step.exercise].label if step.exercise else gettext("Reference movement")
        steps.append({"index": index, **step.to_dict(), "label": label, "kind": step.kind})
    return {
        "id": str(workout.id) if workout.id else None,
        "name": workout.name,
        "steps": steps,
    }


# What a refused page tells the person: try again later, start again from the app (a single-use
# link that was used or has expired), or else that the app is not set up, for its team to fix.
_LATER_STATUSES = {429, 503}
_RESTART_CODES = {"invalid_session", "session_expired", "session_used"}


def _refused_page(request, error: FormTrackError):
    """Why tracking cannot start: a sentence for the person, and each problem for the app's
    developer in the `error` event the page posts to the host (and logs to the console)."""
    refused = error if isinstance(error, TrackingRefused) else TrackingRefused(error)
    if refused.status in _LATER_STATUSES:
        reason = "later"
    elif refused.code in _RESTART_CODES:
        reason = "restart"
    else:
        reason = "setup"
    context = {
        "reason": reason,
        "status": refused.status,
        "problems": refused.problems,
        "lang": refused.language,
        "bridge_config": {"initialEvents": [refused.to_event()]},
    }
    with translation.override(refused.language):
        response = render(request, "tracking/refused.html", context, status=refused.status)
    if refused.retry_after is not None:
        response["Retry-After"] = str(refused.retry_after)
    return _embeddable(response, allowed_origins=[])


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
    name = media_link_resolve(signed)
    if name is None or not default_storage.exists(name):
        raise Http404("This link is invalid or has expired.")
    media_origin = origin_of(settings.MEDIA_URL)
    media_host = urlsplit(media_origin).hostname if media_origin else None
    if media_host and urlsplit(f"//{request.get_host()}").hostname != media_host:
        # Our own pages ask their own host: the same signed link, on the media host, so nothing
        # uploaded is ever served on the origin that holds the dashboard's Django session.
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
        response = _media_response(
            request, content, media_type.mime, f"{stem}.{media_type.extension}"
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


def _media_response(request, content, mime: str, filename: str):
    """The whole file, or the one byte range asked for (206): a video whose server answers
    ranges can be seeked in before it has all loaded, and browsers seek nowhere else."""
    size = content.size
    asked = _BYTE_RANGE.fullmatch(request.headers.get("Range", "").strip())
    if asked is None or asked[0] == "bytes=-":
        response = FileResponse(content, content_type=mime, filename=filename)
    else:
        first, last = asked.groups()
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start > end or start >= size:
            content.close()
            response = HttpResponse(status=416, content_type=mime)
            response["Content-Range"] = f"bytes */{size}"
            return response
        content.seek(start)
        response = StreamingHttpResponse(
            _chunks(content, end - start + 1), status=206, content_type=mime
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Accept-Ranges"] = "bytes"
    return response


def _chunks(content, length: int):
    try:
        while length > 0:
            chunk = content.read(min(_RANGE_CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        content.close()
