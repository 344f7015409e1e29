"""REST endpoints for reference movements."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tenancy
from accounts.api_errors import FailureSerializer
from references import services
from references.models import ReferenceMovement


class SignatureSummarySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    duration_ms = serializers.FloatField(help_text="The trimmed repetition's length.")
    samples = serializers.IntegerField(help_text="Points the movement is resampled to.")
    channels = serializers.ListField(
        child=serializers.CharField(), help_text="The signals a repetition is compared on."
    )
    active_channels = serializers.ListField(
        child=serializers.CharField(), help_text="The signals that move in this reference."
    )
    mirrored = serializers.BooleanField(help_text="Also matched when done on the other side.")


class ReferenceSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField()
    signature_summary = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField()
    upload_url = serializers.SerializerMethodField()

    class Meta:
        model = ReferenceMovement
        fields = [
            "id",
            "name",
            "status",
            "progress",
            "trim_start_ms",
            "trim_end_ms",
            "error",
            "signature_summary",
            "tracking_url",
            "upload_url",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_error(self, reference):
        return reference.failure

    @extend_schema_field(SignatureSummarySerializer(allow_null=True))
    def get_signature_summary(self, reference):
        signature = reference.signature
        if not signature:
            return None
        keys = ("version", "duration_ms", "samples", "channels", "active_channels", "mirrored")
        return {key: signature[key] for key in keys if key in signature}

    def get_tracking_url(self, reference) -> str:
        return f"/pose_tracker/tracking?token=YOUR_TOKEN&reference={reference.pk}"

    def get_upload_url(self, reference) -> str:
        return (
            f"/pose_tracker/upload_tracking?token=YOUR_TOKEN&source=video&reference={reference.pk}"
        )


class ReferenceCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    video = serializers.FileField(
        allow_empty_file=True, help_text="A video holding one clean repetition."
    )
    trim_start_ms = serializers.IntegerField(min_value=0, required=False, default=0)
    trim_end_ms = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class ReferenceRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class ReferenceListCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = PageNumberPagination  # so the schema describes the page, not a bare list

    @extend_schema(responses=ReferenceSerializer(many=True), summary="Your reference movements")
    def get(self, request):
        return tenancy.page_for_org(request, self, ReferenceMovement, ReferenceSerializer)

    @extend_schema(
        request={"multipart/form-data": ReferenceCreateSerializer},
        responses={202: ReferenceSerializer},
        summary="Create a reference movement from a video trimmed to one repetition",
    )
    def post(self, request):
        form = ReferenceCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reference = services.reference_create(
            organization=request.auth.organization,
            name=form.validated_data["name"],
            file=form.validated_data["video"],
            trim_start_ms=form.validated_data["trim_start_ms"],
            trim_end_ms=form.validated_data.get("trim_end_ms"),
            created_by=request.auth.created_by,
        )
        return Response(ReferenceSerializer(reference).data, status=202)


class ReferenceDetailView(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=ReferenceSerializer, summary="A reference movement")
    def get(self, request, reference_id):
        reference = tenancy.get_for_org(
            ReferenceMovement, request.auth.organization, pk=reference_id
        )
        return Response(ReferenceSerializer(reference).data)

    @extend_schema(
        request=ReferenceRenameSerializer, responses=ReferenceSerializer, summary="Rename"
    )
    def patch(self, request, reference_id):
        reference = tenancy.get_for_org(
            ReferenceMovement, request.auth.organization, pk=reference_id
        )
        form = ReferenceRenameSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.reference_rename(reference=reference, name=form.validated_data["name"])
        return Response(ReferenceSerializer(reference).data)

    @extend_schema(responses={204: None}, summary="Delete: the UUID stops working at once")
    def delete(self, request, reference_id):
        reference = tenancy.get_for_org(
            ReferenceMovement, request.auth.organization, pk=reference_id
        )
        services.reference_delete(reference=reference)
        return Response(status=204)
