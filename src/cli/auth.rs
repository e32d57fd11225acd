//! `sluice auth login CONNECTOR`: OAuth 2.0 authorization code with PKCE for a side whose
//! connection has `auth = "oauth2_code"`. It prints the provider's consent page, takes the
//! code on a loopback redirect (`http://127.0.0.1:PORT/callback`, RFC 8252), checks the
//! `state`, exchanges the code with its PKCE verifier, and keeps the tokens in the store
//! sealed with `SLUICE_SECRET_KEY`. Nothing secret is printed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::eval::DEFAULT_STORE;
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::connections::http::oauth::{authorize_url, challenge_of, random_token, Endpoint, Vault};
use crate::connections::http::transport::Transport;
use crate::diagnostics::{codes, Diag};
use crate::store::secrets::SecretKey;
use crate::transform::connector_file::ConnectorFile;

/// Arguments of `sluice auth`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    command: AuthCommand,
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Log a connector's side in at its OAuth 2.0 provider (authorization code with PKCE).
    Login {
        /// The connector file.
        connector: PathBuf,
        /// The side whose connection logs in (default: the one with `auth = "oauth2_code"`).
        #[arg(long, value_parser = ["inbound", "outbound"])]
        side: Option<String>,
        /// The store the tokens are kept in (default: the connector's `[store]`, else
        /// $SLUICE_STORE, else sluice.db).
        #[arg(long, value_name = "DB")]
        store: Option<PathBuf>,
        /// The loopback port of the redirect (default: any free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How long to wait for the provider's redirect, in seconds.
        #[arg(long, default_value_t = 300)]
        wait: u64,
    },
}

/// Runs `sluice auth`.
pub fn run(args: AuthArgs) -> i32 {
    match args.command {
        AuthCommand::Login {
            connector,
            side,
            store,
            port,
            wait,
        } => match login(
            &connector,
            side.as_deref(),
            store,
            port,
            Duration::from_secs(wait),
        ) {
            Ok(()) => EXIT_OK,
            Err((code, diag)) => {
                report_plain(*diag);
                code
            }
        },
    }
}

/// Why a login failed: the exit code and the diagnostic.
type Failed = (i32, Box<Diag>);

