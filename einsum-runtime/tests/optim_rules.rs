//! Each update rule, step by step, against an independent scalar transcription of the
//! pseudo-code in PyTorch's documentation (`torch.optim.SGD`, `Adam`, `AdamW`, `RMSprop`),
//! plus a few values worked out by hand.
//!
//! The transcriptions below follow the documented formulas literally (bias-corrected
//! `m_hat` and `v_hat`, `Option` momentum buffers), element by element, sharing no code with
//! the optimizers: the implementation uses PyTorch's algebraically rearranged form
//! (`lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`), so agreement to ~1e-12
//! checks the rearrangement too.

use einsum_runtime::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use ndarray::{array, ArrayD};

// ---------------------------------------------------------------------------------------
// Scalar transcriptions of PyTorch's documented algorithms: one parameter element each.
// ---------------------------------------------------------------------------------------

/// One element under a reference rule.
trait Reference {
    /// The element after one step from `theta` with gradient `grad`.
    fn step(&mut self, theta: f64, grad: f64) -> f64;
}

/// torch.optim.SGD:
/// ```text
/// if lambda != 0: g <- g + lambda theta
/// if mu != 0:
///     if t > 1: b <- mu b + (1 - tau) g  else: b <- g
///     if nesterov: g <- g + mu b  else: g <- b
/// theta <- theta - gamma g
/// ```
#[derive(Clone)]
struct RefSgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    b: Option<f64>,
}

impl Reference for RefSgd {
    fn step(&mut self, theta: f64, grad: f64) -> f64 {
        let mut g = grad;
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        if self.momentum != 0.0 {
            let b = match self.b {
                Some(b) => self.momentum * b + (1.0 - self.dampening) * g,
                None => g,
            };
            self.b = Some(b);
            g = if self.nesterov {
                g + self.momentum * b
            } else {
                b
            };
        }
        theta - self.lr * g
    }
}

/// torch.optim.Adam and AdamW:
/// ```text
/// AdamW: theta <- theta - gamma lambda theta
/// Adam:  if lambda != 0: g <- g + lambda theta
/// m <- beta1 m + (1 - beta1) g
/// v <- beta2 v + (1 - beta2) g^2
/// m_hat <- m / (1 - beta1^t)
/// if amsgrad: v_max <- max(v_max, v); v_hat <- v_max / (1 - beta2^t)
/// else:       v_hat <- v / (1 - beta2^t)
/// theta <- theta - gamma m_hat / (sqrt(v_hat) + eps)
/// ```
#[derive(Clone)]
struct RefAdam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled: bool,
    amsgrad: bool,
    t: i32,
    m: f64,
    v: f64,
    v_max: f64,
}

impl Reference for RefAdam {
    fn step(&mut self, theta: f64, grad: f64) -> f64 {
        self.t += 1;
        let mut theta = theta;
        let mut g = grad;
        if self.decoupled {
            theta -= self.lr * self.weight_decay * theta;
        } else if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        self.m = self.beta1 * self.m + (1.0 - self.beta1) * g;
        self.v = self.beta2 * self.v + (1.0 - self.beta2) * g * g;
        let m_hat = self.m / (1.0 - self.beta1.powi(self.t));
        let v_hat = if self.amsgrad {
            self.v_max = self.v_max.max(self.v);
            self.v_max / (1.0 - self.beta2.powi(self.t))
        } else {
            self.v / (1.0 - self.beta2.powi(self.t))
        };
        theta - self.lr * m_hat / (v_hat.sqrt() + self.eps)
    }
}

/// torch.optim.RMSprop:
/// ```text
/// if lambda != 0: g <- g + lambda theta
/// v <- alpha v + (1 - alpha) g^2
/// v_tilde <- v
/// if centered: g_ave <- alpha g_ave + (1 - alpha) g; v_tilde <- v_tilde - g_ave^2
/// if mu > 0: b <- mu b + g / (sqrt(v_tilde) + eps); theta <- theta - gamma b
/// else:      theta <- theta - gamma g / (sqrt(v_tilde) + eps)
/// ```
#[derive(Clone)]
struct RefRmsProp {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    v: f64,
    g_ave: f64,
    b: f64,
}

