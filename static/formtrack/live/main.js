// The live tracking page: camera -> pose landmarks (in this browser, or JPEG frames analysed by the
// server) -> the live WebSocket (docs/protocol.md) -> engine events -> the host app through the
// bridge, drawn over the mirrored camera picture.
// In browser inference only landmark numbers leave the device, never a picture.
import { config, post } from "../bridge.js";
import { fromLandmarks } from "../skeleton.js";
import { jpegFrame, openCamera, stopCamera } from "./camera.js";
import { LiveConnection } from "./connection.js";
import { beep, say, startAudio, stopAudio } from "./audio.js";
import { continuedCount, initialization, onFinishRequest, postOnce, runningCount, sessionResumed, toConsole, warn } from "./host.js";
import { drawPicture, hideCard, kind, showClock, showCount, showCue, showDegrees, showFailure, showGrade, showNotice, showPosture, showStage, showStepIn, skeletonStyle } from "./hud.js";
import { BrowserInference } from "./inference.js";
import * as workout from "./workout.js";
import { text } from "../text.js";

const params = config.params || {};
const video = document.getElementById("ft-video");
// The person's targets (FormTrack's reps= and duration=): reps for what counts reps, seconds for
// holds (held) and for the rest (since tracking started).
const targets = { reps: kind === "duration" ? null : params.passthrough.reps, duration: params.passthrough.duration };
// Nobody in the picture for this long: the person is asked to step in.
const NOBODY_MS = 1000;

const stats = { mode: null, delegate: null, worker: false, inferenceMs: null, fps: null, sent: 0, acked: 0, dropped: 0, latencyMs: [], cameraStartedAt: null, video: null };
window.FormTrack.stats = stats;

const state = {
  mode: params.inference === "server" ? "server" : "browser",
  busy: false, // one frame in inference or JPEG encoding at a time
  running: false, // "running" was announced
  stopped: false,
  frameId: 0,
  points: null, // what the skeleton shows (skeleton.js points), in the unmirrored picture
  stage: null, // the start-up stage shown: "model" shows the download's progress
  modelPercent: null,
  count: 0, // the last count shown
  bestDegrees: null, // an assessment's best measurement shown
  reached: false, // the target was reached (said once)
  runningSince: null,
  seenAt: null, // when someone was last in the picture
  posed: false, // the first pose was drawn
  camera: null, // the camera's opening, started at boot
};

// Start-up milestones as performance marks ("formtrack:first-pose"…), for the browser's tools and
// bench/first_pose.py: their startTime counts from the page's navigation.
function mark(name) {
  performance.mark("formtrack:" + name);
}

const inference = new BrowserInference({ stats, onTooSlow: switchToServer });

const connection = new LiveConnection(stats, {
  inference: () => state.mode,
  workoutFrom: () => (workout.active ? workout.resumeFrom() : null),
  stopped: () => state.stopped,
  onEvent: onServerEvent,
  onAck(ack) {
    // With server inference the acks carry the frame's landmarks.
    if (state.mode === "server" && !ack.error) {
      state.points = fromLandmarks(ack.landmarks);
      sawPose(!!ack.landmarks);
    }
    if (!state.running && state.mode === "server") announceRunning();
  },
  onLost(code) {
    warn("connection_lost", text.reconnecting + " (" + code + ")", { details: { closeCode: code, count: runningCount() } });
    showNotice(text.reconnecting, true);
  },
  onResumed() {
    sessionResumed();
    if (state.running) hideCard();
  },
  onFailed(refusal) {
    if (refusal) refused(refusal);
    else fail({ code: "connection_lost", message: text.connection_lost }, text.connection_lost_title, text.connection_lost);
  },
});

// Tracking cannot start or go on: the host (and the console) get the error with its details, the
// person a title and what they can do.
function fail(error, heading, message) {
  const event = Object.assign({ type: "error", code: error.code, error: error.code }, error);
  post(event);
  toConsole(event);
  showFailure(heading, message);
}

// The server said no (token, origin, quota, limits): the app's business, not the person's.
function refused(event) {
  fail(event, text.refused_title, text.refused_later);
}

