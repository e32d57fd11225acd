//! Runs of a JSON string's body that need no escape: what the record scanner steps over
//! and what the writer copies whole.

/// Where the plain run starting at `at` ends: at the next quote, backslash or control
/// character (below 0x20), or the end — found eight bytes at a time: a chunk's mask marks
/// its first such byte exactly (a false mark can only follow a true one, through a borrow).
#[inline(always)]
pub(super) fn plain_end(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(chunk) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*chunk);
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let stops = below_space
            | zero_byte(x ^ (ONES * u64::from(b'"')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')));
        if stops != 0 {
            return at + (stops.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while bytes
        .get(at)
        .is_some_and(|&b| b >= 0x20 && b != b'"' && b != b'\\')
    {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_byte_to_escape_in_any_position() {
        for len in 0..20 {
            for stop in [b'"', b'\\', b'\n', 0, 0x1f] {
                for at in 0..=len {
                    let mut bytes = vec![b'a'; len];
                    bytes.extend("é日".as_bytes());
                    if at < len {
                        bytes[at] = stop;
                        // a later stop must not be taken for the first
                        bytes.push(b'"');
                    }
                    let want = if at < len { at } else { bytes.len() };
                    assert_eq!(plain_end(&bytes, 0), want, "{len} {stop} {at}");
                }
            }
        }
        assert_eq!(plain_end(b"ab\"cd", 3), 5);
    }
}
