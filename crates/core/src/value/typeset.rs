//! Types as sets of the runtime kinds a value may have.
//!
//! The checker infers, for every node, the set of kinds its value can take at run time.
//! `any` is the full set; `number or null` is `NUMBER | NULL`. This makes the soundness
//! property simple to state and to test: the kind of every value an expression produces
//! is in the set inferred for it.

use std::fmt;
use std::ops::{BitAnd, BitOr, Sub};

/// A set of value kinds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TypeSet(u16);

impl TypeSet {
    /// No kind at all (an expression that never yields a value).
    pub const NEVER: TypeSet = TypeSet(0);
    /// `null`
    pub const NULL: TypeSet = TypeSet(1);
    /// `boolean`
    pub const BOOLEAN: TypeSet = TypeSet(1 << 1);
    /// `number`
    pub const NUMBER: TypeSet = TypeSet(1 << 2);
    /// `string`
    pub const STRING: TypeSet = TypeSet(1 << 3);
    /// `date`
    pub const DATE: TypeSet = TypeSet(1 << 4);
    /// `datetime`
    pub const DATETIME: TypeSet = TypeSet(1 << 5);
    /// `array`
    pub const ARRAY: TypeSet = TypeSet(1 << 6);
    /// `object`
    pub const OBJECT: TypeSet = TypeSet(1 << 7);
    /// Every kind.
    pub const ANY: TypeSet = TypeSet(0xff);

    const NAMES: [(TypeSet, &'static str); 8] = [
        (TypeSet::BOOLEAN, "boolean"),
        (TypeSet::NUMBER, "number"),
        (TypeSet::STRING, "string"),
        (TypeSet::DATE, "date"),
        (TypeSet::DATETIME, "datetime"),
        (TypeSet::ARRAY, "array"),
        (TypeSet::OBJECT, "object"),
        (TypeSet::NULL, "null"),
    ];

    /// True when every kind of `other` is in `self`.
    pub fn contains(self, other: TypeSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when the two sets share a kind.
    pub fn intersects(self, other: TypeSet) -> bool {
        self.0 & other.0 != 0
    }

    /// True for the empty set.
    pub fn is_never(self) -> bool {
        self.0 == 0
    }

    /// The set without `null`.
    pub fn non_null(self) -> TypeSet {
        self - TypeSet::NULL
    }

    /// True when `null` is possible.
    pub fn nullable(self) -> bool {
        self.intersects(TypeSet::NULL)
    }

    /// `self` plus `null` when `cond` holds.
    pub const fn or_null_if(self, cond: bool) -> TypeSet {
        if cond {
            self.union(TypeSet::NULL)
        } else {
            self
        }
    }

    /// Both sets together (usable in constants).
    pub const fn union(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 | other.0)
    }

    /// The type of a value that is certainly incompatible with `accepted`:
    /// true when some non-null kind is possible and none of them is accepted.
    pub fn certainly_outside(self, accepted: TypeSet) -> bool {
        let possible = self.non_null();
        !possible.is_never() && !possible.intersects(accepted)
    }

    /// Parses a schema type name (`string`, `number`, `boolean`, `date`, `datetime`,
    /// `array`, `object`, `any`).
    pub fn from_name(name: &str) -> Option<TypeSet> {
        if name.eq_ignore_ascii_case("any") {
            return Some(TypeSet::ANY);
        }
        TypeSet::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(t, _)| *t)
    }
}

impl BitOr for TypeSet {
    type Output = TypeSet;
    fn bitor(self, rhs: TypeSet) -> TypeSet {
        TypeSet(self.0 | rhs.0)
    }
}

impl BitAnd for TypeSet {
    type Output = TypeSet;
    fn bitand(self, rhs: TypeSet) -> TypeSet {
        TypeSet(self.0 & rhs.0)
    }
}

impl Sub for TypeSet {
    type Output = TypeSet;
    fn sub(self, rhs: TypeSet) -> TypeSet {
        TypeSet(self.0 & !rhs.0)
    }
}

impl fmt::Display for TypeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == TypeSet::ANY {
            return f.write_str("any");
        }
        if self.is_never() {
            return f.write_str("never");
        }
        let names: Vec<&str> = TypeSet::NAMES
            .iter()
            .filter(|(t, _)| self.contains(*t))
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&names.join(" or "))
    }
}

impl fmt::Debug for TypeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
