//! Training through `train_step` on modules: convergence end to end, the order of
//! parameters in the built-in modules, and the errors `train_step` adds to the optimizer's.

use einsum_runtime::autograd::{no_grad, Var};
use einsum_runtime::optim::{
    train_step, Adam, AdamConfig, CosineAnnealing, Module, OptimError, Optimizer, Scheduled, Sgd,
    SgdConfig,
};
use ndarray::{array, ArrayD, IxDyn};

/// A 3x3x3 target with distinct entries of both signs.
fn target() -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(&[3, 3, 3]), |ix| {
        let (i, j, k) = (ix[0] as f64, ix[1] as f64, ix[2] as f64);
        (i - 1.0) * 0.7 + (j * 1.3 - k * 0.4).sin()
    })
}

/// A model with a tensor and a bias, as a user would write it.
struct TensorAndBias {
    tensor: ArrayD<f64>,
    bias: ArrayD<f64>,
}

impl Module<f64> for TensorAndBias {
    fn parameters(&self) -> Vec<&ArrayD<f64>> {
        vec![&self.tensor, &self.bias]
    }

    fn parameters_mut(&mut self) -> Vec<&mut ArrayD<f64>> {
        vec![&mut self.tensor, &mut self.bias]
    }
}

#[test]
fn adam_minimises_squared_distance_to_a_target_tensor() {
    let target_value = target();
    let target = Var::constant(target_value.clone());
    let mut x = ArrayD::<f64>::zeros(IxDyn(&[3, 3, 3]));
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut losses = Vec::new();
    for _ in 0..3000 {
        let loss = train_step(&mut x, &mut adam, |p| {
            let d = &p[0] - &target;
            (&d * &d).sum()
        })
        .unwrap();
        losses.push(loss);
        if loss < 1e-10 {
            break;
        }
    }
    let last = *losses.last().unwrap();
    assert!(last < 1e-10, "loss {last} after {} steps", losses.len());
    assert_eq!(losses[0], target_value.iter().map(|t| t * t).sum::<f64>());
    let max_error = (&x - &target_value)
        .iter()
        .fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(max_error < 1e-5, "max error {max_error}");
}

#[test]
fn adam_fits_a_struct_module_with_two_parameters() {
    // y_i = sum_jk T_ijk a_j b_k + c_i for fixed a, b: underdetermined (30 unknowns, 3
    // equations), so only the loss is checked, and that both parameters were trained.
    let a = Var::constant(array![1.0, -0.5, 0.25]);
    let b = Var::constant(array![0.5, 2.0, -1.0]);
    let y = Var::constant(array![0.3, -1.2, 2.0]);
    let mut model = TensorAndBias {
        tensor: ArrayD::zeros(IxDyn(&[3, 3, 3])),
        bias: ArrayD::zeros(IxDyn(&[3])),
    };
    assert_eq!(model.num_parameters(), 30);
    let mut opt = Scheduled::new(
        Adam::new(AdamConfig {
            lr: 0.05,
            ..Default::default()
        }),
        CosineAnnealing {
            t_max: 2000,
            eta_min: 1e-4,
        },
    );
    let mut loss = f64::INFINITY;
    for _ in 0..2000 {
        loss = train_step(&mut model, &mut opt, |p| {
            let [tensor, bias] = p else {
                unreachable!("two parameters")
            };
            let predicted = &Var::einsum("ijk,j,k->i", &[tensor, &a, &b]).unwrap() + bias;
            let error = &predicted - &y;
            (&error * &error).sum()
        })
        .unwrap();
    }
    assert!(loss < 1e-12, "loss {loss}");
    assert!(model.bias.iter().all(|&c| c != 0.0));
    assert!(model.tensor.iter().all(|&t| t != 0.0));
}

#[test]
fn train_step_returns_the_loss_before_the_update() {
    let mut x = array![3.0].into_dyn();
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.25,
        ..Default::default()
    });
    // loss x^2, gradient 2x: x = 3 -> 3 - 0.25 * 6 = 1.5 -> 0.75.
    let loss = |p: &[Var<f64>]| (&p[0] * &p[0]).sum();
    assert_eq!(train_step(&mut x, &mut sgd, loss).unwrap(), 9.0);
    assert_eq!(x[[0]], 1.5);
    assert_eq!(train_step(&mut x, &mut sgd, loss).unwrap(), 2.25);
    assert_eq!(x[[0]], 0.75);
}

