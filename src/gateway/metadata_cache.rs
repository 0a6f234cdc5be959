//! The gateway's copy of a workspace's data model, in KV `CACHE_STORE` under
//! `workspace:{id}:metadata`, for what the gateway answers itself (the OpenAPI documents).
//!
//! The actor owns the model; this copy is at most [`TTL_SECS`] stale, and the actor deletes
//! it on every model change. KV is an accelerator, never a dependency: when it fails, the
//! gateway asks the actor.

use worker::{Env, Method, Response};

use super::forward::{self, ActorRequest};
use crate::actors::protocol::PATH_MODEL;
use crate::error::ApiError;
use crate::identity::principal::Principal;
use crate::schema::metadata::WorkspaceModel;

pub const BINDING: &str = "CACHE_STORE";
/// How stale the copy may get (KV's shortest expiry is also 60 s).
pub const TTL_SECS: u64 = 60;

pub fn key(workspace_id: &str) -> String {
    format!("workspace:{workspace_id}:metadata")
}

/// The model of the principal's workspace: KV first, else the actor (which also checks
/// that the principal still belongs to the workspace). `Ok(Err(response))` is the actor's
/// refusal, to be passed on as it is.
pub async fn model(
    env: &Env,
    workspace_id: &str,
    principal: &Principal,
    request_id: &str,
) -> Result<Result<WorkspaceModel, Response>, ApiError> {
    let kv = env.kv(BINDING).ok();
    if let Some(kv) = &kv {
        match kv.get(&key(workspace_id)).text().await {
            Ok(Some(text)) => {
                if let Ok(model) = serde_json::from_str(&text) {
                    return Ok(Ok(model));
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(requestId = %request_id, error = %e, "metadata cache read failed")
            }
        }
    }
    let mut resp = forward::to_workspace(
        env,
        workspace_id,
        ActorRequest {
            method: Method::Get,
            path: PATH_MODEL,
            body: None,
            request_id,
            principal: Some(principal),
            headers: vec![],
        },
    )
    .await?;
    if resp.status_code() != 200 {
        return Ok(Err(resp));
    }
    let text = resp.text().await?;
    let model: WorkspaceModel =
        serde_json::from_str(&text).map_err(|e| ApiError::Internal(format!("actor model: {e}")))?;
    if let Some(kv) = kv {
        let put = kv
            .put(&key(workspace_id), text)
            .map(|p| p.expiration_ttl(TTL_SECS));
        if let Err(e) = match put {
            Ok(p) => p.execute().await,
            Err(e) => Err(e),
        } {
            tracing::warn!(requestId = %request_id, error = %e, "metadata cache write failed");
        }
    }
    Ok(Ok(model))
}
