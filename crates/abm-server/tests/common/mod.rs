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
        abm_store::conformance::add_member(&mut store, username, role);
    }
    if let Some(p) = password {
        abm_workspace::users::set_password(&mut store, username, p, at).unwrap();
    }
    let label = format!("test-{}", store.api_tokens().unwrap().len());
    abm_workspace::users::issue_token(&mut store, username, &label, at).unwrap()
}

/// Four people at Acme (account A1) fill in a form, one on each of `days` at 10:00, matched by
/// email domain; then every journey is replayed with the shipped rules through `through`.
#[allow(dead_code)]
pub fn acme_form_fills(store: &mut dyn abm_store::Store, days: [chrono::NaiveDate; 4], through: chrono::NaiveDate) {
    let forms: Vec<_> = ["ann", "bo", "cy", "di"]
        .iter()
        .zip(days)
        .enumerate()
        .map(|(i, (who, day))| {
            abm_store::conformance::email_activity(
                &i.to_string(),
                day.and_hms_opt(10, 0, 0).unwrap().and_utc(),
                "Form Fill",
                &format!("{who}@acme.example"),
                "A1",
            )
        })
        .collect();
    store.insert_activities(&forms).unwrap();
    let (stages, engagement) = (
        abm_workspace::shipped_stages(),
        abm_workspace::shipped_engagement_rules(),
    );
    let rules = abm_workspace::journey::Rules {
        stages: &stages,
        engagement: &engagement,
    };
    abm_workspace::journey::rebuild(&rules, store, through, &Default::default()).unwrap();
}
