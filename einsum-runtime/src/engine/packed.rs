//! The matrix product kernel for `f32` and `f64`: `c = a · b + beta c`, blocked and packed
//! the way BLIS and matrixmultiply do it, with its packing buffers kept per thread, so that a
//! warm product allocates nothing.
//!
//! Why our own: matrixmultiply (behind ndarray's `dot` and `general_mat_mul`) and the `gemm`
//! crate both allocate their packing buffer on every call and offer no way to keep it, and a
//! loop that runs millions of products (issue 17) must not allocate. The algorithm is the
//! textbook one: `b` is packed in blocks of [`KC`] x [`NC`] as panels of `NR` columns, `a` in
//! blocks of [`MC`] x [`KC`] as panels of `MR` rows, and a register tile of `MR` x `NR`
//! multiply-adds runs over each pair of panels. The tile is plain Rust over fixed-size arrays,
//! which LLVM keeps in registers and vectorises; on x86-64 it is compiled a second time with
//! AVX2 and FMA enabled and chosen at run time when the CPU has them.
//!
//! Every layout is taken: operands contiguous in either order are packed from their memory
//! directly, any other view through ndarray's iterators; `c` in standard layout is written
//! through its slice, any other `c` through views. Other element types go to
//! `general_mat_mul` ([`Element`](crate::Element)'s default).

use ndarray::{s, ArrayView2, ArrayViewMut2};
use std::cell::RefCell;
use std::thread::LocalKey;

/// Depth of one packed block: how much of the contracted axis one pass covers.
const KC: usize = 256;
/// Rows of `a` packed at once (a multiple of every `MR`).
const MC: usize = 64;
/// Columns of `b` packed at once (a multiple of every `NR`).
const NC: usize = 1024;

