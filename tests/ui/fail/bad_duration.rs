use scheduler::prelude::*;

#[scheduled(interval = "15 parsecs")]
async fn job() {}

fn main() {}
