//! Forwarding requests to the actor that owns the data.

use worker::{Env, Headers, Method, Request, RequestInit, Response};

use crate::actors::protocol::{ACTOR_ORIGIN, HEADER_REQUEST_ID, HEADER_WORKSPACE_ID};
use crate::error::ApiError;
use crate::identity::principal::{Principal, HEADER_PRINCIPAL};

/// The Durable Object namespace binding of workspace actors.
pub const WORKSPACE_BINDING: &str = "WORKSPACE";

/// A request the gateway sends to an actor.
pub struct ActorRequest<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    pub request_id: &'a str,
    /// The authenticated caller, passed as the trusted principal header.
    pub principal: Option<&'a Principal>,
    /// Client headers the actor needs (e.g. `x-schema-version`), already filtered.
    pub headers: Vec<(String, String)>,
}

/// Sends `request` to the actor of `workspace_id` (its name in the namespace).
pub async fn to_workspace(
    env: &Env,
    workspace_id: &str,
    request: ActorRequest<'_>,
) -> Result<Response, ApiError> {
    let stub = env
        .durable_object(WORKSPACE_BINDING)?
        .id_from_name(workspace_id)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set(HEADER_REQUEST_ID, request.request_id)?;
    headers.set(HEADER_WORKSPACE_ID, workspace_id)?;
    if let Some(p) = request.principal {
        headers.set(HEADER_PRINCIPAL, &serde_json::to_string(p)?)?;
    }
    for (k, v) in &request.headers {
        headers.set(k, v)?;
    }
    if request.body.is_some() && !request.headers.iter().any(|(k, _)| k == "content-type") {
        headers.set("content-type", "application/json")?;
    }
    let mut init = RequestInit::new();
    init.with_method(request.method).with_headers(headers);
    if let Some(body) = request.body {
        init.with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    }
    let url = format!("{ACTOR_ORIGIN}{}", request.path);
    let req = Request::new_with_init(&url, &init)?;
    // An actor that throws (it catches its own panics, so this is the platform failing or
    // the actor being reset) is an internal error for this request only.
    stub.fetch_with_request(req)
        .await
        .map_err(|e| ApiError::Internal(format!("actor {workspace_id}: {e}")))
}
