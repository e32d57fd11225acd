//! Webhooks: how `POST /hooks/<connector>` is authenticated — Standard Webhooks signatures
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`) checked against the connector's
//! secret, with a timestamp tolerance, and the older body signature and bearer token when a
//! connector allows them — and the spool its records wait in: split into NDJSON lines as
//! the body arrives (never parsed whole), written and synced before the hook is answered,
//! in a directory named collision-free after the connector.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The older header of a body's signature: `sha256=<hex HMAC-SHA256 of the body>`.
pub const LEGACY_SIGNATURE_HEADER: &str = "x-sluice-signature";

/// The longest delivery id taken.
const LONGEST_ID: usize = 256;

type HmacSha256 = Hmac<Sha256>;

/// Why a hook was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials this connector takes.
    Unsigned,
    /// A signature or token that does not match the secret.
    Mismatch,
    /// Standard Webhooks headers that are malformed (the reason).
    Malformed(String),
    /// A timestamp further from the server's clock than the tolerance (seconds off).
    Stale(i64),
}

impl Refusal {
    /// What a refused sender is told (never the secret).
    pub fn message(&self, connector: &str) -> String {
        match self {
            Refusal::Unsigned => format!(
                "a hook of `{connector}` needs the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature"
            ),
            Refusal::Mismatch => format!(
                "the signature of this hook of `{connector}` does not match its secret"
            ),
            Refusal::Malformed(why) => format!("a hook of `{connector}`: {why}"),
            Refusal::Stale(off) => format!(
                "the webhook-timestamp of this hook of `{connector}` is {off} s from the server's clock, beyond its tolerance"
            ),
        }
    }
}

/// How a hook proves who sent it, as read from its headers before the body is read.
pub enum Credentials {
    /// Standard Webhooks: the delivery id and the signatures to check once the body is in.
    Standard {
        /// `webhook-id`.
        id: String,
        /// `webhook-timestamp` as sent.
        timestamp: String,
        /// The `v1,` signatures of `webhook-signature`, decoded.
        signatures: Vec<Vec<u8>>,
    },
    /// `X-Sluice-Signature` (a connector with `legacy_signature`): the body's HMAC.
    LegacySignature(Vec<u8>),
    /// `Authorization: Bearer <secret>` (a connector with `legacy_signature`), already
    /// checked.
    LegacyBearer,
}

/// The headers of a hook that authenticate it (lowercase names).
pub struct HookHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`.
    pub signature: Option<&'a str>,
    /// `x-sluice-signature`.
    pub legacy_signature: Option<&'a str>,
    /// The token of `authorization: Bearer …`.
    pub bearer: Option<&'a str>,
}

/// Checks what the headers alone can: the Standard Webhooks headers are well formed and
/// the timestamp within `tolerance` seconds of `now`; or, when `legacy` allows it, a bearer
/// token equal to the secret, or a body signature to check later.
pub fn authenticate(
    key: &[u8],
    headers: &HookHeaders,
    legacy: bool,
    now: i64,
    tolerance: i64,
) -> Result<Credentials, Refusal> {
    if let (Some(id), Some(timestamp), Some(signature)) =
        (headers.id, headers.timestamp, headers.signature)
    {
        if id.is_empty() || id.len() > LONGEST_ID || id.chars().any(|c| c.is_control()) {
            return Err(Refusal::Malformed(format!(
                "webhook-id must be 1 to {LONGEST_ID} printable characters"
            )));
        }
        let Ok(at) = timestamp.trim().parse::<i64>() else {
            return Err(Refusal::Malformed(
                "webhook-timestamp must be Unix seconds".into(),
            ));
        };
        let off = now.saturating_sub(at);
        if off.abs() > tolerance {
            return Err(Refusal::Stale(off));
        }
        let signatures: Vec<Vec<u8>> = signature
            .split_whitespace()
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .collect();
        if signatures.is_empty() {
            return Err(Refusal::Malformed(
                "webhook-signature holds no `v1,<base64>` signature".into(),
            ));
        }
        return Ok(Credentials::Standard {
            id: id.to_string(),
            timestamp: timestamp.trim().to_string(),
            signatures,
        });
    }
    if !legacy {
        return Err(Refusal::Unsigned);
    }
    if let Some(signature) = headers.legacy_signature {
        let hex = signature.trim();
        let hex = hex.strip_prefix("sha256=").unwrap_or(hex);
        return decode_hex(hex)
            .map(Credentials::LegacySignature)
            .ok_or(Refusal::Mismatch);
    }
    match headers.bearer {
        Some(token) if same_secret(key, token.as_bytes()) => Ok(Credentials::LegacyBearer),
        Some(_) => Err(Refusal::Mismatch),
        None => Err(Refusal::Unsigned),
    }
}

