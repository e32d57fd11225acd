//! The benchmark corpus: each mapping of `benches/corpus/mappings.toml` — the shapes mapping
//! authors write: numbers, logic, text, dates, arrays, mixed — compiled alone and timed side
//! by side in one run on the same records: the interpreter, the JIT, what `--engine auto`
//! picks for it, and hand-written Rust (rust_decimal on the same values) where one fits.
//! Every engine's output is checked against the interpreter's first. Ends with the
//! geometric means, the worst cases, and the compile time of the 10-mapping connector.
//!
//! `cargo bench --bench corpus` (records: `CORPUS_RECORDS`, default 20 000, made by
//! `benches/gen_records.py` into `target/bench-data/`; `CORPUS_ONLY=numeric/` keeps the
//! mappings whose target starts so; `CORPUS_PASSES`, 7 by default, how many passes).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rust_decimal::{Decimal, RoundingStrategy};
use sluice::interp::Interpreter;
use sluice::jit::JitTransform;
use sluice::runtime::Ctx;
use sluice::transform::connector_file::ConnectorFile;
use sluice::transform::{Transform, Verdict};
use sluice::value::{parse_into_slots, parse_record_fields, Value};

/// Best of this many passes over the records (`CORPUS_PASSES`: more, under a profiler).
fn passes() -> usize {
    std::env::var("CORPUS_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7)
}

/// A record as the engines get it: parsed as the transform reads it (slots, or the fields
/// it reads).
struct Parsed {
    record: Value,
    slots: Vec<Option<Value>>,
}

/// A mapping written by hand: `None` where a field is missing (the formula gives null).
type HandWritten = fn(&Value) -> Option<Value>;

fn num(r: &Value, k: &str) -> Option<Decimal> {
    match r.get_key(k) {
        Some(Value::Number(d)) => Some(*d),
        _ => None,
    }
}

fn text<'r>(r: &'r Value, k: &str) -> Option<&'r str> {
    match r.get_key(k) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn round(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r
}

/// The mappings written by hand, by target.
fn hand_written(target: &str) -> Option<HandWritten> {
    let f: HandWritten = match target {
        "numeric/net" => |r| Some(Value::Number(num(r, "price")? * num(r, "qty")?)),
        "numeric/gross" => |r| {
            let (p, q, t) = (num(r, "price")?, num(r, "qty")?, num(r, "tax_rate")?);
            Some(Value::Number(round(p * q * (Decimal::ONE + t), 2)))
        },
        "numeric/margin" => |r| {
            let (p, cl) = (num(r, "price")?, num(r, "credit_limit")?);
            if p.is_zero() {
                return None;
            }
            Some(Value::Number(round((p - cl / Decimal::from(1000)) / p, 4)))
        },
        "numeric/unit_price" => {
            |r| Some(Value::Number(round(num(r, "price")? / num(r, "qty")?, 2)))
        }
        "numeric/per_unit" => |r| {
            Some(Value::Number(
                (num(r, "price")? / num(r, "qty")?).normalize(),
            ))
        },
        "numeric/quarter" => |r| {
            Some(Value::Number(
                (num(r, "credit_limit")? / Decimal::from(4)).normalize(),
            ))
        },
        "numeric/discount" => |r| {
            let (p, q) = (num(r, "price")?, num(r, "qty")?);
            let off = if text(r, "segment") == Some("enterprise") {
                q * p * Decimal::new(5, 2)
            } else {
                Decimal::ZERO
            };
            Some(Value::Number(q * p - off))
        },
        "numeric/min_max" => |r| {
            let (p, q) = (num(r, "price")?, num(r, "qty")?);
            Some(Value::Number(
                q.max(Decimal::from(10)) * p.min(Decimal::from(500)),
            ))
        },
        "numeric/mod" => |r| {
            let (cl, q) = (num(r, "credit_limit")?, num(r, "qty")?);
            Some(Value::Number(
                cl % Decimal::from(1000) + (q - Decimal::from(20)).abs(),
            ))
        },
        "logic/band" => |r| {
            let band = match num(r, "credit_limit") {
                Some(cl) if cl >= Decimal::from(100_000) => "A",
                Some(cl) if cl >= Decimal::from(10_000) => "B",
                _ => "C",
            };
            Some(Value::String(band.into()))
        },
        "logic/big_order" => |r| {
            let big = num(r, "qty").is_some_and(|q| q >= Decimal::from(20))
                && num(r, "price").is_some_and(|p| p > Decimal::from(100))
                && matches!(r.get_key("active"), Some(Value::Bool(true)));
            Some(Value::Bool(big))
        },
        "logic/open" => |r| Some(Value::Bool(text(r, "status").unwrap_or("open") == "open")),
        "logic/reachable" => |r| {
            let status = text(r, "status").is_some_and(|s| !s.trim().is_empty());
            Some(Value::Bool(status && text(r, "country") != Some("ch")))
        },
        "text/email" => |r| {
            Some(Value::String(
                text(r, "email")?.trim().to_lowercase().into(),
            ))
        },
        "mixed/country" => |r| {
            let name = match text(r, "country") {
                Some("de") => "Germany",
                Some("at") => "Austria",
                _ => "Switzerland",
            };
            Some(Value::String(name.into()))
        },
        _ => return None,
    };
    Some(f)
}

