// The phone layout: the side navigation folds behind a "Menu" button (it is
// folded only when this script runs, so without it the navigation stays
// open), and every table of a page gets its column names on its cells, which
// hub.css shows when a table becomes cards on a narrow screen.
(function () {
  "use strict";
  document.documentElement.classList.add("js-layout");
  var toggle = document.getElementById("nav-toggle");
  var nav = document.getElementById("side-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function label(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) { return; }
    table.classList.add("cards");
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (heads[i] && !td.hasAttribute("data-label")) { td.setAttribute("data-label", heads[i]); }
      });
    });
  }

  function labelAll() { document.querySelectorAll("main table").forEach(label); }
  labelAll();
  // rows that arrive live get their labels too
  var tbodies = document.querySelectorAll("main table tbody");
  if (window.MutationObserver && tbodies.length) {
    var observer = new MutationObserver(labelAll);
    tbodies.forEach(function (tbody) { observer.observe(tbody, { childList: true }); });
  }
}());
