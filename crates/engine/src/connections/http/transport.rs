//! One try of an HTTP request: a keep-alive agent (rustls, the platform's roots and an
//! optional `ca_cert`, an optional client certificate), the answer read whole with its
//! `Retry-After`, and every credential value redacted from what it reports. The client
//! (`client.rs`) and the authentication flows (`auth.rs`) send through it.

use std::collections::BTreeMap;
use std::time::Duration;

use ureq::http::Request;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

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

/// Why one try failed.
pub(super) enum TryError {
    /// Worth another try: a timeout, a dropped or refused connection, or a token or login
    /// request answered 429/5xx (with its `Retry-After`).
    Transient(String, Option<Duration>),
    /// Final: the request cannot succeed as made (bad TLS, refused credentials).
    Final(Diag),
}

/// A side's agent and the secrets its messages must not show.
pub struct Transport {
    agent: ureq::Agent,
    secrets: Vec<String>,
}

impl Transport {
    /// The agent of `connection` (`label` names the side in errors), with TLS from the
    /// side's credentials; the credential values (and a password in `base`) are redacted.
    pub fn new(
        label: &str,
        connection: &Connection,
        credentials: &BTreeMap<String, String>,
        base: &str,
    ) -> Result<Transport, Diag> {
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
        let mut secrets: Vec<String> = credentials
            .values()
            .filter(|v| v.len() >= 3)
            .cloned()
            .collect();
        if let Some(password) = url::Url::parse(base)
            .ok()
            .and_then(|u| u.password().map(str::to_string))
        {
            secrets.push(password);
        }
        Ok(Transport { agent, secrets })
    }

    /// `text` with every credential value replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |t, secret| {
            t.replace(secret.as_str(), "***")
        })
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
}
