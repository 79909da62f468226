//! Activity exports, recognised by their header: a marketing-automation export (Activity ID,
//! Activity Date, Activity Type, Email Address, Account ID, …), a web-analytics export
//! (Timestamp, Visitor IP, Page URL, Known Email, UTM Campaign) and an intent export (Week Start,
//! Company Domain, Keyword Set, Topic, Intent Strength). Rows without an id of their own get a
//! hash of their content, so re-importing a file never adds an activity twice. Also the IP-range
//! table (CIDR, Account ID). Errors are `FILE:LINE: column NAME: reason`; a bad file gives nothing.
//! The same exports may come as NDJSON (one JSON object a line, keyed by the same column names),
//! and an export with other column names is read through a mapping onto one of the three.

use crate::errors::{ImportError, RowError};
use crate::table::CsvTable;
use abm_core::activity::{parse_cidr, Activity, IpTable, Match, Resolver};
use abm_store::Store;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// FNV-1a over the fields, as a stable id for rows that carry none.
fn content_id(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        })
        .map_err(|_| format!("expected a timestamp like 2026-07-02T14:00:00Z, found {t:?}"))
}

/// What identity resolution matches against, from the store: each domain's owner (most people,
/// then the smaller CRM id, as `people::domain_owners` decides), every account id, and the IP
/// ranges.
pub fn resolver(store: &mut dyn Store) -> Result<Resolver, ImportError> {
    Ok(Resolver::new(
        crate::people::domain_owners(store)?.0,
        // Only the crm ids: a million accounts' hierarchy rows were a quarter of the load.
        store.account_ids()?,
        IpTable::new(store.ip_ranges()?),
    ))
}

/// A resolver holding only what `activities` look up (their domains' claims, the account ids
/// they name, the IP ranges): for a small file much less to read than every domain and account,
/// and it resolves them alike.
pub fn resolver_for(store: &mut dyn Store, activities: &[Activity]) -> Result<Resolver, ImportError> {
    let (domains, ids) = abm_core::activity::lookups(activities);
    let domains: Vec<String> = domains.into_iter().collect();
    let ids: Vec<String> = ids.into_iter().collect();
    Ok(Resolver::new(
        crate::people::owners_of(store.domain_claims_for(&domains)?).0,
        store.accounts_among(&ids)?,
        IpTable::new(store.ip_ranges()?),
    ))
}

/// The columns the three presets read.
const COLUMNS: &[&str] = &[
    "Activity ID",
    "Activity Date",
    "Activity Type",
    "Email Address",
    "Account ID",
    "Primary Attribute Value",
    "Campaign",
    "Minutes",
    "Timestamp",
    "Visitor IP",
    "Page URL",
    "Known Email",
    "UTM Campaign",
    "Week Start",
    "Company Domain",
    "Company Name",
    "Keyword Set",
    "Topic",
    "Intent Strength",
];

/// Where each of [`COLUMNS`] is in a file (`None`: not there). Every cell of every row is found
/// by its column's name: as a map keyed by name that was a fifth of reading, comparing names;
/// here a name is found by where its text is (the names asked for are `COLUMNS`' own
/// literals, as a rule) before it is compared.
struct Columns(Vec<(&'static str, Option<usize>)>);

impl Columns {
    fn get(&self, name: &str) -> Option<usize> {
        let same_text = |n: &&str| std::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len();
        let found = self.0.iter().find(|(n, _)| same_text(n));
        found
            .or_else(|| self.0.iter().find(|(n, _)| *n == name))
            .and_then(|(_, i)| *i)
    }
}

/// Which preset columns like these are (matched without case or spacing).
fn kind_of(has: &dyn Fn(&str) -> bool) -> Option<&'static str> {
    if has("Activity ID") && has("Activity Type") {
        Some("marketing-automation")
    } else if has("Visitor IP") && has("Page URL") {
        Some("web-analytics")
    } else if has("Company Domain") && has("Intent Strength") {
        Some("intent")
    } else {
        None
    }
}

fn unknown_export(file: &str, found: &[String]) -> ImportError {
    ImportError::File {
        file: file.to_string(),
        line: 1,
        reason: format!(
            "not an activity export abm knows (marketing automation, web analytics, intent); found columns {}",
            found.join(", ")
        ),
    }
}

/// How another export's columns map onto a preset: `preset` names it, `[columns]` gives, for
/// each of the preset's column names, the export's own.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityMapping {
    pub preset: String,
    pub columns: BTreeMap<String, String>,
}

/// Read an activity mapping file; errors name the file and line.
pub fn read_mapping(path: &Path) -> Result<ActivityMapping, ImportError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let map: ActivityMapping = toml::from_str(&text).map_err(|e| ImportError::Mapping {
        file: file.clone(),
        reason: format!(
            "line {}: {}",
            e.span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1),
            e.message()
        ),
    })?;
    if !["marketing-automation", "web-analytics", "intent"].contains(&map.preset.as_str()) {
        return Err(ImportError::Mapping {
            file,
            reason: format!(
                "preset: expected marketing-automation, web-analytics or intent, found {:?}",
                map.preset
            ),
        });
    }
    if let Some(k) = map.columns.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
        return Err(ImportError::Mapping {
            file,
            reason: format!(
                "columns: {k:?} is not a column abm reads (it reads {})",
                COLUMNS.join(", ")
            ),
        });
    }
    Ok(map)
}

