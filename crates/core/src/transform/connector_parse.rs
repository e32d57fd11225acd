//! Connector text to the model: TOML (or JSON) through serde, and serde's messages turned
//! into problems with codes, lines and fixes (unknown keys with a did-you-mean, the TOML
//! quoting traps of formulas).

use super::connector::Connector;
use super::connector_reference::{
    self as reference, CONFLICT_RULES, DIRECTIONS, NAMED_FREQUENCIES,
};
use super::problem::ConnectorProblem;
use crate::diagnostics::one_of;
use crate::diagnostics::{codes, did_you_mean, Diag};

/// Parses connector text. When a TOML file does not deserialize, every structural problem
/// of it is reported at once, not only the first one serde met; one that does goes on to
/// `validate`, which reports the rest with the formulas'.
pub(super) fn parse_connector_file(
    text: &str,
    is_json: bool,
) -> Result<Connector, Vec<ConnectorProblem>> {
    parse_connector(text, is_json).map_err(|first| {
        let problems = if is_json {
            Vec::new()
        } else {
            super::connector_shape::shape_problems(text)
        };
        if problems.is_empty() {
            vec![*first]
        } else {
            problems
        }
    })
}

/// Parses connector text (TOML, or JSON when `is_json`).
pub fn parse_connector(text: &str, is_json: bool) -> Result<Connector, Box<ConnectorProblem>> {
    if is_json {
        serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            problem_from_message(&message, Some(e.line()), None)
        })
    } else {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.get(..s.start)
                    .map_or(1, |b| b.matches('\n').count() + 1)
            });
            let line_text = line.and_then(|l| text.lines().nth(l - 1));
            problem_from_message(e.message(), line, line_text)
        })
    }
}

/// Turns serde's message into a problem: unknown keys and values outside their set get
/// their own codes and a did-you-mean; TOML quoting mistakes in a formula get the fix.
fn problem_from_message(
    message: &str,
    line: Option<usize>,
    line_text: Option<&str>,
) -> Box<ConnectorProblem> {
    let first = message.lines().next().unwrap_or(message).to_string();
    let diag = if let Some(key) = quoted_after(&first, "unknown field `") {
        let known: Vec<&str> = reference::KEYS.iter().map(|k| k.key).collect();
        Diag::new(
            codes::E602_CONNECTOR_UNKNOWN_KEY,
            format!("unknown key `{key}`"),
        )
        .maybe_help(did_you_mean(&key, known).map(|k| format!("did you mean `{k}`?")))
    } else if let Some(value) = quoted_after(&first, "unknown variant `") {
        let allowed = [CONFLICT_RULES, DIRECTIONS, NAMED_FREQUENCIES]
            .into_iter()
            .find(|set| set.iter().any(|a| first.contains(&format!("`{a}`"))))
            .unwrap_or(CONFLICT_RULES);
        Diag::new(
            codes::E610_INVALID_SETTING,
            format!("`{value}` is not one of {}", allowed.join(", ")),
        )
        .help(one_of(&value, allowed))
    } else if first.starts_with("missing field") {
        Diag::new(codes::E603_CONNECTOR_MISSING, first)
    } else {
        Diag::new(codes::E601_CONNECTOR_SYNTAX, first.clone())
            .maybe_help(line_text.and_then(|l| toml_quoting_help(&first, l)))
    };
    Box::new(ConnectorProblem {
        diag,
        line,
        rendered: None,
        formula: None,
    })
}

/// The fix for the two TOML quoting traps of formulas: double quotes inside a basic
/// string (`formula = "data("Name")"`), and a backslash in one (`'^A\d{4}$'`).
fn toml_quoting_help(message: &str, line: &str) -> Option<String> {
    let (key, value) = line.split_once('=')?;
    let (key, value, shown) = (key.trim(), value.trim(), line.trim());
    if !value.starts_with('"') || value.starts_with(TRIPLE_DQ) {
        return None;
    }
    if message.contains("escape") {
        let inner = value.trim_matches('"');
        let quote = if inner.contains('\'') { TRIPLE_SQ } else { "'" };
        return Some(format!(
            "in `{shown}` a backslash starts a TOML escape, because \"...\" is a basic string; \
             write the formula in a literal string, where a backslash is just a backslash: \
             {key} = {quote}{inner}{quote}, or double each backslash (\\\\d)"
        ));
    }
    if value.matches('"').count() > 2 {
        let inner = value.get(1..value.rfind('"')?)?;
        return Some(format!(
            "in `{shown}` the `\"` inside the formula ends the TOML string; use single quotes \
             inside the formula ({key} = \"{}\"), or write it in a literal string: {key} = '{inner}' \
             ('''...''' when it holds single quotes too)",
            inner.replace('"', "'"),
        ));
    }
    None
}

const TRIPLE_DQ: &str = "\"\"\"";
const TRIPLE_SQ: &str = "\'\'\'";

/// The text between `prefix` and the next backquote of `message`.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_string)
}
