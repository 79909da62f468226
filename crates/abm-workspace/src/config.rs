//! `abm.toml`, parsed. Syntax errors and wrong values are both reported with the line they are on.

use crate::toml_text::line_of;
use crate::WorkspaceError;
use abm_core::account::Precedence;
use abm_core::capacity::{handbook_meetings, CapacityRules, Meeting, WeightHours};
use abm_core::holidays::{parse_ical, parse_list};
use abm_core::milestone::MilestoneSeries;
use abm_core::{BusinessCalendar, FiscalCalendar};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub time_zone: chrono_tz::Tz,
    pub fiscal: FiscalCalendar,
    pub default_calendar: String,
    pub calendars: BTreeMap<String, CalendarConfig>,
    pub precedence: Precedence,
    /// What re-blocking a request after its SLA clock started does.
    pub reblock: abm_core::sla::ReblockPolicy,
    pub milestones: MilestoneSeries,
    pub capacity: CapacityRules,
    /// The CSV of PTO and one-off meetings (Username, Date, Hours, Kind), relative to the workspace.
    pub time_away_file: String,
    pub gitlab: Option<GitlabConfig>,
    pub slack: Option<SlackConfig>,
}

/// Where the team's GitLab is and what to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitlabConfig {
    /// e.g. `https://gitlab.com`
    pub base_url: String,
    /// A project id or `group/project` path; or a group (with `group`).
    pub project: Option<String>,
    pub group: Option<String>,
    /// The environment variable holding the access token.
    pub token_env: String,
}

/// Where team updates go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackConfig {
    /// The environment variable holding the incoming-webhook URL (it is a secret).
    pub webhook_url_env: String,
}

