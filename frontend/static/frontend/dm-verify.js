/* The Verify Stream: one completed annotation at a time, read-only in the editor.
 * Thumbs up (1, →) and down (2, ←) store the reviewer's verdict with
 * POST /api/annotations/{id}/reviews/ and move on; ★ (g) marks ground truth with
 * PATCH /api/annotations/{id}/; s skips to another. The next one comes from
 * GET /api/projects/{id}/verify/next/ until it answers 204.
 *
 * The comment box goes with the verdict: Reject with an empty box first asks for a
 * comment (a second Reject sends none), Ctrl+Enter in the box rejects, Accept sends what
 * is in it. The annotation's review history (every verdict, kept after a rework) is
 * listed under the box, and when the progress moves back (a rework reopened one of
 * yours, new completions arrived) the bar says why.
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
  var comment = $("[data-verify-comment]");
  var hint = $("[data-verify-hint]");
  var handle = null;
  var current = null;
  var busy = false;
  var armed = false;  // Reject pressed with an empty comment box: the next one sends
  var firstTotal = null;  // the total when the page opened

  function enable(on) { buttons.forEach(function (b) { b.disabled = !on; }); }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function progress(p) {
    if (!p) return;
    var bar = $("[data-verify-progress]");
    bar.max = Math.max(1, p.total);
    bar.value = p.reviewed;
    $("[data-verify-count]").textContent = p.reviewed + " of " + p.total + " reviewed";
    // Counts that move back say why: a rework takes your rejection off, new work adds up.
    var why = [];
    if (p.reworked) why.push(plural(p.reworked, "rejection of yours came back reworked", "rejections of yours came back reworked"));
    if (firstTotal === null) firstTotal = p.total;
    if (p.total > firstTotal) why.push(plural(p.total - firstTotal, "new completion", "new completions") + " since you opened this page");
    $("[data-verify-moved]").textContent = why.join(" · ");
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  function showHistory(rows) {
    var box = $("[data-verify-history]");
    var list = $("[data-verify-history-list]");
    list.textContent = "";
    rows = rows || [];
    box.hidden = !rows.length;
    $("[data-verify-history-title]").textContent = "Review history (" + rows.length + ")";
    box.open = rows.some(function (r) { return !r.accepted; });
    rows.forEach(function (r) {
      var li = document.createElement("li");
      var verdictEl = document.createElement("span");
      verdictEl.className = r.accepted ? "up" : "down";
      verdictEl.textContent = r.accepted ? "Accepted" : "Rejected";
      li.appendChild(verdictEl);
      li.appendChild(document.createTextNode(" by " + (r.reviewer_name || r.reviewer_email) + " · " + when(r.created_at) +
        (r.comment ? ": “" + r.comment + "”" : " (no comment)") +
        (r.reworked_at ? " · reworked " + when(r.reworked_at) : "")));
      li.setAttribute("data-history-verdict", r.accepted ? "accepted" : "rejected");
      list.appendChild(li);
    });
  }

  function disarm() {
    armed = false;
    comment.classList.remove("armed");
    hint.textContent = "";
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
      showHistory(body.review_history);
      comment.value = "";
      disarm();
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
    var text = comment.value.trim();
    if (!accepted && !text && !armed) {
      // Ask for words first: the annotator reads them in their rework banner.
      armed = true;
      comment.classList.add("armed");
      hint.textContent = "Say what to fix, then Reject again (Ctrl+Enter); Reject once more sends no comment.";
      comment.focus();
      return;
    }
    busy = true;
    enable(false);
    var id = current.id;
    api.post("/api/annotations/" + id + "/reviews/", { accepted: accepted, comment: text }).then(function () {
      flash.textContent = (accepted ? "Accepted #" : "Rejected #") + id + (text ? " with your comment" : "");
      flash.className = "verify-flash " + (accepted ? "up" : "down");
      comment.blur();
      return load();
    }).catch(function (error) {
      flash.textContent = "Not saved: " + error.message;
      enable(true);
    }).then(function () { busy = false; });
  }

  comment.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      armed = true;
      verdict(false);
    } else if (event.key === "Escape") {
      comment.blur();
      disarm();
    }
  });

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
