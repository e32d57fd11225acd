//! Where each function comes from for a person porting a formula: its counterpart in Excel,
//! Power Fx and JSONata, and every deliberate difference with the reason. `docs/functions.md`
//! prints the table; the type checker reads the peers' own names and argument counts to
//! point at Sluice's spelling (E201, E202). A test keeps one row per function.

/// One function's counterparts (`—` where a language has none).
#[derive(Debug, Clone, Copy)]
pub struct Counterpart {
    /// The Sluice function.
    pub function: &'static str,
    /// Excel's function (Google Sheets' when Excel has none).
    pub excel: &'static str,
    /// Power Fx's.
    pub power_fx: &'static str,
    /// JSONata's.
    pub jsonata: &'static str,
    /// What differs on purpose, and why ("" when nothing).
    pub differences: &'static str,
}

const fn row(
    function: &'static str,
    excel: &'static str,
    power_fx: &'static str,
    jsonata: &'static str,
    differences: &'static str,
) -> Counterpart {
    Counterpart {
        function,
        excel,
        power_fx,
        jsonata,
        differences,
    }
}

/// Differences that hold for every function.
pub const GENERAL: &[(&str, &str)] = &[
    ("Numbers are exact decimals", "28 significant digits, no binary floating point: `0.1 + 0.2` is `0.3` where JSONata (and Excel's displayed 15 digits) work in doubles; money adds up to the cent."),
    ("Null, not zero or blank", "A missing field is null. Arithmetic with null is null (Excel treats an empty cell as 0), text functions read it as '' where they join (concat, textjoin) and give null otherwise; conditions use three-valued logic (null and false is false, null or true is true, a condition that is null does not hold), where Power Fx has Blank and Excel has none."),
    ("Errors are errors", "Where Excel returns an error value (#VALUE!, #NUM!, #DIV/0!) Sluice fails the record with a code (a dead letter) unless iferror/try catch it; impossible dates (`date(2012, 13, 14)`) are E305, not rolled over to the next year as Excel does, because an ERP date out of range is a data error to see, not to move."),
    ("Positions are 1-based", "As in Excel and Power Fx; JSONata's $substring is 0-based. A position or count with a fraction is truncated, as in Excel."),
    ("Names are case-insensitive", "`CONCAT`, `Concat` and `concat` are the same function; field names are case-sensitive."),
];

