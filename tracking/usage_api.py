"""GET /api/v1/usage: the organisation's usage for a date range, grouped one way.

Every plan gets the summary: totals and `group_by=day`. The team report (`group_by=token`,
`member`, `exercise` or `kind`) needs the `team_reports` feature (Business plan); other plans get
403 `team_reports_not_allowed`. Rows come from the same selector as the dashboard and its CSV.
It lives in tracking, not accounts, because its rows name exercises from the tracking catalog.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.api import OrganizationSummarySerializer
from accounts.api_errors import ErrorSerializer
from config.errors import FormTrackError
from tracking.engine.catalog import exercise_label


class UsageRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Day (YYYY-MM-DD), token id, user id, exercise or kind.")
    label = serializers.CharField()
    calls = serializers.IntegerField()
    seconds_tracked = serializers.FloatField()
    minutes_tracked = serializers.FloatField()
    token_prefix = serializers.CharField(required=False, help_text="group_by=token only.")


class UsageTotalsSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    seconds_tracked = serializers.FloatField()
    minutes_tracked = serializers.FloatField()
    active_days = serializers.IntegerField()


class UsageReportSerializer(serializers.Serializer):
    organization = OrganizationSummarySerializer()
    plan = serializers.CharField()
    report = serializers.ChoiceField(choices=["summary", "full"])
    group_by = serializers.ChoiceField(choices=selectors.GROUPS)
    available_group_by = serializers.ListField(child=serializers.CharField())
    to = serializers.DateField()
    totals = UsageTotalsSerializer()
    rows = UsageRowSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()  # a Python keyword, so declared here
        return fields


class UsageView(APIView):
    @extend_schema(
        summary="Usage for a date range: calls and minutes tracked, grouped",
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="First day (inclusive). Default: the first day of this month.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                description="Last day (inclusive). Default: today. At most 366 days after `from`.",
            ),
            OpenApiParameter(
                "group_by",
                OpenApiTypes.STR,
                enum=list(selectors.GROUPS),
                description="day (every plan) or token, member, exercise, kind (Business plan).",
            ),
        ],
        responses={
            200: UsageReportSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="`invalid_parameter`: bad from, to or group_by."
            ),
            403: OpenApiResponse(
                ErrorSerializer,
                description="`team_reports_not_allowed`: group_by other than day below Business.",
            ),
        },
    )
    def get(self, request):
        org = request.auth.organization
        query = selectors.usage_query_parse(request.query_params)
        full = org.plan_obj.allows("team_reports")
        if not selectors.usage_group_allowed(organization=org, group_by=query.group_by):
            raise FormTrackError(
                "team_reports_not_allowed",
                f"group_by={query.group_by} is part of the team report of the Business plan; "
                f"your {org.plan_obj.name} plan gets totals and group_by=day.",
                403,
            )
        rows = selectors.usage_report(organization=org, query=query, exercise_label=exercise_label)
        data = {
            "organization": {"id": org.pk, "name": org.name},
            "plan": org.plan_obj.id,
            "report": "full" if full else "summary",
            "group_by": query.group_by,
            "available_group_by": list(selectors.GROUPS if full else selectors.SUMMARY_GROUPS),
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "totals": selectors.usage_totals(organization=org, query=query).to_dict(),
            "rows": [row.to_dict() for row in rows],
        }
        return Response(data)
