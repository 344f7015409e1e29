// What the live page shows the person: the mirrored camera picture with the skeleton over it, the
// count (or the time held) and its target, the last rep's grade, the current cue, placement hints,
// and the start-up stages or why tracking cannot go on. Nothing here is meant for the app's
// developer: that goes to the host (events) and the console.
import { config } from "../bridge.js";
import { drawSkeleton, styleFor } from "../skeleton.js";
import { text } from "../text.js";

const params = config.params || {};
const $ = (id) => document.getElementById(id);
const canvas = $("ft-canvas");
const context = canvas.getContext("2d");
const skeleton = params.blazepose ? "blazepose" : "coco";
// The canvas has the camera's pixels and is shown larger than an export: thicker lines.
const SKELETON_WEIGHT = 2;
// The picture fills the screen when that crops at most this share of it, else it is shown whole.
const MAX_FILL_CROP = 0.4;
const CUE_SHOWN_MS = 3000;
const CUE_LEAVING_MS = 400;
const READY_SHOWN_MS = 1500;

export const skeletonStyle = styleFor(params.skeleton);
// repetition | duration | jump | assessment; a workout's steps change it (setKind).
export let kind = $("formtrack-root").dataset.kind;

// --- Start-up and failures -----------------------------------------------------------------------

function showCard({ heading = "", message = "", progress = null, error = false }) {
  const overlay = $("ft-overlay");
  overlay.hidden = false;
  overlay.classList.toggle("error", error);
  $("ft-heading").hidden = !heading;
  $("ft-heading").textContent = heading;
  $("ft-message").textContent = message;
  const bar = $("ft-bar");
  bar.hidden = progress === null;
  // A number: that share done; true: under way, share unknown.
  bar.classList.toggle("busy", progress === true);
  bar.firstElementChild.style.width = typeof progress === "number" ? progress + "%" : "";
  $("ft-retry").hidden = !error;
}

// A start-up stage: its text, and its progress (0-100, true when unknown, null for none). The
// host's loading_message, when it sent one, heads the card.
export function showStage(message, progress = null) {
  const heading = params.passthrough && params.passthrough.loading_message;
  showCard({ heading: heading || "", message, progress });
}

// A word on the session's state (reconnecting, finished), over the picture.
export function showNotice(message, progress = null) {
  showCard({ message, progress });
}

// Tracking cannot start or go on: what happened, and what the person can do about it.
export function showFailure(heading, message) {
  showCard({ heading, message, error: true });
}

export function hideCard() {
  $("ft-overlay").hidden = true;
}

$("ft-retry").addEventListener("click", () => location.reload());

// --- Coaching ------------------------------------------------------------------------------------

let postureTimer = null;
let ownHint = false; // the placement hint is ours ("Step into the frame"), not the engine's

export function showPosture(event) {
  const element = $("ft-posture");
  clearTimeout(postureTimer);
  ownHint = false;
  element.textContent = event.message || "";
  element.hidden = !event.message;
  element.classList.toggle("ready", !!event.ready);
  // The contract shows placement hints until the person is ready; "ready" itself fades out.
  if (event.ready) postureTimer = setTimeout(() => { element.hidden = true; }, READY_SHOWN_MS);
}

// Before the engine's first placement hint: whether anyone is in the picture at all.
export function showStepIn(nobody) {
  const element = $("ft-posture");
  if (nobody && (element.hidden || ownHint)) {
    ownHint = true;
    element.textContent = text.step_in;
    element.classList.remove("ready");
    element.hidden = false;
  } else if (!nobody && ownHint) {
    ownHint = false;
    element.hidden = true;
  }
}

let cueTimer = null;

// A cue, large and briefly; `good` for praise (a target reached) rather than a correction.
export function showCue(message, good = false) {
  const element = $("ft-cue");
  clearTimeout(cueTimer);
  element.textContent = message;
  element.classList.toggle("good", good);
  element.classList.remove("leaving");
  element.hidden = false;
  // Restart the entrance for a cue that replaces one still shown.
  element.style.animation = "none";
  void element.offsetWidth;
  element.style.animation = "";
  cueTimer = setTimeout(() => {
    element.classList.add("leaving");
    cueTimer = setTimeout(() => { element.hidden = true; }, CUE_LEAVING_MS);
  }, CUE_SHOWN_MS);
}

export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
}

