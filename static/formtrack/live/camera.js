// The front camera: opening it (with the error codes of the contract), stopping it, and its
// picture as a JPEG for server inference.
import { config } from "../bridge.js";
import { text } from "../text.js";

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

// The contract's code, the message the host gets (the person's words, translated) and the title
// the person reads above it.
function cameraError(error) {
  const name = (error && error.name) || "";
  if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") {
    return { code: "camera_permission_denied", message: text.camera_permission_denied, title: text.camera_denied_title, name };
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return { code: "camera_not_found", message: text.camera_busy, title: text.camera_busy_title, name };
  }
  return { code: "camera_not_found", message: text.camera_not_found, title: text.camera_not_found_title, name };
}

// Plays the camera in `video`; throws {code, message, title, name} when it cannot.
export async function openCamera(video, stats) {
  if (params.is_android) await whenVisible();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    if (window.isSecureContext) throw cameraError({ name: "NotSupportedError" });
    throw { code: "camera_permission_denied", message: text.camera_insecure, title: text.camera_unavailable_title, name: "SecurityError" };
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(cameraConstraints());
  } catch (error) {
    if (error && error.name !== "OverconstrainedError") throw cameraError(error);
    // No camera meets even "ideal" hints on some devices: any camera is better than none.
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: true });
    } catch (retry) {
      throw cameraError(retry);
    }
  }
  stats.cameraStartedAt = Date.now();
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  try {
    if (video.readyState < 1) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
    await video.play();
  } catch (error) {
    stopCamera(video);
    throw cameraError(error);
  }
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
