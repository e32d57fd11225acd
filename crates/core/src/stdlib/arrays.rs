//! Arrays and objects. Array indexes are 0-based (JSON habit); negative indexes count from
//! the end.

use std::sync::Arc;

use super::args::{arg, array, boolean, integer, text, too_large};
use super::{ex, opt, req, Category, Function, Imp, Returns};
use crate::runtime::index_value;
use crate::runtime::{Ctx, EvalError};
use crate::value::order::compare_values;
use crate::value::TypeSet;
use crate::value::{Map, Value};

const ARR: TypeSet = TypeSet::ARRAY;
const OBJ: TypeSet = TypeSet::OBJECT;
const ARR_OR_NULL: TypeSet = TypeSet::ARRAY.union(TypeSet::NULL);

macro_rules! array_fn {
    ($name:literal, $params:expr, $ret:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr) => {
        array_fn!($name, $params, false, $ret, $doc, [$($ex),*], $imp)
    };
    ($name:literal, $params:expr, $variadic:expr, $ret:expr, $doc:literal, [$($ex:expr),* $(,)?], $imp:expr) => {
        Function {
            name: $name,
            category: Category::Arrays,
            params: $params,
            variadic: $variadic,
            returns: Returns::Fixed($ret),
            doc: $doc,
            examples: &[$($ex),*],
            imp: Imp::Eager($imp),
            pure: true,
            check: None,
            reads: super::Reads::Arguments,
            store: false,
        }
    };
}

