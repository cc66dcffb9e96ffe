//! Grad mode: whether operations are recorded, per thread.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Restores the previous grad mode when dropped, also when the closure panics.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|mode| mode.set(self.0));
    }
}

/// Runs `f` with grad mode set to `enabled` on this thread.
pub(crate) fn with_grad_mode<R>(enabled: bool, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(GRAD_ENABLED.with(|mode| mode.replace(enabled)));
    f()
}

/// Runs `f` without recording: every `Var` computed inside is a constant, so no gradient flows
/// through it and no graph is kept. Leaves made with [`Var::new`](super::Var::new) inside still
/// require grad. The previous mode is restored afterwards, also when `f` panics.
///
/// ```
/// use einsum_runtime::autograd::{no_grad, Var};
/// use ndarray::arr0;
///
/// let x = Var::new(arr0(2.0));
/// let frozen = no_grad(|| &x * 3.0); // a constant 6
/// let y = &(&x * &x) + &frozen;
/// assert!(!frozen.requires_grad());
/// assert_eq!(y.backward().grad(&x).unwrap()[[]], 4.0); // only d(x^2)/dx
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    with_grad_mode(false, f)
}

/// Whether operations are being recorded on this thread (false inside [`no_grad`]).
///
/// ```
/// use einsum_runtime::autograd::{is_grad_enabled, no_grad};
/// assert!(is_grad_enabled());
/// assert!(!no_grad(is_grad_enabled));
/// ```
#[must_use]
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}
