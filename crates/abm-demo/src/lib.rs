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

/// The demo team's goals.toml and okrs.toml: pipeline targets for the current quarter by
/// segment × geo (MQL and inquiry rates given, the rest measured), and objectives for the last
/// full quarter and the current one, bound to the shipped metrics.
pub fn scorecard_files(today: chrono::NaiveDate) -> Vec<(&'static str, String)> {
    let fiscal = abm_core::FiscalCalendar::default();
    let now = fiscal.quarter_of(today);
    let last = now.previous();
    let mut goals = String::from(
        "# Pipeline targets per fiscal quarter and segment × geo. Rates left out are measured from\n\
         # the quarters before (history_quarters); abm holds no MQLs or inquiries by segment and geo,\n\
         # so those two rates are given.\nhistory_quarters = 4\n",
    );
    for (segment, geo, pipeline) in [
        ("Large", "AMER", 2_400_000),
        ("Large", "EMEA", 1_200_000),
        ("Mid-Market", "AMER", 1_500_000),
        ("Mid-Market", "EMEA", 800_000),
        ("SMB", "AMER", 600_000),
        ("PubSec", "PubSec", 900_000),
    ] {
        goals.push_str(&format!(
            "\n[[targets]]\nquarter = \"{now}\"\nsegment = \"{segment}\"\ngeo = \"{geo}\"\npipeline = {pipeline}\nmql_to_sao = 0.1\ninquiry_to_mql = 0.3\n"
        ));
    }
    let mut okrs = String::from("# Objectives and key results; each key result names a metric in metrics.toml.\n");
    for q in [last, now] {
        okrs.push_str(&format!(
            "\n[[objectives]]\nquarter = \"{q}\"\nobjective = \"Make the key account list the source of new business\"\n\n\
             [[objectives.key_results]]\ntext = \"Deliver 3 SAOs from first-order key accounts\"\nmetric = \"SAOs from first-order key accounts\"\ntarget = 3\n\n\
             [[objectives.key_results]]\ntext = \"Lift engagement 50% in Tier 1\"\nmetric = \"Engagement uplift, Tier 1\"\ntarget = 50\n\n\
             [[objectives.key_results]]\ntext = \"Lift engagement 30% in Tier 2\"\nmetric = \"Engagement uplift, Tier 2\"\ntarget = 30\n\n\
             [[objectives.key_results]]\ntext = \"Reach 95% of the key list\"\nmetric = \"Reach of the key list\"\ntarget = 95\n\n\
             [[objectives]]\nquarter = \"{q}\"\nobjective = \"Spend where it turns into pipeline\"\n\n\
             [[objectives.key_results]]\ntext = \"Bring the cost per MQL to $500\"\nmetric = \"Cost per MQL\"\ntarget = 500\n\n\
             [[objectives.key_results]]\ntext = \"Create $2 of key-account pipeline per dollar of spend\"\nmetric = \"Key-account pipeline per dollar of spend\"\ntarget = 2\n\n\
             [[objectives.key_results]]\ntext = \"Qualify 250 MQAs\"\nmetric = \"MQAs\"\ntarget = 250\n"
        ));
    }
    vec![("goals.toml", goals), ("okrs.toml", okrs)]
}
