/* The Label Stream page: one page for the whole stream.
 *
 * The first task comes in #editor-data. After a submit or skip the page asks
 * GET {next_url} for the next task (the server locks it for the user) and shows it in the
 * mounted editor (LabelHubEditor handle.load: no page load, no new LabelStudio), or says
 * that none is left.
 *
 * Kept from the page-per-task stream: Benchmark QA feedback after a benchmark task, the
 * rework flow (a rejected annotation reopened with the reviewers' comments, saved onto
 * the same annotation), the keyboard shortcuts, pre-annotation from predictions.
 *
 * Annotator history: Back and "My annotations" (GET {history_url}, newest first) reopen
 * one of the user's own annotations; Update saves it (PATCH), Delete removes it, "Next
 * task" goes back to the stream (the task the server locked for them is still theirs).
 * A refused save (HTTP 400) is shown in the bar and the annotation stays in the editor.
 */
(function () {
  "use strict";
  var api = LabelHubEditor.api;
  var data = LabelHubEditor.readJSON("editor-data");
  var status = document.getElementById("editor-status");
  var editorRoot = document.getElementById("editor");
  var noTasks = document.querySelector(".no-tasks");
  var notes = document.getElementById("stream-notes");
  var taskIdBox = document.querySelector(".task-id");
  var taskIdEl = document.querySelector("[data-task-id]");
  var backButton = document.getElementById("stream-back");
  var historyButton = document.getElementById("stream-history");
  var resumeButton = document.getElementById("stream-resume");
  var deleteButton = document.getElementById("stream-delete");
  var panel = document.getElementById("history-panel");
  var list = document.getElementById("history-list");
  var moreButton = document.getElementById("history-more");

  var DRAFT_BACK = "Your unsaved work on this task is back (a draft).";
  var handle = null;
  var mountedInterfaces = null;
  var saving = false;
  // What the editor shows: a stream task (mode "stream", maybe rework) or one of the
  // user's annotations reopened from the history (mode "history").
  var current = { mode: "none", task: null, annotation: null, rework: null };
  var history = { items: [], next: null, loaded: false };

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function errorText(error) {
    var body = error.body || {};
    var details = (body.errors || []).map(function (item) {
      var where = item.field || item.result_id || item.record;
      var text = item.message || item.detail || "";
      return where !== undefined && where !== null ? where + ": " + text : text;
    }).filter(Boolean);
    var text = error.message || "the server refused it";
    if (details.length) text += " (" + details.join("; ") + ")";
    return text;
  }

  function pct(value) { return Math.round(value * 1000) / 10 + "%"; }

  function note(className, lead, text) {
    var element = document.createElement("div");
    element.className = "stream-note " + className;
    element.setAttribute("role", "note");
    var strong = document.createElement("strong");
    strong.textContent = lead;
    element.appendChild(strong);
    element.appendChild(document.createTextNode(text));
    notes.appendChild(element);
    return element;
  }

  function showNotes(task) {
    notes.textContent = "";
    if (current.mode === "history") {
      var item = findItem(current.annotation) || {};
      note("history-note", "Your annotation #" + current.annotation + ": ",
        (item.was_cancelled ? "skipped. " : "") +
        "Update saves your changes; Next task goes back to the stream.");
    } else if (current.rework) {
      note("rework-note", "Returned for rework: ",
        current.rework.reviews.map(function (r) { return r.comment || "(no comment)"; }).join(" · "));
    }
    // The 1.23 editor keeps its side panel between tasks: take the last card out of it.
    if (predictionCard && predictionCard.parentNode) predictionCard.parentNode.removeChild(predictionCard);
    predictionCard = null;
    var predictions = task.predictions || [];
    if (current.mode === "stream" && !current.rework && data.preannotate && predictions.length) {
      var first = predictions[0];
      var score = typeof first.score === "number" ? " · score " + Math.round(first.score * 100) / 100 : "";
      predictionCard = note("prediction-note", "Pre-filled from a prediction: ",
        "model " + (first.model_version || "(no version)") + score +
        (predictions.length > 1 ? " · " + predictions.length + " predictions" : "") +
        ". Check it before you submit.");
    }
    placePredictionCard();
  }

  // The prediction's model version and score sit at the top of the editor's side panel
  // (LSF's sidebar), where its regions are listed; until LSF has drawn that panel, and
  // whenever it redraws it, the card is put back there.
  var predictionCard = null;
  function placePredictionCard() {
    if (!predictionCard) return;
    var panel = editorRoot.querySelector(LabelHubEditor.SIDE_PANEL);
    if (panel && predictionCard.parentNode !== panel) {
      predictionCard.classList.add("in-side-panel");
      panel.insertBefore(predictionCard, panel.firstChild);
    }
  }
  new MutationObserver(placePredictionCard).observe(editorRoot, { childList: true, subtree: true });

  function setTaskId(id) {
    taskIdEl.textContent = id ? "#" + id : "";
    taskIdEl.dataset.taskId = id ? String(id) : "";
    taskIdBox.hidden = !id;
  }

  function interfacesFor(mode, rework) {
    // Rejected work is fixed, not skipped (a skip would leave it rejected); a reopened
    // annotation is updated or left as it is.
    if (mode === "history" || rework) {
      return data.interfaces.filter(function (i) { return i !== "skip"; });
    }
    return data.interfaces;
  }

  function show(task, mode, annotationId) {
    current = { mode: mode, task: task, annotation: annotationId || null, rework: null };
    var options;
    if (mode === "history") {
      var own = (task.annotations || []).filter(function (a) { return a.id === annotationId; });
      options = { annotations: own, predictions: [], preannotate: false, newAnnotation: false };
    } else {
      current.rework = task.rework || null;
      options = { annotations: task.annotations || [], predictions: task.predictions || [],
        preannotate: data.preannotate, newAnnotation: false };
    }
    var interfaces = interfacesFor(mode, current.rework);
    noTasks.hidden = true;
    editorRoot.hidden = false;
    showNotes(task);
    if (handle && handle.ls && mountedInterfaces === interfaces.join()) {
      handle.load(task, options);
      if (handle.restoredDraft) say(DRAFT_BACK);
    } else {
      if (handle) handle.destroy();
      handle = mount(task, interfaces, options);
    }
    resumeButton.hidden = mode !== "history";
    deleteButton.hidden = mode !== "history";
    setTaskId(task.id);
    markCurrent();
  }

  function mount(task, interfaces, options) {
    mountedInterfaces = interfaces.join();
    document.body.classList.remove("editor-ready");
    try {
      return LabelHubEditor.mount(editorRoot, {
        config: data.config,
        task: task,
        user: data.user,
        interfaces: interfaces,
        annotations: options.annotations,
        predictions: options.predictions,
        preannotate: options.preannotate,
        instruction: data.instruction,
        onSubmit: save,
        onUpdate: save,
        onSkip: save,
        drafts: true,
        onSaved: function (kind) {
          if (kind === "draft" && !saving) say("Draft saved " + new Date().toLocaleTimeString() + ".");
        },
        onLoad: function (mounted) {
          document.body.classList.add("editor-ready");
          if (mounted.restoredDraft) say(DRAFT_BACK);
        },
      });
    } catch (error) {
      say("The editor did not start: " + error.message, true);
      return null;
    }
  }

  function nothingLeft() {
    if (handle) handle.destroy();
    handle = null;
    mountedInterfaces = null;
    current = { mode: "none", task: null, annotation: null, rework: null };
    notes.textContent = "";
    editorRoot.hidden = true;
    noTasks.hidden = false;
    resumeButton.hidden = true;
    deleteButton.hidden = true;
    setTaskId(null);
    markCurrent();
  }

  function showNext(task) {
    if (task) show(task, "stream");
    else { nothingLeft(); say(""); }
  }

  function next() {
    return api.get(data.next_url).then(function (task) {
      show(task, "stream");
    }, function (error) {
      if (error.status === 404) {
        nothingLeft();
        say("");
      } else {
        say("Could not get the next task: " + errorText(error), true);
      }
    });
  }

  function save(body) {
    if (saving) return Promise.resolve();
    saving = true;
    var mode = current.mode;
    var task = current.task;
    var target = mode === "history" ? current.annotation
      : current.rework && !body.was_cancelled ? current.rework.annotation : null;
    say(body.was_cancelled ? "Skipping…" : "Saving…");
    // The plain stream asks for the next task in the same request (?next=1: one round
    // trip instead of two); "label as displayed" asks its own next_url afterwards.
    var inline = !target && data.next_inline;
    var request = target
      ? api.patch("/api/annotations/" + target + "/", { result: body.result, lead_time: body.lead_time })
      : api.post("/api/tasks/" + task.id + "/annotations/" + (inline ? "?next=1" : ""), body);
    return request
      .then(function (saved) {
        if (!target) history.loaded = false; // a new row heads the list
        else refreshItem(saved);
        var then = inline ? function () { showNext(saved.next_task); } : next;
        if (saved && typeof saved.benchmark_score === "number") {
          // Benchmark QA feedback: the score against the gold answer, then the next task.
          say("Benchmark task: your score " + pct(saved.benchmark_score) + ". Next task…");
          return new Promise(function (resolve) { window.setTimeout(resolve, 2500); }).then(then);
        }
        say(mode === "history" ? "Updated. Next task…" : body.was_cancelled ? "Skipped. Next task…" : "Saved. Next task…");
        return then();
      }, function (error) {
        // The annotation stays in the editor: fix it and submit again.
        say("Not saved: " + errorText(error), true);
        if (!target && !body.was_cancelled && handle && current.task === task) {
          try {
            handle.load(task, { annotations: task.annotations || [], predictions: task.predictions || [],
              preannotate: false, newAnnotation: true, result: body.result });
          } catch (problem) {
            window.console.error(problem);
            say("Not saved: " + errorText(error) + " [" + problem + "]", true);
          }
        }
      })
      .then(function () { saving = false; });
  }

  // ------------------------------------------------------------------ history

  function findItem(id) {
    for (var i = 0; i < history.items.length; i++) if (history.items[i].id === id) return history.items[i];
    return null;
  }

  function refreshItem(saved) {
    var item = saved && findItem(saved.id);
    if (!item) return;
    item.updated_at = saved.updated_at;
    item.was_cancelled = saved.was_cancelled;
    item.result_count = (saved.result || []).length;
    renderList();
  }

  function loadHistory(more) {
    var url = data.history_url + (more && history.next ? "?before=" + history.next : "");
    return api.get(url).then(function (page) {
      history.items = more ? history.items.concat(page.results) : page.results;
      history.next = page.next;
      history.loaded = true;
      renderList();
      return history.items;
    });
  }

  function ensureHistory() {
    return history.loaded ? Promise.resolve(history.items) : loadHistory(false);
  }

  function when(value) {
    var date = new Date(value);
    return isNaN(date) ? "" : date.toLocaleString();
  }

  function renderList() {
    list.textContent = "";
    if (!history.items.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = "No annotations yet.";
      list.appendChild(empty);
    }
    history.items.forEach(function (item) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "history-item";
      button.dataset.annotationId = String(item.id);
      var title = document.createElement("span");
      title.className = "history-title";
      title.textContent = "Task #" + item.task + (item.was_cancelled ? " · skipped"
        : " · " + item.result_count + (item.result_count === 1 ? " result" : " results"));
      var preview = document.createElement("span");
      preview.className = "history-preview";
      preview.textContent = item.preview || "";
      var time = document.createElement("span");
      time.className = "history-time muted";
      time.textContent = when(item.updated_at);
      button.appendChild(title);
      button.appendChild(preview);
      button.appendChild(time);
      button.addEventListener("click", function () { open(item.id); });
      li.appendChild(button);
      list.appendChild(li);
    });
    moreButton.hidden = !history.next;
    markCurrent();
  }

  function markCurrent() {
    var buttons = list.querySelectorAll(".history-item");
    for (var i = 0; i < buttons.length; i++) {
      var on = current.mode === "history" && buttons[i].dataset.annotationId === String(current.annotation);
      buttons[i].classList.toggle("current", on);
      if (on) buttons[i].setAttribute("aria-current", "true");
      else buttons[i].removeAttribute("aria-current");
    }
  }

  function open(annotationId) {
    if (saving) return Promise.resolve();
    var item = findItem(annotationId);
    say("Opening your annotation…");
    return api.get("/api/tasks/" + item.task + "/").then(function (task) {
      show(task, "history", annotationId);
      say("");
    }, function (error) {
      say("Could not open it: " + errorText(error), true);
    });
  }

  function back() {
    ensureHistory().then(function (items) {
      var index = 0;
      if (current.mode === "history") {
        for (index = 0; index < items.length && items[index].id !== current.annotation; index++);
        index += 1;
      }
      if (index < items.length) return open(items[index].id);
      if (history.next) return loadHistory(true).then(back);
      say("No older annotations.");
    }, function (error) { say("Could not read your annotations: " + errorText(error), true); });
  }

  function togglePanel(open) {
    panel.hidden = !open;
    historyButton.setAttribute("aria-expanded", String(open));
    if (open) {
      loadHistory(false).catch(function (error) {
        say("Could not read your annotations: " + errorText(error), true);
      });
    }
  }

  backButton.addEventListener("click", back);
  historyButton.addEventListener("click", function () { togglePanel(panel.hidden); });
  document.getElementById("history-close").addEventListener("click", function () { togglePanel(false); });
  moreButton.addEventListener("click", function () { loadHistory(true); });
  resumeButton.addEventListener("click", function () {
    if (saving) return;
    say("");
    next();
  });
  deleteButton.addEventListener("click", function () {
    var id = current.annotation;
    if (!id || saving || !window.confirm("Delete your annotation #" + id + "? This cannot be undone.")) return;
    saving = true;
    api.del("/api/annotations/" + id + "/").then(function () {
      history.items = history.items.filter(function (item) { return item.id !== id; });
      renderList();
      say("Deleted. Next task…");
      return next();
    }, function (error) {
      say("Not deleted: " + errorText(error), true);
    }).then(function () { saving = false; });
  });

  if (data.task) show(data.task, "stream");
  else nothingLeft();
  LabelHubEditor.shortcuts(function () { return current.mode === "none" ? null : handle; }, data.shortcuts);
})();
