"""PoseTracker's host apps, each with its own code, in Chromium against the real server with the
real squat clip as the camera: every event the page posts reaches the host exactly once, the host's
usual JSON.parse gives the event object (with its `type` and the contract's field names), and reps
are counted.

Native WebViews are emulated in a top-level page: the objects a WebView provides before any page
script (React Native's window.ReactNativeWebView, WebKit's iosListener handler, Android's
webViewCallback, a webview_flutter channel) and what an app injects before content are installed
with Playwright's add_init_script (CDP Page.addScriptToEvaluateOnNewDocument); what an app injects
once the page has loaded is evaluated after the load event.
"""

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_tracking import (
    BOOT_TIMEOUT_S,
    FIRST_REP_TIMEOUT_S,
    Host,
    _live_calls,
    _token,
)
from tests.support.contract import contract_problems

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

# Every event the page posted, as its own `formtrack:event` says (docs/integration.md), whichever
# frame the page runs in.
POSTED = """
window.__posted = [];
addEventListener("formtrack:event", (e) => window.__posted.push(JSON.stringify(e.detail)));
"""

# The app's side of an emulated WebView: what reaches it, and what its JSON.parse makes of it.
# `unwrapped` is what PoseTracker's React Native demo reads: it parses a second time when the first
# parse gives a string (contract §4.1, "DEMO's unwrapMessage JSON-parses twice if needed").
APP = """
window.received = [];
window.__app = (data) => {
  let event = null, unwrapped = null;
  try { event = JSON.parse(data); } catch (error) {}
  try { unwrapped = typeof event === "string" ? JSON.parse(event) : event; } catch (error) {}
  received.push({ at: Date.now(), origin: location.origin, raw: typeof data, event, unwrapped });
};
"""

# react-native-webview provides window.ReactNativeWebView before any page script; the app's
# onMessage gets nativeEvent.data, a string.
REACT_NATIVE = "window.ReactNativeWebView = { postMessage: (data) => __app(String(data)) };"

# The bridge PoseTracker's React Native integrations inject (EX-EXPO, DEMO, LLM examples), verbatim
# from the contract, posetracker-api.md §4.1.
POSETRACKER_RN_BRIDGE = """
window.addEventListener('message', function(event) {
  window.ReactNativeWebView.postMessage(JSON.stringify(event.data));
});
window.webViewCallback = function(data) {
  window.ReactNativeWebView.postMessage(JSON.stringify(data));
};
const originalPostMessage = window.postMessage;
window.postMessage = function(data) {
  window.ReactNativeWebView.postMessage(typeof data === 'string' ? data : JSON.stringify(data));
};
true;
"""

# iOS: a WKScriptMessageHandler registered as "iosListener" (contract §4.1; EX-SWIFT, MT-embed).
IOS = (
    "window.webkit = { messageHandlers: { iosListener: { postMessage: (body) => __app(body) } } };"
)

# Android: window.webViewCallback(...) (contract §4.1), a function the app defines...
ANDROID_FUNCTION = "window.webViewCallback = (data) => __app(data);"
# ...or addJavascriptInterface(object, "webViewCallback"), whose postMessage(String) gets a string.
ANDROID_INTERFACE = "window.webViewCallback = { postMessage: (json) => __app(String(json)) };"

# webview_flutter: addJavaScriptChannel('PoseTrackerBridge', …) exists before the page's scripts;
# on onPageFinished the app injects a forwarder of window "message" events to it (contract §8,
# PoseTracker's Flutter guidance).
FLUTTER_CHANNEL = "window.PoseTrackerBridge = { postMessage: (message) => __app(String(message)) };"
FLUTTER_FORWARDER = """
window.addEventListener("message", function (event) {
  const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
  PoseTrackerBridge.postMessage(data);
});
"""


@dataclass(frozen=True)
class App:
    before_content: str  # what the WebView and the app install before any page script
    on_load: str = ""  # what the app injects once the page has loaded
    # Whether the app hears only what comes after on_load (a forwarder it injects is its ear).
    hears_from_load: bool = False
    query: tuple = ()  # what the app adds to the page's URL


NATIVE_APPS = {
    "react_native_bridge_before_content": App(REACT_NATIVE + POSETRACKER_RN_BRIDGE),
    "react_native_bridge_on_load": App(REACT_NATIVE, on_load=POSETRACKER_RN_BRIDGE),
    "react_native_nothing_injected": App(REACT_NATIVE),
    "flutter_forwarder_on_load": App(
        FLUTTER_CHANNEL, on_load=FLUTTER_FORWARDER, hears_from_load=True
    ),
    "ios_listener": App(IOS),
    "android_function": App(ANDROID_FUNCTION, query=(("isAndroid", "true"),)),
    "android_interface": App(ANDROID_INTERFACE, query=(("isAndroid", "true"),)),
}


