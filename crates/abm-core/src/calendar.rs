//! Business-day arithmetic with numpy `busday_offset` / `busday_count` semantics.
//!
//! A business day is a weekday in the weekmask that is not a holiday, or an explicitly added
//! working day. Offsetting first rolls a non-business start date (forward by default), then counts
//! N business days; counting between two dates is half-open, `[start, end)`, and negative when
//! `end < start`. SLAs, workbacks and milestones all stand on these two functions.
//!
//! One deliberate difference from numpy: a reversed count is minus the count of `[end, start)`,
//! so `count(a, b) == -count(b, a)` always. numpy counts `(end, start]` instead, which would say a
//! request due on a Friday is not yet overdue on the Saturday after. Offsets match numpy exactly.

use crate::holidays::Holiday;
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

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
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    name: String,
    weekmask: [bool; 7],
    /// All declared holidays with their names ("" when the source gave none).
    holidays: BTreeMap<NaiveDate, String>,
    /// All declared extra working days (for listing).
    extra_working_days: BTreeSet<NaiveDate>,
    /// Holidays that fall on weekmask days and are not extra working days: days removed.
    removed: Vec<NaiveDate>,
    /// Extra working days that fall outside the weekmask: days added.
    added: Vec<NaiveDate>,
    /// prefix[k] = business days among the first k days of a week starting Monday.
    prefix: [i64; 8],
    /// Lookup tables over [epoch, epoch + TABLE_DAYS), built on first use: see [`Tables`].
    tables: OnceLock<Tables>,
}

/// Two calendars are equal when they define the same business days (and name), whether or not
/// their lookup tables have been built yet.
impl PartialEq for BusinessCalendar {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.weekmask, &self.holidays, &self.extra_working_days)
            == (&other.name, other.weekmask, &other.holidays, &other.extra_working_days)
    }
}

impl Eq for BusinessCalendar {}

/// Days covered by the lookup tables: 1900-01-01 up to 2200-01-01.
const TABLE_DAYS: usize = 109_573;

/// Precomputed answers for the years people plan in, so roll, offset and count are two array
/// lookups each; dates outside fall back to arithmetic over the weekmask and exception lists.
#[derive(Debug, Clone, Default)]
struct Tables {
    /// `before[i]`: business days in [epoch, epoch + i), for i in 0..=TABLE_DAYS.
    before: Vec<u32>,
    /// `day[k]`: days from the epoch to the k-th business day in the table.
    day: Vec<u32>,
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
            holidays: BTreeMap::new(),
            extra_working_days: BTreeSet::new(),
            removed: Vec::new(),
            added: Vec::new(),
            prefix,
            tables: OnceLock::new(),
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

    /// Add holidays without names (duplicates are fine).
    pub fn with_holidays(self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.with_named_holidays(days.into_iter().map(|date| Holiday {
            date,
            name: String::new(),
        }))
    }

    /// Add holidays with their names; a date already named keeps its first name.
    pub fn with_named_holidays(mut self, days: impl IntoIterator<Item = Holiday>) -> Self {
        for h in days {
            let name = self.holidays.entry(h.date).or_default();
            if name.is_empty() {
                *name = h.name;
            }
        }
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
        self.holidays.keys().copied()
    }

