//! Readers for the files ABM teams are handed (CRM account and people exports, GitLab issue exports), and the import
//! workflows that check every row, roll families up and write through the store in one
//! transaction. Every problem is reported as `FILE:LINE: column NAME: reason`, all of them at once.

pub mod accounts;
pub mod activities;
pub mod ads;
pub mod budget;
pub mod errors;
pub mod gitlab;
pub mod mapping;
pub mod opportunities;
pub mod people;
pub mod table;
pub mod team;

pub use errors::{ImportError, JsonError, RowError};
