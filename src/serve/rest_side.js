"use strict";
// A REST/OData side of the wizard's Inbound and Outbound steps: the service, how it
// authenticates and pages (or writes), its credentials — each an env:VAR or file:PATH
// reference, or typed in and sealed into the server's secret store (secret:NAME in the file;
// never shown again) — and Test connection: log in, fetch one page, show the fields found.
const RestSide = (() => {
  /** The credentials each kind of authentication takes. */
  const CREDENTIALS = {
    none: [], basic: ["user", "password"], api_key: ["api_key"], oauth2: ["client_id", "client_secret"],
    oauth2_code: ["client_id", "client_secret"], session: ["company_db", "user", "password"],
  };
  /** The connection settings each kind of authentication takes. */
  const SETTINGS = {
    api_key: ["api_key_header"], oauth2: ["token_url", "scope"], oauth2_code: ["token_url", "authorize_url", "scope"],
    session: ["login_path"],
  };
  const AUTH_NAMES = {none: "None", basic: "Basic (user and password)", api_key: "API key", oauth2: "OAuth 2.0 client credentials",
    oauth2_code: "OAuth 2.0 authorization code (log in with sluice auth login)", session: "Session login (SAP Business One Service Layer)"};
  const SECRET_KEYS = new Set(["password", "api_key", "client_secret"]);

  function labelled(holder, id, text, control) {
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = text;
    control.id = id;
    holder.append(label, control);
    return control;
  }
  function input(placeholder) {
    const i = document.createElement("input");
    i.autocomplete = "off";
    if (placeholder) i.placeholder = placeholder;
    return i;
  }
  function select(options) {
    const s = document.createElement("select");
    for (const [value, text] of options) {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      s.appendChild(o);
    }
    return s;
  }

  /**
   * The REST side `side` ("inbound" or "outbound") drawn into `holder`. hooks.connector()
   * gives the connector as the wizard has it; hooks.onRecords(records) and
   * hooks.onFields(fields) take what a test found.
   */
  function make(side, holder, hooks) {
    const p = side === "inbound" ? "w-in-" : "w-out-";
    const system = labelled(holder, p + "system", "System (its name, e.g. SAP B1)", input("REST"));
    const url = labelled(holder, p + "url", "Service URL", input("https://erp.example.com/api/v1"));
    const entity = labelled(holder, p + "entity", "Entity (its path under the URL)", input("BusinessPartners"));
    const auth = labelled(holder, p + "auth", "Authentication", select(Object.entries(AUTH_NAMES)));
    const settings = document.createElement("div");
    holder.appendChild(settings);
    let paging, records, write, path;
    if (side === "inbound") {
      paging = labelled(holder, p + "paging", "Paging", select([["next_link", "OData next links"], ["skip", "$top / $skip"], ["page", "Page numbers"], ["cursor", "A cursor in each answer"], ["none", "One answer holds every record"]]));
      records = labelled(holder, p + "records", "Where the records are in an answer (a dotted path; . for the answer itself)", input("value"));
    } else {
      write = labelled(holder, p + "write", "How a record is written", select([["upsert", "Upsert: look it up by its key, then update or create"], ["post", "POST each record"], ["put", "PUT each record at its path"], ["patch", "PATCH each record at its path"]]));
      path = labelled(holder, p + "path", "Path of one record (optional, e.g. customers/{erp_id})", input(""));
    }
    const box = document.createElement("fieldset");
    box.className = "credentials";
    const legend = document.createElement("legend");
    legend.textContent = "Credentials";
    box.appendChild(legend);
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "Typed in, a credential is sealed into the server's secret store when you finish and is never shown again; or name an environment variable or a file the server reads.";
    box.appendChild(hint);
    const rows = document.createElement("div");
    box.appendChild(rows);
    holder.appendChild(box);
    const test = document.createElement("button");
    test.type = "button";
    test.textContent = "Test connection";
    test.id = p + "test";
    const status = document.createElement("div");
    status.setAttribute("role", "status");
    status.className = "tested";
    status.id = p + "tested";
    const actions = document.createElement("div");
    actions.className = "test-connection";
    actions.append(test, status);
    holder.appendChild(actions);

    /** Each credential: how it is given (store, env, file) and its value or reference. */
    let credentials = {};
    function drawAuth(kept) {
      settings.replaceChildren();
      for (const name of SETTINGS[auth.value] || []) {
        const control = labelled(settings, p + "set-" + name, name.replace(/_/g, " "), input(""));
        control.dataset.setting = name;
        if (kept && kept[name] !== undefined) control.value = kept[name];
      }
      rows.replaceChildren();
      const before = credentials;
      credentials = {};
      for (const key of CREDENTIALS[auth.value] || []) {
        const row = document.createElement("div");
        row.className = "credential";
        const how = select([["secret", "Typed in (kept in the secret store)"], ["env", "An environment variable"], ["file", "A file"]]);
        how.setAttribute("aria-label", "How " + key + " is given");
        const value = input("");
        value.setAttribute("aria-label", key);
        const name = document.createElement("span");
        name.className = "credential-name";
        name.textContent = key;
        const entry = before[key] || {how: "secret", value: "", kept: false};
        how.value = entry.how;
        value.value = entry.value;
        const redraw = () => {
          const secret = how.value === "secret";
          value.type = secret && SECRET_KEYS.has(key) ? "password" : "text";
          value.placeholder = secret ? (entry.kept ? "kept in the secret store: type a new value to replace it" : "its value") : how.value === "env" ? "VARIABLE_NAME" : "/path/to/file";
        };
        how.addEventListener("change", () => { entry.how = how.value; entry.value = ""; value.value = ""; redraw(); });
        value.addEventListener("input", () => { entry.value = value.value; });
        redraw();
        credentials[key] = entry;
        row.append(name, how, value);
        rows.appendChild(row);
      }
    }
    auth.addEventListener("change", () => drawAuth());
    drawAuth();

    /** The side's part of the connector (`secret:` for what is typed in or kept). */
    function read() {
      const connection = {url: url.value.trim(), auth: auth.value};
      for (const control of settings.querySelectorAll("[data-setting]")) {
        if (control.value.trim()) connection[control.dataset.setting] = control.value.trim();
      }
      if (paging) { connection.paging = paging.value; if (records.value.trim()) connection.records = records.value.trim(); }
      if (write) { connection.write = write.value; if (path.value.trim()) connection.path = path.value.trim(); }
      const out = {type: system.value.trim() || "REST", connection};
      if (entity.value.trim()) out.entity = entity.value.trim();
      const given = {};
      for (const [key, entry] of Object.entries(credentials)) {
        if (entry.how === "secret") given[key] = "secret:" + key;
        else if (entry.value.trim()) given[key] = entry.how + ":" + entry.value.trim();
      }
      if (Object.keys(given).length) out.credentials = given;
      return out;
    }
    /** The credentials typed in, by `<side>.<key>`: sent to be sealed, never shown again. */
    function secrets() {
      const out = {};
      for (const [key, entry] of Object.entries(credentials)) {
        if (entry.how === "secret" && entry.value) out[side + "." + key] = entry.value;
      }
      return out;
    }
    /** After a save: what was typed in is kept in the store now, and leaves the page. */
    function sealed() {
      for (const entry of Object.values(credentials)) {
        if (entry.how === "secret" && entry.value) { entry.value = ""; entry.kept = true; }
      }
      drawAuth(readSettings());
    }
    function readSettings() {
      const kept = {};
      for (const control of settings.querySelectorAll("[data-setting]")) kept[control.dataset.setting] = control.value;
      return kept;
    }
    /** A served connector's side, as its file has it. */
    function load(s) {
      const c = s.connection || {};
      system.value = s.type || "";
      url.value = c.url || "";
      entity.value = s.entity || "";
      auth.value = c.auth || "none";
      if (paging) { paging.value = c.paging || "next_link"; records.value = c.records || ""; }
      if (write) { write.value = c.write || "upsert"; path.value = c.path || ""; }
      credentials = {};
      for (const [key, value] of Object.entries(s.credentials || {})) {
        const [how, rest] = value.startsWith("env:") ? ["env", value.slice(4)] : value.startsWith("file:") ? ["file", value.slice(5)]
          : value.startsWith("secret:") ? ["secret", ""] : ["secret", value];
        credentials[key] = {how, value: rest, kept: value.startsWith("secret:")};
      }
      drawAuth(c);
    }
    test.addEventListener("click", async () => {
      status.textContent = "testing…";
      try {
        const answer = await fetch("/studio/connections/test", {method: "POST", headers: {"Content-Type": "application/json"},
          body: JSON.stringify({connector: hooks.connector(), side, secrets: secrets()})});
        if (!answer.ok) { status.textContent = "the server refused (" + answer.status + ")"; return; }
        const body = await answer.json();
        if (!body.ok) {
          status.textContent = "failed: " + body.error.code + ": " + body.error.message + (body.error.help ? " (help: " + body.error.help + ")" : "");
          status.classList.add("problem");
          return;
        }
        status.classList.remove("problem");
        status.replaceChildren("connected: " + body.records + " records on the first page (" + body.url + "); fields: " + (body.fields.join(", ") || "none"));
        const use = document.createElement("button");
        use.type = "button";
        if (side === "inbound") {
          use.textContent = "Use these records as the sample";
          use.addEventListener("click", () => { hooks.onRecords(body.sample); use.disabled = true; use.textContent = "used as the sample"; });
        } else {
          use.textContent = "Add these fields as targets";
          use.addEventListener("click", () => { hooks.onFields(body.fields); use.disabled = true; use.textContent = "added as targets"; });
        }
        status.append(" ", use);
      } catch (e) {
        status.textContent = "failed: " + e;
      }
    });
    return {read, secrets, sealed, load};
  }
  return {make};
})();
