//! Storage of views and navigation menu items (`_view_entities`, migration 0008): the
//! workspace actor's side of `metadata::views`, which holds the logic.

use serde::Deserialize;
use serde_json::Value;
use worker::Storage;

use super::sql;
use crate::metadata::views::ViewWrite;
use crate::schema::error::QueryError;

/// Every stored entity as `(kind, data)`, in a stable order (kind, then id).
pub fn load(storage: &Storage) -> Result<Vec<(String, Value)>, QueryError> {
    #[derive(Deserialize)]
    struct Row {
        kind: String,
        data: String,
    }
    let rows: Vec<Row> = sql::rows(
        &storage.sql(),
        "SELECT kind, data FROM _view_entities ORDER BY kind, id",
        vec![],
    )
    .map_err(|e| QueryError::internal(format!("views: {e}")))?;
    rows.into_iter()
        .map(|r| {
            serde_json::from_str(&r.data)
                .map(|v| (r.kind, v))
                .map_err(|e| QueryError::internal(format!("views: stored entity: {e}")))
        })
        .collect()
}

/// Applies `writes` in one storage transaction: all of them or none.
pub fn write(storage: &Storage, writes: Vec<ViewWrite>) -> Result<(), QueryError> {
    if writes.is_empty() {
        return Ok(());
    }
    let s = storage.sql();
    sql::transaction(storage, move || -> Result<(), String> {
        for w in &writes {
            let done = match w {
                ViewWrite::Put {
                    kind,
                    id,
                    view_id,
                    data,
                } => sql::exec(
                    &s,
                    "INSERT INTO _view_entities (kind, id, view_id, data) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (kind, id) DO UPDATE SET view_id = excluded.view_id, \
                     data = excluded.data",
                    vec![
                        (*kind).into(),
                        id.as_str().into(),
                        view_id
                            .as_deref()
                            .map(Into::into)
                            .unwrap_or(worker::SqlStorageValue::Null),
                        data.to_string().into(),
                    ],
                ),
                ViewWrite::Delete { kind, id } => sql::exec(
                    &s,
                    "DELETE FROM _view_entities WHERE kind = ? AND id = ?",
                    vec![(*kind).into(), id.as_str().into()],
                ),
                ViewWrite::DeleteChildren { view_id } => sql::exec(
                    &s,
                    "DELETE FROM _view_entities WHERE view_id = ?",
                    vec![view_id.as_str().into()],
                ),
            };
            done.map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .map_err(|e| QueryError::internal(format!("views: {e}")))
}
