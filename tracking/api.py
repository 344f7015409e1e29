"""REST endpoints of the tracking app."""

from collections.abc import Mapping

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import errors, tenancy
from accounts.authentication import ApiTokenAuthentication, bearer_secret
from accounts.models import ApiToken
from accounts.origins import foreign_origin
from tracking import links, selectors, services
from tracking.authentication import (
    HasApiTokenOrPageTicket,
    PageTicket,
    PageTicketAuthentication,
    UploadTicketAuthentication,
)
from tracking.engine.catalog import ALIASES, EXERCISES
from tracking.models import TrackingLink, Upload
from tracking.param_table import ENDPOINTS, MAX_VALUE_CHARS, PARAMETERS, Parameter
from tracking.params import LANGUAGE_TAG


class ExerciseSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["repetition", "duration", "jump"])
    category = serializers.ChoiceField(
        choices=["strength", "hold", "flexibility", "wellness", "physical_test", "jump"]
    )
    view = serializers.ChoiceField(choices=["front", "side", "either"])
    aliases = serializers.ListField(child=serializers.CharField())
    outputs = serializers.ListField(
        child=serializers.CharField(),
        help_text="The events its sessions send (keypoints and angles when asked for); "
        "counter.analysis: a physical test's counter carries an analysis object.",
    )


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
                "category": e.category,
                "view": e.view,
                "aliases": aliases.get(e.id, []),
                "outputs": list(e.outputs),
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
    timeline_url = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()
    progress_ws = serializers.SerializerMethodField()
    ticket = serializers.SerializerMethodField()

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
            "timeline_url",
            "events_url",
            "progress_ws",
            "ticket",
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
        """The annotated MP4 (videos analysed with export=true) or the PNG overlay (photos)."""
        return services.media_link(upload.annotated_file.name) if upload.annotated_file else None

    def get_timeline_url(self, upload) -> str | None:
        """A video's poses and counter per analysed frame, to draw over the original (JSON)."""
        return services.media_link(upload.timeline_file.name) if upload.timeline_file else None

    def get_events_url(self, upload) -> str:
        return reverse("api-upload-events", args=[upload.pk])

    def get_progress_ws(self, upload) -> str:
        return f"/ws/uploads/{upload.pk}?ticket={services.upload_progress_ticket(upload)}"

    def get_ticket(self, upload) -> str:
        """Reads this one upload and its events without a secret key (`?upload_ticket=`), for a
        page that uploaded with a publishable key; valid 24 hours."""
        return services.upload_progress_ticket(upload)


def _parameter_field(parameter: Parameter) -> serializers.Field:
    """The schema of one tracking parameter (tracking/param_table.py). Only documentation: the
    parser reads the values, and gives a loose one its default with a warning."""
    options = {"required": False, "help_text": parameter.doc}
    if parameter.kind == "boolean":
        return serializers.BooleanField(**options)
    if parameter.kind in ("integer", "number"):
        return serializers.FloatField(min_value=parameter.low, max_value=parameter.high, **options)
    if parameter.kind in ("choice", "exercise"):
        choices = [*parameter.values, *parameter.legacy_spellings]
        return serializers.ChoiceField(choices=choices, **options)
    if parameter.kind == "uuid":
        return serializers.UUIDField(**options)
    if parameter.kind == "url":
        return serializers.URLField(**options)
    if parameter.kind == "language":
        return serializers.RegexField(rf"^{LANGUAGE_TAG.pattern}$", **options)
    return serializers.CharField(max_length=MAX_VALUE_CHARS, **options)


def _parameters_serializer(name: str, endpoints: tuple[str, ...], **fields) -> type:
    """A serializer of every tracking parameter the endpoints read (the token aside: it goes in
    the Authorization header), plus `fields`."""
    parameters = {
        parameter.name: _parameter_field(parameter)
        for parameter in PARAMETERS
        if parameter.kept
        and set(parameter.endpoints) & set(endpoints)
        and parameter.name != "token"
    }
    return type(name, (serializers.Serializer,), {**parameters, **fields})


