//! Request authentication: `Authorization: Bearer <jwt>` → [`Principal`].
//!
//! Tokens come only from that header (never query strings or cookies), except on `GET /ws`
//! where browsers cannot set headers (`gateway::realtime`). Verification is
//! stateless (signature, expiry, type); what needs state (revocation, membership) is
//! checked by the workspace's actor.

use worker::{Env, Request};

use crate::identity::keyring;
use crate::identity::principal::{Principal, REQUEST_TOKEN_TYPES};
use crate::identity::tokens::TokenError;

/// Longest Authorization header we look at; RS256 JWTs with our claims are ~1 KB.
const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

pub async fn authenticate(req: &Request, env: &Env) -> Result<Principal, TokenError> {
    let header = match req.headers().get("authorization") {
        Ok(Some(h)) => h,
        _ => match header_less_token(req) {
            Some(token) => format!("Bearer {token}"),
            None => return Ok(Principal::Anonymous),
        },
    };
    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(TokenError::Malformed(
            "authorization header too long".into(),
        ));
    }
    let token = bearer_token(&header)
        .ok_or_else(|| TokenError::Malformed("authorization is not a bearer token".into()))?;
    let claims = keyring::verify(env, token, REQUEST_TOKEN_TYPES).await?;
    let mut principal = Principal::from_claims(claims)?;
    if let Principal::ApiKey { token_sha256, .. } = &mut principal {
        *token_sha256 = Some(crate::identity::principal::token_sha256(token));
    }
    Ok(principal)
}

/// Where a client cannot set `Authorization`, the token comes another way: documentation
/// links carry it in the query (`/open-api/core?token=`, as Twenty's do), and browsers
/// offer it as a WebSocket subprotocol (`Sec-WebSocket-Protocol: twenty-edge, <token>`).
fn header_less_token(req: &Request) -> Option<String> {
    let path = req.path();
    if path == "/ws" {
        let offered = req.headers().get("sec-websocket-protocol").ok()??;
        return super::realtime::protocol_token(&offered).map(str::to_string);
    }
    if !path.starts_with("/open-api/") {
        return None;
    }
    let url = req.url().ok()?;
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned());
    token
}

/// The token of `Bearer <token>` (scheme case-insensitive, one space, non-empty token).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// The client address Cloudflare reports (`CF-Connecting-IP`).
pub fn client_ip(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .filter(|ip| !ip.is_empty() && ip.len() <= 64)
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let check = |h: &str, want: Option<&str>| assert_eq!(bearer_token(h), want, "{h:?}");
        check("Bearer abc.def.ghi", Some("abc.def.ghi"));
        check("bearer abc", Some("abc"));
        check("Bearer ", None);
        check("Bearer", None);
        check("Basic dXNlcjpwYXNz", None);
        check("Bearer a b", None);
        check("abc.def.ghi", None);
    }
}
