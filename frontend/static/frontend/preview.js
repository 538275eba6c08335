/* The config preview (framed by the create and settings pages): sample data, no saving. */
(function () {
  "use strict";
  var data = LabelHubEditor.readJSON("editor-data");
  LabelHubEditor.mount(document.getElementById("editor"), {
    config: data.config,
    task: data.task,
    user: data.user,
    interfaces: data.interfaces,
    onLoad: function () { document.body.classList.add("editor-ready"); },
  });
})();
