// Bananas dashboard: live regions over Server-Sent Events (no polling), select-all for the
// dead set. Loaded with `defer`; the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var body = document.body;
  var eventsUrl = body.getAttribute("data-events");
  var page = body.getAttribute("data-page");
  var source = null;
  var retryTimer = null;
  var backoff = 2000;

  function setStatus(text, bad) {
    var el = document.getElementById("live-status");
    if (!el) {
      el = document.createElement("span");
      el.id = "live-status";
      var header = document.querySelector("header");
      if (header) header.appendChild(el);
    }
    el.textContent = text;
    el.className = bad ? "live bad" : "live";
  }

  function open() {
    if (!eventsUrl || source) return;
    source = new EventSource(eventsUrl + "?page=" + encodeURIComponent(page));
    source.addEventListener("open", function () { backoff = 2000; setStatus("live", false); });
    source.addEventListener("region", function (e) {
      var msg = JSON.parse(e.data);
      var nodes = document.querySelectorAll("[data-live]");
      for (var i = 0; i < nodes.length; i++) {
        if (nodes[i].getAttribute("data-live") === msg.id) nodes[i].innerHTML = msg.html;
      }
    });
    source.addEventListener("trouble", function (e) { setStatus(JSON.parse(e.data).message, true); });
    source.addEventListener("signed-out", function () { close(); window.location.reload(); });
    source.addEventListener("error", function () {
      setStatus("reconnecting…", true);
      // EventSource retries by itself after a dropped stream, but gives up on an answer
      // other than 200 (503: all streams busy; 401: signed out while hidden).
      if (source && source.readyState === EventSource.CLOSED) { source = null; later(); }
    });
  }

  function later() {
    if (retryTimer) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      // Still signed in? A page that redirects means no: reload, which shows the sign-in.
      fetch(window.location.href, {method: "HEAD", redirect: "manual", credentials: "same-origin"})
        .then(function (r) {
          if (r.type === "opaqueredirect" || r.status === 401) window.location.reload();
          else if (document.visibilityState !== "hidden") open();
        })
        .catch(function () { later(); });
    }, backoff);
    backoff = Math.min(backoff * 2, 60000);
  }

  function close() {
    if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
    if (source) { source.close(); source = null; }
    setStatus("paused", false);
  }

  // A hidden tab stops listening; it catches up when shown (the stream starts with every region).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") close(); else open();
  });
  window.addEventListener("pagehide", close);
  if (document.visibilityState !== "hidden") open();

  document.addEventListener("click", function (e) {
    var target = e.target;
    if (target && target.hasAttribute && target.hasAttribute("data-select-all")) {
      var form = target.closest("form");
      var boxes = form ? form.querySelectorAll("input[type=checkbox][name=ids]") : [];
      var all = true;
      for (var i = 0; i < boxes.length; i++) all = all && boxes[i].checked;
      for (var j = 0; j < boxes.length; j++) boxes[j].checked = !all;
    }
  });
})();
