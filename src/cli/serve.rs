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
    let (watch_every, retry_backoff) = match (
        duration("watch", &args.watch),
        duration("retry-backoff", &args.retry_backoff),
    ) {
        (Ok(w), Ok(r)) => (w, r),
        (Err(d), _) | (_, Err(d)) => {
            report_plain(d);
            return EXIT_COMPILE;
        }
    };
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
    };
    match serve(config, stop) {
        Ok(()) => {
            eprintln!("sluice serve: stopped");
            EXIT_OK
        }
        Err(diag) => {
            report_plain(diag);
            EXIT_RUNTIME
        }
    }
}
