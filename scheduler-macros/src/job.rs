//! `#[job]`: a named job function scheduled at run time, with typed,
//! serialised arguments and a typed constructor `name::with(args)`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitStr, Pat, Type};

/// `#[job(name = "...", crate = "...")]`, both optional.
struct JobAttr {
    name: Option<LitStr>,
    krate: Option<LitStr>,
}

fn parse(args: TokenStream) -> syn::Result<JobAttr> {
    let mut a = JobAttr {
        name: None,
        krate: None,
    };
    let parser = syn::meta::parser(|meta| {
        let slot = if meta.path.is_ident("name") {
            &mut a.name
        } else if meta.path.is_ident("crate") {
            &mut a.krate
        } else {
            return Err(
                meta.error("unknown option; `#[job]` takes `name = \"...\"` and `crate = \"...\"`")
            );
        };
        if slot.is_some() {
            return Err(meta.error("option set multiple times"));
        }
        *slot = Some(meta.value()?.parse()?);
        Ok(())
    });
    syn::parse::Parser::parse2(parser, args)?;
    Ok(a)
}

/// What a parameter is.
enum Kind {
    /// Supplied by the runtime (`JobContext`, `Data<T>`); the `T` for data.
    Extracted(Option<Box<Type>>),
    /// An argument of the job, serialised with serde.
    Arg,
}

pub(crate) fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.to_compile_error();
            return quote! { #item #e };
        }
    };
    let mut errors = Vec::new();
    let attr = match parse(args) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if !func.sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            func.sig.generics.span(),
            "a job function cannot be generic",
        ));
    }
    let mut params: Vec<(syn::Ident, Box<Type>, Kind)> = Vec::new();
    for input in &func.sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new(
                r.span(),
                "a job function is a free function; `self` is not allowed",
            )),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => {
                    let kind = match crate::expand::extracted(&t.ty) {
                        Some(inner) => Kind::Extracted(inner),
                        None => Kind::Arg,
                    };
                    params.push((p.ident.clone(), t.ty.clone(), kind));
                }
                other => errors.push(syn::Error::new(
                    other.span(),
                    "use a plain name for this parameter",
                )),
            },
        }
    }
    let Some(attr) = attr.filter(|_| errors.is_empty()) else {
        let errors = errors.into_iter().map(|e| e.to_compile_error());
        return quote! { #func #(#errors)* };
    };
    let krate: syn::Path = match &attr.krate {
        Some(l) => l.parse().unwrap_or_else(|_| syn::parse_quote!(::scheduler)),
        None => syn::parse_quote!(::scheduler),
    };
    let ident = &func.sig.ident;
    let vis = &func.vis;
    let name = attr
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), LitStr::value);
    let wrapper = format_ident!("__scheduler_job_{}", ident);

    let arg_names: Vec<&syn::Ident> = params
        .iter()
        .filter(|p| matches!(p.2, Kind::Arg))
        .map(|p| &p.0)
        .collect();
    let arg_types: Vec<&Type> = params
        .iter()
        .filter(|p| matches!(p.2, Kind::Arg))
        .map(|p| &*p.1)
        .collect();
    let extract: Vec<TokenStream> = params
        .iter()
        .filter(|p| matches!(p.2, Kind::Extracted(_)))
        .map(|(var, ty, _)| {
            quote_spanned! {ty.span()=>
                let #var = <#ty as #krate::__private::FromJobContext>::from_job_context(&ctx)?;
            }
        })
        .collect();
    let requires: Vec<TokenStream> = params
        .iter()
        .filter_map(|p| match &p.2 {
            Kind::Extracted(Some(inner)) => {
                let shown = quote!(#inner).to_string().replace(' ', "");
                Some(quote! { #krate::DataRequirement { type_id: ::std::any::TypeId::of::<#inner>, type_name: #shown } })
            }
            _ => None,
        })
        .collect();
    let call_args: Vec<&syn::Ident> = params.iter().map(|p| &p.0).collect();
    let decode = quote! {
        let (#(#arg_names,)*): (#(#arg_types,)*) =
            <(#(#arg_types,)*) as #krate::__private::serde::Deserialize>::deserialize(&*args)
                .map_err(|e| #krate::JobError::new(::std::format!("arguments of job function `{}`: {}", #name, e)))?;
    };
    let (job_fn, wrapper_fn) = if func.sig.asyncness.is_some() {
        (
            quote!(#krate::JobFn::Async(#wrapper)),
            quote! {
                #[doc(hidden)]
                #[allow(non_snake_case)]
                fn #wrapper(
                    ctx: #krate::JobContext,
                    args: ::std::sync::Arc<#krate::__private::serde_json::Value>,
                ) -> #krate::__private::BoxFuture<'static, #krate::JobResult> {
                    ::std::boxed::Box::pin(async move {
                        #decode
                        #(#extract)*
                        #krate::IntoJobResult::into_job_result(#ident(#(#call_args),*).await)
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
                fn #wrapper(ctx: #krate::JobContext, args: &#krate::__private::serde_json::Value) -> #krate::JobResult {
                    #decode
                    #(#extract)*
                    #krate::IntoJobResult::into_job_result(#ident(#(#call_args),*))
                }
            },
        )
    };
    let doc = format!(
        "Schedules the job function `{name}` with these arguments (serialised with serde)."
    );
    quote! {
        #func
        #wrapper_fn
        #krate::__private::inventory::submit! {
            #krate::JobDescriptor::new(#name, #job_fn)
                .path(::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)))
                .requires(&[#(#requires),*])
        }
        #[allow(non_snake_case)]
        #vis mod #ident {
            #[allow(unused_imports)]
            use super::*;
            #[doc = #doc]
            pub fn with(#(#arg_names: #arg_types),*) -> #krate::Target {
                #krate::Target::registered_deferred(#name, (#(#arg_names,)*))
            }
        }
    }
}
