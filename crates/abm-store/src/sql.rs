//! SQL both backends share: the account columns in one place, how a record becomes a row of
//! cells, and how an account query becomes a WHERE clause. Each backend supplies its own
//! placeholder style and binds the cells its own way.

use crate::model::AccountQuery;
use abm_core::account::{AccountRecord, AttributeValue};
use abm_core::hierarchy::FamilyFacts;

/// A value to bind, typed so PostgreSQL can build typed arrays from a column of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(Option<&'a str>),
    Int(Option<i32>),
    BigInt(Option<i64>),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    BigInt,
    Bool,
    /// JSON text (SQLite TEXT, PostgreSQL JSONB).
    Json,
}

/// Account columns written on import, in bind order (crm_id first; timestamps follow).
pub const ACCOUNT_COLUMNS: &[(&str, Kind)] = &[
    ("crm_id", Kind::Text),
    ("name", Kind::Text),
    ("website", Kind::Text),
    ("parent_id", Kind::Text),
    ("country", Kind::Text),
    ("geo", Kind::Text),
    ("sub_region", Kind::Text),
    ("employees", Kind::Int),
    ("industry", Kind::Text),
    ("annual_revenue_cents", Kind::BigInt),
    ("account_type", Kind::Text),
    ("carr_cents", Kind::BigInt),
    ("owner", Kind::Text),
    ("sdr", Kind::Text),
    ("account_rank", Kind::Text),
    ("gtm_strategy", Kind::Text),
    ("abm_tier", Kind::Text),
    ("new_logo_target", Kind::Text),
    ("attributes", Kind::Json),
    ("ultimate_parent_id", Kind::Text),
    ("segment", Kind::Text),
    ("segment_fy", Kind::Int),
    ("family_max_employees", Kind::Int),
    ("family_carr_cents", Kind::BigInt),
    ("first_order_available", Kind::Bool),
];

/// The roll-up columns, a suffix of [`ACCOUNT_COLUMNS`].
pub const ROLLUP_COLUMNS: &[&str] = &[
    "ultimate_parent_id",
    "segment",
    "segment_fy",
    "family_max_employees",
    "family_carr_cents",
    "first_order_available",
];

fn text(s: &Option<String>) -> Cell<'_> {
    Cell::Text(s.as_deref())
}

/// One account's cells, in [`ACCOUNT_COLUMNS`] order. Nothing is copied.
/// `attributes` is the record's attribute values, merged and encoded with [`encode_attributes`].
pub fn account_cells<'a>(r: &'a AccountRecord, f: &'a FamilyFacts, attributes: &'a str) -> Vec<Cell<'a>> {
    let mut cells = vec![
        Cell::Text(Some(r.crm_id.as_str())),
        Cell::Text(Some(&r.name)),
        Cell::Text(r.website.as_ref().map(|d| d.as_str())),
        Cell::Text(r.parent_id.as_ref().map(|p| p.as_str())),
        text(&r.country),
        Cell::Text(r.geo.map(|g| g.as_str())),
        text(&r.sub_region),
        Cell::Int(r.employees.map(|e| e.min(i32::MAX as u32) as i32)),
        text(&r.industry),
        Cell::BigInt(r.annual_revenue_cents),
        Cell::Text(r.account_type.map(|t| t.as_str())),
        Cell::BigInt(Some(r.carr_cents)),
        text(&r.owner),
        text(&r.sdr),
        Cell::Text(r.account_rank.map(|t| t.as_str())),
        Cell::Text(r.gtm_strategy.map(|t| t.as_str())),
        Cell::Text(r.abm_tier.map(|t| t.as_str())),
        text(&r.new_logo_target),
        Cell::Text(Some(attributes)),
    ];
    cells.extend(rollup_cells(f));
    cells
}

/// Roll-up cells, in [`ROLLUP_COLUMNS`] order.
pub fn rollup_cells(f: &FamilyFacts) -> Vec<Cell<'_>> {
    vec![
        Cell::Text(Some(&f.ultimate_parent)),
        Cell::Text(Some(f.segment.as_str())),
        Cell::Int(Some(f.segment_fy)),
        Cell::Int(f.family_max_employees.map(|e| e.min(i32::MAX as u32) as i32)),
        Cell::BigInt(Some(f.family_carr_cents)),
        Cell::Bool(f.first_order_available),
    ]
}

/// `SET a = excluded.a, …` and the matching `(accounts.a, …)` / `(excluded.a, …)` tuples used to
/// skip rows whose values did not change.
pub fn upsert_tail(distinct_op: &str) -> String {
    let cols: Vec<&str> = ACCOUNT_COLUMNS.iter().skip(1).map(|(c, _)| *c).collect();
    let set: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let old: Vec<String> = cols.iter().map(|c| format!("accounts.{c}")).collect();
    let new: Vec<String> = cols.iter().map(|c| format!("excluded.{c}")).collect();
    format!(
        "ON CONFLICT (crm_id) DO UPDATE SET {}, updated_at = excluded.updated_at WHERE ({}) {distinct_op} ({})",
        set.join(", "),
        old.join(", "),
        new.join(", ")
    )
}

