//! The stateful_batch core operator (docs/abi.md section 11): one logic per
//! key, grouped batches, notifications, EOF, snapshots and resume.

use crate::codec::Codec;
use crate::flow::*;
use crate::hash::FxHashMap;
use crate::site;
use crate::wire::{put_bytes, put_uvarint, put_varint, Batch, BatchWriter};
use std::time::{SystemTime, UNIX_EPOCH};

/// The state of one key of a `stateful_batch` step, with Bytewax 0.21's
/// semantics. Every method returns the values to emit downstream (keyed
/// with the logic's key) and whether to discard the logic; a discarded
/// key is built again by the builder if values arrive for it later.
pub trait StatefulBatchLogic<V, W, S> {
    /// Receives the key's values of one batch, in arrival order.
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<W>, bool);
    /// Called once the time `notify_at` returned has come.
    fn on_notify(&mut self) -> (Vec<W>, bool) {
        (Vec::new(), false)
    }
    /// Called once when the inputs of the step end.
    fn on_eof(&mut self) -> (Vec<W>, bool) {
        (Vec::new(), false)
    }
    /// When to call `on_notify` next, if at all; read after every other
    /// call for logics not discarded.
    fn notify_at(&self) -> Option<SystemTime> {
        None
    }
    /// The state to resume from.
    fn snapshot(&self) -> S;
}

/// Converts a notification time for the wire, where 0 means none: times
/// before 1970 become 1 ("as soon as possible"), times past 2262 saturate.
pub(crate) fn unix_nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Err(_) => 1,
        Ok(d) => {
            let n = d.as_nanos();
            if n > i64::MAX as u128 {
                i64::MAX
            } else {
                (n as i64).max(1)
            }
        }
    }
}

/// What a stateful op answers: KeyedUpdates (emits, then key entries).
#[derive(Default)]
pub(crate) struct KeyedOut {
    pub emits: BatchWriter,
    pub nkeys: usize,
    pub keys: Vec<u8>,
}

impl KeyedOut {
    pub(crate) fn reset(&mut self) {
        self.emits.reset();
        self.nkeys = 0;
        self.keys.clear();
    }

    fn key(&mut self, key: &[u8], discard: bool, at: i64) {
        put_bytes(&mut self.keys, key);
        self.keys.push(discard as u8);
        put_varint(&mut self.keys, at);
        self.nkeys += 1;
    }

    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        self.emits.write_to(out);
        put_uvarint(out, self.nkeys as u64);
        out.extend_from_slice(&self.keys);
    }
}

/// A stateful_batch step as the dispatcher drives it.
pub(crate) trait StatefulRuntime {
    fn on_batch(&mut self, b: &Batch, out: &mut KeyedOut) -> Result<(), String>;
    fn on_notify(&mut self, keys: &[&[u8]], out: &mut KeyedOut) -> Result<(), String>;
    fn on_eof(&mut self, out: &mut KeyedOut) -> Result<(), String>;
    /// Appends one (key, present, state) item per key.
    fn snapshot(&mut self, keys: &[&[u8]], out: &mut Vec<u8>) -> Result<(), String>;
    fn restore(&mut self, items: &[(&[u8], Option<&[u8]>)]) -> Result<(), String>;
}

/// A builder of key logics: `None` for a new key, `Some(state)` to resume.
pub type Builder<V, W, S> = Box<dyn FnMut(Option<S>) -> Box<dyn StatefulBatchLogic<V, W, S>>>;

/// A key's bytes, kept in the slot itself when short (most keys are
/// words or ids): looking a key up and naming it then reads the slot's
/// memory only, one cache miss fewer per key of a batch when a step has
/// tens of thousands of keys.
enum SmallKey {
    Inline(u8, [u8; SMALL_KEY]),
    Heap(Box<[u8]>),
}

/// The longest key SmallKey keeps inline (the enum is then 24 bytes).
const SMALL_KEY: usize = 22;

impl SmallKey {
    fn new(key: &[u8]) -> SmallKey {
        if key.len() <= SMALL_KEY {
            let mut b = [0u8; SMALL_KEY];
            b[..key.len()].copy_from_slice(key);
            SmallKey::Inline(key.len() as u8, b)
        } else {
            SmallKey::Heap(key.into())
        }
    }
}

impl std::ops::Deref for SmallKey {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            SmallKey::Inline(n, b) => &b[..*n as usize],
            SmallKey::Heap(b) => b,
        }
    }
}

struct KeyLogic<V, W, S> {
    key: SmallKey,
    logic: Box<dyn StatefulBatchLogic<V, W, S>>,
    seq: u64,
    notify: i64,
    batch: u64,
    group: usize,
}

