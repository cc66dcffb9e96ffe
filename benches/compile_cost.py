#!/usr/bin/env python3
"""Generates a library crate with 300 distinct `einsum!` invocations, to measure build cost.

    python3 benches/compile_cost.py /tmp/compilecost
    cd /tmp/compilecost && /usr/bin/time -v cargo build --release    # clean build
    touch src/lib.rs && /usr/bin/time -v cargo build --release        # the crate alone

The mix: 100 two-operand products on `[[f64; 3]; 3]`, 100 on `Array2<f64>`, 50 three-operand
chains on fixed-size arrays (each planned at compile time) and 50 on batches of `[f64; 3]`
rows. Specs differ by their labels, so no two invocations expand alike.
"""
import itertools
import os
import sys

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def label_triples():
    for a, b, c, d in itertools.permutations(LETTERS, 4):
        yield a, b, c, d


def main(path):
    os.makedirs(os.path.join(path, "src"), exist_ok=True)
    workspace = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(path, "Cargo.toml"), "w") as f:
        f.write(
            "[package]\nname = \"compilecost\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
            f"[dependencies]\neinsum = {{ path = \"{workspace}\" }}\nndarray = \"0.17\"\n\n"
            "[workspace]\n"
        )
    labels = label_triples()
    body = ["use einsum::einsum;", "use ndarray::Array2;", ""]
    for n in range(100):
        a, b, c, _ = next(labels)
        body.append(
            f"pub fn fixed{n}(x: &[[f64; 3]; 3], y: &[[f64; 3]; 3]) -> [[f64; 3]; 3] "
            f"{{ einsum!(\"{a}{b},{b}{c}->{a}{c}\", x, y) }}"
        )
    for n in range(100):
        a, b, c, _ = next(labels)
        body.append(
            f"pub fn nd{n}(x: &Array2<f64>, y: &Array2<f64>) -> Array2<f64> "
            f"{{ einsum!(\"{a}{b},{b}{c}->{a}{c}\", x, y) }}"
        )
    for n in range(50):
        a, b, c, d = next(labels)
        body.append(
            f"pub fn chain{n}(x: &[[f64; 3]; 3], y: &[[f64; 3]; 3], z: &[[f64; 3]; 3]) -> [[f64; 3]; 3] "
            f"{{ einsum!(\"{a}{b},{b}{c},{c}{d}->{a}{d}\", x, y, z) }}"
        )
    for n in range(50):
        a, b, c, d = next(labels)
        body.append(
            f"pub fn rows{n}(e: &[[[f64; 3]; 3]; 3], x: &[[f64; 3]], y: &[[f64; 3]]) -> Vec<[f64; 3]> "
            f"{{ einsum!(\"{a}{b}{c},{d}{b},{d}{c}->{d}{a}\", e, x, y) }}"
        )
    with open(os.path.join(path, "src", "lib.rs"), "w") as f:
        f.write("//! 300 distinct einsum! invocations.\n" + "\n".join(body) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/compilecost")
