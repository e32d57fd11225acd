//! Requests to a token endpoint (OAuth 2.0): a form POSTed, the client authenticating in it
//! or by HTTP Basic, the answer's `access_token` and its lifetime; shared by the client
//! credentials grant (`auth.rs`) and the authorization code grant (`oauth.rs`).

use crate::connections::http::transport::{Transport, TryError};
use crate::diagnostics::{codes, Diag};

/// A refused authentication as a final error: what was refused, where, and the server's
/// answer (credentials redacted).
pub(super) fn auth_failed(
    client: &Transport,
    what: &str,
    url: &str,
    status: u16,
    excerpt: &str,
) -> TryError {
    TryError::Final(Diag::new(
        codes::E616_REMOTE_AUTH,
        format!(
            "{what} at {} was refused: HTTP {status} {}",
            client.redact(url),
            client.redact(excerpt)
        ),
    ))
}

/// The seconds a token answer says its access token lasts (`expires_in`; an hour when it
/// does not say).
pub(super) fn lifetime_of(answer: &serde_json::Value) -> u64 {
    answer
        .get("expires_in")
        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
        .unwrap_or(3600)
}

/// POSTs a form to a token endpoint (the client authenticating in it or by `basic`): the
/// answer, which holds an `access_token`; 429/5xx are worth a retry, any other refusal is
/// E616 with the server's reason (credentials redacted).
pub(super) fn post_token_form(
    client: &Transport,
    url: &str,
    form: &str,
    basic: Option<&str>,
) -> Result<serde_json::Value, TryError> {
    let mut headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if let Some(basic) = basic {
        headers.push(("Authorization".to_string(), basic.to_string()));
    }
    let reply = client.raw("POST", url, Some(form.as_bytes()), headers)?;
    if matches!(reply.status, 429) || reply.status >= 500 {
        return Err(TryError::Transient(
            format!("token request: HTTP {}", reply.status),
            reply.retry_after,
        ));
    }
    if !reply.ok() {
        return Err(auth_failed(
            client,
            "the token request",
            url,
            reply.status,
            &reply.excerpt(),
        ));
    }
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
    if answer
        .get("access_token")
        .and_then(|t| t.as_str())
        .is_none()
    {
        return Err(auth_failed(
            client,
            "the token request (no access_token in the answer)",
            url,
            reply.status,
            "",
        ));
    }
    Ok(answer)
}
