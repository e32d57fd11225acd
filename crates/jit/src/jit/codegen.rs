//! CLIF generation from the typed IR of a whole transform: conditions and mappings in one
//! function. Numbers whose mantissa fits an i64 and booleans stay unboxed in registers;
//! `+ - *` on equal scales run inline with overflow checks; everything else calls a helper,
//! and a node the JIT does not compile is evaluated by the interpreter, that node only.
//! When an unboxed computation cannot go on (an overflow, a value of another kind, an
//! error), the formula it belongs to is evaluated by the interpreter, so results and errors
//! are always the interpreter's.
//!
//! Why one long file: the code generator is one recursive walk over the IR (`num`, `boolean`,
//! `value` call each other at every node), sharing one builder, one set of blocks and one
//! bail-out protocol; split by node kind, every part would need all of them. The inline
//! decimal arithmetic it writes is `codegen/decimal.rs`, and its helpers (the Rust side of
//! calls out of native code) are in `helpers.rs`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value as Cv,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use cranelift_jit::JITModule;
use cranelift_module::{Linkage, Module, ModuleError};

mod decimal;

use self::decimal::{fixed_round_mode, round_mode_index, takes_places, terminating_divisor};
use super::helpers::{self, B_BAIL, B_FALSE, B_NULL, B_TRUE, NUM_BAIL, NUM_ERR, NUM_NULL, NUM_OK};
use crate::interp::Interpreter;
use crate::ir::{Node, NodeKind};
use crate::syntax::BinaryOp;
use crate::value::TypeSet;
use crate::value::Value;

const I64: types::Type = types::I64;

/// Return codes of the generated transform.
pub const FILTERED: i64 = 1_000_000;
/// A condition failed (the error is in the context).
pub const CONDITION_FAILED: i64 = 2_000_000;
/// A mapping failed (the error is in the context).
pub const MAPPING_FAILED: i64 = 3_000_000;

/// The helpers, declared in the module, in [`Helper::ALL`] order.
pub struct Helpers {
    ids: Vec<cranelift_module::FuncId>,
}

/// The runtime helpers compiled code calls. Each has its symbol, address and signature in
/// [`Helper::spec`], an exhaustive match: a helper without them does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Helper {
    FieldNum,
    InterpNum,
    InterpBool,
    DecOp,
    DecCmp,
    DecRound,
    DecDivRound,
    DecDivMulRound,
    DivRoot,
    DecMod,
    BoxNum,
    BoxBool,
    InterpRoot,
    CallRoot,
    InterpCond,
    OutField,
    OutConst,
    FieldRef,
    ValTruth,
    ValCmp,
    ValIsNull,
    ValBlank,
    ValNumber,
    OutTextNum,
    ErrorMark,
    ErrorClear,
}

impl Helper {
    /// Every helper, in declaration order (`helper as usize` is its index).
    const ALL: [Helper; 26] = [
        Helper::FieldNum,
        Helper::InterpNum,
        Helper::InterpBool,
        Helper::DecOp,
        Helper::DecCmp,
        Helper::DecRound,
        Helper::DecDivRound,
        Helper::DecDivMulRound,
        Helper::DivRoot,
        Helper::DecMod,
        Helper::BoxNum,
        Helper::BoxBool,
        Helper::InterpRoot,
        Helper::CallRoot,
        Helper::InterpCond,
        Helper::OutField,
        Helper::OutConst,
        Helper::FieldRef,
        Helper::ValTruth,
        Helper::ValCmp,
        Helper::ValIsNull,
        Helper::ValBlank,
        Helper::ValNumber,
        Helper::OutTextNum,
        Helper::ErrorMark,
        Helper::ErrorClear,
    ];

    /// (symbol, address, parameter count, returns a value)
    fn spec(self) -> (&'static str, *const u8, usize, bool) {
        match self {
            Helper::FieldNum => ("field_num", helpers::field_num as *const u8, 3, false),
            Helper::InterpNum => ("interp_num", helpers::interp_num as *const u8, 3, false),
            Helper::InterpBool => ("interp_bool", helpers::interp_bool as *const u8, 2, true),
            Helper::DecOp => ("dec_op", helpers::dec_op as *const u8, 6, false),
            Helper::DecCmp => ("dec_cmp", helpers::dec_cmp as *const u8, 4, true),
            Helper::DecRound => ("dec_round", helpers::dec_round as *const u8, 5, false),
            Helper::DecDivRound => (
                "dec_div_round",
                helpers::dec_div_round as *const u8,
                7,
                false,
            ),
            Helper::DecDivMulRound => (
                "dec_div_mul_round",
                helpers::dec_div_mul_round as *const u8,
                9,
                false,
            ),
            Helper::DivRoot => ("div_root", helpers::div_root as *const u8, 5, true),
            Helper::DecMod => ("dec_mod", helpers::dec_mod as *const u8, 5, false),
            Helper::BoxNum => ("box_num", helpers::box_num as *const u8, 4, true),
            Helper::BoxBool => ("box_bool", helpers::box_bool as *const u8, 2, false),
            Helper::InterpRoot => ("interp_root", helpers::interp_root as *const u8, 4, true),
            Helper::CallRoot => ("call_root", helpers::call_root as *const u8, 4, true),
            Helper::InterpCond => ("interp_cond", helpers::interp_cond as *const u8, 3, true),
            Helper::OutField => ("out_field", helpers::out_field as *const u8, 3, false),
            Helper::OutConst => ("out_const", helpers::out_const as *const u8, 2, false),
            Helper::FieldRef => ("field_ref", helpers::field_ref as *const u8, 2, true),
            Helper::ValTruth => ("val_truth", helpers::val_truth as *const u8, 1, true),
            Helper::ValCmp => ("val_cmp", helpers::val_cmp as *const u8, 3, true),
            Helper::ValIsNull => ("val_is_null", helpers::val_is_null as *const u8, 1, true),
            Helper::ValBlank => ("val_blank", helpers::val_blank as *const u8, 1, true),
            Helper::ValNumber => ("val_number", helpers::val_number as *const u8, 2, false),
            Helper::OutTextNum => ("out_text_num", helpers::out_text_num as *const u8, 4, true),
            Helper::ErrorMark => ("error_mark", helpers::error_mark as *const u8, 1, true),
            Helper::ErrorClear => ("error_clear", helpers::error_clear as *const u8, 1, false),
        }
    }
}

/// Registers the helper symbols with the JIT builder.
pub fn register_symbols(builder: &mut cranelift_jit::JITBuilder) {
    for helper in Helper::ALL {
        let (name, addr, _, _) = helper.spec();
        builder.symbol(name, addr);
    }
}

impl Helpers {
    /// Declares every helper in `module`.
    pub fn declare(module: &mut JITModule) -> Result<Helpers, Box<ModuleError>> {
        let mut ids = Vec::new();
        for helper in Helper::ALL {
            let (name, _, params, returns) = helper.spec();
            let mut sig = module.make_signature();
            for _ in 0..params {
                sig.params.push(AbiParam::new(I64));
            }
            if returns {
                sig.returns.push(AbiParam::new(I64));
            }
            ids.push(
                module
                    .declare_function(name, Linkage::Import, &sig)
                    .map_err(Box::new)?,
            );
        }
        Ok(Helpers { ids })
    }
}

/// Generates the body of one transform function.
pub struct Gen<'b, 'f> {
    b: &'b mut FunctionBuilder<'f>,
    refs: Vec<FuncRef>,
    ctx: Cv,
    num_slot: cranelift_codegen::ir::StackSlot,
    /// Every field the formulas read, with the variables that cache it once read.
    fields: Vec<FieldVars>,
    /// Nodes inside compiled formulas handed to the interpreter (each with its subtree).
    pub interpreted: usize,
    /// Formulas (conditions and mappings) whose root is compiled.
    pub native_roots: usize,
    /// Formulas evaluated by the interpreter as a whole.
    pub interpreted_roots: usize,
}

