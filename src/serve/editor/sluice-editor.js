// The Studio's formula editor: CodeMirror 6 with the Sluice language mode. The analysis
// (problems, completion, signature help) is the server's (`POST /studio/formula`), which is
// the library's own — the same that `sluice check`, the REPL and `sluice lsp` use; the page
// hands it in as `analyse(text, cursor)`. Offsets on the wire are UTF-8 bytes; CodeMirror's
// are UTF-16 code units, so they are converted both ways.
import {EditorState, StateEffect, StateField} from "@codemirror/state";
import {EditorView, keymap, showTooltip, ViewPlugin} from "@codemirror/view";
import {StreamLanguage, HighlightStyle, syntaxHighlighting, bracketMatching} from "@codemirror/language";
import {autocompletion, acceptCompletion, insertBracket, closeBrackets, closeBracketsKeymap, completionKeymap, startCompletion} from "@codemirror/autocomplete";
import {setDiagnostics} from "@codemirror/lint";
import {defaultKeymap, history, historyKeymap} from "@codemirror/commands";
import {tags} from "@lezer/highlight";

const encoder = new TextEncoder();
/** The UTF-8 byte offset of a UTF-16 offset into `text`. */
function toBytes(text, at) {
  return encoder.encode(text.slice(0, at)).length;
}
/** The UTF-16 offset of a UTF-8 byte offset into `text` (clamped to the text). */
function fromBytes(text, bytes) {
  let units = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen >= bytes) break;
    const code = ch.codePointAt(0);
    seen += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    units += ch.length;
  }
  return units;
}

const KEYWORDS = new Set(["and", "or", "not"]);
const ATOMS = new Set(["true", "false", "null"]);

/** The Sluice formula language's tokens, as the lexer (`syntax/lexer.rs`) has them. */
const sluice = StreamLanguage.define({
  name: "sluice",
  startState: () => ({afterDot: false}),
  token(stream, state) {
    if (stream.eatSpace()) return null;
    const afterDot = state.afterDot;
    state.afterDot = false;
    if (stream.match(/^'(?:[^']|'')*'?/)) return "string";
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return "string";
    if (stream.match(/^\$'(?:[^']|'')*'?/) || stream.match(/^\$[A-Za-z_][A-Za-z0-9_]*/)) return "variableName.special";
    if (stream.match(/^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/)) return "number";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
    if (word) {
      const lower = word[0].toLowerCase();
      if (afterDot) return "propertyName";
      if (KEYWORDS.has(lower)) return "keyword";
      if (lower === "null") return "null";
      if (ATOMS.has(lower)) return "bool";
      if (stream.match(/^\s*\(/, false)) return "variableName.function";
      return "variableName";
    }
    if (stream.eat(".")) { state.afterDot = true; return "punctuation"; }
    if (stream.match(/^(?:=>|\?\?|&&|\|\||==|!=|<>|<=|>=|[&!=<>+\-*/])/)) return "operator";
    if (stream.match(/^[()]/)) return "paren";
    if (stream.match(/^[[\]]/)) return "squareBracket";
    if (stream.eat(",")) return "separator";
    stream.next();
    return "invalid";
  },
  languageData: {closeBrackets: {brackets: ["(", "[", "'", "\""]}},
});

// Colours with at least 4.5:1 contrast on white (the page is checked with axe-core).
const colours = HighlightStyle.define([
  {tag: tags.string, color: "#0b6623"},
  {tag: tags.number, color: "#1849a9"},
  {tag: [tags.keyword, tags.bool, tags.null], color: "#8b1a8b", fontWeight: "bold"},
  {tag: tags.function(tags.variableName), color: "#8a4500"},
  {tag: tags.special(tags.variableName), color: "#006270"},
  {tag: tags.propertyName, color: "#5a2f9e"},
  {tag: tags.operator, color: "#333333"},
  {tag: tags.invalid, color: "#b00020", textDecoration: "underline wavy"},
]);

const theme = EditorView.theme({
  "&": {border: "1px solid #767676", borderRadius: "4px", background: "#fff", fontSize: "1rem"},
  "&.cm-focused": {outline: "3px solid #1a5fb4", outlineOffset: "1px"},
  ".cm-content": {fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", minHeight: "2.6em", padding: "4px 0"},
  // the underline as a text decoration: CodeMirror's own is a data: image, which the
  // page's Content Security Policy (`img-src 'self'`) refuses
  ".cm-lintRange-error": {backgroundImage: "none", textDecoration: "underline wavy #b00020", textDecorationSkipInk: "none"},
  ".cm-tooltip.sluice-signature": {padding: "4px 8px", maxWidth: "40em", fontFamily: "ui-monospace, monospace"},
  ".sluice-signature .active": {fontWeight: "bold", textDecoration: "underline"},
  ".sluice-signature .doc": {fontFamily: "system-ui, sans-serif", color: "#333"},
});

/** Signature help: shown above the cursor while it is inside a call. */
const setSignature = StateEffect.define();
const signatureField = StateField.define({
  create: () => null,
  update(value, tr) {
    for (const effect of tr.effects) if (effect.is(setSignature)) return effect.value;
    return value && tr.docChanged ? {...value, pos: tr.changes.mapPos(value.pos)} : value;
  },
  provide: (field) => showTooltip.from(field, (sig) => sig && {
    pos: sig.pos,
    above: true,
    create() {
      const dom = document.createElement("div");
      dom.className = "sluice-signature";
      dom.setAttribute("role", "status");
      // the name, then each parameter (the one being typed marked), then what it returns
      const label = document.createElement("div");
      const open = sig.label.indexOf("(");
      const close = sig.label.lastIndexOf(")");
      label.append(sig.label.slice(0, open + 1));
      sig.params.forEach((param, i) => {
        if (i) label.append(", ");
        const span = document.createElement("span");
        if (i === sig.active) span.className = "active";
        span.textContent = param;
        label.append(span);
      });
      label.append(close > open ? sig.label.slice(close) : ")");
      dom.appendChild(label);
      if (sig.doc) {
        const doc = document.createElement("div");
        doc.className = "doc";
        doc.textContent = sig.doc.split("\n")[0];
        dom.appendChild(doc);
      }
      return {dom};
    },
  }),
});

/** Asks the server again though nothing changed in the editor (the sample records did). */
const reask = StateEffect.define();

/** Asks the server after each pause in typing or moving, and shows what it says. */
function analysis(options) {
  return ViewPlugin.fromClass(class {
    constructor(view) {
      this.view = view;
      this.timer = null;
      this.asked = 0;
      this.schedule(0);
    }
    update(update) {
      if (update.docChanged || update.selectionSet) this.schedule(update.docChanged ? 200 : 120);
      else if (update.transactions.some((tr) => tr.effects.some((e) => e.is(reask)))) this.schedule(0);
    }
    schedule(delay) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.ask(), delay);
    }
    async ask() {
      const view = this.view;
      const text = view.state.doc.toString();
      const head = view.state.selection.main.head;
      const asked = ++this.asked;
      let answer;
      try {
        answer = await options.analyse(text, toBytes(text, head));
      } catch (_) {
        return;
      }
      if (asked !== this.asked || !answer || view.state.doc.toString() !== text) return;
      const diagnostics = (answer.findings || []).map((f) => {
        const from = Math.min(fromBytes(text, f.start), text.length);
        const to = Math.min(Math.max(fromBytes(text, f.end), from), text.length);
        const message = f.code + ": " + f.message + (f.label ? " (" + f.label + ")" : "") + (f.help ? "\nhelp: " + f.help : "");
        return {from, to, severity: "error", source: f.code, message};
      });
      const sig = answer.signature ? {...answer.signature, pos: head} : null;
      view.dispatch(setDiagnostics(view.state, diagnostics), {effects: setSignature.of(sig)});
      if (options.onAnalysed) options.onAnalysed(answer, text);
    }
    destroy() {
      clearTimeout(this.timer);
    }
  });
}

