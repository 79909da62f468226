//! Activities as bytes. Activities kept in bulk (in memory for a replay of every account, or as
//! one value per account in a store) are smaller and quicker to copy as a run of bytes than as
//! [`Activity`] values of a dozen allocations each: text is its length and its bytes, one after
//! the other. A journey's window scores, stored for every account, are packed the same way. Pure:
//! bytes in, values out; bytes that end early or are not UTF-8 are refused, not trusted, since a
//! store's bytes come from a file.

use crate::activity::{Activity, ActivityView};
use crate::journey::WindowScore;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Bytes that do not unpack: they end early, hold text that is not UTF-8, or more or other
/// values than were packed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("packed bytes are damaged at byte {0}")]
pub struct Damaged(pub usize);

/// A length as LEB128 (one byte below 128).
#[inline]
pub fn put_len(b: &mut Vec<u8>, mut n: usize) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            b.push(low);
            return;
        }
        b.push(low | 0x80);
    }
}

/// Text as its length plus one and its bytes; `None` as a zero length.
#[inline]
pub fn put_text(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => put_len(b, 0),
        Some(s) => {
            put_len(b, s.len() + 1);
            b.extend_from_slice(s.as_bytes());
        }
    }
}

/// An activity's fields after its time, source and kind (which a caller may keep elsewhere):
/// source id, email, account id, company domain, IP address and attributes.
#[inline]
pub fn put_details(b: &mut Vec<u8>, a: &ActivityView<'_>) {
    put_text(b, Some(a.source_id));
    put_text(b, a.email);
    put_text(b, a.account_id);
    put_text(b, a.company_domain);
    match a.ip {
        None => b.push(0),
        Some(ip) => {
            b.push(1);
            b.extend_from_slice(&ip.octets());
        }
    }
    put_len(b, a.attributes.len());
    for (k, v) in a.attributes {
        put_text(b, Some(k));
        put_text(b, Some(v));
    }
}

/// A whole activity: its time (seconds since 1970, zigzag, then nanoseconds), source, kind and
/// [`put_details`]. [`Reader::activity`] reads it back.
pub fn put_activity(b: &mut Vec<u8>, a: &ActivityView<'_>) {
    put_after(b, a, None);
}

/// A time: seconds since 1970 (zigzag), then nanoseconds. [`Reader::time`] reads it back.
#[inline]
pub fn put_time(b: &mut Vec<u8>, at: DateTime<Utc>) {
    let secs = at.timestamp();
    put_len(b, ((secs << 1) ^ (secs >> 63)) as u64 as usize);
    put_len(b, at.timestamp_subsec_nanos() as usize);
}

/// An activity's source or kind as [`put_head`] writes it.
#[derive(Debug, Clone, Copy)]
pub enum Name<'a> {
    /// Written out.
    New(&'a str),
    /// The same as the activity written just before it in the same run of bytes (one byte; most
    /// of an account's activities share their source, and many their kind).
    Again,
}

/// What [`put_activity`] writes before the details: a caller holding an activity's details
/// packed already (by [`put_details`]) copies them after this.
#[inline]
pub fn put_head(b: &mut Vec<u8>, at: DateTime<Utc>, source: Name<'_>, kind: Name<'_>) {
    put_time(b, at);
    put_names(b, source, kind);
}

/// What [`put_head`] writes after the time: a caller holding the time packed already (by
/// [`put_time`]) copies it, then writes this.
#[inline]
pub fn put_names(b: &mut Vec<u8>, source: Name<'_>, kind: Name<'_>) {
    for name in [source, kind] {
        match name {
            // A zero length: text never has one (`put_text` writes its length plus one).
            Name::Again => b.push(0),
            Name::New(text) => put_text(b, Some(text)),
        }
    }
}

