//! Decimal division in integer arithmetic, with exactly the interpreter's result (rust_decimal's
//! `checked_div`, then normalized) for the operands compiled code holds: 64-bit mantissas.
//!
//! rust_decimal divides by a divisor below 2^32 like this: the integer quotient and
//! remainder first; then, while there is a remainder (or the scale is still negative), the
//! quotient is scaled up by the largest power of ten up to 10^9 that keeps it within 96 bits
//! and 28 places, and the remainder's digits for that power are added; when no power fits,
//! the quotient is rounded half to even by the remainder. A carry past 96 bits takes a digit
//! back off, rounded with what is left ("sticky"). The result is told here without taking
//! the steps where that can be done exactly (a quotient that ends within nine places; one
//! that goes on, as many digits as fit 96 bits in one more division), and by those steps,
//! on a `u128` quotient and a `u64` remainder, where not. Larger divisors take
//! rust_decimal's other paths, and go to rust_decimal.

use rust_decimal::{Decimal, RoundingStrategy};

/// 2^96: where a decimal's mantissa ends.
const MANTISSA_END: u128 = 1 << 96;

/// `10^x` for x in 0..=18: the powers of ten an `i64` holds (the JIT rescales and rounds
/// unboxed mantissas with them too).
pub static POWERS_OF_TEN: [u64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// The largest power of ten a division step takes: 10^9 (a remainder below 2^32 times it
/// stays within 64 bits).
const MAX_STEP: usize = 9;

/// The largest scale of a decimal.
const MAX_SCALE: i32 = 28;

/// `a / b` for `a = am · 10^-a_scale` and `b = bm · 10^-b_scale` (scales up to 28), as the
/// interpreter computes it; `None` for a zero divisor or a quotient out of range.
pub fn quotient(am: i64, a_scale: u32, bm: i64, b_scale: u32) -> Option<Decimal> {
    let mut q = Decimal::ZERO;
    quotient_into(am, a_scale, bm, b_scale, &mut q).then_some(q)
}

/// [`quotient`] written to `out`; false (and `out` as it was) where that is `None`.
///
/// Inlined where it is called (the JIT's helpers) and given where the quotient goes, so that
/// it goes there from registers: returned through memory, a decimal is written in parts and
/// read back whole, which stalls the store buffer. What is rare takes a call.
#[inline(always)]
pub fn quotient_into(am: i64, a_scale: u32, bm: i64, b_scale: u32, out: &mut Decimal) -> bool {
    let divisor = u64::from(match u32::try_from(bm.unsigned_abs()) {
        Ok(divisor)
            if divisor != 0
                && am != 0
                && a_scale <= MAX_SCALE as u32
                && b_scale <= MAX_SCALE as u32 =>
        {
            divisor
        }
        _ => return uncommon(am, a_scale, bm, b_scale, out),
    });
    let dividend = am.unsigned_abs();
    let start_scale = a_scale as i32 - b_scale as i32;
    let (q, scale) = match in_nine_places(dividend, divisor, start_scale) {
        NinePlaces::Exact(q, scale) => (q, scale),
        NinePlaces::Inexact(first) => {
            match first.and_then(|first| past_nine(first, divisor, start_scale)) {
                Some((q, scale)) => normalized(q, scale),
                None => match beyond_nine(dividend, divisor, start_scale) {
                    Some(found) => found,
                    None => return false,
                },
            }
        }
    };
    let Ok(scale) = u32::try_from(scale) else {
        return false;
    };
    let negative = (am < 0) != (bm < 0);
    let parts = |shift: u32| (q >> shift) as u32;
    *out = Decimal::from_parts(parts(0), parts(32), parts(64), negative, scale);
    true
}

/// [`quotient`] where the divisor is zero or 2^32 or more, the dividend zero, or a scale out
/// of range.
#[cold]
#[inline(never)]
fn uncommon(am: i64, a_scale: u32, bm: i64, b_scale: u32, out: &mut Decimal) -> bool {
    let found = if bm == 0 || a_scale > MAX_SCALE as u32 || b_scale > MAX_SCALE as u32 {
        None
    } else if am == 0 {
        Some(Decimal::ZERO)
    } else {
        decimal(am, a_scale)
            .zip(decimal(bm, b_scale))
            .and_then(|(a, b)| a.checked_div(b))
            .map(|q| q.normalize())
    };
    found.map(|q| *out = q).is_some()
}

/// A quotient that goes on past nine places where [`past_nine`] cannot tell it: at full
/// precision in one division, or rust_decimal's steps.
#[cold]
#[inline(never)]
fn beyond_nine(dividend: u64, divisor: u64, start_scale: i32) -> Option<(u128, i32)> {
    let (q, scale) = at_full_precision(dividend, divisor, start_scale)
        .or_else(|| step_by_step(dividend, divisor, start_scale))?;
    Some(normalized(q, scale))
}

/// The most places [`rounded_at_once`] rounds to, and the most digits its result holds: the
/// interpreter's quotient then carries at least 12 places more than the rounding keeps.
const MOST_ROUNDED_DIGITS: u32 = 16;

/// `round(a / b, places)` with `strategy`, as the interpreter computes it (the quotient
/// first, then rounded and given `places` places), in one integer division; `None` when
/// the two steps must decide: a divisor of 2^32 or more, more than 16 places or digits, a
/// result of negative zero, a strategy `round` does not name.
///
/// Why one rounding gives the two roundings' result: the division here is by less than
/// 2^32, so an inexact quotient is at least 2^-32 (more than 10^-10) of a unit of `places`
/// away from every rounding boundary (a whole unit, or a half). The interpreter's quotient
/// has at least 12 places more than `places` (28 digits, of which at most 16 are kept, or
/// 28 places), so it is within 10^-12 of a unit of the exact one: on the same side of every
/// boundary, and on one only when the exact quotient is.
pub fn rounded_at_once(
    am: i64,
    a_scale: u32,
    bm: i64,
    b_scale: u32,
    places: u32,
    strategy: RoundingStrategy,
) -> Option<Decimal> {
    rounded_in_one_division(
        am,
        a_scale,
        bm,
        b_scale,
        places,
        strategy,
        Boundary::Decides,
    )
}

/// `round(a / b * k, places)` with `strategy`, as the interpreter computes it (the
/// quotient, then its product with `k = km · 10^-k_scale`, then rounded), as `round(a · k /
/// b, places)` in one integer division; `None` where the steps must decide: where
/// [`rounded_at_once`] is `None`, `k` zero or of more than 12 places, `|k| · 10^places` of
/// 10^17 or more, and an exact `a · k / b` on a boundary of the rounding.
///
/// Why: the interpreter rounds twice before `round`, the quotient to 28 digits (or 28
/// places) and its product with `k` to 28 digits (or 28 places), so it is within
/// 2·10^-27·|a·k/b| + 2·10^-28·(|k| + 1) of the exact `a · k / b`: below 5·10^-11 of a unit
/// of `places` for a result of at most 16 digits and `|k| · 10^places` below 10^17. The
/// exact value, when not on a boundary, is more than 2^-33 (10^-10) of a unit away from it
/// (a division by less than 2^32, as in [`rounded_at_once`]), so both round alike. On one,
/// the interpreter's near miss can fall either side: that is left to the steps. A quotient
/// of more than 10^28 overflows in the interpreter: with `k` of at most 12 places and a
/// result below 10^16 it is below 10^28.
#[allow(clippy::too_many_arguments)]
pub fn rounded_product_at_once(
    am: i64,
    a_scale: u32,
    bm: i64,
    b_scale: u32,
    km: i64,
    k_scale: u32,
    places: u32,
    strategy: RoundingStrategy,
) -> Option<Decimal> {
    if km == 0 || k_scale > 12 {
        return None;
    }
    // |km| < 10^(17 + k_scale - places): |k| · 10^places < 10^17
    let room = (17 + k_scale).checked_sub(places)?;
    if let Some(&limit) = POWERS_OF_TEN.get(room as usize) {
        if km.unsigned_abs() >= limit {
            return None;
        }
    }
    let product = am.checked_mul(km)?;
    rounded_in_one_division(
        product,
        a_scale + k_scale,
        bm,
        b_scale,
        places,
        strategy,
        Boundary::Refused,
    )
}

/// What [`rounded_in_one_division`] does with an exact result on a boundary of its rounding
/// (a whole unit of `places` for the directed strategies, a half for the others).
#[derive(Clone, Copy, PartialEq)]
enum Boundary {
    /// It rounds it as `round` would: the interpreter's quotient is exact there too.
    Decides,
    /// It leaves it to the steps (`None`): the interpreter's value may miss it either way.
    Refused,
}

/// [`rounded_at_once`] and [`rounded_product_at_once`]: `round(a / b, places)` in one
/// division.
fn rounded_in_one_division(
    am: i64,
    a_scale: u32,
    bm: i64,
    b_scale: u32,
    places: u32,
    strategy: RoundingStrategy,
    boundary: Boundary,
) -> Option<Decimal> {
    let divisor = u64::from(u32::try_from(bm.unsigned_abs()).ok()?);
    if divisor == 0
        || places > MOST_ROUNDED_DIGITS
        || a_scale > MAX_SCALE as u32
        || b_scale > MAX_SCALE as u32
    {
        return None;
    }
    // a / b · 10^places = dividend · 10^shift / divisor
    let shift = places as i32 + b_scale as i32 - a_scale as i32;
    let (scaled, divisor) = if shift >= 0 {
        let power = *WIDE_POWERS_OF_TEN.get(usize::try_from(shift).ok()?)?;
        (times(am.unsigned_abs(), power)?, divisor)
    } else {
        let power = *POWERS_OF_TEN.get(usize::try_from(-shift).ok()?)?;
        let divisor = u32::try_from(divisor.checked_mul(power)?).ok()?;
        (u128::from(am.unsigned_abs()), u64::from(divisor))
    };
    let (whole, remainder) = match u64::try_from(scaled) {
        Ok(scaled) => (scaled / divisor, scaled % divisor),
        Err(_) => {
            let (whole, remainder) = divide_small(scaled, divisor);
            (u64::try_from(whole).ok()?, remainder)
        }
    };
    if whole >= *POWERS_OF_TEN.get(MOST_ROUNDED_DIGITS as usize)? {
        return None;
    }
    let negative = (am < 0) != (bm < 0);
    let (twice, inexact) = (remainder << 1, remainder != 0);
    let up = match strategy {
        RoundingStrategy::MidpointAwayFromZero => twice >= divisor,
        RoundingStrategy::MidpointNearestEven => {
            rounds_up_to_even(whole & 1 == 1, remainder, divisor)
        }
        RoundingStrategy::ToZero => false,
        RoundingStrategy::AwayFromZero => inexact,
        RoundingStrategy::ToNegativeInfinity => inexact && negative,
        RoundingStrategy::ToPositiveInfinity => inexact && !negative,
        _ => return None,
    };
    let on_boundary = match strategy {
        RoundingStrategy::MidpointAwayFromZero | RoundingStrategy::MidpointNearestEven => {
            twice == divisor
        }
        _ => !inexact,
    };
    if on_boundary && boundary == Boundary::Refused {
        return None;
    }
    let mantissa = whole + u64::from(up);
    if mantissa == 0 && negative {
        return None;
    }
    Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        negative,
        places,
    ))
}

