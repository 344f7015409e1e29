"""The live tracking page in a real browser, against the real server, with a real squat clip as
the camera: boot sequence, events posted to the host, four reps per pass of the clip, in-browser
and server inference, camera failures.

Timing: Chromium loops the clip (4 squats in 10.3 s) from the moment the camera opens, while the
page is still loading its model, so the first rep of the first pass may pass unseen. The count is
therefore read over one pass measured from the first counted rep: each pass has its reps about
2.5 s apart, so reading the count 1.2 s after one pass length has a margin of more than a second on
both sides for a rep that arrives late or early.
"""

import asyncio
import json
import re
import time
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Sum

from accounts import services
from accounts.models import MonthlyUsage, UsageRecord
from config.db_unavailable import service_unavailable
from tests.browser.conftest import ARTIFACTS
from tracking.live import server_busy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

PASS_S = 103 / 10  # the clip: 103 frames at 10 fps
REPS_PER_PASS = 4
READ_MARGIN_S = 1.2
BOOT_TIMEOUT_S = 90  # model download and wasm compile on a busy 2-core machine
FIRST_REP_TIMEOUT_S = PASS_S * 2
BOOT_SEQUENCE = [
    ("checking you plan and access", False),
    ("accessing webcam", False),
    ("loading pose model", False),
    ("running", True),
]


def _in_worker_thread(function):
    """Run database work off the event loop; close the thread's connection afterwards, or
    PostgreSQL refuses to drop the test database at the end (a session is still using it)."""

    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run)


@_in_worker_thread
def _token(allowed_origins=()):
    user = get_user_model().objects.create_user(username="coach@e2e.test", email="coach@e2e.test")
    org = services.organization_create(name="E2E gym", owner=user, plan="developer")
    _, raw = services.token_create(
        organization=org, name="e2e", allowed_origins=list(allowed_origins)
    )
    return org, raw


@_in_worker_thread
def _live_calls(org):
    # Summed over days: a session that opened before midnight is counted on that day.
    usage = UsageRecord.objects.filter(organization=org, kind="live").aggregate(calls=Sum("calls"))
    return usage["calls"]


@_in_worker_thread
def _calls_this_month(org):
    usage = MonthlyUsage.objects.filter(organization=org).first()
    return usage.calls if usage else 0


class Host:
    """The host page in Chromium and the messages the tracking iframe posted to it."""

    def __init__(self, page, server_url):
        self.page = page
        self.server_url = server_url
        self.received = []
        self.frames_sent = []  # payload of every WebSocket frame the page sent: str or bytes
        self.sockets_closed = 0

    @classmethod
    async def open(cls, browser, server_url, host_origin, query):
        host = cls(await browser.new_page(viewport={"width": 480, "height": 640}), server_url)
        host.page.on("websocket", host._watch_socket)
        src = f"{server_url}/pose_tracker/tracking?{urlencode(query)}"
        await host.page.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")
        return host

    def _watch_socket(self, socket):
        if "/ws/pose_tracker/tracking" in socket.url:
            socket.on("framesent", lambda payload: self.frames_sent.append(payload))
            socket.on("close", lambda _: setattr(self, "sockets_closed", self.sockets_closed + 1))

    async def wait_for_socket_close(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while not self.sockets_closed:
            if time.monotonic() > deadline:
                raise AssertionError(f"the tracking socket stayed open for {timeout_s:.0f} s")
            await asyncio.sleep(0.1)
        await self.poll()

    @property
    def events(self):
        return [message["event"] for message in self.received]

    async def poll(self):
        self.received += await self.page.evaluate("(n) => received.slice(n)", len(self.received))

    async def wait_for(self, predicate, timeout_s, what):
        deadline = time.monotonic() + timeout_s
        checked = 0
        while True:
            await self.poll()
            for message in self.received[checked:]:
                if predicate(message["event"] or {}):
                    return message
            checked = len(self.received)
            if time.monotonic() > deadline:
                seen = [(e or {}).get("type") for e in self.events]
                raise AssertionError(f"no {what} within {timeout_s:.0f} s; events seen: {seen}")
            await asyncio.sleep(0.1)

    async def wait_until(self, epoch_ms):
        await self.page.wait_for_function(f"Date.now() >= {epoch_ms}", timeout=(PASS_S + 30) * 1000)
        await self.poll()

    def tracker(self):
        return next(f for f in self.page.frames if f.url.startswith(self.server_url))

    async def finish(self):
        await self.page.evaluate(
            "(origin) => document.getElementById('tracker').contentWindow"
            ".postMessage(JSON.stringify({type: 'finish'}), origin)",
            self.server_url,
        )

    async def screenshot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / name))


