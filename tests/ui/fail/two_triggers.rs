use scheduler::prelude::*;

#[scheduled(cron = "0 0 * * *", interval = "1h")]
async fn job() {}

fn main() {}