def _canonical(event) -> str:
    return json.dumps(event, sort_keys=True)


async def _session(host, finish) -> None:
    """Boot, a counted rep, then the app finishes the session and gets its summary."""
    await host.wait_for(
        lambda e: e.get("type") == "initialization" and e.get("ready"), BOOT_TIMEOUT_S, "running"
    )
    await host.wait_for(lambda e: e.get("type") == "counter", FIRST_REP_TIMEOUT_S, "counter")
    await finish()
    await host.wait_for(lambda e: e.get("type") == "exercise_summary", 20, "exercise_summary")


async def _check_exactly_once(host, since: int = 0) -> list[dict]:
    """Every event the page posted (from the `since`-th on: an app that listens from its load
    event on misses what came before) reached the app once, and parses to that event.

    window.postMessage delivers later, in a task of its own: events posted just before the app's
    listener was attached, not yet delivered, still reach it. So the app hears the posted events
    from some point at or before the `since`-th on."""
    posted = [json.loads(text) for text in await host.tracker().evaluate("window.__posted")]
    deadline = time.monotonic() + 10
    while len(host.received) < len(posted) - since and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        await host.poll()
    assert all(m["raw"] == "string" for m in host.received)
    first_heard = len(posted) - len(host.received)
    assert 0 <= first_heard <= since, (first_heard, since, len(posted))
    expected = Counter(_canonical(event) for event in posted[first_heard:])
    assert Counter(_canonical(m["event"]) for m in host.received) == expected
    events = [m["event"] for m in host.received]
    assert all(isinstance(e, dict) and e.get("type") for e in events)
    assert not [(e["type"], p) for e in events for p in contract_problems(e)]
    return events


@pytest.mark.parametrize("app", NATIVE_APPS.values(), ids=NATIVE_APPS.keys())
async def test_a_native_app_hears_every_event_once_as_json(camera_browser, server_url, app):
    org, token = await _token()
    query = {"token": token, "exercise": "squat", "runInWorker": "true", **dict(app.query)}
    page = await camera_browser.new_page(viewport={"width": 390, "height": 844})
    await page.add_init_script(POSTED + APP + app.before_content)
    host = Host(page, server_url)
    await page.goto(f"{server_url}/pose_tracker/tracking?{urlencode(query)}")
    since = 0
    if app.on_load:
        posted = await page.evaluate(f"() => {{ {app.on_load}; return window.__posted.length; }}")
        since = posted if app.hears_from_load else 0

    await _session(host, lambda: page.evaluate("window.FormTrack.finish()"))
    events = await _check_exactly_once(host, since)
    assert all(m["unwrapped"] == m["event"] for m in host.received)
    assert any(e["type"] == "counter" for e in events)
    assert await _live_calls(org) == 1
    await page.close()


async def test_an_embedding_web_page_hears_every_event_once_from_its_origin(
    camera_browser, server_url, host_origin
):
    """The web page of tests/browser/conftest.py (HOST_PAGE): PoseTracker's web example."""
    org, token = await _token()
    query = {"token": token, "exercise": "squat", "runInWorker": "true"}
    page = await camera_browser.new_page(viewport={"width": 480, "height": 640})
    await page.add_init_script(POSTED)  # in every frame: the tracking page's too
    host = Host(page, server_url)
    src = f"{server_url}/pose_tracker/tracking?{urlencode(query)}"
    await page.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")

    await _session(host, host.finish)
    events = await _check_exactly_once(host)
    assert all(m["origin"] == server_url for m in host.received)
    assert any(e["type"] == "counter" for e in events)
    assert await _live_calls(org) == 1
    await page.close()


async def test_the_live_page_during_tracking_on_a_phone_and_a_laptop(camera_browser, server_url):
    """Screenshots for a person to look at (artifacts/compat-live-390.png and -1280.png): the
    mirrored camera with the skeleton, the count and the grade, on a phone and a laptop screen."""
    _, token = await _token()
    page = await camera_browser.new_page(viewport={"width": 390, "height": 844})
    await page.add_init_script(APP + REACT_NATIVE)
    host = Host(page, server_url)
    query = {"token": token, "exercise": "squat", "runInWorker": "true"}
    await page.goto(f"{server_url}/pose_tracker/tracking?{urlencode(query)}")
    await host.wait_for(lambda e: e.get("type") == "counter", BOOT_TIMEOUT_S, "counter")
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((390, 844), (1280, 800)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.evaluate(
            "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        for selector in ("#ft-canvas", "#ft-count", "#ft-grade"):
            box = await page.locator(selector).bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, selector
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
            assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (selector, box)
        await page.screenshot(path=str(ARTIFACTS / f"compat-live-{width}.png"))
    await page.close()
