"use strict";
const text = (v) => (v === null || v === undefined) ? "–" : String(v);
const when = (t) => t ? new Date(t).toLocaleString() : "–";
const $ = (id) => document.getElementById(id);
function cell(row, content, cls) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content); else td.textContent = text(content);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
async function letters(name, td) {
  const answer = await fetch("/connectors/" + encodeURIComponent(name) + "/dead-letters");
  if (!answer.ok) return; // their contents need the admin role
  const body = await answer.json();
  const list = document.createElement("div");
  list.className = "letters";
  for (const letter of body.latest.slice(0, 5)) {
    const line = document.createElement("div");
    const error = letter.error || {};
    line.textContent = (error.code || "") + " " + (error.message || JSON.stringify(letter));
    list.appendChild(line);
  }
  td.appendChild(list);
}
function showLogin(message) {
  $("login").hidden = false;
  $("main").hidden = true;
  $("login-error").textContent = message || "";
}
async function logIn(event) {
  event.preventDefault();
  const token = $("token").value;
  const answer = await fetch("/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({token})});
  $("token").value = "";
  if (!answer.ok) { showLogin("that token is unknown or revoked"); return; }
  const who = await answer.json();
  showWho(who);
  $("login").hidden = true;
  $("main").hidden = false;
  refresh();
}
function showWho(who) {
  $("who-name").textContent = who.name + " (" + who.role + ") ";
  $("logout").hidden = false;
}
async function logOut() {
  await fetch("/logout", {method: "POST"});
  showLogin("logged out");
}

// ---- tabs ----
function selectTab(tab) {
  for (const t of document.querySelectorAll("[role=tab]")) {
    const on = t === tab;
    t.setAttribute("aria-selected", on ? "true" : "false");
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
  if (tab.id === "tab-playground") analyse();
}
function tabKeys(event) {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const at = tabs.indexOf(event.target);
  if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
    const next = tabs[(at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    selectTab(next);
    event.preventDefault();
  }
}

// ---- the connector list: search, pages, grouped by set ----
const list = {all: [], broken: [], page: 0};
/** The health of a connector: failing, errors in its last run, never ran, or ok. */
function health(c) {
  const last = c.last_run || c.last_stored_run;
  if (c.failing || (last && last.status === "failed")) return ["failing", "failing"];
  if (!last) return ["never", "never ran"];
  if (last.failed > 0) return ["errors", "ok, with errors"];
  return ["ok", "ok"];
}
function render() {
  const query = $("search").value.trim().toLowerCase();
  const size = Number($("page-size").value);
  const shown = list.all.filter((c) => c.name.toLowerCase().includes(query));
  const pages = Math.max(1, Math.ceil(shown.length / size));
  list.page = Math.min(list.page, pages - 1);
  const page = shown.slice(list.page * size, (list.page + 1) * size);
  $("page-info").textContent = "page " + (list.page + 1) + " of " + pages;
  $("prev").disabled = list.page === 0;
  $("next").disabled = list.page >= pages - 1;
  const rows = $("connectors");
  rows.replaceChildren();
  const sets = new Map();
  for (const c of page) {
    if (!sets.has(c.set)) sets.set(c.set, []);
    sets.get(c.set).push(c);
  }
  for (const [set, members] of [...sets.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const head = document.createElement("tr");
    head.className = "set";
    head.dataset.set = set;
    const th = document.createElement("th");
    th.colSpan = 11;
    th.scope = "colgroup";
    th.textContent = "Set " + set + " · " + members.length + (members.length === 1 ? " connector" : " connectors");
    head.appendChild(th);
    rows.appendChild(head);
    for (const c of members) rows.appendChild(row(c));
  }
  const broken = $("broken");
  broken.replaceChildren();
  for (const b of list.broken) {
    const p = document.createElement("p");
    p.className = "problem";
    p.textContent = b.file + " is not served:\n" + b.problems;
    broken.appendChild(p);
  }
  const of = shown.length === list.all.length ? "" : " of " + list.all.length;
  $("updated").textContent = shown.length + of + " connectors · updated " + new Date().toLocaleTimeString();
}
function row(c) {
  const row = document.createElement("tr");
  row.dataset.connector = c.name;
  const open = document.createElement("button");
  open.type = "button";
  open.className = "connector-name";
  open.dataset.name = c.name;
  open.textContent = c.name;
  open.title = "its runs over time";
  const name = cell(row, open);
  if (c.failing) {
    const p = document.createElement("div");
    p.className = "problem";
    p.textContent = "failing (" + c.failures_in_a_row + " in a row, retried with backoff): " + c.failing;
    name.appendChild(p);
  }
  if (c.reload_error) {
    const p = document.createElement("div");
    p.className = "problem";
    p.textContent = "changed file not loaded: " + c.reload_error;
    name.appendChild(p);
  }
  const [mark, says] = health(c);
  const h = document.createElement("span");
  h.className = "health " + mark;
  h.textContent = says;
  cell(row, h);
  cell(row, c.active ? "active" : "inactive");
  const state = document.createElement("span");
  state.className = "state " + c.state;
  state.textContent = c.state;
  cell(row, state);
  cell(row, c.frequency);
  // the last run under this server, else the store's (a run before the server started)
  const last = c.last_run || c.last_stored_run;
  cell(row, last ? (last.status + " · " + when(last.ended_at) + " · read " + last.read + ", written " + last.written + ", failed " + last.failed + (last.error ? " · " + last.error : "")) : "never", last && last.status === "failed" ? "failed" : "");
  const t = c.totals;
  cell(row, "read " + t.read + ", written " + t.written + ", filtered " + t.filtered + ", failed " + t.failed);
  cell(row, t.read ? (100 * t.failed / t.read).toFixed(2) + " %" : "–");
  cell(row, last && last.p50_us != null ? (last.p50_us < 1000 ? last.p50_us.toFixed(1) + " µs" : (last.p50_us / 1000).toFixed(1) + " ms") : "–");
  const dl = cell(row, text(c.dead_letters), "dead-letters");
  if (c.dead_letters) letters(c.name, dl);
  const button = document.createElement("button");
  button.textContent = "Run now";
  button.disabled = !c.active || !c.runnable;
  if (!c.runnable) button.title = "runs over the records its webhooks bring";
  button.addEventListener("click", () => fetch("/connectors/" + encodeURIComponent(c.name) + "/run", {method: "POST"}).then(refresh));
  const edit = document.createElement("button");
  edit.type = "button";
  edit.textContent = "Edit";
  edit.className = "edit";
  edit.addEventListener("click", () => document.dispatchEvent(new CustomEvent("studio:edit", {detail: c.name})));
  const actions = cell(row, button);
  actions.appendChild(edit);
  return row;
}
async function refresh() {
  if ($("main").hidden) return;
  try {
    const answer = await fetch("/connectors");
    if (answer.status === 401) { showLogin("this server asks for an API token"); return; }
    const body = await answer.json();
    list.all = body.connectors.slice().sort((a, b) => a.name.localeCompare(b.name));
    list.broken = body.broken_files;
    render();
  } catch (e) {
    $("updated").textContent = "the server does not answer: " + e;
  }
}

// ---- the playground: a formula analysed as it is typed ----
let pending = null;
let asked = 0;
let lastCompletion = {start: 0, items: []};
function records() {
  const raw = $("records").value.trim();
  $("records-problem").textContent = "";
  if (!raw) return [];
  try {
    if (raw.startsWith("[")) return JSON.parse(raw);
    return raw.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  } catch (e) {
    $("records-problem").textContent = "the sample records are not JSON: " + e.message;
    return [];
  }
}
/** Byte offset of the character offset `at` in `s` (the server counts UTF-8 bytes). */
const bytesBefore = (s, at) => new TextEncoder().encode(s.slice(0, at)).length;
/** Character offset of the UTF-8 byte offset `at` in `s`. */
function charsBefore(s, at) {
  const bytes = new TextEncoder().encode(s);
  return new TextDecoder().decode(bytes.slice(0, at)).length;
}
function analyse() {
  clearTimeout(pending);
  pending = setTimeout(ask, 150);
}
async function ask() {
  const formula = $("formula").value;
  const cursor = bytesBefore(formula, $("formula").selectionStart);
  const mine = ++asked;
  const answer = await fetch("/studio/formula", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({formula, records: records(), cursor})});
  if (mine !== asked) return; // a newer question is on its way
  if (answer.status === 401) { showLogin("this server asks for an API token"); return; }
  const body = await answer.json();
  showFindings(formula, body.findings || []);
  $("type").textContent = body.type || "–";
  $("ir").textContent = body.ir || "";
  const values = $("values").tBodies[0];
  values.replaceChildren();
  (body.values || []).forEach((v, i) => {
    const tr = document.createElement("tr");
    cell(tr, String(i + 1));
    if (v.error) cell(tr, v.error.code + ": " + v.error.message, "error");
    else cell(tr, JSON.stringify(v.value));
    values.appendChild(tr);
  });
  showSignature(body.signature);
  showCompletions(formula, body.completion);
}
function showFindings(formula, findings) {
  const list = $("findings");
  list.replaceChildren();
  const marked = $("marked");
  marked.replaceChildren();
  marked.hidden = !findings.length;
  if (!findings.length) return;
  const f = findings[0];
  const from = charsBefore(formula, f.start), to = charsBefore(formula, Math.max(f.end, f.start + 1));
  marked.append(formula.slice(0, from));
  const mark = document.createElement("mark");
  mark.textContent = formula.slice(from, to) || " ";
  marked.append(mark, formula.slice(to));
  for (const finding of findings) {
    const li = document.createElement("li");
    li.dataset.code = finding.code;
    li.textContent = finding.code + ": " + finding.message + (finding.label ? " — " + finding.label : "");
    if (finding.help) {
      const help = document.createElement("span");
      help.className = "help";
      help.textContent = "help: " + finding.help;
      li.appendChild(help);
    }
    list.appendChild(li);
  }
}
function showSignature(signature) {
  const box = $("signature");
  box.replaceChildren();
  if (!signature) return;
  const name = signature.label.slice(0, signature.label.indexOf("(") + 1);
  box.append(name);
  signature.params.forEach((p, i) => {
    if (i) box.append(", ");
    if (i === signature.active) { const b = document.createElement("b"); b.textContent = p; box.append(b); }
    else box.append(p);
  });
  box.append(")");
}
function showCompletions(formula, completion) {
  const box = $("completions");
  box.replaceChildren();
  lastCompletion = completion || {start: 0, items: []};
  const at = $("formula").selectionStart;
  const word = formula.slice(charsBefore(formula, lastCompletion.start), at);
  if (!word && !/['$]$/.test(formula.slice(0, at))) return; // nothing typed: no list
  lastCompletion.items.slice(0, 12).forEach((item, i) => {
    const li = document.createElement("li");
    li.role = "option";
    li.id = "completion-" + i;
    li.textContent = item.label;
    li.title = item.detail + (item.doc ? "\n" + item.doc : "");
    li.setAttribute("aria-selected", i === 0 ? "true" : "false");
    li.addEventListener("mousedown", (e) => { e.preventDefault(); accept(item); });
    box.appendChild(li);
  });
}
function accept(item) {
  const area = $("formula");
  const formula = area.value;
  const from = charsBefore(formula, lastCompletion.start);
  const to = area.selectionStart;
  area.value = formula.slice(0, from) + item.insert + formula.slice(to);
  const at = from + item.insert.length;
  area.setSelectionRange(at, at);
  area.focus();
  analyse();
}
function formulaKeys(event) {
  const options = [...$("completions").children];
  if (!options.length) return;
  const at = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    const next = (at + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
    options.forEach((o, i) => o.setAttribute("aria-selected", i === next ? "true" : "false"));
    $("formula").setAttribute("aria-activedescendant", options[next].id);
    event.preventDefault();
  } else if (event.key === "Tab" && at >= 0) {
    accept(lastCompletion.items[at]);
    event.preventDefault();
  } else if (event.key === "Escape") {
    $("completions").replaceChildren();
  }
}

async function start() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", tabKeys);
  }
  $("search").addEventListener("input", () => { list.page = 0; render(); });
  $("page-size").addEventListener("change", () => { list.page = 0; render(); });
  $("prev").addEventListener("click", () => { list.page -= 1; render(); });
  $("next").addEventListener("click", () => { list.page += 1; render(); });
  $("formula").addEventListener("input", analyse);
  $("formula").addEventListener("click", analyse);
  $("formula").addEventListener("keyup", (e) => { if (e.key.startsWith("Arrow") && !$("completions").children.length) analyse(); });
  $("formula").addEventListener("keydown", formulaKeys);
  $("records").addEventListener("input", analyse);
  const who = await (await fetch("/session")).json();
  if (who.auth_required && !who.name) { showLogin(""); }
  else {
    $("main").hidden = false;
    if (who.auth_required) showWho(who);
    else $("logout").hidden = true;
  }
  refresh();
  setInterval(refresh, 2000);
}
start();