function showProgress(element, share) {
  element.hidden = false;
  element.classList.toggle("done", share >= 1);
  element.firstElementChild.style.width = Math.min(100, Math.round(share * 100)) + "%";
}

// The count: reps, or for holds the seconds held, with progress toward the target when there is one.
export function showCount(count, target) {
  const element = $("ft-count");
  if (!element) return;
  element.textContent = kind === "duration" ? clock(count) : String(count);
  if (!target) {
    $("ft-target").hidden = true;
    $("ft-progress").hidden = true;
    return;
  }
  const shown = $("ft-target");
  shown.hidden = false;
  shown.textContent = "/ " + (kind === "duration" ? clock(target) : String(target));
  showProgress($("ft-progress"), count / target);
}

// An assessment's best measurement so far, in whole degrees.
export function showDegrees(degrees) {
  const element = $("ft-count");
  if (element) element.textContent = Math.round(degrees) + "°";
}

// The session's clock toward a duration target, for exercises that count reps; the progress bar
// is the clock's unless it shows a rep target.
export function showClock(seconds, target, bar) {
  const element = $("ft-clock");
  if (!element) return;
  element.hidden = false;
  element.querySelector(".ft-clock-value").textContent = clock(Math.min(seconds, target)) + " / " + clock(target);
  if (bar) showProgress($("ft-progress"), seconds / target);
}

export function hideClock() {
  const element = $("ft-clock");
  if (element) element.hidden = true;
}

// --- A workout (workout.js): the step under way, what comes next, the rest ------------------------

// What the count counts from now on: "repetition" (reps) or "duration" (seconds held).
export function setKind(next) {
  kind = next;
  $("ft-tally").classList.remove("resting");
  $("ft-unit").textContent = kind === "duration" ? text.held : text.reps;
}

export function showTitle(title) {
  $("formtrack-status").textContent = title;
}

// The step and set under way, and what comes next: a line each, hidden when empty.
export function showWorkoutLines(step, next) {
  for (const [id, line] of [["ft-step", step], ["ft-next", next]]) {
    $(id).textContent = line;
    $(id).hidden = !line;
  }
}

// The rest: its seconds left in the count's place, its bar what is left of it.
export function showRest(secondsLeft, seconds) {
  $("ft-tally").classList.add("resting");
  $("ft-unit").textContent = text.rest;
  $("ft-count").textContent = clock(secondsLeft);
  $("ft-target").hidden = true;
  hideClock();
  const bar = $("ft-progress");
  bar.hidden = false;
  bar.classList.remove("done");
  bar.firstElementChild.style.width = Math.round((100 * Math.max(0, secondsLeft - 1)) / seconds) + "%";
}

// A new set of a workout is graded afresh.
export function hideGrade() {
  $("ft-grade").hidden = true;
}

// `pop`: a new rep's grade, which animates in (a hold's grade changes quietly as it goes).
export function showGrade(formScore, pop) {
  if (!formScore || !formScore.grade) return;
  const element = $("ft-grade");
  element.hidden = false;
  element.dataset.grade = formScore.grade;
  element.querySelector(".letter").textContent = formScore.grade;
  element.querySelector(".score").textContent = formScore.score != null ? String(Math.round(formScore.score)) : "";
  if (!pop) return;
  element.classList.remove("pop");
  void element.offsetWidth; // restart the animation for each new grade
  element.classList.add("pop");
}

// --- The picture ---------------------------------------------------------------------------------

function fitPicture() {
  const picture = canvas.width / canvas.height;
  const screen = canvas.clientWidth / canvas.clientHeight;
  if (!picture || !screen) return;
  const crop = 1 - Math.min(picture / screen, screen / picture);
  canvas.style.objectFit = crop <= MAX_FILL_CROP ? "cover" : "contain";
}

window.addEventListener("resize", fitPicture);

// `points`: the skeleton's points (skeleton.js) in the unmirrored camera picture, or null.
export function drawPicture(video, points) {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    fitPicture();
  }
  context.save();
  // Mirrored, as people expect of a front camera; the skeleton shares the transform.
  context.setTransform(-1, 0, 0, 1, w, 0);
  context.drawImage(video, 0, 0, w, h);
  if (skeletonStyle && points) {
    drawSkeleton(context, points, { box: { x: 0, y: 0, width: w, height: h }, skeleton, style: skeletonStyle, weight: SKELETON_WEIGHT });
  }
  context.restore();
}
