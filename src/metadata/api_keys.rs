//! API keys: `apiKeys`, `apiKey`, `createApiKey`, `revokeApiKey`, `generateApiKeyToken`.
//!
//! Keys live in D1 (`api_key`); these resolvers run in the workspace's actor, which is
//! also where an API-key request is checked against revocation, so a revocation takes
//! effect on the next request.

use async_graphql::dynamic::ResolverContext;
use serde_json::{json, Value};

use super::user::role;
use super::{
    arg, arg_str, iso_from_secs, now_iso, now_secs, require_workspace, storage_err, MetaCtx,
};
use crate::identity::directory::{ApiKeyRow, Directory};
use crate::identity::keyring;
use crate::identity::principal::Principal;
use crate::identity::tokens::{Claims, TokenType};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};

/// Twenty issues key tokens for 100 years when no expiry is given.
const DEFAULT_API_KEY_TTL_SECS: i64 = 100 * 365 * 24 * 3600;

fn key_json(k: &ApiKeyRow) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "expiresAt": k.expires_at,
        "revokedAt": k.revoked_at,
        "createdAt": k.created_at,
        "updatedAt": k.updated_at,
        "role": role(true),
    })
}

/// `input: {id}` of apiKey / revokeApiKey.
fn input_id(rc: &ResolverContext<'_>) -> String {
    arg(rc, "input")["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn dir(mc: &MetaCtx) -> QueryResult<Directory> {
    Directory::new(&mc.env).map_err(storage_err)
}

fn parse_date(field: &str, raw: &str) -> QueryResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| QueryError::bad_input(format!("{field} must be a valid ISO 8601 date string")))
}

fn iso(d: chrono::DateTime<chrono::Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub async fn list(mc: &MetaCtx) -> QueryResult<Value> {
    let ws = require_workspace(mc)?;
    let keys = dir(mc)?
        .api_keys(ws.workspace_id())
        .await
        .map_err(storage_err)?;
    Ok(json!(keys.iter().map(key_json).collect::<Vec<_>>()))
}

pub async fn get(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let ws = require_workspace(mc)?;
    let id = input_id(rc);
    key_or_null(&dir(mc)?, ws.workspace_id(), &id).await
}

async fn key_or_null(d: &Directory, workspace_id: &str, id: &str) -> QueryResult<Value> {
    Ok(d.api_key(workspace_id, id)
        .await
        .map_err(storage_err)?
        .map(|k| key_json(&k))
        .unwrap_or(Value::Null))
}

pub async fn create(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let ws = require_workspace(mc)?;
    let input = arg(rc, "input");
    let name = input["name"].as_str().unwrap_or("").trim().to_string();
    if name.is_empty() {
        return Err(QueryError::bad_input("name should not be empty"));
    }
    let expires_at = parse_date("expiresAt", input["expiresAt"].as_str().unwrap_or(""))?;
    let revoked_at = match input["revokedAt"].as_str() {
        Some(r) => Some(iso(parse_date("revokedAt", r)?)),
        None => None,
    };
    let now = now_iso();
    let key = ApiKeyRow {
        id: uuid::Uuid::new_v4().to_string(),
        workspace_id: ws.workspace_id().to_string(),
        name,
        expires_at: iso(expires_at),
        revoked_at,
        created_at: now.clone(),
        updated_at: now,
        token_sha256: None,
    };
    dir(mc)?.insert_api_key(&key).await.map_err(storage_err)?;
    Ok(key_json(&key))
}

pub async fn revoke(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let ws = require_workspace(mc)?;
    let id = input_id(rc);
    let d = dir(mc)?;
    d.revoke_api_key(ws.workspace_id(), &id, &now_iso())
        .await
        .map_err(storage_err)?;
    ws.forget_api_key(&id);
    key_or_null(&d, ws.workspace_id(), &id).await
}

pub async fn generate_token(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let ws = require_workspace(mc)?;
    if !matches!(mc.principal, Principal::User { .. }) {
        return Err(QueryError::new(
            ErrorKind::Forbidden,
            "Only users can generate API key tokens",
        )
        .with_sub_code("FORBIDDEN_EXCEPTION"));
    }
    let id = arg_str(rc, "apiKeyId")?;
    let key = dir(mc)?
        .api_key(ws.workspace_id(), &id)
        .await
        .map_err(storage_err)?
        .ok_or_else(|| {
            QueryError::new(ErrorKind::NotFound, "API Key not found")
                .with_sub_code("API_KEY_NOT_FOUND")
        })?;
    if key.revoked_at.is_some() {
        return Err(QueryError::new(
            ErrorKind::Forbidden,
            "This API Key has been revoked and can no longer be used.",
        )
        .with_sub_code("API_KEY_REVOKED"));
    }
    let now = now_secs();
    let expires = match arg(rc, "expiresAt").as_str() {
        Some(raw) if !raw.is_empty() => parse_date("expiresAt", raw)?.timestamp(),
        _ => now + DEFAULT_API_KEY_TTL_SECS,
    };
    if expires <= now {
        return Err(
            QueryError::bad_input("This API Key has expired. Please create a new one.")
                .with_sub_code("API_KEY_EXPIRED"),
        );
    }
    let mut claims = Claims::new(TokenType::ApiKey, ws.workspace_id(), now, expires - now);
    claims.workspace_id = Some(ws.workspace_id().to_string());
    claims.jti = Some(key.id.clone());
    let token = keyring::sign(&mc.env, &claims).await.map_err(storage_err)?;
    // Only this token is accepted for the key from now on (see migrations/d1/0003).
    dir(mc)?
        .set_api_key_token(
            ws.workspace_id(),
            &key.id,
            &crate::identity::principal::token_sha256(&token),
            &now_iso(),
        )
        .await
        .map_err(storage_err)?;
    ws.forget_api_key(&key.id);
    let _ = iso_from_secs(expires);
    Ok(json!({ "token": token }))
}
