//! Engagement points, explained. Rules are additive: each rule that matches an activity (its kind
//! and conditions on its attributes) adds points, optionally taken from a numeric attribute
//! (a meeting's minutes) and optionally decaying with a half-life; a matching rule worth 0 keeps
//! the activity out of scores. Weights multiply by the person's title. A score is read over a
//! window ending on the as-of moment, and is the sum of the listed contributions, always.

use crate::activity::Activity;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    /// The activity kind it applies to (case-insensitive); none: any kind.
    pub kind: Option<String>,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub points: f64,
    /// Take the points from this numeric attribute instead (e.g. a meeting's `minutes`).
    pub points_from: Option<String>,
    pub half_life_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub attribute: String,
    /// is, is_not, contains, not_contains or any.
    pub op: String,
    #[serde(default)]
    pub value: String,
}

impl Condition {
    fn holds(&self, a: &Activity) -> bool {
        // Lower-cased only when the activity has the attribute: most have none.
        let v = a.attributes.get(&self.attribute);
        let lower = |v: &String| v.to_lowercase();
        let want = || self.value.to_lowercase();
        match (self.op.as_str(), v) {
            ("any", v) => v.is_some_and(|v| !v.is_empty()),
            ("is", Some(v)) => lower(v) == want(),
            ("is_not", v) => v.is_none_or(|v| lower(v) != want()),
            ("contains", Some(v)) => lower(v).contains(&want()),
            ("not_contains", v) => v.is_none_or(|v| !lower(v).contains(&want())),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    pub name: String,
    /// Any of these words in the person's title (case-insensitive).
    pub title_contains: Vec<String>,
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementRules {
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub weights: Vec<Weight>,
    /// A person with any scored activity this recently is engaged.
    #[serde(default = "ninety")]
    pub engaged_person_days: i64,
    /// An account is engaged at this many points (in the window) …
    #[serde(default = "twenty")]
    pub engaged_account_points: f64,
    /// … and this many engaged people.
    #[serde(default = "two")]
    pub engaged_account_people: usize,
}

fn ninety() -> i64 {
    90
}
fn twenty() -> f64 {
    20.0
}
fn two() -> usize {
    2
}

impl Rule {
    fn matches(&self, a: &Activity) -> bool {
        self.kind.as_ref().is_none_or(|k| k.eq_ignore_ascii_case(&a.kind)) && self.when.iter().all(|c| c.holds(a))
    }
}

/// One matching rule's undecayed part of one activity's points.
#[derive(Debug, Clone, PartialEq)]
pub struct Part<'r> {
    pub rule: &'r str,
    pub points: f64,
    pub weight: f64,
    pub half_life_days: Option<f64>,
}

impl Part<'_> {
    /// The decay factor of an activity at `at` read at `as_of` (1 without a half-life).
    pub fn decay_at(&self, at: DateTime<Utc>, as_of: DateTime<Utc>) -> f64 {
        let age_days = (as_of - at).num_seconds() as f64 / 86_400.0;
        self.half_life_days.map(|h| 0.5f64.powf(age_days / h)).unwrap_or(1.0)
    }
}

/// The parts an activity scores by (each matching rule's points times the person's weight), or
/// `None` when no rule matches or a matching rule worth 0 keeps it out of scores. The one place
/// points are decided: explanations and journey stages both read them from here.
pub fn score_activity<'r>(rules: &'r EngagementRules, a: &Activity, title: Option<&str>) -> Option<Vec<Part<'r>>> {
    // One pass over the rules, no list of the matching ones: this runs for each of ten million
    // activities. The person's weight is worked out once, when a rule first matches.
    let mut parts = Vec::new();
    let mut weight = None;
    for r in rules.rules.iter().filter(|r| r.matches(a)) {
        if r.points_from.is_none() && r.points == 0.0 {
            return None;
        }
        parts.push(Part {
            rule: &r.name,
            points: match &r.points_from {
                Some(attr) => a
                    .attributes
                    .get(attr)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .unwrap_or(0.0),
                None => r.points,
            },
            weight: *weight.get_or_insert_with(|| title_weight(rules, title)),
            half_life_days: r.half_life_days,
        });
    }
    (!parts.is_empty()).then_some(parts)
}

/// The product of the weights whose phrases the person's title holds.
fn title_weight(rules: &EngagementRules, title: Option<&str>) -> f64 {
    // Without a title (most activities' people are not in the CRM) only an empty phrase matches.
    let title = title.filter(|t| !t.is_empty()).map(str::to_lowercase);
    rules
        .weights
        .iter()
        .filter(|w| {
            w.title_contains.iter().any(|t| match &title {
                Some(title) => title.contains(&t.to_lowercase()),
                None => t.is_empty(),
            })
        })
        .map(|w| w.factor)
        .product()
}

/// One rule's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub email: Option<String>,
    pub source_id: String,
    pub rule: String,
    pub points: f64,
    pub weight: f64,
    pub decay: f64,
    pub total: f64,
    pub running_total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub as_of: DateTime<Utc>,
    pub window_days: i64,
    pub score: f64,
    pub engaged_people: usize,
    pub engaged: bool,
    pub contributions: Vec<Contribution>,
}

