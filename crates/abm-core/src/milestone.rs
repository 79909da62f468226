//! Milestones: the two-week series the marketing teams share, named `Mktg: YYYY-MM-DD` after their
//! last day (a Sunday). The series is fixed by one anchor end date; every milestone ends a
//! multiple of 14 days from it. A request's milestone is the one its due date falls in.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Serialize, Serializer};
use std::fmt;

/// The default anchor: Sunday 2026-12-06 ends a milestone.
pub fn default_anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).expect("a valid date")
}

pub const DEFAULT_PREFIX: &str = "Mktg: ";
pub const LENGTH_DAYS: i64 = 14;

/// The series: an anchor end date and the name prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneSeries {
    anchor: NaiveDate,
    prefix: String,
}

/// One milestone: 14 days ending on `end`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Milestone {
    pub end: NaiveDate,
    prefix: String,
}

impl Milestone {
    pub fn start(&self) -> NaiveDate {
        self.end - Duration::days(LENGTH_DAYS - 1)
    }

    pub fn name(&self) -> String {
        format!("{}{}", self.prefix, self.end)
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        (self.start()..=self.end).contains(&d)
    }

    /// Every day of the milestone, first to last.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let start = self.start();
        (0..LENGTH_DAYS).map(move |i| start + Duration::days(i))
    }

    pub fn next(&self) -> Milestone {
        Milestone {
            end: self.end + Duration::days(LENGTH_DAYS),
            prefix: self.prefix.clone(),
        }
    }

    pub fn previous(&self) -> Milestone {
        Milestone {
            end: self.end - Duration::days(LENGTH_DAYS),
            prefix: self.prefix.clone(),
        }
    }
}

impl fmt::Display for Milestone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for Milestone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Milestone", 3)?;
        st.serialize_field("name", &self.name())?;
        st.serialize_field("start", &self.start())?;
        st.serialize_field("end", &self.end)?;
        st.end()
    }
}

impl Default for MilestoneSeries {
    fn default() -> Self {
        Self {
            anchor: default_anchor(),
            prefix: DEFAULT_PREFIX.to_string(),
        }
    }
}

impl MilestoneSeries {
    /// A series whose milestones end on `anchor` (a Sunday) and every 14 days either side.
    pub fn new(anchor: NaiveDate, prefix: impl Into<String>) -> Result<Self, String> {
        if anchor.weekday() != Weekday::Sun {
            return Err(format!(
                "a milestone ends on a Sunday; {anchor} is a {}",
                anchor.format("%A")
            ));
        }
        Ok(Self {
            anchor,
            prefix: prefix.into(),
        })
    }

    pub fn anchor(&self) -> NaiveDate {
        self.anchor
    }

    /// The milestone `d` falls in.
    pub fn containing(&self, d: NaiveDate) -> Milestone {
        let days = (d - self.anchor).num_days();
        let k = days.div_euclid(LENGTH_DAYS) + i64::from(days.rem_euclid(LENGTH_DAYS) != 0);
        Milestone {
            end: self.anchor + Duration::days(k * LENGTH_DAYS),
            prefix: self.prefix.clone(),
        }
    }

    /// Parse `Mktg: 2026-12-06` (or just `2026-12-06`); it must be a milestone of this series.
    pub fn parse(&self, s: &str) -> Result<Milestone, String> {
        let t = s.trim();
        let date_part = t.strip_prefix(self.prefix.trim_end()).unwrap_or(t).trim();
        let end = NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
            .map_err(|_| format!("expected a milestone like \"{}2026-12-06\", found {t:?}", self.prefix))?;
        let m = self.containing(end);
        if m.end != end {
            return Err(format!(
                "{end} does not end a milestone; the milestone containing it is {}",
                m.name()
            ));
        }
        Ok(m)
    }

    /// `count` milestones starting with the one containing `from`.
    pub fn from(&self, from: NaiveDate, count: usize) -> Vec<Milestone> {
        let mut m = self.containing(from);
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let next = m.next();
            out.push(m);
            m = next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn due_dates_land_in_their_milestone() {
        let s = MilestoneSeries::default();
        assert_eq!(s.containing(d("2026-12-02")).name(), "Mktg: 2026-12-06");
        assert_eq!(s.containing(d("2026-12-06")).name(), "Mktg: 2026-12-06");
        assert_eq!(s.containing(d("2026-12-07")).name(), "Mktg: 2026-12-20");
        assert_eq!(s.containing(d("2026-11-23")).name(), "Mktg: 2026-12-06");
        assert_eq!(s.containing(d("2026-11-22")).name(), "Mktg: 2026-11-22");
        assert_eq!(s.containing(d("2026-12-02")).start(), d("2026-11-23"));
    }

    #[test]
    fn names_parse_back_and_must_be_on_the_series() {
        let s = MilestoneSeries::default();
        assert_eq!(s.parse("Mktg: 2027-01-03").unwrap().end, d("2027-01-03"));
        assert_eq!(s.parse("2026-11-22").unwrap().name(), "Mktg: 2026-11-22");
        assert!(s.parse("Mktg: 2026-12-13").unwrap_err().contains("Mktg: 2026-12-20"));
        assert!(s.parse("December").is_err());
        assert!(MilestoneSeries::new(d("2026-12-07"), "Mktg: ")
            .unwrap_err()
            .contains("Monday"));
    }

    proptest! {
        #[test]
        fn every_day_is_in_exactly_one_milestone(offset in -4000i64..4000) {
            let s = MilestoneSeries::default();
            let day = d("2026-12-06") + Duration::days(offset);
            let m = s.containing(day);
            prop_assert!(m.contains(day));
            prop_assert_eq!(m.end.weekday(), Weekday::Sun);
            prop_assert!(!m.next().contains(day) && !m.previous().contains(day));
            prop_assert_eq!(s.parse(&m.name()).unwrap(), m);
        }
    }
}