/// One row per function, in the order of the function table.
pub const COUNTERPARTS: &[Counterpart] = &[
    row("data", "a cell reference", "ThisRecord.Field", "a path", "Fentu Connect's data(): a missing field is null, not an error."),
    row("findvalue", "XLOOKUP over a range", "LookUp(table, cond, field)", "array[filter].key", "Matches every pair of the filter with plain equality; the default when none matches."),
    row("vlookup", "—", "LookUp", "—", "Fentu Connect's vlookup (field name, object, key field, result field) over the Connect Object store, not Excel's VLOOKUP(value, table, column); several matches: the most recently updated."),
    row("textvlookup", "—", "LookUp", "—", "vlookup with the value itself instead of a field name, so lookups chain."),
    row("textvlookuplike", "—", "LookUp with StartsWith/in", "—", "Contains, case-insensitively; `%` and `_` are literal characters."),
    row("get_entity_data", "FILTER", "Filter", "array[filter]", "Newest first."),
    row("if", "IF", "If", "cond ? a : b", "Without else the result is null (Excel: FALSE); a null condition takes the else branch."),
    row("ifs", "IFS", "If (with several conditions)", "—", "An optional default as the last argument (Excel: #N/A when none holds)."),
    row("switch", "SWITCH", "Switch", "—", "Plain equality: 1 and 1.0 are equal, '1' and 1 are not."),
    row("and", "AND", "And / &&", "and", "Short-circuits; three-valued with null."),
    row("or", "OR", "Or / ||", "or", "Short-circuits; three-valued with null."),
    row("not", "NOT", "Not / !", "$not", "not(null) is null (JSONata: $not(null) is true)."),
    row("coalesce", "—", "Coalesce", "a ? a : b", "Only null is skipped ('' is a value; Power Fx's Coalesce skips '' too: use ifempty)."),
    row("iferror", "IFERROR", "IfError", "—", ""),
    row("try", "—", "IfError(x, Blank())", "—", ""),
    row("isnull", "ISBLANK (of a cell)", "IsBlank", "$not($exists(x))", "'' is not null."),
    row("isblank", "ISBLANK", "IsBlank", "—", "isblank(' ') is true: white space counts as blank, because ERP exports pad empty fields with spaces (Excel's ISBLANK(\" \") and Power Fx's IsBlank(\" \") are false)."),
    row("ifempty", "—", "Coalesce", "—", "null or '' give the fallback."),
    row("concat", "CONCAT", "Concatenate", "$join / &", "null joins as ''."),
    row("concatenate", "CONCATENATE", "Concatenate", "&", "The same as concat."),
    row("upper", "UPPER", "Upper", "$uppercase", "Full Unicode: upper('straße') is 'STRASSE' (Excel keeps ß)."),
    row("lower", "LOWER", "Lower", "$lowercase", ""),
    row("proper", "PROPER", "Proper", "—", "As Excel: a letter after any non-letter is upper case ('76BudGet' → '76Budget', \"o'neil\" → \"O'Neil\")."),
    row("trim", "TRIM", "Trim", "—", "Removes all white space at the ends (Excel only spaces) and collapses inner spaces; tabs and line breaks inside stay, as in Excel: squish() is JSONata's $trim."),
    row("squish", "—", "—", "$trim", ""),
    row("clean", "CLEAN", "—", "—", "Removes every Unicode control character (Excel: codes 0–31)."),
    row("ltrim", "—", "TrimEnds (both)", "—", ""),
    row("rtrim", "—", "TrimEnds (both)", "—", ""),
    row("len", "LEN", "Len", "$length", "Counts characters (Unicode scalar values): an emoji is 1 where Excel counts 2."),
    row("left", "LEFT", "Left", "$substring(s, 0, n)", "A negative count is E306 (Excel: #VALUE!)."),
    row("right", "RIGHT", "Right", "$substring(s, -n)", ""),
    row("mid", "MID", "Mid", "$substring(s, start - 1, n)", "1-based like Excel; start below 1 is E306 (Excel: #VALUE!)."),
    row("find", "FIND", "Find", "$indexOf-like $contains", "0 when absent (Excel: #VALUE!, Power Fx: Blank), so find() can be compared without iferror; note the argument order (sub, s) is Excel's."),
    row("contains", "ISNUMBER(FIND())", "in (case-insensitive)", "$contains", "Case-sensitive (Power Fx's `in` is not)."),
    row("startswith", "—", "StartsWith (case-insensitive)", "—", "Case-sensitive."),
    row("endswith", "—", "EndsWith (case-insensitive)", "—", "Case-sensitive."),
    row("replace", "SUBSTITUTE", "Substitute", "$replace", "Replaces text, every occurrence; Excel's REPLACE (by position) is replaceat(): a 4-argument replace() names it (E202)."),
    row("substitute", "SUBSTITUTE", "Substitute", "$replace(s, old, new, limit)", "As Excel, with the optional instance number."),
    row("replaceat", "REPLACE", "Replace", "—", "As Excel: start is 1-based; past the end appends."),
    row("search", "SEARCH", "—", "$contains with a regex", "0 when absent (Excel: #VALUE!); wildcards ? * and ~ as in Excel."),
    row("textjoin", "TEXTJOIN", "Concat(table, ...)", "$join", "Arrays are spread one level."),
    row("split", "TEXTSPLIT", "Split", "$split", "An array of strings (Power Fx: a table)."),
    row("join", "TEXTJOIN(sep, FALSE, ...)", "Concat", "$join", "null elements count as ''."),
    row("padleft", "—", "—", "$pad(s, -n, ch)", ""),
    row("padright", "—", "—", "$pad(s, n, ch)", ""),
    row("repeat", "REPT", "—", "—", "Capped at the string limit (E310)."),
    row("regexmatch", "REGEXTEST (Sheets: REGEXMATCH)", "IsMatch", "$contains(s, /re/)", "Matches anywhere (Power Fx's IsMatch matches the whole text by default); Rust regex syntax, checked when the formula compiles."),
    row("regexextract", "REGEXEXTRACT", "Match", "$match", "null when nothing matches (Sheets: #N/A)."),
    row("regexreplace", "REGEXREPLACE", "—", "$replace(s, /re/, r)", "$1 and ${name} insert groups."),
    row("text", "TEXT", "Text", "$formatNumber / $fromMillis", "Excel's number and date codes; a pattern with % is strftime. An unknown code is an error (E204 for a literal), never printed as is. AM/PM prints upper case."),
    row("number", "VALUE", "Value", "$number", "Only plain numbers ('1,234' is E304: value() reads spreadsheet text)."),
    row("tonumber", "—", "IfError(Value(x), d)", "—", ""),
    row("round", "ROUND", "Round", "$round", "Halves away from zero as Excel (JSONata: half to even); the result keeps exactly `digits` places: round(1234.5, 2) is 1234.50."),
    row("roundup", "ROUNDUP", "RoundUp", "—", ""),
    row("rounddown", "ROUNDDOWN", "RoundDown", "—", ""),
    row("floor", "FLOOR", "—", "$floor", "Excel's significance (floor(1000, 15) is 990); one argument rounds down to a whole number like JSONata's $floor. Decimal places: round(x, d, 'floor')."),
    row("ceiling", "CEILING", "—", "$ceil", "Excel's significance (ceiling(4.1, 1) is 5; a significance of 0 gives 0)."),
    row("mround", "MROUND", "—", "—", ""),
    row("quotient", "QUOTIENT", "Trunc(a / b)", "—", ""),
    row("abs", "ABS", "Abs", "$abs", ""),
    row("mod", "MOD", "Mod", "%", "The sign of the divisor, as Excel and Power Fx (JSONata's % takes the dividend's)."),
    row("min", "MIN", "Min", "$min", "null when there is nothing (Excel: 0)."),
    row("max", "MAX", "Max", "$max", "null when there is nothing (Excel: 0)."),
    row("sum", "SUM", "Sum", "$sum", "Exact: sum([0.1, 0.2]) is 0.3."),
    row("avg", "AVERAGE", "Average", "$average", "null when there is nothing (Excel: #DIV/0!)."),
    row("formatnumber", "FIXED", "Text", "$formatNumber", "Separators as arguments (formatnumber(1234.5, 2, ',', '.') is '1.234,50'), independent of any locale."),
    row("parsenumber", "NUMBERVALUE", "Value(text, locale)", "$number", "The same argument order as NUMBERVALUE."),
    row("power", "POWER / ^", "Power / ^", "$power", "Exact for whole exponents and exact results (power(4, 0.5) is 2), else correctly rounded to 28 digits; a negative base with a fractional exponent is E306 (Excel: #NUM!)."),
    row("sqrt", "SQRT", "Sqrt", "$sqrt", "Correctly rounded to 28 digits."),
    row("exp", "EXP", "Exp", "—", "Correctly rounded to 28 digits."),
    row("ln", "LN", "Ln", "—", "Correctly rounded to 28 digits."),
    row("log", "LOG", "Log", "—", "Base 10 by default, as Excel and Power Fx."),
    row("now", "NOW", "Now", "$now", "One instant for the whole run (settable with --now), so a run is repeatable."),
    row("today", "TODAY", "Today", "—", "In the run's zone."),
    row("date", "DATE", "Date", "—", "An impossible date is E305 (Excel rolls date(2012, 13, 14) over to 2013-01-14)."),
    row("datetime", "DATE + TIME", "DateTime", "—", "In a named time zone."),
    row("parsedate", "DATEVALUE", "DateValue", "$toMillis(s, picture)", "strftime formats, tried in order; ISO 8601 by default, never the machine's locale."),
    row("formatdate", "TEXT", "Text", "$fromMillis(ms, picture)", "strftime with %, Excel date codes without."),
    row("dateadd", "EDATE / + n", "DateAdd", "—", "Month steps clamp to the month's end (Jan 31 + 1 month = Feb 28 or 29)."),
    row("datediff", "DATEDIF", "DateDiff", "—", "Negative when b is before a (DATEDIF: #NUM!); whole units truncated."),
    row("year", "YEAR", "Year", "—", ""),
    row("month", "MONTH", "Month", "—", ""),
    row("day", "DAY", "Day", "—", ""),
    row("hour", "HOUR", "Hour", "—", ""),
    row("minute", "MINUTE", "Minute", "—", ""),
    row("second", "SECOND", "Second", "—", ""),
    row("startof", "—", "—", "—", ""),
    row("totimezone", "—", "—", "—", "IANA zone names."),
    row("tounixtime", "—", "—", "$toMillis / 1000", "Seconds, not milliseconds."),
    row("fromunixtime", "—", "—", "$fromMillis(s * 1000)", "Seconds, not milliseconds."),
    row("weekday", "WEEKDAY", "Weekday", "—", "ISO by default (Monday = 1, as the specification of the language says); Excel's default is type 1 (Sunday = 1): weekday(d, 1) gives it."),
    row("weeknum", "WEEKNUM", "WeekNum", "—", ""),
    row("isoweeknum", "ISOWEEKNUM", "ISOWeekNum", "—", ""),
    row("dayofyear", "d - DATE(YEAR(d), 1, 0)", "—", "—", ""),
    row("eomonth", "EOMONTH", "—", "—", "A date, not a serial number."),
    row("edate", "EDATE", "DateAdd(d, n, Months)", "—", "A date, not a serial number."),
    row("datedif", "DATEDIF", "DateDiff", "—", "As Excel, including E306 when start is after end; 'MD' counts from the same day of the last whole month (Excel's MD has a documented bug at month ends)."),
    row("count", "COUNTA", "CountRows", "$count", "0 for null."),
    row("first", "INDEX(r, 1)", "First", "a[0]", ""),
    row("last", "INDEX(r, ROWS(r))", "Last", "a[-1]", ""),
    row("get", "INDEX", "Index", "a[i] / o.k", "Negative indices count from the end."),
    row("keys", "—", "—", "$keys", ""),
    row("values", "—", "—", "$lookup over $keys", ""),
    row("merge", "—", "Patch", "$merge", ""),
    row("pluck", "—", "ShowColumns", "a.key", ""),
    row("distinct", "UNIQUE", "Distinct", "$distinct", ""),
    row("sort", "SORT", "Sort", "$sort", "A total order across kinds (null first)."),
    row("reverse", "—", "—", "$reverse", "Strings too."),
    row("flatten", "TOCOL", "Ungroup", "a.*", "One level."),
    row("slice", "TAKE / DROP", "FirstN / LastN", "a[[i..j]]", "0-based, end excluded (as JSONata's and most languages' slices)."),
    row("in", "ISNUMBER(MATCH())", "in", "in", "Plain equality (Power Fx's `in` on text is a case-insensitive substring test)."),
    row("tostring", "TEXT(x, \"@\")", "Text", "$string", "Numbers keep their digits (1.50 stays '1.50')."),
    row("typeof", "TYPE", "—", "$type", "Names, not numbers."),
    row("toboolean", "—", "Boolean", "$boolean", "'false', '0', 'no', 'off' and '' are false (JSONata's $boolean('false') is true)."),
    row("parsejson", "—", "ParseJSON", "$eval", "Numbers read exactly."),
    row("tojson", "—", "JSON", "$string", ""),
    row("uuid", "—", "GUID", "—", "Version 4, lowercase."),
    row("hash", "—", "—", "—", ""),
    row("value", "VALUE", "Value", "$number", "Reads '$1,234.50', '12%' and '(1,000)' as a spreadsheet shows them."),
];

