//! Numpy broadcasting on shapes, and its adjoint on arrays (summing over broadcast axes).

use super::Float;
use ndarray::{ArrayD, Axis};

/// The shape `a` and `b` broadcast to, as numpy aligns them (on the right, an extent of 1
/// stretching), or `None` when they do not broadcast.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let extent = |shape: &[usize], axis: usize| {
        (axis + shape.len())
            .checked_sub(rank)
            .map_or(1, |from_left| shape[from_left])
    };
    (0..rank)
        .map(|axis| match (extent(a, axis), extent(b, axis)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// Whether an array of shape `from` broadcasts to exactly `to`.
pub(crate) fn broadcasts_to(from: &[usize], to: &[usize]) -> bool {
    broadcast_shape(from, to).is_some_and(|shape| shape == to)
}

/// Sums `x` down to `shape`, which must broadcast to `x`'s shape: the leading axes `shape`
/// lacks are summed away and axes where `shape` has 1 are summed keeping the axis.
pub(crate) fn sum_to<T: Float>(x: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    let mut x = x.clone();
    while x.ndim() > shape.len() {
        x = x.sum_axis(Axis(0));
    }
    for (axis, &extent) in shape.iter().enumerate() {
        if extent == 1 && x.shape()[axis] != 1 {
            x = x.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn shapes_align_on_the_right() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shape(&[], &[2]), Some(vec![2]));
        assert_eq!(broadcast_shape(&[2], &[3]), None);
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
