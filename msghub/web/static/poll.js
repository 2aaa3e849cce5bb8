// The poll chart: bar widths from data-percent (no inline styles: the CSP
// forbids them in markup), then live counts from the stream (live.js calls
// window.msghubPollChart). In presentation mode Esc leaves, f goes full screen.
(function () {
  "use strict";
  var chart = document.getElementById("poll-chart");
  if (!chart) { return; }

  function widths() {
    chart.querySelectorAll(".fill").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.percent) || 0)) + "%";
    });
  }

  window.msghubPollChart = function (data) {
    if (String(data.poll_id) !== chart.dataset.pollId) { return; }
    data.options.forEach(function (o) {
      var row = chart.querySelector('[data-option-id="' + o.option_id + '"]');
      if (!row) { return; }
      row.querySelector(".votes").textContent = String(o.votes);
      row.querySelector(".pct").textContent = String(Math.round(o.percent));
      row.querySelector(".fill").dataset.percent = String(o.percent);
    });
    document.getElementById("poll-total").textContent = String(data.total);
    chart.dataset.total = String(data.total);
    widths();
  };

  if (document.body.classList.contains("present")) {
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { window.location.href = "/polls/" + chart.dataset.pollId; }
      if (event.key === "f" && document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen();
      }
    });
  }
  widths();
}());
