//! The elements of an engine [`Tensor`](super::Tensor): borrowed from an operand, owned by
//! the engine, or shared with the store of intermediates ([`Intermediates`](super::Intermediates)),
//! so that a stored intermediate is read where it is, never copied in or out of the store.

use super::pool::Pooled;
use crate::Element;
use ndarray::{ArrayD, ArrayViewD};
use std::sync::Arc;

/// Where a tensor's elements live.
pub(super) enum Data<'a, T: 'static> {
    /// A view of an operand (possibly a strided diagonal or a broadcast view).
    View(ArrayViewD<'a, T>),
    /// An array the engine computed and nothing else holds.
    Owned(ArrayD<T>),
    /// An array the engine computed whose buffer goes back to the thread's pool.
    Pooled(Pooled<T>),
    /// An array the store of intermediates holds too.
    Shared(Arc<ArrayD<T>>),
}

impl<T: Element> Data<'_, T> {
    /// A view of the elements.
    #[inline]
    pub(super) fn view(&self) -> ArrayViewD<'_, T> {
        match self {
            Data::View(view) => view.view(),
            Data::Owned(array) => array.view(),
            Data::Pooled(array) => array.view(),
            Data::Shared(array) => array.view(),
        }
    }

    /// The extent of each axis.
    #[inline]
    pub(super) fn shape(&self) -> &[usize] {
        match self {
            Data::View(view) => view.shape(),
            Data::Owned(array) => array.shape(),
            Data::Pooled(array) => array.array().shape(),
            Data::Shared(array) => array.shape(),
        }
    }

    /// Whether the elements are in row-major order without gaps.
    #[inline]
    pub(super) fn is_standard_layout(&self) -> bool {
        match self {
            Data::View(view) => view.is_standard_layout(),
            Data::Owned(array) => array.is_standard_layout(),
            Data::Pooled(array) => array.array().is_standard_layout(),
            Data::Shared(array) => array.is_standard_layout(),
        }
    }

    /// Whether the elements are borrowed from an operand.
    #[cfg(test)]
    pub(super) fn is_view(&self) -> bool {
        matches!(self, Data::View(_))
    }
}

impl<T: Element> Data<'_, T> {
    /// The elements as an owned array in their current layout: free when owned, a copy when
    /// borrowed or still shared with the store.
    pub(super) fn into_owned(self) -> ArrayD<T> {
        match self {
            Data::View(view) => view.to_owned(),
            Data::Owned(array) => array,
            Data::Pooled(array) => array.into_array(),
            Data::Shared(array) => {
                Arc::try_unwrap(array).unwrap_or_else(|shared| (*shared).clone())
            }
        }
    }
}

impl<'a, T: 'static> From<ArrayViewD<'a, T>> for Data<'a, T> {
    fn from(view: ArrayViewD<'a, T>) -> Self {
        Data::View(view)
    }
}

impl<T: 'static> From<ArrayD<T>> for Data<'_, T> {
    fn from(array: ArrayD<T>) -> Self {
        Data::Owned(array)
    }
}

impl<T: 'static> From<Pooled<T>> for Data<'_, T> {
    fn from(array: Pooled<T>) -> Self {
        Data::Pooled(array)
    }
}
