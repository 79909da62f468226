//! Readers for the files ABM teams are handed (CRM account and people exports), and the import
//! workflows that check every row, roll families up and write through the store in one
//! transaction. Every problem is reported as `FILE:LINE: column NAME: reason`, all of them at once.

pub mod accounts;
pub mod errors;
pub mod mapping;
pub mod people;
pub mod table;

pub use errors::{ImportError, RowError};
