//! Sluice's language core: formula text → syntax → typed IR → the reference interpreter,
//! the function library, and connectors compiled into transforms. No command line, no
//! store, no native code: the crates above (`sluice-jit`, `sluice-engine`, `sluice`) build
//! on it, and the compiler keeps them from reaching back down.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod compile;
pub mod diagnostics;
pub mod interp;
pub mod ir;
pub mod limits;
pub mod runtime;
pub mod stdlib;
pub mod syntax;
pub mod transform;
pub mod types;
pub mod value;
