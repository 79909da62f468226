//! The files `abm init` writes: commented defaults a user can read and edit.

/// (path relative to the workspace, contents)
pub const FILES: &[(&str, &str)] = &[
    ("abm.toml", ABM_TOML),
    ("mappings/accounts.example.toml", ACCOUNTS_MAPPING),
    ("templates/linkedin-campaign.toml", T_LINKEDIN_CAMPAIGN),
    ("templates/demandbase-campaign.toml", T_DEMANDBASE_CAMPAIGN),
    ("templates/demandbase-keyword-set.toml", T_DEMANDBASE_KEYWORD_SET),
    ("templates/demandbase-icp.toml", T_DEMANDBASE_ICP),
    ("templates/direct-mail.toml", T_DIRECT_MAIL),
    ("templates/content-syndication.toml", T_CONTENT_SYNDICATION),
    ("templates/abm-analysis.toml", T_ABM_ANALYSIS),
    ("templates/tier1-plan.toml", T_TIER1_PLAN),
    ("templates/abm-milestoneplan.toml", T_ABM_MILESTONEPLAN),
    ("templates/target-list.toml", T_TARGET_LIST),
    ("templates/external-content.toml", T_EXTERNAL_CONTENT),
    ("workbacks/webcast.toml", T_WEBCAST_WB),
    ("workbacks/external-content.toml", T_EXTERNAL_CONTENT_WB),
    ("workbacks/digital-campaign.toml", T_DIGITAL_CAMPAIGN_WB),
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

const T_LINKEDIN_CAMPAIGN: &str = r#"# Request template: linkedin-campaign. Fields are the submitter details required before the SLA clock starts.
description = "A LinkedIn sponsored-content or InMail campaign."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]
workback = "digital-campaign"

[[fields]]
name = "budget"
type = "money"
help = "Total budget in USD"

[[fields]]
name = "duration_weeks"
type = "number"
help = "How many weeks it runs"

[[fields]]
name = "geo_target"
type = "choice"
choices = ["AMER", "EMEA", "APAC", "PubSec"]
help = "Which geo it targets"

[[fields]]
name = "account_list"
type = "url"
help = "Link to the account list"

[[fields]]
name = "final_copy"
type = "url"
help = "Link to 100% final copy"
"#;

const T_DEMANDBASE_CAMPAIGN: &str = r#"# Request template: demandbase-campaign. Fields are the submitter details required before the SLA clock starts.
description = "A Demandbase display campaign."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]
workback = "digital-campaign"

[[fields]]
name = "budget"
type = "money"
help = "Total budget in USD"

[[fields]]
name = "audience"
type = "text"
help = "Which accounts or tier"

[[fields]]
name = "start_date"
type = "date"
help = "When it starts"

[[fields]]
name = "creative"
type = "url"
help = "Link to the creative"
"#;

const T_DEMANDBASE_KEYWORD_SET: &str = r#"# Request template: demandbase-keyword-set. Fields are the submitter details required before the SLA clock starts.
description = "A new or changed intent keyword set."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "keywords"
type = "text"
help = "The keywords, comma-separated"

[[fields]]
name = "intent_topic"
type = "text"
help = "What the set is about"
"#;

const T_DEMANDBASE_ICP: &str = r#"# Request template: demandbase-icp. Fields are the submitter details required before the SLA clock starts.
description = "A change to the ICP scoring model."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "segment"
type = "choice"
choices = ["Large", "Mid-Market", "SMB", "PubSec"]
help = "Which segment"

[[fields]]
name = "criteria"
type = "text"
help = "What should change and why"
"#;

const T_DIRECT_MAIL: &str = r#"# Request template: direct-mail. Fields are the submitter details required before the SLA clock starts.
description = "A direct-mail send to an account list."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "budget"
type = "money"
help = "Total budget in USD"

[[fields]]
name = "account_list"
type = "url"
help = "Link to the account list"

[[fields]]
name = "ship_by"
type = "date"
help = "When it must ship"

[[fields]]
name = "item"
type = "text"
help = "What is sent"
"#;

const T_CONTENT_SYNDICATION: &str = r#"# Request template: content-syndication. Fields are the submitter details required before the SLA clock starts.
description = "A content-syndication program."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "budget"
type = "money"
help = "Total budget in USD"

[[fields]]
name = "asset"
type = "url"
help = "Link to the asset"

