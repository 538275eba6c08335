/* One task in the editor, opened from the task list: saves through the REST API
 * (LabelHubEditor's default handlers) and reloads to show the stored state. */
(function () {
  "use strict";
  var data = LabelHubEditor.readJSON("editor-data");
  var status = document.getElementById("editor-status");
  var handle = LabelHubEditor.mount(document.getElementById("editor"), {
    config: data.config,
    task: data.task,
    user: data.user,
    interfaces: data.interfaces,
    readOnly: data.readOnly,
    newAnnotation: data.newAnnotation,
    instruction: data.instruction,
    onSaved: function (kind) {
      status.textContent = kind === "update" ? "Updated." : "Saved.";
      window.location.reload();
    },
    onError: function (error) {
      status.textContent = "Not saved: " + error.message;
      status.classList.add("error");
    },
    onLoad: function () { document.body.classList.add("editor-ready"); },
  });
  LabelHubEditor.shortcuts(function () { return handle; }, data.shortcuts);
})();
