//! JSON Web Tokens: Twenty's claims, signed RS256 with a `kid`.
//!
//! Verification is stateless: signature, algorithm, expiry and type are checked here from
//! the key alone. What needs state (a revoked refresh token, a removed member, a revoked API
//! key) is checked by the owner of that state.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Token lifetimes (Twenty's defaults).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 30 * 60;
pub const WORKSPACE_AGNOSTIC_TOKEN_TTL_SECS: i64 = 30 * 60;
pub const LOGIN_TOKEN_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TOKEN_TTL_SECS: i64 = 60 * 24 * 3600;
/// Clock skew tolerated between the signer and the verifier.
pub const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenType {
    Access,
    WorkspaceAgnostic,
    Refresh,
    Login,
    ApiKey,
    File,
}

/// The union of Twenty's JWT payloads (`auth/types/*-jwt-payload.type.ts`); each token type
/// fills its own subset.
/// Absent claims are left out of the token (`skip_serializing_none`), as Twenty's are.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub sub: String,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub user_id: Option<String>,
    pub workspace_id: Option<String>,
    pub workspace_member_id: Option<String>,
    pub user_workspace_id: Option<String>,
    pub auth_provider: Option<String>,
    pub targeted_token_type: Option<TokenType>,
    pub jti: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn new(token_type: TokenType, sub: impl Into<String>, now: i64, ttl_secs: i64) -> Self {
        Claims {
            sub: sub.into(),
            token_type,
            user_id: None,
            workspace_id: None,
            workspace_member_id: None,
            user_workspace_id: None,
            auth_provider: None,
            targeted_token_type: None,
            jti: None,
            iat: now,
            exp: now + ttl_secs,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a JWT, an algorithm other than RS256 (`none`, HS256, ...), or no `kid`.
    Malformed(String),
    /// A `kid` no current or retired key has.
    UnknownKey,
    /// The signature does not match (tampered payload, foreign key).
    BadSignature,
    Expired,
    NotYetValid,
    /// A valid token of another type (e.g. a refresh token used as an access token).
    WrongType,
}

impl TokenError {
    pub fn message(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) | TokenError::UnknownKey | TokenError::BadSignature => {
                "Invalid token"
            }
            TokenError::Expired => "Token has expired.",
            TokenError::NotYetValid => "Token is not valid yet",
            TokenError::WrongType => "Invalid token type",
        }
    }
}

/// The key this deployment signs with (the `JWT_PRIVATE_KEY` secret).
pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public half as a JWK (RFC 7517), with `kid`, `alg` and `use`.
    pub jwk: Value,
}

impl SigningKey {
    /// Parses an RSA private key in PEM (PKCS#8 or PKCS#1), or base64 of such a PEM (how
    /// scripts/setup.sh stores it on one line in .dev.vars).
    pub fn from_secret(secret: &str) -> Result<Self, String> {
        let secret = secret.trim();
        let pem = if secret.contains("-----BEGIN") {
            secret.to_string()
        } else {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(secret)
                .map_err(|e| format!("JWT_PRIVATE_KEY is neither PEM nor base64 PEM: {e}"))?;
            String::from_utf8(bytes).map_err(|_| "JWT_PRIVATE_KEY is not UTF-8".to_string())?
        };
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&pem))
            .map_err(|e| format!("JWT_PRIVATE_KEY is not an RSA private key: {e}"))?;
        let n = B64URL.encode(private.n().to_bytes_be());
        let e = B64URL.encode(private.e().to_bytes_be());
        // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order.
        let thumbprint = Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let kid = B64URL.encode(thumbprint);
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| format!("JWT_PRIVATE_KEY: {e}"))?;
        let decoding =
            DecodingKey::from_rsa_components(&n, &e).map_err(|e| format!("public key: {e}"))?;
        let jwk = json!({ "kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig" });
        Ok(SigningKey {
            kid,
            encoding,
            decoding,
            jwk,
        })
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| format!("sign: {e}"))
    }
}

/// A decoding key built from a stored public JWK (a retired signing key).
pub fn decoding_key_from_jwk(jwk: &Value) -> Result<DecodingKey, String> {
    let n = jwk["n"].as_str().ok_or("jwk without n")?;
    let e = jwk["e"].as_str().ok_or("jwk without e")?;
    DecodingKey::from_rsa_components(n, e).map_err(|e| e.to_string())
}

/// The `kid` of a token, after checking it is an RS256 JWT at all.
pub fn kid_of(token: &str) -> Result<String, TokenError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::Malformed(format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    header
        .kid
        .ok_or_else(|| TokenError::Malformed("no kid".into()))
}

/// Verifies `token` with `key` and checks its type is one of `accepted`.
pub fn verify(
    token: &str,
    key: &DecodingKey,
    accepted: &[TokenType],
) -> Result<Claims, TokenError> {
    kid_of(token)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed(e.to_string()),
        }
    })?;
    check_claims(data.claims, accepted)
}

