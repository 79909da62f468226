//! A fixed map from text to numbers, laid out for millions of lookups in no order. Matching ten
//! million activities looks each email domain up among a million account domains; in a hash map
//! of `String`s that is three cache misses a lookup (the control bytes, the entry, the key's own
//! allocation), half the time the reader spent per row. Here every entry is 16 bytes in one
//! array (its hash, its number, where its text starts and how long it is) and every text sits in
//! one run of bytes: a lookup touches the entry's line and then the text it must equal, and the
//! whole table is half the size. Exact: a hash that agrees is only a reason to compare the text.

use std::hash::Hasher;

/// Text → number, built once and then only read.
#[derive(Debug, Clone, Default)]
pub struct TextTable {
    slots: Vec<Slot>,
    text: Vec<u8>,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The key's hash (its low half); any value, empty slots included.
    tag: u32,
    value: u32,
    /// Where the key starts in `text`.
    at: u32,
    /// The key's length, or [`EMPTY`].
    len: u32,
}

const EMPTY: u32 = u32::MAX;
const FREE: Slot = Slot {
    tag: 0,
    value: 0,
    at: 0,
    len: EMPTY,
};

/// The hash of `key`: FxHash over its bytes, finished so that every bit depends on every byte
/// (the high half picks the slot, the low half is the tag).
fn hash(key: &[u8]) -> u64 {
    let mut h = crate::paid::Fx::default();
    h.write(key);
    h.write_usize(key.len());
    let mut x = h.finish();
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

impl TextTable {
    /// A table of `entries`; a key given twice keeps its last number, as inserting into a map
    /// would. Keys longer than 4 GiB in all do not fit and panic.
    pub fn new<K: AsRef<str>>(entries: impl IntoIterator<Item = (K, u32)>) -> TextTable {
        let entries: Vec<(K, u32)> = entries.into_iter().collect();
        // At most two thirds full: a lookup that misses stops at an empty slot soon.
        let capacity = (entries.len() + entries.len() / 2).max(4);
        let mut t = TextTable {
            slots: vec![FREE; capacity],
            text: Vec::with_capacity(entries.iter().map(|(k, _)| k.as_ref().len()).sum()),
            len: 0,
        };
        for (key, value) in &entries {
            t.insert(key.as_ref().as_bytes(), *value);
        }
        t
    }

    fn first_slot(&self, h: u64) -> usize {
        (((h >> 32) * self.slots.len() as u64) >> 32) as usize
    }

    /// Where `key` (hashed `h`) is: `Ok` with its slot when the table holds it, else `Err` with
    /// the empty slot its probe ended at.
    #[inline]
    fn probe(&self, key: &[u8], h: u64) -> Result<usize, usize> {
        let mut i = self.first_slot(h);
        loop {
            let s = self.slots[i];
            if s.len == EMPTY {
                return Err(i);
            }
            if s.tag == h as u32 && s.len as usize == key.len() {
                let at = s.at as usize;
                if &self.text[at..at + key.len()] == key {
                    return Ok(i);
                }
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    fn insert(&mut self, key: &[u8], value: u32) {
        let h = hash(key);
        match self.probe(key, h) {
            Ok(i) => self.slots[i].value = value,
            Err(i) => {
                let at = u32::try_from(self.text.len()).expect("under 4 GiB of keys");
                self.text.extend_from_slice(key);
                self.slots[i] = Slot {
                    tag: h as u32,
                    value,
                    at,
                    len: key.len() as u32,
                };
                self.len += 1;
            }
        }
    }

    /// The number of `key`, if the table holds it.
    #[inline]
    pub fn get(&self, key: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        self.get_hashed(key.as_bytes(), hash(key.as_bytes()))
    }

    #[inline]
    fn get_hashed(&self, key: &[u8], h: u64) -> Option<u32> {
        self.probe(key, h).ok().map(|i| self.slots[i].value)
    }

    /// The numbers of many keys (`None` skips a place), as [`TextTable::get`] gives them one by
    /// one. Looked up in a row, each key's entry is fetched from memory a few keys ahead and its
    /// text a few keys after that, so the waits for memory overlap instead of following one
    /// another: a million domains are far more than the processor's caches hold.
    pub fn get_many(&self, keys: &[Option<&str>]) -> Vec<Option<u32>> {
        const AHEAD: usize = 8;
        if self.slots.is_empty() {
            return vec![None; keys.len()];
        }
        let hashes: Vec<u64> = keys.iter().map(|k| k.map_or(0, |k| hash(k.as_bytes()))).collect();
        let mut out = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            if let Some(&h) = hashes.get(i + AHEAD).filter(|_| keys[i + AHEAD].is_some()) {
                prefetch(&self.slots[self.first_slot(h)]);
            }
            if let Some(&h) = hashes.get(i + AHEAD / 2).filter(|_| keys[i + AHEAD / 2].is_some()) {
                let s = self.slots[self.first_slot(h)];
                // An empty key may start at the end of the text.
                if let Some(first) = self.text.get(s.at as usize).filter(|_| s.len != EMPTY) {
                    prefetch(first);
                }
            }
            out.push(key.and_then(|k| self.get_hashed(k.as_bytes(), hashes[i])));
        }
        out
    }

    /// How many keys the table holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Ask for the cache line holding `v` ahead of reading it; a hint, nothing more (it waits for
/// nothing). Lookups spread at random over big tables (this one, an arena of packed activities)
/// ask a few ahead, so that their memory comes in together.
#[inline]
pub fn prefetch<T>(v: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and cannot fault; `v` is a live reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(v as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// The table answers every lookup as a map built from the same entries would: keys
        /// held (the last number of a key given twice), keys not held (including prefixes and
        /// extensions of held ones, and the empty text).
        #[test]
        fn answers_as_a_map_would(
            entries in proptest::collection::vec(("[a-c.]{0,6}", any::<u32>()), 0..60),
            probes in proptest::collection::vec("[a-c.]{0,7}", 0..60),
        ) {
            let map: HashMap<&str, u32> = entries.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let table = TextTable::new(entries.iter().map(|(k, v)| (k.as_str(), *v)));
            prop_assert_eq!(table.len(), map.len());
            let all: Vec<Option<&str>> = entries.iter().map(|(k, _)| k).chain(&probes).map(|k| Some(k.as_str())).collect();
            for key in all.iter().flatten() {
                prop_assert_eq!(table.get(key), map.get(key).copied(), "{:?}", key);
            }
            // Many at once, with gaps, give the same.
            let gapped: Vec<Option<&str>> = all.iter().enumerate().map(|(i, k)| k.filter(|_| i % 3 != 1)).collect();
            let many: Vec<Option<u32>> = gapped.iter().map(|k| k.and_then(|k| map.get(k).copied())).collect();
            prop_assert_eq!(table.get_many(&gapped), many);
        }
    }

    #[test]
    fn a_million_domains_are_each_found_and_others_are_not() {
        let n = 1_000_000u32;
        let table = TextTable::new((0..n).map(|i| (format!("company{i}.example"), i)));
        assert_eq!(table.len(), n as usize);
        for i in (0..n).step_by(997) {
            assert_eq!(table.get(&format!("company{i}.example")), Some(i));
            assert_eq!(table.get(&format!("company{i}.example.com")), None);
        }
        assert_eq!(table.get(""), None);
        assert!(TextTable::default().is_empty());
        assert_eq!(TextTable::new(Vec::<(String, u32)>::new()).get("acme.com"), None);
    }
}
