// The live tracking page: camera -> pose landmarks (in this browser, or JPEG frames analysed by the
// server) -> the live WebSocket (docs/protocol.md) -> engine events -> the host app through the
// bridge, drawn over the mirrored camera picture.
// In browser inference only landmark numbers leave the device, never a picture.
import { config, post } from "../bridge.js";
import { fromLandmarks } from "../skeleton.js";
import { jpegFrame, openCamera, stopCamera } from "./camera.js";
import { LiveConnection } from "./connection.js";
import { continuedCount, initialization, onFinishRequest, postOnce, runningCount, sessionResumed, warn } from "./host.js";
import { drawPicture, setStatus, showCount, showGrade, showPosture, skeletonStyle } from "./hud.js";
import { BrowserInference } from "./inference.js";
import { text } from "./text.js";

const params = config.params || {};
const video = document.getElementById("ft-video");

const stats = { mode: null, delegate: null, worker: false, inferenceMs: null, fps: null, sent: 0, acked: 0, dropped: 0, latencyMs: [], cameraStartedAt: null, video: null };
window.FormTrack.stats = stats;

const state = {
  mode: params.inference === "server" ? "server" : "browser",
  busy: false, // one frame in inference or JPEG encoding at a time
  running: false, // "running" was announced
  stopped: false,
  frameId: 0,
  points: null, // what the skeleton shows (skeleton.js points), in the unmirrored picture
};

const inference = new BrowserInference({ stats, onTooSlow: switchToServer });

const connection = new LiveConnection(stats, {
  inference: () => state.mode,
  stopped: () => state.stopped,
  onEvent: onServerEvent,
  onAck(ack) {
    // With server inference the acks carry the frame's landmarks.
    if (state.mode === "server" && !ack.error) state.points = fromLandmarks(ack.landmarks);
    if (!state.running && state.mode === "server") announceRunning();
  },
  onLost(code) {
    warn("connection_lost", text.reconnecting + " (" + code + ")", { details: { closeCode: code, count: runningCount() } });
    setStatus(text.reconnecting);
  },
  onResumed() {
    sessionResumed();
    if (state.running) setStatus("");
  },
  onFailed(refusal) {
    if (refusal) fail(refusal.code, refusal.message, refusal);
    else fail("connection_lost", text.connection_lost);
  },
});

function fail(code, message, extra) {
  post(Object.assign({ type: "error", code, error: code, message }, extra || {}));
  setStatus(message, "error");
}

function onServerEvent(serverEvent) {
  const event = continuedCount(serverEvent);
  switch (event.type) {
    case "posture":
      showPosture(event);
      break;
    case "counter":
      showCount(event.current_count || 0);
      showGrade(event.form_score);
      break;
    case "error":
      // Plan gating was already announced with the page (initialEvents); say it once.
      if (event.code === "developer_features_not_allowed") { postOnce(event); return; }
      break;
  }
  post(event);
}

function switchToServer() {
  inference.close();
  state.mode = "server";
  state.points = null;
  stats.mode = "server";
}

function announceRunning() {
  state.running = true;
  setStatus("");
  initialization("running", true);
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
    const { landmarks, ms } = await inference.detect(video, now);
    if (inference.runner !== runner) return; // replaced while this frame ran
    state.points = fromLandmarks(landmarks);
    inference.checkSpeed(ms);
    if (!state.running) announceRunning();
    const t = connection.sessionTime(now);
    if (sendable && connection.canSend() && t >= 0) {
      const frameId = ++state.frameId;
      connection.sendLandmarks({ type: "landmarks", frameId, t: Math.round(t * 10) / 10, image: { w: video.videoWidth, h: video.videoHeight }, landmarks });
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
  setStatus(params.passthrough && params.passthrough.loading_message ? params.passthrough.loading_message : text.loading);
  initialization("checking you plan and access", false);
  try {
    await connection.connect();
  } catch (refused) {
    if (refused.event) fail(refused.event.code, refused.event.message, refused.event);
    else fail("connection_lost", text.connection_lost, { details: { closeCode: refused.code } });
    return;
  }

  initialization("accessing webcam", false);
  try {
    await openCamera(video, stats);
  } catch (error) {
    fail(error.code || "camera_not_found", error.message || text.camera_not_found, { details: { name: error.name || "" } });
    connection.finish();
    return;
  }

  initialization("loading pose model", false);
  stats.mode = state.mode;
  if (state.mode === "browser") {
    try {
      await inference.start();
    } catch (error) {
      warn("model_load_failed", "The pose model could not run in this browser (" + error.message + "): the server takes over.");
      switchToServer();
    }
  }
  if (state.mode === "server") setStatus(text.waitingServer);
  schedule();
}

function finish() {
  if (state.stopped) return;
  state.stopped = true;
  connection.finish();
  inference.close();
  stopCamera(video);
  setStatus(text.finished);
}

window.FormTrack.finish = finish;
onFinishRequest(finish);
window.addEventListener("pagehide", () => { if (!state.stopped) finish(); });
// A page restored from the back-forward cache has a finished session and no camera: start anew.
window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

boot();
