//! Milestone planning and boards over the stored requests: what the CLI and the API show for
//! `plan milestone`, `plan carry-over`, the three boards and the milestone digest. The rules
//! (capacity, fill order, carry-over, the digest's text) are abm-core's; this module gathers
//! their inputs from the store and the workspace.

use crate::desk::{Desk, Result};
use abm_core::capacity::capacity;
use abm_core::milestone::Milestone;
use abm_core::planning::{
    carry_over, plan_person, priority_rank, requesters_to_tell, CarryItem, CarryOver, PersonPlan, PlanItem,
};
use abm_core::request::Request;
use abm_core::updates::{digest, MilestoneCounts, TeamUpdate};
use abm_store::{RequestQuery, Store};
use chrono::{NaiveDate, TimeZone};
use serde::Serialize;
use std::collections::BTreeMap;

/// `abm plan milestone`: each person's proposed commitment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilestonePlan {
    pub milestone: Milestone,
    pub people: Vec<PersonPlan>,
    /// Requesters whose work was dropped, and which requests.
    pub tell: BTreeMap<String, Vec<i64>>,
    /// Work due in the milestone that nobody is assigned to.
    pub unassigned: Vec<PlanItem>,
}

/// The instant day `d` starts in time zone `tz`. Where clocks skip midnight (a DST gap, as in
/// Santiago) the day starts an hour later.
pub fn start_of_day(tz: chrono_tz::Tz, d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    let local = tz.from_local_datetime(&midnight).earliest().or_else(|| {
        tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
    });
    local.map_or(midnight.and_utc(), |t| t.with_timezone(&chrono::Utc))
}

/// The priority columns, in board order.
pub const PRIORITY_COLUMNS: &[&str] = &["Top", "High", "Med", "Low", "TBD"];

/// The label that puts a card in board column `column` (any case), e.g. `ABM-Priority::High`;
/// the error names the columns.
pub fn priority_label(column: &str) -> std::result::Result<abm_core::labels::Label, String> {
    let value = PRIORITY_COLUMNS
        .iter()
        .find(|c| c.eq_ignore_ascii_case(column.trim()))
        .ok_or_else(|| format!("expected one of {}, found {column:?}", PRIORITY_COLUMNS.join(", ")))?;
    Ok(
        abm_core::labels::Label::parse(&format!("{}::{value}", abm_core::request::PRIORITY))
            .expect("the board's columns are label values"),
    )
}

/// A card on a board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub assignee: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub weight: Option<u8>,
    pub hours: f64,
    pub due_date: Option<NaiveDate>,
    pub milestone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    pub cards: Vec<Card>,
    pub weight: u32,
    pub hours: f64,
}

/// One assignee's lane on the milestone board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lane {
    pub assignee: String,
    pub columns: Vec<Column>,
    pub weight: u32,
    pub hours: f64,
    pub budget_hours: f64,
    pub over_budget: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilestoneBoard {
    pub milestone: Milestone,
    pub lanes: Vec<Lane>,
}

/// Blocked requests of one requester, with what each is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedLane {
    pub requester: String,
    pub requests: Vec<BlockedCard>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedCard {
    #[serde(flatten)]
    pub card: Card,
    pub missing: Vec<String>,
    pub blocked_since: Option<NaiveDate>,
}

impl Desk {
    fn card(&self, r: &Request) -> Card {
        Card {
            id: r.id,
            title: r.title.clone(),
            author: r.author.clone(),
            assignee: r.assignee.clone(),
            status: r.status().map(str::to_string),
            priority: r.priority().map(str::to_string),
            weight: r.weight,
            hours: self.capacity.weight_hours.hours(r.weight),
            due_date: r.due_date,
            milestone: r.due_date.map(|d| self.milestones.containing(d).name()),
        }
    }

    fn plan_item(&self, r: &Request) -> PlanItem {
        PlanItem {
            id: r.id,
            title: r.title.clone(),
            author: r.author.clone(),
            priority: r.priority().map(str::to_string),
            weight: r.weight,
            hours: self.capacity.weight_hours.hours(r.weight),
            due: r.due_date,
        }
    }

