//! Who may do what over `sluice serve`'s HTTP API: every request is checked — its `Host`
//! against the names the server answers to (no DNS rebinding), a state-changing request's
//! `Origin` and `Sec-Fetch-Site` (no cross-site forgery), then its token (`Authorization:
//! Bearer`, or the web page's session cookie) against the role the route needs — and every
//! answer carries the security headers. Reference: `docs/security.md`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::Server;
use crate::diagnostics::{codes, Code, Diag};
use crate::store::access::{token_hash, Role};

/// The web page's session cookie.
pub const SESSION_COOKIE: &str = "sluice_session";

/// How long a page session lasts.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// How long the tokens read from the store are trusted before they are read again (so a
/// revoked token stops working within this time).
const TOKENS_FRESH: Duration = Duration::from_secs(1);

/// What the server was told about who reaches it.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    /// Serve without authentication even beyond loopback (`--insecure-no-auth`).
    pub insecure_no_auth: bool,
    /// `/metrics` without a token (`--open-metrics`).
    pub open_metrics: bool,
    /// Host names besides loopback ones that requests may name (`--allowed-host`, the host
    /// of `--public-url`), lowercase, without port.
    pub allowed_hosts: Vec<String>,
    /// Whether the server listens on a loopback address only.
    pub loopback: bool,
}

/// A page session: whose token opened it, and until when it holds.
struct Session {
    token_name: String,
    until: Instant,
}

/// The tokens as last read from the store: hash → (name, role).
struct Tokens {
    read_at: Option<Instant>,
    by_hash: HashMap<String, (String, Role)>,
    /// Whether the store has held a token since the server started: from then on the API
    /// asks for one, even when the last one is revoked.
    ever: bool,
}

/// The access control of one server.
pub struct Access {
    /// What it was told.
    pub config: AccessConfig,
    tokens: Mutex<Tokens>,
    sessions: Mutex<HashMap<String, Session>>,
}

/// Who made a request, once authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's name (`anonymous` when the API is open).
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Access {
    /// Access control as configured.
    pub fn new(config: AccessConfig) -> Access {
        Access {
            config,
            tokens: Mutex::new(Tokens {
                read_at: None,
                by_hash: HashMap::new(),
                ever: false,
            }),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The tokens, read from the store again when they are older than a second, and
    /// whether the store has held any since the server started. Blocking: call it off the
    /// async threads.
    fn tokens(&self, server: &Server) -> (HashMap<String, (String, Role)>, bool) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.read_at.is_none_or(|at| at.elapsed() >= TOKENS_FRESH) {
            if let Some(Ok(rows)) = server.with_reader(|store| store.token_hashes()) {
                tokens.by_hash = rows
                    .into_iter()
                    .map(|(hash, name, role)| (hash, (name, role)))
                    .collect();
                tokens.read_at = Some(Instant::now());
                tokens.ever |= !tokens.by_hash.is_empty();
            }
        }
        (tokens.by_hash.clone(), tokens.ever)
    }

    /// Whether requests need a token: always beyond loopback (unless the server was started
    /// `--insecure-no-auth`), and on loopback once the store has held a token.
    fn required(&self, ever_had_tokens: bool) -> bool {
        !self.config.insecure_no_auth && (!self.config.loopback || ever_had_tokens)
    }

    /// Who made the request, from its bearer token or session cookie (blocking).
    fn principal(&self, server: &Server, headers: &HeaderMap) -> Result<Principal, Refused> {
        let (tokens, ever) = self.tokens(server);
        if !self.required(ever) {
            return Ok(Principal {
                name: "anonymous".into(),
                role: Role::Admin,
            });
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return match tokens.get(&token_hash(token.trim())) {
                Some((name, role)) => Ok(Principal {
                    name: name.clone(),
                    role: *role,
                }),
                None => Err(Refused::unauthenticated("the token is unknown or revoked")),
            };
        }
        if let Some(id) = session_cookie(headers) {
            let name = {
                let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
                sessions.retain(|_, s| s.until > Instant::now());
                sessions.get(&id).map(|s| s.token_name.clone())
            };
            // The session holds while its token does: a revoked token ends it.
            if let Some((name, role)) =
                name.and_then(|n| tokens.values().find(|(t, _)| *t == n).cloned())
            {
                return Ok(Principal { name, role });
            }
            return Err(Refused::unauthenticated("the session ended: log in again"));
        }
        Err(Refused::unauthenticated(
            "send `Authorization: Bearer <token>` (sluice token create NAME --role ROLE)",
        ))
    }

    /// Opens a page session for `token`: the session id, and who it is (blocking).
    pub fn log_in(&self, server: &Server, token: &str) -> Result<(String, Principal), Refused> {
        let (tokens, _) = self.tokens(server);
        let Some((name, role)) = tokens.get(&token_hash(token.trim())).cloned() else {
            return Err(Refused::unauthenticated("the token is unknown or revoked"));
        };
        let id = crate::store::access::new_token().map_err(|e| {
            Refused::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::E805_API_UNAUTHENTICATED,
                format!("no randomness: {e}"),
            )
        })?;
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id.clone(),
                Session {
                    token_name: name.clone(),
                    until: Instant::now() + SESSION_LIFETIME,
                },
            );
        Ok((id, Principal { name, role }))
    }

    /// Ends the page session of these headers.
    pub fn log_out(&self, headers: &HeaderMap) {
        if let Some(id) = session_cookie(headers) {
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }

    /// Whether the request's `Host` names this server: a loopback name, an allowed host,
    /// or (listening beyond loopback with no host named) any.
    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let name = host_name(host);
        is_loopback_name(&name) || self.config.allowed_hosts.contains(&name)
    }

    /// Whether a state-changing request comes from this server's own pages (or from no
    /// browser at all): `Sec-Fetch-Site` not cross-site, `Origin` absent or naming an
    /// allowed host on the request's own host and port.
    fn same_origin(&self, headers: &HeaderMap) -> bool {
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if matches!(site, Some("cross-site" | "same-site")) {
            return false;
        }
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            return true;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
    }
}

