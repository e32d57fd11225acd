//! The decimal arithmetic the code generator writes inline: `+ - *` at aligned scales, a
//! division by a divisor whose quotient terminates, rounding in every mode, comparisons,
//! with overflow checks that send the formula back to the interpreter. A second `impl` of
//! the generator ([`super::Gen`]): the recursive walk is in `codegen.rs`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value as Cv};

use super::helpers::{self, B_BAIL, B_FALSE, B_NULL, B_TRUE, NUM_BAIL, NUM_NULL, NUM_OK};
use super::{Gen, Helper, I64};
use crate::ir::Node;
use crate::syntax::BinaryOp;
use crate::value::Value;

impl Gen<'_, '_> {
    /// `round(a / b, digits, mode)` in one step, or `round(a / b * k, digits, mode)` for a
    /// constant `k` (mantissa, scale) when `times` is given (a percentage of a ratio): the
    /// exact quotient rarely fits the unboxed form (28 digits), the rounded result does, so
    /// the division is not a bail.
    pub(super) fn div_round(
        &mut self,
        (a, b): (&Node, &Node),
        times: Option<(i64, i64)>,
        digits: i64,
        mode: usize,
    ) -> (Cv, Cv, Cv) {
        let (sa, ma, xa) = self.num(a);
        let (sb, mb, xb) = self.num(b);
        let merge = self.num_merge();
        self.when_both_numbers(sa, sb, merge);
        let d = self.iconst(digits);
        let md = self.iconst(i64::try_from(mode).unwrap_or(0));
        let slot = self.slot_addr();
        match times {
            None => self.call(Helper::DecDivRound, &[ma, xa, mb, xb, d, md, slot]),
            Some((km, ks)) => {
                let (km, ks) = (self.iconst(km), self.iconst(ks));
                let args = [ma, xa, mb, xb, km, ks, d, md, slot];
                self.call(Helper::DecDivMulRound, &args)
            }
        };
        let r = self.load_num();
        self.close_num(merge, r)
    }

    /// 10^k from the table, for a runtime k (clamped to 18: the caller checks k ≤ 18).
    pub(super) fn pow10(&mut self, k: Cv) -> Cv {
        let max = self.iconst(18);
        let k = self.b.ins().umin(k, max);
        let offset = self.b.ins().ishl_imm_s(k, 3);
        let base = self.iconst(helpers::POW10.as_ptr() as i64);
        let at = self.b.ins().iadd(base, offset);
        self.b.ins().load(I64, MemFlagsData::trusted(), at, 0)
    }

