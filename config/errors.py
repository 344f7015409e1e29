"""Error pages: the API answers in JSON even for URLs it does not know; pages stay HTML."""

import sys

from django.http import JsonResponse
from django.views import defaults

from config.db_unavailable import DATABASE_ERRORS, service_unavailable_response


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "type": "error",
                "code": "not_found",
                "error": "not_found",
                "message": f"No API endpoint at {request.path}: see /api/docs/.",
            },
            status=404,
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):  # outside a view (e.g. a middleware): a 503 as well
        return service_unavailable_response(request, error)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "type": "error",
                "code": "server_error",
                "error": "server_error",
                "message": "Something went wrong on our side; it has been logged.",
            },
            status=500,
        )
    return defaults.server_error(request)
