// New reference movement: pick a video or record one with the camera (MediaRecorder), trim it to
// one repetition with a start/end slider over the video, and save. Without JavaScript the form
// still works with the file input and the start/end fields.
(function () {
  "use strict";
  const form = document.getElementById("reference-form");
  const fileInput = form.querySelector("input[type=file]");
  const startField = form.querySelector("[name=trim_start_ms]");
  const endField = form.querySelector("[name=trim_end_ms]");
  const trim = document.getElementById("trim");
  const preview = document.getElementById("preview");
  const startRange = document.getElementById("trim-start-range");
  const endRange = document.getElementById("trim-end-range");
  const span = document.getElementById("trim-span");
  const errorBox = document.getElementById("form-error");
  const saveButton = document.getElementById("reference-save");
  const MIN_MS = 300;
  const MAX_MS = 30000;
  let durationMs = 0;
  let mode = "upload";
  let recorded = null; // {blob, name}
  let previewUrl = null;
  let loopEnd = null;

  // --- tabs ---------------------------------------------------------------------------------
  const tabs = document.querySelector(".tabs");
  tabs.hidden = false;
  const tabButtons = [document.getElementById("tab-upload"), document.getElementById("tab-record")];
  function selectTab(button) {
    for (const tab of tabButtons) {
      const selected = tab === button;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
    }
    mode = button.id === "tab-record" ? "record" : "upload";
    fileInput.required = mode === "upload";
  }
  for (const tab of tabButtons) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const next = tabButtons[(tabButtons.indexOf(tab) + 1) % tabButtons.length];
      selectTab(next);
      next.focus();
    });
  }

  // --- trim ---------------------------------------------------------------------------------
  const seconds = (ms) => (ms / 1000).toFixed(2) + " s";
  function drawTrim() {
    const start = Number(startRange.value);
    const end = Number(endRange.value);
    const max = Number(endRange.max) || 1;
    span.style.left = (100 * start / max) + "%";
    span.style.width = (100 * (end - start) / max) + "%";
    document.getElementById("trim-start-label").textContent = "Start " + seconds(start);
    document.getElementById("trim-end-label").textContent = "End " + seconds(end);
    const length = end - start;
    const note = length < MIN_MS ? " — too short" : length > MAX_MS ? " — too long for one repetition" : "";
    document.getElementById("trim-length").textContent = "Repetition: " + seconds(length) + note;
    startRange.setAttribute("aria-valuetext", seconds(start));
    endRange.setAttribute("aria-valuetext", seconds(end));
  }
  function setTrim(start, end, source) {
    start = Math.max(0, Math.min(start, durationMs - MIN_MS));
    end = Math.min(durationMs, Math.max(end, start + MIN_MS));
    startRange.value = start;
    endRange.value = end;
    startField.value = Math.round(start);
    endField.value = Math.round(end);
    drawTrim();
    if (source === "start") preview.currentTime = start / 1000;
    if (source === "end") preview.currentTime = end / 1000;
  }
  startRange.addEventListener("input", () => setTrim(Number(startRange.value), Number(endRange.value), "start"));
  endRange.addEventListener("input", () => setTrim(Number(startRange.value), Number(endRange.value), "end"));
  startField.addEventListener("change", () => durationMs && setTrim(Number(startField.value) || 0, Number(endRange.value), "start"));
  endField.addEventListener("change", () => durationMs && setTrim(Number(startRange.value), Number(endField.value) || durationMs, "end"));
  document.getElementById("trim-play").addEventListener("click", () => {
    loopEnd = Number(endRange.value) / 1000;
    preview.currentTime = Number(startRange.value) / 1000;
    preview.play();
  });
  preview.addEventListener("timeupdate", () => {
    if (loopEnd !== null && preview.currentTime >= loopEnd) {
      preview.pause();
      loopEnd = null;
    }
  });

  function knownDuration(video, fallbackMs) {
    // Recordings often carry no duration (Infinity) until the browser has seen the end.
    return new Promise((resolve) => {
      if (Number.isFinite(video.duration) && video.duration > 0) return resolve(video.duration * 1000);
      const done = () => {
        video.removeEventListener("durationchange", check);
        video.currentTime = 0;
        resolve(Number.isFinite(video.duration) && video.duration > 0 ? video.duration * 1000 : fallbackMs);
      };
      const check = () => { if (Number.isFinite(video.duration)) done(); };
      video.addEventListener("durationchange", check);
      video.currentTime = 1e7;
      setTimeout(done, 1500);
    });
  }

  function showVideo(blobOrFile, fallbackMs) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blobOrFile);
    preview.src = previewUrl;
    trim.hidden = false;
    preview.addEventListener("loadedmetadata", async () => {
      durationMs = Math.floor(await knownDuration(preview, fallbackMs || 0));
      for (const range of [startRange, endRange]) range.max = durationMs;
      setTrim(0, Math.min(durationMs, MAX_MS), null);
    }, { once: true });
  }

  fileInput.addEventListener("change", () => {
    recorded = null;
    if (fileInput.files && fileInput.files[0]) showVideo(fileInput.files[0], 0);
  });

  // --- camera recording ---------------------------------------------------------------------
  const camera = document.getElementById("camera");
  const cameraButton = document.getElementById("camera-start");
  const recordButton = document.getElementById("record-start");
  const stopButton = document.getElementById("record-stop");
  const recordStatus = document.getElementById("record-status");
  let stream = null;
  let recorder = null;
  let chunks = [];
  let startedAt = 0;
  let ticker = null;

  function recordingType() {
    const types = ["video/mp4;codecs=avc1", "video/mp4", "video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"];
    return types.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || "";
  }

  cameraButton.addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
    } catch (error) {
      recordStatus.textContent = "The camera is not available: " + error.message;
      return;
    }
    camera.srcObject = stream;
    await camera.play();
    cameraButton.disabled = true;
    recordButton.disabled = false;
    recordStatus.textContent = "Camera on. Press Record, do one repetition, then Stop.";
  });

  recordButton.addEventListener("click", () => {
    const type = recordingType();
    chunks = [];
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.addEventListener("dataavailable", (event) => { if (event.data.size) chunks.push(event.data); });
    recorder.addEventListener("stop", () => {
      clearInterval(ticker);
      const elapsed = performance.now() - startedAt;
      const mime = recorder.mimeType || type || "video/webm";
      const blob = new Blob(chunks, { type: mime });
      recorded = { blob, name: "recording." + (mime.includes("mp4") ? "mp4" : "webm") };
      recordStatus.textContent = "Recorded " + seconds(elapsed) + ". Trim it below.";
      showVideo(blob, elapsed);
    });
    recorder.start(250);
    startedAt = performance.now();
    ticker = setInterval(() => { recordStatus.textContent = "Recording… " + seconds(performance.now() - startedAt); }, 250);
    recordButton.disabled = true;
    stopButton.disabled = false;
  });

  stopButton.addEventListener("click", () => {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    stopButton.disabled = true;
    recordButton.disabled = false;
  });

  // --- save ---------------------------------------------------------------------------------
  function showErrors(errors) {
    for (const old of form.querySelectorAll(".js-error")) old.remove();
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const messages = [];
    for (const [name, list] of Object.entries(errors)) {
      const input = form.querySelector(`[name=${name}]`);
      if (input && input.type !== "file") {
        const box = document.createElement("ul");
        box.className = "errorlist js-error";
        box.id = input.id + "_error";
        box.innerHTML = list.map(() => "<li></li>").join("");
        list.forEach((message, i) => { box.children[i].textContent = message; });
        input.before(box);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", box.id);
      } else {
        messages.push(...list);
      }
    }
    errorBox.textContent = messages.join(" ");
    errorBox.hidden = !messages.length;
    const first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  form.addEventListener("submit", async (event) => {
    if (mode !== "record") return; // the file input submits natively
    event.preventDefault();
    if (!recorded) {
      showErrors({ video: ["Record a repetition first (or switch to Upload a video)."] });
      return;
    }
    const data = new FormData(form);
    data.set("video", recorded.blob, recorded.name);
    saveButton.disabled = true;
    saveButton.textContent = "Saving…";
    try {
      const response = await fetch(form.action || window.location.href, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok && body.url) {
        window.location.assign(body.url);
        return;
      }
      showErrors(body.errors || { video: ["Saving failed (" + response.status + "). Try again."] });
    } catch (error) {
      showErrors({ video: ["Saving failed: " + error.message] });
    }
    saveButton.disabled = false;
    saveButton.textContent = "Save reference";
  });

  selectTab(tabButtons[0]);
})();
