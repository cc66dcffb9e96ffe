//! Contraction order for fixed-size operands, planned at compile time: specs of three to five
//! operands whose best order depends on the extents, checked against the reference evaluator
//! (values) and central differences (gradients of `einsum_vjp!`); and, through an element type
//! that counts its multiplications, proof that the cheaper order is the one that runs.

mod common;

use common::fixed_check::{check, fill, to_dyn};
use common::reference::reference_einsum;
use common::reference_gradient;
use einsum::operand::FixedArray;
use einsum::{einsum, einsum_vjp};
use ndarray::{ArrayD, IxDyn};

/// Every gradient of a tuple returned by `back`, as dynamic-rank arrays.
trait GradsToDyn {
    /// One array per operand, in order.
    fn to_dyn_all(&self) -> Vec<ArrayD<f64>>;
}

macro_rules! grads_to_dyn {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FixedArray<Elem = f64>),+> GradsToDyn for ($($t,)+) {
            fn to_dyn_all(&self) -> Vec<ArrayD<f64>> {
                vec![$(to_dyn(&self.$i)),+]
            }
        }
    };
}
grads_to_dyn!(A 0, B 1);
grads_to_dyn!(A 0, B 1, C 2);
grads_to_dyn!(A 0, B 1, C 2, D 3);
grads_to_dyn!(A 0, B 1, C 2, D 3, E 4);

/// Fills the operands of the given types with deterministic values, checks `einsum!` against
/// the reference and `einsum_vjp!`'s value and gradients against it and central differences.
macro_rules! case {
    ($spec:literal; $($x:ident: $t:ty),+) => {{
        let mut seed = 0;
        $(
            seed += 1;
            let $x: $t = fill(seed);
        )+
        let y = einsum!($spec, $($x),+);
        let (y2, back) = einsum_vjp!($spec, $($x),+);
        assert_eq!(to_dyn(&y), to_dyn(&y2), "{}: einsum! and einsum_vjp! differ", $spec);
        let g = fill(99);
        let grads = back(&g);
        check(
            $spec,
            &[$(to_dyn(&$x)),+],
            &to_dyn(&y),
            &to_dyn(&g),
            &grads.to_dyn_all(),
        );
    }};
}

#[test]
fn chains_of_three_whichever_order_wins() {
    // Square: (ab)c. Thin-thick-thin: (ab)c is 8x cheaper than a(bc); thick-thin-thick: a(bc).
    case!("ij,jk,kl->il"; a: [[f64; 5]; 5], b: [[f64; 5]; 5], c: [[f64; 5]; 5]);
    case!("ij,jk,kl->il"; a: [[f64; 6]; 2], b: [[f64; 2]; 6], c: [[f64; 6]; 2]);
    case!("ij,jk,kl->il"; a: [[f64; 2]; 6], b: [[f64; 6]; 2], c: [[f64; 2]; 6]);
    // The output order is not the chain's: the last step writes it transposed.
    case!("ij,jk,kl->li"; a: [[f64; 3]; 4], b: [[f64; 5]; 3], c: [[f64; 2]; 5]);
}

#[test]
fn three_operands_of_other_shapes() {
    // Scalar output: the trace of a product.
    case!("ab,bc,ca->"; a: [[f64; 3]; 4], b: [[f64; 5]; 3], c: [[f64; 4]; 5]);
    // An outer product of three vectors: pairwise beats the direct nest for extents above 2.
    case!("i,j,k->ijk"; a: [f64; 3], b: [f64; 4], c: [f64; 5]);
    // The Levi-Civita cross product shape.
    case!("ijk,j,k->i"; e: [[[f64; 3]; 3]; 3], a: [f64; 3], b: [f64; 3]);
    // Labels summed in one operand only (`l` in c, `m` in a): summed first, on their own.
    case!("ijm,jk,kl->i"; a: [[[f64; 2]; 3]; 4], b: [[f64; 5]; 3], c: [[f64; 3]; 5]);
    // A diagonal (`ii`) in operand 0: its gradient keeps the direct derivative nest.
    case!("ii,ij,jk->k"; a: [[f64; 3]; 3], b: [[f64; 4]; 3], c: [[f64; 2]; 4]);
    // A diagonal that is also summed in its operand alone.
    case!("ij,jkk,kl->il"; a: [[f64; 3]; 2], b: [[[f64; 4]; 4]; 3], c: [[f64; 2]; 4]);
    // Scalar operands, first and in the middle.
    case!(",ij,jk->ik"; s: f64, a: [[f64; 3]; 2], b: [[f64; 4]; 3]);
    case!("ij,,jk->ki"; a: [[f64; 3]; 2], s: f64, b: [[f64; 4]; 3]);
    // The same label in all three operands and the output (a batch).
    case!("bij,bjk,bk->bi"; a: [[[f64; 3]; 2]; 2], b: [[[f64; 4]; 3]; 2], c: [[f64; 4]; 2]);
}

