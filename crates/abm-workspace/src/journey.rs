//! Journeys kept current: gathers each account's facts from the store (type, fit under the active
//! ICP, activities with the person's title, opportunities), replays them with the domain's stage
//! rules and stores the result. `rebuild` replays every account; `update` only the accounts an
//! import touched, and must give the same journeys as a rebuild on the same day.

use crate::packed::{ActivityArena, PackedActivity};
use crate::Result;
use abm_core::engagement::EngagementRules;
use abm_core::journey::{replay, AccountFacts, Journey, Stages};
use abm_store::Store;
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

/// What a rebuild or update did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Refresh {
    pub accounts: usize,
    pub activities: usize,
    pub stage_changes: usize,
    pub through: NaiveDate,
    pub millis: u128,
    /// Where the time went: reading the facts, replaying, writing.
    pub read_ms: u128,
    pub replay_ms: u128,
    pub write_ms: u128,
    /// Every account's activities came from the import that preceded, not read back, and were
    /// read and replayed while it finished writing: `millis` counts only the writing after it.
    pub as_imported: bool,
}

/// The title of the person `a` came from, among `titles` (by lower-case email).
fn title_of(a: &abm_core::activity::Activity, titles: &HashMap<String, String>) -> Option<String> {
    titles.get(&a.email.as_ref()?.to_lowercase()).cloned()
}

/// Activities, each with the title of the person it came from.
fn with_titles(
    activities: Vec<abm_core::activity::Activity>,
    titles: &HashMap<String, String>,
) -> Vec<(abm_core::activity::Activity, Option<String>)> {
    activities
        .into_iter()
        .map(|a| {
            let t = title_of(&a, titles);
            (a, t)
        })
        .collect()
}

/// An account with its activities, each with the title of the person it came from (for the
/// engagement weights): what `explain` and a replay read. `None` when there is no such account.
pub fn account_activities(
    store: &mut dyn Store,
    crm_id: &str,
) -> abm_store::Result<
    Option<(
        abm_store::AccountDetail,
        Vec<(abm_core::activity::Activity, Option<String>)>,
    )>,
> {
    let Some(detail) = store.get_account(crm_id)? else {
        return Ok(None);
    };
    let titles: HashMap<String, String> = detail
        .people
        .iter()
        .filter_map(|p| Some((p.email.clone()?.to_lowercase(), p.title.clone()?)))
        .collect();
    let activities = with_titles(store.activities_of(&detail.summary.crm_id)?, &titles);
    Ok(Some((detail, activities)))
}

/// The facts of the accounts to replay, their activities packed (a year of a million accounts'
/// activities must fit in memory) and unpacked one account at a time, as it is replayed.
#[derive(Default)]
struct Gathered {
    /// In crm id order, without their activities.
    facts: Vec<AccountFacts>,
    arena: ActivityArena,
    /// Each account's activities, as `facts` is ordered.
    of: Vec<Vec<PackedActivity>>,
    /// Titles by crm id, then lower-case email.
    titles: HashMap<String, HashMap<String, String>>,
}

impl Gathered {
    fn activities(&self) -> usize {
        self.of.iter().map(Vec::len).sum()
    }

    /// Each account's activities dated `since` or later, oldest first, packed
    /// ([`abm_core::packing`]); accounts without any are left out.
    fn recent(&self, since: NaiveDate) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
        // On or after the day began (UTC): at or after its first second.
        let from = since.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
        self.facts
            .iter()
            .zip(&self.of)
            .enumerate()
            .filter_map(move |(i, (f, of))| {
                self.fetch_ahead(i);
                let mut recent: Vec<((i64, u32), &PackedActivity)> = of
                    .iter()
                    .map(|p| (self.arena.instant(p), p))
                    .filter(|((secs, _), _)| *secs >= from)
                    .collect();
                if recent.is_empty() {
                    return None;
                }
                recent.sort_by_key(|x| x.0);
                let (mut packed, mut before) = (Vec::with_capacity(recent.len() * 64), None);
                for (_, p) in recent {
                    self.arena.repack(p, before, &mut packed);
                    before = Some(p);
                }
                Some((f.crm_id.clone(), packed))
            })
    }

    /// Every account's activities, as an import collected them (accounts not gathered left out).
    fn file(&mut self, collected: Collected) {
        let (arena, by_account) = collected.by_account();
        for (crm_id, list) in by_account {
            if let Ok(i) = self.facts.binary_search_by(|f| f.crm_id.as_str().cmp(&crm_id)) {
                self.of[i] = list;
            }
        }
        self.arena = arena;
    }

    /// Account `i`'s journey, replayed with `rules` through `through`.
    fn replay_of(&self, i: usize, rules: &Rules, through: NaiveDate) -> Journey {
        replay(rules.stages, rules.engagement, &self.facts_of(i), through)
    }

    /// Ask for the memory of the activities of account `i`, about to be read, and of the
    /// account [`FETCH_AHEAD`] after it (accounts are read in order, as a rule: asked for
    /// already when it comes).
    fn fetch_ahead(&self, i: usize) {
        for j in [i, i + FETCH_AHEAD] {
            self.arena.fetch(self.of.get(j).into_iter().flatten());
        }
    }

    /// Account `i`'s facts with its activities.
    fn facts_of(&self, i: usize) -> AccountFacts {
        let f = &self.facts[i];
        let titles = self.titles.get(&f.crm_id);
        self.fetch_ahead(i);
        let activities = self.of[i]
            .iter()
            .map(|packed| {
                let a = self.arena.unpack(packed);
                let title = titles.and_then(|t| title_of(&a, t));
                (a, title)
            })
            .collect();
        AccountFacts {
            activities,
            ..f.clone()
        }
    }
}

/// How many accounts ahead of the one read the memory of activities is asked for.
const FETCH_AHEAD: usize = 2;

/// Matched activities packed as an import reads them. When the import went into a store that
/// held no activity, and none was skipped as already held, they are every activity the store
/// holds: the replay of every account that follows takes them from here instead of reading ten
/// million rows back.
#[derive(Default)]
struct Collected {
    arena: ActivityArena,
    /// By the import's account number: the account's crm id (empty until it is met).
    ids: Vec<String>,
    /// Account numbers and activities in the order read, in chunks of a fixed size. Filing
    /// each activity under its account as it comes cost the keeping thread a growing list per
    /// account; [`Collected::by_account`] files them all at once.
    kept: Vec<(Vec<u32>, Vec<PackedActivity>)>,
}

