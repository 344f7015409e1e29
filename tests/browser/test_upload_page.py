"""The upload page in a real browser against the real server and worker: a phone-like H.264 video
of real squats is chosen, analysed in the background, its events posted to the host, and the
video shown with the skeleton and counter drawn over it from the pose timeline (no annotated
copy is rendered unless export=true)."""

import base64
import subprocess
from urllib.parse import urlencode

import imageio_ffmpeg
import pytest

from tests.browser.conftest import ARTIFACTS, SQUAT_CLIP
from tests.browser.test_live_tracking import Host, _in_worker_thread, _token
from tests.support.servers import MediaServer
from tracking.models import Upload, UploadEvent, UploadResults
from tracking.page_text import page_text

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

ANALYSIS_TIMEOUT_S = 120
CLIP_FRAMES = 103  # 10.3 s at 10 fps: every frame is analysed (the source is under 15 fps)
# Seeks the replayed video, then reports the frame drawn and how many canvas pixels are painted.
# Paused first: the page plays it by itself (muted), and it would move on from there.
SEEK_AND_READ_CANVAS = """async (seconds) => {
  const video = document.querySelector(".ft-replay video");
  if (video.readyState < 1) {
    await new Promise((r) => video.addEventListener("loadedmetadata", r, { once: true }));
  }
  video.pause();
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


async def choose_in_the_upload_page(browser, server_url, host_origin, video):
    """The upload page for squats in a host app, `video` chosen in it: (the host, its frame)."""
    _, token = await _token()
    page = await browser.new_page(viewport={"width": 640, "height": 900})
    host = Host(page, server_url)
    src = f"{server_url}/pose_tracker/upload_tracking?token={token}&exercise=squat"
    await page.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")
    await page.wait_for_selector("#tracker")
    tracker = await (await page.query_selector("#tracker")).content_frame()
    await tracker.wait_for_selector("#file-input", state="attached")
    await tracker.set_input_files("#file-input", str(video))
    return host, tracker


async def test_a_chosen_video_is_analysed_and_shown_with_its_skeleton_and_counter(
    launch_browser, server_url, host_origin, worker, phone_video
):
    browser = await launch_browser()
    host, tracker = await choose_in_the_upload_page(browser, server_url, host_origin, phone_video)
    page = host.page

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


# Every event the page posts, in order, with when (the bridge's formtrack:event, before any
# script of the page runs).
RECORD_EVENTS = """
window.received = [];
addEventListener("formtrack:event", (e) => received.push({ at: Date.now(), event: e.detail }));
"""


async def test_a_video_src_without_the_picker_plays_and_posts_its_events_in_order(
    launch_browser, server_url, worker, phone_video
):
    """showUpload=false&videoSrc=…: nothing to click. The server fetches the video and analyses
    it; the page then plays it with the skeleton drawn (in the colour asked for) and posts each
    event as the replay reaches it (eventTiming=playback, the default), then "Analysis
    completed". Screenshots at a phone's width and a desktop's: artifacts/upload-video-src-390.png
    and -1280.png."""
    _, token = await _token()
    browser = await launch_browser()  # a muted video may play by itself, as in every browser
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.add_init_script(RECORD_EVENTS)
    route = (200, {"Content-Type": "video/mp4"}, phone_video.read_bytes())
    with MediaServer({"/media/squats.mp4": route}) as remote:
        query = {
            "token": token,
            "exercise": "squat",
            "showUpload": "false",
            "videoSrc": remote.url("/media/squats.mp4"),
            "containerMaxHeight": "560",
            "skeleton": "#ff0000",
        }
        await page.goto(f"{server_url}/pose_tracker/upload_tracking?{urlencode(query)}")
        assert await page.is_hidden("#picker")
        done = await page.wait_for_function(
            "received.find((r) => r.event.type === 'initialization' && r.event.ready)",
            timeout=(ANALYSIS_TIMEOUT_S + 30) * 1000,
        )
        finished = await done.json_value()
    assert len(remote.requests) == 1  # fetched once, by the server
    received = await page.evaluate("received")
    events = [r["event"] for r in received]
    assert events[-1] == finished["event"] and finished["event"]["message"] == "Analysis completed"

    # PoseTracker's order: progress first, then the analysis' events exactly as stored.
    first = next(i for i, e in enumerate(events) if e["type"] != "initialization")
    assert all(e["type"] == "initialization" and not e["ready"] for e in events[:first])
    upload_id = next(e["uploadId"] for e in events if "uploadId" in e)
    stored = await _stored_events(upload_id)
    assert events[first:-1] == stored
    assert [e["current_count"] for e in stored if e["type"] == "counter"][-1] == 4

    # Posted as the replay played: the reps seconds apart, as in the video (2.4 s to 9 s).
    counted_at = [
        r["at"] for r in received if r["event"]["type"] == "counter" and not r["event"].get("final")
    ]
    assert len(counted_at) == 4 and counted_at[-1] - counted_at[0] > 4000, counted_at
    media = await page.wait_for_selector("#result-media[data-events-released='all'] .ft-replay")
    assert await media.get_attribute("data-timeline-frames") == str(CLIP_FRAMES)

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "upload-video-src-390.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
    drawn = await page.evaluate(SEEK_AND_READ_CANVAS, 7.05)
    # Our copy of the video answers byte ranges, so it seeks.
    assert drawn["frameMs"] == 7000.0 and drawn["painted"] > 500, drawn
    assert await page.evaluate(COUNT_RED_PIXELS) > 100  # skeleton=#ff0000
    await page.screenshot(path=str(ARTIFACTS / "upload-video-src-1280.png"), full_page=True)


COUNT_RED_PIXELS = """() => {
  const canvas = document.querySelector(".ft-replay canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let red = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b, a] = pixels.slice(i, i + 4);
    if (r > 200 && g < 40 && b < 40 && a > 200) red += 1;
  }
  return red;
}"""


@_in_worker_thread
def _stored_events(upload_id) -> list[dict]:
    return list(
        UploadEvent.objects.filter(upload_id=upload_id)
        .order_by("seq")
        .values_list("payload", flat=True)
    )


# Every stage the progress card showed, in order (upload.js sets #progress-card[data-stage]).
RECORD_STAGES = """
window.stagesSeen = [];
addEventListener("DOMContentLoaded", () => {
  const card = document.getElementById("progress-card");
  new MutationObserver(() => {
    const stage = card.dataset.stage;
    if (stage && stagesSeen[stagesSeen.length - 1] !== stage) stagesSeen.push(stage);
  }).observe(card, { attributes: true, attributeFilter: ["data-stage"] });
});
"""
# A person dragging the file from their desktop onto the drop zone: enter, over, drop.
DROP_FILE = """async ([name, base64]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "video/mp4" }));
  const zone = document.getElementById("picker");
  const fire = (type) => zone.dispatchEvent(
    new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  fire("dragenter");
  fire("dragover");
  const highlighted = zone.dataset.dragging === "true";
  const accepted = !fire("drop");  // the page took the drop (preventDefault)
  return { highlighted, accepted };
}"""
# What a person sees of the results: the summary cards, the table, the chart and the replay.
READ_RESULTS = """() => {
  const visible = (el) => el && !el.closest("[hidden]") && el.getBoundingClientRect().height > 0;
  const cards = [...document.querySelectorAll("#summary .stat")].map((card) => ({
    label: card.querySelector(".stat-label").textContent,
    value: card.querySelector(".stat-value").textContent,
    colour: getComputedStyle(card.querySelector(".stat-value")).color,
  }));
  const table = document.getElementById("reps");
  const svg = document.querySelector("#score-chart svg.chart");
  const video = document.querySelector(".ft-replay video");
  const shown = video.getBoundingClientRect();
  const edges = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
  };
  return {
    cardsVisible: visible(document.getElementById("summary")), cards,
    headers: [...table.tHead.rows[0].cells].map((cell) => cell.textContent),
    rows: [...table.tBodies[0].rows].map((row) => [...row.cells].map((cell) => cell.textContent)),
    tableVisible: visible(table),
    chart: svg && {
      visible: visible(svg), label: svg.getAttribute("aria-label"),
      width: svg.getBoundingClientRect().width, box: edges(svg),
      card: edges(svg.closest(".card")),
      bars: [...svg.querySelectorAll("rect.score-bar")].map((bar) => ({
        tip: bar.querySelector("title").textContent, height: bar.getBoundingClientRect().height,
        fill: getComputedStyle(bar).fill, box: edges(bar),
      })),
      texts: [...svg.querySelectorAll("text")].map((label) => ({
        text: label.textContent, box: edges(label),
        fontPx: parseFloat(getComputedStyle(label).fontSize) * svg.getScreenCTM().a,
      })),
      gridStroke: getComputedStyle(svg.querySelector("line.grid")).stroke,
    },
    video: { width: shown.width, height: shown.height, left: shown.left, right: shown.right,
             naturalHeight: video.videoHeight },
    pageWidth: document.documentElement.scrollWidth,
    another: visible(document.getElementById("analyse-another")),
  };
}"""


def _chart_reads_whole(chart, reps):
    """Every bar within the chart and the chart within its card (nothing to scroll sideways to),
    and its labels (the score axis, each rep's number and score) at least 11 px, apart."""
    box, card = chart["box"], chart["card"]
    assert card["left"] <= box["left"] and box["right"] <= card["right"], chart
    assert len(chart["bars"]) == reps
    for bar in chart["bars"]:
        assert box["left"] <= bar["box"]["left"] and bar["box"]["right"] <= box["right"], bar
    labels = chart["texts"]
    assert len(labels) == 5 + 2 * reps, labels  # 0-100 by 25, then each rep's number and score
    for label in labels:
        assert label["fontPx"] >= 11, label
        assert box["left"] <= label["box"]["left"] and label["box"]["right"] <= box["right"], label
    for i, one in enumerate(labels):
        for other in labels[i + 1 :]:
            a, b = one["box"], other["box"]
            apart = a["right"] <= b["left"] or b["right"] <= a["left"]
            assert apart or a["bottom"] <= b["top"] or b["bottom"] <= a["top"], (one, other)


@_in_worker_thread
def _results_of(upload_id) -> UploadResults:
    return Upload.objects.get(pk=upload_id).results


async def test_a_dropped_video_shows_its_stages_then_its_results_in_the_dashboards_look(
    launch_browser, server_url, worker, phone_video
):
    """A person drops the squat clip on the page: the progress card walks through its stages,
    then the page shows the upload's results as the API gives them: summary cards (4 reps and a
    grade), the per-rep score chart the dashboard draws, the per-rep table with its faults and
    the video with its skeleton scaled up to the page; "Analyse another video" brings the picker
    back. Screenshots: artifacts/upload-dropped-{progress,1280,390,another}.png."""
    _, token = await _token()
    browser = await launch_browser("--autoplay-policy=no-user-gesture-required")
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.add_init_script(RECORD_EVENTS)
    await page.add_init_script(RECORD_STAGES)
    await page.goto(f"{server_url}/pose_tracker/upload_tracking?token={token}&exercise=squat")
    await page.wait_for_selector("#picker:not([hidden]) #upload-label")
    assert await page.is_hidden("#analyse-another")

    encoded = base64.b64encode(phone_video.read_bytes()).decode()
    dropped = await page.evaluate(DROP_FILE, ["squats.mp4", encoded])
    assert dropped == {"highlighted": True, "accepted": True}
    await page.wait_for_selector("#progress-card:not([hidden])")
    assert await page.is_hidden("#picker")
    await page.wait_for_selector(
        "#progress-card[data-stage='analyse'] li[data-stage='analyse'][aria-current='step']",
        timeout=ANALYSIS_TIMEOUT_S * 1000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "upload-dropped-progress.png"))

    await page.wait_for_selector(
        "#result-card:not([hidden]) #reps tbody tr", timeout=ANALYSIS_TIMEOUT_S * 1000
    )
    await page.wait_for_selector(".ft-replay[data-timeline-frames]", timeout=20_000)
    # Every stage, in order; waiting in line may be over before the page hears of it.
    assert await page.evaluate("stagesSeen") in (
        ["send", "queue", "analyse", "results"],
        ["send", "analyse", "results"],
    )
    assert await page.is_hidden("#progress-card")

    events = [r["event"] for r in await page.evaluate("received")]
    upload_id = next(e["uploadId"] for e in events if "uploadId" in e)
    results = await _results_of(upload_id)
    assert results.counter == 4 and results.grade in {"A", "B", "C", "D", "F"}
    shown = await page.evaluate(READ_RESULTS)

    # The summary: the API's results, as cards.
    assert shown["cardsVisible"]
    cards = {card["label"]: card["value"] for card in shown["cards"]}
    assert cards == {
        "Reps": "4",
        "Average score": f"{round(results.average_score, 1):g}",
        "Grade": results.grade,
        "Rejected reps": str(results.rejected_reps),
    }
    grade_card = next(card for card in shown["cards"] if card["label"] == "Grade")
    assert grade_card["colour"] != "rgb(17, 24, 39)"  # in its grade's colour, not the text's

    # The table: one row per rep, its faults said as the engine's cues for them.
    assert shown["tableVisible"]
    assert shown["headers"] == ["#", "Score", "Grade", "Duration", "Faults"]
    cues = page_text("upload", "squat")["faults"]
    assert shown["rows"] == [
        [
            str(rep["index"]),
            str(rep["formScore"]),
            rep["grade"],
            f"{rep['durationMs'] / 1000:.1f} s",
            "; ".join(cues[fault] for fault in rep["faults"]) or "–",
        ]
        for rep in results.history
    ]

    # The chart: the dashboard's (tracking/charts.py), drawn with the dashboard's styles.
    chart = shown["chart"]
    assert chart["visible"] and chart["label"] == "Form score per repetition"
    assert chart["width"] > 600
    assert [bar["tip"] for bar in chart["bars"]] == [
        f"Repetition {rep['index']}: score {rep['formScore']}, grade {rep['grade']}"
        for rep in results.history
    ]
    assert all(bar["height"] > 50 for bar in chart["bars"])  # scores of 0-100 on a 0-100 axis
    assert chart["gridStroke"] == "rgb(237, 240, 243)"  # dashboard.css reaches the inline SVG

    # The replay: the 248 px high clip scaled up to the screen (80vh), within the page.
    video = shown["video"]
    assert video["naturalHeight"] == 248
    assert 0.75 * 900 <= video["height"] <= 0.8 * 900 + 1, video
    assert video["right"] <= 1280 and shown["pageWidth"] <= 1280, shown
    drawn = await page.evaluate(SEEK_AND_READ_CANVAS, 7.05)
    assert drawn["frameMs"] == 7000.0 and drawn["painted"] > 2000, drawn
    assert shown["another"]
    await page.screenshot(path=str(ARTIFACTS / "upload-dropped-1280.png"), full_page=True)

    _chart_reads_whole(chart, 4)

    # A phone: everything fits its width, the chart too.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.wait_for_function(
        """() => {
          const video = document.querySelector(".ft-replay video");
          const canvas = document.querySelector(".ft-replay canvas");
          const width = Math.round(video.clientWidth * devicePixelRatio);
          return video.clientWidth <= 340 && canvas.width === width;
        }"""
    )
    phone = await page.evaluate(READ_RESULTS)
    assert phone["pageWidth"] <= 390 and phone["video"]["right"] <= 390, phone
    assert phone["video"]["height"] > 2 * 248, phone["video"]  # still scaled up, to the width
    assert len(phone["rows"]) == 4 and len(phone["cards"]) == 4
    _chart_reads_whole(phone["chart"], 4)
    drawn = await page.evaluate(SEEK_AND_READ_CANVAS, 7.05)
    assert drawn["painted"] > 1000, drawn
    await page.screenshot(path=str(ARTIFACTS / "upload-dropped-390.png"), full_page=True)

    # Analyse another: the picker as the page opened, the host told the first analysis' end.
    await page.click("#analyse-another")
    await page.wait_for_selector("#picker:not([hidden])")
    for hidden in ("#summary", "#chart-card", "#result-card", "#result-media", "#analyse-another"):
        assert await page.is_hidden(hidden), hidden
    assert await page.evaluate("document.activeElement.id") == "file-input"
    events = [r["event"] for r in await page.evaluate("received")]
    completed = [e for e in events if e["type"] == "initialization" and e.get("ready")]
    assert len(completed) == 1 and completed[0]["message"] == "Analysis completed"
    assert events[-1] == completed[0]
    await page.screenshot(path=str(ARTIFACTS / "upload-dropped-another.png"), full_page=True)


