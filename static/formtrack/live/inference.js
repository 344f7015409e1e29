// Pose inference in the browser: the pose runtime downloaded once with its progress, a MediaPipe
// landmarker on the GPU or the CPU, in a Web Worker (pose-worker.js, a classic worker) when
// runInWorker asks for it, and the speed checks that move to the CPU or hand inference to the
// server.
import { config, post } from "../bridge.js";
import { warn } from "./host.js";

const params = config.params || {};
const SLOW_FPS = 8; // below this the device cannot follow a movement (contract: device_too_slow)
const WARMUP_FRAMES = 5; // the first inferences compile shaders and fill caches: not measured
const MEASURED_FRAMES = 30;
const GPU_MEASURED_FRAMES = 5; // a slow GPU is slow on every frame: decide early, then measure the CPU
const GPU_SLOW_MS = 40; // a real GPU runs the lite model in a few ms; slower means try the CPU
const MODEL_LOAD_TIMEOUT_MS = 60000;

// The module MediaPipe's FilesetResolver.isSimdSupported() tries (vision_bundle.mjs): checked
// here, the wasm binary to fetch is known before the runtime's script has loaded.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
const absolute = (path) => new URL(path, location.href).href;
const root = document.getElementById("formtrack-root");
// Each file by the URL the page names (content-hashed in production): the runtime's wasm for
// browsers with SIMD and without, and the model the parameters ask for.
const urls = {
  bundleModule: root.dataset.visionModule,
  bundleClassic: absolute(root.dataset.visionClassic),
  wasm: { wasmLoaderPath: absolute(root.dataset.wasmLoader), wasmBinaryPath: absolute(root.dataset.wasmBinary) },
  wasmNoSimd: { wasmLoaderPath: absolute(root.dataset.wasmLoaderNosimd), wasmBinaryPath: absolute(root.dataset.wasmBinaryNosimd) },
  model: absolute(root.dataset.model),
  worker: root.dataset.worker,
};

function probeWebGL() {
  try {
    const gl = document.createElement("canvas").getContext("webgl2");
    if (!gl) return { webgl: false, software: false, renderer: "" };
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    return { webgl: true, software: /swiftshader|llvmpipe|softpipe|software/i.test(renderer), renderer };
  } catch (e) {
    return { webgl: false, software: false, renderer: "" };
  }
}

function landmarkerOptions(delegate, model) {
  return { baseOptions: { modelAssetBuffer: model, delegate }, runningMode: "VIDEO", numPoses: 1 };
}

// The bytes at `url`, with onBytes(loaded, total) as they arrive (total 0 when not announced).
// Unless `keep`, only their count: then a file the browser has cached is not read at all.
async function download(url, signal, onBytes, keep = true) {
  if (!keep) {
    const cached = await fetch(url, { signal, cache: "only-if-cached", mode: "same-origin" }).catch(() => null);
    if (cached && cached.ok) {
      const total = Number(cached.headers.get("Content-Length")) || 1;
      cached.body.cancel();
      onBytes(total, total);
      return null;
    }
  }
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(url + " answered HTTP " + response.status);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (keep) chunks.push(value);
    loaded += value.length;
    onBytes(loaded, total);
  }
  if (!keep) return null;
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) { bytes.set(chunk, at); at += chunk.length; }
  return bytes;
}

// The runtime's two large files: the model, whose bytes every landmarker of the page and its worker
// is made from (it starts downloading first), and the wasm binary this browser runs, fetched here
// only to show its progress when the browser does not have it yet: the runtime compiles it from
// its URL, out of the HTTP cache, and compiled that way the browser keeps the compiled code for
// the next visit. All three start at once, the runtime's script too. onProgress(percent), or null
// while the sizes are unknown.
async function downloadRuntime(signal, onProgress) {
  const files = [{ loaded: 0, total: 0 }, { loaded: 0, total: 0 }];
  const progress = (index) => (loaded, total) => {
    files[index] = { loaded, total };
    const known = files.every((file) => file.total);
    const sum = (key) => files.reduce((all, file) => all + file[key], 0);
    onProgress(known ? Math.min(100, Math.floor((100 * sum("loaded")) / sum("total"))) : null);
  };
  const model = download(urls.model, signal, progress(1));
  model.catch(() => {}); // awaited below
  const fileset = WebAssembly.validate(SIMD_PROBE) ? urls.wasm : urls.wasmNoSimd;
  const wasm = download(fileset.wasmBinaryPath, signal, progress(0), false);
  wasm.catch(() => {}); // awaited below
  const vision = await import(urls.bundleModule);
  await wasm;
  const bytes = await model;
  return { vision, fileset, model: bytes };
}

