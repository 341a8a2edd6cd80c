//! Shared state handed to jobs: `Data<T>`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Shared application state registered on the builder and handed to jobs,
/// like actix-web's `web::Data`. Cloning is cheap (an `Arc`).
///
/// ```
/// use scheduler::Data;
/// let counter = Data::new(std::sync::atomic::AtomicU32::new(0));
/// counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
/// assert_eq!(counter.load(std::sync::atomic::Ordering::SeqCst), 1);
/// ```
pub struct Data<T: ?Sized>(Arc<T>);

impl<T> Data<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Data<T> {
        Data(Arc::new(value))
    }
}

impl<T: ?Sized> Data<T> {
    /// Wraps an existing `Arc`.
    pub fn from_arc(arc: Arc<T>) -> Data<T> {
        Data(arc)
    }

    /// The inner `Arc`.
    pub fn into_inner(self) -> Arc<T> {
        self.0
    }
}

impl<T: ?Sized> From<Arc<T>> for Data<T> {
    /// The same `Arc`, shared with the code that holds it.
    fn from(arc: Arc<T>) -> Data<T> {
        Data(arc)
    }
}

impl<T: ?Sized> Clone for Data<T> {
    fn clone(&self) -> Self {
        Data(self.0.clone())
    }
}

impl<T: ?Sized> Deref for Data<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Data<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Type-keyed shared state.
#[derive(Clone, Default)]
pub(crate) struct DataMap {
    map: HashMap<TypeId, (Arc<dyn Any + Send + Sync>, &'static str)>,
}

impl DataMap {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.map
            .insert(TypeId::of::<T>(), (value, std::any::type_name::<T>()));
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<Data<T>> {
        let (any, _) = self.map.get(&TypeId::of::<T>())?;
        any.clone().downcast::<T>().ok().map(Data)
    }

    pub(crate) fn contains(&self, id: TypeId) -> bool {
        self.map.contains_key(&id)
    }

    /// Why `Data<type_name>` cannot be found: what was registered instead,
    /// with a hint when `T` was registered wrapped (an `Arc<T>`, or
    /// actix-web's `web::Data<T>`, which is an `Arc<T>` too).
    pub(crate) fn missing(&self, type_name: &str) -> String {
        let mut names: Vec<&str> = self.map.values().map(|(_, n)| *n).collect();
        names.sort_unstable();
        let registered = if names.is_empty() {
            "nothing was registered".to_owned()
        } else {
            format!("registered: {}", names.join(", "))
        };
        // This crate's own `Data<` as `type_name` spells it, wherever it lives.
        let ours = std::any::type_name::<Data<u8>>().trim_end_matches("u8>");
        let wrapped = names.iter().find(|n| {
            let inner = n
                .strip_prefix("alloc::sync::Arc<")
                .or_else(|| n.strip_prefix("actix_web::data::Data<"))
                .or_else(|| n.strip_prefix(ours));
            // `type_name` may be written as in the job's signature (`Pool`)
            // or in full (`app::db::Pool`).
            inner
                .and_then(|i| i.strip_suffix('>'))
                .is_some_and(|i| i == type_name || i.ends_with(&format!("::{type_name}")))
        });
        let hint = match wrapped {
            Some(w) => format!(
                "; `{w}` was registered, which is another type: register the value itself \
                 with `.data(value)`, or the shared pointer with `.app_data(Data::from(arc))` \
                 (for actix-web's `web::Data<T>`: `.app_data(Data::from(web_data.into_inner()))`)"
            ),
            None => String::new(),
        };
        format!(
            "no `Data<{type_name}>` was registered on the scheduler builder ({registered}){hint}"
        )
    }
}

impl fmt::Debug for DataMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.map.values().map(|(_, name)| name))
            .finish()
    }
}