/// Whether two secrets are equal, in time independent of where they differ (their HMACs
/// under a fixed key are compared in constant time, whatever the lengths).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let digest = |text: &[u8]| {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(b"sluice bearer check").ok()?;
        mac.update(text);
        Some(mac)
    };
    match (digest(a), digest(b)) {
        (Some(a), Some(b)) => b.verify_slice(&a.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

/// The body's signature, computed as the body arrives.
pub struct Signing {
    mac: Option<HmacSha256>,
    credentials: Credentials,
}

impl Signing {
    /// Starts the HMAC the credentials ask for (`id.timestamp.` then the body, or the body
    /// alone).
    pub fn new(key: &[u8], credentials: Credentials) -> Signing {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).ok();
        if let (Some(mac), Credentials::Standard { id, timestamp, .. }) = (&mut mac, &credentials) {
            mac.update(format!("{id}.{timestamp}.").as_bytes());
        }
        Signing { mac, credentials }
    }

    /// Takes the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(mac) = &mut self.mac {
            mac.update(bytes);
        }
    }

    /// Whether the body's signature matches (one of the signatures, for a rotation).
    pub fn verify(self) -> Result<(), Refusal> {
        let Some(mac) = self.mac else {
            return Err(Refusal::Mismatch);
        };
        let matches = match &self.credentials {
            Credentials::Standard { signatures, .. } => signatures
                .iter()
                .any(|s| mac.clone().verify_slice(s).is_ok()),
            Credentials::LegacySignature(expected) => mac.verify_slice(expected).is_ok(),
            Credentials::LegacyBearer => true,
        };
        if matches {
            Ok(())
        } else {
            Err(Refusal::Mismatch)
        }
    }
}

