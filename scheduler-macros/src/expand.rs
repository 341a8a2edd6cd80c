//! Writing the code: the user's function unchanged, a wrapper the runtime
//! calls, and its registration through `inventory`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::attr::{self, Schedule, TriggerArg};
use crate::wrapper::{self, Generated, Kind, Param};

/// `#[scheduled(...)]`.
pub(crate) fn scheduled(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match crate::wrapper::parse_fn(item) {
        Ok(f) => f,
        Err(tokens) => return tokens,
    };
    let mut errors: Vec<syn::Error> = Vec::new();
    let schedule = match attr::parse(args) {
        Ok(s) => {
            errors.extend(crate::valid::check(&s));
            Some(s)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let params = wrapper::params(&func, "a scheduled job", &mut errors);
    for p in params.iter().filter(|p| matches!(p.kind, Kind::Arg)) {
        errors.push(syn::Error::new(
            p.ty.span(),
            "unsupported parameter: a scheduled job takes `JobContext` and `Data<T>` \
             (use #[job] for jobs with arguments)",
        ));
    }
    if let (true, Some(s)) = (errors.is_empty(), &schedule) {
        expand(&func, s, &params)
    } else {
        let errors = errors.into_iter().map(|e| e.to_compile_error());
        // Still emit the function, so the rest of the crate and the IDE keep working.
        quote! { #func #(#errors)* }
    }
}

fn expand(func: &ItemFn, s: &Schedule, params: &[Param]) -> TokenStream {
    let krate = wrapper::krate(s.krate.as_ref());
    let name = func.sig.ident.to_string();
    let key = wrapper::key(s.key.as_ref(), func);
    let Generated {
        job_fn,
        wrapper,
        requires,
    } = wrapper::generate(&krate, func, &key, params);
    let schedule = schedule_tokens(&krate, s);
    quote! {
        #func
        #wrapper
        #krate::__private::inventory::submit! {
            #krate::JobDescriptor::new(#key, #job_fn)
                .path(::core::concat!(::core::module_path!(), "::", #name))
                .display_name(#name)
                .schedule(#schedule)
                .requires(&[#(#requires),*])
        }
    }
}

fn schedule_tokens(krate: &syn::Path, s: &Schedule) -> TokenStream {
    let base = match &s.trigger {
        Some(TriggerArg::Cron(l)) => quote!(#krate::StaticSchedule::cron(#l)),
        Some(TriggerArg::Interval(l)) => quote!(#krate::StaticSchedule::interval(#l)),
        Some(TriggerArg::Date(l)) => quote!(#krate::StaticSchedule::date(#l)),
        Some(TriggerArg::AtStart) | None => quote!(#krate::StaticSchedule::at_start()),
        Some(TriggerArg::Fields(fields, _)) => {
            let pairs = fields.iter().map(|(n, l)| quote!((#n, #l)));
            quote!(#krate::StaticSchedule::fields(&[#(#pairs),*]))
        }
    };
    let mut out = base;
    let strs = [
        ("tz", &s.tz),
        ("start", &s.start),
        ("end", &s.end),
        ("id", &s.id),
        ("name", &s.name),
        ("jitter", &s.jitter),
        ("executor", &s.executor),
        ("timeout", &s.timeout),
    ];
    for (m, v) in strs {
        if let Some(l) = v {
            let m = syn::Ident::new(m, Span::call_site());
            out = quote!(#out.#m(#l));
        }
    }
    if let Some(l) = &s.misfire_grace_time {
        out = if l.value() == "none" {
            quote!(#out.no_misfire_limit())
        } else {
            quote!(#out.misfire_grace_time(#l))
        };
    }
    if let Some(b) = &s.coalesce {
        out = quote!(#out.coalesce(#b));
    }
    if let Some(i) = &s.max_instances {
        out = quote!(#out.max_instances(#i));
    }
    if let Some(i) = &s.retries {
        out = quote!(#out.retries(#i));
    }
    if let Some(b) = &s.run_on_start {
        out = quote!(#out.run_on_start(#b));
    }
    if let Some(b) = &s.paused {
        out = quote!(#out.paused(#b));
    }
    out
}
