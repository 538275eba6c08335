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

  function save(body) {
    if (saving) return Promise.resolve();
    saving = true;
    say(body.was_cancelled ? "Skipping…" : "Saving…");
    return LabelHubEditor.api.post("/api/tasks/" + data.task.id + "/annotations/", body)
      .then(function () {
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
      interfaces: data.interfaces,
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
