//! One `[jobs.NAME]` table: the command, the trigger and the policies, each
//! checked with its position; `[defaults]` gives the policies' defaults.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::time::Duration;

use scheduler::trigger::{
    parse_instant, parse_zone, CronFields, CronTrigger, Error as TriggerError, ErrorKind, Trigger,
    TriggerSpec,
};
use scheduler::CommandSpec;
use toml::de::DeTable;

use crate::config::diagnostic::{Diagnostic, Source};
use crate::config::fields::Fields;

/// What a job does when its fire time comes while it still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// The new run is skipped (logged).
    Skip,
    /// Runs side by side.
    Allow,
    /// One run waits for the running one to end; more are skipped.
    Queue,
    /// The running one is stopped (SIGTERM to its group) and the new one starts.
    Replace,
}

/// What happens to fire times missed while the daemon was down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CatchUp {
    /// Skipped, like cron (a run later than `misfire_grace` is missed).
    None,
    /// Run once at start, however many were missed (systemd's `Persistent=`).
    Once,
    /// Every missed fire time runs.
    All,
}

/// A job's trigger: as written, and built when the config was read (one
/// compiled trigger shared by the jobs whose triggers are alike).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JobTrigger {
    pub(crate) spec: TriggerSpec,
    pub(crate) built: Trigger,
}

/// A job as the config describes it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JobConfig {
    pub(crate) id: String,
    pub(crate) command: CommandSpec,
    /// `None`: no trigger, it runs once at every start (`run_on_start`).
    pub(crate) trigger: Option<JobTrigger>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retries: u32,
    pub(crate) retry_delay: Duration,
    pub(crate) retry_max_delay: Option<Duration>,
    pub(crate) jitter: Option<Duration>,
    pub(crate) overlap: Overlap,
    pub(crate) catch_up: CatchUp,
    /// How late a run may start (with `catch_up = "none"`).
    pub(crate) misfire_grace: Duration,
    pub(crate) run_on_start: bool,
    /// With `run_on_start` and no trigger: only at the first start after
    /// the machine booted (cron's `@reboot`).
    pub(crate) once_per_boot: bool,
    pub(crate) on_failure: Option<CommandSpec>,
}

const TRIGGER_KEYS: [&str; 4] = ["cron", "fields", "interval", "date"];
/// Keys `[defaults]` may give.
pub(crate) const POLICY_KEYS: &[&str] = &[
    "shell",
    "tz",
    "env",
    "cwd",
    "timeout",
    "retries",
    "retry_delay",
    "retry_max_delay",
    "jitter",
    "overlap",
    "catch_up",
    "misfire_grace",
    "on_failure",
];
const JOB_ONLY_KEYS: &[&str] = &[
    "command",
    "argv",
    "cron",
    "fields",
    "interval",
    "date",
    "start",
    "end",
    "run_on_start",
    "once_per_boot",
];
const OVERLAPS: &[&str] = &["skip", "allow", "queue", "replace"];
const CATCH_UPS: &[&str] = &["none", "once", "all"];

/// The policy keys of a table, as given (before defaults apply).
#[derive(Clone, Default)]
pub(crate) struct Policies {
    shell: Option<String>,
    tz: Option<(String, Range<usize>)>,
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    timeout: Option<Duration>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    retry_max_delay: Option<Duration>,
    jitter: Option<Duration>,
    overlap: Option<Overlap>,
    catch_up: Option<CatchUp>,
    misfire_grace: Option<Duration>,
    on_failure: Option<String>,
}

impl Policies {
    /// Reads the policy keys of `f`.
    pub(crate) fn read(f: &mut Fields<'_, '_>) -> Policies {
        let mut p = Policies {
            shell: f.text("shell").map(|(s, _)| s),
            cwd: f.text("cwd").map(|(s, _)| s),
            timeout: f.duration("timeout"),
            retries: f.uint("retries", 0, 1000).map(|n| n as u32),
            retry_delay: f.duration("retry_delay"),
            retry_max_delay: f.duration("retry_max_delay"),
            jitter: f.duration("jitter"),
            misfire_grace: f.duration("misfire_grace"),
            on_failure: f.text("on_failure").map(|(s, _)| s),
            ..Policies::default()
        };
        p.overlap = f.choice("overlap", OVERLAPS).map(|c| match c {
            "allow" => Overlap::Allow,
            "queue" => Overlap::Queue,
            "replace" => Overlap::Replace,
            _ => Overlap::Skip,
        });
        p.catch_up = f.choice("catch_up", CATCH_UPS).map(|c| match c {
            "once" => CatchUp::Once,
            "all" => CatchUp::All,
            _ => CatchUp::None,
        });
        if let Some((zone, span)) = f.text("tz") {
            match parse_zone(&zone) {
                Ok(_) => p.tz = Some((zone, span)),
                Err(e) => {
                    let d = f.src.span(
                        &span,
                        format!(
                            "`tz`: \"{zone}\": {}; expected a zone such as \"Europe/Berlin\", \
                             \"America/New_York\" or \"UTC\"",
                            e.message()
                        ),
                    );
                    f.errors.push(d);
                }
            }
        }
        for (name, value, span) in f.string_table("env").unwrap_or_default() {
            if name.is_empty() || name.contains('=') || name.contains('\0') || value.contains('\0')
            {
                let d = f.src.span(
                    &span,
                    format!("`env.{name}`: not a valid environment variable (a name without `=`, no NUL)"),
                );
                f.errors.push(d);
            } else {
                p.env.insert(name, value);
            }
        }
        p
    }