fn login(
    path: &std::path::Path,
    side: Option<&str>,
    store: Option<PathBuf>,
    port: u16,
    wait: Duration,
) -> Result<(), Failed> {
    let setup = |diag: Diag| (EXIT_COMPILE, Box::new(diag));
    let file = ConnectorFile::load(path).map_err(|problems| {
        setup(problems.into_iter().next().map_or_else(
            || Diag::new(codes::E601_CONNECTOR_SYNTAX, "cannot load the connector"),
            |p| p.diag,
        ))
    })?;
    let connector = &file.connector;
    let uses_code = |s: &crate::transform::connector::Side| {
        s.connection
            .as_ref()
            .is_some_and(|c| c.auth == "oauth2_code")
    };
    let label = match side {
        Some(label) => label,
        None if uses_code(&connector.outbound) => "outbound",
        None => "inbound",
    };
    let chosen = match label {
        "outbound" => &connector.outbound,
        _ => &connector.inbound,
    };
    let connection = chosen
        .connection
        .as_ref()
        .filter(|_| uses_code(chosen))
        .ok_or_else(|| {
            setup(Diag::new(
                codes::E610_INVALID_SETTING,
                format!("the {label} side has no [{label}.connection] with auth = \"oauth2_code\""),
            ))
        })?;
    let key = SecretKey::from_env().map_err(setup)?;
    let credentials = chosen
        .resolve_credentials(label, &|name| {
            Err(Diag::new(
                codes::E606_CREDENTIAL,
                format!("{label}.credentials: secret:{name} is opened by a run, not by `sluice auth login`: give client_id as text, env:VAR or file:PATH"),
            ))
        })
        .map_err(setup)?;
    let client_id = credentials.get("client_id").cloned().ok_or_else(|| {
        setup(Diag::new(
            codes::E606_CREDENTIAL,
            format!("auth = \"oauth2_code\" needs `{label}.credentials.client_id`"),
        ))
    })?;
    let store = match store {
        Some(path) => path,
        None => match &connector.store {
            Some(settings) => PathBuf::from(settings.resolve().map_err(setup)?),
            None => std::env::var_os("SLUICE_STORE")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)),
        },
    };
    let base = connection.url.trim_end_matches('/').to_string();
    let transport = Transport::new(label, connection, &credentials, &base).map_err(setup)?;
    let endpoint = Endpoint::new(
        connection,
        &base,
        client_id.clone(),
        credentials.get("client_secret").cloned(),
    );

    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        (
            EXIT_RUNTIME,
            Box::new(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!("cannot listen on 127.0.0.1:{port}: {e}"),
            )),
        )
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let verifier = random_token().map_err(setup)?;
    let state = random_token().map_err(setup)?;
    let url = authorize_url(
        connection,
        &client_id,
        &redirect,
        &challenge_of(&verifier),
        &state,
    )
    .map_err(setup)?;
    println!("Open this page to let Sluice act for you, and log in there:\n{url}");
    let _ = std::io::stdout().flush();
    let code = await_code(&listener, &state, wait).map_err(|d| (EXIT_RUNTIME, Box::new(d)))?;
    let tokens = endpoint
        .exchange(&transport, &code, &verifier, &redirect)
        .map_err(|d| (EXIT_RUNTIME, Box::new(d)))?;
    Vault {
        store: store.clone(),
        connector: connector.name.clone(),
        side: label.to_string(),
    }
    .save(&key, &tokens)
    .map_err(|d| (EXIT_RUNTIME, Box::new(d)))?;
    println!(
        "logged in: the tokens of `{}` ({label}) are kept sealed in {}",
        connector.name,
        crate::diagnostics::redact::without_password(&store.display().to_string())
    );
    Ok(())
}

/// Waits for the provider's redirect to the loopback address: its code, once its `state`
/// is the one sent (any other request is answered 404, a wrong state refused).
fn await_code(listener: &TcpListener, state: &str, wait: Duration) -> Result<String, Diag> {
    let deadline = Instant::now() + wait;
    listener
        .set_nonblocking(true)
        .map_err(|e| Diag::new(codes::E614_REMOTE_UNREACHABLE, e.to_string()))?;
    loop {
        let (stream, _) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(Diag::new(
                        codes::E616_REMOTE_AUTH,
                        format!("no redirect from the provider within {} s", wait.as_secs()),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(Diag::new(codes::E614_REMOTE_UNREACHABLE, e.to_string())),
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let target = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let parsed = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
        let answer = |status: &str, text: &str| {
            let body = format!("<!doctype html><title>Sluice</title><p>{text}</p>");
            let _ = write!(
                &stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        };
        let Some(parsed) = parsed.filter(|u| u.path() == "/callback") else {
            answer("404 Not Found", "Not here.");
            continue;
        };
        let param = |name: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            answer("400 Bad Request", "The provider refused; see the terminal.");
            let why = param("error_description").unwrap_or_default();
            return Err(Diag::new(
                codes::E616_REMOTE_AUTH,
                format!("the provider refused the login: {error} {why}"),
            ));
        }
        if param("state").as_deref() != Some(state) {
            answer(
                "400 Bad Request",
                "This answer does not belong to this login.",
            );
            return Err(Diag::new(
                codes::E616_REMOTE_AUTH,
                "the redirect's `state` is not the one sent: refused (a forged or stale login)",
            ));
        }
        let Some(code) = param("code") else {
            answer("400 Bad Request", "No code in the answer.");
            return Err(Diag::new(
                codes::E616_REMOTE_AUTH,
                "the redirect carries no code",
            ));
        };
        answer("200 OK", "Sluice is logged in. You can close this page.");
        return Ok(code);
    }
}
