//! `WorkspaceActor`: the one owner of a workspace's data.
//!
//! Every request of a workspace principal passes [`WorkspaceActor::admit`]: the principal
//! must still be a member (or a live API key) and the workspace's per-minute budget must not
//! be spent. Then it runs against this actor's SQLite.
//!
//! **Architecture Invariant:** in-memory state is a cache of SQLite. A panic or an eviction
//! loses memory, never data; everything is rebuilt from storage on the next request.

use serde::Deserialize;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use worker::{
    durable_object, DurableObject, Env, Headers, Request, Response, State, WebSocket,
    WebSocketIncomingMessage,
};

use super::migrations::{self, MIGRATIONS};
use super::protocol::{
    HEADER_REQUEST_ID, HEADER_SCHEMA_VERSION, HEADER_WORKSPACE_ID, PATH_BOOTSTRAP,
    PATH_DEBUG_PANIC, PATH_EVENT_STREAM_CONNECT, PATH_GRAPHQL, PATH_INSPECT, PATH_METADATA,
    PATH_MODEL, PATH_REST_PREFIX, PATH_WS_CONNECT, PATH_WS_TICKET,
};
use super::sql::{self, DoMigrationStore};
use super::store;
use crate::encode;
use crate::error::ApiError;
use crate::identity::directory::Directory;
use crate::identity::principal::{Principal, HEADER_PRINCIPAL};
use crate::metadata::{self, MetaCtx, WorkspaceAccess};
use crate::panic_boundary;
use crate::ratelimit::{self, Decision};
use crate::schema::engine::{Change, Engine};
use crate::schema::error::{ErrorKind, QueryError};
use crate::schema::metadata::WorkspaceModel;
use crate::schema::model_change::Applied;
use crate::schema::write::WriteCtx;

/// How long the actor trusts its cached view of an API key (revocations through this
/// actor apply at once; this bounds staleness for keys changed elsewhere).
const API_KEY_CACHE_MS: f64 = 60_000.0;

type ApiKeyCache = Rc<RefCell<HashMap<String, (bool, f64)>>>;
/// Live workspace members by id, as read for admission (cleared whenever a member changes).
type MemberCache = Rc<RefCell<HashMap<String, Value>>>;

#[durable_object]
pub struct WorkspaceActor {
    pub(super) state: State,
    pub(super) env: Env,
    /// Set once this instance has checked its migrations (a cache: the ledger is the truth).
    /// Unwind-safe by construction: a panic before `set(true)` just re-checks next time.
    migrated: AssertUnwindSafe<Cell<bool>>,
    /// The model, loaded from `_object_metadata` on first use.
    model: AssertUnwindSafe<RefCell<Option<Rc<WorkspaceModel>>>>,
    /// API key id -> (usable, checked at).
    api_keys: AssertUnwindSafe<ApiKeyCache>,
    /// The workspace's request window (in memory on purpose, see `actors::limiter`).
    window: AssertUnwindSafe<Cell<Option<crate::ratelimit::Window>>>,
    /// Caches of values every request needs, so a read costs no bookkeeping SQL: the
    /// metadata version, the record count, and admitted members.
    version: AssertUnwindSafe<Cell<Option<i64>>>,
    record_count: AssertUnwindSafe<Cell<Option<i64>>>,
    members: AssertUnwindSafe<MemberCache>,
    /// Member id -> when its membership was last removed (unix seconds), as read from
    /// `_member_removals` (cleared with `members`).
    removals: AssertUnwindSafe<RefCell<HashMap<String, Option<i64>>>>,
    /// Whether `_actor_meta` already holds this actor's workspace id.
    knows_workspace_id: AssertUnwindSafe<Cell<bool>>,
    /// The executable /graphql schema and the metadata version it was built for.
    schema: AssertUnwindSafe<RefCell<Option<(i64, async_graphql::dynamic::Schema)>>>,
    /// Realtime's in-memory leftovers (sockets live in workerd, their state in attachments).
    pub(super) realtime: AssertUnwindSafe<super::realtime::Local>,
}

impl DurableObject for WorkspaceActor {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            migrated: AssertUnwindSafe(Cell::new(false)),
            model: AssertUnwindSafe(RefCell::new(None)),
            api_keys: AssertUnwindSafe(Rc::new(RefCell::new(HashMap::new()))),
            schema: AssertUnwindSafe(RefCell::new(None)),
            window: AssertUnwindSafe(Cell::new(None)),
            knows_workspace_id: AssertUnwindSafe(Cell::new(false)),
            version: AssertUnwindSafe(Cell::new(None)),
            record_count: AssertUnwindSafe(Cell::new(None)),
            members: AssertUnwindSafe(Rc::new(RefCell::new(HashMap::new()))),
            removals: AssertUnwindSafe(RefCell::new(HashMap::new())),
            realtime: AssertUnwindSafe(super::realtime::Local::started_now()),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let request_id = req
            .headers()
            .get(HEADER_REQUEST_ID)
            .ok()
            .flatten()
            .unwrap_or_default();
        let outcome = panic_boundary(self.handle(req, &request_id)).await;
        Ok(match outcome {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                if let ApiError::Internal(_) = e {
                    tracing::error!(requestId = %request_id, error = %e.log_message(), "actor request failed");
                }
                e.into_response(&request_id)
            }
            Err(panic) => {
                // Cached state may be mid-update: drop it, storage is the truth.
                self.drop_caches();
                tracing::error!(requestId = %request_id, error = %panic, "actor panicked");
                ApiError::Internal(panic).into_response(&request_id)
            }
        })
    }

    // WebSocket events (hibernation API): see `realtime`. Each runs inside the panic
    // boundary and always returns Ok: an Err or a panic here would reset the actor.
    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        let outcome = panic_boundary(async {
            if self.ensure_migrated().is_ok() {
                self.ws_message(ws, message).await;
            }
        })
        .await;
        self.after_socket_event(outcome);
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        let outcome = panic_boundary(async { self.socket_closed(&ws) }).await;
        self.after_socket_event(outcome);
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        let outcome = panic_boundary(async { self.socket_closed(&ws) }).await;
        self.after_socket_event(outcome);
        Ok(())
    }
}

