//! Where holidays come from: the built-in US federal calendar with its observed-day rules, a plain
//! list file (one date a line) and an iCalendar feed. Parsers take text and return dates or errors
//! that name the line, so a user can fix the file they were given.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// A holiday with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// A problem in a holiday file, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct HolidayParseError {
    pub line: usize,
    pub reason: String,
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("nth weekday exists")
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("valid month");
    let mut d = first_next - Duration::days(1);
    while d.weekday() != weekday {
        d -= Duration::days(1);
    }
    d
}

/// Federal observed-day rule: a Saturday holiday is observed on Friday, a Sunday one on Monday.
fn observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d - Duration::days(1),
        Weekday::Sun => d + Duration::days(1),
        _ => d,
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// US federal holidays (observed dates) whose actual date falls in `year`. An observed day can
/// land in the previous year: New Year's Day 2028 (a Saturday) is observed on 2027-12-31.
pub fn us_federal_year(year: i32) -> Vec<Holiday> {
    let mut out = vec![
        (observed(ymd(year, 1, 1)), "New Year's Day"),
        (
            nth_weekday(year, 1, Weekday::Mon, 3),
            "Birthday of Martin Luther King, Jr.",
        ),
        (nth_weekday(year, 2, Weekday::Mon, 3), "Washington's Birthday"),
        (last_weekday(year, 5, Weekday::Mon), "Memorial Day"),
        (observed(ymd(year, 7, 4)), "Independence Day"),
        (nth_weekday(year, 9, Weekday::Mon, 1), "Labor Day"),
        (nth_weekday(year, 10, Weekday::Mon, 2), "Columbus Day"),
        (observed(ymd(year, 11, 11)), "Veterans Day"),
        (nth_weekday(year, 11, Weekday::Thu, 4), "Thanksgiving Day"),
        (observed(ymd(year, 12, 25)), "Christmas Day"),
    ];
    if year >= 2021 {
        out.push((observed(ymd(year, 6, 19)), "Juneteenth National Independence Day"));
    }
    let mut hs: Vec<Holiday> = out
        .into_iter()
        .map(|(date, name)| Holiday {
            date,
            name: name.to_string(),
        })
        .collect();
    hs.sort_by_key(|h| h.date);
    hs
}

/// US federal holidays for `from..=to`, plus the following year so observed days crossing a
/// year end are present.
pub fn us_federal(from: i32, to: i32) -> Vec<Holiday> {
    (from..=to + 1).flat_map(us_federal_year).collect()
}

