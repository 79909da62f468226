//! Key metrics and OKRs: what the team defines once (metrics.toml, okrs.toml) and then watches
//! move. A metric is a kind computed over a quarter's facts (SAOs, pipeline, closed-won, MQAs,
//! spend, MQLs and the ratios between them, engagement uplift, reach), narrowed to a population
//! (key-list accounts, tiers, first-order opportunities); a key result binds a metric to a
//! target, and its progress is computed from the data, never typed in.

use crate::opportunity::Opportunity;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Opportunities that became SAOs in the quarter.
    Saos,
    /// Their amount (pipeline created).
    Pipeline,
    /// Amount of opportunities closed won in the quarter.
    ClosedWon,
    /// Accounts that entered the MQA stage in the quarter.
    Mqas,
    /// Paid-media spend in the quarter (ad exports, in the reporting currency).
    Spend,
    /// MQLs in the quarter (budget lines' actual MQLs, by the days of each line in the quarter).
    Mqls,
    CostPerSao,
    CostPerMql,
    /// Pipeline per dollar of spend.
    PipelinePerSpend,
    /// Closed-won per dollar of spend.
    ClosedWonPerSpend,
    /// Engagement points in the quarter against the quarter before, in percent.
    EngagementUplift,
    /// Share of the population with any matched activity in the quarter, in percent.
    Reach,
}

impl MetricKind {
    pub fn unit(self) -> &'static str {
        match self {
            MetricKind::Saos | MetricKind::Mqas | MetricKind::Mqls => "count",
            MetricKind::Pipeline | MetricKind::ClosedWon | MetricKind::Spend => "dollars",
            MetricKind::CostPerSao | MetricKind::CostPerMql => "dollars",
            MetricKind::PipelinePerSpend | MetricKind::ClosedWonPerSpend => "ratio",
            MetricKind::EngagementUplift | MetricKind::Reach => "percent",
        }
    }

    /// Whether a rise is good news (costs are the other way round).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            MetricKind::CostPerSao | MetricKind::CostPerMql | MetricKind::Spend
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricDef {
    pub name: String,
    pub kind: MetricKind,
    /// North Star, Efficiency, Business impact, Supporting (for grouping on screen).
    #[serde(default)]
    pub group: String,
    /// Only accounts on the published focus list.
    #[serde(default)]
    pub key_accounts: bool,
    /// Only these tiers of the published list.
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Only New – First Order opportunities.
    #[serde(default)]
    pub first_order: bool,
    /// Quarter (`FY27-Q3`) → target.
    #[serde(default)]
    pub targets: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// The currency spend is read in (ad facts in others are left out, and counted).
    #[serde(default = "usd")]
    pub currency: String,
    /// The journey stage that is the MQA.
    #[serde(default = "six")]
    pub mqa_stage: u32,
    pub metrics: Vec<MetricDef>,
}

