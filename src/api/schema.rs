//! The declared type of a record field.

use crate::value::TypeSet;

/// The type of a record field in [`Options::schema`](crate::Options::schema), or of a host
/// function's parameter or result.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text.
    String,
    /// An exact decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A calendar date (ISO 8601 text in records).
    Date,
    /// An instant with its offset (RFC 3339 text in records).
    DateTime,
    /// A list.
    Array,
    /// Fields.
    Object,
    /// Any of them.
    Any,
}

impl FieldType {
    /// The name connector files use (`number`, `datetime`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Array => "array",
            FieldType::Object => "object",
            FieldType::Any => "any",
        }
    }

    /// The kinds of value it admits.
    pub(crate) fn type_set(self) -> TypeSet {
        match self {
            FieldType::String => TypeSet::STRING,
            FieldType::Number => TypeSet::NUMBER,
            FieldType::Boolean => TypeSet::BOOLEAN,
            FieldType::Date => TypeSet::DATE,
            FieldType::DateTime => TypeSet::DATETIME,
            FieldType::Array => TypeSet::ARRAY,
            FieldType::Object => TypeSet::OBJECT,
            FieldType::Any => TypeSet::ANY,
        }
    }
}