    /// Both mantissas at the larger of the two scales: (a, b, scale, fits), `fits` false
    /// when a rescale overflows or needs more than 10^18.
    pub(super) fn align(&mut self, (ma, xa): (Cv, Cv), (mb, xb): (Cv, Cv)) -> (Cv, Cv, Cv, Cv) {
        let hi = self.b.ins().smax(xa, xb);
        let da = self.b.ins().isub(hi, xa);
        let db = self.b.ins().isub(hi, xb);
        let pa = self.pow10(da);
        let pb = self.pow10(db);
        let (ma2, of_a) = self.b.ins().smul_overflow(ma, pa);
        let (mb2, of_b) = self.b.ins().smul_overflow(mb, pb);
        let small_a = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, da, 18);
        let small_b = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, db, 18);
        let of = self.b.ins().bor(of_a, of_b);
        let no_of = self.b.ins().bxor_imm_s(of, 1);
        let small = self.b.ins().band(small_a, small_b);
        let fits = self.b.ins().band(small, no_of);
        (ma2, mb2, hi, fits)
    }

    /// `a op b` on unboxed numbers: inline for + - * (any scales, rescaled as rust_decimal
    /// does); a helper for a division (one by a constant that terminates is
    /// [`Gen::div_terminating`]'s), and wherever the inline form would overflow or meet a
    /// zero (whose sign and scale rust_decimal keeps).
    pub(super) fn arith(
        &mut self,
        op: BinaryOp,
        (sa, ma, xa): (Cv, Cv, Cv),
        (sb, mb, xb): (Cv, Cv, Cv),
    ) -> (Cv, Cv, Cv) {
        let merge = self.num_merge();
        self.when_both_numbers(sa, sb, merge);
        let slow = self.b.create_block();
        let op_code = match op {
            BinaryOp::Add => 0,
            BinaryOp::Sub => 1,
            BinaryOp::Mul => 2,
            _ => 3,
        };
        if op_code < 3 {
            let (r, fast, scale) = match op {
                BinaryOp::Mul => {
                    let (r, of) = self.b.ins().smul_overflow(ma, mb);
                    let scale = self.b.ins().iadd(xa, xb);
                    let scale_ok = self
                        .b
                        .ins()
                        .icmp_imm_s(IntCC::SignedLessThanOrEqual, scale, 28);
                    let no_of = self.b.ins().bxor_imm_s(of, 1);
                    (r, self.b.ins().band(scale_ok, no_of), scale)
                }
                _ => {
                    let (a2, b2, scale, fits) = self.align((ma, xa), (mb, xb));
                    let (r, of) = if op == BinaryOp::Add {
                        self.b.ins().sadd_overflow(a2, b2)
                    } else {
                        self.b.ins().ssub_overflow(a2, b2)
                    };
                    let no_of = self.b.ins().bxor_imm_s(of, 1);
                    // rust_decimal gives `1 + 0.0` as 1: a zero operand keeps the other's
                    // scale, so that case is the helper's
                    let a_nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, ma, 0);
                    let b_nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, mb, 0);
                    let nonzero = self.b.ins().band(a_nonzero, b_nonzero);
                    let fast = self.b.ins().band(fits, no_of);
                    (r, self.b.ins().band(fast, nonzero), scale)
                }
            };
            let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
            let fast = self.b.ins().band(fast, nonzero);
            let fast_b = self.b.create_block();
            self.b.ins().brif(fast, fast_b, &[], slow, &[]);
            self.enter(fast_b);
            let ok = self.iconst(NUM_OK);
            self.b
                .ins()
                .jump(merge, &[ok.into(), r.into(), scale.into()]);
        } else {
            self.b.ins().jump(slow, &[]);
        }
        self.enter(slow);
        let code = self.iconst(op_code);
        let slot = self.slot_addr();
        self.call(Helper::DecOp, &[code, ma, xa, mb, xb, slot]);
        let (rs, rm, rx) = self.load_num();
        self.close_num(merge, (rs, rm, rx))
    }

    /// `a / b` for a constant b = 2^x·5^y·10^−places (see [`terminating_divisor`]): the
    /// quotient is a·c at scale (a's places − b's places + k), with c = 10^k / b's mantissa
    /// and k = max(x, y) known when compiling; a negative scale is multiplied out, and
    /// trailing zeros are dropped as the interpreter normalizes a quotient. A zero, an
    /// overflow, or a scale over 28 goes to the helper.
    pub(super) fn div_terminating(
        &mut self,
        (st, m, s): (Cv, Cv, Cv),
        divisor: Divisor,
        node: &Node,
    ) -> (Cv, Cv, Cv) {
        let merge = self.num_merge();
        let is_ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_OK);
        self.compute_if(is_ok, (st, m, s), merge);
        let slow = self.b.create_block();
        let c = self.iconst(divisor.factor);
        let (q, of) = self.b.ins().smul_overflow(m, c);
        let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, m, 0);
        let no_of = self.b.ins().bxor_imm_s(of, 1);
        let fine = self.b.ins().band(nonzero, no_of);
        let scale = self.b.ins().iadd_imm_s(s, divisor.shift);
        let strip = self.strip_block();
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, scale, 0);
        let scale_up = self.b.create_block();
        let keep = self.b.create_block();
        let go = self.b.create_block();
        self.b.ins().brif(fine, go, &[], slow, &[]);
        self.enter(go);
        self.b.ins().brif(negative, scale_up, &[], keep, &[]);
        // a negative scale: the quotient is a whole number times 10^−scale
        self.enter(scale_up);
        let e = self.b.ins().ineg(scale);
        let pe = self.pow10(e);
        let (q2, of2) = self.b.ins().smul_overflow(q, pe);
        let e_small = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, e, 18);
        let no_of2 = self.b.ins().bxor_imm_s(of2, 1);
        let fits = self.b.ins().band(e_small, no_of2);
        let zero_scale = self.iconst(0);
        self.b
            .ins()
            .brif(fits, strip, &[q2.into(), zero_scale.into()], slow, &[]);
        self.enter(keep);
        let fits = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThanOrEqual, scale, 28);
        self.b
            .ins()
            .brif(fits, strip, &[q.into(), scale.into()], slow, &[]);
        self.fill_strip(strip, merge);
        self.enter(slow);
        let (_, mb, xb) = self.num(node);
        let code = self.iconst(3);
        let slot = self.slot_addr();
        self.call(Helper::DecOp, &[code, m, s, mb, xb, slot]);
        let r = self.load_num();
        self.close_num(merge, r)
    }

    /// A block taking (mantissa, scale) of an exact quotient; [`Gen::fill_strip`] gives it
    /// its code once every jump to it is written.
    pub(super) fn strip_block(&mut self) -> cranelift_codegen::ir::Block {
        let strip = self.b.create_block();
        self.b.append_block_param(strip, I64);
        self.b.append_block_param(strip, I64);
        strip
    }

    /// The code of a [`Gen::strip_block`] (the current block being filled): drops the
    /// quotient's trailing zeros while its scale is above 0, as rust_decimal's division
    /// leaves a quotient, and passes the number on to `merge`.
    pub(super) fn fill_strip(
        &mut self,
        strip: cranelift_codegen::ir::Block,
        merge: cranelift_codegen::ir::Block,
    ) {
        self.b.switch_to_block(strip);
        let (sm, ss) = match self.b.block_params(strip) {
            [a, b] => (*a, *b),
            _ => return,
        };
        let rem = self.b.ins().srem_imm_s(sm, 10);
        let ends_in_zero = self.b.ins().icmp_imm_s(IntCC::Equal, rem, 0);
        let has_scale = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, ss, 0);
        let again = self.b.ins().band(ends_in_zero, has_scale);
        let drop_zero = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(again, drop_zero, &[], done, &[]);
        self.enter(drop_zero);
        let m2 = self.b.ins().sdiv_imm_s(sm, 10);
        let s2 = self.b.ins().iadd_imm_s(ss, -1);
        self.b.ins().jump(strip, &[m2.into(), s2.into()]);
        self.b.seal_block(strip);
        self.enter(done);
        let ok = self.iconst(NUM_OK);
        self.b.ins().jump(merge, &[ok.into(), sm.into(), ss.into()]);
    }

    /// `round(x, digits)` with literal digits ≥ 0 and a known mode, inline: scaled up when
    /// x has fewer places, else divided by 10^(places − digits) and the remainder rounded
    /// as the mode says (rust_decimal's strategies). A zero result, or places beyond 10^18,
    /// go to the helper.
    pub(super) fn round_inline(
        &mut self,
        (st, m, s): (Cv, Cv, Cv),
        digits: i64,
        mode: usize,
    ) -> (Cv, Cv, Cv) {
        let merge = self.num_merge();
        let is_ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_OK);
        self.compute_if(is_ok, (st, m, s), merge);
        let slow = self.b.create_block();
        let up_b = self.b.create_block();
        let down_b = self.b.create_block();
        let fewer = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThanOrEqual, s, digits);
        self.b.ins().brif(fewer, up_b, &[], down_b, &[]);

        // fewer places than digits: append zeros
        self.enter(up_b);
        let d = self.iconst(digits);
        let k = self.b.ins().isub(d, s);
        let p = self.pow10(k);
        let (m2, of) = self.b.ins().smul_overflow(m, p);
        let small = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, k, 18);
        let no_of = self.b.ins().bxor_imm_s(of, 1);
        let fast = self.b.ins().band(small, no_of);
        let ok_b = self.b.create_block();
        self.b.ins().brif(fast, ok_b, &[], slow, &[]);
        self.enter(ok_b);
        let ok = self.iconst(NUM_OK);
        self.b.ins().jump(merge, &[ok.into(), m2.into(), d.into()]);

        // more places: divide and round the remainder
        self.enter(down_b);
        let k = self.b.ins().iadd_imm_s(s, -digits);
        let p = self.pow10(k);
        let q = self.b.ins().sdiv(m, p);
        let r = self.b.ins().srem(m, p);
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, m, 0);
        let minus = self.iconst(-1);
        let plus = self.iconst(1);
        let sign = self.b.ins().select(negative, minus, plus);
        let zero = self.iconst(0);
        let abs_r = self.b.ins().iabs(r);
        let twice = self.b.ins().ishl_imm_s(abs_r, 1);
        let name = helpers::ROUND_MODES
            .get(mode)
            .map_or("half_up", |(n, _)| *n);
        let step = match name {
            "half_up" => {
                let bump = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, twice, p);
                self.b.ins().select(bump, sign, zero)
            }
            "half_even" => {
                let above = self.b.ins().icmp(IntCC::SignedGreaterThan, twice, p);
                let half = self.b.ins().icmp(IntCC::Equal, twice, p);
                let low = self.b.ins().band_imm_s(q, 1);
                let odd = self.b.ins().icmp_imm_s(IntCC::NotEqual, low, 0);
                let tie_up = self.b.ins().band(half, odd);
                let bump = self.b.ins().bor(above, tie_up);
                self.b.ins().select(bump, sign, zero)
            }
            "up" => {
                let bump = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                self.b.ins().select(bump, sign, zero)
            }
            "floor" => {
                let bump = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                self.b.ins().select(bump, minus, zero)
            }
            "ceiling" => {
                let bump = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, r, 0);
                self.b.ins().select(bump, plus, zero)
            }
            _ => zero,
        };
        let q2 = self.b.ins().iadd(q, step);
        let small = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThanOrEqual, k, 18);
        let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, q2, 0);
        let fast = self.b.ins().band(small, nonzero);
        let ok_b = self.b.create_block();
        self.b.ins().brif(fast, ok_b, &[], slow, &[]);
        self.enter(ok_b);
        let ok = self.iconst(NUM_OK);
        let d = self.iconst(digits);
        self.b.ins().jump(merge, &[ok.into(), q2.into(), d.into()]);

        self.enter(slow);
        let d = self.iconst(digits);
        let md = self.iconst(i64::try_from(mode).unwrap_or(0));
        let slot = self.slot_addr();
        self.call(Helper::DecRound, &[m, s, d, md, slot]);
        let r = self.load_num();
        self.close_num(merge, r)
    }

    pub(super) fn compare(
        &mut self,
        op: BinaryOp,
        (sa, ma, xa): (Cv, Cv, Cv),
        (sb, mb, xb): (Cv, Cv, Cv),
    ) -> Cv {
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        let (both_ok_b, worst) = self.unless_both_numbers(sa, sb);
        let bail = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, worst, NUM_BAIL);
        let null_result = match op {
            BinaryOp::Eq | BinaryOp::NotEq => {
                // null = null is true; null = number is false.
                let a_null = self.b.ins().icmp_imm_s(IntCC::Equal, sa, NUM_NULL);
                let b_null = self.b.ins().icmp_imm_s(IntCC::Equal, sb, NUM_NULL);
                let same = self.b.ins().icmp(IntCC::Equal, a_null, b_null);
                let (t, f) = if op == BinaryOp::Eq {
                    (B_TRUE, B_FALSE)
                } else {
                    (B_FALSE, B_TRUE)
                };
                let t = self.iconst(t);
                let f = self.iconst(f);
                self.b.ins().select(same, t, f)
            }
            _ => self.iconst(B_NULL),
        };
        let bail_c = self.iconst(B_BAIL);
        let r = self.b.ins().select(bail, bail_c, null_result);
        self.b.ins().jump(merge, &[r.into()]);

        self.enter(both_ok_b);
        let cc = match op {
            BinaryOp::Eq => IntCC::Equal,
            BinaryOp::NotEq => IntCC::NotEqual,
            BinaryOp::Lt => IntCC::SignedLessThan,
            BinaryOp::LtEq => IntCC::SignedLessThanOrEqual,
            BinaryOp::Gt => IntCC::SignedGreaterThan,
            _ => IntCC::SignedGreaterThanOrEqual,
        };
        let ord = self.cmp3((ma, xa), (mb, xb));
        let c = self.b.ins().icmp_imm_s(cc, ord, 0);
        let c = self.b.ins().uextend(I64, c);
        self.close_one(merge, c)
    }

    /// Compares two numbers: -1, 0 or 1; inline at a common scale, by the helper when a
    /// rescale does not fit.
    pub(super) fn cmp3(&mut self, (ma, xa): (Cv, Cv), (mb, xb): (Cv, Cv)) -> Cv {
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        let (a2, b2, _, fits) = self.align((ma, xa), (mb, xb));
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.ins().brif(fits, fast, &[], slow, &[]);
        self.enter(fast);
        let gt = self.b.ins().icmp(IntCC::SignedGreaterThan, a2, b2);
        let lt = self.b.ins().icmp(IntCC::SignedLessThan, a2, b2);
        let gt = self.b.ins().uextend(I64, gt);
        let lt = self.b.ins().uextend(I64, lt);
        let ord = self.b.ins().isub(gt, lt);
        self.b.ins().jump(merge, &[ord.into()]);
        self.enter(slow);
        let zero = self.iconst(0);
        let ord = self.call(Helper::DecCmp, &[ma, xa, mb, xb]).unwrap_or(zero);
        self.close_one(merge, ord)
    }
}

