"""A video in a format Chromium cannot play (MPEG-4 part 2 in AVI, as many cameras record) replays
all the same: its analysis makes a small H.264 preview, which the dashboard's upload page and the
upload page play with the skeleton drawn over it, fitted to a phone's and a desktop's screen.
Screenshots go to artifacts/."""

import json
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import services
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_tracking import _in_worker_thread
from tests.browser.test_upload_page import choose_in_the_upload_page
from tests.processes import http, post_upload
from tests.support.clips import SQUAT_CLIP, reencoded_clip
from tracking.models import Upload
from tracking.pose.media import probe_video
from tracking.pose.render import PREVIEW_MAX_SIDE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

ANALYSIS_TIMEOUT_S = 180
SCALE = 4  # the clip is 152×248: a camera-sized 608×992, which the preview scales down
# Plays the replayed video for a moment: its state, how far it got, where its skeleton is drawn.
PLAY_AND_READ = """async () => {
  const video = document.querySelector(".ft-replay video");
  const box = video.parentElement;
  const deadline = Date.now() + 20000;
  while (video.readyState < 2 && !box.dataset.videoError && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (box.dataset.videoError) return { error: true };
  video.muted = true;
  await video.play();
  const from = video.currentTime;
  while (video.currentTime - from < 1.5 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  video.pause();
  await new Promise((r) => setTimeout(r, 300));
  const canvas = box.querySelector("canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  const shown = video.getBoundingClientRect();
  return {
    readyState: video.readyState, played: video.currentTime - from, src: video.currentSrc,
    videoWidth: video.videoWidth, videoHeight: video.videoHeight, painted,
    frameMs: Number(box.dataset.frameMs), right: shown.right, top: shown.top, bottom: shown.bottom,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.fixture(scope="module")
def camera_avi(tmp_path_factory):
    """The real squat clip as a camera records it: MPEG-4 part 2 in AVI, 608×992."""
    return reencoded_clip(
        SQUAT_CLIP,
        tmp_path_factory.mktemp("camera") / "squats.avi",
        *("-vf", f"scale=iw*{SCALE}:ih*{SCALE}", "-c:v", "mpeg4", "-q:v", "4"),
    )


@_in_worker_thread
def _coach():
    """A signed-in coach (the session cookie), with a secret key for the API."""
    user = get_user_model().objects.create_user(username="coach@e2e.test", email="coach@e2e.test")
    org = services.organization_create(name="E2E gym", owner=user, plan="developer")
    _, secret = services.token_create(organization=org, name="e2e")
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value, secret


@_in_worker_thread
def _upload(upload_id) -> Upload:
    return Upload.objects.get(pk=upload_id)


async def _analysed(server_url, secret, path) -> dict:
    status, body = post_upload(server_url, secret, path, exercise="squat")
    assert status == 202, body
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while not (await _upload(body["id"])).is_finished:
        assert time.monotonic() < deadline, "the analysis did not finish"
        time.sleep(0.5)
    status, _, content = http(
        "GET",
        f"{server_url}/api/v1/uploads/{body['id']}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    return json.loads(content)


async def test_a_video_chromium_cannot_play_replays_from_its_preview_on_phone_and_desktop(
    launch_browser, server_url, worker, camera_avi, tmp_path
):
    cookie, secret = await _coach()
    upload = await _analysed(server_url, secret, camera_avi)
    assert upload["status"] == "done", upload["error"]
    assert upload["results"]["counter"] == 4

    # The preview: H.264 MP4, scaled down to PREVIEW_MAX_SIDE, no audio, served as video/mp4.
    # Links are absolute on SITE_URL, for API clients: this server is on another port.
    status, headers, preview = http("GET", server_url + urlsplit(upload["preview_url"]).path)
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    assert preview[4:8] == b"ftyp" and b"avc1" in preview and b"moov" in preview[:4096]
    (tmp_path / "preview.mp4").write_bytes(preview)
    info = probe_video(tmp_path / "preview.mp4")
    assert (info.width, info.height) == (440, PREVIEW_MAX_SIDE) and info.codec == "h264"
    assert abs(info.duration_s - 10.3) < 0.2
    assert b"soun" not in preview  # no audio track

    browser = await launch_browser("--autoplay-policy=no-user-gesture-required")
    for width, height in ((1280, 900), (390, 844)):
        context = await browser.new_context(viewport={"width": width, "height": height})
        await context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": server_url}]
        )
        page = await context.new_page()
        # The original is what Chromium cannot play: the case this is about.
        await page.goto(f"{server_url}/dashboard/uploads/{upload['id']}/")
        original = await page.get_attribute("a[download]", "href")
        assert (
            await page.evaluate(
                """(src) => new Promise((done) => {
                 const video = document.createElement("video");
                 video.onerror = () => done(video.error.code);
                 video.onloadeddata = () => done(0);
                 video.src = src;
               })""",
                original,
            )
            == 4
        )  # MEDIA_ERR_SRC_NOT_SUPPORTED

        await page.wait_for_selector(".ft-replay[data-timeline-frames]", timeout=20_000)
        played = await page.evaluate(PLAY_AND_READ)
        assert not played.get("error"), played
        assert played["readyState"] >= 2 and played["played"] >= 1.5, played
        assert played["videoHeight"] == PREVIEW_MAX_SIDE, played  # the preview, as the source
        assert abs(played["videoWidth"] / played["videoHeight"] - 152 / 248) < 0.01, played
        assert played["painted"] > 500 and played["frameMs"] > 0, played  # skeleton and counter
        # Fitted to the page: no wider than the screen, no taller than most of it.
        assert played["pageWidth"] <= width and played["right"] <= width, played
        await page.locator(".ft-replay").scroll_into_view_if_needed()
        box = await page.locator(".ft-replay video").bounding_box()
        assert box["height"] <= 0.75 * height, box
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"upload-replay-avi-{width}.png"))
        await context.close()


async def test_the_upload_page_replays_a_chosen_video_chromium_cannot_play_from_its_preview(
    launch_browser, server_url, host_origin, worker, camera_avi
):
    browser = await launch_browser("--autoplay-policy=no-user-gesture-required")
    host, tracker = await choose_in_the_upload_page(browser, server_url, host_origin, camera_avi)
    await host.wait_for(
        lambda e: e.get("type") == "exercise_summary", ANALYSIS_TIMEOUT_S, "exercise_summary"
    )
    await tracker.wait_for_selector(".ft-replay[data-timeline-frames]", timeout=20_000)
    played = await tracker.evaluate(PLAY_AND_READ)
    assert not played.get("error"), played
    assert "/files/" in played["src"], played  # the preview, not the chosen file
    assert played["readyState"] >= 2 and played["played"] >= 1.5, played
    assert played["painted"] > 500, played
    # Fitted to the page in the host's frame (640 px high): wholly in view once scrolled to.
    frame_height = await tracker.evaluate("innerHeight")
    assert played["bottom"] - played["top"] <= 0.8 * frame_height + 1, played
    await tracker.locator(".ft-replay").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    await host.page.screenshot(path=str(ARTIFACTS / "upload-page-replay-avi.png"))
