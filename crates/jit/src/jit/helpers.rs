//! Runtime helpers the generated code calls: field reads, exact decimal arithmetic where
//! the inline fast path does not apply, boxing, and the interpreter for the nodes the JIT
//! does not compile.
//!
//! They are safe functions: their pointer parameters are references (`extern "C"` passes
//! them as plain pointers), so no helper dereferences a raw pointer or invents a lifetime.
//! The one obligation — that each reference the generated code passes is valid for the
//! call — is met where the code is called (`JitTransform::apply`, whose `SAFETY` comment
//! says why): contexts and output slots are that call's own, IR nodes, paths and constants
//! belong to the transform the `JitTransform` keeps alive.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// The rounding modes by index, as `round()` names them.
pub use crate::stdlib::numbers::ROUND_MODES;

use crate::interp::Interpreter;
use crate::ir::Node;
use crate::runtime::{Ctx, EvalError};
use crate::value::{FieldPath, Value};

/// A number between generated code and helpers: `status` 0 = number `mantissa × 10^-scale`,
/// 1 = null, 2 = not representable here (the node is evaluated by the interpreter), 3 = an
/// error (kept in the context). The statuses are ordered: of two operands, the larger wins.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct NumOut {
    /// 0 number, 1 null, 2 bail.
    pub status: i64,
    /// The mantissa.
    pub mantissa: i64,
    /// The scale (0–28).
    pub scale: i64,
}

/// Status codes of [`NumOut`] and of boolean results.
pub const NUM_OK: i64 = 0;
/// Null.
pub const NUM_NULL: i64 = 1;
/// Not representable here: the node is evaluated by the interpreter instead.
pub const NUM_BAIL: i64 = 2;
/// The node failed; the error (the first of the formula) is in the context.
pub const NUM_ERR: i64 = 3;

/// Boolean result codes: false, true, null, bail.
pub const B_FALSE: i64 = 0;
/// true
pub const B_TRUE: i64 = 1;
/// null
pub const B_NULL: i64 = 2;
/// bail out to the interpreter
pub const B_BAIL: i64 = 3;

/// What the generated code needs from the caller for one record.
pub struct JitCtx<'a, 'r> {
    /// The record's slots (`ctx.slots`), where generated code reads a number in place
    /// (see [`super::layout`]): the first...
    pub slots: *const Option<Value>,
    /// ...and how many there are (0 for a record without slots).
    pub slots_len: usize,
    /// The evaluation context.
    pub ctx: &'a Ctx<'r>,
    /// The interpreter for fallback nodes.
    pub interp: &'a mut Interpreter,
    /// The error of a failed condition or mapping.
    pub error: Option<EvalError>,
    /// Native conditions and mappings the interpreter evaluated whole for this record
    /// (their value could not be had natively).
    pub whole_formulas: u64,
    /// A panic caught inside a helper (in a function, or in an embedder's lookup the
    /// interpreter called): it cannot unwind through generated code, so the helper reports
    /// an error and the caller of the generated code resumes the panic once it has returned,
    /// as it would have surfaced under the interpreter.
    pub panic: Option<Box<dyn std::any::Any + Send>>,
}

/// Runs `f` (which calls into the interpreter) so that a panic in it does not cross the
/// generated code: the panic is kept in the context and `failed` returned; once one has
/// been kept, nothing more is evaluated.
fn guarded<T>(c: &mut JitCtx, failed: T, f: impl FnOnce(&mut JitCtx) -> T) -> T {
    if c.panic.is_some() {
        return failed;
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(c))) {
        Ok(v) => v,
        Err(payload) => {
            c.panic = Some(payload);
            failed
        }
    }
}

/// A decimal as (mantissa, scale) when its mantissa fits an i64 and it is not a
/// negative zero (which the (mantissa, scale) form cannot carry).
pub fn split(d: Decimal) -> Option<(i64, i64)> {
    if d.is_zero() && d.is_sign_negative() {
        return None;
    }
    let m = d.mantissa().to_i64()?;
    Some((m, i64::from(d.scale())))
}

