// The one bridge every FormTrack page uses to hand events to its host app.
// Each event reaches the host exactly once, as a JSON string (as PoseTracker sends them), on the one
// channel that host listens to (docs/integration.md shows each host side). Scripts in the page that
// are not modules (a host's injected forwarder) find it as window.FormTrack.
export const config = JSON.parse(document.getElementById("formtrack-config")?.textContent || "{}");
const parentOrigin = config.parentOrigin || "*";
// Hosts that attach a listener after the page started (an injected forwarder) replay these.
const RECENT_EVENTS = 200;
export const recent = [];

// The host's channel, first match wins: a host may offer several ways in that end at the same
// place, and using two would deliver an event twice.
function deliver(payload) {
  // In a frame, the embedding page is the host (PoseTracker's window.parent.postMessage).
  if (window.parent !== window) {
    window.parent.postMessage(payload, parentOrigin);
    return;
  }
  // React Native: PoseTracker's injected forwarder also defines webViewCallback and wraps
  // window.postMessage, both ending here; webViewCallback would stringify the event a second time.
  if (window.ReactNativeWebView) {
    window.ReactNativeWebView.postMessage(payload);
    return;
  }
  const ios = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.iosListener;
  if (ios) {
    ios.postMessage(payload);
    return;
  }
  // A function the host defined, or an object with postMessage: Android's
  // addJavascriptInterface(…, "webViewCallback") and webview_flutter channels look like that.
  const android = window.webViewCallback;
  if (typeof android === "function") {
    android(payload);
    return;
  }
  if (android && typeof android.postMessage === "function") {
    android.postMessage(payload);
    return;
  }
  // A top-level WebView whose app listens to the page's message events (PoseTracker's Flutter
  // guidance injects such a forwarder): where PoseTracker's window.parent.postMessage lands when
  // window.parent is the page itself. Only the page and scripts injected in it can hear it.
  window.postMessage(payload, location.origin);
}

export function post(event) {
  const payload = JSON.stringify(event);
  recent.push(event);
  if (recent.length > RECENT_EVENTS) recent.shift();
  try {
    deliver(payload);
  } catch (e) { /* a host that refuses the message must not break the page */ }
  window.dispatchEvent(new CustomEvent("formtrack:event", { detail: event }));
}

window.FormTrack = Object.assign(window.FormTrack || {}, { config, post, recent });
for (const event of config.initialEvents || []) post(event);
