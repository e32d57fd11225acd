//! Tests on PostgreSQL: each gets a fresh database on the server at `SLUICE_TEST_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`, the server every developer's and
//! CI's machine runs). Without a reachable server a test on PostgreSQL is skipped, and says
//! so: it appends a line to `target/skipped-tests.txt`, which `scripts/test` prints and
//! counts. In CI (`CI` set) an unreachable server fails the test instead.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

thread_local! {
    static STORE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The databases this test thread made, dropped when it ends (passed or not).
    static MADE: RefCell<Made> = const { RefCell::new(Made(Vec::new())) };
}

/// Databases to drop: (server URL, name).
struct Made(Vec<(String, String)>);

impl Drop for Made {
    fn drop(&mut self) {
        for (server, name) in self.0.drain(..) {
            if let Ok(mut client) = ::postgres::Client::connect(&server, ::postgres::NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// The databases of this process are named `sluice_test_<test>_<pid>_<n>`: unique per run,
/// so two suites on one server never drop each other's.
static NEXT: AtomicU64 = AtomicU64::new(0);
static SWEEP: Once = Once::new();

/// Drops the test databases left by processes that are gone (a killed suite).
fn sweep_orphans(client: &mut ::postgres::Client) {
    let Ok(rows) = client.query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'sluice\\_test\\_%'",
        &[],
    ) else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(3).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The database URL of the test running on this thread, when it runs on PostgreSQL.
pub fn current() -> Option<String> {
    STORE.with(|s| s.borrow().clone())
}

/// The server the tests use.
pub fn server() -> String {
    std::env::var("SLUICE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty database for `test`, dropped when the test's thread ends: its URL, or
/// why there is none.
pub fn fresh_database(test: &str) -> Result<String, String> {
    let server = server();
    let mut client = ::postgres::Client::connect(&server, ::postgres::NoTls)
        .map_err(|e| format!("no PostgreSQL at {server}: {e}"))?;
    let digest: u64 = test.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    SWEEP.call_once(|| sweep_orphans(&mut client));
    let name = format!(
        "sluice_test_{digest:016x}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| {
            let reason = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string());
            format!("cannot make a database on {server}: {reason}")
        })?;
    MADE.with(|m| m.borrow_mut().0.push((server.clone(), name.clone())));
    let mut url = url::Url::parse(&server).map_err(|e| e.to_string())?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// Makes the running test use a fresh PostgreSQL database as its store; `false` when it
/// is skipped for want of a server (recorded, see the module's doc).
pub fn use_fresh_database(test: &str) -> bool {
    match fresh_database(test) {
        Ok(url) => {
            STORE.with(|s| *s.borrow_mut() = Some(url));
            true
        }
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{test} must run on PostgreSQL in CI: {why}")
        }
        Err(why) => {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/skipped-tests.txt");
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(file, "{test}: skipped: {why}");
            }
            eprintln!("{test}: skipped: {why}");
            false
        }
    }
}

/// Runs the named tests of the module again, each on a fresh PostgreSQL database:
/// `on_postgres!(conflict_external_wins_replaces, ...)` makes `on_postgres::<name>`.
#[macro_export]
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    if $crate::common::postgres::use_fresh_database(test) {
                        super::$name();
                    }
                }
            )*
        }
    };
}
