//! A small reverse-mode autograd on ndarray: [`Var`] handles, the operations the demos need,
//! [`Var::backward`], gradients of gradients, and a functional API ([`grad`], [`jacobian`],
//! [`hessian`], [`batch_jacobian`], [`batch_hessian`]).
//!
//! # A first example
//!
//! ```
//! use einsum_runtime::autograd::Var;
//! use ndarray::arr0;
//!
//! // z = x * y^5 at x = 3, y = 7: dz/dx = y^5 = 16807 and dz/dy = 5 x y^4 = 36015.
//! let x = Var::new(arr0(3.0));
//! let y = Var::new(arr0(7.0));
//! let z = &x * &y.powi(5);
//! let grads = z.backward();
//! assert_eq!(grads.grad(&x).unwrap()[[]], 16807.0);
//! assert_eq!(grads.grad(&y).unwrap()[[]], 36015.0);
//! ```
//!
//! # How the graph is recorded
//!
//! There is no tape object to create or pass around. Each [`Var`] is a reference-counted
//! node that holds its value, the operation that made it and handles to that operation's
//! inputs; every node gets an id from a counter when it is created. Because an operation's
//! inputs always exist before its output, sorting the nodes an output depends on by
//! decreasing id is a reverse topological order: the tape is recovered from the ids when
//! [`Var::backward`] runs, restricted to what the output actually depends on.
//!
//! Why not a thread-local tape or an explicit `Tape` handle:
//! - a graph lives exactly as long as the `Var`s that reach it, so a training loop that drops
//!   its loss each step frees each step's graph with no `tape.clear()` to forget;
//! - functions that compute with `Var`s take `&Var` and nothing else, so the functional API
//!   ([`jacobian`], [`hessian`]) can call any `Fn(&Var<T>) -> Var<T>`;
//! - recording the backward pass itself (for gradients of gradients) needs no special case:
//!   the backward pass builds `Var`s with the same operations as the forward pass.
//!
//! The only per-thread state is the grad mode that [`no_grad`] switches off. `Var` uses
//! [`Rc`](std::rc::Rc), so a graph belongs to one thread (`Var` is not `Send`).
//!
//! # What is recorded
//!
//! A `Var` *requires grad* when it is a leaf made with [`Var::new`], or the result of an
//! operation with at least one input that requires grad while grad mode is on. Everything else
//! (constants from [`Var::constant`], results of [`Var::detach`], anything computed inside
//! [`no_grad`]) is a constant: it keeps no handles to its inputs and gradients stop there.
//!
//! # Operations and their derivatives
//!
//! Each operation is one variant of a private `Op` enum, whose forward and backward are two
//! exhaustive `match`es next to each other, so an operation without a derivative does not
//! compile. The backward of every operation is written with differentiable `Var` operations,
//! so with [`Var::backward_with_graph`] or [`grad_vars`] a gradient is itself a `Var` that
//! can be differentiated again, and [`hessian`] is exact, not finite differences.
//!
//! Binary operations broadcast as numpy does; the gradient of a broadcast operand is summed
//! over the axes it was broadcast along. [`Var::einsum`] is one node whose backward is again a
//! contraction (see [`crate::engine::vjp`]).
//!
//! # Functional API and layouts
//!
//! | function | `f` | result shape |
//! |---|---|---|
//! | [`grad`] | `in -> []` | `in` |
//! | [`jacobian`] | `in -> out` | `out ++ in` |
//! | [`hessian`] | `in -> out` | `out ++ in ++ in` |
//! | [`batch_jacobian`] | `[b, in] -> [b, out]`, rows independent | `[b, out, in]` |
//! | [`batch_hessian`] | `[b, in] -> [b, out]`, rows independent | `[b, out, in, in]` |

mod backward;
mod broadcast;
mod einsum;
mod functional;
mod grad_mode;
mod op;
mod ops;
mod var;

pub use crate::Float;
pub use backward::{grad_vars, Gradients};
pub use functional::{batch_hessian, batch_jacobian, grad, hessian, jacobian};
pub use grad_mode::{is_grad_enabled, no_grad};
pub use var::Var;
