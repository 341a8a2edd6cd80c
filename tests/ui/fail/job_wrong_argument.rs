use scheduler::prelude::*;

#[job]
async fn cancel_order(_order_id: u64) {}

fn main() {
    let _ = cancel_order::with("not a number");
}
