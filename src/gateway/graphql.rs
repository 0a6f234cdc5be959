//! The two GraphQL endpoints at the gateway: `/metadata` (here or in the workspace's
//! actor) and `/graphql` (always in the workspace's actor).

use worker::{Env, Method, Request, Response};

use super::forward::{self, ActorRequest};
use super::RequestContext;
use crate::actors::protocol::{PATH_GRAPHQL, PATH_METADATA};
use crate::encode;
use crate::error::ApiError;
use crate::identity::principal::Principal;
use crate::metadata::{self, MetaCtx};
use crate::schema::error::QueryError;
use crate::schema::guard;

/// Largest GraphQL request body accepted (a createPeople of 200 records fits easily).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Client headers an actor needs to see.
const FORWARDED_HEADERS: &[&str] = &["x-schema-version", "x-locale", "x-app-version"];

/// The request body, bounded by [`MAX_BODY_BYTES`].
pub(super) async fn body(req: &mut Request) -> Result<Vec<u8>, QueryError> {
    let bytes = req
        .bytes()
        .await
        .map_err(|e| QueryError::bad_input(format!("Unreadable request body: {e}")))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(QueryError::bad_input(format!(
            "Request body larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// The body of a GraphQL request, refused before any parser runs on it when its shape is
/// hostile (`schema::guard`): too deep, too many operations, fragments that expand too far.
async fn graphql_body(req: &mut Request) -> Result<Vec<u8>, Response> {
    let body = body(req).await.map_err(|e| encode::graphql_error(&e))?;
    guard::check_graphql_body(&body).map_err(|r| encode::json(200, &r.response()))?;
    Ok(body)
}

fn forwarded_headers(req: &Request) -> Vec<(String, String)> {
    FORWARDED_HEADERS
        .iter()
        .filter_map(|h| {
            req.headers()
                .get(h)
                .ok()
                .flatten()
                .map(|v| (h.to_string(), v))
        })
        .collect()
}

async fn to_actor(
    req: &Request,
    env: &Env,
    rc: &RequestContext,
    principal: &Principal,
    workspace_id: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    forward::to_workspace(
        env,
        workspace_id,
        ActorRequest {
            method: Method::Post,
            path,
            body: Some(body),
            request_id: &rc.request_id,
            principal: Some(principal),
            headers: forwarded_headers(req),
        },
    )
    .await
}

/// `POST /metadata`.
pub async fn metadata(
    mut req: Request,
    env: &Env,
    rc: &RequestContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let body = match graphql_body(&mut req).await {
        Ok(b) => b,
        Err(resp) => return Ok(resp),
    };
    // graphql-sse: a subscription streams from here (`gateway::event_stream`); other
    // operations are answered as usual and wrapped as an event stream by `serve`.
    if super::event_stream::wants_event_stream(&req) && super::event_stream::is_subscription(&body)
    {
        return super::event_stream::subscription_response(env, &rc.request_id, principal, &body);
    }
    if let Some(workspace_id) = principal.workspace_id().map(str::to_string) {
        return to_actor(
            &req,
            env,
            rc,
            &principal,
            &workspace_id,
            PATH_METADATA,
            body,
        )
        .await;
    }
    // Callers without a workspace are limited per IP, one hit per request so far: the
    // other operations of a batch count too.
    let extra = guard::batch_len(&body).saturating_sub(1) as u32;
    if extra > 0 {
        if let Some(refusal) = super::count_anonymous(&req, env, rc, extra).await {
            return Ok(refusal);
        }
    }
    let mc = MetaCtx {
        env: env.clone(),
        principal,
        request_id: rc.request_id.clone(),
        workspace: None,
    };
    let value = metadata::execute(mc, &body).await;
    Ok(encode::json(200, &value))
}

/// `POST /graphql`: needs a workspace.
pub async fn workspace(
    mut req: Request,
    env: &Env,
    rc: &RequestContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let Some(workspace_id) = principal.workspace_id().map(str::to_string) else {
        return Ok(encode::graphql_error(&workspace_required(&principal)));
    };
    let body = match graphql_body(&mut req).await {
        Ok(b) => b,
        Err(resp) => return Ok(resp),
    };
    to_actor(&req, env, rc, &principal, &workspace_id, PATH_GRAPHQL, body).await
}

/// Why a principal without a workspace cannot use workspace data.
pub fn workspace_required(principal: &Principal) -> QueryError {
    match principal {
        Principal::Anonymous => metadata::missing_token(),
        _ => QueryError::new(
            crate::schema::error::ErrorKind::Forbidden,
            "A workspace token is required: exchange a login token for one first",
        )
        .with_sub_code("FORBIDDEN_EXCEPTION"),
    }
}
