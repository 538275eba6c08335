// The staff migration page: polls the job's state and moves the progress bar.
(function () {
  "use strict";
  var box = document.querySelector("[data-migration]");
  if (!box) return;
  var id = box.getAttribute("data-migration");
  function show(state) {
    var p = state.progress || {};
    var bar = box.querySelector("[data-migration-progress]");
    var projects = p.projects_total || 0;
    var done = p.projects_done || 0;
    var part = p.tasks_total ? Math.min(1, (p.tasks_done || 0) / p.tasks_total) : 0;
    bar.max = Math.max(projects, 1);
    bar.value = state.status === "completed" ? bar.max : Math.min(projects, done + part);
    box.querySelector("[data-migration-status]").textContent = state.status;
    box.querySelector("[data-migration-where]").textContent = p.project
      ? "project " + Math.min(done + 1, projects) + " of " + projects + ": " + p.project +
        " (" + (p.tasks_done || 0) + " of " + (p.tasks_total || 0) + " tasks)"
      : "";
    box.querySelector("[data-migration-detail]").textContent = state.detail || "";
    box.querySelector("[data-migration-report]").textContent = state.report || "";
    var invites = state.invites || [];
    var rows = box.querySelector("[data-migration-invite-rows]");
    if (rows) {
      rows.textContent = "";
      invites.forEach(function (invite) {
        var tr = document.createElement("tr");
        var email = document.createElement("td");
        email.textContent = invite.email;
        var link = document.createElement("td");
        var code = document.createElement("code");
        code.textContent = invite.link;
        link.appendChild(code);
        tr.appendChild(email);
        tr.appendChild(link);
        rows.appendChild(tr);
      });
      box.querySelector("[data-migration-invites]").hidden = invites.length === 0;
    }
    return state.status === "completed" || state.status === "failed";
  }
  function poll() {
    fetch("/projects/migrate/" + id + "/status", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) { if (!show(state)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
