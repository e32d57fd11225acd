//! Partitioned runs on PostgreSQL: one input file cut into byte ranges of whole lines
//! (partitions), which any number of `sluice run --partitions N` workers, on one machine or
//! many, claim and process without a coordinator: a claim is a row lease taken under a row
//! lock that skips locked rows (two workers never get the same partition; the SQL is
//! `store::leases`, reached through `seams::Leases`), each partition has its own checkpoint, every commit renews the lease in the same transaction (and fails
//! when the lease was lost), and a partition whose worker died is taken over by another
//! once its lease has run out, from its checkpoint: every record is written exactly once.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

pub use crate::store::leases::Claim;
pub use crate::store::sync::Partition;
pub use crate::worker_name;

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
