"""The REST API's error envelope: every error is JSON with `type`, `code` and `message`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

from accounts.authentication import HasApiToken
from config.db_unavailable import DATABASE_ERRORS, service_unavailable_response
from config.error_pages import error_response
from config.errors import FormTrackError


def api_exception_handler(exc, context):
    """Every API error as JSON with `type: error`, a `code` and a `message`: a FormTrackError as
    it is, DRF's own errors (not found, validation, throttling…) turned into one."""
    if isinstance(exc, DATABASE_ERRORS):  # the database is down: 503 with Retry-After
        return service_unavailable_response(context["request"], exc)
    if isinstance(exc, FormTrackError):
        set_rollback()
        return error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    response.data = _as_error(exc, response).to_event()
    return response


def _as_error(exc: exceptions.APIException, response) -> FormTrackError:
    status = response.status_code
    if isinstance(exc, exceptions.NotAuthenticated):
        return FormTrackError("missing_token", HasApiToken.message, status)
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data
        if not isinstance(fields, dict):  # raised by hand with a list: DRF's key for those
            fields = {api_settings.NON_FIELD_ERRORS_KEY: fields}
        message = "The request has invalid fields."
        return FormTrackError("invalid_parameter", message, status, **fields)
    if isinstance(exc, exceptions.Throttled):  # accounts.authentication.TokenBurstThrottle
        message = f"Too many API requests with this token: try again in {exc.wait} s."
        return FormTrackError("rate_limited", message, status, retry_after=exc.wait)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else "error"
    message = str(exc.detail) if isinstance(exc.detail, str) else "Request failed."
    return FormTrackError(code, message, status)


# The schemas of those bodies, for the API's documentation.


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    param = serializers.CharField(
        help_text="The parameter as the request spelled it; a conflict names both (a,b)."
    )
    message = serializers.CharField()


class ErrorDetailsSerializer(serializers.Serializer):
    """What the error carries, when it carries more than its message. An `invalid_parameter`
    refusal of a request's fields has one list of messages per field instead."""

    problems = ProblemSerializer(many=True, required=False, help_text="Every parameter problem.")
    blocked = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Outputs the plan switched off (`developer_features_not_allowed`).",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every refusal (config.errors.FormTrackError.to_event)."""

    type = serializers.CharField(default="error")
    code = serializers.CharField()
    error = serializers.CharField()
    message = serializers.CharField()
    details = ErrorDetailsSerializer(required=False)
    retryAfter = serializers.IntegerField(required=False, help_text="Seconds (rate_limited).")
    param = serializers.CharField(required=False, help_text="The parameter at fault (usage API).")


class FailureSerializer(serializers.Serializer):
    """Why a job (an upload's analysis, a reference's extraction) failed."""

    code = serializers.CharField()
    message = serializers.CharField()
