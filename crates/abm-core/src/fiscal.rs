//! The fiscal calendar: fiscal years named for the calendar year they end in (FY22 runs
//! 2021-02-01..2022-01-31 when the year starts in February), quarters labelled `FY22-Q3`.

use crate::calendar::BusinessCalendar;
use chrono::{Datelike, Duration, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// Fiscal-year settings: the month the fiscal year starts in (February by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiscalCalendar {
    start_month: u32,
}

impl Default for FiscalCalendar {
    fn default() -> Self {
        Self { start_month: 2 }
    }
}

/// A fiscal quarter, e.g. FY27-Q1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiscalQuarter {
    /// The calendar year the fiscal year ends in (FY27 → 2027).
    pub year: i32,
    /// 1..=4
    pub quarter: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalError {
    #[error("fiscal year start month must be 1..=12, found {0}")]
    BadStartMonth(u32),
    #[error("expected a fiscal quarter like FY27-Q1, found {0:?}")]
    BadQuarter(String),
}

impl FiscalCalendar {
    pub fn new(start_month: u32) -> Result<Self, FiscalError> {
        if (1..=12).contains(&start_month) {
            Ok(Self { start_month })
        } else {
            Err(FiscalError::BadStartMonth(start_month))
        }
    }

    pub fn start_month(&self) -> u32 {
        self.start_month
    }

    /// The fiscal year (named by the calendar year it ends in) that `date` falls in.
    pub fn fiscal_year(&self, date: NaiveDate) -> i32 {
        if self.start_month == 1 || date.month() < self.start_month {
            date.year()
        } else {
            date.year() + 1
        }
    }

    /// The fiscal quarter `date` falls in.
    pub fn quarter_of(&self, date: NaiveDate) -> FiscalQuarter {
        let months_in = (date.month() + 12 - self.start_month) % 12;
        FiscalQuarter {
            year: self.fiscal_year(date),
            quarter: (months_in / 3 + 1) as u8,
        }
    }

    /// First day of the fiscal year `fy`.
    pub fn year_start(&self, fy: i32) -> NaiveDate {
        let y = if self.start_month == 1 { fy } else { fy - 1 };
        NaiveDate::from_ymd_opt(y, self.start_month, 1).expect("valid")
    }

    /// First day of a quarter.
    pub fn quarter_start(&self, q: FiscalQuarter) -> NaiveDate {
        add_months(self.year_start(q.year), 3 * (q.quarter as u32 - 1))
    }

    /// Last day of a quarter (inclusive).
    pub fn quarter_end(&self, q: FiscalQuarter) -> NaiveDate {
        add_months(self.quarter_start(q), 3) - Duration::days(1)
    }

    /// First business day of a quarter under `cal`.
    pub fn quarter_first_business_day(&self, q: FiscalQuarter, cal: &BusinessCalendar) -> NaiveDate {
        cal.next_business_day(self.quarter_start(q))
    }
}

impl FiscalQuarter {
    pub fn next(self) -> Self {
        if self.quarter == 4 {
            Self {
                year: self.year + 1,
                quarter: 1,
            }
        } else {
            Self {
                year: self.year,
                quarter: self.quarter + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.quarter == 1 {
            Self {
                year: self.year - 1,
                quarter: 4,
            }
        } else {
            Self {
                year: self.year,
                quarter: self.quarter - 1,
            }
        }
    }
}

fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    let total = d.year() * 12 + (d.month() as i32 - 1) + months as i32;
    NaiveDate::from_ymd_opt(total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, 1).expect("valid")
}

impl fmt::Display for FiscalQuarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FY{:02}-Q{}", self.year.rem_euclid(100), self.quarter)
    }
}

impl FromStr for FiscalQuarter {
    type Err = FiscalError;
    /// `FY27-Q1`, `fy27-q1`, `FY2027-Q1` or `FY27Q1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || FiscalError::BadQuarter(s.to_string());
        let t = s.trim().to_ascii_uppercase();
        let rest = t.strip_prefix("FY").ok_or_else(bad)?;
        let (y, q) = rest.split_once('Q').ok_or_else(bad)?;
        let y = y.trim_end_matches(['-', ' ']);
        if y.is_empty() || !y.chars().all(|c| c.is_ascii_digit()) || (y.len() != 2 && y.len() != 4) {
            return Err(bad());
        }
        let mut year: i32 = y.parse().map_err(|_| bad())?;
        if y.len() == 2 {
            year += 2000;
        }
        let quarter: u8 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&quarter) {
            return Err(bad());
        }
        Ok(Self { year, quarter })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holidays::us_federal;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn handbook_fiscal_year() {
        let fc = FiscalCalendar::default();
        assert_eq!(fc.quarter_of(d("2021-09-15")).to_string(), "FY22-Q3");
        assert_eq!(fc.quarter_of(d("2021-02-01")).to_string(), "FY22-Q1");
        assert_eq!(fc.quarter_of(d("2022-01-31")).to_string(), "FY22-Q4");
        assert_eq!(fc.quarter_of(d("2021-01-31")).to_string(), "FY21-Q4");
        let q: FiscalQuarter = "FY22-Q4".parse().unwrap();
        assert_eq!(fc.quarter_start(q), d("2021-11-01"));
        assert_eq!(fc.quarter_end(q), d("2022-01-31"));
    }

    #[test]
    fn january_start_is_calendar_year() {
        let fc = FiscalCalendar::new(1).unwrap();
        assert_eq!(fc.quarter_of(d("2026-12-31")).to_string(), "FY26-Q4");
        assert_eq!(fc.quarter_start("FY26-Q1".parse().unwrap()), d("2026-01-01"));
        assert!(FiscalCalendar::new(13).is_err());
    }

    #[test]
    fn first_business_day_of_quarter() {
        let fc = FiscalCalendar::default();
        let cal = BusinessCalendar::weekdays().with_holidays(us_federal(2026, 2027).into_iter().map(|h| h.date));
        // FY27-Q1 starts Sun 2026-02-01 → Mon 2026-02-02
        assert_eq!(
            fc.quarter_first_business_day("FY27-Q1".parse().unwrap(), &cal),
            d("2026-02-02")
        );
    }

    #[test]
    fn quarter_labels_parse_strictly() {
        assert_eq!("fy2027-q2".parse::<FiscalQuarter>().unwrap().to_string(), "FY27-Q2");
        for bad in ["FY27-Q5", "27-Q1", "FYxx-Q1", "FY27", "FY123-Q1"] {
            assert!(bad.parse::<FiscalQuarter>().is_err(), "{bad}");
        }
        let q: FiscalQuarter = "FY27-Q4".parse().unwrap();
        assert_eq!(q.next().to_string(), "FY28-Q1");
        assert_eq!(q.next().previous(), q);
    }
}
