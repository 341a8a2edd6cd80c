//! Writing the code: the user's function unchanged, a wrapper the runtime
//! calls, and its registration through `inventory`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, Type};

use crate::attr::{self, Schedule, TriggerArg};

/// `#[scheduled(...)]`.
pub(crate) fn scheduled(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.to_compile_error();
            return quote! { #item #e };
        }
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
    let params = check_signature(&func, &mut errors);
    if let (true, Some(s)) = (errors.is_empty(), &schedule) {
        expand(&func, s, &params)
    } else {
        let errors = errors.into_iter().map(|e| e.to_compile_error());
        // Still emit the function, so the rest of the crate and the IDE keep working.
        quote! { #func #(#errors)* }
    }
}

/// A parameter the runtime can supply.
enum Param {
    Context(Box<Type>),
    /// The whole type, and the `T` of `Data<T>`.
    Data(Box<Type>, Box<Type>),
}

fn check_signature(func: &ItemFn, errors: &mut Vec<syn::Error>) -> Vec<Param> {
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "a scheduled job cannot be generic",
        ));
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new(
                r.span(),
                "a scheduled job is a free function; `self` is not allowed",
            )),
            FnArg::Typed(t) => {
                if !matches!(&*t.pat, Pat::Ident(_) | Pat::Wild(_)) {
                    errors.push(syn::Error::new(
                        t.pat.span(),
                        "use a plain name for this parameter",
                    ));
                }
                match classify(&t.ty) {
                    Some(p) => params.push(p),
                    None => errors.push(syn::Error::new(
                        t.ty.span(),
                        "unsupported parameter: a scheduled job takes `JobContext` and `Data<T>` \
                         (use #[job] for jobs with arguments)",
                    )),
                }
            }
        }
    }
    params
}

/// `Some(None)` for `JobContext`, `Some(Some(T))` for `Data<T>`, `None` otherwise.
pub(crate) fn extracted(ty: &Type) -> Option<Option<Box<Type>>> {
    match classify(ty)? {
        Param::Context(_) => Some(None),
        Param::Data(_, inner) => Some(Some(inner)),
    }
}

fn classify(ty: &Type) -> Option<Param> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    match (last.ident.to_string().as_str(), &last.arguments) {
        ("JobContext", syn::PathArguments::None) => Some(Param::Context(Box::new(ty.clone()))),
        ("Data", syn::PathArguments::AngleBracketed(a)) if a.args.len() == 1 => {
            match a.args.first()? {
                syn::GenericArgument::Type(inner) => {
                    Some(Param::Data(Box::new(ty.clone()), Box::new(inner.clone())))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn expand(func: &ItemFn, s: &Schedule, params: &[Param]) -> TokenStream {
    let krate: syn::Path = match &s.krate {
        Some(l) => l.parse().unwrap_or_else(|_| syn::parse_quote!(::scheduler)),
        None => syn::parse_quote!(::scheduler),
    };
    let ident = &func.sig.ident;
    let name = ident.to_string();
    let wrapper = format_ident!("__scheduler_job_{}", ident);
    let extract: Vec<TokenStream> = params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let var = format_ident!("__arg{}", i);
            let ty = match p {
                Param::Context(t) | Param::Data(t, _) => t,
            };
            quote_spanned! {ty.span()=>
                let #var = <#ty as #krate::__private::FromJobContext>::from_job_context(&ctx)?;
            }
        })
        .collect();
    let vars: Vec<_> = (0..params.len())
        .map(|i| format_ident!("__arg{}", i))
        .collect();
    let requires: Vec<TokenStream> = params
        .iter()
        .filter_map(|p| match p {
            Param::Data(_, inner) => {
                let shown = quote!(#inner).to_string().replace(' ', "");
                Some(quote! {
                    #krate::DataRequirement { type_id: ::std::any::TypeId::of::<#inner>, type_name: #shown }
                })
            }
            Param::Context(_) => None,
        })
        .collect();
    let (job_fn, wrapper_fn) = if func.sig.asyncness.is_some() {
        (
            quote!(#krate::JobFn::Async(#wrapper)),
            quote! {
                #[doc(hidden)]
                #[allow(non_snake_case)]
                fn #wrapper(
                    ctx: #krate::JobContext,
                    _args: ::std::sync::Arc<#krate::__private::serde_json::Value>,
                ) -> #krate::__private::BoxFuture<'static, #krate::JobResult> {
                    ::std::boxed::Box::pin(async move {
                        #(#extract)*
                        #krate::IntoJobResult::into_job_result(#ident(#(#vars),*).await)
                    })
                }
            },
        )
    } else {
        (
            quote!(#krate::JobFn::Blocking(#wrapper)),
            quote! {
                #[doc(hidden)]
                #[allow(non_snake_case)]
                fn #wrapper(
                    ctx: #krate::JobContext,
                    _args: &#krate::__private::serde_json::Value,
                ) -> #krate::JobResult {
                    #(#extract)*
                    #krate::IntoJobResult::into_job_result(#ident(#(#vars),*))
                }
            },
        )
    };
    let schedule = schedule_tokens(&krate, s);
    quote! {
        #func
        #wrapper_fn
        #krate::__private::inventory::submit! {
            #krate::JobDescriptor::new(#name, #job_fn)
                .path(::core::concat!(::core::module_path!(), "::", #name))
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
