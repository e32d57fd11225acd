//! `sluice serve`: keeps a set of connectors running by their `[sync] frequency`
//! (schedules, webhooks, realtime, manual triggers), reloads connector files as they
//! change, and reports over HTTP (`/connectors`, `/runs/<id>`, `/metrics`, a web page).
//! Reference: `docs/serve.md`.

mod access;
mod answer;
mod api;
mod assets;
mod connections;
mod drafts;
mod hooks;
mod listen;
mod listing;
mod metrics;
mod monitor;
mod runner;
pub mod schedule;
mod state;
mod studio;
mod versions;
mod watch;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::diagnostics::{codes, Diag};
use crate::limits::Limits;
use crate::native::Engine;
use crate::store::Store;
use state::{Registry, Trigger};

pub use access::AccessConfig;
pub use hooks::{sign, sign_legacy};

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
    /// Who may reach the API, and how.
    pub access: AccessConfig,
    /// A certificate chain and its private key (PEM files): serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Connections served at once.
    pub max_connections: usize,
    /// The longest a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// The most bytes of webhook records waiting in one connector's spool.
    pub spool_quota: u64,
    /// The runs of each connector the store keeps.
    pub keep_runs: u64,
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
    /// Who may do what over the API.
    access: access::Access,
    /// Webhook bytes being received, per connector (not yet in its spool).
    receiving: Mutex<HashMap<String, u64>>,
}

/// Webhook bytes one request is receiving into a connector's spool: counted with the other
/// requests' against the quota, and released when the request ends.
pub struct Reservation<'a> {
    receiving: &'a Mutex<HashMap<String, u64>>,
    name: String,
    mine: std::cell::Cell<u64>,
}

impl Reservation<'_> {
    /// Adds `bytes`; the bytes all requests to this connector are receiving.
    pub fn add(&self, bytes: u64) -> u64 {
        let mut receiving = self.receiving.lock().unwrap_or_else(|e| e.into_inner());
        let total = receiving.entry(self.name.clone()).or_default();
        *total += bytes;
        self.mine.set(self.mine.get() + bytes);
        *total
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut receiving = self.receiving.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(total) = receiving.get_mut(&self.name) {
            *total = total.saturating_sub(self.mine.get());
        }
    }
}

