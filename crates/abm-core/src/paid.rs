//! Paid-media reporting: ad-platform facts, their dimensions decoded through the taxonomy, and
//! the report engine: filters, grouping, a time grain, metrics recomputed from summed numerators
//! and denominators (never averaged ratios; a zero denominator gives no value), and period
//! comparisons with absolute, percent and percentage-point deltas. Spend in different currencies
//! is never summed: the currency is always part of a row's key.

use crate::taxonomy::Taxonomy;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One row of an ad-platform export, at (dates, platform, account, campaign, ad group, ad,
/// currency) grain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdFact {
    pub platform: String,
    pub account: String,
    pub campaign: String,
    pub ad_group: String,
    pub ad: String,
    /// A day, or a range when the export had no daily breakdown.
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub currency: String,
    pub spend_micros: i64,
    pub impressions: i64,
    pub clicks: i64,
    /// Thousandths (Google reports fractional conversions).
    pub conversions_milli: i64,
    pub leads: i64,
    /// Not additive; kept, never summed across rows.
    pub reach: Option<i64>,
    /// utm_* parameters from the click URL (URL-decoded), `utm_campaign` defaulting to the
    /// campaign name.
    /// Shared between the facts of one export that carry the same URL.
    pub utm: std::sync::Arc<BTreeMap<String, String>>,
}

/// The dimensions a report can filter and group by.
pub const DIMENSIONS: &[&str] = &[
    "channel",
    "platform",
    "budget",
    "team",
    "segment",
    "geo",
    "sub_geo",
    "content",
    "language",
    "campaign_code",
    "campaign",
    "targeting",
    "ad_unit",
    "brand",
    "match_type",
    "currency",
];

/// A fact's dimension values (absent: not known).
pub fn dimensions(f: &AdFact, taxonomy: &Taxonomy) -> BTreeMap<&'static str, String> {
    let mut d = BTreeMap::new();
    let source = f.utm.get("utm_source").cloned().unwrap_or_else(|| f.platform.clone());
    let channel = match source.as_str() {
        "fb" | "facebook" | "instagram" | "meta" => "facebook".to_string(),
        "li" | "linkedin" => "linkedin".to_string(),
        "google" | "adwords" => "google".to_string(),
        other => other.to_string(),
    };
    d.insert("channel", channel);
    d.insert("platform", f.platform.clone());
    d.insert("campaign", f.campaign.clone());
    d.insert("currency", f.currency.clone());
    let campaign = f.utm.get("utm_campaign").cloned().unwrap_or_else(|| f.campaign.clone());
    if let Ok(c) = taxonomy.decode("utm_campaign", &campaign) {
        for (k, dim) in [
            ("campaign_code", "campaign_code"),
            ("geo", "geo"),
            ("geo_sub", "sub_geo"),
            ("targeting", "targeting"),
            ("ad_unit", "ad_unit"),
            ("brand", "brand"),
            ("match_type", "match_type"),
            ("budget", "budget"),
            ("language", "language"),
            ("segment", "segment"),
        ] {
            if let Some(v) = c.fields.get(k) {
                d.insert(dim, v.clone());
            }
        }
    }
    if let Some(content) = f.utm.get("utm_content") {
        if let Ok(c) = taxonomy.decode("utm_content", content) {
            for k in ["content", "team", "language", "budget"] {
                if let Some(v) = c.fields.get(k) {
                    d.entry(k_static(k)).or_insert_with(|| v.clone());
                }
            }
        }
    }
    if let Some(b) = f.utm.get("utm_budget") {
        d.insert("budget", b.clone());
    }
    if !d.contains_key("segment") && d.get("geo").map(String::as_str) == Some("pubsec") {
        d.insert("segment", "pubsec".into());
    }
    d
}

fn k_static(k: &str) -> &'static str {
    DIMENSIONS.iter().find(|d| **d == k).copied().unwrap_or("content")
}

/// Summed parts of a set of facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Sums {
    pub spend: f64,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: f64,
    pub leads: i64,
}

