// The live WebSocket (docs/protocol.md): one session at a time, flow control by acks, and
// reconnecting through restarts and outages for as long as that can help.
import { config } from "../bridge.js";

const MAX_UNANSWERED = 2; // protocol flow control: frames sent and not yet acknowledged
const UNANSWERED_TIMEOUT_MS = 5000; // a frame the server refused gets no ack: stop waiting for it
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 10000];
// How long the page keeps reconnecting after a connection is lost: long enough to ride out a
// server restart or a database failover, short enough that the host hears the session ended.
const RECONNECT_WINDOW_MS = 120000;
// Refusals that say "later", with the seconds to wait in the error event's retryAfter.
const RETRY_LATER_CODES = new Set(["service_unavailable", "rate_limited", "server_busy"]);
// Closes after which reconnecting cannot help: refused parameters, token, origin, quota, abuse,
// or our own finish.
const FINAL_CLOSE_CODES = new Set([1000, 4400, 4401, 4403, 4422, 4429]);
const CLOSE_IDLE = 4408;

export class LiveConnection {
  // `page`, the page's side: inference() "browser" or "server", workoutFrom() the workout's set
  // to continue at ("2.3") or null, stopped(), onEvent(event) for the engine's events,
  // onAck(ack), onLost(closeCode) when reconnecting starts, onResumed() when a new session took
  // over, onFailed(refusal) when it gives up: refused (the server's error event) or null when the
  // connection stayed lost too long.
  constructor(stats, page) {
    this.stats = stats;
    this.page = page;
    this.socket = null;
    this.status = "new"; // connecting | open | idle | waiting | closed | finished
    this.attempt = 0;
    this.lostSince = null; // when the connection was lost, while reconnecting
    this.sessionOrigin = 0;
    this.finishSent = false;
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
    query.set("inference", this.page.inference());
    // Mid-workout, a new session continues at the set under way rather than at the first.
    const from = this.page.workoutFrom();
    if (from) query.set("workoutFrom", from);
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
          this.countAck(event);
        } else if (!started && event.type === "error") {
          refusal = event; // the server refuses with one error event, then closes
        } else {
          if (event.type === "error" && /^(invalid_message|invalid_frame|message_too_large)$/.test(event.code)) this.lost += 1;
          this.page.onEvent(event);
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

  countAck(event) {
    this.acked += 1;
    this.dropped = event.dropped || 0;
    const times = this.jpegSentAt.has(event.frameId) ? this.jpegSentAt : this.sentAt;
    const sentAt = times.get(event.frameId);
    if (sentAt !== undefined) {
      const latencies = this.stats.latencyMs;
      latencies.push(Math.round(performance.now() - sentAt));
      if (latencies.length > 300) latencies.splice(0, latencies.length - 300);
    }
    for (const id of times.keys()) if (id <= event.frameId) times.delete(id);
    this.stats.acked += 1;
    this.stats.dropped = this.dropped;
    this.page.onAck(event);
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
    this.stats.sent += 1;
  }

  sendJpeg(buffer) {
    this.socket.send(buffer);
    this.sent += 1;
    this.jpegs += 1;
    this.jpegSentAt.set(this.jpegs, performance.now());
    this.stats.sent += 1;
  }

  onClose(code) {
    if (this.status === "finished" || this.page.stopped()) { this.status = "finished"; return; }
    if (FINAL_CLOSE_CODES.has(code)) { this.status = "closed"; return; }
    if (code === CLOSE_IDLE) { this.status = "idle"; return; }
    this.page.onLost(code);
    this.reconnect(this.backOff());
  }

  backOff() {
    return RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
  }

  reconnect(delay) {
    if (this.lostSince === null) this.lostSince = performance.now();
    if (performance.now() + delay - this.lostSince > RECONNECT_WINDOW_MS) {
      this.status = "closed";
      this.page.onFailed(null);
      return;
    }
    this.status = "waiting";
    this.attempt += 1;
    setTimeout(async () => {
      if (this.page.stopped()) return;
      try {
        await this.connect();
        this.page.onResumed();
      } catch (refused) {
        if (refused.event && RETRY_LATER_CODES.has(refused.event.code)) {
          // The server is there but busy or without its database: wait as long as it asks.
          const retryAfterMs = 1000 * Number(refused.event.retryAfter || 0);
          this.reconnect(Math.max(retryAfterMs, this.backOff()));
        } else if (refused.event) {
          this.page.onFailed(refused.event);
        } else {
          this.onClose(refused.code);
        }
      }
    }, delay);
  }

  // Once: a finish asked for while connecting is sent when the page finds the socket open.
  finish() {
    const socket = this.socket;
    this.status = "finished";
    if (this.finishSent || !socket || socket.readyState !== WebSocket.OPEN) return;
    this.finishSent = true;
    socket.send(JSON.stringify({ type: "finish" }));
  }
}