/// The decimal of (mantissa, scale).
pub fn join(m: i64, s: i64) -> Option<Decimal> {
    Decimal::try_from_i128_with_scale(i128::from(m), u32::try_from(s).ok()?).ok()
}

fn put_num(o: &mut NumOut, v: &Value) {
    *o = match v {
        Value::Null => NumOut {
            status: NUM_NULL,
            ..NumOut::default()
        },
        Value::Number(d) => num_out(Some(*d)),
        _ => num_out(None),
    };
}

/// Reads a field as a number.
pub extern "C" fn field_num(c: &mut JitCtx, path: &FieldPath, o: &mut NumOut) {
    put_num(o, path.read_ref(c.ctx.record, c.ctx.slots).unwrap_or(&NULL));
}

/// Evaluates a node with the interpreter and reads the result as a number: a bail for
/// another kind of value or one too large for the unboxed form; an error is kept in the
/// context (the first one: evaluation runs in the interpreter's order, so it is the error
/// the interpreter reports) and given as [`NUM_ERR`].
pub extern "C" fn interp_num(c: &mut JitCtx, n: &Node, o: &mut NumOut) {
    let failed = NumOut {
        status: NUM_ERR,
        ..NumOut::default()
    };
    *o = guarded(c, failed, |c| match c.interp.eval(n, c.ctx) {
        Ok(v) => {
            let mut out = NumOut::default();
            put_num(&mut out, &v);
            out
        }
        Err(e) => {
            if c.error.is_none() {
                c.error = Some(e);
            }
            failed
        }
    });
}

/// Evaluates a node with the interpreter as a boolean code.
pub extern "C" fn interp_bool(c: &mut JitCtx, n: &Node) -> i64 {
    guarded(c, B_BAIL, |c| match c.interp.eval(n, c.ctx) {
        Ok(Value::Bool(true)) => B_TRUE,
        Ok(Value::Bool(false)) => B_FALSE,
        Ok(Value::Null) => B_NULL,
        _ => B_BAIL,
    })
}

/// A decimal result as a [`NumOut`]: a number when there is one and it fits the
/// (mantissa, scale) form, else a bail (the interpreter redoes the formula and reports).
fn num_out(result: Option<Decimal>) -> NumOut {
    match result.and_then(split) {
        Some((mantissa, scale)) => NumOut {
            status: NUM_OK,
            mantissa,
            scale,
        },
        None => NumOut {
            status: NUM_BAIL,
            ..NumOut::default()
        },
    }
}

/// The rounding strategy of a mode index (see [`ROUND_MODES`]).
fn strategy(mode: i64) -> Option<RoundingStrategy> {
    ROUND_MODES
        .get(usize::try_from(mode).ok()?)
        .map(|(_, st)| *st)
}

/// Exact decimal arithmetic: op 0 add, 1 sub, 2 mul, 3 div; bail when the operands do not
/// form decimals, on an error (the interpreter will report it), or when the result does not
/// fit the (mantissa, scale) form.
pub extern "C" fn dec_op(op: i64, am: i64, a_s: i64, bm: i64, bs: i64, o: &mut NumOut) {
    let binop = match op {
        0 => crate::syntax::BinaryOp::Add,
        1 => crate::syntax::BinaryOp::Sub,
        2 => crate::syntax::BinaryOp::Mul,
        _ => crate::syntax::BinaryOp::Div,
    };
    *o = num_out(
        join(am, a_s)
            .zip(join(bm, bs))
            .and_then(|(a, b)| crate::interp::decimal_op(binop, a, b).ok()),
    );
}

/// Compares two decimals: -1, 0, 1.
pub extern "C" fn dec_cmp(am: i64, a_s: i64, bm: i64, bs: i64) -> i64 {
    match (join(am, a_s), join(bm, bs)) {
        (Some(a), Some(b)) => match a.cmp(&b) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        },
        _ => 0,
    }
}

