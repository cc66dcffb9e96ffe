//! Every recorded operation, with its forward and its backward side by side.
//!
//! [`Op::forward`] and [`Op::backward`] are exhaustive `match`es over the same variants in the
//! same order: an operation added without a derivative does not compile. Every backward arm
//! is written with differentiable [`Var`] operations (never with plain arrays), so that a
//! recorded backward pass can be differentiated again. The public methods that create these
//! operations are in `ops.rs` and `einsum.rs`; their docs state the same derivatives.

use super::backward::Accumulator;
use super::broadcast::{broadcast_shape, sum_to};
use super::einsum::gradient_plan;
use super::{Float, Var};
use crate::engine::vjp::Expansion;
use einsum_spec::Contraction;
use ndarray::{ArrayD, ArrayViewD, Axis, Dimension, IxDyn, Order, Zip};
use smallvec::SmallVec;
use std::rc::Rc;

/// The operands of a contraction: up to three inline, so that recording one allocates no list.
pub(crate) type Operands<T> = SmallVec<[Var<T>; 3]>;

/// Views of the operands' values, for the engine: up to four on the stack.
type Views<'a, T> = SmallVec<[ArrayViewD<'a, T>; 4]>;

/// A recorded operation: its inputs and the parameters its forward and backward need.
pub(crate) enum Op<T: Float> {
    /// `a + b`, broadcasting.
    Add(Var<T>, Var<T>),
    /// `a - b`, broadcasting.
    Sub(Var<T>, Var<T>),
    /// `a * b`, broadcasting.
    Mul(Var<T>, Var<T>),
    /// `a / b`, broadcasting.
    Div(Var<T>, Var<T>),
    /// `-a`.
    Neg(Var<T>),
    /// `a + c` for a scalar `c`.
    AddScalar(Var<T>, T),
    /// `a * c` for a scalar `c`.
    MulScalar(Var<T>, T),
    /// `a / c` for a scalar `c`.
    DivScalar(Var<T>, T),
    /// `a^n`, elementwise.
    PowI(Var<T>, i32),
    /// `a^p`, elementwise.
    PowF(Var<T>, T),
    /// `e^a`, elementwise.
    Exp(Var<T>),
    /// `ln a`, elementwise.
    Ln(Var<T>),
    /// `sqrt a`, elementwise.
    Sqrt(Var<T>),
    /// `sin a`, elementwise.
    Sin(Var<T>),
    /// `cos a`, elementwise.
    Cos(Var<T>),
    /// `tanh a`, elementwise.
    Tanh(Var<T>),
    /// `|a|`, elementwise.
    Abs(Var<T>),
    /// The sum of all elements, a 0-dimensional value.
    Sum(Var<T>),
    /// The sum along one axis, which disappears.
    SumAxis(Var<T>, usize),
    /// The inner product of two vectors.
    Dot(Var<T>, Var<T>),
    /// Index `i` along axis 0.
    Row(Var<T>, usize),
    /// Zeros of shape `[rows] ++ shape(a)` with `a` at index `i` along axis 0.
    ScatterRow(Var<T>, usize, usize),
    /// Values of equal shapes stacked along a new axis 0.
    StackRows(Vec<Var<T>>),
    /// The same elements in row-major order, in a new shape. Shapes are `IxDyn`s, which keep
    /// up to four axes inline: recording them allocates nothing.
    Reshape(Var<T>, IxDyn),
    /// Broadcast to a shape, as numpy does.
    BroadcastTo(Var<T>, IxDyn),
    /// Summed down to a shape that broadcasts to the input's (the adjoint of `BroadcastTo`).
    SumTo(Var<T>, IxDyn),
    /// A contraction of the operands (an einsum); up to three operands inline.
    Contract(Rc<Contraction>, Operands<T>),
    /// A reduced contraction gradient spread back to an operand's shape.
    Expand(Rc<Expansion>, Var<T>),
}

