//! One side's HTTP client: requests only to the connection's origins, the side's
//! authentication, and retries with exponential backoff and jitter for what a retry can
//! fix (timeouts, dropped connections, 408, 429 and 5xx, honouring `Retry-After`). One try
//! is the transport's (`transport.rs`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connections::http::auth::Auth;
use crate::connections::http::transport::{Reply, Transport, TryError};
use crate::diagnostics::{codes, Diag};
use crate::transform::connection::Connection;

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
    transport: Transport,
    base: String,
    /// The origins requests may go to: the `url`'s and the allow-listed ones.
    origins: Vec<url::Origin>,
    auth: Auth,
    backoff: Backoff,
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
        vault: crate::connections::http::oauth::Vault,
    ) -> Result<Client, Diag> {
        let base = connection.url.trim_end_matches('/').to_string();
        let origins = std::iter::once(connection.url.as_str())
            .chain(connection.allowed_origins.iter().map(String::as_str))
            .filter_map(|u| url::Url::parse(u).ok().map(|u| u.origin()))
            .collect();
        let transport = Transport::new(label, connection, credentials, &base)?;
        Ok(Client {
            origins,
            auth: Auth::new(label, connection, credentials, &base, vault)?,
            transport,
            base,
            backoff: Backoff {
                retries: connection.retries.unwrap_or(5),
                first: connection.backoff(),
                max: connection.max_backoff(),
            },
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
        self.transport.redact(text)
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
        let (url, used) = self.auth.apply(&self.transport, url, &mut all)?;
        Ok((self.transport.raw(method, &url, body, all)?, used))
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