/// `10^x` for x in 0..=38: every power of ten a `u128` holds.
// evaluated by the compiler: an index out of range would fail the build, not a run
#[allow(clippy::indexing_slicing)]
const WIDE_POWERS_OF_TEN: [u128; 39] = {
    let mut powers = [1u128; 39];
    let mut x = 1;
    while x < powers.len() {
        powers[x] = powers[x - 1] * 10;
        x += 1;
    }
    powers
};

/// What the first nine places of a quotient tell.
enum NinePlaces {
    /// It ends within them (`120 / 4`, `123.45 / 8`: most money divided by a count):
    /// normalized mantissa and scale.
    Exact(u128, i32),
    /// It goes on; `Some` when those places were computed (see [`FirstNine`]).
    Inexact(Option<FirstNine>),
}

/// A quotient's whole part and first nine places, and the remainder after them.
#[derive(Clone, Copy)]
struct FirstNine {
    whole: u64,
    places: u64,
    remainder: u64,
}

/// rust_decimal's first step, in 64-bit arithmetic: the whole part and nine places, and
/// whether there is a remainder after them (a start scale out of 0..=19 is not tried).
#[inline(always)]
fn in_nine_places(dividend: u64, divisor: u64, start_scale: i32) -> NinePlaces {
    if !(0..=MAX_SCALE - MAX_STEP as i32).contains(&start_scale) {
        return NinePlaces::Inexact(None);
    }
    let (whole, remainder) = (dividend / divisor, dividend % divisor);
    if remainder == 0 {
        let (whole, scale) = without_zeros(whole, start_scale as u32);
        return NinePlaces::Exact(u128::from(whole), scale as i32);
    }
    // below 2^32 · 10^9 < 2^64
    let scaled = remainder * NINE_PLACES;
    let (places, remainder) = (scaled / divisor, scaled % divisor);
    if remainder != 0 {
        return NinePlaces::Inexact(Some(FirstNine {
            whole,
            places,
            remainder,
        }));
    }
    let (fraction, kept) = without_zeros(places, MAX_STEP as u32);
    let power = POWERS_OF_TEN
        .get(kept as usize)
        .copied()
        .unwrap_or(NINE_PLACES);
    let q = u128::from(whole) * u128::from(power) + u128::from(fraction);
    NinePlaces::Exact(q, start_scale + kept as i32)
}

