//! Record and model storage inside a workspace actor's SQLite.
//!
//! Each object has a table `rec_<objectId>` with `id`, `deleted_at` and `data` (JSON of
//! every other field). Storing fields as JSON keeps Cloudflare's 100-columns-per-table
//! limit out of the data model (an object may have 500 fields) and makes adding, renaming
//! or removing a field a metadata change, not a table rewrite. Foreign keys and unique
//! fields get expression indexes.

use serde::Deserialize;
use serde_json::{Map, Value};
use worker::{SqlStorage, SqlStorageValue};

use super::sql;
use crate::schema::ddl::object_ddl;
use crate::schema::metadata::{ObjectMetadata, WorkspaceModel};
use crate::schema::sql::{ident, Param, Sql};
use crate::schema::write;

pub fn to_sql_value(p: &Param) -> SqlStorageValue {
    match p {
        Param::Null => SqlStorageValue::Null,
        Param::Int(i) => SqlStorageValue::Integer(*i),
        Param::Real(f) => SqlStorageValue::Float(*f),
        Param::Text(s) => SqlStorageValue::String(s.clone()),
    }
}

pub fn params(sql: &Sql) -> Vec<SqlStorageValue> {
    sql.params.iter().map(to_sql_value).collect()
}

/// The model stored in `_object_metadata`.
pub fn load_model(s: &SqlStorage) -> worker::Result<WorkspaceModel> {
    #[derive(Deserialize)]
    struct Row {
        data: String,
    }
    let rows: Vec<Row> = sql::rows(
        s,
        "SELECT data FROM _object_metadata ORDER BY rowid",
        vec![],
    )?;
    let mut objects = Vec::with_capacity(rows.len());
    for r in rows {
        objects.push(serde_json::from_str(&r.data).map_err(|e| {
            worker::Error::RustError(format!("stored object metadata is corrupt: {e}"))
        })?);
    }
    Ok(WorkspaceModel { objects })
}

/// Writes (inserts or replaces) one object's metadata row.
pub fn save_object(s: &SqlStorage, o: &ObjectMetadata) -> worker::Result<()> {
    let data = serde_json::to_string(o).map_err(|e| worker::Error::RustError(e.to_string()))?;
    sql::exec(
        s,
        "INSERT INTO _object_metadata (id, name_singular, name_plural, data) VALUES (?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name_singular = excluded.name_singular, \
         name_plural = excluded.name_plural, data = excluded.data",
        vec![
            o.id.as_str().into(),
            o.name_singular.as_str().into(),
            o.name_plural.as_str().into(),
            data.into(),
        ],
    )?;
    Ok(())
}

pub fn ensure_tables(s: &SqlStorage, model: &WorkspaceModel) -> worker::Result<()> {
    for o in model.active_objects() {
        for stmt in object_ddl(model, o) {
            sql::exec(s, &stmt, vec![])?;
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct RawRecord {
    pub id: String,
    pub deleted_at: Option<String>,
    pub data: String,
}

impl RawRecord {
    pub fn data(&self) -> Map<String, Value> {
        serde_json::from_str(&self.data).unwrap_or_default()
    }

    pub fn output(&self) -> Value {
        write::output(&self.id, self.deleted_at.as_deref(), &self.data())
    }
}

pub fn get(s: &SqlStorage, o: &ObjectMetadata, id: &str) -> worker::Result<Option<RawRecord>> {
    let rows: Vec<RawRecord> = sql::rows(
        s,
        &format!(
            "SELECT id, deleted_at, data FROM {} WHERE id = ?",
            ident(&o.table())
        ),
        vec![id.into()],
    )?;
    Ok(rows.into_iter().next())
}

pub fn set_deleted_at(
    s: &SqlStorage,
    o: &ObjectMetadata,
    id: &str,
    at: Option<&str>,
) -> worker::Result<()> {
    sql::exec(
        s,
        &format!(
            "UPDATE {} SET deleted_at = ? WHERE id = ?",
            ident(&o.table())
        ),
        vec![at.map(str::to_string).into(), id.into()],
    )?;
    Ok(())
}

/// Live (not soft-deleted) records of an object, in id order.
pub fn live(s: &SqlStorage, o: &ObjectMetadata) -> worker::Result<Vec<RawRecord>> {
    sql::rows(
        s,
        &format!(
            "SELECT id, deleted_at, data FROM {} WHERE deleted_at IS NULL ORDER BY id",
            ident(&o.table())
        ),
        vec![],
    )
}

/// Makes storage match a changed model, inside the caller's transaction: runs the change's
/// statements (data migrations, dropped tables and indexes), rewrites the model rows, creates
/// what the new model needs, and bumps the metadata version. Returns the new version.
pub fn commit_model(
    s: &SqlStorage,
    model: &WorkspaceModel,
    statements: &[Sql],
) -> worker::Result<i64> {
    for st in statements {
        let st = st.bindable();
        sql::exec(s, &st.text, params(&st))?;
    }
    sql::exec(s, "DELETE FROM _object_metadata", vec![])?;
    for o in &model.objects {
        save_object(s, o)?;
    }
    ensure_tables(s, model)?;
    #[derive(Deserialize)]
    struct Row {
        v: i64,
    }
    sql::exec(
        s,
        "INSERT INTO _actor_meta (key, value) VALUES ('metadataVersion', '1') \
         ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
        vec![],
    )?;
    let rows: Vec<Row> = sql::rows(
        s,
        "SELECT CAST(value AS INTEGER) AS v FROM _actor_meta WHERE key = 'metadataVersion'",
        vec![],
    )?;
    Ok(rows.first().map(|r| r.v).unwrap_or(1))
}