# Every text drawn on a canvas of the page (the replay's count and grade), before its scripts run.
RECORD_DRAWN_TEXT = """
window.drawnTexts = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
  drawnTexts.push(String(text));
  return fillText.call(this, text, ...rest);
};
"""


async def test_the_replay_writes_its_count_and_grade_in_the_pages_language(
    launch_browser, server_url, worker, phone_video
):
    """language=fr: the count and grade drawn over the replayed video are French, as the rest of
    the page is. Screenshots: artifacts/upload-replay-fr-390.png and -1280.png."""
    _, token = await _token()
    browser = await launch_browser()
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.add_init_script(RECORD_DRAWN_TEXT)
    query = {"token": token, "exercise": "squat", "language": "fr"}
    await page.goto(f"{server_url}/pose_tracker/upload_tracking?{urlencode(query)}")
    await page.set_input_files("#file-input", str(phone_video))
    await page.wait_for_selector(
        ".ft-replay[data-timeline-frames]", timeout=(ANALYSIS_TIMEOUT_S + 20) * 1000
    )
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        # What is drawn at this size: the replay draws again as the page is resized.
        await page.evaluate("drawnTexts.length = 0")
        await page.set_viewport_size({"width": width, "height": height})
        drawn = await page.evaluate(SEEK_AND_READ_CANVAS, 7.05)
        assert drawn["frameMs"] == 7000.0, drawn
        texts = await page.evaluate("drawnTexts")
        assert "Compteur 2" in texts, texts  # two squats done by 7 s
        assert any(t.startswith("Note ") and t[5:] in "ABCDF" for t in texts), texts
        assert not [t for t in texts if t.startswith(("Count", "Grade"))], texts
        await page.locator(".ft-replay").scroll_into_view_if_needed()
        await page.screenshot(path=str(ARTIFACTS / f"upload-replay-fr-{width}.png"))
    await page.close()