/// 10^9.
const NINE_PLACES: u64 = 1_000_000_000;

/// `m · 10^-places` with the trailing zeros of its places taken off: 16, 8, 4, 2 and 1 at a
/// time, each by a select rather than a branch (how many zeros a quotient ends with is
/// anyone's guess, and a loop over them mispredicts its exit).
#[inline(always)]
fn without_zeros(mut m: u64, mut places: u32) -> (u64, u32) {
    for (step, power) in ZERO_STEPS {
        let (kept, dropped) = (m / power, m % power);
        let take = (dropped == 0) & (places >= step);
        m = if take { kept } else { m };
        places = if take { places - step } else { places };
    }
    (m, places)
}

/// The steps of [`without_zeros`]: zeros taken off at once, and 10 to that power (the
/// steps sum to 31, more than the 28 places a decimal has).
const ZERO_STEPS: [(u32, u64); 5] = [
    (16, 10_000_000_000_000_000),
    (8, 100_000_000),
    (4, 10_000),
    (2, 100),
    (1, 10),
];

/// The quotient's mantissa and scale in one division, when the step-by-step result can be
/// told without taking the steps: the steps stop with as many digits as fit 96 bits (or at
/// 28 places), rounded half to even by what remains, which is `dividend · 10^p / divisor`
/// for the largest such `p`, rounded. A normalized result does not depend on where an exact
/// quotient stopped. `None` (the steps decide) when the quotient needs a negative scale or
/// its rounding carries to 2^96.
fn at_full_precision(dividend: u64, divisor: u64, start_scale: i32) -> Option<(u128, i32)> {
    // the most digits: the largest p with dividend · 10^p < 2^96 · divisor (< 2^128)
    let limit = u128::from(divisor) << 96;
    let room = 96 + (64 - divisor.leading_zeros()) - (64 - dividend.leading_zeros());
    // log10(2) ≈ 1233 / 4096: an estimate at most one digit short, tried one digit long first
    let mut digits = (((room * 1233) >> 12) as usize + 1).min(WIDE_POWERS_OF_TEN.len() - 1);
    let scaled = loop {
        let power = *WIDE_POWERS_OF_TEN.get(digits)?;
        match times(dividend, power) {
            Some(scaled) if scaled < limit => break scaled,
            _ => digits = digits.checked_sub(1)?,
        }
    };
    let most = MAX_SCALE - start_scale;
    let (scaled, scale) = if digits as i32 > most {
        let power = *WIDE_POWERS_OF_TEN.get(usize::try_from(most).ok()?)?;
        (u128::from(dividend) * power, MAX_SCALE)
    } else {
        (scaled, start_scale + digits as i32)
    };
    if scale < 0 {
        return None;
    }
    let (mut q, remainder) = divide_small(scaled, divisor);
    if rounds_up_to_even(q & 1 == 1, remainder, divisor) {
        q += 1;
        if q == MANTISSA_END {
            return None;
        }
    }
    Some((q, scale))
}

