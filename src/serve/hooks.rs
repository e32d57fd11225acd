//! Webhooks: `POST /hooks/<connector>` authenticated by the connector's shared secret (a
//! bearer token, or an HMAC-SHA256 signature of the body), and the records a hook brings,
//! kept in a spool file (written and synced before the hook is answered) until a run has
//! read them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying a body's signature: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-sluice-signature";

/// Why a hook was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Neither a signature nor a bearer token.
    Unsigned,
    /// A signature or token that does not match the secret.
    Mismatch,
}

/// Checks a hook's credentials: a bearer token equal to `secret`, or a signature of `body`
/// made with it (compared in constant time).
pub fn verify(
    secret: &str,
    signature: Option<&str>,
    bearer: Option<&str>,
    body: &[u8],
) -> Result<(), Refusal> {
    if let Some(signature) = signature {
        let hex = signature.trim().strip_prefix("sha256=").unwrap_or(signature.trim());
        let Some(expected) = decode_hex(hex) else {
            return Err(Refusal::Mismatch);
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| Refusal::Mismatch)?;
        mac.update(body);
        return mac.verify_slice(&expected).map_err(|_| Refusal::Mismatch);
    }
    match bearer {
        Some(token) => {
            // HMACs of both under a fixed key compare in constant time whatever the lengths.
            let digest = |text: &str| {
                let mut mac = Hmac::<Sha256>::new_from_slice(b"sluice bearer check")
                    .map_err(|_| Refusal::Mismatch)?;
                mac.update(text.as_bytes());
                Ok::<_, Refusal>(mac)
            };
            let expected = digest(secret)?.finalize().into_bytes();
            digest(token)?
                .verify_slice(&expected)
                .map_err(|_| Refusal::Mismatch)
        }
        None => Err(Refusal::Unsigned),
    }
}

/// The signature header value of `body` under `secret` (what a sender computes).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A name made safe for a file name: letters, digits, `-` and `_` kept, the rest `_`.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// The body of a hook as NDJSON: a JSON array becomes one line per element, an object one
/// line; anything else is taken as NDJSON already (bad lines become dead letters).
pub fn as_ndjson(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| format!("{v}\n"))
            .collect::<String>()
            .into_bytes(),
        Ok(value @ serde_json::Value::Object(_)) => format!("{value}\n").into_bytes(),
        _ => {
            let mut lines = body.to_vec();
            if !lines.ends_with(b"\n") {
                lines.push(b'\n');
            }
            lines
        }
    }
}

static SPOOLED: AtomicU64 = AtomicU64::new(0);

/// Writes a hook's records to a new spool file of `connector` under `spool` and syncs it
/// (and its directory) to disk; its path.
pub fn spool(spool: &Path, connector: &str, records: &[u8]) -> std::io::Result<PathBuf> {
    let dir = spool.join(file_safe(connector));
    std::fs::create_dir_all(&dir)?;
    let nanos = chrono::Utc::now()
        .timestamp_nanos_opt()
        .unwrap_or_default();
    let seq = SPOOLED.fetch_add(1, Ordering::SeqCst);
    let path = dir.join(format!("{nanos:020}-{seq:06}.ndjson"));
    let part = path.with_extension("part");
    {
        let mut file = std::fs::File::create(&part)?;
        file.write_all(records)?;
        file.sync_all()?;
    }
    std::fs::rename(&part, &path)?;
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(std::fs::canonicalize(&path).unwrap_or(path))
}

/// The spool files of `connector` waiting to be read, oldest first.
pub fn spooled(spool: &Path, connector: &str) -> Vec<PathBuf> {
    let dir = spool.join(file_safe(connector));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
                .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_passes_and_any_other_does_not() {
        let body = br#"{"CardCode":"C1"}"#;
        let good = sign("s3cret", body);
        assert_eq!(verify("s3cret", Some(&good), None, body), Ok(()));
        assert_eq!(
            verify("s3cret", Some(&sign("other", body)), None, body),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify("s3cret", Some(&good), None, b"tampered"),
            Err(Refusal::Mismatch)
        );
        assert_eq!(verify("s3cret", Some("sha256=zz"), None, body), Err(Refusal::Mismatch));
        assert_eq!(verify("s3cret", None, Some("s3cret"), body), Ok(()));
        assert_eq!(verify("s3cret", None, Some("s3cre"), body), Err(Refusal::Mismatch));
        assert_eq!(verify("s3cret", None, None, body), Err(Refusal::Unsigned));
    }

    #[test]
    fn a_hook_body_becomes_ndjson_lines() {
        assert_eq!(as_ndjson(br#"[{"a":1},{"a":2}]"#), b"{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(as_ndjson(br#"{"a":1}"#), b"{\"a\":1}\n");
        assert_eq!(as_ndjson(b"{\"a\":1}\n{\"a\":"), b"{\"a\":1}\n{\"a\":\n");
    }
}
