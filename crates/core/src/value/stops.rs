//! Where a line's string bodies stop: one bit per byte, set for a quote, a backslash or a
//! control character (below 0x20), found for the whole line at once — sixteen bytes at a
//! time with SSE2 on x86_64 (`safe_arch`: the intrinsics without `unsafe` here), eight at a
//! time elsewhere — so the record scanner finds where each string ends by looking at bits
//! instead of scanning its bytes again.

/// The stops of a line: bit `i % 64` of word `i / 64` is set when byte `i` is a quote, a
/// backslash or below 0x20. A buffer a caller keeps from line to line allocates nothing once
/// it is as long as the longest line.
#[derive(Debug, Default)]
pub(super) struct Stops {
    words: Vec<u64>,
}

impl Stops {
    /// Fills the stops of `bytes` (the buffer's earlier contents are replaced).
    pub(super) fn fill(&mut self, bytes: &[u8]) {
        self.words.clear();
        let mut blocks = bytes.chunks_exact(64);
        for block in blocks.by_ref() {
            if let Ok(block) = <&[u8; 64]>::try_from(block) {
                self.words.push(block_stops(block));
            }
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            // a space is no stop: the block is padded with them
            let mut block = [b' '; 64];
            if let Some(head) = block.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            self.words.push(block_stops(&block));
        }
    }

    /// The first stop at or after `at`, or `None` when there is none before the end.
    #[inline(always)]
    pub(super) fn next(&self, at: usize) -> Option<usize> {
        let mut word = at / 64;
        let first = self.words.get(word)? >> (at % 64);
        if first != 0 {
            return Some(at + first.trailing_zeros() as usize);
        }
        loop {
            word += 1;
            let bits = *self.words.get(word)?;
            if bits != 0 {
                return Some(word * 64 + bits.trailing_zeros() as usize);
            }
        }
    }
}

/// The stops of 64 bytes, a bit each.
#[inline(always)]
fn block_stops(block: &[u8; 64]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    return block_stops_sse2(block);
    #[cfg(not(target_arch = "x86_64"))]
    return block_stops_swar(block);
}

/// [`block_stops`] sixteen bytes at a time (SSE2, which every x86_64 has).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_stops_sse2(block: &[u8; 64]) -> u64 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let quote = set_splat_i8_m128i(b'"' as i8);
    let backslash = set_splat_i8_m128i(b'\\' as i8);
    let below_space = set_splat_i8_m128i(0x1f);
    let mut bits = 0u64;
    for (lane, bytes) in block.chunks_exact(16).enumerate() {
        let Ok(bytes) = <&[u8; 16]>::try_from(bytes) else {
            continue;
        };
        let v = load_unaligned_m128i(bytes);
        // min(v, 0x1f) == v exactly for the bytes up to 0x1f, compared unsigned
        let control = cmp_eq_mask_i8_m128i(min_u8_m128i(v, below_space), v);
        let stops = bitor_m128i(
            bitor_m128i(
                cmp_eq_mask_i8_m128i(v, quote),
                cmp_eq_mask_i8_m128i(v, backslash),
            ),
            control,
        );
        let mask = move_mask_i8_m128i(stops) as u32 & 0xFFFF;
        bits |= u64::from(mask) << (lane * 16);
    }
    bits
}

/// [`block_stops`] eight bytes at a time in a `u64` (where there is no SSE2): a stop byte's
/// high bit set, exactly (no borrow between bytes), then the eight high bits gathered into
/// one byte by a multiplication (their products land on distinct bits: no carries).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn block_stops_swar(block: &[u8; 64]) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let zero_byte = |x: u64| !((((x & !HIGHS) + !HIGHS) | x) | !HIGHS);
    let mut bits = 0u64;
    for (lane, bytes) in block.chunks_exact(8).enumerate() {
        let Ok(bytes) = <&[u8; 8]>::try_from(bytes) else {
            continue;
        };
        let x = u64::from_le_bytes(*bytes);
        // a byte below 0x20 has its top three bits clear
        let control = zero_byte(x & (ONES * 0xE0));
        let stops = zero_byte(x ^ (ONES * u64::from(b'"')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')))
            | control;
        let gathered = stops.wrapping_mul(0x0002_0408_1020_4081) >> 56;
        bits |= gathered << (lane * 8);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_stop(b: u8) -> bool {
        b == b'"' || b == b'\\' || b < 0x20
    }

    #[test]
    fn both_ways_of_finding_a_blocks_stops_agree_with_the_definition() {
        for b in 0..=255u8 {
            for at in [0, 1, 7, 8, 15, 16, 31, 32, 63] {
                for other in [b'a', b'"', 0xff, 0] {
                    let mut block = [other; 64];
                    block[at] = b;
                    let want = (0..64).fold(0u64, |m, i| m | (u64::from(is_stop(block[i])) << i));
                    assert_eq!(
                        block_stops_swar(&block),
                        want,
                        "{b:#x} at {at} among {other:#x}"
                    );
                    assert_eq!(block_stops(&block), want, "{b:#x} at {at} among {other:#x}");
                }
            }
        }
    }

    #[test]
    fn every_stop_is_found_and_nothing_else() {
        // every byte value, at every position of a block and across block ends
        for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 127, 128, 200] {
            for b in 0..=255u8 {
                for at in [0, len / 2, len.saturating_sub(1)] {
                    let mut bytes = vec![b'a'; len];
                    if let Some(x) = bytes.get_mut(at) {
                        *x = b;
                    }
                    let mut stops = Stops::default();
                    stops.fill(&bytes);
                    for start in 0..=len {
                        let want = (start..len).find(|&i| is_stop(bytes[i]));
                        assert_eq!(
                            stops.next(start),
                            want,
                            "byte {b:#x} at {at} of {len}, from {start}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn text_with_many_stops_and_multibyte_characters() {
        let text = "\"é\\日\u{1}x\"\t\"\"\\\\ab\u{7f}\u{80}c\"".repeat(9);
        let bytes = text.as_bytes();
        let mut stops = Stops::default();
        stops.fill(bytes);
        for start in 0..=bytes.len() {
            let want = (start..bytes.len()).find(|&i| is_stop(bytes[i]));
            assert_eq!(stops.next(start), want, "from {start}");
        }
    }
}
