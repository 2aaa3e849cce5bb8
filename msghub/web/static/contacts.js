// The contact import page: polls the import's progress and updates the
// progress bar and counters; reloads once when the import has ended so the
// list of problems shows.
(function () {
  "use strict";
  var job = document.getElementById("import-job");
  if (!job || job.dataset.state !== "running") { return; }
  var url = job.dataset.progressUrl;
  function set(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(value); }
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { setTimeout(poll, 3000); return; }
        var bar = document.getElementById("import-progress");
        bar.max = p.bytes_total || 1;
        bar.value = p.bytes_done;
        set("import-created", p.created);
        set("import-updated", p.updated);
        set("import-skipped", p.skipped);
        set("import-errors", p.error_count);
        if (p.state === "running") { setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
}());
