//! One side's HTTP client: a keep-alive agent (rustls, an optional client certificate), the
//! side's authentication, and retries with exponential backoff and jitter for what a retry
//! can fix (timeouts, dropped connections, 408, 429 and 5xx, honouring `Retry-After`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::http::Request;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::connections::http::auth::Auth;
use crate::diagnostics::{codes, Diag};
use crate::transform::connection::Connection;

/// The largest answer read (a page, a lookup, an error body).
const BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// An answer: its status, its `Retry-After` and its body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body, read whole.
    pub body: Vec<u8>,
    /// `Set-Cookie` values (a session login reads them).
    pub cookies: Vec<String>,
    pub(super) retry_after: Option<Duration>,
}

impl Reply {
    /// Whether the status is one a retry may cure (408, 429, 5xx).
    pub fn retryable(&self) -> bool {
        matches!(self.status, 408 | 429) || self.status >= 500
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The start of the body as text, for messages (at most 300 characters).
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        match text.char_indices().nth(300) {
            Some((at, _)) => format!("{}…", text.get(..at).unwrap_or(text)),
            None => text.to_string(),
        }
    }
}

/// Why a request failed: the diagnostic, and whether trying it again may cure it (the
/// connection failed or timed out; not bad TLS, refused credentials or a stop).
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub diag: Box<Diag>,
    /// Whether another try may succeed.
    pub retryable: bool,
}

impl Failure {
    fn not_retryable(diag: Diag) -> Failure {
        Failure {
            diag: Box::new(diag),
            retryable: false,
        }
    }
}

/// Why one try failed.
pub(super) enum TryError {
    /// Worth another try: a timeout, a dropped or refused connection, or a token or login
    /// request answered 429/5xx (with its `Retry-After`).
    Transient(String, Option<Duration>),
    /// Final: the request cannot succeed as made (bad TLS, refused credentials).
    Final(Diag),
}

/// How retries wait.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    retries: u32,
    first: Duration,
    max: Duration,
}

impl Backoff {
    /// The wait before retry `n` (0-based): `first · 2ⁿ`, capped, with up to half of it
    /// taken off at random so that clients do not retry in step.
    fn wait(&self, n: u32) -> Duration {
        let full = self
            .first
            .saturating_mul(1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let jitter = f64::from(nanos % 1000) / 2000.0;
        full.mul_f64(1.0 - jitter)
    }
}

/// A side's client: share it (by `Arc`) between the threads of a run.
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// The origins requests may go to: the `url`'s and the allow-listed ones.
    origins: Vec<url::Origin>,
    auth: Auth,
    backoff: Backoff,
    secrets: Vec<String>,
    stop: Arc<AtomicUsize>,
}

