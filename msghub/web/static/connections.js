// The connections page: when the set of connections that are down changes
// (the live stream's "connections" event, sent on every change of
// hub.connections), reload the page so states, errors and queues are fresh.
(function () {
  "use strict";
  var table = document.getElementById("connection-table");
  if (!table || !window.EventSource) { return; }
  function shownDown() {
    return Array.prototype.map.call(table.querySelectorAll("tr[data-down=\"yes\"]"), function (row) {
      return row.dataset.connection;
    }).sort().join("\n");
  }
  var source = new EventSource("/live");
  source.addEventListener("connections", function (event) {
    var down = JSON.parse(event.data).map(function (c) { return c.name; }).sort().join("\n");
    if (down !== shownDown()) {
      source.close();
      window.location.reload();
    }
  });
}());
