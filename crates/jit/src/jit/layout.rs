//! Where a number lies in a record's slot, so that generated code can read a field's
//! decimal without calling out: found once per process by looking at values this build
//! made, never assumed. When anything is not as the probe expects, generated code reads
//! every field through the helper instead.

use std::mem::size_of;
use std::sync::OnceLock;

use rust_decimal::Decimal;

use crate::value::Value;

/// The byte offsets of a slot (`Option<Value>`) holding `Some(Value::Number(d))`, which
/// are those of the `Value` itself: the slot adds no byte (an empty slot is a tag no value
/// has), so generated code writes an output number with them too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberLayout {
    /// Bytes from one slot to the next.
    pub stride: i32,
    /// The tag byte (offset 0) of a number, different from every other variant's and
    /// from an empty slot's.
    pub tag: u8,
    /// The tag byte of null.
    pub null_tag: u8,
    /// Offsets of the decimal's four words: flags (sign in bit 31, scale in bits 16–23)
    /// and the 96-bit mantissa's high, middle and low 32 bits.
    pub flags: i32,
    /// See `flags`.
    pub hi: i32,
    /// See `flags`.
    pub mid: i32,
    /// See `flags`.
    pub lo: i32,
}

/// The layout of this build, when the probe found one it can vouch for.
pub fn number_layout() -> Option<NumberLayout> {
    static LAYOUT: OnceLock<Option<NumberLayout>> = OnceLock::new();
    *LAYOUT.get_or_init(probe)
}

/// The first byte of a slot: the variant's tag.
fn tag_of(slot: &Option<Value>) -> u8 {
    // SAFETY: `Option<Value>` is at least one byte long; for a `repr(u8)` enum behind a
    // niche, byte 0 is the tag (or the niche value for `None`), always initialized.
    unsafe { *(slot as *const Option<Value>).cast::<u8>() }
}

fn probe() -> Option<NumberLayout> {
    let (lo, mid, hi, scale) = (0x0A0B_0C0Du32, 0x1A1B_1C1Du32, 0x2A2B_2C2Du32, 7u32);
    let number = Decimal::from_parts(lo, mid, hi, true, scale);
    // SAFETY: a `Decimal` is four `u32` words and nothing else (the sizes are checked by
    // `transmute`), so every bit pattern of it is a valid `[u32; 4]`.
    let words: [u32; 4] = unsafe { std::mem::transmute::<Decimal, [u32; 4]>(number) };
    let word = |w: u32| {
        let i = words.iter().position(|&x| x == w)?;
        i32::try_from(i * size_of::<u32>()).ok()
    };
    let slot = Some(Value::Number(number));
    let Some(value @ Value::Number(inside)) = &slot else {
        return None;
    };
    if size_of::<Option<Value>>() != size_of::<Value>()
        || !std::ptr::eq(
            (value as *const Value).cast::<u8>(),
            (&slot as *const Option<Value>).cast::<u8>(),
        )
    {
        return None;
    }
    let payload = (inside as *const Decimal as usize).checked_sub(&slot as *const _ as usize)?;
    let payload = i32::try_from(payload).ok()?;
    let tag = tag_of(&slot);
    let null_tag = tag_of(&Some(Value::Null));
    let others = [
        None,
        Some(Value::Null),
        Some(Value::Bool(true)),
        Some(Value::string("x".to_string())),
        Some(Value::Array(Default::default())),
    ];
    if others.iter().any(|o| tag_of(o) == tag) {
        return None;
    }
    let layout = NumberLayout {
        stride: i32::try_from(size_of::<Option<Value>>()).ok()?,
        tag,
        null_tag,
        flags: payload + word(0x8000_0000 | scale << 16)?,
        hi: payload + word(hi)?,
        mid: payload + word(mid)?,
        lo: payload + word(lo)?,
    };
    Some(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a slot's decimal the way generated code does.
    fn read(slot: &Option<Value>, l: NumberLayout) -> Option<(bool, u32, u32, u32, u32)> {
        let base = (slot as *const Option<Value>).cast::<u8>();
        // SAFETY: the offsets are within the slot (the probe found them there), and a
        // number's words are initialized.
        let word = |at: i32| unsafe { base.add(at as usize).cast::<u32>().read_unaligned() };
        (tag_of(slot) == l.tag).then(|| {
            let flags = word(l.flags);
            (
                flags >> 31 == 1,
                (flags >> 16) & 0xFF,
                word(l.hi),
                word(l.mid),
                word(l.lo),
            )
        })
    }

    #[test]
    fn a_number_is_read_where_the_probe_says_it_is() {
        let l = number_layout().expect("this build's layout is one the probe knows");
        assert_eq!(l.stride as usize, size_of::<Option<Value>>());
        let d = Decimal::from_parts(0xDEAD_BEEF, 0x0123_4567, 0x89AB_CDEF, false, 28);
        assert_eq!(
            read(&Some(Value::Number(d)), l),
            Some((false, 28, 0x89AB_CDEF, 0x0123_4567, 0xDEAD_BEEF))
        );
        let d = Decimal::new(-12_345, 2);
        assert_eq!(
            read(&Some(Value::Number(d)), l),
            Some((true, 2, 0, 0, 12_345))
        );
        for other in [
            None,
            Some(Value::Null),
            Some(Value::string("12.5".to_string())),
        ] {
            assert_eq!(read(&other, l), None);
        }
    }
}
