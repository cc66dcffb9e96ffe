//! Diagonals as strided views, shared by the forward pass (an operand with a repeated slot is
//! read along its diagonal) and the gradient (the gradient of such an operand is written into
//! its diagonal).
//!
//! The diagonal over a repeated slot is a view with one axis per distinct slot, whose stride is
//! the sum of the strides of the axes with that slot: element `(i, i)` of a matrix with strides
//! `(s0, s1)` sits at `i * (s0 + s1)`. No element is copied.

use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, ShapeBuilder};
use smallvec::SmallVec;

/// A short list of slots, extents or strides, on the stack for the usual ranks.
pub(super) type Slots = SmallVec<[usize; 8]>;

/// The layout of the diagonal of an array whose axes have `slots`, `shape` and `strides`: one
/// axis per distinct slot, in order of first occurrence.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Layout {
    /// The distinct slots, in order of first occurrence.
    pub(super) slots: Slots,
    /// The extent of each: the longest of its axes.
    pub(super) shape: Slots,
    /// The stride of each: the sum of the strides of its axes as long as that extent. A
    /// shorter axis (extent 1 along a longer slot) broadcasts and takes no part.
    pub(super) strides: SmallVec<[isize; 8]>,
}

impl Layout {
    /// The diagonal layout for axes with these slots, extents and strides (`None` when every
    /// slot is distinct: the array is its own diagonal).
    pub(super) fn of(slots: &[usize], shape: &[usize], strides: &[isize]) -> Option<Layout> {
        let repeated = (1..slots.len()).any(|a| slots[..a].contains(&slots[a]));
        if !repeated {
            return None;
        }
        let mut layout = Layout {
            slots: Slots::new(),
            shape: Slots::new(),
            strides: SmallVec::new(),
        };
        for (axis, &slot) in slots.iter().enumerate() {
            if !layout.slots.contains(&slot) {
                let extent = (axis..slots.len())
                    .filter(|&a| slots[a] == slot)
                    .map(|a| shape[a])
                    .max()
                    .unwrap_or(1);
                layout.slots.push(slot);
                layout.shape.push(extent);
                layout.strides.push(0);
            }
        }
        for (axis, &slot) in slots.iter().enumerate() {
            let Some(p) = layout.slots.iter().position(|&s| s == slot) else {
                unreachable!("every slot was listed above")
            };
            if shape[axis] == layout.shape[p] {
                layout.strides[p] += strides[axis];
            }
        }
        Some(layout)
    }

    /// The shape and strides as ndarray wants them (strides as `usize`, negative ones wrapped).
    fn stride_shape(&self) -> ndarray::StrideShape<IxDyn> {
        let strides: Slots = self.strides.iter().map(|&s| s as usize).collect();
        IxDyn(&self.shape).strides(IxDyn(&strides))
    }
}

