//! Per-thread scratch buffers for the engine's intermediates, so that a contraction repeated
//! with the same shapes on one thread allocates nothing of its own after the first call.
//!
//! Every intermediate the engine computes (a pairwise step's result, an operand copied into
//! matrix layout) lives in a [`Pooled`] array. When it is dropped, its `Vec` goes back to this
//! thread's pool instead of to the allocator, and the next request for at least as many
//! elements of the same type takes it ([`take`]). A request the pool cannot serve is
//! allocated as before, and its buffer joins the pool when dropped.
//!
//! What the pool keeps is bounded: buffers of at most [`MAX_BUFFER_BYTES`], at most
//! [`MAX_BUFFERS`] of them and [`MAX_POOL_BYTES`] in all, per element type and thread; the
//! least recently returned go first. An owned result ([`Pooled::into_array`]) leaves the pool.
//!
//! The pools are one `Vec` per thread of type-erased pools (`Box<dyn Any>`), one per element
//! type, found by downcasting: a handful of types at most, so a linear search.

use crate::Element;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use std::any::Any;
use std::cell::RefCell;

/// Buffers larger than this are freed, not kept.
const MAX_BUFFER_BYTES: usize = 4 << 20;

/// At most this many buffers are kept per element type and thread.
const MAX_BUFFERS: usize = 16;

/// At most this many bytes are kept per element type and thread.
const MAX_POOL_BYTES: usize = 16 << 20;

thread_local! {
    /// This thread's pools, one per element type (each a [`Buffers`] of that type).
    static POOLS: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// The free buffers of one element type, the least recently returned first, and their
/// capacity in bytes.
struct Buffers<T> {
    free: Vec<Vec<T>>,
    bytes: usize,
}

/// Runs `f` on this thread's pool of `T` buffers (creating it on first use); `None` when the
/// thread's pools are being destroyed or already borrowed.
fn with_buffers<T: 'static, R>(f: impl FnOnce(&mut Buffers<T>) -> R) -> Option<R> {
    POOLS
        .try_with(|pools| {
            let mut pools = pools.try_borrow_mut().ok()?;
            if let Some(buffers) = pools
                .iter_mut()
                .find_map(|p| p.downcast_mut::<Buffers<T>>())
            {
                return Some(f(buffers));
            }
            let mut buffers = Buffers::<T> {
                free: Vec::new(),
                bytes: 0,
            };
            let result = f(&mut buffers);
            pools.push(Box::new(buffers));
            Some(result)
        })
        .ok()
        .flatten()
}

/// A buffer of exactly `n` elements from this thread's pool, when it holds one with room
/// for them (the smallest that fits); `None` otherwise, and the caller allocates. The
/// elements' values are unspecified (whatever the buffer last held): callers overwrite them
/// or fill them first.
pub(super) fn take<T: Element>(n: usize) -> Option<Vec<T>> {
    if n == 0 {
        return None;
    }
    let mut buffer = with_buffers::<T, _>(|buffers| {
        let at = (buffers.free.iter().enumerate())
            .filter(|(_, b)| b.capacity() >= n)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(at, _)| at)?;
        let buffer = buffers.free.remove(at);
        buffers.bytes -= bytes_of(&buffer);
        Some(buffer)
    })
    .flatten()?;
    if buffer.len() >= n {
        buffer.truncate(n);
    } else {
        buffer.resize(n, T::zero());
    }
    Some(buffer)
}

/// Gives `buffer` to this thread's pool, or frees it when it is too large to keep (the
/// least recently returned buffers are freed to make room for it).
fn give<T: 'static>(buffer: Vec<T>) {
    let bytes = bytes_of(&buffer);
    if bytes == 0 || bytes > MAX_BUFFER_BYTES {
        return;
    }
    // When the pools are gone (thread exit) or busy, the buffer is simply freed.
    let _ = with_buffers::<T, _>(|buffers| {
        while buffers.free.len() >= MAX_BUFFERS || buffers.bytes + bytes > MAX_POOL_BYTES {
            let oldest = buffers.free.remove(0);
            buffers.bytes -= bytes_of(&oldest);
        }
        buffers.bytes += bytes;
        buffers.free.push(buffer);
    });
}

/// The bytes a buffer's capacity takes.
fn bytes_of<T>(buffer: &Vec<T>) -> usize {
    buffer.capacity() * size_of::<T>()
}

/// An array in standard layout whose buffer goes back to this thread's pool when it is
/// dropped (unless it was made with [`Pooled::freed`]).
pub(super) struct Pooled<T: 'static> {
    /// Always `Some` until the array leaves (`into_array`) or is dropped.
    array: Option<ArrayD<T>>,
    /// Whether the buffer returns to the pool when dropped.
    keep: bool,
    /// The buffer's capacity in elements (ndarray keeps it but does not say).
    capacity: usize,
}

impl<T: Element> Pooled<T> {
    /// `values` (in standard layout) as an array of `shape`, its buffer returned to the pool
    /// when dropped.
    ///
    /// # Panics
    ///
    /// When `values` does not have one element per index of `shape`.
    pub(super) fn from_shape_vec(shape: &[usize], values: Vec<T>) -> Self {
        let capacity = values.capacity();
        match ArrayD::from_shape_vec(IxDyn(shape), values) {
            Ok(array) => Pooled {
                array: Some(array),
                keep: true,
                capacity,
            },
            Err(_) => unreachable!("the engine sizes its buffers to their shape"),
        }
    }

    /// `array` (any array the engine computed), its buffer returned to the pool when
    /// dropped.
    pub(super) fn new(array: ArrayD<T>) -> Self {
        Pooled {
            capacity: array.len(),
            array: Some(array),
            keep: true,
        }
    }