/// [`put_activity`] for the activity after `before` in the same run of bytes: a source or kind
/// the same as `before`'s is written as [`Name::Again`].
pub fn put_after(b: &mut Vec<u8>, a: &ActivityView<'_>, before: Option<&ActivityView<'_>>) {
    fn name<'t>(this: &'t str, that: Option<&str>) -> Name<'t> {
        match that == Some(this) {
            true => Name::Again,
            false => Name::New(this),
        }
    }
    let source = name(a.source, before.map(|x| x.source));
    let kind = name(a.kind, before.map(|x| x.kind));
    put_head(b, a.at, source, kind);
    put_details(b, a);
}

/// Activities with their account, packed account by account: each run of one account's
/// activities becomes one value.
pub fn by_account(rows: impl IntoIterator<Item = (String, Activity)>) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut before: Option<Activity> = None;
    for (crm, a) in rows {
        match out.last_mut() {
            Some((last, packed)) if *last == crm => {
                put_after(packed, &a.view(), before.as_ref().map(|b| b.view()).as_ref())
            }
            _ => {
                let mut packed = Vec::new();
                put_activity(&mut packed, &a.view());
                out.push((crm, packed));
            }
        }
        before = Some(a);
    }
    out
}

/// The fields [`put_details`] wrote, their text lent from the bytes (attributes, when there are
/// any, built).
pub struct Details<'a> {
    pub source_id: &'a str,
    pub email: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub company_domain: Option<&'a str>,
    pub ip: Option<Ipv4Addr>,
    pub attributes: BTreeMap<String, String>,
}

