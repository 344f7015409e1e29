"""Jobs a broker lost: publishing fails softly; `manage.py requeue_uploads` queues them again."""

import datetime
import logging
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from config import background
from tracking import uploads
from tracking.access import tracking_open
from tracking.models import Upload

SQUAT_CLIP = Path(__file__).parent / "fixtures" / "clips" / "fitness-squat-counter.mp4"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(acme_token, settings, tmp_path, monkeypatch):
    """Make stored uploads whose jobs were never queued; enqueue calls are recorded instead."""
    settings.MEDIA_ROOT = tmp_path / "media"
    enqueued = []
    monkeypatch.setattr(background, "enqueue", lambda task, *args: enqueued.append(args[0]))
    access = tracking_open(
        {"token": acme_token, "exercise": "squat"},
        endpoint="upload",
        origin=None,
        origin_required=False,
    )

    def make(**state) -> Upload:
        file = SimpleUploadedFile("squat.mp4", SQUAT_CLIP.read_bytes())
        upload = uploads.upload_create(access=access, file=file)
        Upload.objects.filter(pk=upload.pk).update(**state)
        return upload

    make.enqueued = enqueued
    return make


def test_requeue_takes_old_queued_jobs_and_jobs_of_dead_workers_only(queued):
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    lost = queued(created_at=long_ago)
    abandoned = queued(status="processing", lease_until=long_ago)
    queued()  # just queued: its message is surely still in the queue
    queued(status="processing", lease_until=timezone.now() + datetime.timedelta(minutes=1))
    queued(created_at=long_ago, status="done")
    queued.enqueued.clear()

    call_command("requeue_uploads", "--queued-for", "10")
    assert sorted(queued.enqueued) == sorted([str(lost.pk), str(abandoned.pk)])


def test_a_broker_that_stays_down_is_logged_not_raised(settings, caplog, monkeypatch):
    settings.BACKGROUND_RUNNER = "celery"

    def broker_down(name, args):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(background.app, "send_task", broker_down)
    with caplog.at_level(logging.ERROR, logger="config.background"), transaction.atomic():
        background.enqueue(uploads.ANALYSIS_TASK, "some-id")
    assert "not queued, broker unavailable" in caplog.text
