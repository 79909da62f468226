//! Sending a request with retries: 5xx, 429 (honouring `Retry-After`) and transport errors are
//! tried again with exponential backoff; other statuses are answers and come back at once.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server answered with an error status.
    #[error("{what}: {status} {body}")]
    Status { what: String, status: u16, body: String },
    /// No answer after every attempt.
    #[error("{what}: gave up after {attempts} attempts: {last}")]
    GaveUp { what: String, attempts: u32, last: String },
    /// The answer was not what the API documents.
    #[error("{what}: unexpected answer: {reason}")]
    Unexpected { what: String, reason: String },
    /// Configuration or input the user can fix.
    #[error("{0}")]
    Invalid(String),
}

impl ConnectError {
    /// Mistakes the user can fix: bad configuration, refused input, 4xx answers.
    pub fn is_user_error(&self) -> bool {
        match self {
            ConnectError::Invalid(_) => true,
            ConnectError::Status { status, .. } => (400..500).contains(status),
            _ => false,
        }
    }
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    /// The longest wait, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 4,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Send `make()` until it gets a non-retryable answer; returns the response and the attempts used.
/// `what` names the call in errors (never with a secret in it).
pub(crate) fn send(
    what: &str,
    retry: Retry,
    mut make: impl FnMut() -> Result<ureq::Response, ureq::Error>,
) -> Result<(ureq::Response, u32), ConnectError> {
    let mut last = String::new();
    for attempt in 1..=retry.attempts.max(1) {
        let wait = match make() {
            Ok(r) => return Ok((r, attempt)),
            Err(ureq::Error::Status(code, r)) if code == 429 || code >= 500 => {
                let after = r
                    .header("Retry-After")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                last = format!(
                    "{code} {}",
                    r.into_string()
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect::<String>()
                );
                after.unwrap_or(retry.base * 2u32.pow(attempt - 1))
            }
            Err(ureq::Error::Status(code, r)) => {
                return Err(ConnectError::Status {
                    what: what.to_string(),
                    status: code,
                    body: r.into_string().unwrap_or_default().chars().take(500).collect(),
                })
            }
            Err(ureq::Error::Transport(t)) => {
                last = t.to_string();
                retry.base * 2u32.pow(attempt - 1)
            }
        };
        if attempt < retry.attempts {
            std::thread::sleep(wait.min(retry.max_wait));
        }
    }
    Err(ConnectError::GaveUp {
        what: what.to_string(),
        attempts: retry.attempts,
        last,
    })
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("abm/", env!("CARGO_PKG_VERSION")))
        .build()
}
