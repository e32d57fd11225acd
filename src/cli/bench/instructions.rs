//! Instructions per record of each stage of `sluice bench`, counted by callgrind where
//! valgrind is installed: on these shared machines seconds are noise and instruction
//! counts are not. `sluice bench` runs itself under `valgrind --tool=callgrind` over a
//! sample of the records, one pass, and reads each stage function's inclusive count with
//! `callgrind_annotate`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::native::Engine;

/// Set in the environment of the run under callgrind, so that it does not count again.
pub const INNER: &str = "SLUICE_BENCH_UNDER_CALLGRIND";

/// Instructions per record of each stage.
#[derive(Debug, Default)]
pub struct Counted {
    /// Records in the sample.
    pub records: usize,
    /// Parsing a line (into a reused buffer, as a run's worker parses).
    pub parse: f64,
    /// The transform through the interpreter.
    pub interp: Option<f64>,
    /// The transform through the JIT.
    pub jit: Option<f64>,
    /// Writing a mapped record.
    pub write: f64,
}

impl Counted {
    /// The counts as JSON.
    pub fn to_json(&self) -> String {
        let opt = |v: Option<f64>| v.map_or_else(|| "null".to_string(), |v| format!("{v:.0}"));
        format!(
            "{{\"records\":{},\"parse\":{:.0},\"interp\":{},\"jit\":{},\"write\":{:.0}}}",
            self.records,
            self.parse,
            opt(self.interp),
            opt(self.jit),
            self.write
        )
    }
}

/// Whether callgrind can be run here (`callgrind_annotate --version` answers on stderr,
/// with a non-zero status).
pub fn available() -> bool {
    ["valgrind", "callgrind_annotate"].iter().all(|tool| {
        Command::new(tool).arg("--version").output().is_ok_and(|o| {
            let said = [o.stdout, o.stderr].concat();
            String::from_utf8_lossy(&said).contains(tool)
        })
    })
}

/// Counts the stages over the first `sample` of `lines` (`mapped` of them mapped, for the
/// write stage's share), as `sluice bench CONNECTOR --engine ENGINE` runs them.
pub fn count(
    connector: &Path,
    lines: &[&[u8]],
    engine: Engine,
    sample: usize,
) -> Result<Counted, String> {
    let dir = std::env::temp_dir().join(format!("sluice-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let result = count_in(&dir, connector, lines, engine, sample);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn count_in(
    dir: &Path,
    connector: &Path,
    lines: &[&[u8]],
    engine: Engine,
    sample: usize,
) -> Result<Counted, String> {
    let taken = lines.get(..sample.min(lines.len())).unwrap_or(lines);
    let input = dir.join("sample.ndjson");
    let mut text = Vec::new();
    for line in taken {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    std::fs::write(&input, text).map_err(|e| format!("cannot write the sample: {e}"))?;
    let out = dir.join("callgrind.out");
    let exe = std::env::current_exe().map_err(|e| format!("cannot find sluice itself: {e}"))?;
    let engine_name = clap::ValueEnum::to_possible_value(&engine)
        .map_or_else(|| "auto".to_string(), |v| v.get_name().to_string());
    let ran = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .arg("bench")
        .arg(connector)
        .arg("--input")
        .arg(&input)
        .args(["--passes", "1", "--json", "--engine", &engine_name])
        .env(INNER, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !ran.status.success() {
        return Err("the run under callgrind failed".into());
    }
    let mapped = serde_json::from_slice::<serde_json::Value>(&ran.stdout)
        .ok()
        .and_then(|v| v.get("mapped")?.as_u64())
        .unwrap_or(0) as f64;
    let annotated = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(&out)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    let table = String::from_utf8_lossy(&annotated.stdout);
    Ok(counted(&table, taken.len(), mapped))
}

/// The stages' instructions per record from `callgrind_annotate`'s table over `records`
/// records, `mapped` of them mapped (the write stage's share).
fn counted(table: &str, records: usize, mapped: f64) -> Counted {
    let stage = |name: &str| inclusive(table, name);
    let per = |n: Option<u64>, of: f64| n.map(|n| n as f64 / of.max(1.0));
    Counted {
        records,
        parse: per(stage("bench::stage_parse"), records as f64).unwrap_or(0.0),
        interp: per(stage("bench::stage_interp"), records as f64),
        jit: per(stage("bench::stage_jit"), records as f64),
        write: per(stage("bench::stage_write"), mapped).unwrap_or(0.0),
    }
}

/// The inclusive instruction count of the function whose name contains `name`, from
/// `callgrind_annotate --inclusive=yes` (`1,234,567 (12.34%)  file:function [object]`).
fn inclusive(table: &str, name: &str) -> Option<u64> {
    table
        .lines()
        .find(|line| line.contains(name))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|n| n.replace(',', "").parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_read_from_callgrind_annotates_table() {
        let table = "--------\n 9,876,543 (100.0%)  PROGRAM TOTALS\n 1,234,567 (12.50%)  src/cli/bench/mod.rs:sluice::cli::bench::stage_parse [/x/sluice]\n   400 ( 0.00%)  ???:sluice::cli::bench::stage_write [/x/sluice]\n";
        assert_eq!(inclusive(table, "bench::stage_parse"), Some(1_234_567));
        assert_eq!(inclusive(table, "bench::stage_write"), Some(400));
        assert_eq!(inclusive(table, "bench::stage_jit"), None);
    }

    #[test]
    fn a_stage_is_counted_per_record_and_writing_per_mapped_record() {
        let table = " 9,000 (90.00%)  ???:sluice::cli::bench::stage_parse [/x/sluice]\n 2,000 (20.00%)  ???:sluice::cli::bench::stage_jit [/x/sluice]\n 1,000 (10.00%)  ???:sluice::cli::bench::stage_write [/x/sluice]\n";
        let c = counted(table, 10, 5.0);
        assert_eq!((c.parse, c.jit, c.write), (900.0, Some(200.0), 200.0));
        assert_eq!(c.interp, None);
    }
}