function onServerEvent(serverEvent) {
  const event = continuedCount(serverEvent);
  switch (event.type) {
    case "posture":
      showPosture(event);
      if (workout.active) workout.onPosture(event);
      break;
    case "counter":
      onCount(event);
      break;
    case "rom_measurement":
      if (state.bestDegrees === null || event.degrees > state.bestDegrees) {
        state.bestDegrees = event.degrees;
        showDegrees(event.degrees);
        beep();
      }
      break;
    case "recommendations": {
      const cue = (event.recommendations || event.data || [])[0];
      if (cue) {
        showCue(cue);
        say(cue);
      }
      // The person is coached whatever the host asked for; the host hears the cues only when it
      // asked (recommendations=true, on a plan that has them).
      if (!params.recommendations) return;
      break;
    }
    case "error":
      // Plan gating was already announced with the page (initialEvents); say it once.
      if (event.code === "developer_features_not_allowed") { postOnce(event); return; }
      // The call is taken at the first frame: the month's last one may have gone since the start.
      if (event.code === "quota_exceeded") { refused(event); return; }
      toConsole(event);
      break;
    case "warning":
      toConsole(event);
      break;
    case "workout_started":
    case "workout_step":
    case "rest":
    case "workout_summary":
      if (event.type === "workout_step" && !event.done) state.count = 0; // each set counts from 0
      workout.onEvent(event);
      break;
  }
  post(event);
}

// What the count counts toward: seconds held for holds, reps for the rest; in a workout, the set's
// target (the engine says when it is met).
const countTarget = kind === "duration" ? targets.duration : targets.reps;

function onCount(event) {
  const count = event.current_count || 0;
  const target = workout.active ? workout.countTarget() : countTarget;
  showCount(count, target);
  // Reps pop their grade in and beep; a hold's counter ticks each second, its grade changes quietly.
  const newRep = kind !== "duration" && !event.final && count > state.count;
  showGrade(event.form_score, newRep);
  if (newRep) beep();
  state.count = count;
  if (target && count >= target && !workout.active) targetReached();
}

function targetReached() {
  if (state.reached) return;
  state.reached = true;
  showCue(text.target_reached, true);
  say(text.target_reached);
  beep(true);
}

// A duration target for what counts reps: the time since tracking started.
function tickClock() {
  if (state.stopped) return;
  const seconds = (performance.now() - state.runningSince) / 1000;
  showClock(seconds, targets.duration, !targets.reps);
  if (seconds >= targets.duration) targetReached();
  else setTimeout(tickClock, 250);
}

function showModelStage() {
  const percent = state.modelPercent;
  if (percent === null) showStage(text.loading_model, true);
  // Downloaded: the model is being set up, for a moment more.
  else showStage(text.loading_model_percent.replace("{percent}", percent), percent < 100 ? percent : true);
}

// Whether anyone is in the picture: nobody for a while, and the person is asked to step in.
function sawPose(seen) {
  const now = performance.now();
  if (seen) state.seenAt = now;
  showStepIn(!seen && (state.seenAt === null || now - state.seenAt > NOBODY_MS));
}

function switchToServer() {
  inference.close();
  state.mode = "server";
  state.points = null;
  stats.mode = "server";
}

function announceRunning() {
  state.running = true;
  state.stage = null;
  state.runningSince = performance.now();
  hideCard();
  initialization("running", true);
  if (targets.duration && kind !== "duration") tickClock();
}

// --- Frames ----------------------------------------------------------------------------------------

async function processFrame(now) {
  if (state.busy || state.stopped || !video.videoWidth) return;
  const sendable = connection.canSend();
  if (state.mode === "server") {
    if (!sendable) return;
    state.busy = true;
    try {
      const blob = await jpegFrame(video);
      const buffer = blob && (await blob.arrayBuffer());
      if (buffer && connection.canSend()) {
        state.frameId += 1;
        connection.sendJpeg(buffer);
      }
    } finally {
      state.busy = false;
    }
    return;
  }
  const runner = inference.runner;
  // The overlay follows the body even while the server is behind; without one, skip the work.
  if (!runner || (!sendable && !skeletonStyle)) return;
  state.busy = true;
  try {
    const { landmarks, world, ms } = await inference.detect(video, now);
    if (inference.runner !== runner) return; // replaced while this frame ran
    state.points = fromLandmarks(landmarks);
    inference.checkSpeed(ms);
    if (!state.running) announceRunning();
    sawPose(!!landmarks);
    const t = connection.sessionTime(now);
    if (sendable && connection.canSend() && t >= 0) {
      const frameId = ++state.frameId;
      connection.sendLandmarks({ type: "landmarks", frameId, t: Math.round(t * 10) / 10, image: { w: video.videoWidth, h: video.videoHeight }, landmarks, world });
    }
  } catch (error) {
    if (inference.runner === runner) {
      warn("model_load_failed", "Pose inference failed in this browser (" + error.message + "): the server takes over.");
      switchToServer();
    }
  } finally {
    state.busy = false;
  }
}

