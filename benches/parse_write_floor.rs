//! The parse-and-write floor of the executor benchmark: the same records parsed with
//! serde (only the fields the bench connector reads, borrowed where possible) and the
//! mapped fields written back as NDJSON, with no formula evaluated. `benches/executor.sh`
//! runs it beside `sluice run` and jq.
//!
//! Usage: parse_write_floor INPUT OUTPUT
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::borrow::Cow;
use std::io::{BufRead, BufReader, BufWriter, Write};

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Address<'a> {
    #[serde(borrow)]
    city: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Input<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    first: Cow<'a, str>,
    #[serde(borrow)]
    last: Cow<'a, str>,
    #[serde(borrow)]
    email: Cow<'a, str>,
    price: serde_json::Number,
    qty: serde_json::Number,
    tax_rate: serde_json::Number,
    active: bool,
    #[serde(borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country: Cow<'a, str>,
    #[serde(borrow)]
    address: Address<'a>,
}

#[derive(Serialize)]
struct Output<'a> {
    id: &'a str,
    full_name: &'a str,
    email: &'a str,
    net: &'a serde_json::Number,
    gross: &'a serde_json::Number,
    band: &'a serde_json::Number,
    city: &'a str,
    country: &'a str,
    status: Option<&'a str>,
    source: &'static str,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let input = BufReader::with_capacity(256 * 1024, std::fs::File::open(&args[1]).unwrap());
    let mut out = BufWriter::with_capacity(256 * 1024, std::fs::File::create(&args[2]).unwrap());
    let mut written = 0u64;
    for line in input.split(b'\n') {
        let line = line.unwrap();
        if line.is_empty() {
            continue;
        }
        let rec: Input = serde_json::from_slice(&line).unwrap();
        if !rec.active {
            continue;
        }
        let o = Output {
            id: &rec.id,
            full_name: &rec.first,
            email: &rec.email,
            net: &rec.price,
            gross: &rec.qty,
            band: &rec.tax_rate,
            city: &rec.address.city,
            country: &rec.country,
            status: rec.status.as_deref().or(Some(&rec.last)),
            source: "bench",
        };
        serde_json::to_writer(&mut out, &o).unwrap();
        out.write_all(b"\n").unwrap();
        written += 1;
    }
    out.flush().unwrap();
    eprintln!("floor: wrote {written} records");
}
