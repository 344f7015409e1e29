// What the live page shows: the mirrored camera picture with the skeleton over it, the count, the
// last rep's grade, posture hints and status messages.
import { config } from "../bridge.js";
import { drawSkeleton, styleFor } from "../skeleton.js";

const params = config.params || {};
const $ = (id) => document.getElementById(id);
const canvas = $("ft-canvas");
const context = canvas.getContext("2d");
const skeleton = params.blazepose ? "blazepose" : "coco";
// The canvas has the camera's pixels and is shown larger than an export: thicker lines.
const SKELETON_WEIGHT = 2;

export const skeletonStyle = styleFor(params.skeleton);

export function setStatus(message, kind) {
  const overlay = $("ft-overlay");
  overlay.hidden = !message;
  overlay.classList.toggle("error", kind === "error");
  $("ft-message").textContent = message || "";
}

let postureTimer = null;

export function showPosture(event) {
  const element = $("ft-posture");
  clearTimeout(postureTimer);
  element.textContent = event.message || "";
  element.hidden = !event.message;
  element.classList.toggle("ready", !!event.ready);
  // The contract shows placement hints until the person is ready; "ready" itself fades out.
  if (event.ready) postureTimer = setTimeout(() => { element.hidden = true; }, 1500);
}

export function showCount(count) {
  $("ft-count").textContent = String(count);
}

export function showGrade(formScore) {
  if (!formScore || !formScore.grade) return;
  const element = $("ft-grade");
  element.hidden = false;
  element.dataset.grade = formScore.grade;
  element.querySelector(".letter").textContent = formScore.grade;
  element.querySelector(".score").textContent = formScore.score != null ? String(Math.round(formScore.score)) : "";
}

// `points`: the skeleton's points (skeleton.js) in the unmirrored camera picture, or null.
export function drawPicture(video, points) {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  context.save();
  // Mirrored, as people expect of a front camera; the skeleton shares the transform.
  context.setTransform(-1, 0, 0, 1, w, 0);
  context.drawImage(video, 0, 0, w, h);
  if (skeletonStyle && points) {
    drawSkeleton(context, points, { box: { x: 0, y: 0, width: w, height: h }, skeleton, style: skeletonStyle, weight: SKELETON_WEIGHT });
  }
  context.restore();
}
