//! The error type of the plain-HTTP boundary: everything that is neither GraphQL nor REST
//! (health, admin, routing, auth failures before a protocol is known). Gateway and actors
//! both answer with it; the gateway passes actor answers through unchanged.
//!
//! **API Boundary:** the body is always `{"error":{"code","message","details"?,"requestId"}}`.
//! Internal errors are logged with the request id and answered with a generic message:
//! their text never reaches the client.

use serde_json::{json, Value};
use worker::{Headers, Response};

#[derive(Debug)]
pub enum ApiError {
    /// 401 `UNAUTHORIZED`: no or invalid credentials.
    Unauthorized(String),
    /// 403 `FORBIDDEN`: valid credentials, not allowed.
    Forbidden(String),
    /// 404 `NOT_FOUND`.
    NotFound(String),
    /// 400 `VALIDATION_ERROR`: the request is malformed; `details` says where.
    Validation {
        message: String,
        details: Option<Value>,
    },
    /// 429 `RATE_LIMITED`, with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
    /// 503 `SERVICE_UNAVAILABLE`: a dependency is down; retrying may help.
    ServiceUnavailable(String),
    /// 500 `INTERNAL_ERROR`: a bug or an unexpected platform failure. The string is logged,
    /// never sent.
    Internal(String),
}

impl ApiError {
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
            details: None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::Validation { .. } => 400,
            ApiError::RateLimited { .. } => 429,
            ApiError::ServiceUnavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Validation { .. } => "VALIDATION_ERROR",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::ServiceUnavailable(_) => "SERVICE_UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// What the client may see.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::ServiceUnavailable(m) => m.clone(),
            ApiError::Validation { message, .. } => message.clone(),
            ApiError::RateLimited { retry_after_secs } => {
                format!("Too many requests, retry in {retry_after_secs} s")
            }
            ApiError::Internal(_) => "Internal server error".to_string(),
        }
    }

    /// What the logs see (the internal detail included).
    pub fn log_message(&self) -> String {
        match self {
            ApiError::Internal(detail) => detail.clone(),
            other => other.public_message(),
        }
    }

    pub fn body(&self, request_id: &str) -> Value {
        let mut error = json!({
            "code": self.code(),
            "message": self.public_message(),
            "requestId": request_id,
        });
        if let ApiError::Validation {
            details: Some(details),
            ..
        } = self
        {
            error["details"] = details.clone();
        }
        json!({ "error": error })
    }

    pub fn into_response(self, request_id: &str) -> Response {
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/json");
        if let ApiError::RateLimited { retry_after_secs } = &self {
            let _ = headers.set("retry-after", &retry_after_secs.to_string());
        }
        let body = self.body(request_id).to_string();
        match Response::from_bytes(body.into_bytes()) {
            Ok(resp) => resp.with_status(self.status()).with_headers(headers),
            // Building a response from bytes does not fail in practice; if it ever does,
            // an empty 500 is still better than a panic.
            Err(_) => Response::empty()
                .map(|r| r.with_status(500))
                .unwrap_or_else(|_| Response::builder().with_status(500).empty()),
        }
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("json: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let check = |e: ApiError, status: u16, code: &str| {
            assert_eq!(e.status(), status);
            assert_eq!(e.code(), code);
        };
        check(ApiError::Unauthorized("x".into()), 401, "UNAUTHORIZED");
        check(ApiError::Forbidden("x".into()), 403, "FORBIDDEN");
        check(ApiError::NotFound("x".into()), 404, "NOT_FOUND");
        check(ApiError::validation("x"), 400, "VALIDATION_ERROR");
        check(
            ApiError::RateLimited {
                retry_after_secs: 3,
            },
            429,
            "RATE_LIMITED",
        );
        check(
            ApiError::ServiceUnavailable("x".into()),
            503,
            "SERVICE_UNAVAILABLE",
        );
        check(ApiError::Internal("x".into()), 500, "INTERNAL_ERROR");
    }

    #[test]
    fn internal_detail_is_never_in_the_body() {
        let body = ApiError::Internal("D1_ERROR: secret table name".into()).body("rid-1");
        assert_eq!(
            body,
            json!({"error": {"code": "INTERNAL_ERROR", "message": "Internal server error", "requestId": "rid-1"}})
        );
    }

    #[test]
    fn validation_details() {
        let body = ApiError::Validation {
            message: "bad id".into(),
            details: Some(json!({"field": "workspaceId"})),
        }
        .body("r");
        assert_eq!(body["error"]["details"]["field"], "workspaceId");
    }
}
