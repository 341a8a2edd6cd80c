//! Checking the attribute with the runtime's own parser, at compile time.

use proc_macro2::Span;
use scheduler_triggers::{
    parse_cron, parse_duration, parse_instant, parse_zone, CronFields, CronTrigger, IntervalTrigger,
};
use syn::{LitInt, LitStr};

use crate::attr::{Schedule, TriggerArg};

fn err(errors: &mut Vec<syn::Error>, span: Span, msg: impl std::fmt::Display) {
    errors.push(syn::Error::new(span, msg));
}

fn duration(errors: &mut Vec<syn::Error>, lit: &Option<LitStr>, option: &str) {
    if let Some(l) = lit {
        if let Err(e) = parse_duration(&l.value()) {
            err(errors, l.span(), format!("`{option}`: {e}"));
        }
    }
}

fn instant(
    errors: &mut Vec<syn::Error>,
    lit: &Option<LitStr>,
    option: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let l = lit.as_ref()?;
    match parse_instant(&l.value()) {
        Ok(t) => Some(t),
        Err(e) => {
            err(errors, l.span(), format!("`{option}`: {e}"));
            None
        }
    }
}

fn positive(errors: &mut Vec<syn::Error>, lit: &Option<LitInt>, option: &str, min: u32) {
    if let Some(l) = lit {
        match l.base10_parse::<u32>() {
            Ok(v) if v >= min => {}
            _ => err(
                errors,
                l.span(),
                format!("`{option}` must be a whole number of at least {min}"),
            ),
        }
    }
}

/// Every problem of the attribute, each pointing at its token.
pub(crate) fn check(s: &Schedule) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let e = &mut errors;
    let tz = s.tz.as_ref().and_then(|l| match parse_zone(&l.value()) {
        Ok(z) => Some(z),
        Err(x) => {
            err(e, l.span(), x);
            None
        }
    });
    let start = instant(e, &s.start, "start");
    let end = instant(e, &s.end, "end");
    duration(e, &s.jitter, "jitter");
    duration(e, &s.timeout, "timeout");
    if let Some(l) = &s.misfire_grace_time {
        if l.value() != "none" {
            duration(e, &s.misfire_grace_time, "misfire_grace_time");
        }
    }
    positive(e, &s.max_instances, "max_instances", 1);
    positive(e, &s.retries, "retries", 0);
    if let Some(l) = &s.executor {
        if l.value().is_empty() {
            err(
                e,
                l.span(),
                "`executor` names an executor of the scheduler builder, like \"default\"",
            );
        }
    }
    let zone = tz.unwrap_or_default();
    match &s.trigger {
        None => err(
            e,
            Span::call_site(),
            "a scheduled job needs a trigger: `cron = \"0 0 * * *\"`, `fields(hour = \"3\")`, \
             `interval = \"30s\"`, `date = \"2026-12-31T23:00:00Z\"` or `at_start`",
        ),
        Some(TriggerArg::Cron(l)) => match parse_cron(&l.value()) {
            Err(x) => err(e, l.span(), x),
            Ok(()) => {
                let built = CronTrigger::builder(&l.value())
                    .zone(zone)
                    .start(start)
                    .end(end)
                    .build();
                if let Err(x) = built {
                    err(e, l.span(), x);
                }
            }
        },
        Some(TriggerArg::Fields(fields, span)) => {
            let mut f = CronFields::new();
            let mut ok = true;
            for (name, lit) in fields {
                match scheduler_triggers::parse_field(name, &lit.value()) {
                    Ok(()) => f = f.clone().set(name, &lit.value()).unwrap_or(f),
                    Err(x) => {
                        ok = false;
                        err(e, lit.span(), x);
                    }
                }
            }
            if ok {
                if let Err(x) = CronTrigger::from_fields(f)
                    .zone(zone)
                    .start(start)
                    .end(end)
                    .build()
                {
                    err(e, *span, x);
                }
            }
        }
        Some(TriggerArg::Interval(l)) => match parse_duration(&l.value()) {
            Err(x) => err(e, l.span(), x),
            Ok(d) => {
                if let Err(x) = IntervalTrigger::builder(d).start(start).end(end).build() {
                    err(e, l.span(), x);
                }
            }
        },
        Some(TriggerArg::Date(l)) => {
            if let Err(x) = parse_instant(&l.value()) {
                err(e, l.span(), x);
            }
        }
        Some(TriggerArg::AtStart) => {}
    }
    errors
}
