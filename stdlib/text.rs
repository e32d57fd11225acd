//! Text functions. Positions are 1-based; lengths count characters, not bytes.

use super::{ex, opt, Category, Function, Imp, Returns};
use crate::runtime::{Ctx, EvalError};
use crate::types::TypeSet;
use crate::value::Value;

/// The text functions.
pub const FUNCTIONS: &[Function] = &[Function {
    name: "concat",
    category: Category::Text,
    params: &[opt("values", TypeSet::ANY)],
    variadic: true,
    returns: Returns::Fixed(TypeSet::STRING),
    doc: "Joins the text forms of all arguments; null counts as ''.",
    examples: &[
        ex(
            "concat(data('firstName'), ' ', data('lastName'))",
            r#"{"firstName": "Ada", "lastName": "Lovelace"}"#,
            r#""Ada Lovelace""#,
        ),
        ex("concat('a', null, 1.50)", "{}", r#""a1.50""#),
        ex("concat()", "{}", r#""""#),
    ],
    imp: Imp::Eager(concat),
    pure: true,
    check: None,
}];

fn concat(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    let mut out = String::new();
    for a in args {
        a.write_text(&mut out);
    }
    Ok(Value::string(out))
}
