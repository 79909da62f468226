//! The PostgreSQL store, for teams that share one server. Bulk writes go through `UNNEST` over
//! typed arrays, a few thousand rows a statement, inside one transaction.

use crate::migrate::{self, Migration};
use crate::model::*;
use crate::request_rows as rows;
use crate::sql::{self, Cell, Kind};
use crate::Opportunity;
use crate::{
    Activity, AdFact, AuditEntry, BudgetLine, ListVersion, Nomination, Progress, Request, Result, Store, StoreError,
    TeamMember, TeamUpdate,
};
use chrono::{DateTime, NaiveDate, Utc};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Transaction};
use std::collections::HashSet;

pub struct PostgresStore {
    client: Client,
}

const BATCH: usize = 5_000;

type Param = Box<dyn ToSql + Sync>;

impl PostgresStore {
    /// Connect and apply pending migrations (serialised by an advisory lock).
    pub fn open(url: &str) -> Result<Self> {
        let client = Client::connect(url, NoTls)?;
        let mut s = Self { client };
        s.migrate(migrate::POSTGRES)?;
        Ok(s)
    }

    fn migrate(&mut self, ms: &[Migration]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(7426001)", &[])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )?;
        let current: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations", &[])?
            .get(0);
        let known = migrate::latest(ms);
        if current > known {
            return Err(StoreError::TooNew { found: current, known });
        }
        for m in ms.iter().filter(|m| m.version > current) {
            tx.batch_execute(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                &[&m.version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Turn rows of cells into one typed array parameter per column.
fn columns(rows: &[Vec<Cell<'_>>], kinds: &[Kind]) -> Vec<Param> {
    kinds
        .iter()
        .enumerate()
        .map(|(c, kind)| -> Param {
            match kind {
                Kind::Text | Kind::Json => Box::new(
                    rows.iter()
                        .map(|r| {
                            if let Cell::Text(v) = &r[c] {
                                v.map(String::from)
                            } else {
                                None
                            }
                        })
                        .collect::<Vec<_>>(),
                ),
                Kind::Int => Box::new(
                    rows.iter()
                        .map(|r| if let Cell::Int(v) = &r[c] { *v } else { None })
                        .collect::<Vec<_>>(),
                ),
                Kind::BigInt => Box::new(
                    rows.iter()
                        .map(|r| if let Cell::BigInt(v) = &r[c] { *v } else { None })
                        .collect::<Vec<_>>(),
                ),
                Kind::Bool => Box::new(
                    rows.iter()
                        .map(|r| matches!(&r[c], Cell::Bool(true)))
                        .collect::<Vec<_>>(),
                ),
            }
        })
        .collect()
}

fn pg_type(k: Kind) -> &'static str {
    match k {
        Kind::Text => "text[]",
        Kind::Int => "int4[]",
        Kind::BigInt => "int8[]",
        Kind::Bool => "bool[]",
        Kind::Json => "text[]",
    }
}

fn unnest(kinds: &[Kind], names: &[&str]) -> String {
    let args: Vec<String> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| format!("${}::{}", i + 1, pg_type(*k)))
        .collect();
    format!("UNNEST({}) AS u({})", args.join(", "), names.join(", "))
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
}

fn write_account_batch(
    tx: &mut Transaction<'_>,
    w: &AccountWrite,
    batch: &[(abm_core::account::AccountRecord, abm_core::hierarchy::FamilyFacts)],
    summary: &mut WriteSummary,
) -> Result<()> {
    let kinds: Vec<Kind> = sql::ACCOUNT_COLUMNS.iter().map(|(_, k)| *k).collect();
    let names: Vec<&str> = sql::ACCOUNT_COLUMNS.iter().map(|(c, _)| *c).collect();
    // Values from sources not in this import are kept: merge with what is stored.
    let existing_ids: Vec<String> = batch
        .iter()
        .map(|(r, _)| r.crm_id.to_string())
        .filter(|id| w.existing.contains(id))
        .collect();
    let mut stored: std::collections::HashMap<String, Vec<abm_core::account::AttributeValue>> = Default::default();
    if !existing_ids.is_empty() {
        for row in tx.query(
            "SELECT crm_id, attributes::text FROM accounts WHERE crm_id = ANY($1)",
            &[&existing_ids],
        )? {
            let text: String = row.get(1);
            stored.insert(row.get(0), sql::decode_attributes(&text).map_err(StoreError::Corrupt)?);
        }
    }
    let attributes: Vec<String> = batch
        .iter()
        .map(|(r, _)| {
            let old = stored.get(r.crm_id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            sql::encode_attributes(&abm_core::account::merge_attribute_values(old, &r.attributes))
        })
        .collect();
    let rows: Vec<Vec<Cell>> = batch
        .iter()
        .zip(&attributes)
        .map(|((r, f), a)| sql::account_cells(r, f, a))
        .collect();
    let mut params = columns(&rows, &kinds);
    params.push(Box::new(w.at.clone()));
    let at = format!("${}::text::timestamptz", kinds.len() + 1);
    let select: Vec<String> = sql::ACCOUNT_COLUMNS
        .iter()
        .map(|(c, k)| {
            if *k == Kind::Json {
                format!("u.{c}::jsonb")
            } else {
                format!("u.{c}")
            }
        })
        .collect();
    let stmt = format!(
        "INSERT INTO accounts ({}, created_at, updated_at) SELECT {}, {at}, {at} FROM {} {} RETURNING crm_id",
        sql::column_list(),
        select.join(", "),
        unnest(&kinds, &names),
        sql::upsert_tail("IS DISTINCT FROM")
    );
    let changed: HashSet<String> = tx.query(&stmt, &refs(&params))?.iter().map(|r| r.get(0)).collect();
    for (r, _) in batch {
        let id = r.crm_id.as_str();
        if w.existing.contains(id) {
            if changed.contains(id) {
                summary.updated += 1;
            } else {
                summary.unchanged += 1;
            }
        } else {
            summary.inserted += 1;
        }
    }
    if !existing_ids.is_empty() {
        tx.execute("DELETE FROM account_domains WHERE crm_id = ANY($1)", &[&existing_ids])?;
    }
    let mut dom: (Vec<String>, Vec<String>, Vec<bool>) = Default::default();

    for (r, _) in batch {
        for (j, d) in r.domains.iter().enumerate() {
            dom.0.push(r.crm_id.to_string());
            dom.1.push(d.to_string());
            dom.2.push(j == 0);
        }
    }
    tx.execute(
        "INSERT INTO account_domains (crm_id, domain, is_primary) SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[]) \
         ON CONFLICT DO NOTHING",
        &[&dom.0, &dom.1, &dom.2],
    )?;

    Ok(())
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn schema_version(&mut self) -> Result<i64> {
        Ok(self
            .client
            .query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations", &[])?
            .get(0))
    }

    fn hierarchy_rows(&mut self) -> Result<Vec<abm_core::hierarchy::StoredMember>> {
        let mut out = Vec::new();
        for r in self.client.query(HIERARCHY_SELECT, &[])? {
            out.push(read_hierarchy_row!(&r));
        }
        Ok(out)
    }

    fn write_accounts(
        &mut self,
        w: &AccountWrite,
        source: &mut dyn AccountSource,
        progress: Progress<'_>,
    ) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let mut tx = self.client.transaction()?;
        let mut done = 0u64;
        loop {
            let records = source.next_batch().map_err(StoreError::Source)?;
            if records.is_empty() {
                break;
            }
            for batch in records.chunks(BATCH) {
                write_account_batch(&mut tx, w, batch, &mut summary)?;
                done += batch.len() as u64;
                progress(done);
            }
            source.recycle(records);
        }
        let kinds = [
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Int,
            Kind::Int,
            Kind::BigInt,
            Kind::Bool,
        ];
        let mut names = vec!["crm_id"];
        names.extend(sql::ROLLUP_COLUMNS);
        let set: Vec<String> = sql::ROLLUP_COLUMNS.iter().map(|c| format!("{c} = u.{c}")).collect();
        let old: Vec<String> = sql::ROLLUP_COLUMNS.iter().map(|c| format!("a.{c}")).collect();
        let new: Vec<String> = sql::ROLLUP_COLUMNS.iter().map(|c| format!("u.{c}")).collect();
        let stmt = format!(
            "UPDATE accounts a SET {}, updated_at = ${}::text::timestamptz FROM {} WHERE a.crm_id = u.crm_id AND ({}) IS DISTINCT FROM ({})",
            set.join(", "),
            kinds.len() + 1,
            unnest(&kinds, &names),
            old.join(", "),
            new.join(", ")
        );
        let late = source.late_rollups().map_err(StoreError::Source)?;
        let all: Vec<(String, abm_core::hierarchy::FamilyFacts)> =
            w.rollup_updates.iter().cloned().chain(late).collect();
        for batch in all.chunks(BATCH) {
            let rows: Vec<Vec<Cell>> = batch
                .iter()
                .map(|(id, f)| {
                    let mut cells = vec![Cell::Text(Some(id.as_str()))];
                    cells.extend(sql::rollup_cells(f));
                    cells
                })
                .collect();
            let mut params = columns(&rows, &kinds);
            params.push(Box::new(w.at.clone()));
            tx.execute(&stmt, &refs(&params))?;
        }
        tx.commit()?;
        Ok(summary)
    }

    fn list_accounts(&mut self, q: &AccountQuery) -> Result<AccountPage> {
        let (filter, params) = sql::account_filter(q, |i| format!("${i}"), "ILIKE");
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(|s| s as &(dyn ToSql + Sync)).collect();
        let total: i64 = self
            .client
            .query_one(&format!("SELECT count(*) FROM accounts a {filter}"), &p)?
            .get(0);
        let select = sql::summary_select(DOMAINS_AGG, ts);
        let limit = q.limit.map(|l| l.to_string()).unwrap_or_else(|| "ALL".into());
        let rows = self.client.query(
            &format!(
                "SELECT {select} FROM accounts a {filter} ORDER BY lower(a.name), a.crm_id LIMIT {limit} OFFSET {}",
                q.offset
            ),
            &p,
        )?;
        let accounts = rows.iter().map(|r| read_account_row!(r).summary).collect();
        Ok(AccountPage {
            total: total as u64,
            offset: q.offset,
            accounts,
        })
    }

    fn get_account(&mut self, crm_id: &str) -> Result<Option<AccountDetail>> {
        let select = sql::summary_select(DOMAINS_AGG, ts);
        let Some(row) = self.client.query_opt(
            &format!("SELECT {select} FROM accounts a WHERE a.crm_id = $1"),
            &[&crm_id],
        )?
        else {
            return Ok(None);
        };
        let mut detail = read_account_row!(&row);
        let text: String = self
            .client
            .query_one("SELECT attributes::text FROM accounts WHERE crm_id = $1", &[&crm_id])?
            .get(0);
        detail.attributes = sql::decode_attributes(&text).map_err(StoreError::Corrupt)?;
        for r in self.client.query(
            &format!("{FAMILY_SELECT} $1 ORDER BY (crm_id = ultimate_parent_id) DESC, lower(name), crm_id"),
            &[&detail.summary.ultimate_parent_id],
        )? {
            let employees: Option<i32> = r.get(3);
            detail.family.push(FamilyMember {
                crm_id: r.get(0),
                name: r.get(1),
                parent_id: r.get(2),
                employees: employees.map(|e| e as u32),
                carr: cents_to_f64(r.get(4)),
            });
        }
        for r in self.client.query(PEOPLE_SELECT, &[&crm_id])? {
            detail
                .people
                .push(read_person(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)));
        }
        Ok(Some(detail))
    }

    fn domain_claims(&mut self) -> Result<Vec<DomainClaim>> {
        Ok(self
            .client
            .query(sql::DOMAIN_CLAIMS, &[])?
            .iter()
            .map(read_claim)
            .collect())
    }

    fn domain_claims_for(&mut self, domains: &[String]) -> Result<Vec<DomainClaim>> {
        Ok(self
            .client
            .query(&format!("{} = ANY($1)", sql::SOME_DOMAIN_CLAIMS), &[&domains])?
            .iter()
            .map(read_claim)
            .collect())
    }

    fn accounts_among(&mut self, ids: &[String]) -> Result<Vec<String>> {
        Ok(self
            .client
            .query("SELECT crm_id FROM accounts WHERE crm_id = ANY($1)", &[&ids])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn write_people(&mut self, people: &[PersonRow], progress: Progress<'_>) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let mut tx = self.client.transaction()?;
        let find = tx.prepare("SELECT crm_id FROM people WHERE person_id = $1")?;
        let moved = tx.prepare("DELETE FROM people WHERE person_id = $1 AND crm_id <> $2")?;
        let up = tx.prepare(
            "INSERT INTO people (crm_id, person_id, email, first_name, last_name, title, link_method, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::timestamptz, $8::text::timestamptz) ON CONFLICT (crm_id, person_id) DO UPDATE SET \
             email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name, title = excluded.title, \
             link_method = excluded.link_method, updated_at = excluded.updated_at \
             WHERE (people.email, people.first_name, people.last_name, people.title, people.link_method) IS DISTINCT FROM \
             (excluded.email, excluded.first_name, excluded.last_name, excluded.title, excluded.link_method)",
        )?;
        for (i, p) in people.iter().enumerate() {
            let account = p.crm_id.clone().unwrap_or_default();
            let existed = tx.query_opt(&find, &[&p.person_id])?.is_some();
            tx.execute(&moved, &[&p.person_id, &account])?;
            let changed = tx.execute(
                &up,
                &[
                    &account,
                    &p.person_id,
                    &p.email,
                    &p.first_name,
                    &p.last_name,
                    &p.title,
                    &p.link_method,
                    &p.at,
                ],
            )?;
            match (existed, changed) {
                (false, _) => summary.inserted += 1,
                (true, 0) => summary.unchanged += 1,
                (true, _) => summary.updated += 1,
            }
            if (i + 1) % 10_000 == 0 {
                progress((i + 1) as u64);
            }
        }
        tx.commit()?;
        progress(people.len() as u64);
        Ok(summary)
    }

    fn counts(&mut self) -> Result<StoreCounts> {
        let row = self.client.query_one(
            &format!(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM account_domains), \
                 (SELECT COALESCE(sum(jsonb_array_length(attributes)), 0)::BIGINT FROM accounts), (SELECT count(*) FROM people), \
                 {OTHER_COUNTS}"
            ),
            &[],
        )?;
        Ok(StoreCounts {
            accounts: row.get::<_, i64>(0) as u64,
            domains: row.get::<_, i64>(1) as u64,
            attributes: row.get::<_, i64>(2) as u64,
            people: row.get::<_, i64>(3) as u64,
            requests: row.get::<_, i64>(4) as u64,
            activities: row.get::<_, i64>(5) as u64,
            opportunities: row.get::<_, i64>(6) as u64,
            ad_facts: row.get::<_, i64>(7) as u64,
            list_versions: row.get::<_, i64>(8) as u64,
        })
    }

    fn put_team_member(&mut self, m: &TeamMember, audit: &AuditEntry) -> Result<Option<TeamMember>> {
        let mut tx = self.client.transaction()?;
        let before = tx
            .query_opt(
                "SELECT username, name, role FROM team_members WHERE username = $1 FOR UPDATE",
                &[&m.username],
            )?
            .map(|r| team_row(&r))
            .transpose()?;
        tx.execute(
            "INSERT INTO team_members (username, name, role, added_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (username) DO UPDATE SET name = excluded.name, role = excluded.role",
            &[&m.username, &m.name, &m.role.as_str(), &audit.at],
        )?;
        insert_audit(&mut tx, std::slice::from_ref(audit))?;
        tx.commit()?;
        Ok(before)
    }

    fn team(&mut self) -> Result<Vec<TeamMember>> {
        self.client
            .query("SELECT username, name, role FROM team_members ORDER BY username", &[])?
            .iter()
            .map(team_row)
            .collect()
    }

    fn insert_request(&mut self, r: &Request, audit: &[AuditEntry]) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        let id = insert_request(&mut tx, r)?;
        insert_audit(&mut tx, &rows::with_request_id(audit, id).collect::<Vec<_>>())?;
        tx.commit()?;
        Ok(id)
    }

    fn update_request(&mut self, r: &Request, audit: &[AuditEntry]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        update_request(&mut tx, r, r.id, Some(r.version))?;
        insert_audit(&mut tx, audit)?;
        tx.commit()?;
        Ok(())
    }

    fn get_request(&mut self, id: i64) -> Result<Option<Request>> {
        self.client
            .query_opt("SELECT id, version, doc::text FROM requests WHERE id = $1", &[&id])?
            .map(|r| request_row(&r))
            .transpose()
    }

    fn each_request(&mut self, q: &RequestQuery, f: &mut dyn FnMut(Request)) -> Result<()> {
        let (sql, args) = rows::list_sql(q, |n| format!("${n}"));
        let sql = sql.replacen("doc FROM", "doc::text FROM", 1);
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let mut it = self.client.query_raw(&sql, params)?;
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut it)? {
            f(request_row(&row)?);
        }
        Ok(())
    }

    fn append_audit(&mut self, entries: &[AuditEntry]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        insert_audit(&mut tx, entries)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_log(&mut self, request_id: i64) -> Result<Vec<AuditEntry>> {
        Ok(self
            .client
            .query(
                "SELECT request_id, at, actor, action, field, before, after, note, refused FROM audit_log \
                 WHERE request_id = $1 ORDER BY id",
                &[&request_id],
            )?
            .iter()
            .map(|row| AuditEntry {
                request_id: row.get(0),
                at: row.get(1),
                actor: row.get(2),
                action: row.get(3),
                field: row.get(4),
                before: row.get(5),
                after: row.get(6),
                note: row.get(7),
                refused: row.get(8),
            })
            .collect())
    }

    fn import_requests(&mut self, requests: &[ImportedRequest], progress: Progress<'_>) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let mut tx = self.client.transaction()?;
        for (i, imp) in requests.iter().enumerate() {
            let r = &imp.request;
            let existing = tx
                .query_opt(
                    "SELECT id, version, doc::text FROM requests WHERE external_id = $1",
                    &[&r.external_id],
                )?
                .map(|row| request_row(&row))
                .transpose()?;
            match existing {
                None => {
                    let id = insert_request(&mut tx, r)?;
                    insert_audit(&mut tx, &rows::with_request_id(&imp.history, id).collect::<Vec<_>>())?;
                    summary.inserted += 1;
                }
                Some(old) if rows::same_content(&old, r) => summary.unchanged += 1,
                Some(old) => {
                    update_request(&mut tx, r, old.id, None)?;
                    insert_audit(&mut tx, &[rows::reimport_entry(r, old.id)])?;
                    summary.updated += 1;
                }
            }
            if (i as u64 + 1) % 1_000 == 0 {
                progress(i as u64 + 1);
            }
        }
        tx.commit()?;
        progress(requests.len() as u64);
        Ok(summary)
    }

    fn save_icp_version(&mut self, definition: &str, author: &str, at: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        tx.execute("LOCK TABLE icp_versions IN EXCLUSIVE MODE", &[])?;
        let v: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) + 1 FROM icp_versions", &[])?
            .get(0);
        tx.execute(
            "INSERT INTO icp_versions (version, created_at, author, definition) VALUES ($1, $2, $3, $4)",
            &[&v, &at, &author, &definition],
        )?;
        tx.commit()?;
        Ok(v)
    }

    fn icp_versions(&mut self) -> Result<Vec<IcpVersion>> {
        let sql = rows::ICP_VERSIONS.replacen("v.created_at", &ts("v.created_at"), 1);
        Ok(self.client.query(&sql, &[])?.iter().map(read_version).collect())
    }

    fn activate_icp(&mut self, version: i64, actor: &str, at: DateTime<Utc>, fits: &[StoredFit]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute(
            "INSERT INTO icp_activations (version, at, actor) VALUES ($1, $2, $3)",
            &[&version, &at, &actor],
        )?;
        tx.execute("DELETE FROM icp_scores", &[])?;
        for chunk in fits.chunks(BATCH) {
            let ids: Vec<&str> = chunk.iter().map(|f| f.crm_id.as_str()).collect();
            let versions: Vec<i64> = chunk.iter().map(|f| f.version).collect();
            let icp: Vec<i32> = chunk.iter().map(|f| f.icp as i32).collect();
            let score: Vec<i32> = chunk.iter().map(|f| f.score as i32).collect();
            let grade: Vec<&str> = chunk.iter().map(|f| f.grade.as_str()).collect();
            tx.execute(
                "INSERT INTO icp_scores (crm_id, version, icp, score, grade) \
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::int[], $4::int[], $5::text[])",
                &[&ids, &versions, &icp, &score, &grade],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn each_scoring_input(&mut self, f: &mut dyn FnMut(ScoringInput)) -> Result<()> {
        let sql = rows::scoring_select("attributes::text");
        let mut it = self.client.query_raw(&sql, std::iter::empty::<&(dyn ToSql + Sync)>())?;
        while let Some(r) = postgres::fallible_iterator::FallibleIterator::next(&mut it)? {
            let employees: Option<i32> = r.get(3);
            let text: String = r.get(13);
            f(ScoringInput {
                crm_id: r.get(0),
                name: r.get(14),
                ultimate_parent_id: r.get(1),
                segment: r.get(2),
                family_max_employees: employees.map(|e| e as u32),
                first_order_available: r.get(4),
                family_carr_cents: r.get(5),
                account_type: r.get(6),
                industry: r.get(7),
                geo: r.get(8),
                account_rank: r.get(9),
                gtm_strategy: r.get(10),
                new_logo_target: r.get(11),
                annual_revenue_cents: r.get(12),
                attributes: sql::decode_attributes(&text).map_err(StoreError::Corrupt)?,
            });
        }
        Ok(())
    }

    fn account_types(&mut self) -> Result<Vec<(String, Option<String>)>> {
        Ok(self
            .client
            .query("SELECT crm_id, account_type FROM accounts ORDER BY crm_id", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn fits(&mut self) -> Result<Vec<StoredFit>> {
        Ok(self
            .client
            .query(
                "SELECT crm_id, version, icp, score, grade FROM icp_scores ORDER BY crm_id",
                &[],
            )?
            .iter()
            .map(|r| StoredFit {
                crm_id: r.get(0),
                version: r.get(1),
                icp: r.get::<_, i32>(2) != 0,
                score: r.get::<_, i32>(3) as u32,
                grade: r.get(4),
            })
            .collect())
    }

    fn save_list_version(&mut self, list: &ListVersion) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        tx.execute("LOCK TABLE list_versions IN EXCLUSIVE MODE", &[])?;
        let v: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) + 1 FROM list_versions", &[])?
            .get(0);
        let doc = rows::to_json(
            "list",
            &ListVersion {
                version: v,
                published: None,
                ..list.clone()
            },
        )?;
        tx.execute(
            "INSERT INTO list_versions (version, created_at, doc) VALUES ($1, $2, $3::text::jsonb)",
            &[&v, &list.created_at, &doc],
        )?;
        tx.commit()?;
        Ok(v)
    }

    fn list_versions(&mut self) -> Result<Vec<ListVersion>> {
        self.client
            .query("SELECT doc::text FROM list_versions ORDER BY version", &[])?
            .iter()
            .map(|r| rows::from_json("list", r.get::<_, &str>(0)))
            .collect()
    }

    fn publish_list(&mut self, version: i64, by: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.client.transaction()?;
        let row = tx
            .query_opt(
                "SELECT doc::text, published_at IS NOT NULL FROM list_versions WHERE version = $1 FOR UPDATE",
                &[&version],
            )?
            .ok_or_else(|| StoreError::NotFound(format!("list version {version}")))?;
        if row.get::<_, bool>(1) {
            return Err(StoreError::Conflict(format!(
                "list version {version} (already published)"
            )));
        }
        let mut list: ListVersion = rows::from_json("list", row.get::<_, &str>(0))?;
        list.published = Some((at, by.to_string()));
        tx.execute(
            "UPDATE list_versions SET published_at = $1, doc = $2::text::jsonb WHERE version = $3 AND published_at IS NULL",
            &[&at, &rows::to_json("list", &list)?, &version],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn add_nomination(&mut self, n: &Nomination) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO nominations (crm_id, decided, doc) VALUES ($1, $2, '{}'::jsonb) RETURNING id",
                &[&n.crm_id, &n.decision.is_some()],
            )?
            .get(0);
        tx.execute(
            "UPDATE nominations SET doc = $1::text::jsonb WHERE id = $2",
            &[&rows::to_json("nomination", &Nomination { id, ..n.clone() })?, &id],
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn decide_nomination(&mut self, n: &Nomination) -> Result<()> {
        let changed = self.client.execute(
            "UPDATE nominations SET decided = true, doc = $1::text::jsonb WHERE id = $2 AND NOT decided",
            &[&rows::to_json("nomination", n)?, &n.id],
        )?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "nomination {} (already decided, or unknown)",
                n.id
            )));
        }
        Ok(())
    }

    fn nominations(&mut self) -> Result<Vec<Nomination>> {
        self.client
            .query("SELECT doc::text FROM nominations ORDER BY id", &[])?
            .iter()
            .map(|r| rows::from_json("nomination", r.get::<_, &str>(0)))
            .collect()
    }

    fn set_flag(&mut self, crm_id: &str, flag: Option<(&str, &str)>, at: DateTime<Utc>) -> Result<()> {
        match flag {
            None => self.client.execute("DELETE FROM list_flags WHERE crm_id = $1", &[&crm_id])?,
            Some((reason, by)) => self.client.execute(
                "INSERT INTO list_flags (crm_id, reason, flagged_by, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (crm_id) DO UPDATE SET reason = excluded.reason, flagged_by = excluded.flagged_by, at = excluded.at",
                &[&crm_id, &reason, &by, &at],
            )?,
        };
        Ok(())
    }

    fn flags(&mut self) -> Result<Vec<(String, String)>> {
        Ok(self
            .client
            .query("SELECT crm_id, reason FROM list_flags ORDER BY crm_id", &[])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn replace_ad_facts(
        &mut self,
        platform: &str,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
        facts: &[AdFact],
    ) -> Result<(u64, u64)> {
        let mut tx = self.client.transaction()?;
        let deleted = tx.execute(
            "DELETE FROM ad_facts WHERE platform = $1 AND account = $2 AND date_from >= $3 AND date_to <= $4",
            &[&platform, &account, &from, &to],
        )?;
        let st = tx.prepare(
            "INSERT INTO ad_facts (platform, account, campaign, ad_group, ad, date_from, date_to, currency, spend_micros, \
             impressions, clicks, conversions_milli, leads, reach, utm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::jsonb)",
        )?;
        for f in facts {
            let utm = rows::to_json("utm", &f.utm)?;
            tx.execute(
                &st,
                &[
                    &f.platform,
                    &f.account,
                    &f.campaign,
                    &f.ad_group,
                    &f.ad,
                    &f.date_from,
                    &f.date_to,
                    &f.currency,
                    &f.spend_micros,
                    &f.impressions,
                    &f.clicks,
                    &f.conversions_milli,
                    &f.leads,
                    &f.reach,
                    &utm,
                ],
            )?;
        }
        tx.commit()?;
        Ok((deleted, facts.len() as u64))
    }

    fn ad_facts(&mut self) -> Result<Vec<AdFact>> {
        self.client
            .query(
                "SELECT platform, account, campaign, ad_group, ad, date_from, date_to, currency, spend_micros, impressions, \
                 clicks, conversions_milli, leads, reach, utm::text FROM ad_facts ORDER BY date_from, platform, account, campaign, ad_group, ad",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(AdFact {
                    platform: r.get(0),
                    account: r.get(1),
                    campaign: r.get(2),
                    ad_group: r.get(3),
                    ad: r.get(4),
                    date_from: r.get(5),
                    date_to: r.get(6),
                    currency: r.get(7),
                    spend_micros: r.get(8),
                    impressions: r.get(9),
                    clicks: r.get(10),
                    conversions_milli: r.get(11),
                    leads: r.get(12),
                    reach: r.get(13),
                    utm: rows::from_json("utm", r.get::<_, &str>(14))?,
                })
            })
            .collect()
    }

    fn replace_budget(&mut self, lines: &[BudgetLine]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute("DELETE FROM budget_lines", &[])?;
        for l in lines {
            tx.execute(
                "INSERT INTO budget_lines (line_key, doc) VALUES ($1, $2::text::jsonb)",
                &[&l.key(), &rows::to_json("budget line", l)?],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn budget(&mut self) -> Result<Vec<BudgetLine>> {
        self.client
            .query("SELECT doc::text FROM budget_lines ORDER BY line_key", &[])?
            .iter()
            .map(|r| rows::from_json("budget line", r.get::<_, &str>(0)))
            .collect()
    }

    fn insert_activity_batches(&mut self, next: crate::ActivityBatches<'_>) -> Result<crate::ActivityWrite> {
        let mut tx = self.client.transaction()?;
        // Another import's rows may not land between the look and this one's commit.
        tx.execute("LOCK TABLE activities IN SHARE ROW EXCLUSIVE MODE", &[])?;
        let into_empty = !any_activity(&mut tx)?;
        let st = tx.prepare(
            "INSERT INTO activities (source, source_id, at, kind, email, account_id, ip, company_domain, crm_id, \
             method, confidence, why_not, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::jsonb) \
             ON CONFLICT (source, source_id) DO NOTHING",
        )?;
        let (mut added, mut offered) = (0u64, 0u64);
        let mut batch = Vec::new();
        loop {
            batch = next(std::mem::take(&mut batch)).map_err(StoreError::Source)?;
            if batch.is_empty() {
                break;
            }
            offered += batch.len() as u64;
            for (a, m) in &batch {
                let ip = a.ip.map(|i| i.to_string());
                let attrs = rows::to_json("attributes", &a.attributes)?;
                added += tx.execute(
                    &st,
                    &[
                        &a.source,
                        &a.source_id,
                        &a.at,
                        &a.kind,
                        &a.email,
                        &a.account_id,
                        &ip,
                        &a.company_domain,
                        &m.account,
                        &m.method.as_str(),
                        &m.confidence,
                        &m.why_not,
                        &attrs,
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(crate::ActivityWrite::counted(offered, added, into_empty))
    }

    fn holds_activities(&mut self) -> Result<bool> {
        any_activity(&mut self.client)
    }

    fn activities_of_kind(&mut self, kind: &str) -> Result<Vec<(String, Activity)>> {
        let mut out = Vec::new();
        select_activities(
            &mut self.client,
            "kind = $1 AND crm_id IS NOT NULL",
            kind,
            "at, source_id",
            &mut |c, a| out.push((c, a)),
        )?;
        Ok(out)
    }

    fn activities_of(&mut self, crm_id: &str) -> Result<Vec<Activity>> {
        let mut out = Vec::new();
        select_activities(&mut self.client, "crm_id = $1", crm_id, "at, source_id", &mut |_, a| {
            out.push(a)
        })?;
        Ok(out)
    }

    fn activities_since(&mut self, crm_id: &str, since: NaiveDate) -> Result<Vec<Activity>> {
        let mut out = Vec::new();
        select_activities(
            &mut self.client,
            &format!(
                "crm_id = $1 AND at >= '{}'::timestamptz",
                since.format("%Y-%m-%dT00:00:00Z")
            ),
            crm_id,
            "at, source_id",
            &mut |_, a| out.push(a),
        )?;
        Ok(out)
    }

    fn each_matched_activity(&mut self, f: &mut dyn FnMut(String, Activity)) -> Result<()> {
        select_activities(&mut self.client, "crm_id IS NOT NULL AND $1 = $1", "", "", f)
    }

    fn journey_facts(&mut self, crm_ids: &[String]) -> Result<Vec<JourneyFacts>> {
        let accounts = self.client.query(
            "SELECT a.crm_id, a.account_type, s.score FROM accounts a LEFT JOIN icp_scores s ON s.crm_id = a.crm_id \
             WHERE a.crm_id = ANY($1)",
            &[&crm_ids],
        )?;
        let mut by_id: std::collections::HashMap<String, JourneyFacts> = accounts
            .iter()
            .map(|r| {
                let crm: String = r.get(0);
                (
                    crm.clone(),
                    JourneyFacts {
                        crm_id: crm,
                        account_type: r.get(1),
                        fit: r.get::<_, Option<i32>>(2).map(|f| f as u32),
                        titles: vec![],
                        opportunities: vec![],
                    },
                )
            })
            .collect();
        for r in self.client.query(
            "SELECT crm_id, lower(email), title FROM people WHERE crm_id = ANY($1) AND email IS NOT NULL AND title IS NOT NULL \
             ORDER BY person_id COLLATE \"C\"",
            &[&crm_ids],
        )? {
            if let Some(f) = by_id.get_mut(r.get::<_, &str>(0)) {
                f.titles.push((r.get(1), r.get(2)));
            }
        }
        for r in self.client.query(
            "SELECT crm_id, doc::text FROM opportunities WHERE crm_id = ANY($1) ORDER BY id COLLATE \"C\"",
            &[&crm_ids],
        )? {
            let o = rows::from_json("opportunity", r.get::<_, &str>(1))?;
            if let Some(f) = by_id.get_mut(r.get::<_, &str>(0)) {
                f.opportunities.push(o);
            }
        }
        Ok(crm_ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    fn activities_of_since(&mut self, crm_ids: &[String], since: NaiveDate) -> Result<Vec<(String, Activity)>> {
        let sql = format!(
            "{} WHERE crm_id = ANY($1) AND at >= '{}'::timestamptz",
            rows::ACTIVITY_SELECT.replacen("attributes,", "attributes::text,", 1),
            since.format("%Y-%m-%dT00:00:00Z")
        );
        self.client
            .query(&sql, &[&crm_ids])?
            .iter()
            .map(read_activity)
            .collect()
    }

    fn journeys_of(&mut self, crm_ids: &[String]) -> Result<Vec<crate::Journey>> {
        let mut out = Vec::new();
        for id in crm_ids {
            out.extend(self.journeys(Some(id))?);
        }
        Ok(out)
    }

    fn person_titles(&mut self) -> Result<Vec<(String, String, String)>> {
        Ok(self
            .client
            .query(
                "SELECT crm_id, lower(email), title FROM people WHERE email IS NOT NULL AND title IS NOT NULL \
                 ORDER BY crm_id COLLATE \"C\", person_id COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn replace_journeys(&mut self, journeys: &[crate::Journey]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        write_journeys(&mut tx, journeys)?;
        tx.commit()?;
        Ok(())
    }

    fn revise_journeys(&mut self, revised: &[(crate::Journey, Option<NaiveDate>)]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        for chunk in revised.chunks(BATCH) {
            let ids: Vec<&str> = chunk.iter().map(|(j, _)| j.crm_id.as_str()).collect();
            let since: Vec<Option<NaiveDate>> = chunk.iter().map(|(_, d)| *d).collect();
            tx.execute(
                "DELETE FROM journey_events e USING UNNEST($1::text[], $2::date[]) AS x(c, d) \
                 WHERE e.crm_id = x.c AND (x.d IS NULL OR e.day >= x.d)",
                &[&ids, &since],
            )?;
            let journeys: Vec<&crate::Journey> = chunk.iter().map(|(j, _)| j).collect();
            insert_journey_rows(
                &mut tx,
                &journeys,
                " ON CONFLICT (crm_id) DO UPDATE SET base_stage = EXCLUDED.base_stage, \
                 through = EXCLUDED.through, scores = EXCLUDED.scores, stage = EXCLUDED.stage",
            )?;
            let events = chunk
                .iter()
                .flat_map(|(j, d)| j.events.iter().filter(move |e| d.is_none_or(|d| e.day >= d)));
            insert_events(&mut tx, events.collect())?;
        }
        tx.commit()?;
        Ok(())
    }

    fn save_rules_version(&mut self, kind: &str, definition: &str, author: &str, at: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('rule_versions'))", &[])?;
        let v: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM rule_versions WHERE kind = $1",
                &[&kind],
            )?
            .get(0);
        tx.execute(
            "INSERT INTO rule_versions (kind, version, created_at, author, definition) VALUES ($1, $2, $3, $4, $5)",
            &[&kind, &v, &at.format(rows::TIMESTAMP).to_string(), &author, &definition],
        )?;
        tx.commit()?;
        Ok(v)
    }

    fn rules_versions(&mut self, kind: &str) -> Result<Vec<RulesVersion>> {
        Ok(self
            .client
            .query(rows::RULES_VERSIONS, &[&kind])?
            .iter()
            .map(read_version)
            .collect())
    }

    fn activate_rules(
        &mut self,
        kind: &str,
        version: i64,
        actor: &str,
        at: DateTime<Utc>,
        journeys: &[crate::Journey],
    ) -> Result<()> {
        let mut tx = self.client.transaction()?;
        let known: i64 = tx
            .query_one(
                "SELECT count(*) FROM rule_versions WHERE kind = $1 AND version = $2",
                &[&kind, &version],
            )?
            .get(0);
        if known == 0 {
            return Err(StoreError::NotFound(format!("{kind} rules version {version}")));
        }
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('rule_activations'))", &[])?;
        tx.execute(
            "INSERT INTO rule_activations (kind, seq, version, at, actor) \
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM rule_activations WHERE kind = $1",
            &[&kind, &version, &at.format(rows::TIMESTAMP).to_string(), &actor],
        )?;
        write_journeys(&mut tx, journeys)?;
        tx.commit()?;
        Ok(())
    }

    fn set_password(&mut self, username: &str, hash: &str, at: DateTime<Utc>) -> Result<()> {
        let known: bool = self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM team_members WHERE username = $1)",
                &[&username],
            )?
            .get(0);
        if !known {
            return Err(StoreError::NotFound(format!("team member {username}")));
        }
        self.client.execute(
            "INSERT INTO user_passwords (username, hash, changed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at",
            &[&username, &hash, &at],
        )?;
        Ok(())
    }

    fn sign_out_session(&mut self, nonce: &str, expires: i64, now: i64) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute("DELETE FROM signed_out_sessions WHERE expires < $1", &[&now])?;
        tx.execute(
            "INSERT INTO signed_out_sessions (nonce, expires) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
            &[&nonce, &expires],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn session_signed_out(&mut self, nonce: &str) -> Result<bool> {
        Ok(self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM signed_out_sessions WHERE nonce = $1)",
                &[&nonce],
            )?
            .get(0))
    }

    fn password_hash(&mut self, username: &str) -> Result<Option<String>> {
        Ok(self
            .client
            .query_opt("SELECT hash FROM user_passwords WHERE username = $1", &[&username])?
            .map(|r| r.get(0)))
    }

    fn add_api_token(&mut self, t: &crate::ApiToken) -> Result<()> {
        let taken: bool = self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE username = $1 AND label = $2)",
                &[&t.username, &t.label],
            )?
            .get(0);
        if taken {
            return Err(StoreError::Conflict(format!(
                "{} already has a token labelled {:?}",
                t.username, t.label
            )));
        }
        self.client.execute(
            "INSERT INTO api_tokens (token_hash, username, label, created_at) VALUES ($1, $2, $3, $4)",
            &[&t.token_hash, &t.username, &t.label, &t.created_at],
        )?;
        Ok(())
    }

    fn token_owner(&mut self, token_hash: &str) -> Result<Option<String>> {
        Ok(self
            .client
            .query_opt("SELECT username FROM api_tokens WHERE token_hash = $1", &[&token_hash])?
            .map(|r| r.get(0)))
    }

    fn api_tokens(&mut self) -> Result<Vec<crate::ApiToken>> {
        Ok(self
            .client
            .query(
                "SELECT token_hash, username, label, created_at FROM api_tokens \
                 ORDER BY username COLLATE \"C\", label COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| crate::ApiToken {
                token_hash: r.get(0),
                username: r.get(1),
                label: r.get(2),
                created_at: r.get(3),
            })
            .collect())
    }

    fn revoke_api_token(&mut self, username: &str, label: &str) -> Result<bool> {
        Ok(self.client.execute(
            "DELETE FROM api_tokens WHERE username = $1 AND label = $2",
            &[&username, &label],
        )? == 1)
    }

    fn data_version(&mut self) -> Result<String> {
        // Every commit that writes moves the write-ahead log.
        Ok(self
            .client
            .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])?
            .get(0))
    }

    fn server_secret(&mut self, name: &str, fresh: &str) -> Result<String> {
        self.client.execute(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&name, &fresh],
        )?;
        Ok(self
            .client
            .query_one("SELECT value FROM server_secrets WHERE name = $1", &[&name])?
            .get(0))
    }

    fn record_firing(&mut self, f: &crate::Firing) -> Result<bool> {
        Ok(self.client.execute(
            "INSERT INTO automation_firings (automation, crm_id, day, action, note) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
            &[&f.automation, &f.crm_id, &f.day, &f.action, &f.note],
        )? == 1)
    }

    fn firings(&mut self) -> Result<Vec<crate::Firing>> {
        Ok(self
            .client
            .query(
                "SELECT automation, crm_id, day, action, note FROM automation_firings \
                 ORDER BY automation COLLATE \"C\", day, crm_id COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| crate::Firing {
                automation: r.get(0),
                crm_id: r.get(1),
                day: r.get(2),
                action: r.get(3),
                note: r.get(4),
            })
            .collect())
    }

    fn journey_coverage(&mut self) -> Result<(u64, u64)> {
        let r = self.client.query_one(
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM journeys)",
            &[],
        )?;
        Ok((r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64))
    }

    fn journeys(&mut self, crm_id: Option<&str>) -> Result<Vec<crate::Journey>> {
        let filter = if crm_id.is_some() { "crm_id = $1" } else { "$1 = $1" };
        let param = crm_id.unwrap_or("");
        let mut events: std::collections::HashMap<String, Vec<crate::StageEvent>> = Default::default();
        for r in self.client.query(
            &format!(
                "SELECT crm_id, day, from_stage, to_stage, cause FROM journey_events WHERE {filter} ORDER BY crm_id, day"
            ),
            &[&param],
        )? {
            let crm: String = r.get(0);
            events.entry(crm.clone()).or_default().push(crate::StageEvent {
                crm_id: crm,
                day: r.get(1),
                from: r.get::<_, i32>(2) as u32,
                to: r.get::<_, i32>(3) as u32,
                cause: r.get(4),
            });
        }
        self.client
            .query(
                &format!(
                    "SELECT crm_id, base_stage, through, scores::text FROM journeys WHERE {filter} ORDER BY crm_id COLLATE \"C\""
                ),
                &[&param],
            )?
            .iter()
            .map(|r| {
                let crm: String = r.get(0);
                Ok(crate::Journey {
                    events: events.remove(&crm).unwrap_or_default(),
                    crm_id: crm,
                    base_stage: r.get::<_, i32>(1) as u32,
                    through: r.get(2),
                    scores: rows::from_json("scores", r.get::<_, &str>(3))?,
                })
            })
            .collect()
    }

    fn activity_summary(&mut self) -> Result<(Vec<(String, u64)>, Vec<(String, u64)>)> {
        let methods = self
            .client
            .query(
                "SELECT method, count(*) FROM activities GROUP BY method ORDER BY method",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
            .collect();
        let why = self
            .client
            .query(
                "SELECT COALESCE(why_not, ''), count(*) FROM activities WHERE crm_id IS NULL GROUP BY why_not ORDER BY count(*) DESC, 1",
                &[],
            )?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
            .collect();
        Ok((methods, why))
    }

    fn replace_ip_ranges(&mut self, ranges: &[(String, u32, u32, String)]) -> Result<()> {
        let mut tx = self.client.transaction()?;
        tx.execute("DELETE FROM ip_ranges", &[])?;
        let st = tx.prepare("INSERT INTO ip_ranges (cidr, first_ip, last_ip, crm_id) VALUES ($1, $2, $3, $4)")?;
        for (c, f, l, a) in ranges {
            tx.execute(&st, &[c, &(*f as i64), &(*l as i64), a])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn ip_ranges(&mut self) -> Result<Vec<(u32, u32, String)>> {
        Ok(self
            .client
            .query("SELECT first_ip, last_ip, crm_id FROM ip_ranges ORDER BY first_ip", &[])?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u32, r.get::<_, i64>(1) as u32, r.get(2)))
            .collect())
    }

    fn upsert_opportunities(&mut self, opportunities: &[Opportunity]) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let mut tx = self.client.transaction()?;
        for o in opportunities {
            let doc = rows::to_json("opportunity", o)?;
            let old = tx.query_opt("SELECT doc::text FROM opportunities WHERE id = $1", &[&o.id])?;
            match old {
                Some(r) if rows::from_json::<Opportunity>("opportunity", r.get::<_, &str>(0))? == *o => {
                    summary.unchanged += 1
                }
                Some(_) => {
                    tx.execute(
                        "UPDATE opportunities SET crm_id = $1, doc = $2::text::jsonb WHERE id = $3",
                        &[&o.crm_id, &doc, &o.id],
                    )?;
                    summary.updated += 1;
                }
                None => {
                    tx.execute(
                        "INSERT INTO opportunities (id, crm_id, doc) VALUES ($1, $2, $3::text::jsonb)",
                        &[&o.id, &o.crm_id, &doc],
                    )?;
                    summary.inserted += 1;
                }
            }
        }
        tx.commit()?;
        Ok(summary)
    }

    fn opportunities(&mut self) -> Result<Vec<Opportunity>> {
        self.client
            .query("SELECT doc::text FROM opportunities ORDER BY id", &[])?
            .iter()
            .map(|r| rows::from_json("opportunity", r.get::<_, &str>(0)))
            .collect()
    }

    fn add_update(&mut self, u: &TeamUpdate) -> Result<i64> {
        Ok(self
            .client
            .query_one(
                "INSERT INTO team_updates (at, author, kind, text, link) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&u.at, &u.author, &u.kind.as_str(), &u.text, &u.link],
            )?
            .get(0))
    }

    fn updates(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<TeamUpdate>> {
        self.client
            .query(
                "SELECT id, at, author, kind, text, link FROM team_updates WHERE at >= $1 AND at < $2 ORDER BY at, id",
                &[&from, &to],
            )?
            .iter()
            .map(|r| {
                Ok(TeamUpdate {
                    id: r.get(0),
                    at: r.get(1),
                    author: r.get(2),
                    kind: r.get::<_, String>(3).parse().map_err(StoreError::Corrupt)?,
                    text: r.get(4),
                    link: r.get(5),
                })
            })
            .collect()
    }
}

fn ts(col: &str) -> String {
    format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
}

/// A (domain, account, people) row of a domain-claims query.
fn read_claim(r: &postgres::Row) -> DomainClaim {
    DomainClaim {
        domain: r.get(0),
        crm_id: r.get(1),
        people: r.get::<_, i64>(2) as u64,
    }
}

const DOMAINS_AGG: &str = "(SELECT string_agg(domain, ' ' ORDER BY is_primary DESC, domain) FROM account_domains d \
     WHERE d.crm_id = a.crm_id)";

fn team_row(row: &postgres::Row) -> Result<TeamMember> {
    let role: String = row.get(2);
    Ok(TeamMember {
        username: row.get(0),
        name: row.get(1),
        role: role
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("team member role: {e}")))?,
    })
}

fn request_row(row: &postgres::Row) -> Result<Request> {
    rows::from_doc(row.get(0), row.get(1), row.get(2))
}

/// A request's column values, in the order both INSERT and UPDATE bind them ($1 to $9).
fn request_params<'a>(c: &'a rows::RequestColumns<'_>) -> [&'a (dyn ToSql + Sync); 9] {
    [
        &c.external_id,
        &c.template,
        &c.status,
        &c.author,
        &c.assignee,
        &c.due_date,
        &c.submitted_at,
        &c.closed_at,
        &c.doc,
    ]
}

