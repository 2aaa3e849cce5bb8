// The chart of messages by folder: bar widths from data-percent (the CSP
// forbids inline styles in markup), new counts every few seconds, bars added
// for folders that appear. In presentation mode Esc leaves, f goes full screen.
(function () {
  "use strict";
  var card = document.getElementById("folder-chart");
  if (!card) { return; }
  var bars = document.getElementById("folder-bars");
  var REFRESH_MS = 5000;

  function widths() {
    bars.querySelectorAll(".fill").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0)) + "%";
    });
  }

  function row(bar) {
    var div = document.createElement("div");
    div.className = "opt";
    div.setAttribute("role", "listitem");
    div.dataset.key = bar.key;
    var label = document.createElement("span");
    label.className = "label";
    label.textContent = bar.label;
    var track = document.createElement("span");
    track.className = "track";
    var fill = document.createElement("span");
    fill.className = "fill";
    track.appendChild(fill);
    var num = document.createElement("span");
    num.className = "num";
    num.innerHTML = '<span class="votes"></span> · <span class="pct"></span>%';
    div.appendChild(label);
    div.appendChild(track);
    div.appendChild(num);
    return div;
  }

  function show(data) {
    var seen = {};
    data.bars.forEach(function (bar) {
      var el = bars.querySelector('[data-key="' + bar.key + '"]') || bars.appendChild(row(bar));
      el.querySelector(".votes").textContent = String(bar.messages);
      el.querySelector(".pct").textContent = String(Math.round(bar.percent));
      el.querySelector(".fill").dataset.percent = String(bar.percent);
      bars.appendChild(el);  // in the server's order, largest first
      seen[bar.key] = true;
    });
    Array.prototype.forEach.call(bars.querySelectorAll(".opt"), function (el) {
      if (!seen[el.dataset.key]) { el.remove(); }
    });
    document.getElementById("folder-total").textContent = String(data.total);
    document.getElementById("folder-empty").hidden = data.bars.length > 0;
    bars.classList.toggle("few", data.bars.length <= 4);
    widths();
  }

  function refresh() {
    fetch(card.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { return null; })
      .then(function () { setTimeout(refresh, REFRESH_MS); });
  }

  if (document.body.classList.contains("present")) {
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { window.location.href = "/stats/folders?hours=" + card.dataset.hours; }
      if (event.key === "f" && document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen();
      }
    });
  }
  widths();
  setTimeout(refresh, REFRESH_MS);
}());
