//! `sluice bench CONNECTOR --input FILE`: the records are read into memory once, then
//! parsing, the transform (per engine) and writing are timed separately; with `--json`,
//! where valgrind is installed, each stage's instructions per record are counted too
//! (`instructions.rs`).

mod instructions;

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use clap::Args;

use super::check::load_and_compile;
use super::{EXIT_COMPILE, EXIT_OK, EXIT_RUNTIME};
use crate::driver::Driver;
use crate::executor::prepare::Prepared;
use crate::jit::JitTransform;
use crate::native::Engine;
use crate::runtime::Ctx;
use crate::transform::source::parse_line;
use crate::transform::{Outcome, Transform, Verdict};
use crate::value::Value;

/// Arguments of `sluice bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The connector file.
    connector: PathBuf,
    /// NDJSON records.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Time one engine only (default: both).
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    engine: Engine,
    /// Passes over the records per measurement (the fastest counts).
    #[arg(long, default_value_t = 3)]
    passes: usize,
    /// With --json: the records counted under callgrind (when valgrind is installed) for
    /// each stage's instructions per record; 0 counts none.
    #[arg(long, default_value_t = 2000, value_name = "RECORDS")]
    instructions_sample: usize,
}

struct Parsed {
    record: Value,
    slots: Vec<Option<Value>>,
}

fn per_record(ns: u128, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        ns as f64 / n as f64
    }
}

// The stages, each a function of its own (never inlined) so that callgrind counts each
// one's instructions by its name (`instructions.rs`).

/// Parses each line as a run's worker does: into one slot buffer reused line after line, or
/// into a record of the fields read; how many lines parsed.
#[inline(never)]
fn stage_parse(lines: &[&[u8]], transform: &Transform) -> usize {
    let limits = crate::limits::Limits::default();
    let mut slots = Vec::new();
    let mut parsed = 0;
    for line in lines {
        let record = parse_into(line, &limits, transform, &mut slots);
        parsed += usize::from(record.is_some());
        std::hint::black_box((&record, &slots));
    }
    parsed
}

/// Parses `line` for `transform` into `slots`, or into a record of the fields it reads;
/// `None` for a line that is not a record (a run makes it a dead letter).
fn parse_into(
    line: &[u8],
    limits: &crate::limits::Limits,
    transform: &Transform,
    slots: &mut Vec<Option<Value>>,
) -> Option<Option<Value>> {
    parse_line(
        line,
        limits,
        transform.input_fields.as_deref(),
        transform.slot_fields.as_ref(),
        slots,
    )
    .ok()
}

/// Every line parsed into a record of its own, kept for the transform stage (not timed).
fn parsed_records(lines: &[&[u8]], transform: &Transform) -> Vec<Parsed> {
    let limits = crate::limits::Limits::default();
    lines
        .iter()
        .filter_map(|line| {
            let mut slots = Vec::new();
            let record = parse_into(line, &limits, transform, &mut slots)?;
            Some(Parsed {
                record: record.unwrap_or(Value::Null),
                slots,
            })
        })
        .collect()
}

/// Maps every parsed record through `apply`; how many were mapped.
fn stage_apply(
    parsed: &[Parsed],
    driver: &mut Driver,
    apply: &dyn Fn(&Parsed, &mut Driver) -> Verdict,
) -> usize {
    let mut mapped = 0usize;
    for p in parsed {
        if matches!(apply(p, driver), Verdict::Mapped) {
            mapped += 1;
        }
    }
    mapped
}

/// The transform stage through the interpreter (the name is what callgrind reads; the
/// black-boxed constant keeps the linker from folding it into `stage_jit`).
#[inline(never)]
fn stage_interp(
    parsed: &[Parsed],
    driver: &mut Driver,
    apply: &dyn Fn(&Parsed, &mut Driver) -> Verdict,
) -> usize {
    std::hint::black_box("interp");
    stage_apply(parsed, driver, apply)
}

/// The transform stage through the JIT.
#[inline(never)]
fn stage_jit(
    parsed: &[Parsed],
    driver: &mut Driver,
    apply: &dyn Fn(&Parsed, &mut Driver) -> Verdict,
) -> usize {
    std::hint::black_box("jit");
    stage_apply(parsed, driver, apply)
}

/// Writes the mapped records as NDJSON lines into `out`; how many.
#[inline(never)]
fn stage_write(mapped: &[Outcome], targets: &[String], out: &mut String) -> usize {
    let mut written = 0;
    for o in mapped {
        if let Outcome::Mapped(values) = o {
            Transform::write_line(targets, values, out);
            written += 1;
        }
    }
    written
}

