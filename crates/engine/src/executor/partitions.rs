//! Partitioned runs on PostgreSQL: one input file cut into byte ranges of whole lines
//! (partitions), which any number of `sluice run --partitions N` workers, on one machine or
//! many, claim and process without a coordinator: a claim is a row lease taken with
//! `FOR UPDATE SKIP LOCKED` (two workers never get the same partition), each partition has
//! its own checkpoint, every commit renews the lease in the same transaction (and fails
//! when the lease was lost), and a partition whose worker died is taken over by another
//! once its lease has run out, from its checkpoint: every record is written exactly once.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::time::Duration;

pub use crate::executor::run::Partition;
use crate::store::db::params;
use crate::store::sync::Lease;
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

/// Cuts the file at `path` into `n` ranges of whole lines of about equal size (fewer when
/// it has fewer lines), with the line number each starts at.
pub fn split(path: &std::path::Path, n: u64) -> std::io::Result<Vec<Partition>> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let n = n.max(1);
    let mut cuts = vec![0u64];
    for i in 1..n {
        let target = size * i / n;
        if target <= *cuts.last().unwrap_or(&0) {
            continue;
        }
        file.seek(SeekFrom::Start(target.saturating_sub(1)))?;
        let mut rest = Vec::new();
        BufReader::new(&mut file).read_until(b'\n', &mut rest)?;
        let cut = target.saturating_sub(1) + rest.len() as u64;
        if cut < size && cut > *cuts.last().unwrap_or(&0) {
            cuts.push(cut);
        }
    }
    cuts.push(size);
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut partitions = Vec::new();
    let (mut offset, mut line) = (0u64, 1u64);
    let mut buf = vec![0u8; 1 << 20];
    for (part, (&start, &end)) in cuts.iter().zip(cuts.iter().skip(1)).enumerate() {
        partitions.push(Partition {
            part: part as i64,
            start,
            end,
            first_line: line,
        });
        while offset < end {
            let want = ((end - offset) as usize).min(buf.len());
            let Some(window) = buf.get_mut(..want) else {
                break;
            };
            let got = reader.read(window)?;
            if got == 0 {
                break;
            }
            let read = window.get(..got).unwrap_or_default();
            line += read.iter().filter(|b| **b == b'\n').count() as u64;
            offset += got as u64;
        }
    }
    Ok(partitions)
}

/// Makes the partitions of `input` (its key) for `connector` unless they exist: one
/// transaction under an advisory lock, so of several workers starting together one cuts.
pub fn ensure(
    store: &mut Store,
    connector: &str,
    input: &str,
    partitions: &[Partition],
) -> Result<(), StoreError> {
    let lock = crate::store::postgres::lock_key(&format!("partitions:{connector}:{input}"));
    store.write_transaction(|tx| {
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
pub fn extend(
    store: &mut Store,
    connector: &str,
    input: &str,
    size: u64,
) -> Result<bool, StoreError> {
    let lock = crate::store::postgres::lock_key(&format!("partitions:{connector}:{input}"));
    store.write_transaction(|tx| {
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
pub fn mark_last(store: &mut Store, lease: &Lease) -> Result<(), StoreError> {
    store
        .write_transaction(|tx| {
            tx.execute(
                "UPDATE partitions SET last = 1 WHERE connector = ?1 AND input = ?2 AND part = ?3",
                params![lease.connector.as_str(), lease.input.as_str(), lease.part],
            )
        })
        .map(|_| ())
}

/// Forgets the partitions of `input` (`--from-start`), with their checkpoints.
pub fn forget(store: &mut Store, connector: &str, input: &str) -> Result<(), StoreError> {
    store.write_transaction(|tx| {
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
pub fn claim(
    store: &mut Store,
    connector: &str,
    input: &str,
    owner: &str,
    ttl: Duration,
) -> Result<Claim, StoreError> {
    let claimed = store.write_transaction(|tx| {
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
    let open = store
        .conn()
        .query_row(
            "SELECT count(*) FROM partitions WHERE connector = ?1 AND input = ?2 AND done = 0",
            params![connector, input],
        )
        .map_err(|e| store.fail(e))?
        .map_or(0, |r| r.int(0));
    Ok(match open {
        0 => Claim::Done,
        _ => Claim::Wait,
    })
}

/// Marks the leased partition done (when the lease is still this worker's).
pub fn finish(store: &mut Store, lease: &Lease) -> Result<bool, StoreError> {
    store
        .write_transaction(|tx| {
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

/// This worker's name in leases: host, process and a random part.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn partitions_are_whole_lines_that_cover_the_file_once() {
        let dir = std::env::temp_dir().join(format!("sluice-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.ndjson");
        let text: String = (0..1000).map(|i| format!("{{\"id\": {i}}}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        for n in [1, 2, 7, 64, 5000] {
            let parts = split(&path, n).unwrap();
            assert_eq!(parts[0].start, 0);
            assert_eq!(parts.last().unwrap().end, text.len() as u64);
            for w in parts.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                assert_eq!(text.as_bytes()[w[1].start as usize - 1], b'\n');
                let lines_before = text[..w[1].start as usize].matches('\n').count() as u64;
                assert_eq!(w[1].first_line, lines_before + 1);
            }
            assert!(parts.len() as u64 <= n.min(1000));
        }
    }
}