/// The array and object functions.
pub const FUNCTIONS: &[Function] = &[
    array_fn!("count", &[req("x", ARR.union(OBJ))], TypeSet::NUMBER,
        "The number of elements of an array or fields of an object; 0 for null.",
        [ex("count([1, 2, 3])", "{}", "3"), ex("count(['a' => 1])", "{}", "1"), ex("count(data('missing'))", "{}", "0")], count),
    array_fn!("first", &[req("array", ARR)], TypeSet::ANY, "The first element; null when empty.",
        [ex("first([3, 4])", "{}", "3"), ex("first([])", "{}", "null")], first),
    array_fn!("last", &[req("array", ARR)], TypeSet::ANY, "The last element; null when empty.",
        [ex("last([3, 4])", "{}", "4"), ex("last(null)", "{}", "null")], last),
    array_fn!("get", &[req("x", ARR.union(OBJ)), req("keyOrIndex", TypeSet::NUMBER.union(TypeSet::STRING)), opt("default", TypeSet::ANY)], TypeSet::ANY,
        "The field of an object or the element of an array (negative counts from the end); the default (or null) when missing.",
        [ex("get(['a' => 1], 'a')", "{}", "1"), ex("get([1, 2, 3], -1)", "{}", "3"), ex("get([1], 5, 'none')", "{}", r#""none""#)], get),
    array_fn!("keys", &[req("object", OBJ)], ARR_OR_NULL, "The field names of an object, in order.",
        [ex("keys(['b' => 1, 'a' => 2])", "{}", r#"["b","a"]"#), ex("keys(null)", "{}", "null")], keys),
    array_fn!("values", &[req("object", OBJ)], ARR_OR_NULL, "The field values of an object, in order.",
        [ex("values(['b' => 1, 'a' => 2])", "{}", "[1,2]"), ex("values(null)", "{}", "null")], values),
    array_fn!("merge", &[req("o1", OBJ), opt("more", OBJ)], true, TypeSet::OBJECT,
        "One object with the fields of all; a later object's field replaces an earlier one's; nulls are skipped.",
        [ex("merge(['a' => 1, 'b' => 2], ['b' => 3])", "{}", r#"{"a":1,"b":3}"#), ex("merge(null, ['a' => 1])", "{}", r#"{"a":1}"#)], merge),
    array_fn!("pluck", &[req("array", ARR), req("key", TypeSet::STRING)], ARR_OR_NULL,
        "The value of `key` in each object of the array (null where absent).",
        [ex("pluck(data('Lines'), 'Qty')", r#"{"Lines": [{"Qty": 1}, {"Qty": 4}, {}]}"#, "[1,4,null]"), ex("pluck(null, 'a')", "{}", "null")], pluck),
    array_fn!("distinct", &[req("array", ARR)], ARR_OR_NULL, "The elements without repeats, first occurrences kept in order.",
        [ex("distinct([1, 2, 1, '1'])", "{}", r#"[1,2,"1"]"#), ex("distinct([])", "{}", "[]")], distinct),
    array_fn!("sort", &[req("array", ARR), opt("desc", TypeSet::BOOLEAN)], ARR_OR_NULL,
        "The elements in ascending order (descending when desc is true): null first, then booleans, numbers, strings, dates, datetimes, arrays, objects.",
        [ex("sort([3, 1, 2])", "{}", "[1,2,3]"), ex("sort(['b', 'a'], true)", "{}", r#"["b","a"]"#), ex("sort([2, null, 1])", "{}", "[null,1,2]")], sort),
    array_fn!("reverse", &[req("x", ARR.union(TypeSet::STRING))], ARR.union(TypeSet::STRING).union(TypeSet::NULL), "The elements (or the characters of a string) in reverse order.",
        [ex("reverse([1, 2, 3])", "{}", "[3,2,1]"), ex("reverse('abc')", "{}", r#""cba""#)], reverse),
    array_fn!("flatten", &[req("array", ARR)], ARR_OR_NULL, "Nested arrays spliced in, one level deep.",
        [ex("flatten([[1, 2], 3, [[4]]])", "{}", "[1,2,3,[4]]"), ex("flatten(null)", "{}", "null")], flatten),
    array_fn!("slice", &[req("array", ARR), req("start", TypeSet::NUMBER), opt("end", TypeSet::NUMBER)], ARR_OR_NULL,
        "The elements from start up to (not including) end, 0-based; negative positions count from the end.",
        [ex("slice([1, 2, 3, 4], 1, 3)", "{}", "[2,3]"), ex("slice([1, 2, 3, 4], -2)", "{}", "[3,4]"), ex("slice([1], 5)", "{}", "[]")], slice),
    array_fn!("in", &[req("x", TypeSet::ANY), req("array", ARR)], TypeSet::BOOLEAN.union(TypeSet::NULL),
        "True when the array has an element equal to x (plain equality).",
        [ex("in('S', ['C', 'S'])", "{}", "true"), ex("in(1, ['1'])", "{}", "false"), ex("in(1, null)", "{}", "null")], in_array),
];

fn count(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let n = match arg(args, 0) {
        Value::Null => 0,
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        other => {
            return Err(super::args::wrong_kind(
                "count",
                0,
                "an array or object",
                other,
            ))
        }
    };
    Ok(Value::Number(n.into()))
}

fn first(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(array(args, 0, "first")?
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null))
}

fn last(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(array(args, 0, "last")?
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or(Value::Null))
}

fn get(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let found = index_value(arg(args, 0), arg(args, 1))?;
    Ok(if found.is_null() {
        arg(args, 2).clone()
    } else {
        found
    })
}

fn object<'a>(args: &'a [Value], i: usize, func: &str) -> Result<Option<&'a Arc<Map>>, EvalError> {
    match arg(args, i) {
        Value::Null => Ok(None),
        Value::Object(map) => Ok(Some(map)),
        other => Err(super::args::wrong_kind(func, i, "object", other)),
    }
}

fn keys(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(object(args, 0, "keys")?.map_or(Value::Null, |m| {
        Value::array(m.keys().map(|k| Value::str(k)).collect())
    }))
}

fn values(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(object(args, 0, "values")?
        .map_or(Value::Null, |m| Value::array(m.values().cloned().collect())))
}

fn merge(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let mut out = Map::default();
    for i in 0..args.len() {
        if let Some(m) = object(args, i, "merge")? {
            for (k, v) in m.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Value::object(out))
}

fn pluck(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(items), Some(key)) = (array(args, 0, "pluck")?, text(args, 1, "pluck")?) else {
        return Ok(Value::Null);
    };
    Ok(Value::array(
        items
            .iter()
            .map(|i| i.get_key(key).cloned().unwrap_or(Value::Null))
            .collect(),
    ))
}

fn distinct(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(items) = array(args, 0, "distinct")? else {
        return Ok(Value::Null);
    };
    let mut out: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in items {
        let key = match item {
            Value::Array(_) | Value::Object(_) => {
                let mut key = String::from("c");
                equality_key(item, &mut key);
                key
            }
            scalar => scalar_key(scalar),
        };
        if seen.insert(key) {
            out.push(item.clone());
        }
    }
    Ok(Value::array(out))
}

/// Writes a text that two arrays or objects share exactly when they are equal (`=`):
/// numbers normalized (`1.0` is `1`), instants in UTC, an object's fields in key order
/// (field order does not count). Hashed, it makes `distinct` one pass.
fn equality_key(value: &Value, out: &mut String) {
    use std::fmt::Write as _;
    match value {
        Value::Number(n) => {
            let _ = write!(out, "n{}", n.normalize());
        }
        Value::DateTime(t) => {
            let _ = write!(out, "t{}", t.to_utc().to_rfc3339());
        }
        Value::Array(items) => {
            out.push('[');
            for item in items.iter() {
                equality_key(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut fields: Vec<_> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (key, item) in fields {
                let _ = write!(out, "{:?}:", &**key);
                equality_key(item, out);
                out.push(',');
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar_key(scalar)),
    }
}

/// A hashable key equal for equal scalars (numbers by value: 1 and 1.0 are one key).
fn scalar_key(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("n{}", n.normalize()),
        other => format!("{}{}", other.type_name(), other.to_json()),
    }
}

fn sort(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(items) = array(args, 0, "sort")? else {
        return Ok(Value::Null);
    };
    let desc = boolean(args, 1, "sort")?.unwrap_or(false);
    let mut sorted = items.to_vec();
    sorted.sort_by(|a, b| {
        let ord = compare_values(a, b);
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
    Ok(Value::array(sorted))
}

fn reverse(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    match arg(args, 0) {
        Value::Null => Ok(Value::Null),
        Value::Array(items) => Ok(Value::array(items.iter().rev().cloned().collect())),
        Value::String(s) => Ok(Value::string(s.chars().rev().collect())),
        other => Err(super::args::wrong_kind(
            "reverse",
            0,
            "an array or string",
            other,
        )),
    }
}

fn flatten(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(items) = array(args, 0, "flatten")? else {
        return Ok(Value::Null);
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
        if out.len() > ctx.limits.max_array_len {
            return Err(too_large("flatten", "an array", ctx.limits.max_array_len));
        }
    }
    Ok(Value::array(out))
}

/// A position into a sequence of `len` (negative counts from the end), clamped to 0..=len.
fn clamp_position(p: i64, len: usize) -> usize {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let p = if p < 0 { len_i.saturating_add(p) } else { p };
    usize::try_from(p.clamp(0, len_i)).unwrap_or(len)
}

fn slice(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let (Some(items), Some(start)) = (array(args, 0, "slice")?, integer(args, 1, "slice")?) else {
        return Ok(Value::Null);
    };
    let len = items.len();
    let from = clamp_position(start, len);
    let to = integer(args, 2, "slice")?.map_or(len, |e| clamp_position(e, len));
    Ok(Value::array(
        items.get(from..to.max(from)).unwrap_or(&[]).to_vec(),
    ))
}

fn in_array(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let Some(items) = array(args, 1, "in")? else {
        return Ok(Value::Null);
    };
    let x = arg(args, 0);
    Ok(Value::Bool(items.iter().any(|i| i == x)))
}
