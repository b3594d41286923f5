"use strict";
(function () {
  var form = document.getElementById("case-form");
  var answers = document.getElementById("answers");
  var KINDS = [["urgent_action", "Urgent actions"], ["suspected_cause", "Suspected causes"],
               ["recommendation", "Recommendations"], ["warning", "Warnings"],
               ["finding", "Findings"]];
  var counter = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // -- lists of entries (drugs, imaging, exposures, trial levels) ----------------------
  function addItem(list) {
    var template = list.querySelector(":scope > template");
    var index = String(counter++);
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__i__").join(index);
    var item = holder.firstElementChild;
    list.querySelector(":scope > .items").appendChild(item);
    return item;
  }
  form.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.matches("button.add")) {
      var item = addItem(t.closest("fieldset.list"));
      var first = item.querySelector("input,select,textarea");
      if (first) first.focus();
    } else if (t.matches("button.remove")) {
      var list = t.closest("fieldset.list");
      t.closest(".item").remove();
      list.querySelector("button.add").focus();
    }
  });

  // -- the case as JSON: only what was entered -----------------------------------------
  function setPath(obj, parts, value, append) {
    var node = obj;
    for (var i = 0; i < parts.length - 1; i++) {
      var key = parts[i];
      if (node[key] === undefined) node[key] = /^\d+$/.test(parts[i + 1]) ? {} : {};
      node = node[key];
    }
    var last = parts[parts.length - 1];
    if (append) { (node[last] = node[last] || []).push(value); } else { node[last] = value; }
  }
  function listify(node) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) {
      return Array.isArray(node) ? node.map(listify) : node;
    }
    var keys = Object.keys(node);
    var numeric = keys.length > 0 && keys.every(function (k) { return /^\d+$/.test(k); });
    if (numeric) {
      return keys.sort(function (a, b) { return a - b; }).map(function (k) {
        return listify(node[k]);
      });
    }
    var out = {};
    keys.forEach(function (k) { out[k] = listify(node[k]); });
    return out;
  }
  function collect() {
    var data = {};
    var problems = [];
    form.querySelectorAll("[data-path]").forEach(function (input) {
      var parts = input.dataset.path.split(".");
      var kind = input.dataset.kind;
      if (kind === "enum-list") {
        if (input.checked) setPath(data, parts, input.value, true);
        return;
      }
      var raw = input.value.trim();
      if (raw === "") {
        if (input.validity && input.validity.badInput) {
          problems.push([input, "not a number"]);
        }
        return;
      }
      var value = raw;
      if (kind === "number" || kind === "integer") {
        value = Number(raw);
        if (!isFinite(value) || (kind === "integer" && !/^\d+$/.test(raw))) {
          problems.push([input, "not a number"]);
          return;
        }
      } else if (kind === "bool") {
        value = raw === "true";
      }
      setPath(data, parts, value, false);
    });
    return {data: listify(data), problems: problems};
  }

  // -- showing the assessment ----------------------------------------------------------
  var status = document.getElementById("status");
  var errorBox = document.getElementById("error");
  var out = document.getElementById("assessment");
  var questionsBox = document.getElementById("questions");
  var results = document.getElementById("results");

  function fieldFor(path) {
    var id = "f-" + path.split(".").join("-");
    return document.getElementById(id);
  }
  function showError(message, where) {
    errorBox.textContent = message;
    var target = where ? fieldFor(where) : null;
    if (target) {
      target.setAttribute("aria-invalid", "true");
      target.focus();
    } else {
      errorBox.setAttribute("tabindex", "-1");
      errorBox.focus();
    }
  }
  function conclusionNode(c) {
    var box = el("div", {"class": "conclusion " + c.kind, "data-id": c.id});
    box.appendChild(el("div", {"class": "text"}, c.text));
    box.appendChild(el("div", {"class": "meta"}, (c.citations || []).join("; ") +
      " · rule " + (c.rules || []).join(", ")));
    return box;
  }
  function matchingInputs(needs) {
    var path = needs.replace(/\s*\(.*\)\s*$/, "");
    if (/\[\]$/.test(path)) return {list: path.slice(0, -2)};
    var pattern = new RegExp("^" + path.split(".").map(function (p) {
      return p.replace(/\[\]$/, "").replace(/[^a-z0-9_]/g, "") +
        (/\[\]$/.test(p) ? "\\.\\d+" : "");
    }).join("\\.") + "$");
    var inputs = [];
    form.querySelectorAll("[data-path]").forEach(function (input) {
      if (pattern.test(input.dataset.path) && input.dataset.kind !== "enum-list") {
        inputs.push(input);
      }
    });
    if (inputs.length) return {inputs: inputs};
    var section = document.querySelector('[data-section="' + path.split(".")[0] + '"]') ||
      document.querySelector('[data-list="' + path.split("[")[0] + '"]');
    return {section: section};
  }
  function labelOf(input) {
    var label = form.querySelector('label[for="' + input.id + '"]');
    var text = label ? label.textContent : input.dataset.path;
    var item = input.closest(".item");
    if (item) {
      var first = item.querySelector("select,input");
      if (first && first !== input && first.value) text += " (" + first.value + ")";
    }
    return text;
  }
  function questionNode(q, index) {
    var box = el("div", {"class": "question", "data-needs": q.needs});
    box.appendChild(el("p", {"class": "text"}, q.text));
    box.appendChild(el("p", {"class": "meta"}, "needs " + q.needs + " · " +
      (q.citations || []).join("; ")));
    var found = matchingInputs(q.needs);
    (found.inputs || []).forEach(function (input, j) {
      var proxy = input.cloneNode(true);
      proxy.id = "answer-" + index + "-" + j;
      proxy.removeAttribute("name");
      proxy.removeAttribute("data-path");
      proxy.setAttribute("data-answers", input.dataset.path);
      proxy.value = input.value;
      var row = el("div", {"class": "field"});
      row.appendChild(el("label", {"for": proxy.id}, labelOf(input)));
      row.appendChild(proxy);
      box.appendChild(row);
    });
    var target = found.section || (found.list ? document.querySelector(
      '[data-list="' + found.list + '"]') : null);
    if (!found.inputs && target) {
      var go = el("button", {"type": "button", "class": "goto"},
        found.list ? "Add an entry in " + found.list.split(".").pop().replace(/_/g, " ")
                   : "Go to " + (target.querySelector("legend") || {}).textContent);
      go.addEventListener("click", function () {
        if (found.list) {
          var item = addItem(target);
          var first = item.querySelector("input,select,textarea");
          if (first) first.focus();
        } else {
          var firstField = target.querySelector("input,select,textarea");
          if (firstField) firstField.focus();
        }
      });
      box.appendChild(go);
    }
    return box;
  }
  function render(a) {
    out.textContent = "";
    questionsBox.textContent = "";
    var head = el("p", {"class": "meta", "id": "decision"}, "Decision " + a.decision_id +
      " · knowledge base " + a.kb_version + " · ");
    var link = el("a", {"href": "reports/" + a.decision_id, "target": "_blank"},
      "audit report");
    head.appendChild(link);
    out.appendChild(head);
    (a.conflicts || []).forEach(function (c) {
      out.appendChild(el("p", {"class": "conflict"}, "Contradiction: " + c.first + " and " +
        c.second + " were both concluded."));
    });
    KINDS.forEach(function (kind) {
      var items = a.conclusions.filter(function (c) { return c.kind === kind[0]; });
      if (!items.length) return;
      var section = el("section", {"class": "kind", "id": "kind-" + kind[0]});
      section.appendChild(el("h3", {}, kind[1]));
      items.forEach(function (c) { section.appendChild(conclusionNode(c)); });
      out.appendChild(section);
    });
    if (a.questions.length) {
      a.questions.forEach(function (q, i) { questionsBox.appendChild(questionNode(q, i)); });
      answers.hidden = false;
      status.textContent = "Assessed: " + a.conclusions.length + " conclusions, " +
        a.questions.length + " open questions.";
    } else {
      answers.hidden = true;
      status.textContent = "Assessed: " + a.conclusions.length +
        " conclusions. Nothing is open: every finding the algorithm needs is recorded.";
    }
  }

  function assess() {
    errorBox.textContent = "";
    form.querySelectorAll("[aria-invalid]").forEach(function (n) {
      n.removeAttribute("aria-invalid");
    });
    var collected = collect();
    if (collected.problems.length) {
      var p = collected.problems[0];
      showError(p[0].dataset.path + ": " + p[1], p[0].dataset.path);
      return;
    }
    status.textContent = "Assessing…";
    fetch("assess", {method: "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify(collected.data)})
      .then(function (response) {
        return response.json().then(function (body) { return [response.status, body]; });
      })
      .then(function (pair) {
        if (pair[0] !== 200) {
          var issue = (pair[1].issue || [{}])[0];
          status.textContent = "Not assessed.";
          showError(issue.diagnostics || ("error " + pair[0]),
                    issue.expression ? issue.expression[0] : null);
          return;
        }
        render(pair[1]);
        results.focus();
      })
      .catch(function (err) {
        status.textContent = "Not assessed.";
        showError("The service could not be reached: " + err, null);
      });
  }
  form.addEventListener("submit", function (ev) { ev.preventDefault(); assess(); });
  answers.addEventListener("submit", function (ev) {
    ev.preventDefault();
    answers.querySelectorAll("[data-answers]").forEach(function (proxy) {
      var original = form.querySelector('[data-path="' + proxy.dataset.answers + '"]');
      if (original) original.value = proxy.value;
    });
    assess();
  });
})();