impl Client {
    /// A client for `connection` with the side's resolved credentials; `label` names the
    /// side in errors; `stop` cuts waits short when the run is stopped.
    pub fn new(
        label: &str,
        connection: &Connection,
        credentials: &BTreeMap<String, String>,
        stop: Arc<AtomicUsize>,
    ) -> Result<Client, Diag> {
        let tls = tls_config(label, credentials)?;
        let pool = connection.concurrency.unwrap_or(4).max(1) * 2;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(connection.timeout()))
            .max_idle_connections_per_host(pool)
            .max_idle_connections(pool)
            .max_redirects(0)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .new_agent();
        let base = connection.url.trim_end_matches('/').to_string();
        let origins = std::iter::once(connection.url.as_str())
            .chain(connection.allowed_origins.iter().map(String::as_str))
            .filter_map(|u| url::Url::parse(u).ok().map(|u| u.origin()))
            .collect();
        let mut secrets: Vec<String> = credentials
            .values()
            .filter(|v| v.len() >= 3)
            .cloned()
            .collect();
        if let Some(password) = url::Url::parse(&base)
            .ok()
            .and_then(|u| u.password().map(str::to_string))
        {
            secrets.push(password);
        }
        Ok(Client {
            origins,
            auth: Auth::new(label, connection, credentials, &base)?,
            agent,
            base,
            backoff: Backoff {
                retries: connection.retries.unwrap_or(5),
                first: connection.backoff(),
                max: connection.max_backoff(),
            },
            secrets,
            stop,
        })
    }

    /// `path` under the service root (a full URL is taken as it is).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        }
    }

    /// `text` with every credential value replaced by `***` (URLs and bodies in messages).
    pub fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |t, secret| {
            t.replace(secret.as_str(), "***")
        })
    }

    /// Sends a request, authenticated, retrying what a retry can fix. Every status that is
    /// not retried is returned, for the caller to judge; E614 when the tries ran out,
    /// E616 when authentication failed.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, String)],
    ) -> Result<Reply, Diag> {
        self.send_tries(method, url, body, headers, self.backoff.retries)
            .map_err(|f| *f.diag)
    }

    /// Sends a request once (a 401 still logs in again): every answer is returned, and a
    /// transport failure is E614, said to be retryable. The caller retries what it must
    /// redo as a whole.
    pub fn send_once(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, String)],
    ) -> Result<Reply, Failure> {
        self.send_tries(method, url, body, headers, 0)
    }

    /// How many retries the connection allows.
    pub fn retries(&self) -> u32 {
        self.backoff.retries
    }

    /// Waits before retry `n` (0-based) of something the caller redoes: as long as the
    /// answer's `Retry-After` says (at most `max_backoff`), else the backoff; E613 when the
    /// run is stopped meanwhile.
    pub fn pause(&self, n: u32, answer: Option<&Reply>) -> Result<(), Diag> {
        match self.wait_to_retry(n, answer.and_then(|a| a.retry_after)) {
            true => Ok(()),
            false => Err(Diag::new(
                codes::E613_STOPPED,
                "stopped by a signal while a write waited to be retried; run the same command to go on from the last commit",
            )),
        }
    }

    /// Waits before retry `n` (0-based): `retry_after` when the answer said so, else the
    /// backoff, at most `max_backoff`. Whether the run goes on (`false`: it was stopped).
    fn wait_to_retry(&self, n: u32, retry_after: Option<Duration>) -> bool {
        self.sleep(
            retry_after
                .unwrap_or_else(|| self.backoff.wait(n))
                .min(self.backoff.max),
        );
        self.stop.load(Ordering::SeqCst) == 0
    }

    fn send_tries(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, String)],
        retries: u32,
    ) -> Result<Reply, Failure> {
        let mut renewed = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let (reason, wait) = match self.once(method, url, body, headers) {
                Ok((reply, used)) if reply.status == 401 && self.auth.renewable() && !renewed => {
                    self.auth.invalidate(&used);
                    renewed = true;
                    tries -= 1;
                    continue;
                }
                Ok((reply, _)) if reply.status == 401 && self.auth.is_some() => {
                    return Err(Failure::not_retryable(Diag::new(
                        codes::E616_REMOTE_AUTH,
                        format!(
                            "{method} {} was refused (HTTP 401) after authenticating",
                            self.redact(url)
                        ),
                    )))
                }
                Ok((reply, _)) if reply.retryable() && retries == 0 => return Ok(reply),
                Ok((reply, _)) if reply.retryable() => (
                    format!("HTTP {} {}", reply.status, self.redact(&reply.excerpt())),
                    reply.retry_after,
                ),
                Ok((reply, _)) => return Ok(reply),
                Err(TryError::Transient(reason, wait)) => (reason, wait),
                Err(TryError::Final(diag)) => return Err(Failure::not_retryable(diag)),
            };
            if self.stop.load(Ordering::SeqCst) != 0 {
                return Err(Failure::not_retryable(self.stopped(method, url, &reason)));
            }
            if tries > retries {
                return Err(Failure {
                    diag: Box::new(Diag::new(
                        codes::E614_REMOTE_UNREACHABLE,
                        format!(
                            "{method} {}: {reason} (gave up after {tries} tries)",
                            self.redact(url)
                        ),
                    )),
                    retryable: true,
                });
            }
            if !self.wait_to_retry(tries - 1, wait) {
                return Err(Failure::not_retryable(self.stopped(method, url, &reason)));
            }
        }
    }

    /// E613: the run was stopped (SIGTERM, SIGINT) while a request waited to be retried.
    fn stopped(&self, method: &str, url: &str, reason: &str) -> Diag {
        Diag::new(
            codes::E613_STOPPED,
            format!(
                "stopped by a signal while {method} {} waited to be retried ({reason}); run the same command to go on from the last commit",
                self.redact(&self.strip_credentials(url))
            ),
        )
    }

    /// Waits `wait`, or less when the run is stopped.
    fn sleep(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while Instant::now() < until && self.stop.load(Ordering::SeqCst) == 0 {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
        }
    }

    /// One try, authenticated: the answer, and the token or session it used.
    fn once(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: &[(&str, String)],
    ) -> Result<(Reply, String), TryError> {
        self.admit(url)?;
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        let (url, used) = self.auth.apply(self, url, &mut all)?;
        Ok((self.raw(method, &url, body, all)?, used))
    }

    /// Refuses a request to an origin other than the connection's (or an allow-listed
    /// one): the credentials go nowhere else, and a page cannot send Sluice elsewhere.
    fn admit(&self, url: &str) -> Result<(), TryError> {
        let origin = url::Url::parse(url).map(|u| u.origin());
        match origin {
            Ok(origin) if self.origins.contains(&origin) => Ok(()),
            _ => Err(TryError::Final(Diag::new(
                codes::E619_FOREIGN_ORIGIN,
                format!(
                    "refused to request {}: it is not on the connection's origin {} (nor in `allowed_origins`)",
                    self.redact(&self.strip_credentials(url)),
                    self.origins
                        .first()
                        .map_or_else(String::new, |o| o.ascii_serialization())
                ),
            ))),
        }
    }

    /// `url` without the credential a query parameter carries (an API key that a server
    /// repeats in its next links): what a cursor, a log line or a message may hold.
    pub fn strip_credentials(&self, url: &str) -> String {
        self.auth.strip_query_key(url)
    }

    /// One try, as given (the auth flows send their own requests through it).
    pub(super) fn raw(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        headers: Vec<(String, String)>,
    ) -> Result<Reply, TryError> {
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(body.unwrap_or_default().to_vec())
            .map_err(|e| {
                TryError::Final(Diag::new(
                    codes::E617_REMOTE_RESPONSE,
                    format!("cannot make a request to {}: {e}", self.redact(url)),
                ))
            })?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| self.try_error(url, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(|e| self.try_error(url, e))?;
        Ok(Reply {
            status,
            body,
            cookies,
            retry_after,
        })
    }

    /// Sorts a transport error: worth a retry, or final.
    fn try_error(&self, url: &str, e: ureq::Error) -> TryError {
        let message = self.redact(&e.to_string());
        // A certificate the client does not trust, or a handshake the server refuses, is
        // not cured by trying again: rustls's error, carried through the I/O error.
        let tls = match &e {
            ureq::Error::Rustls(_) | ureq::Error::Tls(_) => true,
            ureq::Error::Io(io) => io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>()),
            _ => false,
        };
        if tls {
            return TryError::Final(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!(
                    "{}: TLS: {message} (not retried: check `ca_cert` or the client certificate)",
                    self.redact(url)
                ),
            ));
        }
        match e {
            ureq::Error::Timeout(_)
            | ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_) => TryError::Transient(message, None),
            _ => TryError::Final(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!("{}: {message}", self.redact(url)),
            )),
        }
    }
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// The platform's trusted roots (`/etc/ssl/certs`, or `SSL_CERT_FILE`/`SSL_CERT_DIR`),
/// loaded once.
fn platform_roots() -> &'static [Certificate<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<Certificate<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    })
}

