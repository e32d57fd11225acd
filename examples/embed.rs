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
    // each worker: its records as NDJSON (one buffer, reused), its notes for stderr
    let results: Vec<(String, Vec<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = lines
            .chunks(per_core)
            .map(|chunk| {
                let (program, ctx) = (&program, &ctx);
                scope.spawn(move || {
                    let (mut out, mut notes) = (String::new(), Vec::new());
                    for line in chunk.iter().filter(|line| !line.is_empty()) {
                        match program.write_ndjson(line, ctx, &mut out) {
                            Ok(sluice::Written::Filtered { condition }) => {
                                notes.push(format!("filtered by condition {condition}"));
                            }
                            Ok(_) => {}
                            Err(e) => notes.push(e.to_string()),
                        }
                    }
                    (out, notes)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut stdout = std::io::stdout().lock();
    for (out, notes) in &results {
        stdout.write_all(out.as_bytes())?;
        for note in notes {
            eprintln!("{note}");
        }
    }
    Ok(())
}
