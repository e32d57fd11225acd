//! Field names and paths: `data('Name')`, `data('Address.City')`, `data('Lines[0].Qty')`.
//!
//! A name is first looked up as a key of the record as it is; only when that key is
//! absent and the name contains `.` or `[n]` is it read as a path.

use std::sync::Arc;

use super::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An object key.
    Key(Arc<str>),
    /// An array index (negative counts from the end).
    Index(i64),
}

/// A field reference, resolved once (at compile time for literal names).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    /// The name as written.
    pub name: Arc<str>,
    /// The steps when the name can be read as a path.
    pub steps: Option<Vec<Step>>,
    /// Slots bound by the executor: the slot of the exact name, and of the path's root.
    pub slots: Option<(Option<usize>, Option<usize>)>,
}

impl FieldPath {
    /// Resolves a field name.
    pub fn new(name: &str) -> Self {
        FieldPath {
            name: Arc::from(name),
            steps: parse_steps(name),
            slots: None,
        }
    }

    /// Reads the field from the slots the executor parsed, or from `record` when this
    /// path is not bound to slots.
    #[inline(always)]
    pub fn read_from(&self, record: &Value, slots: Option<&[Option<Value>]>) -> Value {
        self.read_ref(record, slots).cloned().unwrap_or(Value::Null)
    }

    /// [`FieldPath::read_from`] without copying the value: where it is in `record` or
    /// the slots; `None` when absent (null).
    pub fn read_ref<'v>(
        &self,
        record: &'v Value,
        slots: Option<&'v [Option<Value>]>,
    ) -> Option<&'v Value> {
        let (Some((exact, root)), Some(slots)) = (self.slots, slots) else {
            return match record.get_key(&self.name) {
                Some(v) => Some(v),
                None => walk(record, self.steps.as_deref()?),
            };
        };
        if let Some(Some(v)) = exact.and_then(|i| slots.get(i)) {
            return Some(v);
        }
        match (&self.steps, root.and_then(|i| slots.get(i))) {
            (Some(steps), Some(Some(root_value))) => {
                walk(root_value, steps.get(1..).unwrap_or(&[]))
            }
            _ => None,
        }
    }

    /// The value of this field in `record`; null when absent.
    pub fn read(&self, record: &Value) -> Value {
        if let Some(v) = record.get_key(&self.name) {
            return v.clone();
        }
        match &self.steps {
            Some(steps) => walk(record, steps).cloned().unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    /// The top-level key this field reads first.
    pub fn root(&self) -> &str {
        match self.steps.as_deref() {
            Some([Step::Key(k), ..]) => k,
            _ => &self.name,
        }
    }
}

/// The element at `index` of `items` (negative counts from the end).
pub fn index_of(items: &[Value], index: i64) -> Option<&Value> {
    let len = i64::try_from(items.len()).ok()?;
    let i = if index < 0 { len + index } else { index };
    usize::try_from(i).ok().and_then(|i| items.get(i))
}

fn walk<'v>(mut value: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    for step in steps {
        value = match (step, value) {
            (Step::Key(k), Value::Object(map)) => map.get(&**k)?,
            (Step::Index(i), Value::Array(items)) => index_of(items, *i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// `a.b[0].c` → steps; `None` when the name has no path syntax or is malformed.
fn parse_steps(name: &str) -> Option<Vec<Step>> {
    if !name.contains(['.', '[']) {
        return None;
    }
    let mut steps = Vec::new();
    for part in name.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(Arc::from(key)));
        } else if rest.is_empty() {
            return None;
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let close = stripped.find(']')?;
            let index: i64 = stripped.get(..close)?.trim().parse().ok()?;
            steps.push(Step::Index(index));
            rest = stripped.get(close + 1..)?;
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_record;

    #[test]
    fn reads_paths_only_when_key_absent() {
        let rec = parse_record(r#"{"a.b": 1, "a": {"b": 2}, "L": [{"q": 5}, {"q": 7}]}"#).unwrap();
        assert_eq!(FieldPath::new("a.b").read(&rec).to_json(), "1");
        assert_eq!(FieldPath::new("L[1].q").read(&rec).to_json(), "7");
        assert_eq!(FieldPath::new("L[-1].q").read(&rec).to_json(), "7");
        assert_eq!(FieldPath::new("L[9].q").read(&rec), Value::Null);
        assert_eq!(FieldPath::new("missing").read(&rec), Value::Null);
    }
}
