//! A chain of matrix products, `M_1 M_2 … M_n`, for specs such as `ij,jk,kl->il` that the
//! macro recognises at expansion (`gen_nd`): the order of fewest multiply-adds from the
//! classic matrix-chain dynamic programme over the `n + 1` extents, each product a GEMM, the
//! intermediates in buffers from the thread's pool and the last product written into the
//! caller's array as GEMM's `c`. No tables, no plan, no `IxDyn` steps: a warm call costs the
//! GEMMs and little else.

use super::gemm::mat_mul_beta;
use super::pool::{self, Pooled};
use super::Write;
use crate::Element;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Ix2};

/// The longest chain handled here; longer ones take the engine's planned path.
pub(crate) const MAX_CHAIN: usize = 8;

/// Where each sub-chain `i..=j` splits in the cheapest order: `split[i][j] = k` multiplies
/// `i..=k` by `k+1..=j`.
type Splits = [[usize; MAX_CHAIN]; MAX_CHAIN];

/// `mats[0] · mats[1] · …` written into `out` as `write` says, in the cheapest order. `false`,
/// with nothing written, when the chain is not two to [`MAX_CHAIN`] matrices whose extents
/// chain and match `out`'s, or an extent is zero (the engine's path then handles it, and
/// reports any error).
pub(crate) fn chain_into<T: Element>(
    mats: &[ArrayView2<'_, T>],
    out: &mut ArrayViewMut2<'_, T>,
    write: Write,
) -> bool {
    let Some(extents) = chain_extents(mats) else {
        return false;
    };
    let n = mats.len();
    if out.dim() != (extents[0], extents[n]) {
        return false;
    }
    let splits = cheapest_splits(&extents[..=n]);
    product_into(mats, &splits, 0, n - 1, out, write.beta());
    true
}

/// [`chain_into`] into a new array in standard layout; `None` where it declines.
pub(crate) fn chain<T: Element>(mats: &[ArrayView2<'_, T>]) -> Option<Array2<T>> {
    let extents = chain_extents(mats)?;
    let mut out = Array2::zeros((extents[0], extents[mats.len()]));
    chain_into(mats, &mut out.view_mut(), Write::Assign).then_some(out)
}

/// The chain's extents `p_0 … p_n` (`mats[k]` is `p_k x p_{k+1}`), when there are two to
/// [`MAX_CHAIN`] matrices, consecutive ones agree and none is zero.
fn chain_extents<T>(mats: &[ArrayView2<'_, T>]) -> Option<[usize; MAX_CHAIN + 1]> {
    if !(2..=MAX_CHAIN).contains(&mats.len()) {
        return None;
    }
    let mut extents = [0; MAX_CHAIN + 1];
    extents[0] = mats[0].nrows();
    for (k, m) in mats.iter().enumerate() {
        if m.nrows() != extents[k] {
            return None;
        }
        extents[k + 1] = m.ncols();
    }
    (!extents[..=mats.len()].contains(&0)).then_some(extents)
}

/// The cheapest split of every sub-chain, by multiply-adds, for the chain whose extents are
/// `p` (one more than the matrices).
fn cheapest_splits(p: &[usize]) -> Splits {
    let n = p.len() - 1;
    let mut cost = [[0_usize; MAX_CHAIN]; MAX_CHAIN];
    let mut splits = [[0; MAX_CHAIN]; MAX_CHAIN];
    for length in 2..=n {
        for i in 0..=n - length {
            let j = i + length - 1;
            cost[i][j] = usize::MAX;
            for k in i..j {
                let here = p[i].saturating_mul(p[k + 1]).saturating_mul(p[j + 1]);
                let total = cost[i][k]
                    .saturating_add(cost[k + 1][j])
                    .saturating_add(here);
                if total < cost[i][j] {
                    cost[i][j] = total;
                    splits[i][j] = k;
                }
            }
        }
    }
    splits
}

/// `c ← mats[i..=j] + beta c`, splitting as `splits` says; a factor that is itself a product
/// is computed into a pooled buffer first.
fn product_into<T: Element>(
    mats: &[ArrayView2<'_, T>],
    splits: &Splits,
    i: usize,
    j: usize,
    c: &mut ArrayViewMut2<'_, T>,
    beta: T,
) {
    let k = splits[i][j];
    let left = factor(mats, splits, i, k);
    let right = factor(mats, splits, k + 1, j);
    mat_mul_beta(&left.view(), &right.view(), beta, c);
}

/// One side of a product: an operand as it is, or a sub-chain's product in a pooled buffer.
enum Factor<'v, T: 'static> {
    Operand(ArrayView2<'v, T>),
    Product(Pooled<T>),
}

impl<T: Element> Factor<'_, T> {
    fn view(&self) -> ArrayView2<'_, T> {
        match self {
            Factor::Operand(view) => view.view(),
            Factor::Product(pooled) => match pooled.view().into_dimensionality::<Ix2>() {
                Ok(view) => view,
                Err(_) => unreachable!("a sub-chain's product is a matrix"),
            },
        }
    }
}

/// `mats[i..=j]` as one factor.
fn factor<'v, T: Element>(
    mats: &[ArrayView2<'v, T>],
    splits: &Splits,
    i: usize,
    j: usize,
) -> Factor<'v, T> {
    if i == j {
        return Factor::Operand(mats[i]);
    }
    let (rows, cols) = (mats[i].nrows(), mats[j].ncols());
    let values = pool::take(rows * cols).unwrap_or_else(|| vec![T::zero(); rows * cols]);
    let mut pooled = Pooled::from_shape_vec(&[rows, cols], values);
    match pooled.view_mut().into_dimensionality::<Ix2>() {
        Ok(mut c) => product_into(mats, splits, i, j, &mut c, T::zero()),
        Err(_) => unreachable!("the buffer was shaped as a matrix"),
    }
    Factor::Product(pooled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn matrix(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 7 + j * 3 + seed) % 11) as f64 - 5.0
        })
    }

    #[test]
    fn the_cheapest_order_is_found() {
        // 10x100, 100x5, 5x50: (AB)C costs 5,000 + 2,500; A(BC) 25,000 + 50,000.
        let splits = cheapest_splits(&[10, 100, 5, 50]);
        assert_eq!(splits[0][2], 1);
        // 50x5, 5x100, 100x10: A(BC) is cheaper.
        let splits = cheapest_splits(&[50, 5, 100, 10]);
        assert_eq!(splits[0][2], 0);
    }

    #[test]
    fn chains_agree_with_dot_written_or_added() {
        for dims in [
            vec![3, 4, 5],
            vec![2, 7, 3, 6],
            vec![5, 1, 4, 2, 3],
            vec![4; 9],
        ] {
            let mats: Vec<Array2<f64>> = (0..dims.len() - 1)
                .map(|k| matrix(dims[k], dims[k + 1], k))
                .collect();
            let views: Vec<ArrayView2<'_, f64>> = mats.iter().map(|m| m.view()).collect();
            let want = mats[1..].iter().fold(mats[0].clone(), |acc, m| acc.dot(m));
            assert_eq!(chain(&views).unwrap(), want, "{dims:?}");
            let mut out = Array2::from_elem(want.raw_dim(), 1.0);
            // A transposed view of the output.
            let mut transposed = out
                .clone()
                .reversed_axes()
                .as_standard_layout()
                .into_owned();
            assert!(chain_into(&views, &mut out.view_mut(), Write::Add));
            assert_eq!(out, &want + 1.0, "{dims:?}");
            assert!(chain_into(
                &views,
                &mut transposed.view_mut().reversed_axes(),
                Write::Assign
            ));
            assert_eq!(transposed.t(), want, "{dims:?}");
        }
    }

    #[test]
    fn chains_that_do_not_fit_are_declined_untouched() {
        let (a, b) = (matrix(2, 3, 0), matrix(4, 2, 1));
        let mut out = Array2::from_elem((2, 2), 7.0);
        assert!(!chain_into(
            &[a.view(), b.view()],
            &mut out.view_mut(),
            Write::Assign
        ));
        let c = matrix(3, 2, 2);
        let mut wrong = Array2::from_elem((3, 3), 7.0);
        assert!(!chain_into(
            &[a.view(), c.view()],
            &mut wrong.view_mut(),
            Write::Assign
        ));
        assert!(wrong.iter().all(|&v| v == 7.0));
        let empty = Array2::<f64>::zeros((3, 0));
        assert!(chain(&[a.view(), empty.view()]).is_none());
        let nine: Vec<Array2<f64>> = (0..9).map(|k| matrix(2, 2, k)).collect();
        let views: Vec<_> = nine.iter().map(|m| m.view()).collect();
        assert!(chain(&views).is_none());
    }
}
