/* The Data Manager page: the "Found" count, column hiding, selection and bulk actions,
 * deleting a task, saving a tab, the quick view's editor preview, and the import and
 * export dialogs. Everything goes through the REST API (LabelHubEditor.api when the
 * editor assets are loaded, else a local fetch helper with the CSRF token).
 */
(function () {
  "use strict";

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var page = readJSON("dm-data");
  var filterOptions = readJSON("dm-filter-options") || {};
  var $ = function (selector, root) { return (root || document).querySelector(selector); };
  var $$ = function (selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); };

  function csrfToken() {
    var input = $("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function request(method, url, body, raw) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() } };
    if (raw) options.body = raw;
    else if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) return { _status: 204 };
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error(json.detail || ("HTTP " + response.status));
          error.body = json;
          throw error;
        }
        json._status = response.status;
        return json;
      });
    });
  }

  var queryParam = encodeURIComponent(JSON.stringify(page.query || {}));

  /* ------------------------------------------------------------ Found count */
  var found = $("[data-found]");
  if (found) {
    // The count alone first (the quickest), then the totals of what was found.
    var countUrl = "/api/dm/count/?project=" + page.project + "&query=" + queryParam;
    request("GET", countUrl + "&totals=false").then(function (counts) {
      found.textContent = counts.total.toLocaleString();
      found.setAttribute("data-count", counts.total);
      buildPager(counts.total);
      return request("GET", countUrl);
    }).then(function (counts) {
      var totals = $("[data-totals]");
      if (totals) totals.textContent = "(" + counts.total_annotations.toLocaleString() + " annotations, " + counts.total_predictions.toLocaleString() + " predictions)";
    }).catch(function (error) { if (!found.hasAttribute("data-count")) { found.textContent = "?"; found.title = error.message; } });
  }

  /* ---------------------------------------------------------------- pager */
  // Page numbers jump by OFFSET (?page=k); the last page is the reversed order's first
  // (?last=rows on it), so it costs what page 1 does; next/previous stay keyset links.
  function pageUrl(number, pages, total) {
    var params = new URLSearchParams(page.here || "");
    if (number >= pages && pages > 1) {
      params.set("page", pages);
      params.set("last", total - (pages - 1) * page.size);
    } else if (number > 1) params.set("page", number);
    var text = params.toString();
    return "?" + text;
  }
  function buildPager(total) {
    var pager = $("[data-pager]");
    if (!pager) return;
    var pages = Math.max(1, Math.ceil(total / page.size));
    var current = Math.min(page.page || 1, pages);
    $("[data-page-of]", pager).textContent = "Page " + (page.page || 1).toLocaleString() + " of " + pages.toLocaleString();
    var numbers = $("[data-page-numbers]", pager);
    numbers.textContent = "";
    var wanted = [1, current - 2, current - 1, current, current + 1, current + 2, pages]
      .filter(function (n, i, all) { return n >= 1 && n <= pages && all.indexOf(n) === i; })
      .sort(function (a, b) { return a - b; });
    var previous = 0;
    wanted.forEach(function (n) {
      if (n - previous > 1) { var gap = document.createElement("span"); gap.className = "gap"; gap.textContent = "…"; numbers.appendChild(gap); }
      previous = n;
      var link = document.createElement("a");
      link.textContent = n.toLocaleString();
      link.href = pageUrl(n, pages, total);
      link.setAttribute("data-page-link", n);
      if (n === (page.page || 1)) { link.className = "current"; link.setAttribute("aria-current", "page"); }
      numbers.appendChild(link);
    });
    var lastLink = $("[data-last-page]", pager);
    lastLink.href = pageUrl(pages, pages, total);
    lastLink.hidden = pages <= 1 || (page.page || 1) >= pages;
    var goto = $("[data-goto-page]", pager);
    var input = $("[data-goto-input]", goto);
    input.max = pages;
    input.placeholder = String(current);
    goto.hidden = pages <= 1;
    goto.addEventListener("submit", function (event) {
      event.preventDefault();
      var n = Math.round(Number(input.value));
      if (!n || n < 1) { input.setCustomValidity("a page from 1 to " + pages); input.reportValidity(); return; }
      window.location.search = pageUrl(Math.min(n, pages), pages, total).slice(1);
    });
  }

  /* ------------------------------------------------------------- filters */
  var form = $("#dm-form");
  if (form && window.DMFilters) window.DMFilters.init(form, filterOptions);
  $$("[data-autosubmit]").forEach(function (element) {
    element.addEventListener("change", function () { form.submit(); });
  });
  var viewSelect = $("[data-view-select]");
  if (viewSelect) {
    viewSelect.addEventListener("change", function () {
      var params = new URLSearchParams();
      params.set("mode", page.mode);
      if (viewSelect.value) params.set("view", viewSelect.value);
      window.location.search = params.toString();
    });
  }
  var saveView = $("[data-save-view]");
  if (saveView) {
    saveView.addEventListener("click", function () {
      window.LabelHubPages.prompt({ title: "Save as a tab", label: "Name of the new tab", value: "My tab", ok: "Save tab" }).then(function (title) {
        if (!title || !title.trim()) return;
        var filters = window.DMFilters ? window.DMFilters.toQuery(form) : (page.query.filters || {});
        var data = { title: title.trim(), filters: filters, ordering: page.query.ordering || [], hiddenColumns: { explore: hiddenColumns() } };
        request("POST", "/api/dm/views/", { project: page.project, data: data }).then(function (view) {
          window.location.search = "mode=" + page.mode + "&view=" + view.id;
        }).catch(function (error) { showResult("Tab not saved: " + error.message, true); });
      });
    });
  }

  /* ------------------------------------------------------ columns hide/show */
  var storageKey = "labelhub.dm.hidden." + page.project;
  function hiddenColumns() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "[]"); } catch (e) { return []; }
  }
  function applyColumns() {
    var hidden = hiddenColumns();
    $$("[data-toggle-column]").forEach(function (box) { box.checked = hidden.indexOf(box.getAttribute("data-toggle-column")) < 0; });
    $$("[data-dm-table] [data-col]").forEach(function (cell) { cell.hidden = hidden.indexOf(cell.getAttribute("data-col")) >= 0; });
  }
  $$("[data-toggle-column]").forEach(function (box) {
    box.addEventListener("change", function () {
      var key = box.getAttribute("data-toggle-column");
      var hidden = hiddenColumns().filter(function (k) { return k !== key; });
      if (!box.checked) hidden.push(key);
      window.localStorage.setItem(storageKey, JSON.stringify(hidden));
      applyColumns();
    });
  });
  applyColumns();

  /* --------------------------------------------------- selection and actions */
  var bulk = $("[data-bulk]");
  var allFound = false;
  function selectedIds() {
    return $$("[data-select-task]").filter(function (box) { return box.checked; }).map(function (box) { return Number(box.getAttribute("data-select-task")); });
  }
  function updateBulk() {
    if (!bulk) return;
    var ids = selectedIds();
    bulk.hidden = !ids.length && !allFound;
    var count = allFound ? (found && found.getAttribute("data-count") || "all") + " (all found)" : ids.length;
    $("[data-selected-count]", bulk).textContent = count + " selected";
  }
  $$("[data-select-task]").forEach(function (box) { box.addEventListener("change", function () { if (!box.checked) allFound = allFound && false; updateBulk(); }); });
  var selectPage = $("[data-select-page]");
  if (selectPage) {
    selectPage.addEventListener("change", function () {
      $$("[data-select-task]").forEach(function (box) { box.checked = selectPage.checked; });
      if (!selectPage.checked) allFound = false;
      updateBulk();
    });
  }
  var selectAll = $("[data-select-all-found]");
  if (selectAll) {
    selectAll.addEventListener("click", function () {
      allFound = true;
      $$("[data-select-task]").forEach(function (box) { box.checked = true; });
      if (selectPage) selectPage.checked = true;
      updateBulk();
    });
  }

  /* An action's result line: kept across the reload that shows its effect (session
   * storage), with a prediction job's progress followed until it ends. */
  var resultKey = "labelhub.dm.result." + page.project;
  function showResult(text, isError) {
    var line = $("[data-action-result]");
    if (!line) return;
    line.hidden = false;
    $("[data-action-result-text]", line).textContent = text;
    line.classList.toggle("error", Boolean(isError));
  }
  function followPredictionJobs(jobs) {
    var states = {};
    function tick() {
      return Promise.all(jobs.map(function (job) {
        return request("GET", "/api/ml/" + job.backend + "/prediction-jobs/").then(function (list) {
          var found = (list || []).filter(function (j) { return j.id === job.id; })[0];
          if (found) states[job.id] = found;
        }).catch(function () { /* keep the last state */ });
      })).then(function () {
        var open = false;
        var parts = jobs.map(function (job) {
          var state = states[job.id];
          if (!state) return "prediction job " + job.id + " queued";
          var pct = Math.round((state.progress || 0) * 100);
          if (state.status === "completed") return "prediction job " + job.id + " done: " + (state.written || 0) + " predictions written";
          if (state.status === "failed") return "prediction job " + job.id + " failed" + (state.error ? ": " + state.error : "");
          open = true;
          return "prediction job " + job.id + " " + (state.status === "queued" ? "queued" : pct + "% (" + (state.processed || 0) + " of " + (state.total || "?") + " tasks)");
        });
        showResult(parts.join(" · ") + (open ? "" : " · reload to see them"));
        var line = $("[data-action-result]");
        if (line) line.setAttribute("data-jobs-open", open ? "1" : "0");
        if (open) window.setTimeout(tick, 1500);
      });
    }
    tick();
  }
  (function restoreResult() {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(resultKey) || "null"); } catch (e) { saved = null; }
    window.sessionStorage.removeItem(resultKey);
    if (!saved) return;
    showResult(saved.detail);
    if (saved.prediction_jobs && saved.prediction_jobs.length) followPredictionJobs(saved.prediction_jobs);
  })();
  var closeResult = $("[data-action-result-close]");
  if (closeResult) closeResult.addEventListener("click", function () { $("[data-action-result]").hidden = true; });

  function runAction(actionId, selection, confirmText, title) {
    var asked = confirmText
      ? window.LabelHubPages.confirm({ title: title || "Run this action?", text: confirmText, ok: title || "Run", danger: /^delete/.test(actionId) })
      : Promise.resolve(true);
    return asked.then(function (yes) {
      if (!yes) return null;
      var body = { selectedItems: selection, filters: page.query.filters || { conjunction: "and", items: [] }, ordering: page.query.ordering || [] };
      var status = $("[data-action-status]");
      if (status) status.textContent = "Working…";
      return request("POST", "/api/dm/actions/?id=" + encodeURIComponent(actionId) + "&project=" + page.project, body).then(function (result) {
        if (status) status.textContent = result.detail;
        window.sessionStorage.setItem(resultKey, JSON.stringify({ detail: result.detail, prediction_jobs: result.prediction_jobs || [] }));
        window.location.reload();
        return result;
      }).catch(function (error) {
        if (status) { status.textContent = "Failed: " + error.message; status.classList.add("error"); }
        showResult("Failed: " + error.message, true);
      });
    });
  }

  var runButton = $("[data-run-action]");
  if (runButton) {
    runButton.addEventListener("click", function () {
      var select = $("[data-action-select]");
      var chosen = select.options[select.selectedIndex];
      var selection = allFound
        ? { all: true, excluded: $$("[data-select-task]").filter(function (b) { return !b.checked; }).map(function (b) { return Number(b.getAttribute("data-select-task")); }) }
        : { all: false, included: selectedIds() };
      var count = allFound ? (found && found.getAttribute("data-count") || "all found") : String(selection.included.length);
      var text = (chosen.getAttribute("data-confirm") || "") + (chosen.getAttribute("data-confirm") ? " " : "") + "It applies to " + count + " selected task" + (count === "1" ? "" : "s") + ".";
      runAction(select.value, selection, text, chosen.textContent);
    });
  }
  $$("[data-delete-task]").forEach(function (button) {
    button.addEventListener("click", function () {
      var id = Number(button.getAttribute("data-delete-task"));
      runAction("delete_tasks", { all: false, included: [id] }, "Task " + id + " goes with its annotations and predictions.", "Delete task " + id);
    });
  });

  /* ------------------------------------------- rows: click, Ctrl/Cmd+click */
  // The editor page of a task, with this page's filter and order (its Previous and Next
  // follow them).
  function taskUrl(id) {
    return "/projects/" + page.project + "/tasks/" + id + (page.taskQuery ? "?" + page.taskQuery : "");
  }
  // As in the Heartex Data Manager: a click on a row opens it in the quick view, a
  // Ctrl+click (Cmd+click on a Mac) or a middle click opens the task in a new tab.
  $$("[data-dm-table] tbody tr[data-task-id]").forEach(function (row) {
    function open(event) {
      if (event.target.closest("a, button, input, label, select, textarea")) return; // their own job
      var id = row.getAttribute("data-task-id");
      if (event.ctrlKey || event.metaKey || event.button === 1) {
        event.preventDefault();
        window.open(taskUrl(id), "_blank", "noopener");
        return;
      }
      if (event.button !== 0 || event.shiftKey || event.altKey) return;
      var params = new URLSearchParams(page.quickUrl.slice(1));
      params.set("task", id);
      window.location.search = params.toString();
    }
    row.addEventListener("click", open);
    row.addEventListener("auxclick", function (event) { if (event.button === 1) open(event); });
    row.classList.add("clickable");
    row.title = "Click: quick view · Ctrl+click (⌘+click): open in a new tab";
  });

  /* ------------------------------------------------------------ quick view */
  var list = $("[data-quick-list]");
  var editorRoot = $("[data-quick-editor]");
  var handle = null;
  var current = null;
  function showTask(id) {
    if (!editorRoot || !window.LabelHubEditor) return;
    current = id;
    $$("[data-quick-list] li").forEach(function (li) { li.classList.toggle("active", li.getAttribute("data-task-id") === String(id)); });
    var title = $("[data-preview-title]");
    title.textContent = "Task #" + id + " — loading…";
    request("GET", "/api/tasks/" + id + "/").then(function (task) {
      if (current !== id) return;
      if (handle) { handle.destroy(); handle = null; }
      editorRoot.innerHTML = "";
      var mountPoint = document.createElement("div");
      editorRoot.appendChild(mountPoint);
      title.innerHTML = "";
      var link = document.createElement("a");
      link.href = taskUrl(id);
      link.textContent = "Task #" + id;
      title.appendChild(link);
      title.appendChild(document.createTextNode(" · " + task.annotations.length + " annotations · " + task.predictions.length + " predictions"));
      handle = window.LabelHubEditor.mount(mountPoint, {
        config: page.config, task: task, user: page.user, interfaces: "task", readOnly: true,
        onLoad: function () { editorRoot.setAttribute("data-loaded-task", String(id)); },
      });
    }).catch(function (error) { title.textContent = "Task #" + id + ": " + error.message; });
  }
  if (list) {
    $$("[data-quick-task]", list).forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // new tab/window
        event.preventDefault();
        showTask(Number(link.getAttribute("data-quick-task")));
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      if (event.target.closest && event.target.closest("input, select, textarea, [contenteditable]")) return;
      var items = $$("[data-quick-task]", list).map(function (a) { return Number(a.getAttribute("data-quick-task")); });
      if (!items.length) return;
      var index = items.indexOf(current);
      index = event.key === "ArrowDown" ? Math.min(items.length - 1, index + 1) : Math.max(0, index - 1);
      event.preventDefault();
      showTask(items[index]);
      var item = $("[data-quick-list] li[data-task-id='" + items[index] + "']");
      if (item && item.scrollIntoView) item.scrollIntoView({ block: "nearest" });
    });
    var first = $("[data-quick-task]", list);
    if (first) {
      var wanted = new URLSearchParams(window.location.search).get("task");
      var start = function () { showTask(wanted ? Number(wanted) : Number(first.getAttribute("data-quick-task"))); };
      if (window.LabelHubEditor) start(); else window.addEventListener("load", start);
    }
  }

  /* --------------------------------------------------------------- dialogs */
  $$("[data-open-dialog]").forEach(function (button) {
    button.addEventListener("click", function () {
      var menu = button.closest("details");
      if (menu) menu.open = false; // the menu it was picked from closes
      var d = document.getElementById(button.getAttribute("data-open-dialog"));
      if (d) d.showModal();
    });
  });
  $$("[data-close-dialog]").forEach(function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });

  // Menus (<details>) close on a click anywhere else.
  document.addEventListener("click", function (event) {
    $$("details.add-data-menu[open], details.columns-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  // "Add more data": the import form (importer.js), and a sample task in one click.
  function reloadSoon() { window.setTimeout(function () { window.location.reload(); }, 800); }
  if (window.LabelHubImport) {
    window.LabelHubImport.init($("[data-import-form]"), { project: page.project, onImported: reloadSoon });
    $$("[data-menu-sample-task]").forEach(function (button) {
      button.addEventListener("click", function () {
        var menuStatus = $("[data-add-data-status]");
        menuStatus.classList.remove("error");
        menuStatus.textContent = "Adding a sample task…";
        window.LabelHubImport.addSampleTask(page.project).then(function (result) {
          menuStatus.textContent = "Added a sample task (#" + ((result.task_ids || [])[0] || "") + ").";
          reloadSoon();
        }).catch(function (error) { menuStatus.textContent = window.LabelHubImport.failure(error); menuStatus.classList.add("error"); });
      });
    });
  }
  /* ----------------------------------------------------------- export dialog */
  // Its own scope: the names below must not shadow the quick view's (`list`...).
  (function (exportForm) {
    if (!exportForm) return;
    // The export follows the Data Manager: the current filters go along as `query`.
    var exportQuery = page.query && page.query.filters && (page.query.filters.items || []).length
      ? { filters: page.query.filters } : null;
    $("[data-export-query]", exportForm).value = exportQuery ? JSON.stringify(exportQuery) : "";
    var scope = $("[data-export-scope]", exportForm);
    function describeScope() {
      if (!exportQuery) return;
      var n = exportQuery.filters.items.length;
      var count = found && found.getAttribute("data-count");
      scope.textContent = "The tasks the current filter" + (n > 1 ? "s" : "") + " find" + (n > 1 ? "" : "s") + (count ? " (" + Number(count).toLocaleString() + ")" : "") + ", not the whole project.";
      scope.setAttribute("data-filtered", "true");
    }
    describeScope();
    var exportsUrl = "/api/projects/" + page.project + "/exports/";
    var list = $("[data-snapshot-list]", exportForm);
    var snapStatus = $("[data-snapshot-status]", exportForm);
    var polling = null;

    function field(name) { return exportForm.elements[name]; }
    function checked(name) {
      var boxes = $$("input[type=checkbox][name=" + name + "]", exportForm);
      return boxes.length ? boxes[0].checked : false;
    }
    function snapshotBody() {
      var only = $("input[name=only]:checked", exportForm).value;
      var annotations = {};
      if (only === "ground_truth") { annotations.usual = false; annotations.ground_truth = true; }
      if (only === "accepted") annotations.reviewed = "only";
      if (checked("exclude_cancelled")) annotations.skipped = false;
      var body = {
        title: (exportQuery ? "Filtered" : "All tasks") + " · " + new Date().toLocaleString(),
        task_filter_options: { only_with_annotations: !checked("download_all_tasks") },
        annotation_filter_options: annotations,
        serialization_options: {
          predictions: { only_id: !checked("include_predictions") },
          annotations__completed_by: { only_id: field("annotator").value === "id" },
          full_descriptions: checked("full_descriptions")
        }
      };
      if (exportQuery) body.query = exportQuery;
      return body;
    }
    function link(href, text) { var a = document.createElement("a"); a.href = href; a.textContent = text; return a; }
    function render(rows) {
      list.textContent = "";
      if (!rows.length) { var none = document.createElement("li"); none.className = "muted"; none.textContent = "None yet."; list.appendChild(none); }
      var busy = false;
      var wanted = field("exportType").value;
      rows.forEach(function (snap) {
        var li = document.createElement("li");
        li.setAttribute("data-snapshot", snap.id);
        li.setAttribute("data-status", snap.status);
        var title = document.createElement("span"); title.className = "title";
        title.textContent = "#" + snap.id + " " + (snap.title || "") + (snap.counters && snap.counters.task_number !== undefined ? " — " + snap.counters.task_number.toLocaleString() + " tasks" : "");
        li.appendChild(title);
        if (snap.status === "created" || snap.status === "in_progress") {
          busy = true;
          var bar = document.createElement("progress");
          bar.max = Math.max(snap.progress.total, 1); bar.value = snap.progress.processed;
          bar.title = snap.progress.processed + " / " + snap.progress.total + " tasks";
          li.appendChild(bar);
        } else if (snap.status === "failed") {
          var failed = document.createElement("span"); failed.className = "failed"; failed.textContent = "failed" + (snap.detail ? ": " + snap.detail : "");
          li.appendChild(failed);
        } else {
          var base = exportsUrl + snap.id + "/download?exportType=";
          li.appendChild(link(base + "JSON", "JSON"));
          var done = {};
          snap.converted_formats.forEach(function (c) {
            if (c.status === "completed") li.appendChild(link(base + c.export_type, c.export_type));
            else if (c.status === "failed") { var f = document.createElement("span"); f.className = "failed"; f.textContent = c.export_type + " failed"; f.title = "The conversion failed: Convert tries again."; li.appendChild(f); }
            else { busy = true; var s = document.createElement("span"); s.textContent = c.export_type + "…"; li.appendChild(s); }
            if (c.status !== "failed") done[c.export_type] = true;
          });
          li.appendChild(convertControl(snap, done, wanted));
        }
        li.appendChild(deleteButton(snap));
        list.appendChild(li);
      });
      convertOutcome(rows);
      if (busy && !polling) polling = window.setTimeout(function () { polling = null; refresh(); }, 1000);
    }
    // The formats the export API offers for this project (the Format list's enabled
    // entries), less JSON (a snapshot is JSON) and those converted or on their way.
    function convertControl(snap, done, wanted) {
      var formats = $$("option", field("exportType")).filter(function (o) {
        return !o.disabled && o.value !== "JSON" && !done[o.value];
      });
      var box = document.createElement("span");
      box.className = "snapshot-convert";
      if (!formats.length) return box;
      var select = document.createElement("select");
      select.setAttribute("aria-label", "Convert snapshot #" + snap.id + " to");
      select.setAttribute("data-convert-format", snap.id);
      formats.forEach(function (o) {
        var option = document.createElement("option");
        option.value = o.value; option.textContent = o.value; option.title = o.textContent;
        if (o.value === wanted) option.selected = true;
        select.appendChild(option);
      });
      var button = document.createElement("button");
      button.type = "button"; button.textContent = "Convert";
      button.setAttribute("data-convert", snap.id);
      button.addEventListener("click", function () {
        var format = select.value;
        button.disabled = true;
        snapStatus.classList.remove("error");
        snapStatus.textContent = "Converting snapshot #" + snap.id + " to " + format + "…";
        converting = { id: snap.id, format: format };
        request("POST", exportsUrl + snap.id + "/convert", { export_type: format, download_resources: checked("download_resources") })
          .then(refresh).catch(showError);
      });
      box.appendChild(select);
      box.appendChild(button);
      return box;
    }
    // Delete, after an in-page confirm: the snapshot's file and its conversions go.
    function deleteButton(snap) {
      var button = document.createElement("button");
      button.type = "button"; button.className = "icon-button danger"; button.textContent = "Delete";
      button.setAttribute("data-delete-snapshot", snap.id);
      button.addEventListener("click", function () {
        var converted = snap.converted_formats.length;
        window.LabelHubPages.confirm({
          title: "Delete snapshot #" + snap.id + "?",
          text: "\u201c" + (snap.title || "Snapshot") + "\u201d and its file" + (converted ? " with " + converted + " converted format" + (converted > 1 ? "s" : "") : "") + " are removed. The tasks stay. This cannot be undone.",
          ok: "Delete snapshot", danger: true,
        }).then(function (yes) {
          if (!yes) return null;
          return request("DELETE", exportsUrl + snap.id + "/").then(refresh).then(function () {
            snapStatus.classList.remove("error");
            snapStatus.textContent = "Snapshot #" + snap.id + " deleted.";
          });
        }).catch(showError);
      });
      return button;
    }
    // The line under Snapshots follows the conversion asked for last until it is done.
    var converting = null;
    function convertOutcome(rows) {
      if (!converting) return;
      var snap = rows.filter(function (r) { return r.id === converting.id; })[0];
      var c = snap && snap.converted_formats.filter(function (f) { return f.export_type === converting.format; })[0];
      if (!c || c.status === "completed" || c.status === "failed") {
        snapStatus.classList.toggle("error", Boolean(c && c.status === "failed"));
        snapStatus.textContent = !c ? "" : "Snapshot #" + converting.id + ": " + converting.format +
          (c.status === "completed" ? " is ready to download." : " failed; Convert tries again.");
        converting = null;
      }
    }
    function showError(e) { snapStatus.textContent = e.message; snapStatus.classList.add("error"); }
    function refresh() { return request("GET", exportsUrl).then(render).catch(function (e) { snapStatus.textContent = e.message; }); }
    $("[data-export-snapshot]", exportForm).addEventListener("click", function () {
      snapStatus.classList.remove("error");
      snapStatus.textContent = "Creating a snapshot…";
      request("POST", exportsUrl, snapshotBody()).then(function (snap) {
        snapStatus.textContent = "Snapshot #" + snap.id + " " + snap.status.replace("_", " ") + ".";
        return refresh();
      }).catch(function (e) { snapStatus.textContent = e.message; snapStatus.classList.add("error"); });
    });
    field("exportType").addEventListener("change", refresh);
    var exportDialog = document.getElementById("export-dialog");
    $$("[data-open-dialog=export-dialog]").forEach(function (b) { b.addEventListener("click", function () { describeScope(); refresh(); }); });
    if (exportDialog && exportDialog.open) refresh();
  })($("[data-export-form]"));
})();
