//! Account import: read a CRM export, check every row, merge with what the store holds, roll
//! families up, and write it all in one transaction. With `skip_bad_rows` the good rows land and
//! the bad ones are written, with their reasons, to `NAME.rejects.csv` beside the input.
//!
//! The file is read twice so memory stays proportional to the hierarchy, not the records: the
//! first pass checks every row and keeps only what family roll-ups need; the second parses the
//! rows again on a worker thread and streams them, with their roll-ups, into the store's single
//! write transaction while the store writes the previous batch.

use crate::errors::{ImportError, RowError};
use crate::mapping::ColumnMap;
use crate::table::CsvTable;
use abm_core::account::{parse_count, parse_money_cents, AccountRecord, AttributeValue};
use abm_core::hierarchy::{self, FamilyFacts, HierarchyInput};
use abm_core::{AbmTier, AccountRank, AccountType, CrmId, Domain, FiscalCalendar, Geo, GtmStrategy};
use abm_store::{AccountSource, AccountWrite, Store, WriteSummary};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reports progress of long imports; the CLI draws a bar, tests ignore it.
pub trait ImportProgress {
    /// A new phase (`reading`, `writing`) with its total (bytes or rows).
    fn phase(&mut self, _name: &str, _total: u64) {}
    fn advance(&mut self, _done: u64) {}
}

/// No progress output.
pub struct Quiet;
impl ImportProgress for Quiet {}

pub struct AccountImportOptions {
    pub map: ColumnMap,
    pub skip_bad_rows: bool,
    /// The date values are recorded as of when the file has no date column.
    pub today: NaiveDate,
    pub fiscal: FiscalCalendar,
    /// RFC 3339 time of the import.
    pub at: String,
}

#[derive(Debug, Default)]
pub struct AccountImportReport {
    pub rows: u64,
    pub summary: WriteSummary,
    /// Problems in rows that were skipped (only with `skip_bad_rows`).
    pub rejected: Vec<RowError>,
    pub rejected_rows: u64,
    pub rejects_file: Option<PathBuf>,
    /// (child, parent) where the parent is in neither the file nor the store.
    pub missing_parents: Vec<(String, String)>,
    /// How long each phase took: checking, family roll-ups, writing.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Where each field is in the file.
#[derive(Debug, Clone, Default)]
struct Columns {
    crm_id: usize,
    name: usize,
    website: Option<usize>,
    domains: Option<usize>,
    parent_id: Option<usize>,
    country: Option<usize>,
    geo: Option<usize>,
    sub_region: Option<usize>,
    employees: Option<usize>,
    industry: Option<usize>,
    annual_revenue: Option<usize>,
    account_type: Option<usize>,
    carr: Option<usize>,
    owner: Option<usize>,
    sdr: Option<usize>,
    account_rank: Option<usize>,
    gtm_strategy: Option<usize>,
    abm_tier: Option<usize>,
    new_logo_target: Option<usize>,
    as_of: Option<usize>,
    /// (column, attribute, source)
    attributes: Vec<(usize, Arc<str>, Arc<str>)>,
}

impl Columns {
    fn resolve(table: &CsvTable, map: &ColumnMap) -> Result<Self, ImportError> {
        let find = |f: &str| map.fields.get(f).and_then(|hs| table.find(hs));
        let required = |f: &str| {
            find(f).ok_or_else(|| {
                let looked = map.fields.get(f).cloned().unwrap_or_default();
                ImportError::File {
                    file: table.file.clone(),
                    line: 1,
                    reason: format!(
                        "no column for {f} (looked for {}); name it with --column {f}=HEADER",
                        looked.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
                    ),
                }
            })
        };
        let mut c = Columns {
            crm_id: required("crm_id")?,
            name: required("name")?,
            website: find("website"),
            domains: find("domains"),
            parent_id: find("parent_id"),
            country: find("country"),
            geo: find("geo"),
            sub_region: find("sub_region"),
            employees: find("employees"),
            industry: find("industry"),
            annual_revenue: find("annual_revenue"),
            account_type: find("account_type"),
            carr: find("carr"),
            owner: find("owner"),
            sdr: find("sdr"),
            account_rank: find("account_rank"),
            gtm_strategy: find("gtm_strategy"),
            abm_tier: find("abm_tier"),
            new_logo_target: find("new_logo_target"),
            as_of: find("as_of"),
            attributes: Vec::new(),
        };
        let mut seen = HashSet::new();
        let taken: HashSet<usize> = [c.crm_id, c.name]
            .into_iter()
            .chain(
                [c.website, c.domains, c.parent_id, c.employees, c.carr, c.geo, c.country]
                    .into_iter()
                    .flatten(),
            )
            .collect();
        for (header, attr, source) in &map.attributes {
            if let Some(i) = table.find(std::slice::from_ref(header)) {
                if !taken.contains(&i) && seen.insert((attr.clone(), source.clone())) {
                    c.attributes.push((i, attr.as_str().into(), source.as_str().into()));
                }
            }
        }
        Ok(c)
    }
}

/// Parse one date as exports write it: `2026-10-01`, `2026-10-01T12:00:00Z` or `2026-10-01 12:00`.
pub fn parse_export_date(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    let head = t.get(..10).unwrap_or(t);
    NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .ok()
        .filter(|_| t.len() == 10 || matches!(t.as_bytes().get(10), Some(b'T' | b' ')))
        .ok_or_else(|| format!("expected a date like 2026-10-01, found {t:?}"))
}

/// Turns CSV records into account records, collecting every problem with its line and column.
struct RowParser<'a> {
    file: &'a str,
    headers: &'a [String],
    cols: &'a Columns,
    today: NaiveDate,
    line: u64,
    errors: Vec<RowError>,
}

