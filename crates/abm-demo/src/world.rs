//! The demo world in memory: accounts in families, people, and the events that happen to them
//! over one year. Engagement is driven by a per-account "heat" so that a few accounts warm up to
//! MQA and beyond while most stay quiet, as in a real database.

use crate::names::*;
use crate::{DemoError, DemoOptions};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub extra_domains: Vec<String>,
    pub parent: Option<usize>,
    pub country: &'static str,
    pub geo: &'static str,
    pub sub_region: &'static str,
    pub employees: Option<u32>,
    pub industry: &'static str,
    pub revenue_cents: Option<i64>,
    pub account_type: &'static str,
    pub carr_cents: i64,
    pub owner: &'static str,
    pub sdr: Option<&'static str>,
    pub rank: Option<&'static str>,
    pub gtm: &'static str,
    pub new_logo: Option<&'static str>,
    pub dev_aberdeen: Option<u32>,
    pub dev_sales: Option<u32>,
    pub tech_gainsight: Option<String>,
    pub tech_aberdeen: Option<String>,
    pub tech_zoominfo: Option<String>,
    pub cloud_aberdeen: Option<&'static str>,
    pub cloud_zoominfo: Option<&'static str>,
    pub last_modified: NaiveDate,
    /// 0 cold .. 1 hot: how much this account engages.
    pub heat: f64,
    /// A /24 network the account's visitors browse from.
    pub ip_block: [u8; 3],
}

#[derive(Debug, Clone)]
pub struct DemoPerson {
    pub id: String,
    pub account: usize,
    pub first: &'static str,
    pub last: &'static str,
    pub email: String,
    pub title: &'static str,
    /// Whether the CRM export carries the account id (otherwise matched by email domain).
    pub has_account_id: bool,
}

/// One activity row of the marketing-automation export.
#[derive(Debug, Clone)]
pub struct DemoActivity {
    pub id: u64,
    pub at: NaiveDateTime,
    pub kind: &'static str,
    pub person: usize,
    pub detail: String,
    pub campaign: Option<String>,
    pub minutes: Option<u32>,
}

