//! Clients for the services an ABM team already works in, over real HTTP: GitLab's REST API (pull
//! issues with their label history, push label, due-date, milestone and assignee changes) and
//! Slack incoming webhooks (team updates and milestone digests). Both retry what is worth
//! retrying (5xx, 429, dropped connections) with backoff and never print a secret.

pub mod gitlab;
mod http;
pub mod slack;
pub mod sync;

pub use http::{ConnectError, Retry};