thread_local! {
    static PACKED_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static PACKED_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `c = a · b + beta c` for `f64` (4 x 8 register tiles).
pub(crate) fn mat_mul_f64(
    a: &ArrayView2<'_, f64>,
    b: &ArrayView2<'_, f64>,
    beta: f64,
    c: &mut ArrayViewMut2<'_, f64>,
) {
    mat_mul::<f64, 4, 8>(a, b, beta, c, &PACKED_F64, fma_available());
}

/// `c = a · b + beta c` for `f32` (4 x 16 register tiles).
pub(crate) fn mat_mul_f32(
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    mat_mul::<f32, 4, 16>(a, b, beta, c, &PACKED_F32, fma_available());
}

/// Whether this CPU runs the AVX2/FMA build of the tile (detected once, then cached by std).
fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The two element types the kernel serves.
pub(crate) trait Real:
    Copy + PartialEq + core::ops::Add<Output = Self> + core::ops::Mul<Output = Self> + 'static
{
    const ZERO: Self;
    /// `a * b + c`, rounded once.
    fn fused(a: Self, b: Self, c: Self) -> Self;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn fused(a: Self, b: Self, c: Self) -> Self {
        a.mul_add(b, c)
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn fused(a: Self, b: Self, c: Self) -> Self {
        a.mul_add(b, c)
    }
}

/// An operand as the packing reads it: its memory and strides when it is contiguous in some
/// order with non-negative strides, else the view.
enum Source<'a, T> {
    Memory {
        data: &'a [T],
        row_stride: usize,
        col_stride: usize,
    },
    View(ArrayView2<'a, T>),
}

impl<'a, T: Real> Source<'a, T> {
    fn of(view: &ArrayView2<'a, T>) -> Self {
        let strides = view.strides();
        let data = view.to_slice_memory_order();
        match (
            data,
            usize::try_from(strides[0]),
            usize::try_from(strides[1]),
        ) {
            (Some(data), Ok(row_stride), Ok(col_stride)) => Source::Memory {
                data,
                row_stride,
                col_stride,
            },
            _ => Source::View(*view),
        }
    }

    /// The transpose, which is how `b` is packed: its columns as rows.
    fn transposed(self) -> Self {
        match self {
            Source::Memory {
                data,
                row_stride,
                col_stride,
            } => Source::Memory {
                data,
                row_stride: col_stride,
                col_stride: row_stride,
            },
            Source::View(view) => Source::View(view.reversed_axes()),
        }
    }

    /// Packs rows `rows.0..rows.0 + rows.1` and columns `cols.0..cols.0 + cols.1` into
    /// panels of `W` rows, each laid out column by column (`[panel][column][row]`). Rows past
    /// the end of the last panel keep what the buffer held: the tile computes with them, and
    /// their results are never stored.
    fn pack<const W: usize>(
        &self,
        (row0, rows): (usize, usize),
        (col0, cols): (usize, usize),
        buffer: &mut [T],
    ) {
        let (panels, _) = buffer.as_chunks_mut::<W>();
        for (panel, start) in (0..rows).step_by(W).enumerate() {
            let out = &mut panels[panel * cols..(panel + 1) * cols];
            let width = W.min(rows - start);
            let first = row0 + start;
            match self {
                Source::Memory {
                    data,
                    row_stride,
                    col_stride: 1,
                } => {
                    for r in 0..width {
                        let at = (first + r) * row_stride + col0;
                        for (o, &x) in out.iter_mut().zip(&data[at..at + cols]) {
                            o[r] = x;
                        }
                    }
                }
                Source::Memory {
                    data,
                    row_stride: 1,
                    col_stride,
                } if width == W => {
                    for (p, o) in out.iter_mut().enumerate() {
                        let at = (col0 + p) * col_stride + first;
                        o.copy_from_slice(&data[at..at + W]);
                    }
                }
                Source::Memory {
                    data,
                    row_stride,
                    col_stride,
                } => {
                    for r in 0..width {
                        for (p, o) in out.iter_mut().enumerate() {
                            o[r] = data[(first + r) * row_stride + (col0 + p) * col_stride];
                        }
                    }
                }
                Source::View(view) => {
                    for r in 0..width {
                        let row = view.slice(s![first + r, col0..col0 + cols]);
                        for (o, &x) in out.iter_mut().zip(row.iter()) {
                            o[r] = x;
                        }
                    }
                }
            }
        }
    }
}

/// Where results go: `c`'s memory when it is in standard layout, else the view.
enum Target<'c, 'v, T> {
    Memory {
        data: &'c mut [T],
        row_stride: usize,
    },
    View(&'c mut ArrayViewMut2<'v, T>),
}

/// How a tile's results combine with what `c` holds.
#[derive(Clone, Copy)]
enum Store<T> {
    /// The first block of the contracted axis with `beta = 0`: overwrite (NaN included).
    Assign,
    /// The first block with another `beta`: `beta c + tile`.
    Scale(T),
    /// Every later block: `c + tile`.
    Add,
}

impl<T: Real> Store<T> {
    #[inline(always)]
    fn apply(self, out: &mut T, value: T) {
        *out = match self {
            Store::Assign => value,
            Store::Scale(beta) => beta * *out + value,
            Store::Add => *out + value,
        };
    }
}

/// One packed block of `a` (panels of `MR` rows) times one of `b` (panels of `NR` columns),
/// stored into `c` from `at` over `dim`.
struct Block<'p, T> {
    a: &'p [T],
    b: &'p [T],
    depth: usize,
    at: (usize, usize),
    dim: (usize, usize),
    store: Store<T>,
}

/// The register tile: `R` rows of an `MR`-row panel of `a` times an `NR`-column panel of
/// `b`, over the block's depth. `R < MR` serves the last panel of a block, so that a matrix of
/// 8 rows does not pay for 12 with `MR = 12`, say.
#[inline(always)]
fn tile<T: Real, const MR: usize, const R: usize, const NR: usize, const FUSED: bool>(
    a: &[[T; MR]],
    b: &[[T; NR]],
) -> [[T; NR]; R] {
    let mut acc = [[T::ZERO; NR]; R];
    for (a, b) in a.iter().zip(b) {
        for (acc, &a) in acc.iter_mut().zip(a) {
            for (acc, &b) in acc.iter_mut().zip(b) {
                *acc = if FUSED {
                    T::fused(a, b, *acc)
                } else {
                    a * b + *acc
                };
            }
        }
    }
    acc
}

/// Stores the rows and columns of `acc` that fall inside the block.
#[inline(always)]
fn store_tile<T: Real, const R: usize, const NR: usize>(
    acc: &[[T; NR]; R],
    c: &mut Target<'_, '_, T>,
    (i, j): (usize, usize),
    (rows, cols): (usize, usize),
    store: Store<T>,
) {
    for (r, acc) in acc.iter().enumerate().take(rows) {
        match c {
            Target::Memory { data, row_stride } => {
                let at = (i + r) * *row_stride + j;
                for (out, &v) in data[at..at + cols].iter_mut().zip(acc) {
                    store.apply(out, v);
                }
            }
            Target::View(view) => {
                let mut row = view.slice_mut(s![i + r, j..j + cols]);
                for (out, &v) in row.iter_mut().zip(acc) {
                    store.apply(out, v);
                }
            }
        }
    }
}

/// Every tile of one block.
#[inline(always)]
fn run_block<T: Real, const MR: usize, const NR: usize, const FUSED: bool>(
    block: &Block<'_, T>,
    c: &mut Target<'_, '_, T>,
) {
    let (a_panels, _) = block.a.as_chunks::<MR>();
    let (b_panels, _) = block.b.as_chunks::<NR>();
    let ((i0, j0), (rows, cols), depth) = (block.at, block.dim, block.depth);
    for (jp, j) in (0..cols).step_by(NR).enumerate() {
        let b = &b_panels[jp * depth..(jp + 1) * depth];
        let width = NR.min(cols - j);
        for (ip, i) in (0..rows).step_by(MR).enumerate() {
            let a = &a_panels[ip * depth..(ip + 1) * depth];
            let (at, dim) = ((i0 + i, j0 + j), (MR.min(rows - i), width));
            if dim.0 <= 2 {
                let acc = tile::<T, MR, 2, NR, FUSED>(a, b);
                store_tile(&acc, c, at, dim, block.store);
                continue;
            }
            let acc = tile::<T, MR, MR, NR, FUSED>(a, b);
            store_tile(&acc, c, at, dim, block.store);
        }
    }
}

/// [`run_block`] compiled with AVX2 and FMA, whose multiply-adds are then single
/// instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_block_fma<T: Real, const MR: usize, const NR: usize>(
    block: &Block<'_, T>,
    c: &mut Target<'_, '_, T>,
) {
    run_block::<T, MR, NR, true>(block, c);
}

