//! The behaviour every [`Store`] must have, written once and run against SQLite and PostgreSQL
//! (see `tests/`). Each check takes a fresh, empty store.

use crate::model::*;
use crate::Store;
use crate::StoredFit;
use abm_core::account::{AccountRecord, AttributeValue};
use abm_core::hierarchy::{FamilyFacts, HierarchyInput};
use abm_core::{AbmTier, AccountType, CrmId, Domain, Geo};
use chrono::NaiveDate;

/// Generates one `#[test]` per conformance check, each given a fresh store from `$make`.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@tests $make;
            migrations_are_recorded, import_and_list, reimport_changes_nothing, updates_replace_values,
            account_detail_has_family_attributes_people, rollup_updates_apply, late_rollups_apply,
            people_link_and_move,
            failed_write_leaves_store_unchanged,
            values_from_other_sources_are_kept, filters_and_paging,
            team_members_are_kept, requests_round_trip_with_their_audit_log, stale_saves_are_refused,
            request_lists_filter, request_imports_match_on_external_id, updates_are_kept_for_digests,
            icp_versions_and_fits, scoring_inputs_come_in_families, published_lists_never_change,
            nominations_are_decided_once, ad_exports_replace_their_days,
            budget_imports_replace_the_lines, activities_are_appended_once, opportunities_upsert_by_id,
            journeys_replace_by_account, journeys_replace_in_runs, journeys_are_revised_from_a_day,
            recent_activities_read_the_same_with_a_copy, activities_keep_their_own_columns, firings_are_recorded_once,
            rules_versions_activate_with_their_journeys, journey_facts_read_account_by_account,
            passwords_and_tokens_belong_to_team_members);
    };
    (@tests $make:expr; $($name:ident),+) => {
        $(
            #[test]
            fn $name() {
                let mut store = $make;
                $crate::conformance::$name(store.as_mut());
            }
        )+
    };
}

pub const AT: &str = "2026-11-01T09:00:00Z";

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
}

/// A small account record.
pub fn record(
    id: &str,
    name: &str,
    parent: Option<&str>,
    employees: u32,
    carr_cents: i64,
    domains: &[&str],
) -> AccountRecord {
    AccountRecord {
        crm_id: CrmId::parse(id).unwrap(),
        name: name.into(),
        website: domains.first().map(|d| Domain::parse(d).unwrap()),
        domains: domains.iter().map(|d| Domain::parse(d).unwrap()).collect(),
        parent_id: parent.map(|p| CrmId::parse(p).unwrap()),
        country: Some("US".into()),
        geo: Some(Geo::Amer),
        sub_region: None,
        employees: Some(employees),
        industry: Some("Software".into()),
        annual_revenue_cents: Some(1_000_000_00),
        account_type: Some(AccountType::Prospect),
        carr_cents,
        owner: Some("Sam Seller".into()),
        sdr: None,
        account_rank: None,
        gtm_strategy: None,
        abm_tier: None,
        new_logo_target: None,
        attributes: vec![AttributeValue {
            attribute: "developer_count".into(),
            source: "aberdeen".into(),
            value: (employees / 4).to_string(),
            as_of: date(),
        }],
    }
}

/// Roll the records up (with what the store holds) and build the write, as an import does.
pub fn write_for(store: &mut dyn Store, records: Vec<AccountRecord>) -> (AccountWrite, InMemory) {
    let stored = store.hierarchy_rows().unwrap();
    let inputs: Vec<HierarchyInput> = records.iter().map(HierarchyInput::of).collect();
    let plan = abm_core::hierarchy::plan(&stored, &inputs, 2027);
    let n = records.len() as u64;
    (
        AccountWrite {
            existing: plan.existing,
            rollup_updates: plan.updates,
            at: AT.into(),
            expected_records: n,
        },
        InMemory(Some(records.into_iter().zip(plan.incoming).collect())),
    )
}

fn sample() -> Vec<AccountRecord> {
    vec![
        record("001A", "Acme Holdings", None, 5000, 0, &["acme.com", "acme.io"]),
        record("001B", "Acme Europe", Some("001A"), 800, 0, &["acme.de"]),
        record("001C", "Beta Corp", None, 50, 120_000, &["beta.example"]),
    ]
}

fn import(store: &mut dyn Store, records: Vec<AccountRecord>) -> WriteSummary {
    let (w, mut src) = write_for(store, records);
    store.write_accounts(&w, &mut src, &mut |_| {}).unwrap()
}

fn all(store: &mut dyn Store) -> Vec<AccountSummary> {
    store.list_accounts(&AccountQuery::default()).unwrap().accounts
}

pub fn migrations_are_recorded(store: &mut dyn Store) {
    assert_eq!(
        store.schema_version().unwrap(),
        crate::migrate::latest(match store.backend() {
            "sqlite" => crate::migrate::SQLITE,
            _ => crate::migrate::POSTGRES,
        })
    );
    assert_eq!(store.counts().unwrap(), StoreCounts::default());
}

pub fn import_and_list(store: &mut dyn Store) {
    let s = import(store, sample());
    assert_eq!(
        s,
        WriteSummary {
            inserted: 3,
            updated: 0,
            unchanged: 0
        }
    );
    let list = all(store);
    assert_eq!(
        list.iter().map(|a| a.crm_id.as_str()).collect::<Vec<_>>(),
        vec!["001B", "001A", "001C"],
        "sorted by name"
    );
    let europe = &list[0];
    assert_eq!(europe.ultimate_parent_id, "001A");
    assert_eq!(europe.segment, "Large", "segment from the family maximum");
    assert_eq!(
        list[1].domains,
        vec!["acme.com".to_string(), "acme.io".to_string()],
        "primary domain first"
    );
    assert_eq!(list[2].family_carr, 1200.0);
    assert!(!list[2].first_order_available);
    assert!(list[1].first_order_available);
    assert_eq!(
        store.counts().unwrap(),
        StoreCounts {
            accounts: 3,
            domains: 4,
            attributes: 3,
            people: 0,
            requests: 0,
            activities: 0,
            opportunities: 0,
            ad_facts: 0,
            list_versions: 0,
        }
    );
}

pub fn reimport_changes_nothing(store: &mut dyn Store) {
    import(store, sample());
    let before = all(store);
    let detail_before = store.get_account("001A").unwrap();
    let (mut w, mut src) = write_for(store, sample());
    w.at = "2026-11-02T09:00:00Z".into();
    let s = store.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
    assert_eq!(
        s,
        WriteSummary {
            inserted: 0,
            updated: 0,
            unchanged: 3
        }
    );
    assert_eq!(all(store), before);
    assert_eq!(
        store.get_account("001A").unwrap(),
        detail_before,
        "not even updated_at moves"
    );
    assert_eq!(store.counts().unwrap().domains, 4);
}

pub fn updates_replace_values(store: &mut dyn Store) {
    import(store, sample());
    let mut changed = sample();
    changed[2].name = "Beta Corporation".into();
    changed[2].domains = vec![Domain::parse("beta.io").unwrap()];
    changed[2].attributes[0].value = "99".into();
    let (mut w, mut src) = write_for(store, changed);
    w.at = "2026-11-02T09:00:00Z".into();
    let s = store.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
    assert_eq!(
        s,
        WriteSummary {
            inserted: 0,
            updated: 1,
            unchanged: 2
        }
    );
    let d = store.get_account("001C").unwrap().unwrap();
    assert_eq!(d.summary.name, "Beta Corporation");
    assert_eq!(
        d.summary.domains,
        vec!["beta.io".to_string()],
        "the domain set is replaced"
    );
    assert_eq!(d.attributes[0].value, "99");
    assert_eq!(d.updated_at, "2026-11-02T09:00:00Z");
    assert_eq!(d.created_at, AT);
}

