//! `#[job]`: a named job function scheduled at run time, with typed,
//! serialised arguments and a typed constructor `name::with(args)`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::wrapper::{self, Generated, Kind};

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

pub(crate) fn job(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match crate::wrapper::parse_fn(item) {
        Ok(f) => f,
        Err(tokens) => return tokens,
    };
    let mut errors = Vec::new();
    let attr = match parse(args) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let params = wrapper::params(&func, "a job function", &mut errors);
    let Some(attr) = attr.filter(|_| errors.is_empty()) else {
        let errors = errors.into_iter().map(|e| e.to_compile_error());
        return quote! { #func #(#errors)* };
    };
    let krate = wrapper::krate(attr.krate.as_ref());
    let ident = &func.sig.ident;
    let vis = &func.vis;
    let name = attr
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), LitStr::value);
    let Generated {
        job_fn,
        wrapper,
        requires,
    } = wrapper::generate(&krate, &func, &name, &params);
    let (arg_names, arg_types): (Vec<&syn::Ident>, Vec<&syn::Type>) = params
        .iter()
        .filter(|p| matches!(p.kind, Kind::Arg))
        .map(|p| (&p.name, &*p.ty))
        .unzip();
    let doc = format!(
        "Schedules the job function `{name}` with these arguments (serialised with serde)."
    );
    quote! {
        #func
        #wrapper
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
