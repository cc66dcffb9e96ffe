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
//! directly, any other view through ndarray's iterators; a contiguous `c` is written through
//! its memory (a column-major one by computing `cᵀ = bᵀ aᵀ`), any other `c` through views.
//! Short contractions skip packing: up to [`IN_PLACE_DEPTH`] the tile reads operands in
//! place, up to [`SHALLOW_DEPTH`] rows of `c` are updated by rows of `b` ([`shallow`]).
//! Other element types go to `general_mat_mul` ([`Element`](crate::Element)'s default).

use ndarray::{s, ArrayView2, ArrayViewMut2};
use std::cell::RefCell;
use std::thread::LocalKey;

/// Depth of one packed block: how much of the contracted axis one pass covers.
const KC: usize = 256;
/// Rows of `a` packed at once (a multiple of every `MR`).
const MC: usize = 72;
/// Columns of `b` packed at once (a multiple of every `NR`).
const NC: usize = 1024;
/// Up to this depth and this many columns of `b`, operands contiguous along their rows are
/// read in place rather than packed: packing would cost about as much as the multiply-adds.
/// (With more columns, each packed panel of `a` serves many tiles.)
const IN_PLACE_DEPTH: usize = 32;
const IN_PLACE_WIDTH: usize = 32;
/// Up to this depth and from this many columns, with `b` and `c` contiguous along rows,
/// [`shallow`] runs instead of tiles (shorter rows pay more for the loop than the tiles do).
const SHALLOW_DEPTH: usize = 4;
const SHALLOW_WIDTH: usize = 16;
/// The packed blocks start on this boundary (bytes; a cache line).
const ALIGN: usize = 64;

