//! `scheduler import-crontab`: a crontab file as an equivalent `jobs.toml`,
//! read the way cronie reads it: comments, environment lines (cumulative,
//! each applying to the entries below it; `CRON_TZ`, `SHELL`, `PATH`,
//! `MAILTO`), `@reboot` and the other nicknames, and `%` in commands (the
//! first unescaped one starts the command's standard input, the others are
//! newlines in it; `\%` is a literal `%`). Anything that cannot be converted
//! is kept as a comment saying why.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use scheduler::trigger::{parse_zone, CronTrigger};

/// cron's `PATH` when the crontab sets none.
const CRON_PATH: &str = "/usr/bin:/bin";
const CRON_SHELL: &str = "/bin/sh";
const NICKNAMES: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Prints the converted file; exit code 1 if the crontab cannot be read.
pub(crate) fn run(path: &Path, system: bool) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    // /etc/crontab and /etc/cron.d have a user field.
    let system = system || path.starts_with("/etc/cron.d") || path == Path::new("/etc/crontab");
    let (zone, zone_note) = local_zone();
    print!(
        "{}",
        convert(&text, &path.display().to_string(), system, &zone, zone_note)
    );
    ExitCode::SUCCESS
}

/// The system's time zone, which cron uses without `CRON_TZ`, and how it
/// was found (or why it is a guess).
fn local_zone() -> (String, &'static str) {
    if let Ok(tz) = std::env::var("TZ") {
        let tz = tz.trim_start_matches(':').to_owned();
        if parse_zone(&tz).is_ok() {
            return (tz, "from TZ");
        }
    }
    if let Ok(target) = std::fs::read_link("/etc/localtime") {
        let target = target.to_string_lossy().into_owned();
        if let Some((_, name)) = target.split_once("zoneinfo/") {
            if parse_zone(name).is_ok() {
                return (name.to_owned(), "the system's zone (/etc/localtime)");
            }
        }
    }
    if let Ok(name) = std::fs::read_to_string("/etc/timezone") {
        let name = name.trim().to_owned();
        if parse_zone(&name).is_ok() {
            return (name, "the system's zone (/etc/timezone)");
        }
    }
    (
        "UTC".to_owned(),
        "the system's zone could not be found; check it",
    )
}

/// What the lines above an entry set.
#[derive(Clone, Debug, Default)]
struct Env {
    vars: BTreeMap<String, String>,
    shell: Option<String>,
    tz: Option<String>,
}

/// One converted entry.
struct Entry {
    id: String,
    line: usize,
    original: String,
    /// Comments (from the crontab, and notes) to write above it.
    comments: Vec<String>,
    schedule: Schedule,
    command: String,
    env: Env,
}

enum Schedule {
    Cron(String),
    Reboot,
}

/// Converts crontab `text` (`file` names it) into a `jobs.toml`.
pub(crate) fn convert(text: &str, file: &str, system: bool, zone: &str, zone_note: &str) -> String {
    let mut env = Env::default();
    let mut pending: Vec<String> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut trailing: Vec<String> = Vec::new();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim_end_matches('\r').trim_start();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            pending.push(format!("#{comment}"));
            continue;
        }
        if let Some((name, value)) = env_line(line) {
            match name.as_str() {
                "CRON_TZ" => match parse_zone(&value) {
                    Ok(_) => env.tz = Some(value),
                    Err(e) => pending.push(format!(
                        "# line {line_no}: CRON_TZ={value} ignored: {}; the entries below keep their zone",
                        e.message()
                    )),
                },
                "SHELL" => env.shell = Some(value),
                "MAILTO" => {
                    pending.push(format!(
                        "# line {line_no}: MAILTO={value}: no mail is sent; a command's output goes to \
                         the log, and `on_failure` can run a command when it fails"
                    ));
                    env.vars.insert(name, value);
                }
                _ => {
                    env.vars.insert(name, value);
                }
            }
            continue;
        }
        match entry(line, line_no, system, env.tz.as_deref().unwrap_or(zone)) {
            Ok((schedule, command, user)) => {
                let mut comments = std::mem::take(&mut pending);
                if let Some(user) = user {
                    comments.push(format!(
                        "# line {line_no}: runs as the daemon's user, not `{user}`"
                    ));
                }
                // Named after the program, before `%` turns into input.
                let id = unique_id(&command, &mut ids);
                let command = with_input(&command);
                entries.push(Entry {
                    id,
                    line: line_no,
                    original: line.to_owned(),
                    comments,
                    schedule,
                    command,
                    env: env.clone(),
                });
            }
            Err(why) => {
                pending.push(format!("# line {line_no}: not converted: {why}"));
                pending.push(format!("#   {line}"));
            }
        }
    }
    trailing.append(&mut pending);
    render(file, zone, zone_note, &entries, &trailing)
}