// The frame's fields of the landmarks message (docs/protocol.md): image landmarks [x, y, z,
// visibility] to 1e-5 (about 1.2 KB of JSON instead of 4 KB), and world landmarks [x, y, z],
// metres around the hips, to the millimetre. The worker's results are packed here too.
function pack(result) {
  const pose = result && result.landmarks && result.landmarks[0];
  if (!pose) return { landmarks: null, world: null };
  const world = result.worldLandmarks && result.worldLandmarks[0];
  const r = (v) => Math.round((v || 0) * 1e5) / 1e5;
  const mm = (v) => Math.round((v || 0) * 1e3) / 1e3;
  return {
    landmarks: pose.map((p) => [r(p.x), r(p.y), r(p.z), r(p.visibility)]),
    world: world ? world.map((p) => [mm(p.x), mm(p.y), mm(p.z)]) : null,
  };
}

function withTimeout(promise, ms, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(what + " timed out")), ms))]);
}

async function mainThreadRunner(delegate, runtime) {
  const landmarker = await runtime.vision.PoseLandmarker.createFromOptions(runtime.fileset, landmarkerOptions(delegate, runtime.model));
  return {
    delegate,
    worker: false,
    async detect(source, timestamp) {
      const started = performance.now();
      const frame = pack(landmarker.detectForVideo(source, timestamp));
      return { ...frame, ms: performance.now() - started };
    },
    close() { landmarker.close(); },
  };
}

function workerSupported() {
  return typeof Worker === "function" && typeof createImageBitmap === "function" && typeof OffscreenCanvas === "function";
}

function workerRunner(delegate, runtime) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(urls.worker);
    const pending = new Map();
    let nextId = 1;
    const runner = {
      delegate,
      worker: true,
      async detect(source, timestamp) {
        const started = performance.now();
        const bitmap = await createImageBitmap(source);
        const id = nextId++;
        const answer = new Promise((done, failed) => pending.set(id, { done, failed }));
        worker.postMessage({ type: "frame", id, bitmap, timestamp }, [bitmap]);
        const frame = await answer;
        return { ...frame, ms: performance.now() - started };
      },
      close() {
        worker.postMessage({ type: "close" });
        setTimeout(() => worker.terminate(), 1000);
      },
    };
    worker.onmessage = (event) => {
      const message = event.data;
      if (message.type === "ready") resolve(runner);
      else if (message.type === "result" || message.type === "failure") {
        const waiting = pending.get(message.id);
        pending.delete(message.id);
        if (message.type === "failure" && message.stage === "init") { worker.terminate(); reject(new Error(message.message)); }
        else if (waiting && message.type === "result") waiting.done(pack(message.result));
        else if (waiting) waiting.failed(new Error(message.message));
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      const error = new Error(event.message || "the pose worker failed");
      for (const waiting of pending.values()) waiting.failed(error);
      reject(error);
    };
    worker.postMessage({ type: "init", bundleUrl: urls.bundleClassic, fileset: runtime.fileset, model: runtime.model, delegate });
  });
}

// A landmarker in a worker when asked for and possible, else on the page (said in a warning).
async function createRunner(delegate, runtime) {
  if (params.run_in_worker) {
    if (!workerSupported()) {
      warn("worker_unavailable", "Pose inference runs on the page: this browser cannot run it in a Web Worker.");
    } else {
      try {
        return await withTimeout(workerRunner(delegate, runtime), MODEL_LOAD_TIMEOUT_MS, "the pose worker");
      } catch (error) {
        warn("worker_unavailable", "Pose inference runs on the page: the Web Worker failed (" + error.message + ").");
      }
    }
  }
  return withTimeout(mainThreadRunner(delegate, runtime), MODEL_LOAD_TIMEOUT_MS, "loading the pose model");
}

