//! `WorkspaceActor`: the one owner of a workspace's data.
//!
//! **Architecture Invariant:** in-memory state is a cache of SQLite. A panic or an eviction
//! loses memory, never data; everything is rebuilt from storage on the next request.

use serde::Deserialize;
use serde_json::json;
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

use super::migrations::{self, MIGRATIONS};
use super::protocol::{HEADER_REQUEST_ID, HEADER_WORKSPACE_ID, PATH_DEBUG_PANIC, PATH_INSPECT};
use super::sql::{self, DoMigrationStore};
use crate::error::ApiError;
use crate::panic_boundary;

#[durable_object]
pub struct WorkspaceActor {
    state: State,
    #[allow(dead_code)]
    env: Env,
    /// Set once this instance has checked its migrations (a cache: the ledger is the truth).
    /// Unwind-safe by construction: a panic before `set(true)` just re-checks next time.
    migrated: AssertUnwindSafe<Cell<bool>>,
}

impl DurableObject for WorkspaceActor {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            migrated: AssertUnwindSafe(Cell::new(false)),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let request_id = req
            .headers()
            .get(HEADER_REQUEST_ID)
            .ok()
            .flatten()
            .unwrap_or_default();
        let outcome = panic_boundary(self.handle(req)).await;
        Ok(match outcome {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                if let ApiError::Internal(_) = e {
                    tracing::error!(requestId = %request_id, error = %e.log_message(), "actor request failed");
                }
                e.into_response(&request_id)
            }
            Err(panic) => {
                tracing::error!(requestId = %request_id, error = %panic, "actor panicked");
                ApiError::Internal(panic).into_response(&request_id)
            }
        })
    }
}

impl WorkspaceActor {
    async fn handle(&self, req: Request) -> Result<Response, ApiError> {
        self.ensure_migrated()?;
        if let Some(workspace_id) = req.headers().get(HEADER_WORKSPACE_ID)? {
            self.remember_workspace_id(&workspace_id)?;
        }
        match req.path().as_str() {
            PATH_INSPECT => self.inspect(),
            PATH_DEBUG_PANIC => panic!("deliberate panic requested through the admin API"),
            other => Err(ApiError::NotFound(format!("no actor route {other}"))),
        }
    }

    /// Applies pending migrations, once per instance.
    fn ensure_migrated(&self) -> Result<(), ApiError> {
        if self.migrated.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        let now = chrono::Utc::now().to_rfc3339();
        let applied =
            migrations::migrate(&DoMigrationStore { storage: &storage }, MIGRATIONS, &now)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        if !applied.is_empty() {
            tracing::info!(applied = ?applied, "actor storage migrated");
        }
        self.migrated.set(true);
        Ok(())
    }

    fn remember_workspace_id(&self, workspace_id: &str) -> Result<(), ApiError> {
        sql::exec(
            &self.state.storage().sql(),
            "INSERT INTO _actor_meta (key, value) VALUES ('workspaceId', ?) ON CONFLICT (key) DO NOTHING",
            vec![workspace_id.into()],
        )?;
        Ok(())
    }

    /// The admin view of this actor: schema version, tables, sizes, sockets, outbox.
    fn inspect(&self) -> Result<Response, ApiError> {
        #[derive(Deserialize)]
        struct Table {
            name: String,
        }
        #[derive(Deserialize, serde::Serialize)]
        struct Applied {
            id: u32,
            name: String,
            applied_at: String,
        }
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        #[derive(Deserialize)]
        struct Meta {
            key: String,
            value: String,
        }
        let sql = self.state.storage().sql();
        let count = |query: &str| -> Result<i64, ApiError> {
            let rows: Vec<Count> = sql::rows(&sql, query, vec![])?;
            Ok(rows.first().map(|c| c.n).unwrap_or(0))
        };
        let tables: Vec<Table> = sql::rows(
            &sql,
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
            vec![],
        )?;
        let mut table_stats = Vec::with_capacity(tables.len());
        for t in &tables {
            // Names come from sqlite_master, quoted as identifiers.
            let rows = count(&format!(
                "SELECT count(*) AS n FROM \"{}\"",
                t.name.replace('"', "\"\"")
            ))?;
            table_stats.push(json!({ "name": t.name, "rows": rows }));
        }
        let applied: Vec<Applied> = sql::rows(
            &sql,
            "SELECT id, name, applied_at FROM _migrations ORDER BY id",
            vec![],
        )?;
        let meta: Vec<Meta> = sql::rows(&sql, "SELECT key, value FROM _actor_meta", vec![])?;
        let workspace_id = meta
            .iter()
            .find(|m| m.key == "workspaceId")
            .map(|m| m.value.clone());
        let body = json!({
            "workspaceId": workspace_id,
            "schemaVersion": applied.last().map(|a| a.id).unwrap_or(0),
            "latestSchemaVersion": migrations::latest_version(),
            "migrations": applied,
            "tables": table_stats,
            "storageBytes": sql.database_size(),
            "webSockets": self.state.get_websockets().len(),
            "outboxDepth": count("SELECT count(*) AS n FROM _outbox")?,
        });
        Ok(Response::from_json(&body)?)
    }
}
