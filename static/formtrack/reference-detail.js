// Reference detail: follow the extraction's progress, then play the extracted skeleton in a loop.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("reference-config").textContent);
  const badge = document.getElementById("status-badge");
  const text = document.getElementById("status-text");
  const progress = document.getElementById("status-progress");
  const errorBox = document.getElementById("status-error");
  const canvas = document.getElementById("skeleton");
  const note = document.getElementById("skeleton-note");
  const LABELS = { processing: "Processing", ready: "Ready", failed: "Failed" };
  const BADGES = { processing: "badge-info", ready: "badge-ok", failed: "badge-bad" };
  // BlazePose's 33 landmarks: which pairs make the skeleton.
  const CONNECTIONS = [
    [0, 1], [1, 2], [2, 3], [3, 7], [0, 4], [4, 5], [5, 6], [6, 8], [9, 10],
    [11, 12], [11, 13], [13, 15], [15, 17], [15, 19], [15, 21], [17, 19],
    [12, 14], [14, 16], [16, 18], [16, 20], [16, 22], [18, 20],
    [11, 23], [12, 24], [23, 24], [23, 25], [24, 26], [25, 27], [26, 28],
    [27, 29], [28, 30], [29, 31], [30, 32], [27, 31], [28, 32],
  ];
  const LEFT = new Set([1, 2, 3, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]);

  function show(state) {
    badge.textContent = LABELS[state.status] || state.status;
    badge.className = "badge " + (BADGES[state.status] || "");
    progress.hidden = state.status !== "processing";
    progress.setAttribute("aria-valuenow", state.progress);
    progress.firstElementChild.style.width = state.progress + "%";
    text.textContent = state.status === "processing" ? `Extracting the movement… ${state.progress}%`
      : state.status === "ready" ? "Ready to use." : "";
    if (state.error) {
      errorBox.hidden = false;
      errorBox.textContent = state.error.code + ": " + state.error.message;
    }
  }

  async function poll() {
    try {
      const response = await fetch(config.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const state = await response.json();
        show(state);
        if (state.status === "ready") return loadSkeleton();
        if (state.status !== "processing") return;
      }
    } catch (e) { /* try again */ }
    setTimeout(poll, 1500);
  }

  function draw(ctx, frame, width, height, box) {
    ctx.fillStyle = "#0b1020";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!frame.landmarks) {
      ctx.fillStyle = "#6b7280";
      ctx.font = "14px system-ui, sans-serif";
      ctx.fillText("No person in this frame", 16, 28);
      return;
    }
    const point = (i) => {
      const [x, y] = frame.landmarks[i];
      return [box.x + x * width * box.scale, box.y + y * height * box.scale];
    };
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    for (const [a, b] of CONNECTIONS) {
      if ((frame.landmarks[a][3] ?? 1) < 0.3 || (frame.landmarks[b][3] ?? 1) < 0.3) continue;
      ctx.strokeStyle = LEFT.has(a) && LEFT.has(b) ? "#74c0fc" : (!LEFT.has(a) && !LEFT.has(b) && a > 10 ? "#ffa94d" : "#e9ecef");
      const [x1, y1] = point(a);
      const [x2, y2] = point(b);
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      ctx.stroke();
    }
    ctx.fillStyle = "#fff";
    for (let i = 0; i < frame.landmarks.length; i++) {
      if ((frame.landmarks[i][3] ?? 1) < 0.3) continue;
      const [x, y] = point(i);
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }

  async function loadSkeleton() {
    const response = await fetch(config.landmarksUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    const frames = (data.frames || []).filter((f) => typeof f.timestamp_ms === "number");
    if (!frames.length) {
      note.textContent = "No landmarks were stored for this reference.";
      return;
    }
    const width = data.image_width || 640;
    const height = data.image_height || 480;
    // Fit the person, not the whole image: the box around every visible landmark of every frame.
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const f of frames) {
      for (const p of f.landmarks || []) {
        if ((p[3] ?? 1) < 0.3) continue;
        minX = Math.min(minX, p[0] * width); maxX = Math.max(maxX, p[0] * width);
        minY = Math.min(minY, p[1] * height); maxY = Math.max(maxY, p[1] * height);
      }
    }
    if (!Number.isFinite(minX)) { minX = 0; minY = 0; maxX = width; maxY = height; }
    const pad = 24;
    const scale = Math.min((canvas.width - 2 * pad) / Math.max(1, maxX - minX), (canvas.height - 2 * pad) / Math.max(1, maxY - minY));
    const box = {
      scale,
      x: (canvas.width - (maxX - minX) * scale) / 2 - minX * scale,
      y: (canvas.height - (maxY - minY) * scale) / 2 - minY * scale,
    };
    const ctx = canvas.getContext("2d");
    const first = frames[0].timestamp_ms;
    const span = Math.max(1, frames[frames.length - 1].timestamp_ms - first);
    const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    note.textContent = `${frames.length} frames over ${(span / 1000).toFixed(1)} s, played in a loop.`;
    let index = 0;
    let began = null;
    function tick(now) {
      if (began === null) began = now;
      const t = first + ((now - began) % (span + 400));
      while (index < frames.length - 1 && frames[index + 1].timestamp_ms <= t) index++;
      if (t < frames[index].timestamp_ms) index = 0;
      draw(ctx, frames[index], width, height, box);
      canvas.dataset.frame = String(index);
      if (!reduced) requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  }

  if (config.status === "processing") poll();
  else if (config.status === "ready") loadSkeleton();
})();