/// The slots of a stateful step's live keys by key: an open-addressing
/// table of (hash, slot + 1) whose keys are those of the slots themselves.
/// A std HashMap<Vec<u8>, usize> held a second copy of every key, and each
/// batch touched both copies of each of its keys (a cache miss apiece with
/// 50,000 keys), which was the bulk of the word count's stateful time.
#[derive(Default)]
struct KeyTable {
    /// (low 32 bits of the hash, slot + 1), (_, 0) when empty.
    cells: Vec<(u32, u32)>,
    len: usize,
}

fn key_hash(key: &[u8]) -> u32 {
    use std::hash::Hasher;
    let mut h = crate::hash::FxHasher::default();
    h.write(key);
    h.finish() as u32
}

impl KeyTable {
    /// Ok(cell) holding key, or Err(empty cell) where it would go.
    #[inline]
    fn find<V, W, S>(&self, key: &[u8], h: u32, slots: &[Option<KeyLogic<V, W, S>>]) -> Result<usize, usize> {
        let mask = self.cells.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (ch, p) = self.cells[i];
            if p == 0 {
                return Err(i);
            }
            if ch == h && slots[p as usize - 1].as_ref().map_or(false, |kl| *kl.key == *key) {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of key, if it is live.
    #[inline]
    fn get<V, W, S>(&self, key: &[u8], slots: &[Option<KeyLogic<V, W, S>>]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        self.find(key, key_hash(key), slots).ok().map(|c| self.cells[c].1 as usize - 1)
    }

    /// Records that key (not in the table) lives in slot.
    fn insert<V, W, S>(&mut self, key: &[u8], slot: usize, slots: &[Option<KeyLogic<V, W, S>>]) {
        if 2 * (self.len + 1) > self.cells.len() {
            self.grow();
        }
        let h = key_hash(key);
        if let Err(c) = self.find(key, h, slots) {
            self.cells[c] = (h, slot as u32 + 1);
            self.len += 1;
        }
    }

    /// Doubles the table (at least 16 cells) and places every entry again.
    #[cold]
    fn grow(&mut self) {
        let n = (2 * self.cells.len()).max(16);
        let old = std::mem::replace(&mut self.cells, vec![(0, 0); n]);
        let mask = self.cells.len() - 1;
        for (h, p) in old {
            if p == 0 {
                continue;
            }
            let mut i = h as usize & mask;
            while self.cells[i].1 != 0 {
                i = (i + 1) & mask;
            }
            self.cells[i] = (h, p);
        }
    }

    /// Forgets the key of live slot i.
    fn remove_slot<V, W, S>(&mut self, i: usize, slots: &[Option<KeyLogic<V, W, S>>]) {
        let key = &slots[i].as_ref().expect("live slot").key;
        self.remove(key, slots);
    }

    /// Forgets key; returns its slot if it was live. Later entries of the
    /// probe run move back into the hole, so no tombstones are needed.
    fn remove<V, W, S>(&mut self, key: &[u8], slots: &[Option<KeyLogic<V, W, S>>]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mut hole = self.find(key, key_hash(key), slots).ok()?;
        let slot = self.cells[hole].1 as usize - 1;
        let mask = self.cells.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let (h, p) = self.cells[j];
            if p == 0 {
                break;
            }
            // The entry at j may fill the hole unless its home lies
            // cyclically in (hole, j].
            let home = h as usize & mask;
            let stays = if hole < j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.cells[hole] = self.cells[j];
                hole = j;
            }
        }
        self.cells[hole] = (0, 0);
        self.len -= 1;
        Some(slot)
    }
}

struct Rt<V, W, S> {
    step: usize,
    step_id: String,
    builder: Builder<V, W, S>,
    index: KeyTable,
    slots: Vec<Option<KeyLogic<V, W, S>>>,
    free: Vec<usize>,
    resumed: FxHashMap<Vec<u8>, (Vec<u8>, u64)>,
    seq: u64,
    batches: u64,
    groups: Vec<(usize, Vec<V>)>,
    scratch: Vec<u8>,
}

