//! The public operations on [`Var`]: each records one [`Op`] (whose forward and backward are
//! side by side in `op.rs`), after checking shapes so that a mistake panics at the caller's line.

use super::broadcast::{broadcast, broadcasts_to};
use super::op::Op;
use super::{Float, Var};
use core::ops::{Add, Div, Mul, Neg, Sub};
use ndarray::IxDyn;

impl<T: Float> Var<T> {
    #[track_caller]
    fn binary(&self, other: &Var<T>, name: &str, op: fn(Var<T>, Var<T>) -> Op<T>) -> Var<T> {
        assert!(
            broadcast(self.shape(), other.shape()),
            "autograd: cannot {name} shapes {:?} and {:?}: they do not broadcast",
            self.shape(),
            other.shape()
        );
        Var::from_op(op(self.clone(), other.clone()))
    }

    /// `self + other`, broadcasting as numpy does. Derivative: `d(a + b) = da + db`; the
    /// gradient of a broadcast operand is summed over the axes it was broadcast along.
    /// Also available as `&a + &b`.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::{array, arr0};
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Var::new(array![10.0, 20.0]); // broadcast along the rows
    /// let c = a.add(&b);
    /// assert_eq!(c.value(), &array![[11.0, 22.0], [13.0, 24.0]].into_dyn());
    /// let grads = c.sum().backward();
    /// assert_eq!(grads.grad(&b).unwrap(), array![2.0, 2.0].into_dyn()); // summed over rows
    /// ```
    #[must_use]
    #[track_caller]
    pub fn add(&self, other: &Var<T>) -> Var<T> {
        self.binary(other, "add", Op::Add)
    }

