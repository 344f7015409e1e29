// The one bridge every FormTrack page uses to hand events to its host app.
// Payloads are JSON strings, as PoseTracker sends them, on every channel a host may listen to
// (docs/integration.md shows each host side). Scripts in the page that are not modules (a host's
// injected forwarder) find it as window.FormTrack.
export const config = JSON.parse(document.getElementById("formtrack-config")?.textContent || "{}");
const parentOrigin = config.parentOrigin || "*";
// Hosts that attach a listener after the page started (an injected forwarder) replay these.
const RECENT_EVENTS = 200;
export const recent = [];

export function post(event) {
  const payload = JSON.stringify(event);
  recent.push(event);
  if (recent.length > RECENT_EVENTS) recent.shift();
  try {
    if (window.parent && window.parent !== window) {
      window.parent.postMessage(payload, parentOrigin);
    }
  } catch (e) { /* a host that refuses the message must not break the page */ }
  try {
    if (window.ReactNativeWebView) window.ReactNativeWebView.postMessage(payload);
  } catch (e) {}
  try {
    const ios = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.iosListener;
    if (ios) ios.postMessage(payload);
  } catch (e) {}
  try {
    // A function the host defined, or an object with postMessage: Android's
    // addJavascriptInterface(…, "webViewCallback") and webview_flutter channels look like that.
    const android = window.webViewCallback;
    if (typeof android === "function") android(payload);
    else if (android && typeof android.postMessage === "function") android.postMessage(payload);
  } catch (e) {}
  window.dispatchEvent(new CustomEvent("formtrack:event", { detail: event }));
}

window.FormTrack = Object.assign(window.FormTrack || {}, { config, post, recent });
for (const event of config.initialEvents || []) post(event);
