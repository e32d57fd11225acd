//! The sync executor's parts: the Connect Object store and the lookups formulas make into it.

pub mod connector;
pub mod lookups;
pub mod store;
pub mod transform;
