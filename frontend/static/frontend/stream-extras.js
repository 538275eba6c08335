/* Label Stream additions kept out of stream.js (which drives the editor):
 *
 * - "n of N done" in the bar: the server's counts (editor-data ``progress``), one more
 *   for each new submit (not a skip, not an update), from stream.js's
 *   ``labelhub:saved`` event;
 * - the project's instructions: open by themselves the first time this browser shows
 *   this project's stream, and on demand with the Instructions button;
 * - "Clear labels": removes every result of the annotation on screen (a single choice,
 *   a wrong pre-filled prediction) through the editor's handle.clear(), in either
 *   editor; Submit or Update then saves it. When the project refuses empty annotations
 *   the bar says so at once, in words.
 */
(function () {
  "use strict";
  var progress = document.getElementById("stream-progress");
  if (progress) {
    var done = Number(progress.getAttribute("data-done")) || 0;
    var total = Number(progress.getAttribute("data-total")) || 0;
    document.addEventListener("labelhub:saved", function (event) {
      var detail = event.detail || {};
      if ((detail.created && !detail.skipped) || detail.unskipped) done += 1;
      if (done > total) total = done;
      progress.setAttribute("data-done", String(done));
      progress.textContent = done + " of " + total + " done";
    });
  }

  var clear = document.getElementById("stream-clear");
  var editorRoot = document.getElementById("editor");
  if (clear && editorRoot) {
    // shown while a task is in the editor (stream.js hides the editor when none is left)
    new MutationObserver(function () { clear.hidden = editorRoot.hidden; })
      .observe(editorRoot, { attributes: true, attributeFilter: ["hidden"] });
    clear.addEventListener("click", function () {
      var handle = window.LabelHubEditor.current;
      if (editorRoot.hidden || !handle || !handle.clear || !handle.clear()) return;
      var selected = handle.ls.annotationStore.selected;
      var button = selected && selected.pk ? "Update" : "Submit";
      var status = document.getElementById("editor-status");
      status.classList.remove("error");
      status.textContent = clear.getAttribute("data-allow-empty")
        ? "Labels cleared. " + button + " saves the task without labels (Undo brings them back)."
        : "Labels cleared. This project does not accept empty annotations: choose a label before " +
          button + (clear.getAttribute("data-can-skip") ? ", or skip the task." : ".");
    });
  }

  var panel = document.getElementById("stream-instructions");
  var toggle = document.getElementById("stream-instructions-toggle");
  if (!panel || !toggle) return;
  var key = "labelhub.instructions.seen." + panel.getAttribute("data-project");
  function show(open) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  toggle.addEventListener("click", function () { show(panel.hidden); });
  document.getElementById("stream-instructions-close").addEventListener("click", function () { show(false); });
  var seen = null;
  try { seen = window.localStorage.getItem(key); } catch (e) { seen = "1"; }
  if (!seen) {
    show(true);
    try { window.localStorage.setItem(key, "1"); } catch (e) { /* shown once per page then */ }
  }
})();
