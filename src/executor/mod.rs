//! The sync executor's parts: the connector model and its compiled transform (always
//! there: the embedding API builds on them), and, with the `store` feature, runs over
//! sources and sinks with the SQLite state store.

pub mod conform;
pub mod connector;
pub mod connector_reference;
#[cfg(feature = "store")]
pub mod dead_letters;
#[cfg(feature = "store")]
pub mod lookups;
#[cfg(feature = "store")]
pub mod resume;
#[cfg(feature = "store")]
pub mod run;
#[cfg(feature = "store")]
pub mod seams;
#[cfg(feature = "store")]
pub mod sinks;
pub mod source;
#[cfg(feature = "store")]
pub mod sources;
#[cfg(feature = "store")]
pub mod sqlite_state;
#[cfg(feature = "store")]
pub mod store;
#[cfg(feature = "store")]
pub mod sync_store;
pub mod transform;
