use scheduler::prelude::*;

#[scheduled(cron = "0 0 * * *", max_instance = 2)]
async fn job() {}

fn main() {}
