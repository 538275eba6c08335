/* The new project's import step: the import form, then on to the labeling settings. */
(function () {
  "use strict";
  var step = document.querySelector("[data-import-step]");
  var next = document.querySelector("[data-next-step]");
  var project = Number(step.getAttribute("data-project"));
  window.LabelHubImport.init(step.querySelector("[data-import-form]"), {
    project: project,
    onImported: function () { next.classList.add("primary"); next.focus(); },
  });
})();
