//! Embedded migrations. Each backend has its own numbered SQL files, applied in order on open
//! inside one transaction each, and recorded in `schema_migrations`.

pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/sqlite/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/sqlite/0002_requests.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/sqlite/0003_updates.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/sqlite/0004_icp.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("migrations/sqlite/0005_lists.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("migrations/sqlite/0006_ads.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("migrations/sqlite/0007_budget.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("migrations/sqlite/0008_activities.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("migrations/sqlite/0009_opportunities.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("migrations/sqlite/0010_journey.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("migrations/sqlite/0011_automations.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("migrations/sqlite/0012_rule_versions.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("migrations/sqlite/0013_sign_in.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("migrations/sqlite/0014_journey_stage.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("migrations/sqlite/0015_domain_index.sql"),
    },
    Migration {
        version: 16,
        sql: include_str!("migrations/sqlite/0016_signed_out.sql"),
    },
    Migration {
        version: 17,
        sql: include_str!("migrations/sqlite/0017_recent_activities.sql"),
    },
    Migration {
        version: 18,
        sql: include_str!("migrations/sqlite/0018_activities_rowid.sql"),
    },
    Migration {
        version: 19,
        sql: include_str!("migrations/sqlite/0019_recent_packed.sql"),
    },
    Migration {
        version: 20,
        sql: include_str!("migrations/sqlite/0020_journeys_by_account.sql"),
    },
    Migration {
        version: 21,
        sql: include_str!("migrations/sqlite/0021_activity_key_order.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("migrations/postgres/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("migrations/postgres/0002_requests.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("migrations/postgres/0003_updates.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("migrations/postgres/0004_icp.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("migrations/postgres/0005_lists.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!("migrations/postgres/0006_ads.sql"),
    },
    Migration {
        version: 7,
        sql: include_str!("migrations/postgres/0007_budget.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("migrations/postgres/0008_activities.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("migrations/postgres/0009_opportunities.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("migrations/postgres/0010_journey.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("migrations/postgres/0011_automations.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("migrations/postgres/0012_rule_versions.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("migrations/postgres/0013_sign_in.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("migrations/postgres/0014_journey_stage.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("migrations/postgres/0015_domain_index.sql"),
    },
    Migration {
        version: 16,
        sql: include_str!("migrations/postgres/0016_signed_out.sql"),
    },
];

pub fn latest(ms: &[Migration]) -> i64 {
    ms.last().map(|m| m.version).unwrap_or(0)
}