fn is_ndjson(path: &Path) -> Result<bool, ImportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "ndjson" || ext == "jsonl" {
        return Ok(true);
    }
    let mut head = [0u8; 64];
    let n = std::io::Read::read(
        &mut std::fs::File::open(path).map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?,
        &mut head,
    )
    .map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xef && **b != 0xbb && **b != 0xbf)
        == Some(&b'{'))
}

/// An NDJSON export read a line at a time: each line an object keyed by the preset's column
/// names; values are text or numbers. Rows come out aligned to [`COLUMNS`]; a bad line is kept
/// as an error and skipped.
struct NdjsonLines {
    path: std::path::PathBuf,
    file: String,
    lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
    line_no: u64,
    /// Bytes read so far (for progress).
    read: u64,
    /// The first object's keys, in order (they tell the kind of export).
    first_keys: Option<Vec<String>>,
}

impl NdjsonLines {
    fn open(path: &Path) -> Result<(Self, u64), ImportError> {
        let io = |source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let size = f.metadata().map_err(io)?.len();
        let lines = std::io::BufRead::lines(std::io::BufReader::new(f));
        Ok((
            Self {
                path: path.to_path_buf(),
                file: path.display().to_string(),
                lines,
                line_no: 0,
                read: 0,
                first_keys: None,
            },
            size,
        ))
    }

    /// The next object line (its number and its cells aligned to [`COLUMNS`]); None at the end.
    /// Lines that are not objects, and cells that are neither text nor a number, go to `errors`.
    fn next(&mut self, errors: &mut Vec<RowError>) -> Result<Option<(u64, csv::StringRecord)>, ImportError> {
        loop {
            let Some(line) = self.lines.next() else {
                return Ok(None);
            };
            let line = line.map_err(|source| ImportError::Io {
                path: self.path.clone(),
                source,
            })?;
            self.line_no += 1;
            self.read += line.len() as u64 + 1;
            let text = if self.line_no == 1 {
                line.trim_start_matches('\u{feff}')
            } else {
                &line
            };
            if text.trim().is_empty() {
                continue;
            }
            let obj = match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(o)) => o,
                Ok(_) => {
                    errors.push(RowError::at(
                        &self.file,
                        self.line_no,
                        "(line)",
                        "expected a JSON object",
                    ));
                    continue;
                }
                Err(e) => {
                    errors.push(RowError::at(
                        &self.file,
                        self.line_no,
                        "(line)",
                        format!("not JSON: {e}"),
                    ));
                    continue;
                }
            };
            let mut cells = Vec::with_capacity(COLUMNS.len());
            for c in COLUMNS {
                let found = obj
                    .iter()
                    .find(|(k, _)| crate::table::header_key(k) == crate::table::header_key(c));
                cells.push(match found.map(|(_, v)| v) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => v.to_string(),
                    Some(_) => {
                        errors.push(RowError::at(&self.file, self.line_no, c, "expected text or a number"));
                        String::new()
                    }
                });
            }
            if self.first_keys.is_none() {
                self.first_keys = Some(obj.keys().cloned().collect());
            }
            return Ok(Some((self.line_no, csv::StringRecord::from(cells))));
        }
    }
}

/// What an activity import did.
#[derive(Debug, Clone, Default)]
pub struct ActivityImportReport {
    /// Which preset the export was read as.
    pub kind: &'static str,
    pub activities: u64,
    pub added: u64,
    pub already: u64,
    /// Activities matched to an account.
    pub matched: u64,
    /// The accounts the file's activities matched, and the earliest day among those.
    pub touched: BTreeSet<String>,
    pub since: Option<NaiveDate>,
    /// Reading, checking and matching (alongside the writing); loading what matching needs;
    /// writing (from the first batch to the commit).
    pub read: std::time::Duration,
    pub load: std::time::Duration,
    pub write: std::time::Duration,
    /// The store held no activity before: the activities added are all it holds.
    pub into_empty: bool,
}

/// Given each matched activity as the import reads it, with its account: a caller that will
/// replay every account keeps them rather than reading them back. Called on a thread of its
/// own, between the thread that reads and matches and the one that writes: keeping ten million
/// activities took a sixth of the reader's time, and as much of the writer's, either of which
/// then held the other up.
pub trait KeepMatched: Send {
    /// `activity`, matched to `crm_id`, which is account number `account` of this import (see
    /// [`Resolver::account`]): the same account has the same number throughout one import.
    fn keep(&mut self, activity: &Activity, crm_id: &str, account: u32);
    /// The whole file was read and found good, and every matched activity handed over. The
    /// store is still writing the last of them (then its indexes, the commit), which may yet
    /// fail.
    fn all_kept(&mut self) {}
    /// Asked once, on the calling thread, before reading starts: a keeper that reads the store
    /// through a connection of its own meanwhile (a store writes a first load best with no
    /// other connection open) hands back what tells when that connection is closed. The write
    /// waits for it (for its sender to be dropped), after the reading and matching started.
    fn write_after(&mut self) -> Option<std::sync::mpsc::Receiver<()>> {
        None
    }
}

