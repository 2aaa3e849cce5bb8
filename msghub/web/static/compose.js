// The compose page: live SMS character and segment counter with the
// encoding and a transliteration hint (counting in sms.js), previews of
// attached images, fields shown per channel, the browser's time zone.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  if (!form) { return; }
  var text = document.getElementById("text");
  var counter = document.getElementById("counter");
  var hint = document.getElementById("translit-hint");
  var translit = document.getElementById("transliterate");
  var files = document.getElementById("files");
  var previews = document.getElementById("previews");

  document.getElementById("tz_offset").value = String(new Date().getTimezoneOffset());

  function channel() {
    var checked = form.querySelector("input[name=channel]:checked");
    return checked ? checked.value : "sms";
  }

  function showFields() {
    var sms = channel() === "sms";
    form.dataset.channel = channel();
    form.querySelectorAll(".only-sms").forEach(function (el) { el.hidden = !sms; });
    form.querySelectorAll(".not-sms").forEach(function (el) { el.hidden = sms; });
  }

  function count() {
    var value = text.value;
    var cost = window.msghubSms.cost(value, translit.checked);
    var name = cost.encoding === "gsm7" ? "GSM 7-bit" : "UCS-2 (Unicode)";
    counter.textContent = cost.used + " / " + cost.per_part + " " + (cost.encoding === "gsm7" ? "characters" : "UCS-2 units") +
      " · " + cost.segments + " SMS · " + name + (cost.transliterated ? " (with look-alikes)" : "") +
      (cost.sendable ? "" : " · too long to send");
    counter.classList.toggle("ucs2", cost.encoding !== "gsm7");
    counter.dataset.segments = String(cost.segments);
    counter.dataset.encoding = cost.encoding;
    var odd = window.msghubSms.nonGsm(cost.transliterated ? window.msghubSms.transliterate(value) : value);
    if (cost.encoding === "ucs2" && odd.length) {
      var plain = window.msghubSms.cost(value, true);
      var shown = odd.slice(0, 8).join(" ");
      hint.textContent = "These characters need Unicode (UCS-2), which fits only 70 characters per SMS: " + shown + "." +
        (plain.transliterated && plain.segments < cost.segments
          ? " Tick “Replace special characters” to send " + plain.segments + " SMS instead of " + cost.segments + "."
          : "");
      hint.hidden = false;
    } else {
      hint.hidden = true;
    }
  }

  function preview() {
    previews.replaceChildren();
    Array.prototype.forEach.call(files.files || [], function (file) {
      var figure = document.createElement("figure");
      if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        figure.appendChild(img);
      } else if (/^audio\//.test(file.type)) {
        var audio = document.createElement("audio");
        audio.controls = true;
        audio.src = URL.createObjectURL(file);
        figure.appendChild(audio);
      }
      var caption = document.createElement("figcaption");
      caption.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KB)";
      figure.appendChild(caption);
      previews.appendChild(figure);
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "channel") { showFields(); }
    if (event.target === translit) { count(); }
    if (event.target === files) { preview(); }
  });
  text.addEventListener("input", count);
  showFields();
  count();
}());