/// Names the peers use for something Sluice spells differently: the E201 hint.
pub const PEER_NAMES: &[(&str, &str)] = &[
    ("average", "avg"),
    ("counta", "count"),
    ("datevalue", "parsedate"),
    ("timevalue", "parsedate"),
    ("numbervalue", "parsenumber"),
    ("fixed", "formatnumber"),
    ("rept", "repeat"),
    ("int", "floor"),
    ("trunc", "rounddown"),
    ("iif", "if"),
    ("isempty", "isblank"),
    ("isnumber", "typeof(x) = 'number'"),
    ("istext", "typeof(x) = 'string'"),
    ("length", "len"),
    ("uppercase", "upper"),
    ("lowercase", "lower"),
    ("substring", "mid (1-based)"),
    ("indexof", "find (1-based, 0 when absent)"),
    ("textsplit", "split"),
    ("regextest", "regexmatch"),
    ("ismatch", "regexmatch"),
    ("string", "tostring"),
    ("boolean", "toboolean"),
    ("guid", "uuid"),
    ("unique", "distinct"),
    ("tomillis", "tounixtime (seconds)"),
    ("frommillis", "fromunixtime (seconds)"),
    (
        "xlookup",
        "findvalue over an array, or vlookup over the store",
    ),
    (
        "lookup",
        "findvalue over an array, or vlookup over the store",
    ),
];

