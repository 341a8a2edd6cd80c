//! Command-line parsing for `scheduler` (small enough to need no framework).

use std::path::PathBuf;

pub(crate) const HELP: &str = "\
scheduler: run a jobs.toml of commands as a service, and preview fire times

USAGE:
  scheduler run JOBS.toml [--state PATH] [--log-format text|json] [--http ADDR:PORT]
      Runs the jobs until SIGTERM or SIGINT (a graceful drain); SIGHUP reloads the file.
      --http serves /healthz, a read-only dashboard at / and Prometheus /metrics.
      State (next and last runs, the run history) lives in SQLite next to the file
      (JOBS.state.db) unless --state says where.
  scheduler check JOBS.toml
      Reports every problem in the file with its line and column; exit code 1 if any.
  scheduler import-crontab CRONTAB [--system] > JOBS.toml
      Converts a crontab (cronie's reading: environment lines, CRON_TZ, SHELL, MAILTO,
      @reboot and the other nicknames, % in commands) into an equivalent jobs.toml, with a
      comment for what cannot be converted. --system: lines have a user field
      (/etc/crontab, /etc/cron.d/*; assumed for those paths).
  scheduler jobs JOBS.toml [--state PATH] [--count N] [--after RFC3339]
      Lists the jobs with their next N (default 3) fire times in their zones (after
      --after, default now), and, when the state file exists, the next run time the
      daemon keeps and the last outcome.
  scheduler next --cron \"<EXPR>\" [--tz ZONE] [--after RFC3339] [--count N]
  scheduler next --field NAME=EXPR [--field NAME=EXPR ...] [--start RFC3339] [--end RFC3339]
                 [--tz ZONE] [--after RFC3339] [--count N]
  scheduler next --interval DURATION [--start RFC3339] [--end RFC3339] [--tz ZONE]
                 [--after RFC3339] [--count N]

Prints up to N fire times (default 10) strictly after --after (default: now), one per
line, in RFC 3339 with the zone's UTC offset at that instant. --tz defaults to UTC.
--interval without --start starts at --after. --after must carry an offset (Z or +02:00).

CRONTAB (--cron), POSIX/Vixie semantics:
  [second] minute hour day-of-month month day-of-week [year]
  5 fields; 6 with seconds first; 7 with a year last; or @yearly @annually @monthly
  @weekly @daily @midnight @hourly.
  *  any    5  a value    1-5  a range    */15, 1-30/5, 0/10  steps    1,15,30  lists
  months 1-12 or jan-dec; day of week 0-7 (0 and 7 = Sunday) or sun-sat
  day of month: L (last day), 15W (weekday nearest the 15th)
  day of week: fri#2 (second Friday), 5#L or 5L (last Friday), +mon (AND with day of month)
  When both day of month and day of week are restricted, a day matches if EITHER does.
  Examples:
    scheduler next --cron \"0 0 * * *\" --tz Europe/Berlin
    scheduler next --cron \"*/5 * * * *\" --count 3
    scheduler next --cron \"30 9 * * mon-fri\" --tz America/New_York
    scheduler next --cron \"0 0 29 2 mon\"          # 29 February OR every Monday in February

FIELDS (--field, repeatable), APScheduler 3 grammar, fields AND-ed:
  year month day week day_of_week hour minute second
  *, */n, a, a-b, a-b/n, a/n, lists; day also: last, 1st mon .. 5th sun, last fri
  day_of_week: mon-sun (numbers count 0 = Monday, as in APScheduler)
  Fields less significant than the last one given default to their minimum.
  Examples:
    scheduler next --field day_of_week=mon-fri --field hour=9-17 --field minute=*/15
    scheduler next --field day=\"last fri\" --field hour=17 --tz Europe/Berlin
    scheduler next --field month=2 --field day=29 --field day_of_week=mon

INTERVAL (--interval): <number><unit> parts: w d h m s ms us ns
  Examples: 90s  15m  1h30m  2d  1w  250ms
    scheduler next --interval 1h30m --start 2026-01-01T00:00:00Z

DST: a fixed-time job (no * in minute and hour) whose local time is skipped fires at the
first instant after the gap, and fires once (the earlier) in a repeated hour; an
interval-like job skips missing times and fires in both passes of a repeated hour.
";

/// A parsed command line.
#[derive(Debug)]
pub(crate) enum Command {
    Help(&'static str),
    Next(NextOptions),
    Run(RunOptions),
    Check(PathBuf),
    Jobs(RunOptions),
    /// `import-crontab FILE [--system]`.
    Import(PathBuf, bool),
}

/// How the daemon writes its log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Options of `scheduler run` and `scheduler jobs`.
#[derive(Debug, Default)]
pub(crate) struct RunOptions {
    pub(crate) config: PathBuf,
    pub(crate) state: Option<PathBuf>,
    pub(crate) log_format: LogFormat,
    pub(crate) count: usize,
    /// `scheduler run --http`: where to serve health, the dashboard and metrics.
    pub(crate) http: Option<String>,
    /// `scheduler jobs --after`: fire times after this instant (default now).
    pub(crate) after: Option<String>,
}

impl RunOptions {
    /// The state file: `--state`, or `JOBS.state.db` next to the config.
    pub(crate) fn state_path(&self) -> PathBuf {
        self.state.clone().unwrap_or_else(|| {
            let mut name = self.config.file_stem().unwrap_or_default().to_os_string();
            name.push(".state.db");
            self.config.with_file_name(name)
        })
    }
}

/// Options of `scheduler next`.
#[derive(Debug, Default)]
pub(crate) struct NextOptions {
    pub(crate) cron: Option<String>,
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) interval: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) tz: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) count: Option<String>,
}

