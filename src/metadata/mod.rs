//! The `/metadata` GraphQL endpoint: Twenty's static schema (auth, current user, API keys,
//! data model), executed from Twenty's published SDL (`twenty-metadata.graphql`, generated
//! by scripts/gen-metadata-sdl.mjs from twenty-client-sdk).
//!
//! Requests without a workspace (anonymous, workspace-agnostic tokens) run in the gateway;
//! requests of a workspace principal run in that workspace's actor, which passes itself in
//! as [`WorkspaceAccess`]. The resolvers are the same in both places.

pub mod api_keys;
pub mod auth;
pub mod user;

use async_graphql::dynamic::{ResolverContext, Schema};
use async_graphql::{Executor, Value};
use futures::FutureExt;
use serde_json::json;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use worker::send::{SendFuture, SendWrapper};
use worker::Env;

use crate::encode;
use crate::identity::principal::Principal;
use crate::schema::error::{ErrorKind, QueryError};
use crate::schema::sdl::{self, RootResolver};

pub const SDL: &str = include_str!("twenty-metadata.graphql");

/// Query depth a client may ask for (the web app's deepest query is about 8 levels).
const MAX_QUERY_DEPTH: usize = 16;

/// What the actor offers resolvers that need the workspace's own data.
pub trait WorkspaceAccess {
    fn workspace_id(&self) -> &str;
    /// A workspaceMember record (GraphQL-shaped JSON), if it exists and is not deleted.
    fn member(&self, id: &str) -> Result<Option<serde_json::Value>, QueryError>;
    fn members(&self) -> Result<Vec<serde_json::Value>, QueryError>;
    /// Soft-deletes a member record; returns whether it existed.
    fn remove_member(&self, id: &str) -> Result<bool, QueryError>;
    fn metadata_version(&self) -> i64;
    /// Drops the actor's cached state of an API key (after revocation).
    fn forget_api_key(&self, id: &str);
}

/// Everything a resolver may use. Lives in the request's data (single-threaded wasm, hence
/// `SendWrapper`).
pub struct MetaCtx {
    pub env: Env,
    pub principal: Principal,
    pub request_id: String,
    pub workspace: Option<Rc<dyn WorkspaceAccess>>,
}

type Data = SendWrapper<Rc<MetaCtx>>;

pub fn ctx<'a>(rc: &'a ResolverContext<'a>) -> async_graphql::Result<&'a MetaCtx> {
    rc.ctx
        .data::<Data>()
        .map(|d| d.0.as_ref())
        .map_err(|_| QueryError::internal("metadata context missing").to_graphql())
}

static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();

/// The executable schema, built once per isolate.
pub fn schema() -> Result<&'static Schema, String> {
    SCHEMA
        .get_or_init(|| {
            let root: RootResolver = Arc::new(|rc| SendFuture::new(dispatch(rc)).boxed());
            sdl::build(SDL, root)?
                .limit_depth(MAX_QUERY_DEPTH)
                .finish()
                .map_err(|e| format!("metadata schema: {e}"))
        })
        .as_ref()
        .map_err(|e| e.clone())
}

/// Executes a GraphQL request body (single or batched) and returns the response JSON.
pub async fn execute(mc: MetaCtx, body: &[u8]) -> serde_json::Value {
    let schema = match schema() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(requestId = %mc.request_id, error = %e, "metadata schema failed to build");
            return error_response(&QueryError::internal(e));
        }
    };
    let request: async_graphql::BatchRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                &QueryError::bad_input(format!("Invalid GraphQL request: {e}"))
                    .with_sub_code("GRAPHQL_PARSE_FAILED"),
            )
        }
    };
    let request_id = mc.request_id.clone();
    let response =
        SendFuture::new(schema.execute_batch(request.data(SendWrapper::new(Rc::new(mc))))).await;
    let mut value = serde_json::to_value(&response).unwrap_or_else(|_| json!({}));
    encode::take_internal_details(&mut value, &request_id);
    encode::normalize_graphql_errors(&mut value);
    value
}

/// A response with one error and no data (errors raised before execution).
pub fn error_response(e: &QueryError) -> serde_json::Value {
    json!({ "errors": [{ "message": e.public_message(), "extensions": e.extensions() }] })
}

fn unsupported(field: &str) -> async_graphql::Error {
    QueryError::new(
        ErrorKind::NotSupported,
        format!("{field} is not supported by twenty-edge"),
    )
    .to_graphql()
}

