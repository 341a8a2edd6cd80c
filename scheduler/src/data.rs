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
}

impl fmt::Debug for DataMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.map.values().map(|(_, name)| name))
            .finish()
    }
}