fn ptr<T>(p: &T) -> i64 {
    p as *const T as i64
}

impl<'b, 'f> Gen<'b, 'f> {
    /// A generator over `b`, whose entry block is current; `ctx` is the context pointer.
    pub fn new(
        b: &'b mut FunctionBuilder<'f>,
        module: &mut JITModule,
        helpers: &Helpers,
        ctx: Cv,
    ) -> Self {
        let refs = helpers
            .ids
            .iter()
            .map(|id| module.declare_func_in_func(*id, b.func))
            .collect();
        let num_slot =
            b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 24, 3));
        Gen {
            b,
            refs,
            ctx,
            num_slot,
            fields: Vec::new(),
            interpreted: 0,
            native_roots: 0,
            interpreted_roots: 0,
        }
    }

    /// Declares, in the entry block, the variables that cache each field the formulas read:
    /// a field is read where it is first used on the path a record takes (a field used only
    /// in a branch not taken is never read), then kept in registers for every later use (a
    /// record's fields do not change while its transform runs).
    pub fn declare_fields<'n>(&mut self, roots: impl Iterator<Item = &'n Node>) {
        let mut pending: Vec<&Node> = roots.collect();
        let numeric = numeric_fields(&pending);
        while let Some(n) = pending.pop() {
            if let NodeKind::Field(p) = &n.kind {
                if !self.fields.iter().any(|f| f.name == p.name) {
                    let zero = self.iconst(0);
                    let var = |b: &mut FunctionBuilder| {
                        let v = b.declare_var(I64);
                        b.def_var(v, zero);
                        v
                    };
                    let mut fields = FieldVars {
                        name: p.name.clone(),
                        read_ahead: false,
                        num_read: var(self.b),
                        status: var(self.b),
                        mantissa: var(self.b),
                        scale: var(self.b),
                        ref_read: var(self.b),
                        at: var(self.b),
                    };
                    if numeric.contains(&p.name) {
                        fields.read_ahead = self.pre_read(&fields, p);
                    }
                    self.fields.push(fields);
                }
            }
            pending.extend(n.children());
        }
    }

    /// Continues in a block where `read` holds, having run `load` first when it did not.
    fn once(&mut self, read: Variable, load: impl FnOnce(&mut Self)) {
        let have = self.b.create_block();
        let fetch = self.b.create_block();
        let flag = self.b.use_var(read);
        self.b.ins().brif(flag, have, &[], fetch, &[]);
        self.enter(fetch);
        load(self);
        let one = self.iconst(1);
        self.b.def_var(read, one);
        self.b.ins().jump(have, &[]);
        self.enter(have);
    }

    /// A field as a number, read on its first use.
    fn field_num(&mut self, p: &crate::value::FieldPath) -> (Cv, Cv, Cv) {
        let Some(f) = self.fields.iter().find(|f| f.name == p.name).cloned() else {
            return self.call_field_num(p);
        };
        if f.read_ahead {
            return (
                self.b.use_var(f.status),
                self.b.use_var(f.mantissa),
                self.b.use_var(f.scale),
            );
        }
        self.once(f.num_read, |g| {
            let (st, m, s) = g.call_field_num(p);
            g.b.def_var(f.status, st);
            g.b.def_var(f.mantissa, m);
            g.b.def_var(f.scale, s);
        });
        (
            self.b.use_var(f.status),
            self.b.use_var(f.mantissa),
            self.b.use_var(f.scale),
        )
    }

    /// Reads field `p` ahead, where the function starts, once per record, so that every use
    /// finds it read without a test: in place when its slot holds a decimal whose mantissa
    /// fits 63 bits (see [`super::layout`]), else through [`helpers::field_num`] (a pure
    /// read). Whether it did: a field not bound to a slot is read at its first use, as
    /// before. Emitted once per field, not per use: the code stays as small as the calls
    /// it saves.
    fn pre_read(&mut self, f: &FieldVars, p: &crate::value::FieldPath) -> bool {
        let slot = p.slots.and_then(|(exact, _)| exact);
        let place =
            slot.and_then(|i| Some((super::layout::number_layout()?, i64::try_from(i).ok()?)));
        let Some((layout, index)) = place else {
            return false;
        };
        let mem = MemFlagsData::trusted();
        let done = self.b.create_block();
        let slow = self.b.create_block();
        let (check_tag, check_size, fast) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        let len_at = std::mem::offset_of!(helpers::JitCtx, slots_len) as i32;
        let len = self.b.ins().load(I64, mem, self.ctx, len_at);
        let inside = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, len, index);
        self.b.ins().brif(inside, check_tag, &[], slow, &[]);
        self.enter(check_tag);
        let slots_at = std::mem::offset_of!(helpers::JitCtx, slots) as i32;
        let slots = self.b.ins().load(I64, mem, self.ctx, slots_at);
        let at = self
            .b
            .ins()
            .iadd_imm_s(slots, index * i64::from(layout.stride));
        let tag = self.b.ins().uload8(I64, mem, at, 0);
        let number = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, tag, i64::from(layout.tag));
        self.b.ins().brif(number, check_size, &[], slow, &[]);
        self.enter(check_size);
        let word = |g: &mut Self, offset: i32| g.b.ins().uload32(mem, at, offset);
        let (flags, hi, mid, lo) = (
            word(self, layout.flags),
            word(self, layout.hi),
            word(self, layout.mid),
            word(self, layout.lo),
        );
        // fits an i64 (no high word, middle word below 2^31), and is not a negative zero
        let high = self.b.ins().ishl_imm_u(mid, 32);
        let magnitude = self.b.ins().bor(high, lo);
        let negative = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedGreaterThan, flags, 0x7FFF_FFFF);
        let too_wide = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, high, 0);
        let hi_set = self.b.ins().icmp_imm_s(IntCC::NotEqual, hi, 0);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, magnitude, 0);
        let negative_zero = self.b.ins().band(zero, negative);
        let refused = self.b.ins().bor(too_wide, hi_set);
        let refused = self.b.ins().bor(refused, negative_zero);
        self.b.ins().brif(refused, slow, &[], fast, &[]);
        self.enter(fast);
        let flipped = self.b.ins().ineg(magnitude);
        let mantissa = self.b.ins().select(negative, flipped, magnitude);
        let scale = self.b.ins().ushr_imm_u(flags, 16);
        let scale = self.b.ins().band_imm_u(scale, 0xFF);
        let ok = self.iconst(NUM_OK);
        for (var, value) in [(f.status, ok), (f.mantissa, mantissa), (f.scale, scale)] {
            self.b.def_var(var, value);
        }
        self.b.ins().jump(done, &[]);
        self.enter(slow);
        let (st, m, s) = self.call_field_num(p);
        for (var, value) in [(f.status, st), (f.mantissa, m), (f.scale, s)] {
            self.b.def_var(var, value);
        }
        self.b.ins().jump(done, &[]);
        self.enter(done);
        true
    }

    /// Writes a number (or null) to the output value at `out` as [`helpers::box_num`] does
    /// (its result: 0, or 1 when the number cannot be formed): in place when the value
    /// there is a number or null (nothing to drop) and the result a number of a valid
    /// scale, else through the helper.
    fn box_num(&mut self, (st, m, s): (Cv, Cv, Cv), out: Cv) -> Cv {
        let Some(layout) = super::layout::number_layout() else {
            let zero = self.iconst(0);
            return self.call(Helper::BoxNum, &[st, m, s, out]).unwrap_or(zero);
        };
        let mem = MemFlagsData::trusted();
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        let (write, slow) = (self.b.create_block(), self.b.create_block());
        let tag = self.b.ins().uload8(I64, mem, out, 0);
        let was_number = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, tag, i64::from(layout.tag));
        let was_null = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, tag, i64::from(layout.null_tag));
        let droppable = self.b.ins().bor(was_number, was_null);
        let number = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_OK);
        let scale_ok = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, s, 28);
        let in_place = self.b.ins().band(droppable, number);
        let in_place = self.b.ins().band(in_place, scale_ok);
        self.b.ins().brif(in_place, write, &[], slow, &[]);
        self.enter(write);
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, m, 0);
        let magnitude = self.b.ins().iabs(m);
        let sign = self.b.ins().uextend(I64, negative);
        let sign = self.b.ins().ishl_imm_u(sign, 31);
        let places = self.b.ins().ishl_imm_u(s, 16);
        let flags = self.b.ins().bor(sign, places);
        let mid = self.b.ins().ushr_imm_u(magnitude, 32);
        let words = [
            (flags, layout.flags),
            (self.iconst(0), layout.hi),
            (mid, layout.mid),
            (magnitude, layout.lo),
        ];
        for (word, at) in words {
            let word = self.b.ins().ireduce(types::I32, word);
            self.b.ins().store(mem, word, out, at);
        }
        let tag = self.b.ins().iconst(types::I8, i64::from(layout.tag));
        self.b.ins().store(mem, tag, out, 0);
        let zero = self.iconst(0);
        self.b.ins().jump(merge, &[zero.into()]);
        self.enter(slow);
        let zero = self.iconst(0);
        let r = self.call(Helper::BoxNum, &[st, m, s, out]).unwrap_or(zero);
        self.close_one(merge, r)
    }

    /// Reads a field as a number through [`helpers::field_num`].
    fn call_field_num(&mut self, p: &crate::value::FieldPath) -> (Cv, Cv, Cv) {
        let path = self.iconst(ptr(p));
        let slot = self.slot_addr();
        self.call(Helper::FieldNum, &[self.ctx, path, slot]);
        self.load_num()
    }

    /// Where a field's value is (never 0), found on its first use.
    fn field_ref(&mut self, p: &crate::value::FieldPath) -> Cv {
        let zero = self.iconst(0);
        let Some(f) = self.fields.iter().find(|f| f.name == p.name).cloned() else {
            let path = self.iconst(ptr(p));
            return self
                .call(Helper::FieldRef, &[self.ctx, path])
                .unwrap_or(zero);
        };
        self.once(f.ref_read, |g| {
            let path = g.iconst(ptr(p));
            let at = g.call(Helper::FieldRef, &[g.ctx, path]).unwrap_or(zero);
            g.b.def_var(f.at, at);
        });
        self.b.use_var(f.at)
    }

    /// Calls `helper`; its result, for a helper that returns one.
    fn call(&mut self, helper: Helper, args: &[Cv]) -> Option<Cv> {
        if matches!(helper, Helper::InterpNum | Helper::InterpBool) {
            self.interpreted += 1;
        }
        let f = *self.refs.get(helper as usize)?;
        let inst = self.b.ins().call(f, args);
        self.b.inst_results(inst).first().copied()
    }

    /// Continues in `block`, all of whose predecessors are written (it is sealed).
    fn enter(&mut self, block: cranelift_codegen::ir::Block) {
        self.b.switch_to_block(block);
        self.b.seal_block(block);
    }

    fn iconst(&mut self, v: i64) -> Cv {
        self.b.ins().iconst(I64, v)
    }

    fn slot_addr(&mut self) -> Cv {
        self.b.ins().stack_addr(I64, self.num_slot, 0)
    }

    fn load_num(&mut self) -> (Cv, Cv, Cv) {
        let st = self.b.ins().stack_load(I64, I64, self.num_slot, 0);
        let m = self.b.ins().stack_load(I64, I64, self.num_slot, 8);
        let s = self.b.ins().stack_load(I64, I64, self.num_slot, 16);
        (st, m, s)
    }

    fn interp_num(&mut self, n: &Node) -> (Cv, Cv, Cv) {
        let node = self.iconst(ptr(n));
        let slot = self.slot_addr();
        self.call(Helper::InterpNum, &[self.ctx, node, slot]);
        self.load_num()
    }

    fn interp_bool(&mut self, n: &Node) -> Cv {
        let node = self.iconst(ptr(n));
        self.call(Helper::InterpBool, &[self.ctx, node])
            .unwrap_or_else(|| self.b.ins().iconst(I64, B_BAIL))
    }

    /// A block with three i64 parameters, the merge point of numeric branches.
    fn num_merge(&mut self) -> cranelift_codegen::ir::Block {
        let block = self.b.create_block();
        for _ in 0..3 {
            self.b.append_block_param(block, I64);
        }
        block
    }

    fn params3(&mut self, block: cranelift_codegen::ir::Block) -> (Cv, Cv, Cv) {
        match self.b.block_params(block) {
            [a, b, c] => (*a, *b, *c),
            _ => {
                let z = self.iconst(0);
                (z, z, z)
            }
        }
    }

    /// Jumps to `merge` with a number, continues there, and gives its parameters.
    fn close_num(
        &mut self,
        merge: cranelift_codegen::ir::Block,
        (s, m, x): (Cv, Cv, Cv),
    ) -> (Cv, Cv, Cv) {
        self.b.ins().jump(merge, &[s.into(), m.into(), x.into()]);
        self.enter(merge);
        self.params3(merge)
    }

    /// Jumps to `merge` with one value, continues there, and gives its parameter.
    fn close_one(&mut self, merge: cranelift_codegen::ir::Block, v: Cv) -> Cv {
        self.b.ins().jump(merge, &[v.into()]);
        self.enter(merge);
        self.param0(merge)
    }

    /// The first parameter of a block (every merge block here has one).
    fn param0(&mut self, block: cranelift_codegen::ir::Block) -> Cv {
        match self.b.block_params(block).first() {
            Some(v) => *v,
            None => self.iconst(0),
        }
    }

    /// When `cond` holds, continues in a new block (current on return) that computes a
    /// replacement; otherwise passes `value` on to `merge` unchanged.
    fn compute_if(
        &mut self,
        cond: Cv,
        (st, m, s): (Cv, Cv, Cv),
        merge: cranelift_codegen::ir::Block,
    ) {
        let compute = self.b.create_block();
        let pass = self.b.create_block();
        self.b.ins().brif(cond, compute, &[], pass, &[]);
        self.enter(pass);
        self.b.ins().jump(merge, &[st.into(), m.into(), s.into()]);
        self.enter(compute);
    }

    /// True for nodes `num` compiles natively.
    pub fn num_native(n: &Node) -> bool {
        if may_outgrow_unboxed(n) {
            return false;
        }
        match &n.kind {
            NodeKind::Const(Value::Number(d)) => helpers::split(*d).is_some(),
            NodeKind::Const(Value::Null) | NodeKind::Field(_) | NodeKind::Neg(_) => true,
            NodeKind::Binary(
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Coalesce,
                _,
                _,
            ) => true,
            NodeKind::Call(f, args) => match (f.name, args.as_slice()) {
                (name, [_]) if fixed_round_mode(name).is_some() => true,
                (name, [_, d]) if fixed_round_mode(name).is_some() && takes_places(name) => {
                    matches!(d.as_const(), Some(Value::Number(_)))
                }
                ("round", [_]) => true,
                ("round", [_, d]) => matches!(d.as_const(), Some(Value::Number(_))),
                ("mod", [a, b]) => {
                    a.ty.intersects(TypeSet::NUMBER) && b.ty.intersects(TypeSet::NUMBER)
                }
                ("round", [_, d, m]) => {
                    matches!(d.as_const(), Some(Value::Number(_))) && round_mode_index(m).is_some()
                }
                ("if", [_, _, ..]) => true,
                ("abs", [x]) => x.ty.intersects(TypeSet::NUMBER),
                ("number", [x]) => Self::value_native(x),
                ("iferror", [_, _]) => true,
                ("min" | "max", [a, b]) => {
                    a.ty.intersects(TypeSet::NUMBER) && b.ty.intersects(TypeSet::NUMBER)
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// True for nodes `boolean` compiles natively.
    pub fn bool_native(n: &Node) -> bool {
        match &n.kind {
            NodeKind::Const(Value::Bool(_) | Value::Null) | NodeKind::Not(_) => true,
            NodeKind::Binary(BinaryOp::And | BinaryOp::Or, _, _) => true,
            NodeKind::Binary(op, a, b) if op.is_comparison() => {
                (numeric_pair(a, b) && !may_outgrow_unboxed(a) && !may_outgrow_unboxed(b))
                    || (Self::value_native(a) && Self::value_native(b))
            }
            NodeKind::Field(_) => n.ty.non_null() == TypeSet::BOOLEAN,
            NodeKind::Call(f, args) => match (f.name, args.as_slice()) {
                ("isblank" | "isnull", [x]) => Self::value_native(x),
                _ => false,
            },
            _ => false,
        }
    }

    /// True for nodes `value` compiles natively: values of any type that are passed on as
    /// they are (constants, fields, and the functions that choose among them).
    pub fn value_native(n: &Node) -> bool {
        match &n.kind {
            NodeKind::Const(_) | NodeKind::Field(_) => true,
            NodeKind::Binary(BinaryOp::Coalesce, a, b) => {
                Self::value_native(a) && Self::value_native(b)
            }
            NodeKind::Call(f, args) => match (f.name, args.as_slice()) {
                ("coalesce", [_, ..]) => args.iter().all(Self::value_native),
                ("if", [_, then, rest @ ..]) if rest.len() <= 1 => {
                    Self::value_native(then) && rest.iter().all(Self::value_native)
                }
                ("ifs", [_, _, ..]) => args
                    .iter()
                    .enumerate()
                    .all(|(i, a)| i % 2 == 0 && i + 1 < args.len() || Self::value_native(a)),
                ("switch", [_, _, ..]) => args.iter().all(Self::value_native),
                // a passed-on value cannot fail (a condition that does bails instead)
                ("iferror", [x, _]) => Self::value_native(x),
                _ => false,
            },
            _ => false,
        }
    }

    /// Where a value of any type is: a pointer to a constant of the IR or to a value in the
    /// record; 0 when it cannot be had natively (the formula then goes to the interpreter).
    pub fn value(&mut self, n: &Node) -> Cv {
        match &n.kind {
            NodeKind::Const(v) => self.iconst(ptr(v)),
            NodeKind::Field(p) => self.field_ref(p),
            NodeKind::Binary(BinaryOp::Coalesce, a, b) => self.first_not_null(&[a, b]),
            NodeKind::Call(f, args) if f.name == "coalesce" && Self::value_native(n) => {
                let args: Vec<&Node> = args.iter().collect();
                self.first_not_null(&args)
            }
            NodeKind::Call(f, args) if f.name == "if" && Self::value_native(n) => {
                let (Some(c), Some(then)) = (args.first(), args.get(1)) else {
                    return self.iconst(0);
                };
                self.choose(&[(c, then)], args.get(2))
            }
            NodeKind::Call(f, args) if f.name == "ifs" && Self::value_native(n) => {
                let pairs: Vec<(&Node, &Node)> = args
                    .chunks_exact(2)
                    .filter_map(|p| Some((p.first()?, p.get(1)?)))
                    .collect();
                let default = (args.len() % 2 == 1).then(|| args.last()).flatten();
                self.choose(&pairs, default)
            }
            NodeKind::Call(f, args) if f.name == "switch" && Self::value_native(n) => {
                self.switch(args)
            }
            NodeKind::Call(f, args) if f.name == "iferror" && Self::value_native(n) => {
                match args.first() {
                    Some(x) => self.value(x),
                    None => self.iconst(0),
                }
            }
            _ => self.iconst(0),
        }
    }

    /// The first of `nodes` that is not null (or the last, null), lazily as `coalesce`.
    fn first_not_null(&mut self, nodes: &[&Node]) -> Cv {
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        let Some((last, init)) = nodes.split_last() else {
            return self.iconst(0);
        };
        for n in init {
            let at = self.value(n);
            let next = self.b.create_block();
            let check = self.b.create_block();
            // a bail (0) goes straight to the merge and bails there
            self.b.ins().brif(at, check, &[], merge, &[at.into()]);
            self.enter(check);
            let zero = self.iconst(0);
            let null = self.call(Helper::ValIsNull, &[at]).unwrap_or(zero);
            self.b.ins().brif(null, next, &[], merge, &[at.into()]);
            self.enter(next);
        }
        let at = self.value(last);
        self.close_one(merge, at)
    }

    /// The value of the first pair whose condition is true (conditions in order, lazily,
    /// as `if` and `ifs`), else the default, else null; a bail when a condition bails.
    fn choose(&mut self, pairs: &[(&Node, &Node)], default: Option<&Node>) -> Cv {
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        for (c, v) in pairs {
            let code = self.boolean(c);
            let then_b = self.b.create_block();
            let not_true = self.b.create_block();
            let next = self.b.create_block();
            let is_true = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_TRUE);
            self.b.ins().brif(is_true, then_b, &[], not_true, &[]);
            self.enter(not_true);
            let is_bail = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_BAIL);
            let bail = self.iconst(0);
            self.b.ins().brif(is_bail, merge, &[bail.into()], next, &[]);
            self.enter(then_b);
            let at = self.value(v);
            self.b.ins().jump(merge, &[at.into()]);
            self.enter(next);
        }
        let at = match default {
            Some(d) => self.value(d),
            None => self.iconst(ptr(&NULL_CONST)),
        };
        self.close_one(merge, at)
    }

    /// `switch(subject, key, value, ..., default?)`: the value after the first key equal to
    /// the subject (plain equality, keys in order, lazily), else the default, else null.
    fn switch(&mut self, args: &[Node]) -> Cv {
        let Some((subject, rest)) = args.split_first() else {
            return self.iconst(0);
        };
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        let s = self.value(subject);
        let go = self.b.create_block();
        self.b.ins().brif(s, go, &[], merge, &[s.into()]);
        self.enter(go);
        for pair in rest.chunks_exact(2) {
            let (Some(key), Some(v)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let k = self.value(key);
            let compare = self.b.create_block();
            self.b.ins().brif(k, compare, &[], merge, &[k.into()]);
            self.enter(compare);
            let eq = self.iconst(0);
            let code = self.call(Helper::ValCmp, &[eq, s, k]).unwrap_or(eq);
            let then_b = self.b.create_block();
            let next = self.b.create_block();
            let is_true = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_TRUE);
            self.b.ins().brif(is_true, then_b, &[], next, &[]);
            self.enter(then_b);
            let at = self.value(v);
            self.b.ins().jump(merge, &[at.into()]);
            self.enter(next);
        }
        let at = match (rest.len() % 2, rest.last()) {
            (1, Some(default)) => self.value(default),
            _ => self.iconst(ptr(&NULL_CONST)),
        };
        self.close_one(merge, at)
    }

    /// A boolean code from a helper over value pointers, or a bail when one of them is 0.
    fn over_values(&mut self, at: &[Cv], helper: Helper, extra: Option<Cv>) -> Cv {
        let merge = self.b.create_block();
        self.b.append_block_param(merge, I64);
        let mut any_bail = None;
        for p in at {
            let bail = self.b.ins().icmp_imm_s(IntCC::Equal, *p, 0);
            any_bail = Some(match any_bail {
                Some(before) => self.b.ins().bor(before, bail),
                None => bail,
            });
        }
        let Some(any_bail) = any_bail else {
            return self.iconst(B_BAIL);
        };
        let go = self.b.create_block();
        let bail_c = self.iconst(B_BAIL);
        self.b
            .ins()
            .brif(any_bail, merge, &[bail_c.into()], go, &[]);
        self.enter(go);
        let mut args: Vec<Cv> = extra.into_iter().collect();
        args.extend_from_slice(at);
        let zero = self.iconst(B_BAIL);
        let r = self.call(helper, &args).unwrap_or(zero);
        self.close_one(merge, r)
    }

    /// A number: (status, mantissa, scale). A node whose native result is not
    /// representable (a bail) is evaluated by the interpreter — that node only, not the
    /// formula — and an error anywhere is carried up as [`NUM_ERR`].
    pub fn num(&mut self, n: &Node) -> (Cv, Cv, Cv) {
        if !Self::num_native(n) {
            return self.interp_num(n);
        }
        let r = self.num_unboxed(n);
        match &n.kind {
            NodeKind::Const(_) | NodeKind::Field(_) => r,
            _ => self.recover(n, r),
        }
    }

    /// A bail of `n`'s native result replaced by what the interpreter makes of `n`.
    fn recover(&mut self, n: &Node, (st, m, s): (Cv, Cv, Cv)) -> (Cv, Cv, Cv) {
        let merge = self.num_merge();
        let bailed = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_BAIL);
        self.compute_if(bailed, (st, m, s), merge);
        let r = self.interp_num(n);
        self.close_num(merge, r)
    }

    fn num_unboxed(&mut self, n: &Node) -> (Cv, Cv, Cv) {
        match &n.kind {
            NodeKind::Const(Value::Number(d)) => match helpers::split(*d) {
                Some((m, s)) => (self.iconst(NUM_OK), self.iconst(m), self.iconst(s)),
                None => self.interp_num(n),
            },
            NodeKind::Const(_) => (self.iconst(NUM_NULL), self.iconst(0), self.iconst(0)),
            NodeKind::Field(p) => self.field_num(p),
            NodeKind::Neg(e) => {
                let (st, m, s) = self.num(e);
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, m, 0);
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, m, i64::MIN);
                let awkward = self.b.ins().bor(zero, min);
                let bail = self.iconst(NUM_BAIL);
                let ok_st = self.b.ins().select(awkward, bail, st);
                let is_ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_OK);
                let st2 = self.b.ins().select(is_ok, ok_st, st);
                let neg = self.b.ins().ineg(m);
                (st2, neg, s)
            }
            NodeKind::Binary(BinaryOp::Coalesce, a, b) => {
                let (sa, ma, xa) = self.num(a);
                let merge = self.num_merge();
                let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, sa, NUM_NULL);
                self.compute_if(is_null, (sa, ma, xa), merge);
                let (sb, mb, xb) = self.num(b);
                self.close_num(merge, (sb, mb, xb))
            }
            NodeKind::Binary(BinaryOp::Div, a, b) if terminating_divisor(b).is_some() => {
                let divisor = terminating_divisor(b).unwrap_or_default();
                let x = self.num(a);
                self.div_terminating(x, divisor, b)
            }
            NodeKind::Binary(op, a, b) => {
                let (sa, ma, xa) = self.num(a);
                let (sb, mb, xb) = self.num(b);
                self.arith(*op, (sa, ma, xa), (sb, mb, xb))
            }
            NodeKind::Call(f, args) if f.name == "iferror" => {
                let [x, alt] = args.as_slice() else {
                    return self.interp_num(n);
                };
                let zero = self.iconst(0);
                let before = self.call(Helper::ErrorMark, &[self.ctx]).unwrap_or(zero);
                let r = self.num(x);
                let merge = self.num_merge();
                let failed = self.b.ins().icmp_imm_s(IntCC::Equal, r.0, NUM_ERR);
                self.compute_if(failed, r, merge);
                // forget the error x made (not one kept before it), then the alternative
                let clear = self.b.create_block();
                let go_on = self.b.create_block();
                self.b.ins().brif(before, go_on, &[], clear, &[]);
                self.enter(clear);
                self.call(Helper::ErrorClear, &[self.ctx]);
                self.b.ins().jump(go_on, &[]);
                self.enter(go_on);
                let other = self.num(alt);
                self.close_num(merge, other)
            }
            NodeKind::Call(f, args) if f.name == "number" => {
                let Some(x) = args.first() else {
                    return self.interp_num(n);
                };
                let at = self.value(x);
                let merge = self.num_merge();
                let bail = (self.iconst(NUM_BAIL), self.iconst(0), self.iconst(0));
                let present = self.b.ins().icmp_imm_s(IntCC::NotEqual, at, 0);
                self.compute_if(present, bail, merge);
                let slot = self.slot_addr();
                self.call(Helper::ValNumber, &[at, slot]);
                let r = self.load_num();
                self.close_num(merge, r)
            }
            NodeKind::Call(f, args) if f.name == "abs" => {
                let Some(x) = args.first() else {
                    return self.interp_num(n);
                };
                let (st, m, s) = self.num(x);
                // |i64::MIN| does not fit: the interpreter takes it.
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, m, i64::MIN);
                let is_ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_OK);
                let awkward = self.b.ins().band(min, is_ok);
                let bail = self.iconst(NUM_BAIL);
                let st = self.b.ins().select(awkward, bail, st);
                let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, m, 0);
                let flipped = self.b.ins().ineg(m);
                let m = self.b.ins().select(negative, flipped, m);
                (st, m, s)
            }
            NodeKind::Call(f, args) if f.name == "min" || f.name == "max" => {
                let [a, b] = args.as_slice() else {
                    return self.interp_num(n);
                };
                let (sa, ma, xa) = self.num(a);
                let (sb, mb, xb) = self.num(b);
                let ord = self.cmp3((ma, xa), (mb, xb));
                // As the function does over [a, b]: min keeps the first of equals, max the
                // last; nulls are skipped; a bail on either side bails.
                let pick_a = if f.name == "min" {
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::SignedLessThanOrEqual, ord, 0)
                } else {
                    self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, ord, 0)
                };
                let a_ok = self.b.ins().icmp_imm_s(IntCC::Equal, sa, NUM_OK);
                let b_ok = self.b.ins().icmp_imm_s(IntCC::Equal, sb, NUM_OK);
                let b_null = self.b.ins().icmp_imm_s(IntCC::Equal, sb, NUM_NULL);
                let b_ok_and_a_wins = self.b.ins().band(b_ok, pick_a);
                let b_out = self.b.ins().bor(b_null, b_ok_and_a_wins);
                let choose_a = self.b.ins().band(a_ok, b_out);
                // an error or a bail on either side wins (the larger status)
                let worst = self.b.ins().smax(sa, sb);
                let either_bad =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, worst, NUM_BAIL);
                let st = self.b.ins().select(choose_a, sa, sb);
                let st = self.b.ins().select(either_bad, worst, st);
                let m = self.b.ins().select(choose_a, ma, mb);
                let s = self.b.ins().select(choose_a, xa, xb);
                (st, m, s)
            }
            NodeKind::Call(f, args) if f.name == "mod" => {
                let [a, b] = args.as_slice() else {
                    return self.interp_num(n);
                };
                let (sa, ma, xa) = self.num(a);
                let (sb, mb, xb) = self.num(b);
                let merge = self.num_merge();
                self.when_both_numbers(sa, sb, merge);
                let slot = self.slot_addr();
                self.call(Helper::DecMod, &[ma, xa, mb, xb, slot]);
                let r = self.load_num();
                self.close_num(merge, r)
            }
            NodeKind::Call(f, args) if f.name == "round" || fixed_round_mode(f.name).is_some() => {
                if args.len() > 1 && f.name != "round" && !takes_places(f.name) {
                    return self.interp_num(n);
                }
                let digits = match args.get(1).and_then(Node::as_const) {
                    Some(Value::Number(d)) if !d.fract().is_zero() => return self.interp_num(n),
                    Some(Value::Number(d)) => match i64::try_from(*d) {
                        Ok(d) if d.unsigned_abs() <= 28 => d,
                        _ => return self.interp_num(n),
                    },
                    _ => 0,
                };
                let mode = fixed_round_mode(f.name)
                    .or_else(|| args.get(2).and_then(round_mode_index))
                    .unwrap_or(0);
                let Some(x) = args.first() else {
                    return self.interp_num(n);
                };
                if let NodeKind::Binary(BinaryOp::Div, a, b) = &x.kind {
                    return self.div_round((a, b), None, digits, mode);
                }
                if let Some((a, b, k)) = ratio_times_constant(x) {
                    return self.div_round((a, b), Some(k), digits, mode);
                }
                let (st, m, s) = self.num(x);
                if digits >= 0 {
                    return self.round_inline((st, m, s), digits, mode);
                }
                let merge = self.num_merge();
                let ok = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_OK);
                self.compute_if(ok, (st, m, s), merge);
                let d = self.iconst(digits);
                let md = self.iconst(i64::try_from(mode).unwrap_or(0));
                let slot = self.slot_addr();
                self.call(Helper::DecRound, &[m, s, d, md, slot]);
                let (rs, rm, rx) = self.load_num();
                self.close_num(merge, (rs, rm, rx))
            }
            NodeKind::Call(_, args) => {
                // if(condition, then, else?)
                let (Some(c), Some(then)) = (args.first(), args.get(1)) else {
                    return self.interp_num(n);
                };
                let code = self.boolean(c);
                let merge = self.num_merge();
                let then_b = self.b.create_block();
                let not_true = self.b.create_block();
                let else_b = self.b.create_block();
                let bail_b = self.b.create_block();
                let is_true = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_TRUE);
                self.b.ins().brif(is_true, then_b, &[], not_true, &[]);
                self.enter(not_true);
                let is_bail = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_BAIL);
                self.b.ins().brif(is_bail, bail_b, &[], else_b, &[]);
                self.enter(then_b);
                let (s1, m1, x1) = self.num(then);
                self.b.ins().jump(merge, &[s1.into(), m1.into(), x1.into()]);
                self.enter(else_b);
                let (s2, m2, x2) = match args.get(2) {
                    Some(e) => self.num(e),
                    None => (self.iconst(NUM_NULL), self.iconst(0), self.iconst(0)),
                };
                self.b.ins().jump(merge, &[s2.into(), m2.into(), x2.into()]);
                self.enter(bail_b);
                let (s3, m3, x3) = (self.iconst(NUM_BAIL), self.iconst(0), self.iconst(0));
                self.close_num(merge, (s3, m3, x3))
            }
            _ => self.interp_num(n),
        }
    }

    /// Branches on both operands being numbers. Returns the block where both are, and
    /// leaves the builder in the other path with the worse status (error over bail over
    /// null: the larger).
    fn unless_both_numbers(&mut self, sa: Cv, sb: Cv) -> (cranelift_codegen::ir::Block, Cv) {
        let both_ok_b = self.b.create_block();
        let not_ok_b = self.b.create_block();
        let any = self.b.ins().bor(sa, sb);
        let both_ok = self.b.ins().icmp_imm_s(IntCC::Equal, any, NUM_OK);
        self.b.ins().brif(both_ok, both_ok_b, &[], not_ok_b, &[]);
        self.enter(not_ok_b);
        (both_ok_b, self.b.ins().smax(sa, sb))
    }

    /// Continues only when both statuses are numbers; otherwise jumps to `merge` with the
    /// worse status (an error, a bail, or null).
    fn when_both_numbers(&mut self, sa: Cv, sb: Cv, merge: cranelift_codegen::ir::Block) {
        let (both_ok_b, st) = self.unless_both_numbers(sa, sb);
        let zero = self.iconst(0);
        self.b
            .ins()
            .jump(merge, &[st.into(), zero.into(), zero.into()]);
        self.enter(both_ok_b);
    }

    /// A boolean code: false, true, null or bail.
    pub fn boolean(&mut self, n: &Node) -> Cv {
        if !Self::bool_native(n) {
            return self.interp_bool(n);
        }
        match &n.kind {
            NodeKind::Const(Value::Bool(v)) => self.iconst(if *v { B_TRUE } else { B_FALSE }),
            NodeKind::Const(_) => self.iconst(B_NULL),
            NodeKind::Not(e) => {
                let c = self.boolean(e);
                let is_false = self.b.ins().icmp_imm_s(IntCC::Equal, c, B_FALSE);
                let is_true = self.b.ins().icmp_imm_s(IntCC::Equal, c, B_TRUE);
                let t = self.iconst(B_TRUE);
                let f = self.iconst(B_FALSE);
                let x = self.b.ins().select(is_true, f, c);
                self.b.ins().select(is_false, t, x)
            }
            NodeKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) => {
                let (stop, stop_code) = if *op == BinaryOp::And {
                    (B_FALSE, B_FALSE)
                } else {
                    (B_TRUE, B_TRUE)
                };
                let ca = self.boolean(a);
                let merge = self.b.create_block();
                self.b.append_block_param(merge, I64);
                let rhs = self.b.create_block();
                let short = self.b.create_block();
                let check_bail = self.b.create_block();
                let stops = self.b.ins().icmp_imm_s(IntCC::Equal, ca, stop);
                self.b.ins().brif(stops, short, &[], check_bail, &[]);
                self.enter(short);
                let sc = self.iconst(stop_code);
                self.b.ins().jump(merge, &[sc.into()]);
                self.enter(check_bail);
                let a_bail = self.b.ins().icmp_imm_s(IntCC::Equal, ca, B_BAIL);
                let bail_c = self.iconst(B_BAIL);
                self.b.ins().brif(a_bail, merge, &[bail_c.into()], rhs, &[]);
                self.enter(rhs);
                let cb = self.boolean(b);
                // cb bail → bail; cb == stop → stop; both "go on" values true (and) /
                // false (or) → that; otherwise null.
                let go_on = if *op == BinaryOp::And {
                    B_TRUE
                } else {
                    B_FALSE
                };
                let b_bail = self.b.ins().icmp_imm_s(IntCC::Equal, cb, B_BAIL);
                let b_stop = self.b.ins().icmp_imm_s(IntCC::Equal, cb, stop);
                let a_go = self.b.ins().icmp_imm_s(IntCC::Equal, ca, go_on);
                let b_go = self.b.ins().icmp_imm_s(IntCC::Equal, cb, go_on);
                let both_go = self.b.ins().band(a_go, b_go);
                let go_c = self.iconst(go_on);
                let null_c = self.iconst(B_NULL);
                let stop_c = self.iconst(stop_code);
                let bail_c = self.iconst(B_BAIL);
                let r = self.b.ins().select(both_go, go_c, null_c);
                let r = self.b.ins().select(b_stop, stop_c, r);
                let r = self.b.ins().select(b_bail, bail_c, r);
                self.close_one(merge, r)
            }
            NodeKind::Binary(op, a, b)
                if numeric_pair(a, b) && !may_outgrow_unboxed(a) && !may_outgrow_unboxed(b) =>
            {
                let (sa, ma, xa) = self.num(a);
                let (sb, mb, xb) = self.num(b);
                self.compare(*op, (sa, ma, xa), (sb, mb, xb))
            }
            NodeKind::Binary(op, a, b) => {
                let Some(index) = helpers::COMPARISONS.iter().position(|c| c == op) else {
                    return self.interp_bool(n);
                };
                let pa = self.value(a);
                let pb = self.value(b);
                let op = self.iconst(i64::try_from(index).unwrap_or(0));
                self.over_values(&[pa, pb], Helper::ValCmp, Some(op))
            }
            NodeKind::Field(p) => {
                let at = self.field_ref(p);
                self.over_values(&[at], Helper::ValTruth, None)
            }
            NodeKind::Call(f, args) => {
                let Some(x) = args.first() else {
                    return self.interp_bool(n);
                };
                let at = self.value(x);
                let helper = if f.name == "isblank" {
                    Helper::ValBlank
                } else {
                    Helper::ValIsNull
                };
                // 0 / 1 are B_FALSE / B_TRUE
                self.over_values(&[at], helper, None)
            }
            _ => self.interp_bool(n),
        }
    }

    /// Writes the value of `n` to `out` (a `*mut Value`); returns 0, or 1 on an error (kept
    /// in the context).
    pub fn root(&mut self, n: &Node, out: Cv) -> Cv {
        let zero = self.iconst(0);
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let numeric =
            n.ty.non_null().contains(TypeSet::NUMBER) && n.ty.non_null() == TypeSet::NUMBER;
        let boolean = n.ty.non_null() == TypeSet::BOOLEAN;
        // a number or boolean chosen among values (`ifs`, `switch` returning constants) is
        // passed on as it is, unboxed, where it is not computed natively
        let passed_on = Self::value_native(n)
            && !(numeric && Self::num_native(n))
            && !(boolean && Self::bool_native(n));
        let text_of_number = match &n.kind {
            NodeKind::Call(f, args) if f.name == "text" => match args.as_slice() {
                [x] if x.ty.non_null() == TypeSet::NUMBER && Self::num_native(x) => Some(x),
                _ => None,
            },
            _ => None,
        };
        // a tree of eager calls over fields and constants (`lower(trim(data('email')))`) is
        // called directly, without the interpreter's steps; it is not compiled code, so it
        // counts as interpreted (`auto` does not compile a transform of only such roots)
        let direct_calls = match &n.kind {
            NodeKind::Call(..) => Interpreter::calls_only(n),
            _ => None,
        };
        let quotient = Self::quotient_root(n);
        if (numeric && Self::num_native(n))
            || (boolean && Self::bool_native(n))
            || passed_on
            || text_of_number.is_some()
            || quotient.is_some()
        {
            self.native_roots += 1;
        } else {
            self.interpreted_roots += 1;
        }
        let number = match text_of_number {
            Some(x) => Some(x),
            None if numeric && Self::num_native(n) => Some(n),
            None => None,
        };
        if let Some(x) = number {
            let (st, m, s) = self.num(x);
            let fallback = self.b.create_block();
            self.past_failure(st, done, fallback);
            let writer = match text_of_number {
                Some(_) => Helper::OutTextNum,
                None => Helper::BoxNum,
            };
            let r = match writer {
                Helper::BoxNum => self.box_num((st, m, s), out),
                _ => self.call(writer, &[st, m, s, out]).unwrap_or(zero),
            };
            let failed = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
            self.b
                .ins()
                .brif(failed, fallback, &[], done, &[zero.into()]);
            self.fall_back(fallback, n, out, done);
        } else if boolean && Self::bool_native(n) {
            let code = self.boolean(n);
            let fallback = self.b.create_block();
            let boxed = self.b.create_block();
            let is_bail = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_BAIL);
            self.b.ins().brif(is_bail, fallback, &[], boxed, &[]);
            self.enter(boxed);
            self.call(Helper::BoxBool, &[code, out]);
            self.b.ins().jump(done, &[zero.into()]);
            self.fall_back(fallback, n, out, done);
        } else if passed_on {
            let at = self.value(n);
            let fallback = self.b.create_block();
            let copy = self.b.create_block();
            self.b.ins().brif(at, copy, &[], fallback, &[]);
            self.enter(copy);
            self.call(Helper::OutConst, &[at, out]);
            self.b.ins().jump(done, &[zero.into()]);
            self.fall_back(fallback, n, out, done);
        } else if let Some((a, b)) = quotient {
            self.divide_into(n, (a, b), out, done);
        } else if let Some(nodes) = direct_calls {
            let node = self.iconst(ptr(n));
            let nodes = self.iconst(i64::try_from(nodes).unwrap_or(i64::MAX));
            let r = self
                .call(Helper::CallRoot, &[self.ctx, node, nodes, out])
                .unwrap_or(zero);
            self.b.ins().jump(done, &[r.into()]);
        } else {
            self.whole_root(n, out, done, false);
        }
        self.enter(done);
        self.param0(done)
    }

    /// Branches on a root's number status `st`: an error ends the mapping (to `done` with
    /// 1, the error kept in the context), a bail goes to `fallback`; a number or null
    /// continues in a new block.
    fn past_failure(
        &mut self,
        st: Cv,
        done: cranelift_codegen::ir::Block,
        fallback: cranelift_codegen::ir::Block,
    ) {
        let not_failed = self.b.create_block();
        let rest = self.b.create_block();
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_ERR);
        let one = self.iconst(1);
        self.b
            .ins()
            .brif(failed, done, &[one.into()], not_failed, &[]);
        self.enter(not_failed);
        let is_bail = self.b.ins().icmp_imm_s(IntCC::Equal, st, NUM_BAIL);
        self.b.ins().brif(is_bail, fallback, &[], rest, &[]);
        self.enter(rest);
    }

    /// A root `a / b` of two numbers compiled natively whose quotient may not fit the
    /// unboxed form (a divisor that is not a power of 2 and 5): its operands.
    fn quotient_root(n: &Node) -> Option<(&Node, &Node)> {
        match &n.kind {
            NodeKind::Binary(BinaryOp::Div, a, b)
                if n.ty.non_null() == TypeSet::NUMBER
                    && !Self::num_native(n)
                    && Self::num_native(a)
                    && Self::num_native(b) =>
            {
                Some((a, b))
            }
            _ => None,
        }
    }

    /// Writes the quotient of root `n` = `a / b` to `out` with [`helpers::div_root`]
    /// (integer arithmetic, the interpreter's result), then jumps to `done` with its code.
    /// An operand that is null makes it null, one that failed fails it; a bail, a division
    /// by zero or an overflow evaluates `n` whole with the interpreter.
    fn divide_into(
        &mut self,
        n: &Node,
        (a, b): (&Node, &Node),
        out: Cv,
        done: cranelift_codegen::ir::Block,
    ) {
        let zero = self.iconst(0);
        let (sa, ma, xa) = self.num(a);
        let (sb, mb, xb) = self.num(b);
        let fallback = self.b.create_block();
        let (both, st) = self.unless_both_numbers(sa, sb);
        // not both numbers: st is an error, a bail or null
        self.past_failure(st, done, fallback);
        self.call(Helper::BoxNum, &[st, zero, zero, out]);
        self.b.ins().jump(done, &[zero.into()]);
        self.enter(both);
        let r = self
            .call(Helper::DivRoot, &[ma, xa, mb, xb, out])
            .unwrap_or(zero);
        let divided = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
        self.b
            .ins()
            .brif(divided, done, &[zero.into()], fallback, &[]);
        self.fall_back(fallback, n, out, done);
    }

    /// In `fallback`, where a native root's value could not be had natively: evaluates the
    /// formula whole ([`Gen::whole_root`]), counted.
    fn fall_back(
        &mut self,
        fallback: cranelift_codegen::ir::Block,
        n: &Node,
        out: Cv,
        done: cranelift_codegen::ir::Block,
    ) {
        self.enter(fallback);
        self.whole_root(n, out, done, true);
    }

    /// Evaluates `n` whole with the interpreter into `out`, then jumps to `done` with its
    /// code (0, or 1 on an error kept in the context); `fell_back` counts it as a native
    /// formula that fell back.
    fn whole_root(
        &mut self,
        n: &Node,
        out: Cv,
        done: cranelift_codegen::ir::Block,
        fell_back: bool,
    ) {
        let zero = self.iconst(0);
        let node = self.iconst(ptr(n));
        let counted = self.iconst(i64::from(fell_back));
        let r = self
            .call(Helper::InterpRoot, &[self.ctx, node, out, counted])
            .unwrap_or(zero);
        self.b.ins().jump(done, &[r.into()]);
    }

    /// A condition: 0 holds, 1 does not hold, 2 failed (error in the context).
    pub fn condition(&mut self, n: &Node) -> Cv {
        let done = self.b.create_block();
        self.b.append_block_param(done, I64);
        let native = Self::bool_native(n);
        if native {
            self.native_roots += 1;
        } else {
            self.interpreted_roots += 1;
        }
        if native {
            let code = self.boolean(n);
            let fallback = self.b.create_block();
            let decided = self.b.create_block();
            let is_bail = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_BAIL);
            self.b.ins().brif(is_bail, fallback, &[], decided, &[]);
            self.enter(decided);
            let holds = self.b.ins().icmp_imm_s(IntCC::Equal, code, B_TRUE);
            let zero = self.iconst(0);
            let one = self.iconst(1);
            let r = self.b.ins().select(holds, zero, one);
            self.b.ins().jump(done, &[r.into()]);
            self.enter(fallback);
        }
        let node = self.iconst(ptr(n));
        let zero = self.iconst(0);
        let counted = self.iconst(i64::from(native));
        let r = self
            .call(Helper::InterpCond, &[self.ctx, node, counted])
            .unwrap_or(zero);
        self.close_one(done, r)
    }

    /// Copies a field or a constant into `out`.
    pub fn copy_field(&mut self, path: &crate::value::FieldPath, out: Cv) {
        let p = self.iconst(ptr(path));
        self.call(Helper::OutField, &[self.ctx, p, out]);
    }

    /// Copies a constant into `out`.
    pub fn copy_const(&mut self, v: &Value, out: Cv) {
        let p = self.iconst(ptr(v));
        self.call(Helper::OutConst, &[p, out]);
    }

    /// The builder.
    pub fn builder(&mut self) -> &mut FunctionBuilder<'f> {
        self.b
    }
}

