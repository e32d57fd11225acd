//! The JIT's division, in integer arithmetic, against rust_decimal's (as the interpreter
//! computes a quotient: `checked_div`, then normalized) over random operand pairs: any
//! 64-bit mantissas, every scale from 0 to 28, both signs, divisors below and above 2^32,
//! zero. SLUICE_DIVISION_CASES sets how many (CI runs 200 000; `cargo test --release --test
//! division` with SLUICE_DIVISION_CASES=10000000 is the full check).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sluice::interp::quotient::quotient;
use sluice::rust_decimal::Decimal;

fn cases() -> u32 {
    std::env::var("SLUICE_DIVISION_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000)
}

/// A mantissa: small counts and amounts, powers of ten and their neighbours, any i64.
fn mantissa() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => -1000i64..1000,
        3 => -10_000_000i64..10_000_000,
        2 => (0u32..19, -1i64..=1, any::<bool>()).prop_map(|(k, d, neg)| {
            let m = 10i64.pow(k) + d;
            if neg { -m } else { m }
        }),
        2 => any::<i64>(),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(u32::MAX as i64), Just(-(u32::MAX as i64))],
        1 => (1i64..=u32::MAX as i64).prop_map(|m| m * 7),
    ]
}

fn the_interpreters(am: i64, a_scale: u32, bm: i64, b_scale: u32) -> Option<Decimal> {
    let a = Decimal::try_from_i128_with_scale(i128::from(am), a_scale).ok()?;
    let b = Decimal::try_from_i128_with_scale(i128::from(bm), b_scale).ok()?;
    a.checked_div(b).map(|q| q.normalize())
}

#[test]
fn integer_division_is_rust_decimals_digit_for_digit() {
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    let pair = (mantissa(), 0u32..=28, mantissa(), 0u32..=28);
    runner
        .run(&pair, |(am, a_scale, bm, b_scale)| {
            let got = quotient(am, a_scale, bm, b_scale);
            let want = the_interpreters(am, a_scale, bm, b_scale);
            let shown =
                |d: Option<Decimal>| d.map(|d| (d.to_string(), d.scale(), d.is_sign_negative()));
            prop_assert_eq!(
                shown(got),
                shown(want),
                "{}e-{} / {}e-{}",
                am,
                a_scale,
                bm,
                b_scale
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_quotients_that_round_and_carry_are_rust_decimals() {
    // long quotients rounded at 28 places or 96 bits, exact ones, a negative start scale,
    // a quotient that must be scaled past 96 bits, and a zero divisor
    for (am, a_scale, bm, b_scale) in [
        (97197, 2, 18, 0),
        (2, 0, 3, 0),
        (-2, 0, 3, 0),
        (1, 0, 7, 28),
        (i64::MAX, 0, 3, 28),
        (i64::MIN, 28, 7, 0),
        (1, 28, u32::MAX as i64, 0),
        (5, 0, 1, 1),
        (i64::MAX, 0, 1, 28),
        (7922816251426433759, 0, 1, 10),
        (10, 0, 0, 0),
        (0, 5, 3, 0),
        (1, 0, 3, 0),
        (5, 1, 2, 0),
        (25, 2, 2, 0),
    ] {
        let got = quotient(am, a_scale, bm, b_scale);
        let want = the_interpreters(am, a_scale, bm, b_scale);
        assert_eq!(
            got.map(|d| (d.to_string(), d.scale())),
            want.map(|d| (d.to_string(), d.scale())),
            "{am}e-{a_scale} / {bm}e-{b_scale}"
        );
    }
}