/// Parse a plain holiday list: `YYYY-MM-DD [name]` a line; blank lines and `#` comments ignored.
/// Every bad line is reported.
pub fn parse_list(text: &str) -> Result<Vec<Holiday>, Vec<HolidayParseError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (date_part, name) = match line.find(|c: char| c.is_whitespace() || c == ',') {
            Some(p) => (&line[..p], line[p + 1..].trim().trim_matches(',').trim()),
            None => (line, ""),
        };
        match NaiveDate::parse_from_str(date_part, "%Y-%m-%d") {
            Ok(date) => out.push(Holiday {
                date,
                name: name.to_string(),
            }),
            Err(_) => errors.push(HolidayParseError {
                line: i + 1,
                reason: format!("expected a date like 2026-12-25, found {date_part:?}"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parse an iCalendar feed's all-day events into holidays. An all-day event covers
/// `[DTSTART, DTEND)`: DTEND is exclusive, so a one-day holiday has DTEND the day after. Events
/// with a time take the date of their start. Recurring events (RRULE) are refused by line, since
/// guessing their expansion would silently give wrong holidays.
pub fn parse_ical(text: &str) -> Result<Vec<Holiday>, Vec<HolidayParseError>> {
    // Unfold continuation lines (RFC 5545 §3.1), remembering where each logical line started.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        if (raw.starts_with(' ') || raw.starts_with('\t')) && !lines.is_empty() {
            lines.last_mut().expect("non-empty").1.push_str(&raw[1..]);
        } else {
            lines.push((i + 1, raw.trim_start_matches('\u{feff}').to_string()));
        }
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut saw_calendar = false;
    let mut event: Option<(usize, Option<NaiveDate>, Option<NaiveDate>, String)> = None;
    for (line_no, line) in &lines {
        let (head, value) = match line.split_once(':') {
            Some(x) => x,
            None => continue,
        };
        let prop = head.split(';').next().unwrap_or("").to_ascii_uppercase();
        match (prop.as_str(), value) {
            ("BEGIN", v) if v.eq_ignore_ascii_case("VCALENDAR") => saw_calendar = true,
            ("BEGIN", v) if v.eq_ignore_ascii_case("VEVENT") => event = Some((*line_no, None, None, String::new())),
            ("END", v) if v.eq_ignore_ascii_case("VEVENT") => {
                if let Some((start_line, start, end, name)) = event.take() {
                    match start {
                        None => errors.push(HolidayParseError {
                            line: start_line,
                            reason: "event has no DTSTART".into(),
                        }),
                        Some(s) => {
                            let end = end.unwrap_or(s + Duration::days(1));
                            if end <= s {
                                out.push(Holiday {
                                    date: s,
                                    name: name.clone(),
                                });
                            }
                            let mut d = s;
                            while d < end {
                                out.push(Holiday {
                                    date: d,
                                    name: name.clone(),
                                });
                                d += Duration::days(1);
                            }
                        }
                    }
                }
            }
            ("DTSTART", v) | ("DTEND", v) => {
                let Some(ev) = event.as_mut() else { continue };
                match parse_ical_date(v) {
                    Some(date) => {
                        if prop == "DTSTART" {
                            ev.1 = Some(date);
                        } else {
                            ev.2 = Some(date);
                        }
                    }
                    None => errors.push(HolidayParseError {
                        line: *line_no,
                        reason: format!("{prop}: expected a date like 20261225, found {v:?}"),
                    }),
                }
            }
            ("SUMMARY", v) => {
                if let Some(ev) = event.as_mut() {
                    ev.3 = v.replace("\\,", ",").replace("\\;", ";");
                }
            }
            ("RRULE", _) if event.is_some() => errors.push(HolidayParseError {
                line: *line_no,
                reason: "recurring events (RRULE) are not supported; export the feed with one event per holiday".into(),
            }),
            _ => {}
        }
    }
    if !saw_calendar {
        errors.insert(
            0,
            HolidayParseError {
                line: 1,
                reason: "not an iCalendar file (no BEGIN:VCALENDAR)".into(),
            },
        );
    }
    if errors.is_empty() {
        out.sort_by_key(|h| h.date);
        Ok(out)
    } else {
        Err(errors)
    }
}

fn parse_ical_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if v.len() < 8 {
        return None;
    }
    let date = &v[..8];
    let rest = &v[8..];
    if !rest.is_empty() && !rest.starts_with('T') {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn us_federal_2026_observed_days() {
        let days: Vec<_> = us_federal_year(2026).into_iter().map(|h| h.date).collect();
        assert!(
            days.contains(&d("2026-07-03")),
            "July 4 2026 is a Saturday, observed Friday July 3"
        );
        assert!(days.contains(&d("2026-11-26")), "Thanksgiving");
        assert!(days.contains(&d("2026-01-19")), "MLK day");
        assert!(days.contains(&d("2026-05-25")), "Memorial day");
        assert!(days.contains(&d("2026-06-19")), "Juneteenth");
        assert_eq!(days.len(), 11);
    }

    #[test]
    fn observed_new_year_crosses_year_end() {
        let hs = us_federal(2027, 2027);
        assert!(hs
            .iter()
            .any(|h| h.date == d("2027-12-31") && h.name == "New Year's Day"));
        // Juneteenth only from 2021
        assert_eq!(us_federal_year(2020).len(), 10);
    }

    #[test]
    fn list_file_reports_every_bad_line() {
        let ok = parse_list("# UK\n2026-12-25 Christmas Day\n\n2026-12-28, Boxing Day (substitute)\n").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].name, "Boxing Day (substitute)");
        let err = parse_list("2026-12-25\n25/12/2026 Christmas\nnope\n").unwrap_err();
        assert_eq!(err.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn ical_all_day_dtend_is_exclusive() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261226\r\nSUMMARY:Christmas\r\n  Day\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261228\r\nDTEND;VALUE=DATE:20261230\r\nSUMMARY:Company shutdown\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let hs = parse_ical(ics).unwrap();
        let days: Vec<_> = hs.iter().map(|h| h.date).collect();
        assert_eq!(days, vec![d("2026-12-25"), d("2026-12-28"), d("2026-12-29")]);
        assert_eq!(hs[0].name, "Christmas Day", "folded SUMMARY lines are unfolded");
    }

    #[test]
    fn ical_errors_name_lines() {
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026-12-25\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY\nEND:VEVENT\nEND:VCALENDAR\n";
        let err = parse_ical(ics).unwrap_err();
        let lines: Vec<_> = err.iter().map(|e| e.line).collect();
        assert!(lines.contains(&3), "{err:?}");
        assert!(lines.contains(&7), "{err:?}");
        assert_eq!(parse_ical("2026-12-25\n").unwrap_err()[0].line, 1);
    }
}
