/* One task in the editor, opened from the task list: saves through the REST API
 * (LabelHubEditor's default handlers) and reloads to show the stored state. */
(function () {
  "use strict";
  var data = LabelHubEditor.readJSON("editor-data");
  var status = document.getElementById("editor-status");
  var handle = null;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  try {
    handle = LabelHubEditor.mount(document.getElementById("editor"), {
      config: data.config,
      task: data.task,
      user: data.user,
      interfaces: data.interfaces,
      readOnly: data.readOnly,
      newAnnotation: data.newAnnotation,
      instruction: data.instruction,
      onSaved: function (kind) {
        say(kind === "update" ? "Updated." : "Saved.");
        window.location.reload();
      },
      onError: function (error) { say("Not saved: " + error.message, true); },
      onLoad: function () { document.body.classList.add("editor-ready"); },
    });
  } catch (error) {
    say("The editor did not start: " + error.message, true);
  }
  LabelHubEditor.shortcuts(function () { return handle; }, data.shortcuts);
})();
