//! `/rest/*` at the gateway: Twenty's REST API runs in the workspace's actor; the gateway
//! only checks there is a workspace principal and forwards method, path, query and body.

use worker::{Env, Method, Request, Response};

use super::forward::{self, ActorRequest};
use super::RequestContext;
use crate::encode;
use crate::error::ApiError;
use crate::identity::principal::Principal;
use crate::schema::error::{ErrorKind, QueryError};

/// The REST answer to a principal without a workspace: Twenty says 403 FORBIDDEN_EXCEPTION
/// on its REST surface (`/rest`, `/open-api`), also when no token was sent.
pub fn workspace_required(principal: &Principal) -> Response {
    let mut e = super::graphql::workspace_required(principal);
    e.kind = ErrorKind::Forbidden;
    e.sub_code = Some("FORBIDDEN_EXCEPTION".into());
    encode::rest_auth_error(&e)
}

pub async fn forward(
    mut req: Request,
    env: &Env,
    rc: &RequestContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let Some(workspace_id) = principal.workspace_id().map(str::to_string) else {
        return Ok(workspace_required(&principal));
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
    let bytes = match super::graphql::body(&mut req).await {
        Ok(b) => b,
        Err(e) => return Ok(encode::rest_error(&e)),
    };
    // Bodies nested deeper than anything Twenty's objects need are refused before any
    // recursive parser sees them.
    if let Err(r) = crate::schema::guard::check_json_body(&bytes) {
        return Ok(encode::rest_error(&QueryError::bad_input(r.0)));
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
