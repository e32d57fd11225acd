"use strict";
// The six-step wizard of Sluice Studio: Information, Inbound, Outbound, Mapping Field,
// Conditions, Completed. It builds the connector's JSON form, has the server check and
// dry-run it (POST /studio/connectors), and writes it only when it passes.
(() => {
  const $ = (id) => document.getElementById(id);
  const state = {step: 1, targets: [], conditions: [], records: [], written: false, editing: null, current: "", versions: []};
  const api = async (body) => {
    body.secrets = {...rest.inbound.secrets(), ...rest.outbound.secrets()};
    const answer = await fetch("/studio/connectors", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!answer.ok) throw new Error("the server refused (" + answer.status + "): " + (await answer.text()));
    return answer.json();
  };

  /** The REST sides, drawn once; a test's records become the sample, its fields targets. */
  const rest = {
    inbound: RestSide.make("inbound", $("w-in-rest"), {
      connector: () => connector(false),
      onRecords: (records) => { $("w-sample").value = records.map((r) => JSON.stringify(r)).join("\n"); },
    }),
    outbound: RestSide.make("outbound", $("w-out-rest"), {
      connector: () => connector(false),
      onFields: (fields) => {
        for (const name of fields) if (!state.targets.some((t) => t.name === name)) state.targets.push({name, kind: "field", value: ""});
      },
    }),
  };
  /** Shows the settings of the kind of side chosen. */
  function showKinds() {
    for (const [select, step] of [["w-in-type", 2], ["w-out-type", 3]]) {
      for (const block of document.querySelectorAll(`#wizard fieldset[data-step="${step}"] [data-kinds]`)) {
        block.hidden = !block.dataset.kinds.split(" ").includes($(select).value);
      }
    }
  }

  function show(step) {
    state.step = step;
    for (const f of document.querySelectorAll("#wizard > fieldset")) f.hidden = Number(f.dataset.step) !== step;
    for (const li of document.querySelectorAll("#w-steps li")) {
      if (Number(li.dataset.step) === step) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    }
    $("w-back").disabled = step === 1;
    $("w-next").hidden = step === 6;
    $("w-error").textContent = "";
    if (step === 4) readSample();
    if (step === 5) renderConditions();
    if (step === 6) review();
    const first = document.querySelector(`#wizard fieldset[data-step="${step}"] input, #wizard fieldset[data-step="${step}"] select`);
    if (first) first.focus();
  }

  async function next() {
    if (state.step === 1) {
      const name = $("w-name").value.trim();
      if (!name) { $("w-error").textContent = "a connector needs a name"; $("w-name").focus(); return; }
      // served already? (asked of the server: the list shows one page)
      if (!state.written && name !== state.editing) {
        const found = await fetch("/connectors?" + new URLSearchParams({q: name}));
        const served = found.ok ? (await found.json()).connectors.some((c) => c.name === name) : false;
        if (served) { $("w-error").textContent = "a connector named " + name + " exists: the name must be unique"; return; }
      }
    }
    show(state.step + 1);
  }

  // ---- the connector as JSON ----
  function connector(activate) {
    const kind = $("w-in-type").value;
    let inbound = {type: kind, active: activate || $("w-in-active").checked};
    if (kind === "store") inbound.object = $("w-in-object").value.trim();
    else if (kind === "rest") inbound = {...rest.inbound.read(), active: inbound.active};
    else inbound.path = $("w-in-path").value.trim() || "records.ndjson";
    let outbound = {type: $("w-out-type").value, active: $("w-out-active").checked};
    if (outbound.type === "rest") outbound = {...rest.outbound.read(), active: outbound.active};
    if ($("w-out-object").value.trim()) outbound.object = $("w-out-object").value.trim();
    if ($("w-out-key").value.trim()) outbound.primary_key = $("w-out-key").value.trim();
    const c = {name: $("w-name").value.trim(), inbound, outbound, mappings: []};
    if ($("w-description").value.trim()) c.description = $("w-description").value.trim();
    for (const t of state.targets) {
      const m = {target: t.name};
      if (t.kind === "field") m.field = t.value;
      else if (t.kind === "formula") m.formula = t.value;
      else m.raw = rawValue(t.value);
      c.mappings.push(m);
    }
    const conditions = state.conditions.filter((x) => x.trim());
    if (conditions.length) c.conditions = conditions;
    return c;
  }
  /** A Raw Data value typed as JSON when it is JSON (a number, true, "text"), else text. */
  function rawValue(text) {
    try { return JSON.parse(text); } catch (_) { return text; }
  }

  // ---- step 4: sample, sources and targets ----
  function readSample() {
    state.records = [];
    for (const line of $("w-sample").value.split("\n")) {
      if (!line.trim()) continue;
      try { state.records.push(JSON.parse(line)); } catch (e) { $("w-error").textContent = "a sample line is not JSON: " + e.message; }
    }
    const fields = [...new Set(state.records.flatMap((r) => Object.keys(r)))];
    const sources = $("w-sources");
    sources.replaceChildren();
    for (const field of fields) {
      const chip = document.createElement("li");
      chip.className = "chip";
      chip.draggable = true;
      chip.dataset.field = field;
      chip.textContent = field;
      chip.tabIndex = 0;
      chip.title = "drag onto a target, or press Enter to map it to the selected target";
      chip.addEventListener("dragstart", (e) => e.dataTransfer.setData("text/plain", field));
      chip.addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        const target = state.targets[state.targets.length - 1];
        if (target) { target.kind = "field"; target.value = field; renderTargets(); }
      });
      sources.appendChild(chip);
    }
    renderTargets();
  }
  function addTarget() {
    const name = $("w-new-target").value.trim();
    if (!name || state.targets.some((t) => t.name === name)) return;
    state.targets.push({name, kind: "field", value: ""});
    $("w-new-target").value = "";
    renderTargets();
  }
  /** The formula editors on show, destroyed when their list is drawn again. */
  const editors = {targets: [], conditions: []};
  function dropEditors(which) {
    for (const e of editors[which]) e.destroy();
    editors[which] = [];
  }
  function renderTargets() {
    const list = $("w-targets");
    dropEditors("targets");
    list.replaceChildren();
    state.targets.forEach((t, i) => {
      const li = document.createElement("li");
      li.dataset.target = t.name;
      const name = document.createElement("span");
      name.textContent = t.name;
      name.className = "target-name";
      const kind = document.createElement("select");
      kind.setAttribute("aria-label", "How " + t.name + " is mapped");
      for (const [v, label] of [["field", "Field"], ["raw", "Raw Data"], ["formula", "Formula"]]) {
        const o = document.createElement("option");
        o.value = v; o.textContent = label; o.selected = t.kind === v;
        kind.appendChild(o);
      }
      kind.addEventListener("change", () => { t.kind = kind.value; renderTargets(); });
      const finding = document.createElement("div");
      finding.className = "finding";
      finding.setAttribute("aria-live", "polite");
      const sample = document.createElement("div");
      sample.className = "sample";
      let value;
      if (t.kind === "formula") {
        value = document.createElement("div");
        formulaEditor(value, {
          doc: t.value,
          label: "Formula of " + t.name,
          records: () => state.records.slice(0, 3),
          onChange: (text) => { t.value = text; },
          onAnalysed: (body) => showFormula(body, finding, sample),
        }).then((editor) => {
          editors.targets.push(editor);
          if (i === state.targets.length - 1) editor.focus();
        }, (e) => { finding.textContent = String(e); });
      } else {
        value = document.createElement("input");
        value.setAttribute("aria-label", (t.kind === "raw" ? "Value" : "Source field") + " of " + t.name);
        value.value = t.value;
        value.addEventListener("input", () => { t.value = value.value; });
      }
      value.className = "target-value";
      li.append(name, kind, value, finding, sample);
      li.addEventListener("dragover", (e) => { e.preventDefault(); li.classList.add("over"); });
      li.addEventListener("dragleave", () => li.classList.remove("over"));
      li.addEventListener("drop", (e) => {
        e.preventDefault();
        t.kind = "field";
        t.value = e.dataTransfer.getData("text/plain");
        renderTargets();
      });
      list.appendChild(li);
    });
  }
  /** A formula's first problem, or its value on the first sample record. */
  function showFormula(body, finding, sample) {
    const f = (body.findings || [])[0];
    finding.textContent = f ? f.code + ": " + f.message + (f.label ? " — " + f.label : "") + (f.help ? " (help: " + f.help + ")" : "") : "";
    const v = (body.values || [])[0];
    sample.textContent = !f && v ? "first sample: " + (v.error ? v.error.code + " " + v.error.message : JSON.stringify(v.value)) : "";
  }

  // ---- step 5: conditions, with how many sample records pass ----
  function renderConditions() {
    const list = $("w-conditions");
    dropEditors("conditions");
    list.replaceChildren();
    state.conditions.forEach((c, i) => {
      const li = document.createElement("li");
      const holder = document.createElement("div");
      holder.className = "condition";
      const passing = document.createElement("span");
      passing.className = "passing";
      passing.setAttribute("aria-live", "polite");
      li.append(holder, passing);
      list.appendChild(li);
      formulaEditor(holder, {
        doc: c,
        label: "Condition " + (i + 1),
        records: () => state.records.slice(0, 3),
        onChange: (text) => { state.conditions[i] = text; countPassing(); },
      }).then((editor) => {
        editors.conditions.push(editor);
        if (i === state.conditions.length - 1 && !c) editor.focus();
      }, (e) => { passing.textContent = String(e); });
    });
    countPassing();
  }
  let counting = null;
  function countPassing() {
    clearTimeout(counting);
    counting = setTimeout(async () => {
      const body = await api({connector: connector(false), records: state.records, write: false}).catch(() => null);
      const spans = [...document.querySelectorAll("#w-conditions .passing")];
      spans.forEach((s, i) => {
        const problem = body && body.problems.find((p) => p.place === "conditions[" + i + "]");
        const count = body && body.conditions.find((c) => c.condition === state.conditions[i]);
        s.textContent = problem ? problem.code + ": " + problem.message : count ? count.passing + " of " + count.of + " sample records pass" : "";
      });
    }, 200);
  }

  // ---- step 6: review, dry run, finish, activate ----
  async function review() {
    $("w-written").textContent = "";
    showVersions();
    try {
      const body = await api({connector: connector(false), records: state.records, write: false});
      showReview(body);
    } catch (e) { $("w-error").textContent = String(e); }
  }
  function showReview(body) {
    $("w-toml").textContent = body.toml;
    const problems = $("w-problems");
    problems.replaceChildren();
    for (const p of body.problems) {
      const div = document.createElement("div");
      div.className = "problem";
      div.textContent = p.code + ": " + (p.place ? p.place + ": " : "") + p.message;
      problems.appendChild(div);
    }
    $("w-finish").disabled = body.problems.length > 0;
    const rows = $("w-dry").tBodies[0];
    rows.replaceChildren();
    (body.dry_run || []).forEach((outcome, i) => {
      const tr = document.createElement("tr");
      const td = (t, cls) => { const c = document.createElement("td"); c.textContent = t; if (cls) c.className = cls; tr.appendChild(c); };
      td(String(i + 1));
      if (outcome.output) td(JSON.stringify(outcome.output) + storeAction(outcome.store));
      else if (outcome.filtered) td("filtered by condition " + outcome.filtered);
      else td("dead letter " + outcome.dead_letter.code + ": " + outcome.dead_letter.message, "failed");
      rows.appendChild(tr);
    });
  }
  /** What a mapped sample record would do to the store. */
  function storeAction(store) {
    if (!store) return "";
    const fields = (store.fields || []).join(", ");
    return {
      create: " → a new record in the store",
      unchanged: " → the stored record, unchanged",
      update: " → updates the stored record (" + fields + ")",
      review: " → a conflict held for review (" + fields + " differ from the stored record)",
      keep_stored: " → the stored record kept (" + fields + " differ; only missing fields are added)",
    }[store.action] || "";
  }
  /** Offers `text` as a file to download. */
  function download(name, type, text) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], {type}));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  async function finish(activate) {
    if (activate && !window.confirm("Activate " + $("w-name").value + "? Its runs then sync live records: changes affect live integrations.")) return;
    try {
      const body = await api({connector: connector(activate), records: state.records, write: true});
      showReview(body);
      if (body.written) {
        state.written = true;
        rest.inbound.sealed();
        rest.outbound.sealed();
        // a served connector edited: its file and versions as they are now (a new one is
        // served only once the server has looked at its directory)
        if (state.editing) {
          const again = await fetch("/studio/connectors/" + encodeURIComponent(state.editing));
          if (again.ok) { const b = await again.json(); state.current = b.text; state.versions = b.versions; showVersions(); }
        }
        if (activate) $("w-in-active").checked = true;
        const active = $("w-in-active").checked;
        $("w-written").textContent = (activate ? "activated: " : active ? "written (active): " : "written (inactive): ") + body.written;
        $("w-activate").hidden = active;
      }
    } catch (e) { $("w-error").textContent = String(e); }
  }

  // ---- editing a served connector, and its versions ----
  async function edit(name) {
    const answer = await fetch("/studio/connectors/" + encodeURIComponent(name));
    document.getElementById("tab-wizard").click();
    if (!answer.ok) { $("w-error").textContent = answer.status === 403 ? "editing connectors needs the admin role" : "cannot read " + name; return; }
    load(await answer.json());
    show(1);
  }
  function load(body) {
    const c = body.connector || {};
    state.editing = c.name;
    state.written = false;
    state.current = body.text || "";
    state.versions = body.versions || [];
    $("w-name").value = c.name || "";
    $("w-description").value = c.description || "";
    const inbound = c.inbound || {}, outbound = c.outbound || {};
    $("w-in-type").value = inbound.connection ? "rest" : inbound.type === "store" || inbound.type === "csv" ? inbound.type : "ndjson";
    if (inbound.connection) rest.inbound.load(inbound);
    $("w-in-path").value = inbound.path || "";
    $("w-in-object").value = inbound.object || "";
    $("w-in-active").checked = inbound.active !== false;
    $("w-out-type").value = outbound.connection ? "rest" : outbound.type === "ndjson" ? "ndjson" : "store";
    if (outbound.connection) rest.outbound.load(outbound);
    showKinds();
    $("w-out-object").value = outbound.object || "";
    $("w-out-key").value = outbound.primary_key || "";
    $("w-out-active").checked = outbound.active !== false;
    $("w-sample").value = (body.records || []).map((r) => JSON.stringify(r)).join("\n");
    state.targets = (c.mappings || []).map((m) => m.formula !== undefined ? {name: m.target, kind: "formula", value: m.formula}
      : m.field !== undefined ? {name: m.target, kind: "field", value: m.field}
      : {name: m.target, kind: "raw", value: typeof m.raw === "string" ? m.raw : JSON.stringify(m.raw)});
    state.conditions = (c.conditions || []).slice();
    $("w-activate").hidden = true;
  }
  function showVersions() {
    $("w-history").hidden = !state.versions.length;
    $("w-diff").replaceChildren();
    const list = $("w-versions");
    list.replaceChildren();
    for (const v of state.versions) {
      const li = document.createElement("li");
      li.dataset.version = v.version;
      li.append("saved before " + new Date(Number(v.version) * 1000).toLocaleString());
      const diff = document.createElement("button");
      diff.type = "button";
      diff.textContent = "Compare";
      diff.addEventListener("click", () => showDiff(v.text, state.current));
      const back = document.createElement("button");
      back.type = "button";
      back.textContent = "Revert to this";
      back.addEventListener("click", () => revert(v.version));
      li.append(diff, back);
      list.appendChild(li);
    }
  }
  /** The lines of `before` and `after`, those only in one marked (a longest-common-subsequence diff). */
  function showDiff(before, after) {
    const a = before.split("\n"), b = after.split("\n");
    const n = a.length, m = b.length;
    const lcs = Array.from({length: n + 1}, () => new Array(m + 1).fill(0));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    const out = $("w-diff");
    out.replaceChildren();
    const line = (text, cls) => { const span = document.createElement("span"); span.textContent = text + "\n"; if (cls) span.className = cls; out.appendChild(span); };
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) { line("  " + a[i]); i++; j++; }
      else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) { line("- " + a[i], "removed"); i++; }
      else { line("+ " + b[j], "added"); j++; }
    }
  }
  async function revert(version) {
    if (!window.confirm("Put back the version saved before " + new Date(Number(version) * 1000).toLocaleString() + "? The file as it is now is kept as a version.")) return;
    const name = state.editing;
    const answer = await fetch("/studio/connectors/" + encodeURIComponent(name) + "/revert", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({version})});
    if (!answer.ok) { $("w-error").textContent = "cannot revert: " + (await answer.text()); return; }
    const reloaded = await fetch("/studio/connectors/" + encodeURIComponent(name));
    load(await reloaded.json());
    await review();
    $("w-written").textContent = "reverted to the version saved before " + new Date(Number(version) * 1000).toLocaleString();
  }
  document.addEventListener("studio:edit", (e) => edit(e.detail));

  async function sampleFile() {
    const file = $("w-sample-file").files[0];
    if (!file) return;
    $("w-sample").value = await file.text();
    readSample();
  }

  $("w-in-type").addEventListener("change", showKinds);
  $("w-out-type").addEventListener("change", showKinds);
  showKinds();
  $("w-next").addEventListener("click", next);
  $("w-back").addEventListener("click", () => show(state.step - 1));
  $("w-add-target").addEventListener("click", addTarget);
  $("w-new-target").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addTarget(); } });
  $("w-add-condition").addEventListener("click", () => { state.conditions.push(""); renderConditions(); });
  $("w-sample").addEventListener("change", readSample);
  $("w-sample-file").addEventListener("change", sampleFile);
  $("w-finish").addEventListener("click", () => finish(false));
  $("w-export-toml").addEventListener("click", () => download(($("w-name").value.trim() || "connector") + ".toml", "application/toml", $("w-toml").textContent));
  $("w-export-json").addEventListener("click", () => download(($("w-name").value.trim() || "connector") + ".json", "application/json", JSON.stringify(connector(false), null, 2) + "\n"));
  $("w-activate").addEventListener("click", () => finish(true));
  $("wizard").addEventListener("submit", (e) => e.preventDefault());
  show(1);
})();