/// Writes a line to the server's log (stderr), ignoring a closed stderr: the server goes
/// on when the pipe to its log reader (journald, `| head`) is gone.
pub fn log(line: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

impl Server {
    /// The registry, locked (a panic elsewhere does not poison it for good).
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks at the connector files again: new ones are served, changed ones reloaded
    /// when they pass `sluice check`, removed ones dropped.
    fn rescan(&self) {
        let changed = watch::changed_files(&self.lock(), &self.config.paths);
        let served = |path: &std::path::Path| self.lock().connectors.contains_key(path);
        let last_started = |name: &str| self.last_started(name);
        let changed = watch::load_changed(changed, &self.config.limits, &served, &last_started);
        let log = watch::scan(&mut self.lock(), &self.config.paths, changed);
        for line in log {
            self::log(line);
        }
    }

    /// What the store says of the connector's last run: when it started (or last found
    /// nothing new), and whether it did not finish (it was stopped or killed: such a run is
    /// owed at once, whatever the schedule).
    fn last_started(&self, name: &str) -> watch::LastRun {
        let unfinished = self
            .with_reader(|store| store.has_unfinished_run(name).unwrap_or(false))
            .unwrap_or(false);
        if unfinished {
            return watch::LastRun::Unfinished;
        }
        let Some(status) = self
            .with_reader(|store| store.last_runs(Some(name)).ok())
            .flatten()
            .and_then(|runs| runs.into_iter().next())
        else {
            return watch::LastRun::Never;
        };
        let parse = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc());
        let started = parse(&status.run.started_at);
        let checked = status.last_checked.as_deref().and_then(parse);
        match started.max(checked) {
            Some(at) => watch::LastRun::Started(at),
            None => watch::LastRun::Never,
        }
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

    /// Runs `write` on the API's store connection (as [`Server::with_reader`]; the store
    /// is made when there is none yet).
    fn with_writer<T>(&self, write: impl FnOnce(&mut Store) -> T) -> Option<T> {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if reader.is_none() {
            *reader = Store::open_or_create(&self.config.store).ok();
        }
        reader.as_mut().map(write)
    }

    /// Starts counting the webhook bytes a request receives for connector `name`.
    fn reserve_spool(&self, name: &str) -> Reservation<'_> {
        Reservation {
            receiving: &self.receiving,
            name: name.to_string(),
            mine: std::cell::Cell::new(0),
        }
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
        let letters = trigger == Trigger::DeadLetters;
        if input.is_none() && !letters && !entry.loaded.reads_without_input() {
            return Err(Diag::new(
                codes::E608_NO_INPUT,
                format!("`{name}` has no source of its own (no `[inbound] path` or connection): it runs over the records its webhooks bring"),
            )
            .help("send the records to POST /hooks/<name>, or give the connector an `[inbound] path`"));
        }
        // A second trigger while one waits is the same run: it reads what both would.
        let waiting = entry.queue.back().copied();
        let id = match (waiting, &input) {
            (Some(id), None) if !letters => id,
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
        std::fs::create_dir_all(&dir)
            .map_err(|e| sluice_engine::io_diag(&format!("cannot create {}", dir.display()), e))?;
    }
    config.state_dir = std::fs::canonicalize(&config.state_dir).map_err(|e| {
        sluice_engine::io_diag(&format!("cannot find {}", config.state_dir.display()), e)
    })?;
    config.access.loopback = config.listen.ip().is_loopback();
    if !config.listen.ip().is_unspecified() && !config.access.loopback {
        config
            .access
            .allowed_hosts
            .push(config.listen.ip().to_string());
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(listen::tls_acceptor(cert, key)?),
        None => None,
    };
    let server = Arc::new(Server {
        registry: Mutex::new(Registry::default()),
        wake: Condvar::new(),
        stop,
        reader: Mutex::new(None),
        started: Utc::now(),
        access: access::Access::new(config.access.clone()),
        receiving: Mutex::new(HashMap::new()),
        config,
    });
    refuse_an_open_network_api(&server)?;
    hooks::remove_parts(&server.config.spool_dir());
    server.rescan();
    let names: Vec<String> = server
        .lock()
        .connectors
        .values()
        .map(|e| e.loaded.name().to_string())
        .collect();
    for line in hooks::migrate_spools(&server.config.spool_dir(), &names) {
        log(line);
    }
    queue_spooled(&server, &names);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| sluice_engine::io_diag("cannot start the HTTP server", e))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(server.config.listen))
        .map_err(|e| {
            Diag::new(
                codes::E803_LISTEN,
                format!("cannot listen on {}: {e}", server.config.listen),
            )
        })?;
    if let Ok(addr) = listener.local_addr() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        log(format!("sluice serve: listening on {scheme}://{addr}/"));
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
    let listening = listen::Listening {
        tls,
        max_connections: server.config.max_connections,
        header_timeout: server.config.header_timeout,
    };
    runtime.block_on(listen::serve(
        listener,
        app,
        listening,
        drained,
        Duration::from_secs(5),
    ));
    log("sluice serve: stopping; runs in progress commit their checkpoints");
    let _ = scheduler.join();
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// Refuses to serve an API beyond loopback without tokens (E810), unless told to; says at
/// every start how the API is protected.
fn refuse_an_open_network_api(server: &Server) -> Result<(), Diag> {
    let access = &server.config.access;
    let tokens = server
        .with_reader(|store| store.token_hashes().map(|t| t.len()).unwrap_or(0))
        .unwrap_or(0);
    let listen = server.config.listen;
    match (access.loopback, access.insecure_no_auth, tokens) {
        (_, true, _) => log(format!(
            "warning: --insecure-no-auth: anyone who can reach {listen} reads dead letters (raw records) and starts runs"
        )),
        (false, false, 0) => {
            return Err(Diag::new(
                codes::E810_INSECURE_LISTEN,
                format!("--listen {listen} is reachable from other machines and the store holds no API token"),
            )
            .help("create one first: sluice token create NAME --role admin --store DB (or listen on 127.0.0.1, or pass --insecure-no-auth)"))
        }
        (true, false, 0) => log(
            "sluice serve: no API token in the store: the API is open to this machine's users (sluice token create NAME --role admin makes it ask for one)",
        ),
        (_, false, n) => log(format!("sluice serve: the API asks for one of {n} tokens")),
    }
    Ok(())
}

/// Queues a run for each spool file a previous server left (webhook records not yet read).
fn queue_spooled(server: &Server, names: &[String]) {
    for name in names {
        for file in hooks::spooled(&server.config.spool_dir(), name) {
            if let Err(diag) = server.trigger(name, Trigger::Webhook, Some(file)) {
                log(format!("{name}: {}", diag.message));
            }
        }
    }
}
