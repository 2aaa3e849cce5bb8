// Keyboard use of every page: "/" focuses the search box; in message lists
// j/k or the arrow keys move the selection and Enter opens the message.
// No inline script anywhere (the CSP forbids it): pages carry data-* hints.
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#rows tr[data-id]"));
  }

  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) { return; }
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    var current = all.indexOf(document.querySelector("#rows tr.selected"));
    var next = current < 0 ? 0 : Math.min(all.length - 1, Math.max(0, current + step));
    select(all[next]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var search = document.getElementById("search-box");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "j" || event.key === "ArrowDown") {
      if (rows().length) { event.preventDefault(); move(1); }
    } else if (event.key === "k" || event.key === "ArrowUp") {
      if (rows().length) { event.preventDefault(); move(-1); }
    } else if (event.key === "Enter") {
      var row = document.querySelector("#rows tr.selected");
      var link = row && row.querySelector("a.open");
      if (link) { event.preventDefault(); window.location.href = link.href; }
    }
  });

  // a click anywhere on a row opens it
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#rows tr[data-id]");
    if (!row || event.target.closest("a, button, input, select")) { return; }
    var link = row.querySelector("a.open");
    if (link) { window.location.href = link.href; }
  });
}());
