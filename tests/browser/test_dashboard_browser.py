"""The dashboard in headless Chromium, end to end: sign up → the organisation exists → create a
token → copy the playground URL → the playground shows live events from a real clip used as the
camera. Screenshots go to artifacts/ (gitignored).

The server is a real Daphne process (HTTP + WebSockets) on its own SQLite file, so the test sees
the product as a customer does. It keeps its own server (a fresh SQLite file) and fake camera, so
the sign-up flow starts from an empty database.
"""

import base64
import csv
import io
import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.clips import (
    SQUAT_CLIP,
    clip_landmarks,
    clip_to_y4m,
    stamped_frame_index,
)
from tests.support.needs import needs
from tests.support.servers import Processes, free_port, manage, standalone_env, wait_until
from tracking.pose.media import iter_video_frames

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
# The clip's second squat, leaving and back to standing (milliseconds of clip time, 10 fps).
SECOND_SQUAT_MS = (3100, 4800)
TRIM_MARGIN_MS = 400
_SQUAT = clip_landmarks(SQUAT_CLIP)
CLIP_FRAME_MS, CLIP_HEIGHT = 1000 / _SQUAT["fps"], _SQUAT["image_height"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    needs(not Path(CHROMIUM).exists(), "needs /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """FormTrack's server on a free loopback port with a fresh SQLite database."""
    home = tmp_path_factory.mktemp("dashboard-server")
    port = free_port()
    env = standalone_env(
        home,
        SITE_URL=f"http://127.0.0.1:{port}",
        BACKGROUND_RUNNER="thread",
        CELERY_BROKER_URL="memory://",
        DJANGO_DEBUG="True",
    )
    manage(env, "migrate", "--noinput", "-v0")
    processes = Processes(home, base_env=env)
    try:
        processes.daphne("daphne", port)
        yield f"http://127.0.0.1:{port}"
    finally:
        processes.close()


@pytest.fixture(scope="module")
def fake_camera(tmp_path_factory) -> Path:
    """The real squat clip as a .y4m file, the format Chromium's fake camera plays in a loop,
    each frame stamped with its index in the clip (tests/support/clips.py)."""
    target = tmp_path_factory.mktemp("camera") / "squat.y4m"
    clip_to_y4m(SQUAT_CLIP, target, stamped=True)
    return target


@pytest.fixture(scope="module")
def browser(fake_camera):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={fake_camera}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def api_me(base: str, token: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own local server
        base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def sign_up(page, server: str, email: str) -> None:
    page.goto(server + "/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", "e2e-Very-secret-1")
    page.fill("input[name=password2]", "e2e-Very-secret-1")
    page.click("button[type=submit]")
    page.wait_for_url(server + "/dashboard/")


def test_sign_up_create_a_token_and_watch_live_events_in_the_playground(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["camera", "clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    # Sign up: a new account gets its own organisation, which it owns.
    page.goto(server + "/accounts/signup/")
    shot(page, "signup")
    sign_up(page, server, "e2e@example.com")
    assert page.inner_text("h1") == "e2e's team"
    assert "Owner" in page.inner_text(".org-meta")
    shot(page, "overview")

    # Create a secret key for the server: shown once, with a copy button; it calls the API.
    page.click("a.button:has-text('Create a key')")
    page.check("input[name=kind][value=secret]")
    page.fill("input[name=name]", "E2E server")
    page.click("button:has-text('Create key')")
    secret = page.inner_text("#new-token-value").strip()
    assert secret.startswith("ft_live_")
    me = api_me(server, secret)
    assert me["organization"]["name"] == "e2e's team" and me["token"]["name"] == "E2E server"
    page.reload()
    assert secret not in page.content()

    # The default is a publishable key, for the page: the API refuses it.
    page.click("a.button:has-text('Create a key')")
    page.fill("input[name=name]", "E2E app")
    page.click("button:has-text('Create key')")
    token = page.inner_text("#new-token-value").strip()
    assert token.startswith("ft_pub_")
    shot(page, "token-created")
    with pytest.raises(urllib.error.HTTPError) as refused:
        api_me(server, token)
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["code"] == "secret_key_required"

    # Playground: paste the token, copy the URL, start, and watch the events.
    page.goto(server + "/dashboard/playground/")
    page.fill("#pg-token", token)
    page.select_option("#pg-exercise", "squat")
    page.click("#pg-copy-url")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.inner_text("#pg-url").strip()
    assert copied.startswith(server + "/pose_tracker/tracking?token=" + token)
    assert "exercise=squat" in copied
    page.click("#pg-start")
    frame = page.frame_locator("#pg-frame")
    frame.locator("body").wait_for(timeout=30_000)

    # The engine's events, computed from the real clip playing as the camera, appear in the log.
    page.wait_for_selector("#pg-log li[data-type=posture]", timeout=120_000)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # A rep counted too is nice to see in the screenshot; posture already proves the flow.
        page.wait_for_selector("#pg-log li[data-type=counter]", timeout=60_000)
    except PlaywrightTimeout:
        print("no counter event within 60 s")  # noqa: T201
    shot(page, "playground")
    types = set(page.eval_on_selector_all("#pg-log li", "rows => rows.map(r => r.dataset.type)"))
    assert "posture" in types, types
    assert "error" not in types, page.inner_text("#pg-log")
    assert not problems, problems
    context.close()


def test_dashboard_on_a_phone_sized_screen(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_up(page, server, "phone@example.com")
    for path in (
        "/dashboard/",
        "/dashboard/usage/",
        "/dashboard/tokens/",
        "/dashboard/playground/",
    ):
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    shot(page, "phone-playground")
    context.close()


def usage_seconds_and_calls(page, server: str) -> tuple[float, int]:
    """This month's live seconds tracked and calls, from the usage CSV the dashboard offers."""
    response = page.request.get(server + "/dashboard/usage.csv?group_by=day")
    assert response.ok, response.status
    rows = list(csv.DictReader(io.StringIO(response.text())))
    return sum(float(r["seconds_tracked"]) for r in rows), sum(int(r["calls"]) for r in rows)


def tracked_playground_session(page, server: str) -> tuple[float, float]:
    """Start the playground and let the real clip be tracked until a rep is counted; the monotonic
    times of the start (before the session) and of the first engine event (after its start)."""
    page.goto(server + "/dashboard/playground/")
    started = time.monotonic()
    page.click("#pg-start")
    page.wait_for_selector("#pg-log li[data-type=posture]", timeout=120_000)
    seen = time.monotonic()
    page.wait_for_selector("#pg-log li[data-type=counter]", timeout=60_000)
    return started, seen


@pytest.mark.parametrize("ending", ["stop_button", "tab_closed"])
def test_a_playground_session_records_its_seconds_when_it_ends(server, browser, ending):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["camera"], origin=server)
    page = context.new_page()
    sign_up(page, server, f"{ending}@example.com")
    page.goto(server + "/dashboard/playground/")
    page.click("#playground-token-button")
    page.wait_for_selector("#playground-token-info")
    before = usage_seconds_and_calls(page, server)

    playground = page if ending == "stop_button" else context.new_page()
    started, seen = tracked_playground_session(playground, server)
    # The session is tracked from before `seen` until after this moment (the stop or the close).
    ending_at = time.monotonic()
    if ending == "stop_button":
        page.click("#pg-stop")
        # Stop finishes the session as a host does: the page's summary arrives, then it goes.
        page.wait_for_selector("#pg-log li[data-type=exercise_summary]", timeout=10_000)
        page.wait_for_selector("#pg-frame", state="detached", timeout=10_000)
        shot(page, "playground-stopped")
    else:
        playground.close()
    ended = time.monotonic()

    def recorded():
        seconds, calls = usage_seconds_and_calls(page, server)
        return calls == before[1] + 1 and seconds > before[0] and seconds - before[0]

    # Recorded as the session ends: not when an orphaned socket times out (60 s idle), or never.
    tracked = wait_until(recorded, 15, "the session's seconds in the usage report")
    bounds = (ending_at - seen, ended - started + 5)
    assert bounds[0] <= tracked <= bounds[1], (tracked, bounds)
    context.close()


def test_record_a_reference_with_the_webcam_trim_it_and_see_its_skeleton(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.grant_permissions(["camera"], origin=server)
    page = context.new_page()
    sign_up(page, server, "coach@example.com")
    page.goto(server + "/dashboard/references/new/")
    page.fill("input[name=name]", "Webcam squat")
    page.click("#tab-record")
    # The fake camera plays the clip in a loop from when it opens, and the recording starts a
    # moment later: how long later depends on the machine. Its first squat is shallower than the
    # others, so the coach keeps the second one: record until the camera has shown all of it, then
    # find it in the recording by the clip frames it holds (each stamped with its index).
    page.click("#camera-start")
    page.wait_for_function("document.getElementById('camera').readyState >= 2")
    page.click("#record-start")
    wanted_ms = (SECOND_SQUAT_MS[0] - TRIM_MARGIN_MS, SECOND_SQUAT_MS[1] + TRIM_MARGIN_MS)
    wait_until(
        camera_showing_all_of(page, wanted_ms),
        60,
        f"the camera to show clip time {wanted_ms} while recording",
    )
    page.click("#record-stop")
    page.wait_for_function("Number(document.querySelector('[name=trim_end_ms]').value) > 0")
    recorded_ms = int(page.input_value("[name=trim_end_ms]"))
    want_start, want_end = span_in_recording(recorded_frames(page, tmp_path), wanted_ms)
    # Trim with the sliders (the keyboard moves them 10 ms a press, like a person would).
    page.focus("#trim-start-range")
    for _ in range(round(want_start / 10)):
        page.keyboard.press("ArrowRight")
    page.focus("#trim-end-range")
    for _ in range(round(max(0, recorded_ms - want_end) / 10)):
        page.keyboard.press("ArrowLeft")
    start = int(page.input_value("[name=trim_start_ms]"))
    end = int(page.input_value("[name=trim_end_ms]"))
    assert 0 < start < end < recorded_ms, (start, end, recorded_ms, want_start, want_end)
    shot(page, "reference-record")
    page.click("#reference-save")
    page.wait_for_url("**/dashboard/references/*/")
    page.wait_for_selector("#status-badge:has-text('Ready')", timeout=120_000)
    page.wait_for_function("Number(document.getElementById('skeleton').dataset.frame || -1) >= 0")
    uuid = page.inner_text("#reference-uuid").strip()
    assert uuid in page.inner_text("#tracking-url")
    shot(page, "reference-detail")

    # Track with the new UUID: the same clip plays as the camera, and is scored against it.
    page.goto(server + "/dashboard/tokens/")
    page.click("a.button:has-text('Create a key')")
    page.fill("input[name=name]", "Reference app")
    page.click("button:has-text('Create key')")
    token = page.inner_text("#new-token-value").strip()
    page.goto(server + "/dashboard/playground/")
    page.fill("#pg-token", token)
    page.select_option("#pg-reference", uuid)
    page.click("#pg-start")
    page.wait_for_selector("#pg-log li[data-type=posture]", timeout=120_000)
    page.wait_for_selector("#pg-log li[data-type=reference_score]", timeout=120_000)
    shot(page, "reference-tracking")
    types = set(page.eval_on_selector_all("#pg-log li", "rows => rows.map(r => r.dataset.type)"))
    assert "error" not in types, page.inner_text("#pg-log")
    context.close()


def clip_ms_of(picture: np.ndarray) -> float | None:
    """Which moment of the clip a camera picture shows, by its stamp."""
    index = stamped_frame_index(picture, CLIP_HEIGHT)
    return None if index is None else index * CLIP_FRAME_MS


def camera_showing_all_of(page, span_ms: tuple[float, float]):
    """A condition: since it was made, the camera preview has shown the clip from `span_ms[0]` or
    before to `span_ms[1]` or after, without looping in between."""
    start_shown, previous_ms = False, None

    def shown() -> bool:
        nonlocal start_shown, previous_ms
        data_url = page.evaluate(
            """() => {
                const video = document.getElementById("camera");
                const canvas = document.createElement("canvas");
                canvas.width = video.videoWidth;
                canvas.height = video.videoHeight;
                canvas.getContext("2d").drawImage(video, 0, 0);
                return canvas.toDataURL("image/png");
            }"""
        )
        png = np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8)
        clip_ms = clip_ms_of(cv2.imdecode(png, cv2.IMREAD_COLOR))
        if clip_ms is None:
            return False
        if previous_ms is not None and clip_ms < previous_ms:
            start_shown = False  # the clip looped
        previous_ms = clip_ms
        start_shown = start_shown or clip_ms <= span_ms[0]
        return start_shown and clip_ms >= span_ms[1]

    return shown


def recorded_frames(page, tmp_path: Path) -> list[tuple[float, float]]:
    """(recording time, clip time) of every frame of the recording the page made, in ms: the
    recording's own timestamps, as the server reads them when it trims."""
    data_url = page.evaluate(
        """async () => {
            const blob = await (await fetch(document.getElementById("preview").src)).blob();
            return await new Promise((resolve) => {
                const reader = new FileReader();
                reader.onload = () => resolve(reader.result);
                reader.readAsDataURL(blob);
            });
        }"""
    )
    path = tmp_path / "recording"
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
    frames = []
    for picture, timestamp_ms, _ in iter_video_frames(path, analysis_fps=1000):
        clip_ms = clip_ms_of(picture)
        if clip_ms is not None:
            frames.append((timestamp_ms, clip_ms))
    return frames


def span_in_recording(frames, span_ms: tuple[float, float]) -> tuple[float, float]:
    """Where in the recording the camera went from clip time `span_ms[0]` to `span_ms[1]`: the
    last frame at or before the first, the first at or after the second, with no loop between."""
    start, previous = None, None
    for recorded_ms, clip_ms in frames:
        if previous is not None and clip_ms < previous:
            start = None  # the clip looped
        previous = clip_ms
        if clip_ms <= span_ms[0]:
            start = recorded_ms
        elif start is not None and clip_ms >= span_ms[1]:
            return start, recorded_ms
    raise AssertionError(f"clip time {span_ms} is not in the recording: {frames}")


@pytest.fixture(scope="module", autouse=True)
def _keep_artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    yield
    if not any(ARTIFACTS.iterdir()):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
