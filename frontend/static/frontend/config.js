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

  // Settings page: what stored annotations and predictions the edited config would
  // orphan (POST /api/projects/{id}/validate/ answers 400 with one error per control or
  // label, and its counts), listed above the preview before saving.
  var orphans = document.getElementById("config-orphans");
  var checked = 0;

  function showOrphans(errors) {
    var list = orphans.querySelector("ul");
    list.textContent = "";
    errors.forEach(function (error) {
      var item = document.createElement("li");
      item.textContent = error.message;
      list.appendChild(item);
    });
    orphans.hidden = errors.length === 0;
  }

  function checkOrphans() {
    if (!orphans) return;
    var token = previewForm.elements.csrfmiddlewaretoken.value;
    var mine = ++checked;
    fetch(orphans.getAttribute("data-validate-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ label_config: input.value }),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (mine !== checked) return;
        var errors = response.status === 400 && body.errors ? body.errors : [];
        showOrphans(errors.filter(function (error) { return error.reason; }));
      });
    }).catch(function () { /* the preview shows config errors; nothing to list */ });
  }

  function refresh() {
    previewForm.elements.label_config.value = input.value;
    previewForm.submit();
    checkOrphans();
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