/// Activities read, matched and written a batch at a time.
const ACTIVITY_BATCH: usize = 250_000;

/// Import an activity export: read it a batch at a time, match each activity to an account and
/// append them in one transaction; a file with any bad row writes nothing and reports them all.
/// `keep`, if given, is handed every matched activity read.
pub fn import_activities(
    store: &mut dyn Store,
    path: &Path,
    mapping: Option<&ActivityMapping>,
    progress: &mut dyn crate::accounts::ImportProgress,
    keep: Option<&mut dyn KeepMatched>,
) -> Result<ActivityImportReport, ImportError> {
    import_in_batches(store, path, mapping, progress, ACTIVITY_BATCH, keep)
}

/// What the thread that reads and matches hands on, batch after batch.
enum Msg {
    /// Activities with their matches, the matched ones' account numbers; bytes read.
    Batch(Vec<(Activity, Match)>, Vec<Option<u32>>, u64),
    /// The file was read whole and found good.
    End,
    Failed(ImportError),
}

impl Msg {
    /// Hand what this says to `keep`: a batch's matched activities, or the end.
    fn hand_to(&self, keep: &mut dyn KeepMatched) {
        match self {
            Msg::Batch(batch, numbers, _) => {
                for ((a, m), n) in batch.iter().zip(numbers) {
                    if let (Some(n), Some(id)) = (n, &m.account) {
                        keep.keep(a, id, *n);
                    }
                }
            }
            Msg::End => keep.all_kept(),
            Msg::Failed(_) => {}
        }
    }

    /// Nothing comes after it.
    fn is_last(&self) -> bool {
        !matches!(self, Msg::Batch(..))
    }
}

