use scheduler::prelude::*;

#[scheduled(cron = "0 0 * * *", tz = "UTC", tz = "Europe/Berlin")]
async fn job() {}

fn main() {}