impl<T: Float> Op<T> {
    /// The inputs, in order (without allocating: this runs for every recorded node).
    pub(crate) fn inputs(&self) -> impl Iterator<Item = &Var<T>> {
        let (first, many): ([Option<&Var<T>>; 2], &[Var<T>]) = match self {
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Dot(a, b) => {
                ([Some(a), Some(b)], &[])
            }
            Op::Neg(a)
            | Op::AddScalar(a, _)
            | Op::MulScalar(a, _)
            | Op::DivScalar(a, _)
            | Op::PowI(a, _)
            | Op::PowF(a, _)
            | Op::Exp(a)
            | Op::Ln(a)
            | Op::Sqrt(a)
            | Op::Sin(a)
            | Op::Cos(a)
            | Op::Tanh(a)
            | Op::Abs(a)
            | Op::Sum(a)
            | Op::SumAxis(a, _)
            | Op::Row(a, _)
            | Op::ScatterRow(a, _, _)
            | Op::Reshape(a, _)
            | Op::BroadcastTo(a, _)
            | Op::SumTo(a, _)
            | Op::Expand(_, a) => ([Some(a), None], &[]),
            Op::StackRows(vars) => ([None, None], vars.as_slice()),
            Op::Contract(_, vars) => ([None, None], vars.as_slice()),
        };
        first.into_iter().flatten().chain(many)
    }

    /// The inputs, by value (to drop a graph without recursion): clones of the handles, so
    /// that they outlive `self`.
    pub(crate) fn into_inputs(self) -> Operands<T> {
        self.inputs().cloned().collect()
    }

    /// The value. Shapes were checked when the operation was created.
    pub(crate) fn forward(&self) -> ArrayD<T> {
        match self {
            Op::Add(a, b) => zip_broadcast(a, b, |x, y| x + y),
            Op::Sub(a, b) => zip_broadcast(a, b, |x, y| x - y),
            Op::Mul(a, b) => zip_broadcast(a, b, |x, y| x * y),
            Op::Div(a, b) => zip_broadcast(a, b, |x, y| x / y),
            Op::Neg(a) => a.value().mapv(|x| -x),
            Op::AddScalar(a, c) => a.value().mapv(|x| x + *c),
            Op::MulScalar(a, c) => a.value().mapv(|x| x * *c),
            Op::DivScalar(a, c) => a.value().mapv(|x| x / *c),
            Op::PowI(a, n) => a.value().mapv(|x| x.powi(*n)),
            Op::PowF(a, p) => a.value().mapv(|x| x.powf(*p)),
            Op::Exp(a) => a.value().mapv(T::exp),
            Op::Ln(a) => a.value().mapv(T::ln),
            Op::Sqrt(a) => a.value().mapv(T::sqrt),
            Op::Sin(a) => a.value().mapv(T::sin),
            Op::Cos(a) => a.value().mapv(T::cos),
            Op::Tanh(a) => a.value().mapv(T::tanh),
            Op::Abs(a) => a.value().mapv(T::abs),
            Op::Sum(a) => ndarray::arr0(a.value().sum()).into_dyn(),
            Op::SumAxis(a, axis) => a.value().sum_axis(Axis(*axis)),
            Op::Dot(a, b) => {
                let dot = Zip::from(a.value())
                    .and(b.value())
                    .fold(T::zero(), |acc, &x, &y| acc + x * y);
                ndarray::arr0(dot).into_dyn()
            }
            Op::Row(a, i) => a.value().index_axis(Axis(0), *i).to_owned(),
            Op::ScatterRow(a, i, rows) => {
                let mut shape = IxDyn::zeros(a.ndim() + 1);
                shape[0] = *rows;
                shape.slice_mut()[1..].copy_from_slice(a.shape());
                let mut out = ArrayD::zeros(shape);
                out.index_axis_mut(Axis(0), *i).assign(a.value());
                out
            }
            Op::StackRows(vars) => {
                let views: Views<'_, T> = vars.iter().map(|v| v.value().view()).collect();
                ndarray::stack(Axis(0), &views).expect("shapes checked by `stack_rows`")
            }
            Op::Reshape(a, shape) => a
                .value()
                .to_shape((shape.clone(), Order::RowMajor))
                .expect("lengths checked by `reshape`")
                .into_owned(),
            Op::BroadcastTo(a, shape) => match a.value().as_slice() {
                Some(&[value]) => ArrayD::from_elem(shape.clone(), value),
                _ => a
                    .value()
                    .broadcast(shape.clone())
                    .expect("shapes checked by `broadcast_to`")
                    .map(|&x| x),
            },
            Op::SumTo(a, shape) => sum_to(a.value(), shape.slice()),
            Op::Contract(..) => {
                unreachable!("a contraction is recorded with its value (`Var::contract`)")
            }
            Op::Expand(expansion, a) => expansion.apply(a.value().view()),
        }
    }