impl Command {
    pub(crate) fn parse(argv: &[String]) -> Result<Command, String> {
        let mut it = argv.iter();
        match it.next().map(String::as_str) {
            None | Some("-h" | "--help" | "help") => Ok(Command::Help(HELP)),
            Some("next") => parse_next(it.as_slice()),
            Some(cmd @ ("run" | "check" | "jobs")) => parse_daemon(cmd, it.as_slice()),
            Some("import-crontab") => parse_import(it.as_slice()),
            Some(other) => Err(format!(
                "unknown command `{other}`; expected `run`, `check`, `jobs`, `import-crontab` or `next` \
                 (see `scheduler --help`)"
            )),
        }
    }
}

/// An argument: as written, and split into `--name` and `value` when
/// written `--name=value`.
struct Arg<'a> {
    raw: &'a str,
    name: &'a str,
    inline: Option<&'a str>,
}

/// The arguments one at a time; an option's value is the rest of
/// `--name=value` or the next argument.
struct Cursor<'a> {
    args: &'a [String],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Option<Arg<'a>> {
        let raw = self.args.get(self.i)?.as_str();
        self.i += 1;
        let (name, inline) = match raw.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (raw, None),
        };
        Some(Arg { raw, name, inline })
    }

    fn value(&mut self, name: &str, inline: Option<&str>) -> Result<String, String> {
        if let Some(v) = inline {
            return Ok(v.to_owned());
        }
        let v = self
            .args
            .get(self.i)
            .cloned()
            .ok_or_else(|| format!("`{name}` needs a value"))?;
        self.i += 1;
        Ok(v)
    }
}

fn parse_import(args: &[String]) -> Result<Command, String> {
    let mut file = None;
    let mut system = false;
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(HELP)),
            "--system" => system = true,
            flag if flag.starts_with('-') => {
                return Err(format!(
                "unknown option `{flag}` for `scheduler import-crontab` (see `scheduler --help`)"
            ))
            }
            _ if file.is_none() => file = Some(PathBuf::from(arg)),
            _ => {
                return Err(format!(
                    "`scheduler import-crontab` takes one file; `{arg}` is a second"
                ))
            }
        }
    }
    let file = file.ok_or("`scheduler import-crontab` needs a crontab file: scheduler import-crontab FILE > jobs.toml")?;
    Ok(Command::Import(file, system))
}

fn parse_daemon(cmd: &str, args: &[String]) -> Result<Command, String> {
    let mut o = RunOptions {
        count: 3,
        ..RunOptions::default()
    };
    let mut config = None;
    let mut cur = Cursor { args, i: 0 };
    while let Some(Arg {
        raw: arg,
        name,
        inline,
    }) = cur.next()
    {
        if matches!(arg, "-h" | "--help") {
            return Ok(Command::Help(HELP));
        }
        let mut value = || cur.value(name, inline);
        match (cmd, name) {
            ("run" | "jobs", "--state") => o.state = Some(PathBuf::from(value()?)),
            ("run", "--http") => {
                let addr = value()?;
                if !cfg!(feature = "http") {
                    return Err(format!(
                        "`--http {addr}`: this build has no web server (feature `http` of scheduler-cli)"
                    ));
                }
                o.http = Some(addr);
            }
            ("run", "--log-format") => {
                o.log_format = match value()?.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    v => return Err(format!("`--log-format {v}`: expected `text` or `json`")),
                }
            }
            ("jobs", "--after") => o.after = Some(value()?),
            ("jobs", "--count") => {
                let v = value()?;
                o.count = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("`--count {v}`: expected a number from 1 to 1000"))?;
            }
            (_, flag) if flag.starts_with('-') => {
                return Err(format!(
                    "unknown option `{arg}` for `scheduler {cmd}` (see `scheduler --help`)"
                ))
            }
            _ if config.is_none() => config = Some(PathBuf::from(arg)),
            _ => {
                return Err(format!(
                    "`scheduler {cmd}` takes one config file; `{arg}` is a second"
                ))
            }
        }
    }
    o.config = config.ok_or_else(|| {
        format!("`scheduler {cmd}` needs a config file: scheduler {cmd} jobs.toml")
    })?;
    Ok(match cmd {
        "run" => Command::Run(o),
        "check" => Command::Check(o.config),
        _ => Command::Jobs(o),
    })
}

fn parse_next(args: &[String]) -> Result<Command, String> {
    let mut o = NextOptions::default();
    let mut cur = Cursor { args, i: 0 };
    while let Some(Arg {
        raw: arg,
        name,
        inline,
    }) = cur.next()
    {
        if matches!(arg, "-h" | "--help") {
            return Ok(Command::Help(HELP));
        }
        let mut value = || cur.value(name, inline);
        let once = |slot: &mut Option<String>, v: String| -> Result<(), String> {
            if slot.is_some() {
                return Err(format!("`{name}` given more than once"));
            }
            *slot = Some(v);
            Ok(())
        };
        match name {
            "--cron" => once(&mut o.cron, value()?)?,
            "--interval" => once(&mut o.interval, value()?)?,
            "--start" => once(&mut o.start, value()?)?,
            "--end" => once(&mut o.end, value()?)?,
            "--tz" => once(&mut o.tz, value()?)?,
            "--after" => once(&mut o.after, value()?)?,
            "--count" => once(&mut o.count, value()?)?,
            "--field" => {
                let v = value()?;
                let (n, e) = v.split_once('=').ok_or_else(|| {
                    format!("`--field {v}`: expected NAME=EXPR, like `hour=9-17`")
                })?;
                o.fields.push((n.trim().to_owned(), e.to_owned()));
            }
            _ => {
                return Err(format!(
                    "unknown option `{arg}` (see `scheduler next --help`)"
                ))
            }
        }
    }
    Ok(Command::Next(o))
}