async def test_an_assessments_upload_shows_its_measured_angle(launch_browser, server_url, worker):
    """QuickPose's trunk side bend clip uploaded as back_rom: the result is a card with the
    movement, the side and the best angle held ± its uncertainty, not a count. Screenshots:
    artifacts/upload-assessment-390.png and -1280.png."""
    _, token = await _token()
    browser = await launch_browser()
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    query = {"token": token, "exercise": "back_rom"}
    await page.goto(f"{server_url}/pose_tracker/upload_tracking?{urlencode(query)}")
    await page.set_input_files("#file-input", str(SQUAT_CLIP.parent / "health-back-rom.mp4"))
    await page.wait_for_selector("#summary .stat", timeout=(ANALYSIS_TIMEOUT_S + 20) * 1000)
    labels = await page.locator("#summary .stat-label").all_inner_texts()
    values = await page.locator("#summary .stat-value").all_inner_texts()
    assert labels == ["Trunk side bend, left side"], labels
    degrees, uncertainty = values[0].split("° ± ")
    assert 11 <= float(degrees) <= 31 and uncertainty.endswith("°"), values  # the vendor: 21°
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.locator("#summary").scroll_into_view_if_needed()
        await page.screenshot(path=str(ARTIFACTS / f"upload-assessment-{width}.png"))
    await page.close()