#[test]
fn two_operands_with_a_label_only_one_has() {
    // `k` is summed in b alone: b is reduced first (J*K + I*J instead of I*J*K).
    case!("ij,jk->i"; a: [[f64; 3]; 2], b: [[f64; 5]; 3]);
    case!("ij,jk->"; a: [[f64; 3]; 2], b: [[f64; 5]; 3]);
}

#[test]
fn four_operands() {
    case!("ij,jk,kl,lm->im"; a: [[f64; 4]; 4], b: [[f64; 4]; 4], c: [[f64; 4]; 4], d: [[f64; 4]; 4]);
    // Alternating thin and thick: the best tree pairs (ab)(cd) or goes through the thin
    // labels.
    case!("ij,jk,kl,lm->im"; a: [[f64; 6]; 2], b: [[f64; 2]; 6], c: [[f64; 6]; 2], d: [[f64; 2]; 6]);
    case!("ij,jk,kl,lm->im"; a: [[f64; 2]; 6], b: [[f64; 6]; 2], c: [[f64; 2]; 6], d: [[f64; 6]; 2]);
    // A ring to a scalar, and a star around one shared label.
    case!("ij,jk,kl,li->"; a: [[f64; 3]; 2], b: [[f64; 4]; 3], c: [[f64; 2]; 4], d: [[f64; 2]; 2]);
    case!("ai,bi,ci,di->abcd"; a: [[f64; 3]; 2], b: [[f64; 3]; 2], c: [[f64; 3]; 3], d: [[f64; 3]; 2]);
    // A diagonal, a private label and a scalar together.
    case!("ii,ijq,,jk->k"; a: [[f64; 3]; 3], b: [[[f64; 2]; 4]; 3], s: f64, c: [[f64; 2]; 4]);
}

#[test]
fn five_operands() {
    case!("ij,jk,kl,lm,mn->in";
        a: [[f64; 3]; 3], b: [[f64; 3]; 3], c: [[f64; 3]; 3], d: [[f64; 3]; 3], e: [[f64; 3]; 3]);
    case!("ij,jk,kl,lm,mn->in";
        a: [[f64; 5]; 2], b: [[f64; 2]; 5], c: [[f64; 5]; 2], d: [[f64; 2]; 5], e: [[f64; 5]; 2]);
    // Vectors at both ends, a diagonal in the middle, and a scalar output.
    case!("a,ab,bb,bc,c->"; x: [f64; 3], a: [[f64; 4]; 3], b: [[f64; 4]; 4], c: [[f64; 2]; 4], y: [f64; 2]);
    // Operands that are not adjacent in the chain share labels: the interval search still
    // finds a good order, and the result is right whatever it is.
    case!("ab,cd,bc,de,ea->"; a: [[f64; 3]; 2], c: [[f64; 2]; 4], b: [[f64; 4]; 3], d: [[f64; 2]; 2], e: [[f64; 2]; 2]);
}

/// A fixed-size array of `i64` filled with small integers, and the same as `f64`s.
fn fill_int<A: FixedArray<Elem = i64>>(seed: i64) -> (A, ArrayD<f64>) {
    let mut shape = Vec::new();
    A::push_shape(&mut shape);
    let count: usize = shape.iter().product();
    let values: Vec<i64> = (0..count as i64)
        .map(|n| (n * 7 + seed * 3) % 9 - 4)
        .collect();
    let as_f64: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    let array = A::from_elements(&mut values.into_iter());
    (
        array,
        ArrayD::from_shape_vec(IxDyn(&shape), as_f64).unwrap(),
    )
}

