//! `sluice serve`: the command line of the server in `crate::serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use clap::Args;
use signal_hook::consts::{SIGINT, SIGTERM};

use super::eval::DEFAULT_STORE;
use super::{report_plain, EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::serve::{serve, ServeConfig};
use crate::transform::connection::parse_duration;

/// Arguments of `sluice serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Connector files, or directories of them (each directory a connector set).
    #[arg(required = true, value_name = "DIR_OR_FILES")]
    paths: Vec<PathBuf>,
    /// The store of every run: an SQLite file, or a postgres:// URL.
    #[arg(long, value_name = "DB", env = "SLUICE_STORE", default_value = DEFAULT_STORE)]
    store: PathBuf,
    /// The address of the HTTP API and web page (port 0: any free one, printed at start).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8377")]
    listen: SocketAddr,
    /// Where webhook records wait for their run and dead-letter files go.
    #[arg(long, value_name = "DIR", default_value = "sluice-serve")]
    state_dir: PathBuf,
    /// How often connector files are looked at for changes.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    watch: String,
    /// The wait before retrying a failed run; doubled for each further failure (at most 5m).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    retry_backoff: String,
    /// Retries of a failed run before it waits for its next scheduled time.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// Set a resource limit for every run, e.g. --limit steps=10000 (repeatable).
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    limits: Vec<String>,
    /// The engine of every run.
    #[arg(long, value_enum, default_value_t = crate::native::Engine::Auto)]
    engine: crate::native::Engine,
    /// Serve the API without tokens even on an address other machines reach (it warns at
    /// every start).
    #[arg(long)]
    insecure_no_auth: bool,
    /// Answer /metrics without a token (for a Prometheus that has none).
    #[arg(long)]
    open_metrics: bool,
    /// A host name requests may name besides loopback ones, e.g. sluice.internal
    /// (repeatable).
    #[arg(long = "allowed-host", value_name = "HOST")]
    allowed_hosts: Vec<String>,
    /// The URL users reach the server by, e.g. https://sluice.example.com (its host is
    /// allowed).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Connections served at once (more wait).
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_connections: usize,
    /// The longest a client may take to send a request's headers.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    header_timeout: String,
    /// The most webhook bytes waiting in one connector's spool, e.g. 512MiB (a hook past it
    /// is answered 507).
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    spool_quota: String,
    /// The runs of each connector the store keeps (older records are pruned).
    #[arg(long, value_name = "N", default_value_t = crate::executor::run::DEFAULT_KEEP_RUNS)]
    keep_runs: u64,
}

/// A size: a whole number of bytes, or with KiB, MiB or GiB (or K, M, G).
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let factor: u64 = match t.get(digits.len()..)?.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        _ => return None,
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(factor)
}

/// Runs `sluice serve` until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> i32 {
    let limits = match crate::limits::Limits::from_settings(&args.limits) {
        Ok(l) => l,
        Err(e) => {
            report_plain(crate::diagnostics::Diag::from(&e));
            return EXIT_COMPILE;
        }
    };
    let duration = |flag: &str, text: &str| {
        parse_duration(text)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                crate::diagnostics::Diag::new(
                    crate::diagnostics::codes::E610_INVALID_SETTING,
                    format!("--{flag} `{text}` is not a duration such as 5s"),
                )
            })
    };
    let (watch_every, retry_backoff, header_timeout) = match (
        duration("watch", &args.watch),
        duration("retry-backoff", &args.retry_backoff),
        duration("header-timeout", &args.header_timeout),
    ) {
        (Ok(w), Ok(r), Ok(h)) => (w, r, h),
        (Err(d), _, _) | (_, Err(d), _) | (_, _, Err(d)) => {
            report_plain(d);
            return EXIT_COMPILE;
        }
    };
    let Some(spool_quota) = parse_size(&args.spool_quota) else {
        report_plain(crate::diagnostics::Diag::new(
            crate::diagnostics::codes::E610_INVALID_SETTING,
            format!(
                "--spool-quota `{}` is not a size such as 512MiB",
                args.spool_quota
            ),
        ));
        return EXIT_COMPILE;
    };
    let mut allowed_hosts: Vec<String> = args
        .allowed_hosts
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if let Some(public) = &args.public_url {
        match url::Url::parse(public)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        {
            Some(host) => allowed_hosts.push(host.to_ascii_lowercase()),
            None => {
                report_plain(crate::diagnostics::Diag::new(
                    crate::diagnostics::codes::E610_INVALID_SETTING,
                    format!("--public-url `{public}` is not a URL with a host"),
                ));
                return EXIT_COMPILE;
            }
        }
    }
    let stop = Arc::new(AtomicUsize::new(0));
    for signal in [SIGTERM, SIGINT] {
        if let Err(e) =
            signal_hook::flag::register_usize(signal, Arc::clone(&stop), signal as usize)
        {
            eprintln!("warning: cannot handle signal {signal}: {e}");
        }
    }
    let config = ServeConfig {
        paths: args.paths,
        store: args.store,
        listen: args.listen,
        state_dir: args.state_dir,
        watch_every,
        retry_backoff,
        retries: args.retries,
        limits,
        engine: args.engine,
        access: crate::serve::AccessConfig {
            insecure_no_auth: args.insecure_no_auth,
            open_metrics: args.open_metrics,
            allowed_hosts,
            loopback: true,
        },
        tls: args.tls_cert.zip(args.tls_key),
        max_connections: args.max_connections,
        header_timeout,
        spool_quota,
        keep_runs: args.keep_runs,
    };
    match serve(config, stop) {
        Ok(()) => {
            crate::serve::log("sluice serve: stopped");
            EXIT_OK
        }
        Err(diag) => {
            report_plain(diag);
            EXIT_RUNTIME
        }
    }
}
