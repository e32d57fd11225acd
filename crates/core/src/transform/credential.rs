//! A credential value in a connector: a literal, an `env:VAR` or a `file:PATH` reference,
//! resolved when a run starts and never printed.

use serde::{Deserialize, Serialize};

use crate::diagnostics::{codes, Diag};

/// A credential value. Only text is accepted, and a value of another type is rejected
/// without being echoed: the error names the type, never the secret.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Credential(pub String);

impl<'de> Deserialize<'de> for Credential {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CredentialVisitor)
    }
}

impl Credential {
    /// The value: a literal, an `env:VAR` read from the environment or a `file:PATH` read
    /// from a file; `place` names the setting in errors (which never show the value).
    pub fn resolve(&self, place: &str) -> Result<String, Diag> {
        let Credential(value) = self;
        if let Some(var) = value.strip_prefix("env:") {
            std::env::var(var).map_err(|_| {
                Diag::new(
                    codes::E606_CREDENTIAL,
                    format!("{place}: environment variable {var} is not set"),
                )
            })
        } else if let Some(path) = value.strip_prefix("file:") {
            std::fs::read_to_string(path).map_err(|e| {
                Diag::new(
                    codes::E606_CREDENTIAL,
                    format!("{place}: cannot read {path}: {e}"),
                )
            })
        } else {
            Ok(value.clone())
        }
    }

    /// Whether the value is written in the file (not an `env:` or `file:` reference).
    pub fn is_literal(&self) -> bool {
        !self.0.starts_with("env:") && !self.0.starts_with("file:")
    }
}

/// Accepts text only; every other type is refused by its kind, never its value.
struct CredentialVisitor;

fn refuse_credential<E: serde::de::Error>(kind: &str) -> E {
    E::custom(format!(
        "a credential must be text, found {kind} (value not shown): quote it, or use env:VAR"
    ))
}

impl<'de> serde::de::Visitor<'de> for CredentialVisitor {
    type Value = Credential;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a credential as text")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Credential, E> {
        Ok(Credential(v.to_string()))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Credential, E> {
        Err(refuse_credential("a number"))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Credential, E> {
        Err(refuse_credential("a number"))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Credential, E> {
        Err(refuse_credential("a number"))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Credential, E> {
        Err(refuse_credential("a boolean"))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Credential, A::Error> {
        Err(refuse_credential("a table (or a number)"))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Credential, A::Error> {
        Err(refuse_credential("an array"))
    }
}
