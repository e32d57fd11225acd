//! `[inbound.connection]` / `[outbound.connection]`: how a side reaches a REST or OData
//! system over HTTP (reference: `docs/connectors.md`). This is the connector format as data;
//! the executor's `http` module does the talking.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::diagnostics::{codes, Diag};

/// The values of `connection.auth`.
pub const AUTH_METHODS: &[&str] = &[
    "none",
    "api_key",
    "basic",
    "oauth2",
    "oauth2_code",
    "session",
];

/// The values of `connection.token_auth`.
pub const TOKEN_AUTH: &[&str] = &["client_secret_post", "client_secret_basic"];

/// The values of `connection.paging`.
pub const PAGING: &[&str] = &["next_link", "skip", "cursor", "page", "none"];

/// The values of `connection.lookup`.
pub const LOOKUP_STYLES: &[&str] = &["params", "odata"];

/// The values of `connection.write`.
pub const WRITE_METHODS: &[&str] = &["upsert", "post", "put", "patch"];

/// How one side talks to a REST/OData system.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The service root, e.g. `https://sap.example.com:50000/b1s/v1`.
    pub url: String,
    /// `none`, `api_key`, `basic`, `oauth2` or `session` (a client certificate is given in
    /// the credentials, with any of them).
    #[serde(default = "none", skip_serializing_if = "is_none")]
    pub auth: String,
    /// Session login: the path POSTed to (default `Login`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_path: Option<String>,
    /// OAuth 2.0: the token endpoint (a full URL, or a path under `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// OAuth 2.0 authorization code: the provider's consent page (a full URL, or a path
    /// under `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    /// OAuth 2.0: how the client authenticates at the token endpoint:
    /// `client_secret_post` (in the form; the default) or `client_secret_basic` (HTTP Basic,
    /// which RFC 6749 says every server supports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_auth: Option<String>,
    /// OAuth 2.0: the scope asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// API key: the header that carries it (default `X-API-Key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_header: Option<String>,
    /// API key: the query parameter that carries it instead of a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_query: Option<String>,
    /// Source: where the records are in a page (a dotted path; default `value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<String>,
    /// Source: how pages follow each other.
    #[serde(default = "next_link", skip_serializing_if = "is_next_link")]
    pub paging: String,
    /// Source: records per page asked for (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    /// Source: the parameter carrying the page size (default `$top`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size_param: Option<String>,
    /// Source, `skip` paging: the parameter carrying the offset (default `$skip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_param: Option<String>,
    /// Source, `page`/`cursor` paging: the parameter carrying the page number or cursor
    /// (default `page` / `cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_param: Option<String>,
    /// Source, `cursor` paging: where the next cursor is in a page (default `next_cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_path: Option<String>,
    /// Source, `next_link` paging: where the next page's link is (default
    /// `@odata.nextLink`, then `odata.nextLink`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link_path: Option<String>,
    /// Source: OData `$select`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<String>,
    /// Source: OData `$orderby`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orderby: Option<String>,
    /// Extra query parameters of every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, String>,
    /// Source: the field whose highest value read is the next run's starting point
    /// (incremental sync), e.g. `UpdateDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// Source: send the watermark as this query parameter instead of an OData `$filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark_param: Option<String>,
    /// Source: how far before the watermark the next run starts (default `0s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<String>,
    /// Each request's time limit (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Retries of a request that timed out, lost its connection or got 429/5xx (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// The first retry's wait; each next one doubles, with jitter (default `500ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    /// The longest wait between retries, `Retry-After` included (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff: Option<String>,
    /// Sink: how a record is written.
    #[serde(default = "upsert", skip_serializing_if = "is_upsert")]
    pub write: String,
    /// Sink, `put`/`patch`: the record's path under `url`, with `{field}` placeholders
    /// (default `<entity>/{<primary_key>}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Sink, `upsert`: the fields that find the remote record (default the primary key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_keys: Vec<String>,
    /// Sink, `upsert`: how the lookup asks for the match keys: `params` (`?erp_id=C1`) or
    /// `odata` (`$filter=erp_id eq 'C1'`); default `params`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<String>,
    /// Sink, `upsert`: the remote record's own id in a lookup's answer (default `id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// Sink: a batch endpoint under `url` taking a JSON array of records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_path: Option<String>,
    /// Sink: records per batch request (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Sink: send a key derived from the record with every write in this header, so that
    /// a write retried after a timeout is applied once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_header: Option<String>,
    /// Sink: requests in flight at once (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<usize>,
    /// Other origins (`https://host:port`) that links in the answers may lead to, trusted
    /// with the credentials like `url` itself; by default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
}

fn none() -> String {
    "none".into()
}
fn is_none(s: &str) -> bool {
    s == "none"
}
fn next_link() -> String {
    "next_link".into()
}
fn is_next_link(s: &str) -> bool {
    s == "next_link"
}
fn upsert() -> String {
    "upsert".into()
}
fn is_upsert(s: &str) -> bool {
    s == "upsert"
}

