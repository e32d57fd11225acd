//! Editing comfort for the REPL: completion of commands, function names and field names;
//! syntax highlighting from the formula lexer; signature hints; multi-line input while
//! brackets are open.

use std::borrow::Cow;
use std::cell::RefCell;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::stdlib;
use crate::syntax::lexer::{LexErrorKind, Lexer, Tok};

/// The REPL commands, for completion and `:help`.
pub const COMMANDS: &[(&str, &str)] = &[
    (":next", "go to the next sample record"),
    (":prev", "go to the previous sample record"),
    (
        ":record",
        "show the current record; :record N jumps to record N (1-based)",
    ),
    (
        ":load",
        ":load FILE loads sample records (NDJSON, or CSV by extension)",
    ),
    (
        ":help",
        ":help lists commands and functions; :help NAME shows a function",
    ),
    (":type", ":type FORMULA shows the type the checker infers"),
    (":ir", ":ir FORMULA shows the typed IR"),
    (
        ":clif",
        ":clif FORMULA shows the Cranelift code the JIT generates",
    ),
    (
        ":all",
        ":all FORMULA evaluates against every sample, one line each",
    ),
    (
        ":mappings",
        "with --connector: every mapping's result for the current record",
    ),
    (
        ":conditions",
        "with --connector: which conditions pass for the current record",
    ),
    (":quit", "leave (Ctrl-D does too)"),
];

/// The rustyline helper; `fields` is refreshed whenever the current record changes.
#[derive(Default)]
pub struct ReplHelper {
    /// Field names of the current record and the schema.
    pub fields: RefCell<Vec<String>>,
}

/// Brackets still open in `text`, or `None` when a string is unterminated.
pub fn open_brackets(text: &str) -> Option<usize> {
    let mut depth: usize = 0;
    for tok in Lexer::new(text) {
        match tok {
            Ok((_, Tok::LParen | Tok::LBracket, _)) => depth += 1,
            Ok((_, Tok::RParen | Tok::RBracket, _)) => depth = depth.saturating_sub(1),
            Err(e) if e.kind == LexErrorKind::UnterminatedString => return None,
            _ => {}
        }
    }
    Some(depth)
}

/// True while the input needs more lines (open brackets or an unterminated string).
pub fn incomplete(text: &str) -> bool {
    !text.trim_start().starts_with(':') && open_brackets(text) != Some(0)
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = before.get(start..).unwrap_or("");
        let mut out = Vec::new();
        if word.starts_with(':') && start == 0 {
            for (c, _) in COMMANDS {
                if c.starts_with(word) {
                    out.push(Pair {
                        display: c.to_string(),
                        replacement: c.to_string(),
                    });
                }
            }
            return Ok((start, out));
        }
        let (start, items) = crate::analysis::complete(line, pos, &self.fields.borrow());
        let out = items
            .into_iter()
            .map(|c| Pair {
                display: c.label,
                replacement: c.insert,
            })
            .collect();
        Ok((start, out))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        if pos != line.len() {
            return None;
        }
        let name = line.strip_suffix('(')?;
        let start = name
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let f = stdlib::lookup(name.get(start..)?)?;
        let signature = f.signature();
        signature.split_once('(').map(|(_, rest)| rest.to_string())
    }
}

const RESET: &str = "\x1b[0m";

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if line.trim_start().starts_with(':') {
            return Cow::Owned(format!("\x1b[1m{line}{RESET}"));
        }
        let mut out = String::with_capacity(line.len() + 32);
        let mut last = 0;
        let tokens: Vec<_> = Lexer::new(line).collect();
        for (i, tok) in tokens.iter().enumerate() {
            let Ok((start, tok, end)) = tok else { break };
            let color = match tok {
                Tok::Str(_) => "\x1b[32m",
                Tok::Number(_) => "\x1b[36m",
                Tok::Field(_) => "\x1b[33m",
                Tok::True | Tok::False | Tok::Null | Tok::And | Tok::Or | Tok::Not => "\x1b[35m",
                Tok::Ident(_) if matches!(tokens.get(i + 1), Some(Ok((_, Tok::LParen, _)))) => {
                    "\x1b[34m"
                }
                _ => "",
            };
            out.push_str(line.get(last..*start).unwrap_or(""));
            let text = line.get(*start..*end).unwrap_or("");
            if color.is_empty() {
                out.push_str(text);
            } else {
                out.push_str(color);
                out.push_str(text);
                out.push_str(RESET);
            }
            last = *end;
        }
        out.push_str(line.get(last..).unwrap_or(""));
        Cow::Owned(out)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[90m{hint}{RESET}"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        true
    }
}

/// Every line is accepted as typed; formulas that continue over lines are gathered by
/// [`Continuation`], which shows its own prompt.
impl Validator for ReplHelper {}

/// The prompt of a new input.
pub const PROMPT: &str = "sluice> ";
/// The prompt while an input continues (an open string or bracket).
pub const CONTINUATION_PROMPT: &str = "   ...> ";
/// Said once when an input first continues onto a new line.
pub const CONTINUATION_HINT: &str =
    "(the formula goes on: a string or bracket is open; an empty line ends it, Ctrl-C drops it)";

/// Gathers the lines of one input: a formula continues while a string or bracket is open,
/// and an empty line ends it as it is (so a stray quote cannot swallow what follows).
#[derive(Debug, Default)]
pub struct Continuation {
    pending: String,
}

/// What a line fed to a [`Continuation`] made.
#[derive(Debug, PartialEq, Eq)]
pub enum Fed {
    /// A whole input to handle.
    Input(String),
    /// The input goes on; `first` when this line opened the continuation.
    More {
        /// This is the first continued line.
        first: bool,
    },
    /// Nothing (an empty line with nothing pending).
    Nothing,
}

impl Continuation {
    /// Feeds one line.
    pub fn feed(&mut self, line: &str) -> Fed {
        if !self.pending.is_empty() && line.trim().is_empty() {
            return Fed::Input(std::mem::take(&mut self.pending));
        }
        if self.pending.is_empty() && line.trim().is_empty() {
            return Fed::Nothing;
        }
        let first = self.pending.is_empty();
        if !first {
            self.pending.push('\n');
        }
        self.pending.push_str(line);
        if incomplete(&self.pending) {
            Fed::More { first }
        } else {
            Fed::Input(std::mem::take(&mut self.pending))
        }
    }

    /// The prompt for the next line.
    pub fn prompt(&self) -> &'static str {
        if self.pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION_PROMPT
        }
    }

    /// Drops what is pending (Ctrl-C); what remains at the end of input.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

impl Helper for ReplHelper {}
