//! The files `abm init` writes: commented defaults a user can read and edit.

/// (path relative to the workspace, contents)
pub const FILES: &[(&str, &str)] = &[
    ("abm.toml", ABM_TOML),
    ("icp.toml", include_str!("../defaults/icp.toml")),
    ("lists.toml", include_str!("../defaults/lists.toml")),
    ("engagement.toml", include_str!("../defaults/engagement.toml")),
    ("stages.toml", include_str!("../defaults/stages.toml")),
    ("automations.toml", include_str!("../defaults/automations.toml")),
    ("metrics.toml", include_str!("../defaults/metrics.toml")),
    ("taxonomy.toml", include_str!("../defaults/taxonomy.toml")),
    ("mappings/accounts.example.toml", ACCOUNTS_MAPPING),
    (
        "templates/linkedin-campaign.toml",
        include_str!("../defaults/templates/linkedin-campaign.toml"),
    ),
    (
        "templates/demandbase-campaign.toml",
        include_str!("../defaults/templates/demandbase-campaign.toml"),
    ),
    (
        "templates/demandbase-keyword-set.toml",
        include_str!("../defaults/templates/demandbase-keyword-set.toml"),
    ),
    (
        "templates/demandbase-icp.toml",
        include_str!("../defaults/templates/demandbase-icp.toml"),
    ),
    (
        "templates/direct-mail.toml",
        include_str!("../defaults/templates/direct-mail.toml"),
    ),
    (
        "templates/content-syndication.toml",
        include_str!("../defaults/templates/content-syndication.toml"),
    ),
    (
        "templates/abm-analysis.toml",
        include_str!("../defaults/templates/abm-analysis.toml"),
    ),
    (
        "templates/tier1-plan.toml",
        include_str!("../defaults/templates/tier1-plan.toml"),
    ),
    (
        "templates/abm-milestoneplan.toml",
        include_str!("../defaults/templates/abm-milestoneplan.toml"),
    ),
    (
        "templates/target-list.toml",
        include_str!("../defaults/templates/target-list.toml"),
    ),
    (
        "templates/workback-task.toml",
        include_str!("../defaults/templates/workback-task.toml"),
    ),
    (
        "templates/external-content.toml",
        include_str!("../defaults/templates/external-content.toml"),
    ),
    (
        "workbacks/webcast.toml",
        include_str!("../defaults/workbacks/webcast.toml"),
    ),
    (
        "workbacks/external-content.toml",
        include_str!("../defaults/workbacks/external-content.toml"),
    ),
    (
        "workbacks/digital-campaign.toml",
        include_str!("../defaults/workbacks/digital-campaign.toml"),
    ),
];

pub const ABM_TOML: &str = r#"# abm workspace configuration. Paths are relative to this folder.

# Where abm keeps its data: a SQLite file (the default), or a PostgreSQL server the team shares,
# e.g. database_url = "postgres://abm@db.internal:5432/abm"
database_url = "abm.db"

# The team's time zone (IANA name): "today" for SLAs and milestones is read here.
# Timestamps are stored in UTC.
time_zone = "America/New_York"

# The month the fiscal year starts in (1-12). With 2 (February), FY22 runs 2021-02-01..2022-01-31.
fiscal_year_start_month = 2

# The calendar that SLAs, workbacks and milestones count business days in.
default_calendar = "us"

# Calendars. Built in: "us" (US federal holidays, observed days) and "weekdays" (Mon-Fri).
# A calendar of your own starts from a base and adds holiday files (one date a line, or an
# iCalendar .ics feed, whose all-day DTEND is exclusive), single dates and extra working days:
#
# [calendars.uk]
# base = "weekdays"
# weekmask = "Mon Tue Wed Thu Fri"
# holidays = ["calendars/uk-bank-holidays.ics"]
# holiday_dates = ["2026-12-24"]
# extra_working_days = ["2026-12-27"]

# The SLA clock: re-blocking a request after its clock started either pauses it (the SLA date
# moves by the business days spent blocked) or restarts it when the details are complete again.
[sla]
reblock = "pause"

# Milestones are two weeks long and named after their last day, a Sunday ("Mktg: 2026-12-06").
# The anchor is any one such Sunday; the series runs every 14 days either side of it.
[milestones]
anchor = "2026-12-06"
prefix = "Mktg: "

# Capacity: each person commits work up to budget_percent of their available hours
# (working hours on business days, less PTO and meetings).
[capacity]
hours_per_day = 8
budget_percent = 70
# Hours each weight (1 to 5) stands for: 1 = up to half a day, 5 = a full week.
weight_hours = [4, 8, 16, 24, 40]
# PTO and one-off meetings: a CSV with columns Username, Date, Hours and Kind (pto or meeting).
time_away = "time-away.csv"

# The team's recurring calls. `first` is a day it takes place; attendees = [] means everyone.
[[capacity.meetings]]
name = "Campaign Team Connect call"
weekday = "Tue"
every_weeks = 2
first = "2026-11-24"
hours = 1

[[capacity.meetings]]
name = "Demand Generation team call"
weekday = "Wed"
every_weeks = 2
first = "2026-11-25"
hours = 1

[[capacity.meetings]]
name = "Marketing strategy & tactics call"
weekday = "Thu"
every_weeks = 1
first = "2026-11-26"
hours = 1

# GitLab sync (abm gitlab sync): the server, and a project (id or group/project path) or a group.
# The access token is read from the environment variable named here, never from this file.
# [gitlab]
# base_url = "https://gitlab.com"
# project = "marketing/abm"
# token_env = "ABM_GITLAB_TOKEN"

# Team updates to Slack (abm updates post): the incoming-webhook URL is read from this
# environment variable.
# [slack]
# webhook_url_env = "ABM_SLACK_WEBHOOK_URL"

# When several providers report the same attribute, the first source listed wins.
# "employees" stands for the account's employee count used as a proxy.
[precedence]
developer_count = ["aberdeen", "crm", "employees"]
tech_stack = ["gainsight", "aberdeen", "crm", "zoominfo"]
cloud_provider = ["aberdeen", "crm", "zoominfo"]
"#;

pub const ACCOUNTS_MAPPING: &str = r#"# A column mapping for `abm accounts import FILE --mapping mappings/accounts.example.toml`.
# abm reads Salesforce-style exports without one; use a mapping when your headers differ.
#
# [columns]                       # field = "Header in your file"
# crm_id = "Id"
# name = "Company"
# website = "Domain"
# parent_id = "Parent Company Id"
# employees = "Headcount"
# carr = "ARR"
#
# [attributes]                    # "Header in your file" = "attribute@source"
# "HG Insights Dev Count" = "developer_count@hginsights"
# "HG Insights Tech" = "tech_stack@hginsights"
#
# Fields: crm_id, name, website, domains, parent_id, country, geo, sub_region, employees, industry,
# annual_revenue, account_type, carr, owner, sdr, account_rank, gtm_strategy, abm_tier,
# new_logo_target, as_of
"#;
