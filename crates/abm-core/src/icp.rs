//! The ideal customer profile (ICP): profiles per segment, each a list of criteria over account
//! facts. **Core** criteria gate ICP membership; **weighted** criteria add points, and a profile's
//! points sum to 100, so the fit score is 0–100 and an explanation's points always add up to it.
//! Bands turn the score into a grade (A–D); an account that fails a core criterion is graded D.
//!
//! Facts come with their source and date. A criterion can look past the first source
//! (`any_source`): the handbook's rule that a low developer count from one provider never excludes
//! an account on its own. Scoring has a fast path (no allocation) for rescoring millions of
//! accounts and an explaining path that says, per criterion, the value used, where it came from,
//! pass or fail, and points.

use crate::account::Segment;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Grade {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(Grade::A),
            "B" => Ok(Grade::B),
            "C" => Ok(Grade::C),
            "D" => Ok(Grade::D),
            other => Err(format!("expected a grade A, B, C or D, found {other:?}")),
        }
    }
}

/// A fact's value, parsed once so scoring never parses.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    Number(f64),
    Bool(bool),
    /// Lower-cased, for case-insensitive tests; `shown` keeps what the source said.
    Text {
        lower: Box<str>,
        shown: Box<str>,
    },
    /// Lower-cased items (a tech stack).
    List {
        lower: Box<[Box<str>]>,
        shown: Box<str>,
    },
}

impl FactValue {
    /// Parse text from a source: a number, a yes/no, a list (`;` or `,` separated) or text.
    pub fn parse(s: &str) -> Option<FactValue> {
        let t = s.trim();
        if t.is_empty() {
            return None;
        }
        if let Ok(n) = t.replace(',', "").parse::<f64>() {
            if n.is_finite() && !t.contains(';') {
                return Some(FactValue::Number(n));
            }
        }
        match t.to_ascii_lowercase().as_str() {
            "true" | "yes" => return Some(FactValue::Bool(true)),
            "false" | "no" => return Some(FactValue::Bool(false)),
            _ => {}
        }
        if t.contains(';') || t.contains(',') {
            let items: Vec<Box<str>> = t
                .split([';', ','])
                .map(|x| x.trim().to_lowercase().into_boxed_str())
                .filter(|x| !x.is_empty())
                .collect();
            return Some(FactValue::List {
                lower: items.into_boxed_slice(),
                shown: t.into(),
            });
        }
        Some(FactValue::Text {
            lower: t.to_lowercase().into(),
            shown: t.into(),
        })
    }

    pub fn shown(&self) -> String {
        match self {
            FactValue::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    n.to_string()
                }
            }
            FactValue::Bool(b) => b.to_string(),
            FactValue::Text { shown, .. } | FactValue::List { shown, .. } => shown.to_string(),
        }
    }

    /// The items a set test looks at: a list's items, or a single text value.
    fn items(&self) -> &[Box<str>] {
        match self {
            FactValue::List { lower, .. } => lower,
            FactValue::Text { lower, .. } => std::slice::from_ref(lower),
            _ => &[],
        }
    }
}

/// One value of one field, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub value: FactValue,
    pub source: Arc<str>,
    pub as_of: Option<NaiveDate>,
}

/// Everything scoring reads about one account: for each field the ICP uses (in
/// [`Icp::fields`] order), its facts in precedence order (best source first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountFacts {
    pub segment: Option<Segment>,
    /// The family's largest employee count (profiles can split a segment by it).
    pub employees: Option<u32>,
    pub values: Vec<Vec<Fact>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "test", content = "value", rename_all = "snake_case")]
pub enum Test {
    AtLeast(f64),
    AtMost(f64),
    Above(f64),
    Below(f64),
    /// Any item of the value is in the set (case-insensitive).
    AnyOf(Vec<String>),
    AllOf(Vec<String>),
    NoneOf(Vec<String>),
    IsTrue,
    IsFalse,
}

