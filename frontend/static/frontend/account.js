/* The account page: reset the API token (POST /api/current-user/reset-token/), create
 * and revoke personal access tokens (POST /api/token/, POST /api/token/blacklist/). */
(function () {
  "use strict";
  var P = window.LabelHubPages;
  var $ = function (selector) { return document.querySelector(selector); };

  $("[data-token-reset]").addEventListener("click", function () {
    P.confirm({
      title: "Reset your API token?",
      text: "Scripts that use the current token stop working at once.",
      ok: "Reset token", danger: true,
    }).then(function (yes) {
      if (!yes) return;
      P.api("POST", "/api/current-user/reset-token/").then(function (body) {
        $("[data-api-token]").value = body.token;
        $("[data-token-status]").textContent = "A new token is in place; the old one no longer works.";
      }).catch(function (error) { $("[data-token-status]").textContent = "Not reset: " + error.message; });
    });
  });

  var create = $("[data-pat-create]");
  var status = $("[data-pat-status]");
  create.addEventListener("click", function () {
    create.disabled = true;
    P.api("POST", "/api/token/").then(function (body) {
      $("[data-pat-new]").hidden = false;
      $("[data-pat-value]").value = body.token;
      status.textContent = "Copy it now: it will not be shown again. Expires " + (body.expires_at || "never").slice(0, 10) + ".";
      var none = $("[data-pat-none]");
      if (none) none.remove();
    }).catch(function (error) { status.textContent = "Not created: " + error.message; create.disabled = false; });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-pat-revoke]");
    if (!button) return;
    P.confirm({ title: "Revoke this token?", text: "Scripts that use it stop working.", ok: "Revoke", danger: true }).then(function (yes) {
      if (!yes) return;
      P.api("POST", "/api/token/blacklist/", { refresh: button.getAttribute("data-pat-revoke") }).then(function () {
        button.closest("li").remove();
        create.disabled = false;
        status.textContent = "Revoked.";
      }).catch(function (error) { status.textContent = "Not revoked: " + error.message; });
    });
  });
})();