/// A quotient that goes on past nine places, at full precision, from those nine: the
/// whole part and nine places (`head`, of `n` digits) take as many places more as make 29
/// digits when those fit 96 bits, else 28 (which always fit), within 28 places. The places
/// are the remainder's, in one division (a quotient below 10^19: 64 bits). `None` (the
/// general path decides) when the quotient is below 10^-9, or when 29 digits reach 2^96
/// only with the places after `head`, or by rounding.
#[inline(always)]
fn past_nine(first: FirstNine, divisor: u64, start_scale: i32) -> Option<(u128, i32)> {
    let head = u128::from(first.whole) * u128::from(NINE_PLACES) + u128::from(first.places);
    if head == 0 {
        return None;
    }
    // start scales run to 19 (see in_nine_places): at most 19 places more
    let most = usize::try_from(MAX_SCALE - start_scale - MAX_STEP as i32).ok()?;
    // the digits of the whole part and nine places, told from the whole part when there is
    // one: it is known a division before the nine places are
    let digits = match first.whole {
        0 => decimal_digits(head),
        whole => decimal_digits(u128::from(whole)) + MAX_STEP,
    };
    let mut more = (29usize.checked_sub(digits)?).min(most);
    // at most 29 digits: below 10^29 < 2^97, no overflow
    if head * *WIDE_POWERS_OF_TEN.get(more)? >= MANTISSA_END {
        more = more.checked_sub(1)?;
    }
    let power = *WIDE_POWERS_OF_TEN.get(more)?;
    let (rest, wide) = (u128::from(first.remainder) * power, u128::from(divisor));
    let tail = rest / wide;
    let remainder = u64::try_from(rest - tail * wide).ok()?;
    let q = head * power + tail;
    let q = q + u128::from(rounds_up_to_even(q & 1 == 1, remainder, divisor));
    if q >= MANTISSA_END {
        return None;
    }
    Some((q, start_scale + (MAX_STEP + more) as i32))
}

