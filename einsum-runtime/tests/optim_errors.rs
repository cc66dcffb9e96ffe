//! Refused steps: non-finite gradients, mismatched counts and shapes, invalid configs. Each
//! is an error, not a panic, and leaves the parameters and the optimizer's state untouched.

use einsum_runtime::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, OptimError, Optimizer, RmsProp, RmsPropConfig, Sgd,
    SgdConfig,
};
use ndarray::{array, ArrayD, IxDyn};

/// One of each optimizer, with state that a step would change (momentum where available).
fn every_optimizer() -> Vec<(&'static str, Box<dyn Optimizer<f64>>)> {
    vec![
        (
            "sgd",
            Box::new(Sgd::new(SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                weight_decay: 0.1,
                ..Default::default()
            })),
        ),
        (
            "adam",
            Box::new(Adam::new(AdamConfig {
                lr: 0.1,
                amsgrad: true,
                ..Default::default()
            })),
        ),
        ("adamw", Box::new(AdamW::new(AdamWConfig::default()))),
        (
            "rmsprop",
            Box::new(RmsProp::new(RmsPropConfig {
                momentum: 0.5,
                centered: true,
                ..Default::default()
            })),
        ),
    ]
}

fn params() -> (ArrayD<f64>, ArrayD<f64>) {
    (
        array![1.0, 2.0, 3.0].into_dyn(),
        array![[0.5, -0.5], [1.5, -1.5]].into_dyn(),
    )
}

fn good_grads() -> Vec<ArrayD<f64>> {
    vec![
        array![0.1, 0.2, 0.3].into_dyn(),
        array![[1.0, -1.0], [0.5, 0.25]].into_dyn(),
    ]
}

/// For every optimizer: one good step, then the step `refused` makes (which must fail), then
/// another good step. The result must equal two good steps on a fresh optimizer: the refused
/// step changed neither the parameters nor the state.
fn for_each_refused_step(mut refused: impl FnMut(&str, &mut dyn Optimizer<f64>) -> OptimError) {
    for ((name, mut opt), (_, mut fresh)) in every_optimizer().into_iter().zip(every_optimizer()) {
        let (mut a, mut b) = params();
        opt.step(&mut [&mut a, &mut b], &good_grads()).unwrap();
        let err = refused(name, &mut *opt);
        assert!(!err.to_string().is_empty());
        opt.step(&mut [&mut a, &mut b], &good_grads()).unwrap();

        let (mut c, mut d) = params();
        fresh.step(&mut [&mut c, &mut d], &good_grads()).unwrap();
        fresh.step(&mut [&mut c, &mut d], &good_grads()).unwrap();
        assert_eq!(
            (&a, &b),
            (&c, &d),
            "{name}: the refused step changed the state"
        );
    }
}

