//! What the store keeps for `sluice serve`'s access control: API tokens with their roles
//! (only a SHA-256 of each token is stored; the token is shown once, when created) and the
//! ids of the webhook deliveries received (so a replay is recognized).

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::store::db::params;
use crate::store::{Store, StoreError};

/// What a token allows; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Status, runs and metrics.
    Read,
    /// Also: start runs (and later retry and resolve).
    Operate,
    /// Also: connector files and dead-letter contents (raw records).
    Admin,
}

impl Role {
    /// Every role, by its name.
    pub const ALL: [(Role, &'static str); 3] = [
        (Role::Read, "read"),
        (Role::Operate, "operate"),
        (Role::Admin, "admin"),
    ];

    /// The role named `name`.
    pub fn named(name: &str) -> Option<Role> {
        Role::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(role, _)| *role)
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Role::ALL
            .iter()
            .find(|(role, _)| *role == self)
            .map_or("read", |(_, n)| n)
    }
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Its name (who or what holds it).
    pub name: String,
    /// What it allows.
    pub role: Role,
    /// When it was made (RFC 3339).
    pub created_at: String,
}

/// The stored form of a token: its SHA-256, hex. Tokens are 256 random bits, so a plain
/// hash is as strong as a slow one.
pub fn token_hash(token: &str) -> String {
    crate::hex(&Sha256::digest(token.as_bytes()))
}

/// A new token: `slt_` and 256 random bits in base64url.
pub fn new_token() -> Result<String, getrandom::Error> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "slt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

impl Store {
    /// Stores a token's hash under `name` with `role`; `false` when the name is taken.
    pub fn add_token(
        &mut self,
        name: &str,
        role: Role,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let hash = token_hash(token);
        let created = now.to_rfc3339_opts(SecondsFormat::Secs, true);
        self.write_transaction(|tx| {
            Ok(tx.execute(
                "INSERT INTO api_tokens(name, role, hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO NOTHING",
                params![name, role.name(), hash.as_str(), created.as_str()],
            )? == 1)
        })
    }

    /// Removes the token named `name`; `false` when there is none.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool, StoreError> {
        self.write_transaction(|tx| {
            Ok(tx.execute("DELETE FROM api_tokens WHERE name = ?1", params![name])? > 0)
        })
    }

    /// Every token, by name.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = self
            .conn()
            .query(
                "SELECT name, role, created_at FROM api_tokens ORDER BY name",
                params![],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r| TokenInfo {
                name: r.text(0),
                role: Role::named(&r.text(1)).unwrap_or(Role::Read),
                created_at: r.text(2),
            })
            .collect())
    }

    /// The stored token hashes with their names and roles (the server's table of who may
    /// do what).
    pub fn token_hashes(&self) -> Result<Vec<(String, String, Role)>, StoreError> {
        let rows = self
            .conn()
            .query("SELECT hash, name, role FROM api_tokens", params![])
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.text(0),
                    r.text(1),
                    Role::named(&r.text(2)).unwrap_or(Role::Read),
                )
            })
            .collect())
    }

    /// Whether the delivery `id` of `connector` was received before.
    pub fn delivery_seen(&self, connector: &str, id: &str) -> Result<bool, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT count(*) FROM webhook_deliveries WHERE connector = ?1 AND id = ?2",
                params![connector, id],
            )
            .map_err(|e| self.fail(e))?;
        Ok(row.is_some_and(|r| r.int(0) > 0))
    }

    /// Records the delivery `id` of `connector` as received, and forgets the ones received
    /// before `forget_before` (their timestamps are too old to be taken anyway); `false`
    /// when it had been received already (a concurrent replay).
    pub fn record_delivery(
        &mut self,
        connector: &str,
        id: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let old = forget_before.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.write_transaction(|tx| {
            tx.execute(
                "DELETE FROM webhook_deliveries WHERE connector = ?1 AND received_at < ?2",
                params![connector, old.as_str()],
            )?;
            Ok(tx.execute(
                "INSERT INTO webhook_deliveries(connector, id, received_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(connector, id) DO NOTHING",
                params![connector, id, at.as_str()],
            )? == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (Ok(a), Ok(b)) = (new_token(), new_token()) else {
            return;
        };
        assert_ne!(a, b);
        assert!(a.starts_with("slt_") && a.len() == 47, "{a}");
        assert_eq!(token_hash(&a).len(), 64);
        assert!(!token_hash(&a).contains(&a[4..]));
        assert_eq!(Role::named("operate"), Some(Role::Operate));
        assert!(Role::Admin > Role::Operate && Role::Operate > Role::Read);
    }
}
