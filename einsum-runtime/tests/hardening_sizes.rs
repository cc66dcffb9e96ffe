//! Hostile shapes: extents whose product overflows `usize`, outputs, intermediates and
//! gradients too large to allocate, zero-size axes, many labels and high ranks. Every case is
//! an `EinsumError` or a correct result, never a panic or an abort. The messages asserted here
//! are the error catalogue's.

use einsum_runtime::autograd::Var;
use einsum_runtime::spec::{Buffer, ShapeError};
use einsum_runtime::{einsum_dyn, einsum_vjp_dyn, explain, EinsumErrorKind};
use ndarray::{Array, ArrayD, ArrayView1, ArrayViewD, IxDyn};

/// An array of `shape` whose every element is the one element of `base`: a broadcast view
/// that occupies one element of memory.
fn spread<'a, T>(base: &'a ArrayView1<'_, T>, shape: &[usize]) -> ArrayViewD<'a, T> {
    base.broadcast(IxDyn(shape)).unwrap()
}

/// A vector of `n` ones that occupies one element of memory.
fn big<'a>(base: &'a ArrayView1<'_, f64>, n: usize) -> ArrayViewD<'a, f64> {
    spread(base, &[n])
}

fn shape_error(err: &einsum_runtime::EinsumError) -> &ShapeError {
    match err.kind() {
        EinsumErrorKind::Shape(e) => e,
        other => panic!("not a shape error: {other:?}"),
    }
}

