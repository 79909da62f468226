//! How requests, team members and audit entries become rows, shared by both backends: a request
//! is kept whole as a JSON document, with copies of the columns lists filter on.

use crate::{Result, StoreError};
use abm_core::request::{AuditEntry, Request};
use chrono::{DateTime, NaiveDate, Utc};

/// The filterable copies of a request's fields.
pub struct RequestColumns<'a> {
    pub external_id: Option<&'a str>,
    pub template: &'a str,
    pub status: Option<&'a str>,
    pub author: &'a str,
    pub assignee: Option<&'a str>,
    pub due_date: Option<NaiveDate>,
    pub submitted_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub doc: String,
}

pub fn columns(r: &Request) -> Result<RequestColumns<'_>> {
    Ok(RequestColumns {
        external_id: r.external_id.as_deref(),
        template: &r.template,
        status: r.status(),
        author: &r.author,
        assignee: r.assignee.as_deref(),
        due_date: r.due_date,
        submitted_at: r.submitted.at,
        closed_at: r.closed.map(|c| c.at),
        doc: serde_json::to_string(r).map_err(|e| StoreError::Corrupt(format!("request {}: {e}", r.id)))?,
    })
}

/// Read a request back from its document; the id and version columns are the truth.
pub fn from_doc(id: i64, version: i64, doc: &str) -> Result<Request> {
    let mut r: Request = serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("request {id}: {e}")))?;
    r.id = id;
    r.version = version;
    Ok(r)
}

/// Whether two requests say the same thing (ignoring the store's id and version).
pub fn same_content(a: &Request, b: &Request) -> bool {
    let strip = |r: &Request| Request {
        id: 0,
        version: 0,
        ..r.clone()
    };
    strip(a) == strip(b)
}

/// The entry a changed re-import leaves.
pub fn reimport_entry(r: &Request, id: i64) -> AuditEntry {
    AuditEntry {
        request_id: Some(id),
        at: Utc::now(),
        actor: abm_core::request::RULES_ACTOR.into(),
        action: "import".into(),
        field: None,
        before: None,
        after: r.external_id.clone(),
        note: Some("replaced by a re-import of its source".into()),
        refused: false,
    }
}

/// Audit entries for a request inserted under `id` (entries made before it had one).
pub fn with_request_id(entries: &[AuditEntry], id: i64) -> impl Iterator<Item = AuditEntry> + '_ {
    entries.iter().map(move |e| AuditEntry {
        request_id: Some(id),
        ..e.clone()
    })
}

pub const TIMESTAMP: &str = "%Y-%m-%dT%H:%M:%S%.fZ";

/// `t` as [`TIMESTAMP`] writes it. Whole seconds (every imported activity's time) are written
/// digit by digit: parsing the format string each time took a twentieth of a ten-million-row
/// activity import.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    timestamp_text(t, &mut [0u8; 20]).into_owned()
}

/// [`format_timestamp`] without allocating for a whole second of the years 0 to 9999: written
/// into `buf` (a writer of ten million rows keeps one).
pub fn timestamp_text(t: DateTime<Utc>, buf: &mut [u8; 20]) -> std::borrow::Cow<'_, str> {
    match whole_second(t, buf) {
        Some(s) => s.into(),
        None => t.format(TIMESTAMP).to_string().into(),
    }
}

/// `t` as [`TIMESTAMP`] writes it, into `buf`, when it is a whole second in the years 0 to 9999
/// (else `None`). The day is worked out from the seconds since 1970 with integers alone (H.
/// Hinnant's civil-from-days): asking chrono for the year, month, day, hour, minute and second
/// one by one was a sixteenth of writing ten million activities.
fn whole_second(t: DateTime<Utc>, buf: &mut [u8; 20]) -> Option<&str> {
    if t.timestamp_subsec_nanos() != 0 {
        return None;
    }
    let secs = t.timestamp();
    let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut at = 0;
    let mut put = |mut n: i64, digits: usize, after: u8| {
        for i in (0..digits).rev() {
            buf[at + i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        at += digits;
        buf[at] = after;
        at += 1;
    };
    put(year, 4, b'-');
    put(month, 2, b'-');
    put(day, 2, b'T');
    put(in_day / 3_600, 2, b':');
    put(in_day / 60 % 60, 2, b':');
    put(in_day % 60, 2, b'Z');
    std::str::from_utf8(&buf[..]).ok()
}

pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

/// ` ORDER BY …`, or nothing for an empty order.
pub fn order_clause(order: &str) -> String {
    if order.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {order}")
    }
}

/// A day stored as `YYYY-MM-DD` text (SQLite).
pub fn parse_day(s: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(format!("day {s:?}: {e}")))
}

/// The query for a request list: SQL with numbered placeholders (`placeholder(1)` → `?1` or
/// `$1`) and the text values to bind, in order.
pub fn list_sql(q: &crate::RequestQuery, placeholder: fn(usize) -> String) -> (String, Vec<&str>) {
    let mut sql = String::from("SELECT id, version, doc FROM requests WHERE 1 = 1");
    let mut args: Vec<&str> = Vec::new();
    if q.open_only {
        sql.push_str(" AND closed_at IS NULL");
    }
    for (col, v) in [("status", &q.status), ("author", &q.author), ("assignee", &q.assignee)] {
        if let Some(v) = v {
            args.push(v);
            sql.push_str(&format!(" AND {col} = {}", placeholder(args.len())));
        }
    }
    sql.push_str(" ORDER BY id");
    (sql, args)
}

/// Scoring inputs, families together with the ultimate parent first. `attributes` is the
/// backend's expression for the attributes column as text.
pub fn scoring_select(attributes: &str) -> String {
    format!(
        "SELECT crm_id, ultimate_parent_id, segment, family_max_employees, first_order_available, family_carr_cents, \
         account_type, industry, geo, account_rank, gtm_strategy, new_logo_target, annual_revenue_cents, {attributes}, name \
         FROM accounts ORDER BY ultimate_parent_id, (crm_id = ultimate_parent_id) DESC, crm_id"
    )
}

pub const ICP_VERSIONS: &str = "SELECT v.version, v.created_at, v.author, v.definition, \
     v.version = (SELECT a.version FROM icp_activations a ORDER BY a.id DESC LIMIT 1) FROM icp_versions v ORDER BY v.version";

pub const RULES_VERSIONS: &str = "SELECT v.version, v.created_at, v.author, v.definition, \
     v.version = (SELECT a.version FROM rule_activations a WHERE a.kind = v.kind ORDER BY a.seq DESC LIMIT 1) \
     FROM rule_versions v WHERE v.kind = $1 ORDER BY v.version";

pub fn to_json<T: serde::Serialize>(what: &str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The columns an activity is read back from (then its account), in the order readers take them.
pub const ACTIVITY_SELECT: &str =
    "SELECT source, source_id, at, kind, email, account_id, ip, company_domain, attributes, crm_id FROM activities";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn timestamps_are_written_as_the_format_says(secs in -70_000_000_000i64..300_000_000_000, whole in any::<bool>(), nanos in 0u32..1_000_000_000) {
            let t = Utc.timestamp_opt(secs, if whole { 0 } else { nanos }).unwrap();
            prop_assert_eq!(format_timestamp(t), t.format(TIMESTAMP).to_string());
        }
    }
}
