"""When the database cannot be reached: a clear 503 with Retry-After, never a 500 or a traceback.

The API answers with its error envelope (`code: service_unavailable`), pages with a small HTML page.
The broken connection is closed on the way out, so the first request after the database is back
works again, with nothing to restart.
"""

import logging

from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.http import HttpResponse, JsonResponse

from config.errors import FormTrackError

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 15
CODE = "service_unavailable"
MESSAGE = "The service is briefly unavailable (its database cannot be reached). Try again shortly."
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_AFTER_S}">
<title>FormTrack is briefly unavailable</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto">
<h1>Briefly unavailable</h1>
<p>FormTrack cannot reach its database right now.
This page tries again in {RETRY_AFTER_S} seconds.</p>
</body></html>
"""


def service_unavailable() -> FormTrackError:
    """The error (API body and WebSocket event) for an unreachable database."""
    return FormTrackError(CODE, MESSAGE, 503, retry_after=RETRY_AFTER_S)


def discard_broken_connections() -> None:
    """Close connections the database dropped, so the next request opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            if connection.connection is not None and not connection.is_usable():
                connection.close()
        except DATABASE_ERRORS:
            pass
    close_old_connections()


def service_unavailable_response(request, error: Exception) -> HttpResponse:
    logger.warning("Database unavailable (%s %s): %s", request.method, request.path, error)
    discard_broken_connections()
    if request.path.startswith("/api/"):
        response = JsonResponse(service_unavailable().to_event(), status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database connection error raised by a view into a 503 (see the module docstring).
    Raised elsewhere (a middleware), it reaches handler500, config.error_pages.server_error, which
    answers the same 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            return service_unavailable_response(request, exception)
        return None
