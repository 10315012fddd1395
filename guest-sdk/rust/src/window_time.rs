//! Time for the windowing operators: clocks (Bytewax 0.21's `SystemClock`
//! and `EventClock`) and windowers (`TumblingWindower`, `SlidingWindower`,
//! `SessionWindower`), with the per-key logic the window step keeps.
//!
//! Inside, every time is an i64 of Unix nanoseconds (negative before 1970)
//! and every sum saturates: `i64::MIN` is Bytewax's `UTC_MIN` (the
//! watermark before any item) and `i64::MAX` its `UTC_MAX` (the watermark
//! at EOF). Window ids come from one division, never from a loop, so an
//! `align_to` centuries away costs nothing (bytewax/bytewax#413).

use crate::codec::Codec;
use crate::wire::{put_varint, Reader};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The watermark before any item (Bytewax's `UTC_MIN`).
pub(crate) const UTC_MIN: i64 = i64::MIN;
/// The watermark at EOF (Bytewax's `UTC_MAX`).
pub(crate) const UTC_MAX: i64 = i64::MAX;

/// Unix nanoseconds of `t`, saturating.
pub(crate) fn nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map(|n| -n).unwrap_or(i64::MIN),
    }
}

/// Nanoseconds of `d`, saturating.
pub(crate) fn span(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// The system time of Unix nanoseconds `n`; times before 1970 become 1970
/// (WASI has no earlier time).
pub(crate) fn system_time(n: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(n.max(0) as u64)
}

/// Clamps a wide result into i64.
fn clamp(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Where a window opened and closed, and which windows were merged into
/// it (Bytewax's `WindowMetadata`). Times are Unix nanoseconds. For
/// sliding and tumbling windows `close_time` is exclusive; for sessions it
/// is the time of the session's last item, inclusive.
///
/// `merged_ids` holds every window id merged into this one before it
/// closed, also those merged into a window that was itself merged later
/// (Bytewax adds only the direct one; its doc promises all). Sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowMetadata {
    pub open_time: i64,
    pub close_time: i64,
    pub merged_ids: Vec<i64>,
}

impl WindowMetadata {
    /// `open_time` as a system time (1970 at the earliest).
    pub fn open(&self) -> SystemTime {
        system_time(self.open_time)
    }

    /// `close_time` as a system time (1970 at the earliest).
    pub fn close(&self) -> SystemTime {
        system_time(self.close_time)
    }

    fn merge_id(&mut self, id: i64, more: &[i64]) {
        for &m in std::iter::once(&id).chain(more) {
            if let Err(i) = self.merged_ids.binary_search(&m) {
                self.merged_ids.insert(i, m);
            }
        }
    }
}

/// `varint open | varint close | Vec<i64> merged_ids`.
impl Codec for WindowMetadata {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.open_time);
        put_varint(out, self.close_time);
        self.merged_ids.encode(out);
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(b);
        let bad = |e: String| format!("bx: cannot decode WindowMetadata: {}", e);
        let open_time = r.varint().map_err(bad)?;
        let close_time = r.varint().map_err(bad)?;
        let rest = r.take(r.rest()).map_err(bad)?;
        let merged_ids = Vec::<i64>::decode(rest).map_err(bad)?;
        Ok(WindowMetadata { open_time, close_time, merged_ids })
    }
}

/// A sense of time for a windowing operator over values `V`: build one
/// with `SystemClock::new()` or `EventClock::new(..)`. Clocks are kept per
/// key.
pub struct Clock<V> {
    pub(crate) ts_getter: Option<Rc<dyn Fn(&V) -> SystemTime>>,
    pub(crate) wait: i64,
    pub(crate) now: Rc<dyn Fn() -> SystemTime>,
}

impl<V> Clone for Clock<V> {
    fn clone(&self) -> Self {
        Clock { ts_getter: self.ts_getter.clone(), wait: self.wait, now: self.now.clone() }
    }
}

