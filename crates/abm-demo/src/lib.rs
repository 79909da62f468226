//! A deterministic, realistic demo world for abm, written as the files an ABM team is handed: a
//! CRM account and people export, a year of marketing-automation activity, web visits, intent,
//! IP ranges, opportunities with stage history, LinkedIn / Google Ads / Meta exports, requests
//! with label histories, and the team with its PTO. The same seed, scale and anchor date always
//! give the same bytes. Importers read these files exactly as they would a customer's.

mod ads;
mod names;
mod world;
mod writers;

pub use world::{generate, World};
pub use writers::{write_accounts_csv, write_requests_json, write_world, Manifest};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub seed: u64,
    /// 1.0 gives at least 5,000 accounts.
    pub scale: f64,
    /// The last day of the demo year ("today" in the demo world).
    pub today: chrono::NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("scale must be a positive number, found {0}")]
    BadScale(f64),
}