/// A constant divisor whose quotients always terminate, as the code divides by it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Divisor {
    /// 10^k / the divisor's mantissa (signed as the divisor).
    factor: i64,
    /// k − the divisor's places: what the quotient's scale adds to the dividend's.
    shift: i64,
}

/// The constant divisor `n` when its quotients always terminate: a non-zero 2^x·5^y·10^−p
/// (`4`, `1000`, `0.25`) with k = max(x, y) ≤ 18.
pub(super) fn terminating_divisor(n: &Node) -> Option<Divisor> {
    let Some(Value::Number(d)) = n.as_const() else {
        return None;
    };
    let d = d.normalize();
    let mantissa = i64::try_from(d.mantissa()).ok().filter(|m| *m != 0)?;
    let (mut rest, mut twos, mut fives) = (mantissa.unsigned_abs(), 0usize, 0usize);
    while rest % 2 == 0 {
        rest /= 2;
        twos += 1;
    }
    while rest % 5 == 0 {
        rest /= 5;
        fives += 1;
    }
    let k = twos.max(fives);
    let power = i64::try_from(*helpers::POW10.get(k)?).ok()?;
    (rest == 1).then(|| Divisor {
        factor: power / mantissa,
        shift: i64::try_from(k).unwrap_or(0) - i64::from(d.scale()),
    })
}

/// Whether a rounding function's second argument is decimal places (`roundup`,
/// `rounddown`), not Excel's significance (`floor`, `ceiling`: left to the interpreter).
pub(super) fn takes_places(function: &str) -> bool {
    matches!(function, "roundup" | "rounddown")
}

/// The rounding mode (index into [`helpers::ROUND_MODES`]) a rounding function always
/// uses: `roundup` away from zero, `rounddown` toward zero, `floor`, `ceiling`.
pub(super) fn fixed_round_mode(function: &str) -> Option<usize> {
    let mode = match function {
        "roundup" => "up",
        "rounddown" => "down",
        "floor" => "floor",
        "ceiling" => "ceiling",
        _ => return None,
    };
    helpers::ROUND_MODES
        .iter()
        .position(|(name, _)| *name == mode)
}

pub(super) fn round_mode_index(n: &Node) -> Option<usize> {
    match n.as_const() {
        Some(Value::String(s)) => helpers::ROUND_MODES
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case(s)),
        _ => None,
    }
}
