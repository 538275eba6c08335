/* The filter panel of the Data Manager and the Ground Truth Manager.
 *
 * Rows are plain form fields (f, op, v, v2, t) that the server turns into a Label Studio
 * query, so the panel works without this script. The script fits each row to its
 * column's type: the operators that apply, a member list for "Annotated by", the
 * config's labels for the results columns (grouped by control; "Other text…" where the
 * config has labels from the data or typed text), yes/no for booleans, dates for dates,
 * two inputs for ranges; and adds and removes rows.
 *
 *   DMFilters.init(root, options)      root: an element holding [data-filter-rows]
 *   DMFilters.toQuery(root) -> {conjunction, items[, match]}   (Label Studio's filters
 *                                      object; ``match: "annotation"`` is LabelHub's)
 *   DMFilters.clear(root)              back to one empty row
 */
(function () {
  "use strict";

  var OPERATORS = {
    Number: ["equal", "not_equal", "less", "greater", "less_or_equal", "greater_or_equal", "in", "not_in", "empty"],
    Datetime: ["less", "greater", "equal", "in", "not_in", "empty"],
    Boolean: ["equal", "not_equal"],
    List: ["contains", "not_contains", "empty"],
    String: ["contains", "not_contains", "equal", "not_equal", "regex", "empty"],
  };

  function kind(type) {
    if (OPERATORS[type]) return type;
    return "String"; // Image, Text, HyperText... are read as text
  }

  function option(value, label, selected) {
    var element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    if (selected) element.selected = true;
    return element;
  }

  var RESULT_COLUMNS = ["annotations_results", "predictions_results"];
  var OTHER = "__labelhub_other_text__";

  /* The config's labels as a pick list (options.label_groups, from the server), or null
   * when a text box fits better: a regex, no labels, or a value that is no label of a
   * config that allows free text. */
  function labelSelect(options, operator, current) {
    var groups = options.label_groups || [];
    if (operator === "regex" || !groups.length) return null;
    var value = current == null ? "" : String(current);
    var known = groups.some(function (g) {
      return g.labels.some(function (label) { return label.value === value; });
    });
    if (value && !known && options.free_labels) return null;
    var select = document.createElement("select");
    select.setAttribute("data-label-pick", "");
    if (value && !known) select.appendChild(option(value, value + " (not in the labeling config)", true));
    groups.forEach(function (group) {
      var optgroup = document.createElement("optgroup");
      optgroup.label = group.control + " (" + group.type + ")";
      group.labels.forEach(function (label) {
        var text = label.path.length ? label.path.join(" \u203a ") + " \u203a " + label.value : label.value;
        optgroup.appendChild(option(label.value, text, label.value === value));
      });
      select.appendChild(optgroup);
    });
    if (options.free_labels) select.appendChild(option(OTHER, "Other text\u2026", false));
    return select;
  }

  function labelText(current) {
    var input = document.createElement("input");
    input.type = "text";
    input.setAttribute("list", "dm-labels");
    input.value = current == null ? "" : current;
    return input;
  }

  // ``typed``: the results columns' text box even where a pick list would do ("Other text…")
  function valueControl(row, options, type, columnId, operator, current, typed) {
    var old = row.querySelector("[data-filter-value]");
    var control;
    var results = RESULT_COLUMNS.indexOf(columnId) >= 0 && operator !== "empty";
    if (results) {
      control = (!typed && labelSelect(options, operator, current)) || labelText(current);
      if (control.tagName === "SELECT") {
        control.addEventListener("change", function () {
          if (control.value !== OTHER) return;
          valueControl(row, options, type, columnId, operator, "", true);
          row.querySelector("[data-filter-value]").focus();
        });
      }
    } else if (operator === "empty" || type === "Boolean") {
      control = document.createElement("select");
      control.appendChild(option("true", operator === "empty" ? "yes" : "true", String(current) !== "false" && String(current) !== "False"));
      control.appendChild(option("false", operator === "empty" ? "no" : "false", String(current) === "false" || String(current) === "False"));
    } else if (columnId === "annotators") {
      control = document.createElement("select");
      (options.members || []).forEach(function (member) {
        control.appendChild(option(String(member.id), member.email, String(member.id) === String(current) || member.email === current));
      });
    } else {
      control = document.createElement("input");
      control.type = type === "Number" ? "number" : type === "Datetime" ? "date" : "text";
      if (type === "Number") control.step = "any";
      control.value = current == null ? "" : current;
      if (type === "Datetime" && control.value.length > 10) control.value = control.value.slice(0, 10);
    }
    control.name = "v";
    control.className = "compact";
    control.setAttribute("data-filter-value", "");
    control.setAttribute("aria-label", "Value");
    old.replaceWith(control);
    var max = row.querySelector("[data-filter-max]");
    var range = operator === "in" || operator === "not_in";
    max.hidden = !range;
    max.type = type === "Datetime" ? "date" : type === "Number" ? "number" : "text";
    if (type === "Number") max.step = "any";
  }

  function fit(row, options, keepValue) {
    var column = row.querySelector("[data-filter-column]");
    var operatorSelect = row.querySelector("[data-filter-operator]");
    var selected = column.options[column.selectedIndex];
    var type = selected && selected.value ? selected.getAttribute("data-type") : "String";
    var allowed = OPERATORS[kind(type)];
    var operator = operatorSelect.value;
    if (allowed.indexOf(operator) < 0) operator = allowed[0];
    operatorSelect.innerHTML = "";
    allowed.forEach(function (op) {
      operatorSelect.appendChild(option(op, (options.operators || {})[op] || op, op === operator));
    });
    row.querySelector("[data-filter-type]").value = selected && selected.value ? type : "";
    var value = row.querySelector("[data-filter-value]");
    valueControl(row, options, kind(type) === "String" ? "String" : type, column.value, operator,
      keepValue ? value.value : "");
    row.classList.toggle("unused", !column.value);
  }

  function init(root, options) {
    var rows = root.querySelector("[data-filter-rows]");
    if (!rows) return;
    var template = rows.lastElementChild.cloneNode(true);
    function wire(row) {
      fit(row, options, true);
      row.querySelector("[data-filter-column]").addEventListener("change", function () { fit(row, options, false); });
      row.querySelector("[data-filter-operator]").addEventListener("change", function () {
        var column = row.querySelector("[data-filter-column]");
        var selected = column.options[column.selectedIndex];
        var type = selected && selected.value ? selected.getAttribute("data-type") : "String";
        var keep = row.querySelector("[data-filter-value]").value;
        valueControl(row, options, kind(type) === "String" ? "String" : type, column.value,
          row.querySelector("[data-filter-operator]").value, keep);
      });
      row.querySelector("[data-remove-filter]").addEventListener("click", function () {
        if (rows.children.length > 1) row.remove();
        else { row.querySelector("[data-filter-column]").value = ""; fit(row, options, false); }
      });
    }
    Array.prototype.forEach.call(rows.querySelectorAll("[data-filter-row]"), wire);
    var add = root.querySelector("[data-add-filter]");
    if (add) {
      add.addEventListener("click", function () {
        var row = template.cloneNode(true);
        rows.appendChild(row);
        wire(row);
        row.querySelector("[data-filter-column]").focus();
      });
    }
  }

  function toQuery(root) {
    var items = [];
    Array.prototype.forEach.call(root.querySelectorAll("[data-filter-row]"), function (row) {
      var column = row.querySelector("[data-filter-column]").value;
      if (!column) return;
      var operator = row.querySelector("[data-filter-operator]").value;
      var type = row.querySelector("[data-filter-type]").value || "String";
      var value = row.querySelector("[data-filter-value]").value;
      if (operator === "in" || operator === "not_in") {
        value = { min: value, max: row.querySelector("[data-filter-max]").value };
      } else if (operator === "empty" || type === "Boolean") {
        value = value === "true";
      }
      items.push({ filter: "filter:tasks:" + column, operator: operator, type: type, value: value });
    });
    var conj = root.querySelector("[name=conj]");
    var within = root.querySelector("[name=within]");
    var filters = { conjunction: conj ? conj.value : "and", items: items };
    if (within && within.value === "annotation") filters.match = "annotation";
    return filters;
  }

  /* Remove every filter row but one, and empty that one (its remove button does it). */
  function clear(root) {
    var buttons = root.querySelectorAll("[data-filter-row] [data-remove-filter]");
    for (var i = buttons.length - 1; i >= 0; i--) buttons[i].click();
  }

  window.DMFilters = { init: init, toQuery: toQuery, clear: clear, OPERATORS: OPERATORS };
})();