#[test]
fn nan_gradient_is_refused_and_names_the_parameter() {
    for (name, mut opt) in every_optimizer() {
        let (mut a, mut b) = params();
        let mut grads = good_grads();
        grads[1][[1, 0]] = f64::NAN;
        let err = opt.step(&mut [&mut a, &mut b], &grads).unwrap_err();
        match &err {
            OptimError::NonFiniteGradient {
                parameter,
                index,
                value,
            } => {
                assert_eq!(*parameter, 1, "{name}");
                assert_eq!(index, &[1, 0]);
                assert!(value.is_nan());
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "non-finite gradient for parameter 1: NaN at index [1, 0]; \
             the step was refused and the parameters are unchanged"
        );
        assert_eq!((a, b), params(), "{name}: parameters changed");
    }
}

#[test]
fn infinite_gradients_are_refused_after_good_steps_without_touching_anything() {
    for_each_refused_step(|name, opt| {
        let (mut a, mut b) = params();
        let mut grads = good_grads();
        grads[0][[2]] = f64::NEG_INFINITY;
        grads[1][[0, 0]] = f64::NAN; // a later parameter: the first offender is reported
        let err = opt.step(&mut [&mut a, &mut b], &grads).unwrap_err();
        assert!(
            matches!(err, OptimError::NonFiniteGradient { parameter: 0, ref index, value }
                if index == &[2] && value == f64::NEG_INFINITY),
            "{name}: {err:?}"
        );
        assert_eq!((a, b), params(), "{name}");
        err
    });
}

#[test]
fn check_finite_false_lets_nan_through() {
    let mut sgd = Sgd::new(SgdConfig {
        check_finite: false,
        ..Default::default()
    });
    let mut x = array![1.0, 2.0].into_dyn();
    sgd.step(&mut [&mut x], &[array![f64::NAN, 0.0].into_dyn()])
        .unwrap();
    assert!(x[[0]].is_nan() && x[[1]] == 2.0);

    let mut adam = Adam::new(AdamConfig {
        check_finite: false,
        ..Default::default()
    });
    let mut y = array![1.0].into_dyn();
    adam.step(&mut [&mut y], &[array![f64::INFINITY].into_dyn()])
        .unwrap();
    assert!(!y[[0]].is_finite());
}

#[test]
fn gradient_count_mismatch_is_an_error() {
    for_each_refused_step(|name, opt| {
        let (mut a, mut b) = params();
        let err = opt
            .step(&mut [&mut a, &mut b], &good_grads()[..1])
            .unwrap_err();
        assert!(
            matches!(
                err,
                OptimError::GradientCount {
                    parameters: 2,
                    gradients: 1
                }
            ),
            "{name}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "1 gradients for 2 parameters: each parameter needs one gradient, in the same order"
        );
        err
    });
}

#[test]
fn gradient_shape_mismatch_is_an_error() {
    for_each_refused_step(|name, opt| {
        let (mut a, mut b) = params();
        let mut grads = good_grads();
        grads[1] = ArrayD::zeros(IxDyn(&[4]));
        let err = opt.step(&mut [&mut a, &mut b], &grads).unwrap_err();
        assert_eq!(
            err,
            OptimError::GradientShape {
                parameter: 1,
                parameter_shape: vec![2, 2],
                gradient_shape: vec![4],
            },
            "{name}"
        );
        assert_eq!(
            err.to_string(),
            "the gradient of parameter 1 has shape [4], but the parameter has shape [2, 2]"
        );
        assert_eq!((a, b), params());
        err
    });
}

#[test]
fn gradient_shape_mismatch_at_the_first_step_is_an_error() {
    for (name, mut opt) in every_optimizer() {
        let mut x = array![1.0, 2.0].into_dyn();
        let err = opt
            .step(&mut [&mut x], &[array![1.0, 2.0, 3.0].into_dyn()])
            .unwrap_err();
        assert!(matches!(err, OptimError::GradientShape { .. }), "{name}");
        // The refused first step did not fix the shapes: another shape works next.
        let mut y = array![1.0, 2.0, 3.0].into_dyn();
        opt.step(&mut [&mut y], &[array![1.0, 2.0, 3.0].into_dyn()])
            .unwrap();
    }
}

#[test]
fn changing_the_number_of_parameters_is_an_error() {
    for_each_refused_step(|name, opt| {
        let (mut a, _) = params();
        let err = opt.step(&mut [&mut a], &good_grads()[..1]).unwrap_err();
        assert!(
            matches!(
                err,
                OptimError::ParameterCountChanged {
                    previous: 2,
                    now: 1
                }
            ),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("call `reset` first"));
        err
    });
}

#[test]
fn changing_a_parameter_shape_is_an_error() {
    for_each_refused_step(|name, opt| {
        let (_, mut b) = params();
        let mut a = array![[1.0, 2.0, 3.0]].into_dyn(); // [1, 3] instead of [3]
        let grads = vec![array![[0.1, 0.2, 0.3]].into_dyn(), good_grads()[1].clone()];
        let err = opt.step(&mut [&mut a, &mut b], &grads).unwrap_err();
        assert_eq!(
            err,
            OptimError::ParameterShapeChanged {
                parameter: 0,
                previous: vec![3],
                now: vec![1, 3],
            },
            "{name}"
        );
        assert_eq!(
            err.to_string(),
            "parameter 0 had shape [3] at the previous steps but has shape [1, 3] now: pass \
             the same parameters in the same order at every step, or call `reset` first"
        );
        assert_eq!(a, array![[1.0, 2.0, 3.0]].into_dyn());
        err
    });
}

#[test]
fn reset_accepts_new_parameters() {
    for (name, mut opt) in every_optimizer() {
        let (mut a, mut b) = params();
        opt.step(&mut [&mut a, &mut b], &good_grads()).unwrap();
        opt.reset();
        let mut c = array![1.0].into_dyn();
        opt.step(&mut [&mut c], &[array![1.0].into_dyn()])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn empty_parameter_lists_are_fine() {
    for (_, mut opt) in every_optimizer() {
        opt.step(&mut [], &[]).unwrap();
        opt.step(&mut [], &[]).unwrap();
    }
}

#[test]
fn invalid_configs_are_errors_from_try_new() {
    let cases: Vec<(OptimError, &str)> = vec![
        (
            Sgd::try_new(SgdConfig {
                lr: -0.1,
                ..Default::default()
            })
            .unwrap_err(),
            "sgd: `lr` must be a finite number >= 0, not -0.1",
        ),
        (
            Sgd::try_new(SgdConfig {
                momentum: 0.9,
                dampening: 0.1,
                nesterov: true,
                ..Default::default()
            })
            .unwrap_err(),
            "sgd: `nesterov` needs `momentum` > 0 and `dampening` == 0",
        ),
        (
            Adam::try_new(AdamConfig {
                betas: (1.0, 0.999),
                ..Default::default()
            })
            .unwrap_err(),
            "adam: `betas.0` must be in [0, 1), not 1.0",
        ),
        (
            Adam::try_new(AdamConfig {
                eps: f64::NAN,
                ..Default::default()
            })
            .unwrap_err(),
            "adam: `eps` must be a finite number >= 0, not NaN",
        ),
        (
            AdamW::try_new(AdamWConfig {
                lr: f64::INFINITY,
                ..Default::default()
            })
            .unwrap_err(),
            "adamw: `lr` must be a finite number >= 0, not inf",
        ),
        (
            RmsProp::try_new(RmsPropConfig {
                momentum: -0.5,
                ..Default::default()
            })
            .unwrap_err(),
            "rmsprop: `momentum` must be a finite number >= 0, not -0.5",
        ),
    ];
    for (err, message) in cases {
        assert!(matches!(err, OptimError::InvalidConfig { .. }));
        assert_eq!(err.to_string(), message);
    }
}

#[test]
#[should_panic(expected = "adam: `betas.1` must be in [0, 1), not 1.5")]
fn new_panics_on_an_invalid_config() {
    let _ = Adam::new(AdamConfig {
        betas: (0.9, 1.5),
        ..Default::default()
    });
}

#[test]
fn errors_are_std_errors() {
    fn takes(_: &dyn std::error::Error) {}
    let err = OptimError::LossWithoutGradient;
    takes(&err);
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(boxed
        .to_string()
        .starts_with("the loss does not depend on any parameter"));
}
