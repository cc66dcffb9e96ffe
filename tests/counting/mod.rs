//! A global allocator that counts the allocations made on the thread that asks, for the
//! tests that assert a warm call allocates nothing. A test binary declares it with
//! `#[global_allocator] static ALLOCATOR: Counting = Counting;` and measures with
//! [`allocations`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting allocations (and reallocations) on threads that ask.
pub struct Counting;

thread_local! {
    /// Whether this thread's allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations while counting.
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// Counts one allocation when this thread is counting.
fn count_one() {
    // `try_with`: the allocator also runs while thread-local storage is torn down.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            COUNT.with(|count| count.set(count.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; counting only reads and writes
// thread-local cells, which allocate nothing.
#[allow(unsafe_code)] // the counting allocator; the crate under test has no `unsafe`
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Calls counted per case, after two warm-up calls.
pub const CALLS: usize = 10;

/// The allocations `f` makes on this thread over [`CALLS`] calls, after two calls to warm
/// up.
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