UploadCreateSerializer = _parameters_serializer(
    "UploadCreateSerializer",
    ("upload",),
    file=serializers.FileField(help_text="The video or photo; its type is read from its content."),
    callback_url=serializers.URLField(required=False, help_text="Receives the outcome (POST)."),
)


class ApiErrorSerializer(serializers.Serializer):
    type = serializers.CharField(default="error")
    code = serializers.CharField()
    error = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(required=False, help_text="e.g. every parameter problem.")
    retryAfter = serializers.IntegerField(required=False, help_text="Seconds (rate_limited).")


def _error(code: str, message: str, status: int) -> Response:
    return Response({"type": "error", "code": code, "error": code, "message": message}, status)


class _UploadApi(APIView):
    """Upload endpoints also serve the upload page: opened from a single-use link (its ticket), or
    with a publishable key, which may upload and then read that one upload (its upload ticket)."""

    authentication_classes = [
        ApiTokenAuthentication,
        PageTicketAuthentication,
        UploadTicketAuthentication,
    ]
    permission_classes = [HasApiTokenOrPageTicket]


class UploadListCreateView(_UploadApi):
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = PageNumberPagination  # so the schema describes the page, not a bare list
    page_ticket_methods = ("POST",)
    publishable_methods = ("POST",)

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
        responses={
            202: UploadSerializer,
            400: OpenApiResponse(ApiErrorSerializer, description="Invalid parameters or file."),
            401: OpenApiResponse(ApiErrorSerializer, description="Missing or invalid token."),
            403: OpenApiResponse(
                ApiErrorSerializer,
                description="`origin_not_allowed`, or `secret_key_required` (a publishable key "
                "with `callback_url`).",
            ),
            404: OpenApiResponse(ApiErrorSerializer, description="`reference_not_found`."),
            409: OpenApiResponse(ApiErrorSerializer, description="`reference_not_ready`."),
            413: OpenApiResponse(ApiErrorSerializer, description="`file_too_large`."),
            429: OpenApiResponse(
                ApiErrorSerializer, description="`quota_exceeded` or `rate_limited`."
            ),
        },
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
        callback_url = request.data.get("callback_url", "")
        if isinstance(request.auth, PageTicket) and callback_url:
            # The `?ticket=` is in `query`: the link's parameters apply, and nothing else.
            refused = links.parameters_fixed({"callback_url"})
            return Response(refused.to_event(), refused.status)
        if isinstance(request.auth, ApiToken) and not request.auth.is_secret and callback_url:
            # A publishable key is public: whoever holds it would get the outcome signed with the
            # organisation's webhook secret, a request its own receiver would accept.
            refused = errors.secret_key_required(
                "Set callback_url from your server, with a secret key (ft_live_…)."
            )
            return Response(refused.to_event(), refused.status)
        try:
            access = services.tracking_open(
                query, endpoint="upload", origin=foreign_origin(request), browser=False
            )
            upload = services.upload_create(access=access, file=file, callback_url=callback_url)
        except services.TrackingRefused as refused:
            return Response(refused.event, refused.status)
        except services.UploadRejected as rejected:
            return _error(rejected.code, rejected.message, rejected.status)
        return Response(UploadSerializer(upload).data, status=202)


class UploadDetailView(_UploadApi):
    page_ticket_methods = ("GET",)

    @extend_schema(responses=UploadSerializer, summary="An upload's status, progress and summary")
    def get(self, request, upload_id):
        uploads = selectors.uploads_visible_to(request.auth)
        upload = tenancy.get_for_org(uploads, request.auth.organization, pk=upload_id)
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


class UploadEventsView(_UploadApi):
    page_ticket_methods = ("GET",)

    @extend_schema(
        responses=EventPageSerializer,
        parameters=[OpenApiParameter("type", str, description="Only events of this type")],
        summary="An upload's event timeline, in order",
    )
    def get(self, request, upload_id):
        uploads = selectors.uploads_visible_to(request.auth)
        upload = tenancy.get_for_org(uploads, request.auth.organization, pk=upload_id)
        events = upload.events.all()
        event_type = request.query_params.get("type")
        if event_type:
            events = events.filter(type=event_type)
        paginator = EventPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response([e.payload for e in page])