/// Activities kept per chunk of [`Collected::kept`] (7 MiB of them).
const KEPT_CHUNK: usize = 1 << 18;

impl Collected {
    /// Keep `activity`, matched to `crm_id`, the import's account number `account`.
    fn keep(&mut self, activity: &abm_core::activity::Activity, crm_id: &str, account: u32) {
        let packed = self.arena.pack(activity.view());
        let n = account as usize;
        if n >= self.ids.len() {
            self.ids.resize_with(n + 1, String::new);
        }
        if self.ids[n].is_empty() {
            self.ids[n] = crm_id.to_string();
        }
        if self.kept.last().is_none_or(|(numbers, _)| numbers.len() == KEPT_CHUNK) {
            self.kept
                .push((Vec::with_capacity(KEPT_CHUNK), Vec::with_capacity(KEPT_CHUNK)));
        }
        let (numbers, activities) = self.kept.last_mut().expect("a chunk");
        numbers.push(account);
        activities.push(packed);
    }

    /// The arena, and each account met (crm id) with its activities in the order read. Each
    /// list is made its final size first; each chunk is freed once filed.
    fn by_account(self) -> (ActivityArena, Vec<(String, Vec<PackedActivity>)>) {
        let mut counts = vec![0usize; self.ids.len()];
        for (numbers, _) in &self.kept {
            numbers.iter().for_each(|&n| counts[n as usize] += 1);
        }
        let mut lists: Vec<Vec<PackedActivity>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (numbers, activities) in self.kept {
            for (n, p) in numbers.into_iter().zip(activities) {
                lists[n as usize].push(p);
            }
        }
        let met = self.ids.into_iter().zip(lists).filter(|(id, _)| !id.is_empty());
        (self.arena, met.collect())
    }
}

/// Keeps a first load's matched rows, and hands them to the replay once the file is read whole.
struct HandOver {
    collected: Collected,
    to: Option<std::sync::mpsc::SyncSender<Collected>>,
    /// Gone once the replay's own connection to the store is closed.
    write_after: Option<std::sync::mpsc::Receiver<()>>,
}

impl abm_import::activities::KeepMatched for HandOver {
    fn keep(&mut self, activity: &abm_core::activity::Activity, crm_id: &str, account: u32) {
        self.collected.keep(activity, crm_id, account);
    }

    fn write_after(&mut self) -> Option<std::sync::mpsc::Receiver<()>> {
        self.write_after.take()
    }

    fn all_kept(&mut self) {
        if let Some(to) = self.to.take() {
            // A replay that stopped early (its store would not open) takes nothing.
            let _ = to.send(std::mem::take(&mut self.collected));
        }
    }
}

/// Every account's journey, replayed from a first load of history while the import was still
/// writing it (building the store's indexes, committing) and stored as it was replayed: what
/// [`update`] would have stored replaying every account, so it stores nothing more.
pub struct Replayed(Refresh);

/// What a first load of history is replayed by, ahead of the journey update that follows it:
/// the rules, the day, and a second connection to the store to read the accounts' other facts
/// through while the first is writing.
pub struct ReplayAhead<'a> {
    pub rules: &'a Rules<'a>,
    pub through: NaiveDate,
    pub open: &'a (dyn Fn() -> Result<Box<dyn Store>> + Sync),
}

/// What the replay alongside an import hands the writing thread: journeys a run of accounts at
/// a time (in the order taken; the writer replays some runs itself), then how long reading the
/// facts and replaying took.
enum Replaying {
    Run(Vec<Journey>),
    Done {
        read: std::time::Duration,
        replay: std::time::Duration,
    },
}

/// Accounts replayed per run handed over: small enough that the writer starts early and holds
/// little, big enough that handing over costs nothing.
const REPLAY_RUN: usize = 4_096;

/// The runs of accounts still to replay, taken in turn by the replay thread and by the writer
/// whenever no replayed run is waiting for it, so that neither core idles.
#[derive(Default)]
struct Claims {
    next: std::sync::atomic::AtomicUsize,
}

impl Claims {
    /// The journeys of the next run nobody has taken, replayed; `None` once every run is taken.
    fn next(&self, gathered: &Gathered, ahead: &ReplayAhead<'_>) -> Option<Vec<Journey>> {
        let n = gathered.facts.len();
        let first = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * REPLAY_RUN;
        (first < n).then(|| {
            (first..n.min(first + REPLAY_RUN))
                .map(|i| gathered.replay_of(i, ahead.rules, ahead.through))
                .collect()
        })
    }
}

/// Import an activity export (see [`abm_import::activities::import_activities`]). Into a store
/// without activities (a first load of history) the matched rows are kept as they are read;
/// another thread reads the accounts' other facts meanwhile (through a connection of its own,
/// closed before the import writes) and, once the file is read whole, replays every account
/// from them (by `ahead`) while the store builds its indexes and commits. When those rows are
/// every activity the store now holds (the write found the store empty and skipped nothing),
/// this thread then renews the store's copy of the activities from them as a replay of every
/// account would (a store that wants one gets its copy of every activity:
/// [`Store::wants_every_activity_copied`]) and stores the journeys a run at a time as the
/// replay hands them over, in one transaction:
/// writing and replaying share the two cores instead of following one another. The
/// [`Replayed`] handed back says so to [`update`]; without it (the replay or either write
/// failed), the update reads the rows back and replays them itself.
pub fn import_activities(
    store: &mut dyn Store,
    path: &std::path::Path,
    mapping: Option<&abm_import::activities::ActivityMapping>,
    progress: &mut dyn abm_import::accounts::ImportProgress,
    ahead: &ReplayAhead<'_>,
) -> std::result::Result<(abm_import::activities::ActivityImportReport, Option<Replayed>), abm_import::ImportError> {
    if store.holds_activities()? {
        return Ok((
            abm_import::activities::import_activities(store, path, mapping, progress, None)?,
            None,
        ));
    }
    let (to, handed) = std::sync::mpsc::sync_channel::<Collected>(1);
    let (closed, write_after) = std::sync::mpsc::channel::<()>();
    let mut hand_over = HandOver {
        collected: Collected::default(),
        to: Some(to),
        write_after: Some(write_after),
    };
    let claims = Claims::default();
    std::thread::scope(|scope| {
        // The gathered rows, lent back for the copy while the replay runs; and the journeys,
        // as many runs as the replay gets ahead of the writer (it replays while the copy is
        // written, and would hold every journey anyway). Both receivers go when this closure
        // returns, however it returns, so a replay still handing journeys over stops.
        let (share, shared) = std::sync::mpsc::sync_channel::<std::sync::Arc<Gathered>>(1);
        let (give_run, runs) = std::sync::mpsc::channel::<Replaying>();
        let claims = &claims;
        scope.spawn(move || {
            // The accounts' other facts first, while the import reads its first rows and loads
            // what matching needs; the connection closes before the import writes (it waits
            // for `closed` to go). A replay that stops here says nothing more (nor does one
            // whose import failed before it read the file whole), and the update reads the
            // rows back.
            let started = Instant::now();
            let Ok(mut facts_from) = (ahead.open)() else { return };
            let Ok(mut gathered) = gather_facts(facts_from.as_mut(), None) else {
                return;
            };
            drop(facts_from);
            drop(closed);
            let mut read = started.elapsed();
            let Ok(collected) = handed.recv() else { return };
            let started = Instant::now();
            gathered.file(collected);
            let gathered = std::sync::Arc::new(gathered);
            let _ = share.send(gathered.clone());
            read += started.elapsed();
            let replaying = Instant::now();
            while let Some(run) = claims.next(&gathered, ahead) {
                // The writer stopped listening: its write failed, or the import did.
                if give_run.send(Replaying::Run(run)).is_err() {
                    return;
                }
            }
            let replay = replaying.elapsed();
            let _ = give_run.send(Replaying::Done { read, replay });
        });
        let imported = abm_import::activities::import_activities(store, path, mapping, progress, Some(&mut hand_over));
        // The replay waits for rows no more.
        drop(hand_over);
        let r = imported?;
        // The import stands (it committed) whether or not the journeys are stored after it.
        let stored = match every_held(&r) {
            true => store_as_replayed(ahead, store, &shared, &runs, claims),
            false => None,
        };
        Ok((r, stored))
    })
}

