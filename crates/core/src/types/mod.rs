//! The type checker: syntax tree → typed IR. Type sets and schemas are value-level
//! ([`crate::value::TypeSet`]), so lower layers use them without depending on the checker.

pub mod checker;

pub use crate::value::{Schema, TypeSet};
pub use checker::check;