    /// Adds to `acc`, for each input that requires grad, the gradient of the loss with respect
    /// to it, given `out` (this operation's result) and `g`, the gradient with respect to
    /// `out`. Broadcast operands get `g` summed over the axes they were broadcast along.
    /// Temporaries are passed to operators by value, so that constant ones (all of them when
    /// the backward pass is not recorded) take the next result in place.
    pub(crate) fn backward(&self, out: &Var<T>, g: &Var<T>, acc: &mut Accumulator<T>) {
        match self {
            // d(a + b) = da + db
            Op::Add(a, b) => {
                acc.add(a, || g.sum_to(a.shape()));
                acc.add(b, || g.sum_to(b.shape()));
            }
            // d(a - b) = da - db
            Op::Sub(a, b) => {
                acc.add(a, || g.sum_to(a.shape()));
                acc.add(b, || (-g).sum_to(b.shape()));
            }
            // d(a b) = b da + a db
            Op::Mul(a, b) => {
                acc.add(a, || (g * b).sum_to(a.shape()));
                acc.add(b, || (g * a).sum_to(b.shape()));
            }
            // d(a / b) = da / b - (a / b^2) db = da / b - (out / b) db
            Op::Div(a, b) => {
                acc.add(a, || (g / b).sum_to(a.shape()));
                acc.add(b, || (-((g * out) / b)).sum_to(b.shape()));
            }
            // d(-a) = -da
            Op::Neg(a) => acc.add(a, || -g),
            // d(a + c) = da
            Op::AddScalar(a, _) => acc.add(a, || g.clone()),
            // d(a c) = c da
            Op::MulScalar(a, c) => acc.add(a, || g * *c),
            // d(a / c) = da / c
            Op::DivScalar(a, c) => acc.add(a, || g / *c),
            // d(a^n) = n a^(n-1) da; zero for n = 0 (a constant, also at a = 0)
            Op::PowI(a, n) => {
                if *n != 0 {
                    let n_t = T::from(*n).expect("an i32 is a float");
                    acc.add(a, || g * (a.powi(*n - 1) * n_t));
                }
            }
            // d(a^p) = p a^(p-1) da
            Op::PowF(a, p) => acc.add(a, || g * (a.powf(*p - T::one()) * *p)),
            // d(e^a) = e^a da = out da
            Op::Exp(a) => acc.add(a, || g * out),
            // d(ln a) = da / a
            Op::Ln(a) => acc.add(a, || g / a),
            // d(sqrt a) = da / (2 sqrt a) = da / (2 out)
            Op::Sqrt(a) => acc.add(a, || g / (out * two::<T>())),
            // d(sin a) = cos a da
            Op::Sin(a) => acc.add(a, || g * a.cos()),
            // d(cos a) = -sin a da
            Op::Cos(a) => acc.add(a, || -(g * a.sin())),
            // d(tanh a) = (1 - tanh^2 a) da = (1 - out^2) da
            Op::Tanh(a) => acc.add(a, || g * (-(out * out) + T::one())),
            // d|a| = sign(a) da, with sign(0) = 0; sign is piecewise constant, so a constant
            Op::Abs(a) => acc.add(a, || g * Var::constant(a.value().mapv(sign))),
            // d(sum a) = sum da: the gradient is g at every element
            Op::Sum(a) => acc.add(a, || g.broadcast_to(a.shape())),
            // d(sum_axis a) = sum_axis da: g repeated along the summed axis
            Op::SumAxis(a, axis) => acc.add(a, || {
                let mut kept = IxDyn(a.shape());
                kept[*axis] = 1;
                g.reshape(kept.slice()).broadcast_to(a.shape())
            }),
            // d(a . b) = b . da + a . db
            Op::Dot(a, b) => {
                acc.add(a, || g * b);
                acc.add(b, || g * a);
            }
            // d(a[i]) = da[i]: g lands in row i, zeros elsewhere
            Op::Row(a, i) => acc.add(a, || g.scatter_row(*i, a.shape()[0])),
            // d(scatter(a)) = scatter(da): the row of g at i
            Op::ScatterRow(a, i, _) => acc.add(a, || g.row(*i)),
            // d(stack(a_k)) = stack(da_k): operand k gets row k of g
            Op::StackRows(vars) => {
                for (k, v) in vars.iter().enumerate() {
                    acc.add(v, || g.row(k));
                }
            }
            // d(reshape a) = reshape da
            Op::Reshape(a, _) => acc.add(a, || g.reshape(a.shape())),
            // broadcasting copies a, so its gradient sums g over the copies
            Op::BroadcastTo(a, _) => acc.add(a, || g.sum_to(a.shape())),
            // summing over copies, so its gradient copies g
            Op::SumTo(a, _) => acc.add(a, || g.broadcast_to(a.shape())),
            // operand k: contract g with the other operands into k's reduced axes (`vjp::plan`),
            // then spread over k's shape; both steps are nodes, so this differentiates again
            // (planned once per contraction, operand and shapes on each thread: `gradient_plan`)
            Op::Contract(contraction, vars) => {
                for (k, v) in vars.iter().enumerate() {
                    acc.try_add(v, || {
                        let (reduce, expansion) = gradient_plan(contraction, k, vars);
                        let others = vars
                            .iter()
                            .enumerate()
                            .filter(|&(j, _)| j != k)
                            .map(|(_, o)| o.clone());
                        let inputs: Operands<T> =
                            std::iter::once(g.clone()).chain(others).collect();
                        Ok(Var::contract(reduce, inputs)?.expand(expansion))
                    });
                }
            }
            // expanding is linear; its adjoint contraction sums along broadcast axes and takes
            // diagonals. A reduced input of extent 1 was stretched, so sum down to its shape.
            Op::Expand(expansion, a) => acc.try_add(a, || {
                let g: Operands<T> = smallvec::smallvec![g.clone()];
                Ok(Var::contract(Rc::new(expansion.adjoint()), g)?.sum_to(a.shape()))
            }),
        }
    }
}

/// `f` applied elementwise to `a` and `b` broadcast to a common shape.
fn zip_broadcast<T: Float>(a: &Var<T>, b: &Var<T>, f: impl Fn(T, T) -> T) -> ArrayD<T> {
    // The common case, equal shapes in standard layout, as one loop over two slices.
    if a.shape() == b.shape() {
        if let (Some(x), Some(y)) = (a.value().as_slice(), b.value().as_slice()) {
            let values = x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect();
            return ArrayD::from_shape_vec(a.value().raw_dim(), values)
                .expect("one value per element of `a`");
        }
    }
    let shape = broadcast_shape(a.shape(), b.shape()).expect("shapes checked by the operation");
    let a = a.value().broadcast(shape.clone()).expect("broadcasts");
    let b = b.value().broadcast(shape).expect("broadcasts");
    Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y))
}

/// The sign of `x`: -1, 0 or 1.
fn sign<T: Float>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

fn two<T: Float>() -> T {
    T::one() + T::one()
}