/// Reads what the `put_` functions wrote, from `at` on.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The source and kind of the activity read last, for [`Name::Again`].
    names: Option<(&'a str, &'a str)>,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], at: usize) -> Reader<'a> {
        Reader { bytes, at, names: None }
    }

    /// Whether every byte has been read.
    #[inline]
    pub fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    #[inline]
    pub fn byte(&mut self) -> Result<u8, Damaged> {
        let b = *self.bytes.get(self.at).ok_or(Damaged(self.at))?;
        self.at += 1;
        Ok(b)
    }

    /// The next `N` bytes as they are.
    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], Damaged> {
        let start = self.at;
        let got = self.bytes.get(start..start.saturating_add(N)).ok_or(Damaged(start))?;
        self.at += N;
        Ok(got.try_into().expect("N bytes"))
    }

    #[inline]
    pub fn length(&mut self) -> Result<usize, Damaged> {
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let b = self.byte()?;
            if shift >= usize::BITS {
                return Err(Damaged(self.at));
            }
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
            shift += 7;
        }
    }

    /// Where the next byte is read from.
    #[inline]
    pub fn position(&self) -> usize {
        self.at
    }

    /// The next text, lent from the bytes.
    #[inline]
    pub fn text_lent(&mut self) -> Result<Option<&'a str>, Damaged> {
        match self.length()? {
            0 => Ok(None),
            n => {
                let start = self.at;
                let bytes: &'a [u8] = self.bytes;
                let end = start.checked_add(n - 1).filter(|&e| e <= bytes.len());
                let s = end.and_then(|e| std::str::from_utf8(&bytes[start..e]).ok());
                let s = s.ok_or(Damaged(start))?;
                self.at += n - 1;
                Ok(Some(s))
            }
        }
    }

    /// Past the next text, without checking that it is UTF-8.
    #[inline]
    fn skip_text(&mut self) -> Result<(), Damaged> {
        let n = self.length()?;
        let end = self.at.saturating_add(n.saturating_sub(1));
        if end > self.bytes.len() {
            return Err(Damaged(self.at));
        }
        self.at = end;
        Ok(())
    }

    /// Past what [`put_details`] wrote. Lengths are checked, text is not: this is for bytes
    /// packed by this process, to be copied elsewhere whole (what reads them back checks them).
    #[inline]
    pub fn skip_details(&mut self) -> Result<(), Damaged> {
        for _ in 0..4 {
            self.skip_text()?;
        }
        if self.byte()? != 0 {
            self.at += 4;
        }
        for _ in 0..self.length()? {
            self.skip_text()?;
            self.skip_text()?;
        }
        if self.at > self.bytes.len() {
            return Err(Damaged(self.bytes.len()));
        }
        Ok(())
    }

    /// What [`put_details`] wrote.
    pub fn details(&mut self) -> Result<Details<'a>, Damaged> {
        let required = |r: &mut Self| {
            let at = r.at;
            r.text_lent()?.ok_or(Damaged(at))
        };
        let source_id = required(self)?;
        let email = self.text_lent()?;
        let account_id = self.text_lent()?;
        let company_domain = self.text_lent()?;
        let ip = match self.byte()? {
            0 => None,
            _ => Some(Ipv4Addr::from(self.array::<4>()?)),
        };
        let mut attributes = BTreeMap::new();
        for _ in 0..self.length()? {
            let k = required(self)?;
            let v = required(self)?;
            attributes.insert(k.to_string(), v.to_string());
        }
        Ok(Details {
            source_id,
            email,
            account_id,
            company_domain,
            ip,
            attributes,
        })
    }

    /// What [`put_activity`] wrote when it happened at `from` or later; otherwise `None`, read
    /// past without building it.
    pub fn activity_from(&mut self, from: DateTime<Utc>) -> Result<Option<Activity>, Damaged> {
        let at = self.time()?;
        if at >= from {
            return self.rest_of(at).map(Some);
        }
        self.names()?;
        self.skip_details()?;
        Ok(None)
    }

    /// The source and kind [`put_head`] wrote.
    fn names(&mut self) -> Result<(&'a str, &'a str), Damaged> {
        let (start, before) = (self.at, self.names);
        let mut name = |before: Option<&'a str>| match self.text_lent()? {
            Some(text) => Ok(text),
            None => before.ok_or(Damaged(start)),
        };
        let source = name(before.map(|n| n.0))?;
        let kind = name(before.map(|n| n.1))?;
        self.names = Some((source, kind));
        Ok((source, kind))
    }

    /// What [`put_time`] wrote.
    #[inline]
    pub fn time(&mut self) -> Result<DateTime<Utc>, Damaged> {
        let start = self.at;
        let (secs, nanos) = self.instant()?;
        DateTime::from_timestamp(secs, nanos).ok_or(Damaged(start))
    }

    /// What [`put_time`] wrote, as seconds since 1970 and nanoseconds: ordered as the times
    /// are, without making a `DateTime` (a calendar calculation) of them.
    #[inline]
    pub fn instant(&mut self) -> Result<(i64, u32), Damaged> {
        let start = self.at;
        let zigzag = self.length()? as u64;
        let secs = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        let nanos = u32::try_from(self.length()?).map_err(|_| Damaged(start))?;
        Ok((secs, nanos))
    }

    fn rest_of(&mut self, at: DateTime<Utc>) -> Result<Activity, Damaged> {
        let (source, kind) = self.names()?;
        Ok(self.details()?.into_activity(source, kind, at))
    }
}

impl Details<'_> {
    /// The activity these details belong to, owned.
    pub fn into_activity(self, source: &str, kind: &str, at: DateTime<Utc>) -> Activity {
        Activity {
            source: source.to_string(),
            source_id: self.source_id.to_string(),
            at,
            kind: kind.to_string(),
            email: self.email.map(String::from),
            account_id: self.account_id.map(String::from),
            ip: self.ip,
            company_domain: self.company_domain.map(String::from),
            attributes: self.attributes,
        }
    }
}

/// Every activity in `bytes`, written one after another by [`put_activity`].
pub fn activities(bytes: &[u8]) -> Result<Vec<Activity>, Damaged> {
    activities_from(bytes, DateTime::<Utc>::MIN_UTC)
}