impl Test {
    fn passes(&self, v: &FactValue, set: &[Box<str>]) -> bool {
        match (self, v) {
            (Test::AtLeast(x), FactValue::Number(n)) => n >= x,
            (Test::AtMost(x), FactValue::Number(n)) => n <= x,
            (Test::Above(x), FactValue::Number(n)) => n > x,
            (Test::Below(x), FactValue::Number(n)) => n < x,
            // A number in a set test matches a set member that reads as the same number ("1.5").
            (Test::AnyOf(_), FactValue::Number(n)) => set.iter().any(|s| s.parse::<f64>().ok() == Some(*n)),
            (Test::NoneOf(_), FactValue::Number(n)) => !set.iter().any(|s| s.parse::<f64>().ok() == Some(*n)),
            (Test::AnyOf(_), v) => v.items().iter().any(|i| set.contains(i)),
            (Test::AllOf(_), v) => set.iter().all(|s| v.items().contains(s)),
            (Test::NoneOf(_), v) => !v.items().iter().any(|i| set.contains(i)),
            (Test::IsTrue, FactValue::Bool(b)) => *b,
            (Test::IsFalse, FactValue::Bool(b)) => !*b,
            _ => false,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Test::AtLeast(x) => format!("≥ {x}"),
            Test::AtMost(x) => format!("≤ {x}"),
            Test::Above(x) => format!("> {x}"),
            Test::Below(x) => format!("< {x}"),
            Test::AnyOf(s) => format!("any of {}", s.join(", ")),
            Test::AllOf(s) => format!("all of {}", s.join(", ")),
            Test::NoneOf(s) => format!("none of {}", s.join(", ")),
            Test::IsTrue => "is true".into(),
            Test::IsFalse => "is false".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnMissing {
    Fail,
    Pass,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub name: String,
    /// Index into [`Icp::fields`].
    #[serde(skip)]
    pub field: usize,
    pub field_name: String,
    #[serde(flatten)]
    pub test: Test,
    /// A gate: fail it and the account is not ICP. Core criteria carry no points.
    pub core: bool,
    pub points: u32,
    pub on_missing: OnMissing,
    /// Pass when any source's value passes (a low value from one source never excludes alone).
    pub any_source: bool,
    /// The set, lower-cased, for set tests.
    #[serde(skip)]
    set: Vec<Box<str>>,
}

impl Criterion {
    pub fn new(
        name: &str,
        field: usize,
        field_name: &str,
        test: Test,
        core: bool,
        points: u32,
        on_missing: OnMissing,
        any_source: bool,
    ) -> Self {
        let set = match &test {
            Test::AnyOf(s) | Test::AllOf(s) | Test::NoneOf(s) => {
                s.iter().map(|x| x.trim().to_lowercase().into_boxed_str()).collect()
            }
            _ => Vec::new(),
        };
        Self {
            name: name.into(),
            field,
            field_name: field_name.into(),
            test,
            core,
            points: if core { 0 } else { points },
            on_missing,
            any_source,
            set,
        }
    }

    /// Whether the criterion passes, and which fact decided (None: the value was missing).
    fn judge<'a>(&self, facts: &'a [Fact]) -> (bool, Option<&'a Fact>) {
        let Some(first) = facts.first() else {
            return (self.on_missing == OnMissing::Pass, None);
        };
        if self.any_source {
            if let Some(f) = facts.iter().find(|f| self.test.passes(&f.value, &self.set)) {
                return (true, Some(f));
            }
            return (false, Some(first));
        }
        (self.test.passes(&first.value, &self.set), Some(first))
    }
}

/// Which accounts a profile is for.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Applies {
    /// Empty: any segment.
    pub segments: Vec<Segment>,
    pub min_employees: Option<u32>,
    pub max_employees: Option<u32>,
}

impl Applies {
    fn matches(&self, a: &AccountFacts) -> bool {
        (self.segments.is_empty() || a.segment.is_some_and(|s| self.segments.contains(&s)))
            && self.min_employees.is_none_or(|m| a.employees.is_some_and(|e| e >= m))
            && self.max_employees.is_none_or(|m| a.employees.is_none_or(|e| e <= m))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub applies: Applies,
    pub criteria: Vec<Criterion>,
}

/// Grade bands: the lowest score of each grade, A first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bands {
    pub a: u32,
    pub b: u32,
    pub c: u32,
}

impl Default for Bands {
    fn default() -> Self {
        Self { a: 80, b: 60, c: 40 }
    }
}

impl Bands {
    pub fn grade(&self, score: u32) -> Grade {
        if score >= self.a {
            Grade::A
        } else if score >= self.b {
            Grade::B
        } else if score >= self.c {
            Grade::C
        } else {
            Grade::D
        }
    }
}

/// A whole ICP definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Icp {
    /// The fields criteria read, in the order [`AccountFacts::values`] holds them.
    pub fields: Vec<String>,
    pub profiles: Vec<Profile>,
    pub bands: Bands,
}

