"""REST endpoints of the tracking app."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tenancy
from accounts.authentication import bearer_secret
from tracking import services
from tracking.engine.catalog import ALIASES, EXERCISES
from tracking.models import Upload


class ExerciseSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["repetition", "duration", "jump"])
    view = serializers.ChoiceField(choices=["front", "side", "either"])
    aliases = serializers.ListField(child=serializers.CharField())


class ExerciseListView(APIView):
    @extend_schema(responses=ExerciseSerializer(many=True), summary="The exercise catalog")
    def get(self, request):
        aliases: dict[str, list[str]] = {}
        for alias, canonical in sorted(ALIASES.items()):
            aliases.setdefault(canonical, []).append(alias)
        rows = [
            {
                "id": e.id,
                "label": e.label,
                "kind": e.kind,
                "view": e.view,
                "aliases": aliases.get(e.id, []),
            }
            for e in EXERCISES.values()
        ]
        return Response(ExerciseSerializer(rows, many=True).data)


class UploadErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class UploadSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField()
    annotated_url = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()
    progress_ws = serializers.SerializerMethodField()

    class Meta:
        model = Upload
        fields = [
            "id",
            "status",
            "progress",
            "kind",
            "exercise",
            "original_name",
            "size_bytes",
            "duration_s",
            "error",
            "summary",
            "annotated_url",
            "events_url",
            "progress_ws",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(UploadErrorSerializer(allow_null=True))
    def get_error(self, upload):
        if not upload.error_code:
            return None
        return {"code": upload.error_code, "message": upload.error_message}

    def get_annotated_url(self, upload) -> str | None:
        return services.media_link(upload.annotated_file.name) if upload.annotated_file else None

    def get_events_url(self, upload) -> str:
        return reverse("api-upload-events", args=[upload.pk])

    def get_progress_ws(self, upload) -> str:
        return f"/ws/uploads/{upload.pk}?ticket={services.upload_progress_ticket(upload)}"


class UploadCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The video or photo; its type is read from its content.")
    callback_url = serializers.URLField(required=False, help_text="Receives the outcome (POST).")
    exercise = serializers.CharField(required=False)
    reference = serializers.UUIDField(required=False)
    source = serializers.ChoiceField(choices=["video", "image"], required=False)
    export = serializers.BooleanField(required=False)
    keypoints = serializers.BooleanField(required=False)


def _error(code: str, message: str, status: int) -> Response:
    return Response({"type": "error", "code": code, "error": code, "message": message}, status)


class UploadListCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        responses=UploadSerializer(many=True),
        summary="Your organisation's uploads, newest first",
    )
    def get(self, request):
        paginator = PageNumberPagination()
        uploads = tenancy.list_for_org(Upload, request.auth.organization)
        page = paginator.paginate_queryset(uploads, request, view=self)
        return paginator.get_paginated_response(UploadSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadCreateSerializer},
        responses={202: UploadSerializer},
        summary="Upload a video or photo for analysis",
        description="Takes the tracking parameters of /pose_tracker/upload_tracking as form "
        "fields or in the query string. Answers 202 at once; the analysis runs in the background.",
    )
    def post(self, request):
        file = request.FILES.get("file")
        if file is None:
            return _error("missing_file", "Send the video or photo as the 'file' field.", 400)
        query = {key: request.query_params.getlist(key) for key in request.query_params}
        for key in request.data:
            if key not in ("file", "callback_url"):
                query.setdefault(key, []).extend(request.data.getlist(key))
        secret = bearer_secret(request)
        if secret and "token" not in query:
            query["token"] = [secret]
        try:
            access = services.tracking_open(
                query, endpoint="upload", origin=request.headers.get("Origin"), browser=False
            )
            upload = services.upload_create(
                access=access, file=file, callback_url=request.data.get("callback_url", "")
            )
        except services.TrackingRefused as refused:
            return Response(refused.event, refused.status)
        except services.UploadRejected as rejected:
            return _error(rejected.code, rejected.message, rejected.status)
        return Response(UploadSerializer(upload).data, status=202)


class UploadDetailView(APIView):
    @extend_schema(responses=UploadSerializer, summary="An upload's status, progress and summary")
    def get(self, request, upload_id):
        upload = tenancy.get_for_org(Upload, request.auth.organization, pk=upload_id)
        return Response(UploadSerializer(upload).data)

    @extend_schema(responses={204: None}, summary="Delete an upload, its files and its events")
    def delete(self, request, upload_id):
        upload = tenancy.get_for_org(Upload, request.auth.organization, pk=upload_id)
        services.upload_delete(upload=upload)
        return Response(status=204)


class EventPagination(PageNumberPagination):
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


class EventPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = serializers.ListField(
        child=serializers.DictField(), help_text="Events in order; each has a `type`."
    )


class UploadEventsView(APIView):
    @extend_schema(
        responses=EventPageSerializer,
        parameters=[OpenApiParameter("type", str, description="Only events of this type")],
        summary="An upload's event timeline, in order",
    )
    def get(self, request, upload_id):
        upload = tenancy.get_for_org(Upload, request.auth.organization, pk=upload_id)
        events = upload.events.all()
        event_type = request.query_params.get("type")
        if event_type:
            events = events.filter(type=event_type)
        paginator = EventPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response([e.payload for e in page])