thread_local! {
    static PACKED_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static PACKED_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `c = a · b + beta c` for `f64` (6 x 8 register tiles).
pub(crate) fn mat_mul_f64(
    a: &ArrayView2<'_, f64>,
    b: &ArrayView2<'_, f64>,
    beta: f64,
    c: &mut ArrayViewMut2<'_, f64>,
) {
    mat_mul::<f64, 6, 8, 4>(a, b, beta, c, &PACKED_F64, fma_available());
}

/// `c = a · b + beta c` for `f32` (6 x 16 register tiles).
pub(crate) fn mat_mul_f32(
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    mat_mul::<f32, 6, 16, 8>(a, b, beta, c, &PACKED_F32, fma_available());
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

    /// The value at row `i`, column `j`.
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> T {
        match self {
            Source::Memory {
                data,
                row_stride,
                col_stride,
            } => data[i * row_stride + j * col_stride],
            Source::View(view) => view[[i, j]],
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
        for (panel, out) in panels
            .chunks_exact_mut(cols)
            .take(rows.div_ceil(W))
            .enumerate()
        {
            let start = panel * W;
            let width = W.min(rows - start);
            let first = row0 + start;
            match self {
                Source::Memory {
                    data,
                    row_stride,
                    col_stride: 1,
                } if width == W => {
                    let rows: [&[T]; W] = core::array::from_fn(|r| {
                        let at = (first + r) * row_stride + col0;
                        &data[at..at + cols]
                    });
                    for (p, o) in out.iter_mut().enumerate() {
                        for (o, row) in o.iter_mut().zip(&rows) {
                            *o = row[p];
                        }
                    }
                }
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
                        if let Ok(column) = <&[T; W]>::try_from(&data[at..at + W]) {
                            *o = *column;
                        }
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

/// Where results go: `c`'s memory and strides when it is contiguous in some order with
/// non-negative strides, else the view.
enum Target<'c, 'v, T> {
    Memory {
        data: &'c mut [T],
        row_stride: usize,
        col_stride: usize,
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

    /// [`Store::apply`] over the first `out.len()` (fewer than `C`) values of a row of the
    /// tile, the choice made once. (A loop of the fixed length `C` with a test, rather than a
    /// copy of `out.len()`, which would become a call of `memcpy` for a handful of values.)
    #[inline(always)]
    fn apply_part<const C: usize>(self, out: &mut [T], values: &[T; C]) {
        let len = out.len();
        match self {
            Store::Assign => {
                for (q, &v) in values.iter().enumerate() {
                    if q < len {
                        out[q] = v;
                    }
                }
            }
            Store::Scale(beta) => {
                for (q, &v) in values.iter().enumerate() {
                    if q < len {
                        out[q] = beta * out[q] + v;
                    }
                }
            }
            Store::Add => {
                for (q, &v) in values.iter().enumerate() {
                    if q < len {
                        out[q] = out[q] + v;
                    }
                }
            }
        }
    }

    /// [`Store::apply`] over a row of the tile, the choice made once.
    #[inline(always)]
    fn apply_row<const NR: usize>(self, out: &mut [T; NR], values: &[T; NR]) {
        match self {
            Store::Assign => *out = *values,
            Store::Scale(beta) => {
                for (out, &v) in out.iter_mut().zip(values) {
                    *out = beta * *out + v;
                }
            }
            Store::Add => {
                for (out, &v) in out.iter_mut().zip(values) {
                    *out = *out + v;
                }
            }
        }
    }
}

/// Where a block reads one operand from: `a` by rows, `b` by columns.
#[derive(Clone, Copy)]
enum Panels<'p, T> {
    /// Packed in panels (of `MR` rows of `a`, of `NR` columns of `b`).
    Packed(&'p [T]),
    /// In place: the operand's memory, each row contiguous (for `a`, along the contracted
    /// axis), the block's first element at `start`.
    InPlace {
        data: &'p [T],
        row_stride: usize,
        start: usize,
    },
}

/// One block of `a` (panels of `MR` rows) times one block of `b` (panels of `NR` columns),
/// stored into `c` from `at` over `dim`.
struct Block<'p, T> {
    a: Panels<'p, T>,
    b: Panels<'p, T>,
    depth: usize,
    at: (usize, usize),
    dim: (usize, usize),
    store: Store<T>,
}

/// The register tile: `R` rows of a panel of `MR` rows of `a` (`a(p)` gives the panel's
/// column `p`) times an `NR`-column panel of `b`, over the block's depth, the first `C`
/// columns of it. `R < MR` and `C < NR` serve the last panels of a block, so that a matrix of
/// 8 rows does not pay for 12 with `MR = 6`, nor one of 3 columns for 8.
#[inline(always)]
fn tile<
    'b,
    T: Real,
    const MR: usize,
    const R: usize,
    const NR: usize,
    const C: usize,
    const FUSED: bool,
>(
    depth: usize,
    a: impl Fn(usize) -> [T; MR],
    b: impl Fn(usize) -> &'b [T; NR],
) -> [[T; C]; R] {
    let mut acc = [[T::ZERO; C]; R];
    for p in 0..depth {
        let b = b(p);
        for (acc, a) in acc.iter_mut().zip(a(p)) {
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

/// The tile of the shape `dim` needs (its rows up to `MR`, its columns up to `NR`), stored.
#[inline(always)]
fn tile_into<
    'b,
    T: Real,
    const MR: usize,
    const NR: usize,
    const HALF: usize,
    const FUSED: bool,
>(
    depth: usize,
    (a, b): (impl Fn(usize) -> [T; MR], impl Fn(usize) -> &'b [T; NR]),
    c: &mut Target<'_, '_, T>,
    (at, dim): ((usize, usize), (usize, usize)),
    store: Store<T>,
) {
    // One arm per tile shape: rows 2, 4 or `MR`, columns `HALF` or `NR`.
    macro_rules! tile {
        ($rows:expr, $cols:expr) => {
            store_tile(
                &tile::<T, MR, { $rows }, NR, { $cols }, FUSED>(depth, a, b),
                c,
                at,
                dim,
                store,
            )
        };
    }
    match (dim.0, dim.1 <= HALF) {
        (..=2, false) => tile!(2, NR),
        (..=2, true) => tile!(2, HALF),
        (..=4, false) => tile!(4, NR),
        (..=4, true) => tile!(4, HALF),
        (_, false) => tile!(MR, NR),
        (_, true) => tile!(MR, HALF),
    }
}

/// Stores the rows and columns of `acc` that fall inside the block.
#[inline(always)]
fn store_tile<T: Real, const R: usize, const C: usize>(
    acc: &[[T; C]; R],
    c: &mut Target<'_, '_, T>,
    (i, j): (usize, usize),
    (rows, cols): (usize, usize),
    store: Store<T>,
) {
    match c {
        Target::Memory {
            data,
            row_stride,
            col_stride: 1,
        } => {
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let at = (i + r) * *row_stride + j;
                let out = &mut data[at..at + cols];
                // A whole row of the tile: a fixed length, so the store is vectorised too.
                if let Ok(out) = <&mut [T; C]>::try_from(&mut *out) {
                    store.apply_row(out, acc);
                } else {
                    store.apply_part(out, acc);
                }
            }
        }
        // Column by column: each column of the tile is contiguous in `c`.
        Target::Memory {
            data,
            row_stride: 1,
            col_stride,
        } => {
            for q in 0..cols {
                let at = (j + q) * *col_stride + i;
                for (out, acc) in data[at..at + rows].iter_mut().zip(acc) {
                    store.apply(out, acc[q]);
                }
            }
        }
        Target::Memory {
            data,
            row_stride,
            col_stride,
        } => {
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let at = (i + r) * *row_stride + j * *col_stride;
                for (q, &v) in acc.iter().enumerate().take(cols) {
                    store.apply(&mut data[at + q * *col_stride], v);
                }
            }
        }
        Target::View(view) => {
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let mut row = view.slice_mut(s![i + r, j..j + cols]);
                for (out, &v) in row.iter_mut().zip(acc) {
                    store.apply(out, v);
                }
            }
        }
    }
}

/// Every tile of one block. `HALF` is `NR / 2`: the last panel of columns, when it is at
/// most that wide, runs a tile of `HALF` columns (a matrix of 3 columns does not pay for 8).
#[inline(always)]
fn run_block<T: Real, const MR: usize, const NR: usize, const HALF: usize, const FUSED: bool>(
    block: &Block<'_, T>,
    c: &mut Target<'_, '_, T>,
) {
    let (cols, depth) = (block.dim.1, block.depth);
    let b_panels = match block.b {
        Panels::Packed(packed) => packed.as_chunks::<NR>().0,
        Panels::InPlace { .. } => &[],
    };
    for jp in 0..cols.div_ceil(NR) {
        let j = jp * NR;
        let width = NR.min(cols - j);
        match block.b {
            Panels::Packed(_) => {
                let panel = &b_panels[jp * depth..][..depth];
                panel_tiles::<T, MR, NR, HALF, FUSED>(block, c, (j, width), |p| &panel[p]);
            }
            Panels::InPlace {
                data,
                row_stride,
                start,
            } if width == NR => {
                let b = |p: usize| {
                    let at = start + p * row_stride + j;
                    let row: &[T; NR] = data[at..at + NR].try_into().expect("NR values");
                    row
                };
                panel_tiles::<T, MR, NR, HALF, FUSED>(block, c, (j, width), b);
            }
            Panels::InPlace {
                data,
                row_stride,
                start,
            } => {
                // The last, narrower panel: copied, padded with zeros, on the stack.
                let mut panel = [[T::ZERO; NR]; IN_PLACE_DEPTH];
                for (p, out) in panel.iter_mut().enumerate().take(depth) {
                    let at = start + p * row_stride + j;
                    out[..width].copy_from_slice(&data[at..at + width]);
                }
                panel_tiles::<T, MR, NR, HALF, FUSED>(block, c, (j, width), |p| &panel[p]);
            }
        }
    }
}

/// The tiles of one panel of columns of `b` (`b(p)` gives its row `p`), starting at column
/// `j` of the block, `width` wide.
#[inline(always)]
fn panel_tiles<
    'b,
    T: Real,
    const MR: usize,
    const NR: usize,
    const HALF: usize,
    const FUSED: bool,
>(
    block: &Block<'_, T>,
    c: &mut Target<'_, '_, T>,
    (j, width): (usize, usize),
    b: impl Fn(usize) -> &'b [T; NR] + Copy,
) {
    let ((i0, j0), rows, depth) = (block.at, block.dim.0, block.depth);
    let a_panels = match block.a {
        Panels::Packed(packed) => packed.as_chunks::<MR>().0,
        Panels::InPlace { .. } => &[],
    };
    for ip in 0..rows.div_ceil(MR) {
        let i = ip * MR;
        let place = ((i0 + i, j0 + j), (MR.min(rows - i), width));
        match block.a {
            Panels::Packed(_) => {
                let panel = &a_panels[ip * depth..][..depth];
                let a = |p: usize| panel[p];
                tile_into::<T, MR, NR, HALF, FUSED>(depth, (a, b), c, place, block.store);
            }
            Panels::InPlace {
                data,
                row_stride,
                start,
            } => {
                // Rows past the end repeat the last one; their results are not stored.
                let rows: [&[T]; MR] = core::array::from_fn(|r| {
                    let at = start + (i + r.min(place.1 .0 - 1)) * row_stride;
                    &data[at..at + depth]
                });
                let a = |p: usize| core::array::from_fn(|r| rows[r][p]);
                tile_into::<T, MR, NR, HALF, FUSED>(depth, (a, b), c, place, block.store);
            }
        }
    }
}

/// [`run_block`] compiled with AVX2 and FMA, whose multiply-adds are then single
/// instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_block_fma<T: Real, const MR: usize, const NR: usize, const HALF: usize>(
    block: &Block<'_, T>,
    c: &mut Target<'_, '_, T>,
) {
    run_block::<T, MR, NR, HALF, true>(block, c);
}

/// `c = a · b + beta c` for a contracted axis of at most [`SHALLOW_DEPTH`], `b` and `c`
/// contiguous along their rows: each row of `c` is updated by the rows of `b` scaled by the
/// row's entries of `a`, four at a time, in one pass. A tile would spend more on its set-up
/// and store than on its few multiply-adds.
#[inline(always)]
fn shallow<T: Real, const FUSED: bool>(
    a: &Source<'_, T>,
    (b, b_row_stride): (&[T], usize),
    (c, c_row_stride): (&mut [T], usize),
    (m, k, n): (usize, usize, usize),
    beta: T,
) {
    let fma = |x: T, y: T, z: T| if FUSED { T::fused(x, y, z) } else { x * y + z };
    for i in 0..m {
        let row = &mut c[i * c_row_stride..i * c_row_stride + n];
        let a_at = |p: usize| a.at(i, p);
        let b_row = |p: usize| &b[p * b_row_stride..p * b_row_stride + n];
        let mut p = 0;
        // The first pass writes (or scales) the row, the later ones add to it.
        let mut first = true;
        while p < k {
            let take = (k - p).min(4);
            let ((x0, x1, x2, x3), (r0, r1, r2, r3)) = match take {
                4 => (
                    (a_at(p), a_at(p + 1), a_at(p + 2), a_at(p + 3)),
                    (b_row(p), b_row(p + 1), b_row(p + 2), b_row(p + 3)),
                ),
                3 => (
                    (a_at(p), a_at(p + 1), a_at(p + 2), T::ZERO),
                    (b_row(p), b_row(p + 1), b_row(p + 2), b_row(p)),
                ),
                2 => (
                    (a_at(p), a_at(p + 1), T::ZERO, T::ZERO),
                    (b_row(p), b_row(p + 1), b_row(p), b_row(p)),
                ),
                _ => (
                    (a_at(p), T::ZERO, T::ZERO, T::ZERO),
                    (b_row(p), b_row(p), b_row(p), b_row(p)),
                ),
            };
            let start = |out: T| {
                if !first {
                    out
                } else if beta == T::ZERO {
                    T::ZERO
                } else {
                    beta * out
                }
            };
            for ((((out, &y0), &y1), &y2), &y3) in row.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                *out = fma(x3, y3, fma(x2, y2, fma(x1, y1, fma(x0, y0, start(*out)))));
            }
            first = false;
            p += take;
        }
    }
}

/// [`shallow`] compiled with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn shallow_fma<T: Real>(
    a: &Source<'_, T>,
    b: (&[T], usize),
    c: (&mut [T], usize),
    dims: (usize, usize, usize),
    beta: T,
) {
    shallow::<T, true>(a, b, c, dims, beta);
}

/// `c = a · b + beta c`, with the packing buffer from `buffer` (this thread's) and the tile
/// built for AVX2/FMA when `fma` says the CPU has them.
///
/// # Panics
///
/// When the shapes do not chain.
fn mat_mul<T: Real, const MR: usize, const NR: usize, const HALF: usize>(
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
    // The tile runs along rows of `c`: where `c` is laid out column by column, `cᵀ = bᵀ aᵀ`
    // is computed instead, so that the tile's rows are stored contiguously.
    let strides = c.strides();
    if strides[0] == 1 && strides[1] != 1 && m > 1 {
        let mut c = c.view_mut().reversed_axes();
        oriented::<T, MR, NR, HALF>((&b.t(), &a.t()), beta, &mut c, buffer, fma);
    } else {
        oriented::<T, MR, NR, HALF>((a, b), beta, c, buffer, fma);
    }
}

/// [`mat_mul`] with the orientation chosen.
fn oriented<T: Real, const MR: usize, const NR: usize, const HALF: usize>(
    (a, b): (&ArrayView2<'_, T>, &ArrayView2<'_, T>),
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    buffer: &'static LocalKey<RefCell<Vec<T>>>,
    fma: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let (row_stride, col_stride) = (c.strides()[0], c.strides()[1]);
    let (a, b) = (Source::of(a), Source::of(b));
    // A short contracted axis and both operands contiguous along rows: nothing is packed, the
    // tile reads both in place (packing would cost as much as the multiply-adds).
    let b_in_place = match b {
        Source::Memory {
            data,
            row_stride,
            col_stride: 1,
        } if k <= IN_PLACE_DEPTH
            && n <= IN_PLACE_WIDTH
            && matches!(a, Source::Memory { col_stride: 1, .. }) =>
        {
            Some((data, row_stride))
        }
        _ => None,
    };
    if k <= SHALLOW_DEPTH && n >= SHALLOW_WIDTH && col_stride == 1 {
        if let (Some(c_data), Ok(c_row_stride)) =
            (c.as_slice_memory_order_mut(), usize::try_from(row_stride))
        {
            let c = (c_data, c_row_stride);
            match b {
                Source::Memory {
                    data,
                    row_stride,
                    col_stride: 1,
                } => run_shallow(&a, (data, row_stride), c, (m, k, n), beta, fma),
                // `b`'s rows are not contiguous: copied into rows first (k x n, a few
                // thousand values at most where this pays), in the thread's buffer.
                _ => with_thread_buffer(buffer, k * n, |rows| {
                    for (p, row) in rows.chunks_exact_mut(n).enumerate() {
                        for (j, out) in row.iter_mut().enumerate() {
                            *out = b.at(p, j);
                        }
                    }
                    run_shallow(&a, (rows, n), c, (m, k, n), beta, fma);
                }),
            }
            return;
        }
    }
    let b = b.transposed();
    let mut c = match (usize::try_from(row_stride), usize::try_from(col_stride)) {
        (Ok(row_stride), Ok(col_stride)) if c.as_slice_memory_order().is_some() => {
            match c.as_slice_memory_order_mut() {
                Some(data) => Target::Memory {
                    data,
                    row_stride,
                    col_stride,
                },
                None => Target::View(c),
            }
        }
        _ => Target::View(c),
    };
    let mut run = |a_packed: &mut [T], b_packed: &mut [T]| {
        for j in (0..n).step_by(NC) {
            let cols = NC.min(n - j);
            for p in (0..k).step_by(KC) {
                let depth = KC.min(k - p);
                let b_columns = match b_in_place {
                    Some((data, row_stride)) => Panels::InPlace {
                        data,
                        row_stride,
                        start: p * row_stride + j,
                    },
                    None => {
                        b.pack::<NR>((j, cols), (p, depth), b_packed);
                        Panels::Packed(&*b_packed)
                    }
                };
                let store = match (p, beta == T::ZERO) {
                    (0, true) => Store::Assign,
                    (0, false) => Store::Scale(beta),
                    _ => Store::Add,
                };
                for i in (0..m).step_by(MC) {
                    let rows = MC.min(m - i);
                    let a_rows = match a {
                        Source::Memory {
                            data,
                            row_stride,
                            col_stride: 1,
                        } if depth <= IN_PLACE_DEPTH && cols <= IN_PLACE_WIDTH => Panels::InPlace {
                            data,
                            row_stride,
                            start: i * row_stride + p,
                        },
                        _ => {
                            a.pack::<MR>((i, rows), (p, depth), a_packed);
                            Panels::Packed(&*a_packed)
                        }
                    };
                    let block = Block {
                        a: a_rows,
                        b: b_columns,
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
                            run_block_fma::<T, MR, NR, HALF>(&block, &mut c)
                        };
                        continue;
                    }
                    let _ = fma;
                    run_block::<T, MR, NR, HALF, false>(&block, &mut c);
                }
            }
        }
    };
    if b_in_place.is_some() {
        run(&mut [], &mut []);
        return;
    }
    let depth_max = KC.min(k);
    let a_len = depth_max * MC.min(m).next_multiple_of(MR);
    let b_len = depth_max * NC.min(n).next_multiple_of(NR);
    let slack = ALIGN / size_of::<T>();
    let a_room = a_len.next_multiple_of(slack);
    with_thread_buffer(buffer, a_room + b_len, |packed| {
        let (a_packed, b_packed) = packed.split_at_mut(a_room);
        run(a_packed, b_packed);
    });
}

/// Runs `f` on `len` values of this thread's buffer starting on a cache line (the tile's
/// loads then never straddle two), or of a buffer of its own when the thread's is in use (a
/// product cannot call a product, but a thread being torn down has no buffer).
fn with_thread_buffer<T: Real>(
    buffer: &'static LocalKey<RefCell<Vec<T>>>,
    len: usize,
    f: impl FnOnce(&mut [T]),
) {
    let slack = ALIGN / size_of::<T>();
    let mut f = Some(f);
    let mut run = |packed: &mut Vec<T>| {
        if packed.len() < len + slack {
            packed.resize(len + slack, T::ZERO);
        }
        let skip = (ALIGN - packed.as_ptr() as usize % ALIGN) % ALIGN / size_of::<T>();
        if let Some(f) = f.take() {
            f(&mut packed[skip..skip + len]);
        }
    };
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

/// [`shallow`], built for AVX2/FMA when `fma` says the CPU has them.
fn run_shallow<T: Real>(
    a: &Source<'_, T>,
    b: (&[T], usize),
    c: (&mut [T], usize),
    dims: (usize, usize, usize),
    beta: T,
    fma: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: `fma` is true only where `fma_available` detected AVX2 and FMA on this
        // CPU, which is all `shallow_fma` requires.
        #[allow(unsafe_code)]
        unsafe {
            shallow_fma(a, b, c, dims, beta)
        };
        return;
    }
    let _ = fma;
    shallow::<T, false>(a, b, c, dims, beta);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::gemm::tests::{naive, values};
    use ndarray::{Array2, ShapeBuilder};

    /// Both builds of the tile, `f64`.
    fn both(
        a: &ArrayView2<'_, f64>,
        b: &ArrayView2<'_, f64>,
        beta: f64,
        c: &mut ArrayViewMut2<'_, f64>,
    ) {
        let mut plain = c.to_owned();
        mat_mul::<f64, 6, 8, 4>(a, b, beta, &mut plain.view_mut(), &PACKED_F64, false);
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
    fn shallow_products_read_b_of_every_layout() {
        // A contracted axis of 3 and 40 columns: the row-update path, `b` read in place or
        // copied into rows first.
        let (a, b) = (values(19, 3, 1), values(3, 40, 2));
        let b_f = {
            let mut f = Array2::zeros((3, 40).f());
            f.assign(&b);
            f
        };
        let wide_b = values(3, 80, 2);
        for y in [
            b.view(),
            b_f.view(),
            wide_b.slice(s![.., ..;2]),
            b.slice(s![..;-1, ..]),
        ] {
            let want = naive(&a.view(), &y);
            for beta in [0.0, 1.0] {
                let mut c = Array2::from_elem((19, 40), if beta == 0.0 { f64::NAN } else { 1.0 });
                both(&a.view(), &y, beta, &mut c.view_mut());
                assert_eq!(c, &want + beta);
            }
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