    /// These, with `defaults` for what is not given (`env` is merged).
    fn or(mut self, defaults: &Policies) -> Policies {
        let d = defaults.clone();
        let mut env = d.env;
        env.append(&mut self.env);
        Policies {
            shell: self.shell.or(d.shell),
            tz: self.tz.or(d.tz),
            env,
            cwd: self.cwd.or(d.cwd),
            timeout: self.timeout.or(d.timeout),
            retries: self.retries.or(d.retries),
            retry_delay: self.retry_delay.or(d.retry_delay),
            retry_max_delay: self.retry_max_delay.or(d.retry_max_delay),
            jitter: self.jitter.or(d.jitter),
            overlap: self.overlap.or(d.overlap),
            catch_up: self.catch_up.or(d.catch_up),
            misfire_grace: self.misfire_grace.or(d.misfire_grace),
            on_failure: self.on_failure.or(d.on_failure),
        }
    }
}

/// Reads `[jobs.ID]`; `None` (with diagnostics) if anything is wrong.
pub(crate) fn read(
    src: &Source<'_>,
    id: &str,
    key: &Range<usize>,
    table: &DeTable<'_>,
    defaults: &Policies,
    errors: &mut Vec<Diagnostic>,
    triggers: &mut Triggers,
) -> Option<JobConfig> {
    let before = errors.len();
    let known: Vec<&str> = JOB_ONLY_KEYS.iter().chain(POLICY_KEYS).copied().collect();
    let what = format!("job `{id}`");
    let mut f = Fields::new(src, table, &what, &known);
    let p = Policies::read(&mut f).or(defaults);
    let shell = p.shell.clone().unwrap_or_else(|| "/bin/sh".to_owned());
    let command = match (f.text("command"), f.strings("argv")) {
        (Some((script, _)), None) if !f.has("argv") => {
            Some(CommandSpec::shell_with(shell.clone(), script))
        }
        (None, Some(argv)) if !f.has("command") => {
            let mut it = argv.into_iter();
            it.next().map(|program| CommandSpec::new(program).args(it))
        }
        _ if f.has("command") && f.has("argv") => {
            let span = f.key_span("argv").unwrap_or_else(|| key.clone());
            f.errors.push(src.span(
                &span,
                format!("job `{id}` has both `command` and `argv`; give one"),
            ));
            None
        }
        _ if !f.has("command") && !f.has("argv") => {
            f.errors.push(src.span(
                key,
                format!(
                    "job `{id}` has no command; expected `command = \"...\"` (run by {shell} -c) \
                     or `argv = [\"program\", \"arg\"]`"
                ),
            ));
            None
        }
        _ => None, // the value's own problem is reported
    };
    let command = command.map(|c| {
        let c = p.env.iter().fold(c, |c, (k, v)| c.env(k, v));
        match &p.cwd {
            Some(dir) => c.current_dir(dir),
            None => c,
        }
    });
    let tz = p.tz.as_ref().map(|(z, _)| z.clone());
    let trigger = trigger(&mut f, id, key, tz, triggers);
    let run_on_start = f.boolean("run_on_start").unwrap_or(false);
    let once_per_boot = f.boolean("once_per_boot").unwrap_or(false);
    if once_per_boot && (!run_on_start || !matches!(trigger, Some(None))) {
        let span = f.key_span("once_per_boot").unwrap_or_else(|| key.clone());
        f.errors.push(src.span(
            &span,
            "`once_per_boot` applies to a job with `run_on_start = true` and no trigger",
        ));
    }
    if matches!(trigger, Some(None)) && !run_on_start {
        f.errors.push(src.span(
            key,
            format!(
                "job `{id}` has no trigger; expected one of `cron`, `fields`, `interval`, `date`, \
                 or `run_on_start = true` to run it once at every start"
            ),
        ));
    }
    if let (Some(max), Some(delay)) = (p.retry_max_delay, p.retry_delay) {
        if max < delay {
            let span = f.span_of("retry_max_delay").unwrap_or_else(|| key.clone());
            f.errors
                .push(src.span(&span, "`retry_max_delay` is shorter than `retry_delay`"));
        }
    }
    errors.extend(f.into_errors());
    if errors.len() > before {
        return None;
    }
    Some(JobConfig {
        id: id.to_owned(),
        command: command?,
        trigger: trigger?,
        timeout: p.timeout,
        retries: p.retries.unwrap_or(0),
        retry_delay: p.retry_delay.unwrap_or(Duration::from_secs(10)),
        retry_max_delay: p.retry_max_delay,
        jitter: p.jitter,
        overlap: p.overlap.unwrap_or(Overlap::Skip),
        catch_up: p.catch_up.unwrap_or(CatchUp::None),
        misfire_grace: p.misfire_grace.unwrap_or(Duration::from_secs(60)),
        run_on_start,
        once_per_boot,
        on_failure: p
            .on_failure
            .map(|script| CommandSpec::shell_with(shell, script)),
    })
}

