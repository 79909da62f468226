//! Ad-platform exports: LinkedIn Campaign Manager, Google Ads and Meta Ads Manager, as users
//! download them. The platform is recognised from the header (found below any preamble); total
//! rows and repeated headers are skipped; null markers (`--`, `-`, `—`, `n/a`) read as nothing;
//! thousands separators and decimal commas are decided per file; a day/month order that the file
//! does not settle is refused rather than guessed; the currency comes from a column or the header.
//! Every problem is reported as `FILE:LINE: column NAME: reason`; a file with problems gives nothing.

use crate::errors::{ImportError, RowError};
use abm_core::paid::{AdFact, FxBuild};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    LinkedIn,
    Google,
    Meta,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::LinkedIn => "linkedin",
            Platform::Google => "google",
            Platform::Meta => "meta",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linkedin" => Ok(Platform::LinkedIn),
            "google" | "google-ads" => Ok(Platform::Google),
            "meta" | "facebook" => Ok(Platform::Meta),
            other => Err(format!("expected linkedin, google or meta, found {other:?}")),
        }
    }

    /// Headers that identify the platform's export.
    fn signature(self) -> &'static [&'static str] {
        match self {
            Platform::LinkedIn => &["Start Date (in UTC)", "Campaign Name", "Total Spent"],
            Platform::Google => &["Day", "Campaign", "Impr."],
            Platform::Meta => &["Reporting starts", "Reporting ends", "Campaign name"],
        }
    }
}

/// What one export holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AdExport {
    pub platform: Platform,
    /// The name facts carry: the platform's, or a generic mapping's.
    pub platform_name: String,
    pub account: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub facts: Vec<AdFact>,
    pub rows: u64,
    pub skipped_total_rows: u64,
}

const NULLS: &[&str] = &["", "--", "-", "—", "n/a", "N/A", "null"];

/// Parse a number with the file's decimal mark; null markers are None.
fn number(s: &str, decimal_comma: bool) -> Result<Option<f64>, String> {
    let t = s.trim().trim_end_matches('%').trim();
    if NULLS.contains(&t) {
        return Ok(None);
    }
    // Most cells are plain numbers: parse those without copying.
    let plain = !t.contains([',', ' ', '\u{a0}']) && (!decimal_comma || !t.contains('.'));
    let cleaned: std::borrow::Cow<str> = if plain {
        std::borrow::Cow::Borrowed(t)
    } else if decimal_comma {
        std::borrow::Cow::Owned(t.replace(['.', ' ', '\u{a0}'], "").replace(',', "."))
    } else {
        std::borrow::Cow::Owned(t.replace([',', ' ', '\u{a0}'], ""))
    };
    let cleaned = cleaned.trim_start_matches(['$', '€', '£']);
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(Some)
        .ok_or_else(|| format!("expected a number, found {s:?}"))
}

/// `?a=b&c=d` from a URL, percent-decoded.
fn utm_params(url: &str) -> BTreeMap<String, String> {
    let Some((_, q)) = url.split_once('?') else {
        return BTreeMap::new();
    };
    let q = q.split('#').next().unwrap_or(q);
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| k.starts_with("utm_"))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Day/month order for a file of `a/b/yyyy` dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlashOrder {
    MonthFirst,
    DayFirst,
}

/// What the `a/b/yyyy` dates of a file say about their order, seen one at a time.
#[derive(Default)]
struct SlashScan {
    any: bool,
    first_gt12: bool,
    second_gt12: bool,
}

impl SlashScan {
    fn add(&mut self, v: &str) {
        let mut parts = v.trim().split('/');
        let (Some(a), Some(b), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return;
        };
        self.any = true;
        self.first_gt12 |= a.parse::<u32>().unwrap_or(0) > 12;
        self.second_gt12 |= b.parse::<u32>().unwrap_or(0) > 12;
    }

