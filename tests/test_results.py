"""Results that outlive the page (issue #19): the externalUserId parameter, a session's summary
stored for its end user (live sessions however they end, uploads when done), the signed
session.completed webhook, erasure and retention.

Summaries are the engine's own, from the recorded poses of the real clips (tests/fixtures/clips);
the live session streams them over the socket as the tracking page sends them.
"""

import datetime
import io
import json
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from accounts.models import MonthlyUsage
from config import background
from tests.factories import clip_summary, held_upload, stored_result
from tests.support.clips import CLIPS, CURL_CLIP, landmark_messages
from tests.test_live_socket import closing_code, open_session, receive_until
from tests.test_webhooks import Receiver, run_as_a_worker
from tracking import privacy, tasks, uploads, webhooks
from tracking.models import SessionResult, TrackingLink, Upload
from tracking.params import ParamsError, parse_tracking_params

ATHLETE = "athlete-42"


# --- The parameter ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["athlete-42", "u:7f3a.b_9", "A" * 128, "...", ".a."])
def test_an_opaque_external_user_id_is_read_on_both_pages(value):
    for endpoint in ("tracking", "upload"):
        params = parse_tracking_params(
            {"token": "t", "exercise": "squat", "externalUserId": value}, endpoint=endpoint
        )
        assert params.external_user_id == value and params.warnings == ()
        # The pages' socket and uploads present the canonical query: it keeps the id.
        assert parse_tracking_params(params.to_query(), endpoint=endpoint) == params


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("jane.doe@example.com", "never an e-mail address"),
        # Look-alikes of @ (fullwidth, small): an address all the same, never echoed either.
        ("jane.doe\uff20example.com", "never an e-mail address"),
        ("jane.doe\ufe6bexample.com", "never an e-mail address"),
        ("A" * 129, "1 to 128 letters"),
        ("jane doe", "1 to 128 letters"),
        ("élodie", "1 to 128 letters"),
        # Browsers resolve these path segments away: no dashboard address could name the person.
        (".", "cannot be . or .."),
        ("..", "cannot be . or .."),
    ],
)
def test_a_page_given_a_bad_external_user_id_gets_none_and_a_warning(value, says):
    params = parse_tracking_params({"token": "t", "exercise": "squat", "externalUserId": value})
    assert params.external_user_id is None
    (warning,) = params.warnings
    assert (warning.code, warning.param) == ("invalid_value", "externalUserId")
    assert says in warning.message
    event = params.warning_event()
    assert event["parameters"] == ["externalUserId"]
    assert "jane.doe" not in json.dumps(event, ensure_ascii=False)  # nor echoed in part


def test_the_api_refuses_a_bad_external_user_id_where_a_page_defaults_it():
    query = {"token": "t", "exercise": "squat", "externalUserId": "jane@example.com"}
    with pytest.raises(ParamsError) as refused:
        parse_tracking_params(query, endpoint="upload", api=True)
    assert refused.value.status == 400
    assert refused.value.problems[0].param == "externalUserId"