impl WorkspaceActor {
    /// A socket's close or error: an event stream's, or a `/ws` socket's.
    fn socket_closed(&self, ws: &WebSocket) {
        if self.ensure_migrated().is_ok() && self.event_stream_closed(ws) {
            return;
        }
        self.ws_closed(ws);
    }

    async fn handle(&self, mut req: Request, request_id: &str) -> Result<Response, ApiError> {
        self.ensure_migrated()?;
        let workspace_id = req.headers().get(HEADER_WORKSPACE_ID)?.unwrap_or_default();
        if !workspace_id.is_empty() {
            self.remember_workspace_id(&workspace_id)?;
        }
        let path = req.path();
        match path.as_str() {
            PATH_INSPECT => self.inspect(),
            PATH_DEBUG_PANIC => panic!("deliberate panic requested through the admin API"),
            PATH_BOOTSTRAP => {
                let body: Value = req
                    .json()
                    .await
                    .map_err(|e| ApiError::validation(format!("bootstrap body: {e}")))?;
                self.bootstrap(&workspace_id, &body)?;
                Ok(Response::from_json(&json!({ "ok": true }))?)
            }
            PATH_WS_TICKET => self.ws_ticket(&req, &workspace_id).await,
            PATH_WS_CONNECT => self.ws_connect(&req, &workspace_id).await,
            PATH_EVENT_STREAM_CONNECT => self.event_stream_connect(&req, &workspace_id).await,
            PATH_METADATA | PATH_GRAPHQL | PATH_MODEL => {
                let principal = principal_of(&req)?;
                let body = req.bytes().await?;
                // Every operation of a batch counts against the workspace's budget.
                let cost = crate::schema::guard::batch_len(&body).max(1) as u32;
                let (decision, member) = match self.admit_n(&principal, &workspace_id, cost).await {
                    Ok(d) => d,
                    Err((e, d)) => {
                        let resp = encode::graphql_error(&e);
                        return Ok(with_rate_limit(resp, d.as_ref()));
                    }
                };
                if path == PATH_MODEL {
                    let model = self.model()?;
                    return Ok(encode::json(200, &serde_json::to_value(&*model)?));
                }
                let client_version = req.headers().get(HEADER_SCHEMA_VERSION)?;
                let client_version = client_version.as_deref();
                let resp = if path == PATH_METADATA {
                    self.metadata(principal, &workspace_id, request_id, &body, client_version)
                        .await
                } else {
                    let member = member.as_ref();
                    self.graphql(&principal, member, request_id, &body, client_version)
                        .await?
                };
                // Clients learn which model version answered.
                let current = self.metadata_version().to_string();
                let resp = crate::gateway::with_header(resp, HEADER_SCHEMA_VERSION, &current);
                Ok(with_rate_limit(resp, Some(&decision)))
            }
            rest if rest.starts_with(PATH_REST_PREFIX) => {
                let principal = principal_of(&req)?;
                let (decision, member) = match self.admit(&principal, &workspace_id).await {
                    Ok(d) => d,
                    Err((e, d)) => {
                        return Ok(with_rate_limit(encode::rest_error(&e), d.as_ref()));
                    }
                };
                let method = req.method().to_string();
                let url = req.url()?;
                let body = req.bytes().await?;
                let resp = if url.path().starts_with("/rest/metadata/") {
                    self.rest_metadata(&workspace_id, request_id, &method, url.path(), &body)
                        .await
                } else {
                    let names_members = method != "GET" && url.path().contains("workspaceMember");
                    let manages = self.manages_members(&principal, names_members).await;
                    self.rest(
                        &principal,
                        member.as_ref(),
                        manages,
                        request_id,
                        &method,
                        &url,
                        &body,
                    )?
                };
                Ok(with_rate_limit(resp, Some(&decision)))
            }
            other => Err(ApiError::NotFound(format!("no actor route {other}"))),
        }
    }

