// Autosave of a proposal draft: ~3 s after the last keystroke the form (one step of the proposal,
// so only that step's fields) is POSTed to its data-autosave-url. Every outcome is shown in
// #autosave-status; the text never leaves the page, and a copy stays in localStorage (one per
// step) until the server has it. Messages come from data-msg-* attributes so that they are
// translated by the template (no inline script: CSP). Submitting the form (the step's buttons)
// waits for a save in flight, so that the form posts the version that save produced.
(function () {
  "use strict";
  var IDLE_MS = 3000;
  var MAX_BACKOFF_MS = 60000;
  var EXPIRED_RETRY_MS = 15000;

  var form = document.querySelector("form[data-autosave-url]");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch) { return; }

  var url = form.dataset.autosaveUrl;
  var storageKey = "ami-draft-" + form.dataset.proposal + (form.dataset.step ? "-" + form.dataset.step : "");
  var versionInput = form.querySelector("input[name=version]");
  var idleTimer = null;
  var retryTimer = null;
  var backoff = 2000;
  var inFlight = false;
  var dirty = false;       // typed since the last successful save
  var editsSinceSend = false;
  var stopped = false;     // after a conflict: never overwrite a colleague's text
  var pendingSubmit = null; // a click on a step button while a save was in flight

  function msg(name, values) {
    var text = status.dataset["msg" + name.charAt(0).toUpperCase() + name.slice(1)] || "";
    Object.keys(values || {}).forEach(function (key) { text = text.replace("%(" + key + ")s", values[key]); });
    return text;
  }

  function show(text, kind) {
    status.textContent = text;
    status.classList.remove("fr-message--error", "fr-message--valid", "fr-message--info");
    if (kind) { status.classList.add("fr-message", "fr-message--" + kind); }
  }

  function fieldValues() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.type === "button") { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      values[el.name] = el.value;
    });
    return values;
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function keepLocalCopy() {
    var store = storage();
    if (!store) { return; }
    try {
      store.setItem(storageKey, JSON.stringify({
        baseVersion: parseInt(versionInput.value, 10), savedLocallyAt: Date.now(), fields: fieldValues()
      }));
    } catch (e) { /* quota full: the page still holds the text */ }
  }

  function dropLocalCopy() {
    var store = storage();
    if (store) { store.removeItem(storageKey); }
  }

  function csrfToken() {
    // The cookie wins: after a new sign-in in another tab it holds the fresh token.
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function schedule(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(save, delay);
  }

  function onSaved(data) {
    versionInput.value = data.version;
    backoff = 2000;
    if (!editsSinceSend) {
      dirty = false;
      dropLocalCopy();
      show(msg("saved", { time: data.saved_at }), "valid");
    } else {
      keepLocalCopy();  // typed during the request: the next save is already scheduled
    }
  }

  function handle(response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      if (response.ok) { onSaved(data); return; }
      if (response.status === 409) {
        stopped = true;
        show(data.error || msg("retry"), "error");
        return;
      }
      if (response.status === 403) {
        show(msg("expired"), "error");
        schedule(EXPIRED_RETRY_MS);
        return;
      }
      if (response.status === 400 || response.status === 404) {
        show(msg("invalid", { error: data.error || response.statusText }), "error");
        return;
      }
      throw new Error("HTTP " + response.status);
    });
  }

  function save() {
    clearTimeout(idleTimer);
    clearTimeout(retryTimer);
    if (stopped || !dirty) { return; }
    if (inFlight) { schedule(1000); return; }
    inFlight = true;
    editsSinceSend = false;
    show(msg("saving"), "info");
    var body = new FormData(form);
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "error",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest", "Accept": "application/json" }
    }).then(handle).catch(function () {
      show(msg("retry"), "error");
      schedule(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }).then(function () {
      inFlight = false;
      if (pendingSubmit) {
        var submitter = pendingSubmit.submitter;
        pendingSubmit = null;
        if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
      }
    });
  }

  function onInput() {
    if (stopped) { keepLocalCopy(); return; }
    dirty = true;
    editsSinceSend = true;
    keepLocalCopy();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(save, IDLE_MS);
  }

  function offerRestore() {
    var store = storage();
    var raw = store && store.getItem(storageKey);
    if (!raw) { return; }
    var copy;
    try { copy = JSON.parse(raw); } catch (e) { dropLocalCopy(); return; }
    var current = fieldValues();
    var differs = Object.keys(copy.fields || {}).some(function (name) {
      // An unanswered radio group is absent from `current` but still on the page.
      return form.elements.namedItem(name) && (current[name] || "") !== copy.fields[name];
    });
    var box = document.getElementById("autosave-restore");
    if (!differs || !box) { dropLocalCopy(); return; }
    box.hidden = false;
    document.getElementById("autosave-restore-yes").addEventListener("click", function () {
      Object.keys(copy.fields).forEach(function (name) {
        var el = form.elements.namedItem(name);
        if (el) { el.value = copy.fields[name]; }  // a RadioNodeList checks the radio of that value
      });
      // Saved against the version the copy was typed on: if a colleague saved since, the server
      // answers 409 and the text stays on screen instead of silently replacing theirs.
      if (copy.baseVersion) { versionInput.value = copy.baseVersion; }
      box.hidden = true;
      onInput();
    });
    document.getElementById("autosave-restore-no").addEventListener("click", function () {
      dropLocalCopy();
      box.hidden = true;
    });
  }

  form.addEventListener("input", onInput);
  form.addEventListener("change", onInput);
  form.addEventListener("submit", function (event) {
    clearTimeout(idleTimer);
    clearTimeout(retryTimer);
    if (inFlight && !stopped) {
      // Posting now would carry the version this save is about to replace: wait for its answer.
      event.preventDefault();
      pendingSubmit = { submitter: event.submitter || null };
      return;
    }
    stopped = true;  // the ordinary save takes over; the local copy stays until the page reloads
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !stopped) { event.preventDefault(); event.returnValue = ""; }
  });
  offerRestore();
})();