/// A fixed-size array of `i64` as `f64`s.
fn int_to_dyn<A: FixedArray<Elem = i64>>(array: &A) -> ArrayD<f64> {
    let mut shape = Vec::new();
    A::push_shape(&mut shape);
    let values = A::flatten(core::slice::from_ref(array))
        .iter()
        .map(|&v| v as f64)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

#[test]
fn integer_elements_are_exact() {
    let (a, da): ([[i64; 6]; 2], _) = fill_int(1);
    let (b, db): ([[i64; 2]; 6], _) = fill_int(2);
    let (c, dc): ([[i64; 6]; 2], _) = fill_int(3);
    let (d, dd): ([[i64; 2]; 6], _) = fill_int(4);
    let spec = "ij,jk,kl,lm->im";
    let ops = [da, db, dc, dd];
    let y = einsum!("ij,jk,kl,lm->im", a, b, c, d);
    assert_eq!(int_to_dyn(&y), reference_einsum(spec, &ops));
    let (_, back) = einsum_vjp!("ij,jk,kl,lm->im", a, b, c, d);
    let (g, dg): ([[i64; 2]; 2], _) = fill_int(5);
    let grads = back(&g);
    let exact = [
        int_to_dyn(&grads.0),
        int_to_dyn(&grads.1),
        int_to_dyn(&grads.2),
        int_to_dyn(&grads.3),
    ];
    for (k, grad) in exact.iter().enumerate() {
        let numeric = reference_gradient(spec, &ops, &dg, k).mapv(f64::round);
        assert_eq!(grad, &numeric, "operand {k}");
    }
    let trace: i64 = einsum!("ab,bc,ca->", a, b, [[1_i64, -1], [2, 3]]);
    let want = reference_einsum(
        "ab,bc,ca->",
        &[
            int_to_dyn(&a),
            int_to_dyn(&b),
            int_to_dyn(&[[1_i64, -1], [2, 3]]),
        ],
    );
    assert_eq!(trace as f64, want[IxDyn(&[])]);
}

/// An `f64` that counts the multiplications made with it, on the current thread.
mod counted {
    use num_traits::{One, Zero};
    use std::cell::Cell;
    use std::ops::{Add, Div, Mul, Sub};

    thread_local! {
        static MULTIPLICATIONS: Cell<u64> = const { Cell::new(0) };
    }

    /// A number whose `*` increments this thread's counter.
    #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
    pub struct Counted(pub f64);

    impl Add for Counted {
        type Output = Counted;
        fn add(self, other: Counted) -> Counted {
            Counted(self.0 + other.0)
        }
    }

    impl Sub for Counted {
        type Output = Counted;
        fn sub(self, other: Counted) -> Counted {
            Counted(self.0 - other.0)
        }
    }

    #[allow(clippy::suspicious_arithmetic_impl)] // counting is the point
    impl Mul for Counted {
        type Output = Counted;
        fn mul(self, other: Counted) -> Counted {
            MULTIPLICATIONS.with(|count| count.set(count.get() + 1));
            Counted(self.0 * other.0)
        }
    }

    impl Div for Counted {
        type Output = Counted;
        fn div(self, other: Counted) -> Counted {
            Counted(self.0 / other.0)
        }
    }

    impl Zero for Counted {
        fn zero() -> Counted {
            Counted(0.0)
        }
        fn is_zero(&self) -> bool {
            self.0 == 0.0
        }
    }

    impl One for Counted {
        fn one() -> Counted {
            Counted(1.0)
        }
    }

    impl einsum::Element for Counted {}

    /// The multiplications `f` makes on this thread, and its value.
    pub fn multiplications<R>(f: impl FnOnce() -> R) -> (u64, R) {
        let before = MULTIPLICATIONS.with(Cell::get);
        let value = f();
        (MULTIPLICATIONS.with(Cell::get) - before, value)
    }
}

use counted::{multiplications, Counted};

/// An 8x8 matrix of counted numbers.
type Square8 = [[Counted; 8]; 8];
/// A 2x16 matrix of counted numbers.
type Wide = [[Counted; 16]; 2];
/// A 16x2 matrix of counted numbers.
type Tall = [[Counted; 2]; 16];

/// A fixed-size array of `Counted` with values 1, 2, 3, … (mod 5).
fn counted<A: FixedArray<Elem = Counted>>() -> A {
    A::from_elements(&mut (0..).map(|n| Counted(f64::from(n % 5 + 1))))
}

#[test]
fn the_chain_runs_pairwise_on_square_matrices() {
    let (a, b, c): (Square8, Square8, Square8) = (counted(), counted(), counted());
    let (count, planned) = multiplications(|| einsum!("ij,jk,kl->il", a, b, c));
    // Two 8x8 products, not one nest of 8^4 iterations with two multiplications each.
    assert_eq!(count, 2 * 8 * 8 * 8);
    let direct: Square8 = core::array::from_fn(|i| {
        core::array::from_fn(|l| {
            let mut sum = 0.0;
            for j in 0..8 {
                for k in 0..8 {
                    sum += a[i][j].0 * b[j][k].0 * c[k][l].0;
                }
            }
            Counted(sum)
        })
    });
    assert_eq!(planned, direct);
}

#[test]
fn the_cheaper_end_of_the_chain_goes_first() {
    // Thin-thick-thin: (ab) is 2x2 after 2*16*2 multiplications, then 2*2*16.
    let (a, b, c): (Wide, Tall, Wide) = (counted(), counted(), counted());
    let (count, _) = multiplications(|| einsum!("ij,jk,kl->il", a, b, c));
    assert_eq!(count, 2 * 16 * 2 + 2 * 2 * 16);
    // Thick-thin-thick: (bc) first, then a(bc): the other order would be 16 times dearer.
    let (a, b, c): (Tall, Wide, Tall) = (counted(), counted(), counted());
    let (count, _) = multiplications(|| einsum!("ij,jk,kl->il", a, b, c));
    assert_eq!(count, 2 * 16 * 2 + 16 * 2 * 2);
}

#[test]
fn four_operands_take_the_best_tree() {
    // (ab)(cd) on thin-thick alternation: 2*16*2 + 2*16*2 + 2*2*2 multiplications.
    let (a, b, c, d): (Wide, Tall, Wide, Tall) = (counted(), counted(), counted(), counted());
    let (count, _) = multiplications(|| einsum!("ij,jk,kl,lm->im", a, b, c, d));
    assert_eq!(count, 2 * 16 * 2 + 2 * 16 * 2 + 2 * 2 * 2);
}

#[test]
fn the_direct_nest_stays_when_pairwise_is_not_cheaper() {
    // i,j,k->ijk on three 2-vectors: the direct nest costs 3 operations in each of 8
    // iterations, the best pairwise order 2*4 + 2*8: a tie, which goes to the direct nest
    // (2 multiplications per iteration, where pairwise would make 4 + 8).
    let x: [Counted; 2] = counted();
    let (count, _) = multiplications(|| einsum!("i,j,k->ijk", x, x, x));
    assert_eq!(count, 2 * 8);
    // On 3-vectors pairwise is cheaper (2*9 + 2*27 < 3*27): 9 + 27 multiplications, not 54.
    let x: [Counted; 3] = counted();
    let (count, _) = multiplications(|| einsum!("i,j,k->ijk", x, x, x));
    assert_eq!(count, 9 + 27);
}

#[test]
fn a_label_only_one_operand_has_is_summed_first() {
    // ij,jk->i: b's rows are summed first (no multiplications), then J*I products, instead
    // of I*J*K.
    let (a, b): (Square8, Square8) = (counted(), counted());
    let (count, _) = multiplications(|| einsum!("ij,jk->i", a, b));
    assert_eq!(count, 8 * 8);
}

#[test]
fn gradients_are_planned_too() {
    let (a, b, c): (Square8, Square8, Square8) = (counted(), counted(), counted());
    let (_, back) = einsum_vjp!("ij,jk,kl->il", a, b, c);
    let g: Square8 = counted();
    let (count, _) = multiplications(|| back(&g));
    // Each gradient is two 8x8 products (g with the two other operands); the derivative of
    // the direct nest would be 8^4 iterations with two multiplications for each of three
    // gradients.
    assert_eq!(count, 3 * 2 * 8 * 8 * 8);
}

#[test]
fn intermediates_beyond_the_stack_allowance_are_not_planned() {
    // ia,ib,abc->c with i = c = 2: the cheapest order pairs the first two operands into an
    // a x b intermediate (I*A*B + A*B*C multiplications); the next best pairs x with w.
    // With a = b = 64 that intermediate is 32 KiB, within the 64 KiB allowance.
    let (x, y): ([[Counted; 64]; 2], [[Counted; 64]; 2]) = (counted(), counted());
    let w: Box<[[[Counted; 2]; 64]; 64]> = Box::new(counted());
    let (count, _) = multiplications(|| einsum!("ia,ib,abc->c", x, y, *w));
    assert_eq!(count, 2 * 64 * 64 + 64 * 64 * 2);
    // With a = b = 128 it would be 128 KiB, over the allowance and larger than the result:
    // x and w are paired instead (I*A*B*C + I*B*C), still far from the direct nest's
    // 2*I*A*B*C.
    let (x, y): ([[Counted; 128]; 2], [[Counted; 128]; 2]) = (counted(), counted());
    let w: Box<[[[Counted; 2]; 128]; 128]> = Box::new(counted());
    let (count, _) = multiplications(|| einsum!("ia,ib,abc->c", x, y, *w));
    assert_eq!(count, 2 * 128 * 128 * 2 + 2 * 128 * 2);
}