#[test]
fn output_too_large_for_memory_is_an_error() {
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let err = einsum_dyn("i,j->ij", &[big(&one, 1 << 40), big(&one, 1 << 30)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j->ij`: the output would have shape [1099511627776, 1073741824]: \
         1180591620717411303424 elements of 8 bytes, more than one allocation may hold \
         (9223372036854775807 bytes)"
    );
    assert!(matches!(
        shape_error(&err),
        ShapeError::TooLarge {
            what: Buffer::Output,
            element_size: 8,
            ..
        }
    ));
}

#[test]
fn element_count_overflowing_usize_is_an_error() {
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let err = einsum_dyn("i,j->ij", &[big(&one, 1 << 33), big(&one, 1 << 33)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j->ij`: the output would have shape [8589934592, 8589934592]: \
         73786976294838206464 elements of 8 bytes, more than one allocation may hold \
         (9223372036854775807 bytes)"
    );
    // Four such axes: 2^132 elements, more than even `u128` counts.
    let err = einsum_dyn(
        "i,j,k,l->ijkl",
        &[
            big(&one, 1 << 33),
            big(&one, 1 << 33),
            big(&one, 1 << 33),
            big(&one, 1 << 33),
        ],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j,k,l->ijkl`: the output would have shape [8589934592, 8589934592, \
         8589934592, 8589934592]: more elements than `u128` counts"
    );
}

#[test]
fn empty_output_whose_other_extents_overflow_is_an_error() {
    // ndarray refuses even an empty array when the product of its non-zero extents
    // overflows `isize`.
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let empty = ArrayD::<f64>::zeros(IxDyn(&[0]));
    let err = einsum_dyn(
        "i,j,k->ijk",
        &[empty.view(), big(&one, 1 << 40), big(&one, 1 << 40)],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j,k->ijk`: the output would have shape [0, 1099511627776, 1099511627776]: \
         it is empty, but the product of its non-zero extents is more than \
         9223372036854775807 (ndarray's limit even for empty arrays)"
    );
    // With fitting extents, an empty output is fine.
    let got = einsum_dyn("i,j->ij", &[empty.view(), big(&one, 1 << 40)]).unwrap();
    assert_eq!(got.shape(), &[0, 1 << 40]);
}

#[test]
fn allocation_the_allocator_refuses_is_an_error() {
    // 2^37 x 2^20 bytes of u8 = 128 TiB: within isize::MAX, beyond any machine's memory.
    let one = [1u8];
    let one = ArrayView1::from(&one[..]);
    let v = |n: usize| spread(&one, &[n]);
    let err = einsum_dyn("i,j->ij", &[v(1 << 37), v(1 << 20)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j->ij`: the output of shape [137438953472, 1048576] needs \
         144115188075855872 bytes and the allocator refused them"
    );
}

#[test]
fn intermediate_too_large_is_an_error() {
    // The output is a vector, but on an (i, j, k) broadcast view the partial sum over `k`
    // alone is (2^30, 2^30) elements: 2^63 bytes. (ndarray refuses to make views of more than
    // `isize::MAX` elements, so operands themselves stay below that.)
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let cube = spread(&one, &[1 << 30, 1 << 30, 2]);
    let err = einsum_dyn("ijk->i", &[cube.view()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `ijk->i`: an intermediate result would have shape [1073741824, 1073741824]: \
         1152921504606846976 elements of 8 bytes, more than one allocation may hold \
         (9223372036854775807 bytes)"
    );
}

#[test]
fn gradient_too_large_is_an_error() {
    // The forward `i->` of a 2^61-element broadcast view is a sum (slow but finite work is
    // not asked for here); its gradient has the operand's shape: 2^64 bytes.
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let g = ndarray::arr0(1.0).into_dyn();
    let err = einsum_vjp_dyn("i->", &[big(&one, 1 << 61)], g.view()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i->`: the gradient of operand 0 would have shape [2305843009213693952]: \
         2305843009213693952 elements of 8 bytes, more than one allocation may hold \
         (9223372036854775807 bytes)"
    );
    // Within the limits but beyond memory: 2^40 elements of 8 bytes for operand 0's gradient.
    let err = einsum_vjp_dyn(
        "i,j->ij",
        &[big(&one, 1 << 40), big(&one, 1 << 20)],
        spread(&one, &[1 << 40, 1 << 20]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j->ij`: the gradient of operand 0 of shape [1099511627776] needs \
         8796093022208 bytes and the allocator refused them"
    );
}

#[test]
fn autograd_einsum_reports_too_large_outputs() {
    // Var values are owned, so the operands are real; the output is what is too large.
    let a = Var::new(ArrayD::<f64>::ones(IxDyn(&[1 << 16])));
    let err = Var::einsum("i,j,k,l->ijkl", &[&a, &a, &a, &a]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "einsum `i,j,k,l->ijkl`: the output would have shape [65536, 65536, 65536, 65536]: \
         18446744073709551616 elements of 8 bytes, more than one allocation may hold \
         (9223372036854775807 bytes)"
    );
}

#[test]
fn explain_and_the_planner_do_not_overflow() {
    let n = 1usize << 40;
    let e = explain("ij,jk,kl->il", &[&[n, n], &[n, n], &[n, n]]).unwrap();
    assert!(e.multiply_adds() >= 1 << 120); // counted in u128, saturating, never wrapped
    let _ = e.to_string();
    let e = explain("i,j,k,l->ijkl", &[&[n], &[n], &[n], &[n]]).unwrap();
    let _ = e.to_string();
    let steps = einsum_runtime::engine::plan::contraction_order(
        &[
            vec![0, 1],
            vec![1, 2],
            vec![2, 3],
            vec![3, 0],
            vec![0, 2],
            vec![1, 3],
        ],
        &[],
        &[usize::MAX; 4],
    );
    assert_eq!(steps.len(), 5);
}

#[test]
fn try_einsum_paths_report_too_large_outputs() {
    // What `try_einsum!` calls for ndarray operands.
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let err = einsum_runtime::support::contract_static::<f64, ndarray::Ix2>(
        "i,j->ij",
        &[&[0], &[1]],
        &[0, 1],
        &['i', 'j'],
        &[big(&one, 1 << 40), big(&one, 1 << 30)],
    )
    .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("einsum `i,j->ij`: the output would have shape [1099511627776, 1073741824]"));
    // A single operand: `ij->ji` of a broadcast view whose transpose copy is too large.
    let wide = spread(&one, &[1 << 40, 1 << 20]);
    let err = einsum_runtime::support::contract_static::<f64, ndarray::Ix2>(
        "ij->ji",
        &[&[0, 1]],
        &[1, 0],
        &['i', 'j'],
        &[wide.view()],
    )
    .unwrap_err();
    assert!(matches!(
        shape_error(&err),
        ShapeError::TooLarge {
            what: Buffer::Output,
            ..
        }
    ));
    let g = ndarray::arr0(1.0).into_dyn();
    let err = einsum_runtime::support::vjp_static(
        "ij->",
        &[&[0, 1]],
        &[],
        &['i', 'j'],
        &[wide.view()],
        g.view(),
        &einsum_runtime::engine::Saved::none(),
        &[0],
    )
    .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("einsum `ij->`: the gradient of operand 0 would have shape"));
}

// ---- zero-size dimensions: numpy's results on every path ----

fn zeros(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::zeros(IxDyn(shape))
}

/// (spec, operand shapes, output shape).
type Case = (&'static str, &'static [&'static [usize]], &'static [usize]);

#[test]
fn zero_size_axes_give_zeros_or_empty_arrays() {
    let ones = |shape: &[usize]| ArrayD::<f64>::ones(IxDyn(shape));
    // (spec, shapes, expected output shape); every element of the output is 0.
    let cases: &[Case] = &[
        ("ij,jk->ik", &[&[3, 0], &[0, 4]], &[3, 4]), // sum over empty k: zeros (direct loop)
        ("ij,jk->ik", &[&[80, 0], &[0, 90]], &[80, 90]), // large enough for GEMM otherwise
        ("ij,jk->ik", &[&[0, 80], &[80, 90]], &[0, 90]), // empty output
        ("i,i->", &[&[0], &[0]], &[]),               // dot over nothing
        ("i,j->ij", &[&[0], &[5000]], &[0, 5000]),   // outer product, empty
        ("ij->", &[&[0, 7]], &[]),                   // single operand sum
        ("ii->i", &[&[0, 0]], &[0]),                 // diagonal
        ("ii->", &[&[0, 0]], &[]),                   // trace
        ("bij,bjk->bik", &[&[0, 50, 50], &[0, 50, 50]], &[0, 50, 50]),
        ("bij,bjk->bik", &[&[9, 50, 0], &[9, 0, 50]], &[9, 50, 50]),
        ("...i,...i->...", &[&[2, 0, 3], &[3]], &[2, 0]),
    ];
    for &(spec, shapes, want) in cases {
        let arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ones(s)).collect();
        let views: Vec<ArrayViewD<'_, f64>> = arrays.iter().map(|a| a.view()).collect();
        let got = einsum_dyn(spec, &views).unwrap();
        assert_eq!(got, zeros(want), "{spec}");
        // Both strategies of the engine agree.
        let c = einsum_runtime::spec::Spec::parse(spec)
            .unwrap()
            .resolve(&shapes.iter().map(|s| s.len()).collect::<Vec<_>>())
            .unwrap();
        let planned = einsum_runtime::engine::contract_planned(&c, &views).unwrap();
        assert_eq!(planned, zeros(want), "{spec} (planned)");
        // Gradients have the operands' shapes and are zero.
        let g = ones(want);
        let grads = einsum_vjp_dyn(spec, &views, g.view()).unwrap();
        for (grad, shape) in grads.iter().zip(shapes) {
            let expect_zero = shape.contains(&0) || want.contains(&0) || {
                // a non-empty operand whose partner is empty along a contracted axis
                shapes.iter().any(|s| s.contains(&0))
            };
            assert_eq!(grad.shape(), *shape, "{spec}: gradient shape");
            if expect_zero {
                assert!(grad.iter().all(|&x| x == 0.0), "{spec}: gradient {grad}");
            }
        }
        // The autograd agrees.
        let vars: Vec<Var<f64>> = arrays.iter().map(|a| Var::new(a.clone())).collect();
        let refs: Vec<&Var<f64>> = vars.iter().collect();
        let y = Var::einsum(spec, &refs).unwrap();
        assert_eq!(y.value(), &zeros(want), "{spec} (Var)");
        let back = y.sum().backward();
        for (v, shape) in vars.iter().zip(shapes) {
            let grad = back.grad(v).unwrap_or_else(|| zeros(shape));
            assert_eq!(grad.shape(), *shape, "{spec}: Var gradient shape");
            assert!(
                grad.iter().all(|&x| x == 0.0),
                "{spec}: Var gradient {grad}"
            );
        }
    }
}

// ---- labels and rank ----

#[test]
fn all_52_labels_in_one_spec() {
    let letters: String = ('a'..='z').chain('A'..='Z').collect();
    // One operand with 52 axes of extent 1, summed or kept.
    let a = ArrayD::<f64>::from_elem(IxDyn(&[1; 52]), 2.0);
    let spec = format!("{letters}->");
    assert_eq!(einsum_dyn(&spec, &[a.view()]).unwrap()[[]], 2.0);
    let reversed: String = letters.chars().rev().collect();
    let spec = format!("{letters}->{reversed}");
    assert_eq!(einsum_dyn(&spec, &[a.view()]).unwrap().ndim(), 52);
    // 52 vectors of length 2, one label each, multiplied into a scalar: 2^52 combinations
    // would be too slow as one loop; as a product of sums it is 52 small steps.
    let v = ArrayD::<f64>::from_elem(IxDyn(&[2]), 1.0);
    let views: Vec<ArrayViewD<'_, f64>> = (0..52).map(|_| v.view()).collect();
    let spec = format!(
        "{}->",
        letters
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(",")
    );
    let got = einsum_dyn(&spec, &views).unwrap();
    assert_eq!(got[[]], 2f64.powi(52));
    // Its output as an outer product would be 2^52 elements: an error, not an abort.
    let spec = format!(
        "{}->{letters}",
        letters
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(",")
    );
    let err = einsum_dyn(&spec, &views).unwrap_err();
    assert!(matches!(
        shape_error(&err),
        ShapeError::TooLarge { .. } | ShapeError::AllocationFailed { .. }
    ));
    // A 53rd label does not exist: digits and other characters are spec errors.
    assert!(matches!(
        einsum_dyn::<f64>("ab1->", &[]).unwrap_err().kind(),
        EinsumErrorKind::Spec(_)
    ));
}

#[test]
fn rank_60_and_100_through_ellipsis() {
    // numpy caps arrays at 64 axes; this crate has no cap.
    for rank in [60usize, 65, 100] {
        let mut shape = vec![1usize; rank];
        shape[0] = 2;
        shape[rank - 1] = 3;
        let a = Array::from_iter((0..6).map(f64::from))
            .into_shape_with_order(IxDyn(&shape))
            .unwrap();
        let kept = einsum_dyn("...i->...i", &[a.view()]).unwrap();
        assert_eq!(kept, a, "rank {rank}");
        let summed = einsum_dyn("...i->...", &[a.view()]).unwrap();
        assert_eq!(summed.ndim(), rank - 1);
        assert_eq!(summed.iter().sum::<f64>(), 15.0);
        let b = ArrayD::<f64>::ones(IxDyn(&[3]));
        let product = einsum_dyn("...i,i->...", &[a.view(), b.view()]).unwrap();
        assert_eq!(product.iter().copied().collect::<Vec<_>>(), vec![3.0, 12.0]);
        let all = einsum_dyn("...,...->", &[a.view(), a.view()]).unwrap();
        assert_eq!(all[[]], (0..6).map(|x| f64::from(x * x)).sum::<f64>());
        let g = ArrayD::<f64>::ones(IxDyn(&[]));
        let grads = einsum_vjp_dyn("...,...->", &[a.view(), a.view()], g.view()).unwrap();
        assert_eq!(grads[0], a);
        // Explained without trouble.
        let _ = explain("...i,i->...", &[&shape, &[3]]).unwrap().to_string();
    }
    // Rank 60 with every extent 2: 2^60 elements of 8 bytes, too large.
    let one = [1.0];
    let one = ArrayView1::from(&one[..]);
    let huge = spread(&one, &[2; 60]);
    let err = einsum_dyn("...->...", &[huge.view()]).unwrap_err();
    assert!(matches!(
        shape_error(&err),
        ShapeError::TooLarge {
            what: Buffer::Output,
            ..
        }
    ));
}

#[test]
fn a_seed_of_the_wrong_shape_is_an_error_of_try_backward_with() {
    let x = Var::new(ArrayD::from_elem(IxDyn(&[2]), 1.5));
    let y = &x * &x;
    let seed = ArrayD::from_elem(IxDyn(&[3]), 1.0);
    let err = y.try_backward_with(seed, false).unwrap_err();
    assert!(
        matches!(shape_error(&err), ShapeError::GradientShape { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("backward pass"), "{err}");
    let grads = y.try_backward_with(ArrayD::from_elem(IxDyn(&[2]), 1.0), false);
    assert_eq!(
        grads.unwrap().grad(&x).unwrap(),
        ArrayD::from_elem(IxDyn(&[2]), 3.0)
    );
}
