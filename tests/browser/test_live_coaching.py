"""What a person sees and hears on the live page, in Chromium with a real clip as the camera: the
start-up stages, their own picture while the model loads and the skeleton as soon as it is ready,
the count with its target, the last rep's grade, the current cue (shown, spoken, a beep per rep), a
hold's timer, friendly failures, and nothing meant for the app's developer over them. The page is
opened as a phone's WebView or a desktop browser opens it, at 390 and 1280 px; screenshots go to
artifacts/ (live-coaching-*.png).

What the page shows is read from the page itself: which texts became visible (a recorder injected
before the page's scripts), the canvas's pixels, the elements' boxes and sizes.
"""

import asyncio
import re
import time
from urllib.parse import urlencode

import cv2
import numpy as np
import pytest
from django.contrib.auth import get_user_model

from accounts import services
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_tracking import _in_worker_thread
from tests.support.browser import fake_camera_args

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

BOOT_TIMEOUT_S = 90  # model download and wasm compile on a busy 2-core machine
PASS_S = 10.3  # one pass of the squat clip
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"width": 1280, "height": 800}
SKELETON = [255, 0, 255]  # skeleton=#ff00ff: a colour the clips do not have
REP_HZ, TARGET_HZ = 880, 1320  # static/formtrack/live/audio.js

# Runs in the page before its own scripts: every text that became visible in the page's own
# elements (with when), the host events (the page's formtrack:event), what was said and beeped.
RECORDER = """
window.seen = { texts: [], events: [], spoken: [], beeps: [] };
addEventListener("formtrack:event", (e) => seen.events.push({ at: Date.now(), event: e.detail }));
if (window.speechSynthesis) {
  const speak = speechSynthesis.speak.bind(speechSynthesis);
  speechSynthesis.speak = (utterance) => {
    const { text, lang } = utterance;
    if (text) seen.spoken.push({ at: Date.now(), text, lang });
    return speak(utterance);
  };
}
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  seen.beeps.push({ at: Date.now(), hz: this.frequency.value });
  return start.apply(this, args);
};
document.addEventListener("DOMContentLoaded", () => {
  const shown = new Set();
  const record = () => {
    for (const element of document.querySelectorAll("[id^=ft-], .card")) {
      const text = element.innerText && element.innerText.trim();
      if (!text || !element.checkVisibility()) continue;
      const key = element.id + "|" + text;
      if (shown.has(key)) continue;
      shown.add(key);
      seen.texts.push({ at: Date.now(), id: element.id, text });
    }
  };
  const everything = { subtree: true, childList: true, characterData: true, attributes: true };
  new MutationObserver(record).observe(document.body, everything);
  record();
});
"""

# Safari (iOS WebViews) keeps sound suspended until the person touches the page, even while the
# camera films; Chromium lets a filming page play. This gives Chromium Safari's rule: each audio
# context is suspended as it starts and resumes only within a touch.
SAFARI_SOUND = """
const Chromium = window.AudioContext;
window.AudioContext = class extends Chromium {
  constructor(...args) { super(...args); super.suspend(); }
  resume() { return navigator.userActivation.isActive ? super.resume() : new Promise(() => {}); }
};
"""

# Share of the canvas's pixels that are not black, and of those near the skeleton's colour.
PICTURE = """([r, g, b]) => {
  const canvas = document.getElementById("ft-canvas");
  if (!canvas.width) return { lit: 0, skeleton: 0 };
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let lit = 0, skeleton = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] + data[i + 1] + data[i + 2] > 60) lit++;
    const distance = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
    if (distance < 120) skeleton++;
  }
  return { lit: lit / (data.length / 4), skeleton };
}"""

# Where the HUD's parts are on the screen, and how large their text is.
LAYOUT = """() => {
  const box = (id) => {
    const element = document.getElementById(id);
    if (!element || !element.checkVisibility()) return null;
    const r = element.getBoundingClientRect();
    const fontPx = parseFloat(getComputedStyle(element).fontSize);
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, fontPx };
  };
  const canvas = document.getElementById("ft-canvas");
  return {
    screen: { width: innerWidth, height: innerHeight },
    fit: getComputedStyle(canvas).objectFit,
    picture: { width: canvas.width, height: canvas.height },
    title: box("formtrack-status"), count: box("ft-count"), target: box("ft-target"),
    grade: box("ft-grade"), cue: box("ft-cue"), posture: box("ft-posture"), clock: box("ft-clock"),
  };
}"""


