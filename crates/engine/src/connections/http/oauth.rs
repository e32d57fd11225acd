//! OAuth 2.0 authorization code with PKCE and refresh tokens (`auth = "oauth2_code"`), as
//! accounting systems want: `sluice auth login` sends the user to the provider's consent
//! page and takes the code on a loopback redirect (RFC 8252), and the token set — the
//! access token, the refresh token, when the access token expires — is kept sealed in the
//! store (`store::secrets`). A run refreshes the access token a minute before it expires
//! and when a request is answered 401, and saves a rotated refresh token at once, in one
//! statement. The client authenticates at the token endpoint by `client_secret_basic` or
//! `client_secret_post` (`token_auth`), or not at all as a public client (no secret).

use std::path::PathBuf;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::connections::http::token::{lifetime_of, post_token_form};
use crate::connections::http::transport::{Transport, TryError};
use crate::diagnostics::{codes, Diag};
use crate::store::secrets::SecretKey;
use crate::store::Store;
use crate::transform::connection::Connection;

/// A side's tokens, as kept sealed in the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenSet {
    /// The access token requests carry.
    pub access: String,
    /// The refresh token that gets the next one.
    pub refresh: Option<String>,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
}

impl TokenSet {
    /// The token set of a token endpoint's answer; a refresh token it does not rotate is
    /// kept from `earlier`.
    fn of(answer: &serde_json::Value, earlier: Option<&str>) -> TokenSet {
        let text = |k: &str| answer.get(k).and_then(|v| v.as_str()).map(str::to_string);
        TokenSet {
            access: text("access_token").unwrap_or_default(),
            refresh: text("refresh_token").or_else(|| earlier.map(str::to_string)),
            expires_at: chrono::Utc::now().timestamp()
                + i64::try_from(lifetime_of(answer)).unwrap_or(3600),
        }
    }

    /// Whether the access token is good for another minute.
    pub fn fresh(&self) -> bool {
        chrono::Utc::now().timestamp() + 60 < self.expires_at
    }
}

/// Where a side's tokens are kept: its connector's row in the store, sealed by the key.
pub struct Vault {
    /// The store's location.
    pub store: PathBuf,
    /// The connector's name.
    pub connector: String,
    /// `inbound` or `outbound`.
    pub side: String,
}

/// A credential kept in the store, with the origin it was entered for.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptCredential {
    origin: String,
    value: String,
}

/// The origin (scheme, host, port) of `url`, as the credential is bound to it.
fn origin_of(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_string(), |u| u.origin().ascii_serialization())
}

/// The name a side's `secret:NAME` credential is sealed under in the store (beside the
/// side's OAuth 2.0 tokens, `<side>.oauth2`).
pub fn credential_row(side: &str, name: &str) -> String {
    format!("{side}.credential.{name}")
}

impl Vault {
    fn name(&self) -> String {
        format!("{}.oauth2", self.side)
    }

    /// The credential `secret:NAME` of this side, opened from the store with the key
    /// `SLUICE_SECRET_KEY` gives, for a connection to `url`: E621 without a key, E622 when
    /// it does not open, E606 when none is kept or it was kept for another origin (a
    /// credential is only ever sent where it was entered for).
    pub fn credential(&self, name: &str, url: &str) -> Result<String, Diag> {
        let key = SecretKey::from_env()?;
        let refused = |why: String| {
            Diag::new(
                codes::E606_CREDENTIAL,
                format!(
                    "{}.credentials: secret:{name} of connector `{}` {why}",
                    self.side, self.connector
                ),
            )
            .help("enter it in Sluice Studio (the connector's Inbound or Outbound step), which seals it into the store the server runs on")
        };
        let missing = || refused(format!("is not kept in the store {}", self.store.display()));
        let store = Store::open_existing(&self.store).map_err(|_| missing())?;
        let text = store
            .open_secret(&self.connector, &credential_row(&self.side, name), &key)?
            .ok_or_else(missing)?;
        let kept: KeptCredential = serde_json::from_str(&text).map_err(|_| missing())?;
        let here = origin_of(url);
        if kept.origin != here {
            return Err(refused(format!(
                "was entered for {}, and the connection now goes to {here}: enter it again for the new address",
                kept.origin
            )));
        }
        Ok(kept.value)
    }

    /// Seals `value` as the credential `secret:NAME` of this side, for connections to `url`.
    pub fn keep_credential(
        &self,
        key: &SecretKey,
        name: &str,
        url: &str,
        value: &str,
    ) -> Result<(), Diag> {
        let mut store = Store::open_or_create(&self.store).map_err(|e| e.to_diag())?;
        let kept = KeptCredential {
            origin: origin_of(url),
            value: value.to_string(),
        };
        let text = serde_json::to_string(&kept).unwrap_or_default();
        store.seal_secret(
            &self.connector,
            &credential_row(&self.side, name),
            &text,
            key,
        )
    }