/// Whether a subtree's value may need more digits than the unboxed form holds: it holds a
/// division that may not terminate (by anything but a constant 2^x·5^y) whose quotient is
/// not rounded at once. Natively such a quotient would bail and be computed again by the
/// interpreter (up to once per enclosing node), so the subtree is evaluated by the
/// interpreter as one node instead, and a formula that is nothing else runs on it whole.
fn may_outgrow_unboxed(n: &Node) -> bool {
    match &n.kind {
        NodeKind::Binary(BinaryOp::Div, a, b) => {
            terminating_divisor(b).is_none() || may_outgrow_unboxed(a) || may_outgrow_unboxed(b)
        }
        NodeKind::Call(f, args) if f.name == "round" || fixed_round_mode(f.name).is_some() => {
            args.iter()
                .enumerate()
                .any(|(i, arg)| match (&arg.kind, i) {
                    // round(a / b, ...) divides and rounds in one step
                    (NodeKind::Binary(BinaryOp::Div, a, b), 0) => {
                        may_outgrow_unboxed(a) || may_outgrow_unboxed(b)
                    }
                    // and round(a / b * k, ...) divides, multiplies and rounds in one
                    (_, 0) if ratio_times_constant(arg).is_some() => ratio_times_constant(arg)
                        .is_some_and(|(a, b, _)| may_outgrow_unboxed(a) || may_outgrow_unboxed(b)),
                    _ => may_outgrow_unboxed(arg),
                })
        }
        _ => n.children().into_iter().any(may_outgrow_unboxed),
    }
}

