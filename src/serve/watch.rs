//! Finding, loading and reloading the connector files `sluice serve` was given: a
//! directory is a connector set (its `.toml` and `.json` files, and those of its
//! subdirectories, each subdirectory a set of its own); a changed file is reloaded when it
//! passes `sluice check`, else the version that runs keeps running and the problem is shown.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::schedule::Schedule;
use super::state::{stamp_of, Entry, Loaded, Registry, Totals};
use crate::limits::Limits;

/// The connector files under `paths`, sorted: files as given, directories searched.
pub fn connector_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect(path, &mut files);
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml") || e.eq_ignore_ascii_case("json"))
        {
            files.push(path);
        }
    }
}

/// Loads and compiles a connector file as `sluice check` does; the rendered problems when
/// it fails.
pub fn load(path: &Path, limits: &Limits) -> Result<Loaded, String> {
    let prepared = crate::executor::prepare::load(path, limits).map_err(|u| {
        u.problems
            .iter()
            .map(|p| p.render(&u.path))
            .collect::<String>()
    })?;
    Ok(Loaded {
        schedule: Schedule::of(&prepared.file.connector),
        reverse: prepared
            .reverse
            .map(|(file, transform)| (Arc::new(file), Arc::new(transform))),
        file: Arc::new(prepared.file),
        transform: Arc::new(prepared.transform),
    })
}

/// The set of a connector file: its directory's name (of the directory as it is, so that
/// a file served as `./x.toml` is in the set named after the working directory).
fn set_of(path: &Path) -> String {
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    full.parent()
        .and_then(|d| d.file_name())
        .map_or_else(|| "/".to_string(), |n| n.to_string_lossy().into_owned())
}

/// What the store says of a connector's last run.
pub enum LastRun {
    /// It never ran.
    Never,
    /// It was stopped or killed before the end of its input: owed at once.
    Unfinished,
    /// Its last run started (or last found nothing new) then.
    Started(DateTime<Utc>),
}

/// A file whose stamp changed since it was last read, loaded (off the registry's lock),
/// with what the store says of its connector's last run when it is new.
pub struct Changed {
    path: PathBuf,
    stamp: super::state::Stamp,
    loaded: Result<Loaded, String>,
    last: LastRun,
}

/// The connector files under `paths` whose stamp differs from what `registry` knows (a
/// quick look, under the lock).
pub fn changed_files(
    registry: &Registry,
    paths: &[PathBuf],
) -> Vec<(PathBuf, super::state::Stamp)> {
    connector_files(paths)
        .into_iter()
        .filter_map(|path| {
            let stamp = stamp_of(&path)?;
            let known = registry.connectors.get(&path).map(|e| e.stamp);
            let unchanged = known == Some(stamp)
                || registry.broken.get(&path).is_some_and(|(s, _)| *s == stamp);
            (!unchanged).then_some((path, stamp))
        })
        .collect()
}

/// Loads and compiles the changed files, and reads the last run of each new connector
/// from the store: the slow part of a scan, done without the registry's lock.
pub fn load_changed(
    changed: Vec<(PathBuf, super::state::Stamp)>,
    limits: &Limits,
    served: &dyn Fn(&Path) -> bool,
    last_started: &dyn Fn(&str) -> LastRun,
) -> Vec<Changed> {
    changed
        .into_iter()
        .map(|(path, stamp)| {
            let loaded = load(&path, limits);
            let last = match &loaded {
                Ok(l) if !served(&path) => last_started(l.name()),
                _ => LastRun::Never,
            };
            Changed {
                path,
                stamp,
                loaded,
                last,
            }
        })
        .collect()
}

/// Applies a scan to the registry (under its lock): files gone are dropped, changed ones
/// reloaded or marked broken, new ones served. Messages for the log.
pub fn scan(registry: &mut Registry, paths: &[PathBuf], changed: Vec<Changed>) -> Vec<String> {
    let mut log = Vec::new();
    let files = connector_files(paths);
    let gone: Vec<PathBuf> = registry
        .connectors
        .keys()
        .filter(|p| !files.contains(p))
        .cloned()
        .collect();
    for path in gone {
        if let Some(following) = registry
            .connectors
            .get_mut(&path)
            .and_then(|e| e.following.take())
        {
            // a run following a stream ends, and the connector goes at the next look
            following.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if registry
            .connectors
            .get(&path)
            .is_some_and(|e| e.running.is_none())
        {
            registry.connectors.remove(&path);
            log.push(format!(
                "{}: removed; its connector is no longer served",
                path.display()
            ));
        }
    }
    registry.broken.retain(|p, _| files.contains(p));
    for Changed {
        path,
        stamp,
        loaded,
        last,
    } in changed
    {
        let clash = loaded.as_ref().ok().and_then(|l| {
            registry
                .connectors
                .iter()
                .find(|(p, e)| **p != path && e.loaded.name() == l.name())
                .map(|(p, _)| p.clone())
        });
        let loaded = match (loaded, clash) {
            (Ok(_), Some(other)) => Err(format!(
                "{}: a connector of this name is served already from {}\n",
                path.display(),
                other.display()
            )),
            (result, _) => result,
        };
        match (registry.connectors.get_mut(&path), loaded) {
            (Some(entry), Ok(loaded)) => {
                let now = Utc::now();
                entry.next_run = loaded.schedule.next(entry.last_started, now);
                if let Some(following) = entry.following.take() {
                    // the run following a stream ends; the next runs the new version
                    following.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                entry.loaded = loaded;
                entry.stamp = stamp;
                entry.reload_error = None;
                log.push(format!("{}: reloaded", path.display()));
            }
            (Some(entry), Err(problems)) => {
                entry.stamp = stamp;
                log.push(format!(
                    "{}: changed, but does not pass `sluice check`; the version loaded before keeps running:\n{problems}",
                    path.display()
                ));
                entry.reload_error = Some(problems);
            }
            (None, Ok(loaded)) => {
                registry.broken.remove(&path);
                let now = Utc::now();
                // An unfinished run resumes at once, whatever the schedule (a connector that
                // reads only what its hooks bring resumes when its spool is queued).
                let (last, next_run) = match last {
                    LastRun::Unfinished if loaded.reads_without_input() => (None, Some(now)),
                    LastRun::Unfinished | LastRun::Never => (None, loaded.schedule.next(None, now)),
                    LastRun::Started(at) => (Some(at), loaded.schedule.next(Some(at), now)),
                };
                log.push(format!(
                    "{}: serving `{}` ({})",
                    path.display(),
                    loaded.name(),
                    loaded.describe_schedule()
                ));
                if loaded.file.connector.store.is_some() {
                    log.push(format!(
                        "{}: warning: its `[store] url` is not used; `sluice serve` keeps every connector it serves in its own --store",
                        path.display()
                    ));
                }
                registry.connectors.insert(
                    path.clone(),
                    Entry {
                        set: set_of(&path),
                        path,
                        stamp,
                        next_run,
                        loaded,
                        reload_error: None,
                        running: None,
                        following: None,
                        queue: Default::default(),
                        last_started: last,
                        last_run: None,
                        last_reading_run: None,
                        last_success: None,
                        failures: 0,
                        retry_input: None,
                        failing: None,
                        last_checked: None,
                        totals: Totals::default(),
                    },
                );
            }
            (None, Err(problems)) => {
                log.push(format!(
                    "{}: not served, it does not pass `sluice check`:\n{problems}",
                    path.display()
                ));
                registry.broken.insert(path, (stamp, problems));
            }
        }
    }
    log
}
