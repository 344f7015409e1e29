"""REST endpoints for workouts: save one (its steps, or inline), list, read and delete them.

A saved workout's UUID is what the live page follows with workout=<uuid>; secret keys only.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tenancy
from accounts.api_errors import ErrorSerializer
from tracking import workouts
from tracking.engine.workout import MAX_STEPS, REST_RANGE, SETS_RANGE, TARGET_RANGE, UNITS
from tracking.models import SavedWorkout
from tracking.param_table import MAX_VALUE_CHARS


class WorkoutStepSerializer(serializers.Serializer):
    exercise = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=64,
        help_text="A catalog exercise id or alias (GET /api/v1/exercises), not a jump; or "
        "reference.",
    )
    reference = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="One of your organisation's reference movements; or exercise.",
    )
    target = serializers.IntegerField(
        min_value=1,
        max_value=max(high for _, high in TARGET_RANGE.values()),
        help_text=f"Reps (1-{TARGET_RANGE['reps'][1]}) or seconds "
        f"(1-{TARGET_RANGE['seconds'][1]}), as unit says.",
    )
    unit = serializers.ChoiceField(
        choices=UNITS,
        required=False,
        help_text="reps: the set ends at that many reps; seconds: a hold's time held, or for a "
        "movement that counts reps, how long the set lasts once the person is in place. "
        "Default: what the movement counts (seconds for holds).",
    )
    sets = serializers.IntegerField(min_value=SETS_RANGE[0], max_value=SETS_RANGE[1], default=1)
    rest_s = serializers.IntegerField(
        min_value=REST_RANGE[0],
        max_value=REST_RANGE[1],
        default=0,
        help_text="Seconds of rest after each set (none after the workout's last).",
    )


class WorkoutCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    # Counted before any step is read: a body of thousands would cost a check and an error each.
    steps = WorkoutStepSerializer(
        many=True, required=False, max_length=MAX_STEPS, help_text="In order; or inline."
    )
    inline = serializers.CharField(
        required=False,
        max_length=MAX_VALUE_CHARS,
        help_text="The steps as the workout= parameter writes them, such as "
        "squat:10x3,rest:30,plank:45s; or steps.",
    )

    def validate(self, data):
        if ("steps" in data) == ("inline" in data):
            raise serializers.ValidationError("Send the workout's steps, or inline: one of them.")
        return data


class WorkoutSerializer(serializers.ModelSerializer):
    steps = WorkoutStepSerializer(many=True, help_text="Each with its unit, sets and rest_s.")
    inline = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField()

    class Meta:
        model = SavedWorkout
        fields = ["id", "name", "steps", "inline", "tracking_url", "created_at"]

    def get_inline(self, workout) -> str:
        """The steps as workout= writes them inline."""
        return workout.inline

    def get_tracking_url(self, workout) -> str:
        return f"/pose_tracker/tracking?token=YOUR_TOKEN&workout={workout.pk}"


_REFUSALS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="`invalid_workout` (what is wrong with which step) or `invalid_parameter` "
        "(a field of the wrong type or out of range).",
    ),
    401: OpenApiResponse(ErrorSerializer, description="Missing or invalid token."),
    403: OpenApiResponse(ErrorSerializer, description="`secret_key_required`."),
}


class WorkoutListCreateView(APIView):
    parser_classes = [JSONParser, FormParser]
    pagination_class = PageNumberPagination  # so the schema describes the page, not a bare list

    @extend_schema(responses=WorkoutSerializer(many=True), summary="Your workouts, newest first")
    def get(self, request):
        return tenancy.page_for_org(request, self, SavedWorkout, WorkoutSerializer)

    @extend_schema(
        request=WorkoutCreateSerializer,
        responses={201: WorkoutSerializer, **_REFUSALS},
        summary="Save a workout: exercises or reference movements, each with a target, sets and "
        "rest",
        description="Answers the workout with its UUID: open the live page with "
        "workout=<id> to guide a person through it (docs/events.md, Workouts).",
    )
    def post(self, request):
        form = WorkoutCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        workout = workouts.workout_read(
            inline=form.validated_data.get("inline"), steps=form.validated_data.get("steps")
        )
        saved = workouts.workout_create(
            organization=request.auth.organization,
            name=form.validated_data["name"],
            workout=workout,
            created_by=request.auth.created_by,
        )
        return Response(WorkoutSerializer(saved).data, status=201)


class WorkoutDetailView(APIView):
    @extend_schema(responses=WorkoutSerializer, summary="A workout")
    def get(self, request, workout_id):
        saved = tenancy.get_for_org(SavedWorkout, request.auth.organization, pk=workout_id)
        return Response(WorkoutSerializer(saved).data)

    @extend_schema(
        responses={204: None}, summary="Delete: pages and links naming it are refused at once"
    )
    def delete(self, request, workout_id):
        saved = tenancy.get_for_org(SavedWorkout, request.auth.organization, pk=workout_id)
        workouts.workout_delete(workout=saved)
        return Response(status=204)
