"use strict";
// Monitoring in Sluice Studio: a connector's runs over time (a chart drawn from the store's
// run records, and the recent runs), and the manual review queue.
(() => {
  const $ = (id) => document.getElementById(id);
  const svg = (tag, attrs) => {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  };
  const micros = (us) => us == null ? "–" : us < 1000 ? us.toFixed(1) + " µs" : (us / 1000).toFixed(1) + " ms";

  /** Records read (bars, failed in red) and the error rate (a line) of each run, oldest left. */
  function chart(runs) {
    const box = $("chart");
    box.replaceChildren();
    if (!runs.length) { box.textContent = "no runs that read records yet"; return; }
    const w = 720, h = 200, pad = 30;
    const most = Math.max(1, ...runs.map((r) => r.read));
    const step = (w - 2 * pad) / runs.length;
    const total = runs.reduce((n, r) => n + r.read, 0);
    const chartEl = svg("svg", {viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label":
      runs.length + " runs, " + total + " records read, the last with an error rate of " + (100 * runs[runs.length - 1].error_rate).toFixed(2) + " %"});
    chartEl.appendChild(svg("line", {x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#889"}));
    const line = [];
    runs.forEach((r, i) => {
      const x = pad + i * step;
      const height = (h - 2 * pad) * r.read / most;
      const bar = svg("rect", {x: x + 1, y: h - pad - height, width: Math.max(1, step - 2), height, fill: "#8fb8e6", class: "run-bar"});
      const title = svg("title", {});
      title.textContent = new Date(r.started_at).toLocaleString() + ": read " + r.read + ", failed " + r.failed;
      bar.appendChild(title);
      chartEl.appendChild(bar);
      const failed = (h - 2 * pad) * r.failed / most;
      if (failed > 0) chartEl.appendChild(svg("rect", {x: x + 1, y: h - pad - failed, width: Math.max(1, step - 2), height: failed, fill: "#d32f2f"}));
      line.push((x + step / 2) + "," + (h - pad - (h - 2 * pad) * Math.min(1, r.error_rate)));
    });
    chartEl.appendChild(svg("polyline", {points: line.join(" "), fill: "none", stroke: "#b00020", "stroke-width": 2}));
    const label = svg("text", {x: pad, y: 16, "font-size": 12, fill: "#445"});
    label.textContent = "records read per run (bars; failed in red), error rate (line) — newest right";
    chartEl.appendChild(label);
    box.appendChild(chartEl);
  }

  /** A duration in seconds as a person reads it. */
  function ago(seconds) {
    if (seconds == null) return "–";
    if (seconds < 1) return "under a second";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return Math.round(seconds / 86400) + " days";
  }
  /** Each run's lag: from the end of the run before it to its own end, the longest a change
   * at the source waited to be synced (runs oldest first). */
  function lags(runs) {
    return runs.map((r, i) => i === 0 || !r.ended_at || !runs[i - 1].ended_at ? null
      : (new Date(r.ended_at) - new Date(runs[i - 1].ended_at)) / 1000);
  }

  /** The run in progress (its counts, rate, how far into its input, its last commit), and the lag. */
  async function current(name) {
    const box = $("current");
    const answer = await fetch("/connectors/" + encodeURIComponent(name));
    if (!answer.ok) return;
    const c = await answer.json();
    box.replaceChildren();
    const lag = document.createElement("p");
    lag.className = "lag";
    lag.textContent = "Lag: " + (c.lag_seconds == null ? "never synced" : "synced " + ago(c.lag_seconds) + " ago") +
      (c.next_run ? " · next run " + new Date(c.next_run).toLocaleTimeString() : "");
    box.appendChild(lag);
    const run = c.current_run;
    if (!run || !run.progress) return;
    const p = run.progress;
    const seconds = Math.max(0.001, (Date.now() - new Date(run.started_at)) / 1000);
    const line = document.createElement("p");
    line.className = "progress";
    line.textContent = "Running for " + ago(seconds) + ": read " + p.read + " (" + Math.round(p.read / seconds) + " records/s), written " +
      p.written + ", filtered " + p.filtered + ", failed " + p.failed +
      (p.last_commit_at ? " · last commit " + ago((Date.now() - new Date(p.last_commit_at)) / 1000) + " ago" : " · nothing committed yet");
    box.appendChild(line);
    if (p.total_bytes) {
      const bar = document.createElement("progress");
      bar.max = p.total_bytes;
      bar.value = p.bytes;
      bar.setAttribute("aria-label", "Input read");
      const pct = document.createElement("span");
      pct.textContent = " " + (100 * p.bytes / p.total_bytes).toFixed(0) + " % of the input";
      box.append(bar, pct);
    }
  }

  /** Each run's lag and p50 latency (lines, each on its own scale), oldest left. */
  function lagChart(runs) {
    const box = $("lag-chart");
    box.replaceChildren();
    const lag = lags(runs);
    if (runs.length < 2) return;
    const w = 720, h = 140, pad = 30;
    const step = (w - 2 * pad) / runs.length;
    const most = Math.max(1, ...lag.filter((l) => l != null));
    const slowest = Math.max(1, ...runs.map((r) => r.p50_us || 0));
    const last = lag[lag.length - 1];
    const el = svg("svg", {viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label":
      "lag per run, at most " + ago(most) + ", the last " + ago(last) + "; p50 latency at most " + micros(slowest)});
    el.appendChild(svg("line", {x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#889"}));
    const points = (values, scale) => values.map((v, i) => v == null ? null : (pad + i * step + step / 2) + "," + (h - pad - (h - 2 * pad) * v / scale)).filter(Boolean).join(" ");
    el.appendChild(svg("polyline", {points: points(lag, most), fill: "none", stroke: "#1a5fb4", "stroke-width": 2, class: "lag-line"}));
    el.appendChild(svg("polyline", {points: points(runs.map((r) => r.p50_us), slowest), fill: "none", stroke: "#8a4500", "stroke-width": 2, "stroke-dasharray": "4 3"}));
    const label = svg("text", {x: pad, y: 16, "font-size": 12, fill: "#445"});
    label.textContent = "lag per run (solid, up to " + ago(most) + "), p50 latency (dashed, up to " + micros(slowest) + ") — newest right";
    el.appendChild(label);
    box.appendChild(el);
  }

  async function detail(name) {
    const answer = await fetch("/connectors/" + encodeURIComponent(name) + "/history?limit=50");
    if (!answer.ok) return;
    const body = await answer.json();
    current(name);
    $("detail").hidden = false;
    if ($("detail").dataset.connector !== name) letterPage.offset = 0;
    $("detail").dataset.connector = name;
    $("detail-name").textContent = name;
    deadLetters(name);
    const runs = body.runs.slice().reverse();
    chart(runs);
    lagChart(runs);
    const lag = lags(runs).reverse();
    const rows = $("history").tBodies[0];
    rows.replaceChildren();
    body.runs.slice(0, 20).forEach((r, i) => {
      const tr = document.createElement("tr");
      for (const v of [new Date(r.started_at).toLocaleString(), r.read, r.written, r.filtered, r.failed, (100 * r.error_rate).toFixed(2) + " %", micros(r.p50_us), ago(lag[i])]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.appendChild(td);
      }
      rows.appendChild(tr);
    });
  }
  /**
   * An editor of one record: its JSON in a text box, Save (which calls `save(record)`, an
   * answer's promise) and Cancel. While one is open, the list it is in is not redrawn.
   */
  const editing = {open: 0};
  function recordEditor(label, text, save, close) {
    editing.open += 1;
    const box = document.createElement("div");
    box.className = "record-editor";
    const area = document.createElement("textarea");
    area.rows = 6;
    area.spellcheck = false;
    area.value = text;
    area.setAttribute("aria-label", label);
    const problem = document.createElement("div");
    problem.className = "problem";
    problem.setAttribute("role", "alert");
    const done = (saved) => { editing.open -= 1; box.remove(); close(saved); };
    const ok = document.createElement("button");
    ok.type = "button";
    ok.textContent = "Save";
    ok.addEventListener("click", async () => {
      let record;
      try { record = JSON.parse(area.value); } catch (e) { problem.textContent = "not JSON: " + e.message; return; }
      if (!record || typeof record !== "object" || Array.isArray(record)) { problem.textContent = "a record is a JSON object"; return; }
      const answer = await save(record);
      if (answer.ok) { done(true); return; }
      const body = await answer.json().catch(() => ({}));
      problem.textContent = body.error ? body.error.code + ": " + body.error.message : "refused (" + answer.status + ")";
    });
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => done(false));
    area.addEventListener("input", () => { problem.textContent = ""; });
    box.append(area, ok, cancel, problem);
    setTimeout(() => area.focus(), 0);
    return box;
  }
  const post = (url, body) => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});

  // ---- a connector's dead letters: paged, by code, fixed, retried ----
  const letterPage = {offset: 0, size: 10};
  async function deadLetters(name) {
    if (editing.open) return; // a record being fixed is not swept away by a refresh
    const code = $("letter-code").value;
    const answer = await fetch("/connectors/" + encodeURIComponent(name) + "/dead-letters?limit=" + letterPage.size + "&offset=" + letterPage.offset + "&code=" + encodeURIComponent(code));
    const list = $("letters-list");
    if (!answer.ok) { list.textContent = answer.status === 403 ? "dead letters are shown to the admin role" : ""; return; }
    const body = await answer.json();
    const select = $("letter-code");
    const wanted = select.value;
    select.replaceChildren(new Option("all codes (" + body.count + ")", ""));
    for (const [c, n] of Object.entries(body.codes)) select.appendChild(new Option(c + " (" + n + ")", c));
    select.value = wanted;
    const last = Math.min(letterPage.offset + letterPage.size, body.matching);
    $("letters-info").textContent = body.matching ? (letterPage.offset + 1) + "–" + last + " of " + body.matching : "none";
    $("letters-prev").disabled = letterPage.offset === 0;
    $("letters-next").disabled = last >= body.matching;
    $("retry-letters").disabled = body.count === 0;
    list.replaceChildren();
    for (const letter of body.letters) {
      const li = document.createElement("li");
      const error = letter.error || {};
      li.dataset.code = error.code || "";
      const code = document.createElement("span");
      code.className = "code";
      code.textContent = (error.code || "") + " ";
      const shown = letter.record === null ? (letter.raw !== undefined ? letter.raw : "") : letter.record;
      li.append(code, "line " + letter.line + ": " + (error.message || "") + (error.target ? " (" + error.target + ")" : "") + " · " + JSON.stringify(shown));
      if (letter.edited) li.append(" (edited)");
      const fix = document.createElement("button");
      fix.type = "button";
      fix.className = "fix-record";
      fix.textContent = "Edit record";
      fix.addEventListener("click", () => {
        fix.disabled = true;
        const text = letter.record === null ? String(shown) : JSON.stringify(letter.record, null, 2);
        li.appendChild(recordEditor("Record of line " + letter.line, text,
          (record) => post("/connectors/" + encodeURIComponent(name) + "/dead-letters/edit", {input: letter.input, line: letter.line, record}),
          () => { fix.disabled = false; deadLetters(name); }));
      });
      li.append(" ", fix);
      list.appendChild(li);
    }
  }
  $("letter-code").addEventListener("change", () => { letterPage.offset = 0; deadLetters($("detail").dataset.connector); });
  $("letters-prev").addEventListener("click", () => { letterPage.offset = Math.max(0, letterPage.offset - letterPage.size); deadLetters($("detail").dataset.connector); });
  $("letters-next").addEventListener("click", () => { letterPage.offset += letterPage.size; deadLetters($("detail").dataset.connector); });
  $("retry-letters").addEventListener("click", async () => {
    const name = $("detail").dataset.connector;
    const answer = await fetch("/connectors/" + encodeURIComponent(name) + "/retry", {method: "POST"});
    const body = await answer.json();
    $("retry-status").textContent = answer.ok ? "retry run " + body.run + " queued" : (body.error ? body.error.message : "refused");
  });

  // a connector's name opens its runs; the open one follows the list's refreshes
  document.addEventListener("click", (e) => {
    const button = e.target.closest(".connector-name");
    if (button) detail(button.dataset.name);
  });
  setInterval(() => { if (!$("detail").hidden && !$("main").hidden) detail($("detail").dataset.connector); }, 2000);

  // ---- the review queue ----
  let asked = 0;
  async function reviews() {
    if (editing.open) return;
    const mine = ++asked;
    const answer = await fetch("/reviews?status=pending");
    const body = answer.ok ? await answer.json() : null;
    if (mine !== asked) return; // a newer look is on its way
    const box = $("reviews");
    if (!body) { box.textContent = answer.status === 403 ? "the review queue needs the operate role" : "cannot read the review queue"; return; }
    if (!body.reviews.length) { box.textContent = "nothing waits for a decision"; return; }
    box.replaceChildren(...body.reviews.map(review));
  }
  function review(r) {
    const div = document.createElement("div");
    div.className = "review";
    div.dataset.review = r.id;
    const h = document.createElement("h3");
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.className = "pick";
    pick.setAttribute("aria-label", "select review " + r.id);
    h.append(pick, " " + r.connector + " · " + r.object_type + " " + r.key_field + " = " + r.key_value);
    const table = document.createElement("table");
    table.innerHTML = "<thead><tr><th scope='col'>Field</th><th scope='col'>Stored</th><th scope='col'>Incoming</th></tr></thead>";
    const tbody = document.createElement("tbody");
    const stored = r.existing || {}, incoming = r.incoming || {};
    for (const field of [...new Set([...Object.keys(stored), ...Object.keys(incoming)])]) {
      const tr = document.createElement("tr");
      const differs = JSON.stringify(stored[field]) !== JSON.stringify(incoming[field]);
      for (const v of [field, JSON.stringify(stored[field]), JSON.stringify(incoming[field])]) {
        const td = document.createElement("td");
        td.textContent = v === undefined ? "–" : v;
        if (differs) td.className = "differs";
        tr.appendChild(td);
      }
      if (differs) tr.dataset.differs = field;
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    const decide = document.createElement("div");
    decide.className = "decide";
    const take = document.createElement("button");
    take.textContent = "Take incoming";
    take.addEventListener("click", () => resolve([r.id], "accept"));
    const keep = document.createElement("button");
    keep.textContent = "Keep stored";
    keep.addEventListener("click", () => resolve([r.id], "reject"));
    const edit = document.createElement("button");
    edit.textContent = "Edit, then take";
    edit.addEventListener("click", () => {
      edit.disabled = true;
      div.appendChild(recordEditor("Incoming record of review " + r.id, JSON.stringify(incoming, null, 2),
        (record) => post("/reviews/" + r.id + "/edit", {record}),
        (saved) => { edit.disabled = false; if (saved) $("reviews-status").textContent = "1 edited and taken"; reviews(); }));
    });
    decide.append(take, keep, edit);
    div.append(h, table, decide);
    return div;
  }
  async function resolve(ids, decision) {
    let done = 0;
    for (const id of ids) {
      const answer = await fetch("/reviews/" + id + "/" + decision, {method: "POST"});
      if (answer.ok) done += 1;
    }
    $("reviews-status").textContent = done + (decision === "accept" ? " taken" : " kept");
    reviews();
  }
  const selected = () => [...document.querySelectorAll(".review .pick:checked")].map((c) => c.closest(".review").dataset.review);
  $("take-selected").addEventListener("click", () => resolve(selected(), "accept"));
  $("keep-selected").addEventListener("click", () => resolve(selected(), "reject"));
  $("tab-reviews").addEventListener("click", reviews);
  $("tab-reviews").addEventListener("focus", reviews);
})();