def test_an_upload_with_a_bad_external_user_id_is_refused_with_a_json_400(client, acme_token):
    response = client.post(
        "/api/v1/uploads",
        {"exercise": "squat", "externalUserId": "jane@example.com"},
        HTTP_AUTHORIZATION=f"Bearer {acme_token}",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["code"] == "invalid_parameter"
    assert [p["param"] for p in body["details"]["problems"]] == ["externalUserId"]
    assert "jane@example.com" not in response.content.decode()
    assert not Upload.objects.exists()


def test_a_tracking_link_with_a_bad_external_user_id_is_refused(client, acme_token):
    response = client.post(
        "/api/v1/sessions",
        {"exercise": "squat", "externalUserId": "x" * 200},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acme_token}",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_parameter"


def test_the_tracking_page_keeps_a_good_id_and_warns_about_a_bad_one(client, acme_publishable_key):
    from tests.test_tracking_pages import page_config

    good = client.get(
        "/pose_tracker/tracking",
        {"token": acme_publishable_key, "exercise": "squat", "externalUserId": ATHLETE},
    )
    assert good.status_code == 200
    config = page_config(good)
    assert f"externalUserId={ATHLETE}" in config["accessQuery"]
    assert config["initialEvents"] == []
    bad = client.get(
        "/pose_tracker/tracking",
        {"token": acme_publishable_key, "exercise": "squat", "externalUserId": "a@b.example"},
    )
    assert bad.status_code == 200
    (warning,) = page_config(bad)["initialEvents"]
    assert warning["type"] == "warning" and warning["parameters"] == ["externalUserId"]
    assert "externalUserId" not in page_config(bad)["accessQuery"]


# --- Recording ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_result_keeps_the_real_summary_and_reads_its_figures_from_it(acme):
    summary = clip_summary()
    result = stored_result(acme, ATHLETE)
    assert result.summary == summary
    assert (result.counter, result.unit) == (4, "reps")
    assert result.average_score == summary["average_score"]
    assert result.grade == summary["grade"] == "A"
    assert result.duration_s == summary["durationMs"] / 1000
    curls = stored_result(acme, ATHLETE, clip=CURL_CLIP, exercise="bicep_curl")
    assert (curls.counter, curls.grade) == (6, "B")


@pytest.mark.django_db
def test_a_workout_or_assessment_gives_its_own_duration_and_degrees(acme):
    result = stored_result(
        acme, ATHLETE, kind=SessionResult.Kind.ASSESSMENT, duration_s=42.0, degrees=118.5
    )
    assert (result.kind, result.duration_s, result.degrees) == ("assessment", 42.0, 118.5)


@pytest.mark.django_db
def test_storing_a_result_takes_no_call(acme):
    stored_result(acme, ATHLETE)
    assert not MonthlyUsage.objects.filter(organization=acme).exists()


async def finished_squats(query: str, *, finish: bool = True, messages=None) -> list[dict]:
    """The squat clip's landmarks (or `messages`) over the live socket, as the tracking page
    sends them."""
    socket = await open_session(query)
    events = [await socket.receive_json_from()]
    for message in messages or landmark_messages():
        await socket.send_json_to(message)
        events += await receive_until(socket, lambda e: e["type"] == "ack")
    if finish:
        await socket.send_json_to({"type": "finish"})
        events += await receive_until(socket, lambda e: e["type"] == "exercise_summary")
        assert await closing_code(socket) == 1000
    await socket.disconnect()  # the session ends: its result is stored
    return events


@pytest.mark.django_db(transaction=True)
async def test_a_live_landmark_session_stores_its_summary_and_the_api_lists_it(
    acme, acme_token, api_client
):
    events = await finished_squats(f"token={acme_token}&exercise=squat&externalUserId={ATHLETE}")
    summary = events[-1]
    result = await SessionResult.objects.aget(organization=acme)
    assert (result.kind, result.external_user_id, result.exercise) == ("live", ATHLETE, "squat")
    assert result.summary == summary  # what the host heard, wall-clock stamps included
    assert result.counter == 4 and result.grade == summary["grade"]
    usage = await MonthlyUsage.objects.aget(organization=acme)
    assert usage.calls == 1  # the session's call; its result cost none

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    response = await sync_to_async(api_client.get)("/api/v1/results", {"externalUserId": ATHLETE})
    assert response.status_code == 200
    (listed,) = response.json()["results"]
    assert listed["id"] == str(result.pk) and listed["kind"] == "live"
    assert listed["counter"] == 4 and listed["summary"]["history"] == summary["history"]


@pytest.mark.django_db(transaction=True)
async def test_a_live_results_duration_is_never_longer_than_the_session(acme, acme_token):
    """The frames' times are the client's: a client stamping the clip's 10 s as 11 days gets a
    result no longer than the session really took."""
    messages = [m | {"t": m["t"] * 100_000} for m in landmark_messages()]
    query = f"token={acme_token}&exercise=squat&externalUserId={ATHLETE}"
    started = time.monotonic()
    events = await finished_squats(query, messages=messages)
    assert events[-1]["durationMs"] > 900_000_000
    result = await SessionResult.objects.aget(organization=acme)
    assert 0 < result.duration_s <= time.monotonic() - started


@pytest.mark.django_db(transaction=True)
async def test_a_live_workout_stores_its_summary_as_its_last_set_ends(acme, acme_token):
    """A workout sums itself up as its last set ends, before the session finishes: that summary
    is the end user's result."""
    query = f"token={acme_token}&workout=squat:4&externalUserId={ATHLETE}"
    events = await finished_squats(query, finish=False)
    (summary,) = [e for e in events if e["type"] == "workout_summary"]
    result = await SessionResult.objects.aget(organization=acme)
    assert (result.kind, result.exercise) == ("workout", "workout")
    assert result.summary == summary and summary["completed"] is True


@pytest.mark.django_db(transaction=True)
async def test_a_live_assessment_stores_its_best_angle_in_degrees(acme, acme_token):
    """QuickPose's hip abduction clip, facing the camera: the result keeps the rom_summary and
    its best angle, which the end user's progress chart draws."""
    query = f"token={acme_token}&exercise=hip_rom&externalUserId={ATHLETE}"
    messages = landmark_messages(CLIPS / "health-hip-rom.mp4")
    await finished_squats(query, finish=False, messages=messages)
    result = await SessionResult.objects.aget(organization=acme)
    assert (result.kind, result.unit) == ("assessment", "degrees")
    peaks = [r["degrees"] for r in result.summary["results"]]
    assert result.summary["type"] == "rom_summary" and result.degrees == max(peaks) > 30


@pytest.mark.django_db(transaction=True)
async def test_a_session_whose_client_just_leaves_is_summed_up_all_the_same(acme, acme_token):
    events = await finished_squats(
        f"token={acme_token}&exercise=squat&externalUserId={ATHLETE}", finish=False
    )
    assert all(e["type"] != "exercise_summary" for e in events)
    result = await SessionResult.objects.aget(organization=acme)
    assert result.counter == 4 and result.summary["type"] == "exercise_summary"


@pytest.mark.django_db(transaction=True)
async def test_a_session_without_an_end_user_or_with_an_address_stores_nothing(acme, acme_token):
    await finished_squats(f"token={acme_token}&exercise=squat")
    events = await finished_squats(
        f"token={acme_token}&exercise=squat&externalUserId=jane%40example.com"
    )
    warning = next(e for e in events if e["type"] == "warning")
    assert warning["parameters"] == ["externalUserId"]
    assert not await SessionResult.objects.aexists()


@pytest.mark.django_db
@pytest.mark.slow
def test_an_analysed_upload_of_an_end_user_stores_its_result(acme, acme_token, monkeypatch):
    upload = held_upload(acme_token, monkeypatch, externalUserId=ATHLETE)
    assert upload.external_user_id == ATHLETE
    uploads.upload_analyze(upload_id=upload.pk, attempt=uploads.upload_claim(upload_id=upload.pk))
    upload.refresh_from_db()
    result = SessionResult.objects.get(upload=upload)
    assert (result.kind, result.external_user_id, result.exercise) == ("upload", ATHLETE, "squat")
    assert result.summary == upload.summary["exercise_summary"]
    assert result.counter == upload.results.counter == 4
    assert MonthlyUsage.objects.get(organization=acme).calls == 1


# --- session.completed --------------------------------------------------------------------------


def run_delivery_as_a_worker(result_id):
    return run_as_a_worker(result_id, tasks.deliver_session_completed)


@pytest.fixture
def hooked(acme, settings):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = True
    with Receiver(204) as receiver:
        acme.webhook_url = receiver.url()
        acme.save()
        yield receiver


@pytest.mark.django_db
def test_session_completed_is_queued_and_delivered_signed_the_standard_webhooks_way(
    acme, globex, hooked, monkeypatch
):
    queued = []
    monkeypatch.setattr(background, "enqueue", lambda *args: queued.append(args))
    result = stored_result(acme, ATHLETE)
    assert queued == [(webhooks.SESSION_COMPLETED_TASK, str(result.pk))]
    assert background.registered_task(webhooks.SESSION_COMPLETED_TASK) is not None
    assert run_delivery_as_a_worker(result.pk) is None
    (request,) = hooked.requests
    headers = dict(request["headers"].items())
    payload = Webhook(acme.webhook_secret).verify(request["body"], headers)
    assert payload == {
        "type": "session.completed",
        "data": json.loads(json.dumps(result.as_data())),
    }
    assert payload["data"]["external_user_id"] == ATHLETE
    assert headers["webhook-id"] == f"msg_{result.pk.hex}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    with pytest.raises(WebhookVerificationError):
        Webhook(globex.webhook_secret).verify(request["body"], headers)
    result.refresh_from_db()
    assert result.callback_status == "delivered: HTTP 204" and result.callback_attempts == 1


@pytest.mark.django_db
def test_session_completed_is_retried_on_the_upload_callbacks_schedule(acme, hooked, settings):
    hooked.answers = [503, 204]
    result = stored_result(acme, ATHLETE)
    with pytest.raises(Retry) as retry:
        run_delivery_as_a_worker(result.pk)
    assert retry.value.when == settings.CALLBACK_RETRY_SCHEDULE_S[0]
    result.refresh_from_db()
    assert result.callback_status == "retrying: HTTP 503"
    assert run_delivery_as_a_worker(result.pk) is None  # early: not due yet, nothing sent
    assert len(hooked.requests) == 1
    # Time passes: the retry is due, and delivered.
    SessionResult.objects.filter(pk=result.pk).update(callback_next_attempt_at=timezone.now())
    assert run_delivery_as_a_worker(result.pk) is None
    result.refresh_from_db()
    assert (result.callback_status, result.callback_attempts) == ("delivered: HTTP 204", 2)
    assert {r["headers"]["webhook-id"] for r in hooked.requests} == {f"msg_{result.pk.hex}"}


@pytest.mark.django_db
def test_a_retry_goes_to_the_endpoint_the_organisation_has_now(acme, hooked, settings):
    """The endpoint moved while a delivery waited for its retry: it goes to the new one. Once
    the organisation has none, nothing more is sent (it asked for none)."""
    hooked.answers = [503]
    result = stored_result(acme, ATHLETE)
    with pytest.raises(Retry):
        run_delivery_as_a_worker(result.pk)
    with Receiver(204) as moved:
        acme.webhook_url = moved.url()
        acme.save()
        SessionResult.objects.filter(pk=result.pk).update(callback_next_attempt_at=timezone.now())
        assert run_delivery_as_a_worker(result.pk) is None
        assert len(hooked.requests) == 1 and len(moved.requests) == 1
    second = stored_result(acme, "athlete-43")
    acme.webhook_url = ""
    acme.save()
    assert run_delivery_as_a_worker(second.pk) is None
    assert len(hooked.requests) == 1
    second.refresh_from_db()
    assert second.callback_status == "refused: your organisation has no webhook endpoint now"
    assert second.callback_next_attempt_at is None


@pytest.mark.django_db
def test_an_endpoint_whose_host_cannot_be_looked_up_is_refused_at_send_time(acme):
    """Set where no form checked it (the admin, the database): the attempt is refused for good,
    the task does not fail."""
    acme.webhook_url = "https://\u200b.example.com/hook"
    acme.save()
    result = stored_result(acme, ATHLETE)
    assert run_delivery_as_a_worker(result.pk) is None
    result.refresh_from_db()
    assert result.callback_status == "refused: callback_url's host name is not valid."


@pytest.mark.django_db
def test_without_a_webhook_endpoint_nothing_is_sent(acme):
    result = stored_result(acme, ATHLETE)
    assert result.callback_url == "" and result.callback_next_attempt_at is None
    assert run_delivery_as_a_worker(result.pk) is None


# --- Erasure and retention ------------------------------------------------------------------------


@pytest.mark.django_db
def test_erasing_an_end_user_leaves_another_organisations_namesake_and_other_users(
    acme, acme_token, globex, monkeypatch
):
    theirs = [stored_result(acme, ATHLETE) for _ in range(2)]
    other = stored_result(acme, "athlete-43")
    namesake = stored_result(globex, ATHLETE)
    upload = held_upload(acme_token, monkeypatch, externalUserId=ATHLETE)
    kept_upload = held_upload(acme_token, monkeypatch)
    link, prefixed = (
        TrackingLink.objects.create(
            organization=acme,
            token=upload.token,
            endpoint="tracking",
            query=f"exercise=squat&externalUserId={named}",
            digest=digest * 64,
            expires_at=timezone.now(),
        )
        for named, digest in ((ATHLETE, "d"), (f"{ATHLETE}0", "e"))
    )
    erased = privacy.end_user_erase(organization=acme, external_user_id=ATHLETE)
    assert (erased.results, erased.uploads, erased.links) == (2, 1, 1)
    assert not SessionResult.objects.filter(pk__in=[r.pk for r in theirs]).exists()
    assert not Upload.objects.filter(pk=upload.pk).exists()
    assert not default_storage.exists(upload.file.name)
    assert not TrackingLink.objects.filter(pk=link.pk).exists()
    for row in (other, namesake, kept_upload, prefixed):
        assert type(row).objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
@pytest.mark.slow
def test_an_analysis_stored_as_the_erasure_starts_goes_with_the_rest(
    acme, acme_token, monkeypatch, settings
):
    """The worker analysing the end user's upload stores its result (and its files) just before
    the erasure reaches the uploads: that result goes too, with every file, rather than stay
    behind detached from its deleted upload. A second erasure finds nothing."""
    upload = held_upload(acme_token, monkeypatch, externalUserId=ATHLETE)
    attempt = uploads.upload_claim(upload_id=upload.pk)
    worker_done = []

    def worker_stores_first(execute, sql, params, many, context):
        if not worker_done and sql.startswith("SELECT") and 'FROM "tracking_upload"' in sql:
            worker_done.append(True)
            uploads.upload_analyze(upload_id=upload.pk, attempt=attempt)
            assert SessionResult.objects.filter(upload_id=upload.pk).exists()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(worker_stores_first):
        erased = privacy.end_user_erase(organization=acme, external_user_id=ATHLETE)
    assert worker_done
    assert (erased.results, erased.uploads) == (1, 1)
    assert not SessionResult.objects.exists() and not Upload.objects.exists()
    folder = Path(settings.MEDIA_ROOT) / f"uploads/org_{acme.pk}/{upload.pk}"
    assert not [path for path in folder.rglob("*") if path.is_file()]
    again = privacy.end_user_erase(organization=acme, external_user_id=ATHLETE)
    assert (again.results, again.uploads, again.links) == (0, 0, 0)


@pytest.mark.django_db
def test_results_are_pruned_at_their_organisations_retention_to_the_second(
    acme, acme_token, globex, monkeypatch
):
    now = timezone.now()
    acme.result_retention_days = 30
    acme.save()
    cutoff = now - datetime.timedelta(days=30)
    second = datetime.timedelta(seconds=1)
    expired = stored_result(acme, ATHLETE, completed_at=cutoff)
    kept = stored_result(acme, ATHLETE, completed_at=cutoff + second)
    # Globex keeps the default year: the same age is well within it.
    globex_kept = stored_result(globex, ATHLETE, completed_at=cutoff - second)
    globex_expired = stored_result(globex, ATHLETE, completed_at=now - datetime.timedelta(days=365))
    old_upload = held_upload(acme_token, monkeypatch, externalUserId=ATHLETE)
    anonymous_upload = held_upload(acme_token, monkeypatch)
    Upload.objects.filter(pk__in=[old_upload.pk, anonymous_upload.pk]).update(created_at=cutoff)

    assert privacy.end_user_data_prune(now=now) == 3
    remaining = set(SessionResult.objects.values_list("pk", flat=True))
    assert remaining == {kept.pk, globex_kept.pk}
    assert expired.pk not in remaining and globex_expired.pk not in remaining
    assert not Upload.objects.filter(pk=old_upload.pk).exists()
    assert not default_storage.exists(old_upload.file.name)
    assert Upload.objects.filter(
        pk=anonymous_upload.pk
    ).exists()  # no end user's: not ours to prune


@pytest.mark.django_db
def test_the_daily_beat_task_prunes_through_the_service(acme):
    acme.result_retention_days = 1
    acme.save()
    stored_result(acme, ATHLETE, completed_at=timezone.now() - datetime.timedelta(days=2))
    (entry,) = django_settings.CELERY_BEAT_SCHEDULE.values()
    background.registered_task(entry["task"]).apply()
    assert not SessionResult.objects.exists()


@pytest.mark.django_db
def test_requeue_uploads_queues_a_session_delivery_whose_task_was_lost(acme, monkeypatch):
    result = stored_result(acme, ATHLETE)
    SessionResult.objects.filter(pk=result.pk).update(
        callback_url="http://127.0.0.1:9/hook",
        callback_next_attempt_at=timezone.now() - datetime.timedelta(hours=1),
    )
    queued = []
    monkeypatch.setattr(background, "enqueue", lambda *args: queued.append(args))
    out = io.StringIO()
    call_command("requeue_uploads", stdout=out)
    assert "1 callback delivery(ies) queued again" in out.getvalue()
    assert queued == [(webhooks.SESSION_COMPLETED_TASK, str(result.pk))]


@pytest.mark.django_db
def test_a_new_organisation_keeps_results_a_year(acme):
    assert acme.result_retention_days == 365