fn ratio(n: f64, d: f64) -> Option<f64> {
    (d != 0.0).then(|| n / d)
}

/// Every metric of a set of facts, recomputed from the sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub spend: f64,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: f64,
    pub leads: i64,
    pub ctr: Option<f64>,
    pub cpc: Option<f64>,
    pub cpm: Option<f64>,
    pub conversion_rate: Option<f64>,
    pub cost_per_conversion: Option<f64>,
    pub cpl: Option<f64>,
}

impl From<Sums> for Metrics {
    fn from(s: Sums) -> Self {
        Metrics {
            spend: (s.spend * 100.0).round() / 100.0,
            impressions: s.impressions,
            clicks: s.clicks,
            conversions: s.conversions,
            leads: s.leads,
            ctr: ratio(s.clicks as f64, s.impressions as f64),
            cpc: ratio(s.spend, s.clicks as f64),
            cpm: ratio(s.spend * 1000.0, s.impressions as f64),
            conversion_rate: ratio(s.conversions, s.clicks as f64),
            cost_per_conversion: ratio(s.spend, s.conversions),
            cpl: ratio(s.spend, s.leads as f64),
        }
    }
}

/// Rates compare in percentage points; cost metrics are better lower.
pub const RATES: &[&str] = &["ctr", "conversion_rate"];
pub const LOWER_IS_BETTER: &[&str] = &["cpc", "cpm", "cost_per_conversion", "cpl"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grain {
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    PreviousPeriod,
    PreviousYear,
}

/// A filter: the dimension is one of `values`; a value ending in `*` matches a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub dimension: String,
    pub values: Vec<String>,
}