fn records_file(n: usize) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target").join("bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("records-{n}.ndjson"));
    if !path.exists() {
        let out = std::process::Command::new("python3")
            .arg(root.join("benches").join("gen_records.py"))
            .arg(n.to_string())
            .output()
            .expect("python3 makes the records");
        std::fs::write(&path, out.stdout).unwrap();
    }
    path
}

/// ns per record of the best pass of `apply` over every record.
fn time<R>(parsed: &[R], mut apply: impl FnMut(&R) -> bool) -> f64 {
    let mut best = u128::MAX;
    for _ in 0..passes() {
        let started = Instant::now();
        let mut mapped = 0usize;
        for p in parsed {
            mapped += usize::from(apply(p));
        }
        std::hint::black_box(mapped);
        best = best.min(started.elapsed().as_nanos());
    }
    best as f64 / parsed.len() as f64
}

fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

struct Row {
    target: String,
    interp: f64,
    jit: f64,
    auto: f64,
    hand: Option<f64>,
    native: bool,
}

fn main() {
    let n: usize = std::env::var("CORPUS_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let bytes = std::fs::read(records_file(n)).unwrap();
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = ConnectorFile::load(&root.join("benches/corpus/mappings.toml")).unwrap();
    // CORPUS_ONLY=numeric/per_unit: the mappings whose target starts so (one under a profiler)
    let only = std::env::var("CORPUS_ONLY").unwrap_or_default();
    let mut rows = Vec::new();
    for mapping in corpus
        .connector
        .mappings
        .iter()
        .filter(|m| m.target.starts_with(only.as_str()))
    {
        let mut connector = corpus.connector.clone();
        connector.mappings = vec![mapping.clone()];
        let file = ConnectorFile {
            path: mapping.target.clone(),
            text: String::new(),
            connector,
        };
        let transform = Arc::new(Transform::compile(&file, &Default::default()).unwrap());
        let parsed: Vec<Parsed> = lines
            .iter()
            .map(|line| {
                let mut slots = Vec::new();
                let record = match &transform.slot_fields {
                    Some(table) => {
                        parse_into_slots(utf8(line), table, &mut slots).map(|()| Value::Null)
                    }
                    None => parse_record_fields(utf8(line), transform.input_fields.as_deref()),
                }
                .unwrap();
                Parsed { record, slots }
            })
            .collect();
        // the hand-written code gets the same fields, as an object (parsed after, so that
        // each kind of record lies together in memory)
        let objects: Vec<Value> = lines
            .iter()
            .map(|line| parse_record_fields(utf8(line), transform.input_fields.as_deref()).unwrap())
            .collect();
        let jit = JitTransform::compile(Arc::clone(&transform)).unwrap();
        let native = jit.native_formulas > 0;
        let mut interp = Interpreter::new();
        let mut values = Vec::new();
        let slot_bound = transform.slot_fields.is_some();
        fn ctx_of(p: &Parsed, slot_bound: bool) -> Ctx<'_> {
            let mut ctx = Ctx::new(&p.record);
            ctx.slots = slot_bound.then_some(p.slots.as_slice());
            ctx
        }
        // the same output from every engine, record by record
        let hand = hand_written(&mapping.target);
        for (p, object) in parsed.iter().zip(&objects) {
            let ctx = ctx_of(p, slot_bound);
            let mut a = Vec::new();
            let mut b = Vec::new();
            let (va, vb) = (
                transform.apply_into(&mut interp, &ctx, &mut a),
                jit.apply_into(&mut interp, &ctx, &mut b),
            );
            assert!(
                matches!((&va, &vb), (Verdict::Mapped, Verdict::Mapped)),
                "{}: {va:?} {vb:?}",
                mapping.target
            );
            assert_eq!(
                a[0].to_json(),
                b[0].to_json(),
                "{}: the JIT differs",
                mapping.target
            );
            if let Some(h) = hand {
                let hand = h(object).unwrap_or(Value::Null);
                assert_eq!(
                    a[0].to_json(),
                    hand.to_json(),
                    "{}: the hand-written code differs",
                    mapping.target
                );
            }
        }
        let interp_ns = time(&parsed, |p| {
            matches!(
                transform.apply_into(&mut interp, &ctx_of(p, slot_bound), &mut values),
                Verdict::Mapped
            )
        });
        let jit_ns = time(&parsed, |p| {
            matches!(
                jit.apply_into(&mut interp, &ctx_of(p, slot_bound), &mut values),
                Verdict::Mapped
            )
        });
        let hand_ns = hand.map(|h| {
            time(&objects, |o| {
                std::hint::black_box(h(std::hint::black_box(o)));
                true
            })
        });
        rows.push(Row {
            target: mapping.target.clone(),
            interp: interp_ns,
            jit: jit_ns,
            auto: if native { jit_ns } else { interp_ns },
            hand: hand_ns,
            native,
        });
    }

    println!("{n} records, best of {} passes, ns per record", passes());
    println!(
        "{:22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "mapping", "interp", "jit", "auto", "hand", "jit×", "auto×", "jit/hand"
    );
    for r in &rows {
        let hand = r.hand.map_or("-".to_string(), |h| format!("{h:.1}"));
        let vs_hand = r
            .hand
            .map_or("-".to_string(), |h| format!("{:.2}", r.jit / h));
        println!(
            "{:22} {:8.1} {:8.1} {:8.1} {:>8} {:7.2}x {:7.2}x {:>10}{}",
            r.target,
            r.interp,
            r.jit,
            r.auto,
            hand,
            r.interp / r.jit,
            r.interp / r.auto,
            vs_hand,
            if r.native {
                ""
            } else {
                "  (auto: interpreter)"
            }
        );
    }
    let ratio =
        |rs: &[&Row], f: fn(&Row) -> f64| geomean(&rs.iter().map(|r| f(r)).collect::<Vec<_>>());
    let all: Vec<&Row> = rows.iter().collect();
    println!(
        "\n{} mappings: JIT geometric mean {:.2}x the interpreter, auto {:.2}x",
        rows.len(),
        ratio(&all, |r| r.interp / r.jit),
        ratio(&all, |r| r.interp / r.auto)
    );
    let worst = |f: fn(&Row) -> f64| {
        rows.iter()
            .min_by(|a, b| f(a).total_cmp(&f(b)))
            .map(|r| (r.target.clone(), f(r)))
            .unwrap()
    };
    let (jw, jr) = worst(|r| r.interp / r.jit);
    let (aw, ar) = worst(|r| r.interp / r.auto);
    println!("worst: JIT {jw} {jr:.2}x, auto {aw} {ar:.2}x");
    let mut groups: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.target.split('/').next())
        .collect();
    groups.dedup();
    for group in groups {
        let rs: Vec<&Row> = rows
            .iter()
            .filter(|r| r.target.starts_with(&format!("{group}/")))
            .collect();
        let with_hand: Vec<&Row> = rs.iter().copied().filter(|r| r.hand.is_some()).collect();
        let vs_hand = if with_hand.is_empty() {
            String::new()
        } else {
            format!(
                ", JIT/hand-written {:.2} over {}",
                ratio(&with_hand, |r| r.jit / r.hand.unwrap_or(r.jit)),
                with_hand.len()
            )
        };
        println!(
            "  {group:8} JIT {:.2}x, auto {:.2}x over {}{vs_hand}",
            ratio(&rs, |r| r.interp / r.jit),
            ratio(&rs, |r| r.interp / r.auto),
            rs.len()
        );
    }

    let numeric = ConnectorFile::load(&root.join("benches/numeric_connector.toml")).unwrap();
    let transform = Arc::new(Transform::compile(&numeric, &Default::default()).unwrap());
    let mut times: Vec<f64> = (0..21)
        .map(|_| {
            JitTransform::compile(Arc::clone(&transform))
                .unwrap()
                .compile_time
                .as_secs_f64()
                * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "\ncompile of the {}-mapping connector benches/numeric_connector.toml: median {:.2} ms",
        transform.mappings.len(),
        times[times.len() / 2]
    );
}

/// A corpus line as text (the corpus is UTF-8).
fn utf8(line: &[u8]) -> &str {
    std::str::from_utf8(line).unwrap()
}
