"use strict";
const text = (v) => (v === null || v === undefined) ? "–" : String(v);
const when = (t) => t ? new Date(t).toLocaleString() : "–";
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
  document.getElementById("login").hidden = false;
  document.getElementById("main").hidden = true;
  document.getElementById("login-error").textContent = message || "";
}
async function logIn(event) {
  event.preventDefault();
  const token = document.getElementById("token").value;
  const answer = await fetch("/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({token})});
  document.getElementById("token").value = "";
  if (!answer.ok) { showLogin("that token is unknown or revoked"); return; }
  const who = await answer.json();
  showWho(who);
  document.getElementById("login").hidden = true;
  document.getElementById("main").hidden = false;
  refresh();
}
function showWho(who) {
  document.getElementById("who-name").textContent = who.name + " (" + who.role + ") ";
  document.getElementById("logout").hidden = false;
}
async function logOut() {
  await fetch("/logout", {method: "POST"});
  showLogin("logged out");
}
async function refresh() {
  if (document.getElementById("main").hidden) return;
  try {
    const answer = await fetch("/connectors");
    if (answer.status === 401) { showLogin("this server asks for an API token"); return; }
    const body = await answer.json();
    const rows = document.getElementById("connectors");
    rows.replaceChildren();
    for (const c of body.connectors) {
      const row = document.createElement("tr");
      row.dataset.connector = c.name;
      const name = cell(row, c.name);
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
      cell(row, c.set);
      const state = document.createElement("span");
      state.className = "state " + c.state;
      state.textContent = c.state;
      cell(row, state);
      cell(row, c.frequency);
      cell(row, when(c.next_run));
      const last = c.last_run;
      cell(row, last ? (last.status + " · " + when(last.ended_at) + " · read " + last.read + ", written " + last.written + ", failed " + last.failed + (last.error ? " · " + last.error : "")) : "never", last && last.status === "failed" ? "failed" : "");
      const t = c.totals;
      cell(row, "read " + t.read + ", written " + t.written + ", filtered " + t.filtered + ", failed " + t.failed);
      cell(row, t.read ? (100 * t.failed / t.read).toFixed(2) + " %" : "–");
      const dl = cell(row, text(c.dead_letters), "dead-letters");
      if (c.dead_letters) letters(c.name, dl);
      const button = document.createElement("button");
      button.textContent = "Run now";
      button.disabled = !c.active || !c.runnable;
      if (!c.runnable) button.title = "runs over the records its webhooks bring";
      button.addEventListener("click", () => fetch("/connectors/" + encodeURIComponent(c.name) + "/run", {method: "POST"}).then(refresh));
      cell(row, button);
      rows.appendChild(row);
    }
    const broken = document.getElementById("broken");
    broken.replaceChildren();
    for (const b of body.broken_files) {
      const p = document.createElement("p");
      p.className = "problem";
      p.textContent = b.file + " is not served:\n" + b.problems;
      broken.appendChild(p);
    }
    document.getElementById("updated").textContent = body.connectors.length + " connectors · updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("updated").textContent = "the server does not answer: " + e;
  }
}
async function start() {
  document.getElementById("login-form").addEventListener("submit", logIn);
  document.getElementById("logout").addEventListener("click", logOut);
  const who = await (await fetch("/session")).json();
  if (who.auth_required && !who.name) { showLogin(""); }
  else {
    document.getElementById("main").hidden = false;
    if (who.auth_required) showWho(who);
    else document.getElementById("logout").hidden = true;
  }
  refresh();
  setInterval(refresh, 2000);
}
start();