/// An account's fit, without the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fit {
    pub icp: bool,
    pub score: u32,
    pub grade: Grade,
    /// Index of the profile used, if one applied.
    pub profile: Option<usize>,
}

/// One criterion's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    pub criterion: String,
    pub field: String,
    pub test: String,
    pub core: bool,
    /// The value used ("missing" when there was none).
    pub value: String,
    pub source: Option<String>,
    pub as_of: Option<NaiveDate>,
    pub passed: bool,
    pub points: u32,
    pub max_points: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub icp: bool,
    pub score: u32,
    pub grade: Grade,
    pub profile: Option<String>,
    pub criteria: Vec<CriterionResult>,
    pub summary: String,
}

impl Icp {
    fn profile_for(&self, a: &AccountFacts) -> Option<usize> {
        self.profiles.iter().position(|p| p.applies.matches(a))
    }

    /// Score one account (the fast path: no allocation).
    pub fn fit(&self, a: &AccountFacts) -> Fit {
        let Some(pi) = self.profile_for(a) else {
            return Fit {
                icp: false,
                score: 0,
                grade: Grade::D,
                profile: None,
            };
        };
        let mut icp = true;
        let mut score = 0;
        for c in &self.profiles[pi].criteria {
            let facts = a.values.get(c.field).map(|v| v.as_slice()).unwrap_or(&[]);
            let (passed, _) = c.judge(facts);
            if c.core {
                icp &= passed;
            } else if passed {
                score += c.points;
            }
        }
        Fit {
            icp,
            score,
            grade: if icp { self.bands.grade(score) } else { Grade::D },
            profile: Some(pi),
        }
    }

