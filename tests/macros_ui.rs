//! Compile-time checks of `#[scheduled]`: the pass set compiles, every case of
//! the fail set is refused with the message in its `.stderr` file.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
