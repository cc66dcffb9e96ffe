//! An einsum on `Var`s as one node, whose backward is again a contraction.

use super::op::Op;
use super::{Float, Var};
use crate::engine::vjp::Expansion;
use crate::EinsumError;
use einsum_spec::{Contraction, Spec};
use std::rc::Rc;

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
    /// [`EinsumError`] when the spec is invalid or the operands' shapes do not fit it.
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
        let parsed =
            Spec::parse(spec).map_err(|errors| EinsumError::from_spec_errors(spec, errors))?;
        let ranks: Vec<usize> = operands.iter().map(|v| v.ndim()).collect();
        let shape_error = |error| EinsumError::from_shape_error(spec, error);
        let contraction = parsed.resolve(&ranks).map_err(shape_error)?;
        let shapes: Vec<&[usize]> = operands.iter().map(|v| v.shape()).collect();
        contraction.bind_extents(&shapes).map_err(shape_error)?;
        let operands = operands.iter().map(|&v| v.clone()).collect();
        Ok(Var::contract(Rc::new(contraction), operands))
    }

    /// Records a contraction whose operands are known to fit it.
    pub(crate) fn contract(contraction: Rc<Contraction>, operands: Vec<Var<T>>) -> Var<T> {
        Var::from_op(Op::Contract(contraction, operands))
    }

    /// Records an expansion of a reduced gradient to its operand's shape.
    pub(crate) fn expand(&self, expansion: Rc<Expansion>) -> Var<T> {
        Var::from_op(Op::Expand(expansion, self.clone()))
    }
}
