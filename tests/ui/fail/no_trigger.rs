use scheduler::prelude::*;

#[scheduled(max_instances = 2)]
async fn job() {}

fn main() {}