    fn finish(&self) -> Result<Option<SlashOrder>, String> {
        match (self.any, self.first_gt12, self.second_gt12) {
        (false, _, _) => Ok(None),
        (true, true, true) => Err("dates are neither day/month nor month/day".into()),
        (true, true, false) => Ok(Some(SlashOrder::DayFirst)),
        (true, false, true) => Ok(Some(SlashOrder::MonthFirst)),
        (true, false, false) => Err("dates like 03/04/2026 could be day/month or month/day and no date in the file settles it; export with ISO dates (2026-04-03)".into()),
        }
    }
}

#[cfg(test)]
fn slash_order(values: &[&str]) -> Result<Option<SlashOrder>, String> {
    let mut s = SlashScan::default();
    for v in values {
        s.add(v);
    }
    s.finish()
}

fn date(s: &str, order: Option<SlashOrder>) -> Result<NaiveDate, String> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d);
    }
    let fmt = match order {
        Some(SlashOrder::MonthFirst) => "%m/%d/%Y",
        Some(SlashOrder::DayFirst) => "%d/%m/%Y",
        None => return Err(format!("expected a date like 2026-04-03, found {t:?}")),
    };
    NaiveDate::parse_from_str(t, fmt).map_err(|_| format!("expected a date, found {t:?}"))
}

/// Read and check an export. `platform` forces the layout; otherwise it is recognised.
/// A column a row's value is read from (`col`), and its name for errors.
#[derive(Clone, Copy)]
struct Field {
    col: Option<usize>,
    name: &'static str,
}

/// Each distinct name once, by number.
#[derive(Default)]
struct Interner {
    ids: std::collections::HashMap<String, u32, FxBuild>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.ids.len() as u32;
        self.ids.insert(s.to_string(), i);
        i
    }
}

/// How much of an export is read up front to find its format and header.
const HEAD_BYTES: usize = 1 << 20;

