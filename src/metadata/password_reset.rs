//! Forgotten passwords: `emailPasswordResetLink` emails a single-use link
//! (`{FRONTEND_URL}/reset-password/{token}`), `validatePasswordResetToken` lets the reset
//! page show whose password it sets, `updatePasswordViaResetToken` sets it.
//!
//! Tokens are 256-bit random values stored only as their SHA-256, valid for
//! `PASSWORD_RESET_TOKEN_TTL_SECS` (Twenty's 5 minutes), and consumed by the one statement
//! that marks them used. A new request revokes the previous link. After a reset every
//! refresh token of the user is revoked: sessions opened with the old password end.

use async_graphql::dynamic::ResolverContext;
use serde_json::{json, Value};

use super::auth::{dir, err, normalize_email, per_email_limit};
use super::{arg, arg_str, config_secs, iso_from_secs, now_iso, now_secs, storage_err, MetaCtx};
use crate::email::{self, Transport};
use crate::identity::{one_time, password};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};

/// Twenty's PASSWORD_RESET_TOKEN_EXPIRES_IN default.
const RESET_TOKEN_TTL_SECS: i64 = 5 * 60;
/// Reset emails per address and window: enough for a user who mistyped, too few to flood
/// an inbox through this server.
const RESET_EMAILS_PER_WINDOW: u32 = 5;
const RESET_EMAIL_WINDOW_MS: u64 = 60 * 60 * 1000;

fn token_invalid() -> QueryError {
    err(
        ErrorKind::Forbidden,
        "FORBIDDEN_EXCEPTION",
        "Token is invalid",
    )
    .with_user_friendly("This password reset link is invalid or has expired.")
}

/// `emailPasswordResetLink(email, workspaceId?)`: always `{success: true}` (whether the
/// address has an account is not disclosed, as in Twenty's newest versions); an email goes
/// out when it does.
pub async fn email_password_reset_link(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let email = normalize_email(&arg_str(rc, "email")?)?;
    per_email_limit(
        mc,
        &format!("password-reset:{email}"),
        RESET_EMAILS_PER_WINDOW,
        RESET_EMAIL_WINDOW_MS,
        "password reset requests",
    )
    .await?;
    let d = dir(mc)?;
    let Some(user) = d.user_by_email(&email).await.map_err(storage_err)? else {
        return Ok(json!({ "success": true }));
    };
    let transport = Transport::from_env(&mc.env).map_err(|e| {
        tracing::error!(requestId = %mc.request_id, error = %e, "email transport misconfigured");
        QueryError::internal(e.to_string())
    })?;
    let frontend = mc
        .env
        .var("FRONTEND_URL")
        .map(|v| v.to_string())
        .map_err(|_| QueryError::internal("FRONTEND_URL is not set"))?;
    let ttl = config_secs(
        &mc.env,
        "PASSWORD_RESET_TOKEN_TTL_SECS",
        RESET_TOKEN_TTL_SECS,
    );
    let (token, token_hash) = one_time::issue().map_err(QueryError::internal)?;
    d.insert_reset_token(
        &uuid::Uuid::new_v4().to_string(),
        &user.id,
        &token_hash,
        &iso_from_secs(now_secs() + ttl),
        &now_iso(),
    )
    .await
    .map_err(storage_err)?;
    let link = email::reset_link(&frontend, &token).map_err(QueryError::internal)?;
    let message = email::password_reset(
        email::from_address(&mc.env, None),
        &user.email,
        &link,
        &email::duration_words(ttl),
    );
    if let Err(e) = transport.send(&message, &mc.request_id).await {
        // As Twenty: the answer does not depend on delivery; the failure is logged.
        tracing::error!(requestId = %mc.request_id, error = %e, "password reset email failed");
    }
    Ok(json!({ "success": true }))
}

/// `validatePasswordResetToken(passwordResetToken)`: whose password the link resets.
pub async fn validate_password_reset_token(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let token = arg_str(rc, "passwordResetToken")?;
    let d = dir(mc)?;
    let row = d
        .live_reset_token(&one_time::hash(&token), &now_iso())
        .await
        .map_err(storage_err)?
        .ok_or_else(token_invalid)?;
    let user = d
        .user(&row.user_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(token_invalid)?;
    Ok(json!({
        "id": user.id,
        "email": user.email,
        "hasPassword": user.password_hash.is_some(),
    }))
}

/// `updatePasswordViaResetToken(passwordResetToken, newPassword)`.
pub async fn update_password_via_reset_token(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let token = arg_str(rc, "passwordResetToken")?;
    let new_password = match arg(rc, "newPassword") {
        Value::String(p) => p,
        _ => return Err(QueryError::bad_input("newPassword must be a string")),
    };
    // Checked before the token is spent, so a too-short password costs no new email.
    if let Some(why) = password::check_strength(&new_password) {
        return Err(err(ErrorKind::BadUserInput, "INVALID_INPUT", &why));
    }
    let d = dir(mc)?;
    let now = now_iso();
    let user_id = d
        .consume_reset_token(&one_time::hash(&token), &now)
        .await
        .map_err(storage_err)?
        .ok_or_else(token_invalid)?;
    let user = d
        .user(&user_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(token_invalid)?;
    let hash = password::hash(&new_password).map_err(storage_err)?;
    d.set_password(&user.id, &hash, &now)
        .await
        .map_err(storage_err)?;
    d.revoke_reset_tokens(&user.id, &now)
        .await
        .map_err(storage_err)?;
    d.revoke_all_app_tokens(&user.id, &now)
        .await
        .map_err(storage_err)?;
    if let Ok(transport) = Transport::from_env(&mc.env) {
        let frontend = mc
            .env
            .var("FRONTEND_URL")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let notice =
            email::password_changed(email::from_address(&mc.env, None), &user.email, &frontend);
        if let Err(e) = transport.send(&notice, &mc.request_id).await {
            tracing::error!(requestId = %mc.request_id, error = %e, "password change notice failed");
        }
    }
    Ok(json!({ "success": true }))
}