/// The diagonal of `view` over its repeated slots (`slots[a]` is the slot of axis `a`), as a
/// view of the same elements, with the distinct slots in order of first occurrence. Axes of
/// one slot must have equal extents.
///
/// `Err(view)` gives the view back when no view can express the diagonal without `unsafe`
/// code: a diagonal over only some axes of an operand whose elements are not one contiguous
/// block of memory (a sliced or broadcast view). The caller then copies it.
pub(super) fn view<'a, T>(
    view: ArrayViewD<'a, T>,
    slots: &[usize],
) -> Result<(ArrayViewD<'a, T>, Slots), ArrayViewD<'a, T>> {
    let Some(layout) = Layout::of(slots, view.shape(), view.strides()) else {
        return Ok((view, slots.iter().copied().collect()));
    };
    if layout.slots.len() == 1 {
        // Every axis has the same slot: ndarray's own diagonal, for any strides.
        return Ok((view.into_diag().into_dyn(), layout.slots));
    }
    let Some(memory) = view.to_slice_memory_order() else {
        return Err(view);
    };
    // `memory` starts at the view's lowest address; the diagonal's lowest element is
    // `origin + lowest_offset` where the view's origin sits `-view_lowest` into `memory`.
    let view_lowest = lowest_offset(view.shape(), view.strides());
    let start = (lowest_offset(&layout.shape, &layout.strides) - view_lowest).unsigned_abs();
    match ArrayViewD::from_shape(layout.stride_shape(), &memory[start..]) {
        Ok(diagonal) => Ok((diagonal, layout.slots)),
        Err(_) => unreachable!("the diagonal reaches a subset of the view's elements"),
    }
}

/// The offset, from the element at index 0 of every axis, of the lowest-addressed element an
/// array with this shape and these strides reaches (`<= 0`).
fn lowest_offset(shape: &[usize], strides: &[isize]) -> isize {
    shape
        .iter()
        .zip(strides)
        .map(|(&n, &s)| {
            if s < 0 && n > 0 {
                s * (n as isize - 1)
            } else {
                0
            }
        })
        .sum()
}

/// The diagonal of `data`, the elements of a fresh array in standard layout with `shape` and
/// `strides`, over the repeated slots of its axes, as a mutable view (its axes are the
/// distinct slots in order of first occurrence; an axis of extent 1 along a longer slot takes
/// no part). `None` when every slot is distinct.
///
/// # Panics
///
/// When the strides do not describe `data` (never for a fresh array's own).
pub(super) fn view_mut<'a, T>(
    data: &'a mut [T],
    slots: &[usize],
    shape: &[usize],
    strides: &[isize],
) -> Option<(ArrayViewMutD<'a, T>, Slots)> {
    let layout = Layout::of(slots, shape, strides)?;
    match ArrayViewMutD::from_shape(layout.stride_shape(), data) {
        Ok(diagonal) => Some((diagonal, layout.slots)),
        Err(_) => unreachable!("distinct slots index distinct elements of a contiguous array"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array3, Array4};

    /// `a[i, j, i]` as an owned array indexed `(i, j)`.
    fn want_iji(a: &ArrayViewD<'_, f64>) -> ndarray::ArrayD<f64> {
        let (n, m) = (a.shape()[0], a.shape()[1]);
        ndarray::Array2::from_shape_fn((n, m), |(i, j)| a[[i, j, i]]).into_dyn()
    }

    #[test]
    fn layout_sums_strides_of_repeated_slots() {
        let layout = Layout::of(&[0, 1, 0], &[2, 3, 2], &[6, 2, 1]).unwrap();
        assert_eq!(layout.slots.as_slice(), &[0, 1]);
        assert_eq!(layout.shape.as_slice(), &[2, 3]);
        assert_eq!(layout.strides.as_slice(), &[7, 2]);
        assert!(Layout::of(&[0, 1], &[2, 3], &[3, 1]).is_none());
        // An axis of extent 1 along a longer slot broadcasts: no stride of its own.
        let layout = Layout::of(&[0, 0], &[1, 4], &[4, 1]).unwrap();
        assert_eq!((layout.shape[0], layout.strides[0]), (4, 1));
    }

    #[test]
    fn diagonal_views_copy_nothing_in_every_contiguous_layout() {
        let a = Array3::from_shape_fn((3, 4, 3), |(i, j, k)| (100 * i + 10 * j + k) as f64);
        let mut reversed = a.view();
        reversed.invert_axis(ndarray::Axis(0));
        let mut reversed_last = a.view();
        reversed_last.invert_axis(ndarray::Axis(2));
        let permuted = a.view().permuted_axes([2, 1, 0]);
        let fortran = a.t().as_standard_layout().into_owned();
        let fortran = fortran.t();
        for v in [a.view(), reversed, reversed_last, permuted, fortran] {
            let v = v.into_dyn();
            let want = want_iji(&v);
            let Ok((d, slots)) = view(v.clone(), &[0, 1, 0]) else {
                panic!("contiguous views give a diagonal view")
            };
            assert_eq!(slots.as_slice(), &[0, 1]);
            assert_eq!(d, want, "strides {:?}", v.strides());
            // The same elements, not a copy.
            let memory = v.to_slice_memory_order().unwrap().as_ptr_range();
            assert!(d.iter().all(|x| memory.contains(&std::ptr::from_ref(x))));
        }
    }

    #[test]
    fn full_diagonals_are_views_for_any_strides() {
        let a = Array4::from_shape_fn((5, 5, 5, 5), |(i, j, k, l)| {
            (i * 1000 + j * 100 + k * 10 + l) as f64
        });
        let v = a.slice(s![..;2, ..;-2, 1..4, 2..]);
        let want: Vec<f64> = (0..3).map(|i| v[[i, i, i, i]]).collect();
        let Ok((d, slots)) = view(v.into_dyn(), &[4, 4, 4, 4]) else {
            panic!("a full diagonal is always a view")
        };
        assert_eq!(slots.as_slice(), &[4]);
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), want);
    }

    #[test]
    fn partial_diagonal_of_a_non_contiguous_view_is_handed_back() {
        let a = Array3::from_shape_fn((4, 3, 4), |(i, j, k)| (i + j + k) as f64);
        let stepped = a.slice(s![..;2, .., ..;2]).into_dyn();
        assert!(view(stepped, &[0, 1, 0]).is_err());
    }

    #[test]
    fn mutable_diagonal_writes_only_the_diagonal() {
        let mut a = ndarray::ArrayD::<f64>::zeros(IxDyn(&[2, 3, 2]));
        let strides = a.strides().to_vec();
        let shape = a.shape().to_vec();
        let data = a.as_slice_mut().unwrap();
        let (mut d, slots) = view_mut(data, &[0, 1, 0], &shape, &strides).unwrap();
        assert_eq!(slots.as_slice(), &[0, 1]);
        d.fill(1.0);
        let want = Array3::from_shape_fn((2, 3, 2), |(i, _, k)| f64::from(u8::from(i == k)));
        assert_eq!(a, want.into_dyn());
    }
}