impl<'a> RowParser<'a> {
    fn new(file: &'a str, headers: &'a [String], cols: &'a Columns, today: NaiveDate) -> Self {
        Self {
            file,
            headers,
            cols,
            today,
            line: 0,
            errors: Vec::new(),
        }
    }

    fn err(&mut self, col: usize, reason: impl Into<String>) {
        self.errors.push(RowError {
            file: self.file.to_string(),
            line: self.line,
            column: self
                .headers
                .get(col)
                .cloned()
                .unwrap_or_else(|| format!("#{}", col + 1)),
            reason: reason.into(),
        });
    }

    /// The trimmed text of a column, None when absent or empty.
    fn text<'r>(&mut self, rec: &'r csv::ByteRecord, col: Option<usize>) -> Option<(usize, &'r str)> {
        let i = col?;
        match std::str::from_utf8(rec.get(i)?) {
            Ok(s) => Some((i, s.trim())).filter(|(_, s)| !s.is_empty()),
            Err(_) => {
                self.err(i, "is not valid UTF-8 (save the export as CSV UTF-8)");
                None
            }
        }
    }

    fn string(&mut self, rec: &csv::ByteRecord, col: Option<usize>) -> Option<String> {
        self.text(rec, col).map(|(_, s)| s.to_string())
    }

    fn parsed<T, E: ToString>(
        &mut self,
        rec: &csv::ByteRecord,
        col: Option<usize>,
        f: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        let (i, s) = self.text(rec, col)?;
        match f(s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(i, e.to_string());
                None
            }
        }
    }

    /// Parse one record; None (with errors recorded) when it has problems.
    fn record(&mut self, rec: &csv::ByteRecord) -> Option<AccountRecord> {
        let before = self.errors.len();
        if rec.len() != self.headers.len() {
            self.errors.push(RowError {
                file: self.file.to_string(),
                line: self.line,
                column: "(all)".into(),
                reason: format!("row has {} fields, the header has {}", rec.len(), self.headers.len()),
            });
            return None;
        }
        let c = self.cols;
        let crm_id = match self.text(rec, Some(c.crm_id)) {
            Some((i, s)) => CrmId::parse(s).map_err(|e| self.err(i, e)).ok(),
            None => {
                self.err(c.crm_id, "is required");
                None
            }
        };
        let name = self.string(rec, Some(c.name));
        if name.is_none() {
            self.err(c.name, "is required");
        }
        let website = self.parsed(rec, c.website, Domain::parse_company);
        let mut domains: Vec<Domain> = website.iter().cloned().collect();
        if let Some((i, list)) = self.text(rec, c.domains) {
            for part in list.split([';', ',', ' ', '|']).filter(|p| !p.is_empty()) {
                match Domain::parse_company(part) {
                    Ok(d) if !domains.contains(&d) => domains.push(d),
                    Ok(_) => {}
                    Err(e) => self.err(i, e.to_string()),
                }
            }
        }
        let parent_id = self.parsed(rec, c.parent_id, CrmId::parse);
        let country = self.string(rec, c.country);
        let geo = self
            .parsed(rec, c.geo, str::parse::<Geo>)
            .or_else(|| country.as_deref().and_then(Geo::from_country));
        let employees = self.parsed(rec, c.employees, parse_count).flatten();
        let annual_revenue_cents = self.parsed(rec, c.annual_revenue, parse_money_cents).flatten();
        let carr_cents = self.parsed(rec, c.carr, parse_money_cents).flatten().unwrap_or(0);
        let account_type = self.parsed(rec, c.account_type, str::parse::<AccountType>);
        let account_rank = self.parsed(rec, c.account_rank, str::parse::<AccountRank>);
        let gtm_strategy = self.parsed(rec, c.gtm_strategy, str::parse::<GtmStrategy>);
        let abm_tier = self.parsed(rec, c.abm_tier, str::parse::<AbmTier>);
        let as_of = self.parsed(rec, c.as_of, parse_export_date).unwrap_or(self.today);
        let mut attributes = Vec::new();
        for (i, attr, source) in &c.attributes {
            let Some((_, v)) = self.text(rec, Some(*i)) else {
                continue;
            };
            let value = if &**attr == "developer_count" {
                match parse_count(v) {
                    Ok(Some(n)) => n.to_string(),
                    Ok(None) => continue,
                    Err(e) => {
                        self.err(*i, e);
                        continue;
                    }
                }
            } else {
                v.to_string()
            };
            attributes.push(AttributeValue {
                attribute: attr.clone(),
                source: source.clone(),
                value,
                as_of,
            });
        }
        // The order they are stored in (the store would sort them otherwise, on its busier thread).
        attributes.sort_by(|a, b| a.attribute.cmp(&b.attribute).then_with(|| a.source.cmp(&b.source)));
        let record = AccountRecord {
            crm_id: crm_id?,
            name: name?,
            website,
            domains,
            parent_id,
            country,
            geo,
            sub_region: self.string(rec, c.sub_region),
            employees,
            industry: self.string(rec, c.industry),
            annual_revenue_cents,
            account_type,
            carr_cents,
            owner: self.string(rec, c.owner),
            sdr: self.string(rec, c.sdr),
            account_rank,
            gtm_strategy,
            abm_tier,
            new_logo_target: self.string(rec, c.new_logo_target),
            attributes,
        };
        (self.errors.len() == before).then_some(record)
    }
}

