//! An abm workspace is a folder: `abm.toml` (database, team time zone, fiscal year, calendars,
//! attribute precedence), the configuration files users edit, and by default the SQLite file
//! `abm.db`. This crate finds, creates and reads it, turning text into domain values with errors
//! that name the file and line. The CLI and the server both start here.

pub mod automations;
mod config;
pub mod defaults;
pub mod desk;
pub mod icp;
pub mod journey;
pub mod lists;
mod packed;
pub mod planner;
pub mod scorecard;
pub mod templates;
mod toml_text;
pub mod users;

pub use config::{CalendarConfig, Config};

use abm_core::holidays::{self, Holiday};
use abm_core::request::Moment;
use abm_core::{BusinessCalendar, FiscalCalendar};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no abm workspace at {0} (abm.toml not found): run `abm init {0}` or pass --workspace DIR")]
    NotFound(PathBuf),
    #[error("{0} already holds an abm workspace (abm.toml exists)")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A mistake in a configuration file, with where it is.
    #[error("{file}:{line}: {reason}")]
    Config { file: String, line: usize, reason: String },
    /// A saved version asked for by number that the store does not hold.
    #[error("no {kind} version {version} ({hint})")]
    NoSuchVersion {
        kind: &'static str,
        version: i64,
        hint: &'static str,
    },
    #[error("unknown calendar {name:?}; calendars: {known}")]
    UnknownCalendar { name: String, known: String },
    #[error(transparent)]
    Store(#[from] abm_store::StoreError),
}

pub type Result<T> = std::result::Result<T, WorkspaceError>;

/// An opened workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub dir: PathBuf,
    pub config: Config,
}

impl Workspace {
    pub fn config_path(dir: &Path) -> PathBuf {
        dir.join("abm.toml")
    }

