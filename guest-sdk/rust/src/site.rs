//! Which user code runs now, so that an error or a panic names it the way
//! the Go SDK and Bytewax do ("error calling mapper in step wc.split"),
//! and the panic hook that records a panic before the abort traps.

use crate::wire::{put_bytes, put_uvarint};
use std::cell::RefCell;

/// The user code the guest runs now.
#[derive(Default)]
pub(crate) struct Site {
    /// Index of the step, or -1 for none.
    pub step: i64,
    /// The function: mapper, predicate, on_batch...
    pub what: String,
    /// The stateful key, when `has_key`.
    pub key: Vec<u8>,
    pub has_key: bool,
    /// The partition, when not empty.
    pub part: String,
}

thread_local! {
    static SITE: RefCell<Site> = RefCell::new(Site { step: -1, ..Site::default() });
    /// The ids of the built flow's steps, for messages.
    static STEP_IDS: RefCell<Vec<String>> = RefCell::new(Vec::new());
    /// The ErrorInfo body the panic hook prepared for bxwasm_last_error.
    static LAST_ERROR: RefCell<Vec<u8>> = RefCell::new(Vec::new());
}

/// Remembers the ids of the built flow's steps.
pub(crate) fn set_step_ids(ids: Vec<String>) {
    STEP_IDS.with(|s| *s.borrow_mut() = ids);
}

/// Records that no user code runs.
pub(crate) fn clear() {
    SITE.with(|s| {
        let mut s = s.borrow_mut();
        s.step = -1;
        s.what.clear();
        s.key.clear();
        s.has_key = false;
        s.part.clear();
    });
}

/// Records that `what` of step `step` runs next (no key, no partition).
#[inline]
pub(crate) fn enter(step: usize, what: &str) {
    SITE.with(|s| {
        let mut s = s.borrow_mut();
        s.step = step as i64;
        if s.what != what {
            s.what.clear();
            s.what.push_str(what);
        }
        s.has_key = false;
        s.key.clear();
        s.part.clear();
    });
}

/// Records that `what` of stateful step `step` runs next for `key`.
#[inline]
pub(crate) fn enter_key(step: usize, what: &str, key: &[u8]) {
    SITE.with(|s| {
        let mut s = s.borrow_mut();
        s.step = step as i64;
        if s.what != what {
            s.what.clear();
            s.what.push_str(what);
        }
        s.has_key = true;
        s.key.clear();
        s.key.extend_from_slice(key);
        s.part.clear();
    });
}

/// Records that `what` runs next, for a partition if `part` is not empty;
/// `step` None is code outside any step (the flow factory).
pub(crate) fn enter_part(step: Option<usize>, what: &str, part: &str) {
    SITE.with(|s| {
        let mut s = s.borrow_mut();
        s.step = step.map(|i| i as i64).unwrap_or(-1);
        s.what.clear();
        s.what.push_str(what);
        s.has_key = false;
        s.key.clear();
        s.part.clear();
        s.part.push_str(part);
    });
}

/// Quotes a string the way Go's %q does for printable text.
pub(crate) fn quote(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// The error's location: step index, key.
pub(crate) struct Located {
    pub message: String,
    pub stack: String,
    pub step: i64,
    pub key: Option<Vec<u8>>,
}

/// Turns an error message into an ErrorInfo located at the current site.
pub(crate) fn locate(message: String) -> Located {
    SITE.with(|s| {
        let s = s.borrow();
        Located { message, stack: String::new(), step: s.step, key: if s.has_key { Some(s.key.clone()) } else { None } }
    })
}

/// Renders the site: `mapper in step f.split for key "k"`.
pub(crate) fn where_() -> String {
    SITE.with(|s| {
        let s = s.borrow();
        let mut msg = s.what.clone();
        if s.step >= 0 {
            STEP_IDS.with(|ids| {
                if let Some(id) = ids.borrow().get(s.step as usize) {
                    msg.push_str(" in step ");
                    msg.push_str(id);
                }
            });
        }
        if s.has_key {
            msg.push_str(" for key ");
            msg.push_str(&quote(&s.key));
        }
        if !s.part.is_empty() {
            msg.push_str(" for partition ");
            msg.push_str(&quote(s.part.as_bytes()));
        }
        if msg.is_empty() {
            msg.push_str("the guest");
        }
        msg
    })
}

/// Appends the ErrorInfo body (docs/abi.md section 7) of `e`.
pub(crate) fn encode_error(out: &mut Vec<u8>, e: &Located) {
    put_bytes(out, e.message.as_bytes());
    put_bytes(out, e.stack.as_bytes());
    put_uvarint(out, (e.step + 1).max(0) as u64);
    match &e.key {
        Some(k) => {
            out.push(1);
            put_bytes(out, k);
        }
        None => {
            out.push(0);
            out.push(0);
        }
    }
}

/// The message of a panic payload.
#[allow(deprecated)]
fn payload_text(info: &std::panic::PanicInfo) -> String {
    let p = info.payload();
    if let Some(s) = p.downcast_ref::<&str>() {
        return (*s).to_string();
    }
    if let Some(s) = p.downcast_ref::<String>() {
        return s.clone();
    }
    "panic".to_string()
}

/// Builds the ErrorInfo of a panic at the current site, in the Go SDK's
/// words: `error calling on_batch in step f.sum... for key "k": boom`.
#[allow(deprecated)]
pub(crate) fn panic_error(info: &std::panic::PanicInfo) -> Located {
    let msg = format!("error calling {}: {}", where_(), payload_text(info));
    let mut e = locate(msg);
    if let Some(l) = info.location() {
        e.stack = format!("panicked at {}:{}:{}", l.file(), l.line(), l.column());
    }
    e
}

/// Installs the panic hook: it records the panic's ErrorInfo where
/// `bxwasm_last_error` finds it after the trap, and prints the message on
/// standard error.
pub(crate) fn install_hook() {
    LAST_ERROR.with(|b| b.borrow_mut().reserve(4096));
    std::panic::set_hook(Box::new(|info| {
        let e = panic_error(info);
        eprintln!("bxwasm: {} ({})", e.message, e.stack);
        LAST_ERROR.with(|b| {
            if let Ok(mut b) = b.try_borrow_mut() {
                b.clear();
                encode_error(&mut b, &e);
            }
        });
    }));
}

/// Forgets a recorded panic (at the start of every call).
pub(crate) fn reset_last_error() {
    LAST_ERROR.with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            b.clear();
        }
    });
}

/// The recorded panic as (ptr << 32) | len, or 0 when there is none.
pub(crate) fn last_error() -> i64 {
    LAST_ERROR.with(|b| match b.try_borrow() {
        Ok(b) if !b.is_empty() => ((b.as_ptr() as usize as i64) << 32) | b.len() as i64,
        _ => 0,
    })
}

/// A copy of the recorded panic's bytes, for tests.
#[cfg(test)]
pub(crate) fn last_error_bytes() -> Vec<u8> {
    LAST_ERROR.with(|b| b.borrow().clone())
}
