"""Headless Chromium as the browser tests and bench/first_pose.py run it: Debian's build, with
what it would do in the background switched off, and a fake camera that plays a clip file (Y4M,
tests.support.clips.clip_to_y4m) with its permission granted."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def fake_camera_args(camera: Path) -> list[str]:
    """Chromium's camera plays `camera`, and pages may use it without asking."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
