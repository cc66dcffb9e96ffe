//! Models as collections of parameters, and one training step on a model.

use super::{OptimError, Optimizer};
use crate::autograd::Var;
use crate::Float;
use ndarray::ArrayD;

/// A model: a fixed, ordered list of parameters that an [`Optimizer`] can walk. Both methods
/// list the same parameters in the same order, which is the order of the leaves that
/// [`train_step`] passes to the loss.
///
/// Implemented for a single `ArrayD<T>` (a model with one parameter), and for `Vec`s,
/// arrays and tuples (up to four) of modules, whose parameters are those of their elements in
/// order. A struct implements it by listing its fields:
///
/// ```
/// use einsum_runtime::autograd::Var;
/// use einsum_runtime::optim::{train_step, Module, Sgd, SgdConfig};
/// use ndarray::{array, Array2, ArrayD};
///
/// /// y = w x + b, fitted to points on y = 2x + 1.
/// struct Line {
///     w: ArrayD<f64>,
///     b: ArrayD<f64>,
/// }
///
/// impl Module<f64> for Line {
///     fn parameters(&self) -> Vec<&ArrayD<f64>> {
///         vec![&self.w, &self.b]
///     }
///     fn parameters_mut(&mut self) -> Vec<&mut ArrayD<f64>> {
///         vec![&mut self.w, &mut self.b]
///     }
/// }
///
/// let x = Var::constant(array![0.0, 1.0, 2.0, 3.0]);
/// let y = Var::constant(array![1.0, 3.0, 5.0, 7.0]);
/// let mut line = Line { w: ndarray::arr0(0.0).into_dyn(), b: ndarray::arr0(0.0).into_dyn() };
/// let mut sgd = Sgd::new(SgdConfig { lr: 0.05, momentum: 0.5, ..Default::default() });
/// for _ in 0..500 {
///     train_step(&mut line, &mut sgd, |p| {
///         let [w, b] = p else { unreachable!("two parameters") };
///         let error = &(&(&x * w) + b) - &y; // w and b broadcast over the points
///         (&error * &error).mean()
///     })?;
/// }
/// assert!((line.w[[]] - 2.0).abs() < 1e-6 && (line.b[[]] - 1.0).abs() < 1e-6);
/// assert_eq!(line.num_parameters(), 2);
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
pub trait Module<T: Float> {
    /// The parameters, in a fixed order.
    ///
    /// ```
    /// use einsum_runtime::optim::Module;
    /// use ndarray::{ArrayD, IxDyn};
    /// let model = vec![ArrayD::<f64>::zeros(IxDyn(&[2, 3])), ArrayD::zeros(IxDyn(&[3]))];
    /// let shapes: Vec<_> = model.parameters().iter().map(|p| p.shape().to_vec()).collect();
    /// assert_eq!(shapes, [vec![2, 3], vec![3]]);
    /// ```
    fn parameters(&self) -> Vec<&ArrayD<T>>;

    /// The parameters, mutably, in the order of [`parameters`](Module::parameters).
    ///
    /// ```
    /// use einsum_runtime::optim::Module;
    /// use ndarray::{ArrayD, IxDyn};
    /// let mut model = (ArrayD::<f64>::zeros(IxDyn(&[2])), ArrayD::<f64>::zeros(IxDyn(&[])));
    /// for p in model.parameters_mut() {
    ///     p.fill(1.0);
    /// }
    /// assert_eq!(model.1[[]], 1.0);
    /// ```
    fn parameters_mut(&mut self) -> Vec<&mut ArrayD<T>>;

    /// The total number of scalar parameters (elements of all the arrays).
    ///
    /// ```
    /// use einsum_runtime::optim::Module;
    /// use ndarray::{ArrayD, IxDyn};
    /// assert_eq!(ArrayD::<f64>::zeros(IxDyn(&[3, 3, 3])).num_parameters(), 27);
    /// ```
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.len()).sum()
    }
}

/// A single array is a model with one parameter: itself.
///
/// ```
/// use einsum_runtime::optim::Module;
/// let mut x = ndarray::array![1.0, 2.0].into_dyn();
/// assert_eq!(x.parameters_mut().len(), 1);
/// ```
impl<T: Float> Module<T> for ArrayD<T> {
    fn parameters(&self) -> Vec<&ArrayD<T>> {
        vec![self]
    }

    fn parameters_mut(&mut self) -> Vec<&mut ArrayD<T>> {
        vec![self]
    }
}

/// The parameters of each element, in order.
///
/// ```
/// use einsum_runtime::optim::Module;
/// let layers = vec![ndarray::array![1.0].into_dyn(), ndarray::array![2.0, 3.0].into_dyn()];
/// assert_eq!(layers.num_parameters(), 3);
/// ```
impl<T: Float, M: Module<T>> Module<T> for Vec<M> {
    fn parameters(&self) -> Vec<&ArrayD<T>> {
        self.iter().flat_map(Module::parameters).collect()
    }

