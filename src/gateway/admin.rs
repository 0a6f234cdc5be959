//! Operator endpoints under `/admin`, guarded by the `ADMIN_TOKEN` secret.

use subtle::ConstantTimeEq;
use worker::{Env, Method, Request, Response};

use super::forward::{self, ActorRequest};
use crate::actors::protocol::{PATH_DEBUG_PANIC, PATH_INSPECT};
use crate::error::ApiError;

/// Checks `Authorization: Bearer <ADMIN_TOKEN>` in constant time. Without a configured
/// token the admin API is closed.
pub fn authorize(req: &Request, env: &Env) -> Result<(), ApiError> {
    let refused = || ApiError::Unauthorized("A valid admin token is required".into());
    let expected = env
        .secret("ADMIN_TOKEN")
        .map_err(|_| refused())?
        .to_string();
    if expected.is_empty() {
        return Err(refused());
    }
    let header = req.headers().get("authorization")?.unwrap_or_default();
    let presented = header.strip_prefix("Bearer ").unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// `GET /admin/actors/workspaces/{workspaceId}`.
pub async fn inspect_workspace(
    req: &Request,
    env: &Env,
    workspace_id: &str,
    request_id: &str,
) -> Result<Response, ApiError> {
    authorize(req, env)?;
    let workspace_id = parse_workspace_id(workspace_id)?;
    forward::to_workspace(
        env,
        &workspace_id,
        ActorRequest {
            method: Method::Get,
            path: PATH_INSPECT,
            body: None,
            request_id,
            principal: None,
            headers: vec![],
        },
    )
    .await
}

/// `POST /admin/debug/panic?target=gateway|actor[&workspaceId=]`: panics on purpose, to
/// prove a panic costs one request and nothing else. Not served in production.
pub async fn debug_panic(req: &Request, env: &Env, request_id: &str) -> Result<Response, ApiError> {
    authorize(req, env)?;
    let environment = env
        .var("ENVIRONMENT")
        .map(|v| v.to_string())
        .unwrap_or_default();
    if environment == "production" {
        return Err(ApiError::NotFound(
            "No route for POST /admin/debug/panic".into(),
        ));
    }
    let url = req.url()?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    match param("target").as_deref() {
        Some("gateway") => panic!("deliberate panic requested through the admin API"),
        Some("actor") => {
            let workspace_id = parse_workspace_id(&param("workspaceId").unwrap_or_default())?;
            forward::to_workspace(
                env,
                &workspace_id,
                ActorRequest {
                    method: Method::Post,
                    path: PATH_DEBUG_PANIC,
                    body: None,
                    request_id,
                    principal: None,
                    headers: vec![],
                },
            )
            .await
        }
        _ => Err(ApiError::validation("target must be gateway or actor")),
    }
}

fn parse_workspace_id(raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.to_string())
        .map_err(|_| ApiError::Validation {
            message: format!("workspaceId must be a UUID, got {raw:?}"),
            details: Some(serde_json::json!({ "field": "workspaceId" })),
        })
}