fn insert_request(tx: &mut Transaction<'_>, r: &Request) -> Result<i64> {
    let c = rows::columns(r)?;
    Ok(tx
        .query_one(
            "INSERT INTO requests (external_id, template, status, author, assignee, due_date, submitted_at, closed_at, doc, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, 1) RETURNING id",
            &request_params(&c),
        )?
        .get(0))
}

/// Replace request `id`; with `expected` set, only if its version is still that one.
fn update_request(tx: &mut Transaction<'_>, r: &Request, id: i64, expected: Option<i64>) -> Result<()> {
    let c = rows::columns(r)?;
    let n = tx.execute(
        "UPDATE requests SET external_id = $1, template = $2, status = $3, author = $4, assignee = $5, due_date = $6, \
         submitted_at = $7, closed_at = $8, doc = $9::text::jsonb, version = version + 1 \
         WHERE id = $10 AND ($11::BIGINT IS NULL OR version = $11)",
        &[&request_params(&c)[..], &[&id, &expected]].concat(),
    )?;
    if n == 0 {
        let exists: bool = tx
            .query_one("SELECT EXISTS (SELECT 1 FROM requests WHERE id = $1)", &[&id])?
            .get(0);
        return Err(if exists {
            StoreError::Conflict(format!("request {id}"))
        } else {
            StoreError::NotFound(format!("request {id}"))
        });
    }
    Ok(())
}

