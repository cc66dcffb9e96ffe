//! Misuse of `einsum!` and `try_einsum!` is a compile error that explains itself: each file
//! in `tests/ui/` holds one misuse, named for it, and its `.stderr` holds the diagnostic the
//! compiler must print (spec errors name the spec, the position and the term; type errors
//! name the spec, the label and the operands). The files in `tests/ui/pass/` are forms that
//! must keep compiling. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test ui`, and read it before committing it.

#[test]
fn misuse_is_a_compile_error_in_the_specs_own_words() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
