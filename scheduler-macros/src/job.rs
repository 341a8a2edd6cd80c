//! `#[job]`: a named job function scheduled at run time, with typed,
//! serialised arguments and a typed constructor `name::with(args)`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::wrapper::{self, Generated, Kind};

/// `#[job(name = "...", key = "...", crate = "...")]`, all optional: the
/// display name (default: the function's), the registry key (default: the
/// function's path), the crate's path.
struct JobAttr {
    name: Option<LitStr>,
    key: Option<LitStr>,
    krate: Option<LitStr>,
}

fn parse(args: TokenStream) -> syn::Result<JobAttr> {
    let mut a = JobAttr {
        name: None,
        key: None,
        krate: None,
    };
    let parser = syn::meta::parser(|meta| {
        let slot = if meta.path.is_ident("name") {
            &mut a.name
        } else if meta.path.is_ident("key") {
            &mut a.key
        } else if meta.path.is_ident("crate") {
            &mut a.krate
        } else {
            return Err(meta.error(
                "unknown option; `#[job]` takes `name = \"...\"`, `key = \"...\"` and `crate = \"...\"`",
            ));
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
    let key = wrapper::key(attr.key.as_ref(), &func);
    let Generated {
        job_fn,
        wrapper,
        requires,
    } = wrapper::generate(&krate, &func, &key, &params);
    let (arg_names, arg_types): (Vec<&syn::Ident>, Vec<&syn::Type>) = params
        .iter()
        .filter(|p| matches!(p.kind, Kind::Arg))
        .map(|p| (&p.name, &*p.ty))
        .unzip();
    let doc = format!(
        "Schedules the job function `{name}` with these arguments (serialised with serde)."
    );
    // The key is made here: inside the module below, `module_path!()` would
    // name the module.
    let key_const = quote::format_ident!("__SCHEDULER_KEY_{}", ident);
    quote! {
        #func
        #wrapper
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        const #key_const: &str = #key;
        #krate::__private::inventory::submit! {
            #krate::JobDescriptor::new(#key_const, #job_fn)
                .path(::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)))
                .display_name(#name)
                .requires(&[#(#requires),*])
        }
        #[allow(non_snake_case)]
        #vis mod #ident {
            #[allow(unused_imports)]
            use super::*;
            #[doc = #doc]
            pub fn with(#(#arg_names: #arg_types),*) -> #krate::Target {
                #krate::Target::registered_deferred(super::#key_const, (#(#arg_names,)*))
            }
        }
    }
}
