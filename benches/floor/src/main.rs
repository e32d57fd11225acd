//! Parses each line of an NDJSON file into a DOM and keeps nothing: `sonic` (sonic-rs, the
//! SIMD floor) or `serde` (serde_json's `Value`). Usage: sluice-floor sonic|serde FILE
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(parser), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: sluice-floor sonic|serde FILE");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(1)
    });
    let mut parsed = 0usize;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let ok = match parser.as_str() {
            "sonic" => sonic_rs::from_slice::<sonic_rs::Value>(line).map(|v| black_box(v)).is_ok(),
            _ => serde_json::from_slice::<serde_json::Value>(line).map(|v| black_box(v)).is_ok(),
        };
        parsed += usize::from(ok);
    }
    println!("{parsed}");
}