impl<V: 'static> Clock<V> {
    /// Replaces where the clock reads the system time (the current time by
    /// default), as Bytewax's `now_getter`: for tests and replays.
    pub fn now_getter<F: Fn() -> SystemTime + 'static>(mut self, now: F) -> Clock<V> {
        self.now = Rc::new(now);
        self
    }

    /// The same clock over `U`, reading timestamps through `f` (for joins,
    /// whose values carry their side).
    pub(crate) fn map<U, F: Fn(&U) -> &V + 'static>(&self, f: F) -> Clock<U> {
        let ts_getter = self.ts_getter.clone().map(|g| Rc::new(move |u: &U| g(f(u))) as Rc<dyn Fn(&U) -> SystemTime>);
        Clock { ts_getter, wait: self.wait, now: self.now.clone() }
    }

    /// The clock logic of one key.
    pub(crate) fn build(&self, resume: Option<(i64, i64)>) -> KeyClock {
        let now = nanos((self.now)());
        let (mut sys_max, base) = resume.unwrap_or((UTC_MIN, UTC_MIN));
        if sys_max == UTC_MIN {
            sys_max = now;
        }
        KeyClock { event: self.ts_getter.is_some(), wait: self.wait, now, sys_max, base }
    }

    /// The timestamp of `v` in Unix nanoseconds (now for a system clock).
    pub(crate) fn ts(&self, v: &V, now: i64) -> i64 {
        match &self.ts_getter {
            Some(g) => nanos(g(v)),
            None => now,
        }
    }
}

/// Uses the system time as every item's timestamp; the watermark is the
/// system time. EOF closes every window.
pub struct SystemClock;

impl SystemClock {
    /// A system-time clock.
    pub fn new<V>() -> Clock<V> {
        Clock { ts_getter: None, wait: 0, now: Rc::new(SystemTime::now) }
    }
}

/// Uses a timestamp read from each item. Per key, the watermark is the
/// latest timestamp seen minus `wait_for_system_duration`, plus the system
/// time passed since that item arrived; it never goes back, not even when
/// the system clock does (bytewax/bytewax#479) or items come out of order
/// (#470). Items older than the watermark are late. EOF closes every
/// window.
pub struct EventClock;

impl EventClock {
    /// An event-time clock reading timestamps with `ts_getter`.
    pub fn new<V, F: Fn(&V) -> SystemTime + 'static>(ts_getter: F, wait_for_system_duration: Duration) -> Clock<V> {
        Clock { ts_getter: Some(Rc::new(ts_getter)), wait: span(wait_for_system_duration), now: Rc::new(SystemTime::now) }
    }
}

/// The clock of one key (Bytewax's `_EventClockLogic`, or the system one
/// when `event` is false). Its state is (sys_max, base).
pub(crate) struct KeyClock {
    event: bool,
    wait: i64,
    /// The system time of the current batch or notification.
    pub now: i64,
    /// The system time the watermark base was last raised at.
    pub sys_max: i64,
    /// The latest timestamp seen minus the wait.
    pub base: i64,
}

impl KeyClock {
    /// Reads the system time for a batch; it never goes back (#479).
    pub fn before_batch(&mut self, now: i64) {
        self.now = self.now.max(now);
    }

    /// The watermark now.
    pub fn watermark(&self) -> i64 {
        if !self.event {
            return self.now;
        }
        let since = self.now.saturating_sub(self.sys_max).max(0);
        self.base.saturating_add(since)
    }

    /// The watermark after an item stamped `ts`: raised when `ts - wait`
    /// passes the current watermark, otherwise the current one (#470).
    pub fn on_item(&mut self, ts: i64) -> i64 {
        let wm = self.watermark();
        if !self.event {
            return wm;
        }
        // A wait of 292 years or more (Duration::MAX) never raises the
        // watermark: in Bytewax the subtraction overflows and is skipped.
        let base = match ts.checked_sub(self.wait) {
            Some(b) if self.wait != i64::MAX => b,
            _ => return wm,
        };
        if base > wm {
            self.base = base;
            self.sys_max = self.now;
            return base;
        }
        wm
    }

    /// The system time at which the watermark reaches `ts`, or None if it
    /// never will. Bytewax wakes at `ts` itself, which is in the past when
    /// event time lags the system clock and then wakes in a loop (#578).
    pub fn system_time_of(&self, ts: i64) -> Option<i64> {
        if !self.event {
            return Some(ts);
        }
        if self.base == UTC_MIN {
            return None;
        }
        let at = self.sys_max as i128 + (ts as i128 - self.base as i128);
        if at >= i64::MAX as i128 {
            return None;
        }
        Some(clamp(at))
    }

    /// The state to resume from: (sys_max, base).
    pub fn snapshot(&self) -> (i64, i64) {
        (self.sys_max, self.base)
    }
}

