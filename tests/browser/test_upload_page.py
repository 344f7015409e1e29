"""The upload page in a real browser against the real server and worker: a phone-like H.264 video
of real squats is chosen, analysed in the background, its events posted to the host, and the
video shown with the skeleton and counter drawn over it from the pose timeline (no annotated
copy is rendered unless export=true)."""

import subprocess
from urllib.parse import urlencode

import imageio_ffmpeg
import pytest

from tests.browser.conftest import ARTIFACTS, SQUAT_CLIP
from tests.browser.test_live_tracking import Host, _token

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

ANALYSIS_TIMEOUT_S = 120
CLIP_FRAMES = 103  # 10.3 s at 10 fps: every frame is analysed (the source is under 15 fps)
# Seeks the replayed video, then reports the frame drawn and how many canvas pixels are painted.
SEEK_AND_READ_CANVAS = """async (seconds) => {
  const video = document.querySelector(".ft-replay video");
  if (video.readyState < 1) {
    await new Promise((r) => video.addEventListener("loadedmetadata", r, { once: true }));
  }
  video.currentTime = seconds;
  await new Promise((r) => video.addEventListener("seeked", r, { once: true }));
  await new Promise((r) => setTimeout(r, 300));
  const canvas = document.querySelector(".ft-replay canvas");
  const context = canvas.getContext("2d");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return { painted, frameMs: Number(video.parentElement.dataset.frameMs) };
}"""


@pytest.fixture(scope="module")
def phone_video(tmp_path_factory):
    """The squat clip as H.264, as phones record (Chromium does not play its MPEG-4 part 2)."""
    target = tmp_path_factory.mktemp("phone") / "squats.mp4"
    subprocess.run(  # noqa: S603 - the FFmpeg of the imageio-ffmpeg wheel, fixed arguments
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            str(SQUAT_CLIP),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(target),
        ],
        check=True,
    )
    return target


async def test_a_chosen_video_is_analysed_and_shown_with_its_skeleton_and_counter(
    launch_browser, server_url, host_origin, worker, phone_video
):
    _, token = await _token()
    browser = await launch_browser()
    page = await browser.new_page(viewport={"width": 640, "height": 900})
    host = Host(page, server_url)
    src = f"{server_url}/pose_tracker/upload_tracking?token={token}&exercise=squat"
    await page.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")
    await page.wait_for_selector("#tracker")
    tracker = await (await page.query_selector("#tracker")).content_frame()
    await tracker.wait_for_selector("#file-input", state="attached")
    await tracker.set_input_files("#file-input", str(phone_video))

    summary = await host.wait_for(
        lambda e: e.get("type") == "exercise_summary", ANALYSIS_TIMEOUT_S, "exercise_summary"
    )
    final = [e for e in host.events if e["type"] == "counter" and e.get("final")]
    assert final[-1]["current_count"] == summary["event"]["counter"] == 4
    progress = [e for e in host.events if e["type"] == "initialization"]
    assert progress[-1]["ready"] is True

    replay = await tracker.wait_for_selector(".ft-replay[data-timeline-frames]", timeout=20_000)
    assert await replay.get_attribute("data-timeline-frames") == str(CLIP_FRAMES)
    # Seek into the third squat: the frame drawn is the one at that time, and it has a skeleton.
    drawn = await tracker.evaluate(SEEK_AND_READ_CANVAS, 7.05)
    assert drawn["frameMs"] == 7000.0, drawn
    assert drawn["painted"] > 500, drawn  # the skeleton's bones and the counter panel
    assert await replay.get_attribute("data-video-error") is None
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "upload-page-replay.png"))
