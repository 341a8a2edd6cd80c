//! `#[scheduler::main]`: a program's `main` that can also be a process-pool
//! worker, and (when async) runs in an actix `System`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

/// `#[scheduler::main(crate = "...")]`.
fn parse(args: TokenStream) -> syn::Result<Option<LitStr>> {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if !meta.path.is_ident("crate") {
            return Err(
                meta.error("unknown option; `#[scheduler::main]` takes only `crate = \"...\"`")
            );
        }
        if krate.is_some() {
            return Err(meta.error("option set multiple times"));
        }
        krate = Some(meta.value()?.parse()?);
        Ok(())
    });
    syn::parse::Parser::parse2(parser, args)?;
    Ok(krate)
}

/// Parameters and generics cannot be: the program calls `main` with none.
fn validate(func: &ItemFn, errors: &mut Vec<syn::Error>) {
    if let Some(first) = func.sig.inputs.first() {
        errors.push(syn::Error::new(
            first.span(),
            "`#[scheduler::main]` goes on a `main` function without parameters",
        ));
    }
    if !func.sig.generics.params.is_empty() {
        errors.push(syn::Error::new(
            func.sig.generics.span(),
            "`#[scheduler::main]` goes on a `main` function without generics",
        ));
    }
}

pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match crate::wrapper::parse_fn(item) {
        Ok(f) => f,
        Err(tokens) => return tokens,
    };
    let mut errors = Vec::new();
    let krate = parse(args).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    validate(&func, &mut errors);
    if !errors.is_empty() {
        let errors = errors.into_iter().map(|e| e.to_compile_error());
        return quote! { #func #(#errors)* };
    }
    let krate = crate::wrapper::krate(krate.as_ref());
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    let enter = quote_spanned! {sig.ident.span()=>
        #krate::__private::worker_main();
    };
    let body = if sig.asyncness.take().is_some() {
        quote! {
            #enter
            #krate::__private::actix_rt::System::new().block_on(async move #block)
        }
    } else {
        quote! {
            #enter
            #block
        }
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}
