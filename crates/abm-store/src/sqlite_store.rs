//! The SQLite store: one file, WAL journal, foreign keys on. Writes are single transactions with
//! cached prepared statements, which is what makes a million-row import take seconds.

use crate::migrate::{self, Migration};
use crate::model::*;
use crate::request_rows as rows;
use crate::sql::{self, Cell};
use crate::Opportunity;
use crate::{
    Activity, AdFact, AuditEntry, BudgetLine, ListVersion, Nomination, Progress, Request, Result, Store, StoreError,
    TeamMember, TeamUpdate,
};
use abm_core::account::merge_attribute_values;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use std::path::Path;

pub struct SqliteStore {
    conn: Connection,
    /// A checkpoint of a big write, running on its own connection (see `checkpoint_aside`).
    checkpoint: Option<std::thread::JoinHandle<()>>,
}

/// The page cache, in KiB as `PRAGMA cache_size` takes it (negative).
const CACHE_KIB: i64 = -65536;

/// The page cache while building an index over millions of rows. SQLite sorts a cache's worth
/// of rows at a time before merging: 4 MiB runs stay in the processor's cache, and the account
/// index over ten million activities took 4.3 s instead of 7.3 s with 64 MiB (one helper thread).
const INDEX_BUILD_CACHE_KIB: i64 = -4096;

/// Pages of log after which a commit copies the log into the database (64 MiB of 16 KiB pages).
const WAL_AUTOCHECKPOINT: i64 = 4096;

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // The checkpoint's connection closes first; closing this one, the last, then copies
        // what the log still holds into the database and removes the log. A connection still
        // off the log (a first load whose journeys were never stored) goes back to it first.
        self.finish_checkpoint();
        let _ = self.back_to_log();
    }
}

impl ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Cell::Int(Some(i)) => ToSqlOutput::Owned(Value::Integer(*i as i64)),
            Cell::BigInt(Some(i)) => ToSqlOutput::Owned(Value::Integer(*i)),
            Cell::Bool(b) => ToSqlOutput::Owned(Value::Integer(*b as i64)),
            Cell::Text(None) | Cell::Int(None) | Cell::BigInt(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

const PROGRESS_EVERY: u64 = 10_000;

/// Writes of at least this many accounts (into a store no bigger) are loaded in bulk.
const BULK_ROWS: u64 = 50_000;

impl SqliteStore {
    /// Open (creating if needed) the database file and apply pending migrations.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        // First: another connection may hold the file for a while (a first load of activities,
        // written with a rollback journal, locks it until it commits), and even setting the
        // journal mode waits for it.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Larger pages suit wide account rows; this only takes effect when the file is created.
        conn.pragma_update(None, "page_size", 16384)?;
        match conn.pragma_update(None, "journal_mode", "WAL") {
            // A first load of activities holds the file with a rollback journal (see
            // `insert_activity_batches`); SQLite refuses to wait for it here, to avoid a
            // deadlock. This connection reads meanwhile, and the store goes back to the log
            // when that load ends or at the next opening.
            // Off the log, commits sync fully (see `back_to_log`).
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                conn.pragma_update(None, "synchronous", "FULL")?
            }
            r => {
                r?;
                conn.pragma_update(None, "synchronous", "NORMAL")?
            }
        }
        // Checkpoint once the log holds 64 MiB (SQLite's default of 1,000 pages assumes 4 KiB
        // pages): a commit of a few thousand pages, such as an update of a thousand journeys,
        // then does not also copy them into the database; the next big commit or closing does.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MiB of cache. Sorts bigger than that spill to a temporary file, not to the heap.
        conn.pragma_update(None, "cache_size", CACHE_KIB)?;
        conn.pragma_update(None, "temp_store", "FILE")?;
        let mut s = Self { conn, checkpoint: None };
        s.migrate(migrate::SQLITE)?;
        Ok(s)
    }

    fn migrate(&mut self, ms: &[Migration]) -> Result<()> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let current = self.schema_version()?;
        let known = migrate::latest(ms);
        if current > known {
            return Err(StoreError::TooNew { found: current, known });
        }
        for m in ms.iter().filter(|m| m.version > current) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(m.sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                [m.version],
            )?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// Already sorted by (attribute, source) without repeats, as imports deliver them.
fn is_canonical(values: &[abm_core::account::AttributeValue]) -> bool {
    values
        .windows(2)
        .all(|w| (&w[0].attribute, &w[0].source) < (&w[1].attribute, &w[1].source))
}

impl SqliteStore {
    /// Copy a big write from the log into the database on another connection and thread, so the
    /// writes that follow it need not wait (a checkpoint runs alongside a writer). What it
    /// leaves is copied by a later commit's checkpoint, or when the last connection closes.
    fn checkpoint_aside(&mut self) {
        self.finish_checkpoint();
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from) else {
            return;
        };
        self.checkpoint = Some(std::thread::spawn(move || {
            if let Ok(c) = Connection::open(&path) {
                let _ = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        }));
    }