/// `NAME = value` (cronie's `load_env`): a name without blanks or `=`, and
/// a value with matching surrounding quotes removed.
fn env_line(line: &str) -> Option<(String, String)> {
    let eq = line.find('=')?;
    let name = line[..eq].trim_end();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let value = line[eq + 1..].trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(value);
    Some((name.to_owned(), unquoted.to_owned()))
}

type Parsed = (Schedule, String, Option<String>);

/// A cron entry: its schedule, its command as written, and the user of a
/// system crontab line.
fn entry(line: &str, line_no: usize, system: bool, zone: &str) -> Result<Parsed, String> {
    let mut rest = line;
    let mut take = || -> Option<&str> {
        let r = rest.trim_start();
        if r.is_empty() {
            return None;
        }
        let end = r.find(char::is_whitespace).unwrap_or(r.len());
        let (word, after) = r.split_at(end);
        rest = after;
        Some(word)
    };
    let first = take().ok_or("empty line")?;
    // cronie compares nicknames as written: `@DAILY` is not one.
    let schedule = if first.starts_with('@') {
        if first == "@reboot" {
            Schedule::Reboot
        } else if NICKNAMES.contains(&first) {
            Schedule::Cron(first.to_owned())
        } else {
            return Err(format!(
                "`{first}` is not a cron nickname (@reboot, @hourly, @daily, ...)"
            ));
        }
    } else {
        let mut fields = vec![first];
        for _ in 0..4 {
            fields.push(take().ok_or("fewer than 5 time fields and a command")?);
        }
        Schedule::Cron(fields.join(" "))
    };
    if let Schedule::Cron(expr) = &schedule {
        CronTrigger::builder(expr)
            .zone(parse_zone(zone).map_err(|e| e.to_string())?)
            .build()
            .map_err(|e| e.to_string())?;
    }
    let user = if system {
        Some(
            take()
                .ok_or("no user and command after the time fields")?
                .to_owned(),
        )
    } else {
        None
    };
    let command = rest.trim_start();
    if command.is_empty() {
        return Err(format!("line {line_no} has no command"));
    }
    Ok((schedule, command.to_owned(), user))
}

/// cron's `%`, as cronie's `do_command` reads it: in the command, `\%` is a
/// `%` and the first other `%` ends the command; the rest is its standard
/// input, in which `%` is a newline, `\%` a `%`, and which ends with a
/// newline unless it already does. The input becomes a `printf` piped into
/// the command.
fn with_input(command: &str) -> String {
    let mut cmd = String::new();
    let mut escaped = false;
    let mut rest = None;
    for (i, c) in command.char_indices() {
        if escaped {
            // `\%` drops the backslash; any other escaped character stays.
            if c == '%' {
                cmd.pop();
            }
            cmd.push(c);
            escaped = false;
            continue;
        }
        if c == '%' {
            rest = Some(&command[i + c.len_utf8()..]);
            break;
        }
        escaped = c == '\\';
        cmd.push(c);
    }
    // Nothing after the `%`: no input (ours is /dev/null anyway).
    let Some(rest) = rest.filter(|r| !r.is_empty()) else {
        return cmd;
    };
    let mut input = String::new();
    let mut escaped = false;
    for c in rest.chars() {
        let c = if escaped {
            if c != '%' {
                input.push('\\');
            }
            c
        } else if c == '%' {
            '\n'
        } else {
            c
        };
        escaped = c == '\\';
        if !escaped {
            input.push(c);
        }
    }
    if escaped {
        input.push('\\');
    }
    if !input.ends_with('\n') {
        input.push('\n');
    }
    format!("printf '%s' {} | ( {} )", sh_quote(&input), cmd.trim_end())
}

/// `'text'` for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A job id from the command's program name, unique in the file.
fn unique_id(command: &str, ids: &mut BTreeSet<String>) -> String {
    let program = command
        .split_whitespace()
        .find(|w| !w.contains('='))
        .unwrap_or("job");
    let base = program.rsplit('/').next().unwrap_or(program);
    let mut id: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    id = id.trim_matches('-').to_owned();
    if id.is_empty() {
        id = "job".to_owned();
    }
    let mut unique = id.clone();
    let mut n = 1;
    while ids.contains(&unique) {
        n += 1;
        unique = format!("{id}-{n}");
    }
    ids.insert(unique.clone());
    unique
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_owned()
    } else {
        toml_str(s)
    }
}

