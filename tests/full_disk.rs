//! A store on a full disk (a real, tiny tmpfs): the run stops with a clear error (E704),
//! its checkpoint and the records committed with it intact; with room again, the same
//! command finishes and every record is there exactly once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                dir.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mounting a tmpfs needs root (CI runs as root)"
        );
        Mount(dir.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args([
                "-o",
                &format!("remount,size={size}"),
                self.0.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn sluice(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn full_disk_stops_the_run_with_its_checkpoint_intact() {
    let work = std::env::temp_dir().join(format!("sluice-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let disk = Mount::tmpfs(&work.join("disk"), "1m");
    std::fs::write(
        work.join("c.toml"),
        "name = \"full\"\n[inbound]\ntype = \"ndjson\"\n[outbound]\ntype = \"store\"\nobject = \"o\"\nprimary_key = \"id\"\n[[mappings]]\ntarget = \"id\"\nfield = \"id\"\n[[mappings]]\ntarget = \"text\"\nformula = \"repeat(data('t'), 3)\"\n",
    )
    .unwrap();
    let total = 4000;
    let input: String = (1..=total)
        .map(|i| format!("{{\"id\": {i}, \"t\": \"record number {i} with some text\"}}\n"))
        .collect();
    std::fs::write(work.join("in.ndjson"), input).unwrap();
    let args = [
        "run",
        "c.toml",
        "--input",
        "in.ndjson",
        "--store",
        "disk/s.db",
        "--dead-letter",
        "dead.ndjson",
        "--batch",
        "200",
    ];

    let (code, err) = sluice(&work, &args);
    assert_eq!(code, 1, "the run stops: {err}");
    assert!(err.contains("E704"), "{err}");

    let conn = rusqlite::Connection::open(work.join("disk/s.db")).unwrap();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM objects", [], |r| r.get(0))
        .unwrap();
    let line: i64 = conn
        .query_row("SELECT line FROM checkpoints", [], |r| r.get(0))
        .unwrap();
    assert!(
        stored > 0 && stored < total,
        "part of the input was committed: {stored}"
    );
    assert_eq!(
        stored, line,
        "the records committed are exactly those the checkpoint covers"
    );
    drop(conn);

    disk.resize("64m");
    let (code, err) = sluice(&work, &args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "resumed from the checkpoint after input line {line}"
        )),
        "{err}"
    );
    let conn = rusqlite::Connection::open(work.join("disk/s.db")).unwrap();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM objects", [], |r| r.get(0))
        .unwrap();
    let distinct: i64 = conn
        .query_row(
            "SELECT count(DISTINCT json_extract(data, '$.id')) FROM objects",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((stored, distinct), (total, total));
}

#[test]
fn status_and_dump_read_a_store_on_a_read_only_disk() {
    let work = std::env::temp_dir().join(format!("sluice-ro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let disk = Mount::tmpfs(&work.join("disk"), "8m");
    std::fs::write(
        work.join("c.toml"),
        "name = \"ro\"\n[inbound]\ntype = \"ndjson\"\n[outbound]\ntype = \"store\"\nobject = \"o\"\nprimary_key = \"id\"\n[[mappings]]\ntarget = \"id\"\nfield = \"id\"\n",
    )
    .unwrap();
    std::fs::write(work.join("in.ndjson"), "{\"id\": 1}\n{\"id\": 2}\n").unwrap();
    let (code, err) = sluice(
        &work,
        &[
            "run",
            "c.toml",
            "--input",
            "in.ndjson",
            "--store",
            "disk/s.db",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let status = Command::new("mount")
        .args(["-o", "remount,ro", disk.0.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .current_dir(&work)
        .args(["status", "ro", "--store", "disk/s.db"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("read 2, written 2"), "{stdout}");
    let out = assert_cmd::Command::cargo_bin("sluice")
        .unwrap()
        .current_dir(&work)
        .args(["objects", "dump", "o", "--store", "disk/s.db"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}