/// Calls whose number of arguments is another language's: the E202 hint.
pub const ARITY_HINTS: &[(&str, usize, &str)] = &[
    ("replace", 4, "Excel's REPLACE(text, start, count, new) is replaceat(text, start, count, new); replace(s, old, new) replaces text"),
    ("ifs", 1, "ifs(c1, v1, c2, v2, ..., default?) takes conditions and values in pairs"),
    ("textjoin", 1, "textjoin(sep, ignore_empty, values...) takes the separator and whether to skip empty values first, as Excel's TEXTJOIN"),
];

/// The E201 hint for a name another language uses.
pub fn peer_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    PEER_NAMES
        .iter()
        .find(|(peer, _)| *peer == lower)
        .map(|(peer, ours)| format!("`{peer}` is spelled {ours} here"))
}

/// The E202 hint for a call with another language's number of arguments.
pub fn arity_hint(function: &str, given: usize) -> Option<&'static str> {
    ARITY_HINTS
        .iter()
        .find(|(f, n, _)| *f == function && *n == given)
        .map(|(_, _, hint)| *hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_has_one_row() {
        let functions: Vec<&str> = super::super::all().map(|f| f.name).collect();
        let rows: Vec<&str> = COUNTERPARTS.iter().map(|c| c.function).collect();
        let mut sorted_functions = functions.clone();
        sorted_functions.sort_unstable();
        let mut sorted_rows = rows.clone();
        sorted_rows.sort_unstable();
        assert_eq!(sorted_rows, sorted_functions);
    }

    #[test]
    fn peer_names_are_not_functions() {
        for (peer, _) in PEER_NAMES {
            assert!(super::super::lookup(peer).is_none(), "{peer} is a function");
        }
    }
}
