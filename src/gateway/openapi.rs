//! `GET /open-api/core` (and `/open-api/metadata`): the workspace's OpenAPI documents,
//! built in the gateway from the model copy in KV (the actor answers when KV cannot).

use worker::{Env, Request, Response};

use super::{metadata_cache, RequestContext};
use crate::encode;
use crate::error::ApiError;
use crate::identity::principal::Principal;
use crate::schema::openapi;

pub async fn document(
    req: &Request,
    env: &Env,
    rc: &RequestContext,
    principal: &Principal,
    which: &str,
) -> Result<Response, ApiError> {
    let Some(workspace_id) = principal.workspace_id() else {
        return Ok(super::rest::workspace_required(principal));
    };
    let model = match metadata_cache::model(env, workspace_id, principal, &rc.request_id).await? {
        Ok(m) => m,
        Err(refused) => return Ok(refused),
    };
    let url = req.url()?;
    let origin = url.origin().ascii_serialization();
    let doc = match which {
        "core" => openapi::core_document(&model, &origin),
        _ => openapi::metadata_document(&origin),
    };
    Ok(encode::json(200, &doc))
}
