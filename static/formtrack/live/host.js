// What the host app hears from the live page besides the engine's events (docs/integration.md):
// the boot sequence, warnings said once, one running count across reconnects, and the host's
// request to finish. Messages for the app's developer (errors, warnings, what the plan switched
// off) go to the host and to the console, never over the person: the refused page loads this
// module for that too.
import { config, post } from "../bridge.js";

export function toConsole(event) {
  if (event.type !== "error" && event.type !== "warning") return;
  const log = event.type === "error" ? console.error : console.warn;
  log("FormTrack " + event.type + " " + event.code + ": " + event.message, event);
}

// bridge.js posts them as the page starts.
for (const event of config.initialEvents || []) toConsole(event);

const onceKey = (event) => event.type + ":" + (event.code || "");
// Plan gating is announced with the page (initialEvents): said once.
const postedOnce = new Set((config.initialEvents || []).map(onceKey));

export function postOnce(event) {
  const key = onceKey(event);
  if (postedOnce.has(key)) return;
  postedOnce.add(key);
  post(event);
  toConsole(event);
}

export function warn(code, message, extra) {
  postOnce(Object.assign({ type: "warning", code, error: code, message }, extra || {}));
}

export function initialization(message, ready) {
  post({ type: "initialization", message, ready });
}

// After a reconnect the server counts from 0 in a new session: the host sees one running count.
const count = { total: 0, offset: 0, resumedSessions: 0 };

export function continuedCount(event) {
  // A workout's counts are per set, and a new session starts the set under way again from 0
  // (workoutFrom): nothing to continue.
  if (config.workout) return event;
  let continued = event;
  if (count.offset && event.type === "counter") {
    continued = Object.assign({}, event, { current_count: count.offset + (event.current_count || 0) });
  } else if (count.offset && event.type === "exercise_summary") {
    // Its per-rep details (history, averages) are the last session's; the counts are the total.
    continued = Object.assign({}, event, { counter: count.offset + (event.counter || 0), reps: count.offset + (event.reps || 0), resumedSessions: count.resumedSessions });
  }
  if (continued.type === "counter") count.total = continued.current_count || 0;
  return continued;
}

export function runningCount() {
  return count.total;
}

// A new session took over from a lost one: its count goes on from here, and a next loss is said again.
export function sessionResumed() {
  count.offset = count.total;
  count.resumedSessions += 1;
  postedOnce.delete("warning:connection_lost");
}

// Hosts end a session (and get exercise_summary) by posting "finish" or {"type": "finish"}.
export function onFinishRequest(finish) {
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.source === window) return;
    if (config.parentOrigin && config.parentOrigin !== "*" && event.origin !== config.parentOrigin) return;
    let data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (e) { data = { type: data }; }
    }
    if (data && data.type === "finish") finish();
  });
}