    /// As Twenty does, turns a response that failed GraphQL validation for a client sending
    /// an older `X-Schema-Version` into "Schema version mismatch": the web app's signal to
    /// refetch the metadata. Works on the response JSON before it is encoded.
    fn schema_version_signal(&self, value: &mut Value, client_version: Option<&str>) {
        let current = self.metadata_version().to_string();
        if client_version.is_none_or(|v| v == current) {
            return;
        }
        let invalid = |v: &Value| {
            v["errors"].as_array().is_some_and(|errors| {
                errors
                    .iter()
                    .any(|e| e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED")
            })
        };
        let mismatch = json!({ "errors": [{
            "message": "Schema version mismatch, please refresh the page.",
            "extensions": { "code": "SCHEMA_VERSION_MISMATCH", "currentSchemaVersion": current },
        }] });
        match value {
            Value::Array(items) => {
                for item in items.iter_mut().filter(|i| invalid(i)) {
                    *item = mismatch.clone();
                }
            }
            v if invalid(v) => *v = mismatch,
            _ => {}
        }
    }

    /// Checks the principal still belongs here and counts the request against the
    /// workspace's per-minute budget.
    pub(super) async fn admit(
        &self,
        principal: &Principal,
        workspace_id: &str,
    ) -> Result<(Decision, Option<Value>), (QueryError, Option<Decision>)> {
        self.admit_n(principal, workspace_id, 1).await
    }

    /// [`Self::admit`] for a request that stands for `cost` operations (a batch).
    pub(super) async fn admit_n(
        &self,
        principal: &Principal,
        workspace_id: &str,
        cost: u32,
    ) -> Result<(Decision, Option<Value>), (QueryError, Option<Decision>)> {
        if principal.workspace_id() != Some(workspace_id) {
            return Err((
                QueryError::new(
                    ErrorKind::Forbidden,
                    "Token is not valid for this workspace",
                )
                .with_sub_code("FORBIDDEN_EXCEPTION"),
                None,
            ));
        }
        let mut member_record = None;
        match principal {
            Principal::User {
                workspace_member_id,
                issued_at,
                ..
            } => {
                let member = workspace_member_id
                    .as_deref()
                    .map(|id| self.member_record(id))
                    .transpose()
                    .map_err(|e| (e, None))?
                    .flatten();
                // A membership removed after the token was issued stays removed for it,
                // even if the member record was restored since.
                let revoked = match (workspace_member_id.as_deref(), issued_at) {
                    (Some(id), Some(iat)) => self
                        .member_removed_at(id)
                        .map_err(|e| (e, None))?
                        .is_some_and(|removed| *iat <= removed),
                    _ => false,
                };
                if member.is_none() || revoked {
                    return Err((
                        QueryError::new(
                            ErrorKind::Forbidden,
                            "User is not a member of the workspace",
                        )
                        .with_sub_code("FORBIDDEN_EXCEPTION"),
                        None,
                    ));
                }
                member_record = member;
            }
            Principal::ApiKey {
                api_key_id,
                token_sha256,
                ..
            } => {
                if !self
                    .api_key_usable(workspace_id, api_key_id, token_sha256.as_deref())
                    .await
                    .map_err(|e| (e, None))?
                {
                    return Err((
                        QueryError::new(ErrorKind::Forbidden, "This API Key is revoked")
                            .with_sub_code("FORBIDDEN_EXCEPTION"),
                        None,
                    ));
                }
            }
            Principal::Anonymous => {
                return Err((metadata::missing_token(), None));
            }
        }
        let decision = self.count_request(cost).map_err(|e| (e, None))?;
        if !decision.allowed {
            return Err((
                QueryError::new(
                    ErrorKind::TooManyRequests,
                    format!(
                        "Workspace rate limit of {} requests per minute reached, retry in {} s",
                        decision.limit, decision.retry_after
                    ),
                )
                .with_sub_code("TOO_MANY_REQUESTS"),
                Some(decision),
            ));
        }
        Ok((decision, member_record))
    }

    /// The /graphql schema for the current model (rebuilt when the metadata changes).
    fn graphql_schema(&self) -> Result<async_graphql::dynamic::Schema, ApiError> {
        let version = self.metadata_version();
        if let Some((v, s)) = self.schema.borrow().as_ref() {
            if *v == version {
                return Ok(s.clone());
            }
        }
        let model = self.model()?;
        let schema = super::graphql::build_schema(&model).map_err(ApiError::Internal)?;
        *self.schema.borrow_mut() = Some((version, schema.clone()));
        Ok(schema)
    }

    async fn graphql(
        &self,
        principal: &Principal,
        member: Option<&Value>,
        request_id: &str,
        body: &[u8],
        client_version: Option<&str>,
    ) -> Result<Response, ApiError> {
        let schema = self.graphql_schema()?;
        // Only a request that writes workspace members needs the caller's role (one D1
        // read); field names cannot be escaped, so the bytes tell. A wrong guess only
        // refuses: `manages_members` false is the safe side.
        let names_members = ["create", "update", "delete", "restore", "destroy"]
            .iter()
            .any(|verb| {
                let needle = format!("{verb}WorkspaceMember");
                body.windows(needle.len()).any(|w| w == needle.as_bytes())
            });
        let manages = self.manages_members(principal, names_members).await;
        let ctx = self.record_ctx(principal, member, manages)?;
        let (mut value, changes) = super::graphql::execute(&schema, ctx, body, request_id).await;
        self.schema_version_signal(&mut value, client_version);
        // A quota refusal is a 402, so clients and proxies see it without parsing.
        let quota_hit = value["errors"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e["extensions"]["code"] == "PAYMENT_REQUIRED")
        });
        let resp = encode::json(if quota_hit { 402 } else { 200 }, &value);
        self.after_changes(&changes, member, resp)
    }

    /// `/rest/*`: Twenty's REST API over the same operations.
    #[allow(clippy::too_many_arguments)]
    fn rest(
        &self,
        principal: &Principal,
        member: Option<&Value>,
        manages: bool,
        request_id: &str,
        method: &str,
        url: &worker::Url,
        body: &[u8],
    ) -> Result<Response, ApiError> {
        let ctx = self.record_ctx(principal, member, manages)?;
        let params = crate::schema::rest::Params(
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        );
        let outcome = super::rest::handle(&ctx, method, url.path(), &params, body);
        let changes = ctx.changes.take();
        let resp = match outcome {
            Ok((status, value)) => encode::json(status, &value),
            Err(e) => {
                if e.kind == ErrorKind::Internal {
                    tracing::error!(requestId = %request_id, error = %e.message, "rest internal error");
                }
                encode::rest_error(&e)
            }
        };
        self.after_changes(&changes, member, resp)
    }

    /// The context record operations run in: storage, model, and who is writing.
    /// Whether the principal may change other members' records (Twenty's
    /// `WORKSPACE_MEMBERS` permission: API keys and admins). Looked up only when `needed`;
    /// a failed lookup answers no.
    async fn manages_members(&self, principal: &Principal, needed: bool) -> bool {
        match principal {
            Principal::ApiKey { .. } => true,
            Principal::User {
                user_id,
                workspace_id: Some(workspace_id),
                ..
            } if needed => {
                let Ok(d) = Directory::new(&self.env) else {
                    return false;
                };
                matches!(
                    d.membership(user_id, workspace_id).await,
                    Ok(Some(m)) if m.role == "ADMIN" && m.removed_at.is_none()
                )
            }
            _ => false,
        }
    }

    fn record_ctx(
        &self,
        principal: &Principal,
        member: Option<&Value>,
        manages_members: bool,
    ) -> Result<super::graphql::GqlCtx, ApiError> {
        let name = member
            .map(|m| {
                format!(
                    "{} {}",
                    m["name"]["firstName"].as_str().unwrap_or(""),
                    m["name"]["lastName"].as_str().unwrap_or("")
                )
                .trim()
                .to_string()
            })
            .unwrap_or_default();
        let actor = json!({
            "source": principal.actor_source(),
            "workspaceMemberId": member.and_then(|m| m.get("id")).cloned().unwrap_or(Value::Null),
            "name": if name.is_empty() && matches!(principal, Principal::ApiKey { .. }) { "API".to_string() } else { name },
            "context": {},
        });
        let quota = self.record_quota();
        let model = self.model()?;
        Ok(super::graphql::GqlCtx {
            storage: self.state.storage(),
            model,
            write: WriteCtx {
                now: metadata::now_iso(),
                actor,
            },
            record_quota: quota,
            changes: RefCell::new(vec![]),
            budget: Default::default(),
            own_member_id: member.and_then(|m| m["id"].as_str()).map(str::to_string),
            manages_members,
        })
    }

    /// Records this workspace may hold (`WORKSPACE_RECORD_QUOTA` overrides the default).
    fn record_quota(&self) -> i64 {
        metadata::config_secs(
            &self.env,
            "WORKSPACE_RECORD_QUOTA",
            super::graphql::DEFAULT_RECORD_QUOTA,
        )
    }

    /// After record operations: caches that depend on records, and the quota warning.
    fn after_changes(
        &self,
        changes: &[crate::schema::engine::Change],
        member: Option<&Value>,
        resp: Response,
    ) -> Result<Response, ApiError> {
        if changes.iter().any(|c| c.object == "workspaceMember") {
            self.members.borrow_mut().clear();
        }
        // `changes` are committed: publish them (nothing for a rolled-back mutation). After
        // the member cache is cleared, so a removed member's sockets are dropped, not fed.
        self.publish(changes, member.and_then(|m| m["id"].as_str()));
        let model = self.model()?;
        let quota = self.record_quota();
        let count = match self.record_count.get() {
            Some(n) if changes.is_empty() => n,
            _ => {
                let n = super::graphql::record_count(&self.state.storage().sql(), &model)
                    .map_err(|e| ApiError::Internal(e.message))?;
                self.record_count.set(Some(n));
                n
            }
        };
        if count * 100 >= quota * super::graphql::QUOTA_WARNING_PERCENT {
            let warning = format!(
                "{count} of {quota} records used ({}%)",
                count * 100 / quota.max(1)
            );
            return Ok(crate::gateway::with_header(
                resp,
                "x-quota-warning",
                &warning,
            ));
        }
        Ok(resp)
    }

    fn count_request(&self, cost: u32) -> Result<Decision, QueryError> {
        // `WORKSPACE_REQUESTS_PER_MINUTE` lets an operator (or the fuzzing test) change the
        // budget without a release.
        let limit = metadata::config_secs(
            &self.env,
            "WORKSPACE_REQUESTS_PER_MINUTE",
            ratelimit::WORKSPACE_PER_MINUTE as i64,
        )
        .clamp(1, u32::MAX as i64) as u32;
        let (next, decision) = ratelimit::hit_n(
            self.window.get(),
            worker::Date::now().as_millis(),
            limit,
            ratelimit::MINUTE_MS,
            cost,
        );
        self.window.set(Some(next));
        Ok(decision)
    }

    /// Whether an API key may be used with the token whose digest is `token`: the key
    /// exists, is neither revoked nor expired, and (for keys issued since D1 migration
    /// 0003) `token` is the one recorded for it. Cached per key and token.
    async fn api_key_usable(
        &self,
        workspace_id: &str,
        id: &str,
        token: Option<&str>,
    ) -> Result<bool, QueryError> {
        let now = worker::Date::now().as_millis() as f64;
        let cache_key = format!("{id}:{}", token.unwrap_or(""));
        if let Some((usable, at)) = self.api_keys.borrow().get(&cache_key).copied() {
            if now - at < API_KEY_CACHE_MS {
                return Ok(usable);
            }
        }
        let key = Directory::new(&self.env)
            .map_err(metadata::storage_err)?
            .api_key(workspace_id, id)
            .await
            .map_err(metadata::storage_err)?;
        let now_iso = metadata::now_iso();
        let usable = key.is_some_and(|k| {
            k.revoked_at.is_none()
                && k.expires_at > now_iso
                && k.token_sha256
                    .as_deref()
                    .is_none_or(|bound| Some(bound) == token)
        });
        self.api_keys.borrow_mut().insert(cache_key, (usable, now));
        Ok(usable)
    }

    /// Applies pending migrations, once per instance.
    pub(super) fn ensure_migrated(&self) -> Result<(), ApiError> {
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
        self.upgrade_record_ddl()?;
        self.migrated.set(true);
        Ok(())
    }

    /// Brings record tables' indexes up to [`RECORD_DDL_VERSION`] (see there).
    fn upgrade_record_ddl(&self) -> Result<(), ApiError> {
        use crate::schema::ddl::RECORD_DDL_VERSION;
        let version: i64 = self
            .meta("recordDdlVersion")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        if version >= RECORD_DDL_VERSION {
            return Ok(());
        }
        let s = self.state.storage().sql();
        let model = self.model()?;
        store::ensure_tables(&s, &model)?;
        sql::exec(
            &s,
            "INSERT INTO _actor_meta (key, value) VALUES ('recordDdlVersion', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![RECORD_DDL_VERSION.to_string().into()],
        )?;
        tracing::info!(
            from = version,
            to = RECORD_DDL_VERSION,
            "record indexes upgraded"
        );
        Ok(())
    }

    fn remember_workspace_id(&self, workspace_id: &str) -> Result<(), ApiError> {
        if self.knows_workspace_id.get() {
            return Ok(());
        }
        sql::exec(
            &self.state.storage().sql(),
            "INSERT INTO _actor_meta (key, value) VALUES ('workspaceId', ?) ON CONFLICT (key) DO NOTHING",
            vec![workspace_id.into()],
        )?;
        self.knows_workspace_id.set(true);
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, ApiError> {
        #[derive(Deserialize)]
        struct Row {
            value: String,
        }
        let rows: Vec<Row> = sql::rows(
            &self.state.storage().sql(),
            "SELECT value FROM _actor_meta WHERE key = ?",
            vec![key.into()],
        )?;
        Ok(rows.into_iter().next().map(|r| r.value))
    }

    /// The workspace's model (cached; storage is the truth).
    pub fn model(&self) -> Result<Rc<WorkspaceModel>, ApiError> {
        if let Some(m) = self.model.borrow().as_ref() {
            return Ok(m.clone());
        }
        let m = Rc::new(store::load_model(&self.state.storage().sql())?);
        *self.model.borrow_mut() = Some(m.clone());
        Ok(m)
    }

    /// Forgets every cached value; the next request reads storage again.
    fn drop_caches(&self) {
        self.model.replace(None);
        self.schema.replace(None);
        self.version.set(None);
        self.record_count.set(None);
        self.members.borrow_mut().clear();
        self.realtime.drop_index();
    }

    fn after_socket_event(&self, outcome: Result<(), String>) {
        if let Err(panic) = outcome {
            self.drop_caches();
            tracing::error!(error = %panic, "actor panicked in a WebSocket handler");
        }
    }

    fn metadata_version(&self) -> i64 {
        if let Some(v) = self.version.get() {
            return v;
        }
        let v = self
            .meta("metadataVersion")
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.version.set(Some(v));
        v
    }

    pub(super) fn member_record(&self, id: &str) -> Result<Option<Value>, QueryError> {
        if let Some(m) = self.members.borrow().get(id) {
            return Ok(Some(m.clone()));
        }
        let found = self.load_member(id)?;
        if let Some(m) = &found {
            self.members.borrow_mut().insert(id.to_string(), m.clone());
        }
        Ok(found)
    }

    /// When the member's membership was last removed (unix seconds), if ever.
    pub(super) fn member_removed_at(&self, id: &str) -> Result<Option<i64>, QueryError> {
        if let Some(at) = self.removals.borrow().get(id) {
            return Ok(*at);
        }
        #[derive(serde::Deserialize)]
        struct Row {
            removed_at: f64,
        }
        let rows: Vec<Row> = sql::rows(
            &self.state.storage().sql(),
            "SELECT removed_at FROM _member_removals WHERE member_id = ?",
            vec![id.into()],
        )
        .map_err(metadata::storage_err)?;
        let at = rows.first().map(|r| r.removed_at as i64);
        self.removals.borrow_mut().insert(id.to_string(), at);
        Ok(at)
    }

    /// Records when members were removed by committed changes (deleted or destroyed
    /// workspaceMember records), so tokens issued before stay refused after a restore.
    pub(super) fn record_member_removals(&self, changes: &[Change]) {
        let removed: Vec<&str> = changes
            .iter()
            .filter(|c| {
                c.object == "workspaceMember" && matches!(c.action, "deleted" | "destroyed")
            })
            .map(|c| c.record_id.as_str())
            .collect();
        if changes.iter().any(|c| c.object == "workspaceMember") {
            self.removals.borrow_mut().clear();
        }
        let now = metadata::now_secs();
        for id in removed {
            if let Err(e) = sql::exec(
                &self.state.storage().sql(),
                "INSERT INTO _member_removals (member_id, removed_at) VALUES (?, ?) \
                 ON CONFLICT (member_id) DO UPDATE SET removed_at = excluded.removed_at",
                vec![id.into(), (now as f64).into()],
            ) {
                tracing::error!(error = %e, "could not record a member removal");
            }
        }
    }

    /// Whether the member is definitely gone: a failed lookup is not a removal, so a
    /// storage error never disconnects anyone.
    pub(super) fn member_removed(&self, id: &str) -> bool {
        matches!(self.member_record(id), Ok(None))
    }

    fn load_member(&self, id: &str) -> Result<Option<Value>, QueryError> {
        let model = self
            .model()
            .map_err(|e| QueryError::internal(e.log_message()))?;
        let Some(object) = model.object("workspaceMember") else {
            return Ok(None);
        };
        Ok(store::get(&self.state.storage().sql(), object, id)
            .map_err(metadata::storage_err)?
            .filter(|r| r.deleted_at.is_none())
            .map(|r| r.output()))
    }

    /// Seeds a new workspace: the standard model, its tables, and the creator's member
    /// record, in one transaction. Idempotent.
    fn bootstrap(&self, workspace_id: &str, body: &Value) -> Result<(), ApiError> {
        if workspace_id.is_empty() {
            return Err(ApiError::validation("bootstrap needs the workspace id"));
        }
        let storage = self.state.storage();
        let s = storage.sql();
        let existing = store::load_model(&s)?;
        let now = metadata::now_iso();
        let model = if existing.objects.is_empty() {
            let mut new_id = || uuid::Uuid::new_v4().to_string();
            crate::schema::standard::standard_model(&now, &mut new_id)
        } else {
            existing
        };
        let member_id = body["workspaceMemberId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let input = json!({
            "id": member_id,
            "name": { "firstName": body["firstName"], "lastName": body["lastName"] },
            "userEmail": body["userEmail"],
            "userId": body["userId"],
            "locale": body["locale"].as_str().unwrap_or("en"),
        });
        let ctx = WriteCtx {
            now: now.clone(),
            actor: json!({ "source": "SYSTEM", "workspaceMemberId": null, "name": "System", "context": {} }),
        };
        let model_for_tx = model.clone();
        let s_tx = s.clone();
        let committed = sql::transaction(&storage, move || -> Result<Vec<Change>, String> {
            let model = model_for_tx;
            let s = s_tx;
            let fresh = store::load_model(&s)
                .map_err(|e| e.to_string())?
                .objects
                .is_empty();
            if fresh {
                for o in &model.objects {
                    store::save_object(&s, o).map_err(|e| e.to_string())?;
                }
                sql::exec(
                    &s,
                    "INSERT INTO _actor_meta (key, value) VALUES ('metadataVersion', '1') \
                     ON CONFLICT (key) DO NOTHING",
                    vec![],
                )
                .map_err(|e| e.to_string())?;
            }
            store::ensure_tables(&s, &model).map_err(|e| e.to_string())?;
            let object = model
                .object("workspaceMember")
                .ok_or("standard model without workspaceMember")?;
            if store::get(&s, object, &member_id)
                .map_err(|e| e.to_string())?
                .is_none()
            {
                let db = super::graphql::DoDb(s.clone());
                let mut engine = Engine::new(&model, &db, ctx);
                engine
                    .create_many(object, &[input], false)
                    .map_err(|e| e.message)?;
                return Ok(engine.changes);
            }
            Ok(vec![])
        })
        .map_err(|e| ApiError::Internal(format!("bootstrap: {e}")))?;
        self.drop_caches();
        // A member joining is a committed change like any other: watchers hear of it.
        self.publish(&committed, None);
        Ok(())
    }

    /// This actor as `/metadata` resolvers see it.
    fn access(&self, workspace_id: &str) -> Rc<ActorAccess> {
        Rc::new(ActorAccess {
            workspace_id: workspace_id.to_string(),
            storage: self.state.storage(),
            model: RefCell::new(self.model().ok()),
            metadata_version: Cell::new(self.metadata_version()),
            model_changed: Cell::new(false),
            api_keys: (*self.api_keys).clone(),
            members: (*self.members).clone(),
            changes: RefCell::new(vec![]),
            revoked_keys: RefCell::new(vec![]),
        })
    }

    /// After resolvers ran: a changed model invalidates every cache built from it.
    async fn settle(&self, access: &ActorAccess, workspace_id: &str) {
        for key in access.revoked_keys.take() {
            self.close_channels_of_api_key(&key);
        }
        if access.model_changed.get() {
            // The next /graphql request builds its schema from the new model.
            self.drop_caches();
            self.forget_cached_metadata(workspace_id).await;
        }
    }

    async fn metadata(
        &self,
        principal: Principal,
        workspace_id: &str,
        request_id: &str,
        body: &[u8],
        client_version: Option<&str>,
    ) -> Response {
        let access = self.access(workspace_id);
        let writer = match &principal {
            Principal::User {
                workspace_member_id,
                ..
            } => workspace_member_id.clone(),
            _ => None,
        };
        let mc = MetaCtx {
            env: self.env.clone(),
            principal,
            request_id: request_id.to_string(),
            workspace: Some(access.clone() as Rc<dyn WorkspaceAccess>),
        };
        let mut value = metadata::execute(mc, body).await;
        self.settle(&access, workspace_id).await;
        self.publish(&access.changes.take(), writer.as_deref());
        self.schema_version_signal(&mut value, client_version);
        encode::json(200, &value)
    }

    /// `/rest/metadata/{objects,fields}[/{id}]`: the data model over REST, through the same
    /// changes as `/metadata`.
    async fn rest_metadata(
        &self,
        workspace_id: &str,
        request_id: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Response {
        let access = self.access(workspace_id);
        let outcome = crate::metadata::data_model::rest(access.as_ref(), method, path, body);
        self.settle(&access, workspace_id).await;
        match outcome {
            Ok((status, value)) => encode::json(status, &value),
            Err(e) => {
                if e.kind == ErrorKind::Internal {
                    tracing::error!(requestId = %request_id, error = %e.message, "rest metadata internal error");
                }
                encode::rest_error(&e)
            }
        }
    }

    /// Removes the gateway's KV copy of the model, so it never serves one older than a
    /// change it could have seen (the copy also expires on its own).
    async fn forget_cached_metadata(&self, workspace_id: &str) {
        if let Ok(kv) = self.env.kv(crate::gateway::metadata_cache::BINDING) {
            let key = crate::gateway::metadata_cache::key(workspace_id);
            if let Err(e) = kv.delete(&key).await {
                tracing::warn!(error = %e, "could not drop the cached workspace metadata");
            }
        }
    }

    /// The admin view of this actor: schema version, tables, sizes, sockets, outbox,
    /// rate-limit state.
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
        let model = self.model()?;
        let mut table_stats = Vec::with_capacity(tables.len());
        for t in &tables {
            // Names come from sqlite_master, quoted as identifiers.
            let rows = count(&format!(
                "SELECT count(*) AS n FROM \"{}\"",
                t.name.replace('"', "\"\"")
            ))?;
            let object = model
                .objects
                .iter()
                .find(|o| o.table() == t.name)
                .map(|o| o.name_singular.clone());
            table_stats.push(json!({ "name": t.name, "rows": rows, "object": object }));
        }
        let applied: Vec<Applied> = sql::rows(
            &sql,
            "SELECT id, name, applied_at FROM _migrations ORDER BY id",
            vec![],
        )?;
        let window = self.window.get();
        let body = json!({
            "workspaceId": self.meta("workspaceId")?,
            "schemaVersion": applied.last().map(|a| a.id).unwrap_or(0),
            "latestSchemaVersion": migrations::latest_version(),
            "migrations": applied,
            "metadataVersion": self.metadata_version(),
            "objects": model.objects.len(),
            "tables": table_stats,
            "storageBytes": sql.database_size(),
            "webSockets": self.state.get_websockets().len(),
            "instanceStartedAt": self.realtime.started_at,
            "outboxDepth": count("SELECT count(*) AS n FROM _outbox")?,
            "rateLimit": {
                "limitPerMinute": ratelimit::WORKSPACE_PER_MINUTE,
                "windowStartMs": window.map(|w| w.start_ms),
                "count": window.map(|w| w.count).unwrap_or(0),
            },
        });
        Ok(Response::from_json(&body)?)
    }
}