    /// Create a workspace: `abm.toml` with comments, and the default configuration files.
    pub fn init(dir: &Path) -> Result<Self> {
        let io = |source| WorkspaceError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let cfg = Self::config_path(dir);
        if cfg.exists() {
            return Err(WorkspaceError::Exists(dir.to_path_buf()));
        }
        for (name, text) in defaults::FILES {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| WorkspaceError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            if !path.exists() {
                std::fs::write(&path, text).map_err(|source| WorkspaceError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        Self::open(dir)
    }

    /// Open the workspace in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = Self::config_path(dir);
        if !path.exists() {
            return Err(WorkspaceError::NotFound(dir.to_path_buf()));
        }
        let text = std::fs::read_to_string(&path).map_err(|source| WorkspaceError::Io {
            path: path.clone(),
            source,
        })?;
        let config = Config::parse(&text, &path.display().to_string())?;
        let ws = Self {
            dir: dir.to_path_buf(),
            config,
        };
        // Check calendars now, so a broken holiday file is reported before any work starts.
        for name in ws.config.calendars.keys() {
            ws.calendar(Some(name))?;
        }
        Ok(ws)
    }

    /// Open the workspace's store (creating the SQLite file on first use).
    pub fn store(&self) -> Result<Box<dyn abm_store::Store>> {
        Ok(abm_store::open(&self.config.database_url, &self.dir)?)
    }

    pub fn fiscal(&self) -> FiscalCalendar {
        self.config.fiscal
    }

    /// Today in the team's time zone (or `ABM_TODAY`, which pins the date for demos and tests).
    pub fn today(&self) -> NaiveDate {
        today_in(self.config.time_zone)
    }

    /// Now, with the day it is in the team's time zone. `ABM_NOW` (RFC 3339) pins the moment;
    /// otherwise `ABM_TODAY` pins the day (at noon, team time).
    pub fn now(&self) -> Moment {
        now_in(self.config.time_zone)
    }

    /// The moment and day of a timestamp, in the team's time zone.
    pub fn moment(&self, at: chrono::DateTime<chrono::Utc>) -> Moment {
        Moment {
            at,
            day: at.with_timezone(&self.config.time_zone).date_naive(),
        }
    }

    /// A named calendar (or the default one) with its holidays loaded.
    pub fn calendar(&self, name: Option<&str>) -> Result<BusinessCalendar> {
        let name = name.unwrap_or(&self.config.default_calendar);
        match self.config.calendars.get(name) {
            Some(c) => c.build(name, &self.dir),
            None => builtin_calendar(name).ok_or_else(|| WorkspaceError::UnknownCalendar {
                name: name.to_string(),
                known: self.calendar_names().join(", "),
            }),
        }
    }

    /// The ICP in `icp.toml`, parsed (its text too, to save as a version).
    pub fn icp(&self) -> Result<(abm_core::icp::Icp, String)> {
        let path = self.dir.join("icp.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| WorkspaceError::Io {
            path: path.clone(),
            source,
        })?;
        Ok((icp::parse_icp(&text, &path.display().to_string())?, text))
    }

    /// The UTM taxonomy in `taxonomy.toml` (the shipped presets when the file is missing).
    pub fn taxonomy(&self) -> Result<abm_core::taxonomy::Taxonomy> {
        let path = self.dir.join("taxonomy.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => toml_text::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(abm_core::taxonomy::Taxonomy::presets()),
            Err(source) => Err(WorkspaceError::Io { path, source }),
        }
    }

    /// The engagement rules in force: the version last activated (`abm engagement activate`),
    /// or, before any activation, `engagement.toml` itself.
    pub fn engagement_rules(&self) -> Result<abm_core::engagement::EngagementRules> {
        self.engagement_rules_in(self.store()?.as_mut())
    }

    /// [`Self::engagement_rules`], read through a store already open.
    pub fn engagement_rules_in(
        &self,
        store: &mut dyn abm_store::Store,
    ) -> Result<abm_core::engagement::EngagementRules> {
        let versions = store.rules_versions("engagement")?;
        match versions.into_iter().find(|v| v.active) {
            Some(v) => toml_text::parse(&v.definition, &format!("engagement rules version {}", v.version)),
            None => Ok(self.engagement_draft()?.0),
        }
    }

    /// The rules in `engagement.toml` as the file stands (the shipped ones when it is missing),
    /// with its text: what `abm engagement diff` compares and `activate` saves.
    pub fn engagement_draft(&self) -> Result<(abm_core::engagement::EngagementRules, String)> {
        let (text, file) = self.config_text("engagement.toml", Some(include_str!("../defaults/engagement.toml")))?;
        Ok((toml_text::parse(&text, &file)?, text))
    }

    /// The journey stages in `stages.toml` (the handbook's thirteen when the file is missing).
    pub fn stages(&self) -> Result<abm_core::journey::Stages> {
        let path = self.dir.join("stages.toml");
        let (text, file) = match std::fs::read_to_string(&path) {
            Ok(text) => (text, path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                include_str!("../defaults/stages.toml").to_string(),
                "stages.toml".into(),
            ),
            Err(source) => return Err(WorkspaceError::Io { path, source }),
        };
        let stages: abm_core::journey::Stages = toml_text::parse(&text, &file)?;
        stages.validate().map_err(|reason| WorkspaceError::Config {
            line: table_line(&text, "stages", &reason),
            file,
            reason,
        })?;
        Ok(stages)
    }

    /// The automations in `automations.toml` (none when the file is missing).
    pub fn automations(&self) -> Result<abm_core::automation::Automations> {
        let path = self.dir.join("automations.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(abm_core::automation::Automations { automations: vec![] })
            }
            Err(source) => return Err(WorkspaceError::Io { path, source }),
        };
        let file = path.display().to_string();
        let parsed: abm_core::automation::Automations = toml_text::parse(&text, &file)?;
        parsed.validate().map_err(|reason| WorkspaceError::Config {
            line: table_line(&text, "automations", &reason),
            file,
            reason,
        })?;
        Ok(parsed)
    }

    /// The key metrics in `metrics.toml` (the shipped ones when the file is missing).
    pub fn metrics(&self) -> Result<abm_core::metrics::Metrics> {
        let (text, file) = self.config_text("metrics.toml", Some(include_str!("../defaults/metrics.toml")))?;
        let parsed: abm_core::metrics::Metrics = toml_text::parse(&text, &file)?;
        parsed.validate().map_err(|reason| WorkspaceError::Config {
            line: table_line(&text, "metrics", &reason),
            file,
            reason,
        })?;
        Ok(parsed)
    }