/// The Standard Webhooks `webhook-signature` value of a delivery (what a sender computes):
/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = crate::transform::connector::webhook_key(secret);
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The older `X-Sluice-Signature` value of a body: `sha256=<hex HMAC-SHA256>`.
pub fn sign_legacy(secret: &str, body: &[u8]) -> String {
    let key = crate::transform::connector::webhook_key(secret);
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(body);
    format!(
        "sha256={}",
        sluice_engine::hex(&mac.finalize().into_bytes())
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

/// A name made safe and unique for a file or directory name: its letters, digits, `-` and
/// `_` (the rest `_`, at most 40), then `-` and 16 hex digits of the SHA-256 of the exact
/// name, so that `orders EU` and `orders_EU` never share a spool or a dead-letter file.
pub fn file_safe(name: &str) -> String {
    let readable: String = legacy_dir_name(name).chars().take(40).collect();
    let digest = Sha256::digest(name.as_bytes());
    format!(
        "{readable}-{}",
        sluice_engine::hex(digest.get(..8).unwrap_or_default())
    )
}

/// The spool directory of `connector` before names were made unique (only its readable
/// part): where a previous version of the server left its records.
fn legacy_dir_name(name: &str) -> String {
    sluice_engine::safe_name(name)
}

/// Moves the spool files an older server left under a connector's old directory name into
/// its new one — only when no other served connector had the same old name (whose records
/// they are cannot be told then: they stay, and the message says so). Returns what to log.
pub fn migrate_spools(spool: &Path, connectors: &[String]) -> Vec<String> {
    let mut log = Vec::new();
    for name in connectors {
        let old = spool.join(legacy_dir_name(name));
        if !old.is_dir() || old == spool.join(file_safe(name)) {
            continue;
        }
        let sharing: Vec<&String> = connectors
            .iter()
            .filter(|other| legacy_dir_name(other) == legacy_dir_name(name))
            .collect();
        if sharing.len() > 1 {
            log.push(format!(
                "spool {} is shared by {:?}: its files were left where they are; move each to its connector's directory",
                old.display(),
                sharing
            ));
            continue;
        }
        let new = spool.join(file_safe(name));
        let moved = std::fs::create_dir_all(&new).and_then(|()| {
            for entry in std::fs::read_dir(&old)?.flatten() {
                std::fs::rename(entry.path(), new.join(entry.file_name()))?;
            }
            std::fs::remove_dir(&old)
        });
        match moved {
            Ok(()) => log.push(format!(
                "{name}: moved its spooled hooks from {} to {}",
                old.display(),
                new.display()
            )),
            Err(e) => log.push(format!("{name}: cannot move {}: {e}", old.display())),
        }
    }
    log
}

/// Splits a hook's body into NDJSON lines as it arrives: a JSON array becomes one line per
/// element, one JSON value (however it is laid out) one line, and anything else is taken
/// as NDJSON already (its bad lines become dead letters). Only the element being read is
/// held, never the whole body.
#[derive(Default)]
pub struct Splitter {
    mode: Mode,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The record being read (compacted: white space outside strings dropped).
    current: Vec<u8>,
    /// The first line as it came, while the mode is not known.
    raw: Vec<u8>,
    /// Whether anything but white space came.
    any: bool,
}

#[derive(Default, PartialEq, Eq, Clone, Copy)]
enum Mode {
    /// Before the first byte that is not white space.
    #[default]
    Start,
    /// In the first line: one value, or NDJSON?
    FirstLine,
    /// NDJSON: lines go through as they are.
    Lines,
    /// Values laid out over lines: each top-level value is a line.
    Values,
    /// Inside a top-level array: each element is a line.
    Array,
    /// After the array's end.
    After,
}

impl Splitter {
    /// Takes the next bytes; complete lines are appended to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        for &b in bytes {
            self.byte(b, out);
        }
    }

    /// Whether the body held anything but white space.
    pub fn any(&self) -> bool {
        self.any
    }

    /// The body ended: what is left is a last line (a bad one, if it is cut short).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.mode {
            Mode::FirstLine => line(out, &std::mem::take(&mut self.raw)),
            Mode::Lines if !out.ends_with(b"\n") && self.any => out.push(b'\n'),
            Mode::Values | Mode::Array | Mode::After => {
                let rest = std::mem::take(&mut self.current);
                line(out, &rest);
            }
            _ => {}
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        let space = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if !space {
            self.any = true;
        }
        match self.mode {
            Mode::Start if space => {}
            Mode::Start if b == b'[' => self.mode = Mode::Array,
            Mode::Start => {
                self.mode = Mode::FirstLine;
                self.byte(b, out);
            }
            Mode::Lines => out.push(b),
            Mode::FirstLine => {
                if b == b'\n' && !self.in_string {
                    let raw = std::mem::take(&mut self.raw);
                    if self.depth == 0 {
                        self.mode = Mode::Lines;
                        out.extend_from_slice(&raw);
                        out.push(b'\n');
                        self.current.clear();
                    } else {
                        self.mode = Mode::Values;
                    }
                    return;
                }
                self.raw.push(b);
                self.scan(b, space);
            }
            Mode::Values => {
                if space && !self.in_string && self.depth == 0 {
                    let value = std::mem::take(&mut self.current);
                    line(out, &value);
                    return;
                }
                self.scan(b, space);
                if self.depth == 0 && !self.in_string && matches!(b, b'}' | b']') {
                    let value = std::mem::take(&mut self.current);
                    line(out, &value);
                }
            }
            Mode::Array => {
                if !self.in_string && self.depth == 0 && matches!(b, b',' | b']') {
                    let element = std::mem::take(&mut self.current);
                    line(out, &element);
                    if b == b']' {
                        self.mode = Mode::After;
                    }
                    return;
                }
                self.scan(b, space);
            }
            Mode::After => {
                if !space || !self.current.is_empty() {
                    self.current.push(b);
                }
            }
        }
    }

    /// Keeps byte `b` of a value (white space outside strings dropped), following strings
    /// and nesting.
    fn scan(&mut self, b: u8, space: bool) {
        if self.in_string {
            self.current.push(b);
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        if !space {
            self.current.push(b);
        }
    }
}

