//! The conformance suite against SQLite: a fresh database file per test.

use abm_store::{SqliteStore, Store};

fn fresh() -> Box<dyn Store> {
    let dir = tempfile::tempdir().unwrap().keep();
    Box::new(SqliteStore::open(&dir.join("abm.db")).unwrap())
}

abm_store::conformance_suite!(fresh());

#[test]
fn reopening_keeps_data_and_does_not_reapply_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        let (w, mut src) = abm_store::conformance::write_for(
            &mut s,
            vec![abm_store::conformance::record("X1", "X", None, 10, 0, &["x.example"])],
        );
        s.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 21, "every embedded migration");
    assert_eq!(s.counts().unwrap().accounts, 1);
}

#[test]
fn open_picks_backend_from_url() {
    let dir = tempfile::tempdir().unwrap();
    let s = abm_store::open("abm.db", dir.path()).unwrap();
    assert_eq!(s.backend(), "sqlite");
    assert!(
        dir.path().join("abm.db").exists(),
        "relative paths are taken from the workspace"
    );
    assert!(abm_store::open("mysql://x", dir.path()).is_err());
}

#[test]
fn another_connection_s_write_moves_the_data_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    let mut reader = SqliteStore::open(&path).unwrap();
    let mut writer = SqliteStore::open(&path).unwrap();
    let before = reader.data_version().unwrap();
    assert_eq!(reader.data_version().unwrap(), before, "reading changes nothing");
    writer.server_secret("k", "v").unwrap();
    assert_ne!(reader.data_version().unwrap(), before);
}

/// A big file into a store without activities is appended without the key index, which is
/// built at the end: activities the file repeats (same source and source id) are kept once, the
/// first of each, and counted as already held; the key holds for the next write.
#[test]
fn a_big_first_write_keeps_each_activity_once() {
    let mut s = fresh();
    let at = "2026-11-02T10:00:00Z".parse().unwrap();
    let act = |id: usize, kind: &str| {
        abm_store::conformance::email_activity(
            &format!("a{id}"),
            at,
            kind,
            "jo@acme.example",
            &format!("001A{:03}", id % 500),
        )
    };
    let mut rows: Vec<_> = (0..200_000).map(|i| act(i, "Email Open")).collect();
    rows.extend((0..10).map(|i| act(i * 1_000, "Form Fill")));
    let mut once = Some(rows.clone());
    let w = s
        .insert_activity_batches(&mut |_| Ok(once.take().unwrap_or_default()))
        .unwrap();
    assert_eq!((w.added, w.already, w.into_empty), (200_000, 10, true));
    let of = s.activities_of("001A000").unwrap();
    assert_eq!(of.len(), 400, "read by account before any copy is kept");
    assert!(
        of.iter().all(|a| a.kind == "Email Open"),
        "the first of each repeat stays"
    );
    assert_eq!(s.insert_activities(&rows).unwrap(), (0, 200_010), "the key holds again");
}

/// A big first write leaves its gigabytes of log to be copied into the database by another
/// connection, alongside the writes that follow; closing the store waits for that copy, copies
/// what is left and removes the log: nothing committed is lost, nothing is left behind.
#[test]
fn a_big_write_s_log_is_in_the_database_once_the_store_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    let at = "2026-11-02T10:00:00Z".parse().unwrap();
    let act = |id: usize| {
        abm_store::conformance::email_activity(&format!("a{id}"), at, "Email Open", "jo@acme.example", "001A001")
    };
    {
        let mut s = SqliteStore::open(&path).unwrap();
        let mut once = Some((0..200_000).map(act).collect::<Vec<_>>());
        s.insert_activity_batches(&mut |_| Ok(once.take().unwrap_or_default()))
            .unwrap();
        assert_eq!(
            s.insert_activities(&[act(200_000)]).unwrap(),
            (1, 0),
            "written while the log is copied"
        );
    }
    assert!(
        !dir.path().join("abm.db-wal").exists(),
        "the log was copied and removed"
    );
    let mut s = SqliteStore::open(&path).unwrap();
    let (methods, _) = s.activity_summary().unwrap();
    assert_eq!(methods.iter().map(|(_, n)| n).sum::<u64>(), 200_001);
}

