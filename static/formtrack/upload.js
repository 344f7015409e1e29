// The upload page: send the chosen (or dropped) file, or have the server fetch videoSrc/imageSrc,
// follow the analysis through its stages (WebSocket, polling as a fallback), then show the
// upload's results (the API's `results`): summary cards, the media with the skeleton and counter
// drawn over it, the per-rep score chart (the dashboard's, drawn by the server) and the per-rep
// table; posting every event to the host. "Analyse another" brings the picker back.
//
// Events reach the host in PoseTracker's order: progress, then the analysis' events, then
// `initialization` "Analysis completed" (ready: true). PoseTracker's page posts a video's events
// while the video plays; with eventTiming=playback (the default) so does this one, as the replay
// reaches the moment each happened (the timeline's eventTimesMs); a seek forward posts what it
// skipped, in order. With eventTiming=immediate, or when the video cannot play (its format, a
// browser that refuses to autoplay), they are all posted as soon as they are known.
import { config, post } from "./bridge.js";
import { attach } from "./replay.js";
import { text } from "./text.js";

const params = config.params;
const look = params.passthrough;
const $ = (id) => document.getElementById(id);
const isImage = params.source === "image";
const STAGES = ["send", "queue", "analyse", "results"];

function show(id, visible) { $(id).hidden = !visible; }

// The page parameters of the player (tracking/param_table.py, §2.6), as CSS custom properties.
function applyLook() {
  const stage = $("stage");
  const px = (value) => (value === null || value === undefined ? "none" : value + "px");
  stage.style.setProperty("--stage-min-height", px(look.containerMinHeight ?? 0));
  stage.style.setProperty("--stage-max-width", px(look.containerMaxWidth));
  // Unset: the media fits the screen (upload.css, 80vh).
  if (look.containerMaxHeight != null) stage.style.setProperty("--stage-max-height", px(look.containerMaxHeight));
  stage.style.setProperty("--picker-padding", px(look.uploadAreaPadding ?? 0));
  stage.style.setProperty("--media-fit", look.objectFit || "contain");
}

// Where the analysis is: each stage before `name` done, `name` under way, `percent` of it done
// (null: no measure of it, an indeterminate bar).
function stage(name, percent = null) {
  const at = STAGES.indexOf(name);
  for (const item of $("stages").children) {
    const index = STAGES.indexOf(item.dataset.stage);
    item.dataset.state = index < at ? "done" : index === at ? "active" : "pending";
    if (index === at) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
  const bar = $("progress-bar");
  if (percent === null) {
    bar.removeAttribute("value");
    $("progress-percent").textContent = "";
  } else {
    bar.value = Math.round(percent);
    $("progress-percent").textContent = Math.round(percent) + "%";
  }
  // The live region says each stage once; the bar holds the percentage.
  const label = $("stages").children[at].textContent;
  if ($("progress-message").textContent !== label) $("progress-message").textContent = label;
  $("progress-card").dataset.stage = name;
}

function fail(event) {
  post(event);
  $("error-message").textContent = event.message;
  show("error-card", true);
  show("progress-card", false);
  show("analyse-another", look.showUpload);
}

// An analysis' `initialization` progress: posted to the host, shown as its stage.
function progress(event) {
  post(event);
  if (event.status === "queued") stage("queue");
  else if (event.status === "processing") stage("analyse", event.progress || 0);
}

function withParam(path, name, value) {
  if (new RegExp("[?&]" + name + "=").test(path)) return path;
  return path + (path.includes("?") ? "&" : "?") + name + "=" + encodeURIComponent(value);
}

function httpError(status, statusText) {
  const code = status ? "http_" + status : "network_error";
  return { type: "error", code, error: code, message: statusText || code };
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try {
    body = response.status === 204 ? null : await response.json();
  } catch (error) { /* a proxy's HTML error page: reported below */ }
  if (!response.ok) throw body || httpError(response.status, response.statusText);
  return body;
}

// A page opened from a single-use link has no key: it uploads with the page's ticket. Without a
// file, the server fetches the page's videoSrc or imageSrc (in the query it is sent). An
// XMLHttpRequest, as fetch() tells nothing of how much of a file is sent.
function send(form, onSent) {
  let path = "/api/v1/uploads?" + config.accessQuery;
  if (config.ticket) path = withParam(path, "ticket", config.ticket);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    if (!config.ticket) request.setRequestHeader("Authorization", "Bearer " + params.token);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onSent((100 * event.loaded) / event.total);
    });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (error) { /* reported below */ }
      if (request.status >= 200 && request.status < 300 && body) resolve(body);
      else reject(body || httpError(request.status, request.statusText));
    });
    request.addEventListener("error", () => reject(httpError(0, "")));
    request.send(form);
  });
}

// Reads present the upload's own ticket: the page's key may be publishable, which reads nothing.
let uploadTicket = null;
const read = (path) => api(withParam(path, "upload_ticket", uploadTicket));

let chosenFile = null;
// The analysis on show: a newer one (analyse another) makes the older one's late replies moot.
let current = 0;

