use scheduler::prelude::*;

#[job]
async fn cancel_order(order_id: u64, _ctx: JobContext) -> Result<(), std::fmt::Error> {
    let _ = order_id;
    Ok(())
}

#[job(name = "renamed")]
fn blocking_job(_a: String, _b: Vec<u32>) {}

fn main() {
    let _t: Target = cancel_order::with(7);
    let _u: Target = blocking_job::with("x".into(), vec![1, 2]);
}