fn import_in_batches(
    store: &mut dyn Store,
    path: &Path,
    mapping: Option<&ActivityMapping>,
    progress: &mut dyn crate::accounts::ImportProgress,
    batch_rows: usize,
    mut keep: Option<&mut dyn KeepMatched>,
) -> Result<ActivityImportReport, ImportError> {
    let started = std::time::Instant::now();
    let mut reader = ActivityReader::open(path, mapping)?;
    // A file that fits in one batch is matched with what its own activities look up; a bigger
    // one with everything, loaded on this thread while the worker reads its first batches.
    let first = reader.next_batch(batch_rows)?;
    let first_read = started.elapsed();
    let small = match first.len() < batch_rows {
        true => Some(resolver_for(store, &first)?),
        false => None,
    };
    let kind = reader.kind();
    let write_after = keep.as_mut().and_then(|k| k.write_after());
    progress.phase("reading", reader.bytes());
    // A worker reads and matches the next batch while this thread writes the last one.
    // After the first (big enough to tell a big write from a small one), batches are half the
    // size: a read activity is a few hundred bytes until it is written, and three or four
    // batches are in hand at once.
    let later_rows = (batch_rows / 2).max(1);
    /// Batches read ahead while the resolver loads.
    const READ_AHEAD: usize = 7;
    let writing = std::time::Instant::now();
    let (written, failed, counted, load) = std::thread::scope(|scope| -> Result<_, ImportError> {
        let (tx, read) = std::sync::mpsc::sync_channel::<Msg>(1);
        // Batches go from the reader to the keeper, if any, and on to the writer; each stops
        // when the next stops listening, or after passing on the end.
        let rx = match keep {
            None => read,
            Some(keep) => {
                let (pass_on, kept) = std::sync::mpsc::sync_channel::<Msg>(0);
                scope.spawn(move || {
                    for msg in read {
                        msg.hand_to(keep);
                        let last = msg.is_last();
                        if pass_on.send(msg).is_err() || last {
                            return;
                        }
                    }
                });
                kept
            }
        };
        let (give_resolver, resolver_given) = std::sync::mpsc::channel::<Resolver>();
        // Written batches go back to be freed where they were made: freeing ten million rows'
        // text on the writing thread cost it a tenth of its time, and the reader then reuses
        // the memory instead of asking the system for more.
        let (give_back, given_back) = std::sync::mpsc::channel::<Vec<(Activity, Match)>>();
        let worker = scope.spawn(move || {
            let mut counted = ActivityImportReport::default();
            let mut ahead = std::collections::VecDeque::from([Ok(first)]);
            let resolver = loop {
                use std::sync::mpsc::TryRecvError;
                // The file ended, or failed to read: nothing more to read ahead.
                let ended = ahead
                    .back()
                    .is_some_and(|b: &Result<Vec<Activity>, _>| b.as_ref().map_or(true, Vec::is_empty));
                match resolver_given.try_recv() {
                    Ok(r) => break r,
                    Err(TryRecvError::Empty) if ahead.len() < READ_AHEAD && !ended => {
                        let t = std::time::Instant::now();
                        ahead.push_back(reader.next_batch(later_rows));
                        counted.read += t.elapsed();
                    }
                    // Nothing comes when loading failed: the caller says why.
                    Err(TryRecvError::Disconnected) => return counted,
                    Err(TryRecvError::Empty) => match resolver_given.recv() {
                        Ok(r) => break r,
                        Err(_) => return counted,
                    },
                }
            };
            // By account number while reading (ten million of them), named and ordered once.
            let mut touched = vec![false; resolver.accounts()];
            loop {
                let t = std::time::Instant::now();
                given_back.try_iter().for_each(drop);
                let batch = match ahead.pop_front() {
                    Some(b) => b,
                    None => reader.next_batch(later_rows),
                };
                let msg = match batch {
                    Ok(batch) if batch.is_empty() => match reader.finish() {
                        Ok(()) => Msg::End,
                        Err(e) => Msg::Failed(e),
                    },
                    Ok(batch) => {
                        let (matches, numbers): (Vec<Match>, Vec<Option<u32>>) =
                            resolver.resolve_all(&batch).into_iter().unzip();
                        for (a, n) in batch.iter().zip(&numbers) {
                            if let Some(n) = *n {
                                counted.matched += 1;
                                touched[n as usize] = true;
                                let day = a.at.date_naive();
                                counted.since = Some(counted.since.map_or(day, |s| s.min(day)));
                            }
                        }
                        counted.activities += batch.len() as u64;
                        Msg::Batch(batch.into_iter().zip(matches).collect(), numbers, reader.bytes_read())
                    }
                    Err(e) => Msg::Failed(e),
                };
                counted.read += t.elapsed();
                let last = msg.is_last();
                // The writer stops listening when it fails; then so does this thread.
                if tx.send(msg).is_err() || last {
                    counted.touched = (0..touched.len() as u32)
                        .filter(|&n| touched[n as usize])
                        .map(|n| resolver.account(n).to_string())
                        .collect();
                    // The resolver (every domain and account) goes now, before the write ends.
                    return counted;
                }
            }
        });
        let loading = std::time::Instant::now();
        let loaded = match small {
            Some(r) => Ok(r),
            None => resolver(store),
        };
        let load = loading.elapsed();
        match loaded {
            // A reader gone already (it panicked) is found when joined.
            Ok(r) => drop(give_resolver.send(r)),
            Err(e) => {
                drop(give_resolver);
                worker.join().expect("the activity reader panicked");
                return Err(e);
            }
        }
        if let Some(closed) = write_after {
            // Nothing is ever sent: the sender dropped is the answer.
            let _ = closed.recv();
        }
        // Why the write stopped, when it was the file's fault.
        let mut failed: Option<ImportError> = None;
        let mut next_batch = || match rx.recv() {
            Ok(Msg::Batch(batch, _, bytes)) => {
                progress.advance(bytes);
                Ok(batch)
            }
            Ok(Msg::End) => {
                // What remains is the store's: building its indexes (seconds, after a big
                // first load) and committing.
                progress.phase("saving", 0);
                Ok(Vec::new())
            }
            Ok(Msg::Failed(e)) => {
                let said = e.to_string();
                failed = Some(e);
                Err(said)
            }
            Err(_) => Err("the activity reader stopped".to_string()),
        };
        let mut next = |written: Vec<(Activity, Match)>| {
            // A reader that has stopped takes nothing back: the batch is freed here.
            let _ = give_back.send(written);
            next_batch()
        };
        let written = store.insert_activity_batches(&mut next);
        // A reader blocked on a full channel after the write stopped early sees it gone and
        // stops too (dropping `next`, which only borrows the receiver, would not).
        drop(rx);
        let counted = worker.join().expect("the activity reader panicked");
        Ok((written, failed, counted, load))
    })?;
    let written = match (written, failed) {
        (_, Some(e)) => return Err(e),
        (Err(e), None) => return Err(e.into()),
        (Ok(w), None) => w,
    };
    Ok(ActivityImportReport {
        kind,
        added: written.added,
        already: written.already,
        into_empty: written.into_empty,
        load,
        read: first_read + counted.read,
        write: writing.elapsed(),
        ..counted
    })
}

/// Where an export's rows come from: the CSV reader, or NDJSON lines (with the first row, read
/// early to tell the kind).
enum Rows {
    Csv(CsvTable, csv::StringRecord),
    Lines(NdjsonLines, Option<(u64, csv::StringRecord)>),
}

/// An activity export read a batch at a time, so a file of any size goes through in bounded
/// memory. Bad rows are collected as they are met and reported together by [`finish`]
/// (nothing from a file with a bad row may be kept: its reader's caller writes in one
/// transaction and rolls back).
///
/// [`finish`]: ActivityReader::finish
pub struct ActivityReader {
    kind: &'static str,
    file: String,
    cols: Columns,
    rows: Rows,
    /// The file's size.
    total: u64,
    errors: Vec<RowError>,
}

