//! The authentication methods of a connection: an API key (header or query parameter),
//! basic, OAuth 2.0 client credentials (a token fetched, cached and refreshed a minute
//! before it expires), OAuth 2.0 authorization code (the tokens `sluice auth login` kept,
//! refreshed, see `oauth.rs`), and a session login like SAP Business One's Service Layer (POST
//! the login, keep the session cookie, log in again when a request is answered 401).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::connections::http::oauth::{Endpoint, TokenSet, Vault};
use crate::connections::http::token::{auth_failed, lifetime_of, post_token_form};
use crate::connections::http::transport::{Transport, TryError};
use crate::diagnostics::{codes, Diag};
use crate::store::secrets::SecretKey;
use crate::transform::connection::Connection;

/// How long before its expiry a token is fetched anew.
const REFRESH_EARLY: Duration = Duration::from_secs(60);

/// A side's authentication, with what it has obtained (a token, a session cookie).
pub(super) enum Auth {
    None,
    ApiKey {
        header: Option<String>,
        query: Option<String>,
        key: String,
    },
    Basic(String),
    OAuth2 {
        token_url: String,
        form: String,
        /// `Authorization: Basic …` of the client, when it authenticates so.
        basic: Option<String>,
        token: Mutex<Option<(String, Instant)>>,
    },
    Session {
        login_url: String,
        body: Vec<u8>,
        cookie: Mutex<Option<String>>,
    },
    /// Authorization code: the tokens `sluice auth login` obtained, kept sealed in the
    /// store, refreshed here.
    Code {
        endpoint: Endpoint,
        vault: Vault,
        key: SecretKey,
        tokens: Mutex<Option<TokenSet>>,
    },
}