/// The principal the gateway verified, from its trusted header.
fn principal_of(req: &Request) -> Result<Principal, ApiError> {
    req.headers()
        .get(HEADER_PRINCIPAL)?
        .and_then(|h| serde_json::from_str(&h).ok())
        .ok_or_else(|| ApiError::Internal("actor request without principal".into()))
}

fn with_rate_limit(resp: Response, d: Option<&Decision>) -> Response {
    let Some(d) = d else { return resp };
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        let _ = headers.append(&k, &v);
    }
    crate::gateway::set_rate_limit_headers(&headers, d);
    resp.with_headers(headers)
}

/// The actor as seen by `/metadata` resolvers.
struct ActorAccess {
    workspace_id: String,
    storage: worker::Storage,
    model: RefCell<Option<Rc<WorkspaceModel>>>,
    metadata_version: Cell<i64>,
    /// Set when a resolver changed the model: the actor then drops its caches.
    model_changed: Cell<bool>,
    api_keys: ApiKeyCache,
    members: MemberCache,
    /// Record changes resolvers committed (a member removed), published after the request.
    changes: RefCell<Vec<Change>>,
    /// API keys revoked by this request: their sockets and streams close after it.
    revoked_keys: RefCell<Vec<String>>,
}

impl ActorAccess {
    /// The workspaceMember object, borrowed from the current model (no copy).
    fn members_object(
        &self,
    ) -> Option<std::cell::Ref<'_, crate::schema::metadata::ObjectMetadata>> {
        std::cell::Ref::filter_map(self.model.borrow(), |m| {
            m.as_ref()?.object("workspaceMember")
        })
        .ok()
    }
}

