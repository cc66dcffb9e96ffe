//! A global allocator that counts the allocations made on the thread that asks, and the bytes
//! they hold at their peak, for the tests that assert a warm call allocates nothing and those
//! that bound a contraction's memory. A test binary declares it with
//! `#[global_allocator] static ALLOCATOR: Counting = Counting;` and measures with
//! [`allocations`] or [`peak_growth`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting allocations (and reallocations) on threads that ask.
pub struct Counting;

thread_local! {
    /// Whether this thread's allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations while counting.
    static COUNT: Cell<usize> = const { Cell::new(0) };
    /// The bytes this thread allocated and has not freed while counting, and their most.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Counts one allocation of `bytes` (and the release of `freed`) when this thread is counting.
fn count_one(bytes: usize, freed: usize) {
    // `try_with`: the allocator also runs while thread-local storage is torn down.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            COUNT.with(|count| count.set(count.get() + 1));
            count_bytes(bytes as isize - freed as isize);
        }
    });
}

/// Adds `change` to the bytes this thread holds, when it is counting.
fn count_bytes(change: isize) {
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let live = LIVE.with(|live| {
                live.set(live.get() + change);
                live.get()
            });
            PEAK.with(|peak| peak.set(peak.get().max(live)));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; counting only reads and writes
// thread-local cells, which allocate nothing.
#[allow(unsafe_code)] // the counting allocator; the crate under test has no `unsafe`
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one(layout.size(), 0);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one(layout.size(), 0);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one(new_size, layout.size());
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_bytes(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Calls counted per case, after two warm-up calls.
pub const CALLS: usize = 10;

/// The allocations `f` makes on this thread over [`CALLS`] calls, after two calls to warm
/// up.
#[allow(dead_code)] // not every test binary counts allocations
pub fn allocations(mut f: impl FnMut()) -> usize {
    f();
    f();
    COUNT.with(|count| count.set(0));
    COUNTING.with(|counting| counting.set(true));
    for _ in 0..CALLS {
        f();
    }
    COUNTING.with(|counting| counting.set(false));
    COUNT.with(Cell::get)
}

/// The most bytes the allocations `f` makes on this thread hold at once (one call, cold as
/// the thread is).
#[allow(dead_code)] // not every test binary measures memory
pub fn peak_growth<R>(f: impl FnOnce() -> R) -> (usize, R) {
    LIVE.with(|live| live.set(0));
    PEAK.with(|peak| peak.set(0));
    COUNTING.with(|counting| counting.set(true));
    let result = f();
    COUNTING.with(|counting| counting.set(false));
    (PEAK.with(Cell::get).max(0) as usize, result)
}
