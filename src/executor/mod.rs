//! The sync executor's parts: the Connect Object store and the lookups formulas make into it.

pub mod conform;
pub mod connector;
pub mod connector_reference;
pub mod dead_letters;
pub mod lookups;
pub mod resume;
pub mod run;
pub mod seams;
pub mod sinks;
pub mod source;
pub mod sources;
pub mod sqlite_state;
pub mod store;
pub mod sync_store;
pub mod transform;