@_in_worker_thread
def _key(plan):
    user = get_user_model().objects.create_user(username="person@e2e.test", email="p@e2e.test")
    org = services.organization_create(name="E2E coaching", owner=user, plan=plan)
    return services.token_create(organization=org, name="e2e")[1]


class Screen:
    """The live page as a person holds it (a phone's WebView, or a browser window)."""

    def __init__(self, page, server_url):
        self.page = page
        self.server_url = server_url
        self.console = []
        page.on("console", lambda message: self.console.append((message.type, message.text)))

    @classmethod
    async def open(
        cls,
        browser,
        server_url,
        query,
        model_held=None,
        browser_rule=None,
        route_socket=None,
        **context,
    ):
        """With `model_held` (an asyncio.Event), the pose model downloads only once it is set:
        the start-up stages then stay on the screen as on a slow network. `browser_rule` is a
        script giving Chromium another browser's rule (see SAFARI_SOUND). `route_socket`: a
        handler of the page's live sockets (Playwright's route_web_socket), from the first."""
        context = await browser.new_context(**(context or PHONE))
        if route_socket is not None:
            await context.route_web_socket(re.compile(r"/ws/pose_tracker/tracking\?"), route_socket)
        await context.add_init_script(RECORDER)
        if browser_rule:
            await context.add_init_script(browser_rule)
        if model_held is not None:

            async def hold(route):
                await model_held.wait()
                await route.continue_()

            await context.route("**/*.task", hold)
        screen = cls(await context.new_page(), server_url)
        await screen.page.goto(f"{server_url}/pose_tracker/tracking?{urlencode(query)}")
        return screen

    async def seen(self):
        return await self.page.evaluate("window.seen")

    async def texts(self, element_id=None):
        texts = (await self.seen())["texts"]
        return [t["text"] for t in texts if element_id is None or t["id"] == element_id]

    async def events(self):
        return [e["event"] for e in (await self.seen())["events"]]

    async def wait_for_event(self, predicate, timeout_s, what, after=0):
        """The first event (from the `after`-th on) that `predicate` accepts."""
        deadline = time.monotonic() + timeout_s
        while True:
            for event in (await self.events())[after:]:
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                types = [e.get("type") for e in await self.events()]
                raise AssertionError(f"no {what} within {timeout_s:.0f} s; events: {types}")
            await asyncio.sleep(0.1)

    async def wait_shown(self, element_id, text=None, timeout_s=30):
        """Until the element is visible (with this text, when given); returns its text."""
        await self.page.wait_for_function(
            "([id, text]) => { const e = document.getElementById(id);"
            " return e && e.checkVisibility() && (text === null || e.innerText.trim() === text); }",
            arg=[element_id, text],
            timeout=timeout_s * 1000,
        )
        return await self.page.inner_text(f"#{element_id}")

    async def wait_seen(self, element_id, text, timeout_s):
        """Until the element has been shown with this text (now or earlier)."""
        await self.page.wait_for_function(
            "([id, text]) => seen.texts.some((t) => t.id === id && t.text === text)",
            arg=[element_id, text],
            timeout=timeout_s * 1000,
        )

    async def layout(self):
        return await self.page.evaluate(LAYOUT)

    async def picture(self):
        return await self.page.evaluate(PICTURE, SKELETON)

    async def screenshot(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"live-coaching-{name}.png"))

    async def finish(self):
        await self.page.evaluate("window.FormTrack.finish()")
        await self.wait_for_event(lambda e: e.get("type") == "exercise_summary", 20, "summary")
        await self.page.context.close()


