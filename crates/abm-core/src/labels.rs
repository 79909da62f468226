//! Labels as the team uses them in GitLab: plain (`abm`) or scoped (`ABM-Priority::High`). The
//! scope is everything before the last `::`, so `workflow::backend::review` and
//! `workflow::frontend::review` are different scopes. An item holds at most one label per scope:
//! adding a value replaces the old one. GitLab enforces that only on paid tiers; abm always does.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A label name, parsed: trimmed, non-empty, no commas (GitLab splits label lists on them), no
/// control characters, at most 255 characters; a scoped label has a non-empty scope and value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("a label cannot be empty")]
    Empty,
    #[error("label {0:?} is longer than 255 characters")]
    TooLong(String),
    #[error("label {0:?} contains a comma or a control character")]
    BadCharacter(String),
    #[error("label {0:?} has an empty scope or value around \"::\"")]
    EmptyPart(String),
}

impl Label {
    pub fn parse(s: &str) -> Result<Self, LabelError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(LabelError::Empty);
        }
        if t.chars().count() > 255 {
            return Err(LabelError::TooLong(t.to_string()));
        }
        if t.chars().any(|c| c == ',' || c.is_control()) {
            return Err(LabelError::BadCharacter(t.to_string()));
        }
        if let Some((scope, value)) = t.rsplit_once("::") {
            if scope.trim().is_empty() || value.trim().is_empty() {
                return Err(LabelError::EmptyPart(t.to_string()));
            }
        }
        Ok(Self(t.to_string()))
    }

    /// Everything before the last `::`, for scoped labels.
    pub fn scope(&self) -> Option<&str> {
        self.0.rsplit_once("::").map(|(s, _)| s)
    }

    /// The part after the last `::` (the whole name for plain labels).
    pub fn value(&self) -> &str {
        self.0.rsplit_once("::").map(|(_, v)| v).unwrap_or(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Label::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Stored label sets are read back through [`LabelSet::add`], so one value per scope holds even
/// for data written by something else.
impl<'de> Deserialize<'de> for LabelSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut set = LabelSet::new();
        for l in Vec::<Label>::deserialize(d)? {
            set.add(l);
        }
        Ok(set)
    }
}

/// The labels on one item, at most one per scope, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelSet(Vec<Label>);

/// What an add changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    New,
    AlreadyThere,
    /// The label of the same scope it replaced.
    Replaced(Label),
}

impl LabelSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a label; a scoped label replaces the one with the same scope.
    pub fn add(&mut self, label: Label) -> Added {
        if self.0.contains(&label) {
            return Added::AlreadyThere;
        }
        if let Some(scope) = label.scope() {
            if let Some(i) = self.0.iter().position(|l| l.scope() == Some(scope)) {
                let old = std::mem::replace(&mut self.0[i], label);
                return Added::Replaced(old);
            }
        }
        self.0.push(label);
        Added::New
    }

    /// Remove a label by name; true when it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|l| l.as_str() != name);
        self.0.len() != before
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|l| l.as_str() == name)
    }

    /// The value held for a scope: `value_of("ABM-Priority")` → `Some("High")`.
    pub fn value_of(&self, scope: &str) -> Option<&str> {
        self.0.iter().find(|l| l.scope() == Some(scope)).map(|l| l.value())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn l(s: &str) -> Label {
        Label::parse(s).unwrap()
    }

    #[test]
    fn adding_a_value_replaces_the_scope() {
        let mut set = LabelSet::new();
        set.add(l("ABM-Priority::Low"));
        set.add(l("abm"));
        assert_eq!(
            set.add(l("ABM-Priority::High")),
            Added::Replaced(l("ABM-Priority::Low"))
        );
        assert_eq!(
            set.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
            vec!["ABM-Priority::High", "abm"]
        );
        assert_eq!(set.value_of("ABM-Priority"), Some("High"));
        assert_eq!(set.add(l("abm")), Added::AlreadyThere);
    }

    #[test]
    fn scope_is_before_the_last_double_colon() {
        let mut set = LabelSet::new();
        set.add(l("workflow::backend::review"));
        set.add(l("workflow::frontend::review"));
        assert_eq!(set.len(), 2);
        assert_eq!(l("workflow::backend::review").scope(), Some("workflow::backend"));
        assert_eq!(l("abm").scope(), None);
    }

    #[test]
    fn names_are_parsed() {
        assert_eq!(l("  mktg-status::wip ").as_str(), "mktg-status::wip");
        for bad in ["", "   ", "a,b", "::High", "ABM-Priority::", "tab\there"] {
            assert!(Label::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Label::parse(&"x".repeat(256)).is_err());
    }

    proptest! {
        /// Whatever is added, no scope ever holds two values, and the last value added wins.
        #[test]
        fn one_value_per_scope(adds in proptest::collection::vec((0usize..3, 0usize..4), 0..40)) {
            let scopes = ["ABM-Priority", "mktg-status", "workflow::backend"];
            let mut set = LabelSet::new();
            let mut last = std::collections::HashMap::new();
            for (s, v) in adds {
                set.add(l(&format!("{}::v{v}", scopes[s])));
                last.insert(s, v);
            }
            for (s, v) in last {
                let want = format!("v{v}");
                prop_assert_eq!(set.value_of(scopes[s]), Some(want.as_str()));
                prop_assert_eq!(set.iter().filter(|x| x.scope() == Some(scopes[s])).count(), 1);
            }
        }
    }
}
