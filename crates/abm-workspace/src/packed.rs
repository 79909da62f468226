//! Activities packed into one byte arena. Replaying every account (a rebuild, a rules change)
//! gathers each account's activities before replaying any, and a million accounts' year of
//! activities as `Activity` values would not fit in memory (about 300 bytes each, ten million of
//! them). Packed, an activity is its time, two interned names and its text fields one after the
//! other (about 60 bytes); it is unpacked, whole and unchanged, when its account is replayed.

use abm_core::activity::{Activity, ActivityView};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

/// Where an activity's fields are in the arena (block, offset), with what is kept outside it.
#[derive(Debug, Clone, Copy)]
pub struct PackedActivity {
    offset: u64,
    at: DateTime<Utc>,
    source: u16,
    kind: u16,
}

impl PackedActivity {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// An interned name's id when there are too many names to intern: the text is in the arena.
const IN_ARENA: u16 = u16::MAX;

/// Names (sources, kinds) kept once.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u16, abm_core::paid::FxBuild>,
    names: Vec<String>,
    /// The last name asked for: activities come in runs of one source.
    last: Option<u16>,
}

impl Names {
    fn id(&mut self, name: &str) -> u16 {
        if let Some(id) = self.last.filter(|&id| self.names[id as usize] == name) {
            return id;
        }
        if let Some(&id) = self.ids.get(name) {
            self.last = Some(id);
            return id;
        }
        if self.names.len() >= IN_ARENA as usize {
            return IN_ARENA;
        }
        let id = self.names.len() as u16;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// The arena's blocks: fixed-size, so growing never copies what is packed (nor needs twice
/// the memory for a moment, as a doubling `Vec` would).
const BLOCK: usize = 64 << 20;

/// The arena and its interned names.
#[derive(Default)]
pub struct ActivityArena {
    blocks: Vec<Vec<u8>>,
    sources: Names,
    kinds: Names,
}

impl ActivityArena {
    /// Keep `a`; what comes back unpacks to it.
    pub fn pack(&mut self, a: ActivityView<'_>) -> PackedActivity {
        let source = self.sources.id(a.source);
        let kind = self.kinds.id(a.kind);
        // An activity never spans blocks; one larger than a block gets a block of its own size.
        let most = a.source.len()
            + a.kind.len()
            + a.source_id.len()
            + a.email.map_or(0, str::len)
            + a.account_id.map_or(0, str::len)
            + a.company_domain.map_or(0, str::len)
            + a.attributes.iter().map(|(k, v)| k.len() + v.len() + 20).sum::<usize>()
            + 80;
        if self.blocks.last().is_none_or(|b| b.capacity() - b.len() < most) {
            self.blocks.push(Vec::with_capacity(BLOCK.max(most)));
        }
        let block = self.blocks.len() - 1;
        let b = self.blocks.last_mut().expect("a block");
        let offset = ((block as u64) << 32) | b.len() as u64;
        if source == IN_ARENA {
            put_text(b, Some(a.source));
        }
        if kind == IN_ARENA {
            put_text(b, Some(a.kind));
        }
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
        PackedActivity {
            offset,
            at: a.at,
            source,
            kind,
        }
    }

    /// The activity `p` was packed from.
    pub fn unpack(&self, p: &PackedActivity) -> Activity {
        let mut r = Reader {
            bytes: &self.blocks[(p.offset >> 32) as usize],
            at: (p.offset & 0xffff_ffff) as usize,
        };
        let name = |names: &Names, id: u16, r: &mut Reader| match id {
            IN_ARENA => r.text().unwrap_or_default(),
            id => names.names[id as usize].clone(),
        };
        let source = name(&self.sources, p.source, &mut r);
        let kind = name(&self.kinds, p.kind, &mut r);
        let source_id = r.text().unwrap_or_default();
        let email = r.text();
        let account_id = r.text();
        let company_domain = r.text();
        let ip = match r.byte() {
            0 => None,
            _ => Some(Ipv4Addr::new(r.byte(), r.byte(), r.byte(), r.byte())),
        };
        let mut attributes = BTreeMap::new();
        for _ in 0..r.len() {
            let k = r.text().unwrap_or_default();
            let v = r.text().unwrap_or_default();
            attributes.insert(k, v);
        }
        Activity {
            source,
            source_id,
            at: p.at,
            kind,
            email,
            account_id,
            ip,
            company_domain,
            attributes,
        }
    }
}

/// A length as LEB128 (one byte below 128).
fn put_len(b: &mut Vec<u8>, mut n: usize) {
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
fn put_text(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => put_len(b, 0),
        Some(s) => {
            put_len(b, s.len() + 1);
            b.extend_from_slice(s.as_bytes());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at += 1;
        b
    }

    fn len(&mut self) -> usize {
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let b = self.byte();
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                return n;
            }
            shift += 7;
        }
    }

    fn text(&mut self) -> Option<String> {
        match self.len() {
            0 => None,
            n => {
                let s = &self.bytes[self.at..self.at + n - 1];
                self.at += n - 1;
                // Packed from a `&str`: always UTF-8 (checked, quickly, all the same).
                Some(std::str::from_utf8(s).expect("packed from a str").to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn activity(
        kind: String,
        email: Option<String>,
        ip: Option<[u8; 4]>,
        attributes: BTreeMap<String, String>,
    ) -> Activity {
        Activity {
            source: "marketing-automation".into(),
            source_id: format!("id-{kind}"),
            at: "2026-07-02T14:00:00Z".parse().unwrap(),
            kind,
            email,
            account_id: None,
            ip: ip.map(Ipv4Addr::from),
            company_domain: Some("acme.example".into()),
            attributes,
        }
    }

    proptest! {
        /// Whatever an activity holds (empty text, long text, any characters, attributes),
        /// unpacking gives it back unchanged, next to others packed before and after it.
        #[test]
        fn unpacks_what_was_packed(
            kinds in proptest::collection::vec(".{0,200}", 1..8),
            email in proptest::option::of("\\PC{0,40}"),
            ip in proptest::option::of(any::<[u8; 4]>()),
            attributes in proptest::collection::btree_map("\\PC{0,10}", "\\PC{0,300}", 0..4),
        ) {
            let mut arena = ActivityArena::default();
            let all: Vec<Activity> = kinds
                .into_iter()
                .map(|k| activity(k, email.clone(), ip, attributes.clone()))
                .collect();
            let packed: Vec<PackedActivity> = all.iter().map(|a| arena.pack(a.view())).collect();
            for (a, p) in all.iter().zip(&packed) {
                prop_assert_eq!(&arena.unpack(p), a);
            }
        }
    }

    #[test]
    fn names_past_the_interned_limit_live_in_the_arena() {
        let mut arena = ActivityArena::default();
        let all: Vec<Activity> = (0..70_000)
            .map(|i| activity(format!("kind {i}"), None, None, BTreeMap::new()))
            .collect();
        let packed: Vec<PackedActivity> = all.iter().map(|a| arena.pack(a.view())).collect();
        assert_eq!(packed[69_999].kind, IN_ARENA);
        for i in [0, 65_534, 65_535, 69_999] {
            assert_eq!(arena.unpack(&packed[i]), all[i]);
        }
    }
}
