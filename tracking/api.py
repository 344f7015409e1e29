"""REST endpoints of the tracking app."""

from collections.abc import Mapping

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
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
from accounts.api_errors import ErrorSerializer, FailureSerializer
from accounts.authentication import ApiTokenAuthentication, bearer_secret
from accounts.models import ApiToken
from accounts.origins import foreign_origin
from config.errors import FormTrackError
from tracking import links, selectors, uploads
from tracking.access import tracking_open
from tracking.authentication import (
    HasApiTokenOrPageTicket,
    PageTicket,
    PageTicketAuthentication,
    UploadTicketAuthentication,
)
from tracking.engine.catalog import ALIASES, EXERCISES
from tracking.media_links import media_link
from tracking.models import TrackingLink, Upload
from tracking.param_table import (
    ENDPOINTS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_VALUE_CHARS,
    PARAMETERS,
    Parameter,
)
from tracking.params import EXTERNAL_ID, LANGUAGE_TAG


class ExerciseSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["repetition", "duration", "jump", "assessment"])
    category = serializers.ChoiceField(
        choices=[
            "strength",
            "hold",
            "flexibility",
            "wellness",
            "physical_test",
            "jump",
            "range_of_motion",
        ]
    )
    view = serializers.ChoiceField(choices=["front", "side", "either"])
    aliases = serializers.ListField(child=serializers.CharField())
    outputs = serializers.ListField(
        child=serializers.CharField(),
        help_text="The events its live sessions and uploads send (keypoints and angles when asked "
        "for); counter.analysis: a physical test's counter carries an analysis object.",
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


class UploadRepSerializer(serializers.Serializer):
    """One counted rep, or one spell of a hold, in an upload's results."""

    index = serializers.IntegerField()
    formScore = serializers.FloatField(help_text="0-100.")
    score = serializers.FloatField(help_text="The same as formScore.")
    grade = serializers.CharField(help_text="A to F.")
    durationMs = serializers.IntegerField()
    faults = serializers.ListField(child=serializers.CharField(), help_text="Form check ids.")
    startMs = serializers.FloatField()
    endMs = serializers.FloatField()
    side = serializers.CharField(required=False, allow_null=True, help_text="Reps only.")
    depth = serializers.FloatField(required=False, help_text="Reps only, 0-1.")


@extend_schema_field(UploadRepSerializer)
class UploadRepField(serializers.JSONField):
    """A rep as the analysis stored it (every field), described by UploadRepSerializer."""


class RomReadingSerializer(serializers.Serializer):
    """A range-of-motion assessment's best reading of one side and movement (docs/events.md,
    "Range of motion")."""

    joint = serializers.CharField(help_text="knee, hip, shoulder, elbow, neck or back.")
    movement = serializers.CharField(help_text="flexion, abduction or lateral_flexion.")
    side = serializers.CharField(help_text="left or right.")
    view = serializers.CharField(help_text="The camera view it was read in: side or front.")
    degrees = serializers.FloatField(help_text="The peak held, 0 in the anatomical position.")
    uncertainty = serializers.FloatField(help_text="± degrees.")
    normalRange = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
    normalSource = serializers.CharField()
    shareOfNormal = serializers.FloatField()
    heldMs = serializers.IntegerField()
    attempts = serializers.IntegerField()


class UploadResultsSerializer(serializers.Serializer):
    counter = serializers.IntegerField(
        allow_null=True, help_text="Reps counted, or seconds held (unit: seconds)."
    )
    unit = serializers.ChoiceField(choices=["reps", "seconds", ""])
    average_score = serializers.FloatField(allow_null=True, help_text="0-100.")
    grade = serializers.CharField(allow_null=True)
    rejected_reps = serializers.IntegerField(allow_null=True)
    history = serializers.ListField(
        child=UploadRepField(),
        help_text="Each counted rep or hold: index, formScore, grade, durationMs, faults, ...",
    )
    measurements = serializers.ListField(
        child=RomReadingSerializer(),
        help_text="A range-of-motion assessment's best reading per side and movement (its "
        "rom_summary's results: joint, movement, side, degrees, uncertainty, normalRange, ...); "
        "empty for exercises.",
    )


class EventSerializer(serializers.Serializer):
    """One event, as the tracking page posts it to the host app: `type` says which, and each type
    has its own fields. Every type, when it is sent and examples: the tracking page's events
    (/api/docs/events/)."""

    type = serializers.CharField(
        help_text="posture, counter, form_score, progression, recommendations, keypoints, "
        "angles, reference_score, exercise_summary, jump_*, warning, error…"
    )
    timestampMs = serializers.FloatField(
        required=False, help_text="Time in the video or session, in milliseconds."
    )


@extend_schema_field(EventSerializer)
class EventField(serializers.JSONField):
    """An event kept as it was sent: every field of its type, not only the common ones."""


class UploadSummarySerializer(serializers.Serializer):
    """What the analysis found: a video's counts and its final exercise_summary, or whether a
    photo shows a person."""

    media = serializers.CharField(help_text="video or image.")
    duration_s = serializers.FloatField(required=False, help_text="Video only.")
    frames_analyzed = serializers.IntegerField(required=False)
    frames_with_person = serializers.IntegerField(required=False, help_text="Video only.")
    final_count = serializers.IntegerField(required=False, help_text="Video only.")
    exercise_summary = EventField(
        required=False, allow_null=True, help_text="Video only: the session's last event."
    )
    rom_summary = EventField(
        required=False,
        help_text="Video of a range-of-motion assessment only: its rom_summary event.",
    )
    width = serializers.IntegerField(required=False, help_text="Photo only, in pixels.")
    height = serializers.IntegerField(required=False, help_text="Photo only, in pixels.")
    person_detected = serializers.BooleanField(required=False, help_text="Photo only.")


@extend_schema_field(UploadSummarySerializer)
class UploadSummaryField(serializers.JSONField):
    """An upload's summary as the analysis stored it, described by UploadSummarySerializer."""


class UploadSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField()
    source_url = serializers.SerializerMethodField()
    results = UploadResultsSerializer(
        read_only=True,
        allow_null=True,
        help_text="A finished video's count and scores, from its summary's exercise_summary "
        "(null for photos and until the analysis is done).",
    )
    annotated_url = serializers.SerializerMethodField()
    timeline_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()
    progress_ws = serializers.SerializerMethodField()
    status_event = serializers.SerializerMethodField()
    ticket = serializers.SerializerMethodField()

    summary = UploadSummaryField(read_only=True, allow_null=True, help_text="Once done.")

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
            "source_url",
            "results",
            "annotated_url",
            "timeline_url",
            "preview_url",
            "events_url",
            "progress_ws",
            "status_event",
            "ticket",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_error(self, upload):
        return upload.failure

    def get_source_url(self, upload) -> str:
        """The video or photo analysed (as sent, or as fetched from videoSrc/imageSrc)."""
        return media_link(upload.file.name)

    def get_annotated_url(self, upload) -> str | None:
        """The annotated MP4 (videos analysed with export=true) or the PNG overlay (photos)."""
        return media_link(upload.annotated_file.name) if upload.annotated_file else None

    def get_timeline_url(self, upload) -> str | None:
        """A video's poses and counter per analysed frame, to draw over the original (JSON)."""
        return media_link(upload.timeline_file.name) if upload.timeline_file else None

    def get_preview_url(self, upload) -> str | None:
        """A small H.264 MP4 of the video (no audio) that every browser plays, made when the
        original is not one already (null then): the picture to draw the timeline over."""
        return media_link(upload.preview_file.name) if upload.preview_file else None

    def get_events_url(self, upload) -> str:
        return reverse("api-upload-events", args=[upload.pk])

    def get_progress_ws(self, upload) -> str:
        return f"/ws/uploads/{upload.pk}?ticket={uploads.upload_progress_ticket(upload)}"

    @extend_schema_field(EventSerializer)
    def get_status_event(self, upload) -> dict:
        """What progress_ws sends for this state: `initialization` with the progress, or `error`
        once failed. The upload page reads it here while its socket is down."""
        return uploads.upload_status_event(upload)

    def get_ticket(self, upload) -> str:
        """Reads this one upload and its events without a secret key (`?upload_ticket=`), for a
        page that uploaded with a publishable key; valid 24 hours."""
        return uploads.upload_progress_ticket(upload)


def external_id_field(**options) -> serializers.Field:
    """The schema of an externalUserId (the parser reads it: tracking/params.py)."""
    return serializers.RegexField(
        rf"^{EXTERNAL_ID.pattern}$", max_length=MAX_EXTERNAL_ID_CHARS, **options
    )


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
    if parameter.kind == "external_id":
        return external_id_field(**options)
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
    file=serializers.FileField(
        required=False,
        help_text="The video or photo; its type is read from its content. Without it, "
        "videoSrc (imageSrc with source=image) is fetched by the server.",
    ),
    callback_url=serializers.URLField(required=False, help_text="Receives the outcome (POST)."),
)


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
        return tenancy.page_for_org(request, self, Upload, UploadSerializer)

    @extend_schema(
        request={"multipart/form-data": UploadCreateSerializer},
        responses={
            202: UploadSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid parameters or file."),
            401: OpenApiResponse(ErrorSerializer, description="Missing or invalid token."),
            403: OpenApiResponse(
                ErrorSerializer,
                description="`origin_not_allowed`, or `secret_key_required` (a publishable key "
                "with `callback_url`).",
            ),
            404: OpenApiResponse(ErrorSerializer, description="`reference_not_found`."),
            409: OpenApiResponse(ErrorSerializer, description="`reference_not_ready`."),
            413: OpenApiResponse(ErrorSerializer, description="`file_too_large`."),
            502: OpenApiResponse(
                ErrorSerializer,
                description="`video_load_error` or `image_load_error`: videoSrc or imageSrc "
                "could not be fetched.",
            ),
            429: OpenApiResponse(
                ErrorSerializer, description="`quota_exceeded` or `rate_limited`."
            ),
        },
        summary="Upload a video or photo for analysis",
        description="Takes the tracking parameters of /pose_tracker/upload_tracking as form "
        "fields or in the query string. Answers 202 at once; the analysis runs in the background.",
    )
    def post(self, request):
        file = request.FILES.get("file")
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
            raise links.parameters_fixed({"callback_url"})
        if isinstance(request.auth, ApiToken) and not request.auth.is_secret and callback_url:
            # A publishable key is public: whoever holds it would get the outcome signed with the
            # organisation's webhook secret, a request its own receiver would accept.
            raise errors.secret_key_required(
                "Set callback_url from your server, with a secret key (ft_live_…)."
            )
        access = tracking_open(
            query, endpoint="upload", origin=foreign_origin(request), origin_required=False
        )
        if file is None and access.params.remote_media is None:
            raise FormTrackError(
                "missing_file",
                "Send the video or photo as the 'file' field, or its address as videoSrc "
                "(imageSrc with source=image).",
            )
        upload = uploads.upload_create(access=access, file=file, callback_url=callback_url)
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
        uploads.upload_delete(upload=upload)
        return Response(status=204)


