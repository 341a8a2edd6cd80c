//! What both attributes generate alike: the signature check, the extractors,
//! the wrapper the runtime calls, and the data the job needs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, Type};

/// What a parameter of a job function is.
pub(crate) enum Kind {
    /// `JobContext`, supplied by the runtime.
    Context,
    /// `Data<T>`, supplied by the runtime; the `T`.
    Data(Box<Type>),
    /// An argument of the job, serialised with serde (`#[job]` only).
    Arg,
}

pub(crate) struct Param {
    /// The name in the user's signature (`argN` for `_`).
    pub(crate) name: Ident,
    pub(crate) ty: Box<Type>,
    pub(crate) kind: Kind,
}

/// The annotated function; when it does not parse, the item as it was plus
/// the error (so the rest of the file still compiles).
pub(crate) fn parse_fn(item: TokenStream) -> Result<ItemFn, TokenStream> {
    syn::parse2(item.clone()).map_err(|e| {
        let e = e.to_compile_error();
        quote! { #item #e }
    })
}

/// The `crate = "..."` path, or `::scheduler`.
pub(crate) fn krate(lit: Option<&LitStr>) -> syn::Path {
    lit.and_then(|l| l.parse().ok())
        .unwrap_or_else(|| syn::parse_quote!(::scheduler))
}

fn kind(ty: &Type) -> Kind {
    let Type::Path(p) = ty else { return Kind::Arg };
    let Some(last) = p.path.segments.last() else {
        return Kind::Arg;
    };
    match (last.ident.to_string().as_str(), &last.arguments) {
        ("JobContext", syn::PathArguments::None) => Kind::Context,
        ("Data", syn::PathArguments::AngleBracketed(a)) if a.args.len() == 1 => {
            match a.args.first() {
                Some(syn::GenericArgument::Type(inner)) => Kind::Data(Box::new(inner.clone())),
                _ => Kind::Arg,
            }
        }
        _ => Kind::Arg,
    }
}

/// Checks that `func` is a free, non-generic function with plain parameter
/// names; `what` names it in the messages ("a scheduled job").
pub(crate) fn params(func: &ItemFn, what: &str, errors: &mut Vec<syn::Error>) -> Vec<Param> {
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            format!("{what} cannot be generic"),
        ));
    }
    let mut params = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new(
                r.span(),
                format!("{what} is a free function; `self` is not allowed"),
            )),
            FnArg::Typed(t) => {
                let name = match &*t.pat {
                    Pat::Ident(p) => p.ident.clone(),
                    Pat::Wild(_) => format_ident!("arg{}", i),
                    other => {
                        errors.push(syn::Error::new(
                            other.span(),
                            "use a plain name for this parameter",
                        ));
                        continue;
                    }
                };
                params.push(Param {
                    name,
                    ty: t.ty.clone(),
                    kind: kind(&t.ty),
                });
            }
        }
    }
    params
}

/// The generated pieces of one job function.
pub(crate) struct Generated {
    /// `JobFn::Async(wrapper)` or `JobFn::Blocking(wrapper)`.
    pub(crate) job_fn: TokenStream,
    /// The wrapper: decodes the arguments, extracts the rest, calls the function.
    pub(crate) wrapper: TokenStream,
    /// `DataRequirement`s of its `Data<T>` parameters.
    pub(crate) requires: Vec<TokenStream>,
}

/// The registry key: `key = "..."` as written, or the function's path
/// (`module::path::function`), unique in the binary.
pub(crate) fn key(key: Option<&LitStr>, func: &ItemFn) -> TokenStream {
    match key {
        Some(k) => quote!(#k),
        None => {
            let ident = &func.sig.ident;
            quote!(::core::concat!(
                ::core::module_path!(),
                "::",
                ::core::stringify!(#ident)
            ))
        }
    }
}

/// Writes the wrapper for `func`, registered as `key` (an expression).
pub(crate) fn generate(
    krate: &syn::Path,
    func: &ItemFn,
    key: &TokenStream,
    params: &[Param],
) -> Generated {
    let ident = &func.sig.ident;
    let wrapper = format_ident!("__scheduler_job_{}", ident);
    // Positional locals, so no parameter name can clash with `ctx` or `args`.
    let vars: Vec<Ident> = (0..params.len())
        .map(|i| format_ident!("__arg{}", i))
        .collect();
    let (arg_vars, arg_types): (Vec<&Ident>, Vec<&Type>) = params
        .iter()
        .zip(&vars)
        .filter(|(p, _)| matches!(p.kind, Kind::Arg))
        .map(|(p, v)| (v, &*p.ty))
        .unzip();
    let decode = (!arg_vars.is_empty()).then(|| {
        quote! {
            let (#(#arg_vars,)*): (#(#arg_types,)*) =
                <(#(#arg_types,)*) as #krate::__private::serde::Deserialize>::deserialize(&*args)
                    .map_err(|e| #krate::JobError::new(::std::format!("arguments of job function `{}`: {}", #key, e)))?;
        }
    });
    let extract = params
        .iter()
        .zip(&vars)
        .filter(|(p, _)| !matches!(p.kind, Kind::Arg))
        .map(|(p, var)| {
            let ty = &p.ty;
            quote_spanned! {ty.span()=>
                let #var = <#ty as #krate::__private::FromJobContext>::from_job_context(&ctx)?;
            }
        });
    let requires = params
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::Data(inner) => {
                let shown = quote!(#inner).to_string().replace(' ', "");
                Some(quote! { #krate::DataRequirement { type_id: ::std::any::TypeId::of::<#inner>, type_name: #shown } })
            }
            _ => None,
        })
        .collect();
    let body = quote! { #decode #(#extract)* };
    let (job_fn, wrapper) = if func.sig.asyncness.is_some() {
        (
            quote!(#krate::JobFn::Async(#wrapper)),
            quote! {
                #[doc(hidden)]
                #[allow(non_snake_case, unused_variables)]
                fn #wrapper(
                    ctx: #krate::JobContext,
                    args: ::std::sync::Arc<#krate::__private::serde_json::Value>,
                ) -> #krate::__private::BoxFuture<'static, #krate::JobResult> {
                    ::std::boxed::Box::pin(async move {
                        #body
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
                #[allow(non_snake_case, unused_variables)]
                fn #wrapper(ctx: #krate::JobContext, args: &#krate::__private::serde_json::Value) -> #krate::JobResult {
                    #body
                    #krate::IntoJobResult::into_job_result(#ident(#(#vars),*))
                }
            },
        )
    };
    Generated {
        job_fn,
        wrapper,
        requires,
    }
}
