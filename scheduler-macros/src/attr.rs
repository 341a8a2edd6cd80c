//! Parsing `#[scheduled(...)]` into [`Schedule`]; every problem is collected.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::{LitBool, LitInt, LitStr};

/// The trigger given in the attribute.
pub(crate) enum TriggerArg {
    Cron(LitStr),
    Fields(Vec<(String, LitStr)>, Span),
    Interval(LitStr),
    Date(LitStr),
    AtStart,
}

/// The attribute as written (literals kept for their spans).
#[derive(Default)]
pub(crate) struct Schedule {
    pub(crate) trigger: Option<TriggerArg>,
    pub(crate) id: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) key: Option<LitStr>,
    pub(crate) tz: Option<LitStr>,
    pub(crate) start: Option<LitStr>,
    pub(crate) end: Option<LitStr>,
    pub(crate) jitter: Option<LitStr>,
    pub(crate) misfire_grace_time: Option<LitStr>,
    pub(crate) coalesce: Option<LitBool>,
    pub(crate) max_instances: Option<LitInt>,
    pub(crate) executor: Option<LitStr>,
    pub(crate) timeout: Option<LitStr>,
    pub(crate) retries: Option<LitInt>,
    pub(crate) run_on_start: Option<LitBool>,
    pub(crate) paused: Option<LitBool>,
    pub(crate) krate: Option<LitStr>,
}

const OPTIONS: &str = "cron, fields(...), interval, every, date, at_start, id, name, key, tz, start, end, \
                       jitter, misfire_grace_time, coalesce, max_instances, executor, timeout, retries, \
                       run_on_start, paused, crate";

const FIELDS: [&str; 8] = [
    "year",
    "month",
    "day",
    "week",
    "day_of_week",
    "hour",
    "minute",
    "second",
];

fn set<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta<'_>,
    name: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{name}` set multiple times")));
    }
    *slot = Some(value);
    Ok(())
}

/// A flag written bare (`at_start`) or with a bool (`paused = true`).
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<LitBool> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse()
    } else {
        Ok(LitBool::new(true, meta.path.span_ident()))
    }
}

trait SpanIdent {
    fn span_ident(&self) -> Span;
}

impl SpanIdent for syn::Path {
    fn span_ident(&self) -> Span {
        self.segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span())
    }
}

/// Parses the attribute's arguments; errors are combined and returned together.
pub(crate) fn parse(args: TokenStream) -> Result<Schedule, syn::Error> {
    let mut s = Schedule::default();
    let mut errors: Vec<syn::Error> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let result = (|| -> syn::Result<()> {
            let trigger = |t: TriggerArg, s: &mut Schedule| {
                if s.trigger.is_some() {
                    return Err(meta.error(
                        "a job has one trigger: `cron`, `fields`, `interval`/`every`, `date` and `at_start` conflict",
                    ));
                }
                s.trigger = Some(t);
                Ok(())
            };
            match key.as_str() {
                "cron" => trigger(TriggerArg::Cron(meta.value()?.parse()?), &mut s),
                "interval" | "every" => {
                    trigger(TriggerArg::Interval(meta.value()?.parse()?), &mut s)
                }
                "date" => trigger(TriggerArg::Date(meta.value()?.parse()?), &mut s),
                "at_start" => trigger(TriggerArg::AtStart, &mut s),
                "fields" => {
                    let mut fields: Vec<(String, LitStr)> = Vec::new();
                    let mut field_errors: Vec<syn::Error> = Vec::new();
                    meta.parse_nested_meta(|f| {
                        let name = f
                            .path
                            .get_ident()
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        let value = f.value()?;
                        let lit = if value.peek(LitInt) {
                            let i: LitInt = value.parse()?;
                            LitStr::new(i.base10_digits(), i.span())
                        } else {
                            value.parse()?
                        };
                        if !FIELDS.contains(&name.as_str()) {
                            field_errors.push(f.error(format!(
                                "unknown cron field `{name}`; expected one of {}",
                                FIELDS.join(", ")
                            )));
                        } else if fields.iter().any(|(n, _)| *n == name) {
                            field_errors.push(f.error(format!("`{name}` set multiple times")));
                        } else {
                            fields.push((name, lit));
                        }
                        Ok(())
                    })?;
                    if let Some(e) = field_errors.into_iter().reduce(|mut a, b| {
                        a.combine(b);
                        a
                    }) {
                        return Err(e);
                    }
                    trigger(TriggerArg::Fields(fields, meta.path.span_ident()), &mut s)
                }
                "id" => set(&mut s.id, meta.value()?.parse()?, &meta, "id"),
                "name" => set(&mut s.name, meta.value()?.parse()?, &meta, "name"),
                "key" => set(&mut s.key, meta.value()?.parse()?, &meta, "key"),
                "tz" => set(&mut s.tz, meta.value()?.parse()?, &meta, "tz"),
                "start" => set(&mut s.start, meta.value()?.parse()?, &meta, "start"),
                "end" => set(&mut s.end, meta.value()?.parse()?, &meta, "end"),
                "jitter" => set(&mut s.jitter, meta.value()?.parse()?, &meta, "jitter"),
                "misfire_grace_time" => set(
                    &mut s.misfire_grace_time,
                    meta.value()?.parse()?,
                    &meta,
                    "misfire_grace_time",
                ),
                "coalesce" => set(&mut s.coalesce, flag(&meta)?, &meta, "coalesce"),
                "max_instances" => set(
                    &mut s.max_instances,
                    meta.value()?.parse()?,
                    &meta,
                    "max_instances",
                ),
                "executor" => set(&mut s.executor, meta.value()?.parse()?, &meta, "executor"),
                "timeout" => set(&mut s.timeout, meta.value()?.parse()?, &meta, "timeout"),
                "retries" => set(&mut s.retries, meta.value()?.parse()?, &meta, "retries"),
                "run_on_start" => set(&mut s.run_on_start, flag(&meta)?, &meta, "run_on_start"),
                "paused" => set(&mut s.paused, flag(&meta)?, &meta, "paused"),
                "crate" => set(&mut s.krate, meta.value()?.parse()?, &meta, "crate"),
                _ => Err(meta.error(format!("unknown option `{key}`; expected one of {OPTIONS}"))),
            }
        })();
        if let Err(e) = result {
            // Skip the rest of this argument so the next ones are still read.
            while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                let _: proc_macro2::TokenTree = meta.input.parse()?;
            }
            errors.push(e);
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }
    match errors.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    }) {
        Some(e) => Err(e),
        None => Ok(s),
    }
}
