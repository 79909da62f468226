//! The SLA clock. It starts when the last required detail is provided, never at submission, and
//! counts business days in the team's calendar. If a request is blocked again after the clock
//! started, the team's setting decides: `pause` moves the SLA date by the business days spent
//! blocked (the default), `restart` begins a new cycle when the details are complete again. A
//! requested due date earlier than the SLA date moves to the SLA date, with the reason written down.

use crate::calendar::BusinessCalendar;
use chrono::NaiveDate;
use serde::Serialize;
use std::str::FromStr;

/// What re-blocking after the clock started does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReblockPolicy {
    /// The SLA date moves later by the business days spent blocked.
    #[default]
    Pause,
    /// The clock starts over when the details are complete again.
    Restart,
}

impl FromStr for ReblockPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pause" => Ok(Self::Pause),
            "restart" => Ok(Self::Restart),
            other => Err(format!("expected \"pause\" or \"restart\", found {other:?}")),
        }
    }
}

/// A change that matters to the clock, on the team's calendar date it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEvent {
    /// All required details are now provided.
    DetailsComplete(NaiveDate),
    /// Details are missing again (or for the first time).
    Blocked(NaiveDate),
}

/// Where the clock stands after a sequence of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaClock {
    /// When the current cycle started (details complete).
    pub started: NaiveDate,
    /// The SLA date: the request is due by the end of this business day.
    pub sla_date: NaiveDate,
    /// Set while the request is blocked after the clock started.
    pub blocked_since: Option<NaiveDate>,
    /// Business days the SLA date was moved by pauses.
    pub paused_business_days: i64,
}

/// Run the clock over `events` (in time order). None until details are first complete.
pub fn run_clock(
    events: &[ClockEvent],
    turnaround: u32,
    policy: ReblockPolicy,
    cal: &BusinessCalendar,
) -> Option<SlaClock> {
    let mut clock: Option<SlaClock> = None;
    for e in events {
        match (*e, clock.as_mut()) {
            (ClockEvent::DetailsComplete(d), None) => {
                clock = Some(SlaClock {
                    started: d,
                    sla_date: cal.add_business_days(d, turnaround as i64),
                    blocked_since: None,
                    paused_business_days: 0,
                })
            }
            (ClockEvent::Blocked(_), None) => {}
            (ClockEvent::Blocked(b), Some(c)) => {
                if c.blocked_since.is_none() {
                    c.blocked_since = Some(b);
                }
            }
            (ClockEvent::DetailsComplete(d), Some(c)) => {
                if let Some(b) = c.blocked_since.take() {
                    match policy {
                        ReblockPolicy::Pause => {
                            let lost = cal.count(b, d).max(0);
                            c.sla_date = cal.add_business_days(c.sla_date, lost);
                            c.paused_business_days += lost;
                        }
                        ReblockPolicy::Restart => {
                            c.started = d;
                            c.sla_date = cal.add_business_days(d, turnaround as i64);
                        }
                    }
                }
            }
        }
    }
    clock
}

/// The due date a request gets: the requested one, unless it is earlier than the SLA date (or
/// missing), in which case the SLA date, with the reason.
pub fn apply_due_date_rule(
    requested: Option<NaiveDate>,
    clock: &SlaClock,
    turnaround: u32,
) -> (NaiveDate, Option<String>) {
    match requested {
        Some(r) if r >= clock.sla_date => (r, None),
        Some(r) => (
            clock.sla_date,
            Some(format!(
                "requested due date {r} is earlier than the SLA date {}: {turnaround} business days after the details were complete on {}",
                clock.sla_date, clock.started
            )),
        ),
        None => (
            clock.sla_date,
            Some(format!("no due date was requested; set to the SLA date {} ({turnaround} business days after {})", clock.sla_date, clock.started)),
        ),
    }
}

/// How an open request stands against its SLA on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlaStanding {
    /// Business days from today to the SLA date; negative once breached.
    pub business_days_remaining: i64,
    /// At most one business day left (and not breached).
    pub at_risk: bool,
    pub breached: bool,
}

