"""The upload page's videoSrc and imageSrc: fetched by our server under the rules of the upload
callbacks (tracking/outbound.py), then taken exactly like a file sent to POST /api/v1/uploads:
the same size limit, sniffing, quota and analysis.

The remote servers are real HTTP servers on loopback, so CALLBACK_ALLOW_PRIVATE_HOSTS is on
unless a test is about refusing private addresses. Where a test needs a public server, the
`internet` fixture counts 127.0.0.2 as public: it stands for the internet, 127.0.0.1 for our own
network.
"""

import ipaddress
import threading
import time
from pathlib import Path

import pytest

from accounts.models import MonthlyUsage
from tests.support.clips import SQUAT_CLIP
from tests.support.servers import MediaServer
from tests.test_uploads import events_of, nothing_stored, wait_until_finished
from tracking import media_intake, outbound
from tracking.models import Upload

PERSON_PHOTO = Path(__file__).parent / "fixtures" / "images" / "messi5.jpg"
PUBLIC_STAND_IN = "127.0.0.2"

pytestmark = pytest.mark.django_db(transaction=True)


def file_route(path: Path, mime: str, *, length: bool = True) -> tuple[int, dict, bytes]:
    body = path.read_bytes()
    headers = {"Content-Type": mime} | ({"Content-Length": str(len(body))} if length else {})
    return 200, headers, body


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def production(settings):
    """Private and loopback addresses refused, as in production."""
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = False


@pytest.fixture
def internet(monkeypatch, production):
    real = outbound.is_public_address
    stand_in = ipaddress.ip_address(PUBLIC_STAND_IN)
    monkeypatch.setattr(outbound, "is_public_address", lambda ip: ip == stand_in or real(ip))


def post_remote(client, token, **params):
    return client.post("/api/v1/uploads", params, HTTP_AUTHORIZATION=f"Bearer {token}")


def calls_taken(organization) -> int:
    return sum(
        MonthlyUsage.objects.filter(organization=organization).values_list("calls", flat=True)
    )


def assert_refused(response, status, code, settings):
    assert response.status_code == status, response.content
    body = response.json()
    assert (body["type"], body["code"], body["error"]) == ("error", code, code)
    assert body["message"]
    assert nothing_stored(Path(settings.MEDIA_ROOT))


@pytest.mark.slow
def test_a_video_src_is_fetched_counted_as_an_upload_and_analysed(client, worker, acme, acme_token):
    with MediaServer({"/clips/squats.mp4": file_route(SQUAT_CLIP, "video/mp4")}) as remote:
        response = post_remote(
            client, acme_token, exercise="squat", videoSrc=remote.url("/clips/squats.mp4")
        )
    assert response.status_code == 202, response.content
    (request,) = remote.requests
    assert request["headers"]["User-Agent"] == media_intake.FETCH_USER_AGENT
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    assert (upload.kind, upload.size_bytes) == ("video", SQUAT_CLIP.stat().st_size)
    assert upload.original_name == "squats.mp4"
    assert calls_taken(acme) == 1
    events = events_of(client, acme_token, upload.pk)
    final = [e for e in events if e["type"] == "counter" and e.get("final")]
    assert final[-1]["current_count"] == 4
    assert events[-1]["type"] == "exercise_summary"


def test_an_image_src_goes_through_a_redirect_that_is_checked_again(client, acme, acme_token):
    routes = {
        "/old/photo": (302, {"Location": "/photos/messi.jpg", "Content-Length": "0"}, b""),
        "/photos/messi.jpg": file_route(PERSON_PHOTO, "image/jpeg"),
    }
    with MediaServer(routes) as remote:
        response = post_remote(
            client, acme_token, source="image", imageSrc=remote.url("/old/photo")
        )
    assert response.status_code == 202, response.content
    assert [r["path"] for r in remote.requests] == ["/old/photo", "/photos/messi.jpg"]
    upload = Upload.objects.get(pk=response.json()["id"])
    assert (upload.kind, upload.size_bytes) == ("image", PERSON_PHOTO.stat().st_size)
    assert upload.original_name == "messi.jpg"  # named after where it was found
    assert calls_taken(acme) == 1


