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
    assert_eq!(s.schema_version().unwrap(), 17, "every embedded migration");
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
