//! Turning results into HTTP responses, per protocol. GraphQL and REST differ only here
//! (and in parsing); operations produce `serde_json::Value` or a [`QueryError`].

use serde_json::{json, Value};
use worker::{Headers, Response};

use crate::schema::error::QueryError;

/// Which wire format a route speaks, so errors raised before the operation runs (auth,
/// rate limits) are encoded the way that client understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `/graphql`, `/metadata`: HTTP 200 (or the limit's status) with `{"errors": [...]}`.
    Graphql,
    /// `/rest/*`: `{statusCode, error, messages}` with the error's status.
    Rest,
    /// Everything else: `{"error": {code, message, requestId}}`.
    Plain,
}

impl Protocol {
    pub fn of(path: &str) -> Protocol {
        if path == "/graphql" || path == "/metadata" {
            Protocol::Graphql
        } else if path.starts_with("/rest/") || path == "/rest" {
            Protocol::Rest
        } else {
            Protocol::Plain
        }
    }
}

pub fn json(status: u16, value: &Value) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json; charset=utf-8");
    match Response::from_bytes(value.to_string().into_bytes()) {
        Ok(r) => r.with_status(status).with_headers(headers),
        Err(_) => Response::builder().with_status(500).empty(),
    }
}

/// A GraphQL error response. Twenty answers auth and validation errors with HTTP 200;
/// rate limits and quotas keep their own status so proxies and clients can back off.
pub fn graphql_error(e: &QueryError) -> Response {
    let status = match e.http_status() {
        s @ (402 | 429) => s,
        _ => 200,
    };
    json(
        status,
        &json!({ "errors": [{ "message": e.public_message(), "extensions": e.extensions() }] }),
    )
}

/// Twenty's REST error envelope.
pub fn rest_error(e: &QueryError) -> Response {
    let mut body = json!({
        "statusCode": e.http_status(),
        "error": e.rest_error_name(),
        "messages": [e.public_message()],
    });
    if let Some(sub) = &e.sub_code {
        body["subCode"] = json!(sub);
    }
    json(e.http_status(), &body)
}

pub fn error_for(protocol: Protocol, e: &QueryError, request_id: &str) -> Response {
    match protocol {
        Protocol::Graphql => graphql_error(e),
        Protocol::Rest => rest_error(e),
        Protocol::Plain => {
            use crate::error::ApiError;
            use crate::schema::error::ErrorKind;
            let api = match e.kind {
                ErrorKind::Unauthenticated => ApiError::Unauthorized(e.public_message()),
                ErrorKind::Forbidden => ApiError::Forbidden(e.public_message()),
                ErrorKind::NotFound => ApiError::NotFound(e.public_message()),
                ErrorKind::TooManyRequests => ApiError::RateLimited {
                    retry_after_secs: 60,
                },
                ErrorKind::Internal => ApiError::Internal(e.message.clone()),
                _ => ApiError::validation(e.public_message()),
            };
            api.into_response(request_id)
        }
    }
}