/// `250ms`, `30s`, `15m`, `2h`, `1d` → a duration (zero allowed).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if let Some(ms) = t.strip_suffix("ms") {
        return ms.parse().ok().map(Duration::from_millis);
    }
    let unit = t.chars().last()?;
    let n: u64 = t.get(..t.len() - unit.len_utf8())?.parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    n.checked_mul(factor).map(Duration::from_secs)
}

impl Connection {
    /// The duration setting `value`, or `default` when absent.
    fn duration(value: Option<&str>, default: Duration) -> Duration {
        value.and_then(parse_duration).unwrap_or(default)
    }

    /// Each request's time limit.
    pub fn timeout(&self) -> Duration {
        Self::duration(self.timeout.as_deref(), Duration::from_secs(30))
    }

    /// The first retry's wait.
    pub fn backoff(&self) -> Duration {
        Self::duration(self.backoff.as_deref(), Duration::from_millis(500))
    }

    /// The longest wait between retries.
    pub fn max_backoff(&self) -> Duration {
        Self::duration(self.max_backoff.as_deref(), Duration::from_secs(30))
    }

    /// How far before the watermark an incremental run starts.
    pub fn overlap(&self) -> Duration {
        Self::duration(self.overlap.as_deref(), Duration::ZERO)
    }

    /// Every problem of the table, each with the key it is about (`sluice check`).
    pub fn problems(&self, side: &str) -> Vec<(Diag, &'static str)> {
        let mut problems = Vec::new();
        let lookup = self.lookup.clone().unwrap_or_else(|| "params".into());
        let token_auth = self
            .token_auth
            .clone()
            .unwrap_or_else(|| "client_secret_post".into());
        let closed = [
            ("auth", &self.auth, AUTH_METHODS),
            ("token_auth", &token_auth, TOKEN_AUTH),
            ("paging", &self.paging, PAGING),
            ("write", &self.write, WRITE_METHODS),
            ("lookup", &lookup, LOOKUP_STYLES),
        ];
        for (key, value, allowed) in closed {
            if !allowed.contains(&value.as_str()) {
                problems.push((
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!(
                            "{side}.connection.{key}: `{value}` is not one of {}",
                            allowed.join(", ")
                        ),
                    )
                    .help(crate::diagnostics::one_of(value, allowed)),
                    key,
                ));
            }
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            problems.push((
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!(
                        "{side}.connection.url `{}` is not an http:// or https:// URL",
                        self.url
                    ),
                ),
                "url",
            ));
        }
        for origin in &self.allowed_origins {
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .map(|rest| rest.strip_suffix('/').unwrap_or(rest));
            let bare = authority.is_some_and(|a| {
                !a.is_empty() && !a.starts_with(':') && !a.contains(['/', '?', '#', '@', ' '])
            });
            if !bare {
                problems.push((
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("{side}.connection.allowed_origins: `{origin}` is not an origin"),
                    )
                    .help("scheme, host and port only, e.g. \"https://files.example.com:8443\""),
                    "allowed_origins",
                ));
            }
        }
        let durations = [
            ("timeout", &self.timeout),
            ("backoff", &self.backoff),
            ("max_backoff", &self.max_backoff),
            ("overlap", &self.overlap),
        ];
        for (key, value) in durations {
            if let Some(v) = value.as_deref().filter(|v| parse_duration(v).is_none()) {
                problems.push((
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("{side}.connection.{key}: `{v}` does not parse as a duration"),
                    )
                    .help("a whole number and a unit: 250ms, 30s, 15m, 2h, 1d"),
                    key,
                ));
            }
        }
        if self.auth == "oauth2_code" && (self.token_url.is_none() || self.authorize_url.is_none())
        {
            problems.push((
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    format!("{side}.connection: auth = \"oauth2_code\" needs `authorize_url` and `token_url`"),
                ),
                "auth",
            ));
        }
        if self.auth == "oauth2" && self.token_url.is_none() {
            problems.push((
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    format!("{side}.connection: auth = \"oauth2\" needs `token_url`"),
                ),
                "auth",
            ));
        }
        if self.api_key_header.is_some() && self.api_key_query.is_some() {
            problems.push((
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!(
                        "{side}.connection: give `api_key_header` or `api_key_query`, not both"
                    ),
                ),
                "api_key_query",
            ));
        }
        if self.page_size == Some(0) || self.batch_size == Some(0) || self.concurrency == Some(0) {
            problems.push((
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("{side}.connection: page_size, batch_size and concurrency must be at least 1"),
                ),
                "size",
            ));
        }
        problems
    }

    /// The credential keys each auth method needs.
    pub fn needed_credentials(&self) -> &'static [&'static str] {
        match self.auth.as_str() {
            "api_key" => &["api_key"],
            "basic" => &["user", "password"],
            "oauth2" => &["client_id", "client_secret"],
            "oauth2_code" => &["client_id"],
            "session" => &["user", "password"],
            _ => &[],
        }
    }
}
