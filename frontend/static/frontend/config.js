/* Config editing on the create and settings pages: picking a template fills the
 * config, and every edit refreshes the preview (a form POSTed into the preview iframe,
 * because the editor's CSS needs a page of its own). */
(function () {
  "use strict";
  var input = document.querySelector("[data-config-input]");
  var previewForm = document.getElementById("preview-form");
  if (!input || !previewForm) return;
  var templatesData = document.getElementById("template-configs");
  var templates = templatesData ? JSON.parse(templatesData.textContent) : {};
  var timer = null;

  function refresh() {
    previewForm.elements.label_config.value = input.value;
    previewForm.submit();
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 500);
  }

  input.addEventListener("input", later);
  document.querySelectorAll("input[name=template]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked && templates[radio.value]) {
        input.value = templates[radio.value];
        refresh();
      }
    });
  });
  refresh();
})();
