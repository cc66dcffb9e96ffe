//! Optimizers on non-finite gradients: an error by default, or a skipped step, or a step
//! taken, as each config's `non_finite` policy says.

use einsum_runtime::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, NonFinite, OptimError, Optimizer, RmsProp, RmsPropConfig,
    Sgd, SgdConfig,
};
use ndarray::{array, ArrayD};

fn optimizers(policy: NonFinite) -> Vec<Box<dyn Optimizer<f64>>> {
    vec![
        Box::new(Sgd::new(SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            non_finite: policy,
            ..Default::default()
        })),
        Box::new(Adam::new(AdamConfig {
            non_finite: policy,
            ..Default::default()
        })),
        Box::new(AdamW::new(AdamWConfig {
            non_finite: policy,
            ..Default::default()
        })),
        Box::new(RmsProp::new(RmsPropConfig {
            non_finite: policy,
            ..Default::default()
        })),
    ]
}

fn bad() -> ArrayD<f64> {
    array![0.5, f64::NEG_INFINITY].into_dyn()
}

#[test]
fn error_is_the_default_and_names_parameter_index_and_value() {
    assert_eq!(NonFinite::default(), NonFinite::Error);
    for mut opt in optimizers(NonFinite::Error) {
        let mut x = array![1.0, 2.0].into_dyn();
        let mut y = array![3.0].into_dyn();
        let err = opt
            .step(&mut [&mut y, &mut x], &[array![1.0].into_dyn(), bad()])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "non-finite gradient for parameter 1: -inf at index [1]; the step was refused and \
             the parameters are unchanged"
        );
        assert!(matches!(
            err,
            OptimError::NonFiniteGradient { parameter: 1, .. }
        ));
        assert_eq!(
            (x, y),
            (array![1.0, 2.0].into_dyn(), array![3.0].into_dyn())
        );
    }
}

#[test]
fn skip_leaves_parameters_and_state_as_they_were() {
    for (mut skipping, mut fresh) in optimizers(NonFinite::Skip)
        .into_iter()
        .zip(optimizers(NonFinite::Error))
    {
        let good = array![0.5, -0.25].into_dyn();
        let (mut x, mut z) = (array![1.0, 2.0].into_dyn(), array![1.0, 2.0].into_dyn());
        skipping
            .step(&mut [&mut x], std::slice::from_ref(&good))
            .unwrap();
        skipping.step(&mut [&mut x], &[bad()]).unwrap(); // skipped
        assert!(x.iter().all(|v| v.is_finite()));
        skipping
            .step(&mut [&mut x], std::slice::from_ref(&good))
            .unwrap();
        // The same as two good steps: the skipped one left no trace in the state.
        fresh
            .step(&mut [&mut z], std::slice::from_ref(&good))
            .unwrap();
        fresh.step(&mut [&mut z], &[good]).unwrap();
        assert_eq!(x, z);
    }
}

#[test]
fn ignore_and_check_finite_false_take_the_step() {
    for mut opt in optimizers(NonFinite::Ignore) {
        let mut x = array![1.0, 2.0].into_dyn();
        opt.step(&mut [&mut x], &[array![f64::NAN, 1.0].into_dyn()])
            .unwrap();
        assert!(x[[0]].is_nan(), "NaN propagates as IEEE says");
        assert!(x[[1]].is_finite());
    }
    // `check_finite: false` wins over any policy.
    let mut sgd = Sgd::new(SgdConfig {
        check_finite: false,
        non_finite: NonFinite::Error,
        ..Default::default()
    });
    let mut x = array![1.0].into_dyn();
    sgd.step(&mut [&mut x], &[array![f64::INFINITY].into_dyn()])
        .unwrap();
    assert_eq!(x[[0]], f64::NEG_INFINITY);
}
