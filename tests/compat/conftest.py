"""The compatibility suite (PoseTracker's own integration code is the test) runs the browser
fixtures of tests/browser: one real server, the squat clip as the camera, one Chromium launcher."""

from tests.browser.conftest import (  # noqa: F401 - fixtures and hook, shared as they are
    camera_browser,
    chromium_path,
    host_origin,
    launch_browser,
    playwright_driver,
    pytest_collection_finish,
    server_url,
    squat_camera,
)
