//! Sign-up, sign-in and tokens: Twenty's `AuthResolver` operations.
//!
//! Flow of Twenty's web app: `checkUserExists` → `getLoginTokenFromCredentials` (or `signIn`
//! for the workspace list) → `getAuthTokensFromLoginToken` → `currentUser`; `renewToken`
//! whenever a request answers UNAUTHENTICATED.

use async_graphql::dynamic::ResolverContext;
use serde::Serialize;
use serde_json::{json, Value};
use worker::Method;

use super::{
    arg, arg_str, config_secs, iso_from_secs, missing_token, now_iso, now_secs, storage_err,
    MetaCtx,
};
use crate::actors::limiter;
use crate::gateway::forward::{self, ActorRequest};
use crate::identity::directory::{AppTokenRow, Directory, MembershipRow, UserRow};
use crate::identity::principal::Principal;
use crate::identity::tokens::{
    Claims, TokenError, TokenType, LOGIN_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_SECS,
};
use crate::identity::{keyring, password};
use crate::ratelimit::{LOGIN_ATTEMPTS, LOGIN_WINDOW_MS};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};

/// A refresh token not renewed for this long ends the session (spec: 24 h inactivity).
pub const SESSION_IDLE_TIMEOUT_SECS: i64 = 24 * 3600;
/// A rotated refresh token presented again within this grace is a benign race (two tabs);
/// later it is theft, and every refresh token of the user is revoked (Twenty: 1 min).
pub const REFRESH_REUSE_GRACE_SECS: i64 = 60;
/// Twenty's default 30 minutes, overridable for tests with ACCESS_TOKEN_TTL_SECS.
const ACCESS_TOKEN_TTL_DEFAULT: i64 = crate::identity::tokens::ACCESS_TOKEN_TTL_SECS;

pub(crate) fn dir(mc: &MetaCtx) -> QueryResult<Directory> {
    Directory::new(&mc.env).map_err(storage_err)
}

pub(crate) fn err(kind: ErrorKind, sub: &str, message: &str) -> QueryError {
    QueryError::new(kind, message).with_sub_code(sub)
}

/// The error Twenty's token verification gives, with a `token_expired` sub-code for
/// expiry so clients know to renew silently.
pub fn token_error(e: &TokenError) -> QueryError {
    match e {
        TokenError::Expired => err(
            ErrorKind::Unauthenticated,
            "token_expired",
            "Token has expired.",
        )
        .with_user_friendly("You must be authenticated to perform this action."),
        TokenError::WrongType => err(
            ErrorKind::Forbidden,
            "INVALID_JWT_TOKEN_TYPE",
            "Invalid token type",
        ),
        _ => err(
            ErrorKind::Unauthenticated,
            "UNAUTHENTICATED",
            "Token invalid.",
        )
        .with_user_friendly("You must be authenticated to perform this action."),
    }
}

pub(crate) fn normalize_email(raw: &str) -> QueryResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(err(
            ErrorKind::BadUserInput,
            "INVALID_INPUT",
            "email must be an email",
        ))
    }
}

#[derive(Serialize)]
pub(crate) struct AuthToken {
    token: String,
    #[serde(rename = "expiresAt")]
    expires_at: String,
}

async fn sign(mc: &MetaCtx, claims: &Claims) -> QueryResult<AuthToken> {
    Ok(AuthToken {
        token: keyring::sign(&mc.env, claims).await.map_err(storage_err)?,
        expires_at: iso_from_secs(claims.exp),
    })
}

/// Issues an access (or workspace-agnostic) token and a fresh refresh token.
async fn issue_pair(
    mc: &MetaCtx,
    user: &UserRow,
    membership: Option<&MembershipRow>,
) -> QueryResult<Value> {
    let target = match membership {
        Some(_) => TokenType::Access,
        None => TokenType::WorkspaceAgnostic,
    };
    let access = issue_access_only(mc, user, membership).await?;
    let refresh = issue_refresh(
        mc,
        user,
        membership.map(|m| m.workspace_id.as_str()),
        target,
    )
    .await?;
    Ok(json!({
        "accessOrWorkspaceAgnosticToken": access,
        "refreshToken": refresh,
    }))
}