/// `a / b * k` or `k * (a / b)` for a constant number `k` that fits the unboxed form: (a, b,
/// k's mantissa and scale).
fn ratio_times_constant(n: &Node) -> Option<(&Node, &Node, (i64, i64))> {
    let NodeKind::Binary(BinaryOp::Mul, l, r) = &n.kind else {
        return None;
    };
    let (ratio, k) = match (&l.kind, &r.kind) {
        (NodeKind::Binary(BinaryOp::Div, ..), NodeKind::Const(Value::Number(k))) => (l, *k),
        (NodeKind::Const(Value::Number(k)), NodeKind::Binary(BinaryOp::Div, ..)) => (r, *k),
        _ => return None,
    };
    let k = helpers::split(k)?;
    match &ratio.kind {
        NodeKind::Binary(BinaryOp::Div, a, b) => Some((a, b, k)),
        _ => None,
    }
}

/// The null a choice without a default gives.
static NULL_CONST: Value = Value::Null;

/// The variables caching one field: whether it was read as a number, and as what; whether
/// its place was found, and where.
#[derive(Clone)]
struct FieldVars {
    name: std::sync::Arc<str>,
    /// Read as a number where the function starts ([`Gen::pre_read`]): `num_read` unused.
    read_ahead: bool,
    num_read: Variable,
    status: Variable,
    mantissa: Variable,
    scale: Variable,
    ref_read: Variable,
    at: Variable,
}

