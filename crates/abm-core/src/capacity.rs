//! A person's capacity in a milestone: working hours on business days, less planned PTO and the
//! meetings they sit in (the team's recurring calls and one-off meetings), gives available hours;
//! the budget is a share of that (70% by the handbook), because work always arrives mid-milestone.
//! Weights estimate effort and map to hours.

use crate::calendar::BusinessCalendar;
use crate::milestone::Milestone;
use chrono::{NaiveDate, Weekday};
use serde::Serialize;

/// A recurring meeting: every `every_weeks` weeks on `weekday`, counting from `first`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meeting {
    pub name: String,
    #[serde(serialize_with = "weekday_name")]
    pub weekday: Weekday,
    pub every_weeks: u32,
    /// A day on which it takes place (it never takes place before).
    pub first: NaiveDate,
    pub hours: f64,
    /// Who attends; empty means everyone on the team who works on requests.
    pub attendees: Vec<String>,
}

fn weekday_name<S: serde::Serializer>(w: &Weekday, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{w:?}"))
}

impl Meeting {
    pub fn occurs_on(&self, d: NaiveDate) -> bool {
        use chrono::Datelike;
        if d.weekday() != self.weekday || d < self.first || self.every_weeks == 0 {
            return false;
        }
        let weeks = (d - self.first).num_days().div_euclid(7);
        weeks % self.every_weeks as i64 == 0
    }

    pub fn attends(&self, username: &str) -> bool {
        self.attendees.is_empty() || self.attendees.iter().any(|a| a == username)
    }
}

/// Time a person is away or busy on one day: PTO or a one-off meeting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeAway {
    pub username: String,
    pub day: NaiveDate,
    pub hours: f64,
    pub kind: AwayKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AwayKind {
    Pto,
    Meeting,
}

/// The weight → hours mapping (weights 1 to 5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeightHours(pub [f64; 5]);

impl Default for WeightHours {
    /// The spec's scale: 1 = up to half a day, 5 = a full week.
    fn default() -> Self {
        Self([4.0, 8.0, 16.0, 24.0, 40.0])
    }
}

impl WeightHours {
    /// Hours for a weight; unweighted work counts as weight 1.
    pub fn hours(&self, weight: Option<u8>) -> f64 {
        self.0[weight.unwrap_or(1).clamp(1, 5) as usize - 1]
    }
}

/// How capacity is computed for the team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityRules {
    pub hours_per_day: f64,
    /// The share of available hours to commit (0.7).
    pub budget_share: f64,
    pub weight_hours: WeightHours,
    pub meetings: Vec<Meeting>,
}

impl Default for CapacityRules {
    fn default() -> Self {
        Self {
            hours_per_day: 8.0,
            budget_share: 0.7,
            weight_hours: WeightHours::default(),
            meetings: Vec::new(),
        }
    }
}

/// One person's hours in one milestone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonCapacity {
    pub username: String,
    pub business_days: u32,
    pub working_hours: f64,
    pub pto_hours: f64,
    pub meeting_hours: f64,
    pub available_hours: f64,
    pub budget_hours: f64,
}

/// Round to hundredths of an hour, so 66 × 0.7 is 46.2 and not 46.199999.
pub fn round_hours(h: f64) -> f64 {
    (h * 100.0).round() / 100.0
}

/// `username`'s capacity in `milestone`. On each business day: PTO first (up to the day's
/// hours), then meetings in what is left; days off the calendar count for nothing.
pub fn capacity(
    username: &str,
    milestone: &Milestone,
    cal: &BusinessCalendar,
    rules: &CapacityRules,
    away: &[TimeAway],
) -> PersonCapacity {
    let mut c = PersonCapacity {
        username: username.to_string(),
        business_days: 0,
        working_hours: 0.0,
        pto_hours: 0.0,
        meeting_hours: 0.0,
        available_hours: 0.0,
        budget_hours: 0.0,
    };
    for day in milestone.days().filter(|d| cal.is_business_day(*d)) {
        let hours = rules.hours_per_day;
        let mine = away.iter().filter(|a| a.username == username && a.day == day);
        let (mut pto, mut meetings) = (0.0, 0.0);
        for a in mine {
            match a.kind {
                AwayKind::Pto => pto += a.hours,
                AwayKind::Meeting => meetings += a.hours,
            }
        }
        meetings += rules
            .meetings
            .iter()
            .filter(|m| m.occurs_on(day) && m.attends(username))
            .map(|m| m.hours)
            .sum::<f64>();
        let pto = pto.clamp(0.0, hours);
        let meetings = meetings.clamp(0.0, hours - pto);
        c.business_days += 1;
        c.working_hours += hours;
        c.pto_hours += pto;
        c.meeting_hours += meetings;
    }
    c.available_hours = round_hours(c.working_hours - c.pto_hours - c.meeting_hours);
    c.budget_hours = round_hours(c.available_hours * rules.budget_share);
    c.working_hours = round_hours(c.working_hours);
    c.pto_hours = round_hours(c.pto_hours);
    c.meeting_hours = round_hours(c.meeting_hours);
    c
}