let fpsWindow = { started: performance.now(), frames: 0 };

function onFrame() {
  if (state.stopped) return;
  drawPicture(video, state.points);
  if (state.points && !state.posed) {
    state.posed = true;
    mark("first-pose");
  }
  const frameId = state.frameId;
  processFrame(performance.now()).then(() => {
    if (state.frameId !== frameId) {
      fpsWindow.frames += 1;
      const elapsed = performance.now() - fpsWindow.started;
      if (elapsed >= 2000) {
        stats.fps = Math.round((fpsWindow.frames * 10000) / elapsed) / 10;
        fpsWindow = { started: performance.now(), frames: 0 };
      }
    }
  });
  schedule();
}

// Once per new camera frame where the browser says so, else once per display frame.
function schedule() {
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
  else requestAnimationFrame(onFrame);
}

// --- Boot and finish -------------------------------------------------------------------------------

async function boot() {
  showStage(text.connecting, true);
  initialization("checking you plan and access", false);
  // The slow parts of the start-up run side by side while the page connects: the pose model
  // downloads, compiles and sets up (the longest), and the camera opens (or the person is asked
  // for it). The host hears of them in their usual order, once connected.
  if (state.mode === "browser") {
    inference.prepare((percent) => {
      state.modelPercent = percent;
      if (state.stage === "model") showModelStage();
    });
  }
  state.camera = openCamera(video, stats).then(() => mark("camera"));
  state.camera.catch(() => {}); // reported below
  try {
    await connection.connect();
    mark("connected");
  } catch (refusal) {
    stopStarting();
    if (refusal.event) refused(refusal.event);
    else fail({ code: "connection_lost", message: text.connection_lost, details: { closeCode: refusal.code } }, text.connection_lost_title, text.connection_lost);
    return;
  }

  if (finishedDuringBoot()) return;

  initialization("accessing webcam", false);
  showStage(text.starting_camera, true);
  try {
    await state.camera;
  } catch (error) {
    inference.close();
    fail({ code: error.code, message: error.message, details: { name: error.name || "" } }, error.title, error.message);
    connection.finish();
    return;
  }
  if (finishedDuringBoot()) return;
  // Once the camera runs: Chromium lets a page that is filming play sound without a touch.
  startAudio();
  // The person sees themselves from now on; the skeleton joins them once the model runs.
  schedule();

  initialization("loading pose model", false);
  stats.mode = state.mode;
  if (state.mode === "browser") {
    state.stage = "model";
    showModelStage();
    try {
      await inference.start();
      mark("model");
    } catch (error) {
      warn("model_load_failed", "The pose model could not run in this browser (" + error.message + "): the server takes over.");
      switchToServer();
    }
    state.stage = null;
    if (finishedDuringBoot()) return;
  }
  if (state.mode === "server" && !state.running) showStage(text.waitingServer, true);
}

function finish() {
  if (state.stopped) return;
  state.stopped = true;
  connection.finish();
  inference.close();
  stopCamera(video);
  stopAudio();
  showNotice(text.finished);
}

// The host may finish while the page is still starting (the person left during the camera
// prompt): what started since is stopped again, and the page goes no further.
function finishedDuringBoot() {
  if (!state.stopped) return false;
  connection.finish();
  stopStarting();
  stopAudio();
  return true;
}

// The model and the camera started at boot, stopped: the camera once open, should it still be
// opening.
function stopStarting() {
  inference.close();
  stopCamera(video);
  state.camera.then(() => stopCamera(video), () => {});
}

window.FormTrack.finish = finish;
onFinishRequest(finish);
window.addEventListener("pagehide", () => { if (!state.stopped) finish(); });
// A page restored from the back-forward cache has a finished session and no camera: start anew.
window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

// The targets are there from the start (a workout's first step shows its own; an assessment
// shows its best angle once measured).
if (!workout.active && kind !== "assessment") showCount(0, countTarget);
if (targets.duration && kind !== "duration") showClock(0, targets.duration, !targets.reps);
boot();
