//! The executor: runs of a connector over a source into a sink through the seams
//! (`seams.rs`), resumed from checkpoints, shared between workers (partitions, slots), the
//! way in and the way back as one sync (`sync.rs`). It reaches stores and connections
//! through the seams' traits and the factories of `crate::connections`.

#[cfg(feature = "postgres")]
pub mod partitions;
pub mod prepare;
pub mod progress;
pub mod run;
#[cfg(feature = "postgres")]
pub mod slots;
pub mod sync;
#[cfg(feature = "postgres")]
pub mod workers;
