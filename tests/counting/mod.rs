//! A counting allocator for the tests that prove the library allocates nothing: it counts, per
//! thread, the allocations made while that thread is watched. A test crate includes this file
//! with `#[path]` and installs it with
//! `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts, per thread, the allocations made while that thread is watched (tests run on
/// several threads at once, so a global count would see the other tests').
pub struct CountingAllocator;

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    if WATCHED.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
    }
}

// SAFETY: every method forwards to the system allocator unchanged; counting touches only
// const-initialized thread-locals, which do not allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made by this thread while running `body`.
pub fn allocations_during(body: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    WATCHED.with(|watched| watched.set(true));
    body();
    WATCHED.with(|watched| watched.set(false));
    ALLOCATIONS.with(Cell::get) - before
}