    /// Holidays with their names, in date order.
    pub fn named_holidays(&self) -> impl Iterator<Item = Holiday> + '_ {
        self.holidays.iter().map(|(date, name)| Holiday {
            date: *date,
            name: name.clone(),
        })
    }

    pub fn extra_working_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.extra_working_days.iter().copied()
    }

    fn rebuild(&mut self) {
        let wm = self.weekmask;
        self.removed = self
            .holidays
            .keys()
            .copied()
            .filter(|d| wm[weekday_index(*d)] && !self.extra_working_days.contains(d))
            .collect();
        self.added = self
            .extra_working_days
            .iter()
            .copied()
            .filter(|d| !wm[weekday_index(*d)])
            .collect();
        self.tables = OnceLock::new();
    }

    fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| self.build_tables())
    }

    fn build_tables(&self) -> Tables {
        let mut before = Vec::with_capacity(TABLE_DAYS + 1);
        let mut day = Vec::with_capacity(TABLE_DAYS * 5 / 7 + 8);
        // Holidays and extra days before the tables begin are not in them.
        let (mut removed, mut added) = (
            self.removed.iter().skip_while(|d| **d < epoch()).peekable(),
            self.added.iter().skip_while(|d| **d < epoch()).peekable(),
        );
        let mut count = 0u32;
        let mut date = epoch();
        for i in 0..TABLE_DAYS as u32 {
            before.push(count);
            let business = if self.weekmask[(i % 7) as usize] {
                // epoch is a Monday, so i % 7 is the weekday
                !matches!(removed.peek(), Some(d) if **d == date)
            } else {
                matches!(added.peek(), Some(d) if **d == date)
            };
            while removed.peek().is_some_and(|d| **d <= date) {
                removed.next();
            }
            while added.peek().is_some_and(|d| **d <= date) {
                added.next();
            }
            if business {
                day.push(i);
                count += 1;
            }
            date = date.succ_opt().expect("within chrono's range");
        }
        before.push(count);
        Tables { before, day }
    }

    /// Days from the epoch, if `date` is inside the tables.
    fn table_pos(&self, date: NaiveDate) -> Option<usize> {
        let d = date.num_days_from_ce() - epoch().num_days_from_ce();
        (0..TABLE_DAYS as i32).contains(&d).then_some(d as usize)
    }

    fn table_date(&self, pos: u32) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(epoch().num_days_from_ce() + pos as i32).expect("within the table")
    }

    /// Table answer for `offset`, when the start and the answer both lie inside the tables.
    fn table_offset(&self, date: NaiveDate, n: i64, roll: Roll) -> Option<NaiveDate> {
        let t = self.tables();
        let pos = self.table_pos(date)?;
        let k = t.before[pos] as i64; // index of the first business day on or after `date`
        let is_business = t.before[pos + 1] > t.before[pos];
        let start = match (is_business, roll) {
            (true, _) | (false, Roll::Forward) => k,
            (false, Roll::Backward) => k - 1,
        };
        let target = start + n;
        if start < 0 || target < 0 || target as usize >= t.day.len() || start as usize >= t.day.len() {
            return None;
        }
        Some(self.table_date(t.day[target as usize]))
    }

    /// Is `date` a business day?
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        if let Some(p) = self.table_pos(date) {
            let before = &self.tables().before;
            return before[p + 1] > before[p];
        }
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
        self.table_offset(date, n, roll)
            .unwrap_or_else(|| self.offset_by_arithmetic(date, n, roll))
    }

    /// [`Self::offset`] without the tables, for dates outside them.
    fn offset_by_arithmetic(&self, date: NaiveDate, n: i64, roll: Roll) -> NaiveDate {
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

    /// Business days in `[start, end)`; when `end < start`, minus the business days in `[end, start)`
    /// (numpy's `busday_count` for forward ranges; see the module comment for reversed ones).
    pub fn count(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        match (self.table_pos(start), self.table_pos(end)) {
            (Some(s), Some(e)) => self.tables().before[e] as i64 - self.tables().before[s] as i64,
            _ => self.index(end) - self.index(start),
        }
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

    /// The definition of a business day, straight from the calendar's parts (no tables).
    fn reference_is_business_day(cal: &BusinessCalendar, d: NaiveDate) -> bool {
        (cal.weekmask()[weekday_index(d)] && !cal.holidays().any(|h| h == d))
            || cal.extra_working_days().any(|e| e == d)
    }

    fn reference_roll(cal: &BusinessCalendar, date: NaiveDate, roll: Roll) -> NaiveDate {
        let step = if roll == Roll::Forward { 1 } else { -1 };
        let mut d = date;
        while !reference_is_business_day(cal, d) {
            d += Duration::days(step);
        }
        d
    }

    /// Day-by-day reference implementations, straight from numpy's documentation.
    fn brute_offset(cal: &BusinessCalendar, date: NaiveDate, n: i64, roll: Roll) -> NaiveDate {
        let mut cur = reference_roll(cal, date, roll);
        let mut left = n;
        while left > 0 {
            cur += Duration::days(1);
            if reference_is_business_day(cal, cur) {
                left -= 1;
            }
        }
        while left < 0 {
            cur -= Duration::days(1);
            if reference_is_business_day(cal, cur) {
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
            n += reference_is_business_day(cal, cur) as i64;
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
    fn holidays_keep_their_first_name() {
        let h = |date: &str, name: &str| Holiday {
            date: d(date),
            name: name.into(),
        };
        let cal = BusinessCalendar::weekdays()
            .with_holidays([d("2026-12-24")])
            .with_named_holidays([h("2026-12-25", "Christmas Day"), h("2026-12-24", "Christmas Eve")])
            .with_named_holidays([h("2026-12-25", "Xmas")])
            .with_holidays([d("2026-12-25")]);
        let names: Vec<(String, String)> = cal.named_holidays().map(|h| (h.date.to_string(), h.name)).collect();
        assert_eq!(
            names,
            vec![
                ("2026-12-24".into(), "Christmas Eve".into()),
                ("2026-12-25".into(), "Christmas Day".into())
            ]
        );
        assert_eq!(
            cal,
            cal.clone().with_holidays([]),
            "equality ignores whether tables were built"
        );
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
        arb_calendar_from(d("2024-01-01"))
    }

    /// A random calendar whose holidays and extra days fall in the 2,000 days from `base`.
    fn arb_calendar_from(base: NaiveDate) -> impl Strategy<Value = BusinessCalendar> {
        (
            proptest::array::uniform7(any::<bool>()).prop_filter("non-empty", |m| m.iter().any(|b| *b)),
            proptest::collection::vec(0i64..2000, 0..60),
            proptest::collection::vec(0i64..2000, 0..20),
        )
            .prop_map(move |(mask, hol, extra)| {
                BusinessCalendar::new("p", mask)
                    .unwrap()
                    .with_holidays(hol.into_iter().map(|x| base + Duration::days(x)))
                    .with_extra_working_days(extra.into_iter().map(|x| base + Duration::days(x)))
            })
    }

    proptest! {
        #[test]
        fn business_days_match_the_definition(cal in arb_calendar(), day in 0i64..2000) {
            let date = d("2024-01-01") + Duration::days(day);
            prop_assert_eq!(cal.is_business_day(date), reference_is_business_day(&cal, date));
        }

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
            prop_assert_eq!(cal.count(start, end), -cal.count(end, start));
        }

        #[test]
        fn outside_and_across_the_tables(
            (cal, base) in prop_oneof![Just(-1000i64), Just(TABLE_DAYS as i64 - 1000)]
                .prop_flat_map(|b| { let base = epoch() + Duration::days(b); (arb_calendar_from(base), Just(base)) }),
            start in 0i64..2000, n in -400i64..400, back in any::<bool>(),
        ) {
            // Days around 1900-01-01 and 2200-01-01, where the tables begin and end.
            let date = base + Duration::days(start);
            let roll = if back { Roll::Backward } else { Roll::Forward };
            prop_assert_eq!(cal.offset(date, n, roll), brute_offset(&cal, date, n, roll));
            let end = date + Duration::days(n);
            prop_assert_eq!(cal.count(date, end), brute_count(&cal, date, end));
        }

        #[test]
        fn offset_then_count_round_trips(cal in arb_calendar(), start in 0i64..2000, n in 0i64..300) {
            let date = cal.roll(d("2024-01-01") + Duration::days(start), Roll::Forward);
            let later = cal.offset(date, n, Roll::Forward);
            prop_assert_eq!(cal.count(date, later), n);
        }
    }
}