impl WorkspaceAccess for ActorAccess {
    fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    fn member(&self, id: &str) -> Result<Option<Value>, QueryError> {
        let Some(o) = self.members_object() else {
            return Ok(None);
        };
        Ok(store::get(&self.storage.sql(), &o, id)
            .map_err(metadata::storage_err)?
            .filter(|r| r.deleted_at.is_none())
            .map(|r| r.output()))
    }

    fn members(&self) -> Result<Vec<Value>, QueryError> {
        let Some(o) = self.members_object() else {
            return Ok(vec![]);
        };
        Ok(store::live(&self.storage.sql(), &o)
            .map_err(metadata::storage_err)?
            .iter()
            .map(|r| r.output())
            .collect())
    }

    fn remove_member(&self, id: &str) -> Result<bool, QueryError> {
        let Some(o) = self.members_object() else {
            return Ok(false);
        };
        let s = self.storage.sql();
        self.members.borrow_mut().remove(id);
        let Some(before) = store::get(&s, &o, id).map_err(metadata::storage_err)? else {
            return Ok(false);
        };
        if before.deleted_at.is_none() {
            let now = metadata::now_iso();
            store::set_deleted_at(&s, &o, id, Some(&now)).map_err(metadata::storage_err)?;
            // A committed record change like any other: published after the request.
            self.changes.borrow_mut().push(Change {
                action: "deleted",
                object: o.name_singular.clone(),
                record_id: before.id.clone(),
                before: Some(before.output()),
                after: Some(crate::schema::write::output(
                    &before.id,
                    Some(&now),
                    &before.data(),
                )),
            });
        }
        Ok(true)
    }

