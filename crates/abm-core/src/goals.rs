//! Goal workbacks: a pipeline target per fiscal quarter and segment × geo, worked back to the
//! opportunities, SAOs, MQLs and inquiries it needs. Each rate is either given (goals.toml) or
//! measured from the quarters before, with the sample behind it; a rate with no history says so
//! rather than being invented, and the steps after it stay open.
//!
//! The chain (reporting spec): opportunities = pipeline ÷ average deal size; SAOs =
//! opportunities ÷ SAO-to-opportunity rate; MQLs = SAOs ÷ MQL-to-SAO rate; inquiries = MQLs ÷
//! inquiry-to-MQL rate. Measured from history, an opportunity is one that reached stage 2
//! (scoping) or beyond; the deal size is their average amount; the SAO-to-opportunity rate is
//! the share of SAOs that reached stage 2 or beyond.

use crate::fiscal::FiscalQuarter;
use crate::opportunity::{stage_number, Opportunity};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goals {
    /// How many quarters before the target quarter measured rates look back over.
    #[serde(default = "four")]
    pub history_quarters: u32,
    #[serde(default)]
    pub targets: Vec<Target>,
}

fn four() -> u32 {
    4
}

/// One cell's pipeline target, with any rates given rather than measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub quarter: String,
    pub segment: String,
    pub geo: String,
    /// Pipeline in dollars.
    pub pipeline: f64,
    pub average_deal_size: Option<f64>,
    pub sao_to_opportunity: Option<f64>,
    pub mql_to_sao: Option<f64>,
    pub inquiry_to_mql: Option<f64>,
}

impl Goals {
    /// Quarters parse, pipelines and deal sizes are positive, rates are in (0, 1]. Errors name
    /// the target.
    pub fn validate(&self) -> Result<(), String> {
        for (i, t) in self.targets.iter().enumerate() {
            let at = format!("targets[{i}] ({} {} {})", t.quarter, t.segment, t.geo);
            t.quarter
                .parse::<FiscalQuarter>()
                .map_err(|e| format!("{at}: quarter: {e}"))?;
            if !(t.pipeline > 0.0) {
                return Err(format!("{at}: pipeline must be above 0"));
            }
            if t.average_deal_size.is_some_and(|d| !(d > 0.0)) {
                return Err(format!("{at}: average_deal_size must be above 0"));
            }
            for (name, r) in [
                ("sao_to_opportunity", t.sao_to_opportunity),
                ("mql_to_sao", t.mql_to_sao),
                ("inquiry_to_mql", t.inquiry_to_mql),
            ] {
                if r.is_some_and(|r| !(r > 0.0 && r <= 1.0)) {
                    return Err(format!("{at}: {name} must be a share above 0 and at most 1, like 0.25"));
                }
            }
            if self.targets[..i]
                .iter()
                .any(|o| o.quarter == t.quarter && o.segment == t.segment && o.geo == t.geo)
            {
                return Err(format!("{at}: the same quarter, segment and geo appear twice"));
            }
        }
        Ok(())
    }
}

/// Where a rate came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum Rate {
    Given {
        value: f64,
    },
    /// Measured over `quarters`: `value` = `numerator` ÷ `denominator` (the sample).
    Measured {
        value: f64,
        numerator: f64,
        denominator: f64,
        quarters: String,
    },
    Missing {
        why: String,
    },
}

impl Rate {
    pub fn value(&self) -> Option<f64> {
        match self {
            Rate::Given { value } | Rate::Measured { value, .. } => Some(*value),
            Rate::Missing { .. } => None,
        }
    }
}

/// One step of a workback: `needed` = `from` ÷ `rate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub what: &'static str,
    pub rate_name: &'static str,
    pub rate: Rate,
    /// Exact; None when the rate (or an earlier step) is missing.
    pub needed: Option<f64>,
    /// Whole ones to plan for (rounded up).
    pub plan: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workback {
    pub quarter: String,
    pub segment: String,
    pub geo: String,
    pub pipeline: f64,
    pub steps: Vec<Step>,
}