    /// As `self`, but freed when dropped rather than kept: for a contraction that must not
    /// hold more memory than it uses (the slices of a network planned under a memory limit).
    pub(super) fn freed(mut self) -> Self {
        self.keep = false;
        self
    }

    /// The array.
    #[inline]
    pub(super) fn array(&self) -> &ArrayD<T> {
        match &self.array {
            Some(array) => array,
            None => unreachable!("the array is only taken out when `self` goes"),
        }
    }

    /// A view of the array.
    #[inline]
    pub(super) fn view(&self) -> ArrayViewD<'_, T> {
        self.array().view()
    }

    /// A mutable view of the array.
    #[inline]
    pub(super) fn view_mut(&mut self) -> ArrayViewMutD<'_, T> {
        match &mut self.array {
            Some(array) => array.view_mut(),
            None => unreachable!("the array is only taken out when `self` goes"),
        }
    }

    /// The array, leaving the pool (an owned result). A buffer with much more room than the
    /// array needs (taken for a smaller array than it once held) stays in the pool, and the
    /// array is copied instead.
    pub(super) fn into_array(mut self) -> ArrayD<T> {
        let Some(array) = self.array.take() else {
            unreachable!("the array is only taken out when `self` goes")
        };
        if self.capacity > 2 * array.len().max(16) {
            let copy = array.to_owned();
            self.array = Some(array);
            return copy;
        }
        array
    }
}

impl<T: 'static> Drop for Pooled<T> {
    fn drop(&mut self) {
        if let Some(array) = self.array.take() {
            if self.keep {
                give(array.into_raw_vec_and_offset().0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many `T` buffers this thread's pool holds.
    fn kept<T: 'static>() -> usize {
        with_buffers::<T, _>(|buffers| buffers.free.len()).unwrap_or_default()
    }

    /// Empties this thread's pool of `T` buffers (the tests' threads start empty; this keeps
    /// them independent however the harness runs them).
    fn clear<T: 'static>() {
        with_buffers::<T, _>(|buffers| {
            buffers.free.clear();
            buffers.bytes = 0;
        });
    }

    #[test]
    fn a_dropped_array_lends_its_buffer_to_the_next_request_that_fits() {
        clear::<f64>();
        clear::<f32>();
        let array = Pooled::<f64>::from_shape_vec(&[4, 8], vec![1.0; 32]);
        let address = array.view().as_ptr();
        drop(array);
        assert_eq!(kept::<f64>(), 1);
        // Too large: the pool cannot serve it, and keeps its buffer.
        assert!(take::<f64>(33).is_none());
        // Smaller fits, in the same memory, with exactly the length asked for.
        let values = take::<f64>(20).unwrap();
        assert_eq!((values.len(), values.as_ptr()), (20, address));
        assert_eq!(kept::<f64>(), 0);
        // Another element type has a pool of its own.
        drop(Pooled::<f32>::from_shape_vec(&[3], vec![0.0; 3]));
        assert_eq!((kept::<f32>(), kept::<f64>()), (1, 0));
    }

    #[test]
    fn a_grown_buffer_is_filled_not_left_uninitialised() {
        clear::<i64>();
        let mut values = vec![7i64; 10];
        values.truncate(2);
        drop(Pooled::from_shape_vec(&[2], values));
        // The buffer holds 2 elements but has room for 10: the other 8 are zeros.
        let values = take::<i64>(10).unwrap();
        assert_eq!(values, [7, 7, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn what_the_pool_keeps_is_bounded() {
        clear::<u8>();
        clear::<u16>();
        // Too large to keep.
        let n = MAX_BUFFER_BYTES / size_of::<u8>() + 1;
        drop(Pooled::<u8>::from_shape_vec(&[n], vec![0; n]));
        assert_eq!(kept::<u8>(), 0);
        // At most MAX_BUFFERS, the oldest freed first.
        for size in 1..=MAX_BUFFERS + 3 {
            drop(Pooled::<u8>::from_shape_vec(&[size], vec![0; size]));
        }
        assert_eq!(kept::<u8>(), MAX_BUFFERS);
        assert!(
            take::<u8>(3).is_some_and(|v| v.capacity() == 4),
            "1..=3 were freed"
        );
        // At most MAX_POOL_BYTES in all.
        let quarter = MAX_POOL_BYTES / 4;
        for _ in 0..5 {
            drop(Pooled::<u16>::from_shape_vec(
                &[quarter / 2],
                vec![0; quarter / 2],
            ));
        }
        assert_eq!(kept::<u16>(), 4);
        let bytes = with_buffers::<u16, _>(|buffers| buffers.bytes).unwrap();
        assert_eq!(bytes, MAX_POOL_BYTES);
    }

    #[test]
    fn freed_arrays_and_owned_results_do_not_return() {
        clear::<u32>();
        drop(Pooled::<u32>::from_shape_vec(&[5], vec![1; 5]).freed());
        assert_eq!(kept::<u32>(), 0);
        let owned = Pooled::<u32>::from_shape_vec(&[5], vec![1; 5]).into_array();
        assert_eq!(owned.shape(), &[5]);
        assert_eq!(kept::<u32>(), 0);
        // A buffer with far more room than its array is kept, and the result is a copy.
        let mut values = Vec::with_capacity(1000);
        values.extend([1u32, 2, 3]);
        let address = values.as_ptr();
        let owned = Pooled::<u32>::from_shape_vec(&[3], values).into_array();
        assert_eq!(owned.as_slice(), Some(&[1, 2, 3][..]));
        assert_ne!(owned.as_ptr(), address);
        assert_eq!(kept::<u32>(), 1);
    }
}
