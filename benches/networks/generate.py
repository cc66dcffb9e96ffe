#!/usr/bin/env python3
"""Deterministically generate the tensor-network benchmark set -> networks.json.

Schema of networks.json:
  {"generator": {...versions / parameters...},
   "networks": [{"name": str, "family": str,
                 "inputs": [[label, ...], ...],   # one list per operand
                 "output": [label, ...],          # output labels, in order
                 "extents": [int, ...]}]}         # extents[label] = size
Labels are dense integers 0..L-1; a label appears at most once per operand and
(in this set) in at most two operands, or in one operand and the output.

Usage:  python3 benches/networks/generate.py   (writes networks.json beside itself)
"""
import importlib
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def _rand_equation():
    """opt_einsum's rand_equation (opt_einsum.testing in 3.4, opt_einsum.helpers before).

    opt_einsum.testing imports pytest only for `pytest.importorskip("numpy")`;
    if pytest is absent, install a tiny stand-in so no test framework is needed."""
    try:
        import pytest  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pytest")
        stub.importorskip = lambda name, *a, **k: importlib.import_module(name)
        sys.modules["pytest"] = stub
    try:
        from opt_einsum.testing import rand_equation
    except ImportError:
        from opt_einsum.helpers import rand_equation
    return rand_equation


def random_network(n, seed):
    from opt_einsum.parser import get_symbol

    rand_equation = _rand_equation()
    eq, shapes, size_dict = rand_equation(
        n, 3, n_out=2, d_min=2, d_max=8, seed=seed, return_size_dict=True
    )
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    # rand_equation names index i by get_symbol(i), i in range(len(size_dict)):
    # map symbol -> i so labels are dense and follow the generator's numbering.
    sym_to_label = {get_symbol(i): i for i in range(len(size_dict))}
    assert set(sym_to_label) == set(size_dict)
    inputs = [[sym_to_label[c] for c in t] for t in terms]
    output = [sym_to_label[c] for c in rhs]
    extents = [int(size_dict[get_symbol(i)]) for i in range(len(size_dict))]
    for t, shp in zip(terms, shapes):
        assert tuple(size_dict[c] for c in t) == tuple(shp)
    return dict(name=f"random-{n}-s{seed}", family="random", inputs=inputs,
                output=output, extents=extents)


def regular3_network(n, seed):
    import networkx as nx

    g = nx.random_regular_graph(3, n, seed=seed)
    edges = sorted(tuple(sorted(e)) for e in g.edges())
    inputs = [[] for _ in range(n)]
    for lab, (u, v) in enumerate(edges):  # edges sorted -> labels deterministic
        inputs[u].append(lab)
        inputs[v].append(lab)
    return dict(name=f"regular3-{n}-s{seed}", family="regular3", inputs=inputs,
                output=[], extents=[2] * len(edges))


def peps_network(L, bond=2, phys=2):
    """<psi|psi> for an LxL open PEPS. Operands 0..L^2-1 are the ket tensors
    (row-major sites), L^2..2L^2-1 the bra tensors (same site order).
    Labels: 0..L^2-1 physical (shared by ket and bra of a site), then the ket
    bonds, then the bra bonds (bonds: horizontal then vertical, row-major).
    Each tensor's labels: [physical, up, left, right, down] (missing ones skipped)."""
    site = lambda r, c: r * L + c
    bonds = [(site(r, c), site(r, c + 1)) for r in range(L) for c in range(L - 1)]
    bonds += [(site(r, c), site(r + 1, c)) for r in range(L - 1) for c in range(L)]
    nb = len(bonds)
    bond_of = {b: i for i, b in enumerate(bonds)}
    nsite = L * L

    def legs(r, c, offset):
        s = site(r, c)
        out = [s]
        if r > 0:
            out.append(offset + bond_of[(site(r - 1, c), s)])
        if c > 0:
            out.append(offset + bond_of[(site(r, c - 1), s)])
        if c < L - 1:
            out.append(offset + bond_of[(s, site(r, c + 1))])
        if r < L - 1:
            out.append(offset + bond_of[(s, site(r + 1, c))])
        return out

    ket = [legs(r, c, nsite) for r in range(L) for c in range(L)]
    bra = [legs(r, c, nsite + nb) for r in range(L) for c in range(L)]
    extents = [phys] * nsite + [bond] * (2 * nb)
    return dict(name=f"peps-{L}x{L}", family="peps", inputs=ket + bra,
                output=[], extents=extents)


def mps_network(N, bond=8, phys=2):
    """<a|b> for two open MPS of N sites. Operands 0..N-1: a's tensors,
    N..2N-1: b's tensors. Labels: 0..N-1 physical, N..2N-2 a's bonds,
    2N-1..3N-3 b's bonds. Tensor labels: [left bond, physical, right bond]."""
    nb = N - 1

    def chain(offset):
        ops = []
        for i in range(N):
            t = []
            if i > 0:
                t.append(offset + i - 1)
            t.append(i)
            if i < N - 1:
                t.append(offset + i)
            ops.append(t)
        return ops

    extents = [phys] * N + [bond] * (2 * nb)
    return dict(name=f"mps-{N}", family="mps", inputs=chain(N) + chain(N + nb),
                output=[], extents=extents)


def check(net):
    L = len(net["extents"])
    count = [0] * L
    for t in net["inputs"]:
        assert len(set(t)) == len(t), (net["name"], t)
        for l in t:
            count[l] += 1
    for l in net["output"]:
        count[l] += 1
    assert all(c == 2 for c in count), (net["name"], "each label twice (operands+output)")
    assert all(isinstance(e, int) and e >= 1 for e in net["extents"])


def main():
    import networkx
    import opt_einsum

    nets = []
    for n in (6, 8, 10, 12, 14, 16, 18, 20):
        for seed in (1, 2):
            nets.append(random_network(n, seed))
    for n in (30, 40, 50, 60):
        nets.append(random_network(n, 1))
    # n=200 dropped: cotengra's HyperOptimizer (no kahypar) took 239 s on it
    # (> 3 min budget per network); see README.md for its figures.
    for n in (30, 50, 80, 120):
        nets.append(regular3_network(n, 1))
    for L in (3, 4, 5, 6):
        nets.append(peps_network(L))
    for N in (20, 50, 100):
        nets.append(mps_network(N))
    for net in nets:
        check(net)
    doc = {
        "generator": {
            "script": "benches/networks/generate.py",
            "opt_einsum": opt_einsum.__version__,
            "networkx": networkx.__version__,
            "random": "opt_einsum rand_equation(n, regularity=3, n_out=2, d_min=2, d_max=8, seed)",
            "regular3": "networkx.random_regular_graph(3, n, seed), every edge extent 2",
        },
        "networks": nets,
    }
    path = os.path.join(HERE, "networks.json")
    with open(path, "w") as f:
        # one network per line keeps the file diffable and compact
        f.write('{"generator": ' + json.dumps(doc["generator"]) + ',\n "networks": [\n')
        f.write(",\n".join("  " + json.dumps(n) for n in nets))
        f.write("\n]}\n")
    json.load(open(path))  # sanity: round-trips
    for n in nets:
        print(f'{n["name"]:18s} inputs={len(n["inputs"]):4d} labels={len(n["extents"]):4d} out={n["output"]}')
    print(f"wrote {len(nets)} networks to {path}")


if __name__ == "__main__":
    main()
