//! The signing keys of this deployment.
//!
//! The current key is the `JWT_PRIVATE_KEY` secret; rotating is `wrangler secret put
//! JWT_PRIVATE_KEY`. Every key that signs records its public half in D1 (`signing_key`)
//! with the expiry of the longest-lived token it signed, so after a rotation the old key
//! keeps verifying exactly until its last token expires.
//!
//! Verification stays stateless on the hot path: the current key is parsed once per
//! isolate; a retired key is read from D1 once and cached.

use jsonwebtoken::DecodingKey;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use worker::Env;

use super::directory::Directory;
use super::tokens::{self, Claims, SigningKey, TokenError, TokenType};

/// How long an unknown `kid` is remembered as unknown, so forged kids cannot make every
/// request query D1.
const UNKNOWN_KID_TTL_MS: f64 = 60_000.0;
/// Tokens whose signature this isolate already verified. RS256 verification costs a few
/// milliseconds of wasm CPU and clients send the same access token for many requests, so
/// verified claims are kept (expiry and type are still checked on every use). Bounded so
/// a flood of distinct tokens cannot grow memory.
const VERIFIED_CACHE_MAX: usize = 4096;

/// A retired key as cached: the key and its validity end (unix seconds), or None when D1
/// does not know the kid; and when that was looked up (ms).
type RetiredEntry = (Option<(DecodingKey, i64)>, f64);

thread_local! {
    static CURRENT: RefCell<Option<(String, Rc<SigningKey>)>> = const { RefCell::new(None) };
    /// kid -> (key and its validity end in unix seconds, or None when unknown; fetched at).
    static RETIRED: RefCell<HashMap<String, RetiredEntry>> = RefCell::new(HashMap::new());
    /// token -> claims it verified to (signature and key checked once).
    static VERIFIED: RefCell<HashMap<String, Claims>> = RefCell::new(HashMap::new());
    /// Highest token expiry already recorded in D1 for the current key.
    static RECORDED_UNTIL: RefCell<HashMap<String, i64>> = RefCell::new(HashMap::new());
}

fn now_ms() -> f64 {
    worker::Date::now().as_millis() as f64
}

/// The current signing key (parsed once per isolate and secret value).
pub fn current(env: &Env) -> Result<Rc<SigningKey>, String> {
    let secret = env
        .secret("JWT_PRIVATE_KEY")
        .map_err(|_| "JWT_PRIVATE_KEY is not configured".to_string())?
        .to_string();
    if let Some(key) = CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(s, _)| *s == secret)
            .map(|(_, k)| k.clone())
    }) {
        return Ok(key);
    }
    let key = Rc::new(SigningKey::from_secret(&secret)?);
    CURRENT.with(|c| *c.borrow_mut() = Some((secret, key.clone())));
    Ok(key)
}

/// Signs `claims` with the current key, recording the key's public half in D1 first when
/// this token outlives what is recorded.
pub async fn sign(env: &Env, claims: &Claims) -> Result<String, String> {
    let key = current(env)?;
    // An API-key token lives up to 100 years; it does not extend how long the key is
    // trusted in general (an API key is admitted by its recorded token digest and its
    // revocation, see `verify`), only as long as the session tokens it could have signed.
    let trust_until = if claims.token_type == TokenType::ApiKey {
        claims.exp.min(claims.iat + tokens::REFRESH_TOKEN_TTL_SECS)
    } else {
        claims.exp
    };
    let recorded = RECORDED_UNTIL.with(|r| r.borrow().get(&key.kid).copied());
    if recorded.is_none_or(|until| until < trust_until) {
        let directory = Directory::new(env).map_err(|e| e.to_string())?;
        let now = chrono::Utc::now().to_rfc3339();
        directory
            .record_signing_key(&key.kid, &key.jwk.to_string(), &now, trust_until)
            .await
            .map_err(|e| e.to_string())?;
        let until = recorded.unwrap_or(0).max(trust_until);
        RECORDED_UNTIL.with(|r| r.borrow_mut().insert(key.kid.clone(), until));
    }
    key.sign(claims)
}

/// Verifies a token against the key its `kid` names.
pub async fn verify(env: &Env, token: &str, accepted: &[TokenType]) -> Result<Claims, TokenError> {
    if let Some(claims) = VERIFIED.with(|v| v.borrow().get(token).cloned()) {
        // The signature was checked; time and type are checked again.
        return tokens::check_claims(claims, accepted);
    }
    let kid = tokens::kid_of(token)?;
    let key = current(env).map_err(TokenError::Malformed)?;
    let claims = if kid == key.kid {
        tokens::verify(token, &key.decoding, accepted)?
    } else {
        let (decoding, trusted) = retired_key(env, &kid).await?;
        let claims = tokens::verify(token, &decoding, accepted)?;
        // Past its trust period a retired key still verifies API-key tokens: they are
        // admitted only as the exact token recorded for a live key (actor admission), so
        // the signature is not what grants access.
        if !trusted && claims.token_type != TokenType::ApiKey {
            return Err(TokenError::UnknownKey);
        }
        claims
    };
    VERIFIED.with(|v| {
        let mut v = v.borrow_mut();
        if v.len() >= VERIFIED_CACHE_MAX {
            v.clear();
        }
        v.insert(token.to_string(), claims.clone());
    });
    Ok(claims)
}

/// A retired key, and whether it is still trusted for every token type.
async fn retired_key(env: &Env, kid: &str) -> Result<(DecodingKey, bool), TokenError> {
    let now = now_ms();
    let cached = RETIRED.with(|r| r.borrow().get(kid).cloned());
    let entry = match cached {
        Some((entry, fetched)) if entry.is_some() || now - fetched < UNKNOWN_KID_TTL_MS => entry,
        _ => {
            let row = Directory::new(env)
                .map_err(|e| TokenError::Malformed(e.to_string()))?
                .signing_key(kid)
                .await
                .map_err(|e| TokenError::Malformed(e.to_string()))?;
            let entry = row.and_then(|r| {
                let jwk: serde_json::Value = serde_json::from_str(&r.public_jwk).ok()?;
                let key = tokens::decoding_key_from_jwk(&jwk).ok()?;
                Some((key, r.max_expires_at))
            });
            RETIRED.with(|r| r.borrow_mut().insert(kid.to_string(), (entry.clone(), now)));
            entry
        }
    };
    match entry {
        // A retired key verifies session tokens only while some token it signed can still
        // be valid.
        Some((key, valid_until)) => Ok((key, valid_until as f64 * 1000.0 > now)),
        None => Err(TokenError::UnknownKey),
    }
}

/// The public keys that verify live tokens (`/.well-known/jwks.json`).
pub async fn jwks(env: &Env) -> Result<serde_json::Value, String> {
    let key = current(env)?;
    let mut keys = vec![key.jwk.clone()];
    let directory = Directory::new(env).map_err(|e| e.to_string())?;
    let now = (now_ms() / 1000.0) as i64;
    for row in directory
        .live_signing_keys(now)
        .await
        .map_err(|e| e.to_string())?
    {
        if row.kid != key.kid {
            if let Ok(jwk) = serde_json::from_str(&row.public_jwk) {
                keys.push(jwk);
            }
        }
    }
    Ok(serde_json::json!({ "keys": keys }))
}
