//! Thin helpers over the Durable Object's SQLite storage.
//!
//! - [`rows`] reads a whole result with `to_array()`: `SqlCursor::one()` hangs on zero rows.
//! - [`transaction`] is all-or-nothing through `storage.transactionSync` (SQL `BEGIN` is
//!   refused in Durable Objects, and statements without an `await` between them are only
//!   flushed together, not rolled back together).

use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::{SqlStorage, SqlStorageValue, Storage};

use super::migrations::{Migration, MigrationStore, LEDGER_DDL};

#[wasm_bindgen]
extern "C" {
    /// `DurableObjectStorage`, seen through the one method workers-rs does not bind.
    type SyncTransactions;

    #[wasm_bindgen(method, catch, js_name = transactionSync)]
    fn transaction_sync(
        this: &SyncTransactions,
        closure: &js_sys::Function,
    ) -> Result<JsValue, JsValue>;
}

pub type Params = Vec<SqlStorageValue>;

/// Every row of `query`, deserialized.
pub fn rows<T: DeserializeOwned>(
    sql: &SqlStorage,
    query: &str,
    params: Params,
) -> worker::Result<Vec<T>> {
    sql.exec(query, params)?.to_array()
}

/// Runs a statement for its effect; returns the rows it wrote.
pub fn exec(sql: &SqlStorage, query: &str, params: Params) -> worker::Result<usize> {
    let cursor = sql.exec(query, params)?;
    // Drain the cursor: the statement runs to completion only once it is consumed.
    let _ = cursor.to_array::<serde_json::Value>()?;
    Ok(cursor.rows_written())
}

/// Runs `body` inside one storage transaction. If `body` returns `Err`, every write it made
/// is rolled back and the error is returned.
pub fn transaction<T: 'static, E: 'static>(
    storage: &Storage,
    body: impl FnOnce() -> Result<T, E> + 'static,
) -> Result<T, TransactionError<E>> {
    let outcome: Rc<RefCell<Option<Result<T, E>>>> = Rc::new(RefCell::new(None));
    let slot = outcome.clone();
    // The body's captures are ours alone and the outcome slot is read only after the call,
    // so a panic inside cannot leave shared state half-updated.
    let closure = Closure::once_assert_unwind_safe(move || -> Result<JsValue, JsValue> {
        let result = body();
        let failed = result.is_err();
        *slot.borrow_mut() = Some(result);
        if failed {
            // Throwing makes transactionSync roll back.
            Err(JsValue::from_str("rollback"))
        } else {
            Ok(JsValue::UNDEFINED)
        }
    });
    let raw: &SyncTransactions = storage.as_raw().unchecked_ref();
    let js_result = raw.transaction_sync(closure.as_ref().unchecked_ref());
    let taken = outcome.borrow_mut().take();
    match (js_result, taken) {
        (Ok(_), Some(Ok(value))) => Ok(value),
        (_, Some(Err(e))) => Err(TransactionError::Body(e)),
        (Err(js), _) => Err(TransactionError::Storage(format!("{js:?}"))),
        (Ok(_), None) => Err(TransactionError::Storage(
            "transaction body did not run".into(),
        )),
    }
}

#[derive(Debug)]
pub enum TransactionError<E> {
    /// The body returned an error; everything was rolled back.
    Body(E),
    /// The storage itself failed (commit, or the body never ran).
    Storage(String),
}

impl<E: std::fmt::Display> std::fmt::Display for TransactionError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransactionError::Body(e) => write!(f, "{e}"),
            TransactionError::Storage(e) => write!(f, "storage: {e}"),
        }
    }
}

/// The migration ledger on Durable Object storage.
pub struct DoMigrationStore<'a> {
    pub storage: &'a Storage,
}

impl MigrationStore for DoMigrationStore<'_> {
    fn applied(&self) -> Result<Vec<u32>, String> {
        #[derive(serde::Deserialize)]
        struct Row {
            id: u32,
        }
        let sql = self.storage.sql();
        exec(&sql, LEDGER_DDL, vec![]).map_err(|e| e.to_string())?;
        let ids: Vec<Row> = rows(&sql, "SELECT id FROM _migrations ORDER BY id", vec![])
            .map_err(|e| e.to_string())?;
        Ok(ids.into_iter().map(|r| r.id).collect())
    }

    fn apply(&self, m: &Migration, applied_at: &str) -> Result<(), String> {
        let sql = self.storage.sql();
        let m = *m;
        let applied_at = applied_at.to_string();
        transaction(self.storage, move || -> Result<(), String> {
            exec(&sql, m.sql, vec![]).map_err(|e| e.to_string())?;
            exec(
                &sql,
                "INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)",
                vec![i64::from(m.id).into(), m.name.into(), applied_at.into()],
            )
            .map_err(|e| e.to_string())?;
            Ok(())
        })
        .map_err(|e| e.to_string())
    }
}
