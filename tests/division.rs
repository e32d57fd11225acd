//! The JIT's division, in integer arithmetic, against rust_decimal's (as the interpreter
//! computes a quotient: `checked_div`, then normalized) over random operand pairs: any
//! 64-bit mantissas, every scale from 0 to 28, both signs, divisors below and above 2^32,
//! zero. SLUICE_DIVISION_CASES sets how many (CI runs 200 000; `cargo test --release --test
//! division` with SLUICE_DIVISION_CASES=10000000 is the full check). The same for a
//! quotient rounded in one division (`round(a / b, places, mode)`), against the quotient
//! rounded by `round`, and for a quotient's product rounded in one division (`round(a / b *
//! k, places, mode)`), against the quotient times `k`, rounded.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sluice::interp::quotient::{quotient, rounded_at_once, rounded_product_at_once};
use sluice::rust_decimal::{Decimal, RoundingStrategy};
use sluice::stdlib::numbers::round_with;

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

/// The rounding strategies `round` names.
const STRATEGIES: [RoundingStrategy; 6] = [
    RoundingStrategy::MidpointAwayFromZero,
    RoundingStrategy::MidpointNearestEven,
    RoundingStrategy::ToZero,
    RoundingStrategy::AwayFromZero,
    RoundingStrategy::ToNegativeInfinity,
    RoundingStrategy::ToPositiveInfinity,
];

/// `round(a / b, places)` as the interpreter computes it: the quotient, then `round`.
fn rounded_by_the_interpreter(
    (am, a_scale, bm, b_scale): (i64, u32, i64, u32),
    places: u32,
    strategy: RoundingStrategy,
) -> Option<Decimal> {
    the_interpreters(am, a_scale, bm, b_scale)
        .and_then(|q| round_with(q, i64::from(places), strategy).ok())
}

fn shown(d: Option<Decimal>) -> Option<(String, u32, bool)> {
    d.map(|d| (d.to_string(), d.scale(), d.is_sign_negative()))
}

/// A dividend and divisor whose quotient lies on, or within a hair of, a rounding
/// boundary at `places`: `b · (k + 1/2)` and `b · k`, nudged by a unit of a far place.
fn near_a_boundary() -> impl Strategy<Value = ((i64, u32, i64, u32), u32)> {
    (
        1i64..100_000,
        1i64..10_000,
        0u32..=4,
        -1i64..=1,
        any::<bool>(),
        0u32..=1,
    )
        .prop_map(|(k, b, places, nudge, negative, half)| {
            // a = b · (k + half/2) · 10^-places, written at places + 9 with a nudge in
            // its last place (below 2 · 10^18: an i64)
            let far = 9u32;
            let a = b * (2 * k + i64::from(half)) * 10i64.pow(far) / 2 + nudge;
            let a = if negative { -a } else { a };
            ((a, places + far, b, 0), places)
        })
}

#[test]
fn a_quotient_rounded_in_one_division_is_the_interpreters() {
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    // (operands, places, whether they are money divided by a count)
    let case = prop_oneof![
        3 => ((mantissa(), 0u32..=28, mantissa(), 0u32..=28), 0u32..=18).prop_map(|(p, d)| (p, d, false)),
        3 => ((-10_000_000i64..10_000_000, 0u32..=4, 1i64..100, 0u32..=2), 0u32..=6).prop_map(|(p, d)| (p, d, true)),
        2 => near_a_boundary().prop_map(|(p, d)| (p, d, false)),
    ];
    let (told, all) = (Cell::new(0u64), Cell::new(0u64));
    runner
        .run(
            &(case, 0usize..STRATEGIES.len()),
            |((pair, places, money), mode)| {
                let strategy = STRATEGIES[mode];
                let want = rounded_by_the_interpreter(pair, places, strategy);
                let (am, a_scale, bm, b_scale) = pair;
                let at_once = rounded_at_once(am, a_scale, bm, b_scale, places, strategy);
                if money {
                    all.set(all.get() + 1);
                    told.set(told.get() + u64::from(at_once.is_some()));
                }
                if let Some(got) = at_once {
                    prop_assert_eq!(
                        shown(Some(got)),
                        shown(want),
                        "round({}e-{} / {}e-{}, {}, {:?})",
                        am,
                        a_scale,
                        bm,
                        b_scale,
                        places,
                        strategy
                    );
                }
                Ok(())
            },
        )
        .unwrap();
    // money divided by a count takes the one division, not a path that never runs
    assert_mostly_told(&told, &all, 99);
}