fn is_blank(rec: &csv::ByteRecord) -> bool {
    rec.iter().all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
}

fn read_error(file: &str, e: csv::Error) -> ImportError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    ImportError::File {
        file: file.to_string(),
        line,
        reason: format!("cannot read CSV: {e}"),
    }
}

/// What the first pass keeps of a good row: enough to roll families up.
struct RowFacts {
    line: u64,
    input: HierarchyInput,
}

/// The first pass over a file.
struct Checked {
    headers: Vec<String>,
    parent_header: Option<String>,
    good: Vec<RowFacts>,
    errors: Vec<RowError>,
    /// Raw fields of rows with errors, by line (kept only for a rejects file).
    bad_raw: HashMap<u64, Vec<String>>,
    rows: u64,
}

/// Pass 1: read and check every row of an account export.
fn check_file(
    path: &Path,
    map: &ColumnMap,
    today: NaiveDate,
    keep_bad_rows: bool,
    progress: &mut dyn ImportProgress,
) -> Result<(Checked, Columns), ImportError> {
    let table = CsvTable::open(path)?;
    let cols = Columns::resolve(&table, map)?;
    let CsvTable {
        file,
        headers,
        mut reader,
        bytes,
    } = table;
    progress.phase("reading", bytes);
    let mut out = Checked {
        parent_header: cols.parent_id.map(|i| headers[i].clone()),
        headers: headers.clone(),
        good: Vec::new(),
        errors: Vec::new(),
        bad_raw: HashMap::new(),
        rows: 0,
    };
    // Rows are read in chunks and each chunk is checked by two threads, halves in order.
    let mut chunk: Vec<(u64, csv::ByteRecord)> = Vec::new();
    loop {
        let mut used = 0usize;
        let mut eof = false;
        while used < CHECK_CHUNK {
            if used == chunk.len() {
                chunk.push((0, csv::ByteRecord::new()));
            }
            let (line, rec) = &mut chunk[used];
            if !reader.read_byte_record(rec).map_err(|e| read_error(&file, e))? {
                eof = true;
                break;
            }
            if is_blank(rec) {
                continue;
            }
            *line = rec.position().map(|x| x.line()).unwrap_or(0);
            used += 1;
        }
        out.rows += used as u64;
        let (a, b) = chunk[..used].split_at(used / 2);
        let check = |part: &[(u64, csv::ByteRecord)]| {
            let mut p = RowParser::new(&file, &headers, &cols, today);
            let mut good = Vec::new();
            let mut bad = Vec::new();
            for (line, rec) in part {
                p.line = *line;
                match p.record(rec) {
                    Some(a) => good.push(RowFacts {
                        line: *line,
                        input: HierarchyInput::of(&a),
                    }),
                    None if keep_bad_rows => bad.push((
                        *line,
                        rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(),
                    )),
                    None => {}
                }
            }
            (good, bad, p.errors)
        };
        let (first, second) = std::thread::scope(|s| {
            let h = s.spawn(|| check(b));
            (check(a), h.join().expect("checking thread"))
        });
        for (good, bad, errors) in [first, second] {
            out.good.extend(good);
            out.bad_raw.extend(bad);
            out.errors.extend(errors);
        }
        if let Some((_, rec)) = chunk[..used].last() {
            progress.advance(rec.position().map(|x| x.byte()).unwrap_or(0));
        }
        if eof {
            break;
        }
    }
    progress.advance(bytes);
    // The same account twice: the later rows are bad.
    let mut order: Vec<usize> = (0..out.good.len()).collect();
    order.sort_by(|&a, &b| out.good[a].input.id.cmp(&out.good[b].input.id).then(a.cmp(&b)));
    let mut dup = HashSet::new();
    for w in order.windows(2) {
        let (first, again) = (&out.good[w[0]], &out.good[w[1]]);
        if first.input.id == again.input.id {
            let first_line = out.good[order[order.partition_point(|&i| out.good[i].input.id < again.input.id)]].line;
            out.errors.push(RowError {
                file: file.clone(),
                line: again.line,
                column: headers[cols.crm_id].clone(),
                reason: format!("account {} appears again (first on line {first_line})", again.input.id),
            });
            dup.insert(w[1]);
        }
    }
    if !dup.is_empty() {
        let mut i = 0;
        out.good.retain(|_| {
            i += 1;
            !dup.contains(&(i - 1))
        });
    }
    Ok((out, cols))
}

