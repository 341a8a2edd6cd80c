//! `scheduler check`: every problem in a config file, with its position.

use std::path::Path;
use std::process::ExitCode;

use crate::config;

/// Prints the problems (stderr) or a summary (stdout); exit code 1 on problems.
pub(crate) fn run(path: &Path) -> ExitCode {
    match config::load(path) {
        Ok(c) => {
            println!("{}: {} job(s), no problems", path.display(), c.jobs.len());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{}: {} problem(s)", path.display(), problems.len());
            ExitCode::from(1)
        }
    }
}