async fn dispatch(rc: &ResolverContext<'_>) -> async_graphql::Result<Value> {
    let field = rc.field().name();
    let mc = ctx(rc)?;
    let result = match field {
        "checkUserExists" => auth::check_user_exists(mc, rc).await,
        "signUp" => auth::sign_up(mc, rc).await,
        "signIn" => auth::sign_in(mc, rc).await,
        "getLoginTokenFromCredentials" => auth::login_token_from_credentials(mc, rc).await,
        "getAuthTokensFromLoginToken" => auth::tokens_from_login_token(mc, rc).await,
        "renewToken" => auth::renew_token(mc, rc).await,
        "signOut" => auth::sign_out(mc, rc).await,
        "signUpInNewWorkspace" => auth::sign_up_in_new_workspace(mc, rc).await,
        "updatePasswordViaResetToken" => return Err(unsupported(field)),
        "currentUser" => user::current_user(mc, rc).await,
        "deleteUserFromWorkspace" => user::delete_user_from_workspace(mc, rc).await,
        "apiKeys" => api_keys::list(mc).await,
        "apiKey" => api_keys::get(mc, rc).await,
        "createApiKey" => api_keys::create(mc, rc).await,
        "revokeApiKey" => api_keys::revoke(mc, rc).await,
        "generateApiKeyToken" => api_keys::generate_token(mc, rc).await,
        "getRoles" | "getApiKeyRoles" => user::roles(mc).await,
        _ => return Err(unsupported(field)),
    };
    result
        .map(sdl::from_json)
        .map_err(|e| encode::graphql_field_error(&e))
}

/// A GraphQL argument as JSON (null when absent).
pub fn arg(rc: &ResolverContext<'_>, name: &str) -> serde_json::Value {
    rc.args
        .get(name)
        .map(|v| v.as_value().clone().into_json().unwrap_or_default())
        .unwrap_or(serde_json::Value::Null)
}

/// A required string argument.
pub fn arg_str(rc: &ResolverContext<'_>, name: &str) -> Result<String, QueryError> {
    match arg(rc, name) {
        serde_json::Value::String(s) => Ok(s),
        _ => Err(QueryError::bad_input(format!("{name} must be a string"))),
    }
}

/// Requires a user principal.
pub fn require_user(mc: &MetaCtx) -> Result<&str, QueryError> {
    match &mc.principal {
        Principal::User { user_id, .. } => Ok(user_id),
        Principal::Anonymous => Err(missing_token()),
        Principal::ApiKey { .. } => Err(QueryError::new(
            ErrorKind::Forbidden,
            "This operation is not available to API keys",
        )
        .with_sub_code("FORBIDDEN_EXCEPTION")),
    }
}

pub fn missing_token() -> QueryError {
    QueryError::new(ErrorKind::Unauthenticated, "Missing authentication token")
        .with_sub_code("UNAUTHENTICATED")
        .with_user_friendly("You must be authenticated to perform this action.")
}

/// The workspace a request runs in (only inside the actor).
pub fn require_workspace(mc: &MetaCtx) -> Result<&Rc<dyn WorkspaceAccess>, QueryError> {
    match (&mc.workspace, &mc.principal) {
        (Some(w), _) => Ok(w),
        (None, Principal::Anonymous) => Err(missing_token()),
        (None, _) => Err(QueryError::new(
            ErrorKind::Forbidden,
            "This operation needs a workspace: sign in to a workspace first",
        )
        .with_sub_code("FORBIDDEN_EXCEPTION")),
    }
}

pub fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn iso_from_secs(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A configuration number from a var, else `default` (lets tests shorten TTLs).
pub fn config_secs(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(default)
}

pub fn storage_err(e: impl std::fmt::Display) -> QueryError {
    QueryError::internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twentys_schema_builds_and_validates_the_web_app_queries() {
        let schema = schema().expect("schema builds");
        let q = r#"query { currentUser { id firstName lastName email hasPassword canAccessFullAdminPanel
            workspaceMember { id name { firstName lastName } colorScheme locale userEmail }
            currentWorkspace { id displayName activationStatus workspaceUrls { subdomainUrl customUrl } featureFlags { key value } metadataVersion }
            availableWorkspaces { availableWorkspacesForSignIn { id loginToken sso { type } } availableWorkspacesForSignUp { id } } } }"#;
        // Validation happens before resolvers run; with no data the resolver reports the
        // missing context, not a validation error.
        let resp = futures::executor::block_on(schema.execute(q));
        let v = serde_json::to_value(&resp).unwrap();
        let msg = v["errors"][0]["message"].as_str().unwrap_or("");
        assert!(!msg.contains("Unknown field"), "{v}");
        let bad = futures::executor::block_on(schema.execute("{ currentUser { nope } }"));
        assert!(!bad.errors.is_empty());
    }
}