/// What kind of windows a windowing operator makes: build one with
/// `TumblingWindower::new`, `SlidingWindower::new` or
/// `SessionWindower::new`. A bad parameter is reported when the flow is
/// built.
#[derive(Clone, Debug)]
pub struct Windower {
    pub(crate) kind: WindowerKind,
    pub(crate) err: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum WindowerKind {
    Sliding { length: i64, offset: i64, align: i64 },
    Session { gap: i64 },
}

/// Windows of fixed length that cover all time without overlapping: each
/// item is in exactly one. Window `n` spans `[align_to + n·length,
/// align_to + (n+1)·length)`; ids before `align_to` are negative.
pub struct TumblingWindower;

impl TumblingWindower {
    /// Tumbling windows of `length`, one of which starts at `align_to`.
    pub fn new(length: Duration, align_to: SystemTime) -> Windower {
        SlidingWindower::sliding(length, length, align_to, "tumbling")
    }
}

/// Windows of fixed length starting every `offset`: window `n` spans
/// `[align_to + n·offset, align_to + n·offset + length)`. `offset` must
/// not exceed `length` (there would be gaps); equal, they tumble.
pub struct SlidingWindower;

impl SlidingWindower {
    /// Sliding windows of `length` every `offset`, one starting at `align_to`.
    pub fn new(length: Duration, offset: Duration, align_to: SystemTime) -> Windower {
        SlidingWindower::sliding(length, offset, align_to, "sliding")
    }

    fn sliding(length: Duration, offset: Duration, align_to: SystemTime, what: &str) -> Windower {
        let mut err = None;
        if offset > length {
            err = Some(format!(
                "bad windower: sliding window offset {:?} is longer than its length {:?}; there would be gaps between windows",
                offset, length
            ));
        } else if offset.is_zero() {
            err = Some(format!("bad windower: {} windows need a length and offset above zero", what));
        }
        Windower { kind: WindowerKind::Sliding { length: span(length), offset: span(offset), align: nanos(align_to) }, err }
    }
}

/// Sessions: an item within `gap` of a session (before or after it) joins
/// it, one that bridges two sessions merges them (the later-opening one
/// into the earlier; its id is reported in the merged window's
/// `merged_ids`), others open a new session. Ids count from 0 per key;
/// late items get id -1.
///
/// A session closes once the watermark passes its last item by more than
/// `gap`. Unlike Bytewax, a key whose sessions have all closed is
/// discarded (bytewax/bytewax#577), so its next session is numbered from
/// 0 again: tell sessions apart by key, id and `open_time`.
pub struct SessionWindower;

impl SessionWindower {
    /// Sessions that close after `gap` without items.
    pub fn new(gap: Duration) -> Windower {
        Windower { kind: WindowerKind::Session { gap: span(gap) }, err: None }
    }
}

/// The id of the window late items of a session windower are reported in.
pub const LATE_SESSION_ID: i64 = -1;

/// The windows of one key (Bytewax's `_SlidingWindowerLogic` and
/// `_SessionWindowerLogic`): the open ones in the order they opened.
pub(crate) struct KeyWindower {
    pub kind: WindowerKind,
    /// The last session id given (sessions only).
    pub max_key: i64,
    pub open: Vec<(i64, WindowMetadata)>,
    /// (original, target) merges not yet reported.
    pub merges: Vec<(i64, i64)>,
}

/// floor(a / b) for b > 0.
fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && a < 0 {
        q - 1
    } else {
        q
    }
}

impl KeyWindower {
    pub fn new(kind: WindowerKind, resume: Option<(i64, Vec<(i64, WindowMetadata)>)>) -> KeyWindower {
        let (max_key, open) = resume.unwrap_or((LATE_SESSION_ID, Vec::new()));
        KeyWindower { kind, max_key, open, merges: Vec::new() }
    }

    /// The ids of the sliding windows that hold `ts`, in ascending order.
    pub fn intersects(length: i64, offset: i64, align: i64, ts: i64) -> std::ops::Range<i64> {
        let since = ts as i128 - align as i128;
        let first = floor_div(since - length as i128, offset as i128) + 1;
        let end = floor_div(since, offset as i128) + 1;
        clamp(first)..clamp(end)
    }

    fn sliding_meta(length: i64, offset: i64, align: i64, id: i64) -> WindowMetadata {
        let open = clamp(align as i128 + offset as i128 * id as i128);
        WindowMetadata { open_time: open, close_time: open.saturating_add(length), merged_ids: Vec::new() }
    }

