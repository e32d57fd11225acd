//! Schemas of Connect Objects: field name → type. With a schema, reading an undeclared
//! field is a compile error and field types are known statically.

use indexmap::IndexMap;

use super::TypeSet;

/// The declared fields of a Connect Object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// Field name → declared type.
    pub fields: IndexMap<String, TypeSet>,
}

impl Schema {
    /// A schema from `(name, type)` pairs.
    pub fn new(fields: impl IntoIterator<Item = (String, TypeSet)>) -> Self {
        Schema {
            fields: fields.into_iter().collect(),
        }
    }

    /// The declared type of `name`.
    pub fn get(&self, name: &str) -> Option<TypeSet> {
        self.fields.get(name).copied()
    }
}
