//! The leases many workers share through a PostgreSQL store: the partitions of a
//! partitioned run (an input file cut into byte ranges of whole lines, or an API's pages),
//! claimed with `FOR UPDATE SKIP LOCKED` so two workers never get the same one, and the
//! scheduled occurrences (slots) of which one worker runs each. The SQL of
//! `executor::partitions` and `executor::slots`, which reach it through the
//! `seams::Leases` trait.

use std::time::Duration;

use crate::store::db::params;
use crate::store::sync::{Lease, Partition};
use crate::store::{Store, StoreError};

/// What a worker gets when it asks for work.
#[derive(Debug)]
pub enum Claim {
    /// A partition, leased to it.
    Partition(Partition, Lease),
    /// None free now, but some are leased to other workers and not done yet.
    Wait,
    /// Every partition is done.
    Done,
}

/// What a worker learns when it asks for a slot.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotClaim {
    /// The slot is this worker's to run.
    Mine,
    /// Another worker (named) holds a live lease on it.
    Held(String),
    /// It was run to its end already.
    Done,
}

impl Store {
    /// Makes the partitions of `input` (its key) for `connector` unless they exist: one
    /// transaction under an advisory lock, so of several workers starting together one cuts.
    pub fn ensure_partitions(
        &mut self,
        connector: &str,
        input: &str,
        partitions: &[Partition],
    ) -> Result<(), StoreError> {
        let lock = crate::store::postgres::lock_key(&format!("partitions:{connector}:{input}"));
        self.write_transaction(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock(?1)", params![lock])?;
            let exists = tx
                .query_row(
                    "SELECT count(*) FROM partitions WHERE connector = ?1 AND input = ?2",
                    params![connector, input],
                )?
                .is_some_and(|r| r.int(0) > 0);
            if !exists {
                for p in partitions {
                    tx.execute(
                        "INSERT INTO partitions(connector, input, part, start_offset, end_offset, first_line)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![connector, input, p.part, p.start, p.end, p.first_line],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// For an input whose end is not known up front (an API's pages): when no partition is
    /// marked as holding the end, adds the next one, `size` pages after the last; `false` when
    /// the end is known (nothing to add).
    pub fn extend_partitions(
        &mut self,
        connector: &str,
        input: &str,
        size: u64,
    ) -> Result<bool, StoreError> {
        let lock = crate::store::postgres::lock_key(&format!("partitions:{connector}:{input}"));
        self.write_transaction(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock(?1)", params![lock])?;
            let row = tx.query_row(
                "SELECT coalesce(max(part), -1), coalesce(max(last), 0) FROM partitions WHERE connector = ?1 AND input = ?2",
                params![connector, input],
            )?;
            let (max, ended) = row.map_or((-1, false), |r| (r.int(0), r.flag(1)));
            if ended {
                return Ok(false);
            }
            let part = max + 1;
            let start = u64::try_from(part).unwrap_or(0) * size;
            tx.execute(
                "INSERT INTO partitions(connector, input, part, start_offset, end_offset, first_line)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                params![connector, input, part, start, start + size],
            )?;
            Ok(true)
        })
    }

    /// Marks the leased partition as the one where the input ended: no partition is added
    /// after it.
    pub fn mark_last_partition(&mut self, lease: &Lease) -> Result<(), StoreError> {
        self.write_transaction(|tx| {
            tx.execute(
                "UPDATE partitions SET last = 1 WHERE connector = ?1 AND input = ?2 AND part = ?3",
                params![lease.connector.as_str(), lease.input.as_str(), lease.part],
            )
        })
        .map(|_| ())
    }

    /// Forgets the partitions of `input` (`--from-start`), with their checkpoints.
    pub fn forget_partitions(&mut self, connector: &str, input: &str) -> Result<(), StoreError> {
        self.write_transaction(|tx| {
            tx.execute(
                "DELETE FROM partitions WHERE connector = ?1 AND input = ?2",
                params![connector, input],
            )?;
            tx.execute(
                "DELETE FROM checkpoints WHERE connector = ?1 AND input LIKE ?2",
                params![
                    connector,
                    format!("{}#part%", crate::store::escape_like(input)).as_str()
                ],
            )?;
            Ok(())
        })
    }

    /// Takes the lowest partition that is not done and not leased (or whose lease ran out),
    /// leased to `owner` for `ttl`.
    pub fn claim_partition(
        &mut self,
        connector: &str,
        input: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let claimed = self.write_transaction(|tx| {
            tx.query_row(
                "UPDATE partitions SET owner = ?3, lease_until = now() + make_interval(secs => ?4)
                 WHERE (connector, input, part) IN (
                     SELECT connector, input, part FROM partitions
                     WHERE connector = ?1 AND input = ?2 AND done = 0
                       AND (owner IS NULL OR lease_until < now())
                     ORDER BY part LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING part, start_offset, end_offset, first_line",
                params![connector, input, owner, ttl.as_secs_f64()],
            )
        })?;
        if let Some(row) = claimed {
            let partition = Partition {
                part: row.int(0),
                start: row.count(1),
                end: row.count(2),
                first_line: row.count(3),
            };
            let lease = Lease {
                connector: connector.to_string(),
                input: input.to_string(),
                part: partition.part,
                owner: owner.to_string(),
                ttl,
            };
            return Ok(Claim::Partition(partition, lease));
        }
        let open = self
            .conn()
            .query_row(
                "SELECT count(*) FROM partitions WHERE connector = ?1 AND input = ?2 AND done = 0",
                params![connector, input],
            )
            .map_err(|e| self.fail(e))?
            .map_or(0, |r| r.int(0));
        Ok(match open {
            0 => Claim::Done,
            _ => Claim::Wait,
        })
    }

    /// Marks the leased partition done (when the lease is still this worker's).
    pub fn finish_partition(&mut self, lease: &Lease) -> Result<bool, StoreError> {
        self.write_transaction(|tx| {
            tx.execute(
                "UPDATE partitions SET done = 1, owner = NULL, lease_until = NULL
                     WHERE connector = ?1 AND input = ?2 AND part = ?3 AND owner = ?4",
                params![
                    lease.connector.as_str(),
                    lease.input.as_str(),
                    lease.part,
                    lease.owner.as_str()
                ],
            )
        })
        .map(|n| n > 0)
    }

    /// Asks for `slot` of `connector` as `owner`, for `ttl`.
    pub fn claim_slot(
        &mut self,
        connector: &str,
        slot: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<SlotClaim, StoreError> {
        self.write_transaction(|tx| {
            tx.execute(
                "INSERT INTO scheduled_runs(connector, slot) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![connector, slot],
            )?;
            let mine = tx.query_row(
                "UPDATE scheduled_runs SET owner = ?3, lease_until = now() + make_interval(secs => ?4)
                 WHERE (connector, slot) IN (
                     SELECT connector, slot FROM scheduled_runs
                     WHERE connector = ?1 AND slot = ?2 AND done = 0
                       AND (owner IS NULL OR lease_until < now())
                     FOR UPDATE SKIP LOCKED)
                 RETURNING owner",
                params![connector, slot, owner, ttl.as_secs_f64()],
            )?;
            if mine.is_some() {
                return Ok(SlotClaim::Mine);
            }
            let row = tx.query_row(
                "SELECT done, owner FROM scheduled_runs WHERE connector = ?1 AND slot = ?2",
                params![connector, slot],
            )?;
            Ok(match row {
                Some(r) if r.flag(0) => SlotClaim::Done,
                Some(r) => SlotClaim::Held(r.opt_text(1).unwrap_or_else(|| "another worker".into())),
                None => SlotClaim::Held("another worker".into()),
            })
        })
    }

    /// Marks `slot` run to its end (when still this worker's).
    pub fn finish_slot(
        &mut self,
        connector: &str,
        slot: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        self.write_transaction(|tx| {
            tx.execute(
                "UPDATE scheduled_runs SET done = 1, lease_until = NULL
                     WHERE connector = ?1 AND slot = ?2 AND owner = ?3",
                params![connector, slot, owner],
            )
        })
        .map(|n| n > 0)
    }

    /// Renews `owner`'s lease on `slot` for `ttl`; `false` when it is no longer the
    /// owner's (it ran out and another worker took the slot over).
    pub fn renew_slot(
        &self,
        connector: &str,
        slot: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.conn()
            .execute(
                "UPDATE scheduled_runs SET lease_until = now() + make_interval(secs => ?4)
                 WHERE connector = ?1 AND slot = ?2 AND owner = ?3",
                params![connector, slot, owner, ttl.as_secs_f64()],
            )
            .map(|n| n > 0)
            .map_err(|e| self.fail(e))
    }
}