/// Whether an import's rows are every activity the store holds.
fn every_held(r: &abm_import::activities::ActivityImportReport) -> bool {
    r.into_empty && r.already == 0
}

/// Renew the store's copy of the activities from the rows the replay gathered (once it has:
/// the replay thread lends them as it starts replaying), then store the journeys as the replay
/// hands them over, replaying runs here too whenever none is waiting; `None` when the replay
/// could not gather the rows or stopped, or a write failed.
fn store_as_replayed(
    ahead: &ReplayAhead<'_>,
    store: &mut dyn Store,
    shared: &std::sync::mpsc::Receiver<std::sync::Arc<Gathered>>,
    runs: &std::sync::mpsc::Receiver<Replaying>,
    claims: &Claims,
) -> Option<Replayed> {
    let gathered = shared.recv().ok()?;
    let activities = gathered.activities();
    renew_copy(ahead.rules, store, &gathered, ahead.through).ok()?;
    let started = Instant::now();
    let (mut accounts, mut stage_changes, mut took) = (0, 0, None);
    let stopped = || "the replay stopped before it replayed every account".to_string();
    let mut next = || -> std::result::Result<Vec<Journey>, String> {
        // A run waiting; else the next untaken run, replayed here; once every run is taken, the
        // replay thread's runs still to come, then its times (sent after its last run: the end).
        let handed = match runs.try_recv() {
            Ok(handed) => handed,
            Err(_) => match claims.next(&gathered, ahead) {
                Some(run) => Replaying::Run(run),
                None => runs.recv().map_err(|_| stopped())?,
            },
        };
        match handed {
            Replaying::Run(run) => {
                accounts += run.len();
                stage_changes += run.iter().map(|j| j.events.len()).sum::<usize>();
                Ok(run)
            }
            Replaying::Done { read, replay } => {
                took = Some((read, replay));
                Ok(Vec::new())
            }
        }
    };
    store.replace_journeys_in_runs(&mut next).ok()?;
    let (read, replay) = took?;
    // What the update reports: only the writing after the import counts as its time.
    let write = started.elapsed().as_millis();
    Some(Replayed(Refresh {
        accounts,
        activities,
        stage_changes,
        through: ahead.through,
        millis: write,
        read_ms: read.as_millis(),
        replay_ms: replay.as_millis(),
        write_ms: write,
        as_imported: true,
    }))
}

/// An account's stored journey facts as a replay reads them (its activities still to come),
/// and its people's titles by lower-case email.
fn account_facts(f: abm_store::JourneyFacts) -> (AccountFacts, HashMap<String, String>) {
    let facts = AccountFacts {
        crm_id: f.crm_id,
        account_type: f.account_type,
        fit: f.fit.map(f64::from),
        activities: Vec::new(),
        opportunities: f.opportunities,
    };
    (facts, f.titles.into_iter().collect())
}

/// Facts of a few accounts, read account by account through the indexes.
fn gather_few(store: &mut dyn Store, ids: &BTreeSet<String>) -> Result<Gathered> {
    let ids: Vec<String> = ids.iter().cloned().collect();
    let mut g = Gathered::default();
    for f in store.journey_facts(&ids)? {
        let (facts, titles) = account_facts(f);
        let packed = store
            .activities_of(&facts.crm_id)?
            .iter()
            .map(|a| g.arena.pack(a.view()))
            .collect();
        g.of.push(packed);
        g.titles.insert(facts.crm_id.clone(), titles);
        g.facts.push(facts);
    }
    Ok(g)
}

/// Facts of the accounts in `only` (every account when `None`), by crm id.
fn gather(store: &mut dyn Store, only: Option<&BTreeSet<String>>, watch: &Watch) -> Result<Gathered> {
    if let Some(ids) = only.filter(|ids| ids.len() <= 2_000) {
        return gather_few(store, ids);
    }
    let mut g = gather_facts(store, only)?;
    // Fx, not SipHash: every one of ten million activities looks its account up here.
    let at: HashMap<String, usize, abm_core::paid::FxBuild> =
        g.facts.iter().enumerate().map(|(i, f)| (f.crm_id.clone(), i)).collect();
    g.arena = read_every_activity(store, &at, &mut g.of, watch)?;
    Ok(g)
}

