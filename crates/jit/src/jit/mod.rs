//! The Cranelift JIT for hot record transforms: a whole connector transform (all conditions
//! and mappings) compiled into one native function. See [`codegen`] for what runs unboxed
//! and what falls back to the interpreter, node by node.
#![allow(unsafe_code)]

pub mod codegen;
pub mod helpers;
pub mod layout;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::{types, AbiParam, InstBuilder, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};

use crate::interp::Interpreter;
use crate::runtime::{Ctx, EvalError};
use crate::transform::{MappingKind, Outcome, Transform, Verdict};
use crate::value::Value;
use codegen::{Gen, Helpers, CONDITION_FAILED, FILTERED, MAPPING_FAILED};
use helpers::JitCtx;

/// Why a transform could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("JIT compilation failed: {0}")]
pub struct JitError(String);

type TransformFn = unsafe extern "C" fn(*mut JitCtx, *mut Value) -> i64;

/// A transform compiled to native code. It owns (a share of) the [`Transform`] whose IR the
/// code points into, so the code can never outlive it; it can be shared between threads.
pub struct JitTransform {
    transform: Arc<Transform>,
    module: Option<JITModule>,
    function: TransformFn,
    /// The generated Cranelift IR as text, when asked for ([`JitTransform::compile_with_clif`]).
    pub clif: Option<String>,
    /// How long compilation took.
    pub compile_time: Duration,
    /// Size of the generated machine code in bytes.
    pub code_bytes: usize,
    /// Nodes inside compiled formulas that the code hands to the interpreter.
    pub interpreted_nodes: usize,
    /// Conditions and formula mappings whose root is compiled to native code.
    pub native_formulas: usize,
    /// Conditions and formula mappings the interpreter evaluates as a whole.
    pub interpreted_formulas: usize,
    /// How often, over every record so far, the interpreter evaluated a native condition or
    /// mapping whole because its result could not be had natively (a failing native step is
    /// redone node by node, not whole). Rare, so the shared counter costs the hot path
    /// nothing; formulas that always run on the interpreter are not counted.
    whole_formulas: std::sync::atomic::AtomicU64,
    /// The most IR nodes of one condition or mapping: no evaluation takes more steps (there
    /// are no loops), so under a step limit at least this large the code is exact without
    /// counting steps; under a smaller one the interpreter evaluates, and counts.
    max_nodes: u64,
}

// SAFETY: after `compile`, the module is only touched again by `Drop`, which frees the code
// once no call can run (it needs `&mut self`). The compiled function reads the transform's
// IR (kept alive by the `Arc`, never mutated) and writes only through the pointers each call
// passes in (its own `JitCtx` and output slots), so calls from several threads at once do
// not share mutable state.
unsafe impl Send for JitTransform {}
// SAFETY: as above: `apply` takes `&self` and touches no shared mutable state.
unsafe impl Sync for JitTransform {}

fn err(e: impl std::fmt::Display) -> JitError {
    JitError(e.to_string())
}

impl JitTransform {
    /// Compiles `transform`.
    pub fn compile(transform: Arc<Transform>) -> Result<JitTransform, JitError> {
        Self::compile_inner(transform, false)
    }

    /// Compiles `transform` and keeps the Cranelift IR as text (the REPL's `:clif`; writing
    /// it out costs as much as compiling).
    pub fn compile_with_clif(transform: Arc<Transform>) -> Result<JitTransform, JitError> {
        Self::compile_inner(transform, true)
    }