pub fn read_export(path: &Path, platform: Option<Platform>) -> Result<AdExport, ImportError> {
    let file = path.display().to_string();
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    // The first megabyte tells the format (xlsx, BOM, preamble, header); the rows are streamed
    // from the file in each pass, so memory follows the facts, not the file.
    let mut head = Vec::with_capacity(HEAD_BYTES);
    {
        use std::io::Read;
        std::fs::File::open(path)
            .map_err(io)?
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(io)?;
    }
    if head.starts_with(&[0x50, 0x4b, 0x03, 0x04]) {
        return Err(ImportError::File {
            file,
            line: 1,
            reason: "this is a spreadsheet (.xlsx), not CSV: open it and save it as CSV (UTF-8)".into(),
        });
    }
    let bom = if head.starts_with(&[0xef, 0xbb, 0xbf]) { 3 } else { 0 };
    let text = String::from_utf8_lossy(&head[bom..]).into_owned();
    // Find the header line and the delimiter together.
    let mut header_at = None;
    'find: for (i, line) in text.lines().enumerate().take(50) {
        for delim in [',', ';', '\t'] {
            let cells: Vec<String> = split_line(line, delim);
            for p in [Platform::LinkedIn, Platform::Google, Platform::Meta] {
                if platform.is_some_and(|f| f != p) {
                    continue;
                }
                if p.signature().iter().all(|h| cells.iter().any(|c| c.trim() == *h)) {
                    header_at = Some((i, delim, p, cells));
                    break 'find;
                }
            }
        }
    }
    let Some((header_line, delim, platform, header)) = header_at else {
        return Err(ImportError::File {
            file,
            line: 1,
            reason: "not a LinkedIn Campaign Manager, Google Ads or Meta Ads Manager export (no header found in the first 50 lines)".into(),
        });
    };
    let positions: std::collections::HashMap<&str, usize> =
        header.iter().enumerate().rev().map(|(i, h)| (h.trim(), i)).collect();
    let col = |names: &[&str]| names.iter().find_map(|n| positions.get(n).copied());
    let preamble: Vec<&str> = text.lines().take(header_line).collect();
    // The rows after the header, read afresh for each pass (nothing is held but the text); one
    // record is reused for every row.
    let each_row = |f: &mut dyn FnMut(u64, &csv::StringRecord)| -> Result<(), ImportError> {
        use std::io::{Seek, SeekFrom};
        let mut input = std::fs::File::open(path).map_err(io)?;
        input.seek(SeekFrom::Start(bom as u64)).map_err(io)?;
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delim as u8)
            .buffer_capacity(1 << 20)
            .from_reader(input);
        // One record for every row; bytes that are not UTF-8 are replaced, as a text editor would.
        let mut raw = csv::ByteRecord::new();
        loop {
            match rdr.read_byte_record(&mut raw) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if e.is_io_error() => {
                    return Err(ImportError::File {
                        file: file.clone(),
                        line: raw.position().map(|p| p.line()).unwrap_or(0),
                        reason: format!("could not be read: {e}"),
                    })
                }
                Err(_) => continue,
            }
            let line = raw.position().map(|p| p.line()).unwrap_or(0);
            if line as usize <= header_line + 1 {
                continue;
            }
            let rec = csv::StringRecord::from_byte_record_lossy(std::mem::take(&mut raw));
            f(line, &rec);
            raw = rec.into_byte_record();
        }
        Ok(())
    };
    // Pass 1: decimal commas (from the spend column) and the day/month order, decided per file.
    let spend_col = match platform {
        Platform::LinkedIn => col(&["Total Spent"]),
        Platform::Google => col(&["Cost"]),
        Platform::Meta => header.iter().position(|h| h.trim().starts_with("Amount spent")),
    };
    let date_cols: Vec<usize> = match platform {
        Platform::LinkedIn => col(&["Start Date (in UTC)"]).into_iter().collect(),
        Platform::Google => col(&["Day"]).into_iter().collect(),
        Platform::Meta => [col(&["Reporting starts"]), col(&["Reporting ends"])]
            .into_iter()
            .flatten()
            .collect(),
    };
    let mut decimal_comma = false;
    let mut dates = SlashScan::default();
    let mut lines = 0usize;
    each_row(&mut |_, r| {
        lines += 1;
        if let Some(v) = spend_col.and_then(|c| r.get(c)) {
            let v = v.trim();
            decimal_comma |= v
                .rsplit_once(',')
                .is_some_and(|(int, dec)| dec.len() <= 2 && (!v.contains('.') || int.contains('.')));
        }
        for c in &date_cols {
            if let Some(v) = r.get(*c) {
                dates.add(v);
            }
        }
    })?;
    let mut errors: Vec<RowError> = Vec::new();
    let order = match dates.finish() {
        Ok(o) => o,
        Err(reason) => {
            return Err(ImportError::File {
                file,
                line: header_line as u64 + 2,
                reason,
            })
        }
    };
    let meta_currency = header.iter().find_map(|h| {
        h.trim()
            .strip_prefix("Amount spent (")
            .and_then(|r| r.strip_suffix(')'))
            .map(str::to_string)
    });
    let account_from_preamble = preamble.iter().find_map(|l| {
        l.strip_prefix("Account:")
            .map(|a| a.trim().trim_matches('"').to_string())
    });
    // The columns each platform's rows are read from, found once.
    let field = |name: &'static str| Field {
        col: col(&[name]),
        name,
    };
    let none = Field { col: None, name: "" };
    let (from_f, to_f) = match platform {
        Platform::LinkedIn => (field("Start Date (in UTC)"), field("Start Date (in UTC)")),
        Platform::Google => (field("Day"), field("Day")),
        Platform::Meta => (field("Reporting starts"), field("Reporting ends")),
    };
    let [campaign_f, ad_group_f, ad_f, url_f, currency_f, spend_f, imps_f, clicks_f, conv_f, leads_f, reach_f, account_f] =
        match platform {
            Platform::LinkedIn => [
                field("Campaign Name"),
                field("Campaign Group Name"),
                field("Creative Name"),
                field("Click URL"),
                field("Currency"),
                field("Total Spent"),
                field("Impressions"),
                field("Clicks"),
                field("Conversions"),
                field("Leads"),
                field("Reach"),
                field("Account Name"),
            ],
            Platform::Google => [
                field("Campaign"),
                field("Ad group"),
                none,
                field("Final URL"),
                field("Currency code"),
                field("Cost"),
                field("Impr."),
                field("Clicks"),
                field("Conversions"),
                none,
                none,
                none,
            ],
            Platform::Meta => [
                field("Campaign name"),
                field("Ad set name"),
                field("Ad name"),
                field("Website URL"),
                field("Currency"),
                Field {
                    col: spend_col,
                    name: "Amount spent",
                },
                field("Impressions"),
                field("Link clicks"),
                field("Results"),
                field("Leads"),
                field("Reach"),
                none,
            ],
        };
    // Facts are keyed by interned names: a row that adds to a fact allocates nothing.
    let mut names = Interner::default();
    let mut index: std::collections::HashMap<(u32, u32, u32, u32, NaiveDate, NaiveDate, u32), usize, FxBuild> =
        std::collections::HashMap::with_capacity_and_hasher(lines, Default::default());
    let mut facts: Vec<AdFact> = Vec::with_capacity(lines);
    // Parsed UTM parameters by URL (and, for URLs without utm_campaign, by campaign too).
    let mut utm_by_url: std::collections::HashMap<String, std::sync::Arc<BTreeMap<String, String>>, FxBuild> =
        Default::default();
    let mut utm_by_campaign: std::collections::HashMap<
        (String, String),
        std::sync::Arc<BTreeMap<String, String>>,
        FxBuild,
    > = Default::default();
    let (mut rows, mut totals) = (0u64, 0u64);
    let header_trimmed: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    let fixed_account = account_from_preamble.unwrap_or_else(|| platform.name().to_string());
    each_row(&mut |line, r| {
        if r.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        if r.iter().map(|c| c.trim()).eq(header_trimmed.iter().copied()) {
            return; // a second header from concatenated files
        }
        if r.get(0).is_some_and(|c| c.trim_start().starts_with("Total")) {
            totals += 1;
            return;
        }
        rows += 1;
        let mut bad = |column: &str, reason: String| {
            errors.push(RowError {
                file: file.clone(),
                line,
                column: column.to_string(),
                reason,
            })
        };
        let get = |f: &Field| f.col.and_then(|c| r.get(c)).unwrap_or("").trim();
        let num = |f: &Field, bad: &mut dyn FnMut(&str, String)| -> f64 {
            match number(get(f), decimal_comma) {
                Ok(v) => v.unwrap_or(0.0),
                Err(e) => {
                    bad(f.name, e);
                    0.0
                }
            }
        };
        let from = date(get(&from_f), order).map_err(|e| bad(from_f.name, e)).ok();
        let to = date(get(&to_f), order).map_err(|e| bad(to_f.name, e)).ok();
        let (campaign, ad_group, ad, url) = (get(&campaign_f), get(&ad_group_f), get(&ad_f), get(&url_f));
        let currency = match (&meta_currency, platform) {
            (Some(c), Platform::Meta) => c.as_str(),
            _ => get(&currency_f),
        };
        let spend = match platform {
            // Meta's spend column is named by its currency; an unreadable amount counts as none.
            Platform::Meta => number(get(&spend_f), decimal_comma).ok().flatten().unwrap_or(0.0),
            _ => num(&spend_f, &mut bad),
        };
        let (imps, clicks, conv) = (num(&imps_f, &mut bad), num(&clicks_f, &mut bad), num(&conv_f, &mut bad));
        let leads = if leads_f.col.is_some() || platform != Platform::Google {
            num(&leads_f, &mut bad)
        } else {
            0.0
        };
        let reach = number(get(&reach_f), decimal_comma).ok().flatten();
        if campaign.is_empty() {
            bad("Campaign", "is required".into());
        }
        if currency.is_empty() {
            bad(
                "Currency",
                "is required (a column, or in the spend header like \"Amount spent (USD)\")".into(),
            );
        }
        let (Some(from), Some(to)) = (from, to) else { return };
        if to < from {
            bad(to_f.name, format!("ends ({to}) before it starts ({from})"));
            return;
        }
        let account = match platform {
            Platform::LinkedIn => get(&account_f),
            _ => fixed_account.as_str(),
        };
        let key = (
            names.id(account),
            names.id(campaign),
            names.id(ad_group),
            names.id(ad),
            from,
            to,
            names.id(currency),
        );
        let at = match index.get(&key) {
            Some(at) => *at,
            None => {
                let parsed = match utm_by_url.get(url) {
                    Some(u) => u.clone(),
                    None => {
                        let u = std::sync::Arc::new(utm_params(url));
                        utm_by_url.insert(url.to_string(), u.clone());
                        u
                    }
                };
                // utm_campaign defaults to the campaign name when the URL has none.
                let utm = if parsed.contains_key("utm_campaign") {
                    parsed
                } else {
                    utm_by_campaign
                        .entry((url.to_string(), campaign.to_string()))
                        .or_insert_with(|| {
                            let mut u = (*parsed).clone();
                            u.insert("utm_campaign".into(), campaign.to_string());
                            std::sync::Arc::new(u)
                        })
                        .clone()
                };
                facts.push(AdFact {
                    platform: platform.name().into(),
                    account: account.to_string(),
                    campaign: campaign.to_string(),
                    ad_group: ad_group.to_string(),
                    ad: ad.to_string(),
                    date_from: from,
                    date_to: to,
                    currency: currency.to_string(),
                    spend_micros: 0,
                    impressions: 0,
                    clicks: 0,
                    conversions_milli: 0,
                    leads: 0,
                    reach: None,
                    utm,
                });
                index.insert(key, facts.len() - 1);
                facts.len() - 1
            }
        };
        let f = &mut facts[at];
        f.spend_micros += (spend * 1e6).round() as i64;
        f.impressions += imps.round() as i64;
        f.clicks += clicks.round() as i64;
        f.conversions_milli += (conv * 1000.0).round() as i64;
        f.leads += leads.round() as i64;
        f.reach = reach.map(|r| r as i64).or(f.reach);
    })?;
    drop(index);
    if !errors.is_empty() {
        return Err(ImportError::BadRows(errors));
    }
    facts.sort_by(|a, b| {
        (a.date_from, &a.campaign, &a.ad_group, &a.ad, &a.currency).cmp(&(
            b.date_from,
            &b.campaign,
            &b.ad_group,
            &b.ad,
            &b.currency,
        ))
    });
    let first_day = facts.iter().map(|f| f.date_from).min();
    let last_day = facts.iter().map(|f| f.date_to).max();
    let (Some(first_day), Some(last_day)) = (first_day, last_day) else {
        return Err(ImportError::File {
            file,
            line: header_line as u64 + 1,
            reason: "the export has no rows".into(),
        });
    };
    let account = facts[0].account.clone();
    Ok(AdExport {
        platform,
        platform_name: platform.name().to_string(),
        account,
        first_day,
        last_day,
        facts,
        rows,
        skipped_total_rows: totals,
    })
}