    fn parameters_mut(&mut self) -> Vec<&mut ArrayD<T>> {
        self.iter_mut().flat_map(Module::parameters_mut).collect()
    }
}

/// The parameters of each element, in order.
///
/// ```
/// use einsum_runtime::optim::Module;
/// let pair = [ndarray::array![1.0].into_dyn(), ndarray::array![2.0].into_dyn()];
/// assert_eq!(pair.parameters()[1][[0]], 2.0);
/// ```
impl<T: Float, M: Module<T>, const N: usize> Module<T> for [M; N] {
    fn parameters(&self) -> Vec<&ArrayD<T>> {
        self.iter().flat_map(Module::parameters).collect()
    }

    fn parameters_mut(&mut self) -> Vec<&mut ArrayD<T>> {
        self.iter_mut().flat_map(Module::parameters_mut).collect()
    }
}

/// Modules for tuples of modules: the parameters of each field, in order.
macro_rules! tuple_modules {
    ($(($($name:ident $index:tt),+))*) => {$(
        /// The parameters of each field, in order.
        ///
        /// ```
        /// use einsum_runtime::optim::Module;
        /// let weights_and_bias = (ndarray::Array2::<f64>::zeros((2, 3)).into_dyn(), ndarray::Array1::zeros(2).into_dyn());
        /// assert_eq!(weights_and_bias.num_parameters(), 8);
        /// ```
        impl<T: Float, $($name: Module<T>),+> Module<T> for ($($name,)+) {
            fn parameters(&self) -> Vec<&ArrayD<T>> {
                let mut all = Vec::new();
                $(all.extend(self.$index.parameters());)+
                all
            }

            fn parameters_mut(&mut self) -> Vec<&mut ArrayD<T>> {
                let mut all = Vec::new();
                $(all.extend(self.$index.parameters_mut());)+
                all
            }
        }
    )*};
}

tuple_modules! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
}

/// One training step: makes a leaf [`Var`] holding a copy of each of `model`'s parameters,
/// computes `loss` from them (the leaves come in the order of [`Module::parameters`]),
/// back-propagates, and lets `optimizer` update the parameters. Returns the loss's value,
/// computed before the update.
///
/// A parameter the loss does not depend on gets a zero gradient. (PyTorch would skip it;
/// here it still takes a step, which moves it when the optimizer has momentum or weight decay.)
///
/// # Errors
///
/// - [`OptimError::LossNotScalar`] when the loss does not have exactly one element;
/// - [`OptimError::LossWithoutGradient`] when the model has parameters but the loss depends
///   on none of them (say, it was computed inside [`no_grad`](crate::autograd::no_grad));
/// - any error of [`Optimizer::step`], non-finite gradients included.
///
/// In every case the parameters are left untouched.
///
/// ```
/// use einsum_runtime::autograd::Var;
/// use einsum_runtime::optim::{train_step, Adam, AdamConfig};
/// use ndarray::{array, ArrayD};
///
/// let target = Var::constant(array![1.0, -2.0, 0.5]);
/// let mut x: ArrayD<f64> = ArrayD::zeros(ndarray::IxDyn(&[3]));
/// let mut adam = Adam::new(AdamConfig { lr: 0.1, ..Default::default() });
/// let first = train_step(&mut x, &mut adam, |p| {
///     let d = &p[0] - &target;
///     (&d * &d).sum()
/// })?;
/// assert_eq!(first, 1.0 + 4.0 + 0.25); // the loss at x = 0, before the update
/// # Ok::<(), einsum_runtime::optim::OptimError>(())
/// ```
pub fn train_step<T, M, O, F>(model: &mut M, optimizer: &mut O, loss: F) -> Result<T, OptimError>
where
    T: Float,
    M: Module<T> + ?Sized,
    O: Optimizer<T> + ?Sized,
    F: FnOnce(&[Var<T>]) -> Var<T>,
{
    let leaves: Vec<Var<T>> = model
        .parameters()
        .into_iter()
        .map(|p| Var::new(p.clone()))
        .collect();
    let loss = loss(&leaves);
    if loss.len() != 1 {
        return Err(OptimError::LossNotScalar {
            shape: loss.shape().to_vec(),
        });
    }
    if !leaves.is_empty() && !loss.requires_grad() {
        return Err(OptimError::LossWithoutGradient);
    }
    let value = loss.item();
    let gradients = loss.backward();
    drop(loss);
    let grads: Vec<ArrayD<T>> = leaves
        .iter()
        .map(|leaf| {
            gradients
                .grad(leaf)
                .unwrap_or_else(|| ArrayD::zeros(leaf.value().raw_dim()))
        })
        .collect();
    drop(gradients);
    drop(leaves);
    optimizer.step(&mut model.parameters_mut(), &grads)?;
    Ok(value)
}
