// Pose inference off the page's main thread, for runInWorker=true.
// A classic worker on purpose: tasks-vision loads its wasm glue with importScripts(), which module
// workers do not have, so the CommonJS build is loaded here with an `exports` object to fill.
"use strict";

self.exports = {};
let landmarker = null;

// [x, y, z, visibility] per landmark, rounded: about 1.5 KB of JSON per frame instead of 4 KB.
function pack(result) {
  const pose = result && result.landmarks && result.landmarks[0];
  if (!pose) return null;
  const r = (v) => Math.round((v || 0) * 1e5) / 1e5;
  return pose.map((p) => [r(p.x), r(p.y), r(p.z), r(p.visibility)]);
}

async function init(message) {
  importScripts(message.bundleUrl);
  const { FilesetResolver, PoseLandmarker } = self.exports;
  const fileset = await FilesetResolver.forVisionTasks(message.wasmUrl);
  landmarker = await PoseLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: message.modelUrl, delegate: message.delegate },
    runningMode: "VIDEO",
    numPoses: 1,
  });
  self.postMessage({ type: "ready" });
}

function detect(message) {
  const started = performance.now();
  try {
    const result = landmarker.detectForVideo(message.bitmap, message.timestamp);
    self.postMessage({ type: "result", id: message.id, landmarks: pack(result), ms: performance.now() - started });
  } finally {
    message.bitmap.close();
  }
}

self.onmessage = async (event) => {
  const message = event.data;
  try {
    if (message.type === "init") await init(message);
    else if (message.type === "frame") detect(message);
    else if (message.type === "close") {
      if (landmarker) landmarker.close();
      self.close();
    }
  } catch (error) {
    self.postMessage({ type: "failure", id: message.id, stage: message.type, message: String((error && error.message) || error) });
  }
};
