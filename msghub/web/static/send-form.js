// The branded send form (/g/<slug>): the channel's own fields, the live
// segment count and encoding while typing an SMS (sms.js), the text as it
// will be sent when special characters are replaced, and the sent
// message's state until it is final.
(function () {
  "use strict";
  var form = document.getElementById("send-form");
  var text = document.getElementById("text");
  var cost = document.getElementById("cost");
  var translit = document.getElementById("transliterate");
  var preview = document.getElementById("translit-preview");
  var previewText = document.getElementById("translit-text");
  var to = document.getElementById("to");

  function channel() {
    var checked = form && form.querySelector("input[name=channel]:checked");
    var only = form && form.querySelector("input[type=hidden][name=channel]");
    return checked ? checked.value : (only ? only.value : "sms");
  }

  // show the fields of the chosen channel only (without script, all show)
  function showChannel() {
    if (!form) { return; }
    var c = channel();
    form.setAttribute("data-channel", c);
    ["sms", "mms", "email"].forEach(function (name) {
      form.querySelectorAll(".for-" + name).forEach(function (el) {
        var wanted = el.classList.contains("for-" + c);
        el.hidden = !wanted;
      });
    });
    if (to) {
      to.setAttribute("inputmode", c === "email" ? "email" : "tel");
      to.setAttribute("autocomplete", c === "email" ? "email" : "tel");
    }
    update();
  }

  function update() {
    if (!text || !cost || !window.msghubSms || channel() !== "sms") { return; }
    var replace = !!(translit && translit.checked);
    var c = window.msghubSms.cost(text.value, replace);
    cost.textContent = c.segments + (c.segments === 1 ? " part" : " parts") + ", " +
      (c.encoding === "gsm7" ? "GSM 7-bit" : "Unicode (UCS-2)") + ", " + c.remaining + " left in this part";
    if (preview && previewText) {
      var changed = replace ? window.msghubSms.transliterate(text.value) : text.value;
      previewText.textContent = changed;
      preview.hidden = !replace || changed === text.value;
    }
  }
  if (text) { text.addEventListener("input", update); }
  if (translit) { translit.addEventListener("change", update); }
  if (form) {
    form.querySelectorAll("input[name=channel]").forEach(function (radio) {
      radio.addEventListener("change", showChannel);
    });
  }
  showChannel();

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