/// A calendar of the team's own: a base calendar, a weekmask, holiday files, extra working days.
#[derive(Debug, Clone, Default)]
pub struct CalendarConfig {
    pub base: Option<String>,
    pub weekmask: Option<[bool; 7]>,
    pub holiday_files: Vec<String>,
    pub holidays: Vec<NaiveDate>,
    pub extra_working_days: Vec<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database_url: Option<String>,
    time_zone: Option<Spanned<String>>,
    fiscal_year_start_month: Option<Spanned<u32>>,
    default_calendar: Option<Spanned<String>>,
    #[serde(default)]
    calendars: BTreeMap<String, RawCalendar>,
    #[serde(default)]
    precedence: HashMap<String, Vec<String>>,
    #[serde(default)]
    sla: RawSla,
    #[serde(default)]
    milestones: RawMilestones,
    #[serde(default)]
    capacity: RawCapacity,
    gitlab: Option<RawGitlab>,
    slack: Option<RawSlack>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMilestones {
    anchor: Option<Spanned<String>>,
    prefix: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    hours_per_day: Option<Spanned<f64>>,
    budget_percent: Option<Spanned<f64>>,
    weight_hours: Option<Spanned<Vec<f64>>>,
    time_away: Option<String>,
    meetings: Option<Vec<Spanned<RawMeeting>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeeting {
    name: String,
    weekday: String,
    #[serde(default = "one")]
    every_weeks: u32,
    first: String,
    hours: f64,
    #[serde(default)]
    attendees: Vec<String>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitlab {
    base_url: Spanned<String>,
    project: Option<String>,
    group: Option<String>,
    token_env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    webhook_url_env: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSla {
    reblock: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    base: Option<Spanned<String>>,
    weekmask: Option<Spanned<String>>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    holiday_dates: Vec<Spanned<String>>,
    #[serde(default)]
    extra_working_days: Vec<Spanned<String>>,
}

impl Config {
    pub fn parse(text: &str, file: &str) -> Result<Self, WorkspaceError> {
        let err = |line: usize, reason: String| WorkspaceError::Config {
            file: file.to_string(),
            line,
            reason,
        };
        let raw: RawConfig = crate::toml_text::parse(text, file)?;
        let at = |s: std::ops::Range<usize>| line_of(text, s.start);
        let time_zone = match raw.time_zone {
            None => chrono_tz::UTC,
            Some(tz) => tz.get_ref().parse::<chrono_tz::Tz>().map_err(|_| {
                err(
                    at(tz.span()),
                    format!(
                        "time_zone {:?} is not an IANA time zone like \"America/New_York\"",
                        tz.get_ref()
                    ),
                )
            })?,
        };
        let fiscal = match raw.fiscal_year_start_month {
            None => FiscalCalendar::default(),
            Some(m) => FiscalCalendar::new(*m.get_ref()).map_err(|e| err(at(m.span()), e.to_string()))?,
        };
        let mut calendars = BTreeMap::new();
        for (name, c) in raw.calendars {
            let date = |s: &Spanned<String>| {
                NaiveDate::parse_from_str(s.get_ref().trim(), "%Y-%m-%d").map_err(|_| {
                    err(
                        at(s.span()),
                        format!("expected a date like 2026-12-25, found {:?}", s.get_ref()),
                    )
                })
            };
            let base = match c.base {
                None => None,
                Some(b) if crate::BUILTIN.contains(&b.get_ref().as_str()) => Some(b.into_inner()),
                Some(b) => {
                    return Err(err(
                        at(b.span()),
                        format!(
                            "calendars.{name}.base: expected one of {}, found {:?}",
                            crate::BUILTIN.join(", "),
                            b.get_ref()
                        ),
                    ))
                }
            };
            let weekmask = match c.weekmask {
                None => None,
                Some(w) => {
                    Some(BusinessCalendar::parse_weekmask(w.get_ref()).map_err(|e| err(at(w.span()), e.to_string()))?)
                }
            };
            calendars.insert(
                name,
                CalendarConfig {
                    base,
                    weekmask,
                    holiday_files: c.holidays,
                    holidays: c.holiday_dates.iter().map(date).collect::<Result<_, _>>()?,
                    extra_working_days: c.extra_working_days.iter().map(date).collect::<Result<_, _>>()?,
                },
            );
        }
        let default_calendar = match raw.default_calendar {
            None => "us".to_string(),
            Some(d) => {
                let known = crate::BUILTIN.contains(&d.get_ref().as_str()) || calendars.contains_key(d.get_ref());
                if !known {
                    return Err(err(
                        at(d.span()),
                        format!(
                            "default_calendar {:?} is neither built in ({}) nor under [calendars]",
                            d.get_ref(),
                            crate::BUILTIN.join(", ")
                        ),
                    ));
                }
                d.into_inner()
            }
        };
        let mut precedence = Precedence::default()
            .attributes()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>();
        precedence.extend(raw.precedence);
        let milestones = {
            let anchor = match &raw.milestones.anchor {
                None => abm_core::milestone::default_anchor(),
                Some(a) => NaiveDate::parse_from_str(a.get_ref().trim(), "%Y-%m-%d").map_err(|_| {
                    err(
                        at(a.span()),
                        format!(
                            "milestones.anchor: expected a date like 2026-12-06, found {:?}",
                            a.get_ref()
                        ),
                    )
                })?,
            };
            let prefix = raw
                .milestones
                .prefix
                .clone()
                .unwrap_or_else(|| abm_core::milestone::DEFAULT_PREFIX.into());
            MilestoneSeries::new(anchor, prefix).map_err(|e| {
                err(
                    raw.milestones.anchor.as_ref().map(|a| at(a.span())).unwrap_or(1),
                    format!("milestones.anchor: {e}"),
                )
            })?
        };
        let capacity = capacity_rules(&raw.capacity, &err, &at)?;
        let gitlab = match raw.gitlab {
            None => None,
            Some(g) => {
                let url = g.base_url.get_ref().trim().trim_end_matches('/').to_string();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(err(
                        at(g.base_url.span()),
                        format!("gitlab.base_url: expected a URL like https://gitlab.com, found {url:?}"),
                    ));
                }
                if g.project.is_none() == g.group.is_none() {
                    return Err(err(
                        at(g.base_url.span()),
                        "gitlab: set exactly one of project (an id or group/project path) or group".into(),
                    ));
                }
                Some(GitlabConfig {
                    base_url: url,
                    project: g.project,
                    group: g.group,
                    token_env: g.token_env.unwrap_or_else(|| "ABM_GITLAB_TOKEN".into()),
                })
            }
        };
        let slack = raw.slack.map(|s| SlackConfig {
            webhook_url_env: s.webhook_url_env.unwrap_or_else(|| "ABM_SLACK_WEBHOOK_URL".into()),
        });
        Ok(Config {
            milestones,
            time_away_file: raw.capacity.time_away.clone().unwrap_or_else(|| "time-away.csv".into()),
            capacity,
            gitlab,
            slack,
            database_url: raw.database_url.unwrap_or_else(|| "abm.db".into()),
            time_zone,
            fiscal,
            default_calendar,
            calendars,
            precedence: Precedence::new(precedence),
            reblock: match raw.sla.reblock {
                None => Default::default(),
                Some(r) => r
                    .get_ref()
                    .parse()
                    .map_err(|e: String| err(at(r.span()), format!("sla.reblock: {e}")))?,
            },
        })
    }
}

/// `[capacity]`, with the handbook's meetings when none are listed.
fn capacity_rules(
    raw: &RawCapacity,
    err: &dyn Fn(usize, String) -> WorkspaceError,
    at: &dyn Fn(std::ops::Range<usize>) -> usize,
) -> Result<CapacityRules, WorkspaceError> {
    let mut rules = CapacityRules {
        meetings: handbook_meetings(NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")),
        ..Default::default()
    };
    if let Some(h) = &raw.hours_per_day {
        if !(0.0..=24.0).contains(h.get_ref()) {
            return Err(err(
                at(h.span()),
                format!("capacity.hours_per_day: expected 0 to 24, found {}", h.get_ref()),
            ));
        }
        rules.hours_per_day = *h.get_ref();
    }
    if let Some(p) = &raw.budget_percent {
        if !(0.0..=100.0).contains(p.get_ref()) {
            return Err(err(
                at(p.span()),
                format!("capacity.budget_percent: expected 0 to 100, found {}", p.get_ref()),
            ));
        }
        rules.budget_share = p.get_ref() / 100.0;
    }
    if let Some(w) = &raw.weight_hours {
        let v = w.get_ref();
        if v.len() != 5 || v.iter().any(|h| !(0.0..=200.0).contains(h)) {
            return Err(err(
                at(w.span()),
                format!("capacity.weight_hours: expected 5 hour counts for weights 1 to 5, found {v:?}"),
            ));
        }
        rules.weight_hours = WeightHours([v[0], v[1], v[2], v[3], v[4]]);
    }
    if let Some(ms) = &raw.meetings {
        rules.meetings = Vec::new();
        for m in ms {
            let line = at(m.span());
            let m = m.get_ref();
            let weekday = m.weekday.parse::<chrono::Weekday>().map_err(|_| {
                err(
                    line,
                    format!("capacity.meetings: weekday: expected Mon to Sun, found {:?}", m.weekday),
                )
            })?;
            let first = NaiveDate::parse_from_str(m.first.trim(), "%Y-%m-%d").map_err(|_| {
                err(
                    line,
                    format!("capacity.meetings: first: expected a date, found {:?}", m.first),
                )
            })?;
            if chrono::Datelike::weekday(&first) != weekday {
                return Err(err(
                    line,
                    format!("capacity.meetings: first ({first}) is not a {weekday}"),
                ));
            }
            if m.every_weeks == 0 || !(0.0..=24.0).contains(&m.hours) {
                return Err(err(
                    line,
                    "capacity.meetings: every_weeks must be 1 or more and hours 0 to 24".into(),
                ));
            }
            rules.meetings.push(Meeting {
                name: m.name.clone(),
                weekday,
                every_weeks: m.every_weeks,
                first,
                hours: m.hours,
                attendees: m.attendees.clone(),
            });
        }
    }
    Ok(rules)
}

impl CalendarConfig {
    /// Build the calendar, reading its holiday files relative to `dir`.
    pub fn build(&self, name: &str, dir: &Path) -> Result<BusinessCalendar, WorkspaceError> {
        let base = crate::builtin_calendar(self.base.as_deref().unwrap_or("weekdays")).expect("checked on parse");
        let weekmask = self.weekmask.unwrap_or(base.weekmask());
        let mut cal = BusinessCalendar::new(name, weekmask)
            .map_err(|e| WorkspaceError::Config {
                file: "abm.toml".into(),
                line: 1,
                reason: e.to_string(),
            })?
            .with_named_holidays(base.named_holidays())
            .with_holidays(self.holidays.iter().copied());
        for f in &self.holiday_files {
            let path = dir.join(f);
            let text = std::fs::read_to_string(&path).map_err(|source| WorkspaceError::Io {
                path: path.clone(),
                source,
            })?;
            let is_ical = f.to_ascii_lowercase().ends_with(".ics") || text.trim_start().starts_with("BEGIN:VCALENDAR");
            let parsed = if is_ical { parse_ical(&text) } else { parse_list(&text) };
            match parsed {
                Ok(hs) => cal = cal.with_named_holidays(hs),
                Err(errors) => {
                    let first = &errors[0];
                    let more = if errors.len() > 1 {
                        format!(" (and {} more problems)", errors.len() - 1)
                    } else {
                        String::new()
                    };
                    return Err(WorkspaceError::Config {
                        file: path.display().to_string(),
                        line: first.line,
                        reason: format!("{}{more}", first.reason),
                    });
                }
            }
        }
        Ok(cal.with_extra_working_days(self.extra_working_days.iter().copied()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            (
                "database_url = \"abm.db\"\nfiscal_year_start_month = 13\n",
                2,
                "start month",
            ),
            ("time_zone = \"Mars/Olympus\"\n", 1, "IANA"),
            ("\n\ndefault_calendar = \"uk\"\n", 3, "neither built in"),
            ("[calendars.x]\nweekmask = \"0000000\"\n", 2, "no business days"),
            (
                "[calendars.x]\nextra_working_days = [\"27/12/2026\"]\n",
                2,
                "expected a date",
            ),
            ("colour = \"blue\"\n", 1, "unknown field"),
            ("[sla]\nreblock = \"sometimes\"\n", 2, "sla.reblock"),
            ("[milestones]\nanchor = \"2026-12-07\"\n", 2, "Sunday"),
            ("[capacity]\nbudget_percent = 170\n", 2, "budget_percent"),
            ("[capacity]\n\n[[capacity.meetings]]\nname = \"x\"\nweekday = \"Tue\"\nfirst = \"2026-11-25\"\nhours = 1\n", 3, "not a Tue"),
            ("[gitlab]\nbase_url = \"gitlab.com\"\nproject = \"1\"\n", 2, "gitlab.base_url"),
            ("database_url = \n", 1, ""),
        ];
        for (text, line, needle) in cases {
            match Config::parse(text, "abm.toml") {
                Err(WorkspaceError::Config { line: l, reason, .. }) => {
                    assert_eq!(l, line, "{text:?}: {reason}");
                    assert!(reason.contains(needle), "{text:?}: {reason}");
                }
                other => panic!("{text:?}: expected a config error, got {other:?}"),
            }
        }
    }

    #[test]
    fn defaults_fill_in() {
        let c = Config::parse("", "abm.toml").unwrap();
        assert_eq!(c.database_url, "abm.db");
        assert_eq!(c.default_calendar, "us");
        assert_eq!(c.time_zone, chrono_tz::UTC);
    }
}