/// The id in a request's session cookie.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The host of a `Host` header, lowercase, without its port (`[::1]:80` → `[::1]`).
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if host.starts_with('[') {
        return host
            .split_inclusive(']')
            .next()
            .unwrap_or_default()
            .to_string();
    }
    host.split(':').next().unwrap_or_default().to_string()
}

/// Whether a host name is this machine's own: `localhost` (and `*.localhost`), 127.x.y.z
/// or `[::1]`.
fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A refused request: its status and why.
pub struct Refused {
    status: StatusCode,
    diag: Box<Diag>,
}

impl Refused {
    fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Refused {
        Refused {
            status,
            diag: Box::new(Diag::new(code, message)),
        }
    }

    fn unauthenticated(message: &str) -> Refused {
        Refused::new(
            StatusCode::UNAUTHORIZED,
            codes::E805_API_UNAUTHENTICATED,
            message,
        )
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = super::answer::error(self.status, &self.diag);
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The role a route needs (`None`: anyone; the route checks its own credentials, as a
/// webhook does, or shows nothing).
fn needed(method: &Method, path: &str, config: &AccessConfig) -> Option<Role> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (_, [asset]) if super::assets::find(asset).is_some() => None,
        (_, ["healthz"] | ["session"] | ["login"] | ["logout"]) => None,
        (_, ["hooks", _]) => None,
        (_, ["metrics"]) if config.open_metrics => None,
        (&Method::POST, ["connectors", _, "run" | "retry"]) => Some(Role::Operate),
        (_, ["connectors", _, "dead-letters", ..]) => Some(Role::Admin),
        // connectors, and the connections tested with credentials typed in
        (_, ["studio", "connectors" | "connections", ..]) => Some(Role::Admin),
        // the review queue shows records' contents to those who resolve it
        (_, ["reviews", ..]) => Some(Role::Operate),
        _ => Some(Role::Read),
    }
}

/// Checks every request before its route runs (host, origin, token and role) and adds the
/// security headers to every answer.
pub async fn guard(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let headers = request.headers().clone();
    let mut response = match check(&server, &method, &path, headers).await {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    };
    secure_headers(response.headers_mut());
    response
}

async fn check(
    server: &Arc<Server>,
    method: &Method,
    path: &str,
    headers: HeaderMap,
) -> Result<(), Refused> {
    let access = &server.access;
    if path != "/healthz" && !access.host_allowed(&headers) {
        return Err(Refused::new(
            StatusCode::MISDIRECTED_REQUEST,
            codes::E807_REQUEST_REFUSED,
            "this server does not answer to that Host (give it with --allowed-host or --public-url)",
        ));
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !access.same_origin(&headers) {
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            codes::E807_REQUEST_REFUSED,
            "a state-changing request from another site is refused",
        ));
    }
    let Some(role) = needed(method, path, &access.config) else {
        return Ok(());
    };
    let server = Arc::clone(server);
    let principal = tokio::task::spawn_blocking(move || server.access.principal(&server, &headers))
        .await
        .map_err(|e| {
            Refused::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::E805_API_UNAUTHENTICATED,
                e.to_string(),
            )
        })??;
    if principal.role < role {
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            codes::E806_API_FORBIDDEN,
            format!(
                "token `{}` has the role {}; this needs {}",
                principal.name,
                principal.role.name(),
                role.name()
            ),
        ));
    }
    Ok(())
}

