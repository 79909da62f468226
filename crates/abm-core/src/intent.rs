//! Intent surges: an account's intent for a keyword set in a recent window against a baseline
//! (by default this week against the three weeks before, 6sense's momentum). Strength counts
//! HIGH 3, MEDIUM 2, LOW 1 a week; a surge is recent strength above the baseline's weekly
//! average by a factor (default 1.5) with at least MEDIUM this week.

use crate::activity::Activity;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

fn strength(s: &str) -> f64 {
    match s.to_ascii_uppercase().as_str() {
        "HIGH" => 3.0,
        "MEDIUM" => 2.0,
        "LOW" => 1.0,
        _ => 0.0,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surge {
    pub crm_id: String,
    pub keyword_set: String,
    /// Strength in the recent window (per week).
    pub recent: f64,
    /// Average weekly strength over the baseline weeks.
    pub baseline: f64,
    /// recent ÷ baseline (None when the baseline is 0: new intent).
    pub lift: Option<f64>,
}

/// Surging (account, keyword set) pairs as of `as_of`: the week ending then against the
/// `baseline_weeks` before it. `intent` holds (crm id, intent activity) pairs.
pub fn surging(intent: &[(String, Activity)], as_of: DateTime<Utc>, baseline_weeks: i64, factor: f64) -> Vec<Surge> {
    let recent_start = as_of - Duration::days(7);
    let base_start = recent_start - Duration::days(7 * baseline_weeks);
    let mut sums: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for (crm, a) in intent {
        if a.at > as_of || a.at < base_start {
            continue;
        }
        let set = a.attributes.get("keyword_set").cloned().unwrap_or_default();
        let s = strength(a.attributes.get("strength").map(String::as_str).unwrap_or(""));
        let e = sums.entry((crm.clone(), set)).or_default();
        if a.at > recent_start {
            e.0 += s;
        } else {
            e.1 += s;
        }
    }
    let mut out: Vec<Surge> = sums
        .into_iter()
        .filter_map(|((crm_id, keyword_set), (recent, base))| {
            let baseline = base / baseline_weeks.max(1) as f64;
            let lift = (baseline > 0.0).then(|| recent / baseline);
            let surging = recent >= 2.0 && lift.is_none_or(|l| l >= factor);
            surging.then_some(Surge {
                crm_id,
                keyword_set,
                recent,
                baseline,
                lift,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.lift
            .unwrap_or(f64::INFINITY)
            .total_cmp(&a.lift.unwrap_or(f64::INFINITY))
            .then(b.recent.total_cmp(&a.recent))
            .then(a.crm_id.cmp(&b.crm_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(days_ago: i64, set: &str, s: &str) -> (String, Activity) {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 0, 0, 0).unwrap();
        (
            "A".into(),
            Activity {
                source: "intent".into(),
                source_id: format!("{days_ago}{set}"),
                at: now - Duration::days(days_ago),
                kind: "Intent".into(),
                email: None,
                account_id: None,
                ip: None,
                company_domain: None,
                attributes: [
                    ("keyword_set".to_string(), set.to_string()),
                    ("strength".to_string(), s.to_string()),
                ]
                .into(),
            },
        )
    }

    #[test]
    fn this_week_against_the_three_before() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 27, 0, 0, 0).unwrap();
        let data = vec![
            intent(2, "DevOps", "HIGH"),
            intent(10, "DevOps", "LOW"),
            intent(17, "DevOps", "LOW"),
            intent(24, "DevOps", "LOW"),
            intent(3, "GitOps", "MEDIUM"),
            intent(10, "GitOps", "MEDIUM"),
            intent(17, "GitOps", "HIGH"),
            intent(24, "GitOps", "MEDIUM"),
            intent(4, "Security", "MEDIUM"),
        ];
        let s = surging(&data, now, 3, 1.5);
        let got: Vec<(&str, Option<f64>)> = s.iter().map(|x| (x.keyword_set.as_str(), x.lift)).collect();
        assert_eq!(got, vec![("Security", None), ("DevOps", Some(3.0))], "GitOps is flat");
    }
}
