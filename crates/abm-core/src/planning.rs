//! Milestone planning: fill each person's milestone in priority order (Top, High, Med, Low, then
//! unprioritised) up to their budget, never beyond it; what does not fit is dropped, lowest
//! priority first, with the requesters to tell. Carry-over counts work that rolled past the end
//! of its milestone, per person, to spot over-commitment.

use crate::capacity::{round_hours, PersonCapacity};
use crate::milestone::{Milestone, MilestoneSeries};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// The order work is committed in; lower is earlier.
pub fn priority_rank(priority: Option<&str>) -> u8 {
    match priority {
        Some("Top") => 0,
        Some("High") => 1,
        Some("Med") => 2,
        Some("Low") => 3,
        _ => 4,
    }
}

/// A request as planning sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub priority: Option<String>,
    pub weight: Option<u8>,
    pub hours: f64,
    pub due: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    #[serde(flatten)]
    pub item: PlanItem,
    pub reason: String,
}

/// One person's proposed commitment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonPlan {
    pub capacity: PersonCapacity,
    pub committed: Vec<PlanItem>,
    pub committed_hours: f64,
    pub dropped: Vec<Dropped>,
}

/// Fill `capacity.budget_hours` from `items` in priority order (then due date, then id). Once an
/// item does not fit, nothing of lower priority is committed: Low is dropped before Med.
pub fn plan_person(capacity: PersonCapacity, mut items: Vec<PlanItem>) -> PersonPlan {
    items.sort_by(|a, b| {
        (priority_rank(a.priority.as_deref()), a.due.is_none(), a.due, a.id).cmp(&(
            priority_rank(b.priority.as_deref()),
            b.due.is_none(),
            b.due,
            b.id,
        ))
    });
    let budget = capacity.budget_hours;
    let mut used = 0.0;
    let mut cut: Option<(u8, String)> = None;
    let mut committed = Vec::new();
    let mut dropped = Vec::new();
    for item in items {
        let rank = priority_rank(item.priority.as_deref());
        let label = item.priority.clone().unwrap_or_else(|| "unprioritised".into());
        if let Some((r, what)) = &cut {
            if rank > *r {
                dropped.push(Dropped {
                    item,
                    reason: format!("lower priority than {what} work that did not fit"),
                });
                continue;
            }
        }
        if used + item.hours <= budget + 1e-9 {
            used += item.hours;
            committed.push(item);
        } else {
            let reason = format!(
                "needs {} h; {} h of the {} h budget left",
                item.hours,
                round_hours(budget - used),
                budget
            );
            if cut.is_none() {
                cut = Some((rank, label));
            }
            dropped.push(Dropped { item, reason });
        }
    }
    PersonPlan {
        capacity,
        committed,
        committed_hours: round_hours(used),
        dropped,
    }
}

/// Whom to tell about dropped work: requester → request ids.
pub fn requesters_to_tell(plans: &[PersonPlan]) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for p in plans {
        for d in &p.dropped {
            out.entry(d.item.author.clone()).or_default().push(d.item.id);
        }
    }
    for ids in out.values_mut() {
        ids.sort_unstable();
    }
    out
}

/// A request as carry-over sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CarryItem {
    pub id: i64,
    pub assignee: Option<String>,
    pub weight: Option<u8>,
    pub due: NaiveDate,
    /// The day it was closed, if it was.
    pub closed: Option<NaiveDate>,
}

/// Work that rolled over at the end of one milestone, for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarryOver {
    pub milestone: Milestone,
    pub assignee: String,
    pub issues: u32,
    pub weight: u32,
    pub ids: Vec<i64>,
}

