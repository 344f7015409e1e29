// The playground: builds a tracking URL from the form, embeds the page in an iframe and logs
// every event the page posts (JSON strings, as PoseTracker sends them).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("playground-config").textContent);
  const form = document.getElementById("playground-form");
  const stage = document.getElementById("pg-stage");
  const startButton = document.getElementById("pg-start");
  const stopButton = document.getElementById("pg-stop");
  const urlBox = document.getElementById("pg-url");
  const snippetBox = document.getElementById("pg-snippet");
  const pasted = document.getElementById("pg-token");
  const errorBox = document.getElementById("pg-error");
  const log = document.getElementById("pg-log");
  const filter = document.getElementById("pg-filter");
  const pauseButton = document.getElementById("pg-pause");
  const countBox = document.getElementById("pg-count");
  const heightField = document.getElementById("pg-height-field");
  const MAX_ROWS = 500;
  // Stop ends the session as a host app does (docs/integration.md): it posts "finish", the page
  // sends the final counter and summary, and the server closes the session and records its
  // seconds; the page is removed then, or after this long (a page still booting has no session).
  // Removing it at once left the session's end to how the browser tears a removed frame down.
  const FINISH_WAIT_MS = 4000;
  const FINAL_TYPES = new Set(["exercise_summary", "jump_summary", "rom_summary", "error"]);
  const trackingOrigin = new URL(config.trackingBase).origin;
  let frame = null;
  let ending = null; // the page Stop asked to finish, until it has
  let endingTimer = null;
  let paused = false;
  let count = 0;
  const types = new Set();

  function token() {
    return (pasted.value || "").trim() || config.token || "";
  }

  function query(tokenValue) {
    const data = new FormData(form);
    const params = new URLSearchParams();
    params.set("token", tokenValue);
    const reference = data.get("reference");
    const exercise = data.get("exercise");
    if (reference) params.set("reference", reference);
    else params.set("exercise", exercise);
    if (!reference && exercise === "jump_analysis") params.set("userHeightCm", data.get("userHeightCm") || "175");
    for (const box of form.querySelectorAll("input[type=checkbox]")) {
      if (box.checked) params.set(box.name, "true");
    }
    for (const name of ["skeleton", "minGrade", "difficulty", "language", "inference"]) {
      const value = data.get(name);
      if (value) params.set(name, value);
    }
    return params;
  }

  function trackingUrl(tokenValue) {
    return config.trackingBase + "?" + query(tokenValue).toString();
  }

  function snippet() {
    const url = trackingUrl("YOUR_API_TOKEN");
    const origin = new URL(config.trackingBase).origin;
    return [
      `<iframe src="${url}"`,
      `        allow="camera; fullscreen" title="Pose tracking"`,
      `        style="width: 100%; aspect-ratio: 4 / 3; border: 0"></iframe>`,
      `<script>`,
      `  window.addEventListener("message", (event) => {`,
      `    if (event.origin !== "${origin}") return;`,
      `    const data = typeof event.data === "string" ? JSON.parse(event.data) : event.data;`,
      `    if (data.type === "counter") console.log("Reps:", data.current_count);`,
      `    if (data.type === "error") console.warn(data.code, data.message);`,
      `  });`,
      `</` + `script>`,
    ].join("\n");
  }

  function refresh() {
    const exercise = form.elements.exercise.value;
    heightField.hidden = !(exercise === "jump_analysis" && !form.elements.reference.value);
    form.elements.exercise.disabled = Boolean(form.elements.reference.value);
    const t = token();
    urlBox.textContent = trackingUrl(t || "YOUR_API_TOKEN");
    snippetBox.textContent = snippet();
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function start(event) {
    event.preventDefault();
    const t = token();
    if (!t) {
      showError("Create a playground token or paste one of your tokens first.");
      pasted.focus();
      return;
    }
    showError("");
    stop();
    removeEnding();
    frame = document.createElement("iframe");
    frame.src = trackingUrl(t);
    frame.title = "Tracking page";
    frame.allow = "camera; fullscreen";
    frame.id = "pg-frame";
    stage.replaceChildren(frame);
    stopButton.disabled = false;
    startButton.textContent = "Restart";
    addRow({ type: "playground", message: "Loading " + frame.src.replace(t, t.slice(0, 16) + "…") }, true);
  }

  function stop() {
    if (!frame) return;
    ending = frame;
    frame = null;
    ending.contentWindow.postMessage(JSON.stringify({ type: "finish" }), trackingOrigin);
    endingTimer = setTimeout(removeEnding, FINISH_WAIT_MS);
    stopButton.disabled = true;
    startButton.textContent = "Start tracking";
  }

  function removeEnding() {
    if (!ending) return;
    clearTimeout(endingTimer);
    ending.remove();
    ending = null;
    stage.innerHTML = '<div class="stage-empty"><p>Stopped. Press <strong>Start tracking</strong> to try again.</p></div>';
  }

  function addRow(event, local) {
    count += 1;
    countBox.textContent = count + (count === 1 ? " event" : " events");
    const type = String(event && event.type ? event.type : "message");
    if (!types.has(type)) {
      types.add(type);
      const option = document.createElement("option");
      option.value = option.textContent = type;
      filter.appendChild(option);
    }
    if (paused && !local) return;
    const row = document.createElement("li");
    row.dataset.type = type;
    row.hidden = Boolean(filter.value) && filter.value !== type;
    const time = document.createElement("span");
    time.className = "t";
    time.textContent = new Date().toLocaleTimeString([], { hour12: false });
    const name = document.createElement("span");
    name.className = "type type-" + type.replace(/[^a-z_]/gi, "");
    name.textContent = type;
    const payload = document.createElement("span");
    payload.className = "payload";
    payload.textContent = JSON.stringify(event);
    row.append(time, name, payload);
    row.tabIndex = 0;
    row.setAttribute("role", "button");
    row.setAttribute("aria-expanded", "false");
    const toggle = () => {
      const open = row.classList.toggle("open");
      row.setAttribute("aria-expanded", String(open));
      payload.textContent = open ? JSON.stringify(event, null, 2) : JSON.stringify(event);
    };
    row.addEventListener("click", toggle);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
    log.prepend(row);
    while (log.children.length > MAX_ROWS) log.lastElementChild.remove();
  }

  window.addEventListener("message", (event) => {
    const from = [frame, ending].find((page) => page && event.source === page.contentWindow);
    if (!from) return;
    let data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { data = { type: "text", text: data }; }
    }
    addRow(data, false);
    if (from === ending && data && FINAL_TYPES.has(data.type)) removeEnding();
  });

  filter.addEventListener("change", () => {
    for (const row of log.children) row.hidden = Boolean(filter.value) && row.dataset.type !== filter.value;
  });
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.setAttribute("aria-pressed", String(paused));
    pauseButton.textContent = paused ? "Resume" : "Pause";
  });
  document.getElementById("pg-clear").addEventListener("click", () => {
    log.replaceChildren();
    count = 0;
    countBox.textContent = "0 events";
  });
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  pasted.addEventListener("input", refresh);
  document.getElementById("pg-token-form").addEventListener("submit", start);
  form.addEventListener("submit", start);
  stopButton.addEventListener("click", stop);
  refresh();
})();
