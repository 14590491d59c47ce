// ringops status page: read-only; everything comes from the server-sent
// events of api/v1/events (a relative URL: the page works behind a path
// prefix). No library, nothing from elsewhere.
"use strict";
(function () {
  var source = null, commitURL = "", summaries = {}, detail = null, es = null, selected = null;

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function short(sha) { return sha ? sha.slice(0, 7) : ""; }
  function commit(sha) {
    if (!sha) return '<span class="muted">–</span>';
    var s = '<code class="sha" title="' + esc(sha) + '">' + esc(short(sha)) + "</code>";
    return commitURL ? '<a href="' + esc(commitURL.split("{sha}").join(encodeURIComponent(sha))) + '" rel="noreferrer">' + s + "</a>" : s;
  }
  function badge(state) { return '<span class="badge st-' + esc(state) + '">' + esc(state) + "</span>"; }
  function clock(t) {
    if (!t) return "";
    var d = new Date(t);
    return isNaN(d) ? "" : d.toLocaleTimeString([], {hour12: false});
  }
  function dur(sec) {
    if (!sec) return "0 s";
    if (sec < 90) return Math.round(sec) + " s";
    if (sec < 5400) return Math.round(sec / 60) + " min";
    return (sec / 3600).toFixed(1) + " h";
  }
  function regions(rs) {
    return (rs || []).map(function (r) {
      return '<span class="region">' + badge(r.state) + " <strong>" + esc(r.context) + "</strong> " + esc(r.description) + "</span>";
    }).join("");
  }
  function nodeCounts(n) {
    if (!n) return "";
    return Object.keys(n).sort().map(function (k) { return n[k] + " " + esc(k); }).join(", ");
  }
  function shown(c) {
    if (c.state === "success") return "converged";
    if (c.state === "failure") return c.invalid && c.invalid.length ? "invalid" : "failed";
    if (["Blocked", "Paused", "OutsideWindow", "RegionUnreachable"].indexOf(c.wait) >= 0) return "blocked";
    return c.wait && c.wait !== "Converged" ? "waiting" : "rolling";
  }

  function overview() {
    var names = Object.keys(summaries).sort();
    if (!names.length) return '<p class="muted">No cluster yet.</p>';
    var rows = names.map(function (n) {
      var c = summaries[n];
      var what = c.waitText ? '<span class="wait">' + esc(c.waitText) + "</span>" : (c.steps || []).map(esc).join("<br>");
      return '<tr data-cluster="' + esc(n) + '"><td><a href="#/' + encodeURIComponent(n) + '"><strong>' + esc(n) + "</strong></a></td>" +
        "<td>" + commit(c.revision) + " " + esc(c.subject) + "</td><td>" + commit(c.rolledOut) + "</td>" +
        "<td>" + badge(shown(c)) + "<div>" + what + "</div></td><td>" + regions(c.regions) + "</td><td>" + nodeCounts(c.nodes) + "</td></tr>";
    });
    return "<table><thead><tr><th>Cluster</th><th>Wanted</th><th>Rolled out</th><th>State</th><th>Regions (as posted)</th><th>Nodes</th></tr></thead><tbody>" +
      rows.join("") + "</tbody></table>";
  }

  function ring(nodes) {
    if (!nodes || !nodes.length) return '<p class="muted">No node yet.</p>';
    var dcs = [], byDC = {};
    nodes.forEach(function (n) {
      var k = n.context + "/" + n.datacenter;
      if (!byDC[k]) { byDC[k] = {context: n.context, dc: n.datacenter, racks: [], byRack: {}}; dcs.push(byDC[k]); }
      var d = byDC[k];
      if (!d.byRack[n.rack]) { d.byRack[n.rack] = []; d.racks.push(n.rack); }
      d.byRack[n.rack].push(n);
    });
    return '<div class="ring">' + dcs.map(function (d) {
      return '<div class="dc" data-dc="' + esc(d.dc) + '"><div class="title">' + esc(d.dc) + ' <span class="muted">' + esc(d.context) + '</span></div><div class="racks">' +
        d.racks.map(function (r) {
          return '<div class="rack" data-dc="' + esc(d.dc) + '" data-rack="' + esc(r) + '"><div class="title">rack ' + esc(r) + '</div><div class="cells">' +
            d.byRack[r].map(cell).join("") + "</div></div>";
        }).join("") + "</div></div>";
    }).join("") + "</div>";
  }
  function cell(n) {
    var st = n.state === "??" ? "unknown" : n.state;
    var cls = "node s-" + st + (n.inFlight ? " inflight" : "") + (n.disagreement ? " disagree" : "");
    var title = [n.pod, n.mode && "mode " + n.mode, n.disagreement].filter(Boolean).join("\n");
    return '<div class="' + esc(cls) + '" data-pod="' + esc(n.pod) + '" data-state="' + esc(n.state) + '" title="' + esc(title) + '">' +
      (n.inFlight ? '<span class="flag" title="step in flight">▶ step</span>' : "") +
      (n.disagreement ? '<span class="flag" title="' + esc(n.disagreement) + '">⚠ views differ</span>' : "") +
      '<span class="state">' + esc(n.state) + '</span> <span class="pod">' + esc(n.pod) + "</span>" +
      '<div class="line">' + esc(n.address || "no address") + (n.load ? " · " + esc(n.load) : "") + "</div>" +
      '<div class="line" title="host ID ' + esc(n.hostID) + '">' + esc(n.hostID || "no host ID") + "</div></div>";
  }

  function clusterView(name) {
    var c = summaries[name];
    if (!c) return '<p class="muted">No cluster ' + esc(name) + ' (yet).</p><p><a href="#">All clusters</a></p>';
    var d = detail && detail.name === name ? detail : {};
    var h = '<p><a href="#">← all clusters</a></p><h2>' + esc(name) + " " + badge(shown(c)) + "</h2>";
    h += "<p>Wanted " + commit(c.revision) + " " + esc(c.subject) + " · rolled out " + commit(c.rolledOut) + "</p>";
    h += '<p id="wait" class="wait">' + esc(c.waitText || "") + "</p>";
    if (c.steps && c.steps.length) h += '<p>In flight: <span id="inflight">' + c.steps.map(esc).join("; ") + "</span></p>";
    if (c.invalid && c.invalid.length) h += '<ul class="errors">' + c.invalid.map(function (e) { return "<li>" + esc(e) + "</li>"; }).join("") + "</ul>";
    if (c.lastError) h += '<p class="errors">' + esc(c.lastError) + "</p>";
    h += "<div>" + regions(c.regions) + "</div>";
    h += "<h3>Ring</h3>" + '<p class="muted">' + esc(c.ring) + "</p>" + ring(d.ringNodes);
    h += "<h3>Steps still to come</h3>" + (d.toCome && d.toCome.length ?
      '<ol class="tocome">' + d.toCome.map(function (s) { return "<li>" + esc(s) + "</li>"; }).join("") + "</ol>" :
      '<p class="muted">None known (the planner\'s replay of the change exists from the second revision the daemon sees).</p>');
    h += "<h3>Timeline of this rollout</h3>" + (d.timeline && d.timeline.length ?
      "<table><thead><tr><th>When</th><th>Step</th><th>Result</th><th>Gate waited</th></tr></thead><tbody>" +
      d.timeline.slice().reverse().map(function (e) {
        return "<tr><td>" + esc(clock(e.at)) + "</td><td>" + esc(e.step) + (e.error ? '<div class="errors">' + esc(e.error) + "</div>" : "") +
          "</td><td>" + badge(e.result) + "</td><td>" + esc(dur(e.waited)) + "</td></tr>";
      }).join("") + "</tbody></table>" : '<p class="muted">No step yet.</p>');
    h += "<h3>Last revisions</h3>" + (d.history && d.history.length ?
      "<table><thead><tr><th>Revision</th><th>Outcome</th><th>Started</th><th>Took</th></tr></thead><tbody>" +
      d.history.slice().reverse().map(function (r) {
        return "<tr><td>" + commit(r.revision) + " " + esc(r.subject) + "</td><td>" + badge(r.outcome) + "</td><td>" + esc(clock(r.started)) +
          "</td><td>" + (r.finished ? esc(dur(r.seconds)) : "…") + "</td></tr>";
      }).join("") + "</tbody></table>" : '<p class="muted">None yet.</p>');
    return h;
  }

  function render() {
    var src = source && source.source;
    document.getElementById("source").innerHTML = src ? esc(src.revision ? src.revision.split("@")[0] : "") + " " + commit(src.commit) + " " +
      esc(src.subject || "") + (source.leader ? "" : ' · <strong>standby replica</strong>') + (src.error ? ' · <span class="errors">' + esc(src.error) + "</span>" : "") : "";
    document.getElementById("main").innerHTML = selected ? clusterView(selected) : overview();
  }

  var pending = false;
  function later() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; render(); });
  }

  function connect() {
    if (es) es.close();
    selected = decodeURIComponent((location.hash.match(/^#\/(.+)$/) || [])[1] || "") || null;
    detail = null;
    es = new EventSource("api/v1/events" + (selected ? "?cluster=" + encodeURIComponent(selected) : ""));
    es.addEventListener("source", function (e) { source = JSON.parse(e.data); commitURL = source.commitURL || ""; later(); });
    es.addEventListener("summary", function (e) { var c = JSON.parse(e.data); summaries[c.name || c.dir] = c; later(); });
    es.addEventListener("detail", function (e) { detail = JSON.parse(e.data); later(); });
    es.addEventListener("gone", function (e) { delete summaries[JSON.parse(e.data)]; later(); });
    es.onopen = function () { var l = document.getElementById("live"); l.className = "live"; l.textContent = "live"; };
    es.onerror = function () { var l = document.getElementById("live"); l.className = "live off"; l.textContent = "reconnecting"; };
    render();
  }
  window.addEventListener("hashchange", connect);
  connect();
})();
