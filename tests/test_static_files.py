"""Static files as the pages need them fast: they preload their scripts' modules, the live page
the pose model and runtime it runs, and in production (`collectstatic` with SERVE_STATIC=False,
served by deploy/nginx.conf) every file they ask for is named by its content's hash, which
browsers may keep for a year."""

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import sync_playwright

from tests.processes import Processes, http, seeded_sqlite
from tests.support import servers
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, fake_camera_args
from tests.support.clips import SQUAT_CLIP, clip_to_y4m
from tests.support.needs import needs_tool
from tests.support.servers import (
    free_port,
    manage,
    nginx_config,
    port_open,
    production_settings,
    standalone_env,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")
HASHED_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticfiles.HashedStaticFilesStorage"},
}


def _attribute(html: str, name: str) -> str:
    return re.search(rf'{name}="([^"]+)"', html).group(1)


def _preloads(html: str) -> dict[str, str]:
    """href -> rel of the page's preload links."""
    links = re.findall(r'<link rel="(preload|modulepreload)" href="([^"]+)"', html)
    return {href: rel for rel, href in links}


@pytest.mark.django_db
def test_the_live_page_preloads_the_model_it_runs_and_the_runtimes_script(client, acme_token):
    query = {"token": acme_token, "exercise": "squat", "blazepose": "true"}
    html = client.get("/pose_tracker/tracking", query).content.decode()
    model = _attribute(html, "data-model")
    assert model.endswith("/pose_landmarker_full.task")
    assert _preloads(html) == {
        model: "preload",
        _attribute(html, "data-vision-module"): "modulepreload",
    } | {f"/static/{m}": "modulepreload" for m in _imported("formtrack/live/main.js")}


def _imported(entry: str) -> set[str]:
    """The static paths of the modules `entry` imports, however deep, read from the files."""
    found, pending = set(), [Path(entry)]
    while pending:
        module = pending.pop()
        source = (ROOT / "static" / module).read_text()
        for name in _module_imports(source):
            path = Path(os.path.normpath(module.parent / name))
            if path.as_posix() not in found:
                found.add(path.as_posix())
                pending.append(path)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "entry"),
    [
        ("/pose_tracker/tracking", "formtrack/live/main.js"),
        ("/pose_tracker/upload_tracking", "formtrack/upload.js"),
    ],
)
def test_a_page_names_every_module_its_script_imports_so_the_browser_fetches_them_at_once(
    client, acme_token, url, entry
):
    html = client.get(url, {"token": acme_token, "inference": "server"}).content.decode()
    assert f'<script type="module" src="/static/{entry}"></script>' in html
    preloaded = {href for href, rel in _preloads(html).items() if rel == "modulepreload"}
    assert len(_imported(entry)) >= 3
    assert preloaded == {f"/static/{m}" for m in _imported(entry)}


@pytest.mark.django_db
def test_a_server_inference_page_preloads_no_pose_runtime(client, acme_token):
    query = {"token": acme_token, "exercise": "squat", "inference": "server"}
    html = client.get("/pose_tracker/tracking", query).content.decode()
    assert all(href.startswith("/static/formtrack/") for href in _preloads(html))


def test_static_files_are_named_by_their_content_only_when_a_proxy_serves_them():
    def storage(serve_static: str) -> str:
        script = (
            "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.STORAGES['staticfiles']['BACKEND'])"
        )
        env = os.environ | {"SERVE_STATIC": serve_static}
        return subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
        ).stdout.strip()

    assert storage("False") == "config.staticfiles.HashedStaticFilesStorage"
    # Daphne serving /static/ itself finds the source files by their own names.
    assert storage("True") == "django.contrib.staticfiles.storage.StaticFilesStorage"


def _static_paths(html: str) -> list[str]:
    return sorted(set(re.findall(r'"/static/([^"]+)"', html)))


def _module_imports(source: str) -> list[str]:
    return re.findall(r'^import .* from "([^"]+)";$', source, flags=re.M)


