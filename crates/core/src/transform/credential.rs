//! A credential value in a connector: a literal, an `env:VAR` or a `file:PATH` reference,
//! resolved when a run starts and never printed, or `secret:NAME`, a value kept in the
//! run's store sealed with `SLUICE_SECRET_KEY` (the engine opens it; Sluice Studio puts it
//! there).

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

/// The prefix of a credential kept sealed in the store.
pub const SEALED_PREFIX: &str = "secret:";

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
        } else if let Some(name) = self.sealed() {
            Err(Diag::new(
                codes::E606_CREDENTIAL,
                format!("{place}: secret:{name} is kept sealed in the store, and only a run against that store opens it"),
            ))
        } else {
            Ok(value.clone())
        }
    }

    /// Whether the value is written in the file (not an `env:`, `file:` or `secret:`
    /// reference).
    pub fn is_literal(&self) -> bool {
        !self.0.starts_with("env:") && !self.0.starts_with("file:") && self.sealed().is_none()
    }

    /// The name of a `secret:NAME` credential: a value sealed in the run's store.
    pub fn sealed(&self) -> Option<&str> {
        self.0.strip_prefix(SEALED_PREFIX)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_credential_is_a_reference_opened_only_by_a_run() {
        let sealed = Credential("secret:password".into());
        assert_eq!(sealed.sealed(), Some("password"));
        assert!(!sealed.is_literal(), "export must not redact it to ***");
        let err = sealed.resolve("inbound.credentials.password").unwrap_err();
        assert_eq!(err.code, codes::E606_CREDENTIAL);
        assert!(Credential("hunter2".into()).is_literal());
        assert_eq!(Credential("env:X".into()).sealed(), None);
    }
}
