//! Slack incoming webhooks: one POST of `{"text": ...}` per message.

use crate::http::{agent, send, ConnectError, Retry};

/// An incoming webhook. The URL is a secret: errors name only its host.
pub struct Webhook {
    url: String,
    agent: ureq::Agent,
    pub retry: Retry,
}

impl Webhook {
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        let url = url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConnectError::Invalid(
                "the Slack webhook URL must start with https:// (check the environment variable [slack] names)".into(),
            ));
        }
        Ok(Self {
            url: url.to_string(),
            agent: agent(),
            retry: Retry::default(),
        })
    }

    fn host(&self) -> &str {
        let rest = self.url.split_once("://").map(|(_, r)| r).unwrap_or(&self.url);
        rest.split(['/', '?']).next().unwrap_or(rest)
    }

    /// Post one message; returns how many attempts it took.
    pub fn post(&self, text: &str) -> Result<u32, ConnectError> {
        let what = format!("Slack webhook at {}", self.host());
        let body = serde_json::json!({ "text": text });
        let (_, attempts) = send(&what, self.retry, || self.agent.post(&self.url).send_json(&body))?;
        Ok(attempts)
    }
}
