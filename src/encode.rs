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
    let mut body = rest_envelope(e, e.rest_error_name());
    if let Some(sub) = &e.sub_code {
        body["subCode"] = json!(sub);
    }
    json(e.http_status(), &body)
}

/// `{statusCode, error, messages}` with `error` named `name`.
fn rest_envelope(e: &QueryError, name: &str) -> Value {
    json!({ "statusCode": e.http_status(), "error": name, "messages": [e.public_message()] })
}

/// An authentication failure on `/rest`: Twenty names the error by its code there
/// (`UNAUTHENTICATED`, `FORBIDDEN_EXCEPTION`), not by the HTTP exception.
pub fn rest_auth_error(e: &QueryError) -> Response {
    let name = match e.kind {
        crate::schema::error::ErrorKind::Unauthenticated => "UNAUTHENTICATED".to_string(),
        _ => e
            .sub_code
            .clone()
            .unwrap_or_else(|| "FORBIDDEN_EXCEPTION".to_string()),
    };
    json(e.http_status(), &rest_envelope(e, &name))
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

/// A resolver's error as a GraphQL field error. An internal error's detail travels in a
/// `detail` extension only until [`take_internal_details`] logs and removes it.
pub fn graphql_field_error(e: &QueryError) -> async_graphql::Error {
    let mut err = e.to_graphql();
    if e.kind == crate::schema::error::ErrorKind::Internal {
        if let Some(ext) = err.extensions.as_mut() {
            ext.set("detail", e.message.clone());
        }
    }
    err
}

/// Internal errors reach the client with a generic message; their detail travels in a
/// `detail` extension only this far: it is logged here and removed.
pub fn take_internal_details(response: &mut serde_json::Value, request_id: &str) {
    let responses: Vec<&mut serde_json::Value> = match response {
        serde_json::Value::Array(items) => items.iter_mut().collect(),
        other => vec![other],
    };
    for r in responses {
        // `get_mut`, not indexing: IndexMut would insert `"errors": null`.
        let Some(errors) = r.get_mut("errors").and_then(|e| e.as_array_mut()) else {
            continue;
        };
        for e in errors {
            if let Some(ext) = e.get_mut("extensions").and_then(|x| x.as_object_mut()) {
                if let Some(detail) = ext.remove("detail") {
                    tracing::error!(requestId = %request_id, error = %detail, "graphql internal error");
                }
            }
        }
    }
}

/// Gives errors raised by the GraphQL layer itself (parse, validation, argument coercion:
/// they come without a code) Twenty's codes and graphql-js's wording, which Twenty's clients
/// and tests match on.
pub fn normalize_graphql_errors(response: &mut Value) {
    let responses: Vec<&mut Value> = match response {
        Value::Array(items) => items.iter_mut().collect(),
        other => vec![other],
    };
    for r in responses {
        let Some(errors) = r.get_mut("errors").and_then(|e| e.as_array_mut()) else {
            continue;
        };
        for e in errors {
            let has_code = e.get("extensions").and_then(|x| x.get("code")).is_some();
            if has_code {
                continue;
            }
            let message = e["message"].as_str().unwrap_or("").to_string();
            let (code, text) = graphql_js_wording(&message);
            e["message"] = json!(text);
            match e.get_mut("extensions").and_then(|x| x.as_object_mut()) {
                Some(ext) => {
                    ext.insert("code".into(), json!(code));
                }
                None => e["extensions"] = json!({ "code": code }),
            }
        }
    }
}

/// The text between the first pair of double quotes after `after`.
fn quoted_after<'a>(s: &'a str, after: &str) -> Option<&'a str> {
    let rest = &s[s.find(after)? + after.len()..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    Some(&rest[start..end])
}

fn graphql_js_wording(m: &str) -> (&'static str, String) {
    if m.contains("Invalid value for argument") || m.contains("Invalid value for variable") {
        if let (Some(field), Some(ty)) =
            (quoted_after(m, "unknown field"), quoted_after(m, "of type"))
        {
            return (
                "BAD_USER_INPUT",
                format!("Field \"{field}\" is not defined by type \"{ty}\"."),
            );
        }
        if let (Some(ty), Some(v)) = (
            quoted_after(m, "enumeration type"),
            quoted_after(m, "the value"),
        ) {
            return (
                "BAD_USER_INPUT",
                format!("Value \"{v}\" does not exist in \"{ty}\" enum."),
            );
        }
        return ("BAD_USER_INPUT", m.to_string());
    }
    if let (true, Some(field), Some(ty)) = (
        m.starts_with("Unknown field"),
        quoted_after(m, "Unknown field"),
        quoted_after(m, "on type"),
    ) {
        return (
            "GRAPHQL_VALIDATION_FAILED",
            format!("Cannot query field \"{field}\" on type \"{ty}\"."),
        );
    }
    if m.contains("expected")
        && (m.contains(" --> ") || m.starts_with("Parse error") || m.contains("syntax"))
    {
        return ("GRAPHQL_PARSE_FAILED", m.to_string());
    }
    ("GRAPHQL_VALIDATION_FAILED", m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_js_messages() {
        let check = |input: &str, code: &str, out: &str| {
            let (c, t) = graphql_js_wording(input);
            assert_eq!((c, t.as_str()), (code, out), "{input}");
        };
        check(
            r#"Invalid value for argument "data.2", unknown field "nope" of type "PersonCreateInput""#,
            "BAD_USER_INPUT",
            r#"Field "nope" is not defined by type "PersonCreateInput"."#,
        );
        check(
            r#"Invalid value for argument "filter.stage.eq", enumeration type "OpportunityStageEnum" does not contain the value "x""#,
            "BAD_USER_INPUT",
            r#"Value "x" does not exist in "OpportunityStageEnum" enum."#,
        );
        check(
            r#"Unknown field "nope" on type "Person". Did you mean "name"?"#,
            "GRAPHQL_VALIDATION_FAILED",
            r#"Cannot query field "nope" on type "Person"."#,
        );
    }
}