    /// Opens the windows an on-time item stamped `ts` belongs to and
    /// returns their ids.
    pub fn open_for(&mut self, ts: i64, ids: &mut Vec<i64>) {
        ids.clear();
        match self.kind {
            WindowerKind::Sliding { length, offset, align } => {
                for id in Self::intersects(length, offset, align, ts) {
                    if !self.open.iter().any(|(w, _)| *w == id) {
                        self.open.push((id, Self::sliding_meta(length, offset, align, id)));
                    }
                    ids.push(id);
                }
            }
            WindowerKind::Session { gap } => ids.push(self.session_for(ts, gap)),
        }
    }

    /// The session an item stamped `ts` joins, extending or opening one.
    fn session_for(&mut self, ts: i64, gap: i64) -> i64 {
        for i in 0..self.open.len() {
            let (id, m) = &mut self.open[i];
            let id = *id;
            let until_open = m.open_time.saturating_sub(ts);
            let since_close = ts.saturating_sub(m.close_time);
            if until_open <= 0 && since_close <= 0 {
                return id;
            }
            if until_open > 0 && until_open <= gap {
                m.open_time = ts;
                self.find_merges(gap);
                return id;
            }
            if since_close > 0 && since_close <= gap {
                m.close_time = ts;
                self.find_merges(gap);
                return id;
            }
        }
        self.max_key += 1;
        let id = self.max_key;
        self.open.push((id, WindowMetadata { open_time: ts, close_time: ts, merged_ids: Vec::new() }));
        id
    }

    /// Merges sessions whose gap is at most `gap`, each into the one
    /// opening before it (Bytewax's `_session_find_merges`).
    pub fn find_merges(&mut self, gap: i64) {
        if self.open.len() < 2 {
            return;
        }
        let mut order: Vec<usize> = (0..self.open.len()).collect();
        order.sort_by_key(|&i| self.open[i].1.open_time);
        let mut gone = vec![false; self.open.len()];
        let mut last = order[0];
        for &i in &order[1..] {
            let (this_id, this) = (self.open[i].0, self.open[i].1.clone());
            if this.open_time.saturating_sub(self.open[last].1.close_time) <= gap {
                let target = &mut self.open[last];
                target.1.close_time = target.1.close_time.max(this.close_time);
                target.1.merge_id(this_id, &this.merged_ids);
                self.merges.push((this_id, target.0));
                gone[i] = true;
            } else {
                last = i;
            }
        }
        let mut i = 0;
        self.open.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
    }

    /// The windows a late item stamped `ts` would have been in.
    pub fn late_for(&self, ts: i64, ids: &mut Vec<i64>) {
        ids.clear();
        match self.kind {
            WindowerKind::Sliding { length, offset, align } => ids.extend(Self::intersects(length, offset, align, ts)),
            WindowerKind::Session { .. } => ids.push(LATE_SESSION_ID),
        }
    }

    /// Takes the merges found since the last call, as (original, target).
    pub fn merged(&mut self) -> Vec<(i64, i64)> {
        std::mem::take(&mut self.merges)
    }

    /// The watermark a window closes at: sliding windows once it reaches
    /// their close time, sessions once it passes their last item by more
    /// than the gap.
    fn closes_at(&self, m: &WindowMetadata) -> i64 {
        match self.kind {
            WindowerKind::Sliding { .. } => m.close_time,
            WindowerKind::Session { gap } => m.close_time.saturating_add(gap).saturating_add(1),
        }
    }

    /// Removes and returns the windows closed at watermark `wm`, in the
    /// order they opened. At `UTC_MAX` (EOF) every window closes.
    pub fn close_for(&mut self, wm: i64) -> Vec<(i64, WindowMetadata)> {
        let mut closed = Vec::new();
        let mut i = 0;
        while i < self.open.len() {
            if wm == UTC_MAX || self.closes_at(&self.open[i].1) <= wm {
                closed.push(self.open.remove(i));
            } else {
                i += 1;
            }
        }
        closed
    }

    /// The watermark at which the next window closes, if any is open.
    pub fn next_close(&self) -> Option<i64> {
        self.open.iter().map(|(_, m)| self.closes_at(m)).min()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty() && self.merges.is_empty()
    }

    pub fn snapshot(&self) -> (i64, Vec<(i64, WindowMetadata)>) {
        (self.max_key, self.open.clone())
    }
}
