"""REST endpoints of the accounts app."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors


class PlanSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    max_references = serializers.IntegerField(allow_null=True)


class QuotaSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    left = serializers.IntegerField()


class OrganizationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TokenSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's visible start, as the dashboard shows it.")


class MeSerializer(serializers.Serializer):
    organization = OrganizationSummarySerializer()
    token = TokenSummarySerializer()
    plan = PlanSerializer()
    quota = QuotaSerializer()


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The token's organisation, plan and quota")
    def get(self, request):
        token = request.auth
        org = token.organization
        plan = org.plan_obj
        quota = selectors.quota_status(organization=org)
        data = {
            "organization": {"id": org.pk, "name": org.name},
            "token": {"name": token.name, "prefix": token.prefix},
            "plan": {
                "id": plan.id,
                "name": plan.name,
                "features": sorted(plan.features),
                "max_references": plan.max_references,
            },
            "quota": {"limit": quota.limit, "used": quota.used, "left": quota.left},
        }
        return Response(MeSerializer(data).data)
