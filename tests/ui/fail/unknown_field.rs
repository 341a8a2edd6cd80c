use scheduler::prelude::*;

#[scheduled(fields(weekday = "mon", hour = "25"))]
async fn job() {}

fn main() {}
