// Live updates over Server-Sent Events (msghub/web/live.py). The page says
// what it shows with data-* attributes; the stream sends changes, the banner
// of connections that are down and poll counts. EventSource reconnects by
// itself and sends Last-Event-ID, so no change is missed across a reconnect.
(function () {
  "use strict";

  var list = document.getElementById("message-list");
  var view = document.getElementById("message-view");
  var chart = document.getElementById("poll-chart");
  var params = new URLSearchParams();
  var since = null;
  if (list) {
    params.set("view", list.dataset.liveView || "");
    params.set("q", list.dataset.q || "");
    since = list.dataset.since;
  }
  if (view) { params.set("message", view.dataset.messageId); since = view.dataset.since; }
  if (chart) { params.set("poll", chart.dataset.pollId); }
  if (since) { params.set("since", since); }

  var source = new EventSource("/live?" + params.toString());
  document.documentElement.dataset.live = "connecting";
  source.addEventListener("open", function () { document.documentElement.dataset.live = "open"; });
  source.addEventListener("error", function () { document.documentElement.dataset.live = "reconnecting"; });

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();  // rendered and escaped by the server
    return template.content.firstElementChild;
  }

  function belongsHere(data) {
    if (!list || data.gone || !data.matches) { return false; }
    var here = list.dataset.liveView;
    return here === "search" || here === data.view;
  }

  function updateEmptyState() {
    if (!list) { return; }
    var tbody = document.getElementById("rows");
    var empty = document.getElementById("empty-state");
    var has = tbody && tbody.querySelector("tr[data-id]");
    if (tbody) { tbody.closest("table").hidden = !has; }
    if (empty) { empty.hidden = !!has; }
  }

  function applyToList(data) {
    var tbody = document.getElementById("rows");
    if (!tbody) { return; }
    var existing = tbody.querySelector('tr[data-id="' + data.message_id + '"]');
    if (belongsHere(data)) {
      var row = fragment(data.html);
      if (existing) {
        if (existing.classList.contains("selected")) { row.classList.add("selected"); }
        existing.replaceWith(row);
      } else {
        // newest first: before the first row with a smaller id
        var before = null;
        tbody.querySelectorAll("tr[data-id]").forEach(function (r) {
          if (!before && Number(r.dataset.id) < data.message_id) { before = r; }
        });
        if (before) {
          tbody.insertBefore(row, before);
        } else if (!tbody.querySelector("tr[data-id]") || !document.querySelector("a[rel=next]")) {
          tbody.appendChild(row);
        } else {
          return;  // older than this page shows
        }
        row.classList.add("arrived");
      }
    } else if (existing) {
      existing.remove();
    }
    updateEmptyState();
  }

  // another message changed: it may be an answer in this page's conversation
  // (at most one look a second however busy the hub is)
  var conversationTimer = null;
  function refreshConversation() {
    if (!view || conversationTimer) { return; }
    conversationTimer = setTimeout(function () {
      conversationTimer = null;
      fetch("/messages/" + view.dataset.messageId + "/conversation", { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          var current = document.getElementById("conversation");
          if (html && current) { current.replaceWith(fragment(html)); }
        });
    }, 1000);
  }

  function applyToView(data) {
    if (view && String(data.message_id) !== view.dataset.messageId) { refreshConversation(); }
    if (!view || String(data.message_id) !== view.dataset.messageId) { return; }
    if (data.gone) {
      document.getElementById("message-gone").hidden = false;
      return;
    }
    // the server's history is the truth: changes come collapsed, and a
    // replay may repeat one the page already shows
    var asked = ++historyAsked;
    fetch("/messages/" + view.dataset.messageId + "/history", { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var history = document.getElementById("history");
        // an answer overtaken by a later question is dropped
        if (html && history && asked === historyAsked) { history.replaceWith(fragment(html)); }
      });
  }
  var historyAsked = 0;

  source.addEventListener("change", function (event) {
    var data = JSON.parse(event.data);
    applyToList(data);
    applyToView(data);
    if (!data.gone) {
      document.querySelectorAll('[data-status-of="' + data.message_id + '"]').forEach(function (el) {
        el.textContent = data.status;
        el.className = "status status-" + data.status;
        el.title = data.failure_reason || "";
      });
    }
  });

  source.addEventListener("reload", function () { window.location.reload(); });

  source.addEventListener("connections", function (event) {
    var down = JSON.parse(event.data);
    var banner = document.getElementById("banner");
    if (!banner) { return; }
    banner.replaceChildren();
    down.forEach(function (c) {
      var p = document.createElement("p");
      p.dataset.connection = c.name;
      var strong = document.createElement("strong");
      strong.textContent = c.name;
      p.append("Connection ", strong, " is down" + (c.last_error ? ": " + c.last_error : "") +
        ". Messages for it wait in the queue until it is back.");
      banner.appendChild(p);
    });
    banner.hidden = down.length === 0;
  });

  source.addEventListener("poll", function (event) {
    if (window.msghubPollChart) { window.msghubPollChart(JSON.parse(event.data)); }
  });
}());
