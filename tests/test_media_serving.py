"""Uploaded media is stored under the type its bytes have and is never served as anything a
browser renders as a page.

The attack (issue #13): a real MP4 with an HTML page appended still sniffs and decodes as a video.
Uploaded as `evil.html`, it was stored as `source.html` and `/files/<signed>` served it inline as
`text/html` on FormTrack's origin, so its script ran with the session of whoever opened the link.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from references.models import ReferenceMovement
from tests.test_references import ONE_CURL_MS, wait_until_ready
from tests.test_uploads import post_file, wait_until_finished
from tracking.media_links import media_link
from tracking.models import Upload

FIXTURES = Path(__file__).parent / "fixtures"
SQUAT_CLIP = FIXTURES / "clips" / "fitness-squat-counter.mp4"
CURL_CLIP = FIXTURES / "clips" / "fitness-biceps-curls.mp4"
PERSON_PHOTO = FIXTURES / "images" / "messi5.jpg"
# What the attacker's page did: read the dashboard and mint a token with the victim's session.
PAGE = b"<!doctype html><html><body><script>fetch('/dashboard/tokens/')</script></body></html>"

pytestmark = pytest.mark.django_db(transaction=True)


def polyglot(path: Path) -> bytes:
    """A real clip or photo with an HTML page after it: decoders read the media, and the bytes
    hold a page a browser would run if it were ever told the file is HTML."""
    return path.read_bytes() + PAGE


def fetch(client, link: str):
    """A signed link fetched without any session or token, as <video src> or a pasted URL is."""
    response = client.get(link.split("127.0.0.1:8000", 1)[-1])
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def assert_never_a_page(response) -> None:
    """Headers under which no browser renders the body as a document or runs a script in it."""
    content_type = response["Content-Type"]
    media = content_type.startswith(("video/", "image/"))
    assert media or content_type == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy
    disposition = re.fullmatch(
        r'(inline|attachment); filename="[A-Za-z0-9_-]+\.([a-z0-9]+)"',
        response["Content-Disposition"],
    )
    assert disposition, response["Content-Disposition"]
    assert disposition[1] == ("inline" if media else "attachment")
    assert disposition[2] not in {"html", "htm", "svg", "xhtml", "xml"}


@pytest.mark.slow
def test_polyglot_video_uploaded_as_html_is_stored_and_served_as_mp4(
    client, worker, owner, acme_token
):
    content = polyglot(SQUAT_CLIP)
    response = post_file(client, acme_token, content, "evil.html", exercise="squat")
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    assert upload.file.name == f"uploads/org_{upload.organization_id}/{upload.pk}/source.mp4"
    assert upload.original_name == "evil.html"

    # The links the dashboard gives the organisation's members: the video it replays (our H.264
    # preview) and its timeline; the API's source_url is the original.
    client.force_login(owner)
    html = client.get(f"/dashboard/uploads/{upload.pk}/").content.decode()
    preview_link = re.search(r'data-replay-video="([^"]+)"', html)[1]
    timeline_link = re.search(r'data-replay-timeline="([^"]+)"', html)[1]
    client.logout()

    video, body = fetch(client, media_link(upload.file.name))
    assert body == content
    assert video["Content-Type"] == "video/mp4"
    assert video["Content-Disposition"] == 'inline; filename="source.mp4"'
    assert_never_a_page(video)
    preview, _ = fetch(client, preview_link)
    assert preview["Content-Type"] == "video/mp4"
    assert preview["Content-Disposition"] == 'inline; filename="preview.mp4"'
    assert_never_a_page(preview)
    # Our own JSON has no media type to sniff: a download, which fetch() still reads.
    timeline, _ = fetch(client, timeline_link)
    assert timeline["Content-Type"] == "application/octet-stream"
    assert timeline["Content-Disposition"].startswith("attachment;")
    assert_never_a_page(timeline)


def test_polyglot_photo_uploaded_as_html_is_stored_and_served_as_jpeg(client, worker, acme_token):
    content = polyglot(PERSON_PHOTO)
    response = post_file(client, acme_token, content, "evil.html", source="image")
    assert response.status_code == 202, response.content
    upload = wait_until_finished(response.json()["id"])
    assert upload.status == "done", upload.error_message
    assert upload.file.name.endswith("/source.jpg")

    photo, body = fetch(client, media_link(upload.file.name))
    assert body == content and photo["Content-Type"] == "image/jpeg"
    assert_never_a_page(photo)
    detail = client.get(f"/api/v1/uploads/{upload.pk}", HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    overlay, _ = fetch(client, detail.json()["annotated_url"])
    assert overlay["Content-Type"] == "image/png"
    assert_never_a_page(overlay)


def _reference_form(video) -> dict:
    return {
        "name": "Evil",
        "video": video,
        "trim_start_ms": ONE_CURL_MS[0],
        "trim_end_ms": ONE_CURL_MS[1],
    }


def _create_with_the_api(client, owner, acme_token, video):
    data = _reference_form(video)
    response = client.post("/api/v1/references", data, HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _create_on_the_dashboard(client, owner, acme_token, video):
    client.force_login(owner)
    data = _reference_form(video)
    response = client.post("/dashboard/references/new/", data)
    assert response.status_code == 302, response.content
    client.logout()
    return response.url.rstrip("/").rsplit("/", 1)[-1]


@pytest.mark.slow
@pytest.mark.parametrize("create", [_create_with_the_api, _create_on_the_dashboard])
def test_polyglot_reference_video_uploaded_as_html_is_stored_and_served_as_mp4(
    client, worker, owner, acme_token, create
):
    content = polyglot(CURL_CLIP)
    reference_id = create(client, owner, acme_token, SimpleUploadedFile("evil.html", content))
    reference = wait_until_ready(reference_id)
    assert reference.status == "ready", reference.error_message
    assert (
        reference.video.name
        == f"references/org_{reference.organization_id}/{reference.pk}/source.mp4"
    )

    client.force_login(owner)
    html = client.get(f"/dashboard/references/{reference.pk}/").content.decode()
    client.logout()
    video_link = re.search(r'<video src="([^"#]+)', html)[1]
    video, body = fetch(client, video_link)
    assert body == content
    assert video["Content-Type"] == "video/mp4"
    assert_never_a_page(video)


@pytest.mark.parametrize(
    ("content", "served_as", "disposition"),
    [
        (polyglot(SQUAT_CLIP), "video/mp4", 'inline; filename="source.mp4"'),
        (PAGE, "application/octet-stream", 'attachment; filename="source.bin"'),
    ],
)
def test_a_file_stored_as_html_before_the_fix_is_served_by_its_bytes(
    client, acme, content, served_as, disposition
):
    name = default_storage.save(f"uploads/org_{acme.pk}/legacy/source.html", ContentFile(content))
    legacy = Upload.objects.create(
        organization=acme, kind="video", query="exercise=squat", file=name, size_bytes=len(content)
    )
    response, body = fetch(client, media_link(legacy.file.name))
    assert body == content
    assert response["Content-Type"] == served_as
    assert response["Content-Disposition"] == disposition
    assert_never_a_page(response)


def test_media_may_be_played_from_other_origins_and_downloads_may_not(client, acme):
    """Host apps show the annotated video or photo from their own pages (<video>, <img>); the
    signed link is the capability. Anything that is not media stays with its own origin."""
    video = default_storage.save("uploads/video.mp4", ContentFile(SQUAT_CLIP.read_bytes()))
    other = default_storage.save("uploads/timeline.json", ContentFile(b'{"frames": []}'))
    assert fetch(client, media_link(video))[0]["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert fetch(client, media_link(other))[0]["Cross-Origin-Resource-Policy"] == "same-origin"


def test_references_stored_before_the_fix_are_served_by_their_bytes_too(client, acme):
    content = polyglot(CURL_CLIP)
    name = default_storage.save(f"references/org_{acme.pk}/old/source.html", ContentFile(content))
    reference = ReferenceMovement.objects.create(organization=acme, name="Old", video=name)
    response, body = fetch(client, media_link(reference.video.name))
    assert body == content and response["Content-Type"] == "video/mp4"
    assert_never_a_page(response)


def test_with_a_media_host_links_point_there_and_the_app_host_sends_its_pages_there(
    client, acme, settings
):
    """Production (docs/deploy.md): uploads are served from a cookie-less domain of their own."""
    settings.MEDIA_URL = "https://media.formtrack-usercontent.test/"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "media.formtrack-usercontent.test"]
    name = default_storage.save("uploads/clip.mp4", ContentFile(polyglot(SQUAT_CLIP)))
    link = media_link(name)
    assert link.startswith("https://media.formtrack-usercontent.test/files/")
    path = urlsplit(link).path
    # The dashboard and the upload page ask their own host, which holds the session: redirected.
    on_app_host = client.get(path)
    assert on_app_host.status_code == 302 and on_app_host["Location"] == link
    on_media_host = client.get(path, HTTP_HOST="media.formtrack-usercontent.test", secure=True)
    assert on_media_host.status_code == 200
    assert on_media_host["Content-Type"] == "video/mp4"
    assert on_media_host["Access-Control-Allow-Origin"] == "*"
    assert_never_a_page(on_media_host)


def test_head_answers_the_headers_of_get_without_the_file(client, acme):
    video = default_storage.save("uploads/video.mp4", ContentFile(SQUAT_CLIP.read_bytes()))
    path = media_link(video).split("127.0.0.1:8000", 1)[-1]
    got, head = client.get(path), client.head(path)
    assert head.status_code == 200
    for header in (
        "Content-Type",
        "Content-Length",
        "Content-Disposition",
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Cross-Origin-Resource-Policy",
    ):
        assert head[header] == got[header], header
    assert int(head["Content-Length"]) == SQUAT_CLIP.stat().st_size
    assert b"".join(head.streaming_content) == b""


@pytest.mark.parametrize("folder", ["uploads", "uploads/org_1", ""])
def test_a_link_naming_a_folder_is_not_found(client, folder):
    default_storage.save("uploads/org_1/u/source.jpg", ContentFile(PERSON_PHOTO.read_bytes()))
    response = client.get(media_link(folder).split("127.0.0.1:8000", 1)[-1])
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("asked", "status", "served"),
    [
        ("bytes=0-99", 206, (0, 99)),
        ("bytes=1000-", 206, (1000, None)),
        ("bytes=-500", 206, (-500, None)),
        ("bytes=100-99999999", 206, (100, None)),
    ],
)
def test_a_video_is_served_by_byte_ranges_so_players_can_seek(client, acme, asked, status, served):
    """Browsers seek in a video only where the server answers ranges (the upload page's replay
    of a videoSrc, the dashboard's)."""
    content = SQUAT_CLIP.read_bytes()
    video = default_storage.save("uploads/video.mp4", ContentFile(content))
    path = media_link(video).split("127.0.0.1:8000", 1)[-1]
    response = client.get(path, HTTP_RANGE=asked)
    assert response.status_code == status
    body = b"".join(response.streaming_content)
    start, stop = served
    expected = content[start : None if stop is None else stop + 1]
    assert body == expected
    first = start % len(content)
    assert response["Content-Range"] == f"bytes {first}-{first + len(body) - 1}/{len(content)}"
    assert int(response["Content-Length"]) == len(body)
    assert response["Accept-Ranges"] == "bytes"
    assert_never_a_page(response)


def test_a_range_past_the_end_is_refused_with_the_size(client, acme):
    video = default_storage.save("uploads/video.mp4", ContentFile(SQUAT_CLIP.read_bytes()))
    path = media_link(video).split("127.0.0.1:8000", 1)[-1]
    response = client.get(path, HTTP_RANGE="bytes=99999999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SQUAT_CLIP.stat().st_size}"