impl std::borrow::Borrow<HierarchyInput> for RowFacts {
    fn borrow(&self) -> &HierarchyInput {
        &self.input
    }
}

/// Pass 2: parse the good rows again on a worker thread and hand them over in batches.
/// Written batches go back to the parsing thread to be freed there, off the writer's path.
struct Streamed {
    rx: std::sync::mpsc::Receiver<Result<Batch, String>>,
    done: std::sync::mpsc::Sender<Batch>,
}

type Batch = Vec<(AccountRecord, FamilyFacts)>;

impl AccountSource for Streamed {
    fn next_batch(&mut self) -> Result<Batch, String> {
        self.rx.recv().unwrap_or(Ok(Vec::new()))
    }

    fn recycle(&mut self, batch: Batch) {
        let _ = self.done.send(batch);
    }
}

const BATCH: usize = 5_000;

/// Send a full batch to the writer, leaving an empty one; false when the writer has stopped.
fn hand_over(tx: &std::sync::mpsc::SyncSender<Result<Batch, String>>, batch: &mut Batch) -> bool {
    tx.send(Ok(std::mem::replace(batch, Vec::with_capacity(BATCH)))).is_ok()
}

/// Rows checked per chunk in the first pass (split between two threads).
const CHECK_CHUNK: usize = 20_000;

fn stream_rows(
    path: PathBuf,
    cols: Columns,
    today: NaiveDate,
    take: Vec<(u64, String, FamilyFacts)>,
) -> (Streamed, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    let (done, written) = std::sync::mpsc::channel::<Batch>();
    let handle = std::thread::Builder::new()
        .name("abm-parse".into())
        .spawn(move || {
            // Free what the writer has finished with, whenever this thread is about to wait.
            let free_written = || while written.try_recv().is_ok() {};
            let send_err = |tx: &std::sync::mpsc::SyncSender<_>, msg: String| {
                let _ = tx.send(Err(msg));
            };
            let table = match CsvTable::open(&path) {
                Ok(t) => t,
                Err(e) => return send_err(&tx, e.to_string()),
            };
            let CsvTable {
                file,
                headers,
                mut reader,
                ..
            } = table;
            let changed = || format!("{file}: the file changed while it was being imported; nothing was written");
            let mut p = RowParser::new(&file, &headers, &cols, today);
            let mut rec = csv::ByteRecord::new();
            let mut wanted = take.into_iter().peekable();
            let mut batch = Vec::with_capacity(BATCH);
            while let Some((line, _, _)) = wanted.peek() {
                match reader.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => return send_err(&tx, changed()),
                    Err(e) => return send_err(&tx, read_error(&file, e).to_string()),
                }
                let at = rec.position().map(|x| x.line()).unwrap_or(0);
                if at != *line {
                    continue;
                }
                let (_, id, facts) = wanted.next().expect("peeked");
                p.line = at;
                match p.record(&rec) {
                    Some(r) if r.crm_id.as_str() == id => batch.push((r, facts)),
                    _ => return send_err(&tx, changed()),
                }
                if batch.len() == BATCH {
                    free_written();
                    if !hand_over(&tx, &mut batch) {
                        return; // the writer stopped
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch));
            }
            drop(tx);
            // Until the writer lets go of the source, keep freeing what it hands back.
            for b in written {
                drop(b);
            }
        })
        .expect("a thread starts");
    (Streamed { rx, done }, handle)
}

/// Batches the single pass's parser may run ahead of the writer (memory for speed).
const AHEAD: usize = 24;

/// What a single pass gives up with; the two-pass import then runs and reports properly.
const FALL_BACK: &str = "abm: the single pass gave way to two passes";