pub fn column_list() -> String {
    ACCOUNT_COLUMNS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

/// One column of account `a`'s stored fit.
fn fit(col: &str) -> String {
    format!("(SELECT s.{col} FROM icp_scores s WHERE s.crm_id = a.crm_id)")
}

/// Columns of an [`crate::AccountSummary`], in the order readers expect; `domains` is the
/// backend's aggregate expression.
pub fn summary_select(domains: &str, ts: impl Fn(&str) -> String) -> String {
    format!(
        "a.crm_id, a.name, {domains}, a.segment, a.geo, a.country, a.parent_id, a.ultimate_parent_id, \
         a.account_type, a.abm_tier, a.employees, a.family_carr_cents, a.first_order_available, \
         a.website, a.sub_region, a.industry, a.annual_revenue_cents, a.carr_cents, a.owner, a.sdr, \
         a.account_rank, a.gtm_strategy, a.new_logo_target, a.family_max_employees, a.segment_fy, {}, {}, \
         {}, {}, {}, {}",
        ts("a.created_at"),
        ts("a.updated_at"),
        fit("icp"),
        fit("score"),
        fit("grade"),
        fit("version")
    )
}

/// WHERE clause and its text parameters for an account query. `ph(n)` writes the n-th (1-based)
/// placeholder; `like` is the case-insensitive LIKE operator.
pub fn account_filter(q: &AccountQuery, ph: impl Fn(usize) -> String, like: &str) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    let push = |params: &mut Vec<String>, v: String| {
        params.push(v);
        ph(params.len())
    };
    if let Some(s) = &q.segment {
        let p = push(&mut params, s.clone());
        clauses.push(format!("a.segment = {p}"));
    }
    if let Some(g) = &q.geo {
        let p = push(&mut params, g.clone());
        clauses.push(format!("a.geo = {p}"));
    }
    if let Some(t) = &q.tier {
        let p = push(&mut params, t.clone());
        clauses.push(format!("a.abm_tier = {p}"));
    }
    if let Some(g) = &q.grade {
        let p = push(&mut params, g.clone());
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM icp_scores s WHERE s.crm_id = a.crm_id AND s.grade = {p})"
        ));
    }
    if let Some(stage) = q.stage {
        let p = push(&mut params, stage.to_string());
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM journeys j WHERE j.crm_id = a.crm_id AND j.stage = CAST(CAST({p} AS TEXT) AS INTEGER))"
        ));
    }
    if let Some(icp) = q.icp {
        clauses.push(format!(
            "{}EXISTS (SELECT 1 FROM icp_scores s WHERE s.crm_id = a.crm_id AND s.icp = 1)",
            if icp { "" } else { "NOT " }
        ));
    }
    if let Some(t) = q.text.as_ref().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let escaped = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let p1 = push(&mut params, format!("%{escaped}%"));
        let p2 = push(&mut params, t.to_string());
        let p3 = push(&mut params, format!("{}%", escaped.to_lowercase()));
        clauses.push(format!(
            "(a.name {like} {p1} ESCAPE '\\' OR a.crm_id = {p2} OR EXISTS (SELECT 1 FROM account_domains d \
             WHERE d.crm_id = a.crm_id AND d.domain LIKE {p3} ESCAPE '\\'))"
        ));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

pub const DOMAIN_CLAIMS: &str = "SELECT d.domain, d.crm_id, COALESCE(pc.n, 0) FROM account_domains d \
     LEFT JOIN (SELECT crm_id, count(*) AS n FROM people GROUP BY crm_id) pc ON pc.crm_id = d.crm_id";

/// Claims on some domains (the store adds the condition on `d.domain`): one scan of the domain
/// rows, people counted for the claiming accounts only.
pub const SOME_DOMAIN_CLAIMS: &str = "SELECT d.domain, d.crm_id, \
     (SELECT count(*) FROM people p WHERE p.crm_id = d.crm_id) FROM account_domains d WHERE d.domain";

/// Attribute values as stored: a JSON array of `[attribute, source, value, as_of]`. Written by
/// hand: it runs once per account on the writer's path of million-row imports.
pub fn encode_attributes(values: &[AttributeValue]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(2 + values.len() * 64);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for part in [&*v.attribute, &*v.source, v.value.as_str()] {
            push_json_string(&mut out, part);
            out.push(',');
        }
        // Not chrono's strftime: parsing the format string per value was a visible cost.
        use chrono::Datelike;
        let d = v.as_of;
        let _ = write!(out, "\"{:04}-{:02}-{:02}\"]", d.year(), d.month(), d.day());
    }
    out.push(']');
    out
}

fn push_json_string(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("strings serialise"));
    }
}

/// The inverse of [`encode_attributes`].
pub fn decode_attributes(text: &str) -> Result<Vec<AttributeValue>, String> {
    let rows: Vec<(String, String, String, String)> =
        serde_json::from_str(text).map_err(|e| format!("accounts.attributes is not valid: {e}"))?;
    rows.into_iter()
        .map(|(a, s, v, d)| {
            let as_of = d.parse().map_err(|_| format!("accounts.attributes: bad date {d:?}"))?;
            Ok(AttributeValue {
                attribute: a.into(),
                source: s.into(),
                value: v,
                as_of,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn attributes_round_trip_with_awkward_text() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let values = vec![
            AttributeValue {
                attribute: "tech_stack".into(),
                source: "crm".into(),
                value: "GitHub; \"Jenkins\" \\ Bamboo\n".into(),
                as_of: d,
            },
            AttributeValue {
                attribute: "hq".into(),
                source: "zoominfo".into(),
                value: "München".into(),
                as_of: d,
            },
        ];
        let text = encode_attributes(&values);
        assert_eq!(decode_attributes(&text).unwrap(), values);
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{text}");
        assert_eq!(encode_attributes(&[]), "[]");
    }
}