/// `round(a / b, digits, mode)`: the exact quotient (as the interpreter divides),
/// rounded (as `round` rounds), in one division when
/// [`crate::interp::quotient::rounded_at_once`] can tell it, else in those two steps. A
/// division by zero or an overflow bails, so that the interpreter reports it.
pub extern "C" fn dec_div_round(
    am: i64,
    a_s: i64,
    bm: i64,
    bs: i64,
    digits: i64,
    mode: i64,
    o: &mut NumOut,
) {
    let Some(st) = strategy(mode) else {
        *o = num_out(None);
        return;
    };
    let at_once = || {
        let (a_s, bs, places) = (
            u32::try_from(a_s).ok()?,
            u32::try_from(bs).ok()?,
            u32::try_from(digits).ok()?,
        );
        crate::interp::quotient::rounded_at_once(am, a_s, bm, bs, places, st)
    };
    *o = num_out(at_once().or_else(|| {
        quotient(am, a_s, bm, bs)
            .and_then(|q| crate::stdlib::numbers::round_with(q, digits, st).ok())
    }));
}

/// `round(a / b * k, digits, mode)`: the exact quotient times `k`, each step as the
/// interpreter computes it, rounded as `round` rounds (a percentage of a ratio). A division
/// by zero or an overflow bails, so that the interpreter reports it.
#[allow(clippy::too_many_arguments)]
pub extern "C" fn dec_div_mul_round(
    am: i64,
    a_s: i64,
    bm: i64,
    bs: i64,
    km: i64,
    ks: i64,
    digits: i64,
    mode: i64,
    o: &mut NumOut,
) {
    use crate::syntax::BinaryOp::Mul;
    let Some(st) = strategy(mode) else {
        *o = num_out(None);
        return;
    };
    let at_once = || {
        let (a_s, bs, ks, places) = (
            u32::try_from(a_s).ok()?,
            u32::try_from(bs).ok()?,
            u32::try_from(ks).ok()?,
            u32::try_from(digits).ok()?,
        );
        crate::interp::quotient::rounded_product_at_once(am, a_s, bm, bs, km, ks, places, st)
    };
    *o = num_out(at_once().or_else(|| {
        quotient(am, a_s, bm, bs)
            .zip(join(km, ks))
            .and_then(|(q, k)| crate::interp::decimal_op(Mul, q, k).ok())
            .and_then(|x| crate::stdlib::numbers::round_with(x, digits, st).ok())
    }));
}

/// `mod(a, b)` as the function computes it; a zero divisor or an overflow bails, so that
/// the interpreter reports it.
pub extern "C" fn dec_mod(am: i64, a_s: i64, bm: i64, bs: i64, o: &mut NumOut) {
    *o = num_out(
        join(am, a_s)
            .zip(join(bm, bs))
            .and_then(|(a, b)| crate::stdlib::numbers::modulo_of(a, b).ok()),
    );
}

/// `round(x, digits, mode)` with a mode index (see [`ROUND_MODES`]).
pub extern "C" fn dec_round(m: i64, s: i64, digits: i64, mode: i64, o: &mut NumOut) {
    *o = num_out(
        join(m, s)
            .zip(strategy(mode))
            .and_then(|(d, st)| crate::stdlib::numbers::round_with(d, digits, st).ok()),
    );
}

/// 10^k for k in 0..=18, the powers an i64 holds: the generated code rescales mantissas
/// and rounds with them.
pub static POW10: &[u64; 19] = &crate::interp::quotient::POWERS_OF_TEN;

/// `a / b` as the interpreter computes it (rust_decimal's quotient, normalized), by
/// [`crate::interp::quotient::quotient`] in integer arithmetic; `None` for a division by
/// zero, an overflow or a scale out of range.
fn quotient(am: i64, a_s: i64, bm: i64, bs: i64) -> Option<Decimal> {
    let (a_s, bs) = (u32::try_from(a_s).ok()?, u32::try_from(bs).ok()?);
    crate::interp::quotient::quotient(am, a_s, bm, bs)
}