    fn update_member(&self, id: &str, update: &Value) -> Result<(), QueryError> {
        let model = self
            .model()
            .ok_or_else(|| QueryError::internal("workspace has no model"))?;
        // The cached admission record would keep the old name otherwise.
        self.members.borrow_mut().remove(id);
        let s = self.storage.sql();
        let write = WriteCtx {
            now: metadata::now_iso(),
            actor: json!({ "source": "MANUAL", "workspaceMemberId": id, "name": "", "context": {} }),
        };
        let id = id.to_string();
        let update = update.clone();
        let changes =
            sql::transaction(&self.storage, move || -> Result<Vec<Change>, QueryError> {
                let o = model
                    .object("workspaceMember")
                    .ok_or_else(|| QueryError::internal("model without workspaceMember"))?;
                let db = super::graphql::DoDb(s.clone());
                let mut engine = Engine::new(&model, &db, write);
                engine.update_one(o, &id, &update)?;
                Ok(engine.changes)
            })
            .map_err(|e| match e {
                sql::TransactionError::Body(e) => e,
                sql::TransactionError::Storage(m) => QueryError::internal(m),
            })?;
        self.changes.borrow_mut().extend(changes);
        Ok(())
    }

    fn record_counts(&self) -> Result<Vec<(String, i64)>, QueryError> {
        let model = self
            .model()
            .ok_or_else(|| QueryError::internal("workspace has no model"))?;
        let db = super::graphql::DoDb(self.storage.sql());
        let engine = Engine::new(
            &model,
            &db,
            WriteCtx {
                now: String::new(),
                actor: Value::Null,
            },
        );
        engine.live_counts()
    }

