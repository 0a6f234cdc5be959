//! The workspace's `/graphql`: the SDL generated from its model, executed by async-graphql
//! with one root resolver that hands each operation to the record [`Engine`].
//!
//! Reads run directly on the actor's SQLite; every mutation runs inside one storage
//! transaction, so a failed mutation changes nothing.

use async_graphql::dynamic::{ResolverContext, Schema};
use async_graphql::{Executor, SelectionField};
use futures::FutureExt;
use serde_json::{json, Map, Value};
use std::rc::Rc;
use std::sync::Arc;
use worker::send::{SendFuture, SendWrapper};
use worker::{SqlStorage, Storage};

use super::sql;
use super::store;
use crate::encode;
use crate::schema::engine::{Change, Db, Engine, FindArgs, Row, Selected, Selection};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};
use crate::schema::gql::{self, Operation};
use crate::schema::guard::{Budget, Budgeted};
use crate::schema::metadata::WorkspaceModel;
use crate::schema::sdl::{self, RootResolver};
use crate::schema::sql::Sql;
use crate::schema::write::WriteCtx;

/// Query depth a client may ask for: the record connection nesting (`MAX_DEPTH`) plus
/// edges/node/composite levels.
const MAX_QUERY_DEPTH: usize = 24;

/// The engine's database: this actor's SQLite.
pub struct DoDb(pub SqlStorage);

impl Db for DoDb {
    fn query(&self, q: &Sql) -> QueryResult<Vec<Row>> {
        let q = q.bindable();
        sql::rows::<Row>(&self.0, &q.text, store::params(&q)).map_err(|e| sql_error(e, &q.text))
    }

    fn exec(&self, q: &Sql) -> QueryResult<usize> {
        let q = q.bindable();
        sql::exec(&self.0, &q.text, store::params(&q)).map_err(|e| sql_error(e, &q.text))
    }
}

/// SQLite errors that only a client's input can cause (limits on expression depth, bound
/// values, pattern and string sizes), each with what to change.
const CLIENT_SQL_LIMITS: &[(&str, &str)] = &[
    ("too many SQL variables", "The query binds too many values"),
    (
        "Expression tree is too large",
        "The filter is too deeply nested or too long",
    ),
    (
        "LIKE or GLOB pattern too complex",
        "A filter pattern is too long or complex",
    ),
    ("string or blob too big", "A value is too large"),
    ("too many terms in compound SELECT", "The query is too long"),
    ("parser stack overflow", "The filter is too deeply nested"),
    ("too many columns", "The query selects too many columns"),
];
/// SQL text kept in a logged error: enough to recognize the statement, never a whole
/// (possibly huge, client-shaped) statement.
const LOGGED_SQL_CHARS: usize = 160;

/// A storage error as the client sees it: 400 for a SQLite limit its input hit, otherwise
/// an internal error whose logged message carries the start of the statement.
fn sql_error(e: worker::Error, text: &str) -> QueryError {
    let message = e.to_string();
    if let Some((_, hint)) = CLIENT_SQL_LIMITS.iter().find(|(m, _)| message.contains(m)) {
        return QueryError::bad_input(format!("Query complexity is too high: {hint}."))
            .with_sub_code("TOO_COMPLEX_QUERY")
            .with_user_friendly(crate::schema::filter::STANDARD_ERROR_MESSAGE);
    }
    let head: String = text.chars().take(LOGGED_SQL_CHARS).collect();
    let message: String = message.chars().take(LOGGED_SQL_CHARS).collect();
    QueryError::internal(format!("{message} in {head}…"))
}

/// Records a workspace may hold (spec: 1,000,000; `WORKSPACE_RECORD_QUOTA` overrides it,
/// for tests). Soft-deleted records count until destroyed: they still take storage.
pub const DEFAULT_RECORD_QUOTA: i64 = 1_000_000;
/// From this share of the quota on, responses carry `X-Quota-Warning`.
pub const QUOTA_WARNING_PERCENT: i64 = 80;

