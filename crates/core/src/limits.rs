//! Resource limits with their defaults; every limit has its own error code, and every
//! limit can be set per run (`--limit NAME=VALUE`).

/// Bounds on what one formula or one record may cost.
///
/// ```
/// let mut limits = sluice_core::limits::Limits::default();
/// limits.max_steps = 10; // a formula taking more steps fails with E311
/// assert_eq!(limits.max_json_depth, 128);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest formula text in bytes (E009).
    pub max_formula_bytes: usize,
    /// Deepest nesting of the syntax tree (E008).
    pub max_depth: usize,
    /// Longest string a function may produce, in bytes (E310).
    pub max_string_bytes: usize,
    /// Largest array a function may produce (E310).
    pub max_array_len: usize,
    /// Largest compiled regular expression, in bytes (E203 for literals, E309 at run time).
    pub max_regex_bytes: usize,
    /// Evaluation steps (IR nodes evaluated) per formula and record (E311).
    pub max_steps: u64,
    /// Longest input record (one NDJSON line), in bytes (E508).
    pub max_record_bytes: usize,
    /// Deepest nesting of a JSON record; at most 128, serde_json's own bound (E509).
    pub max_json_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_formula_bytes: 64 * 1024,
            max_depth: 128,
            max_string_bytes: 16 * 1024 * 1024,
            max_array_len: 1_000_000,
            max_regex_bytes: 1024 * 1024,
            max_steps: 1_000_000,
            max_record_bytes: 16 * 1024 * 1024,
            max_json_depth: 128,
        }
    }
}

/// The names `--limit` takes, with what each bounds.
pub const NAMES: &[(&str, &str)] = &[
    ("formula_bytes", "longest formula text in bytes"),
    ("depth", "deepest nesting of a formula"),
    ("string_bytes", "longest string a function may produce"),
    ("array_len", "largest array a function may produce"),
    ("regex_bytes", "largest compiled regular expression"),
    ("steps", "evaluation steps per formula and record"),
    ("record_bytes", "longest input record in bytes"),
    (
        "json_depth",
        "deepest nesting of a JSON record (at most 128)",
    ),
];

/// A `--limit NAME=VALUE` setting that cannot be applied (E510).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Not `NAME=VALUE`.
    #[error("--limit takes NAME=VALUE, got '{0}'")]
    NotAPair(String),
    /// The value is not a whole number.
    #[error("--limit {name}: '{value}' is not a whole number")]
    NotANumber {
        /// The limit.
        name: String,
        /// The value given.
        value: String,
    },
    /// The value does not fit this machine's sizes.
    #[error("--limit {name}: {value} is too large")]
    TooLarge {
        /// The limit.
        name: String,
        /// The value given.
        value: u64,
    },
    /// No limit has this name.
    #[error("unknown limit '{0}'; limits: {names}", names = NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
    Unknown(String),
}

impl Limits {
    /// Sets one limit from `NAME=VALUE`.
    pub fn set(&mut self, setting: &str) -> Result<(), LimitError> {
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| LimitError::NotAPair(setting.to_string()))?;
        let n: u64 = value
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| LimitError::NotANumber {
                name: name.to_string(),
                value: value.to_string(),
            })?;
        let size = usize::try_from(n).map_err(|_| LimitError::TooLarge {
            name: name.to_string(),
            value: n,
        })?;
        match name.trim() {
            "formula_bytes" => self.max_formula_bytes = size,
            "depth" => self.max_depth = size,
            "string_bytes" => self.max_string_bytes = size,
            "array_len" => self.max_array_len = size,
            "regex_bytes" => self.max_regex_bytes = size,
            "steps" => self.max_steps = n,
            "record_bytes" => self.max_record_bytes = size,
            "json_depth" => self.max_json_depth = size.min(128),
            other => return Err(LimitError::Unknown(other.to_string())),
        }
        Ok(())
    }

    /// Limits with every `NAME=VALUE` setting applied.
    pub fn from_settings(settings: &[String]) -> Result<Limits, LimitError> {
        let mut limits = Limits::default();
        for s in settings {
            limits.set(s)?;
        }
        Ok(limits)
    }
}

/// The nesting depth of JSON text (brackets outside strings), stopping past `limit`.
pub fn json_depth_exceeds(text: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse() {
        let l = Limits::from_settings(&["steps=10".into(), "string_bytes=1_000".into()]).unwrap();
        assert_eq!((l.max_steps, l.max_string_bytes), (10, 1000));
        assert!(Limits::from_settings(&["nope=1".into()]).is_err());
        assert!(Limits::from_settings(&["steps".into()]).is_err());
    }

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[", "b": [1]}"#, 2));
        assert!(json_depth_exceeds(br#"{"a": [[1]]}"#, 2));
    }
}