function median(values) {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export class BrowserInference {
  // `onTooSlow` is called when this device cannot follow a movement: the server should take over.
  constructor({ stats, onTooSlow }) {
    this.stats = stats;
    this.onTooSlow = onTooSlow;
    this.runner = null; // {delegate, worker, detect(), close()}; replaced when the CPU beats the GPU
    this.timings = []; // inference times after warm-up, for the device and delegate checks
    this.inferences = 0;
    this.gpuTrial = null;
    this.lastTimestamp = 0;
    this.runtime = null; // the download, once started
    this.prepared = null; // the download and the first landmarker, once started
    this.closed = false;
    this.cancelDownload = new AbortController();
  }

  // Starts the runtime's download (once), with onProgress(percent or null) as it goes.
  download(onProgress) {
    if (!this.runtime) {
      this.runtime = withTimeout(downloadRuntime(this.cancelDownload.signal, onProgress), MODEL_LOAD_TIMEOUT_MS, "downloading the pose model");
      this.runtime.catch(() => {}); // start() reports it
    }
    return this.runtime;
  }

  // Starts (once) all that the first inference waits for: the download, compiling the runtime
  // and setting up a landmarker. It is the longest part of the page's start-up, so the page
  // starts it first and connects and opens the camera meanwhile.
  prepare(onProgress) {
    if (!this.prepared) {
      this.prepared = this.makeRunner(onProgress);
      this.prepared.catch(() => {}); // start() reports it
    }
    return this.prepared;
  }

  async makeRunner(onProgress) {
    const downloading = this.download(onProgress);
    const gl = probeWebGL(); // while the runtime downloads: it creates a WebGL context
    let delegate = "CPU";
    let fallback = null;
    if (params.pose_backend !== "wasm") {
      if (!gl.webgl) fallback = "WebGL 2 is not available on this device";
      else if (gl.software) fallback = "WebGL is software-rendered here (" + gl.renderer + "), the CPU is faster";
      else delegate = "GPU";
    }
    const runtime = await downloading;
    let runner;
    try {
      runner = await createRunner(delegate, runtime);
    } catch (error) {
      if (delegate !== "GPU") throw error;
      fallback = "the GPU delegate failed (" + error.message + ")";
      delegate = "CPU";
      runner = await createRunner(delegate, runtime);
    }
    return { runner, webgl: gl.webgl, fallback };
  }

  // Puts the prepared landmarker to work (after the host heard the page is loading the model).
  async start() {
    const { runner, webgl, fallback } = await this.prepare(() => {});
    if (this.closed) return; // close() closes it
    if (fallback) warn("backend_fallback_wasm", "Pose inference runs on the CPU (wasm): " + fallback + ".");
    this.use(runner, webgl);
  }

  use(runner, webgl) {
    this.runner = runner;
    this.timings = [];
    this.inferences = 0;
    this.stats.delegate = runner.delegate;
    this.stats.worker = runner.worker;
    post({ type: "environment", poseBackend: runner.delegate === "GPU" ? "webgl" : "wasm", webgl, worker: runner.worker, inference: "browser" });
  }

  // {landmarks, world, ms} of the video's current frame, from the current runner.
  detect(video, now) {
    const timestamp = Math.max(now, this.lastTimestamp + 1); // VIDEO mode needs increasing timestamps
    this.lastTimestamp = timestamp;
    return this.runner.detect(video, timestamp);
  }

  // After warm-up: a GPU slower than a GPU should be is compared with the CPU once, and a device
  // too slow to follow a movement hands inference to the server.
  checkSpeed(ms) {
    this.inferences += 1;
    if (this.inferences <= WARMUP_FRAMES) return;
    this.timings.push(ms);
    if (this.timings.length > MEASURED_FRAMES) this.timings.shift();
    const mean = this.timings.reduce((a, b) => a + b, 0) / this.timings.length;
    this.stats.inferenceMs = Math.round(mean * 10) / 10;
    const trial = this.gpuTrial;
    if (!trial && this.runner.delegate === "GPU" && this.timings.length >= GPU_MEASURED_FRAMES && median(this.timings) > GPU_SLOW_MS) {
      this.startTrial(median(this.timings));
      return;
    }
    if (this.timings.length < MEASURED_FRAMES) return;
    if (trial && !trial.settled) {
      if (this.runner === trial.cpu) this.settleTrial(trial, median(this.timings));
      return;
    }
    if (1000 / mean < SLOW_FPS) {
      const fps = Math.round((1000 / mean) * 10) / 10;
      warn("device_too_slow", "This device analyses " + fps + " frames per second (under " + SLOW_FPS + "): the server takes over pose inference.", { fps });
      this.onTooSlow();
    }
  }

  // The GPU keeps working while a CPU landmarker loads; then the CPU runs as many frames.
  async startTrial(gpuMs) {
    const trial = { gpu: this.runner, gpuMs, cpu: null, settled: false };
    this.gpuTrial = trial;
    try {
      trial.cpu = await createRunner("CPU", await this.runtime);
    } catch (error) {
      trial.settled = true; // keep the GPU: it works, only slowly
      return;
    }
    if (this.runner !== trial.gpu) {
      trial.cpu.close();
      trial.settled = true;
      return;
    }
    this.runner = trial.cpu;
    this.timings = [];
    this.inferences = 0;
  }

  settleTrial(trial, cpuMs) {
    trial.settled = true;
    if (cpuMs < trial.gpuMs) {
      trial.gpu.close();
      warn("backend_fallback_wasm", "Pose inference runs on the CPU (wasm): the GPU takes " + Math.round(trial.gpuMs) + " ms a frame, the CPU " + Math.round(cpuMs) + " ms.");
      this.use(trial.cpu, true);
    } else {
      trial.cpu.close();
      this.runner = trial.gpu;
      this.timings = [];
      this.inferences = WARMUP_FRAMES;
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.cancelDownload.abort();
    const runner = this.runner;
    this.runner = null;
    if (runner) runner.close();
    // Not started yet: the landmarker being set up is closed once it is.
    else if (this.prepared) this.prepared.then(({ runner: made }) => made.close(), () => {});
  }
}
