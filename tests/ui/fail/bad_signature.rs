use scheduler::prelude::*;

#[scheduled(cron = "0 0 * * *")]
async fn job<T>(_order_id: u64) {}

fn main() {}