fn usd() -> String {
    "USD".into()
}
fn six() -> u32 {
    6
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Okrs {
    #[serde(default)]
    pub objectives: Vec<Objective>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub quarter: String,
    pub objective: String,
    pub key_results: Vec<KeyResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyResult {
    pub text: String,
    /// The name of a metric in metrics.toml.
    pub metric: String,
    pub target: f64,
}

impl Metrics {
    /// Names given and unique; target quarters parse. Errors name the metric.
    pub fn validate(&self) -> Result<(), String> {
        for (i, m) in self.metrics.iter().enumerate() {
            let at = format!("metrics[{i}] ({:?})", m.name);
            if m.name.trim().is_empty() {
                return Err(format!("{at}: name is empty"));
            }
            if self.metrics[..i].iter().any(|o| o.name == m.name) {
                return Err(format!("{at}: another metric has this name"));
            }
            for q in m.targets.keys() {
                q.parse::<crate::fiscal::FiscalQuarter>()
                    .map_err(|e| format!("{at}: targets: {q:?}: {e}"))?;
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&MetricDef> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

impl Okrs {
    /// Quarters parse, every key result names a metric that exists and has a positive target.
    pub fn validate(&self, metrics: &Metrics) -> Result<(), String> {
        for (i, o) in self.objectives.iter().enumerate() {
            let at = format!("objectives[{i}] ({:?})", o.objective);
            o.quarter
                .parse::<crate::fiscal::FiscalQuarter>()
                .map_err(|e| format!("{at}: quarter: {e}"))?;
            if o.key_results.is_empty() {
                return Err(format!("{at}: needs at least one key result"));
            }
            for kr in &o.key_results {
                if metrics.get(&kr.metric).is_none() {
                    return Err(format!(
                        "{at}: key result {:?}: no metric named {:?} in metrics.toml",
                        kr.text, kr.metric
                    ));
                }
                if !(kr.target > 0.0) {
                    return Err(format!("{at}: key result {:?}: target must be above 0", kr.text));
                }
            }
        }
        Ok(())
    }
}

/// An account's place in the focus list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Member {
    pub key: bool,
    pub tier: Option<String>,
}

/// The facts of one quarter the metrics read.
#[derive(Debug, Clone, Default)]
pub struct QuarterData {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub accounts: HashMap<String, Member>,
    pub opportunities: Vec<Opportunity>,
    /// (account, day) of every entry into the MQA stage.
    pub mqa_entries: Vec<(String, NaiveDate)>,
    /// None when no ad facts fall in the quarter.
    pub spend: Option<f64>,
    /// None when no budget line with actual MQLs overlaps the quarter.
    pub mqls: Option<f64>,
    /// Engagement points per account: (this quarter, the quarter before), for the accounts of
    /// populations that ask for uplift.
    pub points: HashMap<String, (f64, f64)>,
    /// Accounts with any matched activity in the quarter.
    pub active: HashSet<String>,
}

/// A metric's value in a quarter, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricValue {
    pub name: String,
    pub group: String,
    pub kind: MetricKind,
    pub unit: &'static str,
    pub higher_is_better: bool,
    pub value: Option<f64>,
    pub why_none: Option<String>,
    /// What the value is made of, e.g. "12 SAOs; $1,200,000 pipeline".
    pub detail: String,
    pub target: Option<f64>,
}

fn in_quarter(d: NaiveDate, q: &QuarterData) -> bool {
    d >= q.start && d <= q.end
}

/// Whole dollars with thousands separators: `$1,200,000`.
pub fn money(v: f64) -> String {
    let whole = v.round() as i64;
    let s = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if whole < 0 { "-" } else { "" })
}

/// Compute one metric over a quarter.
pub fn evaluate(m: &MetricDef, quarter: &str, q: &QuarterData) -> MetricValue {
    let in_population = |crm: &str| {
        let member = q.accounts.get(crm);
        (!m.key_accounts || member.is_some_and(|a| a.key))
            && (m.tiers.is_empty()
                || member
                    .and_then(|a| a.tier.as_ref())
                    .is_some_and(|t| m.tiers.contains(t)))
    };
    let opps = || {
        q.opportunities
            .iter()
            .filter(|o| in_population(&o.crm_id) && (!m.first_order || o.is_first_order()))
    };
    let saos: Vec<&Opportunity> = opps()
        .filter(|o| o.sao_at().is_some_and(|at| in_quarter(at.date_naive(), q)))
        .collect();
    // (+ 0.0: an empty float sum is -0.0.)
    let pipeline: f64 = saos.iter().map(|o| o.amount_cents as f64 / 100.0).sum::<f64>() + 0.0;
    let won: Vec<&Opportunity> = opps()
        .filter(|o| {
            o.history
                .iter()
                .any(|(s, at)| s.eq_ignore_ascii_case("closed won") && in_quarter(at.date_naive(), q))
        })
        .collect();
    let closed_won: f64 = won.iter().map(|o| o.amount_cents as f64 / 100.0).sum::<f64>() + 0.0;
    let no_spend = || "no ad spend is held for the quarter".to_string();
    let ratio = |num: f64, den: Option<f64>, den_name: &str| -> (Option<f64>, Option<String>) {
        match den {
            Some(d) if d > 0.0 => (Some(num / d), None),
            Some(_) => (None, Some(format!("no {den_name} in the quarter"))),
            None => (None, Some(format!("no {den_name} held for the quarter"))),
        }
    };
    let (value, why_none, detail): (Option<f64>, Option<String>, String) = match m.kind {
        MetricKind::Saos => (
            Some(saos.len() as f64),
            None,
            format!("{} SAOs; {} pipeline", saos.len(), money(pipeline)),
        ),
        MetricKind::Pipeline => (Some(pipeline), None, format!("{} SAOs", saos.len())),
        MetricKind::ClosedWon => (
            Some(closed_won),
            None,
            format!("{} opportunities closed won", won.len()),
        ),
        MetricKind::Mqas => {
            let entered: HashSet<&str> = q
                .mqa_entries
                .iter()
                .filter(|(crm, d)| in_quarter(*d, q) && in_population(crm))
                .map(|(crm, _)| crm.as_str())
                .collect();
            (
                Some(entered.len() as f64),
                None,
                format!("{} accounts entered MQA", entered.len()),
            )
        }
        MetricKind::Spend => match q.spend {
            Some(s) => (Some(s), None, "paid-media spend".into()),
            None => (None, Some(no_spend()), String::new()),
        },
        MetricKind::Mqls => match q.mqls {
            Some(n) => (Some(n), None, "budget lines' actual MQLs".into()),
            None => (
                None,
                Some("no budget line with actual MQLs overlaps the quarter".into()),
                String::new(),
            ),
        },
        MetricKind::CostPerSao => {
            let (v, why) = match q.spend {
                Some(s) => ratio(s, Some(saos.len() as f64), "SAOs"),
                None => (None, Some(no_spend())),
            };
            (
                v,
                why,
                format!("{} spend ÷ {} SAOs", money(q.spend.unwrap_or(0.0)), saos.len()),
            )
        }
        MetricKind::CostPerMql => {
            let (v, why) = match q.spend {
                Some(s) => ratio(s, q.mqls, "MQLs"),
                None => (None, Some(no_spend())),
            };
            (
                v,
                why,
                format!(
                    "{} spend ÷ {:.1} MQLs",
                    money(q.spend.unwrap_or(0.0)),
                    q.mqls.unwrap_or(0.0)
                ),
            )
        }
        MetricKind::PipelinePerSpend => {
            let (v, why) = ratio(pipeline, q.spend, "ad spend");
            (
                v,
                why,
                format!("{} pipeline ÷ {} spend", money(pipeline), money(q.spend.unwrap_or(0.0))),
            )
        }
        MetricKind::ClosedWonPerSpend => {
            let (v, why) = ratio(closed_won, q.spend, "ad spend");
            (
                v,
                why,
                format!(
                    "{} closed won ÷ {} spend",
                    money(closed_won),
                    money(q.spend.unwrap_or(0.0))
                ),
            )
        }
        MetricKind::EngagementUplift => {
            let (now, before) = q
                .points
                .iter()
                .filter(|(crm, _)| in_population(crm))
                .fold((0.0, 0.0), |(a, b), (_, (x, y))| (a + x, b + y));
            let detail = format!("{now:.1} points against {before:.1} the quarter before");
            if before > 0.0 {
                (Some((now - before) / before * 100.0), None, detail)
            } else {
                (None, Some("no engagement the quarter before".into()), detail)
            }
        }
        MetricKind::Reach => {
            let population: Vec<&String> = q.accounts.keys().filter(|c| in_population(c)).collect();
            let reached = population.iter().filter(|c| q.active.contains(c.as_str())).count();
            let detail = format!("{reached} of {} accounts", population.len());
            if population.is_empty() {
                (None, Some("the population is empty".into()), detail)
            } else {
                (Some(reached as f64 * 100.0 / population.len() as f64), None, detail)
            }
        }
    };
    MetricValue {
        name: m.name.clone(),
        group: m.group.clone(),
        kind: m.kind,
        unit: m.kind.unit(),
        higher_is_better: m.kind.higher_is_better(),
        value,
        why_none,
        detail,
        target: m.targets.get(quarter).copied(),
    }
}

/// How a metric moved against an earlier value: the change in percent and whether that is
/// good news (a rise for most metrics, a fall for costs); none without both values or from 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    pub percent: f64,
    /// None when flat.
    pub better: Option<bool>,
}

pub fn change(now: &MetricValue, before: &MetricValue) -> Option<Change> {
    let (a, p) = (now.value?, before.value?);
    if p == 0.0 {
        return None;
    }
    let percent = (a - p) / p.abs() * 100.0;
    Some(Change {
        percent,
        better: (percent != 0.0).then_some((percent > 0.0) == now.higher_is_better),
    })
}

/// A value in its unit, as people read it: `$1,200,000`, `$481.45`, `76.9%`, `1.27×`, `279`.
pub fn format_value(v: f64, unit: &str) -> String {
    match unit {
        "dollars" if v.abs() >= 1000.0 => money(v),
        "dollars" => format!("${v:.2}"),
        "percent" => format!("{v:.1}%"),
        "ratio" => format!("{v:.2}×"),
        _ if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

/// A key result's progress: the metric's value against the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyResultProgress {
    pub text: String,
    pub metric: String,
    pub target: f64,
    pub value: Option<f64>,
    pub why_none: Option<String>,
    /// value ÷ target for rising metrics, target ÷ value for costs; capped at neither end.
    pub progress: Option<f64>,
}

pub fn progress(kr: &KeyResult, v: &MetricValue) -> KeyResultProgress {
    let progress = v.value.and_then(|x| {
        if v.higher_is_better {
            Some(x / kr.target)
        } else if x > 0.0 {
            Some(kr.target / x)
        } else {
            None
        }
    });
    KeyResultProgress {
        text: kr.text.clone(),
        metric: kr.metric.clone(),
        target: kr.target,
        value: v.value,
        why_none: v.why_none.clone(),
        progress,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn opp(id: &str, crm: &str, order: &str, amount: i64, moves: &[(&str, NaiveDate)]) -> Opportunity {
        Opportunity {
            id: id.into(),
            crm_id: crm.into(),
            name: id.into(),
            created: moves[0].1,
            stage: moves.last().unwrap().0.into(),
            amount_cents: amount * 100,
            order_type: order.into(),
            close_date: None,
            history: moves
                .iter()
                .map(|(s, day)| {
                    (
                        s.to_string(),
                        Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap()),
                    )
                })
                .collect(),
        }
    }

    fn data() -> QuarterData {
        let member = |key: bool, tier: Option<&str>| Member {
            key,
            tier: tier.map(String::from),
        };
        QuarterData {
            start: d(8, 1),
            end: d(10, 31),
            accounts: [
                ("K1".to_string(), member(true, Some("Tier 1"))),
                ("K2".to_string(), member(true, Some("Tier 2"))),
                ("X".to_string(), member(false, None)),
            ]
            .into(),
            opportunities: vec![
                opp(
                    "1",
                    "K1",
                    "New - First Order",
                    50_000,
                    &[("0-Pending Acceptance", d(7, 20)), ("1-Discovery", d(8, 5))],
                ),
                opp(
                    "2",
                    "K2",
                    "Growth",
                    30_000,
                    &[("0-Pending Acceptance", d(8, 1)), ("1-Discovery", d(9, 1))],
                ),
                opp(
                    "3",
                    "X",
                    "New - First Order",
                    70_000,
                    &[("0-Pending Acceptance", d(8, 1)), ("1-Discovery", d(9, 1))],
                ),
                opp(
                    "4",
                    "K1",
                    "New - First Order",
                    20_000,
                    &[
                        ("0-Pending Acceptance", d(5, 1)),
                        ("1-Discovery", d(5, 9)),
                        ("Closed Won", d(10, 2)),
                    ],
                ),
            ],
            mqa_entries: vec![("K1".into(), d(8, 3)), ("X".into(), d(9, 3)), ("K2".into(), d(11, 3))],
            spend: Some(40_000.0),
            mqls: Some(80.0),
            points: [("K1".to_string(), (150.0, 100.0)), ("K2".to_string(), (10.0, 20.0))].into(),
            active: ["K1".to_string(), "X".to_string()].into(),
        }
    }

    fn def(kind: MetricKind, key: bool, first_order: bool, tiers: &[&str]) -> MetricDef {
        MetricDef {
            name: format!("{kind:?}"),
            kind,
            group: String::new(),
            key_accounts: key,
            tiers: tiers.iter().map(|t| t.to_string()).collect(),
            first_order,
            targets: [("FY27-Q3".to_string(), 90.0)].into(),
        }
    }

    #[test]
    fn each_kind_over_its_population() {
        let q = data();
        let v = |kind, key, fo, tiers: &[&str]| evaluate(&def(kind, key, fo, tiers), "FY27-Q3", &q).value;
        assert_eq!(
            v(MetricKind::Saos, true, true, &[]),
            Some(1.0),
            "North Star: K1's first-order SAO"
        );
        assert_eq!(v(MetricKind::Saos, false, false, &[]), Some(3.0));
        assert_eq!(v(MetricKind::Pipeline, true, false, &[]), Some(80_000.0));
        assert_eq!(v(MetricKind::ClosedWon, true, false, &[]), Some(20_000.0));
        assert_eq!(
            v(MetricKind::Mqas, false, false, &[]),
            Some(2.0),
            "K2 entered in November"
        );
        assert_eq!(v(MetricKind::CostPerSao, false, false, &[]), Some(40_000.0 / 3.0));
        assert_eq!(v(MetricKind::CostPerMql, false, false, &[]), Some(500.0));
        assert_eq!(v(MetricKind::PipelinePerSpend, true, false, &[]), Some(2.0));
        assert_eq!(v(MetricKind::EngagementUplift, true, false, &["Tier 1"]), Some(50.0));
        assert_eq!(
            v(MetricKind::EngagementUplift, true, false, &[]),
            Some(40.0 / 120.0 * 100.0),
            "160 against 120"
        );
        assert_eq!(v(MetricKind::Reach, true, false, &[]), Some(50.0));
        let target = evaluate(&def(MetricKind::Saos, true, true, &[]), "FY27-Q3", &q).target;
        assert_eq!(target, Some(90.0));
    }

    #[test]
    fn changes_read_in_the_metric_s_polarity() {
        let q = data();
        let mut before = q.clone();
        before.spend = Some(50_000.0);
        let cost = def(MetricKind::CostPerSao, false, false, &[]);
        let c = change(&evaluate(&cost, "FY27-Q3", &q), &evaluate(&cost, "FY27-Q2", &before)).unwrap();
        assert_eq!((c.percent, c.better), (-20.0, Some(true)), "a cost that fell is better");
        let saos = def(MetricKind::Saos, false, false, &[]);
        let same = change(&evaluate(&saos, "FY27-Q3", &q), &evaluate(&saos, "FY27-Q2", &q)).unwrap();
        assert_eq!(same.better, None, "flat");
        assert_eq!(format_value(1_234_567.4, "dollars"), "$1,234,567");
        assert_eq!(format_value(2.0, "ratio"), "2.00×");
    }

    #[test]
    fn missing_denominators_say_why_and_costs_progress_the_other_way() {
        let mut q = data();
        q.spend = None;
        let v = evaluate(&def(MetricKind::CostPerSao, false, false, &[]), "FY27-Q3", &q);
        assert_eq!(v.value, None);
        assert!(v.why_none.unwrap().contains("no ad spend"));
        let q = data();
        let cost = evaluate(&def(MetricKind::CostPerMql, false, false, &[]), "FY27-Q3", &q);
        let kr = KeyResult {
            text: "Bring cost per MQL to $400".into(),
            metric: cost.name.clone(),
            target: 400.0,
        };
        assert_eq!(progress(&kr, &cost).progress, Some(0.8));
    }

    #[test]
    fn okrs_must_name_metrics_that_exist() {
        let metrics = Metrics {
            currency: usd(),
            mqa_stage: 6,
            metrics: vec![def(MetricKind::Saos, true, true, &[])],
        };
        metrics.validate().unwrap();
        let okrs: Okrs = toml::from_str(
            r#"
            [[objectives]]
            quarter = "FY27-Q3"
            objective = "Key accounts create new business"
            [[objectives.key_results]]
            text = "Deliver 90 SAOs from the key account list"
            metric = "Sao"
            target = 90
            "#,
        )
        .unwrap();
        let err = okrs.validate(&metrics).unwrap_err();
        assert!(err.contains("no metric named \"Sao\""), "{err}");
    }
}
