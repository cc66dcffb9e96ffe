#!/usr/bin/env python3
"""Python anchor figures for the contraction-path benchmark -> anchors.json.

For every network of networks.json: opt_einsum greedy, opt_einsum dp (<= 20
inputs) and cotengra HyperOptimizer paths, their planning time and cost (one
cost function for all, see `path_cost`), and, where cotengra's path costs at
most 2e9 multiply-adds, the time and value of contracting deterministic
float64 operands (see `operand`) along cotengra's path with opt_einsum.contract.

Usage:
  python3 benches/networks/anchors.py [--only SUBSTR] [--skip-contract] [--resume]
                                      [--cotengra-repeats K]
Results are merged into an existing anchors.json (entries of networks not run
are kept) and the file is rewritten after every network.
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import opt_einsum  # noqa: E402
from opt_einsum.parser import get_symbol  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACT_MAX_COST = 2_000_000_000
DP_MAX_INPUTS = 20
MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------
# The one cost function used for every path.
# --------------------------------------------------------------------------
def path_cost(inputs, output, extents, path):
    """Walk a linear (opt_einsum-form) path of pairwise steps.

    cost    = sum over steps of prod(extents of (labels(A) | labels(B)))
              i.e. multiply-adds, exact Python int;
    largest = max over the steps' results of prod(extents of result labels),
              where a result keeps the labels still needed by the output or by
              an operand not yet contracted (input operands are not counted).
    """
    ops = [frozenset(t) for t in inputs]
    out = frozenset(output)
    cost = 0
    largest = 0
    for step in path:
        if len(step) != 2:
            raise ValueError(f"non-pairwise step {step}")
        i, j = step
        a, b = ops[i], ops[j]
        for k in sorted((i, j), reverse=True):
            ops.pop(k)
        union = a | b
        cost += math.prod(extents[l] for l in union)
        needed = set(out)
        for o in ops:
            needed |= o
        res = union & needed
        largest = max(largest, math.prod(extents[l] for l in res))
        ops.append(frozenset(res))
    if len(ops) != 1 or ops[0] != out:
        raise ValueError(f"path does not end in the output: {ops}")
    return cost, largest


# --------------------------------------------------------------------------
# Deterministic operands.
# --------------------------------------------------------------------------
def splitmix64_scalar(state):
    """Reference scalar splitmix64 (first output for the given initial state)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def operand(k, shape):
    """float64 array, element at flat C-order index j = 0.5 + (splitmix64(k*2**32 + j) >> 11) / 2**53."""
    n = math.prod(shape)
    with np.errstate(over="ignore"):
        z = np.uint64(k << 32) + np.arange(n, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
    return (0.5 + u).reshape(shape)


def _self_check_operand():
    a = operand(3, (5, 7)).ravel()
    for j in (0, 1, 34):
        s = splitmix64_scalar((3 << 32) + j)
        assert a[j] == 0.5 + (s >> 11) / 2**53, j


# --------------------------------------------------------------------------
def best_of(fn, repeats, give_up_after=30.0):
    """Run fn() up to `repeats` times; return (min seconds, last result).
    Stops repeating once a single run took longer than give_up_after."""
    best, res = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        if dt > give_up_after:
            break
    return best, res


def versions():
    import cotengra
    import networkx
    import importlib.util
    from cotengra.hyperoptimizers.hyper import get_default_hq_methods, get_default_optlib
    try:
        import autoray
        autoray_v = autoray.__version__
    except Exception:
        autoray_v = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        methods = list(get_default_hq_methods())
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opt_einsum": opt_einsum.__version__,
        "cotengra": cotengra.__version__,
        "networkx": networkx.__version__,
        "autoray": autoray_v,
        "kahypar": "installed" if importlib.util.find_spec("kahypar") else None,
        "cotengra_default_methods": methods,
        "cotengra_default_optlib": get_default_optlib(),
    }


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}; {os.cpu_count()} logical CPUs; {platform.system()} {platform.release()}; 1 thread"