impl Reference for RefRmsProp {
    fn step(&mut self, theta: f64, grad: f64) -> f64 {
        let mut g = grad;
        if self.weight_decay != 0.0 {
            g += self.weight_decay * theta;
        }
        self.v = self.alpha * self.v + (1.0 - self.alpha) * g * g;
        let mut v_tilde = self.v;
        if self.centered {
            self.g_ave = self.alpha * self.g_ave + (1.0 - self.alpha) * g;
            v_tilde -= self.g_ave * self.g_ave;
        }
        if self.momentum > 0.0 {
            self.b = self.momentum * self.b + g / (v_tilde.sqrt() + self.eps);
            theta - self.lr * self.b
        } else {
            theta - self.lr * g / (v_tilde.sqrt() + self.eps)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The harness: two parameters (shapes [3] and [2, 2]) and five steps of fixed gradients,
// with mixed signs and magnitudes, and a large first gradient so that AMSGrad's maximum
// differs from the running average.
// ---------------------------------------------------------------------------------------

fn initial_params() -> Vec<ArrayD<f64>> {
    vec![
        array![0.5, -1.0, 2.0].into_dyn(),
        array![[1.5, 0.0], [-0.3, 0.8]].into_dyn(),
    ]
}

fn gradients(step: usize) -> Vec<ArrayD<f64>> {
    let table: [([f64; 3], [[f64; 2]; 2]); 5] = [
        ([4.0, -3.0, 0.25], [[10.0, -0.5], [0.01, 2.0]]),
        ([0.3, -0.2, 0.5], [[-1.0, 0.7], [0.02, -2.5]]),
        ([-0.1, 0.4, -0.6], [[0.5, 0.5], [-0.03, 1.0]]),
        ([0.2, 0.1, 0.0], [[-0.2, -0.9], [0.04, 0.3]]),
        ([-0.5, 0.3, 1.2], [[0.1, 0.2], [-0.05, -0.7]]),
    ];
    let (a, b) = table[step];
    vec![ndarray::arr1(&a).into_dyn(), ndarray::arr2(&b).into_dyn()]
}

/// The parameters after each of the five steps, from the optimizer.
fn run_optimizer(opt: &mut impl Optimizer<f64>) -> Vec<Vec<ArrayD<f64>>> {
    let mut params = initial_params();
    let mut history = Vec::new();
    for step in 0..5 {
        let mut refs: Vec<&mut ArrayD<f64>> = params.iter_mut().collect();
        opt.step(&mut refs, &gradients(step)).unwrap();
        history.push(params.clone());
    }
    history
}

/// The parameters after each of the five steps, element by element from the reference.
fn run_reference<R: Reference + Clone>(reference: &R) -> Vec<Vec<ArrayD<f64>>> {
    let mut params = initial_params();
    let mut states: Vec<Vec<R>> = params
        .iter()
        .map(|p| vec![reference.clone(); p.len()])
        .collect();
    let mut history = Vec::new();
    for step in 0..5 {
        let grads = gradients(step);
        for ((param, grad), states) in params.iter_mut().zip(&grads).zip(&mut states) {
            for ((theta, &g), state) in param.iter_mut().zip(grad.iter()).zip(states.iter_mut()) {
                *theta = state.step(*theta, g);
            }
        }
        history.push(params.clone());
    }
    history
}

#[track_caller]
fn assert_close_histories(actual: &[Vec<ArrayD<f64>>], expected: &[Vec<ArrayD<f64>>]) {
    assert_eq!(actual.len(), expected.len());
    for (step, (a, e)) in actual.iter().zip(expected).enumerate() {
        for (param, (a, e)) in a.iter().zip(e).enumerate() {
            for (x, y) in a.iter().zip(e.iter()) {
                let tolerance = 1e-12 * (1.0 + y.abs());
                assert!(
                    (x - y).abs() <= tolerance,
                    "step {} parameter {param}: {a} but the reference gives {e}",
                    step + 1
                );
            }
        }
    }
}

/// Runs both and compares after every step; returns the final parameters.
#[track_caller]
fn check_rule<R: Reference + Clone>(
    opt: &mut impl Optimizer<f64>,
    reference: &R,
) -> Vec<ArrayD<f64>> {
    let actual = run_optimizer(opt);
    let expected = run_reference(reference);
    assert_close_histories(&actual, &expected);
    // The run must actually move the parameters.
    assert_ne!(actual[4], initial_params());
    actual[4].clone()
}

// ---------------------------------------------------------------------------------------
// SGD
// ---------------------------------------------------------------------------------------

fn ref_sgd(config: SgdConfig<f64>) -> RefSgd {
    RefSgd {
        lr: config.lr,
        momentum: config.momentum,
        dampening: config.dampening,
        weight_decay: config.weight_decay,
        nesterov: config.nesterov,
        b: None,
    }
}

fn check_sgd(config: SgdConfig<f64>) -> Vec<ArrayD<f64>> {
    check_rule(&mut Sgd::new(config), &ref_sgd(config))
}

#[test]
fn sgd_plain_matches_reference() {
    check_sgd(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
}

#[test]
fn sgd_momentum_matches_reference() {
    check_sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    });
}

#[test]
fn sgd_dampening_matches_reference() {
    let damped = check_sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.3,
        ..Default::default()
    });
    let undamped = check_sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    });
    assert_ne!(damped, undamped);
}