    fn add_event_stream_query(
        &self,
        owner: &str,
        stream_id: &str,
        query_id: &str,
        signature: &Value,
    ) -> Result<bool, QueryError> {
        super::event_stream::add_query(&self.storage.sql(), owner, stream_id, query_id, signature)
    }

    fn remove_event_stream_query(
        &self,
        owner: &str,
        stream_id: &str,
        query_id: &str,
    ) -> Result<bool, QueryError> {
        super::event_stream::remove_query(&self.storage.sql(), owner, stream_id, query_id)
    }

    fn metadata_version(&self) -> i64 {
        self.metadata_version.get()
    }

    fn view_entities(&self) -> Result<Vec<(String, Value)>, QueryError> {
        super::views::load(&self.storage)
    }

    fn write_view_entities(
        &self,
        writes: Vec<metadata::views::ViewWrite>,
    ) -> Result<(), QueryError> {
        super::views::write(&self.storage, writes)
    }

    fn forget_api_key(&self, id: &str) {
        let prefix = format!("{id}:");
        self.api_keys
            .borrow_mut()
            .retain(|k, _| !k.starts_with(&prefix));
        self.revoked_keys.borrow_mut().push(id.to_string());
    }

    fn model(&self) -> Option<Rc<WorkspaceModel>> {
        self.model.borrow().clone()
    }

    fn change_model(
        &self,
        change: &dyn Fn(&WorkspaceModel) -> Result<Applied, QueryError>,
    ) -> Result<(Rc<WorkspaceModel>, String), QueryError> {
        let current = self
            .model()
            .ok_or_else(|| QueryError::internal("workspace has no model"))?;
        let applied = change(&current)?;
        let s = self.storage.sql();
        let model = applied.model.clone();
        let statements = applied.statements.clone();
        let version = sql::transaction(&self.storage, move || {
            store::commit_model(&s, &model, &statements).map_err(|e| e.to_string())
        })
        .map_err(|e| {
            let message = match e {
                sql::TransactionError::Body(m) | sql::TransactionError::Storage(m) => m,
            };
            if message.contains("UNIQUE constraint failed") {
                QueryError::bad_input(
                    "Existing records have duplicate values for this field: it cannot be unique",
                )
                .with_sub_code("INVALID_FIELD_INPUT")
            } else {
                QueryError::internal(format!("model change: {message}"))
            }
        })?;
        let model = Rc::new(applied.model);
        *self.model.borrow_mut() = Some(model.clone());
        self.metadata_version.set(version);
        self.model_changed.set(true);
        Ok((model, applied.id))
    }
}