    /// `self - other`, broadcasting. Derivative: `d(a - b) = da - db`. Also `&a - &b`.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let a = Var::new(arr0(5.0));
    /// let b = Var::new(arr0(3.0));
    /// let grads = a.sub(&b).backward();
    /// assert_eq!((grads.grad(&a).unwrap()[[]], grads.grad(&b).unwrap()[[]]), (1.0, -1.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn sub(&self, other: &Var<T>) -> Var<T> {
        self.binary(other, "subtract", Op::Sub)
    }

    /// `self * other` elementwise, broadcasting. Derivative: `d(a b) = b da + a db`.
    /// Also `&a * &b`.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let a = Var::new(arr0(5.0));
    /// let b = Var::new(arr0(3.0));
    /// let grads = a.mul(&b).backward();
    /// assert_eq!((grads.grad(&a).unwrap()[[]], grads.grad(&b).unwrap()[[]]), (3.0, 5.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn mul(&self, other: &Var<T>) -> Var<T> {
        self.binary(other, "multiply", Op::Mul)
    }

    /// `self / other` elementwise, broadcasting. Derivative:
    /// `d(a / b) = da / b - a / b^2 db`. Also `&a / &b`.
    ///
    /// # Panics
    ///
    /// When the shapes do not broadcast.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::arr0;
    /// let a = Var::new(arr0(6.0));
    /// let b = Var::new(arr0(2.0));
    /// let grads = a.div(&b).backward();
    /// assert_eq!((grads.grad(&a).unwrap()[[]], grads.grad(&b).unwrap()[[]]), (0.5, -1.5));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn div(&self, other: &Var<T>) -> Var<T> {
        self.binary(other, "divide", Op::Div)
    }

    /// `self + c` for a scalar `c`. Derivative: `d(a + c) = da`. Also `&a + c`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(1.0));
    /// assert_eq!(a.add_scalar(2.0).item(), 3.0);
    /// assert_eq!(a.add_scalar(2.0).backward().grad(&a).unwrap()[[]], 1.0);
    /// ```
    #[must_use]
    pub fn add_scalar(&self, c: T) -> Var<T> {
        Var::from_op(Op::AddScalar(self.clone(), c))
    }

    /// `self - c` for a scalar `c`, computed as `self + (-c)`. Derivative: `d(a - c) = da`.
    /// Also `&a - c`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(1.0));
    /// assert_eq!(a.sub_scalar(2.0).item(), -1.0);
    /// ```
    #[must_use]
    pub fn sub_scalar(&self, c: T) -> Var<T> {
        self.add_scalar(-c)
    }

    /// `c - self` for a scalar `c`, computed as `(-self) + c`. Derivative: `d(c - a) = -da`.
    /// Also `c - &a` for `f32` and `f64` (a literal may need its type: `5.0_f64 - &a`).
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(1.0));
    /// assert_eq!(a.rsub_scalar(5.0).item(), 4.0);
    /// assert_eq!((5.0_f64 - &a).backward().grad(&a).unwrap()[[]], -1.0);
    /// ```
    #[must_use]
    pub fn rsub_scalar(&self, c: T) -> Var<T> {
        (-self).add_scalar(c)
    }

    /// `self * c` for a scalar `c`. Derivative: `d(a c) = c da`. Also `&a * c` and `c * &a`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(1.5));
    /// assert_eq!(a.mul_scalar(2.0).item(), 3.0);
    /// assert_eq!((2.0_f64 * &a).backward().grad(&a).unwrap()[[]], 2.0);
    /// ```
    #[must_use]
    pub fn mul_scalar(&self, c: T) -> Var<T> {
        Var::from_op(Op::MulScalar(self.clone(), c))
    }

    /// `self / c` for a scalar `c`. Derivative: `d(a / c) = da / c`. Also `&a / c`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(3.0));
    /// assert_eq!(a.div_scalar(2.0).item(), 1.5);
    /// assert_eq!((&a / 4.0).backward().grad(&a).unwrap()[[]], 0.25);
    /// ```
    #[must_use]
    pub fn div_scalar(&self, c: T) -> Var<T> {
        Var::from_op(Op::DivScalar(self.clone(), c))
    }

    /// `self^n` elementwise, for an integer `n`. Derivative: `d(a^n) = n a^(n-1) da` (zero for
    /// `n = 0`).
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(2.0));
    /// let y = a.powi(3);
    /// assert_eq!(y.item(), 8.0);
    /// assert_eq!(y.backward().grad(&a).unwrap()[[]], 12.0); // 3 a^2
    /// ```
    #[must_use]
    pub fn powi(&self, n: i32) -> Var<T> {
        Var::from_op(Op::PowI(self.clone(), n))
    }

    /// `self^p` elementwise, for a real `p`. Derivative: `d(a^p) = p a^(p-1) da`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(4.0));
    /// let y = a.powf(1.5);
    /// assert_eq!(y.item(), 8.0);
    /// assert_eq!(y.backward().grad(&a).unwrap()[[]], 3.0); // 1.5 a^0.5
    /// ```
    #[must_use]
    pub fn powf(&self, p: T) -> Var<T> {
        Var::from_op(Op::PowF(self.clone(), p))
    }

    /// `e^self` elementwise. Derivative: `d(e^a) = e^a da`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(1.0));
    /// assert_eq!(a.exp().backward().grad(&a).unwrap()[[]], 1f64.exp());
    /// ```
    #[must_use]
    pub fn exp(&self) -> Var<T> {
        Var::from_op(Op::Exp(self.clone()))
    }

    /// The natural logarithm, elementwise. Derivative: `d(ln a) = da / a`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(4.0));
    /// assert_eq!(a.ln().backward().grad(&a).unwrap()[[]], 0.25);
    /// ```
    #[must_use]
    pub fn ln(&self) -> Var<T> {
        Var::from_op(Op::Ln(self.clone()))
    }

    /// The square root, elementwise. Derivative: `d(sqrt a) = da / (2 sqrt a)`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(4.0));
    /// assert_eq!(a.sqrt().item(), 2.0);
    /// assert_eq!(a.sqrt().backward().grad(&a).unwrap()[[]], 0.25);
    /// ```
    #[must_use]
    pub fn sqrt(&self) -> Var<T> {
        Var::from_op(Op::Sqrt(self.clone()))
    }

    /// The sine, elementwise. Derivative: `d(sin a) = cos a da`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(0.3));
    /// assert_eq!(a.sin().backward().grad(&a).unwrap()[[]], 0.3f64.cos());
    /// ```
    #[must_use]
    pub fn sin(&self) -> Var<T> {
        Var::from_op(Op::Sin(self.clone()))
    }

    /// The cosine, elementwise. Derivative: `d(cos a) = -sin a da`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(0.3));
    /// assert_eq!(a.cos().backward().grad(&a).unwrap()[[]], -0.3f64.sin());
    /// ```
    #[must_use]
    pub fn cos(&self) -> Var<T> {
        Var::from_op(Op::Cos(self.clone()))
    }

    /// The hyperbolic tangent, elementwise. Derivative: `d(tanh a) = (1 - tanh^2 a) da`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// let a = Var::new(ndarray::arr0(0.0));
    /// assert_eq!(a.tanh().backward().grad(&a).unwrap()[[]], 1.0);
    /// ```
    #[must_use]
    pub fn tanh(&self) -> Var<T> {
        Var::from_op(Op::Tanh(self.clone()))
    }

    /// The absolute value, elementwise. Derivative: `d|a| = sign(a) da`, taking `sign(0) = 0`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![-2.0, 0.0, 3.0]);
    /// let grads = a.abs().sum().backward();
    /// assert_eq!(grads.grad(&a).unwrap(), array![-1.0, 0.0, 1.0].into_dyn());
    /// ```
    #[must_use]
    pub fn abs(&self) -> Var<T> {
        Var::from_op(Op::Abs(self.clone()))
    }

    /// The sum of all elements, a 0-dimensional value. Derivative: `d(sum a) = sum da`, so the
    /// gradient is the upstream gradient at every element.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.sum().item(), 10.0);
    /// assert_eq!(a.sum().backward().grad(&a).unwrap(), ndarray::Array2::ones((2, 2)).into_dyn());
    /// ```
    #[must_use]
    pub fn sum(&self) -> Var<T> {
        Var::from_op(Op::Sum(self.clone()))
    }

    /// The sum along `axis`, which disappears. Derivative: the upstream gradient repeated
    /// along `axis`.
    ///
    /// # Panics
    ///
    /// When `axis` is not an axis of the value.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let s = a.sum_axis(1);
    /// assert_eq!(s.value(), &array![3.0, 7.0].into_dyn());
    /// let grads = s.backward_with(array![1.0, 10.0].into_dyn(), false);
    /// assert_eq!(grads.grad(&a).unwrap(), array![[1.0, 1.0], [10.0, 10.0]].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn sum_axis(&self, axis: usize) -> Var<T> {
        self.check_axis(axis, "sum_axis");
        Var::from_op(Op::SumAxis(self.clone(), axis))
    }

    /// The mean of all elements: `sum / len`. Derivative: `1 / len` at every element.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![1.0, 2.0, 3.0, 6.0]);
    /// assert_eq!(a.mean().item(), 3.0);
    /// assert_eq!(a.mean().backward().grad(&a).unwrap(), array![0.25, 0.25, 0.25, 0.25].into_dyn());
    /// ```
    #[must_use]
    pub fn mean(&self) -> Var<T> {
        self.sum().div_scalar(count(self.len()))
    }

    /// The mean along `axis`, which disappears: `sum_axis / extent`.
    ///
    /// # Panics
    ///
    /// When `axis` is not an axis of the value.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![[1.0, 3.0], [5.0, 7.0]]);
    /// assert_eq!(a.mean_axis(0).value(), &array![3.0, 5.0].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn mean_axis(&self, axis: usize) -> Var<T> {
        self.check_axis(axis, "mean_axis");
        self.sum_axis(axis).div_scalar(count(self.shape()[axis]))
    }

    /// The Euclidean (L2) norm of all elements, `sqrt(sum a^2)`. Derivative:
    /// `d|a| = (a / |a|) . da`, undefined (NaN) at `a = 0`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![3.0_f64, 4.0]);
    /// assert_eq!(a.norm().item(), 5.0);
    /// let g = a.norm().backward().grad(&a).unwrap(); // a / |a|
    /// assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn norm(&self) -> Var<T> {
        (self * self).sum().sqrt()
    }

    /// The inner product of two vectors, a 0-dimensional value. Derivative:
    /// `d(a . b) = b . da + a . db`.
    ///
    /// # Panics
    ///
    /// When either value is not 1-dimensional or the lengths differ.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![1.0, 2.0]);
    /// let b = Var::new(array![3.0, 4.0]);
    /// assert_eq!(a.dot(&b).item(), 11.0);
    /// assert_eq!(a.dot(&b).backward().grad(&a).unwrap(), b.value().clone());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn dot(&self, other: &Var<T>) -> Var<T> {
        assert!(
            self.ndim() == 1 && other.ndim() == 1 && self.len() == other.len(),
            "autograd: `dot` needs two vectors of equal length, not shapes {:?} and {:?}",
            self.shape(),
            other.shape()
        );
        Var::from_op(Op::Dot(self.clone(), other.clone()))
    }

    /// Index `i` along axis 0 (row `i` of a matrix, element `i` of a vector as a
    /// 0-dimensional value). Derivative: the upstream gradient lands in row `i`, zeros
    /// elsewhere.
    ///
    /// # Panics
    ///
    /// When the value is 0-dimensional or `i` is out of range.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.row(1).value(), &array![3.0, 4.0].into_dyn());
    /// let grads = a.row(1).sum().backward();
    /// assert_eq!(grads.grad(&a).unwrap(), array![[0.0, 0.0], [1.0, 1.0]].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn row(&self, i: usize) -> Var<T> {
        assert!(
            self.ndim() >= 1 && i < self.shape()[0],
            "autograd: `row({i})` is out of range for shape {:?}",
            self.shape()
        );
        Var::from_op(Op::Row(self.clone(), i))
    }

    /// Zeros of shape `[rows] ++ shape` with `self` at index `i` along axis 0: the adjoint of
    /// [`row`](Var::row), used by its backward.
    pub(crate) fn scatter_row(&self, i: usize, rows: usize) -> Var<T> {
        Var::from_op(Op::ScatterRow(self.clone(), i, rows))
    }

    /// Stacks values of equal shapes along a new axis 0: row `k` of the result is `rows[k]`.
    /// Derivative: `rows[k]` gets row `k` of the upstream gradient.
    ///
    /// # Panics
    ///
    /// When `rows` is empty or the shapes differ.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![1.0, 2.0]);
    /// let b = Var::new(array![3.0, 4.0]);
    /// let m = Var::stack_rows(&[a.clone(), b.clone()]);
    /// assert_eq!(m.value(), &array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
    /// let grads = m.row(1).sum().backward();
    /// assert_eq!(grads.grad(&b).unwrap(), array![1.0, 1.0].into_dyn());
    /// assert_eq!(grads.grad(&a).unwrap(), array![0.0, 0.0].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn stack_rows(rows: &[Var<T>]) -> Var<T> {
        assert!(
            !rows.is_empty(),
            "autograd: `stack_rows` needs at least one row"
        );
        if let Some(odd) = rows.iter().find(|r| r.shape() != rows[0].shape()) {
            panic!(
                "autograd: `stack_rows` needs rows of equal shapes, not {:?} and {:?}",
                rows[0].shape(),
                odd.shape()
            );
        }
        Var::from_op(Op::StackRows(rows.to_vec()))
    }

    /// The same elements, in row-major order, in the shape `shape`. Derivative: the upstream
    /// gradient reshaped back.
    ///
    /// # Panics
    ///
    /// When `shape` does not have as many elements as the value.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.reshape(&[4]).value(), &array![1.0, 2.0, 3.0, 4.0].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Var<T> {
        assert!(
            shape.iter().product::<usize>() == self.len(),
            "autograd: cannot reshape shape {:?} into {shape:?}: the lengths differ",
            self.shape()
        );
        if shape == self.shape() {
            return self.clone();
        }
        Var::from_op(Op::Reshape(self.clone(), IxDyn(shape)))
    }

    /// Broadcasts to `shape` as numpy does (aligned on the right, extents of 1 stretching).
    /// Derivative: the upstream gradient summed over the broadcast axes.
    ///
    /// # Panics
    ///
    /// When the value does not broadcast to `shape`.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![1.0, 2.0]);
    /// let b = a.broadcast_to(&[3, 2]);
    /// assert_eq!(b.value().shape(), &[3, 2]);
    /// assert_eq!(b.sum().backward().grad(&a).unwrap(), array![3.0, 3.0].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Var<T> {
        assert!(
            broadcasts_to(self.shape(), shape),
            "autograd: shape {:?} does not broadcast to {shape:?}",
            self.shape()
        );
        if shape == self.shape() {
            return self.clone();
        }
        Var::from_op(Op::BroadcastTo(self.clone(), IxDyn(shape)))
    }

    /// Sums down to `shape`, a shape that broadcasts to the value's: the leading axes `shape`
    /// lacks are summed away, and axes where `shape` has extent 1 are summed keeping the axis.
    /// The adjoint of [`broadcast_to`](Var::broadcast_to); derivative: the upstream gradient
    /// broadcast back.
    ///
    /// # Panics
    ///
    /// When `shape` does not broadcast to the value's shape.
    ///
    /// ```
    /// use einsum_runtime::autograd::Var;
    /// use ndarray::array;
    /// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.sum_to(&[2]).value(), &array![4.0, 6.0].into_dyn());
    /// assert_eq!(a.sum_to(&[2, 1]).value(), &array![[3.0], [7.0]].into_dyn());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> Var<T> {
        assert!(
            broadcasts_to(shape, self.shape()),
            "autograd: cannot sum shape {:?} to {shape:?}: {shape:?} does not broadcast to it",
            self.shape()
        );
        if shape == self.shape() {
            return self.clone();
        }
        Var::from_op(Op::SumTo(self.clone(), IxDyn(shape)))
    }

    #[track_caller]
    fn check_axis(&self, axis: usize, name: &str) {
        assert!(
            axis < self.ndim(),
            "autograd: `{name}({axis})` is out of range for shape {:?}",
            self.shape()
        );
    }
}