#[test]
fn sgd_nesterov_matches_reference() {
    check_sgd(SgdConfig {
        lr: 0.05,
        momentum: 0.8,
        nesterov: true,
        ..Default::default()
    });
}

#[test]
fn sgd_weight_decay_matches_reference() {
    check_sgd(SgdConfig {
        lr: 0.1,
        weight_decay: 0.2,
        ..Default::default()
    });
    check_sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.7,
        dampening: 0.1,
        weight_decay: 0.05,
        ..Default::default()
    });
    check_sgd(SgdConfig {
        lr: 0.1,
        momentum: 0.7,
        weight_decay: 0.05,
        nesterov: true,
        ..Default::default()
    });
}

/// Scalar steps from 1.0 with gradient 1.0 each time, worked out by hand.
fn sgd_scalar_steps(config: SgdConfig<f64>, steps: usize) -> Vec<f64> {
    let mut sgd = Sgd::new(config);
    let mut x = array![1.0].into_dyn();
    (0..steps)
        .map(|_| {
            sgd.step(&mut [&mut x], &[array![1.0].into_dyn()]).unwrap();
            x[[0]]
        })
        .collect()
}

#[track_caller]
fn assert_values(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-12, "{actual:?} != {expected:?}");
    }
}

#[test]
fn sgd_momentum_with_dampening_by_hand() {
    // lr 0.1, mu 0.9, tau 0.5, g = 1: b = 1 (no dampening at the first step), 1.4, 1.76.
    let xs = sgd_scalar_steps(
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.5,
            ..Default::default()
        },
        3,
    );
    assert_values(&xs, &[0.9, 0.76, 0.584]);
}

#[test]
fn sgd_nesterov_by_hand() {
    // lr 0.1, mu 0.9, g = 1: b = 1, 1.9, 2.71; update g + mu b = 1.9, 2.71, 3.439.
    let xs = sgd_scalar_steps(
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            ..Default::default()
        },
        3,
    );
    assert_values(&xs, &[0.81, 0.539, 0.1951]);
}

#[test]
fn sgd_weight_decay_by_hand() {
    // lr 0.1, lambda 0.5, g = 1: x <- x - 0.1 (1 + 0.5 x).
    let xs = sgd_scalar_steps(
        SgdConfig {
            lr: 0.1,
            weight_decay: 0.5,
            ..Default::default()
        },
        3,
    );
    assert_values(&xs, &[0.85, 0.7075, 0.572125]);
}

