// The answering page: autosave per question, live conditions, conflicts, drafts kept in the browser.
// Progressive enhancement: without this script the form posts every answer to the server.
// Contract: docs/answering.md. Everything built here uses DOM APIs and textContent only.
(function () {
  "use strict";

  const SAVE_DELAY_MS = 1200;
  const MAX_RETRY_S = 30;
  const MAX_SERVER_ERRORS = 3; // a 500 is retried a few times, then the person is told (a 503 or no network: always)
  const REQUEST_TIMEOUT_MS = 90000;
  const CITATION_FIELDS = ["title", "article", "year", "link", "excerpt"];
  const NEVER = { any: [] }; // a condition that never holds
  const DEFAULTS = {
    msgSaving: "Saving…",
    msgSaved: "Saved at {time}",
    msgRetrying: "Not saved — retrying in {seconds} s",
    msgNotSaved: "Not saved",
    msgUnsaved: "{n} answer(s) not saved yet",
    msgAllSaved: "All changes saved",
    msgFailed: "Not saved: the server could not save this answer. Your text is kept on this page; choose Retry, or try again later.",
    msgSignedOut: "Your session has ended. Your text is kept on this page: sign in again in another tab, then choose Retry.",
    msgSignIn: "Sign in (opens a new tab)",
    msgRetry: "Retry",
    msgConflict: "Someone else saved this answer while you were typing. Compare both versions and choose.",
    msgKeepMine: "Keep mine",
    msgKeepTheirs: "Keep theirs",
    msgMerge: "Merge",
    msgSaveMerged: "Save merged",
    msgYours: "Your version",
    msgTheirs: "Saved by {name} at {time}",
    msgDraft: "This answer has changes that were not saved.",
    msgRestore: "Restore my unsaved text",
    msgDiscard: "Discard",
  };

  const Conditions = window.ReviewmechConditions;
  const page = {
    form: null, reviewId: "", conditions: {}, questions: new Map(), order: [], queue: [], busy: null,
    submitting: false, signedOut: false, signedOutNotice: null, savedOnce: false,
  };

  // Small helpers ---------------------------------------------------------------------------------

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function make(tag, properties, children) {
    const element = document.createElement(tag);
    Object.assign(element, properties || {});
    for (const child of children || []) element.append(child);
    return element;
  }

  function button(label, onClick) {
    const element = make("button", { type: "button", textContent: label });
    element.addEventListener("click", onClick);
    return element;
  }

  // A message from the form's data attributes (translated by the server), else English.
  // "{name}" and "%(name)s" are replaced; a translated label without placeholders gets the values appended.
  function message(key, values) {
    const translated = page.form && page.form.dataset[key];
    const template = translated || DEFAULTS[key];
    const params = values || {};
    let used = false;
    const text = template.replace(/\{(\w+)\}|%\((\w+)\)[sd]/g, (whole, a, b) => {
      const name = a || b;
      if (!has(params, name)) return whole;
      used = true;
      return String(params[name]);
    });
    const extra = Object.values(params).filter((v) => v !== "" && v !== null && v !== undefined);
    if (used || !extra.length) return text;
    if (key === "msgRetrying") return `${text} (${params.seconds} s)`;
    return extra.length > 1 ? `${text} ${extra[0]} (${extra.slice(1).join(", ")})` : `${text} ${extra[0]}`;
  }

  // Times in the reader's zone, written as the server writes them (app.js: ReviewmechClock).
  function hoursMinutes(iso) {
    return window.ReviewmechClock.formatTime(iso);
  }

  function dateTime(iso) {
    return window.ReviewmechClock.formatDateTime(iso);
  }

  // Reading and writing the inputs of a question ------------------------------------------------

  function fields(q) {
    return Array.from(q.el.querySelectorAll("input[name], textarea[name], select[name]"));
  }

  function named(q, name) {
    return fields(q).filter((field) => field.name === name);
  }

  function baseName(q) {
    return `a-${q.code}`;
  }

  // Fields named a-CODE-<rest>, with their rest.
  function partFields(q) {
    const prefix = `${baseName(q)}-`;
    return fields(q).filter((f) => f.name.startsWith(prefix)).map((f) => [f, f.name.slice(prefix.length)]);
  }

  function belongsTo(q, field) {
    const base = baseName(q);
    return Boolean(field.name) && (field.name === base || field.name.startsWith(`${base}-`));
  }

  function citationParts(q) {
    const rows = new Map();
    for (const [field, rest] of partFields(q)) {
      const match = /^(\d+)-([a-z]+)$/.exec(rest);
      if (!match || !CITATION_FIELDS.includes(match[2])) continue;
      const index = Number(match[1]);
      if (!rows.has(index)) rows.set(index, {});
      rows.get(index)[match[2]] = field;
    }
    return new Map([...rows.entries()].sort((a, b) => a[0] - b[0]));
  }

  function isBlankCitation(citation) {
    return CITATION_FIELDS.every((part) => !String(citation[part] || "").trim());
  }

  function readCitations(q) {
    const list = [];
    for (const parts of citationParts(q).values()) {
      const citation = {};
      for (const part of CITATION_FIELDS) citation[part] = parts[part] ? parts[part].value : "";
      list.push(citation);
    }
    while (list.length && isBlankCitation(list[list.length - 1])) list.pop(); // the empty rows at the end
    return list;
  }

  function tableCells(q) {
    return partFields(q).map(([field, rest]) => [field, /^([a-z0-9_]+)-([a-z0-9_]+)$/.exec(rest)])
      .filter(([, match]) => match).map(([field, match]) => [field, match[1], match[2]]);
  }

  function readTable(q) {
    const table = {};
    for (const [field, row, column] of tableCells(q)) {
      if (!field.value.trim()) continue;
      if (!has(table, row)) table[row] = {};
      table[row][column] = field.value;
    }
    return table;
  }

  function writeCitations(q, value) {
    const citations = Array.isArray(value) ? value : [];
    while (citationParts(q).size < citations.length + 1 && addCitationRow(q)) { /* one more empty row */ }
    let index = 0;
    for (const parts of citationParts(q).values()) {
      const citation = citations[index] || {};
      for (const part of CITATION_FIELDS) {
        if (parts[part]) parts[part].value = citation[part] === null || citation[part] === undefined ? "" : String(citation[part]);
      }
      index += 1;
    }
  }

  function writeChoices(q, value) {
    const chosen = Array.isArray(value) ? value.map(String) : [value === null || value === undefined ? null : String(value)];
    for (const field of named(q, baseName(q))) {
      if (field.tagName === "SELECT") field.value = chosen[0] || "";
      else field.checked = chosen.includes(field.value);
    }
  }

  function displayChoices(q) {
    return named(q, baseName(q)).filter((f) => f.checked || (f.tagName === "SELECT" && f.value))
      .map((f) => (f.tagName === "SELECT" ? f.selectedOptions[0].textContent : (f.closest("label") || f).textContent).trim())
      .join("; ");
  }

  function single(q) {
    return named(q, baseName(q))[0];
  }

  function writeSingle(q, value) {
    const field = single(q);
    if (field) field.value = value === null || value === undefined ? "" : String(value);
  }

  function displaySingle(q) {
    const value = TYPES[q.type].read(q);
    return value === null || value === undefined ? "" : String(value);
  }

  // A value as the server would store it, to test conditions and to compare two values.
  function parseNumber(text) {
    const cleaned = text.trim().replace(/[\u00a0\u202f ]/g, "");
    if (/^-?\d+$/.test(cleaned)) return parseInt(cleaned, 10);
    if (/^-?\d+[.,]\d+$/.test(cleaned)) return parseFloat(cleaned.replace(",", "."));
    return null;
  }

  const keep = (value) => value;

  // What the script knows of each question type (docs/answering.md lists the inputs and values):
  // read the JSON value from the inputs (undefined when the page has none), write a value into them,
  // display the inputs as text, normalize a value as the server stores it, and whether it can set a
  // value itself (else "keep theirs" fetches the answer again). A new type adds one entry here.
  const CHOICE = {
    read: (q) => {
      if (!single(q)) return undefined;
      for (const field of named(q, baseName(q))) {
        if (field.tagName === "SELECT") return field.value || null;
        if (field.checked) return field.value;
      }
      return null;
    },
    write: writeChoices, display: displayChoices, normalize: keep, writable: true,
  };
  const TYPES = {
    yes_no_partial: CHOICE,
    single_choice: CHOICE,
    multi_choice: {
      read: (q) => (single(q) ? named(q, baseName(q)).filter((f) => f.checked).map((f) => f.value) : undefined),
      write: writeChoices, display: displayChoices, writable: true,
      normalize: (value) => (Array.isArray(value) ? [...value].sort() : value),
    },
    text: {
      read: (q) => (single(q) ? single(q).value : undefined), write: writeSingle, display: displaySingle, writable: true,
      normalize: (value) => (typeof value === "string" ? value.replace(/\r\n?/g, "\n") : value), mergeable: true,
    },
    number: {
      read: (q) => (single(q) ? single(q).value : undefined), write: writeSingle, display: displaySingle, writable: true,
      normalize: (value) => {
        if (typeof value !== "string") return value;
        const number = parseNumber(value);
        return number === null ? value : number;
      },
    },
    date: {
      read: (q) => (single(q) ? single(q).value || null : undefined), write: writeSingle, display: displaySingle,
      writable: true, normalize: (value) => (typeof value === "string" ? value.trim() : value),
    },
    legislation: {
      read: (q) => (citationParts(q).size ? readCitations(q) : undefined),
      write: writeCitations,
      display: (q) => readCitations(q).map((c) => [[c.title, c.article, c.year].filter(Boolean).join(", "), c.link,
        c.excerpt].filter(Boolean).join(" — ")).join("\n"),
      normalize: (value) => (Array.isArray(value) ? value.filter((c) => c && !isBlankCitation(c)).map((c) => {
        const clean = {};
        for (const part of CITATION_FIELDS) clean[part] = String(c[part] || "").trim() || null;
        return clean;
      }) : value),
      writable: false,
    },
    table: {
      read: (q) => (tableCells(q).length ? readTable(q) : undefined),
      write: (q, value) => {
        const table = value && typeof value === "object" ? value : {};
        for (const [field, row, column] of tableCells(q)) {
          const cells = has(table, row) && table[row] && typeof table[row] === "object" ? table[row] : {};
          field.value = has(cells, column) && cells[column] !== null ? String(cells[column]) : "";
        }
      },
      display: (q) => Object.entries(readTable(q)).map(([row, cells]) => `${row}: ${Object.entries(cells)
        .map(([column, cell]) => `${column} ${cell}`).join("; ")}`).join("\n"),
      normalize: (value) => {
        if (!value || typeof value !== "object") return value;
        const table = {};
        for (const [row, cells] of Object.entries(value)) {
          for (const [column, cell] of Object.entries(cells || {})) {
            if (cell === null || String(cell).trim() === "") continue;
            const text = String(cell).trim();
            const number = typeof cell === "number" ? cell : parseNumber(text);
            if (!has(table, row)) table[row] = {};
            table[row][column] = number === null ? (/^(n\/a|na|n\.a\.)$/i.test(text) ? "n/a" : text) : number;
          }
        }
        return table;
      },
      // the cells a problem names, so that only they are marked
      fieldsOf: (q, problem) => tableCells(q).filter(([, row, column]) => problem && problem.params
        && problem.params.row === row && problem.params.column === column).map(([field]) => field),
      writable: false,
    },
  };
  const NO_INPUTS = { read: () => undefined, write: () => {}, display: () => "", normalize: keep, writable: false };

  function typeOf(q) {
    return has(TYPES, q.type) ? TYPES[q.type] : NO_INPUTS;
  }

  function readValue(q) {
    return typeOf(q).read(q);
  }

  function writeValue(q, value) {
    typeOf(q).write(q, value);
  }

  function displayValue(q) {
    return typeOf(q).display(q);
  }

  function normalized(type, value) {
    if (value === undefined || value === null) return null;
    if (typeof value === "string" && !value.trim()) return null;
    return (has(TYPES, type) ? TYPES[type] : NO_INPUTS).normalize(value);
  }

  function sameAnswer(q, a, b) {
    return Conditions.equals(normalized(q.type, a), normalized(q.type, b));
  }

  const serialize = (value) => JSON.stringify(value === undefined ? null : value);

  // The parts of an answer block ------------------------------------------------------------------

  function part(q, attribute, create) {
    let element = q.el.querySelector(`[${attribute}]`);
    if (!element) {
      element = create();
      element.setAttribute(attribute, "");
      q.el.append(element);
    }
    return element;
  }

  function setStatus(q, text) {
    part(q, "data-status", () => make("p", { className: "save-status", role: "status" })).textContent = text;
  }

  // The problems of an answer; a type that knows which of its inputs a problem names marks only those.
  function renderErrors(q, errors, problems) {
    const list = part(q, "data-errors", () => make("ul", { className: "field-errors" }));
    list.replaceChildren(...errors.map((error) => make("li", { textContent: String(error) })));
    const pointed = typeOf(q).fieldsOf ? (problems || []).flatMap((problem) => typeOf(q).fieldsOf(q, problem)) : [];
    for (const field of fields(q)) {
      if (!belongsTo(q, field)) continue;
      const invalid = pointed.length ? pointed.includes(field) : errors.length > 0;
      if (invalid) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
    }
  }

  function conflictBox(q) {
    return part(q, "data-conflict", () => make("div", { className: "conflict" }));
  }

  function updateVersion(q, version) {
    q.version = version;
    q.el.dataset.version = String(version);
    const name = `version-${q.code}`;
    const input = named(q, name)[0] || Array.from(page.form.elements).find((e) => e.name === name);
    if (input) input.value = String(version);
  }

  // Drafts kept in the browser until saved -----------------------------------------------------

  function draftKey(q) {
    return `reviewmech:draft:${page.reviewId}:${q.code}`;
  }

  function storeDraft(q) {
    try {
      localStorage.setItem(draftKey(q), JSON.stringify({ value: readValue(q), version: q.version, at: new Date().toISOString() }));
    } catch (error) { /* storage full or refused: the value is still in the page */ }
  }

  function readDraft(q) {
    try {
      const draft = JSON.parse(localStorage.getItem(draftKey(q)) || "null");
      return draft && typeof draft === "object" && has(draft, "value") ? draft : null;
    } catch (error) {
      return null;
    }
  }

  function clearDraft(q) {
    try {
      localStorage.removeItem(draftKey(q));
    } catch (error) { /* nothing to clear */ }
  }

  function offerDraft(q) {
    const draft = readDraft(q);
    if (!draft) return;
    if (serialize(draft.value) === q.saved) {
      clearDraft(q);
      return;
    }
    const notice = make("div", { className: "draft-notice" });
    notice.setAttribute("role", "status");
    notice.append(
      make("p", { textContent: message("msgDraft") }),
      button(message("msgRestore"), () => {
        notice.remove();
        writeValue(q, draft.value);
        if (Number.isInteger(draft.version) && draft.version < q.version) q.version = draft.version; // shows the conflict
        q.force = true;
        edited(q);
      }),
      " ",
      button(message("msgDiscard"), () => {
        notice.remove();
        clearDraft(q);
      }),
    );
    q.el.insertBefore(notice, q.el.querySelector("[data-status]"));
  }

  // Conditions --------------------------------------------------------------------------------------

  function recomputeVisibility() {
    const answers = new Map();
    for (const q of page.order) if (q.known) answers.set(q.code, normalized(q.type, readValue(q)));
    // A question whose conditions name a question this page cannot read keeps the server's decision.
    const items = page.order.map((q) => [q.code, q.fixed ? (q.serverShown ? [] : [NEVER]) : q.conditions]);
    const shown = Conditions.visibleCodes(items, answers, (code, value) => !Conditions.isAnswered(value));
    for (const q of page.order) {
      if (q.el.hidden === shown.has(q.code)) q.el.hidden = !shown.has(q.code);
    }
    updatePageProgress();
  }

  // `shown` maps every code to whether it shows (a list of the shown codes is accepted too).
  function applyShown(shown) {
    if (!shown || typeof shown !== "object") return;
    const entries = Array.isArray(shown) ? page.order.map((q) => [q.code, shown.includes(q.code)]) : Object.entries(shown);
    for (const [code, isShown] of entries) {
      const q = page.questions.get(code);
      if (!q) continue;
      q.serverShown = Boolean(isShown);
      if (q.waitingForShown && q.serverShown) {
        q.waitingForShown = false;
        enqueue(q);
      }
    }
    recomputeVisibility();
  }

  // Saving --------------------------------------------------------------------------------------

  function isDirty(q) {
    return q.editable && (q.force || serialize(readValue(q)) !== q.saved);
  }

  function edited(q) {
    storeDraft(q);
    recomputeVisibility();
    updatePageStatus();
    if (q.conflict) return; // the person chooses in the conflict box first
    if (page.signedOut) {
      q.signedOut = true;
      return;
    }
    schedule(q, SAVE_DELAY_MS);
  }

  function schedule(q, delay) {
    clearTimeout(q.timer);
    q.timer = setTimeout(() => {
      q.timer = null;
      enqueue(q);
    }, delay);
  }

  function clearRetry(q) {
    clearInterval(q.retryTimer);
    q.retryTimer = null;
  }

  function enqueue(q) {
    clearRetry(q);
    clearTimeout(q.timer);
    q.timer = null;
    if (!page.queue.includes(q)) page.queue.push(q);
    pump();
  }

  // One request at a time, in the order of the changes: a follow-up question is saved after the
  // answer that shows it.
  function pump() {
    if (page.busy || !page.queue.length) return;
    const q = page.queue.shift();
    page.busy = save(q).catch(() => retryLater(q)).finally(() => {
      page.busy = null;
      updatePageStatus();
      pump();
    });
  }

  async function save(q) {
    if (q.conflict || q.signedOut) return;
    if (!isDirty(q)) {
      clearDraft(q); // changed back to what is saved
      return;
    }
    const value = readValue(q);
    const body = JSON.stringify({ value, version: q.version });
    setStatus(q, message("msgSaving"));
    q.inFlight = true;
    let answer;
    try {
      answer = await post(q, body);
    } finally {
      q.inFlight = false;
    }
    const data = answer.data || {};
    if (answer.status === 200 && Number.isInteger(data.version)) saved(q, data, serialize(value));
    else if (answer.status === 409) conflicted(q, data, value);
    else if (answer.status === 401) signedOut(q, data);
    else if (answer.status >= 500 && data.saved === true) reloadAnswer(q); // saved, but the answer was lost
    else if (answer.status === 503) retryLater(q, 10); // the database does not answer: wait as the server asks
    else if ([0, 200, 408, 429, 502, 504].includes(answer.status)) retryLater(q);
    else if (answer.status >= 500) serverFailed(q, data);
    else refused(q, data);
  }

  async function post(q, body) {
    const url = page.form.dataset.autosaveUrl.replace("__CODE__", encodeURIComponent(q.code));
    let answer = await request(url, body);
    if (answer.status === 400 && answer.data && answer.data.error === "csrf") {
      const refreshed = await refreshToken();
      if (refreshed === "signed_out") return { status: 401, data: {} };
      if (refreshed) answer = await request(url, body);
    }
    return answer;
  }

  function csrfToken() {
    const input = Array.from(page.form.elements).find((e) => e.name === "csrf_token");
    return input ? input.value : "";
  }

  function isSignInPage(response) {
    try {
      const signIn = new URL(page.form.dataset.signInUrl || "/sign-in", window.location.href);
      return new URL(response.url).pathname === signIn.pathname;
    } catch (error) {
      return false;
    }
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (error) {
      return null;
    }
  }

  // {status, data}; status 0 when the network failed.
  async function request(url, body) {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: "POST", body, credentials: "same-origin", signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      const data = await readJson(response);
      if (data === null) {
        if (response.redirected && isSignInPage(response)) return { status: 401, data: {} };
        return { status: response.ok ? 502 : response.status, data: null }; // not the JSON the contract promises
      }
      return { status: response.status, data };
    } catch (error) {
      return { status: 0, data: null };
    } finally {
      clearTimeout(timeout);
    }
  }

  // A new CSRF token in the form: true, false, or "signed_out".
  async function refreshToken() {
    try {
      const response = await fetch(page.form.dataset.tokenUrl || "/csrf-token", {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (response.status === 401 || (response.redirected && isSignInPage(response))) return "signed_out";
      const data = await readJson(response);
      if (!response.ok || !data || typeof data.csrf_token !== "string") return false;
      const input = Array.from(page.form.elements).find((e) => e.name === "csrf_token");
      if (input) input.value = data.csrf_token;
      return true;
    } catch (error) {
      return false;
    }
  }

  // The page's save status (always in view) and progress -------------------------------------------

  function pageStatus() {
    return page.form.querySelector("[data-page-status]");
  }

  function updatePageStatus() {
    const status = pageStatus();
    if (!status) return;
    const waiting = page.order.filter((q) => q.inFlight || q.timer || q.retryTimer || q.conflict || q.signedOut
      || isDirty(q)).length;
    if (waiting) status.textContent = message("msgUnsaved", { n: waiting });
    else if (page.savedOnce) status.textContent = message("msgAllSaved");
  }

  function fill(element, values) {
    if (!element || !element.dataset.template) return;
    const separator = element.hasAttribute("data-whole-progress") && document.querySelector("[data-page-progress]")
      ? " · " : "";
    element.textContent = separator + element.dataset.template.replace("{answered}", values.answered)
      .replace("{total}", values.total);
  }

  // Required questions of this page shown and answered, counted as the server does.
  function updatePageProgress() {
    const required = page.order.filter((q) => q.el.hasAttribute("data-required") && !q.el.hidden);
    const answered = required.filter((q) => {
      const value = q.known ? normalized(q.type, readValue(q)) : (q.serverAnswered ? "answered" : null);
      return Conditions.isAnswered(value);
    });
    fill(document.querySelector("[data-page-progress]"), { answered: answered.length, total: required.length });
  }

  function saved(q, data, sentJson) {
    updateVersion(q, data.version);
    q.saved = sentJson;
    q.force = false;
    q.retryDelay = 0;
    q.serverErrors = 0;
    renderErrors(q, Array.isArray(data.errors) ? data.errors : [], Array.isArray(data.problems) ? data.problems : []);
    setStatus(q, message("msgSaved", { time: hoursMinutes(data.saved_at) }));
    if (serialize(readValue(q)) === sentJson) clearDraft(q);
    else if (!q.timer) schedule(q, SAVE_DELAY_MS); // typed on while this was saving
    applyShown(data.shown);
    page.savedOnce = true;
    if (Array.isArray(data.progress) && data.progress.length === 2) {
      fill(document.querySelector("[data-whole-progress]"), { answered: data.progress[0], total: data.progress[1] });
    }
  }

  function retryLater(q, atLeast) {
    storeDraft(q);
    clearRetry(q);
    q.retryDelay = Math.min(Math.max(q.retryDelay ? q.retryDelay * 2 : 2, atLeast || 0), MAX_RETRY_S);
    let remaining = q.retryDelay;
    setStatus(q, message("msgRetrying", { seconds: remaining }));
    q.retryTimer = setInterval(() => {
      remaining -= 1;
      if (remaining > 0) setStatus(q, message("msgRetrying", { seconds: remaining }));
      else enqueue(q);
    }, 1000);
  }

  // An error of the server: retried a few times, then the text stays on the page and the person chooses Retry.
  function serverFailed(q, data) {
    q.serverErrors = (q.serverErrors || 0) + 1;
    if (q.serverErrors < MAX_SERVER_ERRORS) {
      retryLater(q);
      return;
    }
    storeDraft(q);
    clearRetry(q);
    setStatus(q, message("msgNotSaved"));
    const status = part(q, "data-status", () => make("p", { className: "save-status", role: "status" }));
    status.replaceChildren(make("span", { textContent: message("msgFailed") }), " ", button(message("msgRetry"), () => {
      q.serverErrors = 0;
      enqueue(q);
    }));
  }

  function refused(q, data) {
    setStatus(q, message("msgNotSaved"));
    renderErrors(q, [data.message || message("msgNotSaved")]);
    if (!q.serverShown) q.waitingForShown = true; // saved once the answer that shows it is saved
  }

  // Signed out: keep everything, say so once, retry when the person asks.
  function signedOut(q, data) {
    q.signedOut = true;
    page.signedOut = true;
    storeDraft(q);
    setStatus(q, message("msgNotSaved"));
    showSignedOutNotice(page.form.dataset.msgSignedOut || data.message || DEFAULTS.msgSignedOut);
  }

  function showSignedOutNotice(text) {
    if (page.signedOutNotice) return;
    const link = make("a", { href: page.form.dataset.signInUrl || "/sign-in", target: "_blank", rel: "noopener",
      textContent: message("msgSignIn") });
    const notice = make("div", { className: "signed-out-notice flash flash-error" }, [
      make("p", { textContent: text }), link, " ", button(message("msgRetry"), retrySignedOut),
    ]);
    notice.setAttribute("role", "alert");
    page.form.insertBefore(notice, page.form.firstChild);
    page.signedOutNotice = notice;
  }

  function retrySignedOut() {
    if (!page.signedOutNotice) return;
    page.signedOutNotice.remove();
    page.signedOutNotice = null;
    page.signedOut = false;
    for (const q of page.order) {
      if (!q.signedOut) continue;
      q.signedOut = false;
      enqueue(q);
    }
  }

  // Conflicts -------------------------------------------------------------------------------------

  function conflicted(q, data, sentValue) {
    const current = data.current || {};
    if (Number.isInteger(current.version) && sameAnswer(q, sentValue, current.value)) {
      adopt(q, current, serialize(sentValue)); // the same value is saved already (e.g. an answer lost on the way)
      return;
    }
    q.conflict = { current, message: data.message };
    storeDraft(q);
    setStatus(q, message("msgNotSaved"));
    renderConflict(q);
  }

  function adopt(q, current, savedJson) {
    updateVersion(q, current.version);
    q.saved = savedJson;
    q.force = false;
    q.conflict = null;
    closeConflict(q);
    setStatus(q, message("msgSaved", { time: hoursMinutes(current.at) }));
    if (serialize(readValue(q)) === savedJson) clearDraft(q);
    else schedule(q, SAVE_DELAY_MS);
    recomputeVisibility();
  }

  function versionBlock(label, text) {
    const value = make("div", { className: "conflict-value", textContent: text });
    value.style.whiteSpace = "pre-wrap";
    return make("div", { className: "conflict-version" }, [make("p", {}, [make("strong", { textContent: label })]), value]);
  }

  function renderConflict(q) {
    const { current } = q.conflict;
    const box = conflictBox(q);
    const theirsLabel = message("msgTheirs", { name: current.by || "—", time: dateTime(current.at) });
    const intro = make("p", { textContent: page.form.dataset.msgConflict || q.conflict.message || DEFAULTS.msgConflict });
    intro.setAttribute("role", "alert");
    const actions = make("div", { className: "conflict-actions actions" }, [
      button(message("msgKeepMine"), () => keepMine(q)),
      button(message("msgKeepTheirs"), () => keepTheirs(q)),
    ]);
    if (typeOf(q).mergeable) actions.append(button(message("msgMerge"), () => showMerge(q, actions)));
    box.replaceChildren(
      intro,
      make("div", { className: "grid conflict-versions" }, [
        versionBlock(message("msgYours"), displayValue(q)),
        versionBlock(theirsLabel, current.display === null || current.display === undefined ? "" : String(current.display)),
      ]),
      actions,
    );
    box.hidden = false;
  }

  function closeConflict(q) {
    const box = conflictBox(q);
    box.replaceChildren();
    box.hidden = true;
    q.el.classList.remove("has-conflict");
  }

  function resolveWith(q, version) {
    updateVersion(q, version);
    q.conflict = null;
    q.force = true; // send even if it equals what this page saved last
    closeConflict(q);
    storeDraft(q);
    enqueue(q);
  }

  function keepMine(q) {
    resolveWith(q, q.conflict.current.version);
  }

  function keepTheirs(q) {
    const { current } = q.conflict;
    if (typeOf(q).writable) {
      writeValue(q, current.value);
      adopt(q, current, serialize(readValue(q)));
      clearDraft(q);
    } else {
      reloadAnswer(q);
    }
  }

  function showMerge(q, actions) {
    const { current } = q.conflict;
    const theirs = typeof current.value === "string" ? current.value : String(current.display || "");
    const mine = readValue(q) || "";
    const area = make("textarea", { rows: 8, value: [theirs, mine].filter(Boolean).join("\n\n") });
    area.id = `merge-${q.code}`;
    const label = make("label", { htmlFor: area.id, textContent: message("msgMerge") });
    const saveMerged = button(message("msgSaveMerged"), () => {
      writeValue(q, area.value);
      resolveWith(q, current.version);
      recomputeVisibility();
    });
    actions.replaceWith(make("div", { className: "conflict-merge" }, [label, area, saveMerged]));
    area.focus();
  }

  // Keep theirs for a type this script does not set itself: fetch the section again and take this answer.
  async function reloadAnswer(q) {
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html")
        .querySelector(`.answer[data-question="${CSS.escape(q.code)}"]`);
      if (!response.ok || !fresh) throw new Error("the answer is not in the page");
      const element = document.importNode(fresh, true);
      clearTimeout(q.timer);
      q.timer = null;
      clearRetry(q);
      q.el.replaceWith(element);
      clearDraft(q);
      Object.assign(q, questionFrom(element), { conflict: null, force: false });
      prepareAnswer(q);
      recomputeVisibility();
    } catch (error) {
      setStatus(q, message("msgNotSaved"));
    }
  }

  // Citations -------------------------------------------------------------------------------------

  function citationRow(q, index) {
    const first = Object.values(citationParts(q).get(index) || {})[0];
    if (!first) return null;
    const marked = first.closest("[data-citation], .citation");
    if (marked && q.el.contains(marked)) return marked;
    let node = first;
    while (node.parentElement && node.parentElement !== q.el
           && !Array.from(node.parentElement.querySelectorAll("[name]")).some((f) => belongsTo(q, f) && !node.contains(f))
           && !node.parentElement.querySelector("[data-add-citation]")) {
      node = node.parentElement;
    }
    return node;
  }

  function renumber(row, q, from, to) {
    const pattern = new RegExp(`${q.code.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-${from}(?=-|$)`, "g");
    for (const element of [row, ...row.querySelectorAll("*")]) {
      for (const attribute of ["name", "id", "for", "aria-describedby", "aria-labelledby", "aria-controls"]) {
        const value = element.getAttribute(attribute);
        if (value) element.setAttribute(attribute, value.replace(pattern, `${q.code}-${to}`));
      }
    }
    if (row.hasAttribute("data-citation")) row.setAttribute("data-citation", String(to));
    const legend = row.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+(?!.*\d)/, String(to + 1));
  }

  // Clone the last citation row with the next index and empty values; return the new row.
  function addCitationRow(q) {
    const indices = [...citationParts(q).keys()];
    if (!indices.length) return null;
    const last = indices[indices.length - 1];
    const row = citationRow(q, last);
    if (!row) return null;
    const clone = row.cloneNode(true);
    renumber(clone, q, last, last + 1);
    for (const field of clone.querySelectorAll("input, textarea")) {
      field.defaultValue = "";
      field.value = "";
      field.removeAttribute("aria-invalid");
    }
    row.after(clone);
    return clone;
  }

  // Setting up ------------------------------------------------------------------------------------

  function questionFrom(element) {
    const version = parseInt(element.dataset.version, 10);
    return { el: element, code: element.dataset.question, type: element.dataset.type || "",
      editable: element.dataset.editable === "true", version: Number.isInteger(version) ? version : 0 };
  }

  function prepareAnswer(q) {
    q.saved = serialize(readValue(q));
    q.serverShown = !q.el.hidden;
    for (const add of q.el.querySelectorAll("[data-add-citation]")) add.hidden = !q.editable;
  }

  function makeQuestion(element) {
    const q = Object.assign(questionFrom(element), {
      conditions: [], known: false, fixed: false, timer: null, retryTimer: null, retryDelay: 0, inFlight: false,
      conflict: null, signedOut: false, waitingForShown: false, force: false, saved: "null", serverShown: true,
      serverErrors: 0,
    });
    prepareAnswer(q);
    q.known = readValue(q) !== undefined;
    q.serverAnswered = !q.known && Boolean(q.el.querySelector(".answer-readonly:not(:has(em))"));
    q.conditions = has(page.conditions, q.code) && Array.isArray(page.conditions[q.code]) ? page.conditions[q.code] : [];
    return q;
  }

  function readConditions() {
    const script = document.getElementById("answer-conditions");
    try {
      const conditions = JSON.parse(script ? script.textContent : "{}");
      return conditions && typeof conditions === "object" ? conditions : {};
    } catch (error) {
      return {};
    }
  }

  function questionOf(element) {
    const block = element.closest(".answer[data-question]");
    return block ? page.questions.get(block.dataset.question) : undefined;
  }

  function onInput(event) {
    const field = event.target;
    const q = questionOf(field);
    if (q && q.editable && q.el.contains(field) && belongsTo(q, field)) edited(q);
  }

  function onClick(event) {
    const add = event.target.closest("[data-add-citation]");
    const q = add && questionOf(add);
    if (!q || !q.editable) return;
    event.preventDefault();
    const row = addCitationRow(q);
    const first = row && row.querySelector("input, textarea");
    if (first) first.focus();
  }

  // Posting the whole form: wait for a save on its way so the versions sent are the current ones.
  function onSubmit(event) {
    for (const q of page.order) {
      clearTimeout(q.timer);
      q.timer = null;
      clearRetry(q);
    }
    page.queue = [];
    page.submitting = true;
    if (!page.busy) return;
    event.preventDefault();
    const submitter = event.submitter;
    page.busy.finally(() => page.form.requestSubmit(submitter || undefined));
  }

  function unsavedChanges() {
    return page.order.some((q) => q.inFlight || q.timer || q.retryTimer || q.conflict || isDirty(q));
  }

  function onBeforeUnload(event) {
    if (page.submitting || !unsavedChanges()) return undefined;
    event.preventDefault();
    event.returnValue = "";
    return "";
  }

  // Leaving the tab or getting the network back: save now what waits.
  function flushWaiting() {
    for (const q of page.order) if (q.timer || q.retryTimer) enqueue(q);
  }

  function init() {
    const form = document.getElementById("answers-form");
    if (!form || !Conditions || page.form) return;
    page.form = form;
    page.reviewId = (/\/reviews\/([^/]+)\//.exec(form.dataset.autosaveUrl || "") || [])[1] || "unknown";
    page.conditions = readConditions();
    for (const element of form.querySelectorAll(".answer[data-question]")) {
      const q = makeQuestion(element);
      page.questions.set(q.code, q);
      page.order.push(q);
    }
    const known = new Set(page.order.filter((q) => q.known).map((q) => q.code));
    for (const q of page.order) {
      const referenced = new Set();
      q.conditions.forEach((c) => Conditions.referencedQuestions(c, referenced));
      q.fixed = [...referenced].some((code) => !known.has(code));
    }
    form.addEventListener("input", onInput);
    form.addEventListener("change", onInput);
    form.addEventListener("click", onClick);
    form.addEventListener("submit", onSubmit);
    window.addEventListener("beforeunload", onBeforeUnload);
    window.addEventListener("online", flushWaiting);
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flushWaiting(); });
    for (const q of page.order) if (q.editable) offerDraft(q);
    recomputeVisibility();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
