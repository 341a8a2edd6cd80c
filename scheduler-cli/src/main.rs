//! `scheduler`: preview the fire times of a trigger before you trust it.
//!
//! ```text
//! scheduler next --cron "30 2 * * *" --tz Europe/Berlin --after 2026-03-28T00:00:00Z --count 3
//! ```

mod args;
mod next;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
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
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", message.replace('\n', " "));
    ExitCode::from(2)
}
