"""REST endpoints of the tracking app."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tracking.engine.catalog import ALIASES, EXERCISES


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
