//! The order of values: within an orderable kind (numbers, text, booleans, dates,
//! datetimes), and a total order over all values for sorting.

use std::cmp::Ordering;

use super::Value;

/// The order of two values of the same orderable kind (numbers, text, booleans, dates,
/// datetimes); `None` for kinds that do not compare.
pub fn ordering(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A total order over all values (for sorting): null first, then by kind, then by value.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    ordering(a, b).unwrap_or_else(|| kind_rank(a).cmp(&kind_rank(b)))
}

fn kind_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Date(_) => 4,
        Value::DateTime(_) => 5,
        Value::Array(_) => 6,
        Value::Object(_) => 7,
    }
}