/**
 * Accepting a function inserts its name and both parentheses, the cursor between them; the
 * closing one is the editor's auto-closed bracket, so typing `)` steps over it.
 */
function callOf(name) {
  return (view, _completion, from, to) => {
    view.dispatch({changes: {from, to, insert: name}, selection: {anchor: from + name.length}, userEvent: "input.complete"});
    const head = view.state.selection.main.head;
    view.dispatch(insertBracket(view.state, "(") || {changes: {from: head, insert: "("}, selection: {anchor: head + 1}});
  };
}

/** Completion of functions and field names, as the server proposes them at the cursor. */
function completions(options) {
  return async (context) => {
    const text = context.state.doc.toString();
    // a name being typed, a `$` field, or the quoted name in `data('…` — not any string
    const word = context.matchBefore(/\$?[A-Za-z_][A-Za-z0-9_]*|\$'[^']*|\$|\(\s*'[^']*/);
    if (!word && !context.explicit) return null;
    let answer;
    try {
      answer = await options.analyse(text, toBytes(text, context.pos));
    } catch (_) {
      return null;
    }
    if (context.aborted || !answer || !answer.completion) return null;
    const items = answer.completion.items || [];
    if (!items.length) return null;
    return {
      from: fromBytes(text, answer.completion.start),
      options: items.map((item) => ({
        label: item.label,
        apply: item.insert.endsWith("(") ? callOf(item.insert.slice(0, -1)) : item.insert,
        detail: item.detail || undefined,
        info: item.doc || undefined,
        type: item.kind === "field" ? "variable" : item.kind,
      })),
      filter: false,
    };
  };
}

/**
 * Makes a formula editor inside `parent` (in a shadow root of its own).
 * options: doc (the formula), label (its accessible name), analyse(text, cursorBytes) →
 * the answer of `POST /studio/formula`, onChange(text), onAnalysed(answer, text).
 * Returns {view, get value(), set value(text), focus(), refresh(), destroy()}.
 */
function create(parent, options) {
  // The editor lives in its own shadow root: there CodeMirror's styles are constructed
  // style sheets, which the page's Content Security Policy (`style-src 'self'`) allows,
  // where a <style> element it would write into the page is refused.
  const root = parent.shadowRoot || parent.attachShadow({mode: "open"});
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc: options.doc || "",
      extensions: [
        history(),
        closeBrackets(),
        bracketMatching(),
        sluice,
        syntaxHighlighting(colours),
        theme,
        EditorView.lineWrapping,
        signatureField,
        autocompletion({override: [completions(options)], icons: false}),
        analysis(options),
        keymap.of([{key: "Tab", run: acceptCompletion}, {key: "Ctrl-Space", run: startCompletion},
          ...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap]),
        EditorView.contentAttributes.of({"aria-label": options.label || "Formula", "spellcheck": "false", "autocapitalize": "off"}),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && options.onChange) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    get value() { return view.state.doc.toString(); },
    set value(text) { view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}}); },
    focus() { view.focus(); },
    refresh() { view.dispatch({effects: reask.of(null)}); },
    destroy() { view.destroy(); },
  };
}

window.SluiceEditor = {create};