def _readable(layout):
    """The HUD's parts are on the screen, apart, and large enough to read at arm's length."""
    screen = layout["screen"]
    parts = {k: layout[k] for k in ("title", "count", "grade", "cue", "posture", "clock")}
    for name, box in parts.items():
        if box is None:
            continue
        assert box["left"] >= 0 and box["top"] >= 0, (name, box)
        assert box["right"] <= screen["width"] and box["bottom"] <= screen["height"], (name, box)
        assert box["fontPx"] >= 15, (name, box)
    assert layout["count"]["fontPx"] >= 38
    title, count = layout["title"], layout["count"]
    assert title["right"] <= count["left"] or title["bottom"] <= count["top"], (title, count)


def _picture_fills(layout):
    """object-fit: cover (no bars), of a picture whose aspect is close enough to the screen's
    that it crops at most 40 % of it."""
    screen, picture = layout["screen"], layout["picture"]
    ratio = (picture["width"] / picture["height"]) / (screen["width"] / screen["height"])
    return layout["fit"] == "cover" and min(ratio, 1 / ratio) >= 0.6


async def test_a_free_plan_session_shows_the_person_their_session_and_nothing_else(
    camera_browser, server_url
):
    """A phone held upright on the Free plan, the app asking for angles and keypoints it may not
    have: the person sees the start-up stages, their own picture while the model loads, the
    skeleton as soon as it is ready, then their count toward the target and each grade, over a
    picture that fills the screen. The plan's refusal goes to the app and the console only."""
    key = await _key("free")
    query = {"token": key, "exercise": "squat", "keypoints": "true", "angles": "true"}
    query |= {"skeleton": "#ff00ff", "reps": "12"}
    model_held = asyncio.Event()
    screen = await Screen.open(camera_browser, server_url, query, model_held=model_held)

    # Loading: the stages in words, and the person already in the picture behind them.
    stage = await screen.wait_shown("ft-message", timeout_s=BOOT_TIMEOUT_S)
    await screen.page.wait_for_function(
        "() => document.getElementById('ft-message').innerText.startsWith('Loading pose model')"
        " && document.getElementById('ft-overlay').checkVisibility()"
        f" && ({PICTURE})([0, 0, 0]).lit > 0.5",
        timeout=BOOT_TIMEOUT_S * 1000,
    )
    await screen.screenshot("loading-390")
    model_held.set()
    await screen.wait_for_event(
        lambda e: e.get("type") == "initialization" and e.get("ready"), BOOT_TIMEOUT_S, "running"
    )
    # The first pose is drawn as the model is ready: within two seconds of "running".
    await screen.page.wait_for_function(
        f"() => ({PICTURE})({SKELETON}).skeleton > 300", timeout=2000
    )
    stages = await screen.texts("ft-message")
    assert stages[:2] == ["Connecting…", "Starting camera…"], stages
    loading = [t for t in stages if t.startswith("Loading pose model… ")]
    assert loading and all(t[20:-1].isdigit() for t in loading), stages
    assert "AI Loading" not in stages and stage in stages
    assert not await screen.page.is_visible("#ft-overlay")

    # A rep: its count toward the target, and its grade.
    counter = await screen.wait_for_event(
        lambda e: e.get("type") == "counter", PASS_S * 2, "counter"
    )
    assert await screen.wait_shown("ft-target") == "/ 12"
    shown_count = int(await screen.page.inner_text("#ft-count"))
    assert shown_count >= counter["current_count"] >= 1
    assert await screen.page.inner_text(".ft-tally-label") == "REPS"  # text-transform
    await screen.page.wait_for_function(
        "() => parseFloat(document.querySelector('#ft-progress span').style.width) > 0"
    )
    grade = await screen.wait_shown("ft-grade")
    assert grade.split()[0] == counter["form_score"]["grade"]

    layout = await screen.layout()
    assert _picture_fills(layout), layout
    _readable(layout)
    await screen.screenshot("free-plan-390")

    # The developer's message: to the app and the console, never on the screen.
    blocked = [
        e for e in await screen.events() if e.get("code") == "developer_features_not_allowed"
    ]
    assert len(blocked) == 1 and blocked[0]["details"]["blocked"] == ["angles", "keypoints"]
    assert any(
        kind == "error" and "developer_features_not_allowed" in text and "angles, keypoints" in text
        for kind, text in screen.console
    ), screen.console
    on_screen = " ".join(await screen.texts()) + await screen.page.inner_text("body")
    for developer_words in ("Developer", "plan", "angles", "keypoints", "developer_features"):
        assert developer_words not in on_screen, on_screen

    # The same session in a wide window: the upright picture is shown whole, the HUD still reads.
    await screen.page.set_viewport_size(DESKTOP)
    await screen.page.wait_for_function(
        "() => getComputedStyle(document.getElementById('ft-canvas')).objectFit === 'contain'"
    )
    _readable(await screen.layout())
    await screen.screenshot("free-plan-1280")
    await screen.finish()