/// The fields the formulas use as numbers: operands of arithmetic, of a numeric comparison
/// and of the numeric functions (the ones worth reading ahead; a field of text is not).
fn numeric_fields(roots: &[&Node]) -> Vec<std::sync::Arc<str>> {
    let mut found = Vec::new();
    let mut pending = roots.to_vec();
    while let Some(n) = pending.pop() {
        let operands: &[&Node] = &match &n.kind {
            NodeKind::Neg(x) => vec![x.as_ref()],
            NodeKind::Binary(op, a, b) => match op {
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                    vec![a.as_ref(), b.as_ref()]
                }
                BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
                    if numeric_pair(a, b) =>
                {
                    vec![a.as_ref(), b.as_ref()]
                }
                _ => Vec::new(),
            },
            NodeKind::Call(f, args) if NUMERIC_FUNCTIONS.contains(&f.name) => args.iter().collect(),
            _ => Vec::new(),
        };
        for x in operands {
            if let NodeKind::Field(p) = &x.kind {
                if !found.contains(&p.name) {
                    found.push(p.name.clone());
                }
            }
        }
        pending.extend(n.children());
    }
    found
}

/// The functions whose operands are numbers.
const NUMERIC_FUNCTIONS: [&str; 9] = [
    "round",
    "roundup",
    "rounddown",
    "floor",
    "ceiling",
    "abs",
    "mod",
    "min",
    "max",
];

/// Both sides of a comparison are worth comparing unboxed: one is statically a number and
/// the other may be one.
fn numeric_pair(a: &Node, b: &Node) -> bool {
    let number =
        |n: &Node| !n.ty.non_null().is_never() && TypeSet::NUMBER.contains(n.ty.non_null());
    let maybe = |n: &Node| n.ty.intersects(TypeSet::NUMBER);
    (number(a) && maybe(b)) || (number(b) && maybe(a))
}

#[cfg(test)]
mod tests {
    use super::Helper;

    /// `helper as usize` indexes the declared helpers: the table lists every helper once,
    /// in discriminant order.
    #[test]
    fn helper_table_is_indexed_by_discriminant() {
        for (i, helper) in Helper::ALL.iter().enumerate() {
            assert_eq!(*helper as usize, i, "{helper:?}");
        }
    }
}
