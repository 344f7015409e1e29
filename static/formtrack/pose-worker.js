// Pose inference off the page's main thread, for runInWorker=true.
// A classic worker on purpose: tasks-vision loads its wasm glue with importScripts(), which module
// workers do not have, so the CommonJS build is loaded here with an `exports` object to fill.
"use strict";

self.exports = {};
let landmarker = null;

// The page downloaded the runtime (inference.js): `fileset` names its wasm, `model` is its bytes.
async function init(message) {
  importScripts(message.bundleUrl);
  const { PoseLandmarker } = self.exports;
  landmarker = await PoseLandmarker.createFromOptions(message.fileset, {
    baseOptions: { modelAssetBuffer: message.model, delegate: message.delegate },
    runningMode: "VIDEO",
    numPoses: 1,
  });
  self.postMessage({ type: "ready" });
}

function detect(message) {
  const started = performance.now();
  try {
    const result = landmarker.detectForVideo(message.bitmap, message.timestamp);
    // The first person's landmarks as they are: inference.js packs them, as it packs its own.
    const first = { landmarks: (result.landmarks || []).slice(0, 1), worldLandmarks: (result.worldLandmarks || []).slice(0, 1) };
    self.postMessage({ type: "result", id: message.id, result: first, ms: performance.now() - started });
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
