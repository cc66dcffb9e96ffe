//! The route: how the engine evaluates one contraction on operands of given shapes. It is
//! decided here and nowhere else; `einsum!` on ndarray operands and `einsum_dyn` (through
//! [`super::without_tables`] and [`super::contract`]), the gradients ([`super::vjp`]) and
//! [`super::explain`] all ask [`Route::without_tables`] and then [`Route::with_extents`].

use super::small;
use einsum_spec::Contraction;

/// How the engine evaluates a contraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// One operand whose axes all have one slot, no output: the sum of its diagonal.
    Trace,
    /// One operand otherwise: its diagonals as a strided view, sums, one copy.
    Single,
    /// Two operands whose contraction is one matrix product: `dot` on views of them (unless
    /// their strides or the threads' threshold send it down the general path).
    MatrixProduct,
    /// Some extent is zero: the output is zeros, or empty.
    Empty,
    /// A few thousand index combinations at most: one loop nest.
    DirectLoop,
    /// Pairwise steps in a planned order.
    Pairwise,
}

impl Route {
    /// The routes that need no tables and no bound extents, decided from the operands' slots
    /// (`inputs`), the output's and the shapes; `None` for every other contraction.
    pub(crate) fn without_tables<A: AsRef<[usize]>>(
        inputs: &[A],
        output: &[usize],
        shapes: &[&[usize]],
    ) -> Option<Route> {
        match (inputs, shapes) {
            ([axes], [shape]) => Some(if output.is_empty() && is_trace(axes.as_ref(), shape) {
                Route::Trace
            } else {
                Route::Single
            }),
            ([a, b], [a_shape, b_shape]) => {
                super::matmul::is_matrix_product(a.as_ref(), b.as_ref(), output, a_shape, b_shape)
                    .then_some(Route::MatrixProduct)
            }
            _ => None,
        }
    }

    /// The route of a contraction that [`Route::without_tables`] left, or whose fast path
    /// declined, once its `extents` are bound.
    pub(crate) fn with_extents(contraction: &Contraction, extents: &[usize]) -> Route {
        if extents.contains(&0) {
            Route::Empty
        } else if contraction.inputs().len() != 1 && small::small_enough(extents) {
            Route::DirectLoop
        } else {
            Route::Pairwise
        }
    }
}

/// Whether an operand of this shape whose axes have the slots `axes` is a trace's operand
/// when the output is empty: at least one axis, every axis the same slot and the same extent.
pub(crate) fn is_trace(axes: &[usize], shape: &[usize]) -> bool {
    let one_slot = axes
        .first()
        .is_some_and(|&first| axes.len() == shape.len() && axes.iter().all(|&s| s == first));
    one_slot && shape.iter().all(|&n| Some(&n) == shape.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_a_trace_whichever_entry_asks() {
        assert_eq!(
            Route::without_tables(&[[0, 0]], &[], &[&[3, 3]]),
            Some(Route::Trace)
        );
        assert_eq!(
            Route::without_tables(&[[0, 0]], &[0], &[&[3, 3]]),
            Some(Route::Single)
        );
        assert_eq!(
            Route::without_tables(&[[0, 1]], &[], &[&[3, 3]]),
            Some(Route::Single)
        );
        // Unequal extents: the single-operand path declines and the error comes later.
        assert_eq!(
            Route::without_tables(&[[0, 0]], &[], &[&[3, 2]]),
            Some(Route::Single)
        );
    }

    #[test]
    fn matrix_products_and_the_rest() {
        let product = Route::without_tables(&[[0, 1], [1, 2]], &[0, 2], &[&[2, 3], &[3, 4]]);
        assert_eq!(product, Some(Route::MatrixProduct));
        let three: [&[usize]; 3] = [&[2], &[2], &[2]];
        assert_eq!(Route::without_tables(&[[0], [0], [0]], &[], &three), None);
        let c = einsum_spec::Spec::parse("i,i,i->")
            .unwrap()
            .resolve(&[1, 1, 1])
            .unwrap();
        assert_eq!(Route::with_extents(&c, &[0]), Route::Empty);
        assert_eq!(Route::with_extents(&c, &[100]), Route::DirectLoop);
        assert_eq!(Route::with_extents(&c, &[100_000]), Route::Pairwise);
    }
}
