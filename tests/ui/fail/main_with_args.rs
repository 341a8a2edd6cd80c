#[scheduler::main(flavor = "multi")]
fn main(args: Vec<String>) {
    let _ = args;
}