/// `c = a · b + beta c`, with the packing buffer from `buffer` (this thread's) and the tile
/// built for AVX2/FMA when `fma` says the CPU has them.
///
/// # Panics
///
/// When the shapes do not chain.
fn mat_mul<T: Real, const MR: usize, const NR: usize>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    buffer: &'static LocalKey<RefCell<Vec<T>>>,
    fma: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "matrix product of {m}x{k} and {}x{n} into {:?}",
        b.nrows(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        let zero = beta == T::ZERO;
        c.map_inplace(|x| *x = if zero { T::ZERO } else { beta * *x });
        return;
    }
    let (a, b) = (Source::of(a), Source::of(b).transposed());
    let row_stride = c.strides()[0].max(n as isize) as usize;
    let mut c = match c.as_slice_mut() {
        Some(data) => Target::Memory { data, row_stride },
        None => Target::View(c),
    };
    let depth_max = KC.min(k);
    let a_len = depth_max * MC.min(m).next_multiple_of(MR);
    let b_len = depth_max * NC.min(n).next_multiple_of(NR);
    let mut run = |packed: &mut Vec<T>| {
        if packed.len() < a_len + b_len {
            packed.resize(a_len + b_len, T::ZERO);
        }
        let (a_packed, b_packed) = packed.split_at_mut(a_len);
        for j in (0..n).step_by(NC) {
            let cols = NC.min(n - j);
            for p in (0..k).step_by(KC) {
                let depth = KC.min(k - p);
                b.pack::<NR>((j, cols), (p, depth), b_packed);
                let store = match (p, beta == T::ZERO) {
                    (0, true) => Store::Assign,
                    (0, false) => Store::Scale(beta),
                    _ => Store::Add,
                };
                for i in (0..m).step_by(MC) {
                    let rows = MC.min(m - i);
                    a.pack::<MR>((i, rows), (p, depth), a_packed);
                    let block = Block {
                        a: a_packed,
                        b: b_packed,
                        depth,
                        at: (i, j),
                        dim: (rows, cols),
                        store,
                    };
                    #[cfg(target_arch = "x86_64")]
                    if fma {
                        // SAFETY: `fma` is true only where `fma_available` detected AVX2 and
                        // FMA on this CPU, which is all `run_block_fma` requires.
                        #[allow(unsafe_code)]
                        unsafe {
                            run_block_fma::<T, MR, NR>(&block, &mut c)
                        };
                        continue;
                    }
                    let _ = fma;
                    run_block::<T, MR, NR, false>(&block, &mut c);
                }
            }
        }
    };
    // The thread's buffer, unless it is in use (a product cannot call a product, but a
    // thread being torn down has no buffer): then one of our own.
    let done = buffer
        .try_with(|packed| {
            packed
                .try_borrow_mut()
                .map(|mut packed| run(&mut packed))
                .is_ok()
        })
        .unwrap_or(false);
    if !done {
        run(&mut Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    /// Integer values, so that every product and sum is exact in either rounding.
    fn values(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 17 + seed * 7) % 23) as f64 - 11.0
        })
    }

    fn naive(a: &ArrayView2<'_, f64>, b: &ArrayView2<'_, f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|t| a[[i, t]] * b[[t, j]]).sum()
        })
    }

    /// Both builds of the tile, `f64` (4 x 8 tiles).
    fn both(
        a: &ArrayView2<'_, f64>,
        b: &ArrayView2<'_, f64>,
        beta: f64,
        c: &mut ArrayViewMut2<'_, f64>,
    ) {
        let mut plain = c.to_owned();
        mat_mul::<f64, 4, 8>(a, b, beta, &mut plain.view_mut(), &PACKED_F64, false);
        mat_mul_f64(a, b, beta, c);
        assert_eq!(*c, plain, "the AVX2/FMA and plain builds agree");
    }

    #[test]
    fn every_shape_around_the_tile_and_block_edges_matches_the_naive_sum() {
        let sizes = [1, 2, 3, 4, 5, 7, 8, 9, 17, 65];
        for &m in &sizes {
            for &n in &sizes {
                for &k in &[1, 3, 8, 13, KC + 3] {
                    let (a, b) = (values(m, k, 1), values(k, n, 2));
                    let mut c = Array2::from_elem((m, n), f64::NAN);
                    both(&a.view(), &b.view(), 0.0, &mut c.view_mut());
                    assert_eq!(c, naive(&a.view(), &b.view()), "{m}x{k} times {k}x{n}");
                }
            }
        }
    }

    #[test]
    fn blocks_wider_than_one_packing_of_b_are_stored_in_place() {
        let (a, b) = (values(MC + 5, 9, 3), values(9, NC + 11, 4));
        let mut c = Array2::zeros((MC + 5, NC + 11));
        both(&a.view(), &b.view(), 0.0, &mut c.view_mut());
        assert_eq!(c, naive(&a.view(), &b.view()));
    }

    #[test]
    fn every_layout_of_operands_and_result() {
        let (a, b) = (values(19, 23, 5), values(23, 13, 6));
        let a_f = {
            let mut f = Array2::zeros((19, 23).f());
            f.assign(&a);
            f
        };
        let b_f = {
            let mut f = Array2::zeros((23, 13).f());
            f.assign(&b);
            f
        };
        let (wide_a, wide_b) = (values(19, 46, 5), values(46, 26, 6));
        let operands: Vec<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)> = vec![
            (a.view(), b.view()),
            (a_f.view(), b_f.view()),
            (a.view(), b_f.view()),
            (wide_a.slice(s![.., ..;2]), wide_b.slice(s![..;2, ..;2])),
            (a.slice(s![..;-1, ..]), b.slice(s![.., ..;-1])),
        ];
        for (x, y) in operands {
            let want = naive(&x, &y);
            let mut c = Array2::from_elem((19, 13), f64::NAN);
            both(&x, &y, 0.0, &mut c.view_mut());
            assert_eq!(c, want);
            let mut c_f = Array2::from_elem((19, 13).f(), f64::NAN);
            both(&x, &y, 0.0, &mut c_f.view_mut());
            assert_eq!(c_f, want);
            let mut wide = Array2::from_elem((19, 39), f64::NAN);
            both(&x, &y, 0.0, &mut wide.slice_mut(s![.., ..;3]));
            assert_eq!(wide.slice(s![.., ..;3]), want);
        }
    }

    #[test]
    fn beta_scales_or_adds_to_what_c_holds() {
        let (a, b) = (values(9, KC + 5, 7), values(KC + 5, 10, 8));
        let before = values(9, 10, 9);
        for beta in [1.0, -2.0] {
            let mut c = before.clone();
            both(&a.view(), &b.view(), beta, &mut c.view_mut());
            assert_eq!(c, naive(&a.view(), &b.view()) + &before * beta);
        }
    }

    #[test]
    fn an_empty_contracted_axis_gives_zero_or_beta_c() {
        let (a, b) = (values(3, 0, 1), values(0, 4, 2));
        let mut c = Array2::from_elem((3, 4), f64::NAN);
        mat_mul_f64(&a.view(), &b.view(), 0.0, &mut c.view_mut());
        assert_eq!(c, Array2::zeros((3, 4)));
        let mut c = Array2::from_elem((3, 4), 2.0);
        mat_mul_f64(&a.view(), &b.view(), 0.5, &mut c.view_mut());
        assert_eq!(c, Array2::from_elem((3, 4), 1.0));
    }

    #[test]
    fn f32_products_match_the_naive_sum() {
        let (a, b) = (values(21, 300, 1), values(300, 37, 2));
        let (a32, b32) = (a.mapv(|x| x as f32), b.mapv(|x| x as f32));
        let mut c = Array2::from_elem((21, 37), f32::NAN);
        mat_mul_f32(&a32.view(), &b32.view(), 0.0, &mut c.view_mut());
        assert_eq!(c, naive(&a.view(), &b.view()).mapv(|x| x as f32));
    }
}
