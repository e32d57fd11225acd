//! Files a killed process left half-made beside the file it was making — a store being
//! created (`sluice.db.creating-PID-NANOS` and its `-journal`), a dead-letter file being
//! written (`people.dead.ndjson.writing-PID`) — removed when the next process comes to make
//! the same file, once the process that made them is gone.

use std::path::Path;

/// Removes the leftovers of `path` whose maker is no longer running: files beside it named
/// `<its name><marker><pid>…` (with any suffix, e.g. `-journal`).
pub fn remove_leftovers(path: &Path, marker: &str) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}{marker}", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if pid.is_empty() || pid == std::process::id().to_string() {
            continue;
        }
        if !running(&pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether process `pid` is running; on a system without `/proc` it is taken to be (its
/// files are left alone).
fn running(pid: &str) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_dead_processes_go_and_live_ones_stay() {
        let dir = std::env::temp_dir().join(format!("sluice-leftovers-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("sluice.db");
        let dead = dir.join("sluice.db.creating-999999999-17");
        let journal = dir.join("sluice.db.creating-999999999-17-journal");
        let live = dir.join(format!("sluice.db.creating-{}-18", std::process::id()));
        let other = dir.join("other.db.creating-999999999-17");
        for f in [&dead, &journal, &live, &other] {
            let _ = std::fs::write(f, b"x");
        }
        remove_leftovers(&path, ".creating-");
        assert!(!dead.exists() && !journal.exists());
        assert!(live.exists() && other.exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
