use scheduler::prelude::*;

#[job(queue = "fast")]
async fn generic<T>(_x: T) {}

fn main() {}