    fn compile_inner(transform: Arc<Transform>, keep_clif: bool) -> Result<JitTransform, JitError> {
        let started = Instant::now();
        let mut flags = settings::builder();
        flags.set("use_colocated_libcalls", "false").map_err(err)?;
        flags.set("is_pic", "false").map_err(err)?;
        flags.set("opt_level", "speed").map_err(err)?;
        // The verifier checks the generated IR: on in debug builds (the tests), where it
        // catches a generator bug as a compile error; off in release builds, where it would
        // take a fifth of the compile time.
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        flags.set("enable_verifier", verify).map_err(err)?;
        let isa = cranelift_native::builder()
            .map_err(err)?
            .finish(settings::Flags::new(flags))
            .map_err(err)?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        codegen::register_symbols(&mut builder);
        let mut module = JITModule::new(builder);
        let helpers = Helpers::declare(&mut module).map_err(err)?;

        let mut ctx = module.make_context();
        ctx.func.signature.params.push(AbiParam::new(types::I64));
        ctx.func.signature.params.push(AbiParam::new(types::I64));
        ctx.func.signature.returns.push(AbiParam::new(types::I64));
        let id = module
            .declare_function("transform", Linkage::Export, &ctx.func.signature)
            .map_err(err)?;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut fctx = FunctionBuilderContext::new();
        let counts;
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let (jctx, outs) = match b.block_params(entry) {
                [jctx, outs] => (*jctx, *outs),
                _ => {
                    return Err(JitError(
                        "the transform signature lost its parameters".to_string(),
                    ))
                }
            };
            let mut g = Gen::new(&mut b, &mut module, &helpers, jctx);
            g.declare_fields(transform.formula_roots());
            for (i, c) in transform.conditions.iter().enumerate() {
                let r = g.condition(&c.ir);
                let b = g.builder();
                let next = b.create_block();
                let stop = b.create_block();
                b.append_block_param(stop, types::I64);
                let filtered = b.ins().iconst(types::I64, FILTERED + i as i64);
                let failed = b.ins().iconst(types::I64, CONDITION_FAILED + i as i64);
                let is_failed =
                    b.ins()
                        .icmp_imm_s(cranelift_codegen::ir::condcodes::IntCC::Equal, r, 2);
                let code = b.ins().select(is_failed, failed, filtered);
                b.ins().brif(r, stop, &[code.into()], next, &[]);
                b.switch_to_block(stop);
                b.seal_block(stop);
                let p = b.block_params(stop).first().copied().unwrap_or(code);
                b.ins().return_(&[p]);
                b.switch_to_block(next);
                b.seal_block(next);
            }
            let value_size = std::mem::size_of::<Value>() as i64;
            for (j, m) in transform.mappings.iter().enumerate() {
                let out = g.builder().ins().iadd_imm_s(outs, value_size * j as i64);
                match &m.kind {
                    MappingKind::Field(p) => g.copy_field(p, out),
                    MappingKind::Raw(v) => g.copy_const(v, out),
                    MappingKind::Formula(f) => {
                        let r = g.root(&f.ir, out);
                        let b = g.builder();
                        let next = b.create_block();
                        let stop = b.create_block();
                        b.ins().brif(r, stop, &[], next, &[]);
                        b.switch_to_block(stop);
                        b.seal_block(stop);
                        let code = b.ins().iconst(types::I64, MAPPING_FAILED + j as i64);
                        b.ins().return_(&[code]);
                        b.switch_to_block(next);
                        b.seal_block(next);
                    }
                }
            }
            let zero = g.builder().ins().iconst(types::I64, 0);
            g.builder().ins().return_(&[zero]);
            counts = (g.interpreted, g.native_roots, g.interpreted_roots);
            drop(g);
            b.finalize(module.target_config());
        }
        let clif = keep_clif.then(|| ctx.func.display().to_string());
        module.define_function(id, &mut ctx).map_err(err)?;
        let code_bytes = ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
        module.clear_context(&mut ctx);
        module.finalize_definitions().map_err(err)?;
        let code = module.get_finalized_function(id);
        // SAFETY: `code` is the function just defined with the signature
        // (i64, i64) -> i64, which matches `TransformFn` on the host ABI.
        let function: TransformFn = unsafe { std::mem::transmute::<*const u8, TransformFn>(code) };
        let max_nodes = transform.formula_roots().map(node_count).max().unwrap_or(0);
        let (interpreted_nodes, native_formulas, interpreted_formulas) = counts;
        Ok(JitTransform {
            whole_formulas: std::sync::atomic::AtomicU64::new(0),
            interpreted_nodes,
            native_formulas,
            interpreted_formulas,
            max_nodes,
            transform,
            module: Some(module),
            function,
            clif,
            compile_time: started.elapsed(),
            code_bytes,
        })
    }

    /// How often the interpreter evaluated a native condition or mapping whole, over every
    /// record run so far.
    pub fn whole_formula_runs(&self) -> u64 {
        self.whole_formulas
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The transform this code was compiled from.
    pub fn transform(&self) -> &Transform {
        &self.transform
    }

    /// Runs the compiled transform on one record; the same outcome as
    /// [`Transform::apply`].
    pub fn apply(&self, interp: &mut Interpreter, ctx: &Ctx) -> Outcome {
        let mut outs = Vec::new();
        self.apply_into(interp, ctx, &mut outs).with_values(outs)
    }

    /// Runs the compiled transform on one record into `outs`; the same verdict and values
    /// as [`Transform::apply_into`] (a caller that keeps `outs` allocates nothing for it).
    pub fn apply_into(
        &self,
        interp: &mut Interpreter,
        ctx: &Ctx,
        outs: &mut Vec<Value>,
    ) -> Verdict {
        if self.max_nodes > ctx.limits.max_steps {
            return self.transform.apply_into(interp, ctx, outs);
        }
        // Every slot is written when the record maps; a buffer of the right length is
        // reused as it is (its old values are dropped as they are overwritten).
        if outs.len() != self.transform.mappings.len() {
            outs.clear();
            outs.resize(self.transform.mappings.len(), Value::Null);
        }
        let slots = ctx.slots.unwrap_or_default();
        let mut jctx = JitCtx {
            slots: slots.as_ptr(),
            slots_len: slots.len(),
            ctx,
            interp,
            error: None,
            whole_formulas: 0,
            panic: None,
        };
        // SAFETY: the function was compiled for this transform; `jctx` and `outs` (one
        // slot per mapping) are live and exclusive for the call. The code passes the helpers
        // (which take references) only: `jctx`; pointers into `outs` and into its own stack
        // slots; and pointers to IR nodes, field paths and constants of `self.transform`,
        // which the `Arc` keeps alive and nothing mutates — so every reference a helper
        // receives is valid, and the mutable ones unaliased, for the call.
        let code = unsafe { (self.function)(&mut jctx, outs.as_mut_ptr()) };
        if let Some(payload) = jctx.panic.take() {
            std::panic::resume_unwind(payload);
        }
        if jctx.whole_formulas > 0 {
            self.whole_formulas
                .fetch_add(jctx.whole_formulas, std::sync::atomic::Ordering::Relaxed);
        }
        let error = || {
            jctx.error
                .clone()
                .unwrap_or_else(|| EvalError::type_mismatch("the JIT lost an error"))
        };
        match code {
            0 => Verdict::Mapped,
            c if c >= MAPPING_FAILED => {
                let j = usize::try_from(c - MAPPING_FAILED).unwrap_or(0);
                Verdict::Failed {
                    target: self.transform.mappings.get(j).map(|m| m.target.clone()),
                    condition: None,
                    error: error(),
                }
            }
            c if c >= CONDITION_FAILED => Verdict::Failed {
                target: None,
                condition: Some(usize::try_from(c - CONDITION_FAILED).unwrap_or(0)),
                error: error(),
            },
            c => Verdict::Filtered(usize::try_from(c - FILTERED).unwrap_or(0)),
        }
    }
}

/// How many nodes a tree has (each is evaluated at most once per record).
fn node_count(root: &crate::ir::Node) -> u64 {
    let mut count = 0;
    let mut pending = vec![root];
    while let Some(node) = pending.pop() {
        count += 1;
        pending.extend(node.children());
    }
    count
}

impl Drop for JitTransform {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the compiled function is not called after the JitTransform is dropped.
            unsafe { module.free_memory() };
        }
    }
}
