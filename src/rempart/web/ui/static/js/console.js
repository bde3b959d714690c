// The console's live feed polls every few seconds (HTMX). Polling must not keep an unattended
// session alive forever (ASVS V7.3.1): after a while without keyboard, mouse or touch, the
// polls are cancelled until the officer is back; the server's idle timeout then applies.
"use strict";

(function () {
  const feed = document.getElementById("flux");
  const status = document.getElementById("flux-pause");
  if (!feed || !status) {
    return;
  }
  const idleMs = Number(feed.dataset.idleSeconds || "450") * 1000;
  let lastSeen = Date.now();
  let paused = false;

  function back() {
    lastSeen = Date.now();
    if (paused) {
      paused = false;
      status.textContent = "";
    }
  }

  ["keydown", "mousemove", "mousedown", "touchstart", "scroll", "focus"].forEach(function (name) {
    window.addEventListener(name, back, { passive: true });
  });

  feed.addEventListener("htmx:beforeRequest", function (event) {
    if (Date.now() - lastSeen > idleMs) {
      event.preventDefault();
      if (!paused) {
        paused = true;
        status.textContent =
          "Mise à jour en pause faute d'activité : bougez la souris ou appuyez sur une touche pour la reprendre.";
      }
    }
  });
})();
