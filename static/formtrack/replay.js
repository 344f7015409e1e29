// Draws an analysed video's pose timeline (skeleton, rep counter, grade) over the original video
// as it plays: the picture of the annotated export, without the server rendering a video.
// The timeline's format is documented in tracking/pose/pipeline.py (write_timeline).
// Its words are the page's, in its language (tracking/page_text.py, REPLAY).
import { drawSkeleton, fromFlat } from "./skeleton.js";
import { text } from "./text.js";

// The counter panel of the export (tracking/pose/render.py, draw_status).
const GRADE_COLOURS = { A: "rgb(60,200,80)", B: "rgb(160,200,60)", C: "rgb(230,200,40)", D: "rgb(255,140,40)" };
const FAILING_GRADE = "rgb(230,60,60)";

// The frame shown at `ms`: the last one at or before it.
function frameAt(frames, ms) {
  let low = 0;
  let high = frames.length - 1;
  if (high < 0 || frames[0][0] > ms) return null;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (frames[middle][0] <= ms) low = middle;
    else high = middle - 1;
  }
  return frames[low];
}

// Where the picture sits inside the <video> box, by its CSS object-fit (centred, the default
// object-position); with cover or none it may overflow the box, and the canvas clips it as the
// video is clipped.
function pictureBox(video) {
  const width = video.clientWidth;
  const height = video.clientHeight;
  const naturalWidth = video.videoWidth || width;
  const naturalHeight = video.videoHeight || height;
  const fit = getComputedStyle(video).objectFit;
  const contain = Math.min(width / naturalWidth, height / naturalHeight);
  let scaleX;
  let scaleY;
  if (fit === "fill") {
    scaleX = width / naturalWidth;
    scaleY = height / naturalHeight;
  } else {
    const scales = { cover: Math.max(width / naturalWidth, height / naturalHeight), none: 1, "scale-down": Math.min(1, contain) };
    scaleX = scaleY = scales[fit] ?? contain;
  }
  const shownWidth = naturalWidth * scaleX;
  const shownHeight = naturalHeight * scaleY;
  return { x: (width - shownWidth) / 2, y: (height - shownHeight) / 2, width: shownWidth, height: shownHeight };
}

function drawStatus(context, count, grade, box) {
  const lines = [];
  if (count !== null) lines.push([text.count + " " + count, "#fff"]);
  if (grade !== null) lines.push([text.grade + " " + grade, GRADE_COLOURS[grade] || FAILING_GRADE]);
  if (!lines.length) return;
  const size = Math.max(12, Math.round(Math.min(box.width, box.height) / 16));
  const pad = Math.round(size / 2);
  context.font = "600 " + size + "px system-ui, sans-serif";
  const width = Math.max(...lines.map(([text]) => context.measureText(text).width)) + 2 * pad;
  context.fillStyle = "rgba(32,32,32,0.85)";
  context.fillRect(box.x, box.y, width, lines.length * size * 1.3 + pad);
  lines.forEach(([text, colour], row) => {
    context.fillStyle = colour;
    context.fillText(text, box.x + pad, box.y + pad / 2 + (row + 1) * size * 1.2);
  });
}

// Wraps `video` in a box with a canvas on top and returns the box. The canvas follows the video.
// `previewUrl`: the analysis' H.264 copy (the API's preview_url), played instead when the browser
// cannot play the video's own format. `onTimeline(timeline)` hears the timeline once loaded (null
// if it could not be), `onTime(ms)` the time of each picture drawn.
export function attach(video, timelineUrl, { previewUrl = null, onTimeline = () => {}, onTime = () => {} } = {}) {
  const box = document.createElement("div");
  box.className = "ft-replay";
  // Sized by the page's styles (base.css: as wide as the picture, centred, never wider than the
  // page); --replay-aspect lets a page scale a small video up to the room it has (upload.css).
  box.style.position = "relative";
  video.style.display = "block";
  video.style.maxWidth = "100%";
  video.addEventListener("loadedmetadata", () => {
    if (video.videoWidth && video.videoHeight) box.style.setProperty("--replay-aspect", String(video.videoWidth / video.videoHeight));
  });
  const canvas = document.createElement("canvas");
  canvas.setAttribute("aria-hidden", "true");
  Object.assign(canvas.style, { position: "absolute", left: "0", top: "0", width: "100%", height: "100%", pointerEvents: "none" });
  box.append(video, canvas);
  let timeline = null;
  let shown = undefined;

  function draw() {
    if (!timeline) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(video.clientWidth * ratio);
    const height = Math.round(video.clientHeight * ratio);
    const ms = video.currentTime * 1000;
    onTime(ms);
    const frame = frameAt(timeline.frames, ms);
    if (frame === shown && canvas.width === width && canvas.height === height) return;
    shown = frame;
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    if (!frame) return;
    const [, count, grade, points] = frame;
    const picture = pictureBox(video);
    // The style the request's skeleton parameter gave (null: none); older timelines have none.
    const style = timeline.style === undefined ? {} : timeline.style;
    if (points && style) drawSkeleton(context, fromFlat(points), { box: picture, skeleton: timeline.skeleton, style });
    drawStatus(context, count, grade, picture);
    box.dataset.frameMs = String(frame[0]);
  }

  function loop() {
    draw();
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(loop);
    else requestAnimationFrame(loop);
  }

  for (const event of ["loadeddata", "seeked", "pause", "resize"]) video.addEventListener(event, draw);
  video.addEventListener("error", () => {
    // Browsers do not all play every format a phone records (HEVC, MPEG-4 part 2, AVI): the
    // preview then, else say so instead of showing an empty player; the results stay on the page.
    if (previewUrl && !box.dataset.preview) {
      box.dataset.preview = "true";
      video.src = previewUrl;
      return;
    }
    const note = document.createElement("p");
    note.className = "ft-replay-error";
    note.textContent = text.video_unplayable;
    box.replaceChildren(note);
    box.dataset.videoError = "true";
  });
  if (window.ResizeObserver) new ResizeObserver(draw).observe(video);
  fetch(timelineUrl, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error("timeline " + response.status);
      return response.json();
    })
    .then((loaded) => {
      timeline = loaded;
      box.dataset.timelineFrames = String(loaded.frames.length);
      onTimeline(loaded);
      draw();
      loop();
    })
    .catch(() => {
      box.dataset.timelineError = "true";
      onTimeline(null);
    });
  return box;
}

// Markup can ask for a replay: <div data-replay-video="…" data-replay-timeline="…"></div>.
for (const holder of document.querySelectorAll("[data-replay-video][data-replay-timeline]")) {
  const video = document.createElement("video");
  video.src = holder.dataset.replayVideo;
  video.controls = true;
  video.playsInline = true;
  video.preload = "metadata";
  video.setAttribute("aria-label", text.video_label);
  holder.replaceChildren(attach(video, holder.dataset.replayTimeline));
}
