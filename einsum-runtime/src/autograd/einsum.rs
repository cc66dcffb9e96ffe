//! An einsum on `Var`s as one node, whose backward is again a contraction.

use super::op::{Op, Operands};
use super::{Float, Var};
use crate::engine::vjp::Expansion;
use crate::EinsumError;
use einsum_spec::{Contraction, ShapeError, Spec};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::rc::Rc;

/// How many resolved specs each thread keeps: a model uses a handful of specs, each called
/// on every step.
const CACHED_SPECS: usize = 32;

/// A resolved spec and what it was resolved from.
struct CachedSpec {
    spec: Box<str>,
    ranks: Box<[usize]>,
    contraction: Rc<Contraction>,
}

thread_local! {
    /// The specs resolved most recently on this thread, the most recent last. Parsing and
    /// resolving a spec costs as much as a tiny contraction, and a training loop records the
    /// same einsum on every step.
    static RESOLVED: RefCell<Vec<CachedSpec>> = const { RefCell::new(Vec::new()) };
}

/// `spec` parsed and resolved for operands of these ranks, from this thread's cache when it
/// was resolved recently.
fn resolved(spec: &str, ranks: &[usize]) -> Result<Rc<Contraction>, EinsumError> {
    let hit = RESOLVED.with_borrow(|cache| {
        cache
            .iter()
            .rev()
            .find(|entry| &*entry.spec == spec && &*entry.ranks == ranks)
            .map(|entry| Rc::clone(&entry.contraction))
    });
    if let Some(contraction) = hit {
        return Ok(contraction);
    }
    let contraction = Spec::parse(spec)
        .map_err(|errors| EinsumError::from_spec_errors(spec, errors))?
        .resolve(ranks)
        .map_err(|error| EinsumError::from_shape_error(spec, error))?;
    let contraction = Rc::new(contraction);
    RESOLVED.with_borrow_mut(|cache| {
        if cache.len() == CACHED_SPECS {
            cache.remove(0);
        }
        cache.push(CachedSpec {
            spec: spec.into(),
            ranks: ranks.into(),
            contraction: Rc::clone(&contraction),
        });
    });
    Ok(contraction)
}

/// The contraction that computes operand `k`'s reduced gradient from `[g, operands except
/// k]` and the expansion to its shape ([`vjp::plan`](crate::engine::vjp::plan)), planned once
/// per thread, contraction and shapes (the engine's memo, shared with gradients written into
/// buffers).
pub(crate) fn gradient_plan<T: Float>(
    contraction: &Contraction,
    k: usize,
    operands: &[Var<T>],
) -> (Rc<Contraction>, Rc<Expansion>) {
    let shapes: SmallVec<[&[usize]; 4]> = operands.iter().map(Var::shape).collect();
    crate::engine::gradient_plan(contraction, k, &shapes)
        .expect("shapes checked when the contraction was recorded")
}

impl<T: Float> Var<T> {
    /// The einsum `spec` of `operands` (numpy.einsum semantics, as [`einsum_dyn`](crate::einsum_dyn)),
    /// recorded as one node.
    ///
    /// Derivative: for operand `k` with term `t_k`, the upstream gradient contracted with every
    /// other operand into `t_k`'s labels ([`vjp::plan`](crate::engine::vjp::plan)), then spread
    /// over operand `k`'s shape: broadcast along labels only `t_k` has, placed on the diagonal of
    /// a repeated label, summed over axes of extent 1 that broadcast. Both steps are recorded
    /// nodes (a contraction, whose derivative is again planned this way, and an expansion,
    /// whose derivative is its adjoint contraction), so gradients of gradients are exact. An
    /// operand passed twice gets the sum of both positions' gradients.
    ///
    /// # Errors
    ///
    /// [`EinsumError`] when the spec is invalid or the operands' shapes do not fit it, or
    /// when the output or an intermediate is too large to allocate
    /// ([`ShapeError::TooLarge`](crate::spec::ShapeError::TooLarge)).
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    ///
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Var::new(array![[5.0, 6.0], [7.0, 8.0]]);
    /// let c = Var::einsum("ij,jk->ik", &[&a, &b]).unwrap();
    /// assert_eq!(c.value(), &array![[19.0, 22.0], [43.0, 50.0]].into_dyn());
    ///
    /// // d(sum(A B))/dA = 1 B^T: each row is the row sums of B.
    /// let grads = c.sum().backward();
    /// assert_eq!(grads.grad(&a).unwrap(), array![[11.0, 15.0], [11.0, 15.0]].into_dyn());
    ///
    /// // The trace of A A: gradient 2 A^T, and the same Var passed twice.
    /// let t = Var::einsum("ij,ji->", &[&a, &a]).unwrap();
    /// assert_eq!(t.backward().grad(&a).unwrap(), array![[2.0, 6.0], [4.0, 8.0]].into_dyn());
    ///
    /// assert!(Var::einsum("ij,jk->ik", &[&a]).is_err());
    /// ```
    pub fn einsum(spec: &str, operands: &[&Var<T>]) -> Result<Var<T>, EinsumError> {
        let ranks: SmallVec<[usize; 4]> = operands.iter().map(|v| v.ndim()).collect();
        let contraction = resolved(spec, &ranks)?;
        let operands = operands.iter().map(|&v| v.clone()).collect();
        Var::contract(contraction, operands)
            .map_err(|error| EinsumError::from_shape_error(spec, error))
    }

    /// Records a contraction whose operands are known to fit it. Its value is computed here,
    /// where an output or intermediate too large to allocate is an error.
    pub(crate) fn contract(
        contraction: Rc<Contraction>,
        operands: Operands<T>,
    ) -> Result<Var<T>, ShapeError> {
        let value = {
            let views: SmallVec<[ndarray::ArrayViewD<'_, T>; 4]> =
                operands.iter().map(|v| v.value().view()).collect();
            crate::engine::contract(&contraction, &views)?
        };
        Ok(Var::from_op_value(
            Op::Contract(contraction, operands),
            value,
        ))
    }

    /// Records an expansion of a reduced gradient to its operand's shape; when the expansion
    /// changes nothing, `self` is the result and no node is recorded.
    pub(crate) fn expand(&self, expansion: Rc<Expansion>) -> Var<T> {
        if expansion.is_identity() && self.shape() == expansion.target_shape() {
            self.clone()
        } else {
            Var::from_op(Op::Expand(expansion, self.clone()))
        }
    }
}