fn inline_env(vars: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = vars
        .iter()
        .map(|(k, v)| format!("{} = {}", toml_key(k), toml_str(v)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

fn render(
    file: &str,
    zone: &str,
    zone_note: &str,
    entries: &[Entry],
    trailing: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted from {file} by `scheduler import-crontab`."
    );
    out.push_str(
        "# cron lets the runs of a job overlap; these jobs skip a fire time while the\n\
         # previous run lasts (overlap = \"skip\"): set overlap = \"allow\" for cron's way.\n\
         # Commands run in the daemon's working directory (cron: the user's home).\n\n",
    );
    // What the crontab sets before its first entry is everyone's default.
    let base = entries.first().map(|e| e.env.clone()).unwrap_or_default();
    let mut base_vars = base.vars.clone();
    base_vars
        .entry("PATH".to_owned())
        .or_insert_with(|| CRON_PATH.to_owned());
    let base_zone = base.tz.clone().unwrap_or_else(|| zone.to_owned());
    let base_shell = base.shell.clone().unwrap_or_else(|| CRON_SHELL.to_owned());
    out.push_str("[defaults]\n");
    let note = if base.tz.is_some() {
        "CRON_TZ"
    } else {
        zone_note
    };
    let _ = writeln!(out, "tz = {}  # {note}", toml_str(&base_zone));
    let _ = writeln!(out, "shell = {}", toml_str(&base_shell));
    let _ = writeln!(out, "env = {}", inline_env(&base_vars));
    for e in entries {
        out.push('\n');
        for c in &e.comments {
            let _ = writeln!(out, "{c}");
        }
        let _ = writeln!(out, "# line {}: {}", e.line, e.original);
        let _ = writeln!(out, "[jobs.{}]", toml_key(&e.id));
        let _ = writeln!(out, "command = {}", toml_str(&e.command));
        match &e.schedule {
            Schedule::Cron(expr) => {
                let _ = writeln!(out, "cron = {}", toml_str(expr));
            }
            Schedule::Reboot => out.push_str("run_on_start = true\nonce_per_boot = true\n"),
        }
        let tz = e.env.tz.clone().unwrap_or_else(|| zone.to_owned());
        if tz != base_zone {
            let _ = writeln!(out, "tz = {}", toml_str(&tz));
        }
        let shell = e.env.shell.clone().unwrap_or_else(|| CRON_SHELL.to_owned());
        if shell != base_shell {
            let _ = writeln!(out, "shell = {}", toml_str(&shell));
        }
        let changed: BTreeMap<String, String> = e
            .env
            .vars
            .iter()
            .filter(|(k, v)| base_vars.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !changed.is_empty() {
            let _ = writeln!(out, "env = {}", inline_env(&changed));
        }
    }
    if !trailing.is_empty() {
        out.push('\n');
        for c in trailing {
            let _ = writeln!(out, "{c}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_signs_become_standard_input_as_cronie_reads_them() {
        assert_eq!(with_input(r"date +\%Y-\%m"), "date +%Y-%m");
        assert_eq!(
            with_input("mail -s hi root%line one%it's two"),
            "printf '%s' 'line one\nit'\\''s two\n' | ( mail -s hi root )"
        );
        // `\\%`: an escaped backslash, then the separator.
        assert_eq!(
            with_input(r"echo a\\%in"),
            r"printf '%s' 'in
' | ( echo a\\ )"
        );
        // In the input: `\%` is a `%`, other escapes stay, a last `%` is the newline.
        assert_eq!(
            with_input(r"cat%50\% a\b%"),
            "printf '%s' '50% a\\b\n' | ( cat )"
        );
        assert_eq!(with_input("true%"), "true");
    }

    #[test]
    fn ids_stay_unique_whatever_the_programs_are_called() {
        let mut ids = BTreeSet::new();
        let got: Vec<String> = ["echo a", "echo b", "echo-2 c", "/bin/echo d"]
            .iter()
            .map(|c| unique_id(c, &mut ids))
            .collect();
        assert_eq!(got, ["echo", "echo-2", "echo-2-2", "echo-3"]);
    }

    #[test]
    fn environment_lines_are_told_from_entries() {
        assert_eq!(env_line("A=1"), Some(("A".into(), "1".into())));
        assert_eq!(env_line("B = \"x y\""), Some(("B".into(), "x y".into())));
        assert_eq!(env_line("0 0 * * * FOO=1 cmd"), None);
        assert_eq!(env_line("@daily A=1 cmd"), None);
    }
}
