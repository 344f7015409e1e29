"""The REST API's error envelope: every error is JSON with `type`, `code` and `message`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler

from accounts.authentication import ApiAccessFailed, HasApiToken
from config.db_unavailable import DATABASE_ERRORS, service_unavailable_response


def api_exception_handler(exc, context):
    """Every API error as JSON with `type: error`, a `code` and a `message`."""
    if isinstance(exc, DATABASE_ERRORS):  # the database is down: 503 with Retry-After
        return service_unavailable_response(context["request"], exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated):
        code, message = "missing_token", HasApiToken.message
    elif isinstance(exc, ApiAccessFailed):
        code, message = exc.error_code, str(exc.detail)
    elif isinstance(exc, exceptions.ValidationError):
        code, message = "invalid_parameter", "The request has invalid fields."
    elif isinstance(exc, exceptions.Throttled):  # accounts.authentication.TokenBurstThrottle
        code = "rate_limited"
        message = f"Too many API requests with this token: try again in {exc.wait} s."
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        code = codes if isinstance(codes, str) else "error"
        message = str(exc.detail) if isinstance(exc.detail, str) else "Request failed."
    body = {"type": "error", "code": code, "error": code, "message": message}
    if isinstance(exc, exceptions.ValidationError):
        body["details"] = response.data
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retryAfter"] = exc.wait
    response.data = body
    return response