/// The single pass's source: rows parsed on a worker thread, written with their families' facts
/// as far as the rows around them tell; once every row is in, the real roll-up is computed and
/// the accounts written with other facts are corrected (in the same transaction).
struct OnePass {
    /// The parsed rows, as the two-pass import streams them.
    rows_in: Streamed,
    last: std::sync::mpsc::Receiver<LastWord>,
    rows: u64,
    missing_parents: Vec<(String, String)>,
}

impl AccountSource for OnePass {
    fn next_batch(&mut self) -> Result<Batch, String> {
        self.rows_in.next_batch()
    }

    fn recycle(&mut self, batch: Batch) {
        self.rows_in.recycle(batch);
    }

    fn late_rollups(&mut self) -> Result<Vec<(String, FamilyFacts)>, String> {
        let (late, rows, missing_parents) = self.last.recv().map_err(|_| FALL_BACK.to_string())??;
        self.rows = rows;
        self.missing_parents = missing_parents;
        Ok(late)
    }
}

/// What the single pass's worker sends once every row is parsed: the accounts written with other
/// facts than their family's (with the family's facts), the rows read and the missing parents;
/// or the signal to fall back (a parent loop).
type LastWord = Result<(Vec<(String, FamilyFacts)>, u64, Vec<(String, String)>), String>;

/// Rows the single pass reads past a batch before handing it over, so that a family whose
/// members arrive near each other is written with its real roll-up, not corrected at the end.
const LOOK: usize = 512;

/// The first `take` pending rows (all of them with `usize::MAX`), with the facts of their
/// families as far as the rows around them tell (from `LOOK` rows before them to the last row
/// read). `sent` keeps what each row was written with.
fn with_window_facts(
    pending: &mut Vec<AccountRecord>,
    take: usize,
    inputs: &[HierarchyInput],
    sent: &mut Vec<FamilyFacts>,
    fiscal_year: i32,
) -> Batch {
    let first = sent.len();
    let from = first.saturating_sub(LOOK);
    let (facts, _) = hierarchy::roll_up(&inputs[from..], fiscal_year);
    let take = take.min(pending.len());
    let mut batch = Vec::with_capacity(take);
    for (r, f) in pending.drain(..take).zip(facts.into_iter().skip(first - from)) {
        sent.push(f.clone());
        batch.push((r, f));
    }
    batch
}

/// The real roll-up, once every row is in: the accounts written with other facts than their
/// family's, with the family's facts, and the missing parents.
#[allow(clippy::type_complexity)]
fn late_rollups(
    inputs: &[HierarchyInput],
    sent: &[FamilyFacts],
    fiscal_year: i32,
) -> Result<(Vec<(String, FamilyFacts)>, Vec<(String, String)>), String> {
    let (facts, report) = hierarchy::roll_up(inputs, fiscal_year);
    if !report.cycles.is_empty() {
        return Err(FALL_BACK.into());
    }
    let late = inputs
        .iter()
        .zip(sent)
        .zip(facts)
        .filter(|((_, was), f)| *was != f)
        .map(|((i, _), f)| (i.id.clone(), f))
        .collect();
    Ok((late, report.missing_parents))
}