/// The copy of recent activities is bytes read back from a file: damaged bytes are reported as
/// damage naming the account, never read as wrong activities nor a crash.
#[test]
fn a_damaged_copy_of_recent_activities_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    let mut s = SqliteStore::open(&path).unwrap();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let at = day(10).and_hms_opt(9, 0, 0).unwrap().and_utc();
    let rows = vec![abm_store::conformance::email_activity(
        "a1",
        at,
        "Email Open",
        "jo@acme.example",
        "001A",
    )];
    s.insert_activities(&rows).unwrap();
    let ids = ["001A".to_string()];
    let recent = s.activities_of_since(&ids, day(1)).unwrap();
    let packed = abm_core::packing::by_account(recent.clone());
    s.keep_recent_activities(day(1), &mut packed.into_iter()).unwrap();
    assert_eq!(s.activities_of_since(&ids, day(1)).unwrap(), recent);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE recent_activities SET activities = x'0000ff'", [])
        .unwrap();
    let err = s.activities_of_since(&ids, day(1)).unwrap_err().to_string();
    assert!(err.contains("damaged") && err.contains("001A"), "{err}");
}

/// A first load of activities is written once, through a rollback journal, not through the log,
/// and so are the copy of every activity and the journeys that follow it: the log stays empty;
/// the store is back on the log once the journeys are stored (or when it is dropped without
/// them); a second load (the store holds activities) goes through the log as before; and with
/// another connection open the first load keeps the log, and both connections read every row.
#[test]
fn a_first_load_of_activities_bypasses_the_log_and_the_store_returns_to_it() {
    use abm_store::conformance::email_activity;
    let rows = |from: usize, n: usize| -> Vec<_> {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc();
        (from..from + n)
            .map(|i| email_activity(&format!("a{i}"), at, "Email Open", "jo@acme.example", "001A"))
            .collect()
    };
    let log_bytes = |path: &std::path::Path| std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    let mode = |path: &std::path::Path| -> String {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();

    let alone = dir.path().join("alone.db");
    let mut s = SqliteStore::open(&alone).unwrap();
    s.insert_activities(&rows(0, 20_000)).unwrap();
    assert_ne!(mode(&alone), "wal", "off the log until the journeys are stored");
    let packed = abm_core::packing::by_account(rows(0, 20_000).into_iter().map(|(a, _)| ("001A".to_string(), a)));
    s.keep_recent_activities(abm_store::all_history(), &mut packed.into_iter())
        .unwrap();
    let journey = abm_core::journey::Journey {
        crm_id: "001A".into(),
        base_stage: 1,
        through: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        events: vec![],
        scores: vec![],
    };
    let mut runs = vec![vec![journey.clone()], vec![]].into_iter();
    s.replace_journeys_in_runs(&mut || Ok(runs.next().unwrap())).unwrap();
    assert!(
        log_bytes(&alone) < 100_000,
        "the first load, its copy and its journeys went past the log: {} bytes",
        log_bytes(&alone)
    );
    assert_eq!(mode(&alone), "wal", "back on the log once the journeys are stored");
    assert_eq!(s.activities_of("001A").unwrap().len(), 20_000);
    s.insert_activities(&rows(20_000, 20_000)).unwrap();
    assert!(log_bytes(&alone) > 1_000_000, "a second load goes through the log");
    assert_eq!(mode(&alone), "wal");
    assert_eq!(s.activities_of("001A").unwrap().len(), 40_000);

    let shared = dir.path().join("shared.db");
    let mut s = SqliteStore::open(&shared).unwrap();
    let mut other = SqliteStore::open(&shared).unwrap();
    s.insert_activities(&rows(0, 20_000)).unwrap();
    assert!(
        log_bytes(&shared) > 1_000_000,
        "with another connection open the log is kept"
    );
    assert_eq!(other.activities_of("001A").unwrap().len(), 20_000);
    assert_eq!(mode(&shared), "wal");

    // A first load whose journeys never come: the store goes back to the log when dropped.
    let dropped = dir.path().join("dropped.db");
    let mut s = SqliteStore::open(&dropped).unwrap();
    s.insert_activities(&rows(0, 20_000)).unwrap();
    assert_ne!(mode(&dropped), "wal");
    drop(s);
    assert_eq!(mode(&dropped), "wal");
    assert_eq!(
        SqliteStore::open(&dropped)
            .unwrap()
            .activities_of("001A")
            .unwrap()
            .len(),
        20_000
    );
}

/// Journey scores are stored packed; scores a store wrote as JSON before that read back the
/// same, and packed scores that are damaged are reported with their account, not trusted.
#[test]
fn journey_scores_read_back_packed_or_as_json_and_damage_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    let through = chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    let journey = |crm: &str, points: f64| abm_core::journey::Journey {
        crm_id: crm.into(),
        base_stage: 1,
        through,
        events: vec![],
        scores: [(7, points / 3.0), (30, points), (90, points * 1.1)]
            .into_iter()
            .map(|(window_days, points)| abm_core::journey::WindowScore {
                window_days,
                points,
                engaged_people: 4,
                engaged: points >= 20.0,
            })
            .collect(),
    };
    let both = vec![journey("001A", 271.19999999999993), journey("001B", 12.5)];
    let mut s = SqliteStore::open(&path).unwrap();
    s.replace_journeys(&both).unwrap();
    assert_eq!(s.journeys(None).unwrap(), both);
    let db = rusqlite::Connection::open(&path).unwrap();
    let kind: String = db
        .query_row("SELECT typeof(scores) FROM journeys WHERE crm_id = '001A'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kind, "blob");
    // 001B as a store written before packing holds it.
    let json = serde_json::to_string(&both[1].scores).unwrap();
    db.execute("UPDATE journeys SET scores = ?1 WHERE crm_id = '001B'", [&json])
        .unwrap();
    assert_eq!(s.journeys(None).unwrap(), both);
    db.execute("UPDATE journeys SET scores = x'03ff' WHERE crm_id = '001A'", [])
        .unwrap();
    let err = s.journeys(None).unwrap_err().to_string();
    assert!(err.contains("damaged") && err.contains("001A"), "{err}");
}

/// A first load skips the account index: a copy of every activity, by account, stands in for
/// it. Reads by account are the same before the copy (a scan), from it, after later inserts
/// (old and new ones) and after a rebuild asks for a copy of recent ones only; a store given
/// only a recent copy builds the index after all.
#[test]
fn a_first_load_reads_by_account_from_a_copy_of_every_activity() {
    use abm_store::conformance::email_activity;
    let day = |d: i64| chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(d);
    let act = |id: usize, d: i64, crm: usize| {
        let at = day(d).and_hms_opt(9, (id % 60) as u32, 0).unwrap().and_utc();
        email_activity(
            &format!("a{id}"),
            at,
            "Email Open",
            "jo@acme.example",
            &format!("001A{crm:03}"),
        )
    };
    let rows: Vec<_> = (0..200_000).map(|i| act(i, (i % 300) as i64, i % 500)).collect();
    let ids: Vec<String> = ["001A000", "001A007", "001A499", "001A999"].map(String::from).to_vec();
    let reads = |s: &mut dyn Store| {
        let of: Vec<_> = ids.iter().map(|id| s.activities_of(id).unwrap()).collect();
        let since: Vec<_> = ids.iter().map(|id| s.activities_since(id, day(250)).unwrap()).collect();
        let mut of_since = s.activities_of_since(&ids, day(100)).unwrap();
        of_since.sort_by(|x, y| (&x.0, &x.1.source_id).cmp(&(&y.0, &y.1.source_id)));
        (of, since, of_since)
    };
    let every_by_account = |s: &mut dyn Store| {
        let mut all = Vec::new();
        s.each_matched_activity(&mut |crm, a| all.push((crm, a))).unwrap();
        all.sort_by(|x, y| (&x.0, x.1.at).cmp(&(&y.0, y.1.at)));
        abm_core::packing::by_account(all)
    };
    for only_recent in [false, true] {
        let mut s = fresh();
        s.insert_activities(&rows).unwrap();
        assert!(s.wants_every_activity_copied().unwrap());
        let scanned = reads(s.as_mut());
        assert_eq!(scanned.0[0].len(), 400);
        assert!(scanned.0[0].windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
        assert!(scanned.0[3].is_empty(), "an account without activities");
        if only_recent {
            let recent = s.activities_of_since(&ids, day(200)).unwrap();
            let packed = abm_core::packing::by_account(recent);
            s.keep_recent_activities(day(200), &mut packed.into_iter()).unwrap();
            assert!(
                !s.wants_every_activity_copied().unwrap(),
                "the index is built after all"
            );
        } else {
            let every = every_by_account(s.as_mut());
            s.keep_recent_activities(abm_store::all_history(), &mut every.into_iter())
                .unwrap();
            assert!(!s.wants_every_activity_copied().unwrap(), "it has its copy");
        }
        assert_eq!(reads(s.as_mut()), scanned);
        // Every matched activity, lent: from the table, or from the copy when it holds them all.
        let lent = |s: &mut dyn Store| {
            let mut all = Vec::new();
            s.each_matched_activity_lent(&mut |crm, a| all.push((crm.to_string(), a.to_activity())))
                .unwrap();
            all.sort_by(|x, y| (&x.0, &x.1.source_id).cmp(&(&y.0, &y.1.source_id)));
            all
        };
        let owned = |s: &mut dyn Store| {
            let mut all = Vec::new();
            s.each_matched_activity(&mut |crm, a| all.push((crm, a))).unwrap();
            all.sort_by(|x, y| (&x.0, &x.1.source_id).cmp(&(&y.0, &y.1.source_id)));
            all
        };
        assert_eq!(lent(s.as_mut()), owned(s.as_mut()));
        // Later: one new, one older than everything, one more for an account new to the store.
        let later = vec![act(300_001, 299, 0), act(300_002, -30, 7), act(300_003, 5, 999)];
        assert_eq!(s.insert_activities(&later).unwrap(), (3, 0));
        let after = reads(s.as_mut());
        assert_eq!(after.0[0].len(), 401);
        assert_eq!(after.0[0].last().unwrap().source_id, "a300001");
        assert_eq!(after.0[1].first().unwrap().source_id, "a300002");
        assert_eq!(after.0[3].len(), 1);
        assert_eq!(after.2.len(), scanned.2.len() + 1);
        assert_eq!(lent(s.as_mut()), owned(s.as_mut()), "inserts reach the copy");
        // A rebuild asks for a copy of the recent ones only: the copy of every one stays.
        let recent = s.activities_of_since(&ids, day(280)).unwrap();
        let packed = abm_core::packing::by_account(recent);
        s.keep_recent_activities(day(280), &mut packed.into_iter()).unwrap();
        assert_eq!(reads(s.as_mut()), after);
    }
}

/// Migration 20 turns `journeys` into a table keyed by account without row ids; every journey
/// and its stage changes read back the same after it.
/// A journey replayed through 20 March 2026 with one stage change, into stage `to` on day `to`.
fn journey(crm: &str, to: u32) -> abm_core::journey::Journey {
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    abm_core::journey::Journey {
        crm_id: crm.into(),
        base_stage: 1,
        through: day(20),
        events: vec![abm_core::journey::StageEvent {
            crm_id: crm.into(),
            day: day(to),
            from: 1,
            to,
            cause: format!("moved to {to}"),
        }],
        scores: vec![],
    }
}

#[test]
fn journeys_read_back_the_same_after_moving_to_a_table_keyed_by_account() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    let before = vec![journey("001A", 5), journey("001B", 6)];
    SqliteStore::open(&path).unwrap().replace_journeys(&before).unwrap();
    // Back to the table as migration 19 left it, and the store back at version 19.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE old (crm_id TEXT PRIMARY KEY, base_stage INTEGER NOT NULL, through TEXT NOT NULL, \
             scores TEXT NOT NULL, stage INTEGER NOT NULL DEFAULT 0);
             INSERT INTO old SELECT crm_id, base_stage, through, scores, stage FROM journeys;
             DROP TABLE journeys;
             ALTER TABLE old RENAME TO journeys;
             CREATE INDEX journeys_stage ON journeys (stage);
             DELETE FROM schema_migrations WHERE version >= 20;",
        )
        .unwrap();
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), 21, "migrations from 20 on applied again");
    assert_eq!(s.journeys(None).unwrap(), before);
    let sql: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT sql FROM sqlite_master WHERE name = 'journeys'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(sql.contains("WITHOUT ROWID"), "{sql}");
}

