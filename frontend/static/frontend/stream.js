/* The Label Stream page: the task the server handed out is in #editor-data; submit or
 * skip saves through the REST API, then the page loads again and the server hands out
 * the next task (or says that none is left). */
(function () {
  "use strict";
  var data = LabelHubEditor.readJSON("editor-data");
  var status = document.getElementById("editor-status");
  var saving = false;
  var handle = null;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  // Rework: a reviewer rejected this annotation of the user's; show why, and save the
  // fix onto it (which clears the rejection) instead of adding a new annotation.
  var rework = data.task.rework || null;
  if (rework) {
    var note = document.createElement("div");
    note.className = "rework-note";
    note.setAttribute("role", "note");
    var lead = document.createElement("strong");
    lead.textContent = "Returned for rework: ";
    note.appendChild(lead);
    note.appendChild(document.createTextNode(
      rework.reviews.map(function (r) { return r.comment || "(no comment)"; }).join(" · ")));
    var bar = document.querySelector(".editor-bar");
    if (bar) bar.insertAdjacentElement("afterend", note);
  }

  function pct(value) { return Math.round(value * 1000) / 10 + "%"; }

  function save(body) {
    if (saving) return Promise.resolve();
    saving = true;
    say(body.was_cancelled ? "Skipping…" : "Saving…");
    var request = rework && !body.was_cancelled
      ? LabelHubEditor.api.patch("/api/annotations/" + rework.annotation + "/", { result: body.result, lead_time: body.lead_time })
      : LabelHubEditor.api.post("/api/tasks/" + data.task.id + "/annotations/", body);
    return request
      .then(function (saved) {
        if (saved && typeof saved.benchmark_score === "number") {
          // Benchmark QA feedback: the score against the gold answer, then the next task.
          say("Benchmark task: your score " + pct(saved.benchmark_score) + ". Next task…");
          window.setTimeout(function () { window.location.replace(data.label_url); }, 2500);
          return;
        }
        say(body.was_cancelled ? "Skipped. Next task…" : "Saved. Next task…");
        window.location.replace(data.label_url);
      })
      .catch(function (error) {
        saving = false;
        say("Not saved: " + error.message, true);
        throw error;
      });
  }

  try {
    handle = LabelHubEditor.mount(document.getElementById("editor"), {
      config: data.config,
      task: data.task,
      user: data.user,
      // Rejected work is fixed, not skipped (a skip would leave it rejected).
      interfaces: rework ? data.interfaces.filter(function (i) { return i !== "skip"; }) : data.interfaces,
      preannotate: data.preannotate,
      instruction: data.instruction,
      onSubmit: save,
      onUpdate: save, // the stream's annotation is always new; LSF may still call update
      onSkip: save,
      onLoad: function () { document.body.classList.add("editor-ready"); },
    });
  } catch (error) {
    say("The editor did not start: " + error.message, true);
  }
  LabelHubEditor.shortcuts(function () { return handle; }, data.shortcuts);
})();
