//! Lookups from formulas into the store, with a bounded per-run cache: repeated lookups of
//! the same key within a run are served from memory.

use std::cell::RefCell;
use std::num::NonZeroUsize;

use lru::LruCache;

use crate::diagnostics::codes;
use crate::runtime::{EvalError, Lookups};
use crate::store::{scalar_key, Store, StoreError};
use crate::value::{Map, Value};

/// How many distinct lookups a run keeps.
pub const CACHE_ENTRIES: usize = 10_000;

#[derive(Hash, PartialEq, Eq)]
enum Query {
    Equal(String, String, String),
    Like(String, String, String),
}

/// The store as formulas see it.
pub struct StoreLookups {
    store: Store,
    cache: RefCell<LruCache<Query, Option<Value>>>,
}

impl StoreLookups {
    /// Lookups into `store`.
    pub fn new(store: Store) -> Self {
        StoreLookups {
            store,
            cache: RefCell::new(LruCache::new(
                NonZeroUsize::new(CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Forgets cached answers (after the run wrote to the store).
    pub fn clear_cache(&self) {
        self.cache.borrow_mut().clear();
    }

    fn cached(
        &self,
        query: Query,
        fetch: impl FnOnce() -> Result<Option<Value>, StoreError>,
    ) -> Result<Option<Value>, EvalError> {
        if let Some(hit) = self.cache.borrow_mut().get(&query) {
            return Ok(hit.clone());
        }
        let found = fetch().map_err(lookup_error)?;
        self.cache.borrow_mut().put(query, found.clone());
        Ok(found)
    }
}

fn lookup_error(e: StoreError) -> EvalError {
    EvalError::new(codes::E307_LOOKUP, e.to_string())
}

impl Lookups for StoreLookups {
    fn latest_equal(
        &self,
        object: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<Value>, EvalError> {
        let Some(key) = scalar_key(value) else {
            return Ok(None);
        };
        let query = Query::Equal(object.to_string(), field.to_string(), key);
        self.cached(query, || self.store.latest_equal(object, field, value))
    }

    fn oldest_containing(
        &self,
        object: &str,
        field: &str,
        text: &str,
    ) -> Result<Option<Value>, EvalError> {
        let query = Query::Like(object.to_string(), field.to_string(), text.to_string());
        self.cached(query, || self.store.oldest_containing(object, field, text))
    }

    fn all_matching(&self, object: &str, filter: &Map) -> Result<Vec<Value>, EvalError> {
        self.store
            .all_matching(object, filter)
            .map_err(lookup_error)
    }
}
