"""GET and DELETE /api/v1/results: the results stored for end users (tracking/results.py).

Secret keys only, like every endpoint but the upload page's own upload: a publishable key sits in
pages and apps, and these are people's data (403 `secret_key_required`).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_errors import ErrorSerializer
from tracking import privacy, selectors
from tracking.api import EventField, external_id_field
from tracking.models import SessionResult
from tracking.params import ParamsError, Problem, parse_filter


class ResultSerializer(serializers.Serializer):
    """One session's result for one end user (SessionResult.as_data: the webhook's `data` too)."""

    id = serializers.UUIDField()
    external_user_id = external_id_field(help_text="The externalUserId the session was given.")
    kind = serializers.ChoiceField(choices=SessionResult.Kind.values)
    exercise = serializers.CharField(allow_null=True, help_text="A catalog id; null: a reference.")
    reference = serializers.UUIDField(allow_null=True, help_text="The reference movement, if any.")
    upload_id = serializers.UUIDField(allow_null=True, help_text="kind upload: the upload.")
    page_visit = serializers.CharField(
        allow_null=True,
        help_text="kind live, the tracking page: the live sessions of one page visit (its "
        "reconnects) share it.",
    )
    completed_at = serializers.DateTimeField()
    duration_s = serializers.FloatField(allow_null=True, help_text="The exercise's duration.")
    counter = serializers.IntegerField(allow_null=True, help_text="What unit counts.")
    unit = serializers.CharField(
        help_text="What counter counts: reps, seconds (held) or jumps; '' when nothing is."
    )
    average_score = serializers.FloatField(allow_null=True, help_text="0-100.")
    grade = serializers.CharField(allow_null=True, help_text="A to F.")
    degrees = serializers.FloatField(
        allow_null=True, help_text="Range-of-motion assessments: the peak angle, in degrees."
    )
    summary = EventField(
        help_text="The session's summary event as the host received it (exercise_summary or "
        "jump_summary): every field, per-rep history included."
    )

    def to_representation(self, result: SessionResult) -> dict:
        return result.as_data()


class ErasedSerializer(serializers.Serializer):
    external_user_id = external_id_field()
    results_deleted = serializers.IntegerField()
    uploads_deleted = serializers.IntegerField(help_text="With their files and events.")
    links_deleted = serializers.IntegerField(help_text="Single-use links issued for them.")


class ResultPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


EXTERNAL_USER_ID_DOC = "Your id of the person (the externalUserId the sessions were given)."
_FILTERS = [
    OpenApiParameter("externalUserId", OpenApiTypes.STR, description=EXTERNAL_USER_ID_DOC),
    OpenApiParameter(
        "exercise", OpenApiTypes.STR, description="A catalog id (or legacy alias) only."
    ),
    OpenApiParameter(
        "from",
        OpenApiTypes.STR,
        description="Completed at or after: a date (2026-03-01, from midnight UTC) or a "
        "date-time (2026-03-01T08:00:00Z).",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.STR,
        description="Completed before: a date-time, or a date (that whole day included, UTC).",
    ),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="Up to 500 (default 50)."),
]
_SECRET_ONLY = OpenApiResponse(
    ErrorSerializer,
    description="`secret_key_required`: a publishable key (these are people's data).",
)


class ResultsView(APIView):
    pagination_class = ResultPagination  # so the schema describes the page, not a bare list

    @extend_schema(
        summary="Results stored for your end users, newest first",
        description="Each live session and upload given an externalUserId leaves its summary "
        "here (no call of the quota), kept for your organisation's retention (default 365 "
        "days). Filter by end user, exercise and time.",
        parameters=_FILTERS,
        responses={
            200: ResultSerializer(many=True),
            400: OpenApiResponse(
                ErrorSerializer,
                description="`invalid_parameter` (a bad externalUserId, from or to) or "
                "`invalid_exercise`.",
            ),
            403: _SECRET_ONLY,
        },
    )
    def get(self, request):
        query = selectors.results_query_parse(request.query_params)
        results = selectors.results_of(organization=request.auth.organization, query=query)
        paginator = ResultPagination()
        page = paginator.paginate_queryset(results, request, view=self)
        return paginator.get_paginated_response(ResultSerializer(page, many=True).data)

    @extend_schema(
        summary="Erase one end user's data (GDPR)",
        description="Deletes every result stored for this externalUserId in your organisation, "
        "their uploads (files, events) and the single-use links issued for them. Another "
        "organisation's end user of the same id is untouched.",
        parameters=[
            OpenApiParameter(
                "externalUserId", OpenApiTypes.STR, required=True, description=EXTERNAL_USER_ID_DOC
            )
        ],
        responses={
            200: ErasedSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="`invalid_parameter`: no or a bad externalUserId."
            ),
            403: _SECRET_ONLY,
        },
    )
    def delete(self, request):
        value = selectors.query_value(request.query_params, "externalUserId")
        if not value.strip():
            text = "Name the end user to erase: DELETE /api/v1/results?externalUserId=…"
            raise ParamsError([Problem("invalid_parameter", "externalUserId", text)])
        external_user_id = parse_filter("externalUserId", value)
        erased = privacy.end_user_erase(
            organization=request.auth.organization, external_user_id=external_user_id
        )
        data = {
            "external_user_id": external_user_id,
            "results_deleted": erased.results,
            "uploads_deleted": erased.uploads,
            "links_deleted": erased.links,
        }
        return Response(ErasedSerializer(data).data)
