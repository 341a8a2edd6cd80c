//! `scheduler`: run a `jobs.toml` of shell commands as a service (`run`),
//! check it (`check`), list its jobs (`jobs`), convert a crontab to one
//! (`import-crontab`), and preview the fire times
//! of a trigger before you trust it (`next`).
//!
//! ```text
//! scheduler check jobs.toml
//! scheduler run jobs.toml --log-format json
//! scheduler next --cron "30 2 * * *" --tz Europe/Berlin --after 2026-03-28T00:00:00Z --count 3
//! ```

mod args;
mod check;
mod config;
mod daemon;
mod import;
mod jobs;
mod next;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The daemon's process pool runs commands, never workers; this only
    // satisfies the pool's check that the program can be one.
    scheduler::worker_main();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match args::Command::parse(&argv) {
        Ok(args::Command::Help(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(args::Command::Next(opts)) => match next::run(&opts) {
            Ok(lines) => {
                let mut out = std::io::stdout().lock();
                for line in lines {
                    if writeln!(out, "{line}").is_err() {
                        return ExitCode::from(1);
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Ok(args::Command::Check(path)) => check::run(&path),
        Ok(args::Command::Jobs(opts)) => jobs::run(&opts),
        Ok(args::Command::Run(opts)) => daemon::run(&opts),
        Ok(args::Command::Import(file, system)) => import::run(&file, system),
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", message.replace('\n', " "));
    ExitCode::from(2)
}
