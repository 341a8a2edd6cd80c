use scheduler::prelude::*;

#[scheduled(cron = "0 0 * * *", max_instances = 0)]
async fn job() {}

fn main() {}
