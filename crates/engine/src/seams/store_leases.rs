//! The PostgreSQL store as the [`Leases`] of shared runs, and the one place a worker opens
//! them: a store that is not a PostgreSQL database has none (E610).

use std::path::Path;
use std::time::Duration;

use crate::diagnostics::{codes, Diag};
use crate::seams::Leases;
use crate::store::leases::{Claim, SlotClaim};
use crate::store::sync::{Lease, Partition};
use crate::store::{is_database_url, Store};

/// The leases of the store at `location`, for `what` (`--partitions`, `--slot`): E610
/// unless it is a PostgreSQL database, where the workers share them.
pub fn open_leases(location: &Path, what: &str) -> Result<Box<dyn Leases + Send>, Diag> {
    if !is_database_url(location) {
        return Err(Diag::new(
            codes::E610_INVALID_SETTING,
            format!("{what} needs a PostgreSQL store (--store postgres://...): workers share their leases there"),
        ));
    }
    Ok(Box::new(
        Store::open_or_create(location).map_err(|e| e.to_diag())?,
    ))
}

impl Leases for Store {
    fn ensure_partitions(
        &mut self,
        connector: &str,
        input: &str,
        partitions: &[Partition],
    ) -> Result<(), Diag> {
        Store::ensure_partitions(self, connector, input, partitions).map_err(|e| e.to_diag())
    }

    fn extend_partitions(&mut self, connector: &str, input: &str, size: u64) -> Result<bool, Diag> {
        Store::extend_partitions(self, connector, input, size).map_err(|e| e.to_diag())
    }

    fn mark_last_partition(&mut self, lease: &Lease) -> Result<(), Diag> {
        Store::mark_last_partition(self, lease).map_err(|e| e.to_diag())
    }

    fn forget_partitions(&mut self, connector: &str, input: &str) -> Result<(), Diag> {
        Store::forget_partitions(self, connector, input).map_err(|e| e.to_diag())
    }

    fn claim_partition(
        &mut self,
        connector: &str,
        input: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Claim, Diag> {
        Store::claim_partition(self, connector, input, owner, ttl).map_err(|e| e.to_diag())
    }

    fn finish_partition(&mut self, lease: &Lease) -> Result<bool, Diag> {
        Store::finish_partition(self, lease).map_err(|e| e.to_diag())
    }

    fn claim_slot(
        &mut self,
        connector: &str,
        slot: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<SlotClaim, Diag> {
        Store::claim_slot(self, connector, slot, owner, ttl).map_err(|e| e.to_diag())
    }

    fn finish_slot(&mut self, connector: &str, slot: &str, owner: &str) -> Result<bool, Diag> {
        Store::finish_slot(self, connector, slot, owner).map_err(|e| e.to_diag())
    }

    fn renew_slot(
        &self,
        connector: &str,
        slot: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, Diag> {
        Store::renew_slot(self, connector, slot, owner, ttl).map_err(|e| e.to_diag())
    }

    fn reopen(&self) -> Result<Box<dyn Leases + Send>, Diag> {
        Ok(Box::new(Store::reopen(self).map_err(|e| e.to_diag())?))
    }
}
