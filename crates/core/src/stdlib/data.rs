//! Data: reading fields of the current record and searching arrays of objects.

use super::args::{arg, text};
use super::{ex, opt, req, Category, Function, Imp, Returns};
use crate::diagnostics::codes;
use crate::runtime::{Ctx, EvalError, Lookups};
use crate::value::TypeSet;
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
        reads: super::Reads::FieldNamedByFirstArgument { instead: None },
        store: false,
    },
    Function {
        name: "findvalue",
        category: Category::Data,
        params: &[
            req("array", TypeSet::ARRAY),
            req("filter", TypeSet::OBJECT.union(TypeSet::ARRAY)),
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
        reads: super::Reads::Arguments,
        store: false,
    },
    lookup_fn(
        "vlookup",
        &[req("field", TypeSet::STRING), req("objectName", TypeSet::STRING), req("objectField", TypeSet::STRING), req("fieldLookup", TypeSet::STRING)],
        "Takes the name of a field of the current record, finds the stored record of Connect Object objectName whose objectField equals that field's value, and returns its fieldLookup; null when none matches. Several matches: the most recently updated.",
        &[
            ex("vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')", r#"{"CardCode": "C001"}"#, r#""FSM-3""#),
            ex("vlookup('CardCode', 'fsmcustomer', 'erp_id', 'customer_id')", r#"{"CardCode": "C999"}"#, "null"),
            ex("vlookup('Missing', 'fsmcustomer', 'erp_id', 'customer_id')", "{}", "null"),
        ],
        (
            vlookup,
            super::Reads::FieldNamedByFirstArgument {
                instead: Some("textvlookup"),
            },
        ),
    ),
    lookup_fn(
        "textvlookup",
        &[req("text", TypeSet::ANY), req("objectName", TypeSet::STRING), req("objectField", TypeSet::STRING), req("fieldLookup", TypeSet::STRING)],
        "Like vlookup, but `text` is the value to find (a literal or a formula result), so lookups chain. Several matches: the most recently updated.",
        &[
            ex("textvlookup('C002', 'fsmcustomer', 'erp_id', 'name')", "{}", r#""Beta 100% Bio_Markt""#),
            ex("textvlookup(textvlookup('FSM-1', 'fsmcustomer', 'customer_id', 'erp_id'), 'fsmcustomer', 'erp_id', 'name')", "{}", r#""Acme GmbH (new)""#),
            ex("textvlookup(null, 'fsmcustomer', 'erp_id', 'name')", "{}", "null"),
        ],
        (textvlookup, super::Reads::Arguments),
    ),
    lookup_fn(
        "textvlookuplike",
        &[req("text", TypeSet::STRING), req("objectName", TypeSet::STRING), req("objectField", TypeSet::STRING), req("fieldLookup", TypeSet::STRING)],
        "Like textvlookup, but objectField need only contain `text`, case-insensitively; `%` and `_` in text are literal characters. Several matches: the oldest (least recently updated).",
        &[
            ex("textvlookuplike('ACME', 'fsmcustomer', 'name', 'customer_id')", "{}", r#""FSM-4""#),
            ex("textvlookuplike('%', 'fsmcustomer', 'name', 'customer_id')", "{}", r#""FSM-2""#),
            ex("textvlookuplike('o_m', 'fsmcustomer', 'name', 'customer_id')", "{}", r#""FSM-2""#),
            ex("textvlookuplike('zzz', 'fsmcustomer', 'name', 'customer_id')", "{}", "null"),
        ],
        (textvlookuplike, super::Reads::Arguments),
    ),
    Function {
        name: "get_entity_data",
        category: Category::Data,
        params: &[req("objectName", TypeSet::STRING), req("filter", TypeSet::OBJECT.union(TypeSet::ARRAY))],
        variadic: false,
        returns: Returns::Fixed(TypeSet::ARRAY.union(TypeSet::NULL)),
        doc: "The stored records of Connect Object objectName matching every pair of the filter, most recently updated first; an empty array when none. An empty filter ([]) matches every record.",
        examples: &[
            ex("pluck(get_entity_data('fsmcustomer', ['erp_id' => 'C001']), 'customer_id')", "{}", r#"["FSM-3","FSM-1"]"#),
            ex("get_entity_data('fsmcustomer', ['erp_id' => 'none'])", "{}", "[]"),
            ex("count(get_entity_data('fsmcustomer', []))", "{}", "4"),
        ],
        imp: Imp::Eager(get_entity_data),
        pure: false,
        check: None,
        reads: super::Reads::Arguments,
        store: true,
    },
];

/// The Connect Objects the lookup examples run against (object type, NDJSON).
pub const EXAMPLE_OBJECTS: &[(&str, &str)] = &[(
    "fsmcustomer",
    r#"{"customer_id": "FSM-1", "erp_id": "C001", "name": "Acme GmbH", "updated_at": "2024-01-01T00:00:00Z"}
{"customer_id": "FSM-2", "erp_id": "C002", "name": "Beta 100% Bio_Markt", "updated_at": "2024-02-01T00:00:00Z"}
{"customer_id": "FSM-3", "erp_id": "C001", "name": "Acme GmbH (new)", "updated_at": "2024-03-01T00:00:00Z"}
{"customer_id": "FSM-4", "erp_id": "C004", "name": "acme north", "updated_at": "2023-06-01T00:00:00Z"}"#,
)];

const fn lookup_fn(
    name: &'static str,
    params: &'static [super::Param],
    doc: &'static str,
    examples: &'static [super::Example],
    (imp, reads): (super::EagerFn, super::Reads),
) -> Function {
    Function {
        name,
        category: Category::Data,
        params,
        variadic: false,
        returns: Returns::Fixed(TypeSet::ANY),
        doc,
        examples,
        imp: Imp::Eager(imp),
        pure: false,
        check: None,
        reads,
        store: true,
    }
}

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
    let filter = match arg(args, 1) {
        Value::Array(a) if a.is_empty() => &Value::Null,
        f @ (Value::Object(_) | Value::Null) => f,
        other => return Err(super::args::wrong_kind("findvalue", 1, "object", other)),
    };
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

fn store<'c>(ctx: &'c Ctx, func: &str) -> Result<&'c dyn Lookups, EvalError> {
    ctx.lookups.ok_or_else(|| {
        EvalError::new(
            codes::E307_LOOKUP,
            format!("{func}() needs the Connect Object store: pass --store DB, or load objects into sluice.db with `sluice objects load`"),
        )
    })
}

/// The `(objectName, objectField, fieldLookup)` text arguments 1–3 of the lookup functions.
fn lookup_names<'a>(
    args: &'a [Value],
    func: &str,
) -> Result<Option<(&'a str, &'a str, &'a str)>, EvalError> {
    let (Some(object), Some(field), Some(wanted)) = (
        text(args, 1, func)?,
        text(args, 2, func)?,
        text(args, 3, func)?,
    ) else {
        return Ok(None);
    };
    Ok(Some((object, field, wanted)))
}

fn pick(found: Option<Value>, wanted: &str) -> Value {
    found.map_or(Value::Null, |record| FieldPath::new(wanted).read(&record))
}

fn equal_lookup(value: &Value, args: &[Value], ctx: &Ctx, func: &str) -> Result<Value, EvalError> {
    let Some((object, field, wanted)) = lookup_names(args, func)? else {
        return Ok(Value::Null);
    };
    if value.is_null() {
        return Ok(Value::Null);
    }
    Ok(pick(
        store(ctx, func)?.latest_equal(object, field, value)?,
        wanted,
    ))
}

fn vlookup(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(name) = text(args, 0, "vlookup")? else {
        return Ok(Value::Null);
    };
    let value = FieldPath::new(name).read(ctx.record);
    equal_lookup(&value, args, ctx, "vlookup")
}

fn textvlookup(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    equal_lookup(arg(args, 0), args, ctx, "textvlookup")
}

fn textvlookuplike(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(needle) = text(args, 0, "textvlookuplike")? else {
        return Ok(Value::Null);
    };
    let Some((object, field, wanted)) = lookup_names(args, "textvlookuplike")? else {
        return Ok(Value::Null);
    };
    Ok(pick(
        store(ctx, "textvlookuplike")?.oldest_containing(object, field, needle)?,
        wanted,
    ))
}

fn get_entity_data(args: &[Value], ctx: &Ctx) -> Result<Value, EvalError> {
    let Some(object) = text(args, 0, "get_entity_data")? else {
        return Ok(Value::Null);
    };
    let empty = crate::value::Map::default();
    let filter = match arg(args, 1) {
        Value::Null => &empty,
        Value::Array(items) if items.is_empty() => &empty,
        Value::Object(map) => &**map,
        other => {
            return Err(super::args::wrong_kind(
                "get_entity_data",
                1,
                "object",
                other,
            ))
        }
    };
    Ok(Value::array(
        store(ctx, "get_entity_data")?.all_matching(object, filter)?,
    ))
}