fn split_line(line: &str, delim: char) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim as u8)
        .from_reader(line.as_bytes());
    r.records()
        .next()
        .and_then(|x| x.ok())
        .map(|rec| rec.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_nulls_and_decimal_marks() {
        assert_eq!(number("1,679,183", false).unwrap(), Some(1679183.0));
        assert_eq!(number("5.00%", false).unwrap(), Some(5.0));
        assert_eq!(number("--", false).unwrap(), None);
        assert_eq!(number("1.234,56", true).unwrap(), Some(1234.56));
        assert!(number("lots", false).is_err());
    }

    #[test]
    fn day_month_order_is_decided_or_refused() {
        assert_eq!(
            slash_order(&["11/28/2025", "12/01/2025"]).unwrap(),
            Some(SlashOrder::MonthFirst)
        );
        assert_eq!(slash_order(&["28/11/2025"]).unwrap(), Some(SlashOrder::DayFirst));
        assert!(slash_order(&["03/04/2026", "05/06/2026"]).is_err());
        assert_eq!(
            percent_decode("Brand%20-%20Search%20(legacy)"),
            "Brand - Search (legacy)"
        );
    }
}

/// How a generic export's columns map to facts (`--mapping FILE.toml`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericMap {
    /// The platform name the facts carry (e.g. `demandbase`).
    pub platform: String,
    /// A fixed account name, unless `columns.account` names a column.
    pub account: Option<String>,
    /// A fixed currency, unless `columns.currency` names a column.
    pub currency: Option<String>,
    pub columns: GenericColumns,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericColumns {
    /// A day column, or `date_from` and `date_to` for ranges.
    pub date: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub campaign: String,
    pub ad_group: Option<String>,
    pub ad: Option<String>,
    pub spend: String,
    pub impressions: Option<String>,
    pub clicks: Option<String>,
    pub conversions: Option<String>,
    pub leads: Option<String>,
    /// Not additive (accounts reached, people reached): kept per row, never summed.
    pub reach: Option<String>,
    pub currency: Option<String>,
    pub account: Option<String>,
    pub url: Option<String>,
}