fn insert_audit(tx: &mut Transaction<'_>, entries: &[AuditEntry]) -> Result<()> {
    let st = tx.prepare(
        "INSERT INTO audit_log (request_id, at, actor, action, field, before, after, note, refused) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )?;
    for e in entries {
        tx.execute(
            &st,
            &[
                &e.request_id,
                &e.at,
                &e.actor,
                &e.action,
                &e.field,
                &e.before,
                &e.after,
                &e.note,
                &e.refused,
            ],
        )?;
    }
    Ok(())
}

/// Matched activities where `filter` (with one parameter, `$1`) holds, with their account,
/// oldest first.
/// One row of `ICP_VERSIONS` or `RULES_VERSIONS`: a saved definition, in force or not.
fn read_version(r: &postgres::Row) -> IcpVersion {
    IcpVersion {
        version: r.get(0),
        created_at: r.get(1),
        author: r.get(2),
        definition: r.get(3),
        active: r.get::<_, Option<bool>>(4).unwrap_or(false),
    }
}

/// Whether the store holds any activity.
fn any_activity(c: &mut impl postgres::GenericClient) -> Result<bool> {
    Ok(c.query_one("SELECT EXISTS (SELECT 1 FROM activities)", &[])?.get(0))
}

/// Store journeys inside `tx` in place of every stored one.
fn write_journeys(tx: &mut Transaction<'_>, journeys: &[crate::Journey]) -> Result<()> {
    tx.execute("DELETE FROM journeys", &[])?;
    tx.execute("DELETE FROM journey_events", &[])?;
    for chunk in journeys.chunks(BATCH) {
        insert_journey_rows(tx, &chunk.iter().collect::<Vec<_>>(), "")?;
        insert_events(tx, chunk.iter().flat_map(|j| &j.events).collect())?;
    }
    Ok(())
}

/// Journeys' rows, in one statement; `conflict` is appended (an upsert's clause, or nothing).
fn insert_journey_rows(tx: &mut Transaction<'_>, journeys: &[&crate::Journey], conflict: &str) -> Result<()> {
    let ids: Vec<&str> = journeys.iter().map(|j| j.crm_id.as_str()).collect();
    let base: Vec<i32> = journeys.iter().map(|j| j.base_stage as i32).collect();
    let through: Vec<NaiveDate> = journeys.iter().map(|j| j.through).collect();
    let stage: Vec<i32> = journeys.iter().map(|j| j.stage() as i32).collect();
    let scores: Vec<String> = journeys
        .iter()
        .map(|j| rows::to_json("scores", &j.scores))
        .collect::<Result<_>>()?;
    tx.execute(
        &format!(
            "INSERT INTO journeys (crm_id, base_stage, through, scores, stage) \
             SELECT c, b, t, s::jsonb, n FROM UNNEST($1::text[], $2::int[], $3::date[], $4::text[], $5::int[]) \
             AS x(c, b, t, s, n){conflict}"
        ),
        &[&ids, &base, &through, &scores, &stage],
    )?;
    Ok(())
}

/// Stage changes, in one statement.
fn insert_events(tx: &mut Transaction<'_>, events: Vec<&crate::StageEvent>) -> Result<()> {
    let crm: Vec<&str> = events.iter().map(|e| e.crm_id.as_str()).collect();
    let day: Vec<NaiveDate> = events.iter().map(|e| e.day).collect();
    let from: Vec<i32> = events.iter().map(|e| e.from as i32).collect();
    let to: Vec<i32> = events.iter().map(|e| e.to as i32).collect();
    let cause: Vec<&str> = events.iter().map(|e| e.cause.as_str()).collect();
    tx.execute(
        "INSERT INTO journey_events (crm_id, day, from_stage, to_stage, cause) \
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::int[], $4::int[], $5::text[])",
        &[&crm, &day, &from, &to, &cause],
    )?;
    Ok(())
}

/// One row of `ACTIVITY_SELECT` (attributes as text): the account (empty when unmatched) and
/// the activity.
fn read_activity(r: &postgres::Row) -> Result<(String, Activity)> {
    Ok((
        r.get::<_, Option<String>>(9).unwrap_or_default(),
        Activity {
            source: r.get(0),
            source_id: r.get(1),
            at: r.get(2),
            kind: r.get(3),
            email: r.get(4),
            account_id: r.get(5),
            ip: r.get::<_, Option<String>>(6).and_then(|i| i.parse().ok()),
            company_domain: r.get(7),
            attributes: rows::from_json("attributes", r.get::<_, &str>(8))?,
        },
    ))
}

fn select_activities(
    client: &mut Client,
    filter: &str,
    param: &str,
    order: &str,
    f: &mut dyn FnMut(String, Activity),
) -> Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    let order = rows::order_clause(order);
    let sql = format!(
        "{} WHERE {filter}{order}",
        rows::ACTIVITY_SELECT.replacen("attributes,", "attributes::text,", 1)
    );
    let mut found = client.query_raw(&sql, [param])?;
    while let Some(r) = found.next()? {
        let (crm, a) = read_activity(&r)?;
        f(crm, a);
    }
    Ok(())
}