/// A mapping whose formula is a division `a / b` of two unboxed numbers: the quotient
/// written to its output value; 0 on success, 1 when the interpreter must evaluate it (a
/// division by zero, an overflow), which then also gives the error.
pub extern "C" fn div_root(am: i64, a_s: i64, bm: i64, bs: i64, o: &mut Value) -> i64 {
    let (Ok(a_s), Ok(bs)) = (u32::try_from(a_s), u32::try_from(bs)) else {
        return 1;
    };
    // the quotient is stored in place, in the number the output holds (a buffer reused
    // record after record holds one): once, not built aside and copied over it
    match o {
        Value::Number(slot) => i64::from(!crate::interp::quotient::quotient_into(
            am, a_s, bm, bs, slot,
        )),
        other => match crate::interp::quotient::quotient(am, a_s, bm, bs) {
            Some(q) => {
                *other = Value::Number(q);
                0
            }
            None => 1,
        },
    }
}

/// Writes a number to an output value, in place when it holds one (see [`div_root`]).
#[inline(always)]
fn set_number(o: &mut Value, d: Decimal) {
    match o {
        Value::Number(slot) => *slot = d,
        other => *other = Value::Number(d),
    }
}

/// Writes a number (or null) to an output value; 0 on success, 1 when it cannot be formed.
pub extern "C" fn box_num(status: i64, m: i64, s: i64, o: &mut Value) -> i64 {
    match status {
        NUM_NULL => *o = Value::Null,
        _ => match join(m, s) {
            Some(d) => set_number(o, d),
            None => return 1,
        },
    }
    0
}

/// Writes a boolean code (false/true/null) to an output value.
pub extern "C" fn box_bool(code: i64, o: &mut Value) {
    *o = match code {
        B_TRUE => Value::Bool(true),
        B_FALSE => Value::Bool(false),
        _ => Value::Null,
    };
}

/// Evaluates a node with the interpreter into an output value; 0 on success, 1 on error
/// (kept in the context). `fell_back` (not 0) counts it as a native formula evaluated
/// whole after all.
pub extern "C" fn interp_root(c: &mut JitCtx, n: &Node, o: &mut Value, fell_back: i64) -> i64 {
    count_fall_back(c, fell_back);
    guarded(c, 1, |c| eval_root(c, n, o))
}

/// Evaluates a node with the interpreter into an output value: 0, or 1 on an error (kept).
fn eval_root(c: &mut JitCtx, n: &Node, o: &mut Value) -> i64 {
    match c.interp.eval(n, c.ctx) {
        Ok(v) => {
            *o = v;
            0
        }
        Err(e) => {
            c.error = Some(e);
            1
        }
    }
}

/// Writes the value of a root that is a tree of eager calls over fields and constants, of
/// `nodes` nodes, by calling its functions directly; 0 on success. Where that fails, or the
/// step budget is below `nodes`, the interpreter evaluates it whole (for its exact error):
/// as [`interp_root`].
pub extern "C" fn call_root(c: &mut JitCtx, n: &Node, nodes: i64, o: &mut Value) -> i64 {
    guarded(c, 1, |c| {
        let within_budget = u64::try_from(nodes).is_ok_and(|k| k <= c.ctx.limits.max_steps);
        if within_budget {
            if let Some(v) = c.interp.eval_calls(n, c.ctx) {
                *o = v;
                return 0;
            }
        }
        c.whole_formulas += 1;
        eval_root(c, n, o)
    })
}

/// Evaluates a condition with the interpreter: 0 holds, 1 does not hold, 2 error (kept).
/// `fell_back` as for [`interp_root`].
pub extern "C" fn interp_cond(c: &mut JitCtx, n: &Node, fell_back: i64) -> i64 {
    count_fall_back(c, fell_back);
    guarded(c, 2, |c| match c.interp.eval(n, c.ctx) {
        Ok(Value::Bool(true)) => 0,
        Ok(Value::Bool(false) | Value::Null) => 1,
        Ok(other) => {
            c.error = Some(
                EvalError::type_mismatch(format!(
                    "a condition must be boolean, found {}",
                    other.type_name()
                ))
                .at(n.span),
            );
            2
        }
        Err(e) => {
            c.error = Some(e);
            2
        }
    })
}

/// Copies a field into an output value.
pub extern "C" fn out_field(c: &mut JitCtx, path: &FieldPath, o: &mut Value) {
    *o = path.read_from(c.ctx.record, c.ctx.slots);
}

/// Copies a constant into an output value.
pub extern "C" fn out_const(v: &Value, o: &mut Value) {
    *o = v.clone();
}

