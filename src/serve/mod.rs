//! `sluice serve`: keeps a set of connectors running by their `[sync] frequency`
//! (schedules, webhooks, realtime, manual triggers), reloads connector files as they
//! change, and reports over HTTP (`/connectors`, `/runs/<id>`, `/metrics`, a web page).
//! Reference: `docs/serve.md`.

mod api;
mod hooks;
mod metrics;
mod runner;
pub mod schedule;
mod state;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::diagnostics::{codes, Diag};
use crate::executor::store::Store;
use crate::limits::Limits;
use crate::native::Engine;
use state::{Registry, Trigger};

pub use hooks::sign;

/// What `sluice serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Connector files and directories (connector sets).
    pub paths: Vec<PathBuf>,
    /// The store of every run: an SQLite file or a `postgres://` URL.
    pub store: PathBuf,
    /// The address of the HTTP API.
    pub listen: SocketAddr,
    /// Where webhook records wait for their run, and dead-letter files go.
    pub state_dir: PathBuf,
    /// How often connector files are looked at for changes.
    pub watch_every: Duration,
    /// The wait before the first retry of a failed run (doubled for each next one).
    pub retry_backoff: Duration,
    /// Retries of a failed run before waiting for its next schedule.
    pub retries: u32,
    /// Resource limits of every run.
    pub limits: Limits,
    /// The engine of every run.
    pub engine: Engine,
}

impl ServeConfig {
    /// Where webhook records are spooled.
    pub fn spool_dir(&self) -> PathBuf {
        self.state_dir.join("spool")
    }

    /// Where the dead-letter files of runs go.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.state_dir.join("dead-letters")
    }
}

/// The running server: its configuration, its registry, and the flag SIGTERM sets.
pub struct Server {
    /// What it was asked to do.
    pub config: ServeConfig,
    registry: Mutex<Registry>,
    /// Woken when a run is queued or ends.
    wake: Condvar,
    /// Non-zero once a signal asked the server to stop (every run shares it).
    stop: Arc<AtomicUsize>,
    /// A connection to the store for the API's reads.
    reader: Mutex<Option<Store>>,
    /// When the server started.
    started: DateTime<Utc>,
}

impl Server {
    /// The registry, locked (a panic elsewhere does not poison it for good).
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks at the connector files again: new ones are served, changed ones reloaded
    /// when they pass `sluice check`, removed ones dropped.
    fn rescan(&self) {
        let last_started = |name: &str| self.last_started(name);
        let log = {
            let mut registry = self.lock();
            watch::scan(
                &mut registry,
                &self.config.paths,
                &self.config.limits,
                &last_started,
            )
        };
        for line in log {
            eprintln!("{line}");
        }
    }

    /// When the store says the connector's last run started (or last found nothing new);
    /// `None` when it never ran, or when its last run did not finish (it was stopped or
    /// killed): such a run is owed at once.
    fn last_started(&self, name: &str) -> Option<DateTime<Utc>> {
        let unfinished = self
            .with_reader(|store| store.has_unfinished_run(name).unwrap_or(false))
            .unwrap_or(false);
        if unfinished {
            return None;
        }
        let status = self
            .with_reader(|store| store.last_runs(Some(name)).ok())
            .flatten()?
            .into_iter()
            .next()?;
        let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc());
        let started = parse(&status.run.started_at);
        let checked = status.last_checked.as_deref().and_then(parse);
        started.max(checked)
    }

    /// Runs `read` on the API's store connection, opened when first needed (`None` while
    /// the store does not exist yet or cannot be opened).
    fn with_reader<T>(&self, read: impl FnOnce(&Store) -> T) -> Option<T> {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if reader.is_none() {
            *reader = Store::open_for_reading(&self.config.store).ok();
        }
        reader.as_ref().map(read)
    }

    /// Queues a run of the connector named `name`; its id, or why it cannot run.
    fn trigger(&self, name: &str, trigger: Trigger, input: Option<PathBuf>) -> Result<u64, Diag> {
        let mut registry = self.lock();
        let Some(entry) = registry.by_name(name) else {
            return Err(Diag::new(
                codes::E801_UNKNOWN_CONNECTOR,
                format!("no connector named `{name}` is served"),
            ));
        };
        if !entry.loaded.active() && input.is_none() {
            return Err(Diag::new(
                codes::E802_CONNECTOR_INACTIVE,
                format!("`{name}` is inactive (`[inbound] active = false`)"),
            ));
        }
        // A second trigger while one waits is the same run: it reads what both would.
        let waiting = entry.queue.back().copied();
        let id = match (waiting, &input) {
            (Some(id), None) => id,
            _ => {
                let id = registry.new_run(name, trigger, input);
                if let Some(entry) = registry.by_name(name) {
                    entry.queue.push_back(id);
                }
                id
            }
        };
        drop(registry);
        self.wake.notify_all();
        Ok(id)
    }
}

/// Serves until SIGTERM or SIGINT sets `stop`, then lets the runs in progress commit
/// their checkpoints and returns.
pub fn serve(config: ServeConfig, stop: Arc<AtomicUsize>) -> Result<(), Diag> {
    let mut config = config;
    for dir in [config.spool_dir(), config.dead_letter_dir()] {
        std::fs::create_dir_all(&dir).map_err(|e| {
            crate::executor::io_diag(&format!("cannot create {}", dir.display()), e)
        })?;
    }
    config.state_dir = std::fs::canonicalize(&config.state_dir).map_err(|e| {
        crate::executor::io_diag(&format!("cannot find {}", config.state_dir.display()), e)
    })?;
    let server = Arc::new(Server {
        registry: Mutex::new(Registry::default()),
        wake: Condvar::new(),
        stop,
        reader: Mutex::new(None),
        started: Utc::now(),
        config,
    });
    server.rescan();
    queue_spooled(&server);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| crate::executor::io_diag("cannot start the HTTP server", e))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(server.config.listen))
        .map_err(|e| {
            Diag::new(
                codes::E803_LISTEN,
                format!("cannot listen on {}: {e}", server.config.listen),
            )
        })?;
    if let Ok(addr) = listener.local_addr() {
        eprintln!("sluice serve: listening on http://{addr}/");
    }
    let scheduler = {
        let server = Arc::clone(&server);
        std::thread::spawn(move || runner::schedule_loop(&server))
    };
    let app = api::router(Arc::clone(&server));
    let drained = {
        let server = Arc::clone(&server);
        async move {
            while !server.stopping() || server.lock().any_running() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let served = runtime.block_on(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(drained)
            .await
    });
    eprintln!("sluice serve: stopping; runs in progress commit their checkpoints");
    let _ = scheduler.join();
    runtime.shutdown_timeout(Duration::from_secs(1));
    served.map_err(|e| crate::executor::io_diag("the HTTP server failed", e))
}

/// Queues a run for each spool file a previous server left (webhook records not yet read).
fn queue_spooled(server: &Server) {
    let names: Vec<String> = server
        .lock()
        .connectors
        .values()
        .map(|e| e.loaded.name().to_string())
        .collect();
    for name in names {
        for file in hooks::spooled(&server.config.spool_dir(), &name) {
            if let Err(diag) = server.trigger(&name, Trigger::Webhook, Some(file)) {
                eprintln!("{name}: {}", diag.message);
            }
        }
    }
}