/// `n` as a float.
fn count<T: Float>(n: usize) -> T {
    T::from(n).unwrap_or_else(T::infinity)
}

/// `-a`. Derivative: `d(-a) = -da`.
///
/// ```
/// use einsum_runtime::autograd::Var;
/// let a = Var::new(ndarray::arr0(2.0));
/// assert_eq!((-&a).item(), -2.0);
/// assert_eq!((-&a).backward().grad(&a).unwrap()[[]], -1.0);
/// ```
impl<T: Float> Neg for &Var<T> {
    type Output = Var<T>;
    fn neg(self) -> Var<T> {
        Var::from_op(Op::Neg(self.clone()))
    }
}

/// `-a`, as for `&Var`; a constant held by nothing else is negated in place.
impl<T: Float> Neg for Var<T> {
    type Output = Var<T>;
    fn neg(self) -> Var<T> {
        self.map_in_place(|x| -x).unwrap_or_else(|a| -&a)
    }
}

/// Operators between `Var`s, owned or borrowed, forwarding to the named methods. An owned
/// constant held by nothing else, of the result's shape, takes the result in place (the same
/// values and a new id: what recording would give, without a new node and array).
macro_rules! var_var_ops {
    ($($trait:ident $method:ident $f:expr),*) => {$(
        impl<T: Float> $trait<&Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, other: &Var<T>) -> Var<T> {
                Var::$method(self, other)
            }
        }
        impl<T: Float> $trait<Var<T>> for &Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, other: Var<T>) -> Var<T> {
                let f: fn(T, T) -> T = $f;
                other
                    .zip_in_place(self, |y, x| f(x, y))
                    .unwrap_or_else(|other| Var::$method(self, &other))
            }
        }
        impl<T: Float> $trait<&Var<T>> for Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, other: &Var<T>) -> Var<T> {
                let f: fn(T, T) -> T = $f;
                self.zip_in_place(other, f)
                    .unwrap_or_else(|this| Var::$method(&this, other))
            }
        }
        impl<T: Float> $trait<Var<T>> for Var<T> {
            type Output = Var<T>;
            #[track_caller]
            fn $method(self, other: Var<T>) -> Var<T> {
                let f: fn(T, T) -> T = $f;
                match self.zip_in_place(&other, f) {
                    Ok(result) => result,
                    Err(this) => $trait::$method(&this, other),
                }
            }
        }
    )*};
}
var_var_ops!(
    Add add |x, y| x + y,
    Sub sub |x, y| x - y,
    Mul mul |x, y| x * y,
    Div div |x, y| x / y
);

