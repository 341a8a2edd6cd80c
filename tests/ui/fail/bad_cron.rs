use scheduler::prelude::*;

#[scheduled(cron = "0 25 * * *")]
async fn job() {}

fn main() {}
