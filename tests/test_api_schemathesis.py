"""Schemathesis against our own OpenAPI schema: for every operation it generates requests (up to
20 per operation, derandomized so CI is repeatable) and sends them in-process, with a valid Bearer
token of a seeded organisation. No response may be a server error, and every documented response
must match its schema."""

import json
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts import services
from config import background
from tests.factories import stored_result
from tracking.models import Upload, UploadEvent

FIXTURES = Path(__file__).parent / "fixtures"
# Files for `format: binary` fields (uploads, references): real media, so the 202 paths run too,
# and junk, which must be refused cleanly.
schemathesis.openapi.format(
    "binary",
    st.sampled_from(
        [
            (FIXTURES / "clips" / "fitness-squat-counter.mp4").read_bytes(),
            (FIXTURES / "images" / "messi5.jpg").read_bytes(),
            b"not a video",
            b"",
        ]
    ),
)
# Addresses the server would call (callback_url, videoSrc, imageSrc) stay on this machine: a port
# where nothing listens, so a fetch fails cleanly (video_load_error).
schemathesis.openapi.format(
    "uri",
    st.sampled_from(["http://127.0.0.1:9/clip.mp4", "https://localhost:9/photo.jpg"]),
)
# The schema as /api/schema/ serves it, built without a request (no database at collection).
SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
schema = schemathesis.openapi.from_dict(SCHEMA)
APP = get_wsgi_application()  # the API's HTTP stack in this process: same database transaction
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def seeded(acme, acme_token, tmp_path, settings):
    """Acme with some rows for the read operations to find."""
    token = services.token_authenticate(acme_token, origin_required=False)
    upload = Upload.objects.create(
        organization=acme,
        token=token,
        kind=Upload.Kind.VIDEO,
        query="exercise=squat",
        exercise="squat",
        file="uploads/seeded.mp4",
        size_bytes=10,
        status=Upload.Status.DONE,
        # The squat clip's (tests/fixtures/clips/fitness-squat-counter.mp4) analysis.
        summary={
            "media": "video",
            "duration_s": 10.3,
            "frames_analyzed": 103,
            "frames_with_person": 103,
            "final_count": 4,
            "exercise_summary": None,
        },
    )
    UploadEvent.objects.create(upload=upload, seq=0, type="counter", payload={"type": "counter"})
    stored_result(acme, "athlete-42", upload=upload, kind="upload")
    return acme_token


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection across requests, as Django's test client does: the
    WSGI handler would otherwise close it (it is inside the test's transaction) at each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow  # some 280 generated requests through the whole stack, real videos among them
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_by_its_schema_and_never_with_a_server_error(
    case, seeded, monkeypatch, in_test_transaction
):
    # Accepted uploads and references are stored; their analysis is not run here.
    monkeypatch.setattr(background, "enqueue", lambda *args: None)
    response = case.call(app=APP, headers={"Authorization": f"Bearer {seeded}"})
    case.validate_response(response, checks=CHECKS)