/// What an absent field reads as.
static NULL: Value = Value::Null;

/// Where a field's value is, without copying it (a null for an absent field); valid while
/// the record and its slots are, that is for the call.
pub extern "C" fn field_ref<'r>(c: &JitCtx<'_, 'r>, path: &FieldPath) -> &'r Value {
    path.read_ref(c.ctx.record, c.ctx.slots).unwrap_or(&NULL)
}

/// A value as a boolean code: a boolean, null, or a bail for anything else (the
/// interpreter then reports the type mismatch).
pub extern "C" fn val_truth(v: &Value) -> i64 {
    match v {
        Value::Bool(true) => B_TRUE,
        Value::Bool(false) => B_FALSE,
        Value::Null => B_NULL,
        _ => B_BAIL,
    }
}

/// The comparisons [`val_cmp`] takes, by index.
pub const COMPARISONS: [crate::syntax::BinaryOp; 6] = [
    crate::syntax::BinaryOp::Eq,
    crate::syntax::BinaryOp::NotEq,
    crate::syntax::BinaryOp::Lt,
    crate::syntax::BinaryOp::LtEq,
    crate::syntax::BinaryOp::Gt,
    crate::syntax::BinaryOp::GtEq,
];

/// `a op b` for values of any type, exactly as the interpreter compares them (plain
/// equality; ordering of text, dates, booleans; null for an ordering with null); a bail
/// where the interpreter fails.
pub extern "C" fn val_cmp(op: i64, a: &Value, b: &Value) -> i64 {
    let Some(op) = usize::try_from(op).ok().and_then(|i| COMPARISONS.get(i)) else {
        return B_BAIL;
    };
    match crate::interp::binary(*op, a, b) {
        Ok(Value::Bool(true)) => B_TRUE,
        Ok(Value::Bool(false)) => B_FALSE,
        Ok(Value::Null) => B_NULL,
        _ => B_BAIL,
    }
}

/// 1 when the value is null (`isnull`, and what `coalesce` and `??` skip), else 0.
pub extern "C" fn val_is_null(v: &Value) -> i64 {
    i64::from(v.is_null())
}

/// 1 when the value is blank as `isblank` says (null, or text of white space only).
pub extern "C" fn val_blank(v: &Value) -> i64 {
    i64::from(crate::stdlib::logic::is_blank(v))
}

/// `number(x)` of a value: a number as it is, text parsed as `number()` parses it, null as
/// null; a bail otherwise (the interpreter then reports E304 or the wrong kind).
pub extern "C" fn val_number(v: &Value, o: &mut NumOut) {
    *o = match v {
        Value::String(s) => match crate::stdlib::convert::parse_number_text(s) {
            Some(d) => num_out(Some(d)),
            None => num_out(None),
        },
        Value::Null | Value::Number(_) => {
            put_num(o, v);
            return;
        }
        _ => num_out(None),
    };
}

/// `text(x)` of a number (or null) into an output value, as `text()` writes it; 1 when it
/// cannot be formed.
pub extern "C" fn out_text_num(status: i64, m: i64, s: i64, o: &mut Value) -> i64 {
    *o = match status {
        NUM_NULL => Value::Null,
        _ => match join(m, s) {
            Some(d) => Value::string(Value::Number(d).to_text()),
            None => return 1,
        },
    };
    0
}

/// 1 when an error is kept in the context already, else 0 (`iferror` looks before its
/// argument runs, so that it forgets only the error that argument made).
pub extern "C" fn error_mark(c: &JitCtx) -> i64 {
    i64::from(c.error.is_some())
}

/// Forgets the error kept in the context (`iferror` caught it).
pub extern "C" fn error_clear(c: &mut JitCtx) {
    c.error = None;
}

/// Counts a native condition or mapping that the interpreter evaluates whole after all
/// (`fell_back` not 0). One argument of the helper that evaluates it, not a call of its
/// own: each call site in generated code costs the register allocator.
fn count_fall_back(c: &mut JitCtx, fell_back: i64) {
    c.whole_formulas += u64::from(fell_back != 0);
}
