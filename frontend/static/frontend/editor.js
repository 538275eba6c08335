/* LabelHubEditor: the labeling editor (window.LabelStudio) embedded in LabelHub pages:
 * Label Studio 1.23.2's (editor-ls/, booted by editor-ls-boot.js) or, with
 * LABELHUB_EDITOR=1.4, the Label Studio Frontend 1.4.0 (editor/main.js). Load after the
 * editor's scripts (see _editor_assets.html). Both take the same options and callbacks;
 * the few differences are kept here (VERSION).
 *
 *   const handle = LabelHubEditor.mount(element, {
 *     config,              // the labeling config XML
 *     task,                // {id, data, annotations?, predictions?} as the REST API gives it
 *     annotations,         // optional: overrides task.annotations
 *     predictions,         // optional: overrides task.predictions
 *     user,                // {id, email, first_name, last_name}
 *     interfaces,          // optional: a list, or a preset name: "stream" | "task" | "review" | "preview"
 *     readOnly,            // optional: no submit/update/skip buttons, regions locked
 *     preannotate,         // optional: start a new annotation as a copy of predictions[0]
 *     newAnnotation,       // optional: add an empty annotation even when some exist
 *     instruction,         // optional: the project's instructions (LSF's instruction panel)
 *     onSubmit(body, ctx), // optional: body = {result, lead_time, parent_prediction}
 *     onUpdate(body, ctx), // optional: body = {result, lead_time}, ctx.annotationId
 *     onSkip(body, ctx),   // optional: body = {result: [], was_cancelled: true, lead_time}
 *     onSaved(kind, saved, ctx), // after a default REST call: kind "submit" | "update" | "skip" | "draft"
 *     drafts,              // optional: save drafts as the user labels (LSF's autosave, every
 *                          // 5 s after a change, and when the page is hidden or closed) to
 *                          // POST /api/tasks/{id}/drafts/ (a new annotation) or
 *                          // .../annotations/{id}/drafts/ (an existing one), and put the
 *                          // task's own drafts (task.drafts, Label Studio's field) back
 *                          // into the editor on load
 *     onLoad(handle), onError(error),
 *   });
 *   handle.submit(); handle.skip(); handle.leadTime(); handle.destroy(); handle.ls
 *   handle.saveDraft(keepalive) // save the draft now when it changed (drafts on)
 *   handle.load(task, {annotations, predictions, preannotate, newAnnotation, result})
 *                        // another task in the mounted editor (result: put an unsaved one back)
 *
 * Without onSubmit/onUpdate/onSkip the editor calls the REST API itself (POST
 * /api/tasks/{id}/annotations/, PATCH /api/annotations/{id}/), with the CSRF token.
 * A handler may return a promise; the editor waits for it.
 *
 * Also: LabelHubEditor.api.{get,post,patch,del}(url, body) -> Promise<json>,
 * LabelHubEditor.readJSON(id) (json_script data), LabelHubEditor.INTERFACES,
 * LabelHubEditor.shortcuts(handle, {submit: "alt+s", skip: "alt+k"}).
 */
