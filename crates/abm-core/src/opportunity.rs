//! Opportunities and their stage history. A sales-accepted opportunity (SAO) is one that moved
//! from stage 0 (pending acceptance) into stage 1 (discovery) or beyond; the day it left stage 0
//! is when it became an SAO.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: String,
    pub crm_id: String,
    pub name: String,
    pub created: NaiveDate,
    pub stage: String,
    pub amount_cents: i64,
    pub order_type: String,
    pub close_date: Option<NaiveDate>,
    /// (stage, entered at), oldest first.
    pub history: Vec<(String, DateTime<Utc>)>,
}

/// The number a stage name starts with (`0-Pending Acceptance` → 0); closed stages have none.
pub fn stage_number(stage: &str) -> Option<u32> {
    stage.split(['-', ' ']).next().and_then(|n| n.trim().parse().ok())
}

impl Opportunity {
    /// When it became an SAO: the first time it entered a stage after 0 (including a close,
    /// having been in stage 0), if it ever did.
    pub fn sao_at(&self) -> Option<DateTime<Utc>> {
        let mut was_stage0 = false;
        for (stage, at) in &self.history {
            match stage_number(stage) {
                Some(0) => was_stage0 = true,
                Some(n) if n >= 1 && was_stage0 => return Some(*at),
                None if was_stage0 && stage.eq_ignore_ascii_case("closed won") => return Some(*at),
                _ => {}
            }
        }
        None
    }

    pub fn is_first_order(&self) -> bool {
        self.order_type.to_ascii_lowercase().contains("first order")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_sao_leaves_stage_zero() {
        let mut o = Opportunity {
            id: "1".into(),
            crm_id: "A".into(),
            name: "x".into(),
            created: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
            stage: "2-Scoping".into(),
            amount_cents: 500_000,
            order_type: "New - First Order".into(),
            close_date: None,
            history: vec![
                ("0-Pending Acceptance".into(), at("2026-03-03T12:00:00Z")),
                ("1-Discovery".into(), at("2026-03-23T12:00:00Z")),
                ("2-Scoping".into(), at("2026-04-10T12:00:00Z")),
            ],
        };
        assert_eq!(o.sao_at(), Some(at("2026-03-23T12:00:00Z")));
        assert!(o.is_first_order());
        o.history.truncate(1);
        assert_eq!(o.sao_at(), None, "still pending acceptance");
        assert_eq!(stage_number("8-Closed Lost"), Some(8));
        assert_eq!(stage_number("Closed Won"), None);
    }
}
