//! The abm domain: the rules an account-based marketing team works by, as plain Rust.
//!
//! This crate is pure. It never touches files, databases, the network or the clock: callers pass
//! text in, get values out, and pass "today" explicitly. That keeps every rule testable on its own
//! and lets the store, importers, CLI and server share one definition of each rule.

pub mod account;
pub mod activity;
pub mod automation;
pub mod budget;
pub mod calendar;
pub mod capacity;
pub mod domain;
pub mod engagement;
pub mod fiscal;
pub mod geo;
pub mod goals;
pub mod hierarchy;
pub mod holidays;
pub mod icp;
pub mod intake;
pub mod intent;
pub mod journey;
pub mod labels;
pub mod lists;
pub mod metrics;
pub mod milestone;
pub mod opportunity;
pub mod packing;
pub mod paid;
pub mod planning;
pub mod request;
pub mod sla;
pub mod taxonomy;
pub mod text_table;
pub mod updates;
pub mod workback;

pub use account::{AbmTier, AccountRank, AccountType, CrmId, GtmStrategy, Segment};
pub use calendar::{BusinessCalendar, Roll};
pub use domain::Domain;
pub use fiscal::{FiscalCalendar, FiscalQuarter};
pub use geo::Geo;
pub use labels::{Label, LabelSet};