/// The handbook team's recurring calls: bi-weekly Tuesday and Wednesday calls, a weekly Thursday
/// call. `first_tuesday` fixes which weeks the bi-weekly ones fall in.
pub fn handbook_meetings(first_tuesday: NaiveDate) -> Vec<Meeting> {
    let m = |name: &str, weekday, every_weeks, offset: i64, hours| Meeting {
        name: name.into(),
        weekday,
        every_weeks,
        first: first_tuesday + chrono::Duration::days(offset),
        hours,
        attendees: Vec::new(),
    };
    vec![
        m("Campaign Team Connect call", Weekday::Tue, 2, 0, 1.0),
        m("Demand Generation team call", Weekday::Wed, 2, 1, 1.0),
        m("Marketing strategy & tactics call", Weekday::Thu, 1, 2, 1.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milestone::MilestoneSeries;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn away(day: &str, hours: f64, kind: AwayKind) -> TimeAway {
        TimeAway {
            username: "aabm".into(),
            day: d(day),
            hours,
            kind,
        }
    }

    #[test]
    fn eighty_hours_less_pto_and_meetings_gives_a_46_2_hour_budget() {
        // Milestone 2027-01-04 .. 2027-01-17 has ten weekdays and no US holidays.
        let m = MilestoneSeries::default().parse("Mktg: 2027-01-17").unwrap();
        let cal = BusinessCalendar::weekdays();
        let rules = CapacityRules {
            meetings: handbook_meetings(d("2027-01-05")),
            ..Default::default()
        };
        // Tue 5 and Wed 6 bi-weekly (1 h each), Thu 7 and Thu 14 weekly (1 h each) = 4 h; plus a
        // 2-hour one-off; PTO a full day on Monday the 11th.
        let away = [
            away("2027-01-11", 8.0, AwayKind::Pto),
            away("2027-01-12", 2.0, AwayKind::Meeting),
            away("2027-01-16", 8.0, AwayKind::Pto), // a Saturday: counts for nothing
        ];
        let c = capacity("aabm", &m, &cal, &rules, &away);
        assert_eq!(c.working_hours, 80.0);
        assert_eq!(c.pto_hours, 8.0);
        assert_eq!(c.meeting_hours, 6.0);
        assert_eq!(c.available_hours, 66.0);
        assert_eq!(c.budget_hours, 46.2);
    }

    #[test]
    fn pto_days_have_no_meetings_and_holidays_no_hours() {
        let m = MilestoneSeries::default().parse("Mktg: 2026-07-05").unwrap();
        let cal = BusinessCalendar::weekdays().with_holidays([d("2026-07-03")]);
        let rules = CapacityRules {
            meetings: handbook_meetings(d("2026-06-23")),
            ..Default::default()
        };
        let c = capacity("aabm", &m, &cal, &rules, &[away("2026-07-02", 8.0, AwayKind::Pto)]);
        assert_eq!(c.business_days, 9);
        assert_eq!(c.pto_hours, 8.0);
        // The milestone runs 22 Jun to 5 Jul: Tue 23 and Wed 24 Jun (bi-weekly), Thu 25 Jun
        // (weekly); Thu 2 Jul is a PTO day, so its call does not count; 30 Jun and 1 Jul are off-weeks.
        assert_eq!(c.meeting_hours, 3.0);
        assert_eq!(c.available_hours, 9.0 * 8.0 - 8.0 - 3.0);
        assert_eq!(WeightHours::default().hours(Some(5)), 40.0);
        assert_eq!(WeightHours::default().hours(None), 4.0);
    }
}