/// For every milestone that ended before `today`: the open work due in it (or rolled into it)
/// that was not closed by its last day. A request three milestones overdue rolled three times.
pub fn carry_over(series: &MilestoneSeries, items: &[CarryItem], today: NaiveDate) -> Vec<CarryOver> {
    let mut out: BTreeMap<(NaiveDate, String), CarryOver> = BTreeMap::new();
    for it in items {
        let mut m = series.containing(it.due);
        let finished = it.closed.unwrap_or(today);
        while m.end < finished && m.end < today {
            let who = it.assignee.clone().unwrap_or_else(|| "(unassigned)".into());
            let e = out.entry((m.end, who.clone())).or_insert_with(|| CarryOver {
                milestone: m.clone(),
                assignee: who,
                issues: 0,
                weight: 0,
                ids: Vec::new(),
            });
            e.issues += 1;
            e.weight += it.weight.unwrap_or(0) as u32;
            e.ids.push(it.id);
            m = m.next();
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn cap(budget: f64) -> PersonCapacity {
        PersonCapacity {
            username: "aabm".into(),
            business_days: 10,
            working_hours: 80.0,
            pto_hours: 8.0,
            meeting_hours: 6.0,
            available_hours: 66.0,
            budget_hours: budget,
        }
    }

    fn item(id: i64, priority: &str, hours: f64) -> PlanItem {
        PlanItem {
            id,
            title: format!("r{id}"),
            author: if id % 2 == 0 {
                "sales-sam".into()
            } else {
                "field-fran".into()
            },
            priority: Some(priority.into()),
            weight: None,
            hours,
            due: None,
        }
    }

    #[test]
    fn fills_in_priority_order_and_drops_low_before_med() {
        let items = vec![
            item(1, "Low", 4.0),
            item(2, "Med", 16.0),
            item(3, "Top", 16.0),
            item(4, "High", 8.0),
            item(5, "Med", 8.0),
            item(6, "Low", 4.0),
        ];
        let p = plan_person(cap(46.2), items);
        let ids: Vec<i64> = p.committed.iter().map(|i| i.id).collect();
        assert_eq!(ids, vec![3, 4, 2]);
        assert_eq!(p.committed_hours, 40.0);
        let dropped: Vec<i64> = p.dropped.iter().map(|d| d.item.id).collect();
        assert_eq!(dropped, vec![5, 1, 6], "Med 5 does not fit, so no Low is committed");
        assert!(p.dropped[1].reason.contains("lower priority than Med"));
        let tell = requesters_to_tell(&[p]);
        assert_eq!(tell["field-fran"], vec![1, 5]);
        assert_eq!(tell["sales-sam"], vec![6]);
    }

    #[test]
    fn carry_over_counts_each_roll() {
        let s = MilestoneSeries::default();
        let items = vec![
            CarryItem {
                id: 1,
                assignee: Some("aabm".into()),
                weight: Some(3),
                due: d("2026-11-20"),
                closed: None,
            },
            CarryItem {
                id: 2,
                assignee: Some("aabm".into()),
                weight: Some(2),
                due: d("2026-11-20"),
                closed: Some(d("2026-11-21")),
            },
            CarryItem {
                id: 3,
                assignee: Some("aabm".into()),
                weight: Some(1),
                due: d("2026-11-20"),
                closed: Some(d("2026-11-24")),
            },
        ];
        let c = carry_over(&s, &items, d("2026-12-08"));
        // Due in Mktg: 2026-11-22; #1 is still open after it and after Mktg: 2026-12-06; #3 closed
        // in the next milestone.
        let got: Vec<(String, u32, u32)> = c.iter().map(|c| (c.milestone.name(), c.issues, c.weight)).collect();
        assert_eq!(
            got,
            vec![
                ("Mktg: 2026-11-22".to_string(), 2, 4),
                ("Mktg: 2026-12-06".to_string(), 1, 3)
            ]
        );
    }

    proptest! {
        #[test]
        fn never_over_budget_and_never_lower_before_higher(
            budget in 0.0f64..120.0,
            work in proptest::collection::vec((0usize..5, 1usize..6), 0..30),
        ) {
            let names = ["Top", "High", "Med", "Low", "TBD"];
            let items: Vec<PlanItem> = work.iter().enumerate()
                .map(|(i, (p, w))| item(i as i64, names[*p], [4.0, 8.0, 16.0, 24.0, 40.0][*w - 1]))
                .collect();
            let p = plan_person(cap(round_hours(budget)), items);
            prop_assert!(p.committed_hours <= p.capacity.budget_hours + 1e-9);
            let worst_committed = p.committed.iter().map(|i| priority_rank(i.priority.as_deref())).max();
            let best_dropped_for_room = p.dropped.iter()
                .filter(|d| d.reason.starts_with("needs"))
                .map(|d| priority_rank(d.item.priority.as_deref()))
                .min();
            if let (Some(w), Some(b)) = (worst_committed, best_dropped_for_room) {
                prop_assert!(w <= b, "committed rank {} after dropping rank {}", w, b);
            }
        }
    }
}
