"""What a host posts to the page before it is running, in Chromium against the real server with
the squat clip as the camera: the page of PoseTracker's web example (posetracker-api.md §4.1, an
iframe whose host checks the origin and JSON-parses each message), whose app talks back early:
messages the page has no use for, or the finish of docs/integration.md while the camera is still
being asked for (the person left before allowing it)."""

import asyncio
import time
from urllib.parse import urlencode

import pytest

from tests.browser.test_live_tracking import BOOT_TIMEOUT_S, Host, _token

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

# The host answers the page's `initialization` event with the message `__answerTo` (the first one
# when unset) with `__messages` (a list of JSON values, each posted as it is), as an app does that
# sends its own commands as soon as it hears the page.
HOST_ANSWERS = """
if (window.top === window) {
  addEventListener("message", (e) => {
    let event = null;
    try { event = JSON.parse(e.data); } catch (error) { return; }
    if (window.__answered || !event || event.type !== "initialization") return;
    if (window.__answerTo && event.message !== window.__answerTo) return;
    window.__answered = event.message;
    for (const message of window.__messages || []) e.source.postMessage(message, e.origin);
  });
}
"""

# In the tracking frame: every camera track the page opens, and the camera answering only once
# the host's finish has reached the page, as a permission prompt does when the person is slow.
CAMERA_AFTER_FINISH = """
if (window.top !== window) {
  window.__tracks = [];
  const finished = new Promise((resolve) => addEventListener("message", (e) => {
    if (typeof e.data === "string" && e.data.includes("finish")) resolve();
  }));
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    await finished;
    const stream = await open(constraints);
    window.__tracks.push(...stream.getTracks());
    return stream;
  };
}
"""


async def test_messages_a_host_posts_before_the_page_runs_do_not_stop_it(
    camera_browser, server_url, host_origin
):
    _, token = await _token()
    page = await camera_browser.new_page(viewport={"width": 480, "height": 640})
    junk = '["hello", 42, "null", "{\\"type\\": null}", {"type": "start"}, null, "stop"]'
    await page.add_init_script(f"window.__messages = {junk};" + HOST_ANSWERS)
    host = await _host_on(page, server_url, host_origin, token)

    await host.wait_for(lambda e: e.get("type") == "counter", BOOT_TIMEOUT_S, "counter")
    assert await page.evaluate("window.__answered") == "checking you plan and access"
    assert not [e for e in host.events if e["type"] == "error"]
    await page.close()


async def test_a_host_finishing_before_the_camera_opens_leaves_the_camera_off(
    camera_browser, server_url, host_origin
):
    _, token = await _token()
    page = await camera_browser.new_page(viewport={"width": 480, "height": 640})
    finish = '[JSON.stringify({type: "finish"})]'
    answer = f'window.__messages = {finish}; window.__answerTo = "accessing webcam";'
    await page.add_init_script(answer + HOST_ANSWERS + CAMERA_AFTER_FINISH)
    host = await _host_on(page, server_url, host_origin, token)

    tracker = host.tracker()
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while not await tracker.evaluate("window.__tracks.length"):
        assert time.monotonic() < deadline, "the page never asked for the camera"
        await asyncio.sleep(0.1)
    # The camera opened after the host finished: the page closes it again, and goes no further.
    while await tracker.evaluate("window.__tracks.some((t) => t.readyState === 'live')"):
        assert time.monotonic() < deadline, "the camera stayed on after the host finished"
        await asyncio.sleep(0.1)
    await host.wait_for_socket_close(20)
    booted = [e["message"] for e in host.events if e["type"] == "initialization"]
    assert booted == ["checking you plan and access", "accessing webcam"]
    assert not [e for e in host.events if e["type"] in ("counter", "exercise_summary")]
    assert not await tracker.evaluate("window.__tracks.some((t) => t.readyState === 'live')")
    await page.close()


async def _host_on(page, server_url, host_origin, token) -> Host:
    host = Host(page, server_url)
    page.on("websocket", host._watch_socket)
    src = f"{server_url}/pose_tracker/tracking?token={token}&exercise=squat"
    await page.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")
    return host