/// The facts of the accounts in `only` (every account when `None`) but their activities, in crm
/// id order: types, fits, titles and opportunities. Each account's list of activities is there,
/// empty.
fn gather_facts(store: &mut dyn Store, only: Option<&BTreeSet<String>>) -> Result<Gathered> {
    let wanted = |id: &str| only.is_none_or(|o| o.contains(id));
    let mut facts: Vec<AccountFacts> = store
        .account_types()?
        .into_iter()
        .filter(|(crm_id, _)| wanted(crm_id))
        .map(|(crm_id, account_type)| AccountFacts {
            crm_id,
            account_type,
            ..Default::default()
        })
        .collect();
    // In byte order (a server's collation may order them otherwise); already so, as a rule.
    facts.sort_by(|a, b| a.crm_id.cmp(&b.crm_id));
    let place = |facts: &[AccountFacts], id: &str| facts.binary_search_by(|f| f.crm_id.as_str().cmp(id)).ok();
    for f in store.fits()? {
        if let Some(i) = place(&facts, &f.crm_id) {
            facts[i].fit = Some(f.score as f64);
        }
    }
    let mut titles: HashMap<String, HashMap<String, String>> = HashMap::new();
    for (crm, email, title) in store.person_titles()? {
        if place(&facts, &crm).is_some() {
            titles.entry(crm).or_default().insert(email, title);
        }
    }
    for o in store.opportunities()? {
        if let Some(i) = place(&facts, &o.crm_id) {
            facts[i].opportunities.push(o);
        }
    }
    Ok(Gathered {
        of: vec![Vec::new(); facts.len()],
        facts,
        arena: ActivityArena::default(),
        titles,
    })
}

/// Every matched activity in the store, packed into an arena and filed in `of` by its
/// account's place in `at`. This thread scans the store, packing each activity as it is lent;
/// another finds each one's account (a lookup among a million, at random) and files it there.
fn read_every_activity(
    store: &mut dyn Store,
    at: &HashMap<String, usize, abm_core::paid::FxBuild>,
    of: &mut [Vec<PackedActivity>],
    watch: &Watch,
) -> Result<ActivityArena> {
    /// Packed activities, their accounts' crm ids end to end.
    #[derive(Default)]
    struct Batch {
        crm_ids: String,
        ends: Vec<usize>,
        packed: Vec<PackedActivity>,
    }
    const BATCH: usize = 4_096;
    watch.enter(Phase::Reading, 0);
    let mut arena = ActivityArena::default();
    let (to_filer, batches) = std::sync::mpsc::sync_channel::<Batch>(8);
    std::thread::scope(|scope| {
        let filer = scope.spawn(move || {
            for batch in batches {
                let mut start = 0;
                for (&end, packed) in batch.ends.iter().zip(batch.packed) {
                    if let Some(&i) = at.get(&batch.crm_ids[start..end]) {
                        of[i].push(packed);
                    }
                    start = end;
                }
            }
        });
        let mut batch = Batch::default();
        let scanned = store.each_matched_activity_lent(&mut |crm, a| {
            batch.packed.push(arena.pack(a));
            batch.crm_ids.push_str(crm);
            batch.ends.push(batch.crm_ids.len());
            if batch.packed.len() == BATCH {
                // A failed send means the filer stopped: its join says why.
                let _ = to_filer.send(std::mem::take(&mut batch));
            }
            watch.add(1);
        });
        let _ = to_filer.send(batch);
        drop(to_filer);
        filer.join().expect("the filing thread panicked");
        scanned
    })?;
    Ok(arena)
}

/// The rules a journey is replayed by: `stages.toml` and `engagement.toml`.
pub struct Rules<'a> {
    pub stages: &'a Stages,
    pub engagement: &'a EngagementRules,
}

/// Where a long replay is: what a caller's progress bar shows. The replay threads move it on;
/// any thread may read it.
#[derive(Debug, Default)]
pub struct Watch {
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

/// The phases of a replay of many accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not started (or a few accounts, not watched).
    Idle,
    /// Reading the accounts' activities (done: activities read; no total).
    Reading,
    /// Replaying (done of total accounts).
    Replaying,
    /// Storing the journeys.
    Writing,
}

impl Watch {
    /// The phase, and how far into it (done, total).
    pub fn now(&self) -> (Phase, u64, u64) {
        let phase = match self.phase.load(Ordering::Relaxed) {
            1 => Phase::Reading,
            2 => Phase::Replaying,
            3 => Phase::Writing,
            _ => Phase::Idle,
        };
        (
            phase,
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    fn enter(&self, phase: Phase, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
}

/// `f` of each of `items`, in order, the items spread over the cores. Accounts replay
/// independently but not equally (a few busy accounts hold much of the activity, and sit
/// together in crm id order), so each core takes the next small run of items as it finishes one.
/// Results go straight to their place: a million journeys are never held twice.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let run = (items.len() / (threads * 16)).max(16);
    let mut out: Vec<Option<R>> = Vec::with_capacity(items.len());
    out.resize_with(items.len(), || None);
    let runs = std::sync::Mutex::new(items.chunks(run).zip(out.chunks_mut(run)));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let Some((part, places)) = runs.lock().expect("a replay thread panicked").next() else {
                    return;
                };
                for (item, place) in part.iter().zip(places) {
                    *place = Some(f(item));
                }
            });
        }
    });
    // In place: an `Option` of a result is the result's size.
    out.into_iter().map(|r| r.expect("every item was done")).collect()
}

fn replay_all(rules: &Rules, gathered: &Gathered, through: NaiveDate, watch: &Watch) -> Vec<Journey> {
    let n = gathered.facts.len();
    watch.enter(Phase::Replaying, n as u64);
    let accounts: Vec<usize> = (0..n).collect();
    in_parallel(&accounts, |&i| {
        let j = gathered.replay_of(i, rules, through);
        watch.add(1);
        j
    })
}

impl Refresh {
    /// A refresh's counts, and its times from `started` with the reading and replay done at
    /// `read` and `replayed`.
    fn timed(
        activities: usize,
        journeys: &[Journey],
        through: NaiveDate,
        started: Instant,
        read: std::time::Duration,
        replayed: std::time::Duration,
    ) -> Refresh {
        let done = started.elapsed();
        Refresh {
            accounts: journeys.len(),
            activities,
            stage_changes: journeys.iter().map(|j| j.events.len()).sum(),
            through,
            millis: done.as_millis(),
            read_ms: read.as_millis(),
            replay_ms: (replayed - read).as_millis(),
            write_ms: (done - replayed).as_millis(),
            as_imported: false,
        }
    }
}

/// How many days older than the windows reach the store's copy of recent activities starts: an
/// import of activities up to this much older than the last replay still resumes from the copy.
const RECENT_SLACK_DAYS: i64 = 14;

