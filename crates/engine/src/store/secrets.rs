//! The secrets Sluice obtains and must keep (an OAuth 2.0 token set), sealed in the store
//! with the user's key: ChaCha20-Poly1305 with a fresh random nonce per write and the
//! connector and the secret's name as associated data, so that a sealed value moved to
//! another row, altered, or read with another key does not open (E622). The key comes from
//! `SLUICE_SECRET_KEY` (32 bytes in base64, or `env:VAR` / `file:PATH` naming where they
//! are); without it nothing is sealed (E621). A store copied without its key reveals none.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{SecondsFormat, Utc};

use crate::diagnostics::{codes, Diag};
use crate::store::db::params;
use crate::store::Store;

/// The environment variable holding the key (or where it is).
pub const KEY_VARIABLE: &str = "SLUICE_SECRET_KEY";

/// The key secrets are sealed with.
pub struct SecretKey(Key);

impl SecretKey {
    /// The key `SLUICE_SECRET_KEY` gives; E621 when it gives none or not 32 bytes.
    pub fn from_env() -> Result<SecretKey, Diag> {
        let missing = |why: &str| {
            Diag::new(codes::E621_SECRET_KEY, format!("{KEY_VARIABLE}: {why}"))
                .help("set it to 32 random bytes in base64, e.g. `openssl rand -base64 32`, or to env:VAR or file:PATH")
        };
        let value = std::env::var(KEY_VARIABLE).map_err(|_| missing("not set"))?;
        let text = if let Some(var) = value.strip_prefix("env:") {
            std::env::var(var)
                .map_err(|_| missing(&format!("environment variable {var} is not set")))?
        } else if let Some(path) = value.strip_prefix("file:") {
            std::fs::read_to_string(path)
                .map_err(|e| missing(&format!("cannot read {path}: {e}")))?
        } else {
            value
        };
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| missing("not base64"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| missing("not 32 bytes once decoded"))?;
        Ok(SecretKey(Key::from(key)))
    }

    /// The associated data of a secret: its row.
    fn row(connector: &str, name: &str) -> Vec<u8> {
        [connector.as_bytes(), b"\0", name.as_bytes()].concat()
    }
}

impl Store {
    /// Seals `secret` as `name` of `connector`, replacing what was kept, in one statement
    /// (a kill leaves the old value or the new one, never neither).
    pub fn seal_secret(
        &mut self,
        connector: &str,
        name: &str,
        secret: &str,
        key: &SecretKey,
    ) -> Result<(), Diag> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| {
            Diag::new(
                codes::E705_STORE_FAILED,
                format!("no randomness for a nonce: {e}"),
            )
        })?;
        let aad = SecretKey::row(connector, name);
        let sealed = ChaCha20Poly1305::new(&key.0)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Diag::new(codes::E705_STORE_FAILED, "cannot seal the secret"))?;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let (nonce, sealed) = (BASE64.encode(nonce), BASE64.encode(sealed));
        self.write_transaction(|tx| {
            tx.execute(
                "INSERT INTO secrets(connector, name, nonce, sealed, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (connector, name) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at",
                params![connector, name, nonce.as_str(), sealed.as_str(), now.as_str()],
            )
        })
        .map(|_| ())
        .map_err(|e| e.to_diag())
    }

    /// The secret `name` of `connector`, opened; `None` when none is kept; E622 when it
    /// does not open with `key`.
    pub fn open_secret(
        &self,
        connector: &str,
        name: &str,
        key: &SecretKey,
    ) -> Result<Option<String>, Diag> {
        let row = self
            .conn()
            .query_row(
                "SELECT nonce, sealed FROM secrets WHERE connector = ?1 AND name = ?2",
                params![connector, name],
            )
            .map_err(|e| self.fail(e).to_diag())?;
        let Some(row) = row else {
            return Ok(None);
        };
        let unsealed = || {
            Diag::new(
                codes::E622_SECRET_UNSEALED,
                format!("the secret `{name}` of connector `{connector}` does not open with the key {KEY_VARIABLE} gives"),
            )
        };
        let nonce = BASE64.decode(row.text(0)).map_err(|_| unsealed())?;
        let sealed = BASE64.decode(row.text(1)).map_err(|_| unsealed())?;
        if nonce.len() != 12 {
            return Err(unsealed());
        }
        let aad = SecretKey::row(connector, name);
        let opened = ChaCha20Poly1305::new(&key.0)
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| unsealed())?;
        String::from_utf8(opened).map(Some).map_err(|_| unsealed())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_secret_opens_with_its_key_only_and_in_its_own_row_only() {
        let dir = std::env::temp_dir().join(format!("sluice-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.db");
        let _ = std::fs::remove_file(&path);
        let mut store = Store::open_or_create(&path).unwrap();
        let key = SecretKey(Key::from([7u8; 32]));
        let other = SecretKey(Key::from([8u8; 32]));
        store
            .seal_secret("c", "token", "r3fresh-t0ken", &key)
            .unwrap();
        assert_eq!(
            store.open_secret("c", "token", &key).unwrap().as_deref(),
            Some("r3fresh-t0ken")
        );
        assert_eq!(store.open_secret("c", "other", &key).unwrap(), None);
        let err = store.open_secret("c", "token", &other).unwrap_err();
        assert_eq!(err.code, codes::E622_SECRET_UNSEALED);
        // moved to another connector's row, it does not open
        store
            .conn()
            .execute("UPDATE secrets SET connector = 'd'", params![])
            .unwrap();
        assert!(store.open_secret("d", "token", &key).is_err());
        let raw = std::fs::read(&path).unwrap();
        assert!(
            !raw.windows(13).any(|w| w == b"r3fresh-t0ken"),
            "never in clear"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
