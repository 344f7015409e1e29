"""Background jobs (config/jobs.py): one worker at a time holds an upload's analysis or a
reference's extraction, and a worker that lost the job to another stores nothing.

A worker "stalls" here the way a real one does past its lease (a long pause, a frozen VM, a
broker that redelivered its job): its lease runs out while it still believes it holds the job.
"""

import datetime

import pytest
from django.utils import timezone

from config import background
from references import services as reference_services
from references.models import ReferenceMovement
from tracking import uploads, webhooks
from tracking.models import Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload(acme) -> Upload:
    return Upload.objects.create(
        organization=acme,
        kind="image",
        query="exercise=squat",
        file="uploads/test/photo.jpg",
        size_bytes=1000,
        callback_url="https://hooks.example.com/formtrack",
    )


@pytest.fixture
def reference(acme) -> ReferenceMovement:
    return ReferenceMovement.objects.create(
        organization=acme, name="Curl", video="references/test/source.mp4", trim_end_ms=2400
    )


@pytest.fixture(params=["upload", "reference"])
def job(request):
    return request.getfixturevalue(request.param)


def stall(job) -> None:
    """The worker holding `job` is still at it when its lease runs out."""
    type(job).objects.filter(pk=job.pk).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )


def stored(job):
    return type(job).objects.get(pk=job.pk)


def test_a_held_job_is_taken_over_only_once_its_lease_has_run_out(job):
    model = type(job)
    first = model.claim(job.pk)
    assert first == 1
    assert model.claim(job.pk) is None
    assert 0 < model.lease_left(job.pk) <= model.LEASE.total_seconds()
    stall(job)
    assert model.claim(job.pk) == 2
    assert stored(job).status == model.STATES.processing


def test_the_attempt_that_lost_the_job_stores_no_progress_failure_or_result(job):
    model = type(job)
    stale = model.claim(job.pk)
    stale_worker = stored(job)
    stall(job)
    current = model.claim(job.pk)
    current_worker = stored(job)

    assert not stale_worker.report_progress(stale, 60)
    assert not stale_worker.fail(stale, "analysis_timeout", "Took too long.")
    assert not stale_worker.finish(stale)
    now = stored(job)
    assert (now.status, now.progress, now.error_code) == (model.STATES.processing, 0, "")
    assert now.attempts == current == 2

    assert current_worker.report_progress(current, 40)
    assert current_worker.finish(current)
    # Waking up after the newer attempt finished changes nothing either.
    assert not stale_worker.fail(stale, "analysis_timeout", "Took too long.")
    done = stored(job)
    assert (done.status, done.progress, done.error_code) == (model.STATES.done, 100, "")
    assert done.is_finished and done.lease_until is None and done.finished_at is not None


def test_a_released_job_is_claimed_again_but_not_released_by_a_stale_attempt(job):
    model = type(job)
    first = model.claim(job.pk)
    assert model.release(job.pk, first)
    assert model.lease_left(job.pk) is None
    second = model.claim(job.pk)
    stall(job)
    third = model.claim(job.pk)
    assert not model.release(job.pk, second)
    assert model.lease_left(job.pk) > 0 and stored(job).attempts == third


def test_a_worker_whose_claim_failed_fails_the_job_only_while_no_worker_holds_it(job):
    model = type(job)
    model.claim(job.pk)
    assert not stored(job).fail(None, "analysis_failed", "The claim itself failed.")
    assert stored(job).status == model.STATES.processing
    stall(job)  # the holder died: the job would otherwise wait for a worker forever
    assert stored(job).fail(None, "analysis_failed", "The claim itself failed.")
    assert stored(job).status == model.STATES.failed


def test_a_finished_job_is_not_claimed_again(job):
    model = type(job)
    attempt = model.claim(job.pk)
    assert stored(job).fail(attempt, "no_movement_found", "No movement in the trimmed span.")
    assert model.claim(job.pk) is None and model.lease_left(job.pk) is None
    assert stored(job).status == model.STATES.failed


def test_a_failed_jobs_reason_reads_the_same_in_the_api(job, client, acme_token):
    path = {Upload: "/api/v1/uploads", ReferenceMovement: "/api/v1/references"}[type(job)]

    def read():
        return client.get(f"{path}/{job.pk}", HTTP_AUTHORIZATION=f"Bearer {acme_token}").json()[
            "error"
        ]

    assert read() is None
    attempt = type(job).claim(job.pk)
    stored(job).fail(attempt, "no_movement_found", "No movement in the trimmed span.")
    assert read() == {"code": "no_movement_found", "message": "No movement in the trimmed span."}


def test_a_redelivered_upload_job_waits_for_the_lease_of_its_holder(upload):
    assert uploads.upload_claim(upload_id=upload.pk) == 1
    with pytest.raises(uploads.UploadLeased) as leased:
        uploads.upload_claim(upload_id=upload.pk)
    assert 0 < leased.value.seconds_left <= Upload.LEASE.total_seconds()


def test_a_stale_upload_failure_queues_no_callback(upload, django_capture_on_commit_callbacks):
    stale = uploads.upload_claim(upload_id=upload.pk)
    stall(upload)
    uploads.upload_claim(upload_id=upload.pk)
    with django_capture_on_commit_callbacks() as queued:
        uploads.upload_fail(upload_id=upload.pk, attempt=stale, code="analysis_failed", message="x")
    assert queued == [] and stored(upload).callback_next_attempt_at is None


def test_a_stale_reference_failure_is_ignored(reference):
    stale = reference_services.reference_claim(reference_id=reference.pk)
    stall(reference)
    current = reference_services.reference_claim(reference_id=reference.pk)
    reference_services.reference_fail(
        reference_id=reference.pk, attempt=stale, code="extraction_timeout", message="x"
    )
    assert stored(reference).status == "processing"
    reference_services.reference_fail(
        reference_id=reference.pk, attempt=current, code="extraction_timeout", message="x"
    )
    assert stored(reference).error_code == "extraction_timeout"


@pytest.mark.parametrize(
    "name",
    [
        uploads.ANALYSIS_TASK,
        webhooks.DELIVERY_TASK,
        webhooks.SESSION_COMPLETED_TASK,
        reference_services.EXTRACTION_TASK,
    ],
)
def test_the_tasks_services_queue_by_name_are_the_ones_a_worker_runs(name):
    assert background.registered_task(name).name == name