/// The history a cell's rates are measured from: its opportunities (with their account's
/// segment and geo already matched), and MQL and inquiry counts when abm holds any.
#[derive(Debug, Clone, Default)]
pub struct CellHistory<'a> {
    pub opportunities: Vec<&'a Opportunity>,
    /// (MQLs that became SAOs' denominator) per history: none held means no rate.
    pub mqls: Option<f64>,
    pub inquiries: Option<f64>,
}

fn reached_stage_two(o: &Opportunity) -> bool {
    o.history
        .iter()
        .any(|(s, _)| stage_number(s).is_some_and(|n| (2..=7).contains(&n)) || s.eq_ignore_ascii_case("closed won"))
}

/// Work a target back. `in_history` says whether a date falls in the history quarters (named
/// `quarters` in the sample); `history` holds the cell's facts.
pub fn work_back(
    t: &Target,
    history: &CellHistory,
    in_history: &dyn Fn(chrono::NaiveDate) -> bool,
    quarters: &str,
) -> Workback {
    let measured = |num: f64, den: f64, what: &str| {
        if den > 0.0 && num > 0.0 {
            Rate::Measured {
                value: num / den,
                numerator: num,
                denominator: den,
                quarters: quarters.to_string(),
            }
        } else {
            Rate::Missing {
                why: format!("no {what} in {quarters} for {} {}", t.segment, t.geo),
            }
        }
    };
    let qualified: Vec<&&Opportunity> = history
        .opportunities
        .iter()
        .filter(|o| in_history(o.created) && reached_stage_two(o))
        .collect();
    let deal = match t.average_deal_size {
        Some(v) => Rate::Given { value: v },
        None => measured(
            qualified.iter().map(|o| o.amount_cents as f64 / 100.0).sum(),
            qualified.len() as f64,
            "opportunities that reached stage 2",
        ),
    };
    let saos: Vec<&&Opportunity> = history
        .opportunities
        .iter()
        .filter(|o| o.sao_at().is_some_and(|at| in_history(at.date_naive())))
        .collect();
    let sao_to_opp = match t.sao_to_opportunity {
        Some(v) => Rate::Given { value: v },
        None => measured(
            saos.iter().filter(|o| reached_stage_two(o)).count() as f64,
            saos.len() as f64,
            "SAOs",
        ),
    };
    let mql_to_sao = match (t.mql_to_sao, history.mqls) {
        (Some(v), _) => Rate::Given { value: v },
        (None, Some(m)) => measured(saos.len() as f64, m, "MQLs"),
        (None, None) => Rate::Missing {
            why: "abm holds no MQLs by segment and geo: give mql_to_sao in goals.toml".into(),
        },
    };
    let inquiry_to_mql = match (t.inquiry_to_mql, history.mqls, history.inquiries) {
        (Some(v), _, _) => Rate::Given { value: v },
        (None, Some(m), Some(i)) => measured(m, i, "inquiries"),
        _ => Rate::Missing {
            why: "abm holds no inquiries by segment and geo: give inquiry_to_mql in goals.toml".into(),
        },
    };
    let mut from = Some(t.pipeline);
    let mut steps = Vec::new();
    for (what, rate_name, rate) in [
        ("opportunities", "average deal size", deal),
        ("SAOs", "SAO-to-opportunity rate", sao_to_opp),
        ("MQLs", "MQL-to-SAO rate", mql_to_sao),
        ("inquiries", "inquiry-to-MQL rate", inquiry_to_mql),
    ] {
        let needed = match (from, rate.value()) {
            (Some(f), Some(r)) => Some(f / r),
            _ => None,
        };
        steps.push(Step {
            what,
            rate_name,
            rate,
            needed,
            plan: needed.map(|n| (n - 1e-9).ceil().max(0.0) as u64),
        });
        from = needed;
    }
    Workback {
        quarter: t.quarter.clone(),
        segment: t.segment.clone(),
        geo: t.geo.clone(),
        pipeline: t.pipeline,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn target() -> Target {
        Target {
            quarter: "FY27-Q2".into(),
            segment: "Large".into(),
            geo: "AMER".into(),
            pipeline: 1_200_000.0,
            average_deal_size: Some(60_000.0),
            sao_to_opportunity: Some(0.5),
            mql_to_sao: Some(0.08),
            inquiry_to_mql: Some(0.25),
        }
    }

    #[test]
    fn given_rates_work_back_exactly() {
        let w = work_back(&target(), &CellHistory::default(), &|_| true, "FY26-Q2..FY27-Q1");
        let needed: Vec<f64> = w.steps.iter().map(|s| s.needed.unwrap()).collect();
        // 1,200,000 ÷ 60,000 = 20; ÷ 0.5 = 40; ÷ 0.08 = 500; ÷ 0.25 = 2,000.
        assert_eq!(needed, vec![20.0, 40.0, 500.0, 2000.0]);
        assert_eq!(w.steps[2].plan, Some(500));
    }

    fn opp(id: &str, amount: i64, stages: &[(&str, u32)]) -> Opportunity {
        let at = |m: u32| Utc.with_ymd_and_hms(2026, m, 10, 12, 0, 0).unwrap();
        Opportunity {
            id: id.into(),
            crm_id: "A".into(),
            name: id.into(),
            created: NaiveDate::from_ymd_opt(2026, stages[0].1, 10).unwrap(),
            stage: stages.last().unwrap().0.into(),
            amount_cents: amount * 100,
            order_type: "New - First Order".into(),
            close_date: None,
            history: stages.iter().map(|(s, m)| (s.to_string(), at(*m))).collect(),
        }
    }

    #[test]
    fn measured_rates_show_their_sample_and_missing_ones_say_so() {
        let opps = [
            opp(
                "1",
                40_000,
                &[("0-Pending Acceptance", 3), ("1-Discovery", 4), ("2-Scoping", 5)],
            ),
            opp(
                "2",
                80_000,
                &[
                    ("0-Pending Acceptance", 3),
                    ("1-Discovery", 4),
                    ("3-Technical Evaluation", 6),
                ],
            ),
            opp("3", 10_000, &[("0-Pending Acceptance", 3), ("1-Discovery", 4)]),
            opp("4", 99_000, &[("0-Pending Acceptance", 3)]),
        ];
        let h = CellHistory {
            opportunities: opps.iter().collect(),
            mqls: None,
            inquiries: None,
        };
        let t = Target {
            average_deal_size: None,
            sao_to_opportunity: None,
            mql_to_sao: None,
            inquiry_to_mql: None,
            ..target()
        };
        let w = work_back(&t, &h, &|_| true, "FY26-Q2..FY27-Q1");
        // Two opportunities reached stage 2: average (40,000 + 80,000) ÷ 2 = 60,000; of three
        // SAOs, two reached stage 2.
        assert_eq!(
            w.steps[0].rate,
            Rate::Measured {
                value: 60_000.0,
                numerator: 120_000.0,
                denominator: 2.0,
                quarters: "FY26-Q2..FY27-Q1".into()
            }
        );
        assert_eq!(w.steps[0].needed, Some(20.0));
        assert_eq!(w.steps[1].rate.value(), Some(2.0 / 3.0));
        assert!((w.steps[1].needed.unwrap() - 30.0).abs() < 1e-9);
        assert_eq!(w.steps[1].plan, Some(30));
        assert!(matches!(&w.steps[2].rate, Rate::Missing { why } if why.contains("mql_to_sao")));
        assert_eq!((w.steps[2].needed, w.steps[3].needed), (None, None));
        let none = work_back(&t, &CellHistory::default(), &|_| true, "FY26-Q2..FY27-Q1");
        assert!(matches!(&none.steps[0].rate, Rate::Missing { why } if why.contains("Large AMER")));
    }

    #[test]
    fn validation_names_the_target() {
        let mut g = Goals {
            history_quarters: 4,
            targets: vec![target()],
        };
        g.validate().unwrap();
        g.targets[0].mql_to_sao = Some(8.0);
        assert!(g
            .validate()
            .unwrap_err()
            .contains("targets[0] (FY27-Q2 Large AMER): mql_to_sao"));
        g.targets[0].mql_to_sao = None;
        g.targets[0].quarter = "Q2".into();
        assert!(g.validate().unwrap_err().contains("quarter"));
    }
}
