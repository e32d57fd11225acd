//! Data: reading fields of the current record and searching arrays of objects.

use super::args::arg;
use super::{ex, opt, req, Category, Function, Imp, Returns};
use crate::runtime::{Ctx, EvalError};
use crate::types::TypeSet;
use crate::value::{FieldPath, Value};

/// The data functions.
pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "data",
        category: Category::Data,
        params: &[req("field", TypeSet::STRING)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::ANY),
        doc: "The value of a field of the current record; null when absent. A name with `.` or `[n]` is read as a path when no key has that exact name. `$Name` is the same.",
        examples: &[
            ex("data('firstName')", r#"{"firstName": "Ada"}"#, r#""Ada""#),
            ex("data('Address.City')", r#"{"Address": {"City": "Bonn"}}"#, r#""Bonn""#),
            ex("data('Lines[1].Qty')", r#"{"Lines": [{"Qty": 1}, {"Qty": 3}]}"#, "3"),
            ex("data('missing')", "{}", "null"),
        ],
        imp: Imp::Eager(data),
        pure: false,
        check: None,
    },
    Function {
        name: "findvalue",
        category: Category::Data,
        params: &[
            req("array", TypeSet::ARRAY),
            req("filter", TypeSet::OBJECT),
            req("key", TypeSet::STRING),
            opt("default", TypeSet::ANY),
        ],
        variadic: false,
        returns: Returns::Fixed(TypeSet::ANY),
        doc: "The value of `key` in the first object of the array whose fields equal every pair of the filter; the default (or null) when none matches or the array is null or empty.",
        examples: &[
            ex(
                "findvalue(data('Contacts'), ['Type' => 'Primary'], 'Email', 'no-email@example.com')",
                r#"{"Contacts": [{"Type": "Other", "Email": "o@x.io"}, {"Type": "Primary", "Email": "p@x.io"}]}"#,
                r#""p@x.io""#,
            ),
            ex(
                "findvalue(data('Contacts'), ['Type' => 'Primary'], 'Email', 'no-email@example.com')",
                "{}",
                r#""no-email@example.com""#,
            ),
            ex("findvalue([], ['a' => 1], 'b')", "{}", "null"),
        ],
        imp: Imp::Eager(findvalue),
        pure: true,
        check: None,
    },
];

fn data(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    match arg(args, 0) {
        Value::Null => Ok(Value::Null),
        Value::String(name) => Ok(FieldPath::new(name).read(ctx.record)),
        other => Err(super::args::wrong_kind("data", 0, "string", other)),
    }
}

/// True when every pair of `filter` equals the same field of `candidate`.
pub fn matches_filter(candidate: &Value, filter: &Value) -> bool {
    match (candidate, filter) {
        (Value::Object(fields), Value::Object(wanted)) => wanted
            .iter()
            .all(|(k, v)| fields.get(k).unwrap_or(&Value::Null) == v),
        _ => false,
    }
}

fn findvalue(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let default = arg(args, 3).clone();
    let items = match arg(args, 0) {
        Value::Null => return Ok(default),
        Value::Array(items) => items,
        other => return Err(super::args::wrong_kind("findvalue", 0, "array", other)),
    };
    let filter = arg(args, 1);
    if !matches!(filter, Value::Object(_) | Value::Null) {
        return Err(super::args::wrong_kind("findvalue", 1, "object", filter));
    }
    let key = match super::args::text(args, 2, "findvalue")? {
        Some(k) => k,
        None => return Ok(default),
    };
    let found = items
        .iter()
        .find(|item| filter.is_null() || matches_filter(item, filter))
        .and_then(|item| item.get_key(key).cloned());
    Ok(found.unwrap_or(default))
}
