"""Parallel creates cannot get past the plan's reference limit (PostgreSQL).

Issue #13: six parallel creates on the free plan (one reference) stored five, because each
counted the references before any had been inserted.
"""

import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from references import services
from references.models import ReferenceMovement
from tests.support.needs import needs
from tests.test_references import ONE_CURL_MS

CURL_CLIP = Path(__file__).parent / "fixtures" / "clips" / "fitness-biceps-curls.mp4"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    needs(connection.vendor != "postgresql", "needs DATABASE_URL pointing at PostgreSQL"),
]


def _create_in_parallel(organization, count: int) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    content = CURL_CLIP.read_bytes()

    def create(index):
        try:
            video = SimpleUploadedFile("curl.mp4", content)
            barrier.wait(timeout=30)
            services.reference_create(
                organization=organization,
                name=f"Curl {index}",
                file=video,
                trim_start_ms=ONE_CURL_MS[0],
                trim_end_ms=ONE_CURL_MS[1],
            )
            outcomes.append("stored")
        except services.ReferenceRejected as rejected:
            outcomes.append(f"{rejected.status} {rejected.code}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sorted(outcomes)


def test_six_parallel_creates_on_a_limit_of_one_store_exactly_one(globex, monkeypatch):
    # The extraction is not what races: hold it back so no pose model runs after the test.
    monkeypatch.setattr(services.background, "enqueue", lambda *args: None)
    limit = globex.plan_obj.max_references
    assert limit == 1
    outcomes = _create_in_parallel(globex, 6)
    assert outcomes == ["403 reference_limit_reached"] * 5 + ["stored"]
    assert ReferenceMovement.objects.filter(organization=globex).count() == limit
    # Only the stored reference's video is kept: the refused ones left nothing behind.
    stored = Path(ReferenceMovement.objects.get(organization=globex).video.path)
    videos = [path for path in stored.parent.parent.rglob("*") if path.is_file()]
    assert videos == [stored]