    /// The kept token set; E616 when none is (nobody logged in).
    pub fn load(&self, key: &SecretKey) -> Result<TokenSet, Diag> {
        let store = Store::open_existing(&self.store).map_err(|e| e.to_diag())?;
        let text = store.open_secret(&self.connector, &self.name(), key)?;
        let not_logged_in = || {
            Diag::new(
                codes::E616_REMOTE_AUTH,
                format!(
                    "connector `{}` has no OAuth 2.0 tokens for its {} side in {}",
                    self.connector,
                    self.side,
                    self.store.display()
                ),
            )
            .help(format!(
                "log in once: sluice auth login CONNECTOR --side {}",
                self.side
            ))
        };
        let text = text.ok_or_else(not_logged_in)?;
        serde_json::from_str(&text).map_err(|_| not_logged_in())
    }

    /// Keeps `tokens`, replacing the earlier set in one statement.
    pub fn save(&self, key: &SecretKey, tokens: &TokenSet) -> Result<(), Diag> {
        let mut store = Store::open_or_create(&self.store).map_err(|e| e.to_diag())?;
        let text = serde_json::to_string(tokens).unwrap_or_default();
        store.seal_secret(&self.connector, &self.name(), &text, key)
    }
}

/// A connection's token endpoint and how the client authenticates there.
pub struct Endpoint {
    url: String,
    client_id: String,
    secret: Option<String>,
    basic: bool,
}

impl Endpoint {
    /// The token endpoint of `connection` (a path under `base`, or a full URL).
    pub fn new(
        connection: &Connection,
        base: &str,
        client_id: String,
        secret: Option<String>,
    ) -> Endpoint {
        let url = connection.token_url.as_deref().unwrap_or("token");
        Endpoint {
            url: under(base, url),
            client_id,
            secret,
            basic: connection.token_auth.as_deref() == Some("client_secret_basic"),
        }
    }

    /// POSTs `pairs` with the client's authentication.
    fn post(
        &self,
        client: &Transport,
        pairs: &[(&str, &str)],
    ) -> Result<serde_json::Value, TryError> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k, v);
        }
        let basic = match (&self.secret, self.basic) {
            (Some(secret), true) => {
                let encode = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                Some(format!(
                    "Basic {}",
                    STANDARD.encode(format!("{}:{}", encode(&self.client_id), encode(secret)))
                ))
            }
            (secret, _) => {
                form.append_pair("client_id", &self.client_id);
                if let Some(secret) = secret {
                    form.append_pair("client_secret", secret);
                }
                None
            }
        };
        post_token_form(client, &self.url, &form.finish(), basic.as_deref())
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the token set.
    pub fn exchange(
        &self,
        client: &Transport,
        code: &str,
        verifier: &str,
        redirect: &str,
    ) -> Result<TokenSet, Diag> {
        let answer = self
            .post(
                client,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ],
            )
            .map_err(diag_of)?;
        Ok(TokenSet::of(&answer, None))
    }

    /// A new token set for `refresh` (the refresh token kept when the server does not
    /// rotate it).
    pub(super) fn refresh(&self, client: &Transport, refresh: &str) -> Result<TokenSet, TryError> {
        let answer = self.post(
            client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )?;
        Ok(TokenSet::of(&answer, Some(refresh)))
    }
}

/// A failed try as a diagnostic (a transient one is E614: the provider did not answer).
fn diag_of(e: TryError) -> Diag {
    match e {
        TryError::Final(diag) => diag,
        TryError::Transient(why, _) => Diag::new(codes::E614_REMOTE_UNREACHABLE, why),
    }
}

/// `path` under `base`, or itself when it is a full URL.
fn under(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

/// 32 random bytes as base64url: a PKCE verifier, or a `state`.
pub fn random_token() -> Result<String, Diag> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Diag::new(codes::E616_REMOTE_AUTH, format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge of a PKCE verifier (RFC 7636).
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The consent page's URL: the connection's `authorize_url` with the request's parameters.
pub fn authorize_url(
    connection: &Connection,
    client_id: &str,
    redirect: &str,
    challenge: &str,
    state: &str,
) -> Result<String, Diag> {
    let base = connection.authorize_url.as_deref().ok_or_else(|| {
        Diag::new(
            codes::E603_CONNECTOR_MISSING,
            "auth = \"oauth2_code\" needs `authorize_url`",
        )
    })?;
    let mut url = url::Url::parse(&under(&connection.url, base)).map_err(|e| {
        Diag::new(
            codes::E610_INVALID_SETTING,
            format!("authorize_url is not a URL: {e}"),
        )
    })?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state);
        if let Some(scope) = &connection.scope {
            query.append_pair("scope", scope);
        }
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