/// TLS: the platform's roots plus the side's `ca_cert` (Mozilla's bundled roots where the
/// platform has none); a client certificate from `client_cert` and `client_key` (PEM) when
/// given.
fn tls_config(label: &str, credentials: &BTreeMap<String, String>) -> Result<TlsConfig, Diag> {
    let bad = |key: &str, why: String| {
        Diag::new(
            codes::E606_CREDENTIAL,
            format!("{label}.credentials.{key}: {why}"),
        )
    };
    let certs = |key: &str, pem: &str| -> Result<Vec<Certificate<'static>>, Diag> {
        let certs: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        match certs.is_empty() {
            true => Err(bad(key, "holds no PEM certificate".into())),
            false => Ok(certs),
        }
    };
    let mut tls = TlsConfig::builder();
    let mut roots = platform_roots().to_vec();
    if let Some(pem) = credentials.get("ca_cert") {
        roots.extend(certs("ca_cert", pem)?);
    }
    if !roots.is_empty() {
        tls = tls.root_certs(RootCerts::new_with_certs(&roots));
    }
    match (
        credentials.get("client_cert"),
        credentials.get("client_key"),
    ) {
        (Some(cert), Some(key)) => {
            let key = PrivateKey::from_pem(key.as_bytes())
                .map_err(|e| bad("client_key", format!("not a PEM private key ({e})")))?;
            tls = tls.client_cert(Some(ClientCert::new_with_certs(
                &certs("client_cert", cert)?,
                key,
            )));
        }
        (None, None) => {}
        _ => {
            return Err(bad(
                "client_cert",
                "a client certificate needs both `client_cert` and `client_key`".into(),
            ))
        }
    }
    Ok(tls.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&soon).unwrap_or_default();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(retry_after("Mon, 01 Jan 1990 00:00:00 GMT"), None);
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let b = Backoff {
            retries: 5,
            first: Duration::from_millis(100),
            max: Duration::from_millis(700),
        };
        for (n, full) in [(0, 100), (1, 200), (2, 400), (3, 700), (30, 700)] {
            let wait = b.wait(n);
            let full = Duration::from_millis(full);
            assert!(wait <= full && wait >= full / 2, "retry {n}: {wait:?}");
        }
    }
}