/// Journeys replaced whole (a rebuild, a first load's replay in runs) go into the tables with
/// their indexes set aside, built again before the commit: afterwards the same indexes stand,
/// and the reads that use them (stage changes by account, by day; journeys by stage) find the
/// new rows. A replacement that fails part way leaves the old journeys and indexes.
#[test]
fn journeys_replaced_whole_keep_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abm.db");
    let indexes = || -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut st = conn
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name IN ('journeys', 'journey_events') ORDER BY name",
            )
            .unwrap();
        let found = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        found.collect::<rusqlite::Result<_>>().unwrap()
    };
    let mut s = SqliteStore::open(&path).unwrap();
    let before = indexes();
    assert!(before.len() >= 3, "{before:?}");
    let first = vec![journey("001A", 5), journey("001B", 6)];
    s.replace_journeys(&first).unwrap();
    assert_eq!(indexes(), before);
    let second = vec![journey("001C", 7), journey("001D", 8)];
    let mut runs = vec![vec![second[1].clone()], vec![second[0].clone()]];
    s.replace_journeys_in_runs(&mut || Ok(runs.pop().unwrap_or_default()))
        .unwrap();
    assert_eq!(indexes(), before);
    assert_eq!(s.journeys(None).unwrap(), second);
    let plan = |sql: &str| -> String {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap().join("; ")
    };
    assert!(plan("SELECT crm_id FROM journey_events WHERE day = '2026-03-08'").contains("INDEX"));
    assert!(plan("SELECT crm_id FROM journeys WHERE stage = 8").contains("INDEX"));
    // A failed replacement (the runs' source gives up) leaves what was there.
    let mut failing = vec![Err("the replay stopped".to_string()), Ok(vec![first[0].clone()])];
    assert!(s
        .replace_journeys_in_runs(&mut || failing.pop().unwrap_or(Ok(Vec::new())))
        .is_err());
    assert_eq!(indexes(), before);
    assert_eq!(s.journeys(None).unwrap(), second);
}