    /// The OKRs in `okrs.toml` (none when the file is missing); key results must name metrics.
    pub fn okrs(&self, metrics: &abm_core::metrics::Metrics) -> Result<abm_core::metrics::Okrs> {
        let (text, file) = self.config_text("okrs.toml", Some(""))?;
        let parsed: abm_core::metrics::Okrs = toml_text::parse(&text, &file)?;
        parsed.validate(metrics).map_err(|reason| WorkspaceError::Config {
            line: table_line(&text, "objectives", &reason),
            file,
            reason,
        })?;
        Ok(parsed)
    }

    /// The pipeline targets in `goals.toml` (none when the file is missing).
    pub fn goals(&self) -> Result<abm_core::goals::Goals> {
        let (text, file) = self.config_text("goals.toml", Some(""))?;
        let parsed: abm_core::goals::Goals = toml_text::parse(&text, &file)?;
        parsed.validate().map_err(|reason| WorkspaceError::Config {
            line: table_line(&text, "targets", &reason),
            file,
            reason,
        })?;
        Ok(parsed)
    }

    /// A configuration file's text and the name errors give it; `missing` stands in when the
    /// file does not exist (an error when `None`).
    fn config_text(&self, name: &str, missing: Option<&str>) -> Result<(String, String)> {
        let path = self.dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((text, path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing.is_some() => {
                Ok((missing.unwrap_or_default().to_string(), name.to_string()))
            }
            Err(source) => Err(WorkspaceError::Io { path, source }),
        }
    }

    /// Whether no focus list has been built yet.
    pub fn list_versions_empty(&self) -> Result<bool> {
        Ok(self.store()?.list_versions()?.is_empty())
    }

    /// The list rules in `lists.toml`.
    pub fn list_rules(&self) -> Result<abm_core::lists::ListRules> {
        let path = self.dir.join("lists.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| WorkspaceError::Io {
            path: path.clone(),
            source,
        })?;
        lists::parse_rules(&text, &path.display().to_string())
    }

    /// The request templates in `templates/`.
    pub fn request_templates(&self) -> Result<Vec<abm_core::intake::RequestTemplate>> {
        templates::load_dir(&self.dir.join("templates"), templates::parse_request_template)
    }

    /// The workback templates in `workbacks/`.
    pub fn workback_templates(&self) -> Result<Vec<abm_core::workback::WorkbackTemplate>> {
        templates::load_dir(&self.dir.join("workbacks"), templates::parse_workback)
    }

    pub fn calendar_names(&self) -> Vec<String> {
        let mut names: Vec<String> = BUILTIN.iter().map(|s| s.to_string()).collect();
        names.extend(self.config.calendars.keys().cloned());
        names.sort();
        names.dedup();
        names
    }
}

/// Calendars that exist without any configuration.
pub const BUILTIN: &[&str] = &["us", "weekdays"];

/// Years the built-in holiday tables cover (observed days of the following year included).
const HOLIDAY_YEARS: (i32, i32) = (1990, 2100);

fn us_federal_holidays() -> Vec<Holiday> {
    holidays::us_federal(HOLIDAY_YEARS.0, HOLIDAY_YEARS.1)
}

/// `us` (US federal holidays, observed) or `weekdays` (Monday to Friday).
pub fn builtin_calendar(name: &str) -> Option<BusinessCalendar> {
    match name {
        "us" | "us-federal" => Some(
            BusinessCalendar::new(name, BusinessCalendar::weekdays().weekmask())
                .expect("weekdays")
                .with_named_holidays(us_federal_holidays()),
        ),
        "weekdays" => Some(BusinessCalendar::weekdays()),
        _ => None,
    }
}

/// The engagement rules abm ships (what a workspace without `engagement.toml` uses).
pub fn shipped_engagement_rules() -> abm_core::engagement::EngagementRules {
    toml_text::parse(include_str!("../defaults/engagement.toml"), "engagement.toml").expect("the shipped rules parse")
}

/// The handbook's thirteen stages, as shipped.
pub fn shipped_stages() -> abm_core::journey::Stages {
    toml_text::parse(include_str!("../defaults/stages.toml"), "stages.toml").expect("the shipped stages parse")
}

/// The line of the `[[table]]` a validation message names (`table[i] …`).
fn table_line(text: &str, table: &str, reason: &str) -> usize {
    let index: Option<usize> = reason
        .strip_prefix(&format!("{table}["))
        .and_then(|r| r.split(']').next())
        .and_then(|i| i.parse().ok());
    index
        .and_then(|i| text.match_indices(&format!("[[{table}]]")).nth(i))
        .map(|(offset, _)| toml_text::line_of(text, offset))
        .unwrap_or(1)
}