/// Explain an account's score: `activities` are the account's, each with the person's title if
/// known. The score is the sum of the contributions, in the order listed.
pub fn explain(
    rules: &EngagementRules,
    activities: &[(Activity, Option<String>)],
    as_of: DateTime<Utc>,
    window_days: i64,
) -> Explanation {
    let start = as_of - Duration::days(window_days);
    let engaged_since = as_of - Duration::days(rules.engaged_person_days);
    let mut sorted: Vec<&(Activity, Option<String>)> = activities.iter().filter(|(a, _)| a.at <= as_of).collect();
    sorted.sort_by(|x, y| (x.0.at, &x.0.source_id).cmp(&(y.0.at, &y.0.source_id)));
    let mut out = Vec::new();
    let mut running = 0.0;
    let mut people = BTreeSet::new();
    for (a, title) in sorted {
        let Some(parts) = score_activity(rules, a, title.as_deref()) else {
            continue;
        };
        if a.at >= engaged_since {
            if let Some(e) = &a.email {
                people.insert(e.to_lowercase());
            }
        }
        if a.at < start {
            continue;
        }
        for p in parts {
            let decay = p.decay_at(a.at, as_of);
            let total = p.points * p.weight * decay;
            running += total;
            out.push(Contribution {
                at: a.at,
                kind: a.kind.clone(),
                email: a.email.clone(),
                source_id: a.source_id.clone(),
                rule: p.rule.to_string(),
                points: p.points,
                weight: p.weight,
                decay,
                total,
                running_total: running,
            });
        }
    }
    let engaged_people = people.len();
    Explanation {
        as_of,
        window_days,
        score: running,
        engaged_people,
        engaged: running >= rules.engaged_account_points && engaged_people >= rules.engaged_account_people,
        contributions: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn act(id: u32, days_ago: i64, kind: &str, url: Option<&str>, email: &str) -> (Activity, Option<String>) {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
        let mut attributes = std::collections::BTreeMap::new();
        if let Some(u) = url {
            attributes.insert("url".to_string(), u.to_string());
        }
        attributes.insert("minutes".to_string(), "30".to_string());
        (
            Activity {
                source: "t".into(),
                source_id: id.to_string(),
                at: now - Duration::days(days_ago),
                kind: kind.into(),
                email: Some(email.into()),
                account_id: None,
                ip: None,
                company_domain: None,
                attributes,
            },
            Some(if email.starts_with("vp") {
                "VP Engineering".into()
            } else {
                "Engineer".into()
            }),
        )
    }

    fn rules() -> EngagementRules {
        let r = |name: &str, kind: Option<&str>, when: Vec<Condition>, points: f64| Rule {
            name: name.into(),
            kind: kind.map(String::from),
            when,
            points,
            points_from: None,
            half_life_days: None,
        };
        let url = |op: &str, v: &str| Condition {
            attribute: "url".into(),
            op: op.into(),
            value: v.into(),
        };
        EngagementRules {
            rules: vec![
                r("page view", Some("Web Visit"), vec![], 1.0),
                r(
                    "pricing page",
                    Some("Web Visit"),
                    vec![url("contains", "/pricing")],
                    4.0,
                ),
                r(
                    "careers page",
                    Some("Web Visit"),
                    vec![url("contains", "/careers")],
                    0.0,
                ),
                r("email open", Some("Email Open"), vec![], 0.1),
                Rule {
                    points_from: Some("minutes".into()),
                    ..r("meeting", Some("Meeting"), vec![], 0.0)
                },
            ],
            weights: vec![Weight {
                name: "VP".into(),
                title_contains: vec!["vp".into()],
                factor: 1.25,
            }],
            engaged_person_days: 90,
            engaged_account_points: 20.0,
            engaged_account_people: 2,
        }
    }

    #[test]
    fn additive_rules_weights_windows_and_exclusions() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
        let acts = vec![
            act(1, 1, "Web Visit", Some("https://x/pricing"), "vp@a.com"),
            act(2, 2, "Web Visit", Some("https://x/careers"), "jo@a.com"),
            act(3, 3, "Meeting", None, "jo@a.com"),
            act(4, 40, "Email Open", None, "al@a.com"),
        ];
        let e = explain(&rules(), &acts, now, 30);
        // Pricing view by a VP: (1 + 4) × 1.25; the meeting: 30 minutes; careers is excluded; the
        // email open is outside the 30-day window but its person is still engaged (90 days).
        assert_eq!(e.score, 5.0 * 1.25 + 30.0);
        assert_eq!(e.contributions.len(), 3);
        assert_eq!(e.engaged_people, 3);
        assert!(e.engaged);
        assert_eq!(e.contributions.last().unwrap().running_total, e.score);
    }

    proptest! {
        #[test]
        fn contributions_sum_to_the_score(days in proptest::collection::vec((0i64..120, 0usize..4), 0..40), window in 1i64..120) {
            let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 12, 0, 0).unwrap();
            let kinds = [("Web Visit", Some("https://x/pricing")), ("Web Visit", None), ("Email Open", None), ("Meeting", None)];
            let acts: Vec<_> = days.iter().enumerate().map(|(i, (d, k))| act(i as u32, *d, kinds[*k].0, kinds[*k].1, if i % 3 == 0 { "vp@a.com" } else { "jo@a.com" })).collect();
            let e = explain(&rules(), &acts, now, window);
            let sum: f64 = e.contributions.iter().map(|c| c.total).sum();
            prop_assert_eq!(sum, e.score);
        }
    }
}
