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

  // The twin of frontend/wording.py (orphan_sentence): the API's items carry Label
  // Studio's from_name=... wording; the page says it in words.
  var SOURCES = [["annotations", "annotation"], ["drafts", "draft"], ["predictions", "prediction"]];
  function countsSentence(orphan) {
    var parts = SOURCES.filter(function (s) { return orphan[s[0]]; }).map(function (s) {
      return orphan[s[0]] + " " + (orphan[s[0]] === 1 ? s[1] : s[0]);
    });
    if (parts.length < 2) return parts.join("") || "no saved work";
    return parts.slice(0, -1).join(", ") + " and " + parts[parts.length - 1];
  }
  function orphanSentence(o) {
    var counts = countsSentence(o);
    var one = counts.indexOf("1 ") === 0 && counts.indexOf(" and ") < 0;
    var control = '"' + o.from_name + '"';
    if (o.reason === "label") return 'The label "' + o.label + '" of control ' + control + " is used in " + counts + ".";
    if (o.reason === "type") return "Control " + control + ' no longer gives "' + o.type + '" results; ' + counts + (one ? " holds" : " hold") + " them.";
    if (o.reason === "to_name") return "Control " + control + ' no longer labels "' + o.to_name + '"; ' + counts + (one ? " uses" : " use") + " it there.";
    return "Control " + control + " is not in the new config; " + counts + (one ? " uses" : " use") + " it.";
  }

  function showOrphans(errors) {
    var list = orphans.querySelector("ul");
    list.textContent = "";
    errors.forEach(function (error) {
      var item = document.createElement("li");
      item.textContent = orphanSentence(error);
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