[[fields]]
name = "lead_goal"
type = "number"
help = "Leads expected"
"#;

const T_ABM_ANALYSIS: &str = r#"# Request template: abm-analysis. Fields are the submitter details required before the SLA clock starts.
description = "An analysis the ABM team runs."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "question"
type = "text"
help = "The question to answer"

[[fields]]
name = "data_sources"
type = "text"
help = "Where the data is"
"#;

const T_TIER1_PLAN: &str = r#"# Request template: tier1-plan. Fields are the submitter details required before the SLA clock starts.
description = "A 1:1 plan for a Tier 1 account."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "account"
type = "text"
help = "The account (CRM id)"

[[fields]]
name = "sales_owner"
type = "text"
help = "The SAL"
"#;

const T_ABM_MILESTONEPLAN: &str = r#"# Request template: abm-milestoneplan. Fields are the submitter details required before the SLA clock starts.
description = "The team's plan for a milestone."
turnaround_business_days = 5
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "milestone"
type = "text"
help = "e.g. Mktg: 2026-12-06"
"#;

const T_TARGET_LIST: &str = r#"# Request template: target-list. Fields are the submitter details required before the SLA clock starts.
description = "A target account list pull."
turnaround_business_days = 15
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]

[[fields]]
name = "criteria"
type = "text"
help = "Who should be on the list"

[[fields]]
name = "due_use"
type = "text"
help = "What the list is for"
"#;

const T_EXTERNAL_CONTENT: &str = r#"# Request template: external-content. Fields are the submitter details required before the SLA clock starts.
description = "Content written with an outside agency."
turnaround_business_days = 30
labels = ["mktg-status::triage", "ABM-Priority::TBD", "abm-request"]
workback = "external-content"

[[fields]]
name = "brief"
type = "url"
help = "Link to the brief"

[[fields]]
name = "budget"
type = "money"
help = "Total budget in USD"

[[fields]]
name = "launch"
type = "date"
help = "When it publishes"
"#;

const T_WEBCAST_WB: &str = r#"# Workback template: webcast. Lead = business days before launch a task is due (negative: after).
description = "A webcast: planning starts about 45 days before it airs."

[[tasks]]
name = "Confirm topic and speakers"
duration_business_days = 3
lead_business_days = 29

[[tasks]]
name = "Landing page and registration"
duration_business_days = 5
lead_business_days = 21

[[tasks]]
name = "Invitation email 1"
duration_business_days = 2
lead_business_days = 15

[[tasks]]
name = "Paid promotion"
duration_business_days = 10
lead_business_days = 5

[[tasks]]
name = "Invitation email 2"
duration_business_days = 2
lead_business_days = 5

[[tasks]]
name = "Dry run"
duration_business_days = 1
lead_business_days = 1

[[tasks]]
name = "Follow-up email"
duration_business_days = 1
lead_business_days = -2
"#;

const T_EXTERNAL_CONTENT_WB: &str = r#"# Workback template: external-content. Lead = business days before launch a task is due (negative: after).
description = "Content with an outside agency: at least 30 business days."

[[tasks]]
name = "Brief and outline"
duration_business_days = 5
lead_business_days = 25

[[tasks]]
name = "First draft"
duration_business_days = 10
lead_business_days = 15

[[tasks]]
name = "Review and edits"
duration_business_days = 5
lead_business_days = 10

[[tasks]]
name = "Design"
duration_business_days = 5
lead_business_days = 5

[[tasks]]
name = "Final approval"
duration_business_days = 3
lead_business_days = 2
"#;

const T_DIGITAL_CAMPAIGN_WB: &str = r#"# Workback template: digital-campaign. Lead = business days before launch a task is due (negative: after).
description = "A digital campaign: planning no sooner than 12 weeks before launch."

[[tasks]]
name = "Campaign plan"
duration_business_days = 10
lead_business_days = 50

[[tasks]]
name = "Audience and targeting"
duration_business_days = 5
lead_business_days = 40

[[tasks]]
name = "Creative brief"
duration_business_days = 5
lead_business_days = 35

[[tasks]]
name = "Creative production"
duration_business_days = 15
lead_business_days = 20

[[tasks]]
name = "Tracking links and UTMs"
duration_business_days = 3
lead_business_days = 10

[[tasks]]
name = "QA"
duration_business_days = 3
lead_business_days = 3

[[tasks]]
name = "Launch readiness"
duration_business_days = 2
lead_business_days = 1
"#;