async def test_coaching_shows_says_and_beeps_what_the_person_needs_during_reps(
    launch_browser, half_squat_camera, server_url
):
    """Half squats in French (difficulty hard), with cues, voice, sound and a target of 6 reps:
    each cue is shown large and briefly and spoken in French, each rep beeps and pops its grade
    in, and reaching the target is shown, said and beeped. Chromium lets a page that films play
    sound, so no touch is asked for."""
    browser = await launch_browser(*fake_camera_args(half_squat_camera))
    key = await _key("developer")
    query = {"token": key, "exercise": "squat", "recommendations": "true", "language": "fr"}
    # Hard: these squats stop at 70% of the clip's depth, at the edge of a medium squat's cue.
    query |= {"reps": "6", "voice": "true", "sound": "true", "difficulty": "hard"}
    screen = await Screen.open(browser, server_url, query)

    cue = await screen.wait_for_event(
        lambda e: e.get("type") == "recommendations", BOOT_TIMEOUT_S + PASS_S, "a cue"
    )
    said = cue["recommendations"][0]
    assert said == "Descendez plus bas : cuisses parallèles au sol"
    assert await screen.wait_shown("ft-cue", said, timeout_s=1) == said
    assert (await screen.layout())["cue"]["fontPx"] >= 24
    await screen.screenshot("cue-390")
    spoken = (await screen.seen())["spoken"]
    assert {"text": said, "lang": "fr"} in [{"text": s["text"], "lang": s["lang"]} for s in spoken]
    # Briefly: gone within a few seconds, unless another cue came.
    await screen.page.wait_for_function(
        f"() => !document.getElementById('ft-cue').checkVisibility()"
        f" || document.getElementById('ft-cue').innerText.trim() !== {said!r}",
        timeout=6000,
    )

    # The target: 6 reps (perhaps already shown and gone, as the first cue may come after it).
    reached = "Objectif atteint !"
    await screen.wait_seen("ft-cue", reached, timeout_s=PASS_S * 2)
    assert await screen.page.inner_text("#ft-target") == "/ 6"
    assert "done" in await screen.page.get_attribute("#ft-progress", "class")
    assert await screen.page.get_attribute("#ft-grade", "class") == "ft-grade pop"
    seen = await screen.seen()
    counts = [
        e["event"]["current_count"] for e in seen["events"] if e["event"]["type"] == "counter"
    ]
    assert counts[-1] >= 6
    beeps = [b["hz"] for b in seen["beeps"]]
    assert beeps.count(REP_HZ) == len(set(counts)), (beeps, counts)
    assert not [t for t in seen["texts"] if t["id"] == "ft-sound"]
    assert beeps.count(TARGET_HZ) == 1
    assert reached in [s["text"] for s in seen["spoken"]]
    await screen.screenshot("target-390")

    # Wide: the next cue, as large.
    await screen.page.set_viewport_size(DESKTOP)
    following = await screen.wait_for_event(
        lambda e: e.get("type") == "recommendations",
        PASS_S * 3,
        "the next cue",
        after=len(await screen.events()),
    )
    await screen.wait_shown("ft-cue", following["recommendations"][0], timeout_s=1)
    layout = await screen.layout()
    assert layout["cue"]["fontPx"] >= 32
    _readable(layout)
    await screen.screenshot("cue-1280")
    await screen.finish()