    /// After [`commit_big`]: a log it left behind is copied aside from here on.
    fn copy_log_aside(&mut self, committed: rusqlite::Result<bool>) -> Result<()> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT)?;
        if committed? {
            self.checkpoint_aside();
        }
        Ok(())
    }

    fn finish_checkpoint(&mut self) {
        if let Some(running) = self.checkpoint.take() {
            let _ = running.join();
        }
    }

    /// Back to the log when this connection is on a rollback journal (a first load of
    /// activities switched it, or it opened while one held the file), unless another
    /// connection is still open: then later big writes try again. Writes on a rollback journal
    /// would wait for that reader. Off the log, commits sync fully: a power cut must not leave
    /// a half-written page; on it, the log keeps what was committed.
    fn back_to_log(&mut self) -> Result<()> {
        if !on_log(&self.conn)? && self.set_journal_mode("WAL")? {
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        Ok(())
    }

    /// Set the journal mode; false when SQLite kept the old one (another connection is open:
    /// leaving the log then is refused as busy, at once).
    fn set_journal_mode(&mut self, mode: &str) -> Result<bool> {
        let now = self
            .conn
            .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get::<_, String>(0));
        match now {
            Ok(now) => Ok(now.eq_ignore_ascii_case(mode)),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// [`Store::insert_activity_batches`], through whichever journal the connection is on (a
    /// first load switches to a rollback journal: see there).
    fn insert_activities(&mut self, next: crate::ActivityBatches<'_>) -> Result<crate::ActivityWrite> {
        // Immediate: whether the store held activities is read under the write lock.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let into_empty = !any_activity(&tx)?;
        let account_index = has_account_index(&tx)?;
        let (mut added, mut offered) = (0u64, 0u64);
        // A big write goes in without the account index, which is rebuilt (sorted once) in the
        // same transaction; whether it is big is told by its first batch. Into an empty table
        // it goes in without the key index too: rows are appended, repeats found at the end.
        // The account index is not built then at all: a copy of every activity, by account,
        // stands in for it (`wants_every_activity_copied`), and takes a third of the time.
        let (mut without_index, mut appending) = (false, false);
        let mut recent_since = recent_since(&tx)?;
        // New matched activities for the copy of recent ones, packed by account.
        let mut copies: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
        {
            let mut st = tx.prepare(
                "INSERT OR IGNORE INTO activities (source, source_id, at, kind, email, account_id, ip, company_domain, crm_id, \
                 method, confidence, why_not, attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            let mut batch = Vec::new();
            let mut stamp_buf = [0u8; 20];
            let mut repeated = RepeatedColumns::default();
            loop {
                batch = next(std::mem::take(&mut batch)).map_err(StoreError::Source)?;
                if batch.is_empty() {
                    break;
                }
                if offered == 0 && batch.len() >= BULK_ACTIVITIES {
                    tx.execute("DROP INDEX IF EXISTS activities_crm_id", [])?;
                    without_index = true;
                    if into_empty {
                        tx.execute("DROP INDEX activities_key", [])?;
                        // The copy of recent activities is dropped rather than kept row by
                        // row (repeats are only found at the end); the replay that follows
                        // writes it afresh, of every activity, for the account index is not
                        // built again.
                        tx.execute("DELETE FROM recent_activities_since", [])?;
                        tx.execute("DELETE FROM recent_activities", [])?;
                        recent_since = None;
                        appending = true;
                    }
                }
                offered += batch.len() as u64;
                if !appending {
                    // In key order the key index grows in runs instead of at random places.
                    batch.sort_unstable_by(|x, y| (&x.0.source_id, &x.0.source).cmp(&(&y.0.source_id, &y.0.source)));
                }
                for (a, m) in &batch {
                    let at = rows::timestamp_text(a.at, &mut stamp_buf);
                    repeated.bind(&mut st, a, m)?;
                    st.raw_bind_parameter(2, &a.source_id)?;
                    st.raw_bind_parameter(3, &at)?;
                    st.raw_bind_parameter(4, &a.kind)?;
                    st.raw_bind_parameter(5, &a.email)?;
                    st.raw_bind_parameter(9, &m.account)?;
                    let new = st.raw_execute()?;
                    added += new as u64;
                    if let (1, Some(crm), Some(since)) = (new, &m.account, &recent_since) {
                        if at.as_ref() >= since.as_str() {
                            let packed = copies.entry(crm.clone()).or_default();
                            abm_core::packing::put_activity(packed, &a.view());
                        }
                    }
                }
            }
        }
        for (crm, packed) in &copies {
            add_to_recent(&tx, crm, packed)?;
        }
        if without_index {
            // The index builds below sort ten million rows: a helper thread sorts half, in
            // small runs.
            tx.pragma_update(None, "threads", 1)?;
            tx.pragma_update(None, "cache_size", INDEX_BUILD_CACHE_KIB)?;
        }
        if appending {
            const KEY_INDEX: &str = "CREATE UNIQUE INDEX activities_key ON activities (source_id, source)";
            if let Err(e) = tx.execute(KEY_INDEX, []) {
                if e.sqlite_error_code() != Some(rusqlite::ErrorCode::ConstraintViolation) {
                    return Err(e.into());
                }
                // The file repeats some activities (same source and source id): the first of
                // each stays, as a write into a table with the key would have kept it.
                let repeats = tx.execute(
                    "DELETE FROM activities WHERE rowid NOT IN \
                     (SELECT min(rowid) FROM activities GROUP BY source, source_id)",
                    [],
                )?;
                added -= repeats as u64;
                tx.execute(KEY_INDEX, [])?;
            }
        }
        if without_index {
            if account_index && !appending {
                tx.execute(ACCOUNT_INDEX, [])?;
            }
            tx.pragma_update(None, "threads", 0)?;
            tx.pragma_update(None, "cache_size", CACHE_KIB)?;
        }
        if appending {
            // A load of history is gigabytes of log, when it goes through the log.
            let committed = commit_big(tx);
            self.copy_log_aside(committed)?;
        } else {
            tx.commit()?;
        }
        Ok(crate::ActivityWrite::counted(offered, added, into_empty))
    }

    fn write_accounts_tx(
        &mut self,
        w: &AccountWrite,
        source: &mut dyn AccountSource,
        progress: Progress<'_>,
        bulk: bool,
        [insert, upsert, rollup]: [&str; 3],
    ) -> Result<WriteSummary> {
        let n = sql::ACCOUNT_COLUMNS.len();
        let mut summary = WriteSummary::default();
        let tx = self.conn.transaction()?;
        // A bulk load is much faster with the secondary indexes built once at the end (sorted)
        // than maintained row by row (random inserts). Dropping and re-creating them happens in
        // this transaction, so a crash leaves the old indexes in place.
        let rebuild = match bulk {
            true => drop_indexes(&tx, &["accounts", "account_domains"])?,
            false => Vec::new(),
        };
        {
            let mut ins = tx.prepare_cached(insert)?;
            let mut up = tx.prepare_cached(upsert)?;
            let mut del_domains = tx.prepare_cached("DELETE FROM account_domains WHERE crm_id = ?1")?;
            let mut ins_domain = tx.prepare_cached(
                "INSERT OR IGNORE INTO account_domains (crm_id, domain, is_primary) VALUES (?1, ?2, ?3)",
            )?;
            let mut stored_attrs = tx.prepare_cached("SELECT attributes FROM accounts WHERE crm_id = ?1")?;
            let mut up_rollup = tx.prepare_cached(rollup)?;
            let mut done = 0u64;
            loop {
                let batch = source.next_batch().map_err(StoreError::Source)?;
                if batch.is_empty() {
                    break;
                }
                for (rec, facts) in &batch {
                    let id = rec.crm_id.as_str();
                    let existed = w.existing.contains(id);
                    // New accounts are plain inserts; stored ones are upserts that skip unchanged rows.
                    let st = if existed { &mut up } else { &mut ins };
                    // Values from sources not in this import are kept.
                    let attributes = if existed {
                        let text: String = stored_attrs.query_row([id], |r| r.get(0))?;
                        let stored = sql::decode_attributes(&text).map_err(StoreError::Corrupt)?;
                        sql::encode_attributes(&merge_attribute_values(&stored, &rec.attributes))
                    } else if is_canonical(&rec.attributes) {
                        sql::encode_attributes(&rec.attributes)
                    } else {
                        sql::encode_attributes(&merge_attribute_values(&[], &rec.attributes))
                    };
                    for (i, c) in sql::account_cells(rec, facts, &attributes).iter().enumerate() {
                        st.raw_bind_parameter(i + 1, c)?;
                    }
                    st.raw_bind_parameter(n + 1, w.at.as_str())?;
                    let changed = st.raw_execute()?;
                    match (existed, changed) {
                        (false, _) => summary.inserted += 1,
                        (true, 0) => summary.unchanged += 1,
                        (true, _) => summary.updated += 1,
                    }
                    if existed {
                        del_domains.execute([id])?;
                    }
                    for (j, d) in rec.domains.iter().enumerate() {
                        ins_domain.execute(params![id, d.as_str(), j == 0])?;
                    }
                    done += 1;
                    if done % PROGRESS_EVERY == 0 {
                        progress(done);
                    }
                }
                source.recycle(batch);
            }
            let late = source.late_rollups().map_err(StoreError::Source)?;
            for (id, facts) in w.rollup_updates.iter().chain(late.iter()) {
                let mut cells = sql::rollup_cells(facts);
                cells.push(Cell::Text(Some(&w.at)));
                cells.push(Cell::Text(Some(id)));
                up_rollup.execute(rusqlite::params_from_iter(cells.iter()))?;
            }
            progress(done);
        }
        make_indexes(&tx, &rebuild)?;
        tx.commit()?;
        Ok(summary)
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn schema_version(&mut self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| {
                r.get(0)
            })?)
    }

    fn hierarchy_rows(&mut self) -> Result<Vec<abm_core::hierarchy::StoredMember>> {
        let mut st = self.conn.prepare(HIERARCHY_SELECT)?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(read_hierarchy_row!(r, ?));
        }
        Ok(out)
    }

    fn write_accounts(
        &mut self,
        w: &AccountWrite,
        source: &mut dyn AccountSource,
        progress: Progress<'_>,
    ) -> Result<WriteSummary> {
        let n = sql::ACCOUNT_COLUMNS.len();
        let placeholders: Vec<String> = (1..=n + 1).map(|i| format!("?{i}")).collect();
        let upsert = format!(
            "INSERT INTO accounts ({}, created_at, updated_at) VALUES ({}, ?{}) {}",
            sql::column_list(),
            placeholders.join(", "),
            n + 1,
            sql::upsert_tail("IS NOT")
        );
        let k = sql::ROLLUP_COLUMNS.len();
        let rollup_set: Vec<String> = sql::ROLLUP_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect();
        let rollup_cmp: Vec<String> = (1..=k).map(|i| format!("?{i}")).collect();
        let rollup = format!(
            "UPDATE accounts SET {}, updated_at = ?{} WHERE crm_id = ?{} AND ({}) IS NOT ({})",
            rollup_set.join(", "),
            k + 1,
            k + 2,
            sql::ROLLUP_COLUMNS.join(", "),
            rollup_cmp.join(", ")
        );
        let stored: i64 = self.conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?;
        let bulk = w.expected_records >= BULK_ROWS && w.expected_records as i64 >= stored;
        // A bulk load into a small database is written once with a rollback journal (new pages need
        // no journaling) instead of twice through the WAL. The switch needs exclusive use of the
        // file; when another connection holds it open the WAL is kept. Either way a killed process
        // leaves the database as it was before the transaction.
        let journal_switched = bulk && self.set_journal_mode("TRUNCATE")?;
        // Each domain and attribute row would look its account up again to check the foreign
        // key; in a bulk load the account row is written just before them, in this transaction.
        if bulk {
            self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        }
        let insert = format!(
            "INSERT INTO accounts ({}, created_at, updated_at) VALUES ({}, ?{})",
            sql::column_list(),
            placeholders.join(", "),
            n + 1
        );
        let result = self.write_accounts_tx(w, source, progress, bulk, [&insert, &upsert, &rollup]);
        if bulk {
            self.conn.pragma_update(None, "foreign_keys", "ON")?;
        }
        if journal_switched {
            self.set_journal_mode("WAL")?;
        }
        result
    }

    fn list_accounts(&mut self, q: &AccountQuery) -> Result<AccountPage> {
        let (filter, params) = sql::account_filter(q, |i| format!("?{i}"), "LIKE");
        let total: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM accounts a {filter}"),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        let select = sql::summary_select(DOMAINS_AGG, |c| c.to_string());
        let limit = q.limit.map(|l| l as i64).unwrap_or(-1);
        let mut st = self.conn.prepare(&format!(
            "SELECT {select} FROM accounts a {filter} ORDER BY lower(a.name), a.crm_id LIMIT {limit} OFFSET {}",
            q.offset
        ))?;
        let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
        let mut accounts = Vec::new();
        while let Some(r) = rows.next()? {
            accounts.push(read_account_row!(r, ?).summary);
        }
        Ok(AccountPage {
            total: total as u64,
            offset: q.offset,
            accounts,
        })
    }

    fn get_account(&mut self, crm_id: &str) -> Result<Option<AccountDetail>> {
        let select = sql::summary_select(DOMAINS_AGG, |c| c.to_string());
        let found = self
            .conn
            .prepare_cached(&format!("SELECT {select} FROM accounts a WHERE a.crm_id = ?1"))?
            .query_row([crm_id], |r| Ok(read_account_row!(r, ?)))
            .optional()?;
        let Some(mut detail) = found else {
            return Ok(None);
        };
        let text: String = self
            .conn
            .prepare_cached("SELECT attributes FROM accounts WHERE crm_id = ?1")?
            .query_row([crm_id], |r| r.get(0))?;
        detail.attributes = sql::decode_attributes(&text).map_err(StoreError::Corrupt)?;
        let mut st = self.conn.prepare_cached(&format!(
            "{FAMILY_SELECT} ?1 ORDER BY (crm_id = ultimate_parent_id) DESC, lower(name), crm_id"
        ))?;
        let mut rows = st.query([&detail.summary.ultimate_parent_id])?;
        while let Some(r) = rows.next()? {
            let employees: Option<i64> = r.get(3)?;
            detail.family.push(FamilyMember {
                crm_id: r.get(0)?,
                name: r.get(1)?,
                parent_id: r.get(2)?,
                employees: employees.map(|e| e as u32),
                carr: cents_to_f64(r.get(4)?),
            });
        }
        let mut st = self.conn.prepare_cached(PEOPLE_SELECT)?;
        let mut rows = st.query([crm_id])?;
        while let Some(r) = rows.next()? {
            detail
                .people
                .push(read_person(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
        }
        Ok(Some(detail))
    }

    fn domain_claims(&mut self) -> Result<Vec<DomainClaim>> {
        let mut st = self.conn.prepare(sql::DOMAIN_CLAIMS)?;
        let rows = st.query_map([], read_claim)?;
        collect_counted(&self.conn, "account_domains", rows)
    }

    fn domain_claims_for(&mut self, domains: &[String]) -> Result<Vec<DomainClaim>> {
        // No index leads from a domain to its accounts (migration 15): the domain rows are
        // read once and looked up here. Asked in SQL (`domain IN (…)`), each of a million rows
        // was a search of the list's B-tree: a quarter of a second for the domains of a
        // thousand new activities; with a hash set here, a fifth of that.
        let wanted: std::collections::HashSet<&str, abm_core::paid::FxBuild> =
            domains.iter().map(String::as_str).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut claims = Vec::new();
        let mut st = self.conn.prepare("SELECT domain, crm_id FROM account_domains")?;
        let mut found = st.query([])?;
        while let Some(r) = found.next()? {
            let domain = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            if wanted.contains(domain) {
                claims.push(DomainClaim {
                    domain: domain.to_string(),
                    crm_id: r.get(1)?,
                    people: 0,
                });
            }
        }
        let mut people = self
            .conn
            .prepare_cached("SELECT count(*) FROM people WHERE crm_id = ?1")?;
        for c in &mut claims {
            c.people = people.query_row([&c.crm_id], |r| r.get::<_, i64>(0))? as u64;
        }
        Ok(claims)
    }

    fn accounts_among(&mut self, ids: &[String]) -> Result<Vec<String>> {
        let list = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut st = self
            .conn
            .prepare("SELECT crm_id FROM accounts WHERE crm_id IN (SELECT value FROM json_each(?1))")?;
        let rows = st.query_map([list], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn write_people(&mut self, people: &[PersonRow], progress: Progress<'_>) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let tx = self.conn.transaction()?;
        {
            let mut find = tx.prepare_cached("SELECT crm_id FROM people WHERE person_id = ?1")?;
            let mut moved = tx.prepare_cached("DELETE FROM people WHERE person_id = ?1 AND crm_id <> ?2")?;
            let mut up = tx.prepare_cached(PEOPLE_UPSERT_SQLITE)?;
            for (i, p) in people.iter().enumerate() {
                let account = p.crm_id.clone().unwrap_or_default();
                let existed: Option<String> = find.query_row([&p.person_id], |r| r.get(0)).optional()?;
                moved.execute(params![p.person_id, account])?;
                let changed = up.execute(params![
                    account,
                    p.person_id,
                    p.email,
                    p.first_name,
                    p.last_name,
                    p.title,
                    p.link_method,
                    p.at
                ])?;
                match (existed.is_some(), changed) {
                    (false, _) => summary.inserted += 1,
                    (true, 0) => summary.unchanged += 1,
                    (true, _) => summary.updated += 1,
                }
                if (i as u64 + 1) % PROGRESS_EVERY == 0 {
                    progress((i + 1) as u64);
                }
            }
        }
        tx.commit()?;
        progress(people.len() as u64);
        Ok(summary)
    }

    fn counts(&mut self) -> Result<StoreCounts> {
        let c = |conn: &Connection, t: &str| -> Result<u64> {
            Ok(conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get::<_, i64>(0))? as u64)
        };
        let other: [i64; 5] = self.conn.query_row(&format!("SELECT {OTHER_COUNTS}"), [], |r| {
            Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])
        })?;
        Ok(StoreCounts {
            accounts: c(&self.conn, "accounts")?,
            domains: c(&self.conn, "account_domains")?,
            attributes: c(&self.conn, "accounts, json_each(accounts.attributes)")?,
            people: c(&self.conn, "people")?,
            requests: other[0] as u64,
            activities: other[1] as u64,
            opportunities: other[2] as u64,
            ad_facts: other[3] as u64,
            list_versions: other[4] as u64,
        })
    }

    fn put_team_member(&mut self, m: &TeamMember, audit: &AuditEntry) -> Result<Option<TeamMember>> {
        let tx = self.conn.transaction()?;
        let before = tx
            .query_row(
                "SELECT username, name, role FROM team_members WHERE username = ?1",
                [&m.username],
                team_row,
            )
            .optional()?
            .transpose()?;
        tx.execute(
            "INSERT INTO team_members (username, name, role, added_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (username) DO UPDATE SET name = excluded.name, role = excluded.role",
            params![m.username, m.name, m.role.as_str(), stamp(audit.at)],
        )?;
        insert_audit(&tx, std::slice::from_ref(audit))?;
        tx.commit()?;
        Ok(before)
    }

    fn team(&mut self) -> Result<Vec<TeamMember>> {
        let mut st = self
            .conn
            .prepare("SELECT username, name, role FROM team_members ORDER BY username")?;
        let rows = st.query_map([], team_row)?;
        rows.map(|r| r?).collect()
    }

    fn insert_request(&mut self, r: &Request, audit: &[AuditEntry]) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let id = insert_request(&tx, r)?;
        insert_audit(&tx, &rows::with_request_id(audit, id).collect::<Vec<_>>())?;
        tx.commit()?;
        Ok(id)
    }

    fn update_request(&mut self, r: &Request, audit: &[AuditEntry]) -> Result<()> {
        let tx = self.conn.transaction()?;
        update_request(&tx, r, r.id, Some(r.version))?;
        insert_audit(&tx, audit)?;
        tx.commit()?;
        Ok(())
    }

    fn get_request(&mut self, id: i64) -> Result<Option<Request>> {
        self.conn
            .query_row("SELECT id, version, doc FROM requests WHERE id = ?1", [id], request_row)
            .optional()?
            .transpose()
    }

    fn each_request(&mut self, q: &RequestQuery, f: &mut dyn FnMut(Request)) -> Result<()> {
        let (sql, args) = rows::list_sql(q, |n| format!("?{n}"));
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            f(request_row(row)??);
        }
        Ok(())
    }

    fn append_audit(&mut self, entries: &[AuditEntry]) -> Result<()> {
        let tx = self.conn.transaction()?;
        insert_audit(&tx, entries)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_log(&mut self, request_id: i64) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare(
            "SELECT request_id, at, actor, action, field, before, after, note, refused FROM audit_log \
             WHERE request_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([request_id], |row| {
            Ok((
                row.get::<_, Option<i64>>(0)?,
                row.get::<_, String>(1)?,
                AuditEntry {
                    request_id: None,
                    at: chrono::DateTime::UNIX_EPOCH,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    field: row.get(4)?,
                    before: row.get(5)?,
                    after: row.get(6)?,
                    note: row.get(7)?,
                    refused: row.get(8)?,
                },
            ))
        })?;
        rows.map(|r| {
            let (id, at, e) = r?;
            Ok(AuditEntry {
                request_id: id,
                at: rows::parse_timestamp(&at)?,
                ..e
            })
        })
        .collect()
    }

    fn import_requests(&mut self, requests: &[ImportedRequest], progress: Progress<'_>) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let tx = self.conn.transaction()?;
        for (i, imp) in requests.iter().enumerate() {
            let r = &imp.request;
            let existing = tx
                .query_row(
                    "SELECT id, version, doc FROM requests WHERE external_id = ?1",
                    [&r.external_id],
                    request_row,
                )
                .optional()?
                .transpose()?;
            match existing {
                None => {
                    let id = insert_request(&tx, r)?;
                    insert_audit(&tx, &rows::with_request_id(&imp.history, id).collect::<Vec<_>>())?;
                    summary.inserted += 1;
                }
                Some(old) if rows::same_content(&old, r) => summary.unchanged += 1,
                Some(old) => {
                    update_request(&tx, r, old.id, None)?;
                    insert_audit(&tx, &[rows::reimport_entry(r, old.id)])?;
                    summary.updated += 1;
                }
            }
            if (i as u64 + 1) % PROGRESS_EVERY == 0 {
                progress(i as u64 + 1);
            }
        }
        tx.commit()?;
        progress(requests.len() as u64);
        Ok(summary)
    }

    fn save_icp_version(&mut self, definition: &str, author: &str, at: DateTime<Utc>) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let v: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM icp_versions", [], |r| {
            r.get(0)
        })?;
        tx.execute(
            "INSERT INTO icp_versions (version, created_at, author, definition) VALUES (?1, ?2, ?3, ?4)",
            params![v, stamp(at), author, definition],
        )?;
        tx.commit()?;
        Ok(v)
    }

    fn icp_versions(&mut self) -> Result<Vec<IcpVersion>> {
        let mut st = self.conn.prepare(rows::ICP_VERSIONS)?;
        let rows = st.query_map([], read_version)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn activate_icp(&mut self, version: i64, actor: &str, at: DateTime<Utc>, fits: &[StoredFit]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO icp_activations (version, at, actor) VALUES (?1, ?2, ?3)",
            params![version, stamp(at), actor],
        )?;
        tx.execute("DELETE FROM icp_scores", [])?;
        {
            let mut st =
                tx.prepare("INSERT INTO icp_scores (crm_id, version, icp, score, grade) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for f in fits {
                st.execute(params![f.crm_id, f.version, f.icp as i64, f.score, f.grade])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn each_scoring_input(&mut self, f: &mut dyn FnMut(ScoringInput)) -> Result<()> {
        let mut st = self.conn.prepare(&rows::scoring_select("attributes"))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let text: String = r.get(13)?;
            let employees: Option<i64> = r.get(3)?;
            f(ScoringInput {
                crm_id: r.get(0)?,
                name: r.get(14)?,
                ultimate_parent_id: r.get(1)?,
                segment: r.get(2)?,
                family_max_employees: employees.map(|e| e as u32),
                first_order_available: r.get(4)?,
                family_carr_cents: r.get(5)?,
                account_type: r.get(6)?,
                industry: r.get(7)?,
                geo: r.get(8)?,
                account_rank: r.get(9)?,
                gtm_strategy: r.get(10)?,
                new_logo_target: r.get(11)?,
                annual_revenue_cents: r.get(12)?,
                attributes: sql::decode_attributes(&text).map_err(StoreError::Corrupt)?,
            });
        }
        Ok(())
    }

    fn account_types(&mut self) -> Result<Vec<(String, Option<String>)>> {
        let mut st = self
            .conn
            .prepare("SELECT crm_id, account_type FROM accounts ORDER BY crm_id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        collect_counted(&self.conn, "accounts", rows)
    }

    fn account_ids(&mut self) -> Result<Vec<String>> {
        // From the key's index alone, a fraction of the table's bytes.
        let mut st = self.conn.prepare("SELECT crm_id FROM accounts ORDER BY crm_id")?;
        let rows = st.query_map([], |r| r.get(0))?;
        collect_counted(&self.conn, "accounts", rows)
    }

    fn fits(&mut self) -> Result<Vec<StoredFit>> {
        let mut st = self
            .conn
            .prepare("SELECT crm_id, version, icp, score, grade FROM icp_scores ORDER BY crm_id")?;
        let rows = st.query_map([], |r| {
            Ok(StoredFit {
                crm_id: r.get(0)?,
                version: r.get(1)?,
                icp: r.get::<_, i64>(2)? != 0,
                score: r.get(3)?,
                grade: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn save_list_version(&mut self, list: &ListVersion) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let v: i64 = tx.query_row("SELECT COALESCE(MAX(version), 0) + 1 FROM list_versions", [], |r| {
            r.get(0)
        })?;
        let doc = rows::to_json(
            "list",
            &ListVersion {
                version: v,
                published: None,
                ..list.clone()
            },
        )?;
        tx.execute(
            "INSERT INTO list_versions (version, created_at, doc) VALUES (?1, ?2, ?3)",
            params![v, stamp(list.created_at), doc],
        )?;
        tx.commit()?;
        Ok(v)
    }

    fn list_versions(&mut self) -> Result<Vec<ListVersion>> {
        let mut st = self.conn.prepare("SELECT doc FROM list_versions ORDER BY version")?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        docs.iter().map(|d| rows::from_json("list", d)).collect()
    }

    fn publish_list(&mut self, version: i64, by: &str, at: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        let found: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT doc, published_at FROM list_versions WHERE version = ?1",
                [version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (doc, published) = found.ok_or_else(|| StoreError::NotFound(format!("list version {version}")))?;
        if published.is_some() {
            return Err(StoreError::Conflict(format!(
                "list version {version} (already published)"
            )));
        }
        let mut list: ListVersion = rows::from_json("list", &doc)?;
        list.published = Some((at, by.to_string()));
        tx.execute(
            "UPDATE list_versions SET published_at = ?1, doc = ?2 WHERE version = ?3 AND published_at IS NULL",
            params![stamp(at), rows::to_json("list", &list)?, version],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn add_nomination(&mut self, n: &Nomination) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO nominations (crm_id, decided, doc) VALUES (?1, ?2, '{}')",
            params![n.crm_id, n.decision.is_some()],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE nominations SET doc = ?1 WHERE id = ?2",
            params![rows::to_json("nomination", &Nomination { id, ..n.clone() })?, id],
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn decide_nomination(&mut self, n: &Nomination) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE nominations SET decided = 1, doc = ?1 WHERE id = ?2 AND decided = 0",
            params![rows::to_json("nomination", n)?, n.id],
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
        let mut st = self.conn.prepare("SELECT doc FROM nominations ORDER BY id")?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        docs.iter().map(|d| rows::from_json("nomination", d)).collect()
    }

    fn set_flag(&mut self, crm_id: &str, flag: Option<(&str, &str)>, at: DateTime<Utc>) -> Result<()> {
        match flag {
            None => self.conn.execute("DELETE FROM list_flags WHERE crm_id = ?1", [crm_id])?,
            Some((reason, by)) => self.conn.execute(
                "INSERT INTO list_flags (crm_id, reason, flagged_by, at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (crm_id) DO UPDATE SET reason = excluded.reason, flagged_by = excluded.flagged_by, at = excluded.at",
                params![crm_id, reason, by, stamp(at)],
            )?,
        };
        Ok(())
    }

    fn flags(&mut self) -> Result<Vec<(String, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT crm_id, reason FROM list_flags ORDER BY crm_id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn replace_ad_facts(
        &mut self,
        platform: &str,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
        facts: &[AdFact],
    ) -> Result<(u64, u64)> {
        let tx = self.conn.transaction()?;
        let deleted = tx.execute(
            "DELETE FROM ad_facts WHERE platform = ?1 AND account = ?2 AND date_from >= ?3 AND date_to <= ?4",
            params![platform, account, from.to_string(), to.to_string()],
        )?;
        {
            let mut st = tx.prepare(
                "INSERT INTO ad_facts (platform, account, campaign, ad_group, ad, date_from, date_to, currency, spend_micros, \
                 impressions, clicks, conversions_milli, leads, reach, utm) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?;
            // Facts share their UTM maps (one per URL and campaign) and days: each is written
            // out once, not once per fact.
            let mut utm_json: std::collections::HashMap<*const std::collections::BTreeMap<String, String>, String> =
                Default::default();
            let mut day_text: std::collections::HashMap<NaiveDate, String> = Default::default();
            for f in facts {
                let key = std::sync::Arc::as_ptr(&f.utm);
                if !utm_json.contains_key(&key) {
                    utm_json.insert(key, rows::to_json("utm", &f.utm)?);
                }
                for d in [f.date_from, f.date_to] {
                    day_text.entry(d).or_insert_with(|| d.to_string());
                }
                st.execute(params![
                    f.platform,
                    f.account,
                    f.campaign,
                    f.ad_group,
                    f.ad,
                    day_text[&f.date_from],
                    day_text[&f.date_to],
                    f.currency,
                    f.spend_micros,
                    f.impressions,
                    f.clicks,
                    f.conversions_milli,
                    f.leads,
                    f.reach,
                    utm_json[&key]
                ])?;
            }
        }
        tx.commit()?;
        Ok((deleted as u64, facts.len() as u64))
    }

    fn ad_facts(&mut self) -> Result<Vec<AdFact>> {
        let mut st = self.conn.prepare(
            "SELECT platform, account, campaign, ad_group, ad, date_from, date_to, currency, spend_micros, impressions, \
             clicks, conversions_milli, leads, reach, utm FROM ad_facts ORDER BY date_from, platform, account, campaign, ad_group, ad",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let day = |i: usize| -> Result<NaiveDate> {
                let s: String = r.get(i)?;
                rows::parse_day(&s)
            };
            let utm: String = r.get(14)?;
            out.push(AdFact {
                platform: r.get(0)?,
                account: r.get(1)?,
                campaign: r.get(2)?,
                ad_group: r.get(3)?,
                ad: r.get(4)?,
                date_from: day(5)?,
                date_to: day(6)?,
                currency: r.get(7)?,
                spend_micros: r.get(8)?,
                impressions: r.get(9)?,
                clicks: r.get(10)?,
                conversions_milli: r.get(11)?,
                leads: r.get(12)?,
                reach: r.get(13)?,
                utm: rows::from_json("utm", &utm)?,
            });
        }
        Ok(out)
    }

    fn replace_budget(&mut self, lines: &[BudgetLine]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM budget_lines", [])?;
        for l in lines {
            tx.execute(
                "INSERT INTO budget_lines (line_key, doc) VALUES (?1, ?2)",
                params![l.key(), rows::to_json("budget line", l)?],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn budget(&mut self) -> Result<Vec<BudgetLine>> {
        let mut st = self.conn.prepare("SELECT doc FROM budget_lines ORDER BY line_key")?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        docs.iter().map(|d| rows::from_json("budget line", d)).collect()
    }

    fn insert_activity_batches(&mut self, next: crate::ActivityBatches<'_>) -> Result<crate::ActivityWrite> {
        // A first load of history (the store holds no activity) is written once, with a
        // rollback journal: its rows go into new pages, which need no journaling, instead of
        // into the log and then again into the database. Into a newly made file that halved the
        // kernel's copying for ten million activities (9-13 s of system time down to 4-5 s). As
        // for a bulk load of accounts, only when no other connection has the file open; while
        // switched, commits sync fully, so a power cut cannot leave a half-written page.
        // The copy of every activity and the journeys that follow a first load go into new
        // pages too: the store stays off the log until the journeys are stored
        // (`replace_journeys_in_runs`, `replace_journeys`), or the store is dropped. Any other
        // load goes back to the log first.
        let first = !any_activity(&self.conn)?;
        if !first {
            self.back_to_log()?;
        }
        let switched = first && self.set_journal_mode("TRUNCATE")?;
        if switched {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        self.insert_activities(next)
    }

    fn holds_activities(&mut self) -> Result<bool> {
        any_activity(&self.conn)
    }

    fn wants_every_activity_copied(&mut self) -> Result<bool> {
        Ok(!copies_every_activity(&self.conn)? && !has_account_index(&self.conn)?)
    }

    fn activities_of_kind(&mut self, kind: &str) -> Result<Vec<(String, Activity)>> {
        let mut out = Vec::new();
        select_activities(
            &self.conn,
            "kind = ?1 AND crm_id IS NOT NULL",
            kind,
            "at, source_id",
            &mut |c, a| out.push((c, a)),
        )?;
        Ok(out)
    }

    fn activities_of(&mut self, crm_id: &str) -> Result<Vec<Activity>> {
        if let Some(copied) = copied_since(&self.conn, crm_id, crate::all_history())? {
            return Ok(copied);
        }
        let mut out = Vec::new();
        select_activities(&self.conn, "crm_id = ?1", crm_id, "at, source_id", &mut |_, a| {
            out.push(a)
        })?;
        Ok(out)
    }

    fn activities_since(&mut self, crm_id: &str, since: NaiveDate) -> Result<Vec<Activity>> {
        if let Some(copied) = copied_since(&self.conn, crm_id, since)? {
            return Ok(copied);
        }
        // Stored as `YYYY-MM-DDTHH:MM:SS…Z` in UTC: every time on or after the day sorts at or
        // after the bare date.
        let mut out = Vec::new();
        select_activities(
            &self.conn,
            &format!("crm_id = ?1 AND at >= '{}'", since.format("%Y-%m-%d")),
            crm_id,
            "at, source_id",
            &mut |_, a| out.push(a),
        )?;
        Ok(out)
    }

    fn each_matched_activity(&mut self, f: &mut dyn FnMut(String, Activity)) -> Result<()> {
        select_activities(
            &self.conn,
            // `+`: a plain scan of the table, not a walk of the crm_id index.
            "+crm_id IS NOT NULL AND ?1 = ?1",
            "",
            "",
            f,
        )
    }

    fn each_matched_activity_lent(
        &mut self,
        f: &mut dyn FnMut(&str, abm_core::activity::ActivityView<'_>),
    ) -> Result<()> {
        if copies_every_activity(&self.conn)? {
            // The copy of every activity: a fifth of the table's bytes, packed by account.
            let mut st = self.conn.prepare("SELECT crm_id, activities FROM recent_activities")?;
            let mut found = st.query([])?;
            while let Some(r) = found.next()? {
                let crm = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                let packed = r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                abm_core::packing::each_lent(packed, &mut |a| f(crm, a)).map_err(|e| damaged_copy(crm, e))?;
            }
            return Ok(());
        }
        // `+`: a plain scan of the table, not a walk of the crm_id index.
        let mut st = self
            .conn
            .prepare_cached(&format!("{} WHERE +crm_id IS NOT NULL", rows::ACTIVITY_SELECT))?;
        let mut found = st.query([])?;
        while let Some(r) = found.next()? {
            lend_activity(r, |crm, a| f(crm.unwrap_or_default(), a))?;
        }
        Ok(())
    }

    fn journey_facts(&mut self, crm_ids: &[String]) -> Result<Vec<JourneyFacts>> {
        let mut by_id: std::collections::HashMap<String, JourneyFacts> = std::collections::HashMap::new();
        for chunk in crm_ids.chunks(IN_CHUNK) {
            let list = in_list(chunk.len());
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT a.crm_id, a.account_type, s.score FROM accounts a LEFT JOIN icp_scores s ON s.crm_id = a.crm_id \
                 WHERE a.crm_id IN ({list})"
            ))?;
            let mut found = st.query(rusqlite::params_from_iter(chunk))?;
            while let Some(r) = found.next()? {
                let crm: String = r.get(0)?;
                by_id.insert(
                    crm.clone(),
                    JourneyFacts {
                        crm_id: crm,
                        account_type: r.get(1)?,
                        fit: r.get(2)?,
                        titles: vec![],
                        opportunities: vec![],
                    },
                );
            }
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT crm_id, lower(email), title FROM people WHERE crm_id IN ({list}) \
                 AND email IS NOT NULL AND title IS NOT NULL ORDER BY person_id"
            ))?;
            let mut found = st.query(rusqlite::params_from_iter(chunk))?;
            while let Some(r) = found.next()? {
                let crm: String = r.get(0)?;
                if let Some(f) = by_id.get_mut(&crm) {
                    f.titles.push((r.get(1)?, r.get(2)?));
                }
            }
            let mut st = self.conn.prepare_cached(&format!(
                "SELECT crm_id, doc FROM opportunities WHERE crm_id IN ({list}) ORDER BY id"
            ))?;
            let mut found = st.query(rusqlite::params_from_iter(chunk))?;
            while let Some(r) = found.next()? {
                let crm: String = r.get(0)?;
                let doc: String = r.get(1)?;
                if let Some(f) = by_id.get_mut(&crm) {
                    f.opportunities.push(rows::from_json("opportunity", &doc)?);
                }
            }
        }
        Ok(crm_ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    fn activities_of_since(&mut self, crm_ids: &[String], since: NaiveDate) -> Result<Vec<(String, Activity)>> {
        let mut out = Vec::new();
        let day = since.format("%Y-%m-%d").to_string();
        // The copy clustered by account holds them all when it starts no later than `since`.
        let from_copy = recent_since(&self.conn)?.is_some_and(|from| from <= day);
        let start = since.and_time(chrono::NaiveTime::MIN).and_utc();
        for chunk in crm_ids.chunks(IN_CHUNK) {
            let list = in_list(chunk.len());
            if from_copy {
                let mut st = self.conn.prepare_cached(&format!(
                    "SELECT crm_id, activities FROM recent_activities WHERE crm_id IN ({list})"
                ))?;
                let mut found = st.query(rusqlite::params_from_iter(chunk))?;
                while let Some(r) = found.next()? {
                    let crm: String = r.get(0)?;
                    let packed = r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                    for a in unpack_recent(&crm, packed, start)? {
                        out.push((crm.clone(), a));
                    }
                }
                continue;
            }
            let mut st = self.conn.prepare_cached(&format!(
                "{} WHERE crm_id IN ({list}) AND at >= '{day}'",
                rows::ACTIVITY_SELECT
            ))?;
            let mut found = st.query(rusqlite::params_from_iter(chunk))?;
            while let Some(r) = found.next()? {
                out.push(read_activity(r)?);
            }
        }
        Ok(out)
    }

    fn journeys_of(&mut self, crm_ids: &[String]) -> Result<Vec<crate::Journey>> {
        let mut found = std::collections::HashMap::new();
        for chunk in crm_ids.chunks(IN_CHUNK) {
            let filter = format!("crm_id IN ({})", in_list(chunk.len()));
            found.extend(
                read_journeys(&self.conn, &filter, chunk)?
                    .into_iter()
                    .map(|j| (j.crm_id.clone(), j)),
            );
        }
        Ok(crm_ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    fn person_titles(&mut self) -> Result<Vec<(String, String, String)>> {
        let mut st = self.conn.prepare(
            "SELECT crm_id, lower(email), title FROM people WHERE email IS NOT NULL AND title IS NOT NULL ORDER BY crm_id, person_id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn keep_recent_activities(
        &mut self,
        since: NaiveDate,
        recent: &mut dyn Iterator<Item = (String, Vec<u8>)>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        // A copy of every activity stays: it stands in for the account index.
        if copies_every_activity(&tx)? {
            return Ok(());
        }
        // A copy that starts earlier holds every activity from `since` too (inserts keep it
        // whole): it stays, until what it holds before `since` is a month's worth.
        if let Some(from) = recent_since(&tx)?.and_then(|d| rows::parse_day(&d).ok()) {
            if from <= since && since - from < chrono::Duration::days(RECENT_STALE_DAYS) {
                return Ok(());
            }
        }
        if since != crate::all_history() && !has_account_index(&tx)? {
            // A copy of only the recent activities: reads of older ones need the index.
            tx.execute(ACCOUNT_INDEX, [])?;
        }
        tx.execute("DELETE FROM recent_activities", [])?;
        tx.execute(
            "INSERT INTO recent_activities_since (one, since) VALUES (1, ?1) \
             ON CONFLICT (one) DO UPDATE SET since = excluded.since",
            [since.format("%Y-%m-%d").to_string()],
        )?;
        {
            // In account order (as a replay gives them) each account is new; one met again is
            // added to.
            let mut put = tx.prepare("INSERT INTO recent_activities (crm_id, activities) VALUES (?1, ?2)")?;
            let mut last_put: Option<String> = None;
            for (crm, packed) in recent {
                if last_put.as_ref().is_none_or(|last| *last < crm) {
                    put.execute(params![crm, packed])?;
                    last_put = Some(crm);
                } else {
                    add_to_recent(&tx, &crm, &packed)?;
                }
            }
        }
        // A copy of every activity is most of a gigabyte: off the log after a first load, it is
        // written as the load was (see `insert_activity_batches`).
        let committed = commit_big(tx);
        self.copy_log_aside(committed)
    }

    fn replace_journeys(&mut self, journeys: &[crate::Journey]) -> Result<()> {
        let tx = self.conn.transaction()?;
        write_journeys(&tx, journeys)?;
        tx.commit()?;
        // The end of a first load, when the import's replay could not store them.
        self.back_to_log()
    }

    fn replace_journeys_in_runs(&mut self, next: crate::JourneyRuns<'_>) -> Result<()> {
        // Stored off the log after a first load (see `insert_activity_batches`), then back.
        let tx = self.conn.transaction()?;
        let indexes = clear_journeys(&tx)?;
        loop {
            let run = next().map_err(StoreError::Source)?;
            if run.is_empty() {
                break;
            }
            add_journeys(&tx, &run)?;
        }
        make_indexes(&tx, &indexes)?;
        tx.commit()?;
        self.back_to_log()
    }

    fn revise_journeys(&mut self, revised: &[(crate::Journey, Option<NaiveDate>)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            // In place: a resumed journey's row and its later stage changes are all that moved.
            let mut put_j = tx.prepare_cached(&format!(
                "{JOURNEY_INSERT} ON CONFLICT (crm_id) DO UPDATE SET base_stage = excluded.base_stage, \
                 through = excluded.through, scores = excluded.scores, stage = excluded.stage"
            ))?;
            let mut del_all = tx.prepare_cached("DELETE FROM journey_events WHERE crm_id = ?1")?;
            let mut del_from = tx.prepare_cached("DELETE FROM journey_events WHERE crm_id = ?1 AND day >= ?2")?;
            let mut put_e = tx.prepare_cached(EVENT_INSERT)?;
            let mut scores = Vec::new();
            for (j, since) in revised {
                put_journey(&mut put_j, j, &mut scores)?;
                match since {
                    Some(day) => del_from.execute(params![j.crm_id, day.to_string()])?,
                    None => del_all.execute([&j.crm_id])?,
                };
                for e in j.events.iter().filter(|e| since.is_none_or(|d| e.day >= d)) {
                    put_event(&mut put_e, e)?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn save_rules_version(&mut self, kind: &str, definition: &str, author: &str, at: DateTime<Utc>) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let v: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM rule_versions WHERE kind = ?1",
            [kind],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO rule_versions (kind, version, created_at, author, definition) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind, v, stamp(at), author, definition],
        )?;
        tx.commit()?;
        Ok(v)
    }

    fn rules_versions(&mut self, kind: &str) -> Result<Vec<RulesVersion>> {
        let mut st = self.conn.prepare(&rows::RULES_VERSIONS.replace("$1", "?1"))?;
        let rows = st.query_map([kind], read_version)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn activate_rules(
        &mut self,
        kind: &str,
        version: i64,
        actor: &str,
        at: DateTime<Utc>,
        journeys: &[crate::Journey],
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let known: i64 = tx.query_row(
            "SELECT count(*) FROM rule_versions WHERE kind = ?1 AND version = ?2",
            params![kind, version],
            |r| r.get(0),
        )?;
        if known == 0 {
            return Err(StoreError::NotFound(format!("{kind} rules version {version}")));
        }
        tx.execute(
            "INSERT INTO rule_activations (kind, seq, version, at, actor) \
             SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM rule_activations WHERE kind = ?1",
            params![kind, version, stamp(at), actor],
        )?;
        write_journeys(&tx, journeys)?;
        tx.commit()?;
        Ok(())
    }

    fn set_password(&mut self, username: &str, hash: &str, at: DateTime<Utc>) -> Result<()> {
        let known: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM team_members WHERE username = ?1)",
            [username],
            |r| r.get(0),
        )?;
        if !known {
            return Err(StoreError::NotFound(format!("team member {username}")));
        }
        self.conn.execute(
            "INSERT INTO user_passwords (username, hash, changed_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (username) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at",
            params![username, hash, stamp(at)],
        )?;
        Ok(())
    }

    fn sign_out_session(&mut self, nonce: &str, expires: i64, now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM signed_out_sessions WHERE expires < ?1", [now])?;
        tx.execute(
            "INSERT OR IGNORE INTO signed_out_sessions (nonce, expires) VALUES (?1, ?2)",
            params![nonce, expires],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn session_signed_out(&mut self, nonce: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM signed_out_sessions WHERE nonce = ?1)",
            [nonce],
            |r| r.get(0),
        )?)
    }

    fn password_hash(&mut self, username: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT hash FROM user_passwords WHERE username = ?1", [username], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn add_api_token(&mut self, t: &crate::ApiToken) -> Result<()> {
        let taken: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE username = ?1 AND label = ?2)",
            [&t.username, &t.label],
            |r| r.get(0),
        )?;
        if taken {
            return Err(StoreError::Conflict(format!(
                "{} already has a token labelled {:?}",
                t.username, t.label
            )));
        }
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, username, label, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![t.token_hash, t.username, t.label, stamp(t.created_at)],
        )?;
        Ok(())
    }

    fn token_owner(&mut self, token_hash: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT username FROM api_tokens WHERE token_hash = ?1",
                [token_hash],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn api_tokens(&mut self) -> Result<Vec<crate::ApiToken>> {
        let mut st = self
            .conn
            .prepare("SELECT token_hash, username, label, created_at FROM api_tokens ORDER BY username, label")?;
        let mut found = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = found.next()? {
            let at: String = r.get(3)?;
            out.push(crate::ApiToken {
                token_hash: r.get(0)?,
                username: r.get(1)?,
                label: r.get(2)?,
                created_at: rows::parse_timestamp(&at)?,
            });
        }
        Ok(out)
    }

    fn revoke_api_token(&mut self, username: &str, label: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM api_tokens WHERE username = ?1 AND label = ?2",
            [username, label],
        )? == 1)
    }

    fn data_version(&mut self) -> Result<String> {
        // data_version moves when another connection commits; total_changes counts this one's.
        let other: i64 = self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(format!("{other}:{}", self.conn.total_changes()))
    }

    fn server_secret(&mut self, name: &str, fresh: &str) -> Result<String> {
        self.conn.execute(
            "INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?1, ?2)",
            [name, fresh],
        )?;
        Ok(self
            .conn
            .query_row("SELECT value FROM server_secrets WHERE name = ?1", [name], |r| r.get(0))?)
    }

    fn record_firing(&mut self, f: &crate::Firing) -> Result<bool> {
        Ok(self.conn.execute(
            "INSERT OR IGNORE INTO automation_firings (automation, crm_id, day, action, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![f.automation, f.crm_id, f.day.to_string(), f.action, f.note],
        )? == 1)
    }

    fn firings(&mut self) -> Result<Vec<crate::Firing>> {
        let mut st = self.conn.prepare(
            "SELECT automation, crm_id, day, action, note FROM automation_firings ORDER BY automation, day, crm_id",
        )?;
        let mut found = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = found.next()? {
            let day: String = r.get(2)?;
            out.push(crate::Firing {
                automation: r.get(0)?,
                crm_id: r.get(1)?,
                day: rows::parse_day(&day)?,
                action: r.get(3)?,
                note: r.get(4)?,
            });
        }
        Ok(out)
    }

    fn journey_coverage(&mut self) -> Result<(u64, u64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM journeys)",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    fn journeys(&mut self, crm_id: Option<&str>) -> Result<Vec<crate::Journey>> {
        match crm_id {
            Some(id) => read_journeys(&self.conn, "crm_id = ?1", &[id]),
            None => read_journeys(&self.conn, "1 = 1", &[] as &[&str]),
        }
    }

    fn activity_summary(&mut self) -> Result<(Vec<(String, u64)>, Vec<(String, u64)>)> {
        let mut st = self
            .conn
            .prepare("SELECT method, count(*) FROM activities GROUP BY method ORDER BY method")?;
        let methods = st
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = self.conn.prepare(
            "SELECT why_not, count(*) FROM activities WHERE crm_id IS NULL GROUP BY why_not ORDER BY count(*) DESC, why_not",
        )?;
        let why = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, i64>(1)? as u64,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok((methods, why))
    }

    fn replace_ip_ranges(&mut self, ranges: &[(String, u32, u32, String)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM ip_ranges", [])?;
        {
            let mut st =
                tx.prepare("INSERT INTO ip_ranges (cidr, first_ip, last_ip, crm_id) VALUES (?1, ?2, ?3, ?4)")?;
            for (c, f, l, a) in ranges {
                st.execute(params![c, *f as i64, *l as i64, a])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn ip_ranges(&mut self) -> Result<Vec<(u32, u32, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT first_ip, last_ip, crm_id FROM ip_ranges ORDER BY first_ip")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)? as u32, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn upsert_opportunities(&mut self, opportunities: &[Opportunity]) -> Result<WriteSummary> {
        let mut summary = WriteSummary::default();
        let tx = self.conn.transaction()?;
        for o in opportunities {
            let doc = rows::to_json("opportunity", o)?;
            let old: Option<String> = tx
                .query_row("SELECT doc FROM opportunities WHERE id = ?1", [&o.id], |r| r.get(0))
                .optional()?;
            match old {
                Some(d) if rows::from_json::<Opportunity>("opportunity", &d)? == *o => summary.unchanged += 1,
                Some(_) => {
                    tx.execute(
                        "UPDATE opportunities SET crm_id = ?1, doc = ?2 WHERE id = ?3",
                        params![o.crm_id, doc, o.id],
                    )?;
                    summary.updated += 1;
                }
                None => {
                    tx.execute(
                        "INSERT INTO opportunities (id, crm_id, doc) VALUES (?1, ?2, ?3)",
                        params![o.id, o.crm_id, doc],
                    )?;
                    summary.inserted += 1;
                }
            }
        }
        tx.commit()?;
        Ok(summary)
    }

    fn opportunities(&mut self) -> Result<Vec<Opportunity>> {
        let mut st = self.conn.prepare("SELECT doc FROM opportunities ORDER BY id")?;
        let docs: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        docs.iter().map(|d| rows::from_json("opportunity", d)).collect()
    }

    fn add_update(&mut self, u: &TeamUpdate) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO team_updates (at, author, kind, text, link) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![stamp(u.at), u.author, u.kind.as_str(), u.text, u.link],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn updates(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<TeamUpdate>> {
        let mut st = self.conn.prepare(
            "SELECT id, at, author, kind, text, link FROM team_updates WHERE at >= ?1 AND at < ?2 ORDER BY at, id",
        )?;
        let rows = st.query_map([stamp(from), stamp(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (id, at, author, kind, text, link) = row?;
            Ok(TeamUpdate {
                id,
                at: rows::parse_timestamp(&at)?,
                author,
                kind: kind.parse().map_err(StoreError::Corrupt)?,
                text,
                link,
            })
        })
        .collect()
    }
}

const DOMAINS_AGG: &str = "(SELECT group_concat(domain, ' ') FROM (SELECT domain FROM account_domains d \
     WHERE d.crm_id = a.crm_id ORDER BY d.is_primary DESC, d.domain))";

const PEOPLE_UPSERT_SQLITE: &str =
    "INSERT INTO people (crm_id, person_id, email, first_name, last_name, title, link_method, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT (crm_id, person_id) DO UPDATE SET \
     email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name, title = excluded.title, \
     link_method = excluded.link_method, updated_at = excluded.updated_at \
     WHERE (people.email, people.first_name, people.last_name, people.title, people.link_method) IS NOT \
     (excluded.email, excluded.first_name, excluded.last_name, excluded.title, excluded.link_method)";

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    rows::format_timestamp(t)
}

fn team_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TeamMember>> {
    let role: String = row.get(2)?;
    Ok(match role.parse() {
        Ok(role) => Ok(TeamMember {
            username: row.get(0)?,
            name: row.get(1)?,
            role,
        }),
        Err(e) => Err(StoreError::Corrupt(format!("team member role: {e}"))),
    })
}

fn request_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Request>> {
    let doc: String = row.get(2)?;
    Ok(rows::from_doc(row.get(0)?, row.get(1)?, &doc))
}

/// A request's column values, in the order both INSERT and UPDATE bind them (?1 to ?9).
fn request_values(c: rows::RequestColumns<'_>) -> [Value; 9] {
    let text = |s: Option<String>| s.map_or(Value::Null, Value::Text);
    [
        text(c.external_id.map(str::to_string)),
        Value::Text(c.template.to_string()),
        text(c.status.map(str::to_string)),
        Value::Text(c.author.to_string()),
        text(c.assignee.map(str::to_string)),
        text(c.due_date.map(|d| d.to_string())),
        Value::Text(stamp(c.submitted_at)),
        text(c.closed_at.map(stamp)),
        Value::Text(c.doc),
    ]
}

fn insert_request(tx: &rusqlite::Transaction<'_>, r: &Request) -> Result<i64> {
    let c = rows::columns(r)?;
    tx.prepare_cached(
        "INSERT INTO requests (external_id, template, status, author, assignee, due_date, submitted_at, closed_at, doc, version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)",
    )?
    .execute(rusqlite::params_from_iter(request_values(c)))?;
    Ok(tx.last_insert_rowid())
}

/// Replace request `id`; with `expected` set, only if its version is still that one.
fn update_request(tx: &rusqlite::Transaction<'_>, r: &Request, id: i64, expected: Option<i64>) -> Result<()> {
    let c = rows::columns(r)?;
    let n = tx
        .prepare_cached(
            "UPDATE requests SET external_id = ?1, template = ?2, status = ?3, author = ?4, assignee = ?5, due_date = ?6, \
             submitted_at = ?7, closed_at = ?8, doc = ?9, version = version + 1 \
             WHERE id = ?10 AND (?11 IS NULL OR version = ?11)",
        )?
        .execute(rusqlite::params_from_iter(
            request_values(c).into_iter().chain([Value::Integer(id), expected.map_or(Value::Null, Value::Integer)]),
        ))?;
    if n == 0 {
        let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM requests WHERE id = ?1)", [id], |r| {
            r.get(0)
        })?;
        return Err(if exists {
            StoreError::Conflict(format!("request {id}"))
        } else {
            StoreError::NotFound(format!("request {id}"))
        });
    }
    Ok(())
}

fn insert_audit(tx: &rusqlite::Transaction<'_>, entries: &[AuditEntry]) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO audit_log (request_id, at, actor, action, field, before, after, note, refused) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for e in entries {
        st.execute(params![
            e.request_id,
            stamp(e.at),
            e.actor,
            e.action,
            e.field,
            e.before,
            e.after,
            e.note,
            e.refused
        ])?;
    }
    Ok(())
}

/// One row of `ICP_VERSIONS` or `RULES_VERSIONS`: a saved definition, in force or not.
fn read_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<IcpVersion> {
    Ok(IcpVersion {
        version: r.get(0)?,
        created_at: r.get(1)?,
        author: r.get(2)?,
        definition: r.get(3)?,
        active: r.get::<_, Option<bool>>(4)?.unwrap_or(false),
    })
}

/// Store journeys inside `tx` in place of every stored one.
fn write_journeys(tx: &rusqlite::Transaction, journeys: &[crate::Journey]) -> Result<()> {
    let indexes = clear_journeys(tx)?;
    add_journeys(tx, journeys)?;
    make_indexes(tx, &indexes)
}

/// Every stored journey and stage change gone, inside `tx`, and the tables' indexes with them:
/// what makes those again ([`make_indexes`]) once the journeys are in. A first load's million
/// journeys and their stage changes went in with the indexes kept up row by row (the stage
/// changes' by day at random places) in 2.4-2.6 s; built once after, in 1.8-2.1 s.
fn clear_journeys(tx: &rusqlite::Transaction) -> Result<Vec<String>> {
    tx.execute("DELETE FROM journeys", [])?;
    tx.execute("DELETE FROM journey_events", [])?;
    drop_indexes(tx, &["journeys", "journey_events"])
}

/// Run `creates` (what [`drop_indexes`] returned) inside `tx`.
fn make_indexes(tx: &rusqlite::Transaction, creates: &[String]) -> Result<()> {
    for create in creates {
        tx.execute_batch(create)?;
    }
    Ok(())
}

/// Drop the secondary indexes of `tables` inside `tx`; the statements that make them again.
fn drop_indexes(tx: &rusqlite::Transaction, tables: &[&str]) -> Result<Vec<String>> {
    let mut st = tx.prepare(&format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({})",
        in_list(tables.len())
    ))?;
    let indexes: Vec<(String, String)> = st
        .query_map(rusqlite::params_from_iter(tables), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    Ok(indexes.into_iter().map(|(_, create)| create).collect())
}

/// Add journeys of accounts without one inside `tx`.
fn add_journeys(tx: &rusqlite::Transaction, journeys: &[crate::Journey]) -> Result<()> {
    let mut put_j = tx.prepare_cached(JOURNEY_INSERT)?;
    let mut put_e = tx.prepare_cached(EVENT_INSERT)?;
    let mut scores = Vec::new();
    for j in journeys {
        put_journey(&mut put_j, j, &mut scores)?;
        for e in &j.events {
            put_event(&mut put_e, e)?;
        }
    }
    Ok(())
}

/// The journeys where `filter` holds (its parameters `params`), by crm id, with their stage
/// changes by day.
fn read_journeys(conn: &Connection, filter: &str, params: &[impl ToSql]) -> Result<Vec<crate::Journey>> {
    let mut events: std::collections::HashMap<String, Vec<crate::StageEvent>> = Default::default();
    {
        let mut st = conn.prepare_cached(&format!(
            "SELECT crm_id, day, from_stage, to_stage, cause FROM journey_events WHERE {filter} ORDER BY crm_id, day"
        ))?;
        let mut found = st.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = found.next()? {
            let crm: String = r.get(0)?;
            let day: String = r.get(1)?;
            events.entry(crm.clone()).or_default().push(crate::StageEvent {
                crm_id: crm,
                day: rows::parse_day(&day)?,
                from: r.get(2)?,
                to: r.get(3)?,
                cause: r.get(4)?,
            });
        }
    }
    let mut st = conn.prepare_cached(&format!(
        "SELECT crm_id, base_stage, through, scores FROM journeys WHERE {filter} ORDER BY crm_id"
    ))?;
    let mut found = st.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = found.next()? {
        let crm: String = r.get(0)?;
        let through: String = r.get(2)?;
        let scores = stored_scores(&crm, r.get_ref(3)?)?;
        out.push(crate::Journey {
            events: events.remove(&crm).unwrap_or_default(),
            crm_id: crm,
            base_stage: r.get(1)?,
            through: rows::parse_day(&through)?,
            scores,
        });
    }
    Ok(out)
}

const JOURNEY_INSERT: &str =
    "INSERT INTO journeys (crm_id, base_stage, through, scores, stage) VALUES (?1, ?2, ?3, ?4, ?5)";
const EVENT_INSERT: &str =
    "INSERT INTO journey_events (crm_id, day, from_stage, to_stage, cause) VALUES (?1, ?2, ?3, ?4, ?5)";

/// A journey's row, through `JOURNEY_INSERT` (or an upsert that starts with it). Its scores are
/// packed ([`abm_core::packing::put_scores`]): a first load writes a million of them.
fn put_journey(st: &mut rusqlite::CachedStatement<'_>, j: &crate::Journey, scores: &mut Vec<u8>) -> Result<()> {
    scores.clear();
    abm_core::packing::put_scores(scores, &j.scores);
    st.execute(params![
        j.crm_id,
        j.base_stage,
        j.through.to_string(),
        &scores[..],
        j.stage()
    ])?;
    Ok(())
}

/// A journey's stored scores: packed, or JSON as stores written before packing hold them.
fn stored_scores(crm: &str, stored: rusqlite::types::ValueRef<'_>) -> Result<Vec<abm_core::journey::WindowScore>> {
    match stored {
        rusqlite::types::ValueRef::Blob(b) => abm_core::packing::scores(b)
            .map_err(|e| StoreError::Corrupt(format!("scores of the journey of account {crm}: {e}"))),
        other => rows::from_json("scores", other.as_str().map_err(rusqlite::Error::from)?),
    }
}

fn put_event(st: &mut rusqlite::CachedStatement<'_>, e: &crate::StageEvent) -> Result<()> {
    st.execute(params![e.crm_id, e.day.to_string(), e.from, e.to, e.cause])?;
    Ok(())
}

/// Commit a big write. Through the log, without copying the log into the database on the way,
/// as SQLite would at this commit ([`SqliteStore::copy_log_aside`] has it copied on another
/// thread); off the log (a first load, and what follows it), plainly. Whether it went through
/// the log.
fn commit_big(tx: rusqlite::Transaction<'_>) -> rusqlite::Result<bool> {
    let logged = on_log(&tx)?;
    if logged {
        tx.pragma_update(None, "wal_autocheckpoint", 0)?;
    }
    tx.commit()?;
    Ok(logged)
}

/// The rows of a read of about one row per row of `table`, in a list made that size first: a
/// list of a million rows grown as read was copied several times over, and each time asked the
/// system for new memory (a tenth of loading what matching activities needs). Counting is an
/// index's scan.
fn collect_counted<T>(
    conn: &Connection,
    table: &str,
    rows: impl Iterator<Item = rusqlite::Result<T>>,
) -> Result<Vec<T>> {
    let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
    let mut out = Vec::with_capacity(n as usize);
    for row in rows {
        out.push(row?);
    }
    Ok(out)
}

/// Whether `conn` writes through the log (an in-memory database has none to go back to).
fn on_log(conn: &Connection) -> rusqlite::Result<bool> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    Ok(mode.eq_ignore_ascii_case("wal") || mode.eq_ignore_ascii_case("memory"))
}

/// Whether the store holds any activity.
fn any_activity(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM activities)", [], |r| r.get(0))?)
}

/// The day the copy of recent activities starts (`YYYY-MM-DD`), if one is kept.
fn recent_since(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT since FROM recent_activities_since", [], |r| r.get(0))
        .optional()?)
}

/// Whether the copy of recent activities holds every activity (it starts at
/// [`crate::all_history`]).
fn copies_every_activity(conn: &Connection) -> Result<bool> {
    let first = crate::all_history().format("%Y-%m-%d").to_string();
    Ok(recent_since(conn)?.is_some_and(|from| from == first))
}

/// How many days of activities older than a rebuild asks for the copy of recent activities may
/// hold before the rebuild writes it afresh.
const RECENT_STALE_DAYS: i64 = 31;

/// An account's value in the copy of recent activities, if it has one.
fn copied(conn: &Connection, crm: &str) -> Result<Option<Vec<u8>>> {
    let mut read = conn.prepare_cached("SELECT activities FROM recent_activities WHERE crm_id = ?1")?;
    Ok(read.query_row([crm], |r| r.get(0)).optional()?)
}

/// Add packed activities to an account's copy of recent ones.
fn add_to_recent(conn: &Connection, crm: &str, packed: &[u8]) -> Result<()> {
    let held = copied(conn, crm)?;
    let mut put =
        conn.prepare_cached("INSERT OR REPLACE INTO recent_activities (crm_id, activities) VALUES (?1, ?2)")?;
    match held {
        Some(mut held) => {
            held.extend_from_slice(packed);
            put.execute(params![crm, held])?
        }
        None => put.execute(params![crm, packed])?,
    };
    Ok(())
}

/// An account's activities on or after the day `since`, oldest first, from the copy of recent
/// activities when it holds them all (`None` when it does not).
fn copied_since(conn: &Connection, crm: &str, since: NaiveDate) -> Result<Option<Vec<Activity>>> {
    let day = since.format("%Y-%m-%d").to_string();
    if !recent_since(conn)?.is_some_and(|from| from <= day) {
        return Ok(None);
    }
    let start = since.and_time(chrono::NaiveTime::MIN).and_utc();
    let mut of: Vec<Activity> = match copied(conn, crm)? {
        Some(packed) => unpack_recent(crm, &packed, start)?,
        None => Vec::new(),
    };
    of.sort_by(|x, y| (x.at, &x.source_id).cmp(&(y.at, &y.source_id)));
    Ok(Some(of))
}

/// Whether `activities` has its account index (a first load skips it for a copy of every
/// activity).
fn has_account_index(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'activities_crm_id')",
        [],
        |r| r.get(0),
    )?)
}

const ACCOUNT_INDEX: &str = "CREATE INDEX activities_crm_id ON activities (crm_id, at)";

/// An account's copied activities from the time `from` on, unpacked.
fn unpack_recent(crm: &str, packed: &[u8], from: chrono::DateTime<Utc>) -> Result<Vec<Activity>> {
    abm_core::packing::activities_from(packed, from).map_err(|e| damaged_copy(crm, e))
}

/// An account's copied activities that do not unpack.
fn damaged_copy(crm: &str, e: abm_core::packing::Damaged) -> StoreError {
    StoreError::Corrupt(format!("recent activities of account {crm}: {e}"))
}

/// A (domain, account, people) row of a domain-claims query.
fn read_claim(r: &rusqlite::Row) -> rusqlite::Result<DomainClaim> {
    Ok(DomainClaim {
        domain: r.get(0)?,
        crm_id: r.get(1)?,
        people: r.get::<_, i64>(2)? as u64,
    })
}

/// Matched activities where `filter` (with one parameter, `?1`) holds, with their account, in
/// `order`, each given to `f`.
fn select_activities(
    conn: &Connection,
    filter: &str,
    param: &str,
    order: &str,
    f: &mut dyn FnMut(String, Activity),
) -> Result<()> {
    let order = rows::order_clause(order);
    let mut st = conn.prepare_cached(&format!("{} WHERE {filter}{order}", rows::ACTIVITY_SELECT))?;
    let mut found = st.query([param])?;
    while let Some(r) = found.next()? {
        let (crm, a) = read_activity(r)?;
        f(crm, a);
    }
    Ok(())
}

/// One row of [`rows::ACTIVITY_SELECT`]: the account (empty when unmatched) and the activity.
fn read_activity(r: &rusqlite::Row<'_>) -> Result<(String, Activity)> {
    lend_activity(r, |crm, a| (crm.unwrap_or_default().to_string(), a.to_activity()))
}

/// One row of `ACTIVITY_SELECT` lent to `f`: its account (none when unmatched) and the
/// activity's fields, straight from the row.
fn lend_activity<T>(
    r: &rusqlite::Row<'_>,
    f: impl FnOnce(Option<&str>, abm_core::activity::ActivityView<'_>) -> T,
) -> Result<T> {
    let text = |i: usize| -> Result<&str> { Ok(r.get_ref(i)?.as_str().map_err(rusqlite::Error::from)?) };
    let maybe =
        |i: usize| -> Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null().map_err(rusqlite::Error::from)?) };
    // Most activities carry no attributes: only the others are parsed (and owned).
    let none = std::collections::BTreeMap::new();
    let raw = text(8)?;
    let parsed;
    let attributes = if raw == "{}" {
        &none
    } else {
        parsed = rows::from_json("attributes", raw)?;
        &parsed
    };
    Ok(f(
        maybe(9)?,
        abm_core::activity::ActivityView {
            source: text(0)?,
            source_id: text(1)?,
            at: rows::parse_timestamp(text(2)?)?,
            kind: text(3)?,
            email: maybe(4)?,
            account_id: maybe(5)?,
            ip: maybe(6)?.and_then(|i| i.parse().ok()),
            company_domain: maybe(7)?,
            attributes,
        },
    ))
}

/// From this many activities in one write, the account index is dropped and rebuilt rather than
/// updated row by row.
const BULK_ACTIVITIES: usize = 200_000;

/// An activity row's columns that an export repeats row after row (its source, how its rows
/// matched, no IP, no attributes …), bound again only when they change: a statement keeps its
/// bindings from one execution to the next. Binding every column anew was a third of the
/// writing thread's time for ten million rows (a lock, a copy and a check per value); the other
/// five columns (source id, time, kind, email, account) change nearly every row. Each field
/// holds what its column was bound to for the row before (`None`: not bound yet).
#[derive(Default)]
struct RepeatedColumns {
    source: Option<String>,
    account_id: Option<Option<String>>,
    ip: Option<Option<std::net::Ipv4Addr>>,
    company_domain: Option<Option<String>>,
    method: Option<&'static str>,
    /// The confidence's bits: 0.0 and -0.0 are stored as given.
    confidence: Option<u32>,
    why_not: Option<Option<&'static str>>,
    attributes: Option<std::borrow::Cow<'static, str>>,
}

impl RepeatedColumns {
    /// Bind columns 1, 6, 7, 8, 10, 11, 12 and 13 of the activity insert where they differ from
    /// the row before (all of them for the first row).
    fn bind(&mut self, st: &mut rusqlite::Statement<'_>, a: &Activity, m: &abm_core::activity::Match) -> Result<()> {
        rebind(st, 1, &mut self.source, &a.source, String::as_str)?;
        rebind(st, 6, &mut self.account_id, &a.account_id, Option::as_deref)?;
        rebind(st, 7, &mut self.ip, &a.ip, |ip| ip.map(|i| i.to_string()))?;
        rebind(st, 8, &mut self.company_domain, &a.company_domain, Option::as_deref)?;
        rebind(st, 10, &mut self.method, &m.method.as_str(), |m| *m)?;
        rebind(st, 11, &mut self.confidence, &m.confidence.to_bits(), |b| {
            f32::from_bits(*b) as f64
        })?;
        rebind(st, 12, &mut self.why_not, &m.why_not, |w| *w)?;
        // Most activities have none (and this is what JSON makes of none).
        let attributes: std::borrow::Cow<'static, str> = match a.attributes.is_empty() {
            true => "{}".into(),
            false => rows::to_json("attributes", &a.attributes)?.into(),
        };
        rebind(st, 13, &mut self.attributes, &attributes, |a| a.as_ref())
    }
}

/// Bind `now` (as `value` makes it) to parameter `i` of `st` unless it equals `last`, what the
/// parameter was bound to before; `last` becomes `now`.
fn rebind<'n, T: PartialEq + Clone, V: ToSql>(
    st: &mut rusqlite::Statement<'_>,
    i: usize,
    last: &mut Option<T>,
    now: &'n T,
    value: impl FnOnce(&'n T) -> V,
) -> Result<()> {
    if last.as_ref() != Some(now) {
        st.raw_bind_parameter(i, value(now))?;
        *last = Some(now.clone());
    }
    Ok(())
}

/// How many ids one `IN (…)` list takes.
const IN_CHUNK: usize = 500;

/// `?1, ?2, …, ?n`.
fn in_list(n: usize) -> String {
    (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}
