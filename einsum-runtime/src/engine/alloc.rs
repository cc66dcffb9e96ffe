//! Sizes checked, and memory asked for fallibly, before the engine builds an array.
//!
//! Every output, intermediate and gradient the engine builds goes through [`reserve`] or
//! [`vec`] first. Both check, from the shape alone (O(rank)), that the element count fits
//! `usize` and the byte count fits `isize::MAX` (what `Vec` and ndarray accept), and turn a
//! request the allocator refuses into [`ShapeError::AllocationFailed`] instead of the process
//! abort that `Vec::with_capacity` or `ArrayD::zeros` would cause.
//!
//! [`vec`] returns the reserved `Vec` itself, for arrays the engine fills element by element.
//! [`reserve`] is for arrays that ndarray allocates (`zeros`, `sum_axis`, `dot`, copies):
//! from [`PROBE_BYTES`] on it asks for the memory with `Vec::try_reserve_exact` and releases
//! it at once, so that a refusal is reported; ndarray's own allocation of the same size right
//! after then succeeds. Building those arrays from a reserved `Vec` instead would cost a
//! zeroing pass: `ArrayD::zeros` gets fresh zeroed pages from `calloc` without touching them.
//! Below `PROBE_BYTES` (1 GiB) nothing is probed. A probe is not free: freeing the probed
//! block can let glibc return the top of its heap to the OS, so ndarray's allocation right
//! after gets fresh pages and pays a page fault per 4 KiB. A threshold of 1 MiB made the
//! gradients of `bi,bjik,bk->bj` (b = 256, n = 16; an 8 MiB gradient) several times slower,
//! call after call (`benches/README.md`, "Figures from code comments"). From 1 GiB up the
//! probe's cost is noise against the work, and a request below it that the allocator refuses
//! means the process is out of memory everywhere.

use einsum_spec::{Buffer, ShapeError};

/// From this many bytes on, [`reserve`] probes the allocator.
const PROBE_BYTES: usize = 1 << 30;

/// The number of elements of an array of `shape`, when such an array can exist: the product
/// of its non-zero extents fits `isize` (ndarray's rule, for empty arrays too) and its bytes
/// fit `isize::MAX`.
pub(crate) fn elements<T>(what: Buffer, shape: &[usize]) -> Result<usize, ShapeError> {
    let too_large = || ShapeError::TooLarge {
        what,
        shape: shape.to_vec(),
        element_size: size_of::<T>(),
    };
    let non_zero = shape
        .iter()
        .filter(|&&e| e != 0)
        .try_fold(1usize, |acc, &e| acc.checked_mul(e))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(too_large)?;
    let elements = if shape.contains(&0) { 0 } else { non_zero };
    match elements.checked_mul(size_of::<T>()) {
        Some(bytes) if bytes <= isize::MAX as usize => Ok(elements),
        _ => Err(too_large()),
    }
}

/// Checks that an array of `shape` can be built ([`elements`]) and, for a large one, that the
/// allocator grants its memory. Returns the element count.
pub(crate) fn reserve<T>(what: Buffer, shape: &[usize]) -> Result<usize, ShapeError> {
    let n = elements::<T>(what, shape)?;
    let bytes = n * size_of::<T>();
    if bytes >= PROBE_BYTES {
        let mut probe: Vec<T> = Vec::new();
        probe
            .try_reserve_exact(n)
            .map_err(|_| ShapeError::AllocationFailed {
                what,
                shape: shape.to_vec(),
                bytes,
            })?;
    }
    Ok(n)
}

/// An empty `Vec` with room for exactly the elements of an array of `shape`, reserved
/// fallibly.
pub(crate) fn vec<T>(what: Buffer, shape: &[usize]) -> Result<Vec<T>, ShapeError> {
    let n = elements::<T>(what, shape)?;
    let mut values = Vec::new();
    values
        .try_reserve_exact(n)
        .map_err(|_| ShapeError::AllocationFailed {
            what,
            shape: shape.to_vec(),
            bytes: n * size_of::<T>(),
        })?;
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(elements::<f64>(Buffer::Output, &[2, 3]), Ok(6));
        assert_eq!(elements::<f64>(Buffer::Output, &[0, 1 << 40]), Ok(0));
        assert!(elements::<f64>(Buffer::Output, &[1 << 33, 1 << 33]).is_err());
        assert!(elements::<f64>(Buffer::Output, &[0, 1 << 33, 1 << 33]).is_err());
        assert!(elements::<f64>(Buffer::Output, &[1 << 61]).is_err()); // bytes
        assert_eq!(elements::<()>(Buffer::Output, &[1 << 62]), Ok(1 << 62));
        assert_eq!(reserve::<u8>(Buffer::Output, &[1 << 21]), Ok(1 << 21));
        assert_eq!(reserve::<u8>(Buffer::Output, &[1 << 31]), Ok(1 << 31));
        assert!(matches!(
            reserve::<u8>(Buffer::Output, &[(isize::MAX as usize) - 4096]),
            Err(ShapeError::AllocationFailed { .. })
        ));
    }
}