/// Who the request's credentials name, for `GET /session` (blocking).
pub fn whoami(server: &Server, headers: &HeaderMap) -> serde_json::Value {
    let required = server.access.required(server.access.tokens(server).1);
    match server.access.principal(server, headers) {
        Ok(p) => json!({"auth_required": required, "name": p.name, "role": p.role.name()}),
        Err(_) => json!({"auth_required": required, "name": null, "role": null}),
    }
}

/// The headers every answer carries: no sniffing, no framing (no clickjacking), scripts
/// and styles from this server only, no referrer, and no caching of API answers.
pub fn secure_headers(headers: &mut HeaderMap) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The `Set-Cookie` value of a page session (`None`: the one that ends it).
pub fn session_cookie_header(id: Option<&str>) -> String {
    match id {
        Some(id) => format!(
            "{SESSION_COOKIE}={id}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
            SESSION_LIFETIME.as_secs()
        ),
        None => format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0"),
    }
}

/// The answer of a successful login.
pub fn logged_in(id: &str, principal: &Principal) -> Response {
    let mut response =
        Json(json!({"name": principal.name, "role": principal.role.name()})).into_response();
    if let Ok(value) = HeaderValue::from_str(&session_cookie_header(Some(id))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_without_their_ports() {
        assert_eq!(host_name("LocalHost:8377"), "localhost");
        assert_eq!(host_name("[::1]:80"), "[::1]");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert!(is_loopback_name("127.0.0.2") && is_loopback_name("app.localhost"));
        assert!(!is_loopback_name("attacker.example") && !is_loopback_name("localhost.evil.com"));
    }

    #[test]
    fn routes_need_the_roles_of_what_they_show_or_do() {
        let c = AccessConfig::default();
        assert_eq!(needed(&Method::GET, "/healthz", &c), None);
        assert_eq!(needed(&Method::GET, "/connectors", &c), Some(Role::Read));
        assert_eq!(needed(&Method::GET, "/metrics", &c), Some(Role::Read));
        assert_eq!(
            needed(&Method::POST, "/connectors/a/run", &c),
            Some(Role::Operate)
        );
        assert_eq!(
            needed(&Method::GET, "/connectors/a/dead-letters", &c),
            Some(Role::Admin)
        );
        assert_eq!(needed(&Method::POST, "/hooks/a", &c), None);
        // the page's assets load before anyone logs in
        for asset in super::super::assets::ASSETS {
            let path = format!("/{}", asset.path);
            assert_eq!(needed(&Method::GET, &path, &c), None, "{path}");
        }
        // the studio: analysing a formula reads nothing; connectors are the admin's to
        // write; the review queue shows and decides records
        assert_eq!(
            needed(&Method::POST, "/studio/formula", &c),
            Some(Role::Read)
        );
        assert_eq!(
            needed(&Method::POST, "/studio/connections/test", &c),
            Some(Role::Admin)
        );
        assert_eq!(
            needed(&Method::POST, "/studio/connectors", &c),
            Some(Role::Admin)
        );
        assert_eq!(needed(&Method::GET, "/reviews", &c), Some(Role::Operate));
        assert_eq!(
            needed(&Method::POST, "/connectors/a/retry", &c),
            Some(Role::Operate)
        );
        assert_eq!(
            needed(&Method::POST, "/reviews/3/accept", &c),
            Some(Role::Operate)
        );
        assert_eq!(
            needed(&Method::GET, "/connectors/a/history", &c),
            Some(Role::Read)
        );
        let open = AccessConfig {
            open_metrics: true,
            ..c
        };
        assert_eq!(needed(&Method::GET, "/metrics", &open), None);
    }
}