# --- Single-use tracking links -------------------------------------------------------------------


# The schema of the body: any tracking parameter of either page is accepted, as on its URL.
TrackingLinkCreateSerializer = _parameters_serializer(
    "TrackingLinkCreateSerializer",
    ENDPOINTS,
    endpoint=serializers.ChoiceField(
        choices=TrackingLink.Endpoint.values,
        required=False,
        help_text="tracking (/pose_tracker/tracking, the default) or upload "
        "(/pose_tracker/upload_tracking).",
    ),
)


class TrackingLinkSerializer(serializers.Serializer):
    id = serializers.CharField(
        help_text="The link's secret id (the session= of url and ws_url). Shown only here."
    )
    endpoint = serializers.ChoiceField(choices=TrackingLink.Endpoint.values)
    url = serializers.URLField(help_text="The page to open, once, before expires_at.")
    ws_url = serializers.CharField(
        allow_null=True,
        help_text="Live tracking only: the WebSocket a native app may connect to instead, once.",
    )
    expires_at = serializers.DateTimeField()
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="What was ignored: unknown parameters, loose values (their default applies)…",
    )


def _as_query(body) -> dict[str, list]:
    if hasattr(body, "getlist"):  # form fields
        return {name: body.getlist(name) for name in body}
    return {name: value if isinstance(value, list) else [value] for name, value in body.items()}


class TrackingLinkCreateView(APIView):
    @extend_schema(
        request=TrackingLinkCreateSerializer,
        responses={
            201: TrackingLinkSerializer,
            400: OpenApiResponse(ApiErrorSerializer, description="Invalid parameters."),
            401: OpenApiResponse(ApiErrorSerializer, description="Missing or invalid token."),
            403: OpenApiResponse(ApiErrorSerializer, description="`origin_not_allowed`."),
            404: OpenApiResponse(ApiErrorSerializer, description="`reference_not_found`."),
            409: OpenApiResponse(ApiErrorSerializer, description="`reference_not_ready`."),
            429: OpenApiResponse(
                ApiErrorSerializer, description="`quota_exceeded` or `rate_limited`."
            ),
        },
        summary="A single-use, short-lived link to a tracking page",
        description="Server to server, with 'Authorization: Bearer <token>'. Takes the tracking "
        "parameters of the page (JSON or form fields) and an `endpoint`; answers a link that "
        "opens once, before `expires_at`, with exactly these parameters. The page never sees the "
        "token: give the link to your app, keep the token on your server.",
    )
    def post(self, request):
        secret = bearer_secret(request)
        if secret is None:
            return _error(
                "missing_token",
                "Send the API token as 'Authorization: Bearer <token>': links are issued server "
                "to server.",
                401,
            )
        if not isinstance(request.data, Mapping):
            return _error("invalid_parameter", "Send the parameters as a JSON object.", 400)
        query = _as_query(request.data)
        endpoint = (query.pop("endpoint", None) or ["tracking"])[-1]
        if endpoint not in TrackingLink.Endpoint.values:
            return _error("invalid_parameter", "endpoint must be tracking or upload.", 400)
        if {"token", *links.CREDENTIALS} & set(query):
            return _error(
                "invalid_parameter",
                "The token goes in the Authorization header only, and a link cannot be made "
                "from another link.",
                400,
            )
        query["token"] = [secret]
        try:
            access = services.tracking_open(
                query, endpoint=endpoint, origin=foreign_origin(request), browser=False
            )
        except services.TrackingRefused as refused:
            return Response(refused.event, refused.status)
        link, session_id = links.tracking_link_create(access=access, query=query, endpoint=endpoint)
        data = {
            "id": session_id,
            "endpoint": link.endpoint,
            **links.link_urls(link, session_id),
            "expires_at": link.expires_at,
            "warnings": [warning.message for warning in access.params.warnings],
        }
        return Response(TrackingLinkSerializer(data).data, status=201)