class UploadScoreChartView(_UploadApi):
    page_ticket_methods = ("GET",)

    @extend_schema(
        responses={
            (200, "image/svg+xml"): OpenApiResponse(
                OpenApiTypes.STR,
                description='An `<svg role="img">` with a title and a '
                "description in words, one bar per rep (0-100, coloured by grade) and the "
                "average; as wide as its container and 240 px high, its text the same size at "
                "every width.",
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description="`no_results`: a photo, or a video not analysed (yet).",
            ),
        },
        summary="A finished video's form score per rep, as the dashboard's SVG chart",
        description="In the upload's language (its `language` parameter). Its classes (`grid`, "
        "`axis`, `score-bar`, `bar-value`, `average`, `baseline`) are styled by the page that "
        "shows it inline; the bars carry their grade's colour.",
    )
    def get(self, request, upload_id):
        uploads = selectors.uploads_visible_to(request.auth)
        upload = tenancy.get_for_org(uploads, request.auth.organization, pk=upload_id)
        response = HttpResponse(
            selectors.upload_score_chart(upload), content_type="image/svg+xml; charset=utf-8"
        )
        # Opened on its own, it is a picture: nothing in it runs or loads.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class EventPagination(PageNumberPagination):
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


class EventPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = serializers.ListField(child=EventField(), help_text="Events in order.")


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
            400: OpenApiResponse(ErrorSerializer, description="Invalid parameters."),
            401: OpenApiResponse(ErrorSerializer, description="Missing or invalid token."),
            403: OpenApiResponse(ErrorSerializer, description="`origin_not_allowed`."),
            404: OpenApiResponse(ErrorSerializer, description="`reference_not_found`."),
            409: OpenApiResponse(ErrorSerializer, description="`reference_not_ready`."),
            429: OpenApiResponse(
                ErrorSerializer, description="`quota_exceeded` or `rate_limited`."
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
            raise FormTrackError(
                "missing_token",
                "Send the API token as 'Authorization: Bearer <token>': links are issued server "
                "to server.",
                401,
            )
        if not isinstance(request.data, Mapping):
            raise FormTrackError("invalid_parameter", "Send the parameters as a JSON object.")
        query = _as_query(request.data)
        endpoint = (query.pop("endpoint", None) or ["tracking"])[-1]
        if endpoint not in TrackingLink.Endpoint.values:
            raise FormTrackError("invalid_parameter", "endpoint must be tracking or upload.")
        if {"token", *links.CREDENTIALS} & set(query):
            raise FormTrackError(
                "invalid_parameter",
                "The token goes in the Authorization header only, and a link cannot be made "
                "from another link.",
            )
        query["token"] = [secret]
        access = tracking_open(
            query, endpoint=endpoint, origin=foreign_origin(request), origin_required=False
        )
        link, link_secret = links.tracking_link_create(
            token=access.token, query=query, endpoint=endpoint
        )
        data = {
            "id": link_secret,
            "endpoint": link.endpoint,
            **links.link_urls(link, link_secret),
            "expires_at": link.expires_at,
            "warnings": [warning.message for warning in access.params.warnings],
        }
        return Response(TrackingLinkSerializer(data).data, status=201)