impl Auth {
    /// The method `connection.auth` names, with the side's credentials (checked by
    /// `sluice check`; a missing one is E606 here).
    pub(super) fn new(
        label: &str,
        connection: &Connection,
        credentials: &BTreeMap<String, String>,
        base: &str,
        vault: Vault,
    ) -> Result<Auth, Diag> {
        let get = |key: &str| {
            credentials.get(key).cloned().ok_or_else(|| {
                Diag::new(
                    codes::E606_CREDENTIAL,
                    format!(
                        "{label}.connection: auth = \"{}\" needs `{label}.credentials.{key}`",
                        connection.auth
                    ),
                )
            })
        };
        let under = |path: &str| {
            if path.starts_with("http://") || path.starts_with("https://") {
                path.to_string()
            } else {
                format!("{base}/{}", path.trim_start_matches('/'))
            }
        };
        Ok(match connection.auth.as_str() {
            "api_key" => Auth::ApiKey {
                header: match &connection.api_key_query {
                    Some(_) => None,
                    None => Some(
                        connection
                            .api_key_header
                            .clone()
                            .unwrap_or_else(|| "X-API-Key".into()),
                    ),
                },
                query: connection.api_key_query.clone(),
                key: get("api_key")?,
            },
            "basic" => Auth::Basic(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    get("user")?,
                    get("password")?
                ))
            )),
            "oauth2" => {
                let (id, secret) = (get("client_id")?, get("client_secret")?);
                let in_basic = connection.token_auth.as_deref() == Some("client_secret_basic");
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "client_credentials");
                if !in_basic {
                    form.append_pair("client_id", &id)
                        .append_pair("client_secret", &secret);
                }
                if let Some(scope) = &connection.scope {
                    form.append_pair("scope", scope);
                }
                // RFC 6749 2.3.1: each part form-encoded, then joined and base64-encoded.
                let encode = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                Auth::OAuth2 {
                    token_url: under(connection.token_url.as_deref().unwrap_or("token")),
                    form: form.finish(),
                    basic: in_basic.then(|| {
                        format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode(format!(
                                "{}:{}",
                                encode(&id),
                                encode(&secret)
                            ))
                        )
                    }),
                    token: Mutex::new(None),
                }
            }
            "oauth2_code" => Auth::Code {
                endpoint: Endpoint::new(
                    connection,
                    base,
                    get("client_id")?,
                    credentials.get("client_secret").cloned(),
                ),
                vault,
                key: SecretKey::from_env()?,
                tokens: Mutex::new(None),
            },
            "session" => {
                let mut body = serde_json::Map::new();
                if let Some(db) = credentials.get("company_db") {
                    body.insert("CompanyDB".into(), db.clone().into());
                }
                body.insert("UserName".into(), get("user")?.into());
                body.insert("Password".into(), get("password")?.into());
                Auth::Session {
                    login_url: under(connection.login_path.as_deref().unwrap_or("Login")),
                    body: serde_json::Value::Object(body).to_string().into_bytes(),
                    cookie: Mutex::new(None),
                }
            }
            _ => Auth::None,
        })
    }

    /// `url` without the API key's query parameter (a server may repeat it in its links).
    pub(super) fn strip_query_key(&self, url: &str) -> String {
        let Auth::ApiKey {
            query: Some(param), ..
        } = self
        else {
            return url.to_string();
        };
        let Ok(mut parsed) = url::Url::parse(url) else {
            return url.to_string();
        };
        if !parsed.query_pairs().any(|(k, _)| k == param.as_str()) {
            return url.to_string();
        }
        crate::connections::http::set_query_param(&mut parsed, param, None);
        parsed.to_string()
    }

    /// Whether any authentication is configured.
    pub(super) fn is_some(&self) -> bool {
        !matches!(self, Auth::None)
    }

    /// Whether a 401 can be cured by fetching a token or logging in again.
    pub(super) fn renewable(&self) -> bool {
        matches!(
            self,
            Auth::OAuth2 { .. } | Auth::Session { .. } | Auth::Code { .. }
        )
    }

    /// Forgets the token or the session `used` (it expired), unless another thread has
    /// replaced it already.
    pub(super) fn invalidate(&self, used: &str) {
        match self {
            Auth::OAuth2 { token, .. } => forget(token, |t| t.0 == used),
            Auth::Session { cookie, .. } => forget(cookie, |c| c == used),
            Auth::Code { tokens, .. } => {
                if let Ok(mut slot) = tokens.lock() {
                    if let Some(set) = slot.as_mut().filter(|t| t.access == used) {
                        // expired for the server: refresh on the next request
                        set.expires_at = 0;
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds the credentials to a request: headers, or the URL's query; fetches a token or
    /// logs in first when there is none yet (one thread does, the others wait for it).
    /// Returns the URL to call and the token or session used.
    pub(super) fn apply(
        &self,
        client: &Transport,
        url: &str,
        headers: &mut Vec<(String, String)>,
    ) -> Result<(String, String), TryError> {
        match self {
            Auth::None => {}
            Auth::ApiKey { header, query, key } => {
                if let Some(name) = header {
                    headers.push((name.clone(), key.clone()));
                }
                if let Some(param) = query {
                    let mut url = url::Url::parse(url).map_err(|e| {
                        TryError::Final(Diag::new(
                            codes::E610_INVALID_SETTING,
                            format!("not a URL: {} ({e})", client.redact(url)),
                        ))
                    })?;
                    crate::connections::http::set_query_param(&mut url, param, Some(key));
                    return Ok((url.to_string(), String::new()));
                }
            }
            Auth::Basic(value) => headers.push(("Authorization".into(), value.clone())),
            Auth::OAuth2 {
                token_url,
                form,
                basic,
                token,
            } => {
                let mut slot = lock(token)?;
                let bearer = match slot.as_ref() {
                    Some((t, expires)) if Instant::now() + REFRESH_EARLY < *expires => t.clone(),
                    _ => {
                        let fresh = fetch_token(client, token_url, form, basic.as_deref())?;
                        let value = fresh.0.clone();
                        *slot = Some(fresh);
                        value
                    }
                };
                headers.push(("Authorization".into(), format!("Bearer {bearer}")));
                return Ok((url.to_string(), bearer));
            }
            Auth::Code {
                endpoint,
                vault,
                key,
                tokens,
            } => {
                let mut slot = lock(tokens)?;
                if slot.is_none() {
                    *slot = Some(vault.load(key).map_err(TryError::Final)?);
                }
                let Some(current) = slot.clone() else {
                    return Err(TryError::Final(Diag::new(
                        codes::E616_REMOTE_AUTH,
                        "no tokens",
                    )));
                };
                let set = match (current.fresh(), &current.refresh) {
                    (true, _) => current,
                    (false, Some(refresh)) => {
                        let renewed = endpoint.refresh(client, refresh)?;
                        // a process killed here must not lose the only valid token
                        crate::failpoint("oauth-refresh-unsaved");
                        vault.save(key, &renewed).map_err(TryError::Final)?;
                        *slot = Some(renewed.clone());
                        renewed
                    }
                    (false, None) => {
                        return Err(TryError::Final(Diag::new(
                            codes::E616_REMOTE_AUTH,
                            "the access token expired and the provider gave no refresh token: log in again with `sluice auth login`",
                        )))
                    }
                };
                headers.push(("Authorization".into(), format!("Bearer {}", set.access)));
                return Ok((url.to_string(), set.access));
            }
            Auth::Session {
                login_url,
                body,
                cookie,
            } => {
                let mut slot = lock(cookie)?;
                let value = match slot.as_ref() {
                    Some(c) => c.clone(),
                    None => {
                        let fresh = log_in(client, login_url, body)?;
                        *slot = Some(fresh.clone());
                        fresh
                    }
                };
                headers.push(("Cookie".into(), value.clone()));
                return Ok((url.to_string(), value));
            }
        }
        Ok((url.to_string(), String::new()))
    }
}

fn forget<T>(slot: &Mutex<Option<T>>, stale: impl Fn(&T) -> bool) {
    if let Ok(mut slot) = slot.lock() {
        if slot.as_ref().is_some_and(stale) {
            *slot = None;
        }
    }
}

fn lock<T>(slot: &Mutex<Option<T>>) -> Result<std::sync::MutexGuard<'_, Option<T>>, TryError> {
    slot.lock().map_err(|_| {
        TryError::Final(Diag::new(
            codes::E616_REMOTE_AUTH,
            "a thread failed while authenticating",
        ))
    })
}

/// The OAuth 2.0 client-credentials grant: POST the form, keep the token until a minute
/// before `expires_in` runs out (an hour when the server does not say).
fn fetch_token(
    client: &Transport,
    url: &str,
    form: &str,
    basic: Option<&str>,
) -> Result<(String, Instant), TryError> {
    let answer = post_token_form(client, url, form, basic)?;
    let token = answer
        .get("access_token")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    Ok((
        token.to_string(),
        Instant::now() + Duration::from_secs(lifetime_of(&answer)),
    ))
}

/// A session login: POST the JSON body, keep the cookies the answer sets.
fn log_in(client: &Transport, url: &str, body: &[u8]) -> Result<String, TryError> {
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let reply = client.raw("POST", url, Some(body), headers)?;
    if matches!(reply.status, 429) || reply.status >= 500 {
        return Err(TryError::Transient(
            format!("login: HTTP {}", reply.status),
            reply.retry_after,
        ));
    }
    if !reply.ok() {
        return Err(auth_failed(
            client,
            "the login",
            url,
            reply.status,
            &reply.excerpt(),
        ));
    }
    let cookie = reply
        .cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if cookie.is_empty() {
        return Err(auth_failed(
            client,
            "the login (no session cookie in the answer)",
            url,
            reply.status,
            "",
        ));
    }
    Ok(cookie)
}