    /// Score one account and say why, criterion by criterion.
    pub fn explain(&self, a: &AccountFacts) -> Explanation {
        let fit = self.fit(a);
        let Some(pi) = fit.profile else {
            return Explanation {
                icp: false,
                score: 0,
                grade: Grade::D,
                profile: None,
                criteria: Vec::new(),
                summary: format!(
                    "no profile applies (segment {}, family employees {})",
                    a.segment.map(|s| s.to_string()).unwrap_or_else(|| "unknown".into()),
                    a.employees.map(|e| e.to_string()).unwrap_or_else(|| "unknown".into())
                ),
            };
        };
        let p = &self.profiles[pi];
        let criteria: Vec<CriterionResult> = p
            .criteria
            .iter()
            .map(|c| {
                let facts = a.values.get(c.field).map(|v| v.as_slice()).unwrap_or(&[]);
                let (passed, fact) = c.judge(facts);
                CriterionResult {
                    criterion: c.name.clone(),
                    field: c.field_name.clone(),
                    test: c.test.describe(),
                    core: c.core,
                    value: fact.map(|f| f.value.shown()).unwrap_or_else(|| "missing".into()),
                    source: fact.map(|f| f.source.to_string()),
                    as_of: fact.and_then(|f| f.as_of),
                    passed,
                    points: if passed { c.points } else { 0 },
                    max_points: c.points,
                }
            })
            .collect();
        let failed_core: Vec<&str> = criteria
            .iter()
            .filter(|c| c.core && !c.passed)
            .map(|c| c.criterion.as_str())
            .collect();
        let summary = if failed_core.is_empty() {
            format!("ICP ({}): fit {} of 100, grade {}", p.name, fit.score, fit.grade)
        } else {
            format!(
                "not ICP ({}): fails {}; fit {} of 100, graded D",
                p.name,
                failed_core.join(", "),
                fit.score
            )
        };
        Explanation {
            icp: fit.icp,
            score: fit.score,
            grade: fit.grade,
            profile: Some(p.name.clone()),
            criteria,
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fact(v: &str, source: &str) -> Fact {
        Fact {
            value: FactValue::parse(v).unwrap(),
            source: source.into(),
            as_of: None,
        }
    }

    /// Fields: 0 developer_count, 1 tech_stack, 2 first_order_available.
    fn icp() -> Icp {
        let c = Criterion::new;
        Icp {
            fields: vec![
                "developer_count".into(),
                "tech_stack".into(),
                "first_order_available".into(),
            ],
            profiles: vec![Profile {
                name: "Large".into(),
                applies: Applies {
                    segments: vec![Segment::Large],
                    ..Default::default()
                },
                criteria: vec![
                    c(
                        "developers ≥ 500",
                        0,
                        "developer_count",
                        Test::AtLeast(500.0),
                        true,
                        0,
                        OnMissing::Fail,
                        true,
                    ),
                    c(
                        "first order",
                        2,
                        "first_order_available",
                        Test::IsTrue,
                        true,
                        0,
                        OnMissing::Fail,
                        false,
                    ),
                    c(
                        "developers ≥ 2000",
                        0,
                        "developer_count",
                        Test::AtLeast(2000.0),
                        false,
                        40,
                        OnMissing::Fail,
                        false,
                    ),
                    c(
                        "GitHub or Jenkins",
                        1,
                        "tech_stack",
                        Test::AnyOf(vec!["GitHub".into(), "Jenkins".into()]),
                        false,
                        60,
                        OnMissing::Fail,
                        false,
                    ),
                ],
            }],
            bands: Bands::default(),
        }
    }

    fn account(dev: &[(&str, &str)], stack: Option<&str>, first_order: bool) -> AccountFacts {
        AccountFacts {
            segment: Some(Segment::Large),
            employees: Some(5000),
            values: vec![
                dev.iter().map(|(v, s)| fact(v, s)).collect(),
                stack.map(|s| vec![fact(s, "gainsight")]).unwrap_or_default(),
                vec![fact(if first_order { "true" } else { "false" }, "family")],
            ],
        }
    }

    #[test]
    fn core_gates_and_points_add_up() {
        let icp = icp();
        let a = account(&[("2500", "aberdeen")], Some("GitHub;Bamboo"), true);
        let e = icp.explain(&a);
        assert!(e.icp);
        assert_eq!((e.score, e.grade), (100, Grade::A));
        assert_eq!(e.criteria[3].value, "GitHub;Bamboo");
        assert_eq!(e.criteria[3].source.as_deref(), Some("gainsight"));
        let b = account(&[("2500", "aberdeen")], Some("Bamboo"), false);
        let e = icp.explain(&b);
        assert!(!e.icp);
        assert_eq!((e.score, e.grade), (40, Grade::D));
        assert!(e.summary.contains("fails first order"), "{}", e.summary);
    }

    #[test]
    fn a_low_count_from_one_source_does_not_exclude_alone() {
        let icp = icp();
        let a = account(&[("120", "aberdeen"), ("900", "crm")], Some("jenkins"), true);
        let e = icp.explain(&a);
        assert!(e.icp, "{e:?}");
        assert_eq!(e.criteria[0].source.as_deref(), Some("crm"));
        assert_eq!(
            e.criteria[2].value, "120",
            "the weighted criterion reads the best source"
        );
        let missing = account(&[], Some("jenkins"), true);
        assert!(!icp.fit(&missing).icp);
        assert_eq!(icp.explain(&missing).criteria[0].value, "missing");
    }

    #[test]
    fn values_parse_to_what_tests_need() {
        assert_eq!(FactValue::parse("1,200"), Some(FactValue::Number(1200.0)));
        assert_eq!(FactValue::parse(" yes "), Some(FactValue::Bool(true)));
        assert!(matches!(FactValue::parse("AWS; GCP"), Some(FactValue::List { .. })));
        assert_eq!(FactValue::parse("  "), None);
        assert_eq!("b".parse::<Grade>().unwrap(), Grade::B);
        let rank = Test::AnyOf(vec!["1".into(), "1.5".into()]);
        let set: Vec<Box<str>> = vec!["1".into(), "1.5".into()];
        assert!(rank.passes(&FactValue::parse("1.5").unwrap(), &set));
        assert!(!rank.passes(&FactValue::parse("2").unwrap(), &set));
    }

    proptest! {
        #[test]
        fn explanation_points_sum_to_the_score(dev in proptest::option::of(0u32..5000), low in 0u32..5000, stack in 0usize..4, fo in any::<bool>()) {
            let icp = icp();
            let stacks = [None, Some("GitHub"), Some("Bamboo;Perforce"), Some("jenkins, svn")];
            let mut devs = vec![];
            if let Some(d) = dev { devs.push((d.to_string(), "aberdeen")); }
            devs.push((low.to_string(), "crm"));
            let devs: Vec<(&str, &str)> = devs.iter().map(|(a, b)| (a.as_str(), *b)).collect();
            let a = account(&devs, stacks[stack], fo);
            let e = icp.explain(&a);
            let fit = icp.fit(&a);
            prop_assert_eq!(e.criteria.iter().map(|c| c.points).sum::<u32>(), e.score);
            prop_assert_eq!((fit.icp, fit.score, fit.grade), (e.icp, e.score, e.grade));
            prop_assert!(e.score <= 100);
        }
    }
}