/// Appends `text` as a line, unless it is empty.
fn line(out: &mut Vec<u8>, text: &[u8]) {
    let text = text.trim_ascii();
    if !text.is_empty() {
        out.extend_from_slice(text);
        out.push(b'\n');
    }
}

static SPOOLED: AtomicU64 = AtomicU64::new(0);

/// A spool file being written: a `.part` file that becomes the connector's next spool
/// file when committed, and is removed otherwise.
pub struct SpoolFile {
    dir: PathBuf,
    part: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    splitter: Splitter,
    lines: Vec<u8>,
}

impl SpoolFile {
    /// A new spool file of `connector` under `spool`.
    pub fn create(spool: &Path, connector: &str) -> std::io::Result<SpoolFile> {
        let dir = spool.join(file_safe(connector));
        std::fs::create_dir_all(&dir)?;
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let seq = SPOOLED.fetch_add(1, Ordering::SeqCst);
        let part = dir.join(format!("{nanos:020}-{seq:06}.part"));
        let file = std::io::BufWriter::new(std::fs::File::create(&part)?);
        Ok(SpoolFile {
            dir,
            part,
            file,
            splitter: Splitter::default(),
            lines: Vec::new(),
        })
    }

    /// Writes the next bytes of the body, as NDJSON lines.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.splitter.push(bytes, &mut self.lines);
        self.file.write_all(&self.lines)?;
        self.lines.clear();
        Ok(())
    }

    /// Ends the body: the spool file synced to disk and in place (its path), or none (and
    /// nothing left) when the body was empty — a nudge.
    pub fn commit(mut self) -> std::io::Result<Option<PathBuf>> {
        self.splitter.finish(&mut self.lines);
        self.file.write_all(&self.lines)?;
        if !self.splitter.any() {
            drop(self.file);
            std::fs::remove_file(&self.part)?;
            return Ok(None);
        }
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        let path = self.part.with_extension("ndjson");
        std::fs::rename(&self.part, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(Some(std::fs::canonicalize(&path).unwrap_or(path)))
    }

    /// Gives the body up: the part file is removed.
    pub fn abort(self) {
        drop(self.file);
        let _ = std::fs::remove_file(&self.part);
    }
}