@pytest.mark.slow
@pytest.mark.django_db
@needs_tool("nginx")
def test_in_production_the_live_page_loads_only_hashed_files_which_browsers_keep_a_year(
    client, acme_token, tmp_path
):
    collected = tmp_path / "staticfiles"
    with override_settings(STORAGES=HASHED_STORAGE, STATIC_ROOT=collected):
        call_command("collectstatic", "--noinput", verbosity=0)
        html = client.get("/pose_tracker/tracking", {"token": acme_token}).content.decode()

    # Every file the page names, and every module its scripts import, by its hashed name.
    paths = _static_paths(html)
    assert {p.split("/")[-1].split(".")[0] for p in paths} >= {
        "main",
        "vision_bundle",
        "vision_wasm_internal",
        "pose_landmarker_lite",
        "pose-worker",
    }
    pending = [p for p in paths if p.endswith(".js")]
    seen = set(paths)
    while pending:
        script = collected / pending.pop()
        for name in _module_imports(script.read_text()):
            path = (script.parent / name).resolve().relative_to(collected).as_posix()
            if path not in seen:
                seen.add(path)
                pending.append(path)
    assert seen == set(paths)  # the page names (preloads) every module its scripts import
    for path in seen:
        assert HASHED.search(path), path
        assert (collected / path).is_file(), path
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    model = next(p for p in paths if "pose_landmarker_lite" in p)
    assert manifest["vendor/mediapipe/models/pose_landmarker_lite.task"] == model

    # The shipped nginx config: hashed names for a year, without asking again; others a week.
    port = free_port()
    config = nginx_config(tmp_path / "nginx", port, [free_port()], static_root=collected)
    processes = Processes(tmp_path, base_env=dict(os.environ))
    try:
        processes.start("nginx", ["nginx", "-c", str(config), "-p", str(config.parent)])
        wait_until(lambda: port_open(port), 20, "nginx")
        status, headers, body = http("GET", f"http://127.0.0.1:{port}/static/{model}")
        assert status == 200
        assert body == (collected / model).read_bytes()
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        status, headers, _ = http("GET", f"http://127.0.0.1:{port}/static/formtrack/base.css")
        assert status == 200
        assert headers["Cache-Control"] == "public, max-age=604800"

        # The page's files reach a browser that accepts gzip compressed, a third of the wasm.
        wasm = _attribute(html, "data-wasm-binary").removeprefix("/static/")
        url = f"http://127.0.0.1:{port}/static/{wasm}"
        status, headers, body = http("GET", url, headers={"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert headers["Content-Type"] == "application/wasm"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Accept-Encoding" in headers["Vary"]
        assert gzip.decompress(body) == (collected / wasm).read_bytes()
        assert len(body) < len(gzip.decompress(body)) / 2
        status, headers, body = http("GET", url)
        assert "Content-Encoding" not in headers
        assert body == (collected / wasm).read_bytes()
        # Every script and style sheet the page names has its copy; a file not worth it has none.
        for path in paths:
            if path.endswith((".js", ".mjs", ".css", ".wasm")):
                assert (collected / f"{path}.gz").is_file(), path
        assert not any(collected.rglob("*.png.gz"))
    finally:
        processes.close()


@pytest.mark.slow
@needs_tool("nginx")
@needs_tool("chromium")
def test_behind_the_shipped_nginx_the_live_page_runs_the_pose_model_in_the_browser(tmp_path):
    """As deployed (collectstatic, deploy/nginx.conf in front of Daphne), in a real browser: the
    pose runtime's module script is accepted (Debian's mime.types has no .mjs, which browsers
    then refuse as text/plain) and its large files arrive gzip-encoded."""
    collected = tmp_path / "staticfiles"
    database_url, keys = seeded_sqlite(tmp_path)
    env = standalone_env(
        tmp_path,
        **production_settings(),
        DATABASE_URL=database_url,
        SERVE_STATIC="False",
        STATIC_ROOT=str(collected),
    )
    manage(env, "collectstatic", "--noinput", "-v", "0")
    key = keys["DEMO_PUBLISHABLE_KEY"]
    camera = tmp_path / "squat.y4m"
    clip_to_y4m(SQUAT_CLIP, camera, scale=2, repeat=3)
    # Processes of their own database, not the tests' (whose Processes wait for its sessions).
    processes = servers.Processes(tmp_path, base_env=env)
    try:
        daphne_port, port = free_port(), free_port()
        processes.daphne("daphne", daphne_port, options=("-v", "0"))
        config = nginx_config(tmp_path / "nginx", port, [daphne_port], static_root=collected)
        processes.start("nginx", ["nginx", "-c", str(config), "-p", str(config.parent)])
        wait_until(lambda: port_open(port), 20, "nginx")
        console, encodings = [], {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*CHROMIUM_ARGS, *fake_camera_args(camera)],
            )
            page = browser.new_page()
            page.on("console", lambda message: console.append(message.text))
            page.on(
                "response",
                lambda response: encodings.update(
                    {response.url.rsplit(".", 1)[-1]: response.headers.get("content-encoding")}
                ),
            )
            page.goto(f"http://127.0.0.1:{port}/pose_tracker/tracking?token={key}&exercise=squat")
            page.wait_for_function(
                "() => performance.getEntriesByName('formtrack:first-pose').length",
                timeout=90_000,
            )
            marks = page.evaluate("() => performance.getEntriesByType('mark').map((m) => m.name)")
            mode = page.evaluate("() => window.FormTrack.stats.mode")
            browser.close()
    finally:
        processes.close()
    assert "formtrack:model" in marks and mode == "browser", console
    assert not [line for line in console if "model_load_failed" in line]
    assert encodings["mjs"] == encodings["wasm"] == "gzip"