/// Renew the store's copy of the activities from every account's facts, gathered for a replay of
/// every account: a copy of every activity for a store that wants one, else of the activities
/// the windows reach back to (with some slack) — what resuming a journey reads.
fn renew_copy(rules: &Rules, store: &mut dyn Store, gathered: &Gathered, through: NaiveDate) -> abm_store::Result<()> {
    let lookback = abm_core::journey::lookback_days(rules.stages, rules.engagement);
    let since = match store.wants_every_activity_copied()? {
        true => abm_store::all_history(),
        false => through - chrono::Duration::days(lookback + RECENT_SLACK_DAYS),
    };
    store.keep_recent_activities(since, &mut gathered.recent(since))
}

/// Gather the facts of `only` (every account when `None`), replay them, and hand the journeys
/// to `write`; timed. When every account was replayed, the store's copy of recent activities
/// (what resuming a journey reads) is renewed from the facts in hand.
fn refresh(
    rules: &Rules,
    store: &mut dyn Store,
    only: Option<&BTreeSet<String>>,
    through: NaiveDate,
    watch: &Watch,
    write: impl FnOnce(&mut dyn Store, &[Journey]) -> abm_store::Result<()>,
) -> Result<Refresh> {
    let started = Instant::now();
    let gathered = gather(store, only, watch)?;
    let read = started.elapsed();
    let journeys = replay_all(rules, &gathered, through, watch);
    let replayed = started.elapsed();
    let activities = gathered.activities();
    watch.enter(Phase::Writing, journeys.len() as u64);
    if only.is_none() {
        renew_copy(rules, store, &gathered, through)?;
    }
    // Freeing every account's facts takes a while: another thread does it during the write,
    // and the journeys after it, beside whatever follows (a store closing).
    let freeing = std::thread::spawn(move || drop(gathered));
    write(store, &journeys)?;
    watch.enter(Phase::Idle, 0);
    let timed = Refresh::timed(activities, &journeys, through, started, read, replayed);
    let _ = freeing.join();
    std::thread::spawn(move || drop(journeys));
    Ok(timed)
}

/// Replay every account's journey from the facts, through `through`, replacing what was stored.
pub fn rebuild(rules: &Rules, store: &mut dyn Store, through: NaiveDate, watch: &Watch) -> Result<Refresh> {
    refresh(rules, store, None, through, watch, |s, j| s.replace_journeys(j))
}

/// Replay only `accounts` (those new facts touched), through `through`. With `since` (the
/// earliest day of the new facts, all of them activities), each account's stored journey is
/// resumed from that day, reading only the activities its windows reach; without, each is
/// replayed whole. When some accounts have no journey yet (the first import, or accounts
/// imported since), or a quarter of all accounts were touched, every account is replayed. With
/// `ahead` (through the same day) every account's journey is stored already, replayed alongside
/// a first load of history (see [`import_activities`]): nothing is left to do.
pub fn update(
    rules: &Rules,
    store: &mut dyn Store,
    accounts: &BTreeSet<String>,
    since: Option<NaiveDate>,
    through: NaiveDate,
    watch: &Watch,
    ahead: Option<Replayed>,
) -> Result<Refresh> {
    // Stored already, replayed from every activity the store holds: what replaying every
    // account here would store.
    if let Some(Replayed(stored)) = ahead.filter(|a| a.0.through == through) {
        return Ok(stored);
    }
    // The time a resume takes counts from here: deciding whether to resume is part of it.
    let started = Instant::now();
    let (held, with_journey) = store.journey_coverage()?;
    // Accounts without a journey need one; and when a quarter of all accounts or more were
    // touched, replaying everything (activities packed, read in one scan) is as quick as
    // resuming each and holds far less in memory. A store still wanting its copy of every
    // activity (its first load stopped before writing it) gets it from such a replay.
    if held != with_journey || accounts.len() as u64 * 4 >= held.max(1) || store.wants_every_activity_copied()? {
        return refresh(rules, store, None, through, watch, |s, j| s.replace_journeys(j));
    }
    let Some(from) = since else {
        return refresh(rules, store, Some(accounts), through, watch, |s, j| {
            let whole: Vec<(Journey, Option<NaiveDate>)> = j.iter().map(|j| (j.clone(), None)).collect();
            s.revise_journeys(&whole)
        });
    };
    let lookback = abm_core::journey::lookback_days(rules.stages, rules.engagement);
    let ids: Vec<String> = accounts.iter().cloned().collect();
    let mut priors: HashMap<String, Journey> = store
        .journeys_of(&ids)?
        .into_iter()
        .map(|j| (j.crm_id.clone(), j))
        .collect();
    // One read of the recent activities of every account with a journey (the window reach
    // before the earliest day any of them resumes from), the whole history of the others.
    let earliest = priors
        .values()
        .map(|p| abm_core::journey::resumed_from(p, from, through))
        .min()
        .unwrap_or(from);
    let with_prior: Vec<String> = ids.iter().filter(|i| priors.contains_key(*i)).cloned().collect();
    let mut recent: HashMap<String, Vec<abm_core::activity::Activity>> = HashMap::new();
    for (crm, a) in store.activities_of_since(&with_prior, earliest - chrono::Duration::days(lookback))? {
        recent.entry(crm).or_default().push(a);
    }
    let mut work = Vec::new();
    for f in store.journey_facts(&ids)? {
        let (mut facts, titles) = account_facts(f);
        let prior = priors.remove(&facts.crm_id);
        let activities = match &prior {
            Some(_) => recent.remove(&facts.crm_id).unwrap_or_default(),
            None => store.activities_of(&facts.crm_id)?,
        };
        facts.activities = with_titles(activities, &titles);
        work.push((facts, prior));
    }
    let read = started.elapsed();
    let journeys: Vec<Journey> = in_parallel(&work, |(facts, prior)| match prior {
        Some(p) => abm_core::journey::resume(rules.stages, rules.engagement, facts, p, from, through),
        None => replay(rules.stages, rules.engagement, facts, through),
    });
    let replayed = started.elapsed();
    // Only what a resume replaced is written: each journey's row and its changes from the day
    // its resume started.
    let revised: Vec<(Journey, Option<NaiveDate>)> = journeys
        .into_iter()
        .zip(&work)
        .map(|(j, (_, prior))| {
            let day = prior
                .as_ref()
                .map(|p| abm_core::journey::resumed_from(p, from, through));
            (j, day)
        })
        .collect();
    store.revise_journeys(&revised)?;
    let journeys: Vec<Journey> = revised.into_iter().map(|(j, _)| j).collect();
    let activities = work.iter().map(|(f, _)| f.activities.len()).sum();
    Ok(Refresh::timed(activities, &journeys, through, started, read, replayed))
}