/// The bytes the spool files of `connector` take.
pub fn spool_bytes(spool: &Path, connector: &str) -> u64 {
    std::fs::read_dir(spool.join(file_safe(connector)))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
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

/// Removes the `.part` files a server that died while receiving left behind.
pub fn remove_parts(spool: &Path) {
    let Ok(dirs) = std::fs::read_dir(spool) else {
        return;
    };
    for dir in dirs.flatten() {
        if let Ok(files) = std::fs::read_dir(dir.path()) {
            for file in files.flatten() {
                if file.path().extension().is_some_and(|e| e == "part") {
                    let _ = std::fs::remove_file(file.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> HookHeaders<'a> {
        HookHeaders {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
            legacy_signature: None,
            bearer: None,
        }
    }

    fn check(secret: &str, h: &HookHeaders, body: &[u8], legacy: bool) -> Result<(), Refusal> {
        let key = crate::transform::connector::webhook_key(secret);
        let credentials = authenticate(&key, h, legacy, 1_700_000_000, 300)?;
        let mut signing = Signing::new(&key, credentials);
        signing.update(body);
        signing.verify()
    }

    #[test]
    fn standard_webhooks_signatures_pass_and_anything_else_does_not() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"CardCode":"C1"}"#;
        let good = sign(secret, "msg_1", 1_700_000_000, body);
        assert_eq!(
            check(secret, &headers("msg_1", "1700000000", &good), body, false),
            Ok(())
        );
        let rotated = format!("v1,AAAA {good}");
        assert_eq!(
            check(
                secret,
                &headers("msg_1", "1700000000", &rotated),
                body,
                false
            ),
            Ok(())
        );
        assert_eq!(
            check(secret, &headers("msg_2", "1700000000", &good), body, false),
            Err(Refusal::Mismatch),
            "the id is signed"
        );
        assert_eq!(
            check(
                secret,
                &headers("msg_1", "1700000000", &good),
                b"tampered",
                false
            ),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            check(
                secret,
                &headers(
                    "msg_1",
                    "1699999000",
                    &sign(secret, "msg_1", 1_699_999_000, body)
                ),
                body,
                false
            ),
            Err(Refusal::Stale(1000))
        );
        assert!(matches!(
            check(secret, &headers("msg_1", "soon", &good), body, false),
            Err(Refusal::Malformed(_))
        ));
        let none = HookHeaders {
            id: None,
            timestamp: None,
            signature: None,
            legacy_signature: None,
            bearer: None,
        };
        assert_eq!(check(secret, &none, body, false), Err(Refusal::Unsigned));
    }

    #[test]
    fn legacy_credentials_pass_only_where_allowed() {
        let secret = "a-sixteen-byte-secret";
        let body = b"[]";
        let signature = sign_legacy(secret, body);
        let legacy = HookHeaders {
            id: None,
            timestamp: None,
            signature: None,
            legacy_signature: Some(&signature),
            bearer: None,
        };
        assert_eq!(check(secret, &legacy, body, true), Ok(()));
        assert_eq!(check(secret, &legacy, body, false), Err(Refusal::Unsigned));
        assert_eq!(check(secret, &legacy, b"[1]", true), Err(Refusal::Mismatch));
        let bearer = |token| HookHeaders {
            id: None,
            timestamp: None,
            signature: None,
            legacy_signature: None,
            bearer: Some(token),
        };
        assert_eq!(check(secret, &bearer(secret), body, true), Ok(()));
        assert_eq!(
            check(secret, &bearer("a-sixteen-byte-secreT"), body, true),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            check(secret, &bearer(secret), body, false),
            Err(Refusal::Unsigned)
        );
    }

    fn split(body: &[u8], chunk: usize) -> String {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        for part in body.chunks(chunk.max(1)) {
            splitter.push(part, &mut out);
        }
        splitter.finish(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn a_hook_body_becomes_ndjson_lines_whatever_the_chunks() {
        for chunk in [1, 2, 3, 7, 1000] {
            assert_eq!(
                split(br#"[{"a":1},{"a":2}]"#, chunk),
                "{\"a\":1}\n{\"a\":2}\n"
            );
            assert_eq!(
                split(b"[ {\"a\": \"x, ]}\\\"\" },\n [1, 2], 3 ]", chunk),
                "{\"a\":\"x, ]}\\\"\"}\n[1,2]\n3\n"
            );
            assert_eq!(split(br#"{"a":1}"#, chunk), "{\"a\":1}\n");
            assert_eq!(
                split(b"{\n  \"a\": 1,\n  \"b\": [1, 2]\n}\n", chunk),
                "{\"a\":1,\"b\":[1,2]}\n"
            );
            assert_eq!(split(b"{\"a\":1}\n{\"a\":", chunk), "{\"a\":1}\n{\"a\":\n");
            assert_eq!(
                split(b"{\"a\": 1}\nnot json at all\n", chunk),
                "{\"a\": 1}\nnot json at all\n"
            );
            assert_eq!(split(b"[{\"a\":1}, {\"b\":", chunk), "{\"a\":1}\n{\"b\":\n");
            assert_eq!(split(b"  \n ", chunk), "");
            assert_eq!(split(b"[]", chunk), "");
        }
    }

    #[test]
    fn names_that_look_alike_get_their_own_files() {
        assert_ne!(file_safe("orders EU"), file_safe("orders_EU"));
        assert_ne!(file_safe("Kunden → FSM"), file_safe("Kunden ← FSM"));
        assert!(file_safe("orders EU").starts_with("orders_EU-"));
        assert_eq!(file_safe("x"), file_safe("x"));
    }
}