pub fn account_detail_has_family_attributes_people(store: &mut dyn Store) {
    import(store, sample());
    let people = vec![PersonRow {
        person_id: "P1".into(),
        email: Some("ada@acme.de".into()),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        title: Some("VP Engineering".into()),
        crm_id: Some("001B".into()),
        link_method: Some("email_domain".into()),
        at: AT.into(),
    }];
    store.write_people(&people, &mut |_| {}).unwrap();
    let d = store.get_account("001B").unwrap().unwrap();
    assert_eq!(
        d.family.iter().map(|m| m.crm_id.as_str()).collect::<Vec<_>>(),
        vec!["001A", "001B"],
        "ultimate parent first"
    );
    assert_eq!(
        d.attributes,
        vec![AttributeValue {
            attribute: "developer_count".into(),
            source: "aberdeen".into(),
            value: "200".into(),
            as_of: date()
        }]
    );
    assert_eq!(d.people.len(), 1);
    assert_eq!(d.people[0].name, "Ada Lovelace");
    assert_eq!(d.family_max_employees, Some(5000));
    assert_eq!(d.segment_fiscal_year, 2027);
    assert_eq!(d.owner.as_deref(), Some("Sam Seller"));
    assert!(store.get_account("nope").unwrap().is_none());
}

pub fn rollup_updates_apply(store: &mut dyn Store) {
    import(store, sample());
    // Beta Corp becomes a child of Acme: Acme's family gains Beta's CARR.
    let mut beta = sample().remove(2);
    beta.parent_id = Some(CrmId::parse("001A").unwrap());
    let (w, mut src) = write_for(store, vec![beta]);
    assert_eq!(w.rollup_updates.len(), 2, "both Acme accounts change family CARR");
    store.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
    for a in all(store) {
        assert_eq!(a.ultimate_parent_id, "001A");
        assert_eq!(a.family_carr, 1200.0);
        assert!(!a.first_order_available);
    }
}

/// A source that corrects its records' roll-ups only after its last batch (as the single-pass
/// import does) has the corrections applied in the same write.
pub fn late_rollups_apply(store: &mut dyn Store) {
    struct Late(InMemory, Vec<(String, FamilyFacts)>);
    impl AccountSource for Late {
        fn next_batch(&mut self) -> std::result::Result<Vec<(AccountRecord, FamilyFacts)>, String> {
            self.0.next_batch()
        }
        fn late_rollups(&mut self) -> std::result::Result<Vec<(String, FamilyFacts)>, String> {
            Ok(std::mem::take(&mut self.1))
        }
    }
    let (w, src) = write_for(store, sample());
    let mut corrected = src.0.as_ref().unwrap()[0].1.clone();
    corrected.family_carr_cents = 4_200;
    corrected.first_order_available = false;
    let first = src.0.as_ref().unwrap()[0].0.crm_id.to_string();
    let mut late = Late(src, vec![(first.clone(), corrected)]);
    store.write_accounts(&w, &mut late, &mut |_| {}).unwrap();
    let a = all(store).into_iter().find(|a| a.crm_id == first).unwrap();
    assert_eq!(a.family_carr, 42.0);
    assert!(!a.first_order_available);
    assert_eq!(all(store).len(), sample().len());
}

pub fn people_link_and_move(store: &mut dyn Store) {
    import(store, sample());
    let p = |account: Option<&str>, title: &str| PersonRow {
        person_id: "P9".into(),
        email: Some("grace@beta.example".into()),
        first_name: Some("Grace".into()),
        last_name: Some("Hopper".into()),
        title: Some(title.into()),
        crm_id: account.map(Into::into),
        link_method: account.map(|_| "account_id".into()),
        at: AT.into(),
    };
    let s = store.write_people(&[p(None, "CTO")], &mut |_| {}).unwrap();
    assert_eq!(s.inserted, 1);
    let s = store.write_people(&[p(None, "CTO")], &mut |_| {}).unwrap();
    assert_eq!(
        s,
        WriteSummary {
            inserted: 0,
            updated: 0,
            unchanged: 1
        }
    );
    store.write_people(&[p(Some("001C"), "CTO")], &mut |_| {}).unwrap();
    assert_eq!(
        store.counts().unwrap().people,
        1,
        "a person who moves is not duplicated"
    );
    let claims = store.domain_claims().unwrap();
    let beta = claims.iter().find(|c| c.domain == "beta.example").unwrap();
    assert_eq!((beta.crm_id.as_str(), beta.people), ("001C", 1));
    assert_eq!(claims.len(), 4);
    // Some domains' claims are those domains' rows of all claims, people counted alike.
    let wanted = ["beta.example".to_string(), "nobody.example".to_string()];
    let mut some = store.domain_claims_for(&wanted).unwrap();
    let mut expect: Vec<DomainClaim> = claims.into_iter().filter(|c| wanted.contains(&c.domain)).collect();
    some.sort_by(|a, b| (&a.domain, &a.crm_id).cmp(&(&b.domain, &b.crm_id)));
    expect.sort_by(|a, b| (&a.domain, &a.crm_id).cmp(&(&b.domain, &b.crm_id)));
    assert_eq!(some, expect);
    assert!(store.domain_claims_for(&[]).unwrap().is_empty());
    let ids = ["001C".to_string(), "001Z".to_string()];
    assert_eq!(store.accounts_among(&ids).unwrap(), vec!["001C".to_string()]);
}

pub fn failed_write_leaves_store_unchanged(store: &mut dyn Store) {
    import(store, sample());
    let before = all(store);
    let mut more = sample();
    more[0].name = "Renamed".into();
    more.push(record("001D", "Delta", None, 10, 0, &["delta.example"]));
    let (w, mut src) = write_for(store, more.clone());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store
            .write_accounts(&w, &mut src, &mut |_| panic!("the process dies mid-write"))
            .unwrap()
    }));
    assert!(result.is_err());
    assert_eq!(all(store), before, "nothing of the interrupted write is visible");
    assert_eq!(store.counts().unwrap().accounts, 3);

    // A source that fails part-way (the file changed under the import) also writes nothing.
    struct Failing(Option<Vec<(AccountRecord, FamilyFacts)>>);
    impl AccountSource for Failing {
        fn next_batch(&mut self) -> Result<Vec<(AccountRecord, FamilyFacts)>, String> {
            self.0
                .take()
                .ok_or_else(|| "the file changed while it was being imported".to_string())
        }
    }
    let (w, InMemory(records)) = write_for(store, more);
    let err = store
        .write_accounts(&w, &mut Failing(records), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("the file changed"), "{err}");
    assert_eq!(all(store), before);
}

/// The crm ids of the accounts `q` lists, in its order.
fn listed_ids(store: &mut dyn Store, q: &AccountQuery) -> Vec<String> {
    store
        .list_accounts(q)
        .unwrap()
        .accounts
        .into_iter()
        .map(|a| a.crm_id)
        .collect()
}