impl<V: Codec, W: Codec, S: Codec> Rt<V, W, S> {
    /// Registers a logic under key and returns its slot.
    fn insert(&mut self, key: &[u8], logic: Box<dyn StatefulBatchLogic<V, W, S>>, seq: u64) -> usize {
        let kl = KeyLogic { key: SmallKey::new(key), logic, seq, notify: 0, batch: 0, group: 0 };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(kl);
                i
            }
            None => {
                self.slots.push(Some(kl));
                self.slots.len() - 1
            }
        };
        self.index.insert(key, i, &self.slots);
        i
    }

    /// The slot of key's logic, building it from resume state if the key
    /// was restored and not used since.
    fn live(&mut self, key: &[u8]) -> Result<Option<usize>, String> {
        if let Some(i) = self.index.get(key, &self.slots) {
            return Ok(Some(i));
        }
        let (state, seq) = match self.resumed.remove(key) {
            Some(e) => e,
            None => return Ok(None),
        };
        let s = S::decode(&state)
            .map_err(|e| format!("decoding the state of key {} in step {}: {}", site::quote(key), self.step_id, e))?;
        site::enter_key(self.step, "builder", key);
        let logic = (self.builder)(Some(s));
        Ok(Some(self.insert(key, logic, seq)))
    }

    /// The slot of key's logic, built fresh for a new key.
    fn touch(&mut self, key: &[u8]) -> Result<usize, String> {
        if let Some(i) = self.live(key)? {
            return Ok(i);
        }
        site::enter_key(self.step, "builder", key);
        let logic = (self.builder)(None);
        self.seq += 1;
        let seq = self.seq;
        Ok(self.insert(key, logic, seq))
    }

    fn logic(&mut self, i: usize) -> &mut KeyLogic<V, W, S> {
        self.slots[i].as_mut().expect("live slot")
    }

    /// Encodes what a logic emitted and reports the key when it was
    /// discarded or its notify_at changed.
    fn finish(&mut self, i: usize, emit: Vec<W>, discard: bool, out: &mut KeyedOut) {
        let step = self.step;
        let kl = self.slots[i].as_mut().expect("live slot");
        for w in &emit {
            out.emits.push_with(Some(&kl.key), |b| w.encode(b));
        }
        if discard {
            self.index.remove_slot(i, &self.slots);
            let kl = self.slots[i].take().expect("live slot");
            self.free.push(i);
            out.key(&kl.key, true, 0);
            return;
        }
        site::enter_key(step, "notify_at", &kl.key);
        let at = kl.logic.notify_at().map(unix_nanos).unwrap_or(0);
        if at != kl.notify {
            kl.notify = at;
            out.key(&kl.key, false, at);
        }
    }
}

impl<V: Codec, W: Codec, S: Codec> StatefulRuntime for Rt<V, W, S> {
    fn on_batch(&mut self, b: &Batch, out: &mut KeyedOut) -> Result<(), String> {
        site::enter(self.step, "");
        self.batches += 1;
        let batch = self.batches;
        let mut groups = std::mem::take(&mut self.groups);
        groups.clear();
        let mut it = b.iter();
        while let Some(item) = it.next_item() {
            let item = item?;
            let key = match item.key {
                Some(k) => k,
                None => {
                    return Err(format!(
                        "decoding an item for step {}: bx: cannot decode: item of a keyed stream has no key",
                        self.step_id
                    ))
                }
            };
            let v = V::decode(item.value).map_err(|e| format!("decoding an item for step {}: {}", self.step_id, e))?;
            let i = self.touch(key)?;
            let kl = self.logic(i);
            if kl.batch != batch {
                kl.batch = batch;
                kl.group = groups.len();
                groups.push((i, Vec::new()));
            }
            let g = kl.group;
            groups[g].1.push(v);
        }
        for (i, vals) in groups.drain(..) {
            let step = self.step;
            let kl = self.logic(i);
            site::enter_key(step, "on_batch", &kl.key);
            let (emit, discard) = kl.logic.on_batch(vals);
            self.finish(i, emit, discard, out);
        }
        self.groups = groups;
        Ok(())
    }

    fn on_notify(&mut self, keys: &[&[u8]], out: &mut KeyedOut) -> Result<(), String> {
        for &key in keys {
            let i = match self.live(key)? {
                Some(i) => i,
                None => {
                    out.key(key, true, 0);
                    continue;
                }
            };
            site::enter_key(self.step, "on_notify", key);
            let kl = self.logic(i);
            kl.notify = 0; // the host dropped the timer that fired
            let (emit, discard) = kl.logic.on_notify();
            self.finish(i, emit, discard, out);
        }
        Ok(())
    }

