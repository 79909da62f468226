//! Business-day arithmetic with numpy `busday_offset` / `busday_count` semantics.
//!
//! A business day is a weekday in the weekmask that is not a holiday, or an explicitly added
//! working day. Offsetting first rolls a non-business start date (forward by default), then counts
//! N business days; counting between two dates is half-open, `[start, end)`, and negative when
//! `end < start`. SLAs, workbacks and milestones all stand on these two functions.

use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeSet;

/// How to treat a start date that is not a business day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roll {
    /// Move to the next business day (numpy's default `roll='forward'`).
    Forward,
    /// Move to the previous business day (a launch on a weekend rolls back to Friday).
    Backward,
}

/// Errors building a calendar.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    #[error("weekmask {0:?} has no business days")]
    EmptyWeekmask(String),
    #[error(
        "weekmask {0:?} is not understood: write seven 0/1 digits (Mon..Sun) or day names like \"Mon Tue Wed Thu Fri\""
    )]
    BadWeekmask(String),
}

/// A Monday, far enough back that day indices stay small and positive for real dates.
fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid epoch") // a Monday
}

/// A business calendar: weekmask, holidays and extra working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    name: String,
    weekmask: [bool; 7],
    /// All declared holidays (for listing).
    holidays: BTreeSet<NaiveDate>,
    /// All declared extra working days (for listing).
    extra_working_days: BTreeSet<NaiveDate>,
    /// Holidays that fall on weekmask days and are not extra working days: days removed.
    removed: Vec<NaiveDate>,
    /// Extra working days that fall outside the weekmask: days added.
    added: Vec<NaiveDate>,
    /// prefix[k] = business days among the first k days of a week starting Monday.
    prefix: [i64; 8],
}

impl BusinessCalendar {
    /// A calendar with the given weekmask (Mon..Sun) and no holidays.
    pub fn new(name: impl Into<String>, weekmask: [bool; 7]) -> Result<Self, CalendarError> {
        if !weekmask.iter().any(|d| *d) {
            return Err(CalendarError::EmptyWeekmask(format_weekmask(&weekmask)));
        }
        let mut prefix = [0i64; 8];
        for i in 0..7 {
            prefix[i + 1] = prefix[i] + weekmask[i] as i64;
        }
        Ok(Self {
            name: name.into(),
            weekmask,
            holidays: BTreeSet::new(),
            extra_working_days: BTreeSet::new(),
            removed: Vec::new(),
            added: Vec::new(),
            prefix,
        })
    }

    /// Monday to Friday, no holidays.
    pub fn weekdays() -> Self {
        Self::new("weekdays", [true, true, true, true, true, false, false]).expect("non-empty")
    }

    /// Parse a weekmask: `"1111100"` (Mon..Sun) or day names, `"Mon Tue Wed Thu Fri"`.
    pub fn parse_weekmask(text: &str) -> Result<[bool; 7], CalendarError> {
        let t = text.trim();
        let bad = || CalendarError::BadWeekmask(text.to_string());
        let mut mask = [false; 7];
        if t.len() == 7 && t.chars().all(|c| c == '0' || c == '1') {
            for (i, c) in t.chars().enumerate() {
                mask[i] = c == '1';
            }
        } else {
            const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            for word in t
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
            {
                let w = word.to_ascii_lowercase();
                let i = NAMES.iter().position(|n| w.starts_with(n)).ok_or_else(bad)?;
                mask[i] = true;
            }
        }
        if !mask.iter().any(|d| *d) {
            return Err(CalendarError::EmptyWeekmask(text.to_string()));
        }
        Ok(mask)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn weekmask(&self) -> [bool; 7] {
        self.weekmask
    }

    /// Add holidays (duplicates are fine).
    pub fn with_holidays(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(days);
        self.rebuild();
        self
    }

    /// Add extra working days: they are business days even on a weekend or a holiday.
    pub fn with_extra_working_days(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.extra_working_days.extend(days);
        self.rebuild();
        self
    }

    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    pub fn extra_working_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.extra_working_days.iter().copied()
    }

    fn rebuild(&mut self) {
        let wm = self.weekmask;
        self.removed = self
            .holidays
            .iter()
            .copied()
            .filter(|d| wm[weekday_index(*d)] && !self.extra_working_days.contains(d))
            .collect();
        self.added = self
            .extra_working_days
            .iter()
            .copied()
            .filter(|d| !wm[weekday_index(*d)])
            .collect();
    }

