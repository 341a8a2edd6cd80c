//! Next-fire computation: our triggers vs raw `croner` on the same expressions,
//! in the same run.
//!
//! Run: `cargo bench -p benches --bench next_fire`
//!
//! Each iteration computes one next fire time from one of 64 start instants
//! spread over a year (so caches and lucky alignments do not flatter either side).

use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, Criterion};
use croner::Cron;
use scheduler_triggers::{CronFields, CronTrigger, IntervalTrigger, Trigger};

fn starts() -> Vec<DateTime<Utc>> {
    let base = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    (0..64)
        .map(|i| base + chrono::TimeDelta::seconds(i * 492_877 + 17)) // ~5.7 days apart, odd seconds
        .collect()
}

struct Case {
    name: &'static str,
    ours: Trigger,
    croner: Option<(Cron, Tz)>,
}

fn croner(expr: &str, tz: Tz) -> Option<(Cron, Tz)> {
    Some((Cron::from_str(expr).ok()?, tz))
}

fn cases() -> Vec<Case> {
    let cron = |e: &str, tz: &str| -> Trigger {
        match CronTrigger::builder(e).tz(tz).build() {
            Ok(t) => t.into(),
            Err(err) => panic!("{e}: {err}"),
        }
    };
    let last_fri =
        match CronTrigger::from_fields(CronFields::new().day("last fri").hour("17")).build() {
            Ok(t) => Trigger::from(t),
            Err(e) => panic!("{e}"),
        };
    let interval = match IntervalTrigger::builder(Duration::from_secs(300))
        .start(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
        )
        .build()
    {
        Ok(t) => Trigger::from(t),
        Err(e) => panic!("{e}"),
    };
    vec![
        Case {
            name: "daily `0 0 * * *` UTC",
            ours: cron("0 0 * * *", "UTC"),
            croner: croner("0 0 * * *", Tz::UTC),
        },
        Case {
            name: "`*/5 * * * *` UTC",
            ours: cron("*/5 * * * *", "UTC"),
            croner: croner("*/5 * * * *", Tz::UTC),
        },
        Case {
            name: "`30 9 * * mon-fri` Europe/Berlin",
            ours: cron("30 9 * * mon-fri", "Europe/Berlin"),
            croner: croner("30 9 * * mon-fri", Tz::Europe__Berlin),
        },
        Case {
            name: "leap day `0 0 29 2 *` UTC",
            ours: cron("0 0 29 2 *", "UTC"),
            croner: croner("0 0 29 2 *", Tz::UTC),
        },
        Case {
            name: "fields `day=last fri hour=17` UTC (croner: `0 17 * * 5#L`)",
            ours: last_fri,
            croner: croner("0 17 * * 5#L", Tz::UTC),
        },
        Case {
            name: "interval 5 min",
            ours: interval,
            croner: None,
        },
    ]
}

fn bench(c: &mut Criterion) {
    let starts = starts();
    let mut group = c.benchmark_group("next_fire");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for case in cases() {
        let mut i = 0usize;
        group.bench_function(format!("ours: {}", case.name), |b| {
            b.iter(|| {
                i = (i + 1) & 63;
                black_box(case.ours.next_after(black_box(starts[i])))
            })
        });
        if let Some((cron, tz)) = &case.croner {
            let zoned: Vec<_> = starts.iter().map(|s| s.with_timezone(tz)).collect();
            let mut i = 0usize;
            group.bench_function(format!("croner: {}", case.name), |b| {
                b.iter(|| {
                    i = (i + 1) & 63;
                    black_box(cron.find_next_occurrence(black_box(&zoned[i]), false).ok())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