/// Read, check and write in one pass, for an export going into a store that holds no accounts
/// yet (nothing stored can change roll-ups or be re-imported). Any problem at all — a bad row, an
/// account twice, a parent loop — abandons it (the transaction rolls back) and returns None, so
/// the two-pass import reports exactly what it always does.
fn single_pass(
    store: &mut dyn Store,
    path: &Path,
    opts: &AccountImportOptions,
    progress: &mut dyn ImportProgress,
) -> Result<Option<AccountImportReport>, ImportError> {
    let started = std::time::Instant::now();
    let table = CsvTable::open(path)?;
    let cols = Columns::resolve(&table, &opts.map)?;
    let fy = opts.fiscal.fiscal_year(opts.today);
    let expected = table.bytes / 120;
    // The parser outruns the writer; a deep queue lets it finish early and roll families up
    // while the writer drains it.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch, String>>(AHEAD);
    let (done, written) = std::sync::mpsc::channel::<Batch>();
    let (last_tx, last) = std::sync::mpsc::channel();
    let today = opts.today;
    let worker = std::thread::Builder::new()
        .name("abm-parse".into())
        .spawn(move || {
            let free_written = || while written.try_recv().is_ok() {};
            let give_up = |tx: &std::sync::mpsc::SyncSender<Result<Batch, String>>| {
                let _ = tx.send(Err(FALL_BACK.into()));
            };
            let CsvTable {
                file,
                headers,
                mut reader,
                ..
            } = table;
            let mut p = RowParser::new(&file, &headers, &cols, today);
            let mut rec = csv::ByteRecord::new();
            // Ids seen, by hash: a repeat (or, once in billions, two ids with one hash) sends the
            // import to the two passes, which tell the two apart.
            let mut seen: HashSet<u64, abm_core::paid::FxBuild> = HashSet::default();
            let id_hash = std::collections::hash_map::RandomState::new();
            let mut inputs: Vec<HierarchyInput> = Vec::new();
            let mut pending: Vec<AccountRecord> = Vec::with_capacity(BATCH + LOOK);
            let mut sent: Vec<FamilyFacts> = Vec::new();
            let mut rows = 0u64;
            loop {
                match reader.read_byte_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(_) => return give_up(&tx),
                }
                if is_blank(&rec) {
                    continue;
                }
                rows += 1;
                p.line = rec.position().map(|x| x.line()).unwrap_or(0);
                let Some(r) = p.record(&rec) else { return give_up(&tx) };
                if !seen.insert(id_hash.hash_one(r.crm_id.as_str())) {
                    return give_up(&tx);
                }
                inputs.push(HierarchyInput::of(&r));
                pending.push(r);
                if pending.len() == BATCH + LOOK {
                    free_written();
                    let batch = with_window_facts(&mut pending, BATCH, &inputs, &mut sent, fy);
                    if tx.send(Ok(batch)).is_err() {
                        return; // the writer stopped
                    }
                }
            }
            drop(seen);
            if !pending.is_empty() {
                let batch = with_window_facts(&mut pending, usize::MAX, &inputs, &mut sent, fy);
                if tx.send(Ok(batch)).is_err() {
                    return;
                }
            }
            // The writer is still draining the queue: roll families up meanwhile.
            let _ = last_tx.send(late_rollups(&inputs, &sent, fy).map(|(late, missing)| (late, rows, missing)));
            drop(sent);
            drop(inputs);
            drop(tx);
            for b in written {
                drop(b);
            }
        })
        .expect("a thread starts");
    let mut source = OnePass {
        rows_in: Streamed { rx, done },
        last,
        rows: 0,
        missing_parents: Vec::new(),
    };
    let write = AccountWrite {
        existing: HashSet::new(),
        rollup_updates: Vec::new(),
        at: opts.at.clone(),
        expected_records: expected,
    };
    progress.phase("writing", expected);
    let result = store.write_accounts(&write, &mut source, &mut |n| progress.advance(n));
    let OnePass {
        rows,
        missing_parents,
        rows_in,
        last,
        ..
    } = source;
    // Let the worker go (it frees written batches until the writer's end is dropped).
    drop((rows_in, last));
    let _ = worker.join();
    match result {
        Ok(summary) => Ok(Some(AccountImportReport {
            rows,
            summary,
            missing_parents,
            timings: vec![("read, check and write in one pass", started.elapsed())],
            ..Default::default()
        })),
        Err(abm_store::StoreError::Source(m)) if m == FALL_BACK => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Import an account export into the store: all or nothing unless `skip_bad_rows`.
pub fn import_accounts(
    store: &mut dyn Store,
    path: &Path,
    opts: &AccountImportOptions,
    progress: &mut dyn ImportProgress,
) -> Result<AccountImportReport, ImportError> {
    let stored = store.hierarchy_rows()?;
    if stored.is_empty() {
        if let Some(report) = single_pass(store, path, opts, progress)? {
            return Ok(report);
        }
    }
    import_accounts_in_two_passes(store, path, opts, progress, stored)
}

/// The import that checks every row before writing any: what an import into a store that holds
/// accounts needs (roll-ups reach stored families), and what reports bad rows.
pub fn import_accounts_in_two_passes(
    store: &mut dyn Store,
    path: &Path,
    opts: &AccountImportOptions,
    progress: &mut dyn ImportProgress,
    stored: Vec<abm_core::hierarchy::StoredMember>,
) -> Result<AccountImportReport, ImportError> {
    let started = std::time::Instant::now();
    let (mut checked, cols) = check_file(path, &opts.map, opts.today, opts.skip_bad_rows, progress)?;
    let checked_at = started.elapsed();
    let fy = opts.fiscal.fiscal_year(opts.today);
    let mut plan = hierarchy::plan(&stored, &checked.good, fy);
    let rolled_up_at = started.elapsed();

    // A parent chain that loops is a bad row for every member of the loop in this file.
    let mut cyclic: HashSet<String> = HashSet::new();
    if !plan.report.cycles.is_empty() {
        let lines: HashMap<&str, u64> = checked.good.iter().map(|g| (g.input.id.as_str(), g.line)).collect();
        let column = checked.parent_header.clone().unwrap_or_else(|| "parent_id".into());
        for cycle in &plan.report.cycles {
            let chain = format!("{} → {}", cycle.join(" → "), cycle[0]);
            for id in cycle {
                if let Some(line) = lines.get(id.as_str()) {
                    checked.errors.push(RowError {
                        file: path.display().to_string(),
                        line: *line,
                        column: column.clone(),
                        reason: format!("the parent chain loops: {chain}"),
                    });
                    cyclic.insert(id.clone());
                }
            }
        }
    }
    checked.errors.sort_by_key(|e| e.line);
    if !checked.errors.is_empty() && !opts.skip_bad_rows {
        return Err(ImportError::BadRows(checked.errors));
    }
    let mut out = AccountImportReport {
        rows: checked.rows,
        ..Default::default()
    };
    if !checked.errors.is_empty() {
        if !cyclic.is_empty() {
            for g in checked.good.iter().filter(|g| cyclic.contains(&g.input.id)) {
                checked.bad_raw.insert(g.line, Vec::new());
            }
            checked.good.retain(|g| !cyclic.contains(&g.input.id));
            plan = hierarchy::plan(&stored, &checked.good, fy);
        }
        out.rejects_file = Some(write_rejects(path, &checked)?);
        out.rejected_rows = checked.errors.iter().map(|e| e.line).collect::<HashSet<_>>().len() as u64;
        out.rejected = std::mem::take(&mut checked.errors);
    }
    out.missing_parents = plan.report.missing_parents;
    let write = AccountWrite {
        existing: plan.existing,
        rollup_updates: plan.updates,
        at: opts.at.clone(),
        expected_records: checked.good.len() as u64,
    };
    let take: Vec<(u64, String, FamilyFacts)> = checked
        .good
        .into_iter()
        .zip(plan.incoming)
        .map(|(g, f)| (g.line, g.input.id, f))
        .collect();
    progress.phase("writing", write.expected_records);
    let (mut source, worker) = stream_rows(path.to_path_buf(), cols, opts.today, take);
    let result = store.write_accounts(&write, &mut source, &mut |n| progress.advance(n));
    drop(source);
    let _ = worker.join();
    out.summary = result?;
    out.timings = vec![
        ("check", checked_at),
        ("roll-up", rolled_up_at - checked_at),
        ("write", started.elapsed() - rolled_up_at),
    ];
    Ok(out)
}

/// `NAME.rejects.csv` beside the input: the rejected rows as they were, with line and reasons.
fn write_rejects(path: &Path, checked: &Checked) -> Result<PathBuf, ImportError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    let out = path.with_file_name(format!("{stem}.rejects.csv"));
    let io = |source| ImportError::Io {
        path: out.clone(),
        source,
    };
    let mut w = csv::Writer::from_path(&out).map_err(|e| io(e.into()))?;
    let mut header = checked.headers.clone();
    header.push("abm_line".into());
    header.push("abm_reasons".into());
    w.write_record(&header).map_err(|e| io(e.into()))?;
    let mut by_line: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for e in &checked.errors {
        by_line
            .entry(e.line)
            .or_default()
            .push(format!("column {}: {}", e.column, e.reason));
    }
    for (line, reasons) in by_line {
        let mut row = checked.bad_raw.get(&line).cloned().unwrap_or_default();
        row.resize(checked.headers.len(), String::new());
        row.push(line.to_string());
        row.push(reasons.join("; "));
        w.write_record(&row).map_err(|e| io(e.into()))?;
    }
    w.flush().map_err(io)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use abm_store::{AccountQuery, SqliteStore};

    fn opts() -> AccountImportOptions {
        AccountImportOptions {
            map: ColumnMap::accounts(),
            skip_bad_rows: false,
            today: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            fiscal: FiscalCalendar::default(),
            at: "2026-11-28T10:00:00Z".into(),
        }
    }

    /// Everything a store says about its accounts.
    fn contents(
        store: &mut dyn Store,
    ) -> (
        Vec<abm_store::AccountSummary>,
        Vec<hierarchy::StoredMember>,
        Vec<String>,
    ) {
        let page = store.list_accounts(&AccountQuery::default()).unwrap();
        let details = page
            .accounts
            .iter()
            .map(|a| format!("{:?}", store.get_account(&a.crm_id).unwrap()))
            .collect();
        (page.accounts, store.hierarchy_rows().unwrap(), details)
    }

    /// An import into an empty store takes the single pass; it must store exactly what checking
    /// every row first would: families whose children come before their parents, three levels,
    /// a missing parent, family CARR and segments from the largest member, attributes.
    #[test]
    fn the_single_pass_stores_what_two_passes_store() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.csv");
        std::fs::write(
            &file,
            "Account ID,Account Name,Website,Parent Account ID,Geo,Employees,CARR,ABM Tier,Aberdeen Developer Count\n\
             C2,Child Two,c2.example,P1,EMEA,30,100,,12\n\
             G1,Grandchild,g1.example,C1,AMER,20000,0,Tier 1,\n\
             C1,Child One,c1.example,P1,AMER,10,0,,\n\
             P1,Parent,p1.example,,AMER,50,250.50,Tier 2,900\n\
             S1,Solo,s1.example,,APAC,5,0,,\n\
             O1,Orphan,o1.example,NOPE,EMEA,7000,0,,\n",
        )
        .unwrap();
        let mut one = SqliteStore::open(&dir.path().join("one.db")).unwrap();
        let report = import_accounts(&mut one, &file, &opts(), &mut Quiet).unwrap();
        assert_eq!(
            report.timings[0].0, "read, check and write in one pass",
            "an empty store takes the single pass"
        );
        let mut two = SqliteStore::open(&dir.path().join("two.db")).unwrap();
        let stored = two.hierarchy_rows().unwrap();
        let checked = import_accounts_in_two_passes(&mut two, &file, &opts(), &mut Quiet, stored).unwrap();
        assert_eq!(report.rows, checked.rows);
        assert_eq!(report.summary, checked.summary);
        assert_eq!(report.missing_parents, checked.missing_parents);
        assert_eq!(report.missing_parents, vec![("O1".to_string(), "NOPE".to_string())]);
        assert_eq!(contents(&mut one), contents(&mut two));
        let g1 = one
            .hierarchy_rows()
            .unwrap()
            .into_iter()
            .find(|m| m.input.id == "G1")
            .unwrap();
        assert_eq!(g1.facts.ultimate_parent, "P1");
        assert_eq!(g1.facts.family_carr_cents, 35_050, "the family's CARR");
    }

    /// Members of one family far apart in the file (further than the parser looks ahead) are
    /// written first with what the rows near them tell, then corrected once every row is in.
    #[test]
    fn families_spread_across_the_file_are_corrected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accounts.csv");
        let mut body = String::from("Account ID,Account Name,Website,Parent Account ID,Geo,Employees,CARR\n");
        body.push_str("K1,Early Kid,k1.example,FAR,EMEA,9000,10\n");
        body.push_str("P1,Parent,p1.example,,AMER,50,250\n");
        let filler = BATCH + LOOK + 10;
        for i in 0..filler {
            body.push_str(&format!("F{i},Filler {i},f{i}.example,,APAC,{},0\n", 10 + i % 50));
        }
        body.push_str("K2,Late Kid,k2.example,P1,EMEA,30000,5\n");
        body.push_str("FAR,Far Parent,far.example,,AMER,20,0\n");
        std::fs::write(&file, body).unwrap();
        let mut one = SqliteStore::open(&dir.path().join("one.db")).unwrap();
        let report = import_accounts(&mut one, &file, &opts(), &mut Quiet).unwrap();
        assert_eq!(report.timings[0].0, "read, check and write in one pass");
        let mut two = SqliteStore::open(&dir.path().join("two.db")).unwrap();
        let stored = two.hierarchy_rows().unwrap();
        import_accounts_in_two_passes(&mut two, &file, &opts(), &mut Quiet, stored).unwrap();
        assert_eq!(one.hierarchy_rows().unwrap(), two.hierarchy_rows().unwrap());
        let rows = one.hierarchy_rows().unwrap();
        let facts = |id: &str| rows.iter().find(|m| m.input.id == id).unwrap().facts.clone();
        let p1 = facts("P1");
        assert_eq!(
            (p1.family_max_employees, p1.family_carr_cents),
            (Some(30_000), 25_500),
            "the parent knows its late child"
        );
        assert_eq!(
            facts("K1").ultimate_parent,
            "FAR",
            "the early child knows its late parent"
        );
        assert_eq!(facts("FAR").family_max_employees, Some(9000));
    }

    /// Any problem sends the import back to two passes, which report it as always and write
    /// nothing: a bad row, an account twice, a parent loop.
    #[test]
    fn problems_in_an_empty_store_are_reported_as_always() {
        for (body, want) in [
            ("A1,Acme,acme.example,,AMER,ten,0\n", "column: \"Employees\""),
            (
                "A1,Acme,acme.example,,AMER,10,0\nA1,Acme again,acme2.example,,AMER,10,0\n",
                "appears again",
            ),
            (
                "A1,Acme,acme.example,B1,AMER,10,0\nB1,Beta,beta.example,A1,AMER,10,0\n",
                "the parent chain loops",
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("accounts.csv");
            std::fs::write(
                &file,
                format!("Account ID,Account Name,Website,Parent Account ID,Geo,Employees,CARR\n{body}"),
            )
            .unwrap();
            let mut store = SqliteStore::open(&dir.path().join("abm.db")).unwrap();
            let err = format!(
                "{:?}",
                import_accounts(&mut store, &file, &opts(), &mut Quiet).unwrap_err()
            );
            assert!(err.contains(want), "{want}: {err}");
            assert_eq!(store.counts().unwrap().accounts, 0, "nothing written");
        }
    }
}
