use scheduler::prelude::*;

#[scheduled(cron = "0 0 30 2 *")]
async fn job() {}

fn main() {}
