//! `/rest/*` at the gateway: Twenty's REST API runs in the workspace's actor; the gateway
//! only checks there is a workspace principal and forwards method, path, query and body.

use worker::{Env, Method, Request, Response};

use super::forward::{self, ActorRequest};
use super::graphql::MAX_BODY_BYTES;
use super::RequestContext;
use crate::encode;
use crate::error::ApiError;
use crate::identity::principal::Principal;
use crate::schema::error::{ErrorKind, QueryError};

pub async fn forward(
    mut req: Request,
    env: &Env,
    rc: &RequestContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let Some(workspace_id) = principal.workspace_id().map(str::to_string) else {
        // Twenty answers a REST call without a token with 403 FORBIDDEN_EXCEPTION.
        let mut e = super::graphql::workspace_required(&principal);
        e.kind = ErrorKind::Forbidden;
        e.sub_code = Some("FORBIDDEN_EXCEPTION".into());
        return Ok(encode::rest_auth_error(&e));
    };
    // workers-rs reads an unknown method (e.g. QUERY) as GET: check the raw one.
    let raw_method = req.inner().method().to_ascii_uppercase();
    if !matches!(
        raw_method.as_str(),
        "GET" | "POST" | "PATCH" | "PUT" | "DELETE"
    ) {
        return Ok(encode::rest_error(&QueryError::new(
            ErrorKind::NotSupported,
            format!("Method {raw_method} is not supported on /rest"),
        )));
    }
    let bytes = req.bytes().await.unwrap_or_default();
    if bytes.len() > MAX_BODY_BYTES {
        return Ok(encode::rest_error(&QueryError::bad_input(format!(
            "Request body larger than {MAX_BODY_BYTES} bytes"
        ))));
    }
    let url = req.url()?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    forward::to_workspace(
        env,
        &workspace_id,
        ActorRequest {
            method: req.method(),
            path: &path,
            // GET and DELETE carry no body to the actor (fetch refuses one on GET).
            body: (!bytes.is_empty() && !matches!(req.method(), Method::Get | Method::Head))
                .then_some(bytes),
            request_id: &rc.request_id,
            principal: Some(&principal),
            headers: vec![],
        },
    )
    .await
}