def run_network(net, args, prev):
    import cotengra as ctg

    inputs, output, extents = net["inputs"], net["output"], net["extents"]
    syms = [get_symbol(i) for i in range(len(extents))]
    size_dict = {syms[l]: e for l, e in enumerate(extents)}
    in_sets = [frozenset(syms[l] for l in t) for t in inputs]
    out_set = frozenset(syms[l] for l in output)
    in_tuples = [tuple(syms[l] for l in t) for t in inputs]
    out_tuple = tuple(syms[l] for l in output)
    eq = ",".join("".join(t) for t in in_tuples) + "->" + "".join(out_tuple)

    def ctg_cost(path):
        tree = ctg.ContractionTree.from_path(in_tuples, out_tuple, size_dict, path=path)
        return int(tree.contraction_cost())

    entry = {"n_inputs": len(inputs), "n_labels": len(extents)}
    checks = {}

    # opt_einsum greedy
    secs, path = best_of(lambda: opt_einsum.paths.greedy(in_sets, out_set, size_dict), 3)
    path = [list(map(int, s)) for s in path]
    c, big = path_cost(inputs, output, extents, path)
    entry["greedy"] = {"cost": c, "largest": big, "seconds": secs, "path": path}
    checks["greedy"] = ctg_cost(path) == c
    print(f"  greedy   cost={c:.4e} largest={big:.3e} {secs:.4f}s", flush=True)

    # opt_einsum dp
    if len(inputs) <= DP_MAX_INPUTS:
        dp = lambda: opt_einsum.paths.DynamicProgramming(minimize="flops")(in_sets, out_set, size_dict)
        secs, path = best_of(dp, 3)
        path = [list(map(int, s)) for s in path]
        c, big = path_cost(inputs, output, extents, path)
        entry["dp"] = {"cost": c, "largest": big, "seconds": secs, "path": path}
        checks["dp"] = ctg_cost(path) == c
        print(f"  dp       cost={c:.4e} largest={big:.3e} {secs:.4f}s", flush=True)
    else:
        entry["dp"] = None

    # cotengra HyperOptimizer, one process
    best = None
    for rep in range(args.cotengra_repeats):
        random.seed(rep)
        np.random.seed(rep)
        opt = ctg.HyperOptimizer(max_repeats=128, minimize="flops", parallel=False,
                                 progbar=False, seed=rep)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = opt.search(in_tuples, out_tuple, size_dict)
        secs = time.perf_counter() - t0
        path = [list(map(int, s)) for s in tree.get_path()]
        c, big = path_cost(inputs, output, extents, path)
        own = int(tree.contraction_cost())
        checks["cotengra"] = (own == c) and (ctg_cost(path) == c)
        if best is None or secs < best["seconds"]:
            keep_path = best["path"] if best else path
            keep = (best["cost"], best["largest"]) if best else (c, big)
            # seconds: best of the repeats; path/cost: those of the first repeat
            best = {"cost": keep[0], "largest": keep[1], "seconds": secs, "path": keep_path}
    entry["cotengra"] = best
    print(f"  cotengra cost={best['cost']:.4e} largest={best['largest']:.3e} {best['seconds']:.2f}s", flush=True)

    # contraction along cotengra's path
    entry["contract_seconds"] = None
    entry["result"] = None
    entry["result_shape"] = [extents[l] for l in output]
    if best["cost"] <= CONTRACT_MAX_COST:
        if args.skip_contract:
            if prev and prev.get("result") is not None:
                entry["contract_seconds"] = prev.get("contract_seconds")
                entry["result"] = prev.get("result")
        else:
            shapes = [tuple(extents[l] for l in t) for t in inputs]
            arrays = [operand(k, s) for k, s in enumerate(shapes)]
            cpath = [tuple(s) for s in best["path"]]
            secs, res = best_of(
                lambda: opt_einsum.contract(eq, *arrays, optimize=cpath), 3, give_up_after=60.0)
            res = np.asarray(res, dtype=np.float64)
            assert list(res.shape) == entry["result_shape"]
            entry["contract_seconds"] = secs
            entry["result"] = [float(x) for x in res.ravel(order="C")]
            print(f"  contract {secs:.3f}s result[0]={entry['result'][0]:.17g}", flush=True)
    entry["cost_agrees_with_cotengra"] = checks
    if not all(checks.values()):
        print(f"  !! cost mismatch vs cotengra contraction_cost: {checks}", flush=True)
    return entry