# Runs in the page before its own scripts: on every animation frame the cue is shown, how it looks
# then (its opacity with its parents', its colours), through its entrance, its time on screen and
# its exit.
CUE_FRAMES = """
window.cueFrames = [];
const sampleCue = () => {
  const cue = document.getElementById("ft-cue");
  if (cue && cue.checkVisibility() && cue.innerText.trim()) {
    let opacity = 1;
    for (let e = cue; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
    const style = getComputedStyle(cue);
    cueFrames.push({ text: cue.innerText.trim(), leaving: cue.classList.contains("leaving"),
      moving: cue.getAnimations().length > 0, opacity, color: style.color,
      background: style.backgroundColor });
  }
  requestAnimationFrame(sampleCue);
};
requestAnimationFrame(sampleCue);
"""
# The cue's entrance, restarted as the page restarts it for each new cue, and held half-way.
HOLD_CUE_MID_ENTRANCE = """(text) => {
  const cue = document.getElementById("ft-cue");
  const shown = cue.checkVisibility() && cue.innerText.trim() === text;
  if (!shown || cue.classList.contains("leaving")) return false;
  cue.style.animation = "none";
  void cue.offsetWidth;
  cue.style.animation = "";
  const entrance = cue.getAnimations();
  for (const animation of entrance) { animation.pause(); animation.currentTime = 150; }
  return entrance.length > 0;
}"""
RESUME_CUE = """() => {
  for (const animation of document.getElementById("ft-cue").getAnimations()) animation.play();
}"""


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG's relative luminance of sRGB colours (0-255 channels, on the last axis)."""
    c = np.asarray(rgb, dtype=float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def _contrast(light: float, dark: float) -> float:
    return (max(light, dark) + 0.05) / (min(light, dark) + 0.05)


def _css_colour(value: str) -> tuple[np.ndarray, float]:
    """rgb(…) or rgba(…): the channels and the alpha."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", value)]
    return np.array(numbers[:3]), numbers[3] if len(numbers) > 3 else 1.0


def _seen_contrast(png: bytes) -> float:
    """The contrast between the text and the box of a screenshot of the cue, as the screen shows
    them: the box is most of its pixels (the median), the text its brightest ones. The white edge
    is left out."""
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[6:-6, 6:-6]
    luminances = _luminance(picture[..., ::-1]).ravel()
    return _contrast(np.percentile(luminances, 99), np.median(luminances))


async def _cue_held_mid_entrance(screen, text, width):
    """The cue `text` the next time it is shown, held half-way through its entrance: how it reads
    then, in pixels; screenshot live-coaching-cue-entering-<width>.png."""
    await screen.page.wait_for_function(
        HOLD_CUE_MID_ENTRANCE, arg=text, timeout=PASS_S * 3 * 1000, polling="raf"
    )
    await screen.screenshot(f"cue-entering-{width}")
    contrast = _seen_contrast(await screen.page.locator("#ft-cue").screenshot())
    await screen.page.evaluate(RESUME_CUE)
    return contrast


async def test_the_person_is_coached_on_screen_whatever_the_app_asked_in_a_cue_readable_throughout(
    launch_browser, half_squat_camera, server_url
):
    """Half squats (difficulty hard) on the Free plan, the app asking for no recommendations: the
    person still sees their cue, and the app hears none. The cue reads at every moment of its life
    on screen, as it slides in, stays and rolls up: opaque (nothing of the camera picture shows
    through it, bright or dark), white on a colour with a contrast of at least 4.5:1, at 390 and
    1280 px."""
    browser = await launch_browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={half_squat_camera}",
    )
    key = await _key("free")
    context = await browser.new_context(**PHONE)
    await context.add_init_script(RECORDER + CUE_FRAMES)
    screen = Screen(await context.new_page(), server_url)
    # Hard: these squats stop at 70% of the clip's depth, at the edge of a medium squat's cue.
    query = {"token": key, "exercise": "squat", "difficulty": "hard"}
    await screen.page.goto(f"{server_url}/pose_tracker/tracking?{urlencode(query)}")

    said = "Go lower: thighs to parallel"
    await screen.wait_shown("ft-cue", said, timeout_s=BOOT_TIMEOUT_S + PASS_S * 2)
    assert await _cue_held_mid_entrance(screen, said, 390) >= 4.5
    # Its exit: the page hides it once it has rolled up.
    await screen.page.wait_for_function(
        "() => !document.getElementById('ft-cue').checkVisibility()", timeout=10_000
    )

    # Wide: the next time it is said.
    await screen.page.set_viewport_size(DESKTOP)
    assert await _cue_held_mid_entrance(screen, said, 1280) >= 4.5
    layout = await screen.layout()
    assert layout["cue"]["fontPx"] >= 32
    _readable(layout)

    frames = await screen.page.evaluate("cueFrames")
    assert any(f["moving"] and not f["leaving"] for f in frames), "no entrance seen"
    assert any(f["leaving"] for f in frames), "no exit seen"
    for frame in frames:
        colour, _ = _css_colour(frame["color"])
        box, alpha = _css_colour(frame["background"])
        assert frame["opacity"] == 1 and alpha == 1, frame
        assert _contrast(_luminance(colour), _luminance(box)) >= 4.5, frame
    # The app asked for no cues: it heard none.
    events = await screen.events()
    assert any(e["type"] == "counter" for e in events)
    assert not [e for e in events if e["type"] == "recommendations"]
    await screen.finish()


async def test_a_hold_shows_its_timer_toward_the_target_and_sound_waits_for_a_touch(
    launch_browser, balance_camera, server_url
):
    """Standing on one leg (balance_leg) with duration=5 and sound, in a browser that holds sound
    back until the person touches the page (Safari's rule): a button asks for that touch; the
    timer counts the time held toward 0:05, and reaching it is shown and beeped."""
    browser = await launch_browser(
        *fake_camera_args(balance_camera),
    )
    key = await _key("developer")
    query = {"token": key, "exercise": "balance_leg", "duration": "5", "sound": "true"}
    screen = await Screen.open(browser, server_url, query, browser_rule=SAFARI_SOUND)
    assert await screen.page.inner_text("#ft-count") == "0:00"
    assert await screen.page.inner_text(".ft-tally-label") == "HELD"

    assert await screen.wait_shown("ft-sound", timeout_s=BOOT_TIMEOUT_S) == "Tap to turn on sound"
    await screen.page.tap("#ft-sound")
    await screen.page.wait_for_function(
        "() => !document.getElementById('ft-sound').checkVisibility()"
    )

    await screen.wait_for_event(
        lambda e: e.get("type") == "counter" and e["current_count"] >= 2, BOOT_TIMEOUT_S, "2 s held"
    )
    await screen.page.wait_for_function(
        "() => /^0:0[2-5]$/.test(document.getElementById('ft-count').innerText)"
    )
    assert await screen.page.inner_text("#ft-target") == "/ 0:05"
    _readable(await screen.layout())
    await screen.screenshot("hold-390")

    await screen.wait_shown("ft-cue", "Target reached!", timeout_s=30)
    assert await screen.page.inner_text("#ft-count") == "0:05"
    beeps = [b["hz"] for b in (await screen.seen())["beeps"]]
    assert beeps == [TARGET_HZ], beeps  # a hold beeps at its target, not each second
    await screen.page.set_viewport_size(DESKTOP)
    _readable(await screen.layout())
    await screen.screenshot("hold-1280")
    await screen.finish()


async def test_an_assessment_shows_the_best_angle_held_and_tells_what_to_do(
    launch_browser, side_bend_camera, server_url
):
    """A side bend as back_rom: the ready message says what to do, the tally shows the best angle
    measured in degrees, and the app gets each rom_measurement and the rom_summary."""
    browser = await launch_browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={side_bend_camera}",
    )
    key = await _key("developer")
    screen = await Screen.open(browser, server_url, {"token": key, "exercise": "back_rom"})
    assert await screen.page.inner_text("#ft-count") == "–"
    assert await screen.page.inner_text(".ft-tally-label") == "BEST ANGLE"
    instruction = (
        "Bend sideways, sliding your hand down your leg, as far as you can and hold it there"
    )
    await screen.wait_for_event(
        lambda e: e.get("type") == "posture" and e["ready"] and e["message"] == instruction,
        BOOT_TIMEOUT_S,
        "the instruction",
    )
    bend = await screen.wait_for_event(
        lambda e: e.get("type") == "rom_measurement", BOOT_TIMEOUT_S, "a measurement"
    )
    assert (bend["movement"], bend["side"]) == ("lateral_flexion", "left")
    await screen.page.wait_for_function(
        "() => /^[0-9]+°$/.test(document.getElementById('ft-count').innerText)"
    )
    shown = int((await screen.page.inner_text("#ft-count")).rstrip("°"))
    assert shown >= round(bend["degrees"])  # the best so far
    _readable(await screen.layout())
    await screen.screenshot("assessment-390")
    await screen.page.set_viewport_size(DESKTOP)
    _readable(await screen.layout())
    await screen.screenshot("assessment-1280")
    await screen.page.evaluate("window.FormTrack.finish()")
    summary = await screen.wait_for_event(
        lambda e: e.get("type") == "rom_summary", 20, "the summary"
    )
    assert summary["results"][0]["degrees"] >= bend["degrees"]
    await screen.page.context.close()


async def test_with_nobody_in_the_picture_the_person_is_asked_to_step_in(
    launch_browser, server_url
):
    """Chromium's own test pattern as the camera: no one there once the model runs."""
    browser = await launch_browser(
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"
    )
    key = await _key("developer")
    screen = await Screen.open(browser, server_url, {"token": key, "exercise": "squat"})
    await screen.wait_shown("ft-posture", "Step into the frame", timeout_s=BOOT_TIMEOUT_S)
    assert not await screen.page.is_visible("#ft-overlay")
    await screen.screenshot("step-in-390")
    await screen.page.context.close()


@pytest.mark.parametrize("width", [390, 1280])
async def test_a_refused_camera_reads_as_what_to_do_and_the_details_go_to_the_app(
    launch_browser, server_url, width
):
    browser = await launch_browser(
        "--deny-permission-prompts", "--use-fake-device-for-media-stream"
    )
    key = await _key("developer")
    context = PHONE if width == 390 else {"viewport": DESKTOP}
    screen = await Screen.open(browser, server_url, {"token": key, "exercise": "squat"}, **context)
    assert await screen.wait_shown("ft-heading") == "Camera access needed"
    message = await screen.page.inner_text("#ft-message")
    assert message == "Camera access was refused. Allow the camera for this app, then reload."
    assert await screen.page.is_visible("#ft-retry")
    error = await screen.wait_for_event(lambda e: e.get("type") == "error", 10, "error")
    assert error["code"] == "camera_permission_denied" and error["details"]["name"]
    assert any(kind == "error" and "camera_permission_denied" in t for kind, t in screen.console)
    await screen.screenshot(f"camera-refused-{width}")
    await screen.page.context.close()


@pytest.mark.parametrize("width", [390, 1280])
async def test_an_invalid_key_reads_as_a_friendly_message_and_the_details_go_to_the_app(
    camera_browser, server_url, width
):
    context = PHONE if width == 390 else {"viewport": DESKTOP}
    query = {"token": "ft_pub_not-a-key", "exercise": "squat"}
    screen = await Screen.open(camera_browser, server_url, query, **context)
    shown = await screen.page.inner_text("main")
    assert [line for line in shown.splitlines() if line][:2] == [
        "Tracking can't start",
        "This app isn't set up for tracking yet. Please let the app's team know.",
    ]
    assert "invalid_token" not in shown and "token" not in shown  # folded away for the developer
    error = await screen.wait_for_event(lambda e: e.get("type") == "error", 10, "error")
    assert error["code"] == "invalid_token" and error["message"]
    assert any(kind == "error" and "invalid_token" in text for kind, text in screen.console)
    await screen.screenshot(f"invalid-key-{width}")
    await screen.page.click("summary")
    assert "invalid_token" in await screen.page.inner_text("main")
    await screen.page.context.close()