/// Every account's journey replayed with `rules`, stored nowhere: what a rules change would give.
pub fn preview(rules: &Rules, store: &mut dyn Store, through: NaiveDate, watch: &Watch) -> Result<Vec<Journey>> {
    let gathered = gather(store, None, watch)?;
    let journeys = replay_all(rules, &gathered, through, watch);
    watch.enter(Phase::Idle, 0);
    Ok(journeys)
}

/// Put engagement rules version `version` in force: replay every account with `rules` (its
/// text, parsed) and store the journeys with the activation, in one transaction.
pub fn activate(
    rules: &Rules,
    store: &mut dyn Store,
    version: i64,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
    through: NaiveDate,
) -> Result<Refresh> {
    refresh(rules, store, None, through, &Watch::default(), |s, j| {
        s.activate_rules("engagement", version, actor, at, j)
    })
}

/// What [`activate_engagement`] put in force.
#[derive(Debug)]
pub struct Activated {
    pub version: i64,
    pub refresh: Refresh,
    /// engagement.toml was rewritten to hold the version (after a rollback).
    pub file_rewritten: bool,
}

/// Put engagement rules in force and replay every journey with them, in the activation's
/// transaction: engagement.toml as it stands (saved as a new version unless identical to one), or
/// saved version `version` (a rollback, which is then written back into engagement.toml so the
/// file holds what is in force).
pub fn activate_engagement(
    ws: &crate::Workspace,
    store: &mut dyn Store,
    version: Option<i64>,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Activated> {
    let versions = store.rules_versions("engagement")?;
    let (version, text, engagement) = match version {
        Some(v) => {
            let found = versions
                .into_iter()
                .find(|x| x.version == v)
                .ok_or(crate::WorkspaceError::NoSuchVersion {
                    kind: "engagement rules",
                    version: v,
                    hint: "abm engagement history",
                })?;
            let rules = crate::toml_text::parse(&found.definition, &format!("engagement rules version {v}"))?;
            (v, found.definition, rules)
        }
        None => {
            let (rules, text) = ws.engagement_draft()?;
            let version = match versions.iter().find(|x| x.definition == text) {
                Some(x) => x.version,
                None => store.save_rules_version("engagement", &text, actor, at)?,
            };
            (version, text, rules)
        }
    };
    let stages = ws.stages()?;
    let rules = Rules {
        stages: &stages,
        engagement: &engagement,
    };
    let refresh = activate(&rules, store, version, actor, at, ws.today())?;
    let path = ws.dir.join("engagement.toml");
    let file_rewritten = std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str());
    if file_rewritten {
        std::fs::write(&path, &text).map_err(|source| crate::WorkspaceError::Io { path, source })?;
    }
    Ok(Activated {
        version,
        refresh,
        file_rewritten,
    })
}

