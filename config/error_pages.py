"""Error pages: the API answers in JSON even for URLs it does not know; pages stay HTML. And the
JSON answer of any FormTrackError outside DRF (middlewares, plain Django views)."""

import sys

from django.http import JsonResponse
from django.views import defaults

from config.db_unavailable import DATABASE_ERRORS, service_unavailable_response
from config.errors import FormTrackError


def error_response(error: FormTrackError) -> JsonResponse:
    response = JsonResponse(error.to_event(), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return error_response(
            FormTrackError("not_found", f"No API endpoint at {request.path}: see /api/docs/.", 404)
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):  # outside a view (e.g. a middleware): a 503 as well
        return service_unavailable_response(request, error)
    if request.path.startswith("/api/"):
        return error_response(
            FormTrackError(
                "server_error", "Something went wrong on our side; it has been logged.", 500
            )
        )
    return defaults.server_error(request)