async fn issue_refresh(
    mc: &MetaCtx,
    user: &UserRow,
    workspace_id: Option<&str>,
    target: TokenType,
) -> QueryResult<AuthToken> {
    let now = now_secs();
    let row = AppTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        workspace_id: workspace_id.map(str::to_string),
        target_type: match target {
            TokenType::Access => "ACCESS".into(),
            _ => "WORKSPACE_AGNOSTIC".into(),
        },
        created_at: now_iso(),
        last_used_at: now_iso(),
        expires_at: iso_from_secs(now + REFRESH_TOKEN_TTL_SECS),
        revoked_at: None,
        replaced_by: None,
    };
    dir(mc)?.insert_app_token(&row).await.map_err(storage_err)?;
    refresh_token_for(mc, &row).await
}

async fn refresh_token_for(mc: &MetaCtx, row: &AppTokenRow) -> QueryResult<AuthToken> {
    let now = now_secs();
    let mut c = Claims::new(
        TokenType::Refresh,
        &row.user_id,
        now,
        REFRESH_TOKEN_TTL_SECS,
    );
    c.user_id = Some(row.user_id.clone());
    c.workspace_id = row.workspace_id.clone();
    c.jti = Some(row.id.clone());
    c.auth_provider = Some("password".into());
    c.targeted_token_type = Some(if row.target_type == "ACCESS" {
        TokenType::Access
    } else {
        TokenType::WorkspaceAgnostic
    });
    sign(mc, &c).await
}

pub(crate) async fn login_token(
    mc: &MetaCtx,
    email: &str,
    workspace_id: &str,
) -> QueryResult<AuthToken> {
    let ttl = config_secs(&mc.env, "LOGIN_TOKEN_TTL_SECS", LOGIN_TOKEN_TTL_SECS);
    let mut c = Claims::new(TokenType::Login, email, now_secs(), ttl);
    c.workspace_id = Some(workspace_id.to_string());
    c.auth_provider = Some("password".into());
    c.jti = Some(uuid::Uuid::new_v4().to_string());
    sign(mc, &c).await
}

pub fn workspace_urls(mc: &MetaCtx) -> Value {
    let frontend = mc
        .env
        .var("FRONTEND_URL")
        .map(|v| v.to_string())
        .unwrap_or_default();
    json!({ "subdomainUrl": frontend, "customUrl": null })
}

async fn available_workspaces(mc: &MetaCtx, user: &UserRow) -> QueryResult<Value> {
    let memberships = dir(mc)?.memberships(&user.id).await.map_err(storage_err)?;
    let mut for_sign_in = Vec::with_capacity(memberships.len());
    for m in &memberships {
        for_sign_in.push(json!({
            "id": m.workspace_id,
            "displayName": m.display_name,
            "loginToken": login_token(mc, &user.email, &m.workspace_id).await?.token,
            "personalInviteToken": null,
            "inviteHash": null,
            "workspaceUrls": workspace_urls(mc),
            "logo": null,
            "sso": [],
        }));
    }
    Ok(json!({
        "availableWorkspacesForSignIn": for_sign_in,
        "availableWorkspacesForSignUp": [],
    }))
}

pub async fn check_user_exists(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let email = normalize_email(&arg_str(rc, "email")?)?;
    let d = dir(mc)?;
    let user = d.user_by_email(&email).await.map_err(storage_err)?;
    let count = match &user {
        Some(u) => d.memberships(&u.id).await.map_err(storage_err)?.len(),
        None => 0,
    };
    Ok(json!({
        "exists": user.is_some(),
        "availableWorkspacesCount": count as f64,
        "isEmailVerified": user.map(|u| u.is_email_verified != 0).unwrap_or(false),
    }))
}

pub async fn sign_up(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let email = normalize_email(&arg_str(rc, "email")?)?;
    let pass = arg_str(rc, "password")?;
    let locale = arg(rc, "locale").as_str().unwrap_or("en").to_string();
    let user = create_user(mc, &email, &pass, &locale).await?;
    Ok(json!({
        "availableWorkspaces": available_workspaces(mc, &user).await?,
        "tokens": issue_pair(mc, &user, None).await?,
    }))
}