/// The time and type checks of [`verify`], for claims whose signature was already
/// verified (the keyring's cache).
pub fn check_claims(claims: Claims, accepted: &[TokenType]) -> Result<Claims, TokenError> {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    if claims.exp + (LEEWAY_SECS as i64) < now {
        return Err(TokenError::Expired);
    }
    // jsonwebtoken checks `nbf` only when present; a token issued in the future is refused
    // too.
    if claims.iat > now + LEEWAY_SECS as i64 {
        return Err(TokenError::NotYetValid);
    }
    if !accepted.contains(&claims.token_type) {
        return Err(TokenError::WrongType);
    }
    Ok(claims)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A fixed 2048-bit test key, generated once with openssl for these tests only.
    pub fn test_key() -> SigningKey {
        SigningKey::from_secret(include_str!("../../tests/fixtures/test-rsa-key.pem")).unwrap()
    }

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn access(now: i64, ttl: i64) -> Claims {
        let mut c = Claims::new(TokenType::Access, "user-1", now, ttl);
        c.user_id = Some("user-1".into());
        c.workspace_id = Some("ws-1".into());
        c
    }

    #[test]
    fn sign_and_verify() {
        let key = test_key();
        let token = key.sign(&access(now(), 60)).unwrap();
        assert_eq!(kid_of(&token).unwrap(), key.kid);
        let claims = verify(&token, &key.decoding, &[TokenType::Access]).unwrap();
        assert_eq!(claims.workspace_id.as_deref(), Some("ws-1"));
        assert_eq!(claims.token_type, TokenType::Access);
    }

    #[test]
    fn claims_wire_format_is_twentys() {
        let mut c = access(100, 60);
        c.workspace_member_id = Some("wm".into());
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "ACCESS");
        assert_eq!(v["userId"], "user-1");
        assert_eq!(v["workspaceMemberId"], "wm");
        assert!(v.get("jti").is_none());
        let r = Claims {
            targeted_token_type: Some(TokenType::WorkspaceAgnostic),
            ..Claims::new(TokenType::Refresh, "u", 1, 1)
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap()["targetedTokenType"],
            "WORKSPACE_AGNOSTIC"
        );
    }

    #[test]
    fn attacks_are_refused() {
        let key = test_key();
        let good = key.sign(&access(now(), 60)).unwrap();
        let parts: Vec<&str> = good.split('.').collect();

        // alg: none, no signature.
        let none_header = B64URL.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let none = format!("{none_header}.{}.", parts[1]);
        assert!(matches!(
            verify(&none, &key.decoding, &[TokenType::Access]),
            Err(TokenError::Malformed(_))
        ));

        // HS256 signed with the public key as the HMAC secret.
        let public_pem = key.jwk.to_string();
        let hs = jsonwebtoken::encode(
            &Header {
                kid: Some(key.kid.clone()),
                ..Header::new(Algorithm::HS256)
            },
            &access(now(), 60),
            &EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .unwrap();
        assert!(matches!(
            verify(&hs, &key.decoding, &[TokenType::Access]),
            Err(TokenError::Malformed(_))
        ));

        // Tampered payload, original signature.
        let mut claims = access(now(), 60);
        claims.workspace_id = Some("ws-2".into());
        let forged_payload = B64URL.encode(serde_json::to_vec(&claims).unwrap());
        let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&tampered, &key.decoding, &[TokenType::Access]),
            Err(TokenError::BadSignature)
        );

        // Expired, and issued in the future.
        let expired = key.sign(&access(now() - 3600, 60)).unwrap();
        assert_eq!(
            verify(&expired, &key.decoding, &[TokenType::Access]),
            Err(TokenError::Expired)
        );
        let future = key.sign(&access(now() + 3600, 60)).unwrap();
        assert_eq!(
            verify(&future, &key.decoding, &[TokenType::Access]),
            Err(TokenError::NotYetValid)
        );

        // Right signature, wrong type.
        assert_eq!(
            verify(&good, &key.decoding, &[TokenType::Refresh]),
            Err(TokenError::WrongType)
        );

        // Garbage.
        for junk in ["", "abc", "a.b.c", "Bearer x"] {
            assert!(verify(junk, &key.decoding, &[TokenType::Access]).is_err());
        }
    }

    #[test]
    fn jwk_round_trip_verifies() {
        let key = test_key();
        let token = key.sign(&access(now(), 60)).unwrap();
        let from_jwk = decoding_key_from_jwk(&key.jwk).unwrap();
        assert!(verify(&token, &from_jwk, &[TokenType::Access]).is_ok());
        assert_eq!(key.jwk["kid"], key.kid);
        assert_eq!(key.jwk["e"], "AQAB");
    }
}
