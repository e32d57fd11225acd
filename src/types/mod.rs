//! Types, the checker, and the schemas of Connect Objects.

pub mod checker;
pub mod schema;
mod typeset;

pub use checker::check;
pub use schema::Schema;
pub use typeset::TypeSet;