/// How journeys would change: per account whose stage or 90-day points differ, (account,
/// stage before, stage after, points before, points after); `before` are the stored journeys.
pub fn changes(before: &[Journey], after: &[Journey]) -> Vec<(String, u32, u32, f64, f64)> {
    let old: HashMap<&str, &Journey> = before.iter().map(|j| (j.crm_id.as_str(), j)).collect();
    let points = |j: Option<&Journey>| {
        j.and_then(|j| j.scores.iter().find(|s| s.window_days == 90))
            .map(|s| s.points)
            .unwrap_or(0.0)
    };
    after
        .iter()
        .filter_map(|a| {
            let b = old.get(a.crm_id.as_str()).copied();
            let (sb, sa) = (b.map(|b| b.stage()).unwrap_or(0), a.stage());
            let (pb, pa) = (points(b), points(Some(a)));
            (sb != sa || (pb - pa).abs() > 1e-9).then(|| (a.crm_id.clone(), sb, sa, pb, pa))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use abm_core::activity::{Activity, Match};
    use abm_store::conformance::{email_activity, record, write_for};
    use abm_store::SqliteStore;

    /// An activity of `kind` from `email` on `day` at 10:00, matched to `crm`.
    fn matched(id: &str, day: &str, kind: &str, email: &str, crm: &str) -> (Activity, Match) {
        email_activity(id, format!("{day}T10:00:00Z").parse().unwrap(), kind, email, crm)
    }

    /// The copy of recent activities starts on the day asked for, at its first instant (an
    /// activity a nanosecond before midnight is left out, one at midnight kept), and holds each
    /// account's activities oldest first, however they were gathered; an account with none
    /// that recent is left out.
    #[test]
    fn recent_activities_start_at_the_day_s_first_instant_oldest_first() {
        let at = |t: &str| -> chrono::DateTime<chrono::Utc> { t.parse().unwrap() };
        let times = [
            "2026-03-02T08:00:00Z",
            "2026-02-28T23:59:59.999999999Z",
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:00.5Z",
            "2026-01-01T10:00:00Z",
            "2026-03-01T00:00:00.25Z",
        ];
        let mut g = Gathered::default();
        for crm in ["001A", "001B"] {
            g.facts.push(AccountFacts {
                crm_id: crm.into(),
                ..Default::default()
            });
        }
        let a = |i: usize, t: &str| email_activity(&format!("a{i}"), at(t), "Email Open", "jo@acme.com", "001A").0;
        let acts: Vec<Activity> = times.iter().enumerate().map(|(i, t)| a(i, t)).collect();
        g.of = vec![
            acts.iter().map(|x| g.arena.pack(x.view())).collect(),
            vec![g.arena.pack(a(9, "2026-02-01T12:00:00Z").view())],
        ];
        let since = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let recent: Vec<(String, Vec<u8>)> = g.recent(since).collect();
        assert_eq!(recent.len(), 1, "001B has nothing that recent");
        assert_eq!(recent[0].0, "001A");
        let mut want: Vec<Activity> = acts.into_iter().filter(|x| x.at.date_naive() >= since).collect();
        want.sort_by_key(|x| x.at);
        assert_eq!(
            want.iter().map(|x| x.source_id.as_str()).collect::<Vec<_>>(),
            ["a2", "a5", "a3", "a0"]
        );
        assert_eq!(abm_core::packing::activities(&recent[0].1).unwrap(), want);
    }

    /// A world of twenty accounts, each with its own share of a year of activity.
    fn world(dir: &std::path::Path) -> SqliteStore {
        let mut store = SqliteStore::open(&dir.join("abm.db")).unwrap();
        let records = (0..20)
            .map(|i| record(&format!("001A{i:02}"), &format!("Acct {i}"), None, 500, 0, &[]))
            .collect();
        let (w, mut src) = write_for(&mut store, records);
        store.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
        let kinds = [
            "Email Open",
            "Email Click",
            "Form Fill",
            "Webinar Attended",
            "Trial Start",
        ];
        let mut acts = Vec::new();
        for i in 0..20 {
            for k in 0..(i * 3) {
                let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
                    + chrono::Duration::days((k * 97 % 320) as i64);
                acts.push(matched(
                    &format!("a{i}-{k}"),
                    &day.to_string(),
                    kinds[k % kinds.len()],
                    &format!("p{}@acct{i}.example", k % 6),
                    &format!("001A{i:02}"),
                ));
            }
        }
        store.insert_activities(&acts).unwrap();
        store
    }

    /// Resuming the journeys of a few touched accounts from the day of their new activities
    /// gives what replaying every account from the facts gives: new activities from the day of
    /// the last rebuild on (their accounts' recent activities read from the store's copy) or
    /// from long before it (read from the activities themselves).
    #[test]
    fn an_update_of_a_few_accounts_equals_a_rebuild() {
        update_equals_rebuild(0);
        update_equals_rebuild(-150);
    }

    /// New activities from `offset` days after the last rebuild on, over two weeks.
    fn update_equals_rebuild(offset: i64) {
        let shipped = Shipped::default();
        let rules = shipped.rules();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (mut updated, mut rebuilt) = (world(one.path()), world(two.path()));
        for s in [&mut updated, &mut rebuilt] {
            rebuild(&rules, s, day, &Watch::default()).unwrap();
        }
        // Two of twenty accounts get a burst of activity: trials and webinars over two weeks.
        let mut new = Vec::new();
        for (i, crm) in ["001A03", "001A17"].iter().enumerate() {
            for k in 0..8 {
                let d = day + chrono::Duration::days(offset + k);
                let kind = if k % 2 == 0 { "Trial Start" } else { "Webinar Attended" };
                new.push(matched(
                    &format!("n{i}-{k}"),
                    &d.to_string(),
                    kind,
                    &format!("q{k}@x{i}.example"),
                    crm,
                ));
            }
        }
        let through = day + chrono::Duration::days(10);
        let touched: BTreeSet<String> = ["001A03".to_string(), "001A17".to_string()].into();
        for s in [&mut updated, &mut rebuilt] {
            s.insert_activities(&new).unwrap();
        }
        let first = day + chrono::Duration::days(offset);
        let r = update(
            &rules,
            &mut updated,
            &touched,
            Some(first),
            through,
            &Watch::default(),
            None,
        )
        .unwrap();
        assert_eq!(r.accounts, 2, "only the touched accounts were resumed");
        rebuild(&rules, &mut rebuilt, through, &Watch::default()).unwrap();
        let (a, b) = (updated.journeys(None).unwrap(), rebuilt.journeys(None).unwrap());
        let touched_now: Vec<_> = a.iter().filter(|j| touched.contains(&j.crm_id)).cloned().collect();
        let touched_rebuilt: Vec<_> = b.iter().filter(|j| touched.contains(&j.crm_id)).cloned().collect();
        assert_eq!(touched_now, touched_rebuilt);
        assert!(
            touched_now.iter().any(|j| j.events.iter().any(|e| e.day >= first)),
            "the burst moved a stage: {touched_now:?}"
        );
    }

    /// The stages and engagement rules `abm init` writes.
    struct Shipped(abm_core::journey::Stages, abm_core::engagement::EngagementRules);

    impl Default for Shipped {
        fn default() -> Self {
            Shipped(crate::shipped_stages(), crate::shipped_engagement_rules())
        }
    }

    impl Shipped {
        fn rules(&self) -> Rules<'_> {
            Rules {
                stages: &self.0,
                engagement: &self.1,
            }
        }
    }

    /// A store at `path` holding `n` accounts, `001A00`… with domains `acct0.example`….
    fn with_accounts(path: &std::path::Path, n: usize) -> SqliteStore {
        let mut store = SqliteStore::open(path).unwrap();
        let records = (0..n)
            .map(|i| {
                let domain = format!("acct{i}.example");
                record(&format!("001A{i:02}"), &format!("Acct {i}"), None, 500, 0, &[&domain])
            })
            .collect();
        let (w, mut src) = write_for(&mut store, records);
        store.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
        store
    }

    /// [`import_activities`] of `file` into `store` (open at `path`), replaying alongside.
    fn import_replaying(
        store: &mut SqliteStore,
        path: &std::path::Path,
        file: &std::path::Path,
        rules: &Rules,
        day: NaiveDate,
    ) -> (abm_import::activities::ActivityImportReport, Option<Replayed>) {
        let open = || -> Result<Box<dyn Store>> { Ok(Box::new(SqliteStore::open(path)?)) };
        let ahead = ReplayAhead {
            rules,
            through: day,
            open: &open,
        };
        import_activities(store, file, None, &mut abm_import::accounts::Quiet, &ahead).unwrap()
    }

    /// `file` imported as a first load into a store of `n` accounts (at `dir`/`name`), then
    /// every account replayed from what the store holds: what a replay alongside the import
    /// must store.
    fn rebuilt_from_the_store(
        dir: &std::path::Path,
        name: &str,
        n: usize,
        file: &std::path::Path,
        rules: &Rules,
        day: NaiveDate,
    ) -> (SqliteStore, Refresh) {
        let mut store = with_accounts(&dir.join(name), n);
        abm_import::activities::import_activities(&mut store, file, None, &mut abm_import::accounts::Quiet, None)
            .unwrap();
        let rebuilt = rebuild(rules, &mut store, day, &Watch::default()).unwrap();
        assert!(!rebuilt.as_imported);
        (store, rebuilt)
    }

    /// A first load of history into a store without activities: the replay of every account
    /// that follows takes the activities as the import read them, and gives what replaying them
    /// read back from the store gives.
    #[test]
    fn a_first_import_replays_from_what_it_read() {
        let shipped = Shipped::default();
        let rules = shipped.rules();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let accounts = |name: &str| with_accounts(&dir.path().join(name), 12);
        let kinds = [
            "Email Open",
            "Form Fill",
            "Webinar Attended",
            "Trial Start",
            "Email Click",
        ];
        let mut csv = String::from("Activity ID,Activity Date,Activity Type,Email Address\n");
        for i in 0..12 {
            for k in 0..(i * 5) {
                let d = day - chrono::Duration::days((k * 37 % 200) as i64);
                let kind = kinds[(i + k) % kinds.len()];
                csv.push_str(&format!("a{i}-{k},{d}T09:00:00Z,{kind},p{}@acct{i}.example\n", k % 5));
            }
        }
        csv.push_str("u1,2026-11-01T09:00:00Z,Email Open,someone@nowhere.example\n");
        let file = dir.path().join("history.csv");
        std::fs::write(&file, csv).unwrap();

        let mut kept = accounts("kept.db");
        let kept_path = dir.path().join("kept.db");
        let (r, replayed) = import_replaying(&mut kept, &kept_path, &file, &rules, day);
        assert!(r.into_empty && r.already == 0 && r.matched < r.activities);
        assert!(replayed.is_some(), "every account was replayed alongside the import");
        let refresh = update(&rules, &mut kept, &r.touched, r.since, day, &Watch::default(), replayed).unwrap();
        assert!(
            refresh.as_imported,
            "every account was replayed from what the import read"
        );

        let (mut read_back, rebuilt) = rebuilt_from_the_store(dir.path(), "read-back.db", 12, &file, &rules, day);
        assert_eq!(refresh.activities, rebuilt.activities);
        let journeys = kept.journeys(None).unwrap();
        assert_eq!(journeys, read_back.journeys(None).unwrap());
        assert!(journeys.iter().any(|j| j.events.len() > 1), "{journeys:?}");

        // A second file goes into a store that holds activities.
        let (again, none) = import_replaying(&mut kept, &kept_path, &file, &rules, day);
        assert!(!again.into_empty);
        assert!(none.is_none(), "a second file's rows are not all the store holds");
    }

    /// Accounts enough for several runs of the replay alongside a first load: the runs, some
    /// replayed by the writer while it waits, are every account's journey, each once, as a
    /// rebuild gives them.
    #[test]
    fn a_first_import_stores_every_run_of_journeys_once() {
        let shipped = Shipped::default();
        let rules = shipped.rules();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let n = REPLAY_RUN * 2 + 100;
        let mut csv = String::from("Activity ID,Activity Date,Activity Type,Email Address\n");
        for i in (0..n).step_by(3) {
            for k in 0..(i % 7) {
                let d = day - chrono::Duration::days((k * 11) as i64);
                csv.push_str(&format!("a{i}-{k},{d}T09:00:00Z,Form Fill,p{k}@acct{i}.example\n"));
            }
        }
        let file = dir.path().join("history.csv");
        std::fs::write(&file, csv).unwrap();
        let kept_path = dir.path().join("kept.db");
        let mut kept = with_accounts(&kept_path, n);
        let (r, replayed) = import_replaying(&mut kept, &kept_path, &file, &rules, day);
        let refresh = update(&rules, &mut kept, &r.touched, r.since, day, &Watch::default(), replayed).unwrap();
        assert!(refresh.as_imported);
        assert_eq!(refresh.accounts, n);

        let (mut read_back, rebuilt) = rebuilt_from_the_store(dir.path(), "read-back.db", n, &file, &rules, day);
        assert_eq!(
            (refresh.stage_changes, refresh.activities),
            (rebuilt.stage_changes, rebuilt.activities)
        );
        let journeys = kept.journeys(None).unwrap();
        assert_eq!(journeys.len(), n);
        assert_eq!(journeys, read_back.journeys(None).unwrap());
        assert!(journeys.iter().any(|j| !j.events.is_empty()));
    }

    /// A first load big enough that SQLite skips its account index: the copy of every activity
    /// it reads accounts from instead is written from the rows the replay gathered, and reads
    /// back as the rows; a second store whose first load stopped before its copy gets it from
    /// the next update, and agrees.
    #[test]
    fn a_big_first_import_is_copied_by_account_from_what_it_read() {
        let shipped = Shipped::default();
        let rules = shipped.rules();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let accounts = |name: &str| with_accounts(&dir.path().join(name), 40);
        let mut csv = String::from("Activity ID,Activity Date,Activity Type,Email Address\n");
        for n in 0..210_000 {
            let (i, d) = (n % 40, day - chrono::Duration::days((n * 7 % 365) as i64));
            csv.push_str(&format!(
                "a{n},{d}T09:{:02}:00Z,Email Open,p{}@acct{i}.example\n",
                n % 60,
                n % 7
            ));
        }
        let file = dir.path().join("history.csv");
        std::fs::write(&file, csv).unwrap();
        let quiet = &mut abm_import::accounts::Quiet;

        let mut kept = accounts("kept.db");
        let kept_path = dir.path().join("kept.db");
        let (r, replayed) = import_replaying(&mut kept, &kept_path, &file, &rules, day);
        assert!(!kept.wants_every_activity_copied().unwrap(), "it has its copy");
        let copied: (String, i64) = rusqlite::Connection::open(&kept_path)
            .unwrap()
            .query_row(
                "SELECT (SELECT since FROM recent_activities_since), count(*) FROM recent_activities",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            copied,
            ("0000-01-01".to_string(), 40),
            "copied by the import, from the start"
        );
        let refresh = update(&rules, &mut kept, &r.touched, r.since, day, &Watch::default(), replayed).unwrap();
        assert!(refresh.as_imported);

        // Imported without its copy (as when a first load stops before writing it): the next
        // update, though it touches one account, replays every account and writes the copy.
        let mut read_back = accounts("read-back.db");
        let plain = abm_import::activities::import_activities(&mut read_back, &file, None, quiet, None).unwrap();
        assert!(read_back.wants_every_activity_copied().unwrap());
        let one: BTreeSet<String> = plain.touched.iter().take(1).cloned().collect();
        let healed = update(&rules, &mut read_back, &one, plain.since, day, &Watch::default(), None).unwrap();
        assert_eq!(healed.accounts, 40, "every account replayed");
        assert!(!read_back.wants_every_activity_copied().unwrap());
        assert_eq!(kept.journeys(None).unwrap(), read_back.journeys(None).unwrap());
        for crm in ["001A00", "001A17", "001A39"] {
            let of = kept.activities_of(crm).unwrap();
            assert_eq!(of.len(), 210_000 / 40);
            assert!(of.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
            assert_eq!(of, read_back.activities_of(crm).unwrap());
            let mut scanned = Vec::new();
            kept.each_matched_activity(&mut |c, a| {
                if c == crm {
                    scanned.push(a)
                }
            })
            .unwrap();
            scanned.sort_by(|x, y| (x.at, &x.source_id).cmp(&(y.at, &y.source_id)));
            assert_eq!(of, scanned, "the copy holds what the table holds");
        }
    }
}