/// Asserts that more than `percent` % of the cases counted were told in one division.
fn assert_mostly_told(told: &Cell<u64>, all: &Cell<u64>, percent: u64) {
    let (told, all) = (told.get(), all.get());
    assert!(told * 100 > all * percent, "told at once {told} of {all}");
}

#[test]
fn quotients_on_a_rounding_boundary_round_as_the_interpreter_rounds() {
    // exact halves, a hair below and above a half, a hair above a whole, negative ones,
    // and a negative zero (left to the two steps)
    for ((am, a_scale, bm, b_scale), places) in [
        ((1, 0, 8, 0), 2),
        ((-1, 0, 8, 0), 2),
        ((3, 0, 8, 0), 2),
        ((12_345, 2, 1, 0), 1),
        ((50_000_000_000_000_000, 20, 1, 0), 0),
        ((49_999_999_999_999_999, 20, 1, 0), 0),
        ((50_000_000_000_000_001, 20, 1, 0), 0),
        ((100_000_000_000_000_001, 20, 1, 0), 0),
        ((-49_999_999_999_999_999, 20, 1, 0), 0),
        ((-1, 3, 7, 0), 2),
        ((2, 0, 3, 0), 4),
        ((-2, 0, 3, 0), 4),
        ((0, 0, -3, 0), 2),
    ] {
        for strategy in STRATEGIES {
            let want = rounded_by_the_interpreter((am, a_scale, bm, b_scale), places, strategy);
            if let Some(got) = rounded_at_once(am, a_scale, bm, b_scale, places, strategy) {
                assert_eq!(
                    shown(Some(got)),
                    shown(want),
                    "round({am}e-{a_scale} / {bm}e-{b_scale}, {places}, {strategy:?})"
                );
            }
        }
    }
}

/// `round(a / b * k, places)` as the interpreter computes it: the quotient, its product
/// with `k`, then `round`.
fn product_rounded_by_the_interpreter(
    pair: (i64, u32, i64, u32),
    (km, k_scale): (i64, u32),
    places: u32,
    strategy: RoundingStrategy,
) -> Option<Decimal> {
    let (am, a_scale, bm, b_scale) = pair;
    let k = Decimal::try_from_i128_with_scale(i128::from(km), k_scale).ok()?;
    the_interpreters(am, a_scale, bm, b_scale)
        .and_then(|q| q.checked_mul(k))
        .and_then(|x| round_with(x, i64::from(places), strategy).ok())
}

/// Operands whose `a · k / b` lies on, or within a hair of, a rounding boundary at
/// `places` while `a / b` goes on forever (the divisor a multiple of `k`, here 3 or 7):
/// the interpreter's rounded quotient times `k` then misses the boundary by a hair.
fn product_near_a_boundary() -> impl Strategy<Value = ((i64, u32, i64, u32), (i64, u32), u32)> {
    (
        1i64..100_000,
        1i64..1_000,
        prop_oneof![Just(3i64), Just(7)],
        0u32..=3,
        -1i64..=1,
        any::<bool>(),
        0u32..=1,
    )
        .prop_map(|(m, b, k, places, nudge, negative, half)| {
            // a = b · (m + half/2) · 10^-places, written at places + 9, nudged in its last
            // place; divided by k·b and multiplied by k
            let far = 9u32;
            let a = b * (2 * m + i64::from(half)) * 10i64.pow(far) / 2 + nudge;
            let a = if negative { -a } else { a };
            ((a, places + far, k * b, 0), (k, 0), places)
        })
}

