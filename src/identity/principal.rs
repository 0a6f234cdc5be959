//! Who a request acts as, after the gateway verified its token.
//!
//! The gateway passes the principal to actors in the trusted `x-twenty-principal` header
//! (JSON); actors never see raw tokens.

use serde::{Deserialize, Serialize};

use super::tokens::{Claims, TokenError, TokenType};

/// Header carrying the JSON principal from the gateway to an actor.
pub const HEADER_PRINCIPAL: &str = "x-twenty-principal";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Principal {
    Anonymous,
    #[serde(rename_all = "camelCase")]
    User {
        user_id: String,
        /// None for a workspace-agnostic token.
        workspace_id: Option<String>,
        workspace_member_id: Option<String>,
        user_workspace_id: Option<String>,
        auth_provider: String,
        /// The token's `iat` (unix seconds): a membership removed after it was issued
        /// stays removed for this token even if the member record is restored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        issued_at: Option<i64>,
    },
    #[serde(rename_all = "camelCase")]
    ApiKey {
        workspace_id: String,
        api_key_id: String,
        /// SHA-256 of the presented token ([`token_sha256`]): the key's owner admits only the
        /// token recorded for the key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_sha256: Option<String>,
    },
}

impl Principal {
    /// The principal a verified request token stands for.
    pub fn from_claims(c: Claims) -> Result<Principal, TokenError> {
        match c.token_type {
            TokenType::Access => Ok(Principal::User {
                user_id: c.user_id.unwrap_or(c.sub),
                workspace_id: Some(c.workspace_id.ok_or(TokenError::WrongType)?),
                workspace_member_id: c.workspace_member_id,
                user_workspace_id: c.user_workspace_id,
                auth_provider: c.auth_provider.unwrap_or_else(|| "password".into()),
                issued_at: Some(c.iat),
            }),
            TokenType::WorkspaceAgnostic => Ok(Principal::User {
                user_id: c.user_id.unwrap_or(c.sub),
                workspace_id: None,
                workspace_member_id: None,
                user_workspace_id: None,
                auth_provider: c.auth_provider.unwrap_or_else(|| "password".into()),
                issued_at: Some(c.iat),
            }),
            TokenType::ApiKey => Ok(Principal::ApiKey {
                workspace_id: c.workspace_id.unwrap_or(c.sub),
                api_key_id: c.jti.ok_or(TokenError::WrongType)?,
                token_sha256: None,
            }),
            _ => Err(TokenError::WrongType),
        }
    }

    pub fn workspace_id(&self) -> Option<&str> {
        match self {
            Principal::Anonymous => None,
            Principal::User { workspace_id, .. } => workspace_id.as_deref(),
            Principal::ApiKey { workspace_id, .. } => Some(workspace_id),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Principal::Anonymous)
    }

    /// Twenty's ACTOR source for records this principal writes.
    pub fn actor_source(&self) -> &'static str {
        match self {
            Principal::ApiKey { .. } => "API",
            _ => "MANUAL",
        }
    }
}

/// The digest an API key's token is recorded under (base64url of its SHA-256).
pub fn token_sha256(token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Token types accepted as request credentials (refresh and login tokens are not).
pub const REQUEST_TOKEN_TYPES: &[TokenType] = &[
    TokenType::Access,
    TokenType::WorkspaceAgnostic,
    TokenType::ApiKey,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let p = Principal::ApiKey {
            workspace_id: "w".into(),
            api_key_id: "k".into(),
            token_sha256: None,
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "apiKey", "workspaceId": "w", "apiKeyId": "k"})
        );
        assert_eq!(serde_json::from_value::<Principal>(v).unwrap(), p);
    }

    #[test]
    fn from_claims() {
        let mut c = Claims::new(TokenType::Access, "u1", 0, 1);
        c.workspace_id = Some("w1".into());
        c.workspace_member_id = Some("m1".into());
        let p = Principal::from_claims(c).unwrap();
        assert_eq!(p.workspace_id(), Some("w1"));
        assert_eq!(p.user_id(), Some("u1"));
        let r = Claims::new(TokenType::Refresh, "u1", 0, 1);
        assert_eq!(Principal::from_claims(r), Err(TokenError::WrongType));
    }
}