impl ActivityReader {
    /// Open an export (CSV or NDJSON; through `mapping` when its columns are not a preset's)
    /// and recognise its kind.
    pub fn open(path: &Path, mapping: Option<&ActivityMapping>) -> Result<Self, ImportError> {
        if is_ndjson(path)? {
            let (mut lines, size) = NdjsonLines::open(path)?;
            // The first object's keys tell the kind; it is read again as the first row.
            let mut errors = Vec::new();
            let first = lines.next(&mut errors)?;
            let keys = lines.first_keys.clone().unwrap_or_default();
            let kind = match mapping {
                Some(m) => preset(&m.preset),
                None => kind_of(&|n| {
                    keys.iter()
                        .any(|k| crate::table::header_key(k) == crate::table::header_key(n))
                })
                .ok_or_else(|| {
                    if first.is_none() && !errors.is_empty() {
                        ImportError::BadRows(std::mem::take(&mut errors))
                    } else {
                        unknown_export(&lines.file, &keys)
                    }
                })?,
            };
            return Ok(Self {
                kind,
                total: size,
                file: lines.file.clone(),
                cols: Columns(COLUMNS.iter().enumerate().map(|(i, c)| (*c, Some(i))).collect()),
                rows: Rows::Lines(lines, first),
                errors,
            });
        }
        let mut t = CsvTable::open(path)?;
        if let Some(m) = mapping {
            // Their column names become the preset's.
            for h in t.headers.iter_mut() {
                if let Some((ours, _)) = m
                    .columns
                    .iter()
                    .find(|(_, theirs)| crate::table::header_key(theirs) == crate::table::header_key(h))
                {
                    *h = ours.clone();
                }
            }
        }
        let kind = match mapping {
            Some(m) => preset(&m.preset),
            None => {
                kind_of(&|n| t.find(&[n.to_string()]).is_some()).ok_or_else(|| unknown_export(&t.file, &t.headers))?
            }
        };
        Ok(Self {
            kind,
            total: t.bytes,
            file: t.file.clone(),
            cols: Columns(COLUMNS.iter().map(|n| (*n, t.find(&[n.to_string()]))).collect()),
            rows: Rows::Csv(t, csv::StringRecord::new()),
            errors: Vec::new(),
        })
    }

    /// Which preset the export is read as.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The file's size (for progress).
    pub fn bytes(&self) -> u64 {
        self.total
    }

    /// How far into the file reading is, in the unit of [`ActivityReader::bytes`].
    pub fn bytes_read(&self) -> u64 {
        match &self.rows {
            Rows::Csv(t, _) => t.reader.position().byte(),
            Rows::Lines(lines, _) => lines.read,
        }
    }

    /// The next (up to) `max` good activities; empty at the end of the file. A record the CSV
    /// reader cannot read is an error at once; bad cells wait for [`ActivityReader::finish`].
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<Activity>, ImportError> {
        let mut out = Vec::with_capacity(max.min(65_536));
        while out.len() < max {
            let a = match &mut self.rows {
                Rows::Csv(t, rec) => {
                    let Some(line) = t.read_record(rec)? else { break };
                    parse_row(self.kind, &self.file, &self.cols, line, rec, &mut self.errors)
                }
                Rows::Lines(lines, first) => {
                    let next = match first.take() {
                        Some(row) => Some(row),
                        None => lines.next(&mut self.errors)?,
                    };
                    let Some((line, rec)) = next else { break };
                    parse_row(self.kind, &self.file, &self.cols, line, &rec, &mut self.errors)
                }
            };
            out.extend(a);
        }
        Ok(out)
    }

    /// Every bad row met, if any (each `FILE:LINE: column NAME: reason`).
    pub fn finish(&mut self) -> Result<(), ImportError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ImportError::BadRows(std::mem::take(&mut self.errors)))
        }
    }
}

fn preset(name: &str) -> &'static str {
    match name {
        "web-analytics" => "web-analytics",
        "intent" => "intent",
        _ => "marketing-automation",
    }
}