/// The trigger keys: `Some(None)` when none is given, `None` on a problem.
fn trigger(
    f: &mut Fields<'_, '_>,
    id: &str,
    key: &Range<usize>,
    tz: Option<String>,
    triggers: &mut Triggers,
) -> Option<Option<JobTrigger>> {
    let given: Vec<&str> = TRIGGER_KEYS.iter().copied().filter(|k| f.has(k)).collect();
    if given.len() > 1 {
        let span = f.key_span(given[1]).unwrap_or_else(|| key.clone());
        let d = f.src.span(
            &span,
            format!(
                "job `{id}` has both `{}` and `{}`; give one trigger",
                given[0], given[1]
            ),
        );
        f.errors.push(d);
    }
    let before = f.errors.len() - usize::from(given.len() > 1);
    let mut spec = TriggerSpec {
        tz,
        ..TriggerSpec::default()
    };
    let cron = f.text("cron");
    if let Some((expr, _)) = &cron {
        spec.cron = Some(expr.clone());
    }
    if let Some((expr, span)) = f.text("interval") {
        if let Err(e) = scheduler::trigger::parse_duration(&expr) {
            let d = f.src.inside(
                &span,
                &expr,
                e.position(),
                format!(
                    "`interval`: {}; expected a duration such as 30s, 15m or 1h30m",
                    e.message()
                ),
            );
            f.errors.push(d);
        }
        spec.interval = Some(expr);
    }
    for name in ["date", "start", "end"] {
        let Some((text, span)) = f.text(name) else {
            continue;
        };
        if let Err(e) = parse_instant(&text) {
            let d = f.src.span(
                &span,
                format!(
                    "`{name}` = \"{text}\": {}; expected an RFC 3339 instant with an offset, \
                     such as 2026-12-24T18:00:00+01:00",
                    e.message()
                ),
            );
            f.errors.push(d);
        }
        match name {
            "date" => spec.date = Some(text),
            "start" => spec.start = Some(text),
            _ => spec.end = Some(text),
        }
    }
    if f.has("fields") {
        let mut fields = BTreeMap::new();
        for (name, expr, span) in f.string_table("fields").unwrap_or_default() {
            let alone = CronFields::new()
                .set(&name, &expr)
                .and_then(|one| CronTrigger::from_fields(one).build());
            if let Err(e) = alone {
                let d = f.src.inside(
                    &span,
                    &expr,
                    e.position(),
                    format!("`fields.{name}`: {}", e.to_string().trim()),
                );
                f.errors.push(d);
            }
            fields.insert(name, expr);
        }
        spec.fields = Some(fields);
    }
    // Bounds and a zone only mean something to a trigger that repeats.
    let bounds: Vec<&str> = ["start", "end"].into_iter().filter(|k| f.has(k)).collect();
    let unused: Vec<&str> = match given.first() {
        None | Some(&"date") => bounds
            .into_iter()
            .chain(f.has("tz").then_some("tz"))
            .collect(),
        Some(_) => Vec::new(),
    };
    for k in unused {
        let span = f.key_span(k).unwrap_or_else(|| key.clone());
        let what = if given.is_empty() {
            format!("job `{id}` has no trigger")
        } else {
            "`date` fires once, at an instant with its own offset".to_owned()
        };
        let d = f.src.span(
            &span,
            format!("`{k}` has no effect: {what}; it applies to `cron`, `fields` and `interval`"),
        );
        f.errors.push(d);
    }
    if f.errors.len() > before {
        return None;
    }
    if given.is_empty() {
        return Some(None);
    }
    // A crontab's error points into it; what only the whole trigger can
    // tell (bounds, a time that never comes) points at the job.
    match triggers.build(&spec) {
        Ok(built) => Some(Some(JobTrigger { spec, built })),
        Err(e) => {
            let d = match &cron {
                Some((expr, span)) if e.kind() == ErrorKind::Cron => f.src.inside(
                    span,
                    expr,
                    e.position(),
                    format!("`cron`: {}", e.to_string().trim()),
                ),
                _ => f
                    .src
                    .span(key, format!("job `{id}`: {}", e.to_string().trim())),
            };
            f.errors.push(d);
            None
        }
    }
}

/// Triggers built once per distinct spec, at one instant: jobs alike share
/// one compiled trigger (a thousand `* * * * *` are parsed once).
pub(crate) struct Triggers {
    now: chrono::DateTime<chrono::Utc>,
    built: HashMap<String, Result<Trigger, TriggerError>>,
}

impl Triggers {
    pub(crate) fn new() -> Triggers {
        Triggers {
            now: chrono::Utc::now(),
            built: HashMap::new(),
        }
    }

    fn build(&mut self, spec: &TriggerSpec) -> Result<Trigger, TriggerError> {
        let now = self.now;
        self.built
            .entry(format!("{spec:?}"))
            .or_insert_with(|| spec.build(now))
            .clone()
    }
}