/// Runs `sluice bench`.
pub fn run(args: BenchArgs) -> i32 {
    let Some(Prepared { transform, .. }) = load_and_compile(&args.connector, &Default::default())
    else {
        return EXIT_COMPILE;
    };
    let transform = std::sync::Arc::new(transform);
    let bytes = match std::fs::read(&args.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.input.display());
            return EXIT_RUNTIME;
        }
    };
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let passes = args.passes.max(1);

    let mut parse_ns = u128::MAX;
    for _ in 0..passes {
        let started = Instant::now();
        std::hint::black_box(stage_parse(&lines, &transform));
        parse_ns = parse_ns.min(started.elapsed().as_nanos());
    }
    let parsed = parsed_records(&lines, &transform);

    let now = Utc::now().fixed_offset();
    // Each engine maps every record into one output buffer, as a run's workers do; the
    // outcomes are collected in a pass of their own, outside the timing.
    let time_engine = |jit: Option<&JitTransform>, transform: &Transform| -> (u128, Vec<Outcome>) {
        let mut best = u128::MAX;
        let mut driver = Driver::new();
        let apply = |p: &Parsed, driver: &mut Driver| {
            let mut ctx = Ctx::new(&p.record);
            ctx.now = now;
            ctx.slots = transform.slot_fields.as_ref().map(|_| p.slots.as_slice());
            driver.apply(transform, jit, &ctx)
        };
        for _ in 0..passes {
            let started = Instant::now();
            let mapped = match jit {
                Some(_) => stage_jit(&parsed, &mut driver, &apply),
                None => stage_interp(&parsed, &mut driver, &apply),
            };
            std::hint::black_box((mapped, driver.values()));
            best = best.min(started.elapsed().as_nanos());
        }
        let outcomes = parsed
            .iter()
            .map(|p| {
                let verdict = apply(p, &mut driver);
                verdict.with_values(driver.values().to_vec())
            })
            .collect();
        (best, outcomes)
    };

    let mut engines = Vec::new();
    let mut mapped = Vec::new();
    if args.engine != Engine::Jit {
        let (ns, outcomes) = time_engine(None, &transform);
        engines.push(("interp", ns, None, None));
        mapped = outcomes;
    }
    if args.engine != Engine::Interp {
        let jit = match JitTransform::compile(std::sync::Arc::clone(&transform)) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_RUNTIME;
            }
        };
        let (ns, outcomes) = time_engine(Some(&jit), &transform);
        engines.push((
            "jit",
            ns,
            Some(jit.compile_time.as_secs_f64() * 1000.0),
            Some(jit.code_bytes),
        ));
        if mapped.is_empty() {
            mapped = outcomes;
        }
    }

    let targets = transform.target_prefixes();
    let mut write_ns = u128::MAX;
    let mut written = 0;
    for _ in 0..passes {
        let mut out = String::new();
        let started = Instant::now();
        written = stage_write(&mapped, &targets, &mut out);
        write_ns = write_ns.min(started.elapsed().as_nanos());
        std::hint::black_box(&out);
    }

    let n = parsed.len();
    let counted = match args.json
        && args.instructions_sample > 0
        && std::env::var_os(instructions::INNER).is_none()
        && instructions::available()
    {
        true => match instructions::count(
            &args.connector,
            &lines,
            args.engine,
            args.instructions_sample,
        ) {
            Ok(counted) => Some(counted),
            Err(e) => {
                eprintln!("warning: instructions not counted: {e}");
                None
            }
        },
        false => None,
    };
    if args.json {
        let engines_json: Vec<String> = engines
            .iter()
            .map(|(name, ns, compile, bytes)| {
                let extra = match (compile, bytes) {
                    (Some(ms), Some(b)) => format!(",\"compile_ms\":{ms:.3},\"code_bytes\":{b}"),
                    _ => String::new(),
                };
                format!(
                    "\"{name}\":{{\"ns_per_record\":{:.1}{extra}}}",
                    per_record(*ns, n)
                )
            })
            .collect();
        println!(
            "{{\"records\":{n},\"mapped\":{written},\"parse_ns_per_record\":{:.1},\"write_ns_per_record\":{:.1},\"engines\":{{{}}},\"instructions_per_record\":{}}}",
            per_record(parse_ns, n),
            per_record(write_ns, written.max(1)),
            engines_json.join(","),
            counted.map_or_else(|| "null".to_string(), |c| c.to_json())
        );
    } else {
        println!("{n} records ({written} mapped), best of {passes} passes");
        println!("  parse      {:>9.1} ns/record", per_record(parse_ns, n));
        for (name, ns, compile, bytes) in &engines {
            let extra = match (compile, bytes) {
                (Some(ms), Some(b)) => format!("  (compiled in {ms:.2} ms, {b} bytes of code)"),
                _ => String::new(),
            };
            println!("  {name:<10} {:>9.1} ns/record{extra}", per_record(*ns, n));
        }
        println!(
            "  write      {:>9.1} ns/record",
            per_record(write_ns, written.max(1))
        );
    }
    EXIT_OK
}
