//! The error type of query and mutation processing (GraphQL and REST share it).
//!
//! **API Boundary:** each kind maps to Twenty's GraphQL `extensions.code` and to the REST
//! status and `error` name; the REST and GraphQL encoders are the only places that turn
//! a `QueryError` into bytes.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// GraphQL `BAD_USER_INPUT`, REST 400 `BadRequestException`.
    BadUserInput,
    /// GraphQL `NOT_FOUND`, REST 404 `NotFoundException`.
    NotFound,
    /// GraphQL `FORBIDDEN`, REST 403 `ForbiddenException`.
    Forbidden,
    /// GraphQL `UNAUTHENTICATED`, REST 401 `UnauthorizedException`.
    Unauthenticated,
    /// GraphQL `CONFLICT`, REST 409 `ConflictException`.
    Conflict,
    /// A quota is exhausted: GraphQL `PAYMENT_REQUIRED`, REST 402.
    PaymentRequired,
    /// Too many requests: GraphQL `TOO_MANY_REQUESTS`, REST 429.
    TooManyRequests,
    /// GraphQL `METHOD_NOT_ALLOWED`, REST 405: an operation this server does not offer.
    NotSupported,
    /// A data model change broke a rule: GraphQL `METADATA_VALIDATION_FAILED` with the
    /// failures in `extensions.errors`, REST 400.
    MetadataValidation,
    /// GraphQL `INTERNAL_SERVER_ERROR`, REST 500; the message is logged, never sent.
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub kind: ErrorKind,
    pub message: String,
    /// Twenty's `extensions.subCode` (the exception code, e.g. `RECORD_NOT_FOUND`).
    pub sub_code: Option<String>,
    /// Twenty's `extensions.userFriendlyMessage`.
    pub user_friendly: Option<String>,
    /// More `extensions` entries (the failures of a METADATA_VALIDATION_FAILED).
    pub extra: Option<Box<serde_json::Map<String, Value>>>,
}

impl QueryError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        QueryError {
            kind,
            message: message.into(),
            sub_code: None,
            user_friendly: None,
            extra: None,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadUserInput, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn not_found() -> Self {
        QueryError {
            kind: ErrorKind::NotFound,
            message: "Record not found".into(),
            sub_code: Some("RECORD_NOT_FOUND".into()),
            user_friendly: Some("This record does not exist or has been deleted.".into()),
            extra: None,
        }
    }

    pub fn with_sub_code(mut self, code: &str) -> Self {
        self.sub_code = Some(code.to_string());
        self
    }

    pub fn with_extra(mut self, extra: serde_json::Map<String, Value>) -> Self {
        self.extra = Some(Box::new(extra));
        self
    }

    pub fn with_user_friendly(mut self, message: impl Into<String>) -> Self {
        self.user_friendly = Some(message.into());
        self
    }

    pub fn graphql_code(&self) -> &'static str {
        match self.kind {
            ErrorKind::BadUserInput => "BAD_USER_INPUT",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::Forbidden => "FORBIDDEN",
            ErrorKind::Unauthenticated => "UNAUTHENTICATED",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::PaymentRequired => "PAYMENT_REQUIRED",
            ErrorKind::TooManyRequests => "TOO_MANY_REQUESTS",
            ErrorKind::NotSupported => "METHOD_NOT_ALLOWED",
            ErrorKind::MetadataValidation => "METADATA_VALIDATION_FAILED",
            ErrorKind::Internal => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self.kind {
            ErrorKind::BadUserInput | ErrorKind::MetadataValidation => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::Forbidden => 403,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Conflict => 409,
            ErrorKind::PaymentRequired => 402,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::NotSupported => 405,
            ErrorKind::Internal => 500,
        }
    }

    /// REST's `error` field (NestJS exception names, as Twenty's REST API answers).
    pub fn rest_error_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::BadUserInput | ErrorKind::MetadataValidation => "BadRequestException",
            ErrorKind::NotFound => "NotFoundException",
            ErrorKind::Forbidden => "ForbiddenException",
            ErrorKind::Unauthenticated => "UnauthorizedException",
            ErrorKind::Conflict => "ConflictException",
            ErrorKind::PaymentRequired => "PaymentRequiredException",
            ErrorKind::TooManyRequests => "ThrottlerException",
            ErrorKind::NotSupported => "MethodNotAllowedException",
            ErrorKind::Internal => "InternalServerErrorException",
        }
    }

    /// What clients may see: internal errors are replaced by a generic text.
    pub fn public_message(&self) -> String {
        if self.kind == ErrorKind::Internal {
            "Internal server error".to_string()
        } else {
            self.message.clone()
        }
    }

    /// GraphQL `extensions`, in Twenty's shape.
    pub fn extensions(&self) -> Value {
        let mut ext = json!({ "code": self.graphql_code() });
        if let Some(s) = &self.sub_code {
            ext["subCode"] = json!(s);
        }
        let friendly = self.user_friendly.clone().or_else(|| match self.kind {
            ErrorKind::Internal => Some("An error occurred.".to_string()),
            _ => None,
        });
        if let Some(u) = friendly {
            ext["userFriendlyMessage"] = json!(u);
        }
        if let (Some(extra), Some(map)) = (&self.extra, ext.as_object_mut()) {
            for (k, v) in extra.iter() {
                map.insert(k.clone(), v.clone());
            }
        }
        ext
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.graphql_code(), self.message)
    }
}

impl QueryError {
    /// As an async-graphql error with Twenty's extensions. (async-graphql's blanket
    /// `From<Display>` would drop the extensions, hence a method.)
    pub fn to_graphql(&self) -> async_graphql::Error {
        let mut err = async_graphql::Error::new(self.public_message());
        let ext = self.extensions();
        if let Value::Object(map) = ext {
            let mut values = async_graphql::ErrorExtensionValues::default();
            for (k, v) in map {
                values.set(k, async_graphql::Value::from_json(v).unwrap_or_default());
            }
            err.extensions = Some(values);
        }
        err
    }
}

pub type QueryResult<T> = Result<T, QueryError>;
