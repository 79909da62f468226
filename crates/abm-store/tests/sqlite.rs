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
    assert_eq!(s.schema_version().unwrap(), 19, "every embedded migration");
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
    assert_eq!(of.len(), 400, "found through the account index");
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