    /// Is `date` a business day?
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        if self.weekmask[weekday_index(date)] {
            self.removed.binary_search(&date).is_err()
        } else {
            self.added.binary_search(&date).is_ok()
        }
    }

    /// Number of business days in `[epoch, date)` (relative; only differences matter).
    fn index(&self, date: NaiveDate) -> i64 {
        let days = (date - epoch()).num_days();
        let weeks = days.div_euclid(7);
        let rem = days.rem_euclid(7) as usize;
        let by_mask = weeks * self.prefix[7] + self.prefix[rem];
        let removed = self.removed.partition_point(|d| *d < date) as i64;
        let added = self.added.partition_point(|d| *d < date) as i64;
        by_mask - removed + added
    }

    /// Roll `date` to a business day in the given direction (unchanged when it already is one).
    pub fn roll(&self, date: NaiveDate, roll: Roll) -> NaiveDate {
        let step = match roll {
            Roll::Forward => Duration::days(1),
            Roll::Backward => Duration::days(-1),
        };
        let mut d = date;
        while !self.is_business_day(d) {
            d += step;
        }
        d
    }

    /// numpy `busday_offset(date, n, roll)`: roll a non-business `date`, then count `n` business
    /// days (negative counts go back).
    pub fn offset(&self, date: NaiveDate, n: i64, roll: Roll) -> NaiveDate {
        let start = self.roll(date, roll);
        let target = self.index(start) + n;
        // Jump by whole weeks using the weekmask, then walk the few days holidays shift us by.
        let per_week = self.prefix[7];
        let mut d = start + Duration::days(n.div_euclid(per_week) * 7);
        let mut idx = self.index(d);
        loop {
            if idx < target || (idx == target && !self.is_business_day(d)) {
                idx += self.is_business_day(d) as i64;
                d += Duration::days(1);
            } else if idx > target {
                d -= Duration::days(1);
                idx -= self.is_business_day(d) as i64;
            } else {
                return d;
            }
        }
    }

    /// Forward-rolling offset: the SLA rule "N business days after".
    pub fn add_business_days(&self, date: NaiveDate, n: i64) -> NaiveDate {
        self.offset(date, n, Roll::Forward)
    }

    /// numpy `busday_count(start, end)`: business days in `[start, end)`, negative when `end < start`.
    pub fn count(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        self.index(end) - self.index(start)
    }

    /// The first business day on or after `date`.
    pub fn next_business_day(&self, date: NaiveDate) -> NaiveDate {
        self.roll(date, Roll::Forward)
    }
}

/// Monday = 0 .. Sunday = 6.
pub fn weekday_index(d: NaiveDate) -> usize {
    d.weekday().num_days_from_monday() as usize
}

