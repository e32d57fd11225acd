//! Resource limits with their defaults; every limit has its own error code.

/// Bounds on what one formula or one record may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest formula text in bytes (E009).
    pub max_formula_bytes: usize,
    /// Deepest nesting of the syntax tree (E008).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_formula_bytes: 64 * 1024,
            max_depth: 128,
        }
    }
}
