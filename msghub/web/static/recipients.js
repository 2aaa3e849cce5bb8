// The compose page's recipients as chips: what one types is searched on the
// server (GET /compose/recipients: contacts by name, number or e-mail
// address, and lists) and a chosen or typed recipient becomes a chip showing
// what it resolved to. The form still sends one "to" field (the chips and
// what is left in the entry, comma-separated) and the server resolves names
// again, so the page works without this script too.
(function () {
  "use strict";
  var form = document.getElementById("compose");
  var entry = document.getElementById("to");
  if (!form || !entry) { return; }
  var chips = document.getElementById("chips");
  var box = document.getElementById("suggestions");
  var list = document.getElementById("list");
  var hidden = document.createElement("input");
  hidden.type = "hidden";
  hidden.name = "to";
  entry.removeAttribute("name");
  form.appendChild(hidden);
  var PHONE = /^\+?[\d\s().-]+$/;
  var EMAIL = /^[^@\s<>(),;:"]+@[^@\s<>(),;:"]+$/;
  var ANGLE = /<([^<>]+)>\s*$/;
  var timer = null;
  var shown = [];
  var active = -1;
  var asked = 0;

  function channel() {
    var checked = form.querySelector("input[name=channel]:checked");
    return checked ? checked.value : "sms";
  }

  function search(q) {
    var url = "/compose/recipients?q=" + encodeURIComponent(q) + "&channel=" + encodeURIComponent(channel());
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; });
  }

  function sync() {
    var values = Array.prototype.map.call(chips.querySelectorAll("li[data-value]"), function (li) { return li.dataset.value; });
    var rest = entry.value.trim();
    if (rest) { values.push(rest); }
    hidden.value = values.join(", ");
  }

  function addChip(label, value, state) {
    var li = document.createElement("li");
    li.className = "chip " + state;
    li.dataset.value = value;
    var span = document.createElement("span");
    span.textContent = label;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-remove";
    remove.setAttribute("aria-label", "Remove " + label);
    remove.textContent = "×";
    remove.addEventListener("click", function () { li.remove(); sync(); entry.focus(); });
    li.appendChild(span);
    li.appendChild(remove);
    chips.appendChild(li);
    sync();
    return li;
  }

  // a typed piece: an address stays as it is; a name is looked up and
  // resolved when exactly one contact has it
  function addTyped(piece) {
    piece = piece.trim();
    if (!piece) { return; }
    var angle = ANGLE.exec(piece);
    if (angle || PHONE.test(piece) || EMAIL.test(piece)) {
      addChip(piece, piece, "resolved");
      return;
    }
    var li = addChip(piece, piece, "pending");
    search(piece).then(function (data) {
      var exact = data.results.filter(function (r) {
        return r.kind === "contact" && r.name.toLowerCase() === piece.toLowerCase();
      });
      if (exact.length === 1) {
        li.className = "chip resolved";
        li.querySelector("span").textContent = exact[0].label;
        li.dataset.value = exact[0].label;
      } else {
        li.className = "chip unresolved";
        li.title = exact.length ? "Several contacts have this name: choose one from the suggestions" : "No contact of this name";
      }
      sync();
    });
  }

  function hide() {
    box.hidden = true;
    entry.setAttribute("aria-expanded", "false");
    shown = [];
    active = -1;
  }

  function choose(item) {
    if (item.kind === "list") {
      list.value = item.value;
      var old = chips.querySelector("li.list");
      if (old) { old.remove(); }
      var li = addChip("List: " + item.label, "", "resolved list");
      delete li.dataset.value;
      li.querySelector("button").addEventListener("click", function () { list.value = ""; });
    } else {
      addChip(item.label, item.label, "resolved");
    }
    entry.value = "";
    hide();
    sync();
    entry.focus();
  }

  function show(results) {
    box.replaceChildren();
    shown = results;
    active = results.length ? 0 : -1;
    results.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.className = "suggestion" + (i === active ? " active" : "");
      li.dataset.kind = item.kind;
      li.textContent = (item.kind === "list" ? "List: " : "") + item.label;
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item); });
      box.appendChild(li);
    });
    box.hidden = results.length === 0;
    entry.setAttribute("aria-expanded", results.length ? "true" : "false");
  }

  function move(step) {
    if (!shown.length) { return; }
    active = (active + step + shown.length) % shown.length;
    Array.prototype.forEach.call(box.children, function (li, i) { li.classList.toggle("active", i === active); });
  }

  entry.addEventListener("input", function () {
    var value = entry.value;
    if (/[,;]/.test(value)) {
      var pieces = value.split(/[,;]+/);
      entry.value = pieces.pop();
      pieces.forEach(addTyped);
    }
    sync();
    clearTimeout(timer);
    var q = entry.value.trim();
    if (!q) { hide(); return; }
    timer = setTimeout(function () {
      var mine = ++asked;
      search(q).then(function (data) { if (mine === asked) { show(data.results); } });
    }, 150);
  });

  entry.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { move(1); event.preventDefault(); }
    else if (event.key === "ArrowUp") { move(-1); event.preventDefault(); }
    else if (event.key === "Escape") { hide(); }
    else if (event.key === "Enter" && (active >= 0 || entry.value.trim())) {
      event.preventDefault();
      if (active >= 0 && shown[active]) { choose(shown[active]); } else { addTyped(entry.value); entry.value = ""; hide(); }
    } else if (event.key === "Backspace" && !entry.value && chips.lastElementChild) {
      chips.lastElementChild.querySelector("button").click();
    }
  });
  entry.addEventListener("blur", function () { setTimeout(hide, 100); });
  form.addEventListener("submit", sync);

  // what the server sent back (a refused form, a reply) becomes chips
  var initial = entry.value;
  entry.value = "";
  initial.split(/[,;\n]+/).forEach(addTyped);
  sync();
}());
