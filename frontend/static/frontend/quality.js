/* The quality page: reads the quality API and draws it with Chart.js (no inline script). */
(function () {
  "use strict";

  var page = JSON.parse(document.getElementById("quality-page").textContent);
  var status = document.getElementById("quality-status");
  var COLORS = ["#2563eb", "#15803d", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4d7c0f", "#be185d"];

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(url + " answered " + r.status);
      return r.json();
    });
  }

  function pct(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%";
  }

  function num(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return null;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    return new window.Chart(canvas, config);
  }

  /* ------------------------------------------------------------- annotator table */

  var rows = [];
  var sortKey = "annotations";
  var sortDir = -1;

  function renderTable() {
    var body = document.querySelector("#annotator-table tbody");
    body.textContent = "";
    var sorted = rows.slice().sort(function (a, b) {
      var x = a[sortKey], y = b[sortKey];
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      if (typeof x === "string") return sortDir * x.localeCompare(y);
      return sortDir * (x - y);
    });
    sorted.forEach(function (row) {
      var tr = el("tr");
      tr.setAttribute("data-user", row.user);
      var who = el("td");
      if (page.data_manager) {
        var link = el("a", row.email || "user " + row.user);
        link.href = page.data_manager + "?f=annotators&op=contains&t=List&v=" + encodeURIComponent(row.user);
        link.title = "Open the Data Manager filtered to this annotator's tasks";
        who.appendChild(link);
      } else {
        who.textContent = row.email || "user " + row.user;
      }
      tr.appendChild(who);
      [
        [row.annotations, 0], [row.skipped, 0], [row.lead_time_mean, 1], [row.lead_time_median, 1],
      ].forEach(function (cell) { tr.appendChild(el("td", num(cell[0], cell[1]), "num")); });
      tr.appendChild(el("td", pct(row.agreement), "num"));
      tr.appendChild(el("td", pct(row.gt_accuracy), "num"));
      tr.appendChild(el("td", String(row.gt_tasks), "num"));
      tr.appendChild(el("td", pct(row.benchmark_accuracy), "num"));
      tr.appendChild(el("td", String(row.benchmark_tasks), "num"));
      tr.appendChild(el("td", String(row.reviews_accepted), "num"));
      tr.appendChild(el("td", String(row.reviews_rejected), "num"));
      body.appendChild(tr);
    });
    if (!sorted.length) {
      var empty = el("tr");
      var cell = el("td", "No annotations yet.", "muted");
      cell.colSpan = 12;
      empty.appendChild(cell);
      body.appendChild(empty);
    }
    document.querySelectorAll("#annotator-table th[data-sort]").forEach(function (th) {
      th.setAttribute("aria-sort", th.getAttribute("data-sort") === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }

  document.querySelectorAll("#annotator-table th[data-sort]").forEach(function (th) {
    th.tabIndex = 0;
    function sort() {
      var key = th.getAttribute("data-sort");
      sortDir = key === sortKey ? -sortDir : (key === "email" ? 1 : -1);
      sortKey = key;
      renderTable();
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });

  /* ------------------------------------------------------------- charts */

  function drawReport(report) {
    rows = report.annotators;
    renderTable();
    var set = function (id, text) { var n = document.getElementById(id); if (n) n.textContent = text; };
    set("q-agreement", pct(report.agreement));
    set("q-overlap", String(report.tasks_with_overlap));
    set("q-annotators", String(report.annotators.length));

    chart("chart-per-day", {
      type: "bar",
      data: {
        labels: report.per_day.map(function (d) { return d.date; }),
        datasets: [
          { label: "Annotations", data: report.per_day.map(function (d) { return d.annotations; }), backgroundColor: COLORS[0] },
          { label: "Skipped", data: report.per_day.map(function (d) { return d.skipped; }), backgroundColor: COLORS[2] },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });

    var share = function (key) { return rows.map(function (r) { return r[key] === null ? null : r[key] * 100; }); };
    chart("chart-annotators", {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.email || "user " + r.user; }),
        datasets: [
          { label: "Agreement", data: share("agreement"), backgroundColor: COLORS[0] },
          { label: "GT accuracy", data: share("gt_accuracy"), backgroundColor: COLORS[1] },
          { label: "Benchmark accuracy", data: share("benchmark_accuracy"), backgroundColor: COLORS[3] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: "%" } } } },
    });

    var holder = document.getElementById("label-charts");
    if (holder) {
      var names = Object.keys(report.labels);
      if (!names.length) holder.appendChild(el("p", "No labels yet.", "muted"));
      names.forEach(function (name, index) {
        var box = el("div", null, "label-chart");
        box.appendChild(el("h3", name));
        var wrap = el("div", null, "chart small");
        var canvas = el("canvas");
        canvas.id = "chart-labels-" + index;
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", "Label distribution of " + name);
        wrap.appendChild(canvas);
        box.appendChild(wrap);
        holder.appendChild(box);
        var labels = Object.keys(report.labels[name]);
        chart(canvas.id, {
          type: "bar",
          data: {
            labels: labels,
            datasets: [{ label: name, data: labels.map(function (l) { return report.labels[name][l]; }), backgroundColor: labels.map(function (_, i) { return COLORS[i % COLORS.length]; }) }],
          },
          options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
        });
      });
    }
  }

  function drawHistogram(bins) {
    chart("chart-histogram", {
      type: "bar",
      data: {
        labels: bins.map(function (b) { return Math.round(b.from * 100) + "–" + Math.round(b.to * 100) + "%"; }),
        datasets: [{ label: "Tasks", data: bins.map(function (b) { return b.tasks; }), backgroundColor: COLORS[5] }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function drawHeatmap(matrix) {
    var table = document.getElementById("heatmap");
    if (!table) return;
    table.textContent = "";
    if (!matrix.annotators.length) {
      var row = el("tr");
      row.appendChild(el("td", "No two annotators share a task yet.", "empty"));
      table.appendChild(row);
      return;
    }
    var name = function (a) { return a.email || "user " + a.user; };
    var head = el("tr");
    head.appendChild(el("th", ""));
    matrix.annotators.forEach(function (a) { var th = el("th", name(a)); th.scope = "col"; head.appendChild(th); });
    table.appendChild(head);
    matrix.annotators.forEach(function (a, i) {
      var tr = el("tr");
      var th = el("th", name(a));
      th.scope = "row";
      tr.appendChild(th);
      matrix.matrix[i].forEach(function (value) {
        var td = el("td", value === null ? "–" : pct(value), value === null ? "empty" : "");
        if (value !== null) {
          // red (0) -> amber -> green (1), through the CSSOM (allowed by the page's CSP)
          td.style.backgroundColor = "hsl(" + Math.round(value * 120) + ", 70%, " + (88 - value * 18) + "%)";
        }
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
  }

  var jobs = [getJSON(page.api).then(drawReport)];
  if (page.everyone) {
    jobs.push(getJSON(page.api + "agreement-histogram/").then(drawHistogram));
    jobs.push(getJSON(page.api + "agreement-matrix/").then(drawHeatmap));
  }
  Promise.all(jobs).then(function () {
    status.textContent = "";
    status.hidden = true;
    document.body.setAttribute("data-quality-ready", "1");
  }).catch(function (err) {
    status.textContent = "Could not load the quality figures: " + err.message;
    status.classList.add("error");
  });
})();