/// One row of a preset's columns as an activity; every bad cell goes to `errors` (and a row with
/// one gives no activity).
fn parse_row(
    kind: &'static str,
    file: &str,
    cols: &Columns,
    line: u64,
    rec: &csv::StringRecord,
    errors: &mut Vec<RowError>,
) -> Option<Activity> {
    if rec.iter().all(|c| c.trim().is_empty()) {
        return None;
    }
    let cell = |n: &str| cols.get(n).and_then(|i| rec.get(i)).unwrap_or("").trim();
    let some = |n: &str| Some(cell(n)).filter(|v| !v.is_empty()).map(String::from);
    let before = errors.len();
    let mut bad = |column: &str, reason: String| errors.push(RowError::at(file, line, column, reason));
    let mut attributes = BTreeMap::new();
    let a = match kind {
        "marketing-automation" => {
            let at = timestamp(cell("Activity Date"))
                .map_err(|e| bad("Activity Date", e))
                .ok();
            let id = cell("Activity ID");
            if id.is_empty() {
                bad("Activity ID", "is required".into());
            }
            for (k, n) in [
                ("value", "Primary Attribute Value"),
                ("campaign", "Campaign"),
                ("minutes", "Minutes"),
            ] {
                if let Some(v) = some(n) {
                    attributes.insert(k.to_string(), v);
                }
            }
            at.map(|at| Activity {
                source: kind.into(),
                source_id: id.to_string(),
                at,
                kind: cell("Activity Type").to_string(),
                email: some("Email Address"),
                account_id: some("Account ID"),
                ip: None,
                company_domain: None,
                attributes: std::mem::take(&mut attributes),
            })
        }
        "web-analytics" => {
            let at = timestamp(cell("Timestamp")).map_err(|e| bad("Timestamp", e)).ok();
            let ip = match cell("Visitor IP") {
                "" => None,
                v => v
                    .parse()
                    .map_err(|_| bad("Visitor IP", format!("{v:?} is not an IPv4 address")))
                    .ok(),
            };
            for (k, n) in [("url", "Page URL"), ("campaign", "UTM Campaign")] {
                if let Some(v) = some(n) {
                    attributes.insert(k.to_string(), v);
                }
            }
            at.map(|at| Activity {
                source: kind.into(),
                source_id: content_id(&[
                    cell("Timestamp"),
                    cell("Visitor IP"),
                    cell("Page URL"),
                    cell("Known Email"),
                ]),
                at,
                kind: "Web Visit".into(),
                email: some("Known Email"),
                account_id: None,
                ip,
                company_domain: None,
                attributes: std::mem::take(&mut attributes),
            })
        }
        _ => {
            let at = timestamp(cell("Week Start")).map_err(|e| bad("Week Start", e)).ok();
            let strength = cell("Intent Strength").to_ascii_uppercase();
            if !["HIGH", "MEDIUM", "LOW"].contains(&strength.as_str()) {
                bad(
                    "Intent Strength",
                    format!("expected HIGH, MEDIUM or LOW, found {strength:?}"),
                );
            }
            for (k, n) in [
                ("keyword_set", "Keyword Set"),
                ("topic", "Topic"),
                ("company", "Company Name"),
            ] {
                if let Some(v) = some(n) {
                    attributes.insert(k.to_string(), v);
                }
            }
            attributes.insert("strength".into(), strength);
            at.map(|at| Activity {
                source: kind.into(),
                source_id: content_id(&[
                    cell("Week Start"),
                    cell("Company Domain"),
                    cell("Keyword Set"),
                    cell("Topic"),
                ]),
                at,
                kind: "Intent".into(),
                email: None,
                account_id: None,
                ip: None,
                company_domain: some("Company Domain"),
                attributes: std::mem::take(&mut attributes),
            })
        }
    };
    a.filter(|_| errors.len() == before)
}