/// How many decimal digits `n` (nonzero, below 10^38) has.
#[inline]
fn decimal_digits(n: u128) -> usize {
    let bits = 128 - n.leading_zeros() as usize;
    // log10(2) ≈ 1233 / 4096: the digits of 2^(bits - 1), one short at most
    let estimate = (bits * 1233) >> 12;
    match WIDE_POWERS_OF_TEN.get(estimate) {
        Some(&power) if n >= power => estimate + 1,
        _ => estimate,
    }
}

/// Whether a quotient that stopped with `remainder` (below the divisor) rounds up, half to
/// even: past the half, or on it when the quotient is odd. Computed without a branch: which
/// way a quotient rounds is a coin toss.
#[inline]
fn rounds_up_to_even(odd: bool, remainder: u64, divisor: u64) -> bool {
    let twice = remainder << 1;
    (twice > divisor) | ((twice == divisor) & odd)
}

/// `m · p`, if it fits 128 bits (a `u128` product with an overflow check is a library call).
fn times(m: u64, p: u128) -> Option<u128> {
    let low = u128::from(m) * u128::from(p as u64);
    let high = u64::try_from(u128::from(m) * (p >> 64)).ok()?;
    low.checked_add(u128::from(high) << 64)
}

/// `n / d` and `n % d` for a divisor below 2^32, in four 64-bit divisions, or three when
/// the top 32 bits are below `d` (a quotient of 96 bits, as every one here is; a `u128`
/// division is a library call).
fn divide_small(n: u128, d: u64) -> (u128, u64) {
    let top = (n >> 96) as u64;
    let (mut q, mut r) = if top < d {
        (0u128, top)
    } else {
        (u128::from(top / d), top % d)
    };
    for shift in [64, 32, 0] {
        let part = (r << 32) | u64::from((n >> shift) as u32);
        q = (q << 32) | u128::from(part / d);
        r = part % d;
    }
    (q, r)
}