/// Now in `tz`, unless `ABM_NOW` or `ABM_TODAY` pins it (see [`Workspace::now`]).
pub fn now_in(tz: chrono_tz::Tz) -> Moment {
    use chrono::TimeZone;
    let at = std::env::var("ABM_NOW")
        .ok()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|| {
            let day = NaiveDate::parse_from_str(std::env::var("ABM_TODAY").ok()?.trim(), "%Y-%m-%d").ok()?;
            tz.from_local_datetime(&day.and_hms_opt(12, 0, 0)?)
                .earliest()
                .map(|d| d.with_timezone(&chrono::Utc))
        })
        .unwrap_or_else(chrono::Utc::now);
    Moment {
        at,
        day: at.with_timezone(&tz).date_naive(),
    }
}

/// Today's date in `tz`, unless `ABM_NOW` or `ABM_TODAY=YYYY-MM-DD` pins it.
pub fn today_in(tz: chrono_tz::Tz) -> NaiveDate {
    now_in(tz).day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_open_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::init(dir.path()).unwrap();
        assert_eq!(ws.config.database_url, "abm.db");
        assert_eq!(ws.fiscal().start_month(), 2);
        assert!(matches!(Workspace::init(dir.path()), Err(WorkspaceError::Exists(_))));
        let us = ws.calendar(Some("us")).unwrap();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(us.add_business_days(d("2026-07-02"), 5), d("2026-07-10"));
        assert!(ws.calendar(Some("mars")).is_err());
        let names: Vec<String> = ws.request_templates().unwrap().into_iter().map(|t| t.name).collect();
        assert!(
            names.contains(&"linkedin-campaign".to_string()) && names.contains(&"tier1-plan".to_string()),
            "{names:?}"
        );
        let external = ws
            .request_templates()
            .unwrap()
            .into_iter()
            .find(|t| t.name == "external-content")
            .unwrap();
        assert_eq!(external.turnaround_business_days, 30);
        assert_eq!(ws.workback_templates().unwrap().len(), 3);
        assert_eq!(ws.config.reblock, abm_core::sla::ReblockPolicy::Pause);
    }

    #[test]
    fn missing_workspace_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = Workspace::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("abm init"), "{err}");
    }

    #[test]
    fn calendar_from_holiday_files() {
        let dir = tempfile::tempdir().unwrap();
        Workspace::init(dir.path()).unwrap();
        std::fs::write(
            dir.path().join("uk.txt"),
            "2026-12-25 Christmas\n2026-12-28 Boxing Day (substitute)\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("shutdown.ics"),
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261229\nDTEND;VALUE=DATE:20261231\nSUMMARY:Shutdown\nEND:VEVENT\nEND:VCALENDAR\n",
        )
        .unwrap();
        let mut cfg = std::fs::read_to_string(dir.path().join("abm.toml")).unwrap();
        cfg.push_str(
            "\n[calendars.uk]\nholidays = [\"uk.txt\", \"shutdown.ics\"]\nextra_working_days = [\"2026-12-27\"]\n",
        );
        std::fs::write(dir.path().join("abm.toml"), cfg).unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let uk = ws.calendar(Some("uk")).unwrap();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Thu 24 → Sun 27 (extra working day) → skip 28, 29, 30 → Thu 31
        assert_eq!(uk.add_business_days(d("2026-12-24"), 1), d("2026-12-27"));
        assert_eq!(uk.add_business_days(d("2026-12-24"), 2), d("2026-12-31"));
    }

    #[test]
    fn broken_holiday_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        Workspace::init(dir.path()).unwrap();
        std::fs::write(dir.path().join("bad.txt"), "2026-12-25\n12/26/2026\n").unwrap();
        let mut cfg = std::fs::read_to_string(dir.path().join("abm.toml")).unwrap();
        cfg.push_str("\n[calendars.bad]\nholidays = [\"bad.txt\"]\n");
        std::fs::write(dir.path().join("abm.toml"), cfg).unwrap();
        let err = Workspace::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.txt:2:"), "{err}");
    }
}