pub fn filters_and_paging(store: &mut dyn Store) {
    let mut recs = sample();
    recs[2].geo = Some(Geo::Emea);
    recs[2].abm_tier = Some(AbmTier::Tier2);
    import(store, recs);
    let q = |f: fn(&mut AccountQuery)| {
        let mut q = AccountQuery::default();
        f(&mut q);
        q
    };
    let ids = |store: &mut dyn Store, q: AccountQuery| listed_ids(store, &q);
    assert_eq!(
        ids(store, q(|q| q.segment = Some("Large".into()))),
        vec!["001B", "001A"]
    );
    assert_eq!(ids(store, q(|q| q.geo = Some("EMEA".into()))), vec!["001C"]);
    assert_eq!(ids(store, q(|q| q.tier = Some("Tier 2".into()))), vec!["001C"]);
    assert_eq!(ids(store, q(|q| q.text = Some("acme".into()))), vec!["001B", "001A"]);
    assert_eq!(
        ids(store, q(|q| q.text = Some("BETA.EX".into()))),
        vec!["001C"],
        "domain prefix, any case"
    );
    assert_eq!(
        ids(store, q(|q| q.text = Some("001C".into()))),
        vec!["001C"],
        "exact crm id"
    );
    assert_eq!(
        ids(store, q(|q| q.text = Some("100%".into()))),
        Vec::<String>::new(),
        "LIKE wildcards are literal"
    );
    let page = store
        .list_accounts(&AccountQuery {
            limit: Some(1),
            offset: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.accounts.len(), 1);
    assert_eq!(page.accounts[0].crm_id, "001A");
}

pub fn values_from_other_sources_are_kept(store: &mut dyn Store) {
    import(store, sample());
    // A later file from another provider reports a different attribute for Beta Corp.
    let mut beta = sample().remove(2);
    let later = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    beta.attributes = vec![AttributeValue {
        attribute: "tech_stack".into(),
        source: "zoominfo".into(),
        value: "GitHub".into(),
        as_of: later,
    }];
    let s = import(store, vec![beta.clone()]);
    assert_eq!(s.updated, 1);
    let d = store.get_account("001C").unwrap().unwrap();
    let got: Vec<(&str, &str, &str)> = d
        .attributes
        .iter()
        .map(|a| (&*a.attribute, &*a.source, a.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("developer_count", "aberdeen", "12"),
            ("tech_stack", "zoominfo", "GitHub")
        ]
    );
    assert_eq!(
        store.counts().unwrap().attributes,
        4,
        "3 from the first import, 1 added"
    );
    // The same value again keeps its first date and changes nothing.
    beta.attributes[0].as_of = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    assert_eq!(import(store, vec![beta]).unchanged, 1);
    assert_eq!(store.get_account("001C").unwrap().unwrap().attributes[1].as_of, later);
}

// ---- team, requests and the audit log ----

use abm_core::intake::{FieldKind, FieldSpec, RequestTemplate, Role};
use abm_core::request::{self as req, AuditEntry, Command, Moment, NewRequest, Request, Rules, TeamMember};
use abm_core::{BusinessCalendar, Label};
use chrono::{TimeZone, Utc};

/// Put `username` on the team with `role` (named after the username), audited as a manager's
/// change: how other crates' tests set up the people they sign in as.
pub fn add_member(store: &mut dyn Store, username: &str, role: Role) {
    let m = TeamMember {
        username: username.into(),
        name: username.into(),
        role,
    };
    store.put_team_member(&m, &team_entry(&m)).unwrap();
}

fn member(u: &str, role: Role) -> TeamMember {
    TeamMember {
        username: u.into(),
        name: format!("{u} name"),
        role,
    }
}

fn moment(day: u32, hour: u32) -> Moment {
    Moment {
        at: Utc.with_ymd_and_hms(2026, 7, day, hour, 0, 0).unwrap(),
        day: NaiveDate::from_ymd_opt(2026, 7, day).unwrap(),
    }
}

fn team_entry(m: &TeamMember) -> AuditEntry {
    AuditEntry {
        request_id: None,
        at: moment(1, 9).at,
        actor: "mmanager".into(),
        action: "team".into(),
        field: Some(m.username.clone()),
        before: None,
        after: Some(m.role.to_string()),
        note: None,
        refused: false,
    }
}

fn request_template() -> RequestTemplate {
    RequestTemplate {
        name: "direct-mail".into(),
        description: String::new(),
        fields: vec![FieldSpec {
            name: "item".into(),
            kind: FieldKind::Text,
            required: true,
            help: String::new(),
        }],
        turnaround_business_days: 5,
        default_labels: vec![Label::parse("mktg-status::triage").unwrap()],
        workback: None,
    }
}

/// Submit a request through the domain's rules and store it.
fn submit(store: &mut dyn Store, author: &TeamMember, title: &str, item: Option<&str>) -> (Request, Vec<AuditEntry>) {
    let t = request_template();
    let cal = BusinessCalendar::weekdays();
    let rules = Rules {
        template: &t,
        calendar: &cal,
        reblock: Default::default(),
    };
    let new = NewRequest {
        title: title.into(),
        fields: item
            .map(|i| [("item".to_string(), i.to_string())].into())
            .unwrap_or_default(),
        ..Default::default()
    };
    let (mut r, log) = Request::submit(new, author, moment(2, 10), rules).unwrap();
    r.id = store.insert_request(&r, &log).unwrap();
    r.version = 1;
    (r, log)
}

pub fn team_members_are_kept(store: &mut dyn Store) {
    let sam = member("sales-sam", Role::Requester);
    assert_eq!(store.put_team_member(&sam, &team_entry(&sam)).unwrap(), None);
    let boss = member("mmanager", Role::Manager);
    store.put_team_member(&boss, &team_entry(&boss)).unwrap();
    let promoted = member("sales-sam", Role::Member);
    assert_eq!(
        store.put_team_member(&promoted, &team_entry(&promoted)).unwrap(),
        Some(sam)
    );
    assert_eq!(store.team().unwrap(), vec![boss, promoted]);
}

pub fn requests_round_trip_with_their_audit_log(store: &mut dyn Store) {
    let sam = member("sales-sam", Role::Requester);
    let (r, log) = submit(store, &sam, "Mail the top 50", Some("socks"));
    assert!(r.id > 0);
    let got = store.get_request(r.id).unwrap().unwrap();
    assert_eq!(got, r, "a request reads back exactly as it was stored");
    assert!(got.details_complete.is_some(), "details were complete at submission");
    let stored = store.audit_log(r.id).unwrap();
    assert_eq!(stored.len(), log.len());
    assert!(stored.iter().all(|e| e.request_id == Some(r.id)));
    assert_eq!(stored[0].action, "submit");
    assert_eq!(stored[0].at, moment(2, 10).at);
    let refused = AuditEntry {
        request_id: Some(r.id),
        refused: true,
        note: Some("sales-sam may not change the due date".into()),
        ..stored[0].clone()
    };
    store.append_audit(&[refused.clone()]).unwrap();
    assert_eq!(store.audit_log(r.id).unwrap().last(), Some(&refused));
    assert!(store.get_request(r.id + 100).unwrap().is_none());
}

pub fn stale_saves_are_refused(store: &mut dyn Store) {
    let boss = member("mmanager", Role::Manager);
    let (r, _) = submit(store, &boss, "A", Some("mug"));
    let t = request_template();
    let cal = BusinessCalendar::weekdays();
    let rules = Rules {
        template: &t,
        calendar: &cal,
        reblock: Default::default(),
    };
    let team = vec![boss.clone()];
    let mut first = r.clone();
    let log = first
        .apply(Command::SetTitle("First".into()), &boss, &team, moment(3, 9), rules)
        .unwrap();
    store.update_request(&first, &log).unwrap();
    let mut second = r.clone();
    let log2 = second
        .apply(Command::SetTitle("Second".into()), &boss, &team, moment(3, 10), rules)
        .unwrap();
    let before = store.audit_log(r.id).unwrap().len();
    let err = store.update_request(&second, &log2).unwrap_err();
    assert!(matches!(err, crate::StoreError::Conflict(_)), "{err}");
    let now = store.get_request(r.id).unwrap().unwrap();
    assert_eq!(now.title, "First");
    assert_eq!(now.version, 2);
    assert_eq!(
        store.audit_log(r.id).unwrap().len(),
        before,
        "a refused save writes no audit entries"
    );
    let mut gone = now.clone();
    gone.id = r.id + 100;
    assert!(matches!(
        store.update_request(&gone, &[]),
        Err(crate::StoreError::NotFound(_))
    ));
}

pub fn request_lists_filter(store: &mut dyn Store) {
    let sam = member("sales-sam", Role::Requester);
    let fran = member("field-fran", Role::Requester);
    let (a, _) = submit(store, &sam, "A", Some("mug"));
    let (b, _) = submit(store, &fran, "B", None);
    let (mut c, _) = submit(store, &sam, "C", Some("pen"));
    c.closed = Some(moment(6, 9));
    store.update_request(&c, &[]).unwrap();
    let ids = |q: RequestQuery, store: &mut dyn Store| -> Vec<i64> {
        store.list_requests(&q).unwrap().iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(RequestQuery::default(), store), vec![a.id, b.id, c.id]);
    let open = RequestQuery {
        open_only: true,
        ..Default::default()
    };
    assert_eq!(ids(open.clone(), store), vec![a.id, b.id]);
    assert_eq!(
        ids(
            RequestQuery {
                author: Some("sales-sam".into()),
                ..open.clone()
            },
            store
        ),
        vec![a.id]
    );
    assert_eq!(
        ids(
            RequestQuery {
                status: Some("triage".into()),
                ..Default::default()
            },
            store
        ),
        vec![a.id, b.id, c.id]
    );
    assert_eq!(
        ids(
            RequestQuery {
                status: Some("wip".into()),
                ..Default::default()
            },
            store
        ),
        Vec::<i64>::new()
    );
}

pub fn request_imports_match_on_external_id(store: &mut dyn Store) {
    let sam = member("sales-sam", Role::Requester);
    let (base, history) = {
        let t = request_template();
        let cal = BusinessCalendar::weekdays();
        let rules = Rules {
            template: &t,
            calendar: &cal,
            reblock: Default::default(),
        };
        Request::submit(
            NewRequest {
                title: "Imported".into(),
                ..Default::default()
            },
            &sam,
            moment(1, 8),
            rules,
        )
        .unwrap()
    };
    let batch: Vec<ImportedRequest> = (1..=3)
        .map(|n| ImportedRequest {
            request: Request {
                external_id: Some(format!("gitlab:{n}")),
                title: format!("Imported {n}"),
                ..base.clone()
            },
            history: history.clone(),
        })
        .collect();
    let s = store.import_requests(&batch, &mut |_| {}).unwrap();
    assert_eq!((s.inserted, s.updated, s.unchanged), (3, 0, 0));
    let s = store.import_requests(&batch, &mut |_| {}).unwrap();
    assert_eq!(
        (s.inserted, s.updated, s.unchanged),
        (0, 0, 3),
        "the same file twice changes nothing"
    );
    let all = store.list_requests(&RequestQuery::default()).unwrap();
    assert_eq!(all.len(), 3);
    let log_len = store.audit_log(all[1].id).unwrap().len();
    assert_eq!(log_len, history.len());
    let mut changed = batch.clone();
    changed[1].request.title = "Retitled upstream".into();
    let s = store.import_requests(&changed, &mut |_| {}).unwrap();
    assert_eq!((s.inserted, s.updated, s.unchanged), (0, 1, 2));
    assert_eq!(
        store.get_request(all[1].id).unwrap().unwrap().title,
        "Retitled upstream"
    );
    let log = store.audit_log(all[1].id).unwrap();
    assert_eq!(log.len(), log_len + 1);
    assert_eq!(log.last().unwrap().action, "import");
    assert_eq!(log.last().unwrap().actor, req::RULES_ACTOR);
}

pub fn updates_are_kept_for_digests(store: &mut dyn Store) {
    use abm_core::updates::{TeamUpdate, UpdateKind};
    let u = |day: u32, kind, text: &str| TeamUpdate {
        id: 0,
        at: moment(day, 12).at,
        author: "aabm".into(),
        kind,
        text: text.into(),
        link: Some("https://gitlab.example/mr/1".into()),
    };
    let a = store.add_update(&u(6, UpdateKind::Discuss, "later")).unwrap();
    let b = store.add_update(&u(2, UpdateKind::Update, "earlier")).unwrap();
    store.add_update(&u(20, UpdateKind::Update, "outside")).unwrap();
    let got = store.updates(moment(1, 0).at, moment(13, 0).at).unwrap();
    assert_eq!(
        got.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![b, a],
        "oldest first, window only"
    );
    assert_eq!(
        got[0],
        TeamUpdate {
            id: b,
            ..u(2, UpdateKind::Update, "earlier")
        }
    );
}

pub fn icp_versions_and_fits(store: &mut dyn Store) {
    import(store, sample());
    let at = moment(1, 9).at;
    assert_eq!(store.save_icp_version("v1 text", "mmanager", at).unwrap(), 1);
    assert_eq!(store.save_icp_version("v2 text", "aabm", at).unwrap(), 2);
    let fit = |id: &str, v: i64, icp: bool, score: u32, grade: &str| StoredFit {
        crm_id: id.into(),
        version: v,
        icp,
        score,
        grade: grade.into(),
    };
    let one = vec![fit("001A", 1, true, 85, "A"), fit("001B", 1, false, 20, "D")];
    store.activate_icp(1, "mmanager", at, &one).unwrap();
    assert_eq!(store.fits().unwrap(), one);
    let two = vec![fit("001A", 2, true, 65, "B"), fit("001C", 2, true, 90, "A")];
    store.activate_icp(2, "aabm", at, &two).unwrap();
    assert_eq!(store.fits().unwrap(), two, "activation replaces every fit");
    let v = store.icp_versions().unwrap();
    assert_eq!(
        v.iter().map(|v| (v.version, v.active)).collect::<Vec<_>>(),
        vec![(1, false), (2, true)]
    );
    assert_eq!(v[0].definition, "v1 text");
    let listed = store
        .list_accounts(&AccountQuery {
            grade: Some("A".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        listed.accounts.iter().map(|a| a.crm_id.as_str()).collect::<Vec<_>>(),
        vec!["001C"]
    );
    assert_eq!(
        (listed.accounts[0].fit_score, listed.accounts[0].icp_version),
        (Some(90), Some(2))
    );
    let out = store
        .list_accounts(&AccountQuery {
            icp: Some(false),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        out.accounts.iter().map(|a| a.crm_id.as_str()).collect::<Vec<_>>(),
        vec!["001B"],
        "unscored counts as not ICP"
    );
}

pub fn scoring_inputs_come_in_families(store: &mut dyn Store) {
    import(store, sample());
    let mut seen = Vec::new();
    store
        .each_scoring_input(&mut |i| seen.push((i.crm_id.clone(), i.ultimate_parent_id.clone(), i.attributes.len())))
        .unwrap();
    assert_eq!(
        seen,
        vec![
            ("001A".to_string(), "001A".to_string(), 1),
            ("001B".to_string(), "001A".to_string(), 1),
            ("001C".to_string(), "001C".to_string(), 1)
        ]
    );
    // Where replaying every journey starts: the same accounts and types, by crm id.
    let mut types = Vec::new();
    store
        .each_scoring_input(&mut |i| types.push((i.crm_id, i.account_type)))
        .unwrap();
    types.sort();
    assert!(types.iter().all(|(_, t)| t.as_deref() == Some("Prospect")), "{types:?}");
    assert_eq!(store.account_types().unwrap(), types);
    let ids: Vec<String> = types.into_iter().map(|(id, _)| id).collect();
    assert_eq!(store.account_ids().unwrap(), ids);
}

fn a_list(by: &str) -> abm_core::lists::ListVersion {
    abm_core::lists::ListVersion {
        version: 0,
        created_at: moment(3, 9).at,
        created_by: by.into(),
        published: None,
        icp_version: Some(1),
        entries: vec![abm_core::lists::ListEntry {
            crm_id: "001A".into(),
            name: "Acme".into(),
            tier: "Tier 1".into(),
            geo: Some("AMER".into()),
            family: "001A".into(),
            rank: 1,
            first_order: true,
            reason: "ICP grade A, fit 90".into(),
        }],
        removed: [("001Z".to_string(), "not in the ICP".to_string())].into(),
        note: None,
    }
}

pub fn published_lists_never_change(store: &mut dyn Store) {
    assert_eq!(store.save_list_version(&a_list("aabm")).unwrap(), 1);
    assert_eq!(store.save_list_version(&a_list("mmanager")).unwrap(), 2);
    store.publish_list(1, "mmanager", moment(4, 9).at).unwrap();
    let before = store.list_versions().unwrap();
    assert_eq!(before[0].version, 1);
    assert_eq!(before[0].published, Some((moment(4, 9).at, "mmanager".to_string())));
    assert_eq!(before[0].entries, a_list("x").entries);
    assert_eq!(before[0].removed, a_list("x").removed);
    assert!(before[1].published.is_none());
    let err = store.publish_list(1, "aabm", moment(5, 9).at).unwrap_err();
    assert!(matches!(err, crate::StoreError::Conflict(_)), "{err}");
    assert!(matches!(
        store.publish_list(9, "aabm", moment(5, 9).at),
        Err(crate::StoreError::NotFound(_))
    ));
    assert_eq!(
        store.list_versions().unwrap(),
        before,
        "a published version never changes"
    );
    store
        .set_flag("001A", Some(("no budget", "sales-sam")), moment(5, 9).at)
        .unwrap();
    store
        .set_flag("001B", Some(("merger", "sales-sam")), moment(5, 9).at)
        .unwrap();
    store.set_flag("001B", None, moment(5, 9).at).unwrap();
    assert_eq!(
        store.flags().unwrap(),
        vec![("001A".to_string(), "no budget".to_string())]
    );
}

pub fn nominations_are_decided_once(store: &mut dyn Store) {
    use abm_core::lists::{Decision, Nomination};
    let n = Nomination {
        id: 0,
        crm_id: "001C".into(),
        by: "sales-sam".into(),
        reason: "strategic".into(),
        submitted: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        decide_by: NaiveDate::from_ymd_opt(2026, 7, 9).unwrap(),
        decision: None,
    };
    let id = store.add_nomination(&n).unwrap();
    let decided = Nomination {
        id,
        decision: Some(Decision {
            accepted: true,
            by: "mmanager".into(),
            on: NaiveDate::from_ymd_opt(2026, 7, 2).unwrap(),
            reason: "fits".into(),
        }),
        ..n.clone()
    };
    store.decide_nomination(&decided).unwrap();
    assert!(matches!(
        store.decide_nomination(&decided),
        Err(crate::StoreError::Conflict(_))
    ));
    assert_eq!(store.nominations().unwrap(), vec![decided]);
}

pub fn ad_exports_replace_their_days(store: &mut dyn Store) {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let fact = |d: u32, spend: i64| abm_core::paid::AdFact {
        platform: "google".into(),
        account: "acct".into(),
        campaign: "autosd_amer_pr_rsa_nb_exact".into(),
        ad_group: "core".into(),
        ad: String::new(),
        date_from: day(d),
        date_to: day(d),
        currency: "USD".into(),
        spend_micros: spend,
        impressions: 100,
        clicks: 5,
        conversions_milli: 1500,
        leads: 0,
        reach: None,
        utm: std::sync::Arc::new([("utm_source".to_string(), "google".to_string())].into()),
    };
    let first: Vec<_> = (1..=3).map(|d| fact(d, 1_000_000)).collect();
    assert_eq!(
        store
            .replace_ad_facts("google", "acct", day(1), day(3), &first)
            .unwrap(),
        (0, 3)
    );
    assert_eq!(store.ad_facts().unwrap(), first);
    // An overlapping export replaces the days it covers and keeps the others.
    let second: Vec<_> = (3..=4).map(|d| fact(d, 2_000_000)).collect();
    assert_eq!(
        store
            .replace_ad_facts("google", "acct", day(3), day(4), &second)
            .unwrap(),
        (1, 2)
    );
    let all = store.ad_facts().unwrap();
    assert_eq!(
        all.iter().map(|f| f.spend_micros).sum::<i64>(),
        2 * 1_000_000 + 2 * 2_000_000
    );
    assert_eq!(all.len(), 4);
    assert_eq!(
        store
            .replace_ad_facts("google", "acct", day(3), day(4), &second)
            .unwrap(),
        (2, 2),
        "the same file again"
    );
    assert_eq!(store.ad_facts().unwrap(), all);
}

pub fn budget_imports_replace_the_lines(store: &mut dyn Store) {
    let line = |item: &str, plan: f64| abm_core::budget::BudgetLine {
        category: "Paid".into(),
        sub_category: "Search".into(),
        line_item: item.into(),
        vendor: Some("Google".into()),
        region: None,
        campaign: Some("autosd*".into()),
        start: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        end: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        target: None,
        plan,
        forecast: Some(plan),
        actual: None,
        planned_mqls: Some(10.0),
        actual_mqls: None,
        comment: None,
    };
    store.replace_budget(&[line("B", 1.0), line("A", 2.0)]).unwrap();
    store.replace_budget(&[line("C", 3.5), line("A", 2.0)]).unwrap();
    assert_eq!(store.budget().unwrap(), vec![line("A", 2.0), line("C", 3.5)]);
}

/// A marketing-automation activity of `kind` from `email` at `at`, matched to `crm_id` by its
/// email domain: how other crates' tests give accounts activity.
pub fn email_activity(
    source_id: &str,
    at: chrono::DateTime<Utc>,
    kind: &str,
    email: &str,
    crm_id: &str,
) -> (abm_core::activity::Activity, abm_core::activity::Match) {
    (
        abm_core::activity::Activity {
            source: "marketing-automation".into(),
            source_id: source_id.into(),
            at,
            kind: kind.into(),
            email: Some(email.into()),
            account_id: None,
            ip: None,
            company_domain: None,
            attributes: Default::default(),
        },
        abm_core::activity::Match {
            account: Some(crm_id.into()),
            method: abm_core::activity::Method::EmailDomain,
            confidence: 0.95,
            why_not: None,
        },
    )
}

/// Each activity is stored with its own columns, however they differ from the row before: its
/// source, account id, address, company domain and attributes, how it matched and why not.
pub fn activities_keep_their_own_columns(store: &mut dyn Store) {
    use abm_core::activity::{Activity, Match, Method};
    let row = |i: usize| {
        let matched = i % 5 != 4;
        (
            Activity {
                source: ["marketing-automation", "web-analytics"][i / 3 % 2].into(),
                source_id: format!("r{i:02}"),
                at: moment(1 + i as u32, 9).at,
                kind: "Email Open".into(),
                email: Some(format!("p{i}@acme.com")),
                account_id: (i % 2 == 1).then(|| format!("X{i}")),
                ip: (i / 2 % 2 == 1).then(|| format!("100.0.{i}.9").parse().unwrap()),
                company_domain: (i % 3 == 2).then(|| "acme.com".to_string()),
                attributes: match i % 4 {
                    0 => Default::default(),
                    k => [("campaign".to_string(), format!("c{k}"))].into(),
                },
            },
            Match {
                account: matched.then(|| "001A".to_string()),
                method: match (matched, i % 3) {
                    (false, _) => Method::Unmatched,
                    (true, 0) => Method::AccountId,
                    (true, _) => Method::EmailDomain,
                },
                confidence: match (matched, i % 3) {
                    (false, _) => 0.0,
                    (true, 0) => 1.0,
                    (true, _) => 0.95,
                },
                why_not: (!matched).then_some(["no email domain", "email domain belongs to no account"][i / 5 % 2]),
            },
        )
    };
    let rows: Vec<_> = (0..20).map(row).collect();
    let mut once = Some(rows.clone());
    store
        .insert_activity_batches(&mut |_| Ok(once.take().unwrap_or_default()))
        .unwrap();
    let want: Vec<Activity> = rows
        .iter()
        .filter(|(_, m)| m.account.is_some())
        .map(|(a, _)| a.clone())
        .collect();
    assert_eq!(store.activities_of("001A").unwrap(), want);
    // Counted from the rows as given: by method, and the unmatched by why.
    let mut by_method: std::collections::BTreeMap<String, u64> = Default::default();
    let mut by_why: std::collections::BTreeMap<String, u64> = Default::default();
    for (_, m) in &rows {
        *by_method.entry(m.method.as_str().to_string()).or_default() += 1;
        if let Some(w) = m.why_not {
            *by_why.entry(w.to_string()).or_default() += 1;
        }
    }
    assert_eq!((by_method.len(), by_why.len()), (3, 2), "the rows differ in both");
    let (mut methods, mut why) = store.activity_summary().unwrap();
    methods.sort();
    why.sort();
    assert_eq!(methods, by_method.into_iter().collect::<Vec<_>>());
    assert_eq!(why, by_why.into_iter().collect::<Vec<_>>());
}

pub fn activities_are_appended_once(store: &mut dyn Store) {
    use abm_core::activity::{Activity, Match, Method};
    let act = |id: &str, account: Option<&str>| {
        (
            Activity {
                source: "marketing-automation".into(),
                source_id: id.into(),
                at: moment(2, 10).at,
                kind: "Email Open".into(),
                email: Some("jo@acme.com".into()),
                account_id: None,
                ip: Some("100.0.7.9".parse().unwrap()),
                company_domain: None,
                attributes: [("campaign".to_string(), "autosd".to_string())].into(),
            },
            Match {
                account: account.map(String::from),
                method: if account.is_some() {
                    Method::EmailDomain
                } else {
                    Method::Unmatched
                },
                confidence: if account.is_some() { 0.95 } else { 0.0 },
                why_not: if account.is_some() {
                    None
                } else {
                    Some("email domain belongs to no account")
                },
            },
        )
    };
    let mut batch = vec![act("1", Some("001A")), act("2", None), act("3", Some("001A"))];
    batch[2].0.at = moment(3, 2).at;
    // One without attributes or an address.
    batch[2].0.attributes.clear();
    batch[2].0.ip = None;
    assert!(!store.holds_activities().unwrap());
    let mut once = Some(batch.clone());
    let first = store
        .insert_activity_batches(&mut |_| Ok(once.take().unwrap_or_default()))
        .unwrap();
    assert_eq!(
        first,
        crate::ActivityWrite {
            added: 3,
            already: 0,
            into_empty: true
        }
    );
    let mut since = |d: chrono::DateTime<chrono::Utc>| {
        store
            .activities_since("001A", d.date_naive())
            .unwrap()
            .iter()
            .map(|a| a.source_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(since(moment(2, 10).at), vec!["1", "3"], "the whole day counts");
    assert_eq!(since(moment(3, 0).at), vec!["3"]);
    let mut batch_since = store
        .activities_of_since(&["001A".to_string(), "001Z".to_string()], moment(2, 0).day)
        .unwrap();
    batch_since.sort_by(|a, b| a.1.source_id.cmp(&b.1.source_id));
    assert_eq!(
        batch_since
            .iter()
            .map(|(c, a)| (c.as_str(), a.source_id.as_str()))
            .collect::<Vec<_>>(),
        vec![("001A", "1"), ("001A", "3")]
    );
    let mut again = Some(batch.clone());
    assert_eq!(
        store
            .insert_activity_batches(&mut |_| Ok(again.take().unwrap_or_default()))
            .unwrap(),
        crate::ActivityWrite {
            added: 0,
            already: 3,
            into_empty: false
        },
        "the same file again adds nothing"
    );
    assert!(store.holds_activities().unwrap());
    // The scan that lends each activity gives what the one that builds them gives.
    let (mut built, mut lent) = (Vec::new(), Vec::new());
    store.each_matched_activity(&mut |c, a| built.push((c, a))).unwrap();
    store
        .each_matched_activity_lent(&mut |c, a| lent.push((c.to_string(), a.to_activity())))
        .unwrap();
    built.sort_by(|x, y| x.1.source_id.cmp(&y.1.source_id));
    lent.sort_by(|x, y| x.1.source_id.cmp(&y.1.source_id));
    assert_eq!(lent, built);
    assert_eq!(lent.len(), 2, "the matched ones");
    let (methods, why) = store.activity_summary().unwrap();
    assert_eq!(
        methods,
        vec![("email_domain".to_string(), 2), ("unmatched".to_string(), 1)]
    );
    assert_eq!(why, vec![("email domain belongs to no account".to_string(), 1)]);
    store
        .replace_ip_ranges(&[("100.0.7.0/24".into(), 0x6400_0700, 0x6400_07ff, "001A".into())])
        .unwrap();
    assert_eq!(
        store.ip_ranges().unwrap(),
        vec![(0x6400_0700, 0x6400_07ff, "001A".to_string())]
    );
}

pub fn opportunities_upsert_by_id(store: &mut dyn Store) {
    let o = |id: &str, stage: &str| abm_core::opportunity::Opportunity {
        id: id.into(),
        crm_id: "001A".into(),
        name: format!("Acme {id}"),
        created: date(),
        stage: stage.into(),
        amount_cents: 500_000,
        order_type: "New - First Order".into(),
        close_date: None,
        history: vec![("0-Pending Acceptance".into(), moment(1, 12).at)],
    };
    let s = store
        .upsert_opportunities(&[o("1", "0-Pending Acceptance"), o("2", "1-Discovery")])
        .unwrap();
    assert_eq!((s.inserted, s.updated, s.unchanged), (2, 0, 0));
    let s = store
        .upsert_opportunities(&[o("1", "0-Pending Acceptance"), o("2", "2-Scoping")])
        .unwrap();
    assert_eq!((s.inserted, s.updated, s.unchanged), (0, 1, 1));
    assert_eq!(
        store.opportunities().unwrap(),
        vec![o("1", "0-Pending Acceptance"), o("2", "2-Scoping")]
    );
}

/// A day in March 2026.
fn march(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

/// `crm`'s journey through `through` (a day in March) with its stage changes (day in March,
/// from, to), each caused by the move.
fn journey(
    crm: &str,
    through: u32,
    moves: &[(u32, u32, u32)],
    scores: Vec<abm_core::journey::WindowScore>,
) -> abm_core::journey::Journey {
    abm_core::journey::Journey {
        crm_id: crm.into(),
        base_stage: 1,
        through: march(through),
        events: moves
            .iter()
            .map(|(d, from, to)| abm_core::journey::StageEvent {
                crm_id: crm.into(),
                day: march(*d),
                from: *from,
                to: *to,
                cause: format!("moved to {to} on {d}"),
            })
            .collect(),
        scores,
    }
}

pub fn journeys_replace_by_account(store: &mut dyn Store) {
    let j = |crm: &str, moves: &[(u32, u32, u32)], points: f64| {
        let scores = vec![abm_core::journey::WindowScore {
            window_days: 90,
            points,
            engaged_people: 3,
            engaged: true,
        }];
        journey(crm, 31, moves, scores)
    };
    import(store, sample());
    let in_stage = |store: &mut dyn Store, stage: u32| {
        let q = AccountQuery {
            stage: Some(stage),
            ..Default::default()
        };
        listed_ids(store, &q)
    };
    let a = j("001A", &[(2, 1, 5), (20, 5, 6)], 120.5);
    let b = j("001B", &[(3, 1, 2)], 0.0);
    store.replace_journeys(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(store.journeys(None).unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(
        in_stage(store, 6),
        vec!["001A"],
        "accounts filter by the stage they are in now"
    );
    assert_eq!(in_stage(store, 5), Vec::<String>::new());
    // Replacing one account's journey leaves the others alone.
    let a2 = j("001A", &[(2, 1, 5)], 30.25);
    store.revise_journeys(&[(a2.clone(), None)]).unwrap();
    assert_eq!(store.journeys(None).unwrap(), vec![a2.clone(), b.clone()]);
    assert_eq!(in_stage(store, 5), vec!["001A"]);
    assert_eq!(in_stage(store, 2), vec!["001B"]);
    assert_eq!(store.journeys(Some("001B")).unwrap(), vec![b.clone()]);
    assert_eq!(
        store
            .journeys_of(&["001B".into(), "001Z".into(), "001A".into()])
            .unwrap(),
        vec![b.clone(), a2.clone()],
        "those asked for that have one"
    );
    // A full replace drops accounts that are no longer given.
    store.replace_journeys(std::slice::from_ref(&a2)).unwrap();
    assert_eq!(store.journeys(None).unwrap(), vec![a2]);
}

/// Journeys handed over a run at a time replace every stored one as if handed over together; a
/// replay that stops part way stores none of them and leaves the stored ones.
pub fn journeys_replace_in_runs(store: &mut dyn Store) {
    import(store, sample());
    let before = vec![journey("001C", 31, &[(9, 1, 4)], vec![])];
    store.replace_journeys(&before).unwrap();
    let a = journey("001A", 31, &[(2, 1, 5), (20, 5, 6)], vec![]);
    let b = journey("001B", 31, &[(3, 1, 2)], vec![]);
    let mut runs = vec![vec![a.clone()], vec![b.clone()]].into_iter();
    store
        .replace_journeys_in_runs(&mut || Ok(runs.next().unwrap_or_default()))
        .unwrap();
    assert_eq!(store.journeys(None).unwrap(), vec![a.clone(), b.clone()]);
    let mut runs = vec![
        Ok(vec![journey("001C", 31, &[], vec![])]),
        Err("the replay stopped".to_string()),
    ]
    .into_iter();
    let err = store
        .replace_journeys_in_runs(&mut || runs.next().unwrap_or(Ok(vec![])))
        .unwrap_err();
    assert!(err.to_string().contains("the replay stopped"), "{err}");
    assert_eq!(
        store.journeys(None).unwrap(),
        vec![a, b],
        "nothing of the stopped write stays"
    );
}

pub fn journeys_are_revised_from_a_day(store: &mut dyn Store) {
    let j = |crm: &str, moves: &[(u32, u32, u32)]| journey(crm, moves.last().map_or(1, |m| m.0), moves, vec![]);
    import(store, sample());
    store
        .replace_journeys(&[j("001A", &[(2, 1, 5), (20, 5, 6)]), j("001B", &[(3, 1, 2)])])
        .unwrap();
    // 001A resumed from the 10th: its change on the 2nd stands, the one on the 20th is replaced.
    // 001B replayed whole; 001C had no journey.
    let a = j("001A", &[(2, 1, 5), (15, 5, 7), (25, 7, 8)]);
    let b = j("001B", &[(4, 1, 3)]);
    let c = j("001C", &[(5, 1, 2)]);
    store
        .revise_journeys(&[
            (a.clone(), Some(march(10))),
            (b.clone(), None),
            (c.clone(), Some(march(1))),
        ])
        .unwrap();
    assert_eq!(store.journeys(None).unwrap(), vec![a, b, c]);
    let q = AccountQuery {
        stage: Some(8),
        ..Default::default()
    };
    assert_eq!(listed_ids(store, &q), vec!["001A"], "the stage now moves with the row");
    // Changes before the day are not written again: what was stored stands.
    let a2 = j("001A", &[(9, 1, 4), (26, 8, 9)]);
    store.revise_journeys(&[(a2, Some(march(26)))]).unwrap();
    let days: Vec<(NaiveDate, u32)> = store.journeys(Some("001A")).unwrap()[0]
        .events
        .iter()
        .map(|e| (e.day, e.to))
        .collect();
    assert_eq!(
        days,
        vec![(march(2), 5), (march(15), 7), (march(25), 8), (march(26), 9)]
    );
}

/// Activities dated on or after a day are read the same whether or not the store keeps a copy of
/// the recent ones: before the copy, from it, after inserts into it, and from before it starts.
pub fn recent_activities_read_the_same_with_a_copy(store: &mut dyn Store) {
    use abm_core::packing::by_account;
    let ids = ["001A".to_string(), "001B".to_string()];
    // Whole activities are compared: what a copy holds must read back field for field.
    let read = |store: &mut dyn Store, since: u32| {
        let mut got = store.activities_of_since(&ids, moment(since, 0).day).unwrap();
        got.sort_by(|x, y| (&x.0, &x.1.source_id).cmp(&(&y.0, &y.1.source_id)));
        got
    };
    let act = |id: &str, day: u32, crm: &str| {
        let mut a = email_activity(id, moment(day, 10).at, "Email Click", "jo@acme.com", crm);
        if day.is_multiple_of(2) {
            a.0.at += chrono::Duration::microseconds(123_456);
            a.0.ip = Some(std::net::Ipv4Addr::new(10, 0, 0, day as u8));
            a.0.account_id = Some(crm.into());
            a.0.company_domain = Some("acme.com".into());
            a.0.attributes
                .insert("utm_campaign".into(), format!("q{day} spring – ünïcode"));
        }
        a
    };
    let first: Vec<_> = (1..=20)
        .map(|d| act(&format!("a{d}"), d, if d % 3 == 0 { "001B" } else { "001A" }))
        .collect();
    store.insert_activities(&first).unwrap();
    let before: Vec<_> = [5, 10, 15].iter().map(|d| read(store, *d)).collect();
    assert_eq!(before[1].len(), 11, "the 10th through the 20th");
    let recent: Vec<(String, abm_core::activity::Activity)> =
        store.activities_of_since(&ids, moment(10, 0).day).unwrap();
    store
        .keep_recent_activities(moment(10, 0).day, &mut by_account(recent).into_iter())
        .unwrap();
    let with_copy: Vec<_> = [5, 10, 15].iter().map(|d| read(store, *d)).collect();
    assert_eq!(with_copy, before);
    // Later inserts: a recent one, an old one, one already held, one unmatched.
    let mut unmatched = act("a23", 23, "001A");
    unmatched.1.account = None;
    unmatched.1.method = abm_core::activity::Method::Unmatched;
    let later = vec![
        act("a22", 22, "001B"),
        act("a0", 2, "001A"),
        act("a12", 12, "001A"),
        unmatched,
    ];
    assert_eq!(store.insert_activities(&later).unwrap(), (3, 1));
    let after: Vec<_> = [1, 10, 21].iter().map(|d| read(store, *d)).collect();
    assert_eq!(after[0].len(), 22, "every matched activity");
    assert_eq!(after[1].len(), 12, "the recent ones and the one inserted since");
    assert_eq!(after[2], vec![("001B".to_string(), later[0].0.clone())]);
    // Asked again from a later day, from an earlier one, and from weeks later: the store keeps
    // or renews its copy as it likes, and reads stay the same.
    for since in [
        moment(18, 0).day,
        moment(3, 0).day,
        moment(20, 0).day + chrono::Duration::days(40),
    ] {
        let recent = store.activities_of_since(&ids, since).unwrap();
        store
            .keep_recent_activities(since, &mut by_account(recent).into_iter())
            .unwrap();
        assert_eq!([1, 10, 21].iter().map(|d| read(store, *d)).collect::<Vec<_>>(), after);
        let later = store
            .activities_of_since(&ids, since + chrono::Duration::days(1))
            .unwrap();
        assert!(later.iter().all(|(_, a)| a.at.date_naive() > since));
    }
}

pub fn passwords_and_tokens_belong_to_team_members(store: &mut dyn Store) {
    let at = moment(1, 9).at;
    assert!(
        matches!(
            store.set_password("nobody", "$argon2id$x", at),
            Err(crate::StoreError::NotFound(_))
        ),
        "a password needs a team member"
    );
    let sam = member("sales-sam", Role::Requester);
    store.put_team_member(&sam, &team_entry(&sam)).unwrap();
    assert_eq!(store.password_hash("sales-sam").unwrap(), None);
    store.set_password("sales-sam", "$argon2id$one", at).unwrap();
    store.set_password("sales-sam", "$argon2id$two", at).unwrap();
    assert_eq!(
        store.password_hash("sales-sam").unwrap().as_deref(),
        Some("$argon2id$two")
    );

    let token = |hash: &str, label: &str| crate::ApiToken {
        token_hash: hash.into(),
        username: "sales-sam".into(),
        label: label.into(),
        created_at: at,
    };
    store.add_api_token(&token("bb", "script")).unwrap();
    store.add_api_token(&token("aa", "laptop")).unwrap();
    assert!(
        matches!(
            store.add_api_token(&token("cc", "script")),
            Err(crate::StoreError::Conflict(_))
        ),
        "labels are unique per member"
    );
    assert_eq!(store.token_owner("bb").unwrap().as_deref(), Some("sales-sam"));
    assert_eq!(store.token_owner("cc").unwrap(), None);
    assert_eq!(
        store.api_tokens().unwrap(),
        vec![token("aa", "laptop"), token("bb", "script")]
    );
    assert!(store.revoke_api_token("sales-sam", "script").unwrap());
    assert!(!store.revoke_api_token("sales-sam", "script").unwrap());
    assert_eq!(store.token_owner("bb").unwrap(), None);

    let before = store.data_version().unwrap();
    let first = store.server_secret("cookie", "k1").unwrap();
    assert_ne!(store.data_version().unwrap(), before, "a write moves the data version");
    assert_eq!(first, "k1");
    assert_eq!(
        store.server_secret("cookie", "k2").unwrap(),
        "k1",
        "the first secret stays"
    );

    // A signed-out session stays refused until it would have expired; then it is forgotten.
    assert!(!store.session_signed_out("n1").unwrap());
    store.sign_out_session("n1", 1_000, 500).unwrap();
    store.sign_out_session("n1", 1_000, 500).unwrap();
    assert!(store.session_signed_out("n1").unwrap());
    assert!(!store.session_signed_out("n2").unwrap());
    store.sign_out_session("n2", 3_000, 2_000).unwrap();
    assert!(
        !store.session_signed_out("n1").unwrap(),
        "expired sessions are forgotten"
    );
    assert!(store.session_signed_out("n2").unwrap());
}

pub fn firings_are_recorded_once(store: &mut dyn Store) {
    let f = |crm: &str, d: u32| crate::Firing {
        automation: "MQA alert".into(),
        crm_id: crm.into(),
        day: chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap(),
        action: "slack".into(),
        note: "posted".into(),
    };
    assert!(store.record_firing(&f("001B", 2)).unwrap());
    assert!(store.record_firing(&f("001A", 2)).unwrap());
    assert!(
        !store.record_firing(&f("001A", 2)).unwrap(),
        "the same firing is kept once"
    );
    assert!(store.record_firing(&f("001A", 1)).unwrap());
    assert_eq!(store.firings().unwrap(), vec![f("001A", 1), f("001A", 2), f("001B", 2)]);
}

pub fn rules_versions_activate_with_their_journeys(store: &mut dyn Store) {
    use abm_core::journey::Journey;
    let at = moment(2, 10).at;
    let j = |crm: &str, stage: u32| Journey {
        crm_id: crm.into(),
        base_stage: stage,
        through: chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        events: vec![],
        scores: vec![],
    };
    assert_eq!(store.save_rules_version("engagement", "a = 1", "ann", at).unwrap(), 1);
    assert_eq!(store.save_rules_version("engagement", "a = 2", "bo", at).unwrap(), 2);
    assert_eq!(
        store.save_rules_version("other", "x", "bo", at).unwrap(),
        1,
        "kinds number apart"
    );
    let v = store.rules_versions("engagement").unwrap();
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(|v| !v.active), "nothing in force before an activation");
    assert_eq!((v[1].definition.as_str(), v[1].author.as_str()), ("a = 2", "bo"));
    store.replace_journeys(&[j("001A", 1), j("001B", 1)]).unwrap();
    store
        .activate_rules("engagement", 2, "ann", at, &[j("001A", 5)])
        .unwrap();
    let v = store.rules_versions("engagement").unwrap();
    assert_eq!(v.iter().map(|v| v.active).collect::<Vec<_>>(), vec![false, true]);
    assert_eq!(
        store.journeys(None).unwrap(),
        vec![j("001A", 5)],
        "journeys replaced with the activation"
    );
    // A rollback is activating the earlier version.
    store
        .activate_rules("engagement", 1, "ann", at, &[j("001A", 2)])
        .unwrap();
    assert!(store.rules_versions("engagement").unwrap()[0].active);
    assert!(!store.rules_versions("other").unwrap()[0].active);
    let err = store.activate_rules("engagement", 9, "ann", at, &[]).unwrap_err();
    assert!(matches!(err, crate::StoreError::NotFound(_)), "{err}");
    assert_eq!(
        store.journeys(None).unwrap(),
        vec![j("001A", 2)],
        "a refused activation changes nothing"
    );
}

pub fn journey_facts_read_account_by_account(store: &mut dyn Store) {
    let (w, mut src) = write_for(
        store,
        vec![
            record("001A", "Acme", None, 10, 0, &["acme.example"]),
            record("001B", "Beta", None, 10, 0, &["beta.example"]),
        ],
    );
    store.write_accounts(&w, &mut src, &mut |_| {}).unwrap();
    let o = abm_core::opportunity::Opportunity {
        id: "9".into(),
        crm_id: "001B".into(),
        name: "Beta deal".into(),
        created: date(),
        stage: "1-Discovery".into(),
        amount_cents: 100,
        order_type: "New - First Order".into(),
        close_date: None,
        history: vec![("0-Pending Acceptance".into(), moment(1, 12).at)],
    };
    store.upsert_opportunities(std::slice::from_ref(&o)).unwrap();
    let facts = store
        .journey_facts(&["001B".to_string(), "NOPE".to_string(), "001A".to_string()])
        .unwrap();
    assert_eq!(
        facts.iter().map(|f| f.crm_id.as_str()).collect::<Vec<_>>(),
        vec!["001B", "001A"],
        "accounts held, in the order asked"
    );
    assert_eq!(facts[0].opportunities, vec![o]);
    assert!(facts[1].opportunities.is_empty() && facts[1].fit.is_none());
}
