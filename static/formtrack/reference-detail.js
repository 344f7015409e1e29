// Reference detail: follow the extraction's progress, then play the extracted skeleton in a loop.
import { drawSkeleton, fromLandmarks, isVisible } from "./skeleton.js";

const config = JSON.parse(document.getElementById("reference-config").textContent);
const badge = document.getElementById("status-badge");
const text = document.getElementById("status-text");
const progress = document.getElementById("status-progress");
const errorBox = document.getElementById("status-error");
const canvas = document.getElementById("skeleton");
const note = document.getElementById("skeleton-note");
const LABELS = { processing: "Processing", ready: "Ready", failed: "Failed" };
const BADGES = { processing: "badge-info", ready: "badge-ok", failed: "badge-bad" };
// Lines twice an export's on a picture the canvas' size, however far the person is zoomed in.
const SKELETON_WEIGHT = 2;

function show(state) {
  badge.textContent = LABELS[state.status] || state.status;
  badge.className = "badge " + (BADGES[state.status] || "");
  progress.hidden = state.status !== "processing";
  progress.setAttribute("aria-valuenow", state.progress);
  progress.firstElementChild.style.width = state.progress + "%";
  text.textContent = state.status === "processing" ? `Extracting the movement… ${state.progress}%`
    : state.status === "ready" ? "Ready to use." : "";
  if (state.error) {
    errorBox.hidden = false;
    errorBox.textContent = state.error.code + ": " + state.error.message;
  }
}

async function poll() {
  try {
    const response = await fetch(config.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) {
      const state = await response.json();
      show(state);
      if (state.status === "ready") return loadSkeleton();
      if (state.status !== "processing") return;
    }
  } catch (e) { /* try again */ }
  setTimeout(poll, 1500);
}

function draw(ctx, points, box, weight) {
  ctx.fillStyle = "#0b1020";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!points) {
    ctx.fillStyle = "#6b7280";
    ctx.font = "14px system-ui, sans-serif";
    ctx.fillText("No person in this frame", 16, 28);
    return;
  }
  drawSkeleton(ctx, points, { box, weight });
}

async function loadSkeleton() {
  const response = await fetch(config.landmarksUrl, { credentials: "same-origin" });
  if (!response.ok) return;
  const data = await response.json();
  const frames = (data.frames || [])
    .filter((f) => typeof f.timestamp_ms === "number")
    .map((f) => ({ timestampMs: f.timestamp_ms, points: fromLandmarks(f.landmarks) }));
  if (!frames.length) {
    note.textContent = "No landmarks were stored for this reference.";
    return;
  }
  const width = data.image_width || 640;
  const height = data.image_height || 480;
  // Fit the person, not the whole image: the box around every visible landmark of every frame.
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const f of frames) {
    for (const p of f.points || []) {
      if (!isVisible(p)) continue;
      minX = Math.min(minX, p[0] * width); maxX = Math.max(maxX, p[0] * width);
      minY = Math.min(minY, p[1] * height); maxY = Math.max(maxY, p[1] * height);
    }
  }
  if (!Number.isFinite(minX)) { minX = 0; minY = 0; maxX = width; maxY = height; }
  const pad = 24;
  const scale = Math.min((canvas.width - 2 * pad) / Math.max(1, maxX - minX), (canvas.height - 2 * pad) / Math.max(1, maxY - minY));
  // Where the whole picture sits on the canvas, at that scale.
  const box = {
    x: (canvas.width - (maxX - minX) * scale) / 2 - minX * scale,
    y: (canvas.height - (maxY - minY) * scale) / 2 - minY * scale,
    width: width * scale,
    height: height * scale,
  };
  const weight = (SKELETON_WEIGHT * Math.min(canvas.width, canvas.height)) / Math.min(box.width, box.height);
  const ctx = canvas.getContext("2d");
  const first = frames[0].timestampMs;
  const span = Math.max(1, frames[frames.length - 1].timestampMs - first);
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  note.textContent = `${frames.length} frames over ${(span / 1000).toFixed(1)} s, played in a loop.`;
  let index = 0;
  let began = null;
  function tick(now) {
    if (began === null) began = now;
    const t = first + ((now - began) % (span + 400));
    while (index < frames.length - 1 && frames[index + 1].timestampMs <= t) index++;
    if (t < frames[index].timestampMs) index = 0;
    draw(ctx, frames[index].points, box, weight);
    canvas.dataset.frame = String(index);
    if (!reduced) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
}

if (config.status === "processing") poll();
else if (config.status === "ready") loadSkeleton();