/// The workspace's record count, kept in `_actor_meta` and initialized by counting once.
pub fn record_count(s: &SqlStorage, model: &WorkspaceModel) -> QueryResult<i64> {
    #[derive(serde::Deserialize)]
    struct Row {
        value: String,
    }
    let rows: Vec<Row> = sql::rows(
        s,
        "SELECT value FROM _actor_meta WHERE key = 'recordCount'",
        vec![],
    )
    .map_err(|e| QueryError::internal(e.to_string()))?;
    if let Some(n) = rows.first().and_then(|r| r.value.parse().ok()) {
        return Ok(n);
    }
    let db = DoDb(s.clone());
    let n = Engine::new(
        model,
        &db,
        WriteCtx {
            now: String::new(),
            actor: Value::Null,
        },
    )
    .count_all()?;
    set_record_count(s, n)?;
    Ok(n)
}

fn set_record_count(s: &SqlStorage, n: i64) -> QueryResult<()> {
    sql::exec(
        s,
        "INSERT INTO _actor_meta (key, value) VALUES ('recordCount', ?) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![n.to_string().into()],
    )
    .map(|_| ())
    .map_err(|e| QueryError::internal(e.to_string()))
}

/// Ends a mutation: keeps the record count in step with what it created and destroyed.
fn finish(
    changes: Vec<Change>,
    value: Value,
    s: &SqlStorage,
    count_before: i64,
) -> QueryResult<(Value, Vec<Change>)> {
    let delta: i64 = changes
        .iter()
        .map(|c| match c.action {
            "created" => 1,
            "destroyed" => -1,
            _ => 0,
        })
        .sum();
    if delta != 0 {
        set_record_count(s, count_before + delta)?;
    }
    Ok((value, changes))
}

/// What a request's resolvers use.
pub struct GqlCtx {
    pub storage: Storage,
    pub model: Rc<WorkspaceModel>,
    pub write: WriteCtx,
    pub record_quota: i64,
    /// Changes committed by this request's mutations, in commit order.
    pub changes: std::cell::RefCell<Vec<Change>>,
    /// What the request may still read (shared by all its root fields).
    pub budget: Rc<Budget>,
    /// The writer's own workspaceMember id (users only).
    pub own_member_id: Option<String>,
    /// Whether the writer may change other members (API keys and admins).
    pub manages_members: bool,
}

/// Twenty's rule for workspaceMember records (`WorkspaceMemberPreQueryHookService`): a
/// user without the workspace-members permission may change only their own member record;
/// removing or restoring anyone else goes through the membership resolvers and their
/// checks. Without it a member could delete the admin, or restore a removed user.
fn check_member_write(ctx: &GqlCtx, op: Operation, args: &Map<String, Value>) -> QueryResult<()> {
    if ctx.manages_members || !op.is_mutation() {
        return Ok(());
    }
    let own = matches!(
        op,
        Operation::UpdateOne | Operation::DeleteOne | Operation::DestroyOne
    ) && args.get("id").and_then(Value::as_str).is_some()
        && args.get("id").and_then(Value::as_str) == ctx.own_member_id.as_deref();
    if own {
        return Ok(());
    }
    Err(
        QueryError::new(ErrorKind::Forbidden, "User does not have permission")
            .with_sub_code("PERMISSION_DENIED")
            .with_user_friendly("You do not have permission to manage workspace members."),
    )
}

type Data = SendWrapper<Rc<GqlCtx>>;

/// Builds the executable schema of a model.
pub fn build_schema(model: &WorkspaceModel) -> Result<Schema, String> {
    let sdl_text = gql::workspace_sdl(model);
    let root: RootResolver = Arc::new(|rc| SendFuture::new(async move { resolve(rc) }).boxed());
    sdl::build(&sdl_text, root, None)?
        .limit_depth(MAX_QUERY_DEPTH)
        .finish()
        .map_err(|e| format!("workspace schema: {e}"))
}