# Pixels of the tracking canvas within a small distance of one colour.
COLOURED_PIXELS = """([r, g, b]) => {
  const canvas = document.getElementById("ft-canvas");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    const distance = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
    if (distance < 120) count++;
  }
  return count;
}"""


async def _count_over_one_pass(host):
    """Reps counted during one pass of the clip, from the first counted rep on."""
    first = await host.wait_for(
        lambda e: e.get("type") == "counter", FIRST_REP_TIMEOUT_S, "counter"
    )
    read_at = first["at"] + (PASS_S + READ_MARGIN_S) * 1000
    await host.wait_until(read_at)
    counters = [
        m["event"] for m in host.received if m["event"]["type"] == "counter" and m["at"] <= read_at
    ]
    return counters[-1]["current_count"] - first["event"]["current_count"], counters


async def _run_live_session(host):
    """Boot, then one pass of the clip: the boot sequence, four reps, a grade for each."""
    await host.wait_for(
        lambda e: e.get("type") == "initialization" and e.get("ready"), BOOT_TIMEOUT_S, "running"
    )
    boot = [(e["message"], e["ready"]) for e in host.events if e["type"] == "initialization"]
    assert boot == BOOT_SEQUENCE

    reps, counters = await _count_over_one_pass(host)
    assert reps == REPS_PER_PASS, [c["current_count"] for c in counters]
    for counter in counters:
        assert counter["form_score"]["grade"] in {"A", "B", "C", "D", "F"}, counter


async def _finish(host):
    """The host ends the session: the final counter and the summary arrive."""
    await host.finish()
    message = await host.wait_for(
        lambda e: e.get("type") == "exercise_summary", 20, "exercise_summary"
    )
    final = [e for e in host.events if e["type"] == "counter" and e.get("final")]
    assert final and message["event"]["counter"] == final[-1]["current_count"] >= REPS_PER_PASS


def _check_messages(host, origin):
    # Every message is a JSON string from the tracking page's origin, with a type; the protocol's
    # own messages stay between the page and the server.
    assert host.received
    assert all(m["raw"] == "string" and m["origin"] == origin for m in host.received)
    types = {e["type"] for e in host.events}
    assert not types & {"ack", "session_started"}, types


async def test_in_browser_inference_counts_four_reps_per_pass(
    camera_browser, server_url, host_origin
):
    org, token = await _token()
    # runInWorker defaults to false: ask for the worker, the fast path. The placement parameters
    # PoseTracker's demo app sends are ignored, and the host is told once.
    query = {"token": token, "exercise": "squat", "runInWorker": "true"}
    query |= {"placement": "1", "timer": "3"}
    host = await Host.open(camera_browser, server_url, host_origin, query)
    await _run_live_session(host)
    (ignored,) = [e for e in host.events if e.get("code") == "ignored_parameters"]
    assert (ignored["type"], ignored["parameters"]) == ("warning", ["placement", "timer"])

    environment = next(e for e in host.events if e["type"] == "environment")
    assert environment["poseBackend"] in {"webgl", "wasm"}
    if environment["poseBackend"] == "wasm":
        # poseBackend defaults to webgl: running on the CPU must have been announced.
        assert any(e.get("code") == "backend_fallback_wasm" for e in host.events)
    stats = await host.tracker().evaluate("window.FormTrack.stats")
    assert stats["mode"] == "browser" and stats["worker"] is True, stats
    await host.screenshot("live-tracking-browser.png")

    await _finish(host)
    _check_messages(host, server_url)
    # Only landmark numbers left the browser: no picture, ever.
    assert host.frames_sent and not any(isinstance(p, bytes) for p in host.frames_sent)
    landmarks = [json.loads(p) for p in host.frames_sent if '"landmarks"' in p]
    assert landmarks and all(len(m["landmarks"] or []) in (0, 33) for m in landmarks)
    _check_world_landmarks(landmarks)
    assert await _live_calls(org) == 1  # one session: no reconnect happened
    await host.page.close()