fn format_weekmask(mask: &[bool; 7]) -> String {
    mask.iter().map(|b| if *b { '1' } else { '0' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Day-by-day reference implementations, straight from numpy's documentation.
    fn brute_offset(cal: &BusinessCalendar, date: NaiveDate, n: i64, roll: Roll) -> NaiveDate {
        let mut cur = cal.roll(date, roll);
        let mut left = n;
        while left > 0 {
            cur += Duration::days(1);
            if cal.is_business_day(cur) {
                left -= 1;
            }
        }
        while left < 0 {
            cur -= Duration::days(1);
            if cal.is_business_day(cur) {
                left += 1;
            }
        }
        cur
    }

    fn brute_count(cal: &BusinessCalendar, start: NaiveDate, end: NaiveDate) -> i64 {
        let (a, b, sign) = if start <= end {
            (start, end, 1)
        } else {
            (end, start, -1)
        };
        let mut n = 0;
        let mut cur = a;
        while cur < b {
            n += cal.is_business_day(cur) as i64;
            cur += Duration::days(1);
        }
        sign * n
    }

    #[test]
    fn numpy_doc_examples() {
        let cal = BusinessCalendar::weekdays();
        // np.busday_offset('2011-10', 0, roll='forward') == 2011-10-03
        assert_eq!(cal.offset(d("2011-10-01"), 0, Roll::Forward), d("2011-10-03"));
        // np.busday_offset('2012-05', 1, roll='forward', weekmask='Sun') == 2012-05-13
        let sun = BusinessCalendar::new("sun", BusinessCalendar::parse_weekmask("Sun").unwrap()).unwrap();
        assert_eq!(sun.offset(d("2012-05-01"), 1, Roll::Forward), d("2012-05-13"));
        // np.busday_offset('2011-03-20', 0, roll='backward') == 2011-03-18
        assert_eq!(cal.offset(d("2011-03-20"), 0, Roll::Backward), d("2011-03-18"));
        // np.busday_offset('2011-03-22', -1, roll='forward') == 2011-03-21
        assert_eq!(cal.offset(d("2011-03-22"), -1, Roll::Forward), d("2011-03-21"));
        // np.busday_count('2011-01', '2011-02') == 21
        assert_eq!(cal.count(d("2011-01-01"), d("2011-02-01")), 21);
        // np.busday_count('2011', '2012', weekmask='Sat') == 53
        let sat = BusinessCalendar::new("sat", BusinessCalendar::parse_weekmask("0000010").unwrap()).unwrap();
        assert_eq!(sat.count(d("2011-01-01"), d("2012-01-01")), 53);
        // reversed order counts negative
        assert_eq!(cal.count(d("2011-02-01"), d("2011-01-01")), -21);
    }

    #[test]
    fn holidays_and_extra_days() {
        let cal = BusinessCalendar::weekdays()
            .with_holidays([d("2026-07-03")])
            .with_extra_working_days([d("2026-07-04")]);
        assert!(!cal.is_business_day(d("2026-07-03")));
        assert!(cal.is_business_day(d("2026-07-04"))); // a Saturday made a working day
        assert_eq!(cal.add_business_days(d("2026-07-02"), 1), d("2026-07-04"));
        // an extra working day wins over a holiday on the same date
        let both = BusinessCalendar::weekdays()
            .with_holidays([d("2026-07-03")])
            .with_extra_working_days([d("2026-07-03")]);
        assert!(both.is_business_day(d("2026-07-03")));
    }

    #[test]
    fn weekmask_parsing() {
        assert_eq!(
            BusinessCalendar::parse_weekmask("Mon Tue Wed Thu Fri").unwrap(),
            [true, true, true, true, true, false, false]
        );
        assert_eq!(
            BusinessCalendar::parse_weekmask("0111110").unwrap(),
            [false, true, true, true, true, true, false]
        );
        assert!(matches!(
            BusinessCalendar::parse_weekmask("0000000"),
            Err(CalendarError::EmptyWeekmask(_))
        ));
        assert!(matches!(
            BusinessCalendar::parse_weekmask("Funday"),
            Err(CalendarError::BadWeekmask(_))
        ));
    }

    fn arb_calendar() -> impl Strategy<Value = BusinessCalendar> {
        (
            proptest::array::uniform7(any::<bool>()).prop_filter("non-empty", |m| m.iter().any(|b| *b)),
            proptest::collection::vec(0i64..2000, 0..60),
            proptest::collection::vec(0i64..2000, 0..20),
        )
            .prop_map(|(mask, hol, extra)| {
                let base = d("2024-01-01");
                BusinessCalendar::new("p", mask)
                    .unwrap()
                    .with_holidays(hol.into_iter().map(|x| base + Duration::days(x)))
                    .with_extra_working_days(extra.into_iter().map(|x| base + Duration::days(x)))
            })
    }

    proptest! {
        #[test]
        fn offset_matches_brute_force(cal in arb_calendar(), start in 0i64..2000, n in -300i64..300, back in any::<bool>()) {
            let date = d("2024-01-01") + Duration::days(start);
            let roll = if back { Roll::Backward } else { Roll::Forward };
            prop_assert_eq!(cal.offset(date, n, roll), brute_offset(&cal, date, n, roll));
        }

        #[test]
        fn count_matches_brute_force(cal in arb_calendar(), a in 0i64..2000, b in 0i64..2000) {
            let start = d("2024-01-01") + Duration::days(a);
            let end = d("2024-01-01") + Duration::days(b);
            prop_assert_eq!(cal.count(start, end), brute_count(&cal, start, end));
        }

        #[test]
        fn offset_then_count_round_trips(cal in arb_calendar(), start in 0i64..2000, n in 0i64..300) {
            let date = cal.roll(d("2024-01-01") + Duration::days(start), Roll::Forward);
            let later = cal.offset(date, n, Roll::Forward);
            prop_assert_eq!(cal.count(date, later), n);
        }
    }
}
