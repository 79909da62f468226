//! Browser tests: the app on a random port, a real headless Chromium driven through Debian's
//! chromedriver (WebDriver, over plain HTTP on loopback). `scripts/test.sh` installs both when
//! missing and sets ABM_REQUIRE_BROWSER=1; without them and without that variable the tests say
//! so and pass. Screenshots land in `target/browser-artifacts/`.

use abm_core::FiscalCalendar;
use abm_import::accounts::{import_accounts, AccountImportOptions, Quiet};
use abm_import::mapping::ColumnMap;
use abm_store::{SqliteStore, Store};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

mod common;

/// chromedriver on a free port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let exe = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(exe) = exe else {
        if std::env::var("ABM_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("chromedriver is not installed (apt-get install chromium chromium-driver)");
        }
        eprintln!("skipping browser tests: chromedriver is not installed");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Driver { child, url });
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(d: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a browser session")
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

/// Click what `css` finds, then wait for `xpath` to appear.
async fn click_then(c: &Client, target: Locator<'_>, xpath: &str) {
    c.find(target).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(xpath)).await.unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// No horizontal scrolling at the window's 1280 px.
async fn fits_the_width(c: &Client) -> bool {
    let v = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    v.as_bool().unwrap_or(false)
}

const MANAGER_PASSWORD: &str = "correct horse";
const SAM_PASSWORD: &str = "sam's secret";

/// Sign in through the form (the app sends strangers there), then wait for `xpath`.
async fn sign_in(c: &Client, base: &str, username: &str, password: &str, xpath: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    c.wait()
        .for_element(Locator::XPath("//h1[text()='Sign in to abm']"))
        .await
        .unwrap();
    for (field, value) in [("username", username), ("password", password)] {
        c.find(Locator::Css(&format!("input[name={field}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click_then(c, Locator::XPath("//button[text()='Sign in']"), xpath).await;
}

/// A workspace (shipped metrics, one OKR for the current quarter) over a store with three
/// accounts, Acme's four form fills in November, and journeys replayed.
fn app(dir: &std::path::Path) -> String {
    let ws = abm_workspace::Workspace::init(&dir.join("ws")).unwrap();
    let today = ws.today();
    let q = FiscalCalendar::default().quarter_of(today);
    std::fs::write(
        ws.dir.join("okrs.toml"),
        format!(
            "[[objectives]]\nquarter = \"{q}\"\nobjective = \"Warm up the key accounts\"\n\
             [[objectives.key_results]]\ntext = \"Qualify 10 MQAs\"\nmetric = \"MQAs\"\ntarget = 10\n"
        ),
    )
    .unwrap();
    let mut store = SqliteStore::open(&dir.join("abm.db")).unwrap();
    let file = dir.join("accounts.csv");
    std::fs::write(
        &file,
        "Account ID,Account Name,Website,Geo,Employees,CARR\nA1,Acme Holdings,acme.example,AMER,5000,0\nB1,Beta Corp,beta.example,EMEA,40,0\n",
    )
    .unwrap();
    let opts = AccountImportOptions {
        map: ColumnMap::accounts(),
        skip_bad_rows: false,
        today,
        fiscal: FiscalCalendar::default(),
        at: "2026-11-28T10:00:00Z".into(),
    };
    import_accounts(&mut store, &file, &opts, &mut Quiet).unwrap();
    // Two weeks of Google Ads spend in two geos.
    let facts: Vec<abm_core::paid::AdFact> = (0..14)
        .flat_map(|d| {
            [
                ("autosd_amer_pr_rsa_nb_exact", 12.5),
                ("autosd_emea_pr_rsa_nb_exact", 30.0),
            ]
            .map(|(c, spend)| abm_core::paid::AdFact {
                platform: "google".into(),
                account: "acct".into(),
                campaign: c.to_string(),
                ad_group: "core".into(),
                ad: String::new(),
                date_from: today - chrono::Duration::days(d),
                date_to: today - chrono::Duration::days(d),
                currency: "USD".into(),
                spend_micros: (spend * 1e6) as i64,
                impressions: 1000,
                clicks: 10,
                conversions_milli: 1000,
                leads: 1,
                reach: None,
                utm: std::sync::Arc::new(Default::default()),
            })
        })
        .collect();
    store
        .replace_ad_facts("google", "acct", today - chrono::Duration::days(13), today, &facts)
        .unwrap();
    // Acme's four form fills in the last week; journeys replayed through today.
    let days = [6, 5, 4, 3].map(|d| today - chrono::Duration::days(d));
    common::acme_form_fills(&mut store, days, today);
    // People who sign in, and a request of Sam's waiting in triage.
    let db = dir.join("abm.db");
    common::member(&db, "mmanager", abm_core::intake::Role::Manager, Some(MANAGER_PASSWORD));
    common::member(&db, "sales-sam", abm_core::intake::Role::Requester, Some(SAM_PASSWORD));
    let desk = abm_workspace::desk::Desk::shipped();
    let sam = store
        .team()
        .unwrap()
        .into_iter()
        .find(|m| m.username == "sales-sam")
        .unwrap();
    let new = abm_core::request::NewRequest {
        title: "Direct mail to Acme".into(),
        due: Some(today + chrono::Duration::days(30)),
        ..Default::default()
    };
    desk.submit(&mut store, &sam, "direct-mail", new, desk.now()).unwrap();
    abm_workspace::lists::nominate(&mut store, "B1", "mmanager", "expanding in EMEA", today, &desk.calendar).unwrap();
    common::serve(abm_server::AppState::new(Box::new(store) as Box<dyn Store>).with_workspace(ws))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_and_journey_in_a_real_browser() {
    let Some(d) = driver() else { return };
    let dir = tempfile::tempdir().unwrap();
    let base = app(dir.path());
    let c = browser(&d, &dir.path().join("profile")).await;
    let fiscal = FiscalCalendar::default();
    let now_q = fiscal.quarter_of(abm_workspace::Workspace::open(&dir.path().join("ws")).unwrap().today());

    // A stranger is sent to sign in; a wrong password is refused; then the home page is the
    // Overview of the last full quarter.
    c.goto(&format!("{base}/paid")).await.unwrap();
    c.wait()
        .for_element(Locator::XPath("//h1[text()='Sign in to abm']"))
        .await
        .unwrap();
    shot(&c, "sign-in").await;
    sign_in(&c, &base, "mmanager", "wrong horse", "//p[contains(@class,'error')]").await;
    let e = text(&c, ".error").await;
    assert!(e.contains("Wrong username or password"), "{e}");
    sign_in(
        &c,
        &base,
        "mmanager",
        MANAGER_PASSWORD,
        "//h1[starts-with(text(),'Overview')]",
    )
    .await;
    assert_eq!(text(&c, "h1").await, format!("Overview {}", now_q.previous()));
    assert!(text(&c, "main").await.contains("North Star"));
    assert!(fits_the_width(&c).await, "no horizontal scrolling at 1280 px");
    shot(&c, "overview").await;
    // Pick the current quarter and show it: its OKR appears with its progress bar.
    c.find(Locator::Css("select[name=quarter]"))
        .await
        .unwrap()
        .select_by_value(&now_q.to_string())
        .await
        .unwrap();
    click_then(
        &c,
        Locator::Css("form.filters button"),
        &format!("//h1[text()='Overview {now_q}']"),
    )
    .await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .contains(&format!("quarter={now_q}")),
        "the quarter is in the URL"
    );
    let okr = text(&c, ".kr").await;
    assert!(okr.contains("Qualify 10 MQAs"), "{okr}");
    assert_eq!(
        c.find_all(Locator::Css(".kr svg rect")).await.unwrap().len(),
        2,
        "a progress bar"
    );
    shot(&c, "overview-current-quarter").await;

    // The Journey page: Acme is Engaged with People; the funnel and the movers link onwards.
    click_then(&c, Locator::LinkText("Journey"), "//h1[text()='Journey stages']").await;
    let page = text(&c, "main").await;
    assert!(page.contains("05 Engaged with People"), "{page}");
    assert!(page.contains("Movers in the week to"), "{page}");
    shot(&c, "journey").await;
    // An inverted range is refused with a message, not an error page.
    c.goto(&format!("{base}/journey?from=2026-11-28&to=2026-11-01"))
        .await
        .unwrap();
    assert!(text(&c, ".error").await.contains("is before from"));
    // Reset brings the defaults back.
    c.goto(&format!("{base}/journey?date=2026-01-01")).await.unwrap();
    assert!(text(&c, "main").await.contains("Movers in the week to 2026-01-01 (0)"));
    click_then(
        &c,
        Locator::LinkText("Reset"),
        "//h2[starts-with(text(), 'Accounts per stage on')]",
    )
    .await;
    assert!(!c.current_url().await.unwrap().as_str().contains("date="));
    // From a mover to its account page, which shows the stage history.
    click_then(
        &c,
        Locator::Css("main table:last-of-type a"),
        "//h1[text()='Acme Holdings']",
    )
    .await;
    assert!(text(&c, "main").await.contains("05 Engaged with People"));
    shot(&c, "account").await;

    // Paid media: a filter narrows the numbers and lives in the URL; Reset restores them.
    click_then(&c, Locator::LinkText("Paid media"), "//h1[text()='Paid media']").await;
    let all = text(&c, "[data-metric=spend] .big").await;
    assert_eq!(all, "$595.00", "14 days of 12.50 + 30.00");
    assert!(fits_the_width(&c).await, "no horizontal scrolling at 1280 px");
    shot(&c, "paid").await;
    let geo = c.find(Locator::Css("select[name=geo]")).await.unwrap();
    let options = geo.find_all(Locator::Css("option")).await.unwrap();
    assert_eq!(options.len(), 3, "All and the two geos");
    let emea = options[2].attr("value").await.unwrap().unwrap();
    geo.select_by_value(&emea).await.unwrap();
    click_then(
        &c,
        Locator::XPath("//button[text()='Apply']"),
        "//select[@name='geo']/option[@selected]",
    )
    .await;
    assert!(c.current_url().await.unwrap().as_str().contains(&format!("geo={emea}")));
    let narrowed = text(&c, "[data-metric=spend] .big").await;
    assert_ne!(narrowed, all, "the numbers change with the filter");
    shot(&c, "paid-filtered").await;
    click_then(&c, Locator::LinkText("Reset"), "//h1[text()='Paid media']").await;
    assert_eq!(text(&c, "[data-metric=spend] .big").await, all, "Reset restores them");
    // The Lists page is one click away (no list has been built here).
    click_then(&c, Locator::LinkText("Lists"), "//h1[text()='Focus lists']").await;
    assert!(text(&c, "main").await.contains("No list yet"));
    shot(&c, "lists").await;

    // On a phone-width screen every page still fits: wide tables scroll inside themselves.
    c.set_window_size(390, 844).await.unwrap();
    for (path, name) in [
        ("/overview", "overview"),
        ("/journey", "journey"),
        ("/paid", "paid"),
        ("/lists", "lists"),
        ("/requests", "requests"),
        ("/board", "board"),
        ("/requests/1", "request"),
        ("/requests/new?template=direct-mail", "new-request"),
        ("/planning", "planning"),
        ("/accounts", "accounts"),
        ("/accounts/A1", "account"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        assert!(fits_the_width(&c).await, "{path} scrolls sideways at phone width");
        shot(&c, &format!("phone-{name}")).await;
    }
    // Keyboard: Tab reaches the header's links in order.
    c.goto(&format!("{base}/journey")).await.unwrap();
    let body = c.find(Locator::Css("body")).await.unwrap();
    body.send_keys("\u{E004}").await.unwrap();
    body.send_keys("\u{E004}").await.unwrap();
    let focused = c
        .execute("return document.activeElement.textContent;", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused.as_str(),
        Some("Overview"),
        "the second Tab is on the Overview link"
    );
    c.close().await.unwrap();
}

/// The text of a request page's labels.
async fn labels(c: &Client) -> String {
    text(c, "[data-field=labels]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_move_and_requesters_are_refused_due_dates() {
    let Some(d) = driver() else { return };
    let dir = tempfile::tempdir().unwrap();
    let base = app(dir.path());
    let c = browser(&d, &dir.path().join("profile")).await;
    sign_in(
        &c,
        &base,
        "mmanager",
        MANAGER_PASSWORD,
        "//h1[starts-with(text(),'Overview')]",
    )
    .await;

    // The board: Sam's request waits in TBD; its "← Low" button moves it, and the label follows.
    click_then(&c, Locator::LinkText("Requests"), "//h1[text()='Requests']").await;
    click_then(
        &c,
        Locator::LinkText("The prioritisation board →"),
        "//h1[text()='Prioritisation board']",
    )
    .await;
    let card = "[data-column=TBD] .kr";
    assert!(text(&c, card).await.contains("Direct mail to Acme"));
    shot(&c, "board").await;
    click_then(
        &c,
        Locator::Css("[data-column=TBD] .kr button[value=Low]"),
        "//div[@data-column='Low']//a[contains(text(),'Direct mail to Acme')]",
    )
    .await;
    click_then(
        &c,
        Locator::LinkText("#1 Direct mail to Acme"),
        "//h1[text()='#1 Direct mail to Acme']",
    )
    .await;
    let now = labels(&c).await;
    assert!(
        now.contains("ABM-Priority::Low") && !now.contains("ABM-Priority::TBD"),
        "{now}"
    );

    // A manager decides a nomination on the Lists page.
    click_then(&c, Locator::LinkText("Lists"), "//h1[text()='Focus lists']").await;
    assert!(text(&c, "#nominations").await.contains("(1)"));
    c.find(Locator::Css("[data-table=nominations] input[name=reason]"))
        .await
        .unwrap()
        .send_keys("fits the plan")
        .await
        .unwrap();
    click_then(
        &c,
        Locator::XPath("//button[text()='Accept']"),
        "//h2[@id='nominations' and contains(text(),'(0)')]",
    )
    .await;
    assert!(text(&c, ".ok").await.contains("Nomination 1 decided."));

    // Dragging the card onto another column moves it too (the page's own drag-and-drop).
    c.goto(&format!("{base}/board")).await.unwrap();
    c.execute(
        "var dt = new DataTransfer();\
         var card = document.querySelector('[data-column=Low] .kr');\
         card.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));\
         document.querySelector('[data-column=Med]').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
        vec![],
    )
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::XPath(
            "//div[@data-column='Med']//a[contains(text(),'Direct mail to Acme')]",
        ))
        .await
        .unwrap();
    shot(&c, "board-after-drag").await;
    c.goto(&format!("{base}/requests/1")).await.unwrap();
    assert!(labels(&c).await.contains("ABM-Priority::Med"));

    // Sam (a requester) tries to move the due date: refused, said so, and nothing changes.
    click_then(
        &c,
        Locator::XPath("//button[text()='Sign out']"),
        "//h1[text()='Sign in to abm']",
    )
    .await;
    sign_in(
        &c,
        &base,
        "sales-sam",
        SAM_PASSWORD,
        "//h1[starts-with(text(),'Overview')]",
    )
    .await;
    c.goto(&format!("{base}/requests/1")).await.unwrap();
    let due_before = text(&c, "[data-field=due]").await;
    assert!(
        c.find_all(Locator::Css("[data-form=priority]"))
            .await
            .unwrap()
            .is_empty(),
        "no priority for a requester"
    );
    let field = c.find(Locator::Css("[data-form=due] input[name=due]")).await.unwrap();
    c.execute(
        "arguments[0].value = '2030-01-02';",
        vec![serde_json::to_value(&field).unwrap()],
    )
    .await
    .unwrap();
    click_then(
        &c,
        Locator::XPath("//button[text()='Change due date']"),
        "//p[contains(@class,'error')]",
    )
    .await;
    let refusal = text(&c, ".error").await;
    assert!(refusal.starts_with("Refused:"), "{refusal}");
    assert_eq!(
        text(&c, "[data-field=due]").await,
        due_before,
        "the due date is unchanged"
    );
    assert!(text(&c, "[data-table=audit]").await.contains("(refused)"));
    shot(&c, "requester-refused-due-date").await;

    // Sam can still submit a request from a template.
    c.goto(&format!("{base}/requests/new?template=direct-mail"))
        .await
        .unwrap();
    c.find(Locator::Css("input[name=title]"))
        .await
        .unwrap()
        .send_keys("Mugs for Beta")
        .await
        .unwrap();
    c.find(Locator::Css("textarea[name='field.item']"))
        .await
        .unwrap()
        .send_keys("mugs")
        .await
        .unwrap();
    shot(&c, "new-request").await;
    click_then(
        &c,
        Locator::XPath("//button[text()='Submit request']"),
        "//h1[text()='#2 Mugs for Beta']",
    )
    .await;
    assert!(text(&c, ".ok").await.contains("Request submitted."));
    c.close().await.unwrap();
}
