use scheduler::prelude::*;

#[scheduled(cron = "61 * * * *", tz = "Nowhere/City", jitter = "soon")]
async fn job() {}

fn main() {}