async function upload(file) {
  const run = ++current;
  chosenFile = file;
  show("picker", false);
  show("stage", false);
  show("error-card", false);
  show("analyse-another", false);
  const remote = !file;
  $("stages").children[0].textContent = text[(remote ? "fetch_" : "send_") + params.source];
  stage("send", remote ? null : 0);
  show("progress-card", true);
  post({ type: "initialization", message: isImage ? "loading image" : "loading video", ready: false, source: params.source });
  const form = new FormData();
  if (file) form.append("file", file);
  let created;
  try {
    created = await send(form, (percent) => { if (run === current) stage("send", percent); });
    uploadTicket = created.ticket;
  } catch (error) {
    if (run !== current) return;
    fail(error);
    // Nothing was analysed: the picker again at once, under the reason.
    if (look.showUpload) {
      show("analyse-another", false);
      show("picker", true);
      show("stage", true);
    }
    return;
  }
  if (run !== current) return;
  stage(created.status === "processing" ? "analyse" : "queue", created.status === "processing" ? created.progress : null);
  follow(created, run);
}

function follow(created, run) {
  let finished = false;
  let socket = null;
  const finish = async (event) => {
    if (finished) return;
    finished = true;
    if (socket) socket.close();
    if (run !== current) return;
    if (event.type === "error") { fail(event); return; }
    stage("results");
    await showResults(created.id, event, run);
  };
  const onEvent = (event) => {
    if (run !== current) { finished = true; return; }
    if (event.status === "done" || event.status === "failed") finish(event);
    else progress(event);
  };
  const poll = async () => {
    while (!finished) {
      try {
        onEvent((await read("/api/v1/uploads/" + created.id)).status_event);
      } catch (error) { /* keep polling: the server may be restarting */ }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  try {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + created.progress_ws);
    socket.onmessage = (message) => onEvent(JSON.parse(message.data));
    socket.onerror = () => poll();
    socket.onclose = () => { if (!finished) poll(); };
  } catch (error) {
    poll();
  }
}

async function allEvents(uploadId) {
  const events = [];
  let url = "/api/v1/uploads/" + uploadId + "/events?page_size=1000";
  while (url) {
    const page = await read(url);
    events.push(...page.results);
    url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
  }
  return events;
}

// The dashboard's score chart (tracking/charts.py), drawn by the server in the page's language,
// put in the page as markup so the page's styles reach it; null if it could not be had.
async function scoreChart(uploadId) {
  try {
    const response = await fetch(withParam("/api/v1/uploads/" + uploadId + "/score_chart", "upload_ticket", uploadTicket));
    if (!response.ok) return null;
    const parsed = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    const svg = parsed.documentElement;
    return svg.namespaceURI === "http://www.w3.org/2000/svg" && svg.localName === "svg" ? document.importNode(svg, true) : null;
  } catch (error) {
    return null;
  }
}

// Media links are absolute (SITE_URL) for API clients; this page asks its own server.
function local(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

// Posts `events` in order, each once its time (ms into the video; none: the end) has come, and
// `last` after them all.
function releaser(events, last) {
  let times = [];
  let next = 0;
  let done = false;
  const release = (ms) => {
    while (next < events.length && (times[next] ?? Infinity) <= ms) post(events[next++]);
    if (next === events.length && !done) {
      done = true;
      post(last);
      $("result-media").dataset.eventsReleased = "all";
    }
  };
  return { upTo: release, all: () => release(Infinity), setTimes: (loaded) => { times = loaded || []; } };
}

// What "analyse another" must end of the analysis on show: its events not yet posted, its video.
let leaving = () => {};

function showMedia(element) {
  $("result-media").replaceChildren(element);
  show("result-media", true);
  show("stage", true);
}

async function showResults(uploadId, doneEvent, run) {
  const [upload, events] = await Promise.all([read("/api/v1/uploads/" + uploadId), allEvents(uploadId)]);
  const history = upload.results ? upload.results.history : [];
  const chart = history.length ? await scoreChart(uploadId) : null;
  if (run !== current) return;
  const release = releaser(events, doneEvent);
  show("progress-card", false);
  show("analyse-another", look.showUpload);
  showSummary(upload.results);
  showReps(history, chart);
  const playback = look.eventTiming !== "immediate" && upload.kind === "video" && upload.timeline_url;
  let objectUrl = null;
  let video = null;
  if (upload.kind === "image") {
    if (upload.annotated_url) {
      const image = document.createElement("img");
      image.src = local(upload.annotated_url);
      image.alt = text.photo_alt;
      showMedia(image);
    }
  } else if (upload.timeline_url) {
    // The analysed video itself (the chosen file, else our copy of it), with the skeleton and
    // counter drawn over it from the timeline: nothing is rendered or downloaded again.
    video = document.createElement("video");
    objectUrl = chosenFile ? URL.createObjectURL(chosenFile) : null;
    video.src = objectUrl || local(upload.source_url);
    video.controls = true;
    video.playsInline = true;
    video.muted = true;
    video.setAttribute("aria-label", text.video_label);
    const previewUrl = upload.preview_url ? local(upload.preview_url) : null;
    const hooks = playback ? {
      onTimeline: (timeline) => {
        if (!timeline || !timeline.eventTimesMs) { release.all(); return; }
        release.setTimes(timeline.eventTimesMs);
        video.play().catch(() => release.all());
      },
      onTime: (ms) => release.upTo(ms),
    } : {};
    video.addEventListener("ended", () => release.all());
    // A format the browser cannot play switches to the preview (replay.js, whose listener runs
    // after this one); with none left to try, everything is posted at once.
    let box = null;
    video.addEventListener("error", () => { if (!previewUrl || box.dataset.preview) release.all(); });
    box = attach(video, local(upload.timeline_url), { previewUrl, ...hooks });
    showMedia(box);
    if (upload.annotated_url) {
      const link = document.createElement("a");
      link.href = local(upload.annotated_url);
      link.textContent = text.annotated_export;
      link.className = "upload-export";
      $("result-media").append(link);
    }
  }
  if (!playback) release.all();
  // The host hears every event of an analysis it saw start, even if the person moves on first.
  leaving = () => {
    release.all();
    if (video) video.pause();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
}

function card(label, value, grade) {
  const item = document.createElement("div");
  item.className = "stat";
  const name = document.createElement("p");
  name.className = "stat-label";
  name.textContent = label;
  const shown = document.createElement("p");
  shown.className = "stat-value";
  shown.textContent = value;
  if (grade) shown.dataset.grade = value;
  item.append(name, shown);
  return item;
}

const rounded = (value) => (typeof value === "number" ? String(Math.round(value * 10) / 10) : value);

// The API's results of the upload (Upload.results): nothing to show for a photo.
function showSummary(results) {
  const cards = [];
  if (results) {
    if (results.counter !== null) cards.push(card(results.unit === "seconds" ? text.seconds : text.reps, rounded(results.counter)));
    if (results.average_score !== null) cards.push(card(text.average_score, rounded(results.average_score)));
    if (results.grade) cards.push(card(text.grade, results.grade, true));
    if (results.rejected_reps !== null) cards.push(card(text.rejected_reps, rounded(results.rejected_reps)));
    for (const measured of results.measurements || []) {
      const movement = (text.movements || {})[measured.joint + "_" + measured.movement] || measured.movement;
      const label = (measured.side === "right" ? text.measured_right : text.measured_left).replace("{movement}", movement);
      cards.push(card(label, rounded(measured.degrees) + "° ± " + rounded(measured.uncertainty) + "°"));
    }
  }
  $("summary").replaceChildren(...cards);
  show("summary", cards.length > 0);
}

const faultText = (fault) => (text.faults || {})[fault] || fault.replaceAll("_", " ");

function showReps(history, chart) {
  $("score-chart").replaceChildren(...(chart ? [chart] : []));
  show("chart-card", Boolean(chart));
  const body = $("reps").querySelector("tbody");
  body.replaceChildren(...history.map((rep) => {
    const row = document.createElement("tr");
    const faults = rep.faults || [];
    const cells = [
      [rep.index],
      [rep.formScore ?? rep.score, "num"],
      [rep.grade],
      [rep.durationMs ? (rep.durationMs / 1000).toFixed(1) + " s" : "", "num"],
      [faults.length ? faults.map(faultText).join("; ") : "–", faults.length ? "faults" : "faults muted"],
    ];
    for (const [value, className] of cells) {
      const cell = document.createElement("td");
      cell.textContent = value ?? "";
      if (className) cell.className = className;
      row.appendChild(cell);
    }
    if (rep.grade) row.cells[2].dataset.grade = rep.grade;
    return row;
  }));
  show("result-card", history.length > 0);
}

// Back to the picker, as the page opened: the analysis shown is left behind.
function showPicker() {
  leaving();
  leaving = () => {};
  $("result-media").replaceChildren();
  delete $("result-media").dataset.eventsReleased;
  for (const id of ["result-media", "progress-card", "summary", "chart-card", "result-card", "analyse-another"]) show(id, false);
  $("file-input").value = "";
  show("error-card", false);
  show("picker", true);
  show("stage", true);
}

applyLook();
$("file-input").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) upload(file);
});
// A file dropped anywhere on the page while the picker shows is analysed as a chosen one would
// be; a drop elsewhere is ignored (a browser would otherwise leave the page to open the file).
const picker = $("picker");
let dragDepth = 0;
function dragging(on) {
  if (on) picker.dataset.dragging = "true";
  else delete picker.dataset.dragging;
}
document.addEventListener("dragenter", () => {
  dragDepth += 1;
  dragging(!picker.hidden);
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dragging(false);
});
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  event.dataTransfer.dropEffect = picker.hidden ? "none" : "copy";
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  dragging(false);
  const file = event.dataTransfer.files[0];
  if (file && !picker.hidden) upload(file);
});
$("analyse-another").addEventListener("click", () => {
  current += 1; // an analysis still under way is no longer shown
  showPicker();
  $("file-input").focus();
});
// A media address given to the page: analysed at once, as PoseTracker preloads it.
if (isImage ? look.imageSrc : look.videoSrc) upload(null);