// ---------------------------------------------------------------------------------------
// Adam and AdamW
// ---------------------------------------------------------------------------------------

fn ref_adam(lr: f64, weight_decay: f64, decoupled: bool, amsgrad: bool) -> RefAdam {
    RefAdam {
        lr,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay,
        decoupled,
        amsgrad,
        t: 0,
        m: 0.0,
        v: 0.0,
        v_max: 0.0,
    }
}

#[test]
fn adam_matches_reference() {
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    });
    check_rule(&mut adam, &ref_adam(0.1, 0.0, false, false));
}

#[test]
fn adam_weight_decay_matches_reference() {
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1,
        weight_decay: 0.3,
        ..Default::default()
    });
    check_rule(&mut adam, &ref_adam(0.1, 0.3, false, false));
}

#[test]
fn adam_amsgrad_matches_reference() {
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1,
        amsgrad: true,
        ..Default::default()
    });
    let with = check_rule(&mut adam, &ref_adam(0.1, 0.0, false, true));
    let without = run_optimizer(&mut Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    }));
    assert_ne!(with, without[4], "the gradients must make AMSGrad matter");
}

#[test]
fn adam_amsgrad_with_weight_decay_and_other_betas_matches_reference() {
    let mut adam = Adam::new(AdamConfig {
        lr: 0.02,
        betas: (0.8, 0.95),
        eps: 1e-6,
        weight_decay: 0.1,
        amsgrad: true,
        ..Default::default()
    });
    let mut reference = ref_adam(0.02, 0.1, false, true);
    (reference.beta1, reference.beta2, reference.eps) = (0.8, 0.95, 1e-6);
    check_rule(&mut adam, &reference);
}

#[test]
fn adamw_matches_reference() {
    let mut adamw = AdamW::new(AdamWConfig {
        lr: 0.1,
        weight_decay: 0.3,
        ..Default::default()
    });
    check_rule(&mut adamw, &ref_adam(0.1, 0.3, true, false));
}

#[test]
fn adamw_default_weight_decay_and_amsgrad_match_reference() {
    let mut adamw = AdamW::new(AdamWConfig {
        lr: 0.1,
        amsgrad: true,
        ..Default::default()
    });
    check_rule(&mut adamw, &ref_adam(0.1, 1e-2, true, true));
}

#[test]
fn adamw_differs_from_adam_with_l2() {
    let decoupled = run_optimizer(&mut AdamW::new(AdamWConfig {
        lr: 0.1,
        weight_decay: 0.3,
        ..Default::default()
    }));
    let coupled = run_optimizer(&mut Adam::new(AdamConfig {
        lr: 0.1,
        weight_decay: 0.3,
        ..Default::default()
    }));
    assert_ne!(decoupled[4], coupled[4]);
}

#[test]
fn adam_constant_gradient_moves_lr_per_step_by_hand() {
    // With a constant gradient g, m_hat = g and v_hat = g^2 at every step, so each step moves
    // the parameter by lr * g / (|g| + eps).
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    });
    let mut x = array![1.0, 1.0].into_dyn();
    let mut xs = Vec::new();
    for _ in 0..3 {
        adam.step(&mut [&mut x], &[array![2.0, -0.5].into_dyn()])
            .unwrap();
        xs.push(x.clone());
    }
    let step = |g: f64| 0.1 * g / (g.abs() + 1e-8);
    for (k, x) in xs.iter().enumerate() {
        let n = (k + 1) as f64;
        assert!((x[[0]] - (1.0 - n * step(2.0))).abs() < 1e-14);
        assert!((x[[1]] - (1.0 - n * step(-0.5))).abs() < 1e-14);
    }
}

// ---------------------------------------------------------------------------------------
// RMSprop
// ---------------------------------------------------------------------------------------

fn ref_rmsprop(config: RmsPropConfig<f64>) -> RefRmsProp {
    RefRmsProp {
        lr: config.lr,
        alpha: config.alpha,
        eps: config.eps,
        weight_decay: config.weight_decay,
        momentum: config.momentum,
        centered: config.centered,
        v: 0.0,
        g_ave: 0.0,
        b: 0.0,
    }
}

