// The branded send form (/g/<slug>): the live segment count and encoding
// while typing (sms.js), and the sent message's state until it is final.
(function () {
  "use strict";
  var text = document.getElementById("text");
  var cost = document.getElementById("cost");
  var translit = document.getElementById("transliterate");
  function update() {
    if (!text || !cost || !window.msghubSms) { return; }
    var c = window.msghubSms.cost(text.value, !!(translit && translit.checked));
    cost.textContent = c.segments + (c.segments === 1 ? " part" : " parts") + ", " +
      (c.encoding === "gsm7" ? "GSM 7-bit" : "Unicode (UCS-2)") + ", " + c.remaining + " left in this part";
  }
  if (text) { text.addEventListener("input", update); }
  if (translit) { translit.addEventListener("change", update); }
  document.addEventListener("DOMContentLoaded", update);
  update();

  var sent = document.getElementById("sent");
  var shown = document.getElementById("status");
  var FINAL = { delivered: 1, failed: 1 };
  var tries = 0;
  function poll() {
    if (!sent || !shown || FINAL[shown.textContent] || tries++ > 300) { return; }
    fetch(sent.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && s.status) { shown.textContent = s.status; } })
      .catch(function () {})
      .then(function () { setTimeout(poll, 1000); });
  }
  if (sent) { setTimeout(poll, 500); }
}());
