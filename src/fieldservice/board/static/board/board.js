/* The dispatch board: Gantt, map and list over one data set (/board/data.json), refreshed when
   the server's change stamp moves (server-sent events, else polling). Our own code, no library.

   Times: the server sends ISO strings with its offset; we work in epoch milliseconds and show
   and send wall-clock times of the server's time zone (`offset`), whatever the browser's is. */
(function () {
  "use strict";

  var root = document.getElementById("board");
  if (!root) return;
  var urls = JSON.parse(document.getElementById("board-urls").textContent);
  var T = JSON.parse(document.getElementById("board-strings").textContent);
  var csrf = root.dataset.csrf;
  var tileUrl = root.dataset.tileUrl || "";
  var statusEl = document.getElementById("board-status");
  var MIN = 60000;
  var SNAP = 15 * MIN;
  var NAME_WIDTH = 190;

  var state = { data: null, view: root.dataset.view || "gantt", offset: 0, loading: false, queueLoaded: false };

  // ---- helpers -------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    return node;
  }
  function ms(iso) { return new Date(iso).getTime(); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function wall(t) { return new Date(t + state.offset * MIN); }
  function hhmm(t) { var d = wall(t); return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()); }
  function localIso(t) {
    var d = wall(t);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + hhmm(t);
  }
  function setStatus(text) { statusEl.textContent = text; }
  function query() {
    var form = document.getElementById("board-filters");
    var params = new URLSearchParams(new FormData(form));
    params.delete("view");
    return params.toString();
  }
  function post(url, data) {
    var body = new URLSearchParams(data);
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, ok: response.ok, json: json };
      });
    });
  }

  // ---- loading -------------------------------------------------------------------------------

  function load() {
    // A change announced while a load runs is fetched right after it, not dropped.
    if (state.loading) { state.again = true; return state.loading; }
    state.loading = fetch(urls.data + "?" + query(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) {
        state.data = data;
        state.offset = data.days.length ? data.days[0].offset_minutes : 0;
        render();
        setStatus(T.updated + " " + hhmm(Date.now()));
      })
      .catch(function () { setStatus(T.load_failed); })
      .then(function () {
        state.loading = false;
        if (state.again) { state.again = false; return load(); }
      });
    return state.loading;
  }

  function loadQueue() {
    return fetch(urls.queue + "?" + query(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { document.getElementById("queue").innerHTML = html; state.queueLoaded = true; })
      .catch(function () { setStatus(T.load_failed); });
  }

  function render() {
    if (!state.data) return;
    if (state.view === "gantt") renderGantt();
    if (state.view === "map") renderMap();
  }

  // ---- tabs and filters ----------------------------------------------------------------------

  function showView(view, push) {
    state.view = view;
    document.getElementById("board-view-input").value = view;
    document.querySelectorAll(".board-tabs a").forEach(function (tab) {
      var on = tab.dataset.view === view;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    });
    document.querySelectorAll(".board-view").forEach(function (section) {
      section.hidden = section.id !== "view-" + view;
    });
    if (push) history.replaceState(null, "", "?" + query() + "&view=" + view);
    if (view === "list") {
      if (push || !document.querySelector("#queue table, #queue .empty")) loadQueue();
    } else render();
  }

  document.querySelectorAll(".board-tabs a").forEach(function (tab) {
    tab.addEventListener("click", function (event) { event.preventDefault(); showView(tab.dataset.view, true); });
  });
  document.querySelectorAll("#board-filters .step").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById("board-date");
      var days = (document.getElementById("board-span").value === "week" ? 7 : 1) * Number(button.dataset.step);
      var day = new Date((input.value || new Date().toISOString().slice(0, 10)) + "T00:00:00Z");
      day.setUTCDate(day.getUTCDate() + days);
      input.value = day.toISOString().slice(0, 10);
      document.getElementById("board-filters").requestSubmit();
    });
  });

  // ---- Gantt ---------------------------------------------------------------------------------

  var gantt = { segments: [], hourPx: 72, segWidth: 0, lanes: {} };

  function buildScale(days, span) {
    gantt.hourPx = span === "week" ? 16 : 72;
    gantt.segments = days.map(function (day) { return { start: ms(day.start), end: ms(day.end), date: day.date }; });
    var first = gantt.segments[0];
    gantt.segWidth = first ? (first.end - first.start) / (60 * MIN) * gantt.hourPx : 0;
  }
  function timeToX(t) {
    var segs = gantt.segments;
    for (var i = 0; i < segs.length; i++) {
      if (t < segs[i].start) return i * gantt.segWidth;
      if (t <= segs[i].end) return i * gantt.segWidth + (t - segs[i].start) / (60 * MIN) * gantt.hourPx;
    }
    return segs.length * gantt.segWidth;
  }
  function xToTime(x) {
    var segs = gantt.segments;
    if (!segs.length) return 0;
    var i = Math.max(0, Math.min(segs.length - 1, Math.floor(x / gantt.segWidth)));
    var within = Math.max(0, x - i * gantt.segWidth);
    return segs[i].start + within / gantt.hourPx * 60 * MIN;
  }
  function span(lane, className, start, end, title) {
    var left = timeToX(start), right = timeToX(end);
    if (right - left < 1) return null;
    var block = el("div", { className: className, title: title || "" });
    block.style.left = left + "px";
    block.style.width = (right - left) + "px";
    lane.appendChild(block);
    return block;
  }

  function renderGantt() {
    var data = state.data;
    var host = document.getElementById("gantt");
    host.innerHTML = "";
    host.removeAttribute("aria-busy");
    buildScale(data.days, data.range.span);
    var width = gantt.segments.length * gantt.segWidth;
    gantt.lanes = {};

    var axis = el("div", { className: "g-row g-axis" }, [el("div", { className: "g-name" })]);
    var ticks = el("div", { className: "g-lane g-ticks" });
    ticks.style.width = width + "px";
    gantt.segments.forEach(function (seg, i) {
      if (gantt.segments.length > 1) {
        var label = el("span", { className: "g-day", text: seg.date });
        label.style.left = (i * gantt.segWidth) + "px";
        ticks.appendChild(label);
      }
      var week = data.range.span === "week", step = week ? 4 : 1;
      for (var t = seg.start; t < seg.end; t += step * 60 * MIN) {
        // In a week, the last tick of a day would run into the next day's first one.
        if (week && t + 2 * 60 * MIN > seg.end) continue;
        var tick = el("span", { className: "g-tick" + (week ? " g-tick-low" : ""), text: hhmm(t) });
        tick.style.left = timeToX(t) + "px";
        ticks.appendChild(tick);
      }
    });
    axis.appendChild(ticks);
    host.appendChild(axis);

    var rows = data.engineers.slice();
    var unassigned = data.visits.filter(function (v) { return v.engineer === null; });
    if (unassigned.length) rows.push({ id: "", name: T.unassigned, team: "", shifts: [], absences: [] });
    if (!rows.length) { host.appendChild(el("p", { className: "empty", text: T.no_engineers })); return; }

    rows.forEach(function (engineer) {
      var name = el("div", { className: "g-name" }, [
        el("strong", { text: engineer.name }),
        engineer.team || engineer.organisation ? el("span", { className: "muted", text: " " + (engineer.team || engineer.organisation) }) : null,
        engineer.availability && engineer.availability !== "on_duty" ? el("span", { className: "badge warn", text: engineer.availability_label }) : null
      ]);
      var lane = el("div", { className: "g-lane", "data-engineer": engineer.id });
      lane.style.width = width + "px";
      lane.style.backgroundSize = gantt.hourPx + "px 100%";
      engineer.shifts.forEach(function (shift) { span(lane, "g-free", ms(shift[0]), ms(shift[1])); });
      engineer.absences.forEach(function (absence) {
        span(lane, "g-leave", ms(absence.start), ms(absence.end), absence.label);
      });
      gantt.segments.forEach(function (seg, i) {
        if (i) { var sep = el("div", { className: "g-daysep" }); sep.style.left = (i * gantt.segWidth) + "px"; lane.appendChild(sep); }
      });
      data.visits.filter(function (v) { return (v.engineer === null ? "" : v.engineer) === engineer.id; }).forEach(function (visit) {
        var start = ms(visit.start), end = ms(visit.end);
        if (visit.travel_minutes) {
          var travelTitle = T.travel + ": " + visit.travel_minutes + (visit.travel_from === "home" ? " (" + T.from_home + ")" : "");
          span(lane, "g-travel", start - visit.travel_minutes * MIN, start, travelTitle);
        }
        var bar = el("button", {
          type: "button",
          className: "g-bar prio-" + visit.priority + (visit.sla ? " sla-" + visit.sla : "") + (visit.pinned ? " pinned" : ""),
          "data-visit": visit.id,
          title: visit.number + " · " + visit.customer + " · " + hhmm(start) + "–" + hhmm(end) + " · " + visit.priority_label
        }, [el("span", { className: "g-bar-number", text: visit.number }), el("span", { className: "g-bar-time", text: hhmm(start) + "–" + hhmm(end) })]);
        bar.style.left = timeToX(start) + "px";
        bar.style.width = Math.max(6, timeToX(end) - timeToX(start)) + "px";
        lane.appendChild(bar);
        attachDrag(bar, visit);
      });
      gantt.lanes[engineer.id] = lane;
      host.appendChild(el("div", { className: "g-row" }, [name, lane]));
    });
  }

  function visitById(id) {
    return state.data.visits.filter(function (v) { return v.id === id; })[0];
  }

  function laneAt(clientY) {
    var found = null;
    Object.keys(gantt.lanes).forEach(function (id) {
      var rect = gantt.lanes[id].getBoundingClientRect();
      if (clientY >= rect.top && clientY < rect.bottom) found = gantt.lanes[id];
    });
    return found;
  }

  function attachDrag(bar, visit) {
    var drag = null;
    var suppressClickUntil = 0;
    bar.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      var rect = bar.getBoundingClientRect();
      drag = { x: event.clientX, y: event.clientY, grab: event.clientX - rect.left, moved: false, ghost: null, target: null };
      bar.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    bar.addEventListener("pointermove", function (event) {
      if (!drag) return;
      if (!drag.moved && Math.abs(event.clientX - drag.x) < 4 && Math.abs(event.clientY - drag.y) < 4) return;
      drag.moved = true;
      var lane = laneAt(event.clientY) || bar.parentNode;
      var left = event.clientX - lane.getBoundingClientRect().left - drag.grab;
      var start = Math.round(xToTime(left) / SNAP) * SNAP;
      if (!drag.ghost) { drag.ghost = el("div", { className: "g-ghost", "aria-hidden": "true" }); bar.classList.add("dragging"); }
      if (drag.ghost.parentNode !== lane) lane.appendChild(drag.ghost);
      drag.ghost.style.left = timeToX(start) + "px";
      drag.ghost.style.width = bar.style.width;
      drag.ghost.textContent = hhmm(start);
      drag.target = { engineer: lane.dataset.engineer, start: start };
    });
    function end(event, cancelled) {
      if (!drag) return;
      var finished = drag;
      drag = null;
      if (bar.hasPointerCapture && bar.hasPointerCapture(event.pointerId)) bar.releasePointerCapture(event.pointerId);
      bar.classList.remove("dragging");
      if (finished.ghost) finished.ghost.remove();
      if (!finished.moved || cancelled || !finished.target) return;
      suppressClickUntil = Date.now() + 500;
      openPanel(visit, finished.target.engineer || visit.engineer, finished.target.start, true);
    }
    bar.addEventListener("pointerup", function (event) { end(event, false); });
    bar.addEventListener("pointercancel", function (event) { end(event, true); });
    // A click (mouse without a drag, Enter or Space) opens the form: the keyboard path.
    bar.addEventListener("click", function () {
      if (Date.now() < suppressClickUntil) return;
      openPanel(visit, visit.engineer, ms(visit.start), false);
    });
  }

  // ---- the move panel (drag confirm and click form share it) -----------------------------------

  var panel = document.getElementById("move-panel");
  var form = document.getElementById("move-form");
  var saveButton = document.getElementById("move-save");
  var conflictsEl = document.getElementById("move-conflicts");
  var errorEl = document.getElementById("move-error");
  var summaryEl = document.getElementById("move-summary");
  var checked = null;

  function openPanel(visit, engineerId, start, runCheck) {
    document.getElementById("move-number").textContent = visit.number;
    document.getElementById("move-visit").value = visit.id;
    document.getElementById("move-version").value = visit.version;
    var select = document.getElementById("move-engineer");
    select.innerHTML = "";
    state.data.engineers.forEach(function (engineer) {
      var option = el("option", { value: engineer.id, text: engineer.name + (engineer.team ? " · " + engineer.team : "") });
      if (String(engineer.id) === String(engineerId)) option.selected = true;
      select.appendChild(option);
    });
    document.getElementById("move-start").value = localIso(start);
    conflictsEl.innerHTML = "";
    errorEl.textContent = "";
    summaryEl.textContent = "";
    saveButton.disabled = true;
    checked = null;
    panel.hidden = false;
    if (runCheck) runCheckNow(); else document.getElementById("move-engineer").focus();
  }

  function closePanel() { panel.hidden = true; checked = null; }

  function formData() {
    return {
      visit: document.getElementById("move-visit").value,
      version: document.getElementById("move-version").value,
      engineer: document.getElementById("move-engineer").value,
      planned_start: document.getElementById("move-start").value.trim()
    };
  }

  function showErrors(json) {
    var messages = [];
    if (json.message) messages.push(json.message);
    Object.keys(json.errors || {}).forEach(function (field) { messages = messages.concat(json.errors[field]); });
    errorEl.textContent = messages.join(" ") || T.error;
  }

  function runCheckNow() {
    var values = formData();
    if (!/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d$/.test(values.planned_start)) { errorEl.textContent = T.bad_start; return; }
    conflictsEl.innerHTML = "";
    errorEl.textContent = "";
    summaryEl.textContent = T.checking;
    saveButton.disabled = true;
    post(urls.check, values).then(function (result) {
      summaryEl.textContent = "";
      if (!result.ok) { showErrors(result.json); return; }
      var json = result.json;
      summaryEl.textContent = json.number + " → " + json.engineer_name + ", " + localIso(ms(json.start)) + "–" + hhmm(ms(json.end));
      if (!json.conflicts.length) conflictsEl.appendChild(el("li", { className: "ok", text: T.no_conflicts }));
      json.conflicts.forEach(function (conflict) {
        conflictsEl.appendChild(el("li", { className: conflict.blocking ? "blocking" : "warning", "data-code": conflict.code }, [
          el("strong", { text: (conflict.blocking ? T.blocking : T.warning) + ": " }), document.createTextNode(conflict.message)
        ]));
      });
      checked = values;
      saveButton.disabled = json.blocking;
      if (json.conflicts.some(function (c) { return c.code === "stale"; })) load();
      if (!json.blocking) saveButton.focus();
    }).catch(function () { summaryEl.textContent = ""; errorEl.textContent = T.error; });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); runCheckNow(); });
  form.addEventListener("input", function () { saveButton.disabled = true; checked = null; });
  document.getElementById("move-cancel").addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") closePanel(); });
  saveButton.addEventListener("click", function () {
    if (!checked) return;
    saveButton.disabled = true;
    summaryEl.textContent = T.saving;
    post(urls.move, checked).then(function (result) {
      if (result.ok) {
        closePanel();
        setStatus(result.json.message);
        load().then(function () { setStatus(result.json.message); });
        return;
      }
      summaryEl.textContent = "";
      showErrors(result.json);
      if (result.status === 409) load();
    }).catch(function () { summaryEl.textContent = ""; errorEl.textContent = T.error; saveButton.disabled = false; });
  });

  // ---- map (Web Mercator on an SVG; tiles beneath when a tile URL is configured) -------------

  var TILE = 256;
  var PRIORITY_COLOURS = { urgent: "#c81e1e", high: "#d97706", normal: "#2563eb", low: "#6b7280" };

  function project(lat, lng, zoom) {
    var scale = TILE * Math.pow(2, zoom);
    var sin = Math.sin(Math.max(-85.05, Math.min(85.05, lat)) * Math.PI / 180);
    return { x: (lng + 180) / 360 * scale, y: (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * scale };
  }

  function unproject(x, y, zoom) {
    var scale = TILE * Math.pow(2, zoom);
    var n = Math.PI - 2 * Math.PI * y / scale;
    return { lat: 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))), lng: x / scale * 360 - 180 };
  }

  // The base layer: province, city and district borders with names for the area in view, from the
  // server (an installed data package, no network). Kept per area and zoom; a redraw of the same view
  // draws from memory at once.
  var boundaryCache = {};
  var mapRender = 0;

  function drawBoundaries(layer, payload, place) {
    var levels = payload.levels || [];
    var finest = levels[levels.length - 1];
    var labels = svg("g", { "class": "map-labels" });
    payload.features.forEach(function (feature) {
      var d = feature.paths.map(function (line) {
        return line.map(function (point, i) {
          var at = place(point[1], point[0]);
          return (i ? "L" : "M") + at.x.toFixed(1) + " " + at.y.toFixed(1);
        }).join("");
      }).join("");
      var path = svg("path", { d: d, "class": "map-border map-border-" + feature.level, "data-code": feature.code });
      layer.appendChild(path);
      // Name the finest divisions shown (a coarser one is named when nothing finer is drawn).
      if (feature.level === finest) {
        var at = place(feature.label[1], feature.label[0]);
        var text = svg("text", { x: at.x.toFixed(1), y: at.y.toFixed(1), "text-anchor": "middle", "class": "map-label map-label-" + feature.level });
        text.textContent = feature.name;
        labels.appendChild(text);
      }
    });
    layer.appendChild(labels);
  }

  function loadBoundaries(layer, bbox, zoom, place, render) {
    if (!urls.boundaries) return;
    var key = bbox.map(function (v) { return v.toFixed(3); }).join(",") + "/" + zoom;
    if (boundaryCache[key]) { drawBoundaries(layer, boundaryCache[key], place); return; }
    fetch(urls.boundaries + "?bbox=" + key.split("/")[0] + "&zoom=" + zoom, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (payload) {
        if (!payload) return;
        boundaryCache[key] = payload;
        if (render === mapRender) drawBoundaries(layer, payload, place);
      })
      .catch(function () { /* the pins do without a base layer */ });
  }

  function renderMap() {
    var render = ++mapRender;
    var data = state.data;
    var map = document.getElementById("map");
    var width = map.clientWidth || 800, height = map.clientHeight || 520;
    map.setAttribute("viewBox", "0 0 " + width + " " + height);
    while (map.firstChild) map.removeChild(map.firstChild);
    var points = [];
    data.orders.forEach(function (o) { if (o.lat !== null && o.lng !== null) points.push([o.lat, o.lng]); });
    data.engineers.forEach(function (e) { if (e.location) points.push([e.location.lat, e.location.lng]); });
    document.getElementById("map-credit").textContent = tileUrl ? T.tiles + ": " + tileUrl.replace(/^https?:\/\//, "").split("/")[0] : "";
    if (!points.length) {
      var text = svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", "class": "map-empty" });
      text.textContent = T.no_pins;
      map.appendChild(text);
      return;
    }
    // The largest zoom at which every pin fits with a margin.
    var zoom = 16;
    for (; zoom > 1; zoom--) {
      var ps = points.map(function (p) { return project(p[0], p[1], zoom); });
      var xs = ps.map(function (p) { return p.x; }), ys = ps.map(function (p) { return p.y; });
      if (Math.max.apply(null, xs) - Math.min.apply(null, xs) <= width - 80 && Math.max.apply(null, ys) - Math.min.apply(null, ys) <= height - 80) break;
    }
    var projected = points.map(function (p) { return project(p[0], p[1], zoom); });
    var minX = Math.min.apply(null, projected.map(function (p) { return p.x; }));
    var maxX = Math.max.apply(null, projected.map(function (p) { return p.x; }));
    var minY = Math.min.apply(null, projected.map(function (p) { return p.y; }));
    var maxY = Math.max.apply(null, projected.map(function (p) { return p.y; }));
    var centre = unproject((minX + maxX) / 2, (minY + maxY) / 2, zoom);
    // Zoomed or dragged by the user: his view stays until he asks to fit the pins again.
    if (state.mapView) { zoom = state.mapView.zoom; centre = state.mapView; }
    else state.mapFit = { zoom: zoom, lat: centre.lat, lng: centre.lng };
    var middle = project(centre.lat, centre.lng, zoom);
    var originX = middle.x - width / 2, originY = middle.y - height / 2;
    mapFrame = { zoom: zoom, originX: originX, originY: originY, width: width, height: height };
    function place(lat, lng) { var p = project(lat, lng, zoom); return { x: p.x - originX, y: p.y - originY }; }

    map.appendChild(svg("rect", { x: 0, y: 0, width: width, height: height, "class": "map-bg" }));
    var content = svg("g", { id: "map-content" });
    map.appendChild(content);
    if (tileUrl) {
      var count = Math.pow(2, zoom);
      for (var tx = Math.floor(originX / TILE); tx <= Math.floor((originX + width) / TILE); tx++) {
        for (var ty = Math.floor(originY / TILE); ty <= Math.floor((originY + height) / TILE); ty++) {
          if (ty < 0 || ty >= count) continue;
          var wrapped = ((tx % count) + count) % count;
          var href = tileUrl.replace("{z}", zoom).replace("{x}", wrapped).replace("{y}", ty).replace("{s}", "a");
          var image = svg("image", { x: tx * TILE - originX, y: ty * TILE - originY, width: TILE, height: TILE, "class": "map-tile" });
          image.setAttribute("href", href);
          // A tile that fails (no network, bad URL) just is not there; the pins still are.
          image.addEventListener("error", function () { this.remove(); });
          content.appendChild(image);
        }
      }
    }
    var base = svg("g", { "class": "map-base", id: "map-base" });
    content.appendChild(base);
    var corner = unproject(originX, originY + height, zoom), far = unproject(originX + width, originY, zoom);
    loadBoundaries(base, [corner.lng, corner.lat, far.lng, far.lat], zoom, place, render);
    data.engineers.forEach(function (engineer) {
      if (!engineer.location) return;
      var at = place(engineer.location.lat, engineer.location.lng);
      var group = svg("g", { "class": "map-engineer", transform: "translate(" + at.x + "," + at.y + ")", "data-engineer": engineer.id });
      group.appendChild(svg("rect", { x: -6, y: -6, width: 12, height: 12, transform: "rotate(45)" }));
      var title = svg("title");
      title.textContent = engineer.name + " · " + (engineer.location.source === "check_in" ? T.from_check_in : T.from_home);
      group.appendChild(title);
      content.appendChild(group);
    });
    // Orders at one site would hide each other: spread pins that fall on the same spot round it.
    var spots = {};
    data.orders.forEach(function (order) {
      if (order.lat === null || order.lng === null) return;
      var p = place(order.lat, order.lng), key = Math.round(p.x / 4) + ":" + Math.round(p.y / 4);
      (spots[key] = spots[key] || []).push(order);
    });
    var positions = {};
    Object.keys(spots).forEach(function (key) {
      var group = spots[key];
      group.forEach(function (order, i) {
        var p = place(order.lat, order.lng);
        if (group.length > 1) {
          var angle = 2 * Math.PI * i / group.length, radius = 9 + 2 * group.length;
          p = { x: p.x + radius * Math.cos(angle), y: p.y + radius * Math.sin(angle) };
        }
        positions[order.id] = p;
      });
    });
    data.orders.forEach(function (order) {
      if (!positions[order.id]) return;
      var at = positions[order.id];
      var group = svg("g", {
        "class": "map-order" + (order.sla ? " sla-" + order.sla : "") + (order.visit ? " planned" : ""),
        transform: "translate(" + at.x + "," + at.y + ")", tabindex: "0", role: "button", "data-order": order.id
      });
      if (order.sla === "at_risk" || order.sla === "breached") group.appendChild(svg("circle", { r: 12, "class": "ring" }));
      group.appendChild(svg("circle", { r: 7, fill: order.visit ? "#fff" : PRIORITY_COLOURS[order.priority] || "#2563eb", stroke: PRIORITY_COLOURS[order.priority] || "#2563eb", "stroke-width": 3 }));
      var title = svg("title");
      title.textContent = order.number + " · " + order.customer + " · " + order.priority_label + (order.sla ? " · " + T.sla + ": " + (order.sla === "breached" ? T.sla_breached : order.sla === "at_risk" ? T.sla_at_risk : order.sla) : "");
      group.appendChild(title);
      group.addEventListener("click", function () { pickOrder(order); });
      group.addEventListener("keydown", function (event) { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pickOrder(order); } });
      content.appendChild(group);
    });
  }

  // Zoom and drag: the view is kept as a zoom and a centre; a redraw (new data) keeps it.
  var mapFrame = null;
  function setMapView(zoom, lat, lng) {
    state.mapView = { zoom: Math.max(3, Math.min(16, zoom)), lat: lat, lng: lng };
    renderMap();
  }
  function zoomMap(step) {
    var view = state.mapView || state.mapFit;
    if (view) setMapView(view.zoom + step, view.lat, view.lng);
  }
  (function () {
    var map = document.getElementById("map");
    if (!map) return;
    var zoomIn = document.getElementById("map-zoom-in"), zoomOut = document.getElementById("map-zoom-out");
    var fit = document.getElementById("map-fit");
    if (zoomIn) zoomIn.addEventListener("click", function () { zoomMap(1); });
    if (zoomOut) zoomOut.addEventListener("click", function () { zoomMap(-1); });
    if (fit) fit.addEventListener("click", function () { state.mapView = null; renderMap(); });
    var lastWheel = 0;
    map.addEventListener("wheel", function (event) {
      if (!mapFrame) return;
      event.preventDefault();
      // One step per flick of the wheel, not one per event (each step loads the borders in view).
      if (event.timeStamp - lastWheel < 300) return;
      lastWheel = event.timeStamp;
      zoomMap(event.deltaY < 0 ? 1 : -1);
    }, { passive: false });
    var drag = null;
    map.addEventListener("pointerdown", function (event) {
      if (!mapFrame || event.target.closest(".map-order")) return;
      drag = { x: event.clientX, y: event.clientY, moved: false };
      map.setPointerCapture(event.pointerId);
    });
    map.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      var content = document.getElementById("map-content");
      if (content && drag.moved) content.setAttribute("transform", "translate(" + dx + "," + dy + ")");
    });
    map.addEventListener("pointerup", function (event) {
      if (!drag) return;
      var moved = drag.moved, dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      drag = null;
      if (!moved) return;
      var f = mapFrame, centre = unproject(f.originX + f.width / 2 - dx, f.originY + f.height / 2 - dy, f.zoom);
      setMapView(f.zoom, centre.lat, centre.lng);
    });
  })();

  function pickOrder(order) {
    var aside = document.getElementById("map-panel");
    document.querySelectorAll(".map-order.picked").forEach(function (node) { node.classList.remove("picked"); });
    var node = document.querySelector('.map-order[data-order="' + order.id + '"]');
    if (node) node.classList.add("picked");
    aside.innerHTML = "";
    aside.appendChild(el("h3", { text: order.number + " · " + order.customer }));
    aside.appendChild(el("p", { className: "muted", text: [order.city, order.priority_label, order.status_label].filter(Boolean).join(" · ") }));
    var url = urls.nearest.replace("/0/", "/" + order.id + "/");
    fetch(url, { credentials: "same-origin" }).then(function (response) { return response.json(); }).then(function (json) {
      aside.appendChild(el("h4", { text: T.nearest }));
      if (!json.engineers.length) { aside.appendChild(el("p", { className: "empty", text: T.no_candidates })); }
      else if (!json.engineers.some(function (e) { return e.suitable; })) aside.appendChild(el("p", { className: "muted", text: T.none_suitable }));
      var list = el("ol", { className: "nearest" });
      json.engineers.forEach(function (engineer) {
        var distance = engineer.distance_km === null ? "—" : engineer.distance_km + " " + T.km;
        list.appendChild(el("li", { "data-engineer": engineer.id }, [
          el("strong", { text: engineer.name }),
          el("span", { className: "muted", text: " " + distance + (engineer.from === "check_in" ? " (" + T.from_check_in + ")" : engineer.from === "home" ? " (" + T.from_home + ")" : "") })
        ]));
      });
      aside.appendChild(list);
      aside.appendChild(el("a", { className: "button primary", href: json.dispatch_url, text: T.dispatch }));
    }).catch(function () { aside.appendChild(el("p", { className: "error", text: T.error })); });
  }

  // ---- refresh: server-sent events, else polling ---------------------------------------------

  var pollTimer = null;
  function refreshIfChanged(stamp) {
    // Before the first data arrives, the load under way is as fresh as this stamp.
    if (!state.data || stamp === state.data.stamp) return;
    load();
    if (state.view === "list") loadQueue();
  }
  function startPolling() {
    if (pollTimer) return;
    setStatus(T.polling);
    pollTimer = setInterval(function () {
      load();
      if (state.view === "list") loadQueue();
    }, 15000);
  }
  function listen() {
    if (!window.EventSource) { startPolling(); return; }
    var source = new EventSource(urls.events);
    source.addEventListener("stamp", function (event) {
      try { refreshIfChanged(JSON.parse(event.data).stamp); } catch (e) { /* a bad line: wait for the next */ }
    });
    source.addEventListener("error", function () {
      // The server ends each stream after a minute and EventSource reconnects by itself; only a
      // refused stream (CLOSED) means live updates are gone.
      if (source.readyState === EventSource.CLOSED) startPolling();
    });
  }

  window.addEventListener("resize", function () { if (state.view === "map") renderMap(); });
  showView(state.view, false);
  load();
  listen();
})();
