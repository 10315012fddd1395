//! The guest's memory allocator on wasm32: small blocks (up to 512 bytes)
//! come from free lists of 32 size classes carved out of 64 KiB chunks,
//! larger ones from the system allocator (wasi-libc's dlmalloc). Stream
//! items are mostly small strings that live for one call, and this makes
//! their allocation and release a few instructions each. Freed small
//! blocks are kept for reuse by their class, never returned. A guest
//! instance is single-threaded, so the lists need no locking; native
//! builds (tests) keep the system allocator.

#[cfg(any(target_arch = "wasm32", bxwasm_size_classes))]
mod imp {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::UnsafeCell;
    use std::ptr::null_mut;

    const CLASSES: usize = 32;
    const GRAIN: usize = 16;
    const CHUNK: usize = 64 * 1024;

    struct Lists(UnsafeCell<[*mut u8; CLASSES]>);

    // SAFETY: wasm32 guests run one thread.
    unsafe impl Sync for Lists {}

    static FREE: Lists = Lists(UnsafeCell::new([null_mut(); CLASSES]));

    /// The allocator the SDK installs as the module's global allocator.
    pub struct SizeClasses;

    #[inline]
    fn class(size: usize, align: usize) -> Option<usize> {
        if align > GRAIN || size > CLASSES * GRAIN {
            return None;
        }
        Some((size.max(1) + GRAIN - 1) / GRAIN - 1)
    }

    /// Carves a new chunk into blocks of class c; returns one, lists the
    /// others.
    #[cold]
    unsafe fn refill(c: usize) -> *mut u8 {
        let size = (c + 1) * GRAIN;
        let chunk = System.alloc(Layout::from_size_align_unchecked(CHUNK, GRAIN));
        if chunk.is_null() {
            return chunk;
        }
        let n = CHUNK / size;
        let free = &mut *FREE.0.get();
        for i in (1..n).rev() {
            let b = chunk.add(i * size);
            *(b as *mut *mut u8) = free[c];
            free[c] = b;
        }
        chunk
    }

    unsafe impl GlobalAlloc for SizeClasses {
        #[inline]
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            match class(l.size(), l.align()) {
                None => System.alloc(l),
                Some(c) => {
                    let free = &mut *FREE.0.get();
                    let p = free[c];
                    if p.is_null() {
                        return refill(c);
                    }
                    free[c] = *(p as *mut *mut u8);
                    p
                }
            }
        }

        #[inline]
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            match class(l.size(), l.align()) {
                None => System.dealloc(p, l),
                Some(c) => {
                    let free = &mut *FREE.0.get();
                    *(p as *mut *mut u8) = free[c];
                    free[c] = p;
                }
            }
        }

        unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
            let old = class(l.size(), l.align());
            let new = class(new_size, l.align());
            if old.is_none() && new.is_none() {
                return System.realloc(p, l, new_size);
            }
            if old.is_some() && old == new {
                return p;
            }
            let q = self.alloc(Layout::from_size_align_unchecked(new_size, l.align()));
            if !q.is_null() {
                std::ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
                self.dealloc(p, l);
            }
            q
        }
    }

    #[global_allocator]
    static GLOBAL: SizeClasses = SizeClasses;
}