/// Creates a user with a password (checked for strength); `USER_ALREADY_EXISTS` when the
/// (normalized) email is taken.
pub(crate) async fn create_user(
    mc: &MetaCtx,
    email: &str,
    pass: &str,
    locale: &str,
) -> QueryResult<UserRow> {
    if password::check_strength(pass).is_some() {
        return Err(err(
            ErrorKind::BadUserInput,
            "INVALID_INPUT",
            "Password too weak",
        ));
    }
    let d = dir(mc)?;
    if d.user_by_email(email).await.map_err(storage_err)?.is_some() {
        return Err(user_exists());
    }
    let hash = password::hash(pass).map_err(storage_err)?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_iso();
    match d.create_user(&id, email, &hash, locale, &now).await {
        Ok(()) => {}
        // Lost a race with a concurrent sign-up of the same email.
        Err(crate::identity::directory::DirectoryError::Conflict) => return Err(user_exists()),
        Err(e) => return Err(storage_err(e)),
    }
    d.user(&id)
        .await
        .map_err(storage_err)?
        .ok_or_else(|| QueryError::internal("user vanished after insert"))
}

fn no_access() -> QueryError {
    err(
        ErrorKind::Unauthenticated,
        "USER_WORKSPACE_NOT_FOUND",
        "User does not have access to this workspace",
    )
}

pub(crate) fn user_not_found() -> QueryError {
    err(
        ErrorKind::Unauthenticated,
        "USER_NOT_FOUND",
        "User not found",
    )
    .with_user_friendly("User not found.")
}

pub(crate) fn user_exists() -> QueryError {
    err(
        ErrorKind::Forbidden,
        "USER_ALREADY_EXISTS",
        "User already exists",
    )
    .with_user_friendly("A user with this email already exists.")
}

