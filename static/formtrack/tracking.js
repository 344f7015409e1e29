// The live tracking page: camera -> pose landmarks (in this browser, or JPEG frames analysed by the
// server) -> the live WebSocket (docs/protocol.md) -> engine events -> the host app through the
// bridge, drawn over the mirrored camera picture.
// In browser inference only landmark numbers leave the device, never a picture.
(function () {
  "use strict";
  const { config, post } = window.FormTrack;
  const params = config.params || {};
  const root = document.getElementById("formtrack-root");
  const $ = (id) => document.getElementById(id);
  const video = $("ft-video");
  const canvas = $("ft-canvas");
  const context = canvas.getContext("2d");

  const MAX_UNANSWERED = 2; // protocol flow control: frames sent and not yet acknowledged
  const UNANSWERED_TIMEOUT_MS = 5000; // a frame the server refused gets no ack: stop waiting for it
  const SLOW_FPS = 8; // below this the device cannot follow a movement (contract: device_too_slow)
  const WARMUP_FRAMES = 5; // the first inferences compile shaders and fill caches: not measured
  const MEASURED_FRAMES = 30;
  const GPU_MEASURED_FRAMES = 5; // a slow GPU is slow on every frame: decide early, then measure the CPU
  const GPU_SLOW_MS = 40; // a real GPU runs the lite model in a few ms; slower means try the CPU
  const SERVER_FRAME_WIDTH = 320;
  const JPEG_QUALITY = 0.7;
  const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 10000];
  // How long the page keeps reconnecting after a connection is lost: long enough to ride out a
  // server restart or a database failover, short enough that the host hears the session ended.
  const RECONNECT_WINDOW_MS = 120000;
  // Refusals that say "later", with the seconds to wait in the error event's retryAfter.
  const RETRY_LATER_CODES = new Set(["service_unavailable", "rate_limited"]);
  const MODEL_LOAD_TIMEOUT_MS = 60000;
  // Closes after which reconnecting cannot help: refused parameters, token, origin, quota, abuse,
  // or our own finish.
  const FINAL_CLOSE_CODES = new Set([1000, 4400, 4401, 4403, 4422, 4429]);
  const CLOSE_IDLE = 4408;

  const urls = {
    bundleModule: root.dataset.visionModule,
    bundleClassic: absolute(root.dataset.visionClassic),
    wasm: absolute(root.dataset.visionWasm),
    model: absolute(root.dataset.models + "pose_landmarker_" + (params.mediapipe_model || "lite") + ".task"),
    worker: root.dataset.worker,
  };

  const TEXT = {
    en: {
      loading: "AI Loading",
      checking: "Checking your plan and access…",
      camera: "Starting the camera…",
      model: "Loading the pose model…",
      waitingServer: "Waiting for the server…",
      camera_permission_denied: "Camera access was refused. Allow the camera for this app, then reload.",
      camera_insecure: "The camera only works on a secure (https) page.",
      camera_not_found: "No camera was found on this device.",
      camera_busy: "The camera is in use by another app. Close it, then reload.",
      reconnecting: "Connection lost: reconnecting…",
      connection_lost: "The connection to the tracking server was lost. Reload to start again.",
      finished: "Session finished",
      reps: "reps",
      grade: "Last rep",
    },
    fr: {
      loading: "Chargement de l'IA",
      checking: "Vérification de votre offre et de l'accès…",
      camera: "Démarrage de la caméra…",
      model: "Chargement du modèle de pose…",
      waitingServer: "En attente du serveur…",
      camera_permission_denied: "L'accès à la caméra a été refusé. Autorisez la caméra pour cette application, puis rechargez.",
      camera_insecure: "La caméra ne fonctionne que sur une page sécurisée (https).",
      camera_not_found: "Aucune caméra n'a été trouvée sur cet appareil.",
      camera_busy: "La caméra est utilisée par une autre application. Fermez-la, puis rechargez.",
      reconnecting: "Connexion perdue : reconnexion…",
      connection_lost: "La connexion au serveur de suivi a été perdue. Rechargez pour recommencer.",
      finished: "Séance terminée",
      reps: "répétitions",
      grade: "Dernière rép.",
    },
  };
  const text = TEXT[params.language] || TEXT.en;

  const state = {
    mode: params.inference === "server" ? "server" : "browser",
    runner: null, // browser inference: {delegate, worker, detect(), close()}
    busy: false, // one frame in inference or JPEG encoding at a time
    running: false, // "running" was announced
    stopped: false,
    frameId: 0,
    points: null, // what the skeleton shows: normalised {name: [x, y, visibility]} in the unmirrored image
    count: 0, // the running total shown on the page
    countOffset: 0, // reps of earlier sessions (after a reconnect the server counts from 0 again)
    resumedSessions: 0,
    timings: [], // inference times after warm-up, for the device and delegate checks
    inferences: 0,
    gpuTrial: null,
    jpegSize: null,
    postedOnce: new Set(),
    stats: { mode: null, delegate: null, worker: false, inferenceMs: null, fps: null, sent: 0, acked: 0, dropped: 0, latencyMs: [], cameraStartedAt: null, video: null },
  };
  window.FormTrack.stats = state.stats;

  function absolute(path) {
    return new URL(path, location.href).href;
  }

  // --- Display ---------------------------------------------------------------------------------

  function setStatus(message, kind) {
    const overlay = $("ft-overlay");
    overlay.hidden = !message;
    overlay.classList.toggle("error", kind === "error");
    $("ft-message").textContent = message || "";
  }

  function showPosture(event) {
    const element = $("ft-posture");
    clearTimeout(showPosture.timer);
    element.textContent = event.message || "";
    element.hidden = !event.message;
    element.classList.toggle("ready", !!event.ready);
    // The contract shows placement hints until the person is ready; "ready" itself fades out.
    if (event.ready) showPosture.timer = setTimeout(() => { element.hidden = true; }, 1500);
  }

  function showCount(count) {
    state.count = count;
    $("ft-count").textContent = String(count);
  }

  // After a reconnect the server counts from 0 in a new session: the host sees one running count.
  function continuedCount(event) {
    if (!state.countOffset) return event;
    const offset = state.countOffset;
    if (event.type === "counter") return Object.assign({}, event, { current_count: offset + (event.current_count || 0) });
    if (event.type === "exercise_summary") {
      // Its per-rep details (history, averages) are the last session's; the counts are the total.
      return Object.assign({}, event, { counter: offset + (event.counter || 0), reps: offset + (event.reps || 0), resumedSessions: state.resumedSessions });
    }
    return event;
  }

  function showGrade(formScore) {
    if (!formScore || !formScore.grade) return;
    const element = $("ft-grade");
    element.hidden = false;
    element.dataset.grade = formScore.grade;
    element.querySelector(".letter").textContent = formScore.grade;
    element.querySelector(".score").textContent = formScore.score != null ? String(Math.round(formScore.score)) : "";
  }

  const SKELETON_STYLES = {
    default: { line: "rgba(255,255,255,0.9)", point: "#40c057" },
    green: { line: "#40c057", point: "#ffffff" },
    blue: { line: "#4dabf7", point: "#ffffff" },
    red: { line: "#ff6b6b", point: "#ffffff" },
    orange: { line: "#ff922b", point: "#ffffff" },
    white: { line: "#ffffff", point: "#ffffff" },
    dark: { line: "#1b1f24", point: "#f8f9fa" },
    neon: { line: "#39ff14", point: "#ff2bd6", glow: "#39ff14" },
  };

  function skeletonStyle(value) {
    if (value === false) return null;
    if (typeof value !== "string") return SKELETON_STYLES.default;
    const name = value.toLowerCase();
    if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(name)) return { line: name, point: "#ffffff" };
    // Dashboard preset ids (UUIDs) and unknown names draw the default style.
    return SKELETON_STYLES[name] || SKELETON_STYLES.default;
  }
  const style = skeletonStyle(params.skeleton);

  // BlazePose's 33 landmarks in model order; server keypoints events use the same names (the 17
  // COCO ones are a subset), so one list of bones draws both.
  const LANDMARK_NAMES = [
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
  ];
  const BONES = [
    ["left_ear", "left_eye"], ["left_eye", "nose"], ["nose", "right_eye"], ["right_eye", "right_ear"],
    ["left_shoulder", "right_shoulder"], ["left_shoulder", "left_elbow"], ["left_elbow", "left_wrist"],
    ["right_shoulder", "right_elbow"], ["right_elbow", "right_wrist"], ["left_wrist", "left_index"],
    ["right_wrist", "right_index"], ["left_shoulder", "left_hip"], ["right_shoulder", "right_hip"],
    ["left_hip", "right_hip"], ["left_hip", "left_knee"], ["left_knee", "left_ankle"], ["right_hip", "right_knee"],
    ["right_knee", "right_ankle"], ["left_ankle", "left_heel"], ["left_heel", "left_foot_index"],
    ["left_ankle", "left_foot_index"], ["right_ankle", "right_heel"], ["right_heel", "right_foot_index"],
    ["right_ankle", "right_foot_index"],
  ];
  const VISIBLE = 0.5;

  function pointsFromLandmarks(landmarks) {
    if (!landmarks) return null;
    const points = {};
    landmarks.forEach((l, i) => { points[LANDMARK_NAMES[i]] = [l[0], l[1], l[3]]; });
    return points;
  }

  function pointsFromKeypoints(event) {
    const list = event.data || event.keypoints || [];
    if (!list.length || !state.jpegSize) return null;
    // Keypoints come in pixels of width x height when the request gives both, else of our JPEG.
    const w = params.width && params.height ? params.width : state.jpegSize.w;
    const h = params.width && params.height ? params.height : state.jpegSize.h;
    const points = {};
    for (const k of list) points[k.name] = [k.x / w, k.y / h, k.score == null ? 1 : k.score];
    return points;
  }

  function draw() {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    context.save();
    // Mirrored, as people expect of a front camera; landmarks stay unmirrored and share the transform.
    context.setTransform(-1, 0, 0, 1, w, 0);
    context.drawImage(video, 0, 0, w, h);
    if (style && state.points) drawSkeleton(state.points, w, h);
    context.restore();
  }

  function drawSkeleton(points, w, h) {
    const width = Math.max(2, Math.round(Math.min(w, h) / 120));
    context.lineWidth = width;
    context.lineCap = "round";
    context.strokeStyle = style.line;
    if (style.glow) { context.shadowColor = style.glow; context.shadowBlur = width * 3; }
    context.beginPath();
    for (const [a, b] of BONES) {
      const p = points[a], q = points[b];
      if (!p || !q || p[2] < VISIBLE || q[2] < VISIBLE) continue;
      context.moveTo(p[0] * w, p[1] * h);
      context.lineTo(q[0] * w, q[1] * h);
    }
    context.stroke();
    context.fillStyle = style.point;
    for (const name in points) {
      const p = points[name];
      if (p[2] < VISIBLE || name.includes("eye_") || name.startsWith("mouth") || /pinky|thumb/.test(name)) continue;
      context.beginPath();
      context.arc(p[0] * w, p[1] * h, width * 1.4, 0, 2 * Math.PI);
      context.fill();
    }
    context.shadowBlur = 0;
  }

  // --- Events to the host ------------------------------------------------------------------------

  function postOnce(event) {
    const key = event.type + ":" + (event.code || "");
    if (state.postedOnce.has(key)) return;
    state.postedOnce.add(key);
    post(event);
  }
  for (const event of config.initialEvents || []) state.postedOnce.add(event.type + ":" + (event.code || ""));

  function warn(code, message, extra) {
    postOnce(Object.assign({ type: "warning", code, error: code, message }, extra || {}));
  }

  function fail(code, message, extra) {
    post(Object.assign({ type: "error", code, error: code, message }, extra || {}));
    setStatus(message, "error");
  }

  function initialization(message, ready) {
    post({ type: "initialization", message, ready });
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
      case "keypoints":
        if (state.mode === "server") state.points = pointsFromKeypoints(event);
        break;
      case "error":
        // Plan gating was already announced with the page (initialEvents); say it once.
        if (event.code === "developer_features_not_allowed") { postOnce(event); return; }
        break;
    }
    post(event);
  }

  // --- The live WebSocket ------------------------------------------------------------------------

  class LiveConnection {
    constructor() {
      this.socket = null;
      this.status = "new"; // connecting | open | idle | waiting | closed | finished
      this.attempt = 0;
      this.lostSince = null; // when the connection was lost, while reconnecting
      this.sessionOrigin = 0;
      this.resetCounters();
    }

    resetCounters() {
      this.sent = 0;
      this.acked = 0;
      this.dropped = 0;
      this.lost = 0;
      // Send times by the id the ack will carry: our frameId for landmarks; for JPEG frames the
      // server's own numbering (1, 2, 3… per session).
      this.sentAt = new Map();
      this.jpegSentAt = new Map();
      this.jpegs = 0;
    }

    url() {
      const query = new URLSearchParams(config.accessQuery);
      query.set("inference", state.mode);
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/pose_tracker/tracking?" + query;
    }

    // Resolves on session_started; rejects with the server's error event when refused.
    connect() {
      this.status = "connecting";
      this.resetCounters();
      return new Promise((resolve, reject) => {
        let started = false;
        let refusal = null;
        const socket = new WebSocket(this.url());
        socket.binaryType = "arraybuffer";
        this.socket = socket;
        socket.onmessage = (message) => {
          let event;
          try { event = JSON.parse(message.data); } catch (e) { return; }
          if (event.type === "session_started") {
            started = true;
            this.status = "open";
            this.attempt = 0;
            this.lostSince = null;
            this.sessionOrigin = performance.now();
            resolve(event);
          } else if (event.type === "ack") {
            this.onAck(event);
          } else if (!started && event.type === "error") {
            refusal = event; // the server refuses with one error event, then closes
          } else {
            if (event.type === "error" && /^(invalid_message|invalid_frame|message_too_large)$/.test(event.code)) this.lost += 1;
            onServerEvent(event);
          }
        };
        socket.onclose = (close) => {
          if (this.socket !== socket) return;
          this.socket = null;
          if (!started) {
            this.status = "closed";
            reject({ event: refusal, code: close.code });
            return;
          }
          this.onClose(close.code);
        };
      });
    }

    onAck(event) {
      this.acked += 1;
      this.dropped = event.dropped || 0;
      const times = this.jpegSentAt.has(event.frameId) ? this.jpegSentAt : this.sentAt;
      const sentAt = times.get(event.frameId);
      if (sentAt !== undefined) {
        const latencies = state.stats.latencyMs;
        latencies.push(Math.round(performance.now() - sentAt));
        if (latencies.length > 300) latencies.splice(0, latencies.length - 300);
      }
      for (const id of times.keys()) if (id <= event.frameId) times.delete(id);
      state.stats.acked += 1;
      state.stats.dropped = this.dropped;
      if (!state.running && state.mode === "server") announceRunning();
    }

    unanswered() {
      const oldest = Math.min(this.sentAt.values().next().value ?? Infinity, this.jpegSentAt.values().next().value ?? Infinity);
      if (performance.now() - oldest > UNANSWERED_TIMEOUT_MS) {
        this.lost = this.sent - this.acked - this.dropped;
        this.sentAt.clear();
        this.jpegSentAt.clear();
      }
      return Math.max(0, this.sent - this.acked - this.dropped - this.lost);
    }

    // Whether a frame may go now. A session the server closed for idleness restarts here, when
    // there is something to send again.
    canSend() {
      if (this.status === "idle") this.reconnect(0);
      return this.status === "open" && this.socket && this.socket.readyState === WebSocket.OPEN && this.unanswered() < MAX_UNANSWERED;
    }

    // Milliseconds since the session started: never ahead of the server's own session clock,
    // so switching to JPEG frames (stamped by the server) mid-session keeps time moving forward.
    sessionTime(now) {
      return now - this.sessionOrigin;
    }

    sendLandmarks(message) {
      this.socket.send(JSON.stringify(message));
      this.sent += 1;
      this.sentAt.set(message.frameId, performance.now());
      state.stats.sent += 1;
    }

    sendJpeg(buffer) {
      this.socket.send(buffer);
      this.sent += 1;
      this.jpegs += 1;
      this.jpegSentAt.set(this.jpegs, performance.now());
      state.stats.sent += 1;
    }

    onClose(code) {
      if (this.status === "finished" || state.stopped) { this.status = "finished"; return; }
      if (FINAL_CLOSE_CODES.has(code)) { this.status = "closed"; return; }
      if (code === CLOSE_IDLE) { this.status = "idle"; return; }
      warn("connection_lost", text.reconnecting + " (" + code + ")", { details: { closeCode: code, count: state.count } });
      setStatus(text.reconnecting);
      this.reconnect(this.backOff());
    }

    backOff() {
      return RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    }

    reconnect(delay) {
      if (this.lostSince === null) this.lostSince = performance.now();
      if (performance.now() + delay - this.lostSince > RECONNECT_WINDOW_MS) {
        this.status = "closed";
        fail("connection_lost", text.connection_lost);
        return;
      }
      this.status = "waiting";
      this.attempt += 1;
      setTimeout(async () => {
        if (state.stopped) return;
        try {
          await this.connect();
          // A new session counts from 0: keep showing the running total.
          state.countOffset = state.count;
          state.resumedSessions += 1;
          state.postedOnce.delete("warning:connection_lost");
          if (state.running) setStatus("");
        } catch (refused) {
          if (refused.event && RETRY_LATER_CODES.has(refused.event.code)) {
            // The server is there but busy or without its database: wait as long as it asks.
            const retryAfterMs = 1000 * Number(refused.event.retryAfter || 0);
            this.reconnect(Math.max(retryAfterMs, this.backOff()));
          } else if (refused.event) {
            fail(refused.event.code, refused.event.message, refused.event);
          } else {
            this.onClose(refused.code);
          }
        }
      }, delay);
    }

    finish() {
      const socket = this.socket;
      this.status = "finished";
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "finish" }));
    }
  }

  const connection = new LiveConnection();

  // --- Camera --------------------------------------------------------------------------------------

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

  async function openCamera() {
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
    state.stats.cameraStartedAt = Date.now();
    video.srcObject = stream;
    video.muted = true;
    video.playsInline = true;
    if (video.readyState < 1) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
    await video.play();
    state.stats.video = { width: video.videoWidth, height: video.videoHeight };
  }

  function toCode([code, message]) {
    return { code, message };
  }

  function stopCamera() {
    const stream = video.srcObject;
    if (stream) for (const track of stream.getTracks()) track.stop();
  }

  // --- Pose inference in the browser ---------------------------------------------------------------

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

  function landmarkerOptions(delegate) {
    return { baseOptions: { modelAssetPath: urls.model, delegate }, runningMode: "VIDEO", numPoses: 1 };
  }

  function pack(result) {
    const pose = result && result.landmarks && result.landmarks[0];
    if (!pose) return null;
    const r = (v) => Math.round((v || 0) * 1e5) / 1e5;
    return pose.map((p) => [r(p.x), r(p.y), r(p.z), r(p.visibility)]);
  }

  function withTimeout(promise, ms, what) {
    return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(what + " timed out")), ms))]);
  }

  async function mainThreadRunner(delegate) {
    const vision = await import(urls.bundleModule);
    const fileset = await vision.FilesetResolver.forVisionTasks(urls.wasm);
    const landmarker = await vision.PoseLandmarker.createFromOptions(fileset, landmarkerOptions(delegate));
    return {
      delegate,
      worker: false,
      async detect(source, timestamp) {
        const started = performance.now();
        const landmarks = pack(landmarker.detectForVideo(source, timestamp));
        return { landmarks, ms: performance.now() - started };
      },
      close() { landmarker.close(); },
    };
  }

  function workerSupported() {
    return typeof Worker === "function" && typeof createImageBitmap === "function" && typeof OffscreenCanvas === "function";
  }

  function workerRunner(delegate) {
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
          const landmarks = await answer;
          return { landmarks, ms: performance.now() - started };
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
          else if (waiting && message.type === "result") waiting.done(message.landmarks);
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
      worker.postMessage({ type: "init", bundleUrl: urls.bundleClassic, wasmUrl: urls.wasm, modelUrl: urls.model, delegate });
    });
  }

  // A landmarker in a worker when asked for and possible, else on the page (said in a warning).
  async function createRunner(delegate) {
    if (params.run_in_worker) {
      if (!workerSupported()) {
        warn("worker_unavailable", "Pose inference runs on the page: this browser cannot run it in a Web Worker.");
      } else {
        try {
          return await withTimeout(workerRunner(delegate), MODEL_LOAD_TIMEOUT_MS, "the pose worker");
        } catch (error) {
          warn("worker_unavailable", "Pose inference runs on the page: the Web Worker failed (" + error.message + ").");
        }
      }
    }
    return withTimeout(mainThreadRunner(delegate), MODEL_LOAD_TIMEOUT_MS, "loading the pose model");
  }

  async function startBrowserInference() {
    const gl = probeWebGL();
    let delegate = "CPU";
    let fallback = null;
    if (params.pose_backend !== "wasm") {
      if (!gl.webgl) fallback = "WebGL 2 is not available on this device";
      else if (gl.software) fallback = "WebGL is software-rendered here (" + gl.renderer + "), the CPU is faster";
      else delegate = "GPU";
    }
    let runner;
    try {
      runner = await createRunner(delegate);
    } catch (error) {
      if (delegate !== "GPU") throw error;
      fallback = "the GPU delegate failed (" + error.message + ")";
      delegate = "CPU";
      runner = await createRunner(delegate);
    }
    if (fallback) warn("backend_fallback_wasm", "Pose inference runs on the CPU (wasm): " + fallback + ".");
    useRunner(runner, gl.webgl);
  }

  function useRunner(runner, webgl) {
    state.runner = runner;
    state.timings = [];
    state.inferences = 0;
    state.stats.delegate = runner.delegate;
    state.stats.worker = runner.worker;
    post({ type: "environment", poseBackend: runner.delegate === "GPU" ? "webgl" : "wasm", webgl, worker: runner.worker, inference: "browser" });
  }

  function median(values) {
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  // After warm-up: a GPU slower than a GPU should be is compared with the CPU once, and a device
  // too slow to follow a movement hands inference to the server.
  function checkSpeed(ms) {
    state.inferences += 1;
    if (state.inferences <= WARMUP_FRAMES) return;
    state.timings.push(ms);
    if (state.timings.length > MEASURED_FRAMES) state.timings.shift();
    const mean = state.timings.reduce((a, b) => a + b, 0) / state.timings.length;
    state.stats.inferenceMs = Math.round(mean * 10) / 10;
    const trial = state.gpuTrial;
    if (!trial && state.runner.delegate === "GPU" && state.timings.length >= GPU_MEASURED_FRAMES && median(state.timings) > GPU_SLOW_MS) {
      startTrial(median(state.timings));
      return;
    }
    if (state.timings.length < MEASURED_FRAMES) return;
    if (trial && !trial.settled) {
      if (state.runner === trial.cpu) settleTrial(trial, median(state.timings));
      return;
    }
    if (1000 / mean < SLOW_FPS) {
      const fps = Math.round((1000 / mean) * 10) / 10;
      warn("device_too_slow", "This device analyses " + fps + " frames per second (under " + SLOW_FPS + "): the server takes over pose inference.", { fps });
      switchToServer();
    }
  }

  // The GPU keeps working while a CPU landmarker loads; then the CPU runs as many frames.
  async function startTrial(gpuMs) {
    const trial = { gpu: state.runner, gpuMs, cpu: null, settled: false };
    state.gpuTrial = trial;
    try {
      trial.cpu = await createRunner("CPU");
    } catch (error) {
      trial.settled = true; // keep the GPU: it works, only slowly
      return;
    }
    if (state.runner !== trial.gpu) {
      trial.cpu.close();
      trial.settled = true;
      return;
    }
    state.runner = trial.cpu;
    state.timings = [];
    state.inferences = 0;
  }

  function settleTrial(trial, cpuMs) {
    trial.settled = true;
    if (cpuMs < trial.gpuMs) {
      trial.gpu.close();
      warn("backend_fallback_wasm", "Pose inference runs on the CPU (wasm): the GPU takes " + Math.round(trial.gpuMs) + " ms a frame, the CPU " + Math.round(cpuMs) + " ms.");
      useRunner(trial.cpu, true);
    } else {
      trial.cpu.close();
      state.runner = trial.gpu;
      state.timings = [];
      state.inferences = WARMUP_FRAMES;
    }
  }

  function switchToServer() {
    const runner = state.runner;
    state.runner = null;
    state.mode = "server";
    state.points = null;
    state.stats.mode = "server";
    if (runner) runner.close();
  }

  // --- Frames ----------------------------------------------------------------------------------------

  const grab = document.createElement("canvas");

  function jpegFrame() {
    const scale = Math.min(1, SERVER_FRAME_WIDTH / video.videoWidth);
    const w = Math.max(2, Math.round((video.videoWidth * scale) / 2) * 2);
    const h = Math.max(2, Math.round((video.videoHeight * scale) / 2) * 2);
    if (grab.width !== w || grab.height !== h) { grab.width = w; grab.height = h; }
    grab.getContext("2d").drawImage(video, 0, 0, w, h); // unmirrored: the server sees the camera's own image
    state.jpegSize = { w, h };
    return new Promise((resolve) => grab.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  }

  let lastTimestamp = 0;

  async function processFrame(now) {
    if (state.busy || state.stopped || !video.videoWidth) return;
    const sendable = connection.canSend();
    if (state.mode === "server") {
      if (!sendable) return;
      state.busy = true;
      try {
        const blob = await jpegFrame();
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
    const runner = state.runner;
    // The overlay follows the body even while the server is behind; without one, skip the work.
    if (!runner || (!sendable && !style)) return;
    state.busy = true;
    try {
      const timestamp = Math.max(now, lastTimestamp + 1); // VIDEO mode needs increasing timestamps
      lastTimestamp = timestamp;
      const { landmarks, ms } = await runner.detect(video, timestamp);
      if (state.runner !== runner) return; // replaced while this frame ran
      state.points = pointsFromLandmarks(landmarks);
      checkSpeed(ms);
      if (!state.running) announceRunning();
      const t = connection.sessionTime(now);
      if (sendable && connection.canSend() && t >= 0) {
        const frameId = ++state.frameId;
        connection.sendLandmarks({ type: "landmarks", frameId, t: Math.round(t * 10) / 10, image: { w: video.videoWidth, h: video.videoHeight }, landmarks });
      }
    } catch (error) {
      if (state.runner === runner) {
        warn("model_load_failed", "Pose inference failed in this browser (" + error.message + "): the server takes over.");
        switchToServer();
      }
    } finally {
      state.busy = false;
    }
  }

  function announceRunning() {
    state.running = true;
    setStatus("");
    initialization("running", true);
  }

  let fpsWindow = { started: performance.now(), frames: 0 };

  function onFrame(now) {
    if (state.stopped) return;
    draw();
    const frameId = state.frameId;
    processFrame(performance.now()).then(() => {
      if (state.frameId !== frameId) {
        fpsWindow.frames += 1;
        const elapsed = performance.now() - fpsWindow.started;
        if (elapsed >= 2000) {
          state.stats.fps = Math.round((fpsWindow.frames * 10000) / elapsed) / 10;
          fpsWindow = { started: performance.now(), frames: 0 };
        }
      }
    });
    schedule();
  }

  // Once per new camera frame where the browser says so, else once per display frame.
  function schedule() {
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback((now) => onFrame(now));
    else requestAnimationFrame((now) => onFrame(now));
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
      await openCamera();
    } catch (error) {
      fail(error.code || "camera_not_found", error.message || text.camera_not_found, { details: { name: error.name || "" } });
      connection.finish();
      return;
    }

    initialization("loading pose model", false);
    state.stats.mode = state.mode;
    if (state.mode === "browser") {
      try {
        await startBrowserInference();
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
    if (state.runner) state.runner.close();
    state.runner = null;
    stopCamera();
    setStatus(text.finished);
  }

  window.FormTrack.finish = finish;

  // Hosts end a session (and get exercise_summary) by posting "finish" or {"type": "finish"}.
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.source === window) return;
    if (config.parentOrigin && config.parentOrigin !== "*" && event.origin !== config.parentOrigin) return;
    let data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { data = { type: data }; }
    }
    if (data && data.type === "finish") finish();
  });
  window.addEventListener("pagehide", () => { if (!state.stopped) finish(); });
  // A page restored from the back-forward cache has a finished session and no camera: start anew.
  window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

  boot();
})();
