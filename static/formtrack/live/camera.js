// The front camera: opening it (with the error codes of the contract), stopping it, and its
// picture as a JPEG for server inference.
import { config } from "../bridge.js";
import { text } from "./text.js";

const params = config.params || {};
const SERVER_FRAME_WIDTH = 320;
const JPEG_QUALITY = 0.7;

function whenVisible() {
  if (document.visibilityState === "visible") return Promise.resolve();
  return new Promise((resolve) => {
    const onChange = () => {
      if (document.visibilityState !== "visible") return;
      document.removeEventListener("visibilitychange", onChange);
      resolve();
    };
    document.addEventListener("visibilitychange", onChange);
  });
}

function cameraConstraints() {
  // Android WebViews fail on constraints they cannot meet: ask for the front camera only.
  if (params.is_android) return { audio: false, video: { facingMode: "user" } };
  const video = { facingMode: "user" };
  // Hints only: a camera that cannot match them still opens, with the mode closest to them.
  if (params.width) video.width = { ideal: params.width };
  if (params.height) video.height = { ideal: params.height };
  return { audio: false, video };
}

function cameraError(error) {
  const name = (error && error.name) || "";
  if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") {
    return ["camera_permission_denied", text.camera_permission_denied];
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return ["camera_not_found", text.camera_busy];
  }
  return ["camera_not_found", text.camera_not_found];
}

function toCode([code, message]) {
  return { code, message };
}

// Plays the camera in `video`; throws {code, message, name} when it cannot.
export async function openCamera(video, stats) {
  if (params.is_android) await whenVisible();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const insecure = !window.isSecureContext;
    throw { code: insecure ? "camera_permission_denied" : "camera_not_found", message: insecure ? text.camera_insecure : text.camera_not_found, name: insecure ? "SecurityError" : "NotSupportedError" };
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(cameraConstraints());
  } catch (error) {
    if (error && error.name !== "OverconstrainedError") throw Object.assign({ name: error.name }, toCode(cameraError(error)));
    // No camera meets even "ideal" hints on some devices: any camera is better than none.
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: true });
    } catch (retry) {
      throw Object.assign({ name: retry.name }, toCode(cameraError(retry)));
    }
  }
  stats.cameraStartedAt = Date.now();
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  if (video.readyState < 1) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
  await video.play();
  stats.video = { width: video.videoWidth, height: video.videoHeight };
}

export function stopCamera(video) {
  const stream = video.srcObject;
  if (stream) for (const track of stream.getTracks()) track.stop();
}

const grab = document.createElement("canvas");

// The camera's picture, scaled down, as a JPEG blob.
export function jpegFrame(video) {
  const scale = Math.min(1, SERVER_FRAME_WIDTH / video.videoWidth);
  const w = Math.max(2, Math.round((video.videoWidth * scale) / 2) * 2);
  const h = Math.max(2, Math.round((video.videoHeight * scale) / 2) * 2);
  if (grab.width !== w || grab.height !== h) { grab.width = w; grab.height = h; }
  grab.getContext("2d").drawImage(video, 0, 0, w, h); // unmirrored: the server sees the camera's own image
  return new Promise((resolve) => grab.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
}
