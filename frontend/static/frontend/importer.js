/* The import form (frontend/_import_form.html), in the Data Manager's "Add more data"
 * dialog and in the new-project import step:
 *
 *   LabelHubImport.init(root, {project, onImported(result)})
 *
 * Files go up with XMLHttpRequest so the bar follows the bytes sent; a large import then
 * runs as a background job, and the bar follows the bytes the job has parsed and the
 * tasks it has written (GET /api/projects/{id}/imports/{job}/, once a second).
 *
 * After a success the form is cleared (a second click cannot import the same files
 * again). Files whose names an earlier import of the project already holds
 * (GET /api/projects/{id}/imports/) are named before anything is sent, with a choice:
 * skip them, import them again, or cancel.
 */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function csrfToken() {
    var input = $("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* A JSON request; ``onUpload(sent, total)`` follows the request body going up. */
  function send(method, url, body, onUpload) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      if (onUpload && xhr.upload) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) onUpload(event.loaded, event.total);
        });
      }
      xhr.onload = function () {
        var json = {};
        try { json = JSON.parse(xhr.responseText || "{}"); } catch (e) { json = {}; }
        if (xhr.status >= 200 && xhr.status < 300) { resolve(json); return; }
        var error = new Error(json.detail || ("HTTP " + xhr.status));
        error.body = json;
        reject(error);
      };
      xhr.onerror = function () { reject(new Error("the server could not be reached")); };
      if (body instanceof FormData || body === undefined) xhr.send(body);
      else { xhr.setRequestHeader("Content-Type", "application/json"); xhr.send(JSON.stringify(body)); }
    });
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toLocaleString(undefined, { maximumFractionDigits: bytes < 10485760 ? 1 : 0 }) + " MB";
  }

  /* The server's messages already say "Import failed…": say it once. */
  function failure(error) {
    var text = (error && error.message) || "unknown error";
    return /^import failed/i.test(text) ? text : "Import failed: " + text;
  }

  function init(root, options) {
    if (!root) return;
    var project = options.project;
    var importUrl = "/api/projects/" + project + "/import";
    var tab = "upload";
    var status = $("[data-import-status]", root);
    var progress = $("[data-import-progress]", root);
    var busy = false;

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error", Boolean(isError));
    }
    function bar(fraction) {
      progress.hidden = false;
      if (fraction === null) progress.removeAttribute("value");
      else progress.value = Math.max(0, Math.min(100, Math.round(fraction * 1000) / 10));
      progress.setAttribute("data-value", progress.hasAttribute("value") ? progress.value : "");
    }

    $$("[data-import-tab]", root).forEach(function (button) {
      button.addEventListener("click", function () {
        tab = button.getAttribute("data-import-tab");
        $$("[data-import-tab]", root).forEach(function (b) { var on = b === button; b.classList.toggle("active", on); b.setAttribute("aria-selected", on); });
        $$("[data-import-panel]", root).forEach(function (panel) { panel.hidden = panel.getAttribute("data-import-panel") !== tab; });
      });
    });

    function done(result) {
      // A large import runs in the background: the answer is {"import": job id}.
      if (result && result.import !== undefined && result.task_count === undefined) return poll(result.import);
      busy = false;
      bar(1);
      say("Imported " + (result.task_count || 0).toLocaleString() + " tasks, " + (result.annotation_count || 0).toLocaleString() + " annotations, " + (result.prediction_count || 0).toLocaleString() + " predictions.");
      root.setAttribute("data-imported", result.task_count || 0);
      reset();
      if (options.onImported) options.onImported(result);
    }
    // The inputs start empty again after a success.
    function reset() {
      $("[data-import-files]", root).value = "";
      $("[data-import-paste]", root).value = "";
      $("[data-import-url]", root).value = "";
      hideDupes();
    }
    var dupesBox = $("[data-import-dupes]", root);
    var pendingFiles = null;
    function hideDupes() { dupesBox.hidden = true; pendingFiles = null; }
    // Names of the files earlier imports of this project took in.
    function importedNames() {
      return send("GET", "/api/projects/" + project + "/imports/").then(function (jobs) {
        var names = {};
        (jobs || []).forEach(function (job) {
          if (job.status !== "completed" || !(job.task_count > 0)) return;
          (job.files || []).forEach(function (name) { names[String(name).split("/").pop()] = job; });
        });
        return names;
      }).catch(function () { return {}; });
    }
    function upload(files) {
      hideDupes();
      if (!files.length) { busy = false; bar(1); say("Nothing new to import: every chosen file was imported before."); return; }
      var data = new FormData();
      files.forEach(function (file) { data.append("file", file, file.name); });
      bar(0);
      say("Importing…");
      start(send("POST", importUrl, data, function (sent, total) {
        if (sent < total) { bar(sent / total); say("Uploading: " + megabytes(sent) + " of " + megabytes(total)); }
        else { bar(null); say("Uploaded " + megabytes(total) + "; reading and writing the tasks…"); }
      }));
    }
    function offerSkip(files, dupes, names) {
      pendingFiles = { all: files, fresh: files.filter(function (f) { return dupes.indexOf(f) < 0; }) };
      $("[data-import-dupes-title]", root).textContent = dupes.length === files.length
        ? "Every chosen file was imported into this project before:"
        : dupes.length + " of " + files.length + " chosen files were imported into this project before:";
      var list = $("[data-import-dupes-list]", root);
      list.textContent = "";
      dupes.slice(0, 20).forEach(function (file) {
        var item = document.createElement("li");
        var job = names[file.name];
        item.textContent = file.name + " (import #" + job.id + (job.created_at ? ", " + String(job.created_at).slice(0, 16).replace("T", " ") : "") + ")";
        list.appendChild(item);
      });
      if (dupes.length > 20) {
        var more = document.createElement("li");
        more.textContent = "and " + (dupes.length - 20) + " more";
        list.appendChild(more);
      }
      dupesBox.hidden = false;
      progress.hidden = true;  // the last import's full bar is not this one's
      busy = false;
      say("");
    }
    $("[data-import-skip-dupes]", root).addEventListener("click", function () { if (pendingFiles) { busy = true; upload(pendingFiles.fresh); } });
    $("[data-import-all]", root).addEventListener("click", function () { if (pendingFiles) { busy = true; upload(pendingFiles.all); } });
    $("[data-import-cancel]", root).addEventListener("click", function () { hideDupes(); say("Nothing imported."); });
    function fail(error) {
      busy = false;
      progress.hidden = true;
      var errors = (error.body && error.body.errors) || [];
      say(failure(error) + (errors.length > 1 ? " (" + errors.length + " problems)" : ""), true);
    }
    function poll(jobId) {
      var url = "/api/projects/" + project + "/imports/" + jobId + "/";
      return send("GET", url).then(function (state) {
        if (state.status === "completed") return done(state);
        if (state.status === "failed") throw new Error(state.error || state.detail || "the import failed");
        var parts = [];
        if (state.bytes_total) parts.push("read " + megabytes(state.bytes_done || 0) + " of " + megabytes(state.bytes_total));
        if (state.processed) parts.push((state.processed || 0).toLocaleString() + " tasks written");
        bar(state.progress || 0);
        say("Importing in the background" + (parts.length ? ": " + parts.join(", ") : "…"));
        return new Promise(function (resolve) { window.setTimeout(resolve, 1000); }).then(function () { return poll(jobId); });
      });
    }
    function pasteBody(text) {
      var trimmed = text.trim();
      if (trimmed[0] === "[" || trimmed[0] === "{") return JSON.parse(trimmed);
      var firstLine = trimmed.split("\n")[0];
      var name = firstLine.indexOf("\t") >= 0 ? "pasted.tsv" : firstLine.indexOf(",") >= 0 ? "pasted.csv" : "pasted.txt";
      var data = new FormData();
      data.append("file", new Blob([text], { type: "text/plain" }), name);
      return data;
    }
    function start(work) {
      busy = true;
      work.then(done).catch(fail);
    }

    $("[data-import-submit]", root).addEventListener("click", function () {
      if (busy) return;
      say("Importing…");
      if (tab === "upload") {
        var files = Array.prototype.slice.call($("[data-import-files]", root).files);
        if (!files.length) { fail(new Error("choose a file")); return; }
        busy = true;
        importedNames().then(function (names) {
          var dupes = files.filter(function (file) { return names[file.name]; });
          if (dupes.length) offerSkip(files, dupes, names);
          else upload(files);
        });
      } else if (tab === "paste") {
        var text = $("[data-import-paste]", root).value;
        if (!text.trim()) { fail(new Error("paste some tasks")); return; }
        var body;
        try { body = pasteBody(text); } catch (error) { fail(new Error("the pasted JSON is not valid (" + error.message + ")")); return; }
        bar(null);
        start(send("POST", importUrl, body));
      } else {
        var url = $("[data-import-url]", root).value;
        if (!url) { fail(new Error("enter a URL")); return; }
        var form = new FormData();
        form.append("url", url);
        bar(null);
        start(send("POST", importUrl, form));
      }
    });

    var sample = $("[data-add-sample-task]", root);
    if (sample) sample.addEventListener("click", function () { addSampleTask(project).then(done).catch(fail); });
  }

  /* "Add a sample task": one click, with the project's sample endpoint. */
  function addSampleTask(project) {
    return send("GET", "/api/projects/" + project + "/sample-task").then(function (body) {
      return send("POST", "/api/projects/" + project + "/import?return_task_ids=true", [body.sample_task || body]);
    });
  }

  window.LabelHubImport = { init: init, addSampleTask: addSampleTask, failure: failure };
})();