#[test]
fn train_step_gives_unused_parameters_a_zero_gradient() {
    let mut model = (array![2.0].into_dyn(), array![5.0].into_dyn());
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.5,
        ..Default::default()
    });
    train_step(&mut model, &mut sgd, |p| (&p[0] * &p[0]).sum()).unwrap();
    assert_eq!(model.0[[0]], 0.0); // 2 - 0.5 * 4
    assert_eq!(model.1[[0]], 5.0); // no gradient: unchanged by plain SGD
}

#[test]
fn train_step_refuses_a_loss_with_more_than_one_element() {
    let mut x = array![1.0, 2.0].into_dyn();
    let mut adam = Adam::new(AdamConfig::default());
    let err = train_step(&mut x, &mut adam, |p| &p[0] * &p[0]).unwrap_err();
    assert_eq!(err, OptimError::LossNotScalar { shape: vec![2] });
    assert_eq!(
        err.to_string(),
        "the loss must have one element, not shape [2]: reduce it, e.g. with `sum`"
    );
    assert_eq!(x, array![1.0, 2.0].into_dyn());
}

#[test]
fn train_step_refuses_a_loss_that_does_not_depend_on_the_parameters() {
    let mut x = array![1.0, 2.0].into_dyn();
    let mut sgd = Sgd::new(SgdConfig::default());
    let err = train_step(&mut x, &mut sgd, |p| no_grad(|| (&p[0] * &p[0]).sum())).unwrap_err();
    assert_eq!(err, OptimError::LossWithoutGradient);
    let err = train_step(&mut x, &mut sgd, |_| Var::scalar(1.0)).unwrap_err();
    assert_eq!(err, OptimError::LossWithoutGradient);
    assert_eq!(x, array![1.0, 2.0].into_dyn());
}

#[test]
fn train_step_refuses_non_finite_gradients_and_keeps_the_parameters() {
    // d/dx sqrt(x) at 0 is infinite.
    let mut model = vec![array![4.0].into_dyn(), array![0.0, 1.0].into_dyn()];
    let mut adam = Adam::new(AdamConfig::default());
    let err = train_step(&mut model, &mut adam, |p| &p[0].sum() + &p[1].sqrt().sum()).unwrap_err();
    assert!(
        matches!(err, OptimError::NonFiniteGradient { parameter: 1, ref index, .. } if index == &[0]),
        "{err:?}"
    );
    assert_eq!(
        model,
        vec![array![4.0].into_dyn(), array![0.0, 1.0].into_dyn()]
    );
    assert_eq!(adam.steps(), 0);
}

#[test]
fn built_in_modules_list_parameters_in_order() {
    let a = array![1.0].into_dyn();
    let b = array![2.0, 2.0].into_dyn();
    let c = array![3.0, 3.0, 3.0].into_dyn();
    let vec_model = vec![a.clone(), b.clone(), c.clone()];
    let lens: Vec<usize> = vec_model.parameters().iter().map(|p| p.len()).collect();
    assert_eq!(lens, [1, 2, 3]);
    let array_model = [a.clone(), b.clone()];
    assert_eq!(array_model.parameters()[1], &b);
    let mut nested = (a.clone(), vec![b.clone(), c.clone()], [a.clone()]);
    let firsts: Vec<f64> = nested.parameters().iter().map(|p| p[[0]]).collect();
    assert_eq!(firsts, [1.0, 2.0, 3.0, 1.0]);
    let firsts_mut: Vec<f64> = nested.parameters_mut().iter().map(|p| p[[0]]).collect();
    assert_eq!(firsts, firsts_mut);
    assert_eq!(nested.num_parameters(), 7);
    let four = (a.clone(), b.clone(), c.clone(), a);
    assert_eq!(four.num_parameters(), 7);
}

#[test]
fn dyn_optimizer_and_unsized_module_work_with_train_step() {
    let mut x = array![1.0].into_dyn();
    let model: &mut dyn Module<f64> = &mut x;
    let opt: &mut dyn Optimizer<f64> = &mut Sgd::new(SgdConfig {
        lr: 0.5,
        ..Default::default()
    });
    train_step(model, opt, |p| (&p[0] * &p[0]).sum()).unwrap();
    assert_eq!(x[[0]], 0.0);
}

#[test]
fn f32_training_converges() {
    let target = Var::constant(array![0.5f32, -1.5, 2.0]);
    let mut x = ArrayD::<f32>::zeros(IxDyn(&[3]));
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05f32,
        ..Default::default()
    });
    let mut loss = f32::INFINITY;
    for _ in 0..1000 {
        loss = train_step(&mut x, &mut adam, |p| {
            let d = &p[0] - &target;
            (&d * &d).sum()
        })
        .unwrap();
    }
    assert!(loss < 1e-6, "loss {loss}");
}
