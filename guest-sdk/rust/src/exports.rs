//! What the exports made by `bxwasm::export!` call: the request buffer,
//! the dispatcher and the recorded panic.

use crate::dispatch::Dispatcher;
use crate::register::Registry;
use crate::site;
use std::cell::RefCell;

thread_local! {
    static REQ: RefCell<Vec<u8>> = RefCell::new(Vec::new());
    static RT: RefCell<Option<Dispatcher>> = RefCell::new(None);
}

/// Builds the dispatcher on first use: installs the panic hook and runs
/// the module's registration function once.
fn init(flows: fn(&mut Registry)) {
    RT.with(|rt| {
        if rt.borrow().is_some() {
            return;
        }
        site::install_hook();
        let mut reg = Registry::default();
        site::enter_part(None, "the flow registration", "");
        flows(&mut reg);
        site::clear();
        *rt.borrow_mut() = Some(Dispatcher::new(reg));
    });
}

/// `bxwasm_buffer`: a buffer of at least `size` bytes for the next
/// request (at least 4096 bytes, doubling as it grows).
pub fn buffer(size: i32, flows: fn(&mut Registry)) -> i32 {
    init(flows);
    site::reset_last_error();
    REQ.with(|b| {
        let mut b = b.borrow_mut();
        let want = (size.max(0) as usize).max(4096);
        if b.len() < want {
            let n = want.max(2 * b.len());
            b.resize(n, 0);
        }
        b.as_mut_ptr() as usize as i32
    })
}

/// `bxwasm_call`: runs the request of `len` bytes in the buffer and returns
/// (ptr << 32) | len of the response.
pub fn call(len: i32, flows: fn(&mut Registry)) -> i64 {
    init(flows);
    site::reset_last_error();
    REQ.with(|req| {
        let req = req.borrow();
        RT.with(|rt| {
            let mut rt = rt.borrow_mut();
            let d = rt.as_mut().expect("initialised");
            if len < 0 || len as usize > req.len() {
                d.refuse(format!(
                    "bx: malformed request: length {} is outside the request buffer of {} bytes",
                    len,
                    req.len()
                ));
            } else {
                d.dispatch(&req[..len as usize]);
            }
            ((d.resp.as_ptr() as usize as i64) << 32) | d.resp.len() as i64
        })
    })
}

/// `bxwasm_last_error`: the ErrorInfo the panic hook recorded before the
/// trap, as (ptr << 32) | len, or 0.
pub fn last_error() -> i64 {
    site::last_error()
}
