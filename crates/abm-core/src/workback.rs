//! Workback schedules: from a launch date, each task's due date is its lead time in business days
//! before the launch and its start is its duration before that. A launch on a non-business day
//! rolls back to the previous business day. A schedule is compressed when a task would have to
//! start before today or before the request's details were complete; the schedule names the task.

use crate::calendar::{BusinessCalendar, Roll};
use chrono::NaiveDate;
use serde::Serialize;

/// One task of a workback template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskTemplate {
    pub name: String,
    /// Business days the task takes.
    pub duration_business_days: u32,
    /// Business days before the launch the task is due (negative: after the launch).
    pub lead_business_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkbackTemplate {
    pub name: String,
    pub description: String,
    pub tasks: Vec<TaskTemplate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledTask {
    pub name: String,
    pub start: NaiveDate,
    pub due: NaiveDate,
    /// Why this task cannot be done in its time, if it cannot.
    pub compressed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub template: String,
    pub requested_launch: NaiveDate,
    /// The launch, rolled back to a business day.
    pub launch: NaiveDate,
    pub tasks: Vec<ScheduledTask>,
    pub compressed: bool,
}

/// Lay out `template` backward from `launch`.
pub fn schedule(
    template: &WorkbackTemplate,
    launch: NaiveDate,
    cal: &BusinessCalendar,
    today: NaiveDate,
    details_complete: Option<NaiveDate>,
) -> Schedule {
    let rolled = cal.roll(launch, Roll::Backward);
    let tasks: Vec<ScheduledTask> = template
        .tasks
        .iter()
        .map(|t| {
            let due = cal.offset(rolled, -(t.lead_business_days as i64), Roll::Backward);
            let start = cal.offset(due, -(t.duration_business_days as i64), Roll::Backward);
            let compressed = if start < today {
                Some(format!(
                    "{} would have to start on {start}, before today ({today})",
                    t.name
                ))
            } else {
                details_complete.filter(|d| start < *d).map(|d| {
                    format!(
                        "{} would have to start on {start}, before the details were complete ({d})",
                        t.name
                    )
                })
            };
            ScheduledTask {
                name: t.name.clone(),
                start,
                due,
                compressed,
            }
        })
        .collect();
    let compressed = tasks.iter().any(|t| t.compressed.is_some());
    Schedule {
        template: template.name.clone(),
        requested_launch: launch,
        launch: rolled,
        tasks,
        compressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn webcast() -> WorkbackTemplate {
        let t = |name: &str, duration, lead| TaskTemplate {
            name: name.into(),
            duration_business_days: duration,
            lead_business_days: lead,
        };
        WorkbackTemplate {
            name: "webcast".into(),
            description: String::new(),
            tasks: vec![
                t("Landing page", 5, 20),
                t("Invitations", 2, 10),
                t("Dry run", 1, 1),
                t("Follow-up email", 1, -2),
            ],
        }
    }

    #[test]
    fn schedule_backward_from_a_weekend_launch() {
        let cal = BusinessCalendar::weekdays();
        // Saturday 2026-10-17 rolls back to Friday 2026-10-16.
        let s = schedule(&webcast(), d("2026-10-17"), &cal, d("2026-08-01"), None);
        assert_eq!(s.launch, d("2026-10-16"));
        assert_eq!(s.tasks[0].due, d("2026-09-18")); // 20 business days before Oct 16
        assert_eq!(s.tasks[0].start, d("2026-09-11"));
        assert_eq!(s.tasks[2].due, d("2026-10-15"));
        assert_eq!(s.tasks[3].due, d("2026-10-20"), "negative lead: after the launch");
        assert!(!s.compressed);
    }

    #[test]
    fn compressed_names_the_task() {
        let cal = BusinessCalendar::weekdays();
        let s = schedule(&webcast(), d("2026-10-16"), &cal, d("2026-09-15"), None);
        assert!(s.compressed);
        assert!(s.tasks[0]
            .compressed
            .as_deref()
            .unwrap()
            .starts_with("Landing page would have to start on 2026-09-11, before today"));
        let s = schedule(
            &webcast(),
            d("2026-10-16"),
            &cal,
            d("2026-08-01"),
            Some(d("2026-10-01")),
        );
        assert!(s.tasks[1]
            .compressed
            .as_deref()
            .unwrap()
            .contains("before the details were complete (2026-10-01)"));
        assert!(s.tasks[2].compressed.is_none());
    }
}