/// Operators between a `Var` and a scalar of its element type.
macro_rules! var_scalar_ops {
    ($($trait:ident $method:ident $scalar_method:ident $f:expr),*) => {$(
        impl<T: Float> $trait<T> for &Var<T> {
            type Output = Var<T>;
            fn $method(self, c: T) -> Var<T> {
                self.$scalar_method(c)
            }
        }
        impl<T: Float> $trait<T> for Var<T> {
            type Output = Var<T>;
            fn $method(self, c: T) -> Var<T> {
                // In place for a constant held by nothing else, as for two `Var`s.
                let f: fn(T, T) -> T = $f;
                self.map_in_place(|x| f(x, c))
                    .unwrap_or_else(|this| this.$scalar_method(c))
            }
        }
    )*};
}

// `a - c` is recorded as `a + (-c)`, so it is computed so in place too.
var_scalar_ops!(
    Add add add_scalar |x, c| x + c,
    Sub sub sub_scalar |x, c| x + -c,
    Mul mul mul_scalar |x, c| x * c,
    Div div div_scalar |x, c| x / c
);

/// Operators with the scalar on the left, for `f32` and `f64`.
macro_rules! scalar_var_ops {
    ($($t:ty),*) => {$(
        impl Add<&Var<$t>> for $t {
            type Output = Var<$t>;
            fn add(self, a: &Var<$t>) -> Var<$t> {
                a.add_scalar(self)
            }
        }
        impl Add<Var<$t>> for $t {
            type Output = Var<$t>;
            fn add(self, a: Var<$t>) -> Var<$t> {
                a + self
            }
        }
        impl Sub<&Var<$t>> for $t {
            type Output = Var<$t>;
            fn sub(self, a: &Var<$t>) -> Var<$t> {
                a.rsub_scalar(self)
            }
        }
        impl Sub<Var<$t>> for $t {
            type Output = Var<$t>;
            fn sub(self, a: Var<$t>) -> Var<$t> {
                -a + self
            }
        }
        impl Mul<&Var<$t>> for $t {
            type Output = Var<$t>;
            fn mul(self, a: &Var<$t>) -> Var<$t> {
                a.mul_scalar(self)
            }
        }
        impl Mul<Var<$t>> for $t {
            type Output = Var<$t>;
            fn mul(self, a: Var<$t>) -> Var<$t> {
                a * self
            }
        }
    )*};
}

scalar_var_ops!(f32, f64);