/// The IP-range table: `CIDR`, `Account ID`.
pub fn read_ip_ranges(path: &Path) -> Result<Vec<(String, u32, u32, String)>, ImportError> {
    let mut t = CsvTable::open(path)?;
    let (c, a) = (t.required("CIDR")?, t.required("Account ID")?);
    let file = t.file.clone();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for row in t.rows() {
        let (line, rec) = row?;
        let cidr = rec.get(c).unwrap_or("").trim();
        let account = rec.get(a).unwrap_or("").trim();
        match parse_cidr(cidr) {
            Ok((first, last)) if !account.is_empty() => out.push((cidr.to_string(), first, last, account.to_string())),
            Ok(_) => errors.push(RowError {
                file: file.clone(),
                line,
                column: "Account ID".into(),
                reason: "is required".into(),
            }),
            Err(reason) => errors.push(RowError {
                file: file.clone(),
                line,
                column: "CIDR".into(),
                reason,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::BadRows(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abm_store::SqliteStore;

    fn held(store: &mut dyn Store) -> u64 {
        store.activity_summary().unwrap().0.iter().map(|(_, n)| n).sum()
    }

    /// A store in `dir` holding the accounts of a CRM export (`csv`).
    fn store_with_accounts(dir: &Path, csv: &str) -> SqliteStore {
        let mut store = SqliteStore::open(&dir.join("abm.db")).unwrap();
        let accounts = dir.join("accounts.csv");
        std::fs::write(&accounts, csv).unwrap();
        let opts = crate::accounts::AccountImportOptions {
            map: crate::mapping::ColumnMap::accounts(),
            skip_bad_rows: false,
            today: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            fiscal: abm_core::FiscalCalendar::default(),
            at: "2026-11-28T10:00:00Z".into(),
        };
        crate::accounts::import_accounts(&mut store, &accounts, &opts, &mut crate::accounts::Quiet).unwrap();
        store
    }

    /// A resolver holding only what some activities look up matches them exactly as one holding
    /// every account: email domains (a domain two accounts claim goes to the one with more
    /// people), free mail, account ids known and unknown, company domains.
    #[test]
    fn a_small_files_resolver_matches_like_the_full_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_accounts(
            dir.path(),
            "Account ID,Account Name,Website,Additional Domains\n\
             A1,Acme,acme.example,shared.example\n\
             B1,Beta,beta.example,shared.example\n\
             C1,Gamma,gamma.example,\n",
        );
        let people = dir.path().join("people.csv");
        std::fs::write(&people, "Email,Account ID\nbo@shared.example,B1\n").unwrap();
        crate::people::import_people(
            &mut store,
            &people,
            &crate::mapping::ColumnMap::people(),
            false,
            "2026-11-28T10:00:00Z",
            &mut crate::accounts::Quiet,
        )
        .unwrap();
        let act = |email: Option<&str>, account: Option<&str>, company: Option<&str>| Activity {
            source: "t".into(),
            source_id: format!("{email:?}{account:?}{company:?}"),
            at: "2026-11-02T10:00:00Z".parse().unwrap(),
            kind: "Email Open".into(),
            email: email.map(Into::into),
            account_id: account.map(Into::into),
            ip: None,
            company_domain: company.map(Into::into),
            attributes: BTreeMap::new(),
        };
        let acts = vec![
            act(Some("ann@acme.example"), None, None),
            act(Some("cy@shared.example"), None, None),
            act(Some("di@gmail.com"), Some("C1"), None),
            act(Some("ed@nowhere.example"), Some("Z9"), None),
            act(None, None, Some("https://www.Gamma.example/about")),
            act(None, None, None),
        ];
        // The same matches; each resolver numbers the accounts it holds its own way.
        let matches = |r: Resolver| r.resolve_all(&acts).into_iter().map(|(m, _)| m).collect::<Vec<_>>();
        let full = matches(resolver(&mut store).unwrap());
        let small = matches(resolver_for(&mut store, &acts).unwrap());
        assert_eq!(small, full);
        let accounts: Vec<Option<&str>> = small.iter().map(|m| m.account.as_deref()).collect();
        assert_eq!(
            accounts,
            vec![Some("A1"), Some("B1"), Some("C1"), None, Some("C1"), None]
        );
    }

    /// A file of several batches is read ahead while what matching needs is loaded; every
    /// batch is then matched, and each matched activity handed to `keep` with its account's
    /// number in this import (the same for the same account), and the end told once.
    #[test]
    fn every_batch_read_ahead_is_matched_and_kept_by_account() {
        #[derive(Default)]
        struct Kept {
            rows: Vec<(String, String, u32)>,
            ends: usize,
        }
        impl KeepMatched for Kept {
            fn keep(&mut self, activity: &Activity, crm_id: &str, account: u32) {
                self.rows
                    .push((activity.source_id.clone(), crm_id.to_string(), account));
            }
            fn all_kept(&mut self) {
                self.ends += 1;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_accounts(
            dir.path(),
            "Account ID,Account Name,Website\nA1,Acme,acme.example\nB1,Beta,beta.example\n",
        );
        let mut body = String::from("Activity ID,Activity Date,Activity Type,Email Address\n");
        let domains = ["acme.example", "beta.example", "gmail.com", "acme.example"];
        for i in 0..11 {
            let day = 20 - i;
            body.push_str(&format!(
                "a{i},2026-10-{day}T10:00:00Z,Email Open,p{i}@{}\n",
                domains[i % 4]
            ));
        }
        let file = dir.path().join("history.csv");
        std::fs::write(&file, &body).unwrap();
        let mut kept = Kept::default();
        let r = import_in_batches(&mut store, &file, None, &mut crate::accounts::Quiet, 2, Some(&mut kept)).unwrap();
        assert_eq!(
            (r.activities, r.added, r.matched),
            (11, 11, 8),
            "all but the three free-mail rows"
        );
        assert_eq!(r.touched, ["A1".to_string(), "B1".to_string()].into());
        assert_eq!(
            r.since,
            NaiveDate::from_ymd_opt(2026, 10, 11),
            "the last matched row's day"
        );
        assert_eq!(kept.ends, 1);
        let ids: BTreeSet<&str> = kept.rows.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(
            (kept.rows.len(), ids.len()),
            (8, 8),
            "each matched activity kept once: {:?}",
            kept.rows
        );
        let numbers: BTreeSet<(&str, u32)> = kept.rows.iter().map(|(_, crm, n)| (crm.as_str(), *n)).collect();
        assert_eq!(numbers.len(), 2, "one number per account: {numbers:?}");
    }

    /// A keeper that reads the store through a connection of its own (the replay alongside a
    /// first load) holds the write back until that connection is closed: the reading and
    /// matching start, nothing is written, and the reader soon waits for the writer. Once the
    /// keeper says so, the file lands whole.
    #[test]
    fn the_write_waits_for_a_keeper_still_reading_the_store() {
        struct Gated {
            closed: Option<std::sync::mpsc::Receiver<()>>,
            ended: std::sync::Arc<std::sync::atomic::AtomicBool>,
        }
        impl KeepMatched for Gated {
            fn keep(&mut self, _: &Activity, _: &str, _: u32) {}
            fn all_kept(&mut self) {
                self.ended.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            fn write_after(&mut self) -> Option<std::sync::mpsc::Receiver<()>> {
                self.closed.take()
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_accounts(dir.path(), "Account ID,Account Name,Website\nA1,Acme,acme.example\n");
        let mut body = String::from("Activity ID,Activity Date,Activity Type,Email Address\n");
        for i in 0..40 {
            body.push_str(&format!("a{i},2026-10-01T10:00:00Z,Email Open,p{i}@acme.example\n"));
        }
        let file = dir.path().join("history.csv");
        std::fs::write(&file, &body).unwrap();
        let (still_reading, closed) = std::sync::mpsc::channel::<()>();
        let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut gated = Gated {
            closed: Some(closed),
            ended: ended.clone(),
        };
        let r = std::thread::scope(|scope| {
            let import = scope.spawn(|| {
                import_in_batches(
                    &mut store,
                    &file,
                    None,
                    &mut crate::accounts::Quiet,
                    2,
                    Some(&mut gated),
                )
            });
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert!(
                !ended.load(std::sync::atomic::Ordering::SeqCst),
                "forty rows in batches of one are not all read while nothing is written"
            );
            drop(still_reading);
            import.join().unwrap().unwrap()
        });
        assert!(ended.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!((r.activities, r.added, r.matched), (40, 40, 40));
    }

    /// Two exports in `dir` of `n` email opens by ann@acme.example, one a day from 1 November
    /// 2026 (`n` up to 9): good.csv, and bad.csv, the same with a row dated "last tuesday" after
    /// them (line `n + 2`).
    fn daily_opens(dir: &Path, n: usize) -> (std::path::PathBuf, std::path::PathBuf) {
        let mut body = String::from("Activity ID,Activity Date,Activity Type,Email Address\n");
        for i in 0..n {
            body.push_str(&format!(
                "a{i},2026-11-0{}T10:00:00Z,Email Open,ann@acme.example\n",
                i + 1
            ));
        }
        let (good, bad) = (dir.join("good.csv"), dir.join("bad.csv"));
        std::fs::write(&good, &body).unwrap();
        std::fs::write(&bad, format!("{body}a{n},last tuesday,Email Open,ann@acme.example\n")).unwrap();
        (good, bad)
    }

    /// With a keeper between the reader and the writer, a file with a bad row in its last batch
    /// still lands not at all: the import stops (nothing waits on another thread), the good
    /// rows went by the keeper, and the keeper is never told the file was kept whole.
    #[test]
    fn a_keeper_is_not_told_the_end_of_a_file_with_a_bad_row() {
        #[derive(Default)]
        struct Kept {
            rows: usize,
            ends: usize,
        }
        impl KeepMatched for Kept {
            fn keep(&mut self, _: &Activity, _: &str, _: u32) {
                self.rows += 1;
            }
            fn all_kept(&mut self) {
                self.ends += 1;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_with_accounts(dir.path(), "Account ID,Account Name,Website\nA1,Acme,acme.example\n");
        let (_, bad) = daily_opens(dir.path(), 9);
        let mut kept = Kept::default();
        let err =
            import_in_batches(&mut store, &bad, None, &mut crate::accounts::Quiet, 2, Some(&mut kept)).unwrap_err();
        assert!(matches!(err, ImportError::BadRows(_)), "{err}");
        assert_eq!(held(&mut store), 0);
        assert_eq!(
            kept.rows, 9,
            "the good rows went by the keeper before the bad one was found"
        );
        assert_eq!(kept.ends, 0, "the end is told only of a file read whole and good");
    }

    /// A file read in several batches lands whole or not at all: a bad row in its last batch
    /// leaves nothing of the earlier ones; a good file lands whole, and again adds nothing.
    #[test]
    fn batches_land_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("abm.db")).unwrap();
        let (good, bad) = daily_opens(dir.path(), 5);
        let quiet = &mut crate::accounts::Quiet;

        let err = import_in_batches(&mut store, &bad, None, quiet, 2, None).unwrap_err();
        let ImportError::BadRows(rows) = &err else {
            panic!("{err}")
        };
        let said: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        assert!(
            said.len() == 1 && said[0].contains("bad.csv:7: column Activity Date"),
            "{said:?}"
        );
        assert_eq!(held(&mut store), 0, "nothing of the earlier batches is kept");

        let r = import_in_batches(&mut store, &good, None, quiet, 2, None).unwrap();
        assert_eq!((r.activities, r.added, r.already), (5, 5, 0));
        assert_eq!(r.since, None, "no activity matched an account");
        let again = import_in_batches(&mut store, &good, None, quiet, 2, None).unwrap();
        assert_eq!((again.added, again.already), (0, 5));
        assert_eq!(held(&mut store), 5);
    }
}