pub fn standing(sla_date: NaiveDate, today: NaiveDate, cal: &BusinessCalendar) -> SlaStanding {
    let remaining = cal.count(today, sla_date);
    SlaStanding {
        business_days_remaining: remaining,
        at_risk: (0..=1).contains(&remaining),
        breached: remaining < 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holidays::us_federal;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn us() -> BusinessCalendar {
        BusinessCalendar::weekdays().with_holidays(us_federal(2020, 2030).into_iter().map(|h| h.date))
    }

    #[test]
    fn handbook_example() {
        // Submitted Oct 1 with due date Oct 15; details completed Oct 14 → due Oct 21.
        let cal = us();
        let clock = run_clock(
            &[
                ClockEvent::Blocked(d("2021-10-01")),
                ClockEvent::DetailsComplete(d("2021-10-14")),
            ],
            5,
            ReblockPolicy::Pause,
            &cal,
        )
        .unwrap();
        let (due, reason) = apply_due_date_rule(Some(d("2021-10-15")), &clock, 5);
        assert_eq!(due, d("2021-10-21"));
        assert!(reason.unwrap().contains("earlier than the SLA date 2021-10-21"));
        assert_eq!(
            apply_due_date_rule(Some(d("2021-11-01")), &clock, 5),
            (d("2021-11-01"), None)
        );
    }

    #[test]
    fn independence_day_observed() {
        let clock = run_clock(
            &[ClockEvent::DetailsComplete(d("2026-07-02"))],
            5,
            ReblockPolicy::Pause,
            &us(),
        )
        .unwrap();
        assert_eq!(clock.sla_date, d("2026-07-10"));
    }

    #[test]
    fn clock_waits_for_details() {
        assert!(run_clock(&[ClockEvent::Blocked(d("2026-07-01"))], 5, ReblockPolicy::Pause, &us()).is_none());
    }

    #[test]
    fn pause_and_restart() {
        let cal = us();
        // Complete Mon Aug 3 → SLA Mon Aug 10; blocked Wed Aug 5 to Mon Aug 10 (3 business days lost).
        let events = [
            ClockEvent::DetailsComplete(d("2026-08-03")),
            ClockEvent::Blocked(d("2026-08-05")),
            ClockEvent::DetailsComplete(d("2026-08-10")),
        ];
        let paused = run_clock(&events, 5, ReblockPolicy::Pause, &cal).unwrap();
        assert_eq!(paused.sla_date, d("2026-08-13"));
        assert_eq!(paused.paused_business_days, 3);
        let restarted = run_clock(&events, 5, ReblockPolicy::Restart, &cal).unwrap();
        assert_eq!(restarted.started, d("2026-08-10"));
        assert_eq!(restarted.sla_date, d("2026-08-17"));
        let blocked = run_clock(&events[..2], 5, ReblockPolicy::Pause, &cal).unwrap();
        assert_eq!(blocked.blocked_since, Some(d("2026-08-05")));
    }

    #[test]
    fn standing_counts_business_days() {
        let cal = us();
        let sla = d("2026-07-10");
        assert_eq!(
            standing(sla, d("2026-07-02"), &cal),
            SlaStanding {
                business_days_remaining: 5,
                at_risk: false,
                breached: false
            }
        );
        assert_eq!(standing(sla, d("2026-07-09"), &cal).at_risk, true);
        assert_eq!(
            standing(sla, d("2026-07-10"), &cal),
            SlaStanding {
                business_days_remaining: 0,
                at_risk: true,
                breached: false
            }
        );
        assert_eq!(
            standing(sla, d("2026-07-13"), &cal),
            SlaStanding {
                business_days_remaining: -1,
                at_risk: false,
                breached: true
            }
        );
        assert_eq!("restart".parse::<ReblockPolicy>().unwrap(), ReblockPolicy::Restart);
        assert!("sometimes".parse::<ReblockPolicy>().is_err());
    }

    proptest! {
        /// Pausing never brings the SLA date earlier, and with pauses the SLA date is exactly the
        /// turnaround plus the business days spent blocked after the start.
        #[test]
        fn pause_adds_exactly_the_blocked_business_days(start in 0i64..600, gaps in proptest::collection::vec((1i64..15, 1i64..15), 0..5), turnaround in 1u32..31) {
            let cal = us();
            let mut day = d("2025-01-01") + chrono::Duration::days(start);
            let mut events = vec![ClockEvent::DetailsComplete(day)];
            let mut blocked_bd = 0;
            for (work, blocked) in gaps {
                day += chrono::Duration::days(work);
                let b = day;
                day += chrono::Duration::days(blocked);
                events.push(ClockEvent::Blocked(b));
                events.push(ClockEvent::DetailsComplete(day));
                blocked_bd += cal.count(b, day);
            }
            let clock = run_clock(&events, turnaround, ReblockPolicy::Pause, &cal).unwrap();
            let first = cal.add_business_days(d("2025-01-01") + chrono::Duration::days(start), turnaround as i64);
            prop_assert!(clock.sla_date >= first);
            prop_assert_eq!(clock.paused_business_days, blocked_bd);
            prop_assert_eq!(clock.sla_date, cal.add_business_days(first, blocked_bd));
        }
    }
}
