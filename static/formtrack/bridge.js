// The one bridge every FormTrack page uses to hand events to its host app.
// Payloads are JSON strings, as PoseTracker sends them, on every channel a host may listen to.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("formtrack-config")?.textContent || "{}");
  const parentOrigin = config.parentOrigin || "*";

  function post(event) {
    const payload = JSON.stringify(event);
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
      if (typeof window.webViewCallback === "function") window.webViewCallback(payload);
    } catch (e) {}
    window.dispatchEvent(new CustomEvent("formtrack:event", { detail: event }));
  }

  window.FormTrack = Object.assign(window.FormTrack || {}, { config, post });
  for (const event of config.initialEvents || []) post(event);
})();
