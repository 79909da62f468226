//! The conformance suite against a real PostgreSQL server: a fresh database per test.
//!
//! The server's URL comes from `ABM_TEST_POSTGRES_URL` (scripts/test.sh starts a throwaway
//! server and sets it). Without it these tests fail when `ABM_REQUIRE_POSTGRES` is set (as the
//! test command does) and are skipped with a message otherwise.

use abm_store::{PostgresStore, Store};
use std::sync::atomic::{AtomicU32, Ordering};

static N: AtomicU32 = AtomicU32::new(0);

fn server_url() -> Option<String> {
    match std::env::var("ABM_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var_os("ABM_REQUIRE_POSTGRES").is_some() {
                panic!("ABM_TEST_POSTGRES_URL is not set but ABM_REQUIRE_POSTGRES is: start the server with scripts/test.sh");
            }
            eprintln!("skipped: ABM_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
            None
        }
    }
}

/// A new empty database on the test server.
fn fresh_database(base: &str) -> String {
    let name = format!("abm_t_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    // CREATE DATABASE copies template1, which refuses concurrent copies: one at a time.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut admin = postgres::Client::connect(base, postgres::NoTls).expect("connect to the test server");
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (head, _) = base.rsplit_once('/').expect("URL with a database name");
    format!("{head}/{name}")
}

macro_rules! pg_store {
    () => {{
        let Some(base) = server_url() else { return };
        Box::new(PostgresStore::open(&fresh_database(&base)).unwrap()) as Box<dyn Store>
    }};
}

abm_store::conformance_suite!(pg_store!());

#[test]
fn opening_twice_does_not_reapply_migrations() {
    let Some(base) = server_url() else { return };
    let url = fresh_database(&base);
    drop(PostgresStore::open(&url).unwrap());
    let mut s = abm_store::open(&url, std::path::Path::new(".")).unwrap();
    assert_eq!(s.backend(), "postgres");
    assert_eq!(s.schema_version().unwrap(), 16, "every embedded migration");
}
