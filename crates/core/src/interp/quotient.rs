//! Decimal division in integer arithmetic, with exactly the interpreter's result (rust_decimal's
//! `checked_div`, then normalized) for the operands compiled code holds: 64-bit mantissas.
//!
//! rust_decimal divides by a divisor below 2^32 like this: the integer quotient and
//! remainder first; then, while there is a remainder (or the scale is still negative), the
//! quotient is scaled up by the largest power of ten up to 10^9 that keeps it within 96 bits
//! and 28 places, and the remainder's digits for that power are added; when no power fits,
//! the quotient is rounded half to even by the remainder. A carry past 96 bits takes a digit
//! back off, rounded with what is left ("sticky"). Each step here is that step, on a `u128`
//! quotient and a `u64` remainder: every division is a 64-bit one. Larger divisors take
//! rust_decimal's other paths, and go to rust_decimal.

use rust_decimal::Decimal;

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
    let divisor = bm.unsigned_abs();
    let Ok(divisor32) = u32::try_from(divisor) else {
        let (a, b) = (decimal(am, a_scale)?, decimal(bm, b_scale)?);
        return a.checked_div(b).map(|q| q.normalize());
    };
    if divisor32 == 0 || a_scale > MAX_SCALE as u32 || b_scale > MAX_SCALE as u32 {
        return None;
    }
    if am == 0 {
        return Some(Decimal::ZERO);
    }
    let divisor = u64::from(divisor32);
    let dividend = am.unsigned_abs();
    let mut q = u128::from(dividend / divisor);
    let mut remainder = dividend % divisor;
    let mut scale = a_scale as i32 - b_scale as i32;
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
                let twice = remainder << 1;
                if twice > divisor || (twice == divisor && q & 1 == 1) {
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
    // normalized, as Decimal::normalize does it: trailing zeros off the places (the
    // quotient is not zero, so there is no negative zero to make positive)
    while scale > 0 && last_digit(q) == 0 {
        q /= 10;
        scale -= 1;
    }
    let negative = (am < 0) != (bm < 0);
    let parts = |shift: u32| (q >> shift) as u32;
    let scale = u32::try_from(scale).ok()?;
    Some(Decimal::from_parts(
        parts(0),
        parts(32),
        parts(64),
        negative,
        scale,
    ))
}

/// `q % 10` in 64-bit steps (2^64 ends in a 6): a u128 remainder is a library call.
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