def _check_world_landmarks(messages):
    """Every frame with a person carries its world landmarks (33 × [x, y, z], metres around the
    hips, to the millimetre), and a frame without one carries none."""
    seen = [m for m in messages if m["landmarks"]]
    assert seen and all(len(m["world"]) == 33 for m in seen)
    values = [v for m in seen for point in m["world"] for v in point]
    assert all(len(point) == 3 for m in seen for point in m["world"])
    assert all(abs(v) <= 2 and round(v, 3) == v for v in values)
    assert all(m["world"] is None for m in messages if not m["landmarks"])


async def test_in_browser_inference_sends_world_landmarks_and_grades_as_uploads_do(
    camera_browser, server_url, host_origin
):
    """The page's own landmarker (on the page, not in a worker) sends world landmarks, so the
    engine grades the clip's clean squats in 3-D, as it grades the uploaded clip (A): from image
    landmarks alone a front-facing squat's knee angle looks shallow, and they graded B."""
    org, token = await _token()
    host = await Host.open(
        camera_browser, server_url, host_origin, {"token": token, "exercise": "squat"}
    )
    await _run_live_session(host)
    stats = await host.tracker().evaluate("window.FormTrack.stats")
    assert stats["mode"] == "browser" and stats["worker"] is False, stats
    await _finish(host)
    _check_world_landmarks([json.loads(p) for p in host.frames_sent if '"landmarks"' in p])
    (summary,) = [e for e in host.events if e["type"] == "exercise_summary"]
    assert summary["grade"] == "A", summary
    assert all(rep["score"] >= 95 for rep in summary["history"]), summary["history"]
    await host.page.close()


async def test_server_inference_counts_four_reps_per_pass(camera_browser, server_url, host_origin):
    # A token limited to the host's origin: the page posts to that origin only, and still works.
    org, token = await _token(allowed_origins=[host_origin])
    # Bones in a colour the clip does not have: the skeleton drawn from the server's landmarks.
    query = {"token": token, "exercise": "squat", "inference": "server", "skeleton": "#ff00ff"}
    host = await Host.open(camera_browser, server_url, host_origin, query)
    await _run_live_session(host)
    stats = await host.tracker().evaluate("window.FormTrack.stats")
    assert stats["mode"] == "server", stats
    await host.tracker().wait_for_function(
        f"(colour) => ({COLOURED_PIXELS})(colour) > 500", arg=[255, 0, 255], timeout=10_000
    )
    await host.screenshot("live-tracking-server.png")

    await _finish(host)
    _check_messages(host, server_url)
    jpegs = [p for p in host.frames_sent if isinstance(p, bytes)]
    assert jpegs and all(p.startswith(b"\xff\xd8\xff") for p in jpegs)
    assert not any('"landmarks"' in p for p in host.frames_sent if isinstance(p, str))
    assert await _live_calls(org) == 1
    await host.page.close()


@pytest.mark.parametrize(
    ("camera_args", "code"),
    [
        (
            ["--deny-permission-prompts", "--use-fake-device-for-media-stream"],
            "camera_permission_denied",
        ),
        (["--use-fake-ui-for-media-stream"], "camera_not_found"),  # allowed, but no camera
    ],
)
async def test_camera_failure_is_reported_to_the_host(
    launch_browser, server_url, host_origin, camera_args, code
):
    org, token = await _token()
    browser = await launch_browser(*camera_args)
    host = await Host.open(browser, server_url, host_origin, {"token": token, "exercise": "squat"})
    error = (await host.wait_for(lambda e: e.get("type") == "error", 30, "error"))["event"]
    assert error["code"] == code and error["error"] == code and error["message"]
    boot = [e["message"] for e in host.events if e["type"] == "initialization"]
    assert boot == ["checking you plan and access", "accessing webcam"]
    shown = await host.tracker().evaluate("document.getElementById('ft-message').textContent")
    assert shown == error["message"]
    # The page ends its session. Nothing was counted: no count or grade (no "F 0") reaches the
    # host or the screen. Tracking never started: the month's calls are untouched.
    await host.wait_for_socket_close(10)
    assert not [
        e for e in host.events if e["type"] in ("counter", "form_score", "exercise_summary")
    ]
    shown = await host.tracker().evaluate(
        "['ft-count', 'ft-grade'].map((id) => document.getElementById(id))"
        ".map((element) => element.hidden || element.textContent)"
    )
    assert shown == ["0", True]
    assert await _calls_this_month(org) == 0


