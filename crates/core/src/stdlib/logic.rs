//! Logic: conditionals, boolean functions and null handling. Most are lazy: they evaluate
//! only the arguments they need.

use super::args::truth;
use super::{ex, opt, req, union_of_all, Category, Function, Imp, Returns};
use crate::runtime::{Ctx, EvalError, LazyArgs};
use crate::value::TypeSet;
use crate::value::Value;

const ANY: TypeSet = TypeSet::ANY;
const BOOL: TypeSet = TypeSet::BOOLEAN;

/// The logic functions.
pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "if",
        category: Category::Logic,
        params: &[req("condition", BOOL), req("then", ANY), opt("else", ANY)],
        variadic: false,
        returns: Returns::From(if_type),
        doc: "`then` when the condition holds, else `else` (null when left out); null counts as false. Only the branch taken is evaluated.",
        examples: &[
            ex("if(data('Qty') > 10, 'bulk', 'single')", r#"{"Qty": 12}"#, r#""bulk""#),
            ex("if(data('Missing'), 'yes', 'no')", "{}", r#""no""#),
            ex("if(false, 1)", "{}", "null"),
            ex("if(true, 1, 1 / 0)", "{}", "1"),
        ],
        imp: Imp::Lazy(if_),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "ifs",
        category: Category::Logic,
        params: &[req("condition", BOOL), req("value", ANY), opt("more", ANY)],
        variadic: true,
        returns: Returns::From(ifs_type),
        doc: "The value after the first condition that holds: ifs(c1, v1, c2, v2, ..., default?); the default (or null) when none holds.",
        examples: &[
            ex("ifs($n < 0, 'neg', $n = 0, 'zero', 'pos')", r#"{"n": 0}"#, r#""zero""#),
            ex("ifs($n < 0, 'neg', $n = 0, 'zero', 'pos')", r#"{"n": 5}"#, r#""pos""#),
            ex("ifs($n < 0, 'neg')", r#"{"n": null}"#, "null"),
        ],
        imp: Imp::Lazy(ifs),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "switch",
        category: Category::Logic,
        params: &[req("value", ANY), req("case", ANY), req("result", ANY), opt("more", ANY)],
        variadic: true,
        returns: Returns::From(switch_type),
        doc: "Compares the value with each case in turn (plain equality) and returns the result of the first match: switch(x, case1, r1, ..., default?).",
        examples: &[
            ex("switch($Type, 'C', 'Customer', 'S', 'Supplier', 'Other')", r#"{"Type": "S"}"#, r#""Supplier""#),
            ex("switch($Type, 'C', 'Customer', 'S', 'Supplier', 'Other')", r#"{"Type": "L"}"#, r#""Other""#),
            ex("switch($Type, 'C', 'Customer')", "{}", "null"),
        ],
        imp: Imp::Lazy(switch),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "and",
        category: Category::Logic,
        params: &[req("a", BOOL), opt("more", BOOL)],
        variadic: true,
        returns: Returns::Fixed(TypeSet::BOOLEAN.or_null_if(true)),
        doc: "True when every argument is true; stops at the first false. With a null and no false, null.",
        examples: &[
            ex("and(true, 1 < 2)", "{}", "true"),
            ex("and(true, false, 1 / 0 = 1)", "{}", "false"),
            ex("and(true, null)", "{}", "null"),
        ],
        imp: Imp::Lazy(and),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "or",
        category: Category::Logic,
        params: &[req("a", BOOL), opt("more", BOOL)],
        variadic: true,
        returns: Returns::Fixed(TypeSet::BOOLEAN.or_null_if(true)),
        doc: "True when any argument is true; stops at the first true. With a null and no true, null.",
        examples: &[
            ex("or(false, 2 > 1)", "{}", "true"),
            ex("or(null, false)", "{}", "null"),
            ex("or(true, 1 / 0 = 1)", "{}", "true"),
        ],
        imp: Imp::Lazy(or),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "not",
        category: Category::Logic,
        params: &[req("x", BOOL)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::BOOLEAN.or_null_if(true)),
        doc: "Logical negation; not(null) is null.",
        examples: &[
            ex("not(true)", "{}", "false"),
            ex("not(null)", "{}", "null"),
            ex("not($flag)", r#"{"flag": "yes"}"#, "error E301"),
        ],
        imp: Imp::Eager(not),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "coalesce",
        category: Category::Logic,
        params: &[req("value", ANY), opt("more", ANY)],
        variadic: true,
        returns: Returns::From(coalesce_type),
        doc: "The first argument that is not null (later arguments are not evaluated); null when all are.",
        examples: &[
            ex("coalesce(data('Mobile'), data('Phone'), 'n/a')", r#"{"Phone": "555-1"}"#, r#""555-1""#),
            ex("coalesce(null, null)", "{}", "null"),
            ex("coalesce('x', 1 / 0)", "{}", r#""x""#),
        ],
        imp: Imp::Lazy(coalesce),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "iferror",
        category: Category::Logic,
        params: &[req("value", ANY), req("fallback", ANY)],
        variadic: false,
        returns: Returns::From(union_of_all),
        doc: "The value, or the fallback when evaluating the value fails with a runtime error.",
        examples: &[
            ex("iferror(number($v), 0)", r#"{"v": "abc"}"#, "0"),
            ex("iferror(number($v), 0)", r#"{"v": "12.5"}"#, "12.5"),
            ex("iferror(1 / 0, null)", "{}", "null"),
        ],
        imp: Imp::Lazy(iferror),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "try",
        category: Category::Logic,
        params: &[req("value", ANY)],
        variadic: false,
        returns: Returns::From(try_type),
        doc: "The value, or null when evaluating it fails with a runtime error.",
        examples: &[
            ex("try(10 / $d)", r#"{"d": 0}"#, "null"),
            ex("try(10 / $d)", r#"{"d": 4}"#, "2.5"),
        ],
        imp: Imp::Lazy(try_),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "isnull",
        category: Category::Logic,
        params: &[req("x", ANY)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::BOOLEAN),
        doc: "True when the value is null (a missing field reads as null).",
        examples: &[
            ex("isnull(data('Missing'))", "{}", "true"),
            ex("isnull('')", "{}", "false"),
        ],
        imp: Imp::Eager(isnull),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "isblank",
        category: Category::Logic,
        params: &[req("x", ANY)],
        variadic: false,
        returns: Returns::Fixed(TypeSet::BOOLEAN),
        doc: "True when the value is null, '' or only white space.",
        examples: &[
            ex("isblank('   ')", "{}", "true"),
            ex("isblank(null)", "{}", "true"),
            ex("isblank(0)", "{}", "false"),
        ],
        imp: Imp::Eager(isblank),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
    Function {
        name: "ifempty",
        category: Category::Logic,
        params: &[req("value", ANY), req("fallback", ANY)],
        variadic: false,
        returns: Returns::From(union_of_all),
        doc: "The fallback when the value is null or '', else the value (the fallback is evaluated only when needed).",
        examples: &[
            ex("ifempty($Name, 'unknown')", r#"{"Name": ""}"#, r#""unknown""#),
            ex("ifempty($Name, 'unknown')", r#"{"Name": "Ada"}"#, r#""Ada""#),
            ex("ifempty(null, 0)", "{}", "0"),
        ],
        imp: Imp::Lazy(ifempty),
        pure: true,
        check: None,
        reads: super::Reads::Arguments,
        store: false,
    },
];

fn if_type(args: &[TypeSet]) -> TypeSet {
    let then = args.get(1).copied().unwrap_or(TypeSet::NULL);
    let otherwise = args.get(2).copied().unwrap_or(TypeSet::NULL);
    then | otherwise
}

fn ifs_type(args: &[TypeSet]) -> TypeSet {
    let mut t = union_of_all(&args.iter().skip(1).step_by(2).copied().collect::<Vec<_>>());
    if !args.len().is_multiple_of(2) {
        t = t | args.last().copied().unwrap_or(TypeSet::NULL);
    } else {
        t = t | TypeSet::NULL;
    }
    t
}

fn switch_type(args: &[TypeSet]) -> TypeSet {
    let rest = args.get(1..).unwrap_or(&[]);
    ifs_type(rest)
}

fn coalesce_type(args: &[TypeSet]) -> TypeSet {
    let all = union_of_all(args);
    if args.iter().any(|t| !t.nullable()) {
        all.non_null()
    } else {
        all
    }
}

fn try_type(args: &[TypeSet]) -> TypeSet {
    union_of_all(args) | TypeSet::NULL
}

fn if_(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    let cond = args.eval(0)?;
    if truth(&cond, "the condition of if()")? == Some(true) {
        args.eval(1)
    } else {
        args.eval(2)
    }
}

fn ifs(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    let n = args.count();
    let mut i = 0;
    while i + 1 < n {
        let cond = args.eval(i)?;
        if truth(&cond, "a condition of ifs()")? == Some(true) {
            return args.eval(i + 1);
        }
        i += 2;
    }
    if !n.is_multiple_of(2) {
        args.eval(n - 1)
    } else {
        Ok(Value::Null)
    }
}

fn switch(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    let n = args.count();
    let subject = args.eval(0)?;
    let mut i = 1;
    while i + 1 < n {
        if args.eval(i)? == subject {
            return args.eval(i + 1);
        }
        i += 2;
    }
    if n.is_multiple_of(2) {
        args.eval(n - 1)
    } else {
        Ok(Value::Null)
    }
}

fn and(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    let mut saw_null = false;
    for i in 0..args.count() {
        match truth(&args.eval(i)?, "an argument of and()")? {
            Some(false) => return Ok(Value::Bool(false)),
            Some(true) => {}
            None => saw_null = true,
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(true)
    })
}

fn or(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    let mut saw_null = false;
    for i in 0..args.count() {
        match truth(&args.eval(i)?, "an argument of or()")? {
            Some(true) => return Ok(Value::Bool(true)),
            Some(false) => {}
            None => saw_null = true,
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(false)
    })
}

fn not(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(
        match truth(super::args::arg(args, 0), "the argument of not()")? {
            Some(b) => Value::Bool(!b),
            None => Value::Null,
        },
    )
}

fn coalesce(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    for i in 0..args.count() {
        let v = args.eval(i)?;
        if !v.is_null() {
            return Ok(v);
        }
    }
    Ok(Value::Null)
}

fn iferror(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    match args.eval(0) {
        Ok(v) => Ok(v),
        Err(_) => args.eval(1),
    }
}

fn try_(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    Ok(args.eval(0).unwrap_or(Value::Null))
}

fn isnull(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(Value::Bool(super::args::arg(args, 0).is_null()))
}

/// True for null, '' and white-space-only text.
pub fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn isblank(args: &[Value], _: &Ctx) -> Result<Value, EvalError> {
    Ok(Value::Bool(is_blank(super::args::arg(args, 0))))
}

fn ifempty(args: &mut dyn LazyArgs, _: &Ctx) -> Result<Value, EvalError> {
    let v = args.eval(0)?;
    match &v {
        Value::Null => args.eval(1),
        Value::String(s) if s.is_empty() => args.eval(1),
        _ => Ok(v),
    }
}
