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
  if (tab.id === "tab-playground") openPlayground();
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
/** The page of connectors shown (the server searches and pages), and how many match. */
const list = {rows: [], broken: [], page: 0, matching: 0, total: 0};
/** The health of a connector: failing, errors in its last run, never ran, or ok. */
function health(c) {
  const last = c.last_run || c.last_stored_run;
  if (c.failing || (last && last.status === "failed")) return ["failing", "failing"];
  if (!last) return ["never", "never ran"];
  if (last.failed > 0) return ["errors", "ok, with errors"];
  return ["ok", "ok"];
}
function render() {
  const size = Number($("page-size").value);
  const pages = Math.max(1, Math.ceil(list.matching / size));
  const page = list.rows;
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
  const of = list.matching === list.total ? "" : " of " + list.total;
  $("updated").textContent = list.matching + of + " connectors · updated " + new Date().toLocaleTimeString();
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
  const progress = c.current_run && c.current_run.progress;
  state.textContent = c.state + (progress ? " · " + progress.read + " read" : "");
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
let listed = 0;
async function refresh() {
  if ($("main").hidden) return;
  const size = Number($("page-size").value);
  const query = new URLSearchParams({q: $("search").value.trim(), offset: String(list.page * size), limit: String(size)});
  const mine = ++listed;
  try {
    const answer = await fetch("/connectors?" + query);
    if (answer.status === 401) { showLogin("this server asks for an API token"); return; }
    const body = await answer.json();
    if (mine !== listed) return; // a newer page is on its way
    // a page past the end (connectors removed, a narrower search): the last one
    const pages = Math.max(1, Math.ceil(body.matching / size));
    if (list.page >= pages) { list.page = pages - 1; refresh(); return; }
    list.rows = body.connectors;
    list.matching = body.matching;
    list.total = body.total;
    list.broken = body.broken_files;
    render();
  } catch (e) {
    $("updated").textContent = "the server does not answer: " + e;
  }
}

// ---- the formula editor (CodeMirror 6 with the Sluice mode), loaded when first needed ----
let editorScript = null;
/** The editor's module (`/editor.js`), loaded once, on the first formula shown. */
function loadEditor() {
  if (!editorScript) {
    editorScript = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/editor.js";
      script.onload = () => resolve(window.SluiceEditor);
      script.onerror = () => { editorScript = null; reject(new Error("the formula editor did not load")); };
      document.head.appendChild(script);
    });
  }
  return editorScript;
}
/** What the server says of `formula` over `records`, with completion at `cursor` (bytes). */
async function analyseFormula(formula, records, cursor) {
  const answer = await fetch("/studio/formula", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({formula, records, cursor})});
  if (answer.status === 401) { showLogin("this server asks for an API token"); throw new Error("logged out"); }
  return answer.json();
}
/**
 * A formula editor in `parent`: options.doc, options.label, options.records() (the sample
 * records it is evaluated on), options.onChange(text), options.onAnalysed(answer).
 */
async function formulaEditor(parent, options) {
  const editor = await loadEditor();
  return editor.create(parent, {...options, analyse: (text, cursor) => analyseFormula(text, options.records(), cursor)});
}

// ---- the playground: a formula analysed as it is typed ----
let playground = null;
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
async function openPlayground() {
  if (playground) { playground.refresh(); return; }
  const parent = $("formula");
  playground = await formulaEditor(parent, {doc: parent.dataset.formula, label: "Formula", records, onAnalysed: showAnalysis});
}
function showAnalysis(body) {
  showFindings(body.findings || []);
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
}
function showFindings(findings) {
  const list = $("findings");
  list.replaceChildren();
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

async function start() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", tabKeys);
  }
  $("search").addEventListener("input", () => { list.page = 0; refresh(); });
  $("page-size").addEventListener("change", () => { list.page = 0; refresh(); });
  $("prev").addEventListener("click", () => { list.page -= 1; refresh(); });
  $("next").addEventListener("click", () => { list.page += 1; refresh(); });
  $("records").addEventListener("input", () => { if (playground) playground.refresh(); });
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