impl Filter {
    fn matches(&self, v: Option<&String>) -> bool {
        let Some(v) = v else { return false };
        self.values.iter().any(|x| match x.strip_suffix('*') {
            Some(p) => v.starts_with(p),
            None => x.eq_ignore_ascii_case(v),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub filters: Vec<Filter>,
    pub group_by: Vec<String>,
    pub grain: Option<Grain>,
    pub compare: Option<Compare>,
    /// "Today": the current range is trimmed to it before the previous period is worked out.
    pub today: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    pub previous: Option<f64>,
    pub absolute: Option<f64>,
    /// None when the previous value was 0 ("new") or missing.
    pub percent: Option<f64>,
    /// For rates: the change in percentage points.
    pub points: Option<f64>,
    pub better: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    pub period: Option<String>,
    pub key: BTreeMap<String, String>,
    pub metrics: Metrics,
    pub sums: Sums,
    pub deltas: BTreeMap<&'static str, Delta>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub compared_with: Option<(NaiveDate, NaiveDate)>,
    pub rows: Vec<ReportRow>,
    /// One totals row per currency.
    pub totals: Vec<ReportRow>,
}

/// The range the current one is compared with (after trimming it to `today`).
pub fn comparison_range(from: NaiveDate, to: NaiveDate, today: NaiveDate, how: Compare) -> (NaiveDate, NaiveDate) {
    let to = to.min(today).max(from);
    match how {
        Compare::PreviousPeriod => {
            let days = (to - from).num_days() + 1;
            (from - Duration::days(days), from - Duration::days(1))
        }
        Compare::PreviousYear => {
            let back = |d: NaiveDate| d.with_year(d.year() - 1).unwrap_or(d - Duration::days(365));
            (back(from), back(to))
        }
    }
}

fn bucket(d: NaiveDate, grain: Grain) -> String {
    match grain {
        Grain::Day => d.to_string(),
        Grain::Week => (d - Duration::days(d.weekday().num_days_from_monday() as i64)).to_string(),
        Grain::Month => format!("{}-{:02}", d.year(), d.month()),
    }
}

type Key = (Option<String>, Vec<(String, String)>);

/// The first day of the bucket before the one `d` is in.
fn previous_bucket_start(d: NaiveDate, grain: Grain) -> NaiveDate {
    let start = parse_bucket(&bucket(d, grain), grain);
    match grain {
        Grain::Day => start - Duration::days(1),
        Grain::Week => start - Duration::days(7),
        Grain::Month => {
            let (y, m) = if start.month() == 1 {
                (start.year() - 1, 12)
            } else {
                (start.year(), start.month() - 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).expect("a month start")
        }
    }
}

/// The first day of a bucket label.
fn parse_bucket(label: &str, grain: Grain) -> NaiveDate {
    match grain {
        Grain::Month => NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d"),
        _ => NaiveDate::parse_from_str(label, "%Y-%m-%d"),
    }
    .expect("a bucket this module wrote")
}

/// Facts laid out for fast queries: every dimension dictionary-encoded once (code 0: unknown),
/// dates as day numbers, measures as integer columns. Built once per set of facts; each query is
/// a scan over two threads with a small hash table per thread.
pub struct Cube {
    rows: usize,
    /// Per dimension (in [`DIMENSIONS`] order): the code of each row, and the values by code.
    codes: Vec<Vec<u32>>,
    dict: Vec<Vec<String>>,
    day_from: Vec<i32>,
    day_to: Vec<i32>,
    week: Vec<i32>,
    month: Vec<i32>,
    spend_micros: Vec<i64>,
    impressions: Vec<i64>,
    clicks: Vec<i64>,
    conversions_milli: Vec<i64>,
    leads: Vec<i64>,
}

/// At most this many group-by dimensions (besides the currency and the time bucket).
pub const MAX_GROUP_BY: usize = 6;

type FastKey = [u32; 8];

/// A multiply-rotate hasher (FxHash's), for small integer keys.
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for b in chunks.remainder() {
            self.write_u64(*b as u64);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// A hash-map builder with [`Fx`], for maps keyed by small values built in hot loops.
pub type FxBuild = std::hash::BuildHasherDefault<Fx>;

#[derive(Default, Clone, Copy)]
struct IntSums {
    spend_micros: i64,
    impressions: i64,
    clicks: i64,
    conversions_milli: i64,
    leads: i64,
}

impl Cube {
    /// The values a dimension takes in these facts (none for an unknown dimension), unordered.
    pub fn values(&self, dimension: &str) -> impl Iterator<Item = &str> {
        DIMENSIONS
            .iter()
            .position(|d| *d == dimension)
            .map(|d| &self.dict[d][1..])
            .unwrap_or(&[])
            .iter()
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn build(facts: &[AdFact], taxonomy: &Taxonomy) -> Cube {
        let n = facts.len();
        let mut codes: Vec<Vec<u32>> = vec![Vec::with_capacity(n); DIMENSIONS.len()];
        let mut dict: Vec<Vec<String>> = vec![vec![String::new()]; DIMENSIONS.len()];
        let mut index: Vec<HashMap<String, u32>> = vec![HashMap::new(); DIMENSIONS.len()];
        let mut cache: HashMap<
            (
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                String,
                String,
            ),
            Vec<u32>,
        > = HashMap::new();
        let mut cube = Cube {
            rows: n,
            codes: Vec::new(),
            dict: Vec::new(),
            day_from: Vec::with_capacity(n),
            day_to: Vec::with_capacity(n),
            week: Vec::with_capacity(n),
            month: Vec::with_capacity(n),
            spend_micros: Vec::with_capacity(n),
            impressions: Vec::with_capacity(n),
            clicks: Vec::with_capacity(n),
            conversions_milli: Vec::with_capacity(n),
            leads: Vec::with_capacity(n),
        };
        for f in facts {
            let k = (
                f.campaign.clone(),
                f.utm.get("utm_campaign").cloned(),
                f.utm.get("utm_content").cloned(),
                f.utm.get("utm_source").cloned(),
                f.utm.get("utm_budget").cloned(),
                f.platform.clone(),
                f.currency.clone(),
            );
            let row = cache.entry(k).or_insert_with(|| {
                let dims = dimensions(f, taxonomy);
                DIMENSIONS
                    .iter()
                    .enumerate()
                    .map(|(d, name)| match dims.get(name) {
                        None => 0,
                        Some(v) => *index[d].entry(v.clone()).or_insert_with(|| {
                            dict[d].push(v.clone());
                            (dict[d].len() - 1) as u32
                        }),
                    })
                    .collect()
            });
            for (d, c) in row.iter().enumerate() {
                codes[d].push(*c);
            }
            let from = f.date_from.num_days_from_ce();
            cube.day_from.push(from);
            cube.day_to.push(f.date_to.num_days_from_ce());
            cube.week
                .push(from - f.date_from.weekday().num_days_from_monday() as i32);
            cube.month.push(f.date_from.year() * 12 + f.date_from.month0() as i32);
            cube.spend_micros.push(f.spend_micros);
            cube.impressions.push(f.impressions);
            cube.clicks.push(f.clicks);
            cube.conversions_milli.push(f.conversions_milli);
            cube.leads.push(f.leads);
        }
        cube.codes = codes;
        cube.dict = dict;
        cube
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    fn dim(name: &str) -> usize {
        DIMENSIONS.iter().position(|d| *d == name).unwrap_or(0)
    }

    /// Aggregate several date ranges in one scan: for each `(from, to, with_period)` the sums by
    /// key (and by time bucket when `with_period`).
    fn aggregate(&self, q: &ReportQuery, specs: &[(NaiveDate, NaiveDate, bool)]) -> Vec<BTreeMap<Key, Sums>> {
        let ranges: Vec<(i32, i32, bool)> = specs
            .iter()
            .map(|(f, t, p)| (f.num_days_from_ce(), t.num_days_from_ce(), *p))
            .collect();
        let (lo, hi) = (
            ranges.iter().map(|r| r.0).min().unwrap_or(0),
            ranges.iter().map(|r| r.1).max().unwrap_or(0),
        );
        let masks: Vec<(usize, Vec<bool>)> = q
            .filters
            .iter()
            .map(|flt| {
                let d = Self::dim(&flt.dimension);
                let m = self.dict[d]
                    .iter()
                    .enumerate()
                    .map(|(code, v)| flt.matches(if code == 0 { None } else { Some(v) }))
                    .collect();
                (d, m)
            })
            .collect();
        let mut group: Vec<usize> = q.group_by.iter().take(MAX_GROUP_BY).map(|g| Self::dim(g)).collect();
        let currency = Self::dim("currency");
        if !group.contains(&currency) {
            group.push(currency);
        }
        let grain = q.grain;
        let scan = |range: std::ops::Range<usize>| -> Vec<HashMap<FastKey, IntSums, FxBuild>> {
            let mut out: Vec<HashMap<FastKey, IntSums, FxBuild>> = vec![HashMap::default(); ranges.len()];
            'rows: for i in range {
                let (df, dt) = (self.day_from[i], self.day_to[i]);
                if df < lo || dt > hi {
                    continue;
                }
                for (d, m) in &masks {
                    if !m[self.codes[*d][i] as usize] {
                        continue 'rows;
                    }
                }
                let mut key: FastKey = [0; 8];
                for (slot, d) in group.iter().enumerate() {
                    key[slot + 1] = self.codes[*d][i];
                }
                let bucket = match grain {
                    None => 0,
                    Some(Grain::Day) => df as u32,
                    Some(Grain::Week) => self.week[i] as u32,
                    Some(Grain::Month) => self.month[i] as u32,
                };
                for (j, (f, t, with_period)) in ranges.iter().enumerate() {
                    if df < *f || dt > *t {
                        continue;
                    }
                    key[0] = if *with_period { bucket } else { 0 };
                    let s = out[j].entry(key).or_default();
                    s.spend_micros += self.spend_micros[i];
                    s.impressions += self.impressions[i];
                    s.clicks += self.clicks[i];
                    s.conversions_milli += self.conversions_milli[i];
                    s.leads += self.leads[i];
                }
            }
            out
        };
        let half = self.rows / 2;
        let (a, b) = if self.rows > 100_000 {
            std::thread::scope(|sc| {
                let h = sc.spawn(|| scan(0..half));
                let b = scan(half..self.rows);
                (h.join().expect("scan thread"), b)
            })
        } else {
            (scan(0..self.rows), vec![HashMap::default(); ranges.len()])
        };
        a.into_iter()
            .zip(b)
            .zip(&ranges)
            .map(|((mut merged, other), (_, _, with_period))| {
                for (k, v) in other {
                    let s = merged.entry(k).or_default();
                    s.spend_micros += v.spend_micros;
                    s.impressions += v.impressions;
                    s.clicks += v.clicks;
                    s.conversions_milli += v.conversions_milli;
                    s.leads += v.leads;
                }
                self.finish(merged, &group, if *with_period { grain } else { None })
            })
            .collect()
    }

    /// Integer sums by code → sums by dimension values.
    fn finish(
        &self,
        merged: HashMap<FastKey, IntSums, FxBuild>,
        group: &[usize],
        grain: Option<Grain>,
    ) -> BTreeMap<Key, Sums> {
        let mut out = BTreeMap::new();
        for (k, v) in merged {
            let period = grain.map(|g| match g {
                Grain::Day | Grain::Week => NaiveDate::from_num_days_from_ce_opt(k[0] as i32)
                    .expect("a day")
                    .to_string(),
                Grain::Month => format!("{}-{:02}", k[0] as i32 / 12, k[0] as i32 % 12 + 1),
            });
            let key: Vec<(String, String)> = group
                .iter()
                .enumerate()
                .map(|(slot, d)| {
                    let code = k[slot + 1] as usize;
                    (
                        DIMENSIONS[*d].to_string(),
                        if code == 0 {
                            "(none)".to_string()
                        } else {
                            self.dict[*d][code].clone()
                        },
                    )
                })
                .collect();
            out.insert(
                (period, key),
                Sums {
                    spend: v.spend_micros as f64 / 1e6,
                    impressions: v.impressions,
                    clicks: v.clicks,
                    conversions: v.conversions_milli as f64 / 1e3,
                    leads: v.leads,
                },
            );
        }
        out
    }
}

fn metric_values(m: &Metrics) -> [(&'static str, Option<f64>); 11] {
    [
        ("spend", Some(m.spend)),
        ("impressions", Some(m.impressions as f64)),
        ("clicks", Some(m.clicks as f64)),
        ("conversions", Some(m.conversions)),
        ("leads", Some(m.leads as f64)),
        ("ctr", m.ctr),
        ("cpc", m.cpc),
        ("cpm", m.cpm),
        ("conversion_rate", m.conversion_rate),
        ("cost_per_conversion", m.cost_per_conversion),
        ("cpl", m.cpl),
    ]
}

fn deltas(now: &Metrics, before: Option<&Metrics>) -> BTreeMap<&'static str, Delta> {
    let prev = before.map(metric_values);
    metric_values(now)
        .into_iter()
        .enumerate()
        .map(|(i, (name, cur))| {
            let p = prev.as_ref().and_then(|p| p[i].1);
            let absolute = cur.zip(p).map(|(c, p)| c - p);
            let percent = match (cur, p) {
                (Some(c), Some(p)) if p != 0.0 => Some((c - p) / p * 100.0),
                _ => None,
            };
            let points = RATES.contains(&name).then(|| absolute.map(|a| a * 100.0)).flatten();
            let better = absolute
                .filter(|a| *a != 0.0)
                .map(|a| (a < 0.0) == LOWER_IS_BETTER.contains(&name));
            (
                name,
                Delta {
                    previous: p,
                    absolute,
                    percent: if RATES.contains(&name) { None } else { percent },
                    points,
                    better,
                },
            )
        })
        .collect()
}

/// Run a report over `facts`.
pub fn report(facts: &[AdFact], taxonomy: &Taxonomy, q: &ReportQuery) -> Report {
    Cube::build(facts, taxonomy).report(q)
}

impl Cube {
    /// Run a report over the cube's facts.
    pub fn report(&self, q: &ReportQuery) -> Report {
        let compared = q.compare.map(|c| comparison_range(q.from, q.to, q.today, c));
        let bucket_start = match (q.grain, q.compare) {
            (Some(g), Some(Compare::PreviousPeriod)) => Some(previous_bucket_start(q.from, g)),
            _ => None,
        };
        let mut specs = vec![(q.from, q.to, true)];
        if let Some(start) = bucket_start {
            specs.push((start, q.to, true));
        }
        if let Some((f, t)) = compared {
            specs.push((f, t, false));
        }
        let mut maps = self.aggregate(q, &specs).into_iter();
        let current = maps.next().expect("the current range");
        // With a grain, each bucket is compared with the bucket before it (week over week, month
        // over month); the bucket before the first one is read from before the range.
        let bucket_before: Option<BTreeMap<Key, Sums>> = bucket_start.map(|_| maps.next().expect("the buckets before"));
        let previous = compared.map(|_| maps.next().expect("the compared range"));
        let previous_by_key: Option<BTreeMap<Vec<(String, String)>, Sums>> =
            previous.map(|p| p.into_iter().map(|((_, k), s)| (k, s)).collect());
        let rows: Vec<ReportRow> = current
            .iter()
            .map(|((period, key), sums)| {
                let m = Metrics::from(*sums);
                let before = previous_by_key.as_ref().map(|p| p.get(key).copied().map(Metrics::from));
                ReportRow {
                    period: period.clone(),
                    key: key.iter().cloned().collect(),
                    metrics: m,
                    sums: *sums,
                    deltas: match (&bucket_before, before, period) {
                        (Some(all), _, Some(p)) => {
                            let g = q.grain.expect("a grain");
                            let prev_key = (
                                Some(bucket(previous_bucket_start(parse_bucket(p, g), g), g)),
                                key.clone(),
                            );
                            deltas(&m, all.get(&prev_key).copied().map(Metrics::from).as_ref())
                        }
                        (_, Some(b), _) if q.grain.is_none() => deltas(&m, b.as_ref()),
                        _ => BTreeMap::new(),
                    },
                }
            })
            .collect();
        // Totals per currency, recomputed from sums.
        let mut totals: BTreeMap<String, Sums> = BTreeMap::new();
        for r in &rows {
            let t = totals
                .entry(r.key.get("currency").cloned().unwrap_or_default())
                .or_default();
            t.spend += r.sums.spend;
            t.impressions += r.sums.impressions;
            t.clicks += r.sums.clicks;
            t.conversions += r.sums.conversions;
            t.leads += r.sums.leads;
        }
        let mut prev_totals: BTreeMap<String, Sums> = BTreeMap::new();
        if let Some(p) = &previous_by_key {
            for (k, s) in p {
                let cur = k
                    .iter()
                    .find(|(d, _)| d == "currency")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let t = prev_totals.entry(cur).or_default();
                t.spend += s.spend;
                t.impressions += s.impressions;
                t.clicks += s.clicks;
                t.conversions += s.conversions;
                t.leads += s.leads;
            }
        }
        let totals = totals
            .into_iter()
            .map(|(cur, s)| {
                let m = Metrics::from(s);
                ReportRow {
                    period: None,
                    key: [("currency".to_string(), cur.clone())].into(),
                    metrics: m,
                    sums: s,
                    deltas: if compared.is_some() {
                        deltas(&m, prev_totals.get(&cur).map(|p| Metrics::from(*p)).as_ref())
                    } else {
                        BTreeMap::new()
                    },
                }
            })
            .collect();
        Report {
            from: q.from,
            to: q.to,
            compared_with: compared,
            rows,
            totals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn fact(day: &str, campaign: &str, spend: f64, impressions: i64, clicks: i64, leads: i64) -> AdFact {
        AdFact {
            platform: "google".into(),
            account: "a".into(),
            campaign: campaign.into(),
            ad_group: "g".into(),
            ad: String::new(),
            date_from: d(day),
            date_to: d(day),
            currency: "USD".into(),
            spend_micros: (spend * 1e6) as i64,
            impressions,
            clicks,
            conversions_milli: leads * 1000,
            leads,
            reach: None,
            utm: std::sync::Arc::new([("utm_source".to_string(), "google".to_string())].into()),
        }
    }

    #[test]
    fn on_the_2nd_this_month_compares_with_the_last_two_days_before() {
        let (f, t) = comparison_range(
            d("2026-03-01"),
            d("2026-03-31"),
            d("2026-03-02"),
            Compare::PreviousPeriod,
        );
        assert_eq!((f, t), (d("2026-02-27"), d("2026-02-28")));
        let (f, t) = comparison_range(d("2026-03-01"), d("2026-03-07"), d("2026-06-01"), Compare::PreviousYear);
        assert_eq!((f, t), (d("2025-03-01"), d("2025-03-07")));
    }

    #[test]
    fn week_over_week_compares_each_week_with_the_one_before() {
        let facts = vec![
            fact("2026-02-27", "autosd_amer_pr_rsa_nb_exact", 50.0, 1000, 10, 1), // Fri, the week of Feb 23
            fact("2026-03-03", "autosd_amer_pr_rsa_nb_exact", 100.0, 1000, 20, 1), // the week of Mar 2
            fact("2026-03-10", "autosd_amer_pr_rsa_nb_exact", 80.0, 1000, 20, 1), // the week of Mar 9
        ];
        let q = ReportQuery {
            from: d("2026-03-01"),
            to: d("2026-03-14"),
            filters: vec![],
            group_by: vec![],
            grain: Some(Grain::Week),
            compare: Some(Compare::PreviousPeriod),
            today: d("2026-04-01"),
        };
        let r = report(&facts, &Taxonomy::presets(), &q);
        let got: Vec<(Option<String>, Option<f64>)> = r
            .rows
            .iter()
            .map(|row| (row.period.clone(), row.deltas["spend"].percent))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("2026-03-02".into()), Some(100.0)),
                (Some("2026-03-09".into()), Some(-20.0))
            ]
        );
        assert_eq!(previous_bucket_start(d("2026-01-15"), Grain::Month), d("2025-12-01"));
    }

    #[test]
    fn ratios_come_from_sums_and_zero_denominators_give_none() {
        let facts = vec![
            fact("2026-03-01", "autosd_amer_pr_rsa_nb_exact", 10.0, 1000, 10, 1),
            fact("2026-03-01", "autosd_emea_pr_rsa_nb_exact", 90.0, 100, 1, 0),
            fact("2026-02-27", "autosd_amer_pr_rsa_nb_exact", 5.0, 0, 0, 0),
        ];
        let q = ReportQuery {
            from: d("2026-03-01"),
            to: d("2026-03-31"),
            filters: vec![],
            group_by: vec!["campaign_code".into()],
            grain: None,
            compare: Some(Compare::PreviousPeriod),
            today: d("2026-03-02"),
        };
        let r = report(&facts, &Taxonomy::presets(), &q);
        assert_eq!(r.rows.len(), 1);
        let m = r.rows[0].metrics;
        assert_eq!(m.ctr, Some(11.0 / 1100.0), "not the average of 1% and 1%");
        assert_eq!(m.cpc, Some(100.0 / 11.0));
        let prev = &r.rows[0].deltas["ctr"];
        assert_eq!(prev.previous, None, "no impressions before: no CTR");
        assert_eq!(r.rows[0].deltas["spend"].percent, Some(1900.0));
        assert_eq!(r.rows[0].deltas["cpc"].better, None);
        let q2 = ReportQuery {
            filters: vec![Filter {
                dimension: "geo".into(),
                values: vec!["emea".into()],
            }],
            group_by: vec!["geo".into()],
            compare: None,
            ..q
        };
        let r = report(&facts, &Taxonomy::presets(), &q2);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].metrics.cpl, None, "no leads: no CPL");
    }
}
