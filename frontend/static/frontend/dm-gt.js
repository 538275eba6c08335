/* The Ground Truth Manager: step 1 filters completions (the preview count comes from
 * POST /api/projects/{id}/ground-truth/preview), step 2 marks a percentage with
 * POST .../ground-truth/sample {filters, fraction}; reset with POST .../ground-truth/reset.
 */
(function () {
  "use strict";
  function readJSON(id) { var e = document.getElementById(id); return e ? JSON.parse(e.textContent) : null; }
  var page = readJSON("gt-data");
  var options = readJSON("dm-filter-options") || {};
  var $ = function (s) { return document.querySelector(s); };
  var form = $("[data-gt-form]");
  var status = $("[data-gt-status]");
  var base = "/api/projects/" + page.project + "/ground-truth/";

  function csrf() { var i = document.querySelector("input[name=csrfmiddlewaretoken]"); return i ? i.value : ""; }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) throw new Error(json.detail || ("HTTP " + response.status));
        return json;
      });
    });
  }

  window.DMFilters.init(form, options);

  function filters() { return window.DMFilters.toQuery(form); }

  function preview() {
    $("[data-gt-matched]").textContent = "…";
    return post(base + "preview", { filters: filters() }).then(function (body) {
      $("[data-gt-matched]").textContent = body.matched;
      $("[data-gt-already]").textContent = body.ground_truth;
      $("[data-gt-total]").textContent = body.project_ground_truth;
      $("[data-gt-completions]").textContent = body.project_completions;
    }).catch(function (error) { $("[data-gt-matched]").textContent = "?"; status.textContent = error.message; status.classList.add("error"); });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); status.textContent = ""; status.classList.remove("error"); preview(); });
  form.addEventListener("change", function (event) { if (event.target.name === "conj") preview(); });
  // "Clear filters": back to every completion of the project, counted again at once.
  $("[data-clear-filters]").addEventListener("click", function () {
    window.DMFilters.clear(form);
    var conj = form.querySelector("[name=conj]");
    if (conj) conj.value = "and";
    status.textContent = ""; status.classList.remove("error");
    if (window.history.replaceState) window.history.replaceState(null, "", window.location.pathname);
    preview();
  });

  var range = $("[data-gt-range]");
  var percent = $("[data-gt-percent]");
  range.addEventListener("input", function () { percent.value = range.value; });
  percent.addEventListener("input", function () { range.value = percent.value; });

  $("[data-gt-mark]").addEventListener("click", function () {
    var value = Number(percent.value);
    if (!(value > 0 && value <= 100)) { status.textContent = "Choose a percentage from 1 to 100."; status.classList.add("error"); return; }
    status.classList.remove("error");
    status.textContent = "Marking…";
    post(base + "sample", { filters: filters(), fraction: value / 100 }).then(function (body) {
      status.textContent = "Marked " + body.marked + " more completions; " + body.ground_truth + " of the " + body.matched + " matching are ground truth.";
      status.setAttribute("data-marked", body.marked);
      return preview();
    }).catch(function (error) { status.textContent = "Failed: " + error.message; status.classList.add("error"); });
  });

  $("[data-gt-reset]").addEventListener("click", function () {
    window.LabelHubPages.confirm({ title: "Clear every ground-truth flag?", text: "Every completion of this project stops being ground truth; the completions stay.", ok: "Clear flags", danger: true }).then(function (yes) {
    if (!yes) return;
    post(base + "reset").then(function (body) {
      status.classList.remove("error");
      status.textContent = "Cleared " + body.unmarked + " ground-truth flags.";
      status.setAttribute("data-unmarked", body.unmarked);
      return preview();
    }).catch(function (error) { status.textContent = "Failed: " + error.message; status.classList.add("error"); });
    });
  });

  preview();
})();
