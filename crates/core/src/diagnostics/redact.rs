//! Secrets kept out of messages: a URL or connection string as it may be shown, whatever
//! its form (well-formed or not, the password in the userinfo or in a parameter).

use std::sync::OnceLock;

use regex::Regex;

/// Parameters whose value is a secret, in a query string or a `key=value` connection
/// string (`?password=…`, `sslpassword=…`, `api_key=…`, `access_token=…`).
fn secret_parameter() -> Option<&'static Regex> {
    static PARAM: OnceLock<Option<Regex>> = OnceLock::new();
    PARAM
        .get_or_init(|| {
            Regex::new(r"(?i)\b([a-z_]*(?:password|passwd|pwd|secret|token|api_?key))=([^&\s;]*)")
                .ok()
        })
        .as_ref()
}

/// Whether a parameter named `name` holds a secret (`password`, `client_secret`,
/// `api_key`, `access_token`, …).
pub fn is_secret_name(name: &str) -> bool {
    secret_parameter().is_some_and(|param| param.is_match(&format!("{name}=")))
}

/// `url` with every password replaced by `***`: the userinfo's
/// (`postgres://u:***@host/db`, even when the rest does not parse, e.g. port 99999 or an
/// unencoded `@` or `/` in the password) and the value of every secret parameter
/// (`?password=***`, `password=*** host=…`).
pub fn without_password(url: &str) -> String {
    let mut shown = url.to_string();
    if let Some(scheme_end) = shown.find("://") {
        let authority_start = scheme_end + 3;
        let rest = shown.get(authority_start..).unwrap_or_default();
        // The userinfo ends at the last `@` before the query: a password may hold `@` or `/`.
        let end = rest.find(['?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest.get(..end).and_then(|r| r.rfind('@')) {
            if let Some(colon) = rest.get(..at).and_then(|r| r.find(':')) {
                let from = authority_start + colon + 1;
                let to = authority_start + at;
                shown.replace_range(from..to, "***");
            }
        }
    }
    match secret_parameter() {
        Some(param) => param.replace_all(&shown, "$1=***").into_owned(),
        None => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_password_is_hidden_however_the_url_is_written() {
        for (url, shown) in [
            (
                "postgres://u:hunter2secret@127.0.0.1:99999/db",
                "postgres://u:***@127.0.0.1:99999/db",
            ),
            ("postgres://u:hun@ter/2@host/db", "postgres://u:***@host/db"),
            (
                "postgres://u@host/db?password=hunter2&sslmode=require",
                "postgres://u@host/db?password=***&sslmode=require",
            ),
            (
                "host=db user=u password=hunter2 dbname=x",
                "host=db user=u password=*** dbname=x",
            ),
            (
                "https://user:PW@sap.example.com/b1s/v1",
                "https://user:***@sap.example.com/b1s/v1",
            ),
            (
                "https://api.example.com/items?api_key=K123&x=1",
                "https://api.example.com/items?api_key=***&x=1",
            ),
            ("postgres://u@host/db", "postgres://u@host/db"),
            ("sluice.db", "sluice.db"),
        ] {
            assert_eq!(without_password(url), shown, "{url}");
        }
        assert!(super::is_secret_name("api_key") && super::is_secret_name("client_secret"));
        assert!(!super::is_secret_name("page") && !super::is_secret_name("$filter"));
    }
}