/// rust_decimal's steps, one by one (see the module's documentation): what
/// [`at_full_precision`] leaves to them.
fn step_by_step(dividend: u64, divisor: u64, start_scale: i32) -> Option<(u128, i32)> {
    let mut q = u128::from(dividend / divisor);
    let mut remainder = dividend % divisor;
    let mut scale = start_scale;
    while remainder != 0 || scale < 0 {
        let power = if remainder == 0 {
            (-scale).min(MAX_STEP as i32) as usize
        } else {
            let power = if scale == MAX_SCALE {
                0
            } else {
                let fits = fitting_power(q);
                // rust_decimal takes a full 10^9 without asking whether it reaches a
                // scale of zero; only a smaller power that cannot is an overflow
                if fits < MAX_STEP && fits as i32 + scale < 0 {
                    return None;
                }
                fits.min((MAX_SCALE - scale) as usize)
            };
            if power == 0 {
                // no digit more fits: round half to even by what remains
                if rounds_up_to_even(q & 1 == 1, remainder, divisor) {
                    q += 1;
                    if q == MANTISSA_END {
                        (q, scale) = take_digit_back(q, scale, true)?;
                    }
                }
                break;
            }
            power
        };
        let ten_power = *POWERS_OF_TEN.get(power)?;
        q *= u128::from(ten_power);
        if q >= MANTISSA_END {
            return None;
        }
        scale += power as i32;
        let scaled = remainder * ten_power;
        q += u128::from(scaled / divisor);
        remainder = scaled % divisor;
        if q >= MANTISSA_END {
            (q, scale) = take_digit_back(q, scale, remainder != 0)?;
            break;
        }
    }
    Some((q, scale))
}

/// `q · 10^-scale` without trailing zeros in its places, as `Decimal::normalize` leaves it
/// (a nonzero quotient: no negative zero to make positive): zeros come off eight, four, two
/// and one at a time.
#[inline]
fn normalized(q: u128, scale: i32) -> (u128, i32) {
    if last_digit(q) != 0 {
        return (q, scale);
    }
    without_wide_zeros(q, scale)
}

/// [`normalized`] for a quotient that ends in a zero.
#[cold]
#[inline(never)]
fn without_wide_zeros(mut q: u128, mut scale: i32) -> (u128, i32) {
    while scale >= 8 {
        match divide_small(q, 100_000_000) {
            (kept, 0) => (q, scale) = (kept, scale - 8),
            _ => break,
        }
    }
    for (places, power) in [(4, 10_000), (2, 100), (1, 10)] {
        if scale >= places {
            if let (kept, 0) = divide_small(q, power) {
                (q, scale) = (kept, scale - places);
            }
        }
    }
    (q, scale)
}

/// `q % 10` in 64-bit steps (2^64 ends in a 6): a u128 remainder is a library call.
#[inline]
fn last_digit(q: u128) -> u64 {
    let (high, low) = ((q >> 64) as u64, q as u64);
    ((high % 10) * 6 + low % 10) % 10
}

/// The largest power of ten up to 9 by which `q` can be scaled within 96 bits.
fn fitting_power(q: u128) -> usize {
    POWERS_OF_TEN
        .iter()
        .take(MAX_STEP + 1)
        .rposition(|&p| q * u128::from(p) < MANTISSA_END)
        .unwrap_or(0)
}

/// A quotient carried past 96 bits, one digit taken back off and rounded half to even
/// (`sticky`: something nonzero was left below that digit).
fn take_digit_back(q: u128, scale: i32, sticky: bool) -> Option<(u128, i32)> {
    let scale = scale - 1;
    if scale < 0 {
        return None;
    }
    let (mut kept, dropped) = (q / 10, q % 10);
    if dropped > 5 || (dropped == 5 && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    Some((kept, scale))
}

/// `m · 10^-scale` as a decimal, if the scale is one.
fn decimal(m: i64, scale: u32) -> Option<Decimal> {
    Decimal::try_from_i128_with_scale(i128::from(m), scale).ok()
}
