// The compose page: live SMS character and segment counter with the
// encoding and a transliteration hint (counting in sms.js), a send button
// that refuses what the channel cannot carry, previews of attached files
// (an MMS slide by slide), fields shown per channel, the browser's time
// zone, the price before sending (POST /compose/price). Recipients are chips
// (recipients.js).
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
    form.querySelectorAll(".only-mms").forEach(function (el) { el.hidden = channel() !== "mms"; });
  }

  var send = document.getElementById("send");
  var blocked = document.getElementById("send-blocked");
  var MAX_PARTS = 255;

  // the reason the chosen channel cannot carry the message, or ""
  function refusal(cost) {
    if (channel() !== "sms") { return ""; }
    if (cost.segments > MAX_PARTS) {
      return "Too long for SMS: " + cost.segments.toLocaleString("en") + " parts, at most " + MAX_PARTS + ". Shorten it, or send it as an e-mail.";
    }
    if (!cost.sendable) { return "The text holds a character that cannot be sent."; }
    return "";
  }

  function count() {
    var value = text.value;
    var cost = window.msghubSms.cost(value, translit.checked);
    var name = cost.encoding === "gsm7" ? "GSM 7-bit" : "UCS-2 (Unicode)";
    var chars = Array.from(value).length;
    counter.textContent = chars.toLocaleString("en") + " character" + (chars === 1 ? "" : "s") + " · " +
      cost.segments.toLocaleString("en") + " SMS" + (cost.segments > 1 ? " of up to " + cost.per_part : "") + " · " + name +
      (cost.transliterated ? " (with look-alikes)" : "") + (cost.sendable ? "" : " · too long to send");
    var reason = refusal(cost);
    send.disabled = reason !== "";
    blocked.textContent = reason;
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

  function figureOf(file, note) {
    var figure = document.createElement("figure");
    var media = null;
    if (/^image\/(png|jpeg|gif|webp|bmp)$/.test(file.type)) {
      media = document.createElement("img");
      media.alt = file.name;
    } else if (/^audio\//.test(file.type)) {
      media = document.createElement("audio");
      media.controls = true;
    } else if (/^video\//.test(file.type)) {
      media = document.createElement("video");
      media.controls = true;
    }
    if (media) {
      media.src = URL.createObjectURL(file);
      figure.appendChild(media);
    }
    var caption = document.createElement("figcaption");
    caption.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KB)" + (note || "");
    figure.appendChild(caption);
    return figure;
  }

  // An MMS is previewed slide by slide as the hub will build its SMIL
  // (msghub/connectors/mm7/content.py): one slide per picture, sound or
  // video, the text on the first; other files travel without a slide.
  function preview() {
    previews.replaceChildren();
    var all = Array.prototype.slice.call(files.files || []);
    if (channel() !== "mms") {
      all.forEach(function (file) { previews.appendChild(figureOf(file)); });
      return;
    }
    var media = all.filter(function (f) { return /^(image|audio|video)\//.test(f.type); });
    var others = all.filter(function (f) { return media.indexOf(f) < 0; });
    var slides = media.map(function (f) { return [f]; });
    if (!slides.length && (text.value || others.length)) { slides = [[]]; }
    slides.forEach(function (slide, i) {
      var box = document.createElement("section");
      box.className = "slide";
      box.dataset.slide = String(i + 1);
      var title = document.createElement("h3");
      title.textContent = "Slide " + (i + 1) + " of " + slides.length;
      box.appendChild(title);
      if (i === 0 && text.value) {
        var words = document.createElement("p");
        words.className = "slide-text";
        words.textContent = text.value;
        box.appendChild(words);
      }
      slide.forEach(function (file) { box.appendChild(figureOf(file)); });
      previews.appendChild(box);
    });
    others.forEach(function (file) { previews.appendChild(figureOf(file, " · attached, on no slide")); });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "channel") { showFields(); count(); preview(); }
    if (event.target === translit) { count(); }
    if (event.target === files) { preview(); }
  });
  text.addEventListener("input", function () {
    count();
    if (channel() === "mms") { preview(); }
  });
  showFields();
  count();

  // The price before sending (POST /compose/price): asked again a moment
  // after the text, the recipients (chips change the hidden "to" without an
  // event, hence the check every second), the channel or the connection change.
  var price = document.getElementById("price");
  var asked = "";
  var timer = null;
  function priceFields() {
    var data = new FormData(form);
    data.delete("files");
    data.delete("kept_file");
    return data;
  }
  function priceKey(data) {
    return ["to", "text", "channel", "transliterate", "connection"].map(function (name) {
      return data.getAll(name).join("\u0001");
    }).join("\u0000");
  }
  function askPrice() {
    var data = priceFields();
    var key = priceKey(data);
    if (key === asked) { return; }
    asked = key;
    fetch("/compose/price", {method: "POST", body: data, credentials: "same-origin",
                             headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {label: ""}; })
      .then(function (answer) {
        if (asked !== key) { return; }  // a newer question is on its way
        price.textContent = answer.label || "";
        price.hidden = !answer.label;
      })
      .catch(function () { price.hidden = true; });
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(askPrice, 300);
  }
  text.addEventListener("input", soon);
  form.addEventListener("change", soon);
  setInterval(askPrice, 1000);
  askPrice();
}());