/// Read a mapping file.
pub fn read_mapping(path: &Path) -> Result<GenericMap, ImportError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let map: GenericMap = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        ImportError::Mapping {
            file: file.clone(),
            reason: format!("line {line}: {}", e.message()),
        }
    })?;
    let c = &map.columns;
    if c.date.is_none() && (c.date_from.is_none() || c.date_to.is_none()) {
        return Err(ImportError::Mapping {
            file,
            reason: "columns: set date, or date_from and date_to".into(),
        });
    }
    if map.currency.is_none() && c.currency.is_none() {
        return Err(ImportError::Mapping {
            file,
            reason: "set currency (a fixed value) or columns.currency".into(),
        });
    }
    Ok(map)
}

/// Read an export laid out as `map` says; the same checks as the platform readers.
pub fn read_generic(path: &Path, map: &GenericMap) -> Result<AdExport, ImportError> {
    let mut t = crate::table::CsvTable::open(path)?;
    let file = t.file.clone();
    let c = &map.columns;
    let col = |t: &crate::table::CsvTable, name: &Option<String>| -> Result<Option<usize>, ImportError> {
        match name {
            None => Ok(None),
            Some(n) => t.required(n).map(Some),
        }
    };
    let (from_c, to_c) = match &c.date {
        Some(d) => (t.required(d)?, t.required(d)?),
        None => (
            col(&t, &c.date_from)?.expect("checked"),
            col(&t, &c.date_to)?.expect("checked"),
        ),
    };
    let campaign_c = t.required(&c.campaign)?;
    let spend_c = t.required(&c.spend)?;
    let [ad_group_c, ad_c, imps_c, clicks_c, conv_c, leads_c, reach_c, cur_c, acct_c, url_c] = [
        &c.ad_group,
        &c.ad,
        &c.impressions,
        &c.clicks,
        &c.conversions,
        &c.leads,
        &c.reach,
        &c.currency,
        &c.account,
        &c.url,
    ]
    .map(|n| col(&t, n));
    let (ad_group_c, ad_c, imps_c, clicks_c, conv_c, leads_c, reach_c, cur_c, acct_c, url_c) = (
        ad_group_c?,
        ad_c?,
        imps_c?,
        clicks_c?,
        conv_c?,
        leads_c?,
        reach_c?,
        cur_c?,
        acct_c?,
        url_c?,
    );
    let rows: Vec<(u64, csv::StringRecord)> = t.rows().collect::<Result<_, _>>()?;
    let decimal_comma = rows.iter().filter_map(|(_, r)| r.get(spend_c)).any(|v| {
        let v = v.trim();
        v.rsplit_once(',')
            .is_some_and(|(int, dec)| dec.len() <= 2 && (!v.contains('.') || int.contains('.')))
    });
    let mut dates = SlashScan::default();
    for (_, r) in &rows {
        for i in [from_c, to_c] {
            if let Some(v) = r.get(i) {
                dates.add(v);
            }
        }
    }
    let order = dates.finish().map_err(|reason| ImportError::File {
        file: file.clone(),
        line: 2,
        reason,
    })?;
    let mut errors = Vec::new();
    let mut facts: Vec<AdFact> = Vec::new();
    let header_name = |i: usize| t.headers.get(i).cloned().unwrap_or_default();
    for (line, r) in &rows {
        let cell = |i: Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("").trim();
        if cell(Some(campaign_c)).starts_with("Total") {
            continue;
        }
        let mut bad = |i: usize, reason: String| {
            errors.push(RowError {
                file: file.clone(),
                line: *line,
                column: header_name(i),
                reason,
            })
        };
        let num = |i: Option<usize>, bad: &mut dyn FnMut(usize, String)| -> f64 {
            match i {
                None => 0.0,
                Some(i) => number(cell(Some(i)), decimal_comma)
                    .unwrap_or_else(|e| {
                        bad(i, e);
                        None
                    })
                    .unwrap_or(0.0),
            }
        };
        let from = date(cell(Some(from_c)), order).map_err(|e| bad(from_c, e)).ok();
        let to = date(cell(Some(to_c)), order).map_err(|e| bad(to_c, e)).ok();
        let campaign = cell(Some(campaign_c)).to_string();
        if campaign.is_empty() {
            bad(campaign_c, "is required".into());
        }
        let spend = num(Some(spend_c), &mut bad);
        let (imps, clicks, conv, leads) = (
            num(imps_c, &mut bad),
            num(clicks_c, &mut bad),
            num(conv_c, &mut bad),
            num(leads_c, &mut bad),
        );
        let reach = reach_c.and_then(|i| number(cell(Some(i)), decimal_comma).ok().flatten());
        let currency = cur_c
            .map(|i| cell(Some(i)).to_string())
            .or_else(|| map.currency.clone())
            .unwrap_or_default();
        let (Some(from), Some(to)) = (from, to) else { continue };
        let mut utm = utm_params(cell(url_c));
        utm.entry("utm_campaign".into()).or_insert_with(|| campaign.clone());
        facts.push(AdFact {
            platform: map.platform.clone(),
            account: acct_c
                .map(|i| cell(Some(i)).to_string())
                .or_else(|| map.account.clone())
                .unwrap_or_else(|| map.platform.clone()),
            campaign,
            ad_group: cell(ad_group_c).to_string(),
            ad: cell(ad_c).to_string(),
            date_from: from,
            date_to: to,
            currency,
            spend_micros: (spend * 1e6).round() as i64,
            impressions: imps.round() as i64,
            clicks: clicks.round() as i64,
            conversions_milli: (conv * 1000.0).round() as i64,
            leads: leads.round() as i64,
            reach: reach.map(|r| r as i64),
            utm: std::sync::Arc::new(utm),
        });
    }
    if !errors.is_empty() {
        return Err(ImportError::BadRows(errors));
    }
    let (Some(first_day), Some(last_day)) = (
        facts.iter().map(|f| f.date_from).min(),
        facts.iter().map(|f| f.date_to).max(),
    ) else {
        return Err(ImportError::File {
            file,
            line: 2,
            reason: "the export has no rows".into(),
        });
    };
    // Rows with the same key (dates, account, campaign, ad group, ad, currency) add up.
    let mut merged: std::collections::HashMap<
        (String, String, String, String, NaiveDate, NaiveDate, String),
        AdFact,
        FxBuild,
    > = Default::default();
    for f in facts {
        let key = (
            f.account.clone(),
            f.campaign.clone(),
            f.ad_group.clone(),
            f.ad.clone(),
            f.date_from,
            f.date_to,
            f.currency.clone(),
        );
        match merged.get_mut(&key) {
            Some(m) => {
                m.spend_micros += f.spend_micros;
                m.impressions += f.impressions;
                m.clicks += f.clicks;
                m.conversions_milli += f.conversions_milli;
                m.leads += f.leads;
                m.reach = f.reach.or(m.reach);
            }
            None => {
                merged.insert(key, f);
            }
        }
    }
    let mut facts: Vec<AdFact> = merged.into_values().collect();
    facts.sort_by(|a, b| {
        (a.date_from, &a.campaign, &a.ad_group, &a.ad).cmp(&(b.date_from, &b.campaign, &b.ad_group, &b.ad))
    });
    Ok(AdExport {
        platform: Platform::Google,
        platform_name: map.platform.clone(),
        account: facts[0].account.clone(),
        first_day,
        last_day,
        rows: rows.len() as u64,
        skipped_total_rows: 0,
        facts,
    })
}
