//! Did-you-mean suggestions for misspelt names.

/// The candidate closest to `name` (case-insensitively), if it is close enough to be a
/// plausible misspelling.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (c, strsim::damerau_levenshtein(&lower, &c.to_lowercase())))
        .filter(|(c, d)| *d <= (c.chars().count().max(lower.chars().count()) / 3).max(1))
        .min_by_key(|(_, d)| *d)
        .map(|(c, _)| c)
}

/// "did you mean `x`?" when a value is close to an allowed one, else the allowed values.
pub fn one_of(value: &str, allowed: &[&str]) -> String {
    did_you_mean(value, allowed.iter().copied())
        .map(|s| format!("did you mean `{s}`?"))
        .unwrap_or_else(|| format!("allowed: {}", allowed.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_names() {
        assert_eq!(did_you_mean("conact", ["concat", "count"]), Some("concat"));
        assert_eq!(did_you_mean("UPER", ["upper", "lower"]), Some("upper"));
        assert_eq!(did_you_mean("xyz", ["concat", "upper"]), None);
    }
}
