//! Activities packed into one byte arena. Replaying every account (a rebuild, a rules change)
//! gathers each account's activities before replaying any, and a million accounts' year of
//! activities as `Activity` values would not fit in memory (about 300 bytes each, ten million of
//! them). Packed, an activity is its time, two interned names and its text fields one after the
//! other (about 60 bytes), found by an 8-byte place; it is unpacked, whole and unchanged, when its
//! account is replayed.

use abm_core::activity::{Activity, ActivityView};
use abm_core::packing::{put_details, put_len, put_names, put_text, put_time, Name, Reader};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Where an activity is in the arena (block, offset): all there is of it outside. Ten million
/// of them are held twice for a moment (as read, then filed by account), so every byte counts:
/// its time is in the arena too.
#[derive(Debug, Clone, Copy)]
pub struct PackedActivity(u64);

impl PackedActivity {
    /// Its block in the arena, and where in the block it starts.
    fn place(&self) -> (usize, usize) {
        ((self.0 >> 32) as usize, (self.0 & 0xffff_ffff) as usize)
    }
}

/// An activity opened in the arena: read past its time and names to its details.
struct Opened<'s> {
    /// At the details.
    details: Reader<'s>,
    at: DateTime<Utc>,
    source: &'s str,
    kind: &'s str,
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
    /// Where an activity's details are put before they are copied in after their length.
    details: Vec<u8>,
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
            + 100;
        if self.blocks.last().is_none_or(|b| b.capacity() - b.len() < most) {
            self.blocks.push(Vec::with_capacity(BLOCK.max(most)));
        }
        let block = self.blocks.len() - 1;
        let b = self.blocks.last_mut().expect("a block");
        let offset = ((block as u64) << 32) | b.len() as u64;
        put_time(b, a.at);
        b.extend_from_slice(&source.to_le_bytes());
        b.extend_from_slice(&kind.to_le_bytes());
        if source == IN_ARENA {
            put_text(b, Some(a.source));
        }
        if kind == IN_ARENA {
            put_text(b, Some(a.kind));
        }
        // The details' length first: copying them whole (`repack`) then skips reading them.
        self.details.clear();
        put_details(&mut self.details, &a);
        put_len(b, self.details.len());
        b.extend_from_slice(&self.details);
        PackedActivity(offset)
    }

    /// Ask for the memory of each of `ps` ahead of unpacking them, without waiting for it. One
    /// account's activities lie all over the arena (packed in the order they were read), and
    /// unpacking them one by one waits for memory each time; asked for together, and an
    /// account or two ahead, they come in together. An activity packed is about 60 bytes: the
    /// cache line it starts in and the next.
    pub fn fetch<'p>(&self, ps: impl IntoIterator<Item = &'p PackedActivity>) {
        for p in ps {
            let (block, at) = p.place();
            let block = &self.blocks[block];
            abm_core::text_table::prefetch(&block[at]);
            if let Some(next) = block.get(at + 64) {
                abm_core::text_table::prefetch(next);
            }
        }
    }

    /// A reader at `p`'s bytes.
    fn reader(&self, p: &PackedActivity) -> Reader<'_> {
        let (block, at) = p.place();
        Reader::new(&self.blocks[block], at)
    }

    /// When `p` happened: seconds since 1970 and nanoseconds, ordered as the times are.
    pub fn instant(&self, p: &PackedActivity) -> (i64, u32) {
        self.reader(p).instant().expect("packed here")
    }

    /// The ids of the source and kind of the activity `r` is at, read past its time.
    fn ids(r: &mut Reader<'_>) -> [u16; 2] {
        [r.array::<2>(), r.array::<2>()].map(|id| u16::from_le_bytes(id.expect("packed here")))
    }

    /// The ids of `p`'s source and kind.
    fn ids_of(&self, p: &PackedActivity) -> [u16; 2] {
        let mut r = self.reader(p);
        r.instant().expect("packed here");
        Self::ids(&mut r)
    }

    /// The source and kind of the activity `r` is at, read past its time: each with its id
    /// (the text read from the bytes when not interned).
    fn names_at<'s>(&'s self, r: &mut Reader<'s>) -> [(&'s str, u16); 2] {
        let ids = Self::ids(r);
        let mut name = |names: &'s Names, id: u16| -> (&'s str, u16) {
            let text = match id {
                // Packed here from `&str`s: the bytes are whole and UTF-8.
                IN_ARENA => r.text_lent().expect("packed here").unwrap_or_default(),
                id => names.names[id as usize].as_str(),
            };
            (text, id)
        };
        [name(&self.sources, ids[0]), name(&self.kinds, ids[1])]
    }

    /// `p`, read to its details.
    fn open<'s>(&'s self, p: &PackedActivity) -> Opened<'s> {
        let mut r = self.reader(p);
        // Packed here from a valid time.
        let at = r.time().expect("packed here");
        let [(source, _), (kind, _)] = self.names_at(&mut r);
        // The details' length, not needed to read them.
        r.length().expect("packed here");
        Opened {
            details: r,
            at,
            source,
            kind,
        }
    }

    /// Add the activity `p` was packed from to `out`, packed by [`abm_core::packing::put_after`]
    /// `before` (the activity added last, if any), without unpacking it: its time's bytes are
    /// copied as they are (unpacked and packed again, the times of ten million activities were
    /// a tenth of a first load's copy of every activity).
    pub fn repack(&self, p: &PackedActivity, before: Option<&PackedActivity>, out: &mut Vec<u8>) {
        let block = &self.blocks[p.place().0];
        let mut r = self.reader(p);
        let time_from = r.position();
        r.instant().expect("packed here");
        out.extend_from_slice(&block[time_from..r.position()]);
        let [source, kind] = self.names_at(&mut r);
        let before = before.map(|b| self.ids_of(b));
        // Interned names are the same when their ids are.
        fn name(text: &str, id: u16, before: Option<u16>) -> Name<'_> {
            match id != IN_ARENA && before == Some(id) {
                true => Name::Again,
                false => Name::New(text),
            }
        }
        let source = name(source.0, source.1, before.map(|b| b[0]));
        let kind = name(kind.0, kind.1, before.map(|b| b[1]));
        put_names(out, source, kind);
        let details_len = r.length().expect("packed here");
        let start = r.position();
        out.extend_from_slice(&block[start..start + details_len]);
    }

    /// The activity `p` was packed from.
    pub fn unpack(&self, p: &PackedActivity) -> Activity {
        let mut o = self.open(p);
        let details = o.details.details().expect("packed here");
        details.into_activity(o.source, o.kind, o.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

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
            let mut repacked = Vec::new();
            for (i, (a, p)) in all.iter().zip(&packed).enumerate() {
                prop_assert_eq!(&arena.unpack(p), a);
                arena.repack(p, i.checked_sub(1).map(|j| &packed[j]), &mut repacked);
            }
            prop_assert_eq!(abm_core::packing::activities(&repacked).unwrap(), all);
        }
    }

    #[test]
    fn names_past_the_interned_limit_live_in_the_arena() {
        let mut arena = ActivityArena::default();
        let all: Vec<Activity> = (0..70_000)
            .map(|i| activity(format!("kind {i}"), None, None, BTreeMap::new()))
            .collect();
        let packed: Vec<PackedActivity> = all.iter().map(|a| arena.pack(a.view())).collect();
        assert_eq!(arena.ids_of(&packed[69_999])[1], IN_ARENA);
        for i in [0, 65_534, 65_535, 69_999] {
            assert_eq!(arena.unpack(&packed[i]), all[i]);
            let mut repacked = Vec::new();
            arena.repack(&packed[i], None, &mut repacked);
            assert_eq!(abm_core::packing::activities(&repacked).unwrap(), [all[i].clone()]);
        }
    }
}
