//! Learning-rate schedules: their values at given steps, and their effect through
//! `Scheduled` on the steps an optimizer takes.

use einsum_runtime::optim::{
    Adam, AdamConfig, CosineAnnealing, Exponential, Optimizer, Schedule, Scheduled, Sgd, SgdConfig,
    StepDecay,
};
use ndarray::array;
use std::f64::consts::PI;

#[track_caller]
fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-14 * (1.0 + expected.abs()),
        "{actual} != {expected}"
    );
}

#[test]
fn step_decay_multiplies_by_gamma_every_step_size_steps() {
    let s = StepDecay {
        step_size: 3,
        gamma: 0.5,
    };
    let rates: Vec<f64> = (0..8).map(|t| s.learning_rate(0.8, t)).collect();
    assert_eq!(rates, [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2]);
}

#[test]
fn step_decay_defaults_to_pytorch_gamma_and_treats_zero_step_size_as_one() {
    let s = StepDecay::<f64>::default();
    assert_eq!(s.gamma, 0.1);
    assert_close(s.learning_rate(1.0, 2), 0.01);
    let zero = StepDecay {
        step_size: 0,
        gamma: 0.5,
    };
    assert_eq!(zero.learning_rate(1.0, 3), 0.125);
}

#[test]
fn exponential_multiplies_by_gamma_every_step() {
    let s = Exponential { gamma: 0.9 };
    assert_eq!(s.learning_rate(0.5, 0), 0.5);
    assert_close(s.learning_rate(0.5, 1), 0.45);
    assert_close(s.learning_rate(0.5, 10), 0.5 * 0.9f64.powi(10));
}

#[test]
fn cosine_annealing_follows_half_a_cosine_then_holds() {
    let s = CosineAnnealing {
        t_max: 10,
        eta_min: 0.01,
    };
    let expected = |t: f64| 0.01 + (1.0 - 0.01) * (1.0 + (PI * t / 10.0).cos()) / 2.0;
    assert_eq!(s.learning_rate(1.0, 0), 1.0);
    for t in [1, 3, 5, 7, 9] {
        assert_close(s.learning_rate(1.0, t), expected(t as f64));
    }
    assert_close(s.learning_rate(1.0, 5), 0.505);
    assert_eq!(s.learning_rate(1.0, 10), 0.01);
    assert_eq!(s.learning_rate(1.0, 11), 0.01);
    assert_eq!(s.learning_rate(1.0, 1_000_000), 0.01);
}

#[test]
fn cosine_annealing_with_zero_t_max_is_eta_min() {
    let s = CosineAnnealing {
        t_max: 0,
        eta_min: 0.25,
    };
    assert_eq!(s.learning_rate(1.0, 0), 0.25);
}

#[test]
fn schedules_work_in_f32() {
    let s = CosineAnnealing {
        t_max: 4,
        eta_min: 0.0f32,
    };
    assert!((s.learning_rate(2.0f32, 2) - 1.0).abs() < 1e-6);
    assert_eq!(
        StepDecay {
            step_size: 1,
            gamma: 0.5f32
        }
        .learning_rate(1.0, 2),
        0.25
    );
}

#[test]
fn closures_are_schedules() {
    let warmup = |base: f64, t: usize| base * ((t + 1) as f64 / 4.0).min(1.0);
    let rates: Vec<f64> = (0..6).map(|t| warmup.learning_rate(1.0, t)).collect();
    assert_eq!(rates, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
}

/// Plain SGD with gradient -1 moves the parameter up by exactly the rate of each step, so the
/// increments are the effective rates.
fn effective_rates(opt: &mut impl Optimizer<f64>, steps: usize) -> Vec<f64> {
    let mut x = array![0.0].into_dyn();
    let mut rates = Vec::new();
    for _ in 0..steps {
        let before = x[[0]];
        opt.step(&mut [&mut x], &[array![-1.0].into_dyn()]).unwrap();
        rates.push(x[[0]] - before);
    }
    rates
}

#[test]
fn scheduled_sgd_takes_steps_of_the_scheduled_rate() {
    let sgd = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let mut opt = Scheduled::new(
        sgd,
        StepDecay {
            step_size: 2,
            gamma: 0.5,
        },
    );
    assert_eq!(
        effective_rates(&mut opt, 6),
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    );
    assert_eq!(opt.steps(), 6);
    assert_eq!(opt.learning_rate(), 0.125); // the next step's rate
    assert_eq!(opt.base_learning_rate(), 1.0);
}

#[test]
fn scheduled_cosine_rates_reach_the_optimizer() {
    let sgd = Sgd::new(SgdConfig {
        lr: 2.0,
        ..Default::default()
    });
    let schedule = CosineAnnealing {
        t_max: 4,
        eta_min: 0.0,
    };
    let mut opt = Scheduled::new(sgd, schedule);
    let rates = effective_rates(&mut opt, 6);
    let expected: Vec<f64> = (0..6).map(|t| schedule.learning_rate(2.0, t)).collect();
    for (a, e) in rates.iter().zip(&expected) {
        assert_close(*a, *e);
    }
    assert_close(rates[2], 1.0);
    assert_eq!(rates[4], 0.0);
}

#[test]
fn scheduled_adam_differs_from_unscheduled_adam_after_the_first_step() {
    let config = AdamConfig {
        lr: 0.1,
        ..Default::default()
    };
    let mut plain = Adam::new(config);
    let mut scheduled = Scheduled::new(Adam::new(config), Exponential { gamma: 0.5 });
    // Adam with a constant gradient moves by lr per step: the schedule shows directly.
    let plain_rates = effective_rates(&mut plain, 3);
    let scheduled_rates = effective_rates(&mut scheduled, 3);
    for (k, (p, s)) in plain_rates.iter().zip(&scheduled_rates).enumerate() {
        assert!((p - 0.1).abs() < 1e-8);
        assert!(
            (s - 0.1 * 0.5f64.powi(k as i32)).abs() < 1e-8,
            "{scheduled_rates:?}"
        );
    }
}

#[test]
fn set_learning_rate_on_scheduled_sets_the_base() {
    let mut opt = Scheduled::new(
        Sgd::new(SgdConfig {
            lr: 1.0,
            ..Default::default()
        }),
        Exponential { gamma: 0.5 },
    );
    effective_rates(&mut opt, 2);
    opt.set_learning_rate(4.0);
    assert_eq!(opt.base_learning_rate(), 4.0);
    assert_eq!(effective_rates(&mut opt, 1), [1.0]); // 4 * 0.5^2
}

#[test]
fn reset_restarts_the_schedule_and_a_failed_step_does_not_advance_it() {
    let mut opt = Scheduled::new(
        Sgd::new(SgdConfig {
            lr: 1.0,
            ..Default::default()
        }),
        Exponential { gamma: 0.5 },
    );
    effective_rates(&mut opt, 3);
    let mut x = array![0.0].into_dyn();
    assert!(opt
        .step(&mut [&mut x], &[array![f64::NAN].into_dyn()])
        .is_err());
    assert_eq!(opt.steps(), 3);
    opt.reset();
    assert_eq!(opt.steps(), 0);
    assert_eq!(effective_rates(&mut opt, 2), [1.0, 0.5]);
}

#[test]
fn boxed_optimizers_can_be_scheduled() {
    let inner: Box<dyn Optimizer<f64>> = Box::new(Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    }));
    let mut opt = Scheduled::new(inner, |base: f64, t: usize| base / (t + 1) as f64);
    let rates = effective_rates(&mut opt, 3);
    assert_eq!(rates[..2], [1.0, 0.5]);
    assert_close(rates[2], 1.0 / 3.0);
}