    /// Open work that belongs to milestone `m`: due in it, or due earlier and still open (it
    /// rolled over); ideas (`mktg-status::plan`) and undated work are left out.
    fn in_milestone(&self, store: &mut dyn Store, m: &Milestone) -> Result<Vec<Request>> {
        let mut out = Vec::new();
        store.each_request(
            &RequestQuery {
                open_only: true,
                ..Default::default()
            },
            &mut |r| {
                if r.status() != Some("plan") && r.due_date.is_some_and(|d| d <= m.end) {
                    out.push(r);
                }
            },
        )?;
        Ok(out)
    }

    /// The milestone named, or the one containing `today`.
    pub fn milestone(&self, name: Option<&str>, today: NaiveDate) -> Result<Milestone> {
        match name {
            Some(n) => self
                .milestones
                .parse(n)
                .map_err(|e| crate::desk::DeskError::Invalid(format!("milestone: {e}"))),
            None => Ok(self.milestones.containing(today)),
        }
    }

    /// Propose each team member's commitment for `m`.
    pub fn plan_milestone(&self, store: &mut dyn Store, m: &Milestone) -> Result<MilestonePlan> {
        let away = self.time_away()?;
        let team: Vec<_> = store.team()?.into_iter().filter(|p| p.role.is_abm_team()).collect();
        let mut by_person: BTreeMap<String, Vec<PlanItem>> =
            team.iter().map(|p| (p.username.clone(), Vec::new())).collect();
        let mut unassigned = Vec::new();
        for r in self.in_milestone(store, m)? {
            match r.assignee.as_ref().and_then(|a| by_person.get_mut(a)) {
                Some(items) => items.push(self.plan_item(&r)),
                None => unassigned.push(self.plan_item(&r)),
            }
        }
        let people: Vec<PersonPlan> = by_person
            .into_iter()
            .map(|(who, items)| plan_person(capacity(&who, m, &self.calendar, &self.capacity, &away), items))
            .collect();
        Ok(MilestonePlan {
            milestone: m.clone(),
            tell: requesters_to_tell(&people),
            people,
            unassigned,
        })
    }

    /// Work rolled over at the end of each milestone before `today`, per person.
    pub fn carry_over(&self, store: &mut dyn Store, today: NaiveDate) -> Result<Vec<CarryOver>> {
        let mut items = Vec::new();
        store.each_request(&RequestQuery::default(), &mut |r| {
            if let Some(due) = r.due_date {
                if r.status() != Some("plan") {
                    items.push(CarryItem {
                        id: r.id,
                        assignee: r.assignee.clone(),
                        weight: r.weight,
                        due,
                        closed: r.closed.map(|c| c.day),
                    });
                }
            }
        })?;
        Ok(carry_over(&self.milestones, &items, today))
    }

    /// Team updates posted from the start of day `from` to the end of day `to`, days in the
    /// team's time zone.
    pub fn updates_between(&self, store: &mut dyn Store, from: NaiveDate, to: NaiveDate) -> Result<Vec<TeamUpdate>> {
        let tz = self.time_zone;
        Ok(store.updates(start_of_day(tz, from), start_of_day(tz, to + chrono::Duration::days(1)))?)
    }

    /// The milestone digest's text: the updates posted during milestone `m` (days in the team's
    /// time zone), topics to discuss, and counts of work closed, blocked, in progress and carried
    /// over.
    pub fn milestone_digest(&self, store: &mut dyn Store, m: &Milestone, today: NaiveDate) -> Result<String> {
        let updates = self.updates_between(store, m.start(), m.end)?;
        let mut counts = MilestoneCounts::default();
        store.each_request(&RequestQuery::default(), &mut |r| {
            let due_in = r.due_date.is_some_and(|d| m.contains(d));
            match r.closed {
                Some(c) if m.contains(c.day) => counts.closed += 1,
                None if due_in && r.status() == Some("blocked") => counts.blocked += 1,
                None if due_in => counts.in_progress += 1,
                _ => {}
            }
        })?;
        counts.carried_over = self
            .carry_over(store, today)?
            .iter()
            .filter(|c| c.milestone == *m)
            .map(|c| c.issues)
            .sum();
        Ok(digest(m, &updates, &counts))
    }

