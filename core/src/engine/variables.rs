//! `{{name}}` variables in canned responses and ticket templates.

use std::borrow::Cow;

/// Replaces each `{{ name }}` with what `lookup` gives for the trimmed name. A name `lookup`
/// does not know stays as written, so a missing value is visible rather than silently
/// blank; an unclosed `{{` is kept as text.
pub(crate) fn fill<'a>(text: &str, mut lookup: impl FnMut(&str) -> Option<Cow<'a, str>>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match lookup(after[..end].trim()) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(name: &str) -> Option<Cow<'static, str>> {
        (name == "issue_type").then_some(Cow::Borrowed("Login"))
    }

    #[test]
    fn known_names_are_filled_and_unknown_ones_stay_visible() {
        assert_eq!(
            fill("Technical issue: {{issue_type}} ({{ missing }})", issue),
            "Technical issue: Login ({{ missing }})"
        );
        assert_eq!(fill("open {{ end", issue), "open {{ end");
        assert_eq!(fill("{{ issue_type }}", issue), "Login");
    }
}
