//! Embedding Sluice in a connector runtime: compile a connector once, then transform an
//! NDJSON stream on every core. Usage: `embed CONNECTOR.toml < records.ndjson`
//! (prints mapped records as NDJSON in input order, failures on stderr).
use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: embed CONNECTOR.toml < records.ndjson")?;
    let program = sluice::Program::from_toml(&std::fs::read_to_string(path)?, &Default::default())?;
    let ctx = sluice::Context::at("2024-05-01T12:00:00Z")?.with_zone("Europe/Berlin")?;
    let lines: Vec<Vec<u8>> = std::io::stdin()
        .lock()
        .split(b'\n')
        .collect::<Result<_, _>>()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_core = lines.len().div_ceil(cores).max(1);
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = lines
            .chunks(per_core)
            .map(|chunk| {
                let (program, ctx) = (&program, &ctx);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter(|line| !line.is_empty())
                        .map(|line| match program.execute_ndjson(line, ctx) {
                            Ok(sluice::Output::Filtered { condition }) => {
                                format!("# filtered by condition {condition}")
                            }
                            Ok(out) => out.to_json().unwrap_or_default(),
                            Err(e) => format!("# {e}"),
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut out = std::io::stdout().lock();
    for line in results.iter().flatten() {
        match line.strip_prefix("# ") {
            Some(note) => eprintln!("{note}"),
            None => writeln!(out, "{line}")?,
        }
    }
    Ok(())
}
