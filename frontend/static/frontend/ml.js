// The ML page: lists backends with their health, trains with a live progress bar,
// shows versions and the learning curve. Everything goes through /api/ml/.
(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("ml-state").textContent);
  var $ = function (sel) { return document.querySelector(sel); };

  function csrfToken() {
    // The page's own token first: the csrftoken cookie is HttpOnly (see settings).
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!response.ok) { throw new Error((data && data.detail) || ("HTTP " + response.status)); }
        return data;
      });
    });
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function showError(message) {
    var box = $("[data-error]");
    box.textContent = message || "";
    box.hidden = !message;
  }
  // The headline metric with its held-out size, and the server's warning when it comes
  // from too few tasks (ml.selectors.metric_summary).
  function metricCell(job) {
    var cell = el("td", { "data-metric": "" });
    var m = job.metric || {};
    if (typeof m.value !== "number") { cell.textContent = "—"; return cell; }
    cell.appendChild(el("span", {}, m.metric + " " + m.value.toFixed(3)));
    if (typeof m.held_out === "number") {
      cell.appendChild(el("span", { "class": "muted small", "data-held-out": m.held_out }, " (" + m.held_out + " held out)"));
    }
    if (m.warning) {
      cell.appendChild(el("span", { "class": "metric-warning small", "data-metric-warning": "", title: m.warning }, " ⚠ " + m.warning));
    }
    return cell;
  }

  function renderBackends() {
    var body = $("[data-backends]");
    body.textContent = "";
    $("[data-empty]").hidden = state.backends.length > 0;
    state.backends.forEach(function (backend) {
      var row = el("tr", { "data-backend": backend.id });
      row.appendChild(el("td", {}, backend.title || backend.model || backend.url));
      row.appendChild(el("td", {}, backend.kind === "builtin" ? "built-in: " + backend.model : "ML backend: " + backend.url));
      row.appendChild(el("td", { "data-health": "" }, backend.readable_state));
      row.appendChild(el("td", { "data-version": "" }, backend.model_version || "—"));
      var cell = el("td", { "class": "ml-progress" });
      var bar = el("progress", { "class": "progress", max: "1", value: "0", "data-bar": "", hidden: "" });
      var label = el("span", { "class": "muted small", "data-status": "" });
      cell.appendChild(bar);
      cell.appendChild(label);
      row.appendChild(cell);
      var actions = el("td", {});
      var train = el("button", { type: "button", "class": "primary small", "data-train": backend.id }, "Train");
      train.addEventListener("click", function () { startTraining(backend, row); });
      var remove = el("button", { type: "button", "class": "small danger" }, "Remove");
      remove.addEventListener("click", function () {
        api("DELETE", "/api/ml/" + backend.id).then(function () {
          state.backends = state.backends.filter(function (b) { return b.id !== backend.id; });
          renderAll();
        }).catch(function (e) { showError(e.message); });
      });
      actions.appendChild(train);
      actions.appendChild(remove);
      row.appendChild(actions);
      body.appendChild(row);
      api("GET", "/api/ml/" + backend.id + "/health").then(function (health) {
        row.querySelector("[data-health]").textContent = health.status === "UP" ? "● up" : "● down: " + (health.error || "");
        row.querySelector("[data-health]").className = health.status === "UP" ? "ok" : "error";
      }).catch(function () { row.querySelector("[data-health]").textContent = "unknown"; });
      var running = (state.jobs[backend.id] || []).filter(function (j) { return j.status === "queued" || j.status === "running"; })[0];
      if (running) { follow(backend, row, running.id); }
    });
  }

  function startTraining(backend, row) {
    showError("");
    api("POST", "/api/ml/" + backend.id + "/train").then(function (answer) {
      follow(backend, row, answer.job);
    }).catch(function (e) { showError(e.message); });
  }

  function follow(backend, row, jobId) {
    var bar = row.querySelector("[data-bar]");
    var label = row.querySelector("[data-status]");
    var button = row.querySelector("[data-train]");
    bar.hidden = false;
    button.disabled = true;
    function poll() {
      api("GET", "/api/ml/" + backend.id + "/jobs/" + jobId + "/").then(function (job) {
        bar.value = job.progress;
        label.textContent = job.status + " " + Math.round(job.progress * 100) + "%";
        var jobs = state.jobs[backend.id] = (state.jobs[backend.id] || []).filter(function (j) { return j.id !== job.id; });
        jobs.unshift(job);
        if (job.status === "completed" || job.status === "failed") {
          button.disabled = false;
          if (job.status === "failed") { label.textContent = "failed: " + job.error; }
          return refresh();
        }
        window.setTimeout(poll, 500);
      }).catch(function (e) { showError(e.message); button.disabled = false; });
    }
    poll();
  }

  function refresh() {
    return Promise.all([
      api("GET", "/api/ml/?project=" + state.project),
      api("GET", "/api/projects/" + state.project + "/learning-curve"),
      api("GET", "/api/projects/" + state.project + "/active-learning-check"),
    ].concat(state.backends.map(function (b) { return api("GET", "/api/ml/" + b.id + "/jobs/"); })))
      .then(function (answers) {
        var backends = answers[0];
        state.curve = answers[1];
        state.al = answers[2];
        state.backends.forEach(function (b, i) { state.jobs[b.id] = answers[3 + i]; });
        backends.forEach(function (b) {
          var row = document.querySelector('[data-backend="' + b.id + '"] [data-version]');
          if (row) { row.textContent = b.model_version || "—"; }
        });
        renderVersions();
        renderCurve();
        renderCheck();
      });
  }

  // Active learning against random picks (ml.al_check): two curves on the same honest
  // test set, the verdict, and the switch to uniform when it is not winning.
  var alChart = null;
  function renderCheck() {
    var section = $("[data-al-check]");
    var al = state.al;
    var show = al && (al.sampling === "active-learning" || (al.check && al.check.points.length));
    section.hidden = !show;
    if (!show) { return; }
    var verdict = $("[data-al-verdict]");
    verdict.textContent = al.verdict.message;
    verdict.className = "al-verdict " + al.verdict.state;
    verdict.setAttribute("data-state", al.verdict.state);
    $("[data-al-switch]").hidden = !(al.sampling === "active-learning" && (al.verdict.state === "behind" || al.verdict.state === "even"));
    var scored = (al.versions || []).filter(function (v) { return typeof v.accuracy === "number"; });
    $("[data-al-versions]").textContent = scored.length
      ? "Model versions on randomly picked tasks labeled after they were trained: " + scored.map(function (v) {
        return v.model_version + " " + v.accuracy.toFixed(3) + " (" + v.lane_tasks + " tasks" + (v.lane_tasks < 30 ? ", too few to trust" : "") + ")";
      }).join("; ") + "."
      : "";
    var points = (al.check && al.check.points) || [];
    if (alChart) { alChart.destroy(); alChart = null; }
    if (!window.Chart || !points.length) { return; }
    function series(key) { return points.map(function (p) { return { x: p.labels, y: p[key] }; }); }
    var datasets = [
      { label: "actively picked labels (the project's order)", data: series("active"), borderColor: "#dc2626", backgroundColor: "#dc2626" },
      { label: "randomly picked labels", data: series("random"), borderColor: "#2563eb", backgroundColor: "#2563eb" },
    ];
    if (scored.length) {
      datasets.push({ label: "model versions on later random picks", type: "scatter", borderColor: "#6b7280", backgroundColor: "#6b7280",
        data: scored.map(function (v) { return { x: v.annotations_used, y: v.accuracy }; }) });
    }
    // Padded axes: a single point (the first training) shows inside the plot area.
    var most = Math.max.apply(null, datasets.map(function (d) {
      return Math.max.apply(null, d.data.map(function (p) { return p.x; }));
    })) || 1;
    alChart = new window.Chart(document.getElementById("al-chart"), {
      type: "line",
      data: { datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          // the padding is no tick of its own (includeBounds: false)
          x: { type: "linear", min: 0, max: Math.ceil(most * 1.12), ticks: { includeBounds: false },
            title: { display: true, text: "labels" } },
          y: { min: 0, max: 1.06, ticks: { stepSize: 0.2, includeBounds: false },
            title: { display: true, text: "accuracy on randomly picked tasks (" + al.check.test + ")" } },
        },
      },
    });
  }

  // The built-in models to add: one already added to the project is listed as added
  // (not offered twice); the first one left is chosen.
  function renderModels() {
    var select = $("[data-models]");
    select.textContent = "";
    var added = {};
    state.backends.forEach(function (b) { if (b.kind === "builtin") { added[b.model] = true; } });
    var chosen = false;
    state.models.forEach(function (model) {
      var note = added[model.model] ? " — added" : model.fits ? "" : " — needs " + model.why;
      var option = el("option", { value: model.model }, model.title + note);
      if (!model.fits || added[model.model]) { option.disabled = true; }
      else if (!chosen) { option.selected = true; chosen = true; }
      select.appendChild(option);
    });
    // nothing left to add: the list still says what is there, and cannot be sent
    if (!chosen && select.options.length) { select.options[0].selected = true; }
    select.disabled = !chosen;
    $("[data-add-builtin] button[type=submit]").disabled = !chosen;
  }

  function renderVersions() {
    var body = $("[data-versions]");
    body.textContent = "";
    state.backends.forEach(function (backend) {
      (state.jobs[backend.id] || []).forEach(function (job) {
        var row = el("tr", { "data-job": job.id });
        row.appendChild(el("td", {}, backend.model || backend.title));
        row.appendChild(el("td", {}, job.model_version || "—"));
        row.appendChild(el("td", {}, job.status + (job.error ? ": " + job.error : "")));
        row.appendChild(el("td", {}, job.annotations_used));
        row.appendChild(metricCell(job));
        row.appendChild(el("td", {}, job.finished_at ? job.finished_at.replace("T", " ").slice(0, 19) : "—"));
        body.appendChild(row);
      });
    });
  }

  function renderCurve() {
    var box = $("[data-curve]");
    box.textContent = "";
    var points = state.curve.filter(function (p) { return typeof p.value === "number"; });
    if (!points.length) { box.appendChild(el("p", { "class": "muted small" }, "No trained version yet.")); return; }
    var W = 560, H = 240, L = 48, B = 36, T = 12, R = 16;
    var most = Math.max.apply(null, points.map(function (p) { return p.annotations_used; })) || 1;
    // Room past the last point and above 1.0, so that a point (even the only one) sits
    // inside the plot, not on its edge.
    var maxX = most * 1.12;
    var TOP = 1.06;
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Learning curve");
    svg.setAttribute("class", "ml-curve-svg");
    function x(v) { return L + (W - L - R) * v / maxX; }
    function y(v) { return T + (H - T - B) * (1 - v / TOP); }
    function add(tag, attrs, text) {
      var node = document.createElementNS(NS, tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      if (text !== undefined) { node.textContent = text; }
      svg.appendChild(node);
      return node;
    }
    add("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), stroke: "#888" });
    add("line", { x1: L, y1: y(0), x2: L, y2: y(TOP), stroke: "#888" });
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      add("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": "11", fill: "#555" }, v.toFixed(2));
      add("line", { x1: L, y1: y(v), x2: W - R, y2: y(v), stroke: "#eee" });
    });
    add("text", { x: (L + W) / 2, y: H - 6, "text-anchor": "middle", "font-size": "12", fill: "#333" }, "labels used");
    add("text", { x: L, y: H - 20, "text-anchor": "middle", "font-size": "11", fill: "#555" }, "0");
    add("line", { x1: x(most), y1: y(0), x2: x(most), y2: y(0) + 4, stroke: "#888" });
    add("text", { x: x(most), y: H - 20, "text-anchor": "middle", "font-size": "11", fill: "#555", "data-x-max": "" }, String(most));
    var byBackend = {};
    points.forEach(function (p) { (byBackend[p.backend] = byBackend[p.backend] || []).push(p); });
    var colours = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];
    Object.keys(byBackend).forEach(function (key, i) {
      var series = byBackend[key].sort(function (a, b) { return a.annotations_used - b.annotations_used; });
      add("polyline", { points: series.map(function (p) { return x(p.annotations_used) + "," + y(p.value); }).join(" "),
        fill: "none", stroke: colours[i % colours.length], "stroke-width": "2" });
      series.forEach(function (p) {
        // A hollow dot: a metric from too few held-out tasks (the warning says why).
        var colour = colours[i % colours.length];
        var dot = add("circle", { cx: x(p.annotations_used), cy: y(p.value), r: "4", fill: p.warning ? "#fff" : colour,
          stroke: colour, "stroke-width": "1.5", "data-point": "" });
        var title = document.createElementNS(NS, "title");
        title.textContent = p.model_version + ": " + p.metric + " " + p.value.toFixed(3) + " with " + p.annotations_used + " labels" +
          (typeof p.held_out === "number" ? ", " + p.held_out + " held out" : "") + (p.warning ? " (" + p.warning + ")" : "");
        dot.appendChild(title);
      });
    });
    box.appendChild(svg);
  }

  function renderAll() { renderBackends(); renderModels(); renderVersions(); renderCurve(); renderCheck(); }

  $("[data-al-uniform]").addEventListener("click", function () {
    showError("");
    api("PATCH", "/api/projects/" + state.project + "/", { sampling: "uniform" }).then(function (project) {
      state.al.sampling = project.sampling;
      renderCheck();
      $("[data-al-check]").hidden = false;
      $("[data-al-verdict]").textContent = "Sampling is now uniform: the Label Stream hands out tasks at random.";
      $("[data-al-switch]").hidden = true;
    }).catch(function (e) { showError(e.message); });
  });

  $("[data-add-builtin]").addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    api("POST", "/api/ml/", { project: state.project, kind: "builtin", model: $("[data-models]").value })
      .then(function (backend) { state.backends.push(backend); state.jobs[backend.id] = []; renderAll(); })
      .catch(function (e) { showError(e.message); });
  });
  $("[data-add-remote]").addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    api("POST", "/api/ml/", { project: state.project, url: $("#ml-url").value })
      .then(function (backend) { state.backends.push(backend); state.jobs[backend.id] = []; renderAll(); })
      .catch(function (e) { showError(e.message); });
  });
  renderAll();
})();