fn check_rmsprop(config: RmsPropConfig<f64>) -> Vec<ArrayD<f64>> {
    check_rule(&mut RmsProp::new(config), &ref_rmsprop(config))
}

#[test]
fn rmsprop_plain_matches_reference() {
    check_rmsprop(RmsPropConfig::default());
}

#[test]
fn rmsprop_momentum_matches_reference() {
    check_rmsprop(RmsPropConfig {
        momentum: 0.9,
        ..Default::default()
    });
}

#[test]
fn rmsprop_centered_matches_reference() {
    let centered = check_rmsprop(RmsPropConfig {
        alpha: 0.9,
        centered: true,
        ..Default::default()
    });
    let plain = check_rmsprop(RmsPropConfig {
        alpha: 0.9,
        ..Default::default()
    });
    assert_ne!(centered, plain);
}

#[test]
fn rmsprop_centered_momentum_weight_decay_matches_reference() {
    check_rmsprop(RmsPropConfig {
        lr: 0.003,
        alpha: 0.8,
        eps: 1e-6,
        weight_decay: 0.1,
        momentum: 0.5,
        centered: true,
        ..Default::default()
    });
}

#[test]
fn rmsprop_first_steps_by_hand() {
    // alpha 0.99, g = 1: v = 0.01, 0.0199, 0.029701; x <- x - 0.01 / (sqrt(v) + 1e-8).
    let mut opt = RmsProp::new(RmsPropConfig::default());
    let mut x = array![1.0].into_dyn();
    let mut expected = 1.0;
    for v in [0.01, 0.0199, 0.029701] {
        opt.step(&mut [&mut x], &[array![1.0].into_dyn()]).unwrap();
        expected -= 0.01 / (f64::sqrt(v) + 1e-8);
        assert!((x[[0]] - expected).abs() < 1e-12, "{x} != {expected}");
    }
    // 0.01 / sqrt(v) = 0.1, 0.070_888_115_5, 0.058_024_905_1 (eps shifts them by ~1e-8).
    assert!((x[[0]] - (1.0 - 0.1 - 0.070_888_115_5 - 0.058_024_905_1)).abs() < 1e-7);
}

// ---------------------------------------------------------------------------------------
// f32 and layouts
// ---------------------------------------------------------------------------------------

#[test]
fn adam_in_f32_follows_the_f64_reference() {
    let mut adam = Adam::new(AdamConfig {
        lr: 0.1f32,
        amsgrad: true,
        ..Default::default()
    });
    let mut params: Vec<ArrayD<f32>> = initial_params()
        .iter()
        .map(|p| p.mapv(|x| x as f32))
        .collect();
    let expected = run_reference(&ref_adam(0.1, 0.0, false, true));
    for (step, expected) in expected.iter().enumerate() {
        let grads: Vec<ArrayD<f32>> = gradients(step)
            .iter()
            .map(|g| g.mapv(|x| x as f32))
            .collect();
        let mut refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
        adam.step(&mut refs, &grads).unwrap();
        for (p, e) in params.iter().zip(expected) {
            for (x, y) in p.iter().zip(e) {
                assert!((f64::from(*x) - y).abs() < 1e-5, "{p} != {e}");
            }
        }
    }
}

#[test]
fn transposed_parameters_and_gradients_update_elementwise() {
    // An owned array in column-major order and a gradient in row-major order: the update
    // pairs elements by index, not by memory position.
    let mut x = array![[1.0, 2.0], [3.0, 4.0]].reversed_axes().into_dyn();
    let grad = array![[1.0, 3.0], [2.0, 4.0]].into_dyn(); // equals x elementwise
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.5,
        ..Default::default()
    });
    sgd.step(&mut [&mut x], &[grad]).unwrap();
    assert_eq!(
        x,
        ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 2])) + array![[0.5, 1.5], [1.0, 2.0]]
    );
}
