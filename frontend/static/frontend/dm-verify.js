/* The Verify Stream: one completed annotation at a time, read-only in the editor.
 * Thumbs up (1, →) and down (2, ←) store the reviewer's verdict with
 * POST /api/annotations/{id}/reviews/ and move on; ★ (g) marks ground truth with
 * PATCH /api/annotations/{id}/; s skips to another. The next one comes from
 * GET /api/projects/{id}/verify/next/ until it answers 204.
 */
(function () {
  "use strict";
  var api = LabelHubEditor.api;
  var page = LabelHubEditor.readJSON("verify-data");
  var $ = function (selector) { return document.querySelector(selector); };
  var root = $("[data-verify-editor]");
  var info = $("[data-verify-info]");
  var flash = $("[data-verify-flash]");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-verdict], [data-ground-truth], [data-verify-skip]"));
  var gtButton = $("[data-ground-truth]");
  var handle = null;
  var current = null;
  var busy = false;

  function enable(on) { buttons.forEach(function (b) { b.disabled = !on; }); }

  function progress(p) {
    if (!p) return;
    var bar = $("[data-verify-progress]");
    bar.max = Math.max(1, p.total);
    bar.value = p.reviewed;
    $("[data-verify-count]").textContent = p.reviewed + " of " + p.total + " reviewed";
  }

  function finish() {
    current = null;
    enable(false);
    if (handle) { handle.destroy(); handle = null; }
    root.hidden = true;
    info.textContent = "Nothing left to review.";
    api.get("/api/projects/" + page.project + "/verify/progress/").then(function (p) {
      progress(p);
      $("[data-verify-done-text]").textContent = "You have reviewed " + p.reviewed + " of " + p.total + " completions. Nothing is left for you in this project.";
    });
    $("[data-verify-done]").hidden = false;
    document.body.classList.add("verify-finished");
  }

  function load(exclude) {
    enable(false);
    var url = "/api/projects/" + page.project + "/verify/next/" + (exclude ? "?exclude=" + exclude : "");
    return api.get(url).then(function (body) {
      if (!body) return finish();
      current = body.annotation;
      progress(body.progress);
      var who = current.created_username || current.completed_by_email || ("user " + current.completed_by);
      info.textContent = "Task #" + body.task.id + " · completion #" + current.id + " by " + who;
      info.setAttribute("data-annotation-id", current.id);
      gtButton.classList.toggle("on", !!current.ground_truth);
      gtButton.setAttribute("aria-pressed", current.ground_truth ? "true" : "false");
      if (handle) { handle.destroy(); handle = null; }
      root.innerHTML = "";
      var mountPoint = document.createElement("div");
      root.appendChild(mountPoint);
      handle = LabelHubEditor.mount(mountPoint, {
        config: page.config, task: body.task, annotations: [current], predictions: [],
        user: page.user, interfaces: "review", readOnly: true,
        onLoad: function () { root.setAttribute("data-loaded-annotation", String(current.id)); },
      });
      enable(true);
    }).catch(function (error) { info.textContent = "Could not load: " + error.message; });
  }

  function verdict(accepted) {
    if (!current || busy) return;
    busy = true;
    enable(false);
    var id = current.id;
    api.post("/api/annotations/" + id + "/reviews/", { accepted: accepted }).then(function () {
      flash.textContent = (accepted ? "Accepted #" : "Rejected #") + id;
      flash.className = "verify-flash " + (accepted ? "up" : "down");
      return load();
    }).catch(function (error) {
      flash.textContent = "Not saved: " + error.message;
      enable(true);
    }).then(function () { busy = false; });
  }

  function toggleGroundTruth() {
    if (!current) return;
    var next = !current.ground_truth;
    api.patch("/api/annotations/" + current.id + "/", { ground_truth: next }).then(function (saved) {
      current.ground_truth = saved.ground_truth;
      gtButton.classList.toggle("on", saved.ground_truth);
      gtButton.setAttribute("aria-pressed", saved.ground_truth ? "true" : "false");
      flash.textContent = saved.ground_truth ? "★ marked as ground truth" : "ground truth removed";
      flash.className = "verify-flash up";
    }).catch(function (error) { flash.textContent = "Not saved: " + error.message; });
  }

  $("[data-verdict=accept]").addEventListener("click", function () { verdict(true); });
  $("[data-verdict=reject]").addEventListener("click", function () { verdict(false); });
  gtButton.addEventListener("click", toggleGroundTruth);
  $("[data-verify-skip]").addEventListener("click", function () { if (current) load(current.id); });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    var key = event.key;
    if (key === "1" || key === "ArrowRight") { event.preventDefault(); event.stopPropagation(); verdict(true); }
    else if (key === "2" || key === "ArrowLeft") { event.preventDefault(); event.stopPropagation(); verdict(false); }
    else if (key === "g") { event.preventDefault(); toggleGroundTruth(); }
    else if (key === "s") { event.preventDefault(); if (current) load(current.id); }
  }, true);

  load();
})();
