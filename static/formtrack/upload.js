// The upload page: send the file to the API, follow progress (WebSocket, polling as a fallback),
// then show the media with the skeleton and counter drawn, the per-rep scores and the summary, posting every event to the host.
import { config, post } from "./bridge.js";
import { attach } from "./replay.js";

const params = config.params;
const $ = (id) => document.getElementById(id);
const isImage = params.source === "image";

function show(id, visible) { $(id).hidden = !visible; }

function fail(event) {
  post(event);
  $("error-message").textContent = event.message;
  show("error-card", true);
  show("progress-card", false);
}

function progress(event) {
  post(event);
  $("progress-message").textContent = event.message;
  $("progress-bar").value = event.progress || 0;
}

function withParam(path, name, value) {
  if (new RegExp("[?&]" + name + "=").test(path)) return path;
  return path + (path.includes("?") ? "&" : "?") + name + "=" + encodeURIComponent(value);
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw body || { type: "error", code: "http_" + response.status, message: response.statusText };
  return body;
}

// A page opened from a single-use link has no key: it uploads with the page's ticket.
function send(form) {
  const path = "/api/v1/uploads?" + config.accessQuery;
  if (config.ticket) return api(withParam(path, "ticket", config.ticket), { method: "POST", body: form });
  return api(path, { method: "POST", body: form, headers: { Authorization: "Bearer " + params.token } });
}

// Reads present the upload's own ticket: the page's key may be publishable, which reads nothing.
let uploadTicket = null;
const read = (path) => api(withParam(path, "upload_ticket", uploadTicket));

let chosenFile = null;

async function upload(file) {
  chosenFile = file;
  show("picker", false);
  show("error-card", false);
  show("progress-card", true);
  progress({ type: "initialization", message: isImage ? "loading image" : "loading video", ready: false, source: params.source });
  const form = new FormData();
  form.append("file", file);
  let created;
  try {
    created = await send(form);
    uploadTicket = created.ticket;
  } catch (error) {
    fail(error);
    show("picker", true);
    return;
  }
  follow(created);
}

function follow(created) {
  let finished = false;
  const finish = async (event) => {
    if (finished) return;
    finished = true;
    if (event.type === "error") { fail(event); return; }
    await showResults(created.id, event);
  };
  const onEvent = (event) => {
    if (event.status === "done" || event.status === "failed") finish(event);
    else progress(event);
  };
  const poll = async () => {
    while (!finished) {
      try {
        const upload = await read("/api/v1/uploads/" + created.id);
        if (upload.status === "failed") onEvent({ type: "error", code: upload.error.code, error: upload.error.code, message: upload.error.message, status: "failed" });
        else if (upload.status === "done") onEvent({ type: "initialization", message: "Analysis completed", ready: true, status: "done", progress: 100 });
        else onEvent({ type: "initialization", message: "Your video is processing, please stay on this page (" + upload.progress + "%)", ready: false, progress: upload.progress, status: upload.status });
      } catch (error) { /* keep polling: the server may be restarting */ }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  try {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + created.progress_ws);
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

// Media links are absolute (SITE_URL) for API clients; this page asks its own server.
function local(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

async function showResults(uploadId, doneEvent) {
  const [upload, events] = await Promise.all([read("/api/v1/uploads/" + uploadId), allEvents(uploadId)]);
  for (const event of events) post(event);
  post(doneEvent);
  show("progress-card", false);
  show("result-card", true);
  const mediaBox = $("result-media");
  if (upload.annotated_url) {
    const element = document.createElement(upload.kind === "image" ? "img" : "video");
    element.src = local(upload.annotated_url);
    if (upload.kind === "video") { element.controls = true; element.playsInline = true; element.muted = true; }
    element.style.maxWidth = "100%";
    mediaBox.replaceChildren(element);
  } else if (upload.timeline_url && chosenFile) {
    // No annotated copy was asked for (export): the chosen file itself, with the skeleton and
    // counter drawn over it, so nothing is downloaded again.
    const video = document.createElement("video");
    video.src = URL.createObjectURL(chosenFile);
    video.controls = true;
    video.playsInline = true;
    video.muted = true;
    mediaBox.replaceChildren(attach(video, local(upload.timeline_url)));
  }
  const summary = events.find((e) => e.type === "exercise_summary") || upload.summary || {};
  const rows = [["Reps", summary.counter ?? summary.reps], ["Average score", summary.avg_rep_score ?? summary.average_score],
    ["Grade", summary.grade], ["Rejected reps", summary.rejected_reps]];
  $("summary").replaceChildren(...rows.filter(([, v]) => v !== undefined && v !== null).flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = typeof v === "number" ? Math.round(v * 10) / 10 : v;
    return [dt, dd];
  }));
  const body = $("reps").querySelector("tbody");
  body.replaceChildren(...(summary.history || []).map((rep) => {
    const tr = document.createElement("tr");
    for (const value of [rep.index, rep.formScore ?? rep.score, rep.grade, rep.durationMs ? (rep.durationMs / 1000).toFixed(1) + " s" : "", (rep.faults || []).join(", ")]) {
      const td = document.createElement("td"); td.textContent = value ?? ""; tr.appendChild(td);
    }
    return tr;
  }));
}

$("file-input").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) upload(file);
});
