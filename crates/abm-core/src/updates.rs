//! Team updates, as the handbook has the team post them to Slack: `UPDATE: <brief description>`
//! with a link to the merge request or issue, and `DISCUSS: <brief description>` for topics that
//! need input; and the milestone digest the bi-weekly call reviews.

use crate::milestone::Milestone;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateKind {
    Update,
    Discuss,
}

impl UpdateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Update => "update",
            UpdateKind::Discuss => "discuss",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            UpdateKind::Update => "UPDATE",
            UpdateKind::Discuss => "DISCUSS",
        }
    }
}

impl fmt::Display for UpdateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UpdateKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "update" => Ok(UpdateKind::Update),
            "discuss" => Ok(UpdateKind::Discuss),
            other => Err(format!("expected update or discuss, found {other:?}")),
        }
    }
}

/// One posted update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamUpdate {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub author: String,
    pub kind: UpdateKind,
    pub text: String,
    pub link: Option<String>,
}

/// Check an update's text and link before anything is sent.
pub fn check_update(text: &str, link: Option<&str>) -> Result<(String, Option<String>), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("text: is empty".into());
    }
    if t.chars().count() > 3000 {
        return Err("text: is longer than 3,000 characters".into());
    }
    let link = match link.map(str::trim).filter(|l| !l.is_empty()) {
        None => None,
        Some(l) if (l.starts_with("https://") || l.starts_with("http://")) && !l.contains(char::is_whitespace) => {
            Some(l.to_string())
        }
        Some(l) => return Err(format!("link: expected a link starting with https://, found {l:?}")),
    };
    Ok((t.to_string(), link))
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped in text.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The message as it is posted: `UPDATE: text <link>`.
pub fn message(kind: UpdateKind, text: &str, link: Option<&str>) -> String {
    match link {
        Some(l) => format!("{}: {} <{}>", kind.prefix(), escape(text), l),
        None => format!("{}: {}", kind.prefix(), escape(text)),
    }
}

/// Request counts for a milestone digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MilestoneCounts {
    pub closed: u32,
    pub in_progress: u32,
    pub blocked: u32,
    pub carried_over: u32,
}

/// The digest of a milestone: its updates, then the topics to discuss, then the request counts.
pub fn digest(m: &Milestone, updates: &[TeamUpdate], counts: &MilestoneCounts) -> String {
    let mut out = format!(
        "*{}* ({} to {}): {} updates, {} to discuss\n",
        m.name(),
        m.start(),
        m.end,
        updates.iter().filter(|u| u.kind == UpdateKind::Update).count(),
        updates.iter().filter(|u| u.kind == UpdateKind::Discuss).count()
    );
    for kind in [UpdateKind::Update, UpdateKind::Discuss] {
        for u in updates.iter().filter(|u| u.kind == kind) {
            out.push_str(&format!(
                "• {} ({})\n",
                message(kind, &u.text, u.link.as_deref()),
                u.author
            ));
        }
    }
    out.push_str(&format!(
        "Requests: {} closed, {} in progress, {} blocked, {} carried over",
        counts.closed, counts.in_progress, counts.blocked, counts.carried_over
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milestone::MilestoneSeries;

    #[test]
    fn messages_follow_the_handbook_and_escape_text() {
        assert_eq!(
            message(
                UpdateKind::Update,
                "Q3 <EMEA> & APAC live",
                Some("https://gitlab.example/mr/1")
            ),
            "UPDATE: Q3 &lt;EMEA&gt; &amp; APAC live <https://gitlab.example/mr/1>"
        );
        assert_eq!(
            message(UpdateKind::Discuss, "Budget split", None),
            "DISCUSS: Budget split"
        );
        assert!(check_update("  ", None).is_err());
        assert!(check_update("x", Some("gitlab.com/x"))
            .unwrap_err()
            .starts_with("link:"));
        assert_eq!("Discuss".parse::<UpdateKind>().unwrap(), UpdateKind::Discuss);
    }

    #[test]
    fn digest_lists_updates_then_topics_then_counts() {
        let m = MilestoneSeries::default().parse("Mktg: 2026-12-06").unwrap();
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 30, 10, 0, 0).unwrap();
        let u = |id, kind, text: &str| TeamUpdate {
            id,
            at,
            author: "aabm".into(),
            kind,
            text: text.into(),
            link: None,
        };
        let d = digest(
            &m,
            &[
                u(1, UpdateKind::Discuss, "Budget"),
                u(2, UpdateKind::Update, "Launched"),
            ],
            &MilestoneCounts {
                closed: 3,
                in_progress: 2,
                blocked: 1,
                carried_over: 0,
            },
        );
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(
            lines[0],
            "*Mktg: 2026-12-06* (2026-11-23 to 2026-12-06): 1 updates, 1 to discuss"
        );
        assert_eq!(lines[1], "• UPDATE: Launched (aabm)");
        assert_eq!(lines[2], "• DISCUSS: Budget (aabm)");
        assert_eq!(lines[3], "Requests: 3 closed, 2 in progress, 1 blocked, 0 carried over");
    }
}
