use scheduler::prelude::*;

struct Reports;

impl Reports {
    #[scheduled(cron = "0 0 * * *")]
    async fn nightly(&self) {}
}

fn main() {}
