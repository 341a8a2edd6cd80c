use scheduler::prelude::*;

#[scheduled(cron = "0 0 * * *", tz = "Europe/Berln")]
async fn job() {}

fn main() {}
