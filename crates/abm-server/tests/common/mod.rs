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