def test_a_private_address_is_refused_before_any_request(
    client, acme, acme_token, production, settings
):
    with MediaServer({"/a.mp4": file_route(SQUAT_CLIP, "video/mp4")}) as remote:
        response = post_remote(client, acme_token, videoSrc=remote.url("/a.mp4"))
    assert_refused(response, 400, "video_load_error", settings)
    assert response.json()["message"] == "videoSrc must point at a public address."
    assert remote.requests == []
    assert calls_taken(acme) == 0


def test_a_redirect_to_a_private_address_is_not_followed(
    client, acme, acme_token, internet, settings
):
    with MediaServer({"/secret.mp4": file_route(SQUAT_CLIP, "video/mp4")}) as inside:
        moved = {"/a.mp4": (302, {"Location": inside.url("/secret.mp4")}, b"")}
        with MediaServer(moved, host=PUBLIC_STAND_IN) as outside:
            response = post_remote(client, acme_token, videoSrc=outside.url("/a.mp4"))
    assert_refused(response, 400, "video_load_error", settings)
    assert [r["path"] for r in outside.requests] == ["/a.mp4"]
    assert inside.requests == []


@pytest.mark.parametrize("length", [True, False], ids=["announced", "streamed"])
def test_a_file_over_the_upload_limit_is_refused(client, acme, acme_token, settings, length):
    settings.UPLOAD_MAX_BYTES = SQUAT_CLIP.stat().st_size - 1
    route = file_route(SQUAT_CLIP, "video/mp4", length=length)
    with MediaServer({"/big.mp4": route}) as remote:
        response = post_remote(client, acme_token, videoSrc=remote.url("/big.mp4"))
    assert_refused(response, 413, "file_too_large", settings)
    assert calls_taken(acme) == 0


def test_a_page_that_is_not_a_video_is_refused_by_its_content(client, acme, acme_token, settings):
    page = (200, {"Content-Type": "video/mp4"}, b"<!doctype html><title>Login</title>" * 20)
    with MediaServer({"/a.mp4": page}) as remote:
        response = post_remote(client, acme_token, videoSrc=remote.url("/a.mp4"))
    assert_refused(response, 400, "unsupported_media", settings)


def test_a_photo_sent_as_video_src_is_refused_with_the_source_to_send(client, acme_token, settings):
    with MediaServer({"/a.jpg": file_route(PERSON_PHOTO, "image/jpeg")}) as remote:
        response = post_remote(client, acme_token, videoSrc=remote.url("/a.jpg"))
    assert_refused(response, 400, "media_type_mismatch", settings)


def test_a_remote_error_is_a_load_error_naming_the_status(client, acme_token, settings):
    with MediaServer({}) as remote:
        response = post_remote(client, acme_token, videoSrc=remote.url("/gone.mp4"))
    assert_refused(response, 502, "video_load_error", settings)
    assert response.json()["message"] == "videoSrc could not be fetched: HTTP 404."


def test_a_server_that_never_answers_is_cut_off_at_the_timeout(client, acme_token, settings):
    settings.MEDIA_FETCH_TIMEOUT_S = 1
    with MediaServer({}, hang=threading.Event()) as remote:
        started = time.monotonic()
        response = post_remote(client, acme_token, videoSrc=remote.url("/slow.mp4"))
        elapsed = time.monotonic() - started
    assert_refused(response, 502, "video_load_error", settings)
    assert response.json()["message"] == "videoSrc could not be fetched: no answer within 1 s."
    assert elapsed < 5


def test_without_a_file_or_an_address_the_upload_asks_for_one(client, acme_token):
    response = post_remote(client, acme_token, exercise="squat")
    assert response.status_code == 400
    assert response.json()["code"] == "missing_file"


def test_an_address_where_nothing_listens_is_a_load_error_saying_so(client, acme_token, settings):
    with MediaServer({}) as gone:
        url = gone.url("/a.jpg")  # the port is free again once the server has stopped
    response = post_remote(client, acme_token, source="image", imageSrc=url)
    assert_refused(response, 502, "image_load_error", settings)
    assert response.json()["message"] == "imageSrc could not be fetched: Connection refused."