/// Executes a request body; returns the response JSON and the changes committed.
pub async fn execute(
    schema: &Schema,
    ctx: GqlCtx,
    body: &[u8],
    request_id: &str,
) -> (Value, Vec<Change>) {
    let request: async_graphql::BatchRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            let e = QueryError::bad_input(format!("Invalid GraphQL request: {e}"))
                .with_sub_code("GRAPHQL_PARSE_FAILED");
            return (
                json!({ "errors": [{ "message": e.public_message(), "extensions": e.extensions() }] }),
                vec![],
            );
        }
    };
    let ctx = Rc::new(ctx);
    let response =
        SendFuture::new(schema.execute_batch(request.data(SendWrapper::new(ctx.clone())))).await;
    let mut value = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    encode::take_internal_details(&mut value, request_id);
    encode::normalize_graphql_errors(&mut value);
    let changes = ctx.changes.take();
    (value, changes)
}

fn selection(field: SelectionField<'_>) -> Selection {
    Selection {
        fields: field
            .selection_set()
            .map(|f| Selected {
                name: f.name().to_string(),
                alias: f.alias().map(str::to_string),
                args: f
                    .arguments()
                    .map(|args| {
                        args.into_iter()
                            .map(|(k, v)| (k.to_string(), v.into_json().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
                children: selection(f),
            })
            .collect(),
    }
}

fn args_json(rc: &ResolverContext<'_>) -> Map<String, Value> {
    rc.args
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.as_value().clone().into_json().unwrap_or_default(),
            )
        })
        .collect()
}

fn resolve(rc: &ResolverContext<'_>) -> async_graphql::Result<async_graphql::Value> {
    run(rc)
        .map(sdl::from_json)
        .map_err(|e| encode::graphql_field_error(&e))
}

fn run(rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let ctx = rc
        .ctx
        .data::<Data>()
        .map_err(|_| QueryError::internal("graphql context missing"))?
        .0
        .clone();
    let field_name = rc.field().name();
    let (op, object) = gql::resolve_root_field(&ctx.model, field_name)
        .ok_or_else(|| QueryError::bad_input(format!("Unknown operation {field_name}")))?;
    let args = args_json(rc);
    let sel = selection(rc.field());
    let Some(object) = object else {
        // The only root field without an object is the global search.
        let db = DoDb(ctx.storage.sql());
        let db = Budgeted {
            db: &db,
            budget: &ctx.budget,
        };
        return Engine::new(&ctx.model, &db, ctx.write.clone()).search(&args);
    };
    apply(&ctx, op, &object.name_singular.clone(), args, &sel)
}

/// Runs one record operation: GraphQL's root resolver and REST both end here. Reads run
/// directly; mutations run in one storage transaction and their changes are recorded in
/// `ctx.changes` once committed.
pub fn apply(
    ctx: &GqlCtx,
    op: Operation,
    object_name: &str,
    args: Map<String, Value>,
    sel: &Selection,
) -> QueryResult<Value> {
    let object_name = object_name.to_string();
    let field_name = op.as_str();
    let object = ctx
        .model
        .object(&object_name)
        .ok_or_else(|| QueryError::internal("object vanished"))?;
    if object_name == "workspaceMember" {
        check_member_write(ctx, op, &args)?;
    }
    if !op.is_mutation() {
        let db = DoDb(ctx.storage.sql());
        let db = Budgeted {
            db: &db,
            budget: &ctx.budget,
        };
        let engine = Engine::new(&ctx.model, &db, ctx.write.clone());
        return match op {
            Operation::FindMany => engine.find_many(object, &FindArgs::from_json(&args)?, sel),
            Operation::FindOne => {
                engine.find_one(object, args.get("filter").unwrap_or(&Value::Null), sel)
            }
            Operation::GroupBy => engine.group_by(object, &args, sel),
            Operation::FindDuplicates => engine.find_duplicates(object, &args, sel),
            _ => Err(QueryError::new(
                ErrorKind::NotSupported,
                format!("{field_name} is not available"),
            )),
        };
    }
    let sel = sel.clone();
    // Mutations: all-or-nothing in one storage transaction.
    let model = ctx.model.clone();
    let storage_sql = ctx.storage.sql();
    let write = ctx.write.clone();
    let quota = ctx.record_quota;
    let budget = ctx.budget.clone();
    let outcome = sql::transaction(
        &ctx.storage,
        move || -> QueryResult<(Value, Vec<Change>)> {
            let object = model
                .object(&object_name)
                .ok_or_else(|| QueryError::internal("object vanished"))?;
            let count_before = record_count(&storage_sql, &model)?;
            if matches!(op, Operation::CreateOne | Operation::CreateMany) {
                let adding = match op {
                    Operation::CreateMany => args
                        .get("data")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len),
                    _ => 1,
                } as i64;
                if count_before + adding > quota {
                    return Err(QueryError::new(
                        ErrorKind::PaymentRequired,
                        format!(
                            "This workspace has reached its quota of {quota} records ({count_before} stored). \
                             Upgrade your plan or delete records to add more."
                        ),
                    )
                    .with_sub_code("RECORD_QUOTA_EXCEEDED"));
                }
            }
            let db = DoDb(storage_sql.clone());
            let db = Budgeted {
                db: &db,
                budget: &budget,
            };
            let mut e = Engine::new(&model, &db, write);
            let arg = |k: &str| args.get(k).cloned().unwrap_or(Value::Null);
            let id = || -> QueryResult<String> {
                arg("id")
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| QueryError::bad_input("id is required"))
            };
            let upsert = arg("upsert") == json!(true);
            // Each mutation names the records it wrote; they are read back for the
            // selection (destroyed ones are returned as they were).
            let (ids, single) = match op {
                Operation::CreateOne => (e.create_many(object, &[arg("data")], upsert)?, true),
                Operation::CreateMany => {
                    let data = arg("data").as_array().cloned().unwrap_or_default();
                    (e.create_many(object, &data, upsert)?, false)
                }
                Operation::UpdateOne => (vec![e.update_one(object, &id()?, &arg("data"))?], true),
                Operation::UpdateMany => {
                    (e.update_many(object, &arg("filter"), &arg("data"))?, false)
                }
                Operation::DeleteOne => (vec![e.delete_one(object, &id()?)?], true),
                Operation::DeleteMany => (e.delete_many(object, &arg("filter"))?, false),
                Operation::RestoreOne => (vec![e.restore_one(object, &id()?)?], true),
                Operation::RestoreMany => (e.restore_many(object, &arg("filter"))?, false),
                Operation::DestroyOne => {
                    let value = e.destroy_one(object, &id()?)?;
                    return finish(e.changes, value, &storage_sql, count_before);
                }
                Operation::MergeMany => {
                    let value = e.merge_many(object, &args, &sel)?;
                    return finish(e.changes, value, &storage_sql, count_before);
                }
                Operation::DestroyMany => {
                    let value = json!(e.destroy_many(object, &arg("filter"))?);
                    return finish(e.changes, value, &storage_sql, count_before);
                }
                _ => return Err(QueryError::new(ErrorKind::NotSupported, "not a mutation")),
            };
            let rows = e.fetch(object, &ids, &sel)?;
            let value = if single {
                rows.into_iter().next().unwrap_or(Value::Null)
            } else {
                json!(rows)
            };
            finish(e.changes, value, &storage_sql, count_before)
        },
    );
    match outcome {
        Ok((value, changes)) => {
            ctx.changes.borrow_mut().extend(changes);
            Ok(value)
        }
        Err(sql::TransactionError::Body(e)) => Err(e),
        Err(sql::TransactionError::Storage(e)) => Err(QueryError::internal(e)),
    }
}
