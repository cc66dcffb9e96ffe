//! Numpy broadcasting on shapes, and its adjoint on arrays (summing over broadcast axes).

use super::Float;
use ndarray::{ArrayD, Axis, CowArray, Dimension, IxDyn};

/// The shape `a` and `b` broadcast to, as numpy aligns them (on the right, an extent of 1
/// stretching), or `None` when they do not broadcast. An `IxDyn` keeps up to four axes inline,
/// so this allocates nothing for the shapes models use.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<IxDyn> {
    let rank = a.len().max(b.len());
    let mut shape = IxDyn::zeros(rank);
    for (axis, out) in shape.slice_mut().iter_mut().enumerate() {
        *out = match (extent(a, rank, axis), extent(b, rank, axis)) {
            (x, y) if x == y || y == 1 => x,
            (1, y) => y,
            _ => return None,
        };
    }
    Some(shape)
}

/// Whether `a` and `b` broadcast to a common shape (without building it).
pub(crate) fn broadcast(a: &[usize], b: &[usize]) -> bool {
    let rank = a.len().max(b.len());
    (0..rank).all(|axis| {
        let (x, y) = (extent(a, rank, axis), extent(b, rank, axis));
        x == y || x == 1 || y == 1
    })
}

/// The extent of `shape` along `axis` once aligned on the right to `rank` axes: 1 for the
/// axes it lacks.
fn extent(shape: &[usize], rank: usize, axis: usize) -> usize {
    (axis + shape.len())
        .checked_sub(rank)
        .map_or(1, |from_left| shape[from_left])
}

/// Whether an array of shape `from` broadcasts to exactly `to`.
pub(crate) fn broadcasts_to(from: &[usize], to: &[usize]) -> bool {
    from.len() <= to.len()
        && (0..to.len()).all(|axis| {
            let x = extent(from, to.len(), axis);
            x == to[axis] || x == 1
        })
}

/// Sums `x` down to `shape`, which must broadcast to `x`'s shape: the leading axes `shape`
/// lacks are summed away and axes where `shape` has 1 are summed keeping the axis.
pub(crate) fn sum_to<T: Float>(x: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    // Borrowed until the first sum: no copy of `x` is made.
    let mut x = CowArray::from(x.view());
    while x.ndim() > shape.len() {
        x = x.sum_axis(Axis(0)).into();
    }
    for (axis, &extent) in shape.iter().enumerate() {
        if extent == 1 && x.shape()[axis] != 1 {
            x = x.sum_axis(Axis(axis)).insert_axis(Axis(axis)).into();
        }
    }
    x.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn shapes_align_on_the_right() {
        let shape = |a: &[usize], b: &[usize]| broadcast_shape(a, b).map(|s| s.slice().to_vec());
        assert_eq!(shape(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(shape(&[], &[2]), Some(vec![2]));
        assert_eq!(shape(&[2], &[3]), None);
        assert!(broadcast(&[2, 1, 3], &[4, 1]) && broadcast(&[], &[2]) && !broadcast(&[2], &[3]));
        assert!(broadcasts_to(&[1, 3], &[2, 3]));
        assert!(!broadcasts_to(&[2, 3], &[1, 3]));
    }

    #[test]
    fn sum_to_sums_broadcast_axes() {
        let x = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
        assert_eq!(sum_to(&x, &[2]), array![4.0, 6.0].into_dyn());
        assert_eq!(sum_to(&x, &[2, 1]), array![[3.0], [7.0]].into_dyn());
        assert_eq!(sum_to(&x, &[]), ndarray::arr0(10.0).into_dyn());
    }
}