/// Each activity in `bytes` (as [`activities`] reads them), lent to `f`: its text borrowed from
/// the bytes, not copied (a replay of every account copies ten million into its own arena).
pub fn each_lent(bytes: &[u8], f: &mut dyn FnMut(ActivityView<'_>)) -> Result<(), Damaged> {
    let mut r = Reader::new(bytes, 0);
    while !r.at_end() {
        let at = r.time()?;
        let (source, kind) = r.names()?;
        let d = r.details()?;
        f(ActivityView {
            source,
            source_id: d.source_id,
            at,
            kind,
            email: d.email,
            account_id: d.account_id,
            ip: d.ip,
            company_domain: d.company_domain,
            attributes: &d.attributes,
        });
    }
    Ok(())
}

/// The activities in `bytes` (as [`activities`] reads them) that happened at `from` or later;
/// the others are read past, not built.
pub fn activities_from(bytes: &[u8], from: DateTime<Utc>) -> Result<Vec<Activity>, Damaged> {
    let mut r = Reader::new(bytes, 0);
    let mut out = Vec::new();
    while !r.at_end() {
        out.extend(r.activity_from(from)?);
    }
    Ok(out)
}

/// A journey's window scores, each as its window (days), points (the exact `f64`), engaged
/// people and whether the account was engaged: about a sixth of the same scores as JSON.
pub fn put_scores(b: &mut Vec<u8>, scores: &[WindowScore]) {
    put_len(b, scores.len());
    for s in scores {
        // Any `i64` reads back: a negative one is a long length, not a damaged one.
        put_len(b, s.window_days as u64 as usize);
        b.extend_from_slice(&s.points.to_le_bytes());
        put_len(b, s.engaged_people);
        b.push(u8::from(s.engaged));
    }
}

/// The window scores [`put_scores`] wrote, which must be all of `bytes`.
pub fn scores(bytes: &[u8]) -> Result<Vec<WindowScore>, Damaged> {
    let mut r = Reader::new(bytes, 0);
    let n = r.length()?;
    // Each score takes at least 11 bytes: a count beyond that is damage, not a reason to
    // reserve memory.
    if n > bytes.len() / 11 {
        return Err(Damaged(0));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let window_days = r.length()? as u64 as i64;
        let points = f64::from_le_bytes(r.array()?);
        let engaged_people = r.length()?;
        let engaged = match r.byte()? {
            0 => false,
            1 => true,
            _ => return Err(Damaged(r.at - 1)),
        };
        out.push(WindowScore {
            window_days,
            points,
            engaged_people,
            engaged,
        });
    }
    match r.at_end() {
        true => Ok(out),
        false => Err(Damaged(r.at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Window scores read back exactly (every bit of the points), in order, from about a
        /// sixth of their JSON; any cut or extra byte is refused, never a panic.
        #[test]
        fn window_scores_read_back_as_written(
            all in proptest::collection::vec((any::<i64>(), any::<f64>(), any::<usize>(), any::<bool>()), 0..5),
            cut in any::<prop::sample::Index>(),
        ) {
            let all: Vec<WindowScore> = all
                .into_iter()
                .map(|(window_days, points, engaged_people, engaged)| WindowScore { window_days, points, engaged_people, engaged })
                .collect();
            let mut bytes = Vec::new();
            put_scores(&mut bytes, &all);
            let back = scores(&bytes).unwrap();
            prop_assert_eq!(back.len(), all.len());
            for (b, a) in back.iter().zip(&all) {
                prop_assert_eq!(b.points.to_bits(), a.points.to_bits());
                prop_assert_eq!((b.window_days, b.engaged_people, b.engaged), (a.window_days, a.engaged_people, a.engaged));
            }
            let cut = cut.index(bytes.len());
            if cut < bytes.len() {
                prop_assert!(scores(&bytes[..cut]).is_err());
            }
            bytes.push(0);
            prop_assert!(scores(&bytes).is_err());
        }
    }

    #[test]
    fn three_window_scores_pack_to_a_sixth_of_their_json() {
        let three: Vec<WindowScore> = [
            (7, 111.0, 70),
            (30, 271.19999999999993, 70),
            (90, 464.5000000000001, 70),
        ]
        .into_iter()
        .map(|(window_days, points, engaged_people)| WindowScore {
            window_days,
            points,
            engaged_people,
            engaged: true,
        })
        .collect();
        let mut bytes = Vec::new();
        put_scores(&mut bytes, &three);
        let json = serde_json::to_string(&three).unwrap();
        assert!(
            bytes.len() * 5 < json.len(),
            "{} bytes against {} of JSON",
            bytes.len(),
            json.len()
        );
    }

    proptest! {
        /// Whatever activities hold (any time, empty or long text, any characters, attributes),
        /// they read back unchanged and in order; and any cut of the bytes is refused or reads
        /// back a prefix, never panics.
        #[test]
        fn activities_read_back_as_written(
            all in proptest::collection::vec(
                (
                    -50_000_000_000i64..50_000_000_000,
                    0u32..1_000_000_000,
                    "\\PC{0,30}",
                    proptest::option::of("\\PC{0,40}"),
                    proptest::option::of(any::<[u8; 4]>()),
                    proptest::collection::btree_map("\\PC{0,10}", "\\PC{0,200}", 0..4),
                ),
                0..6,
            ),
            cut in any::<prop::sample::Index>(),
        ) {
            let all: Vec<Activity> = all
                .into_iter()
                .enumerate()
                .map(|(i, (secs, nanos, kind, email, ip, attributes))| Activity {
                    source: "web-analytics".into(),
                    source_id: format!("s{i}"),
                    at: DateTime::from_timestamp(secs, nanos).unwrap(),
                    kind,
                    email,
                    account_id: None,
                    ip: ip.map(Ipv4Addr::from),
                    company_domain: Some("acme.example".into()),
                    attributes,
                })
                .collect();
            // Sources and kinds repeated from the activity before are written once.
            let mut bytes = Vec::new();
            for (i, a) in all.iter().enumerate() {
                put_after(&mut bytes, &a.view(), i.checked_sub(1).map(|j| all[j].view()).as_ref());
            }
            if all.len() > 1 {
                let mut apart = Vec::new();
                all.iter().for_each(|a| put_activity(&mut apart, &a.view()));
                prop_assert!(bytes.len() < apart.len(), "the repeated source is written once");
            }
            prop_assert_eq!(&activities(&bytes).unwrap(), &all);
            let mut lent = Vec::new();
            each_lent(&bytes, &mut |a| lent.push(a.to_activity())).unwrap();
            prop_assert_eq!(&lent, &all);
            if let Some(middle) = all.get(all.len() / 2) {
                let from: Vec<Activity> = all.iter().filter(|a| a.at >= middle.at).cloned().collect();
                prop_assert_eq!(activities_from(&bytes, middle.at).unwrap(), from);
            }
            if !bytes.is_empty() {
                let cut = cut.index(bytes.len());
                if let Ok(some) = activities(&bytes[..cut]) {
                    prop_assert_eq!(&some[..], &all[..some.len()]);
                }
            }
        }
    }

    #[test]
    fn damaged_bytes_are_refused() {
        // A name given as the same as the one before, with none before.
        let mut again = Vec::new();
        put_head(&mut again, DateTime::UNIX_EPOCH, Name::Again, Name::New("Email Open"));
        assert_eq!(activities(&again), Err(Damaged(2)));
        // A text length running past the end, and text that is not UTF-8.
        assert_eq!(activities(&[0, 0, 9, b'a']), Err(Damaged(3)));
        assert!(activities(&[0, 0, 3, 0xff, 0xfe, 2, b'k']).is_err());
        // A length of more bytes than a number holds.
        assert!(activities(&[0xff; 12]).is_err());
    }
}