async def test_the_page_writes_its_own_texts_in_the_language_asked_for(
    launch_browser, server_url, host_origin
):
    _, token = await _token()
    browser = await launch_browser(
        "--deny-permission-prompts", "--use-fake-device-for-media-stream"
    )
    query = {"token": token, "exercise": "squat", "language": "es"}
    host = await Host.open(browser, server_url, host_origin, query)
    error = (await host.wait_for(lambda e: e.get("type") == "error", 30, "error"))["event"]
    assert error["message"] == (
        "Se ha denegado el acceso a la cámara. Permite la cámara para esta aplicación y vuelve a "
        "cargar la página."
    )


@pytest.mark.parametrize(
    "refusal",
    [service_unavailable().to_event(), server_busy().to_event()],
    ids=["database outage", "estimators all taken"],
)
async def test_a_lost_connection_is_resumed_through_a_refusal_that_says_later(
    camera_browser, server_url, host_origin, refusal
):
    """The socket drops mid-session; the server then refuses twice with service_unavailable (what
    it sends while its database is down) or server_busy (while the process's pose estimators are
    all taken) before it takes the page back: the page waits as asked, resumes, and the host's
    count goes on from where it was, without an error reaching it."""
    org, token = await _token()
    query = {"token": token, "exercise": "squat", "inference": "server"}
    page = await camera_browser.new_page(viewport={"width": 480, "height": 640})
    host = Host(page, server_url)
    attempts, servers = [], []

    async def route(socket):
        attempts.append(socket)
        if len(attempts) in (2, 3):
            socket.send(json.dumps(refusal | {"retryAfter": 1}))
            await socket.close(code=4503)
        else:
            servers.append(socket.connect_to_server())

    await page.context.route_web_socket(re.compile(r"/ws/pose_tracker/tracking\?"), route)
    src = f"{server_url}/pose_tracker/tracking?{urlencode(query)}"
    await page.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")
    await host.wait_for(
        lambda e: e.get("type") == "initialization" and e.get("ready"), BOOT_TIMEOUT_S, "running"
    )
    await host.wait_for(lambda e: e.get("type") == "counter", FIRST_REP_TIMEOUT_S, "counter")

    await attempts[0].close(code=1012)  # "service restart"
    await servers[0].close()
    lost = await host.wait_for(lambda e: e.get("code") == "connection_lost", 10, "warning")
    assert lost["event"]["type"] == "warning"
    counted = max(e["current_count"] for e in host.events if e["type"] == "counter")
    resumed = await host.wait_for(
        lambda e: e.get("type") == "counter" and len(attempts) == 4, 30, "a counter after resuming"
    )
    assert resumed["at"] > lost["at"] and resumed["event"]["current_count"] > counted
    assert len(attempts) == 4
    assert await _live_calls(org) == 1  # the resumed session is the page's same session

    await host.finish()
    summary = await host.wait_for(lambda e: e.get("type") == "exercise_summary", 20, "summary")
    final = [e for e in host.events if e["type"] == "counter" and e.get("final")][-1]
    assert summary["event"]["counter"] == final["current_count"] > counted
    assert summary["event"]["resumedSessions"] == 1
    counts = [e["current_count"] for e in host.events if e["type"] == "counter"]
    assert counts == sorted(counts), counts  # the host's count never went back
    assert not [e for e in host.events if e["type"] == "error"]
    await page.close()