/// A page view from the web-analytics export (known visitor or anonymous by IP).
#[derive(Debug, Clone)]
pub struct DemoVisit {
    pub at: NaiveDateTime,
    pub ip: String,
    pub url: String,
    pub person: Option<usize>,
    pub utm_campaign: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DemoIntent {
    pub week: NaiveDate,
    pub account: usize,
    pub keyword_set: &'static str,
    pub topic: &'static str,
    pub strength: &'static str,
}

#[derive(Debug, Clone)]
pub struct DemoOpportunity {
    pub id: String,
    pub account: usize,
    pub name: String,
    pub created: NaiveDate,
    pub amount_cents: i64,
    pub order_type: &'static str,
    /// (stage, date entered), in order; the last is the current stage.
    pub history: Vec<(&'static str, NaiveDate)>,
}

#[derive(Debug, Clone)]
pub struct DemoTeamMember {
    pub username: String,
    pub name: String,
    pub role: &'static str,
    pub hours_per_day: f64,
    pub pto: Vec<(NaiveDate, f64)>,
}

#[derive(Debug, Clone)]
pub struct DemoRequest {
    pub iid: u32,
    pub title: String,
    pub template: &'static str,
    pub author: String,
    pub assignee: Option<String>,
    pub created: NaiveDateTime,
    pub due: Option<NaiveDate>,
    pub weight: Option<u8>,
    pub state: &'static str,
    pub closed: Option<NaiveDateTime>,
    pub fields: Vec<(&'static str, String)>,
    /// (action, label, at, user)
    pub label_events: Vec<(&'static str, String, NaiveDateTime, String)>,
}

pub struct World {
    pub options: DemoOptions,
    pub accounts: Vec<DemoAccount>,
    pub people: Vec<DemoPerson>,
    pub activities: Vec<DemoActivity>,
    pub visits: Vec<DemoVisit>,
    pub intent: Vec<DemoIntent>,
    pub opportunities: Vec<DemoOpportunity>,
    pub team: Vec<DemoTeamMember>,
    pub requests: Vec<DemoRequest>,
}

pub const OPP_STAGES: &[&str] = &[
    "0-Pending Acceptance",
    "1-Discovery",
    "2-Scoping",
    "3-Technical Evaluation",
    "4-Proposal",
    "5-Negotiating",
    "6-Awaiting Signature",
    "7-Closing",
];

fn weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], w: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&w).sum();
    let mut x = rng.gen_range(0..total);
    for it in items {
        let wi = w(it);
        if x < wi {
            return it;
        }
        x -= wi;
    }
    &items[items.len() - 1]
}

fn slug(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

fn tld(country: &str) -> &'static str {
    match country {
        "GB" => "co.uk",
        "DE" => "de",
        "FR" => "fr",
        "NL" => "nl",
        "SE" => "se",
        "JP" => "co.jp",
        "AU" => "com.au",
        "IN" => "in",
        "BR" => "com.br",
        _ => "com",
    }
}

/// A log-normal-ish employee count.
fn employees(rng: &mut ChaCha8Rng) -> u32 {
    let z: f64 = (0..4).map(|_| rng.gen::<f64>()).sum::<f64>() - 2.0; // ~N(0, 0.58)
    (10f64.powf(2.6 + z * 1.9)).clamp(3.0, 400_000.0) as u32
}

fn tech_stack(rng: &mut ChaCha8Rng) -> Option<String> {
    if rng.gen_bool(0.2) {
        return None;
    }
    let k = rng.gen_range(1..=3);
    let mut t: Vec<&str> = TECH.choose_multiple(rng, k).copied().collect();
    t.sort();
    Some(t.join(";"))
}

fn at(day: NaiveDate, rng: &mut ChaCha8Rng) -> NaiveDateTime {
    day.and_time(
        NaiveTime::from_hms_opt(rng.gen_range(7..20), rng.gen_range(0..60), rng.gen_range(0..60)).expect("valid"),
    )
}

/// Build the world.
pub fn generate(options: DemoOptions) -> Result<World, DemoError> {
    if !(options.scale.is_finite() && options.scale > 0.0) {
        return Err(DemoError::BadScale(options.scale));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let today = options.today;
    let start = today - Duration::days(364);
    let accounts = gen_accounts(&mut rng, options.scale, today);
    let people = gen_people(&mut rng, &accounts);
    let (activities, visits) = gen_activity(&mut rng, &accounts, &people, start, today);
    let intent = gen_intent(&mut rng, &accounts, today);
    let opportunities = gen_opportunities(&mut rng, &accounts, start, today);
    let team = gen_team(&mut rng, start, today);
    let requests = gen_requests(&mut rng, &team, start, today, 260);
    Ok(World {
        options,
        accounts,
        people,
        activities,
        visits,
        intent,
        opportunities,
        team,
        requests,
    })
}

/// Accounts only, for benchmarks that need many.
pub fn gen_accounts(rng: &mut ChaCha8Rng, scale: f64, today: NaiveDate) -> Vec<DemoAccount> {
    let families = (3_600.0 * scale).ceil() as usize;
    let mut out: Vec<DemoAccount> = Vec::with_capacity(families * 2);
    let mut names = HashSet::new();
    let mut name_counts: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    let mut domains = HashSet::new();
    let mut next_block: u32 = 0;
    for _ in 0..families {
        let (country, geo, sub_region, _) = *weighted(rng, COUNTRIES, |c| c.3);
        let head = *COMPANY_HEADS.choose(rng).expect("non-empty");
        let tail = *COMPANY_TAILS.choose(rng).expect("non-empty");
        // Repeated head+tail pairs are numbered: "Acme Bank", "Acme Bank 2", …
        let seen = name_counts.entry((head, tail)).or_insert(0usize);
        *seen += 1;
        let base = if *seen == 1 {
            format!("{head} {tail}")
        } else {
            format!("{head} {tail} {seen}")
        };
        names.insert(base.clone());
        let mut domain = format!("{}.{}", slug(&base), tld(country));
        while !domains.insert(domain.clone()) {
            domain = format!("{}{}.{}", slug(&base), rng.gen_range(0..1000), tld(country));
        }
        let parent_idx = out.len();
        let root = new_account(
            rng,
            &mut next_block,
            out.len(),
            base.clone(),
            domain.clone(),
            None,
            country,
            geo,
            sub_region,
            today,
        );
        out.push(root);
        let kids = match rng.gen_range(0..100) {
            0..=69 => 0,
            70..=84 => 1,
            85..=92 => 2,
            93..=97 => rng.gen_range(3..=5),
            _ => rng.gen_range(6..=12),
        };
        for c in 0..kids {
            let (kc, kg, ks, _) = *weighted(rng, COUNTRIES, |c| c.3);
            let (kc, kg, ks) = if geo == "PubSec" {
                (country, geo, sub_region)
            } else {
                (kc, kg, ks)
            };
            let kname = format!(
                "{base} {}",
                ["Europe", "Labs", "Services", "Digital", "Holdings", "Solutions"][c % 6]
            );
            let kname = if names.insert(kname.clone()) {
                kname
            } else {
                format!("{kname} {}", c + 1)
            };
            names.insert(kname.clone());
            let mut kdomain = format!("{}.{}", slug(&kname), tld(kc));
            while !domains.insert(kdomain.clone()) {
                kdomain = format!("{}{}.{}", slug(&kname), rng.gen_range(0..1000), tld(kc));
            }
            // Children hang off the root or, sometimes, off an earlier child.
            let parent = if c > 0 && rng.gen_bool(0.3) {
                out.len() - 1
            } else {
                parent_idx
            };
            let mut kid = new_account(
                rng,
                &mut next_block,
                out.len(),
                kname,
                kdomain,
                Some(parent),
                kc,
                kg,
                ks,
                today,
            );
            if rng.gen_bool(0.05) {
                kid.extra_domains.push(domain.clone()); // shares the parent's domain: a claim conflict
            }
            kid.employees = kid.employees.map(|e| e.min(out[parent_idx].employees.unwrap_or(e)));
            out.push(kid);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn new_account(
    rng: &mut ChaCha8Rng,
    next_block: &mut u32,
    index: usize,
    base: String,
    domain: String,
    parent: Option<usize>,
    country: &'static str,
    geo: &'static str,
    sub_region: &'static str,
    today: NaiveDate,
) -> DemoAccount {
    let emp = if rng.gen_bool(0.04) { None } else { Some(employees(rng)) };
    let e = emp.unwrap_or(50) as f64;
    let account_type = *weighted(
        rng,
        &[
            ("Prospect", 78u32),
            ("Customer", 12),
            ("Former Customer", 4),
            ("Partner", 2),
            ("Reseller", 1),
            ("Authorized Reseller", 1),
            ("Prospective Partner", 2),
        ],
        |t| t.1,
    );
    let account_type = account_type.0;
    let carr_cents = if account_type == "Customer" {
        (rng.gen_range(5_000.0..(e * 400.0).max(10_000.0)) * 100.0) as i64
    } else {
        0
    };
    let industry = if geo == "PubSec" {
        "Government"
    } else {
        INDUSTRIES[rng.gen_range(0..INDUSTRIES.len() - 1)]
    };
    let devs = (e * rng.gen_range(0.05..0.35)) as u32;
    let heat = {
        let x: f64 = rng.gen();
        if x > 0.965 {
            rng.gen_range(0.75..1.0)
        } else if x > 0.8 {
            rng.gen_range(0.3..0.6)
        } else {
            rng.gen_range(0.0..0.12)
        }
    };
    let block = *next_block;
    *next_block += 1;
    let suffix = *SUFFIXES.choose(rng).expect("non-empty");
    DemoAccount {
        id: format!("0015g00000{:08X}", index + 1),
        name: format!("{base} {suffix}"),
        domain,
        extra_domains: if rng.gen_bool(0.15) {
            vec![format!("{}.io", slug(&base))]
        } else {
            vec![]
        },
        parent,
        country,
        geo,
        sub_region,
        employees: emp,
        industry,
        revenue_cents: emp.map(|e| (e as i64) * rng.gen_range(80_000..400_000) * 100),
        account_type,
        carr_cents,
        owner: SELLERS.choose(rng).expect("non-empty"),
        sdr: if rng.gen_bool(0.7) {
            Some(SDRS.choose(rng).expect("non-empty"))
        } else {
            None
        },
        rank: if parent.is_none() && rng.gen_bool(0.12) {
            Some(["1", "1.5", "2", "3"][rng.gen_range(0..4)])
        } else {
            None
        },
        gtm: if rng.gen_bool(0.1) {
            "ICP Total Addressable Market"
        } else {
            "Volume"
        },
        new_logo: if account_type == "Prospect" && rng.gen_bool(0.1) {
            Some(["Core", "Lookalike"][rng.gen_range(0..2)])
        } else {
            None
        },
        dev_aberdeen: if rng.gen_bool(0.6) { Some(devs) } else { None },
        dev_sales: if rng.gen_bool(0.2) {
            Some((devs as f64 * rng.gen_range(0.7..1.4)) as u32)
        } else {
            None
        },
        tech_gainsight: if account_type == "Customer" && rng.gen_bool(0.7) {
            tech_stack(rng)
        } else {
            None
        },
        tech_aberdeen: if rng.gen_bool(0.55) { tech_stack(rng) } else { None },
        tech_zoominfo: if rng.gen_bool(0.5) { tech_stack(rng) } else { None },
        cloud_aberdeen: if rng.gen_bool(0.5) {
            Some(CLOUDS.choose(rng).expect("non-empty"))
        } else {
            None
        },
        cloud_zoominfo: if rng.gen_bool(0.4) {
            Some(CLOUDS.choose(rng).expect("non-empty"))
        } else {
            None
        },
        last_modified: today - Duration::days(rng.gen_range(0..400)),
        heat,
        ip_block: [100 + (block >> 16) as u8 % 100, (block >> 8) as u8, block as u8],
    }
}

fn gen_people(rng: &mut ChaCha8Rng, accounts: &[DemoAccount]) -> Vec<DemoPerson> {
    let mut out = Vec::new();
    let mut emails = HashSet::new();
    for (i, a) in accounts.iter().enumerate() {
        let e = a.employees.unwrap_or(20) as f64;
        let base = (e.log10() * 2.0) as usize;
        let n = base + (a.heat * 8.0) as usize + rng.gen_range(0..3);
        for _ in 0..n.min(24) {
            let first = *FIRST.choose(rng).expect("non-empty");
            let last = *LAST.choose(rng).expect("non-empty");
            let local = format!("{}.{}", slug(first), slug(last));
            let host = if rng.gen_bool(0.04) {
                "gmail.com".to_string()
            } else {
                a.domain.clone()
            };
            let mut email = format!("{local}@{host}");
            let mut k = 2;
            while !emails.insert(email.clone()) {
                email = format!("{local}{k}@{host}");
                k += 1;
            }
            out.push(DemoPerson {
                id: format!("0035g00000{:08X}", out.len() + 1),
                account: i,
                first,
                last,
                email,
                title: weighted(rng, TITLES, |t| t.1).0,
                has_account_id: rng.gen_bool(0.8),
            });
        }
    }
    out
}

fn gen_activity(
    rng: &mut ChaCha8Rng,
    accounts: &[DemoAccount],
    people: &[DemoPerson],
    start: NaiveDate,
    today: NaiveDate,
) -> (Vec<DemoActivity>, Vec<DemoVisit>) {
    let mut acts = Vec::new();
    let mut visits = Vec::new();
    let days = (today - start).num_days();
    for (pi, p) in people.iter().enumerate() {
        let a = &accounts[p.account];
        // Hot accounts heat up towards the end of the year.
        let n = (a.heat * a.heat * 60.0 * rng.gen_range(0.5..1.5)) as usize + rng.gen_range(0..3);
        for _ in 0..n {
            let skew: f64 = rng.gen::<f64>().powf(if a.heat > 0.7 { 0.35 } else { 1.0 });
            let day = start + Duration::days((skew * days as f64) as i64);
            let t = at(day, rng);
            let code = CAMPAIGN_CODES[rng.gen_range(0..CAMPAIGN_CODES.len())];
            let (kind, detail, minutes) = match rng.gen_range(0..100) {
                0..=34 => ("Email Open", format!("{code} nurture #{}", rng.gen_range(1..6)), None),
                35..=49 => ("Email Click", format!("{code} nurture #{}", rng.gen_range(1..6)), None),
                50..=59 => (
                    "Form Fill",
                    format!("/resources/{}", CONTENT[rng.gen_range(0..CONTENT.len())]),
                    None,
                ),
                60..=64 => ("Webinar Registration", format!("{code} webcast"), None),
                65..=68 => (
                    "Webinar Attended",
                    format!("{code} webcast"),
                    Some(rng.gen_range(10..60)),
                ),
                69..=71 => ("Trial Start", "Free trial (Ultimate)".to_string(), None),
                72..=77 => (
                    "Meeting",
                    "Discovery call".to_string(),
                    Some([15, 30, 45, 60][rng.gen_range(0..4)]),
                ),
                78..=85 => ("Sales Email", "Follow-up".to_string(), None),
                86..=91 => ("Ad Click", format!("{code}_{}", a.geo.to_lowercase()), None),
                92..=94 => ("Event Attended", format!("{code} roadshow"), None),
                95..=96 => ("Contact Us", "/sales".to_string(), None),
                _ => ("Unsubscribe", "email preferences".to_string(), None),
            };
            let campaign = Some(format!("{}_{}", day.format("%Y%m%d"), code));
            acts.push(DemoActivity {
                id: 0,
                at: t,
                kind,
                person: pi,
                detail,
                campaign,
                minutes,
            });
        }
        let views = (a.heat * 25.0 * rng.gen_range(0.3..1.7)) as usize;
        for _ in 0..views {
            let skew: f64 = rng.gen::<f64>().powf(if a.heat > 0.7 { 0.35 } else { 1.0 });
            let day = start + Duration::days((skew * days as f64) as i64);
            visits.push(DemoVisit {
                at: at(day, rng),
                ip: format!(
                    "{}.{}.{}.{}",
                    a.ip_block[0],
                    a.ip_block[1],
                    a.ip_block[2],
                    rng.gen_range(1..255)
                ),
                url: PAGES[rng.gen_range(0..PAGES.len())].to_string(),
                person: Some(pi),
                utm_campaign: None,
            });
        }
    }
    // Anonymous visitors from account networks, and a few from nowhere we know.
    for a in accounts.iter().filter(|a| a.heat > 0.25) {
        for _ in 0..(a.heat * 30.0) as usize {
            let day = start + Duration::days(rng.gen_range(0..=days));
            visits.push(DemoVisit {
                at: at(day, rng),
                ip: format!(
                    "{}.{}.{}.{}",
                    a.ip_block[0],
                    a.ip_block[1],
                    a.ip_block[2],
                    rng.gen_range(1..255)
                ),
                url: PAGES[rng.gen_range(0..PAGES.len())].to_string(),
                person: None,
                utm_campaign: if rng.gen_bool(0.2) {
                    Some(format!(
                        "{}_{}_abm_sponsoredcontent_nb_x",
                        CAMPAIGN_CODES[rng.gen_range(0..8)],
                        a.geo.to_lowercase()
                    ))
                } else {
                    None
                },
            });
        }
    }
    for _ in 0..visits.len() / 40 {
        let day = start + Duration::days(rng.gen_range(0..=days));
        visits.push(DemoVisit {
            at: at(day, rng),
            ip: format!("203.0.113.{}", rng.gen_range(1..255)),
            url: PAGES[rng.gen_range(0..PAGES.len())].to_string(),
            person: None,
            utm_campaign: None,
        });
    }
    acts.sort_by(|a, b| a.at.cmp(&b.at).then(a.person.cmp(&b.person)));
    for (i, a) in acts.iter_mut().enumerate() {
        a.id = 900_000_000 + i as u64;
    }
    visits.sort_by(|a, b| a.at.cmp(&b.at).then(a.ip.cmp(&b.ip)));
    (acts, visits)
}

fn gen_intent(rng: &mut ChaCha8Rng, accounts: &[DemoAccount], today: NaiveDate) -> Vec<DemoIntent> {
    use chrono::Datelike;
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let mut out = Vec::new();
    for (i, a) in accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| a.heat > 0.2 || a.id.ends_with('7'))
    {
        let (set, topic) = KEYWORDS[rng.gen_range(0..KEYWORDS.len())];
        let surging = a.heat > 0.85 && rng.gen_bool(0.5);
        for w in 0..12 {
            let week = monday - Duration::weeks(11 - w);
            let p = if surging && w == 11 { 1.0 } else { 0.25 + a.heat * 0.3 };
            if rng.gen_bool(p.min(1.0)) {
                let strength = if surging && w == 11 {
                    "HIGH"
                } else {
                    ["LOW", "LOW", "MEDIUM", "HIGH"][rng.gen_range(0..4)]
                };
                out.push(DemoIntent {
                    week,
                    account: i,
                    keyword_set: set,
                    topic,
                    strength,
                });
            }
        }
    }
    out.sort_by(|a, b| a.week.cmp(&b.week).then(a.account.cmp(&b.account)));
    out
}

fn gen_opportunities(
    rng: &mut ChaCha8Rng,
    accounts: &[DemoAccount],
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<DemoOpportunity> {
    let mut out = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        let chance = if a.account_type == "Customer" {
            0.25
        } else if a.heat > 0.7 {
            0.45
        } else {
            0.01
        };
        if !rng.gen_bool(chance) {
            continue;
        }
        let created = start + Duration::days(rng.gen_range(0..(today - start).num_days()));
        let amount_cents = (a.employees.unwrap_or(100) as i64 * rng.gen_range(20..120)).clamp(5_000, 2_000_000) * 100;
        let order_type = if a.account_type == "Customer" {
            if rng.gen_bool(0.7) {
                "Growth"
            } else {
                "Connected New"
            }
        } else {
            "New - First Order"
        };
        let mut history = vec![(OPP_STAGES[0], created)];
        let mut day = created;
        let target = rng.gen_range(0..=9);
        for s in 1..=target {
            day += Duration::days(rng.gen_range(3..30));
            if day > today {
                break;
            }
            let stage = match s {
                8 => {
                    if rng.gen_bool(0.5) {
                        "Closed Won"
                    } else {
                        "8-Closed Lost"
                    }
                }
                9 => break,
                _ => OPP_STAGES[s],
            };
            history.push((stage, day));
            if stage.starts_with("Closed") || stage.starts_with("8-") {
                break;
            }
        }
        if target == 9 && history.len() < 8 && rng.gen_bool(0.3) {
            let d = (day + Duration::days(5)).min(today);
            history.push(("8-Closed Lost", d));
        }
        out.push(DemoOpportunity {
            id: format!("0065g00000{:08X}", out.len() + 1),
            account: i,
            name: format!(
                "{} - {}",
                a.name,
                if order_type == "Growth" {
                    "Expansion"
                } else {
                    "Platform"
                }
            ),
            created,
            amount_cents,
            order_type,
            history,
        });
    }
    out
}

pub(crate) fn gen_team(rng: &mut ChaCha8Rng, start: NaiveDate, today: NaiveDate) -> Vec<DemoTeamMember> {
    let people = [
        ("mmanager", "Morgan Manager", "manager"),
        ("aabm", "Alex ABM", "member"),
        ("bcampaigns", "Blair Campaigns", "member"),
        ("cdigital", "Cameron Digital", "member"),
        ("dops", "Dana Ops", "member"),
        ("sales-sam", "Sam Seller", "requester"),
        ("field-fran", "Fran Field", "requester"),
        ("content-cory", "Cory Content", "requester"),
        ("sdr-pat", "Pat Outbound", "requester"),
        ("pmm-jo", "Jo Product", "requester"),
        ("exec-eve", "Eve Executive", "viewer"),
    ];
    let days = (today - start).num_days();
    people
        .iter()
        .map(|(u, n, r)| {
            let mut pto = Vec::new();
            if *r == "manager" || *r == "member" {
                for _ in 0..rng.gen_range(3..7) {
                    let d = start + Duration::days(rng.gen_range(0..days + 60));
                    let len = rng.gen_range(1..5);
                    for k in 0..len {
                        pto.push((d + Duration::days(k), if rng.gen_bool(0.15) { 4.0 } else { 8.0 }));
                    }
                }
                pto.sort_by(|a: &(NaiveDate, f64), b| a.0.cmp(&b.0));
                pto.dedup_by_key(|p| p.0);
            }
            DemoTeamMember {
                username: u.to_string(),
                name: n.to_string(),
                role: r,
                hours_per_day: 8.0,
                pto,
            }
        })
        .collect()
}

/// Request templates and their submitter details, as the workspace's default templates define them.
pub const TEMPLATES: &[(&str, &[&str])] = &[
    (
        "linkedin-campaign",
        &["budget", "duration_weeks", "geo_target", "account_list", "final_copy"],
    ),
    ("demandbase-campaign", &["budget", "audience", "start_date", "creative"]),
    ("demandbase-keyword-set", &["keywords", "intent_topic"]),
    ("demandbase-icp", &["segment", "criteria"]),
    ("direct-mail", &["budget", "account_list", "ship_by", "item"]),
    ("content-syndication", &["budget", "asset", "lead_goal"]),
    ("abm-analysis", &["question", "data_sources"]),
    ("tier1-plan", &["account", "sales_owner"]),
    ("abm-milestoneplan", &["milestone"]),
    ("target-list", &["criteria", "due_use"]),
    ("external-content", &["brief", "budget", "launch"]),
];

/// A plausible value for a submitter detail, of the type its template expects.
fn field_value(rng: &mut ChaCha8Rng, field: &str, code: &str, created: NaiveDate) -> String {
    match field {
        "budget" => format!("{}", rng.gen_range(5..60) * 1000),
        "duration_weeks" => rng.gen_range(2..9).to_string(),
        "lead_goal" => (rng.gen_range(5..40) * 10).to_string(),
        "geo_target" => ["AMER", "EMEA", "APAC", "PubSec"][rng.gen_range(0..4)].into(),
        "segment" => ["Large", "Mid-Market", "SMB", "PubSec"][rng.gen_range(0..4)].into(),
        "start_date" | "ship_by" | "launch" => (created + Duration::days(rng.gen_range(10..40))).to_string(),
        "account_list" | "final_copy" | "creative" | "asset" | "brief" => {
            format!("https://docs.example.com/{code}/{}", field.replace('_', "-"))
        }
        _ => format!("{} for {code}", field.replace('_', " ")),
    }
}

pub(crate) fn gen_requests(
    rng: &mut ChaCha8Rng,
    team: &[DemoTeamMember],
    start: NaiveDate,
    today: NaiveDate,
    count: u32,
) -> Vec<DemoRequest> {
    let members: Vec<&DemoTeamMember> = team
        .iter()
        .filter(|m| m.role == "member" || m.role == "manager")
        .collect();
    let requesters: Vec<&DemoTeamMember> = team.iter().filter(|m| m.role == "requester").collect();
    let manager = team
        .iter()
        .find(|m| m.role == "manager")
        .expect("a manager")
        .username
        .clone();
    let days = (today - start).num_days();
    let mut out = Vec::new();
    for iid in 1..=count {
        let (template, fields) = TEMPLATES[rng.gen_range(0..TEMPLATES.len())];
        let author = requesters[rng.gen_range(0..requesters.len())].username.clone();
        let created_day = start + Duration::days(rng.gen_range(0..=days));
        let created = at(created_day, rng);
        let code = CAMPAIGN_CODES[rng.gen_range(0..CAMPAIGN_CODES.len())];
        let complete = rng.gen_bool(0.7);
        let mut given: Vec<(&'static str, String)> = Vec::new();
        for (k, f) in fields.iter().enumerate() {
            if complete || k + 1 < fields.len() {
                given.push((f, field_value(rng, f, code, created_day)));
            }
        }
        let mut events = vec![("add", "mktg-status::triage".to_string(), created, author.clone())];
        events.push(("add", "ABM-Priority::TBD".to_string(), created, author.clone()));
        let mut t = created;
        let mut state = "opened";
        let mut assignee = None;
        let mut closed = None;
        if !complete {
            t += Duration::hours(rng.gen_range(4..40));
            if t.date() <= today {
                events.push(("remove", "mktg-status::triage".into(), t, manager.clone()));
                events.push(("add", "mktg-status::blocked".into(), t, manager.clone()));
                if rng.gen_bool(0.6) {
                    t += Duration::hours(rng.gen_range(20..200));
                    if t.date() <= today {
                        events.push(("remove", "mktg-status::blocked".into(), t, author.clone()));
                        events.push(("add", "mktg-status::triage".into(), t, author.clone()));
                        let last = fields[fields.len() - 1];
                        given.push((last, field_value(rng, last, code, created_day)));
                    }
                }
            }
        }
        let still_blocked = events.last().map(|e| e.1 == "mktg-status::blocked").unwrap_or(false);
        if !still_blocked {
            t += Duration::hours(rng.gen_range(2..30));
            if t.date() <= today {
                let pri = [
                    "ABM-Priority::Top",
                    "ABM-Priority::High",
                    "ABM-Priority::Med",
                    "ABM-Priority::Med",
                    "ABM-Priority::Low",
                ][rng.gen_range(0..5)];
                events.push(("remove", "mktg-status::triage".into(), t, manager.clone()));
                events.push(("add", "mktg-status::wip".into(), t, manager.clone()));
                events.push(("remove", "ABM-Priority::TBD".into(), t, manager.clone()));
                events.push(("add", pri.into(), t, manager.clone()));
                assignee = Some(members[rng.gen_range(0..members.len())].username.clone());
                // Most work finishes within a few weeks; a few stragglers roll over.
                if (today - t.date()).num_days() > 20 && rng.gen_bool(0.95) {
                    state = "closed";
                    closed = Some(
                        (t + Duration::hours(rng.gen_range(24..24 * 18)))
                            .min(today.and_hms_opt(17, 0, 0).expect("a time")),
                    );
                }
            }
        }
        out.push(DemoRequest {
            iid,
            title: format!("{} — {}", template.replace('-', " "), code),
            template,
            author,
            assignee,
            created,
            due: if rng.gen_bool(0.8) {
                Some(created_day + Duration::days(rng.gen_range(5..35)))
            } else {
                None
            },
            weight: if rng.gen_bool(0.85) {
                Some(rng.gen_range(1..=5))
            } else {
                None
            },
            state,
            closed,
            fields: given,
            label_events: events,
        });
    }
    out
}