    /// The prioritisation board: open requests in a column per `ABM-Priority::` value.
    pub fn priority_board(&self, store: &mut dyn Store, assignee: Option<&str>) -> Result<Vec<Column>> {
        let mut cols = empty_columns();
        let q = RequestQuery {
            open_only: true,
            assignee: assignee.map(str::to_string),
            ..Default::default()
        };
        store.each_request(&q, &mut |r| {
            let i = (priority_rank(r.priority()) as usize).min(PRIORITY_COLUMNS.len() - 1);
            push_card(&mut cols[i], self.card(&r));
        })?;
        Ok(cols)
    }

    /// The milestone board: per assignee, the milestone's work by priority, with weight and hours
    /// against each person's budget.
    pub fn milestone_board(&self, store: &mut dyn Store, m: &Milestone) -> Result<MilestoneBoard> {
        let away = self.time_away()?;
        let mut lanes: BTreeMap<String, Lane> = BTreeMap::new();
        for r in self.in_milestone(store, m)? {
            let who = r.assignee.clone().unwrap_or_else(|| "(unassigned)".into());
            let lane = lanes.entry(who.clone()).or_insert_with(|| Lane {
                budget_hours: if who == "(unassigned)" {
                    0.0
                } else {
                    capacity(&who, m, &self.calendar, &self.capacity, &away).budget_hours
                },
                assignee: who,
                columns: empty_columns(),
                weight: 0,
                hours: 0.0,
                over_budget: false,
            });
            let card = self.card(&r);
            lane.weight += card.weight.unwrap_or(0) as u32;
            lane.hours += card.hours;
            let i = (priority_rank(r.priority()) as usize).min(PRIORITY_COLUMNS.len() - 1);
            push_card(&mut lane.columns[i], card);
        }
        let lanes = lanes
            .into_values()
            .map(|mut l| {
                l.hours = abm_core::capacity::round_hours(l.hours);
                l.over_budget = l.assignee != "(unassigned)" && l.hours > l.budget_hours + 1e-9;
                l
            })
            .collect();
        Ok(MilestoneBoard {
            milestone: m.clone(),
            lanes,
        })
    }

    /// Blocked requests, grouped by requester.
    pub fn blocked_board(&self, store: &mut dyn Store, today: NaiveDate) -> Result<Vec<BlockedLane>> {
        let mut lanes: BTreeMap<String, Vec<BlockedCard>> = BTreeMap::new();
        let q = RequestQuery {
            open_only: true,
            status: Some("blocked".into()),
            ..Default::default()
        };
        store.each_request(&q, &mut |r| {
            let row = self.sla_row(&r, today);
            lanes.entry(r.author.clone()).or_default().push(BlockedCard {
                card: self.card(&r),
                missing: row.missing,
                blocked_since: row.blocked_since,
            });
        })?;
        Ok(lanes
            .into_iter()
            .map(|(requester, requests)| BlockedLane { requester, requests })
            .collect())
    }
}

/// One empty column per priority, in board order.
fn empty_columns() -> Vec<Column> {
    PRIORITY_COLUMNS
        .iter()
        .map(|n| Column {
            name: n.to_string(),
            cards: Vec::new(),
            weight: 0,
            hours: 0.0,
        })
        .collect()
}

fn push_card(col: &mut Column, card: Card) {
    col.weight += card.weight.unwrap_or(0) as u32;
    col.hours = abm_core::capacity::round_hours(col.hours + card.hours);
    col.cards.push(card);
}

#[cfg(test)]
mod tests {
    use super::start_of_day;
    use chrono::NaiveDate;

    #[test]
    fn columns_name_their_priority_labels() {
        assert_eq!(super::priority_label(" high ").unwrap().as_str(), "ABM-Priority::High");
        assert_eq!(super::priority_label("tbd").unwrap().as_str(), "ABM-Priority::TBD");
        let err = super::priority_label("Urgent").unwrap_err();
        assert_eq!(err, "expected one of Top, High, Med, Low, TBD, found \"Urgent\"");
    }

    #[test]
    fn a_day_starts_at_local_midnight_or_after_a_dst_gap() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let ny = start_of_day(chrono_tz::America::New_York, d("2026-07-01"));
        assert_eq!(ny.to_rfc3339(), "2026-07-01T04:00:00+00:00");
        // Santiago skipped from 00:00 to 01:00 on 2024-09-08: the day starts at 01:00 (-03).
        let scl = start_of_day(chrono_tz::America::Santiago, d("2024-09-08"));
        assert_eq!(scl.to_rfc3339(), "2024-09-08T04:00:00+00:00");
    }
}
