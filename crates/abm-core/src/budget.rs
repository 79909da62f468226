//! Budget against actuals, the way the team kept it in Allocadia: line items under a category and
//! sub-category, each with target → plan → forecast → actual. Paid-media actuals come from the ad
//! exports through a campaign mapping (a campaign name or code, `*` for a prefix, within the
//! line's dates); variances over $5,000 need a comment; planned and actual cost per MQL sit side
//! by side.

use crate::paid::AdFact;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Variances larger than this need a comment.
pub const COMMENT_THRESHOLD: f64 = 5_000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub category: String,
    pub sub_category: String,
    pub line_item: String,
    pub vendor: Option<String>,
    pub region: Option<String>,
    /// Ad campaigns this line pays for: a name or campaign code, `*` for a prefix; several
    /// separated by `;`.
    pub campaign: Option<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub target: Option<f64>,
    pub plan: f64,
    pub forecast: Option<f64>,
    pub actual: Option<f64>,
    pub planned_mqls: Option<f64>,
    pub actual_mqls: Option<f64>,
    pub comment: Option<String>,
}

impl BudgetLine {
    pub fn key(&self) -> String {
        format!("{} / {} / {}", self.category, self.sub_category, self.line_item)
    }
}

/// A line with its actuals worked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetRow {
    #[serde(flatten)]
    pub line: BudgetLine,
    /// Spend of the mapped ad campaigns within the line's dates, per currency.
    pub ad_spend: Vec<(String, f64)>,
    /// The actual used: the file's, or else the mapped ad spend (when in one currency).
    pub actual_used: Option<f64>,
    pub variance: Option<f64>,
    pub needs_comment: bool,
    pub planned_cost_per_mql: Option<f64>,
    pub actual_cost_per_mql: Option<f64>,
}

fn campaign_matches(pattern: &str, f: &AdFact, code: Option<&str>) -> bool {
    pattern
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .any(|p| match p.strip_suffix('*') {
            Some(prefix) => f.campaign.starts_with(prefix) || code.is_some_and(|c| c.starts_with(prefix)),
            None => f.campaign == p || code == Some(p),
        })
}

/// Work out every line against the ad facts. `code_of` gives a fact's campaign code, if decoded.
pub fn evaluate(lines: &[BudgetLine], facts: &[AdFact], code_of: &dyn Fn(&AdFact) -> Option<String>) -> Vec<BudgetRow> {
    let codes: Vec<Option<String>> = facts.iter().map(code_of).collect();
    lines
        .iter()
        .map(|l| {
            let mut spend: std::collections::BTreeMap<String, f64> = Default::default();
            // A line whose vendor is an ad platform only counts that platform's spend.
            let platform = l
                .vendor
                .as_deref()
                .map(str::to_ascii_lowercase)
                .and_then(|v| match v.as_str() {
                    "google" | "google ads" => Some("google"),
                    "linkedin" => Some("linkedin"),
                    "meta" | "facebook" => Some("meta"),
                    _ => None,
                });
            if let Some(p) = &l.campaign {
                for (f, code) in facts.iter().zip(&codes) {
                    if f.date_from >= l.start
                        && f.date_to <= l.end
                        && platform.is_none_or(|pl| f.platform == pl)
                        && campaign_matches(p, f, code.as_deref())
                    {
                        *spend.entry(f.currency.clone()).or_default() += f.spend_micros as f64 / 1e6;
                    }
                }
            }
            let ad_spend: Vec<(String, f64)> = spend
                .into_iter()
                .map(|(c, s)| (c, (s * 100.0).round() / 100.0))
                .collect();
            let actual_used = l.actual.or_else(|| match ad_spend.as_slice() {
                [(_, s)] => Some(*s),
                _ => None,
            });
            let variance = actual_used.map(|a| a - l.plan);
            let needs_comment = variance.is_some_and(|v| v.abs() > COMMENT_THRESHOLD)
                && l.comment.as_deref().is_none_or(|c| c.trim().is_empty());
            let per = |money: Option<f64>, mqls: Option<f64>| match (money, mqls) {
                (Some(m), Some(q)) if q > 0.0 => Some(m / q),
                _ => None,
            };
            BudgetRow {
                planned_cost_per_mql: per(Some(l.plan), l.planned_mqls),
                actual_cost_per_mql: per(actual_used, l.actual_mqls),
                line: l.clone(),
                ad_spend,
                actual_used,
                variance,
                needs_comment,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn fact(day: &str, campaign: &str, spend: f64) -> AdFact {
        AdFact {
            platform: "google".into(),
            account: "a".into(),
            campaign: campaign.into(),
            ad_group: String::new(),
            ad: String::new(),
            date_from: d(day),
            date_to: d(day),
            currency: "USD".into(),
            spend_micros: (spend * 1e6) as i64,
            impressions: 0,
            clicks: 0,
            conversions_milli: 0,
            leads: 0,
            reach: None,
            utm: Default::default(),
        }
    }

    fn line(campaign: &str, plan: f64, comment: Option<&str>) -> BudgetLine {
        BudgetLine {
            category: "Paid".into(),
            sub_category: "Search".into(),
            line_item: "Q4 search".into(),
            vendor: Some("Google".into()),
            region: Some("AMER".into()),
            campaign: Some(campaign.into()),
            start: d("2026-11-01"),
            end: d("2026-11-30"),
            target: None,
            plan,
            forecast: None,
            actual: None,
            planned_mqls: Some(100.0),
            actual_mqls: Some(80.0),
            comment: comment.map(String::from),
        }
    }

    #[test]
    fn actuals_come_from_mapped_ad_spend_within_the_dates() {
        let facts = vec![
            fact("2026-11-02", "autosd_amer_pr_rsa_nb_exact", 6_000.0),
            fact("2026-11-03", "autosd_emea_pr_rsa_nb_exact", 4_000.0),
            fact("2026-12-01", "autosd_amer_pr_rsa_nb_exact", 999.0),
            fact("2026-11-03", "competegh_amer_pr_rsa_nb_exact", 50.0),
        ];
        let code = |f: &AdFact| f.campaign.split('_').next().map(String::from);
        let rows = evaluate(
            &[line("autosd*", 20_000.0, None), line("autosd", 10_500.0, None)],
            &facts,
            &code,
        );
        assert_eq!(rows[0].ad_spend, vec![("USD".to_string(), 10_000.0)]);
        assert_eq!(rows[0].variance, Some(-10_000.0));
        assert!(rows[0].needs_comment);
        assert_eq!(rows[0].planned_cost_per_mql, Some(200.0));
        assert_eq!(rows[0].actual_cost_per_mql, Some(125.0));
        assert_eq!(rows[1].variance, Some(-500.0), "the code matches exactly");
        assert!(!rows[1].needs_comment);
        let commented = evaluate(&[line("autosd*", 20_000.0, Some("agency paused"))], &facts, &code);
        assert!(!commented[0].needs_comment);
    }
}
