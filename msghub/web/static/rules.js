// The rule editor: "Add condition" / "Add action" copy a blank row from its
// <template>, "Remove" takes a row out, both without a round trip. Without
// JavaScript the same buttons submit the form and the server does it.
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  if (!form) { return; }

  function add(button) {
    var section = button.getAttribute("data-section");
    var select = form.querySelector("select[name='new_" + section + "']");
    var rows = document.getElementById("rows-" + section);
    var template = select && document.getElementById("tpl-" + section + "-" + select.value);
    if (!rows || !template) { return false; }
    var n = parseInt(rows.getAttribute("data-next") || "0", 10);
    // indexes only need to be distinct: the server renumbers rows in order
    while (form.querySelector("[name^='" + section + "[" + n + "]']")) { n += 1; }
    rows.setAttribute("data-next", String(n + 1));
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__N__/g, String(n)));
    var added = rows.lastElementChild;
    var first = added && added.querySelector("input:not([type=hidden]), textarea, select");
    if (first) { first.focus(); }
    return true;
  }

  form.addEventListener("click", function (e) {
    var button = e.target.closest("button");
    if (!button || !form.contains(button)) { return; }
    if (button.classList.contains("add-row")) {
      if (add(button)) { e.preventDefault(); }
    } else if (button.classList.contains("remove-row")) {
      var row = button.closest(".rule-row");
      if (row) {
        e.preventDefault();
        var next = row.nextElementSibling || row.previousElementSibling;
        row.parentNode.removeChild(row);
        var focus = next && next.querySelector("input:not([type=hidden]), textarea, select");
        if (focus) { focus.focus(); }
      }
    }
  });
}());
