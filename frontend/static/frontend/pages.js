/* Small helpers for the pages that do not load the editor (account, People, settings,
 * Data Manager): JSON calls with the page's CSRF token, copy to the clipboard, and
 * in-page dialogs in place of the browser's confirm() and prompt().
 *
 *   LabelHubPages.api(method, url, body) -> Promise<json|null>; rejects with an Error
 *     whose message is the API's detail (and .status, .body)
 *   LabelHubPages.copy(text, button)      -> copies, says "Copied" on the button
 *   LabelHubPages.confirm({title, text, ok, danger, typed}) -> Promise<bool>
 *     ``typed``: the user must type this text before OK is enabled
 *   LabelHubPages.prompt({title, text, value, ok, type, min, max}) -> Promise<string|null>
 */
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function api(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) return null;
      return response.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (!response.ok) {
          var error = new Error((json && (json.detail || json.message)) || response.statusText || ("HTTP " + response.status));
          error.status = response.status;
          error.body = json;
          throw error;
        }
        return json;
      });
    });
  }

  function copy(text, button) {
    var done = function () {
      if (!button) return;
      var old = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    }
    fallbackCopy(text);
    done();
    return Promise.resolve();
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable */ }
    document.body.removeChild(area);
  }

  // One <dialog> built on demand; resolves with the input's value, true, or null/false.
  function dialog(options, withInput) {
    return new Promise(function (resolve) {
      var box = document.createElement("dialog");
      box.className = "lh-dialog";
      box.setAttribute("data-lh-dialog", "");
      var form = document.createElement("form");
      form.method = "dialog";
      var title = document.createElement("h2");
      title.textContent = options.title || "Are you sure?";
      form.appendChild(title);
      if (options.text) {
        var text = document.createElement("p");
        text.textContent = options.text;
        form.appendChild(text);
      }
      var input = null;
      if (withInput || options.typed) {
        var label = document.createElement("label");
        label.textContent = options.typed ? "Type \u201c" + options.typed + "\u201d to confirm" : (options.label || "Value");
        input = document.createElement("input");
        input.type = options.type || "text";
        input.setAttribute("data-lh-dialog-input", "");
        if (options.min !== undefined) input.min = options.min;
        if (options.max !== undefined) input.max = options.max;
        if (options.step !== undefined) input.step = options.step;
        input.value = options.value === undefined ? "" : String(options.value);
        label.appendChild(input);
        form.appendChild(label);
      }
      var actions = document.createElement("div");
      actions.className = "form-actions";
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.textContent = options.cancel || "Cancel";
      var ok = document.createElement("button");
      ok.type = "submit";
      ok.className = options.danger ? "primary danger-fill" : "primary";
      ok.textContent = options.ok || "OK";
      ok.setAttribute("data-lh-dialog-ok", "");
      actions.appendChild(ok);
      actions.appendChild(cancel);
      form.appendChild(actions);
      box.appendChild(form);
      document.body.appendChild(box);
      var answered = false;
      function close(value) {
        if (answered) return;
        answered = true;
        box.close();
        box.remove();
        resolve(value);
      }
      if (options.typed) {
        ok.disabled = true;
        input.addEventListener("input", function () { ok.disabled = input.value.trim() !== options.typed; });
      }
      cancel.addEventListener("click", function () { close(withInput ? null : false); });
      box.addEventListener("cancel", function (event) { event.preventDefault(); close(withInput ? null : false); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (ok.disabled) return;
        if (input && input.type === "number" && !input.checkValidity()) { input.reportValidity(); return; }
        close(withInput ? input.value : true);
      });
      box.showModal();
      (input || ok).focus();
      if (input) input.select();
    });
  }

  window.LabelHubPages = {
    api: api,
    copy: copy,
    csrfToken: csrfToken,
    confirm: function (options) { return dialog(options || {}, false); },
    prompt: function (options) { return dialog(options || {}, true); },
  };

  // Forms with data-confirm="text" ask in an in-page dialog before they submit
  // (data-confirm-title, data-confirm-ok; data-confirm-typed: text to type first).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm") || form.dataset.confirmed) return;
    event.preventDefault();
    window.LabelHubPages.confirm({
      title: form.getAttribute("data-confirm-title") || "Are you sure?",
      text: form.getAttribute("data-confirm"),
      ok: form.getAttribute("data-confirm-ok") || "OK",
      typed: form.getAttribute("data-confirm-typed") || undefined,
      danger: true,
    }).then(function (yes) {
      if (!yes) return;
      form.dataset.confirmed = "1";
      var typedInput = form.querySelector("[data-confirm-typed-value]");
      if (typedInput) typedInput.value = form.getAttribute("data-confirm-typed");
      form.submit();
    });
  });

  // Buttons with data-copy="selector" copy that element's value or text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source) copy(source.value !== undefined ? source.value : source.textContent, button);
  });
})();