#[test]
fn a_rounded_product_of_a_quotient_in_one_division_is_the_interpreters() {
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    let k = prop_oneof![
        2 => (-10_000i64..10_000, 0u32..=4),
        1 => prop_oneof![Just((100i64, 0u32)), Just((1000, 0)), Just((5, 2)), Just((119, 2))],
        1 => (any::<i64>(), 0u32..=28),
    ];
    // (operands, k, places, whether they are money divided by a count, times a percentage)
    let case = prop_oneof![
        3 => ((mantissa(), 0u32..=28, mantissa(), 0u32..=28), k, 0u32..=18)
            .prop_map(|(p, k, d)| (p, k, d, false)),
        3 => ((-10_000_000i64..10_000_000, 0u32..=4, 1i64..100, 0u32..=2), 0u32..=4)
            .prop_map(|(p, d)| (p, (100, 0), d, true)),
        2 => product_near_a_boundary().prop_map(|(p, k, d)| (p, k, d, false)),
    ];
    let (told, all) = (Cell::new(0u64), Cell::new(0u64));
    runner
        .run(
            &(case, 0usize..STRATEGIES.len()),
            |((pair, (km, k_scale), places, money), mode)| {
                let strategy = STRATEGIES[mode];
                let want =
                    product_rounded_by_the_interpreter(pair, (km, k_scale), places, strategy);
                let (am, a_scale, bm, b_scale) = pair;
                let at_once = rounded_product_at_once(
                    am, a_scale, bm, b_scale, km, k_scale, places, strategy,
                );
                // rounded to the nearest (`round`'s own strategies): a directed rounding
                // leaves every exact result to the steps
                if money && mode < 2 {
                    all.set(all.get() + 1);
                    told.set(told.get() + u64::from(at_once.is_some()));
                }
                if let Some(got) = at_once {
                    prop_assert_eq!(
                        shown(Some(got)),
                        shown(want),
                        "round({}e-{} / {}e-{} * {}e-{}, {}, {:?})",
                        am,
                        a_scale,
                        bm,
                        b_scale,
                        km,
                        k_scale,
                        places,
                        strategy
                    );
                }
                Ok(())
            },
        )
        .unwrap();
    // a percentage of money divided by a count, rounded to the nearest, takes the one
    // division but on an exact half
    assert_mostly_told(&told, &all, 97);
}

#[test]
fn a_product_that_lands_on_a_boundary_is_left_to_the_steps() {
    // 1/3 · 3 is 1 exactly, but the interpreter's 0.333…3 · 3 is 0.999…9: toward zero it
    // rounds to 0.9, not 1.0; and 5/6 · 3 = 2.5 exactly is 2.4999…9 or 2.5000…1 there
    for (pair, k, places) in [
        ((1, 0, 3, 0), (3, 0), 1),
        ((5, 0, 6, 0), (3, 0), 0),
        ((-5, 0, 6, 0), (3, 0), 0),
        ((1, 0, 7, 0), (7, 0), 2),
    ] {
        for strategy in STRATEGIES {
            let (am, a_scale, bm, b_scale) = pair;
            let got = rounded_product_at_once(am, a_scale, bm, b_scale, k.0, k.1, places, strategy);
            let want = product_rounded_by_the_interpreter(pair, k, places, strategy);
            match got {
                Some(got) => {
                    assert_eq!(shown(Some(got)), shown(want), "{pair:?} {k:?} {strategy:?}")
                }
                None => assert!(
                    want.is_some(),
                    "{pair:?} {k:?} {strategy:?}: the steps give one"
                ),
            }
        }
    }
    // on such a boundary the interpreter's value did miss it
    let toward_zero =
        product_rounded_by_the_interpreter((1, 0, 3, 0), (3, 0), 1, RoundingStrategy::ToZero);
    assert_eq!(shown(toward_zero), shown(Some(Decimal::new(9, 1))));
    assert!(rounded_product_at_once(1, 0, 3, 0, 3, 0, 1, RoundingStrategy::ToZero).is_none());
}
