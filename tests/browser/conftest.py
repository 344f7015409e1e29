"""End-to-end fixtures: the real server (Daphne, in its own process) on pytest-django's test
database, a host page on another origin, and headless Chromium whose camera plays a real clip.

The server is a separate process, so it must reach the very database the tests write to:
- PostgreSQL (CI): the test database pytest-django creates, by name, through DATABASE_URL;
- SQLite (`make test` without DATABASE_URL): an in-memory database is invisible to another
  process, so when browser tests are selected the test database is created as a file instead
  (pytest_collection_finish below, before any database exists).
Tests use `transaction=True`, so what they write is committed and the server sees it.
"""

import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
import pytest_asyncio

from tests.background import worker_queue
from tests.processes import Processes, server_database_url
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, fake_camera_args
from tests.support.clips import BALANCE_CLIP, CLIPS, SQUAT_CLIP, clip_to_y4m, half_squat_frames
from tests.support.needs import IN_CI
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
VENDOR = ROOT / "static" / "vendor" / "mediapipe"
SERVER_LOG = "live-tracking-daphne"
# Real cameras deliver about 30 frames a second: each 10 fps frame of the clip is shown 3 times.
CAMERA_REPEAT = 3


def pytest_collection_finish(session):
    """Browser tests on SQLite: make pytest-django create its test database as a file."""
    if not any(item.get_closest_marker("browser") for item in session.items):
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    if test.get("NAME") and test["NAME"] != ":memory:" and "mode=memory" not in test["NAME"]:
        return
    # On tmpfs where there is one: the rest of the suite then runs as fast as in memory.
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp below makes a private (0700) directory in it
    directory = tempfile.mkdtemp(prefix="formtrack-e2e-db-", dir=shm if shm.is_dir() else None)
    session.config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
    # The same dict Django's connection reads its settings from: set before the database exists.
    test["NAME"] = str(Path(directory) / "test.sqlite3")


@pytest.fixture(scope="session")
def chromium_path():
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        (pytest.fail if IN_CI else pytest.skip)(missing)
    return CHROMIUM


@pytest.fixture(scope="session")
def squat_camera(tmp_path_factory) -> Path:
    """The squat clip (10 fps, 152×248, 4 reps in 10.3 s) as a looping fake camera file: each
    frame upscaled to a more camera-like size and shown 3 times, as real cameras deliver about
    30 frames a second."""
    path = tmp_path_factory.mktemp("camera") / "squat.y4m"
    clip_to_y4m(SQUAT_CLIP, path, scale=2, repeat=CAMERA_REPEAT)
    return path


@pytest.fixture(scope="session")
def half_squat_camera(tmp_path_factory) -> Path:
    """The squat clip without the deep half of each squat (half_squat_frames), as squat_camera."""
    path = tmp_path_factory.mktemp("camera") / "half-squat.y4m"
    clip_to_y4m(SQUAT_CLIP, path, scale=2, repeat=CAMERA_REPEAT, keep=half_squat_frames())
    return path


@pytest.fixture(scope="session")
def balance_camera(tmp_path_factory) -> Path:
    """A person standing on one leg (pose_1.mp4, 30 fps, 4 s) as a looping fake camera."""
    path = tmp_path_factory.mktemp("camera") / "balance.y4m"
    clip_to_y4m(BALANCE_CLIP, path)
    return path


@pytest.fixture(scope="session")
def side_bend_camera(tmp_path_factory) -> Path:
    """QuickPose's trunk side bend (health-back-rom.mp4, 10 fps, 3.6 s: one bend to the person's
    left, 21° on the vendor's readout) as a looping fake camera, as squat_camera."""
    path = tmp_path_factory.mktemp("camera") / "side-bend.y4m"
    clip_to_y4m(CLIPS / "health-back-rom.mp4", path, scale=2, repeat=CAMERA_REPEAT)
    return path


@pytest.fixture(scope="module")
def server_url(django_db_setup, django_db_blocker, chromium_path, shared_media):
    """A real Daphne serving config.asgi on a free port, on the test database; yields its URL.

    It is the deployed entry point (config.daphne), and it shares the media folder and the job
    queue of the tests' Celery worker (the `worker` fixture), so uploads made in the browser are
    analysed (without Celery, in the server's own background pool). Its log is
    artifacts/live-tracking-daphne.log, the last run's, for failures."""
    assert (VENDOR / "models" / "pose_landmarker_lite.task").exists(), (
        "the browser pose runtime is missing: run `bash scripts/install_models.sh`"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{SERVER_LOG}.log").unlink(missing_ok=True)
    processes = Processes(ARTIFACTS, base_env=dict(os.environ))
    port = free_port()
    env = {
        "DATABASE_URL": server_database_url(),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        "MEDIA_ROOT": str(shared_media),
        "CELERY_QUEUE": worker_queue(),
        "PYTHONUNBUFFERED": "1",
    }
    try:
        processes.daphne(SERVER_LOG, port, env)
        yield f"http://127.0.0.1:{port}"
    finally:
        with django_db_blocker.unblock():  # closing looks for database sessions left behind
            processes.close()


# The host app: embeds the tracking page as a cross-origin iframe (the URL comes in its query) and
# records every message the page posts, as PoseTracker's web example does (posetracker-api.md §4.1,
# §8): it checks the message's origin, then JSON-parses event.data.
HOST_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>Host app</title></head>
<body style="margin:0;background:#222">
<iframe id="tracker" allow="camera" style="width:480px;height:640px;border:0"></iframe>
<script>
  window.received = [];
  const src = new URLSearchParams(location.search).get("src");
  const TRACKER = new URL(src).origin;
  addEventListener("message", (e) => {
    if (e.origin !== TRACKER) return;
    let event = null;
    try { event = JSON.parse(e.data); } catch (error) {}
    received.push({ at: Date.now(), origin: e.origin, raw: typeof e.data, event });
  });
  document.getElementById("tracker").src = src;
</script>
</body></html>"""


class _HostHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HOST_PAGE)))
        self.end_headers()
        self.wfile.write(HOST_PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def host_origin():
    """A second loopback origin for the host page (Chromium refuses loopback iframes in pages
    from non-local origins, so the host is a real local server too)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# The async API: the sync one keeps an event loop running in the test thread for its whole life,
# and Django refuses database access from a thread with a running loop.
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def playwright_driver(chromium_path):
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        yield driver


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def camera_browser(playwright_driver, chromium_path, squat_camera):
    """Chromium whose camera is the squat clip, with camera permission granted."""
    browser = await playwright_driver.chromium.launch(
        executable_path=str(chromium_path),
        args=[*CHROMIUM_ARGS, *fake_camera_args(squat_camera)],
    )
    yield browser
    await browser.close()


@pytest_asyncio.fixture(loop_scope="module")
async def launch_browser(playwright_driver, chromium_path):
    """Launch Chromium with extra arguments (closed after the test)."""
    browsers = []

    async def launch(*extra_args):
        browser = await playwright_driver.chromium.launch(
            executable_path=str(chromium_path), args=[*CHROMIUM_ARGS, *extra_args]
        )
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        await browser.close()