(function () {
  "use strict";

  // "1.23" or "1.4": the data-editor attribute of this script's tag (_editor_assets.html).
  var script = document.currentScript;
  var VERSION = (script && script.getAttribute("data-editor")) || "1.23";

  // 1.23's submit arms a 100 ms interval (AppStore.waitForDraftSubmission) that reads
  // annotationStore.selected.isDraftSaving and clears itself on its first tick; when the
  // next task is loaded (or the editor unmounted) before that tick, there is no selected
  // annotation and the interval throws on every tick, forever. Its promise had already
  // resolved (no draft was saving), so the interval has nothing left to do: such an
  // interval is cleared instead of throwing. Every other error passes through.
  if (VERSION !== "1.4" && !window.__labelhubIntervalGuard) {
    window.__labelhubIntervalGuard = true;
    var nativeSetInterval = window.setInterval;
    window.setInterval = function (callback, delay) {
      if (typeof callback !== "function") return nativeSetInterval.apply(window, arguments);
      var extra = Array.prototype.slice.call(arguments, 2);
      var id = nativeSetInterval(function () {
        try {
          return callback.apply(this, extra);
        } catch (error) {
          if (error instanceof TypeError && /isDraftSaving/.test(error.message)) {
            window.clearInterval(id);
            return undefined;
          }
          throw error;
        }
      }, delay);
      return id;
    };
  }
  // Where the editor lists regions (the Label Stream puts the prediction card there).
  var SIDE_PANEL = VERSION === "1.4" ? ".lsf-sidebar-tabs__content"
    : ".lsf-tabs__contents:has(> .lsf-outliner)";

  var COMMON = ["panel", "controls", "topbar", "infobar", "instruction", "side-column",
    "annotations:current", "edit-history"];
  var INTERFACES = {
    // The Label Stream: one new annotation, no completion panel (Heartex docs).
    stream: COMMON.concat(["submit", "skip", "update"]),
    // One task opened from the task list: every annotation and prediction, tabs.
    task: COMMON.concat(["submit", "update", "annotations:menu", "annotations:add-new",
      "annotations:delete", "annotations:tabs", "annotations:history", "predictions:tabs",
      "predictions:menu", "annotations:view-all"]),
    // Reading another's work (Verify Stream, reviewers): nothing to submit.
    review: ["panel", "topbar", "infobar", "instruction", "side-column",
      "annotations:current", "annotations:tabs", "annotations:menu", "predictions:tabs"],
    // The config preview: controls to try, nothing to send.
    preview: ["panel", "topbar", "annotations:current"],
  };
  var READ_ONLY_DROPS = ["submit", "update", "skip", "controls", "annotations:add-new",
    "annotations:delete"];

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function csrfToken() {
    // The page's own token: the csrftoken cookie is HttpOnly (see settings).
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function request(method, url, body, keepalive) {
    var options = {
      method: method,
      credentials: "same-origin",
      // keepalive: the request outlives the page (a draft saved as the tab closes)
      keepalive: Boolean(keepalive),
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error(json.detail || ("HTTP " + response.status));
          error.status = response.status;
          error.body = json;
          throw error;
        }
        return json;
      });
    });
  }

  var api = {
    get: function (url) { return request("GET", url); },
    post: function (url, body, keepalive) { return request("POST", url, body || {}, keepalive); },
    patch: function (url, body) { return request("PATCH", url, body || {}); },
    del: function (url) { return request("DELETE", url); },
  };

  function lsUser(user) {
    user = user || {};
    return {
      pk: user.id, id: user.id, email: user.email || "",
      firstName: user.first_name || "", lastName: user.last_name || "",
    };
  }

  function lsAnnotation(item) {
    return {
      id: item.id, pk: item.id, result: item.result || [],
      was_cancelled: item.was_cancelled, ground_truth: item.ground_truth,
      lead_time: item.lead_time, created_at: item.created_at, updated_at: item.updated_at,
      // LSF 1.4 names an annotation's author by createdBy (its users store is empty
      // here): Label Studio's created_username, the annotator's name or email.
      completed_by: item.completed_by,
      createdBy: item.created_username || String(item.completed_by || ""),
    };
  }

  function lsPrediction(item) {
    return {
      id: item.id, pk: item.id, result: item.result || [], score: item.score,
      model_version: item.model_version, createdBy: item.model_version || "prediction",
    };
  }

  function interfacesFor(options) {
    var list = options.interfaces || "stream";
    list = (typeof list === "string" ? INTERFACES[list] : list).slice();
    // LSF 1.4 puts Submit in the top bar (1.23 in its bottom bar, shown by "controls")
    if (VERSION === "1.4" && list.indexOf("topbar") < 0) list.push("topbar");
    if (options.readOnly) {
      list = list.filter(function (name) { return READ_ONLY_DROPS.indexOf(name) < 0; });
    }
    return list;
  }

  function mount(element, options) {
    if (typeof window.LabelStudio !== "function") {
      throw new Error("The labeling editor (" + (VERSION === "1.4" ? "editor/main.js"
        : "editor-ls/, scripts/fetch_editor_ls.sh") + ") is not loaded.");
    }
    var task = options.task || { id: null, data: {} };
    var annotations = (options.annotations || task.annotations || []).map(lsAnnotation);
    var predictions = (options.predictions || task.predictions || []).map(lsPrediction);
    var preannotate = options.preannotate;
    var newAnnotation = options.newAnnotation;
    var drafts = options.task && options.task.drafts || [];
    var draftSent = null; // the last draft result sent (JSON), so an unchanged one is not re-sent
    var loadedAt = Date.now();
    var parentPrediction = null;
    var handle = { ls: null, element: element };
    var onError = options.onError || function (error) { window.console.error(error); };

    function prepare(store) {
      parentPrediction = null;
      if (!options.readOnly && (!store.annotations.length || newAnnotation)) {
        var created;
        if (preannotate && store.predictions.length) {
          created = store.addAnnotationFromPrediction(store.predictions[0]);
          parentPrediction = predictions[0].id;
        } else {
          created = store.addAnnotation({ userGenerate: true });
        }
        store.selectAnnotation(created.id);
      } else if (store.annotations.length) {
        store.selectAnnotation(store.annotations[0].id);
      } else if (store.predictions.length) {
        store.selectPrediction(store.predictions[0].id);
      }
      if (options.drafts) restoreDraft(store);
    }

    /* Put the user's draft of the selected annotation back (a new annotation takes the
     * task's draft, an existing one its own), as Label Studio's app does. */
    function restoreDraft(store) {
      draftSent = null;
      handle.restoredDraft = null;
      var selected = store.selected;
      if (!selected || selected.type !== "annotation") return;
      var key = selected.pk ? Number(selected.pk) : null;
      var draft = drafts.filter(function (item) { return (item.annotation || null) === key; })[0];
      if (!draft || !Array.isArray(draft.result) || !draft.result.length) {
        // What the editor opened with is no draft: only the user's changes are.
        draftSent = serializedText(selected);
        return;
      }
      if (selected.history && selected.history.freeze) selected.history.freeze();
      if (selected.results && selected.results.length) selected.deleteAllRegions({ deleteReadOnly: true });
      selected.deserializeResults(draft.result);
      if (selected.updateObjects) selected.updateObjects();
      if (selected.history && selected.history.unfreeze) selected.history.unfreeze();
      if (selected.setDraftId) selected.setDraftId(draft.id);
      if (typeof draft.lead_time === "number") loadedAt = Date.now() - draft.lead_time * 1000;
      draftSent = serializedText(selected);
      handle.restoredDraft = draft.id;
    }

    function draftUrl(annotation) {
      return annotation.pk ? "/api/tasks/" + task.id + "/annotations/" + annotation.pk + "/drafts/"
        : "/api/tasks/" + task.id + "/drafts/";
    }

    function sendDraft(annotation, keepalive) {
      if (!annotation || annotation.type !== "annotation" || !task.id) return Promise.resolve(null);
      var result = serialize(annotation);
      var text = JSON.stringify(result);
      if (text === draftSent) {
        return Promise.resolve(null);
      }
      draftSent = text;
      var body = { result: result, lead_time: leadTime() };
      var ctx = { annotation: annotation, handle: handle };
      return api.post(draftUrl(annotation), body, keepalive).then(function (saved) {
        if (annotation.setDraftId && saved) annotation.setDraftId(saved.id);
        if (options.onSaved) options.onSaved("draft", saved, ctx);
        return saved;
      }, function (error) {
        draftSent = null; // try again with the next change
        onError(error);
      });
    }

    function leadTime() { return Math.round((Date.now() - loadedAt) / 10) / 100; }

    function serialize(annotation) {
      return annotation.serializeAnnotation ? annotation.serializeAnnotation() : [];
    }

    /* The annotation's result as JSON text, or null while it cannot be serialized yet
     * (1.23 reads an image's natural size to serialize its regions, so right after load,
     * before the image has arrived, it throws): then the next autosave sends it. */
    function serializedText(annotation) {
      try {
        return JSON.stringify(serialize(annotation));
      } catch (error) {
        return null;
      }
    }

    // 1.23 finishes a submit after our handler's promise settles: it then drops the
    // submitted annotation's draft (annotation.dropDraft()). A handler that loads the next
    // task (the Label Stream) would have destroyed that annotation already, and
    // mobx-state-tree warns of the dead node; so a load asked for while a handler runs
    // waits for the editor to finish (a timer after the handler settles).
    var running = 0;
    var deferredLoad = null;
    function run(kind, handler, fallback, body, ctx) {
      running += 1;
      var work = handler ? Promise.resolve().then(function () { return handler(body, ctx); })
        : fallback().then(function (saved) {
          if (options.onSaved) return options.onSaved(kind, saved, ctx);
          return saved;
        });
      function settle() {
        running -= 1;
        if (deferredLoad) window.setTimeout(flushLoad, 0);
      }
      work.then(settle, settle);
      return work.catch(function (error) { onError(error); throw error; });
    }
    function flushLoad() {
      if (!deferredLoad || running) return;
      var args = deferredLoad;
      deferredLoad = null;
      loadNow(args[0], args[1]);
      // the caller could not see this load's outcome (handle.restoredDraft): tell it
      if (options.onLoad) options.onLoad(handle);
    }

    var lsOptions = {
      // 1.23: render with React 18's root, whose destroy() unmounts the editor; the
      // default (React 17 render) leaves it mounted on a destroyed store, so a page that
      // mounts again (the Label Stream's history) would get a dead editor.
      instanceOptions: { reactVersion: "v18" },
      config: options.config,
      interfaces: interfacesFor(options),
      user: lsUser(options.user),
      description: options.instruction || "",
      task: { id: task.id, data: task.data, annotations: annotations, predictions: predictions },
      onLabelStudioLoad: function (ls) {
        handle.ls = ls;
        // LSF reads the task's predictions in, and selects the first, after this
        // callback returns: a copy of a prediction waits for that. Anything else is set
        // up at once (an editor without a selected annotation trips LSF's observers).
        var later = preannotate && predictions.length && !options.readOnly;
        if (!later) prepare(ls.annotationStore);
        window.setTimeout(function () {
          if (later) prepare(ls.annotationStore);
          loadedAt = Date.now();
          if (options.onLoad) options.onLoad(handle);
        }, 0);
      },
      onSubmitAnnotation: function (ls, annotation) {
        stopDraft(annotation);
        var body = { result: serialize(annotation), lead_time: leadTime() };
        if (parentPrediction) body.parent_prediction = parentPrediction;
        var ctx = { annotation: annotation, handle: handle };
        return run("submit", options.onSubmit, function () {
          return api.post("/api/tasks/" + task.id + "/annotations/", body).then(function (saved) {
            if (annotation.updatePersonalKey) annotation.updatePersonalKey(String(saved.id));
            return saved;
          });
        }, body, ctx);
      },
      onUpdateAnnotation: function (ls, annotation) {
        stopDraft(annotation);
        var body = { result: serialize(annotation), lead_time: leadTime() };
        var ctx = { annotation: annotation, annotationId: annotation.pk, handle: handle };
        return run("update", options.onUpdate, function () {
          return api.patch("/api/annotations/" + annotation.pk + "/", body);
        }, body, ctx);
      },
      onSkipTask: function (ls) {
        stopDraft(ls && ls.annotationStore && ls.annotationStore.selected);
        var body = { result: [], was_cancelled: true, lead_time: leadTime() };
        var ctx = { handle: handle };
        return run("skip", options.onSkip, function () {
          return api.post("/api/tasks/" + task.id + "/annotations/", body);
        }, body, ctx);
      },
    };

    // A submit (or update) supersedes the draft: a save still waiting must not follow it.
    function stopDraft(annotation) {
      if (annotation && annotation.autosave && annotation.autosave.cancel) annotation.autosave.cancel();
      // the submitted result is no draft: a hide while it saves sends nothing
      if (annotation) draftSent = serializedText(annotation);
    }

    if (options.drafts && !options.readOnly) {
      lsOptions.onSubmitDraft = function (ls, annotation) { return sendDraft(annotation, false); };
    }

    handle.instance = new window.LabelStudio(element, lsOptions);
    window.LabelHubEditor.current = handle; // the last mounted editor, for tests and debugging
    handle.leadTime = leadTime;
    handle.saveDraft = function (keepalive) {
      if (!options.drafts || options.readOnly || !handle.ls) return Promise.resolve(null);
      var selected = handle.ls.annotationStore.selected;
      if (selected && selected.autosave && selected.autosave.cancel) selected.autosave.cancel();
      return sendDraft(selected, keepalive);
    };
    function onHide(event) {
      if (event.type === "pagehide" || document.visibilityState === "hidden") handle.saveDraft(true);
    }
    if (options.drafts && !options.readOnly) {
      // The tab closed (or hidden) before the autosave's 5 s: send what is there now.
      window.addEventListener("pagehide", onHide);
      document.addEventListener("visibilitychange", onHide);
    }
    handle.submit = function () {
      if (!handle.ls) return;
      var store = handle.ls;
      var selected = store.annotationStore.selected;
      if (selected && selected.pk && store.hasInterface("update")) store.updateAnnotation();
      else if (store.hasInterface("submit")) store.submitAnnotation();
    };
    handle.skip = function () {
      if (handle.ls && handle.ls.hasInterface("skip")) handle.ls.skipTask();
    };
    /* Show another task in the mounted editor, without a page load: LSF's store is
     * reset and filled again (as Label Studio's own Data Manager does between tasks),
     * which takes a few milliseconds where a new LabelStudio instance takes hundreds.
     * The submit/update/skip handlers follow the new task. */
    handle.load = function (next, more) {
      if (!handle.ls) throw new Error("The editor is not ready yet.");
      if (running && VERSION !== "1.4") {
        deferredLoad = [next, more];
        task = next; // the handlers already follow the new task
        handle.restoredDraft = null;
        return handle;
      }
      return loadNow(next, more);
    };
    function loadNow(next, more) {
      more = more || {};
      var store = handle.ls;
      task = next;
      annotations = (more.annotations || next.annotations || []).map(lsAnnotation);
      predictions = (more.predictions || next.predictions || []).map(lsPrediction);
      preannotate = "preannotate" in more ? more.preannotate : options.preannotate;
      newAnnotation = "newAnnotation" in more ? more.newAnnotation : options.newAnnotation;
      drafts = more.result ? [] : more.drafts || next.drafts || [];
      var parent = parentPrediction;
      store.resetState();
      store.assignTask({ id: next.id, data: next.data, annotations: annotations, predictions: predictions });
      store.initializeStore({ annotations: annotations, predictions: predictions });
      prepare(store.annotationStore);
      if (more.result) {
        // An unsaved result put back (after a refused submit): LSF marked the annotation
        // as sent and would offer Update; a fresh annotation holding the same result
        // offers Submit again, and keeps its lead time and parent prediction.
        store.annotationStore.selected.deserializeResults(more.result);
        parentPrediction = parent;
      }
      // LSF keeps Submit disabled for 500 ms after any submit (it does not wait for the
      // save); the save that set it is done, so the new task may be submitted at once.
      store.setFlags({ isSubmitting: false });
      if (!more.result) loadedAt = Date.now();
      return handle;
    }
    handle.destroy = function () {
      window.removeEventListener("pagehide", onHide);
      document.removeEventListener("visibilitychange", onHide);
      try {
        if (handle.instance && handle.instance.destroy) handle.instance.destroy();
      } finally {
        element.innerHTML = "";
      }
    };
    return handle;
  }

  function matches(event, combo) {
    var parts = combo.toLowerCase().split("+");
    var key = parts.pop();
    var name = event.key.toLowerCase();
    if (key === "enter" && name !== "enter") return false;
    if (key !== "enter" && name !== key && event.code.toLowerCase() !== "key" + key) return false;
    return event.altKey === (parts.indexOf("alt") >= 0) &&
      event.ctrlKey === (parts.indexOf("ctrl") >= 0) &&
      event.shiftKey === (parts.indexOf("shift") >= 0) &&
      event.metaKey === (parts.indexOf("meta") >= 0);
  }

  /* Page-level keyboard shortcuts for a mounted editor, on top of LSF's own
   * (ctrl+enter submits, ctrl+space skips). Handled in the capture phase so that they
   * work while focus is inside the editor. Returns a function that removes them. */
  function shortcuts(getHandle, keys) {
    keys = keys || { submit: "alt+s", skip: "alt+k" };
    function onKey(event) {
      var handle = typeof getHandle === "function" ? getHandle() : getHandle;
      if (!handle) return;
      if (keys.submit && matches(event, keys.submit)) {
        event.preventDefault(); event.stopPropagation(); handle.submit();
      } else if (keys.skip && matches(event, keys.skip)) {
        event.preventDefault(); event.stopPropagation(); handle.skip();
      }
    }
    document.addEventListener("keydown", onKey, true);
    return function () { document.removeEventListener("keydown", onKey, true); };
  }

  window.LabelHubEditor = {
    mount: mount, api: api, readJSON: readJSON, csrfToken: csrfToken,
    shortcuts: shortcuts, INTERFACES: INTERFACES, VERSION: VERSION, SIDE_PANEL: SIDE_PANEL,
  };
})();
