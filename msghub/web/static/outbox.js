// The outbox page after a send to many: the banner's counts and progress bar
// follow the messages as they leave (GET /outbox/<id>/progress), and stop
// asking once none is waiting, or after an hour.
(function () {
  "use strict";
  var banner = document.getElementById("queued");
  if (!banner) { return; }
  var state = document.getElementById("queued-state");
  var bar = document.getElementById("queued-progress");
  var INTERVAL_MS = 2000;
  var MAX_POLLS = 1800;
  var polls = 0;

  function n(value) { return Number(value).toLocaleString("en"); }

  function tick() {
    polls += 1;
    fetch(banner.dataset.progress, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        state.textContent = n(p.sent) + " sent, " + n(p.waiting) + " waiting" + (p.failed ? ", " + n(p.failed) + " failed" : "") + ".";
        bar.max = p.total;
        bar.value = p.total - p.waiting;
        banner.dataset.waiting = String(p.waiting);
        if (p.waiting > 0 && !p.first_send_at && polls < MAX_POLLS) { setTimeout(tick, INTERVAL_MS); }
      })
      .catch(function () { if (polls < MAX_POLLS) { setTimeout(tick, INTERVAL_MS * 5); } });
  }
  setTimeout(tick, INTERVAL_MS);
}());
