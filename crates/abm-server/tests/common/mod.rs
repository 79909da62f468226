//! Starting the app for HTTP tests: on a random port, on its own runtime thread.

/// Serve `state` on 127.0.0.1 at a random port; returns `http://ADDR`.
pub fn serve(state: abm_server::AppState) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            abm_server::serve(listener, state).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// Put a team member into the store at `db` (if absent), give them `password` when given, and
/// issue them an API token; returns the token.
#[allow(dead_code)]
pub fn member(db: &std::path::Path, username: &str, role: abm_core::intake::Role, password: Option<&str>) -> String {
    use abm_store::Store;
    let mut store = abm_store::SqliteStore::open(db).unwrap();
    let at = chrono::Utc::now();
    if !store.team().unwrap().iter().any(|m| m.username == username) {
        let m = abm_store::TeamMember {
            username: username.into(),
            name: username.into(),
            role,
        };
        let entry = abm_store::AuditEntry {
            request_id: None,
            at,
            actor: "setup".into(),
            action: "team".into(),
            field: None,
            before: None,
            after: None,
            note: None,
            refused: false,
        };
        store.put_team_member(&m, &entry).unwrap();
    }
    if let Some(p) = password {
        abm_workspace::users::set_password(&mut store, username, p, at).unwrap();
    }
    let label = format!("test-{}", store.api_tokens().unwrap().len());
    abm_workspace::users::issue_token(&mut store, username, &label, at).unwrap()
}