def print_table(path):
    nets = json.load(open(path))["networks"]
    fmt = lambda x: "-" if x is None else (str(x) if isinstance(x, int) else f"{x:.3g}")
    print("| network | inputs | greedy cost | dp cost | cotengra cost | cotengra largest "
          "| cotengra s | contract s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, e in nets.items():
        dp = e["dp"]["cost"] if e["dp"] else None
        c = e["cotengra"]
        print(f"| {name} | {e['n_inputs']} | {fmt(e['greedy']['cost'])} | {fmt(dp)} | {fmt(c['cost'])} "
              f"| {fmt(c['largest'])} | {c['seconds']:.2f} | {fmt(e['contract_seconds'])} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only networks whose name contains this substring")
    ap.add_argument("--skip-contract", action="store_true",
                    help="do not contract (previous result/contract_seconds of the network are kept)")
    ap.add_argument("--resume", action="store_true",
                    help="skip networks already present in anchors.json")
    ap.add_argument("--cotengra-repeats", type=int, default=1,
                    help="searches per network; seconds = fastest, path = first (default 1)")
    ap.add_argument("--networks", default=os.path.join(HERE, "networks.json"))
    ap.add_argument("--out", default=os.path.join(HERE, "anchors.json"))
    ap.add_argument("--table", action="store_true",
                    help="only print a markdown table of anchors.json and exit")
    args = ap.parse_args()
    if args.table:
        return print_table(args.out)

    _self_check_operand()
    nets = json.load(open(args.networks))["networks"]
    if args.only:
        nets = [n for n in nets if args.only in n["name"]]
    doc = {"networks": {}}
    if os.path.exists(args.out):
        doc = json.load(open(args.out))
    doc["versions"] = versions()
    doc["machine"] = machine()
    doc["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    doc["splitmix64_check"] = {str(s): splitmix64_scalar(s) for s in (0, 1, 1 << 32)}
    doc["cost_definition"] = (
        "multiply-adds: sum over pairwise steps of prod(extents of union of both operands' labels); "
        "largest = max elements of a step's result (inputs not counted)")

    def save():
        order = [n["name"] for n in json.load(open(args.networks))["networks"]]
        nets_sorted = {k: doc["networks"][k] for k in sorted(
            doc["networks"], key=lambda k: order.index(k) if k in order else len(order))}
        out = {"versions": doc["versions"], "machine": doc["machine"], "date": doc["date"],
               "cost_definition": doc["cost_definition"], "splitmix64_check": doc["splitmix64_check"],
               "networks": nets_sorted}
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:  # header indented, one network per line
            f.write("{\n")
            for k in ("versions", "machine", "date", "cost_definition", "splitmix64_check"):
                f.write(f" {json.dumps(k)}: {json.dumps(out[k])},\n")
            f.write(' "networks": {\n')
            f.write(",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in nets_sorted.items()))
            f.write("\n }\n}\n")
        json.load(open(tmp))  # sanity
        os.replace(tmp, args.out)

    t_all = time.perf_counter()
    for net in nets:
        name = net["name"]
        if args.resume and name in doc["networks"]:
            print(f"{name}: already done, skipped", flush=True)
            continue
        print(f"{name}: {len(net['inputs'])} inputs, {len(net['extents'])} labels", flush=True)
        t0 = time.perf_counter()
        doc["networks"][name] = run_network(net, args, doc["networks"].get(name))
        print(f"  [{time.perf_counter() - t0:.1f}s for {name}]", flush=True)
        save()
    save()
    print(f"done: {len(nets)} networks in {time.perf_counter() - t_all:.1f}s -> {args.out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