    fn on_eof(&mut self, out: &mut KeyedOut) -> Result<(), String> {
        let mut restored: Vec<Vec<u8>> = self.resumed.keys().cloned().collect();
        restored.sort();
        for k in restored {
            self.live(&k)?;
        }
        let mut order: Vec<(u64, usize)> =
            self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|kl| (kl.seq, i))).collect();
        order.sort();
        for (_, i) in order {
            let step = self.step;
            let kl = self.logic(i);
            site::enter_key(step, "on_eof", &kl.key);
            let (emit, discard) = kl.logic.on_eof();
            self.finish(i, emit, discard, out);
        }
        Ok(())
    }

    fn snapshot(&mut self, keys: &[&[u8]], out: &mut Vec<u8>) -> Result<(), String> {
        for &key in keys {
            put_bytes(out, key);
            let i = match self.live(key)? {
                Some(i) => i,
                None => {
                    out.push(0);
                    out.push(0);
                    continue;
                }
            };
            site::enter_key(self.step, "snapshot", key);
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            self.logic(i).logic.snapshot().encode(&mut scratch);
            out.push(1);
            put_bytes(out, &scratch);
            self.scratch = scratch;
        }
        Ok(())
    }

    fn restore(&mut self, items: &[(&[u8], Option<&[u8]>)]) -> Result<(), String> {
        for &(key, state) in items {
            if let Some(i) = self.index.remove(key, &self.slots) {
                self.slots[i] = None;
                self.free.push(i);
            }
            match state {
                None => {
                    self.resumed.remove(key);
                }
                Some(s) => {
                    self.seq += 1;
                    self.resumed.insert(key.to_vec(), (s.to_vec(), self.seq));
                }
            }
        }
        Ok(())
    }
}

impl<V: Codec> Stream<(String, V)> {
    /// Adds a step that keeps a logic per key of this keyed stream.
    /// `builder(None)` builds the logic of a new key, `builder(Some(s))`
    /// resumes one from a snapshot. The output is keyed with the same keys.
    pub fn stateful_batch<W: Codec, S: Codec, F>(&self, id: &str, builder: F) -> Stream<(String, W)>
    where
        F: FnMut(Option<S>) -> Box<dyn StatefulBatchLogic<V, W, S>> + 'static,
    {
        let down = self.sibling::<(String, W)>();
        let step_id = self.full_id(id);
        let step = self.flow.borrow().steps.len();
        let rt: Rt<V, W, S> = Rt {
            step,
            step_id,
            builder: Box::new(builder),
            index: KeyTable::default(),
            slots: Vec::new(),
            free: Vec::new(),
            resumed: FxHashMap::default(),
            seq: 0,
            batches: 0,
            groups: Vec::new(),
            scratch: Vec::new(),
        };
        self.add_step(id, KIND_STATEFUL_BATCH, vec![self.id], vec![down.id], StepRt::Stateful(Box::new(rt)));
        down
    }
}

#[cfg(test)]
mod key_table_tests {
    use super::*;

    struct Nop;
    impl StatefulBatchLogic<i64, i64, i64> for Nop {
        fn on_batch(&mut self, _: Vec<i64>) -> (Vec<i64>, bool) {
            (Vec::new(), false)
        }
        fn snapshot(&self) -> i64 {
            0
        }
    }

    fn slot(key: &[u8]) -> Option<KeyLogic<i64, i64, i64>> {
        Some(KeyLogic { key: SmallKey::new(key), logic: Box::new(Nop), seq: 0, notify: 0, batch: 0, group: 0 })
    }

    /// Removing keys from the middle of probe runs keeps every other key
    /// findable, and removed keys can come back.
    #[test]
    fn keys_survive_removals_of_their_neighbours() {
        let keys: Vec<Vec<u8>> = (0..2000).map(|i| format!("k{}", i % 700 * 31 + i).into_bytes()).collect();
        let mut slots = Vec::new();
        let mut t = KeyTable::default();
        for k in &keys {
            slots.push(slot(k));
            t.insert(k, slots.len() - 1, &slots);
        }
        for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            assert_eq!(t.remove(k, &slots), Some(i));
            slots[i] = None;
            assert_eq!(t.remove(k, &slots), None);
        }
        for (i, k) in keys.iter().enumerate() {
            let want = if i % 3 == 0 { None } else { Some(i) };
            assert_eq!(t.get(k, &slots), want, "key {}", String::from_utf8_lossy(k));
        }
        for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            slots[i] = slot(k);
            t.insert(k, i, &slots);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.get(k, &slots), Some(i));
        }
        assert_eq!(t.len, keys.len());
    }

    /// Keys of every length round-trip, inline or on the heap, and keys
    /// that share a prefix up to the inline limit stay apart.
    #[test]
    fn small_keys_keep_their_bytes() {
        let mut slots = Vec::new();
        let mut t = KeyTable::default();
        let keys: Vec<Vec<u8>> = (0..=2 * SMALL_KEY).map(|n| vec![b'x'; n]).collect();
        for k in &keys {
            assert_eq!(&*SmallKey::new(k), &k[..]);
            slots.push(slot(k));
            t.insert(k, slots.len() - 1, &slots);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.get(k, &slots), Some(i), "key of {} bytes", k.len());
        }
        assert!(matches!(SmallKey::new(&keys[SMALL_KEY]), SmallKey::Inline(..)));
        assert!(matches!(SmallKey::new(&keys[SMALL_KEY + 1]), SmallKey::Heap(..)));
    }
}