/// Checks an email/password pair, counting the attempt against the email's limit.
async fn check_credentials(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<UserRow> {
    let email = normalize_email(&arg_str(rc, "email")?)?;
    let pass = arg_str(rc, "password")?;
    check_password(mc, &email, &pass).await
}

/// Counts one hit on the `LimiterActor` window `key`; past `limit` hits in `window_ms`
/// the caller gets TOO_MANY_REQUESTS naming `what` ("sign-in attempts", …).
pub(crate) async fn per_email_limit(
    mc: &MetaCtx,
    key: &str,
    limit: u32,
    window_ms: u64,
    what: &str,
) -> QueryResult<()> {
    let decision = limiter::hit(&mc.env, key, limit, window_ms)
        .await
        .map_err(storage_err)?;
    if decision.allowed {
        return Ok(());
    }
    Err(QueryError::new(
        ErrorKind::TooManyRequests,
        format!(
            "Too many {what} for this email, retry in {} s",
            decision.retry_after
        ),
    )
    .with_sub_code("TOO_MANY_REQUESTS"))
}

/// Checks a (normalized) email and password, counting the attempt against the email's
/// limit.
pub(crate) async fn check_password(mc: &MetaCtx, email: &str, pass: &str) -> QueryResult<UserRow> {
    per_email_limit(
        mc,
        &format!("login:{email}"),
        LOGIN_ATTEMPTS,
        LOGIN_WINDOW_MS,
        "sign-in attempts",
    )
    .await?;
    let user = dir(mc)?
        .user_by_email(email)
        .await
        .map_err(storage_err)?
        .ok_or_else(user_not_found)?;
    let Some(hash) = user.password_hash.as_deref() else {
        return Err(err(
            ErrorKind::BadUserInput,
            "INVALID_INPUT",
            "Incorrect login method",
        ));
    };
    if !password::verify(pass, hash) {
        return Err(err(
            ErrorKind::Forbidden,
            "FORBIDDEN_EXCEPTION",
            "Wrong password",
        )
        .with_user_friendly("Wrong password."));
    }
    // Hashes made at an older cost are upgraded while the password is at hand; a failure
    // only leaves the old (still valid) hash.
    if password::needs_rehash(hash) {
        let upgraded = match password::hash(pass) {
            Ok(h) => dir(mc)?
                .set_password(&user.id, &h, &now_iso())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        if let Err(e) = upgraded {
            tracing::warn!(requestId = %mc.request_id, error = %e, "could not upgrade a password hash");
        }
    }
    Ok(user)
}

pub async fn sign_in(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let user = check_credentials(mc, rc).await?;
    Ok(json!({
        "availableWorkspaces": available_workspaces(mc, &user).await?,
        "tokens": issue_pair(mc, &user, None).await?,
    }))
}

pub async fn login_token_from_credentials(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let user = check_credentials(mc, rc).await?;
    // Twenty picks the workspace from the origin's subdomain; this server has no
    // subdomains, so it is the user's default (else first) workspace.
    let memberships = dir(mc)?.memberships(&user.id).await.map_err(storage_err)?;
    let membership = user
        .default_workspace_id
        .as_deref()
        .and_then(|d| memberships.iter().find(|m| m.workspace_id == d))
        .or(memberships.first())
        .ok_or_else(|| {
            err(
                ErrorKind::Unauthenticated,
                "WORKSPACE_NOT_FOUND",
                "Workspace not found",
            )
            .with_user_friendly("Workspace not found.")
        })?;
    Ok(json!({ "loginToken": login_token(mc, &user.email, &membership.workspace_id).await? }))
}

pub async fn tokens_from_login_token(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let token = arg_str(rc, "loginToken")?;
    let claims = keyring::verify(&mc.env, &token, &[TokenType::Login])
        .await
        .map_err(|e| match e {
            TokenError::WrongType => err(
                ErrorKind::Forbidden,
                "INVALID_JWT_TOKEN_TYPE",
                "Expected a login token",
            ),
            other => token_error(&other),
        })?;
    let d = dir(mc)?;
    let jti = claims
        .jti
        .clone()
        .ok_or_else(|| token_error(&TokenError::Malformed("no jti".into())))?;
    if !d
        .consume_login_token(&jti, claims.exp)
        .await
        .map_err(storage_err)?
    {
        return Err(err(
            ErrorKind::Unauthenticated,
            "UNAUTHENTICATED",
            "Login token has already been used",
        ));
    }
    let user = d
        .user_by_email(&claims.sub)
        .await
        .map_err(storage_err)?
        .ok_or_else(user_not_found)?;
    let workspace_id = claims.workspace_id.clone().unwrap_or_default();
    let membership = d
        .membership(&user.id, &workspace_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(no_access)?;
    Ok(json!({ "tokens": issue_pair(mc, &user, Some(&membership)).await? }))
}

pub async fn renew_token(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let token = arg_str(rc, "appToken")?;
    if token.is_empty() {
        return Err(err(
            ErrorKind::BadUserInput,
            "INVALID_INPUT",
            "Refresh token not found",
        ));
    }
    let claims = keyring::verify(&mc.env, &token, &[TokenType::Refresh])
        .await
        .map_err(|e| token_error(&e))?;
    let jti = claims.jti.clone().ok_or_else(|| {
        err(
            ErrorKind::BadUserInput,
            "INVALID_INPUT",
            "This refresh token is malformed",
        )
    })?;
    let d = dir(mc)?;
    let row = d
        .app_token(&jti)
        .await
        .map_err(storage_err)?
        .ok_or_else(|| {
            err(
                ErrorKind::BadUserInput,
                "INVALID_INPUT",
                "This refresh token doesn't exist",
            )
        })?;
    let now = now_secs();
    let now_iso = now_iso();
    let secs = |iso: &str| {
        chrono::DateTime::parse_from_rfc3339(iso)
            .map(|d| d.timestamp())
            .unwrap_or(0)
    };
    let grace = config_secs(
        &mc.env,
        "REFRESH_REUSE_GRACE_SECS",
        REFRESH_REUSE_GRACE_SECS,
    );
    if let Some(revoked_at) = row.revoked_at.as_deref() {
        if row.replaced_by.is_none() {
            // Revoked by sign-out or by reuse detection, not rotated: no grace.
            return Err(err(
                ErrorKind::Forbidden,
                "FORBIDDEN_EXCEPTION",
                "This refresh token has been revoked.",
            ));
        }
        if now - secs(revoked_at) > grace {
            // Reuse of a rotated token long after rotation: assume it was stolen.
            d.revoke_all_app_tokens(&row.user_id, &now_iso)
                .await
                .map_err(storage_err)?;
            tracing::warn!(requestId = %mc.request_id, userId = %row.user_id, "refresh token reuse detected; all sessions revoked");
            return Err(err(
                ErrorKind::Forbidden,
                "FORBIDDEN_EXCEPTION",
                "Suspicious activity detected, this refresh token has been revoked. All tokens have been revoked.",
            ));
        }
    }
    let idle = config_secs(
        &mc.env,
        "SESSION_IDLE_TIMEOUT_SECS",
        SESSION_IDLE_TIMEOUT_SECS,
    );
    if now - secs(&row.last_used_at) > idle {
        d.revoke_app_token(&row.id, &now_iso)
            .await
            .map_err(storage_err)?;
        return Err(err(
            ErrorKind::Unauthenticated,
            "UNAUTHENTICATED",
            "Session expired after inactivity",
        )
        .with_user_friendly("You must be authenticated to perform this action."));
    }
    let user = d
        .user(&row.user_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(|| err(ErrorKind::BadUserInput, "INVALID_INPUT", "User not found"))?;
    let membership = match row.workspace_id.as_deref() {
        Some(w) if row.target_type == "ACCESS" => Some(
            d.membership(&user.id, w)
                .await
                .map_err(storage_err)?
                .ok_or_else(no_access)?,
        ),
        _ => None,
    };
    // Rotate: the presented token is revoked and replaced.
    let new_row = AppTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        created_at: now_iso.clone(),
        last_used_at: now_iso.clone(),
        expires_at: iso_from_secs(now + REFRESH_TOKEN_TTL_SECS),
        revoked_at: None,
        replaced_by: None,
        ..row.clone()
    };
    let new_row = if row.revoked_at.is_none() {
        d.rotate_app_token(&row.id, &new_row, &now_iso)
            .await
            .map_err(storage_err)?;
        new_row
    } else {
        // Within the grace period of a rotation (a concurrent renew from another tab): the
        // same successor again, never a session of its own. Whoever rotates it next makes
        // the other's copy a detectable reuse; a successor already rotated or revoked
        // means the chain forked: treat it as theft.
        let successor = match row.replaced_by.as_deref() {
            Some(id) => d.app_token(id).await.map_err(storage_err)?,
            None => None,
        };
        match successor {
            Some(s) if s.revoked_at.is_none() => s,
            _ => {
                d.revoke_all_app_tokens(&row.user_id, &now_iso)
                    .await
                    .map_err(storage_err)?;
                tracing::warn!(requestId = %mc.request_id, userId = %row.user_id, "refresh token replayed after its successor was used; all sessions revoked");
                return Err(err(
                    ErrorKind::Forbidden,
                    "FORBIDDEN_EXCEPTION",
                    "Suspicious activity detected, this refresh token has been revoked. All tokens have been revoked.",
                ));
            }
        }
    };
    let access = issue_access_only(mc, &user, membership.as_ref()).await?;
    Ok(json!({ "tokens": {
        "accessOrWorkspaceAgnosticToken": access,
        "refreshToken": refresh_token_for(mc, &new_row).await?,
    }}))
}

async fn issue_access_only(
    mc: &MetaCtx,
    user: &UserRow,
    membership: Option<&MembershipRow>,
) -> QueryResult<AuthToken> {
    let now = now_secs();
    let ttl = config_secs(&mc.env, "ACCESS_TOKEN_TTL_SECS", ACCESS_TOKEN_TTL_DEFAULT);
    let mut c = match membership {
        Some(m) => {
            let mut c = Claims::new(TokenType::Access, &user.id, now, ttl);
            c.workspace_id = Some(m.workspace_id.clone());
            c.workspace_member_id = Some(m.workspace_member_id.clone());
            c.user_workspace_id = Some(m.user_workspace_id.clone());
            c
        }
        None => Claims::new(TokenType::WorkspaceAgnostic, &user.id, now, ttl),
    };
    c.user_id = Some(user.id.clone());
    c.auth_provider = Some("password".into());
    sign(mc, &c).await
}

pub async fn sign_out(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    if let Value::String(token) = arg(rc, "refreshToken") {
        if let Ok(claims) = keyring::verify(&mc.env, &token, &[TokenType::Refresh]).await {
            if let Some(jti) = claims.jti {
                dir(mc)?
                    .revoke_app_token(&jti, &now_iso())
                    .await
                    .map_err(storage_err)?;
            }
        }
    }
    Ok(json!(true))
}

pub async fn sign_up_in_new_workspace(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let user_id = match &mc.principal {
        Principal::User { user_id, .. } => user_id.clone(),
        Principal::Anonymous => return Err(missing_token()),
        Principal::ApiKey { .. } => {
            return Err(err(
                ErrorKind::Forbidden,
                "FORBIDDEN_EXCEPTION",
                "API keys cannot create workspaces",
            ))
        }
    };
    let input = arg(rc, "input");
    let display_name = input["displayName"].as_str().map(str::to_string);
    let user = dir(mc)?
        .user(&user_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(user_not_found)?;
    let workspace_id = create_workspace_for(mc, &user, display_name.as_deref(), "ACTIVE").await?;
    Ok(json!({
        "loginToken": login_token(mc, &user.email, &workspace_id).await?,
        "workspace": { "id": workspace_id, "workspaceUrls": workspace_urls(mc) },
    }))
}

/// Creates a workspace (directory row, `user` as its admin, the actor's model and member
/// record) and returns its id.
pub(crate) async fn create_workspace_for(
    mc: &MetaCtx,
    user: &UserRow,
    display_name: Option<&str>,
    activation_status: &str,
) -> QueryResult<String> {
    let workspace_id = uuid::Uuid::new_v4().to_string();
    let user_workspace_id = uuid::Uuid::new_v4().to_string();
    let member_id = uuid::Uuid::new_v4().to_string();
    let invite_hash = uuid::Uuid::new_v4().simple().to_string();
    let now = now_iso();
    dir(mc)?
        .create_workspace(
            &workspace_id,
            display_name,
            &user.id,
            &user_workspace_id,
            &member_id,
            activation_status,
            &invite_hash,
            &now,
        )
        .await
        .map_err(storage_err)?;
    bootstrap_member(mc, &workspace_id, user, &member_id, &user_workspace_id).await?;
    Ok(workspace_id)
}

/// Makes the workspace's actor create its model (first time) and the member record of
/// `user` (idempotent).
pub(crate) async fn bootstrap_member(
    mc: &MetaCtx,
    workspace_id: &str,
    user: &UserRow,
    member_id: &str,
    user_workspace_id: &str,
) -> QueryResult<()> {
    let bootstrap = json!({
        "workspaceMemberId": member_id,
        "userId": user.id,
        "userWorkspaceId": user_workspace_id,
        "userEmail": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "locale": user.locale,
    });
    let resp = forward::to_workspace(
        &mc.env,
        workspace_id,
        ActorRequest {
            method: Method::Post,
            path: crate::actors::protocol::PATH_BOOTSTRAP,
            body: Some(bootstrap.to_string().into_bytes()),
            request_id: &mc.request_id,
            principal: None,
            headers: vec![],
        },
    )
    .await;
    match resp {
        Ok(r) if r.status_code() == 200 => Ok(()),
        other => {
            let detail = match other {
                Ok(r) => format!("bootstrap answered {}", r.status_code()),
                Err(e) => e.log_message(),
            };
            Err(QueryError::internal(format!(
                "workspace {workspace_id} is in D1 but its actor failed to bootstrap member {member_id}: {detail}"
            )))
        }
    }
}
