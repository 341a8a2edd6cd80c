//! Cross-checks against reference implementations we did not write:
//! croniter (POSIX crontab strings) and APScheduler 3 (field triggers).
//! `fixtures/gen_fixtures.py` produced the fixture files once; they are
//! committed so the tests need no Python.

use scheduler_triggers::{CronFields, CronTrigger, Trigger};
use tests::at;

/// Rows of a fixture: (definition, after, expected fire times).
fn rows(file: &str) -> Vec<(String, String, Vec<String>)> {
    let path = format!("{}/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 3, "{file}: bad row {l}");
            (
                cols[0].to_owned(),
                cols[1].to_owned(),
                cols[2].split(' ').map(str::to_owned).collect(),
            )
        })
        .collect()
}

fn compare(file: &str, build: impl Fn(&str) -> Result<Trigger, String>) {
    let rows = rows(file);
    assert!(rows.len() >= 100, "{file}: only {} rows", rows.len());
    let mut failures = Vec::new();
    for (def, after, expected) in &rows {
        let trigger = match build(def) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{def}: rejected: {e}"));
                continue;
            }
        };
        let got: Vec<String> = trigger
            .iter_after(at(after))
            .take(expected.len())
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect();
        if &got != expected {
            failures.push(format!(
                "{def} after {after}:\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows of {file} differ:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn crontab_strings_agree_with_croniter() {
    compare("croniter_cases.tsv", |expr| {
        Trigger::cron(expr).map_err(|e| e.to_string())
    });
}

#[test]
fn field_triggers_agree_with_apscheduler() {
    compare("apscheduler_cases.tsv", |def| {
        let mut fields = CronFields::new();
        for pair in def.split(' ') {
            let (name, expr) = pair.split_once('=').ok_or(format!("bad pair {pair}"))?;
            fields = fields
                .set(name, &expr.replace('_', " "))
                .map_err(|e| e.to_string())?;
        }
        CronTrigger::from_fields(fields)
            .build()
            .map(Trigger::from)
            .map_err(|e| e.to_string())
    });
}
