#!/usr/bin/env python3
"""numpy (OpenBLAS) timings for the cases of benches/contractions.rs, one thread.

Not part of `cargo bench`: run it in the same session as the criterion benchmark, on a quiet
machine, to compare against the practical limit the issue names (OpenBLAS dgemm):

    pip install numpy
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python3 benches/numpy_reference.py

Each case prints the best-of-5 median of `timeit` repeats, in microseconds. `np.einsum` is
called with `optimize=True` (numpy's own planner, BLAS for matrix-shaped steps); `np.dot` /
`np.matmul` is the hand-ordered BLAS call where the case is GEMM-shaped.
"""
import os
import statistics
import timeit

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402  (threads must be fixed before the import)

rng = np.random.default_rng(7)


def filled(*shape):
    return rng.uniform(-1.0, 1.0, size=shape)


def micros(fn, budget=1.0):
    """Median time of one call, in microseconds, calls batched to ~budget/5 per repeat."""
    number = 1
    while True:
        t = timeit.timeit(fn, number=number)
        if t > 0.02:
            break
        number *= 4
    per_repeat = max(1, int(number * (budget / 5) / t))
    samples = timeit.repeat(fn, number=per_repeat, repeat=5)
    return statistics.median(samples) / per_repeat * 1e6


def case(name, spec, operands, blas=None):
    einsum = micros(lambda: np.einsum(spec, *operands, optimize=True))
    line = f"{name:32} np.einsum {einsum:12.2f} µs"
    if blas is not None:
        line += f"   BLAS/hand {micros(blas):12.2f} µs"
    print(line, flush=True)


def main():
    print(f"numpy {np.__version__}, threads: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    eps = filled(3, 3, 3)
    a, b = filled(100_000, 3), filled(100_000, 3)
    case("ijk,bj,bk->bi b=100000", "ijk,bj,bk->bi", [eps, a, b])
    for batch, n in [(1024, 3), (256, 16)]:
        x, h = filled(batch, n), filled(batch, n, n, n)
        case(f"bi,bijk,bk->bj {batch},{n}", "bi,bijk,bk->bj", [x, h, x])
    for n in [64, 256, 1024]:
        p, q = filled(n, n), filled(n, n)
        case(f"ij,jk->ik {n}", "ij,jk->ik", [p, q], blas=lambda p=p, q=q: p @ q)
    p, q = filled(64, 64, 64), filled(64, 64, 64)
    case("bij,bjk->bik 64^3", "bij,bjk->bik", [p, q], blas=lambda: np.matmul(p, q))
    p, q, r = filled(128, 128), filled(128, 128), filled(128, 128)
    case("ij,jk,kl->il 128", "ij,jk,kl->il", [p, q, r], blas=lambda: (p @ q) @ r)
    # e, f have the extents of k, d, as in benches/contractions.rs.
    p, q = filled(32, 32, 16, 16), filled(16, 16, 16, 16)
    case(
        "nmkd,kdef->nmef 32,32,16,16",
        "nmkd,kdef->nmef",
        [p, q],
        blas=lambda: (p.reshape(1024, 256) @ q.reshape(256, 256)).reshape(32, 32, 16, 16),
    )
    m = filled(1000, 1000)
    case("ii-> 1000", "ii->", [m], blas=lambda: np.trace(m))
    case("ii->i 1000", "ii->i", [m], blas=lambda: np.diagonal(m).copy())
    case("ij->j 1000", "ij->j", [m], blas=lambda: m.sum(axis=0))
    u, v = filled(1000), filled(1000)
    case("i,j->ij 1000", "i,j->ij", [u, v], blas=lambda: np.outer(u, v))
    u, v = filled(1_000_000), filled(1_000_000)
    case("i,i-> 1e6", "i,i->", [u, v], blas=lambda: u @ v)


if __name__ == "__main__":
    main()
