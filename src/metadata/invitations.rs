//! Members joining a workspace: personal invitations sent by email
//! (`findWorkspaceInvitations`, `sendInvitations`, `resendWorkspaceInvitation`,
//! `deleteWorkspaceInvitation`), the public invite link (`checkWorkspaceInviteHashIsValid`,
//! `findWorkspaceFromInviteHash`), and `signUpInWorkspace`, which joins through either, or
//! creates the server's first workspace.
//!
//! Invitations are in the directory (D1), only as the hash of their token; the joining
//! member's record is created by the workspace's actor (`bootstrap_member`).

use async_graphql::dynamic::ResolverContext;
use serde_json::{json, Value};

use super::auth::{
    bootstrap_member, check_password, create_user, create_workspace_for, dir, err, login_token,
    normalize_email, workspace_urls,
};
use super::settings::admin;
use super::user::workspace_json;
use super::{arg, arg_str, config_secs, iso_from_secs, now_iso, now_secs, storage_err, MetaCtx};
use crate::email::{self, Transport};
use crate::identity::directory::{Directory, DirectoryError, InvitationRow, UserRow, WorkspaceRow};
use crate::identity::one_time;
use crate::schema::error::{ErrorKind, QueryError, QueryResult};

/// Twenty's answer to a non-admin managing invitations.
const MANAGE_MEMBERS_DENIED: &str = "You do not have permission to manage workspace members.";

/// Twenty's INVITATION_TOKEN_EXPIRES_IN default (30 days); `INVITATION_TOKEN_TTL_SECS`
/// overrides it (tests).
const INVITATION_TTL_SECS: i64 = 30 * 86_400;
/// Emails one `sendInvitations` may name: each costs an email API call in this request.
const MAX_INVITATIONS_PER_REQUEST: usize = 50;

fn invitation_json(i: &InvitationRow) -> Value {
    json!({ "id": i.id, "email": i.email, "roleId": i.role_id, "expiresAt": i.expires_at })
}

fn frontend_url(mc: &MetaCtx) -> QueryResult<String> {
    mc.env
        .var("FRONTEND_URL")
        .map(|v| v.to_string())
        .map_err(|_| QueryError::internal("FRONTEND_URL is not set"))
}

/// `findWorkspaceInvitations`: pending invitations (expired ones included, as in Twenty:
/// the members page lists them so they can be resent).
pub async fn find_workspace_invitations(mc: &MetaCtx) -> QueryResult<Value> {
    let (ws, _) = admin(mc, MANAGE_MEMBERS_DENIED).await?;
    let list = dir(mc)?
        .invitations(ws.workspace_id())
        .await
        .map_err(storage_err)?;
    Ok(json!(list.iter().map(invitation_json).collect::<Vec<_>>()))
}

/// `sendInvitations(emails, roleId)`: one personal invitation and one email per address.
/// Per-address failures (already invited, already a member, invalid email, delivery) are
/// listed in `errors`, as Twenty does; the others go out.
pub async fn send_invitations(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let (ws, _) = admin(mc, MANAGE_MEMBERS_DENIED).await?;
    let emails: Vec<String> = match arg(rc, "emails") {
        Value::Array(a) => a
            .into_iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| QueryError::bad_input("emails must be strings"))?,
        _ => return Err(QueryError::bad_input("emails must be a list")),
    };
    if emails.len() > MAX_INVITATIONS_PER_REQUEST {
        return Err(QueryError::bad_input(format!(
            "At most {MAX_INVITATIONS_PER_REQUEST} invitations can be sent at once"
        )));
    }
    let role_id = arg(rc, "roleId").as_str().map(str::to_string);
    let workspace = workspace_row(mc, ws.workspace_id()).await?;
    invite(mc, &workspace, &emails, role_id.as_deref()).await
}

async fn workspace_row(mc: &MetaCtx, id: &str) -> QueryResult<WorkspaceRow> {
    dir(mc)?
        .workspace(id)
        .await
        .map_err(storage_err)?
        .ok_or_else(QueryError::not_found)
}

/// The sender named in invitation emails.
async fn sender(mc: &MetaCtx) -> QueryResult<Option<UserRow>> {
    match &mc.principal {
        crate::identity::principal::Principal::User { user_id, .. } => {
            dir(mc)?.user(user_id).await.map_err(storage_err)
        }
        _ => Ok(None),
    }
}

async fn invite(
    mc: &MetaCtx,
    workspace: &WorkspaceRow,
    emails: &[String],
    role_id: Option<&str>,
) -> QueryResult<Value> {
    let Some(invite_hash) = workspace.invite_hash.as_deref() else {
        return Ok(
            json!({ "success": false, "errors": ["Workspace invite hash not found"], "result": [] }),
        );
    };
    let d = dir(mc)?;
    let transport = Transport::from_env(&mc.env).map_err(|e| {
        tracing::error!(requestId = %mc.request_id, error = %e, "email transport misconfigured");
        QueryError::internal(e.to_string())
    })?;
    let frontend = frontend_url(mc)?;
    let sender = sender(mc).await?;
    let ttl = config_secs(&mc.env, "INVITATION_TOKEN_TTL_SECS", INVITATION_TTL_SECS);
    let members = d
        .workspace_memberships(&workspace.id)
        .await
        .map_err(storage_err)?;
    let mut errors = Vec::new();
    let mut result = Vec::new();
    for raw in emails {
        let email = match normalize_email(raw) {
            Ok(e) => e,
            Err(_) => {
                errors.push(format!("{raw} is not a valid email"));
                continue;
            }
        };
        let member_users = members.iter().map(|m| m.user_id.as_str());
        if let Some(u) = d.user_by_email(&email).await.map_err(storage_err)? {
            if member_users.clone().any(|id| id == u.id) {
                errors.push(format!("{email} is already in the workspace"));
                continue;
            }
        }
        let (token, token_hash) = one_time::issue().map_err(QueryError::internal)?;
        let row = InvitationRow {
            id: uuid::Uuid::new_v4().to_string(),
            workspace_id: workspace.id.clone(),
            email: email.clone(),
            role_id: role_id.map(str::to_string),
            token_hash,
            expires_at: iso_from_secs(now_secs() + ttl),
            created_at: now_iso(),
        };
        match d.insert_invitation(&row).await {
            Ok(()) => {}
            Err(DirectoryError::Conflict) => {
                errors.push(format!("{email} already invited"));
                continue;
            }
            Err(e) => return Err(storage_err(e)),
        }
        let link = email::invite_link(&frontend, invite_hash, Some((&token, &email)))
            .map_err(QueryError::internal)?;
        let (first, last, from_email) = sender
            .as_ref()
            .map(|u| {
                (
                    u.first_name.as_str(),
                    u.last_name.as_str(),
                    u.email.as_str(),
                )
            })
            .unwrap_or(("", "", ""));
        let from_name = format!("{first} {last}").trim().to_string();
        let from = email::from_address(
            &mc.env,
            Some(&if from_name.is_empty() {
                "Twenty".to_string()
            } else {
                format!("{from_name} (via Twenty)")
            }),
        );
        let message = email::invitation(
            from,
            &email,
            &email::Sender {
                email: from_email,
                first_name: first,
                last_name: last,
            },
            workspace.display_name.as_deref().unwrap_or(""),
            &link,
        );
        if let Err(e) = transport.send(&message, &mc.request_id).await {
            tracing::error!(requestId = %mc.request_id, error = %e, "invitation email failed");
            // No invitation the invitee never heard of: it could not be resent later.
            d.delete_invitation(&workspace.id, &row.id)
                .await
                .map_err(storage_err)?;
            errors.push(format!("The invitation email to {email} could not be sent"));
            continue;
        }
        result.push(invitation_json(&row));
    }
    Ok(json!({ "success": errors.is_empty(), "errors": errors, "result": result }))
}

/// `resendWorkspaceInvitation(appTokenId)`: replaces the invitation (new token, new expiry)
/// and emails it again.
pub async fn resend_workspace_invitation(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let (ws, _) = admin(mc, MANAGE_MEMBERS_DENIED).await?;
    let id = arg_str(rc, "appTokenId")?;
    let d = dir(mc)?;
    let invitation = d
        .invitation(ws.workspace_id(), &id)
        .await
        .map_err(storage_err)?
        .ok_or_else(|| {
            err(
                ErrorKind::BadUserInput,
                "INVALID_INVITATION",
                "Invalid appToken",
            )
        })?;
    d.delete_invitation(ws.workspace_id(), &id)
        .await
        .map_err(storage_err)?;
    let workspace = workspace_row(mc, ws.workspace_id()).await?;
    invite(
        mc,
        &workspace,
        std::slice::from_ref(&invitation.email),
        invitation.role_id.as_deref(),
    )
    .await
}

/// `deleteWorkspaceInvitation(appTokenId)`: Twenty answers `"success"`, or `"error"` when
/// there was no such invitation.
pub async fn delete_workspace_invitation(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let (ws, _) = admin(mc, MANAGE_MEMBERS_DENIED).await?;
    let id = arg_str(rc, "appTokenId")?;
    let deleted = dir(mc)?
        .delete_invitation(ws.workspace_id(), &id)
        .await
        .map_err(storage_err)?;
    Ok(json!(if deleted { "success" } else { "error" }))
}

/// `checkWorkspaceInviteHashIsValid(inviteHash)`: whether a workspace has this hash.
pub async fn check_workspace_invite_hash_is_valid(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let hash = arg_str(rc, "inviteHash")?;
    let found = dir(mc)?
        .workspace_by_invite_hash(&hash)
        .await
        .map_err(storage_err)?;
    Ok(json!({ "isValid": found.is_some() }))
}

/// `findWorkspaceFromInviteHash(inviteHash)`: the workspace an invite link leads to (the
/// invite page shows its name and logo).
pub async fn find_workspace_from_invite_hash(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let hash = arg_str(rc, "inviteHash")?;
    let w = dir(mc)?
        .workspace_by_invite_hash(&hash)
        .await
        .map_err(storage_err)?
        .ok_or_else(workspace_not_found)?;
    Ok(workspace_json(mc, &w, 0, None))
}

fn workspace_not_found() -> QueryError {
    err(
        ErrorKind::NotFound,
        "WORKSPACE_NOT_FOUND",
        "Workspace not found",
    )
    .with_user_friendly("Workspace not found.")
}

fn invitation_invalid(message: &str) -> QueryError {
    err(ErrorKind::Forbidden, "FORBIDDEN_EXCEPTION", message)
}

/// Which workspace an invitation lets `email` join; checks it as Twenty's
/// `validateInvitation` does (a personal token first, else the public link).
async fn invited_workspace(
    d: &Directory,
    email: &str,
    hash: Option<&str>,
    personal_token: Option<&str>,
) -> QueryResult<WorkspaceRow> {
    if let Some(token) = personal_token {
        let invitation = d
            .invitation_by_token_hash(&one_time::hash(token))
            .await
            .map_err(storage_err)?
            .ok_or_else(|| invitation_invalid("Invalid invitation token"))?;
        if !invitation.email.eq_ignore_ascii_case(email) {
            return Err(invitation_invalid("Email does not match the invitation"));
        }
        if invitation.expires_at.as_str() < now_iso().as_str() {
            return Err(invitation_invalid("Invitation expired"));
        }
        return d
            .workspace(&invitation.workspace_id)
            .await
            .map_err(storage_err)?
            .ok_or_else(workspace_not_found);
    }
    if let Some(hash) = hash {
        let w = d
            .workspace_by_invite_hash(hash)
            .await
            .map_err(storage_err)?
            .ok_or_else(workspace_not_found)?;
        if w.is_public_invite_link_enabled == 0 {
            return Err(invitation_invalid(
                "Workspace does not allow public invites",
            ));
        }
        return Ok(w);
    }
    Err(invitation_invalid("Invitation invalid"))
}

fn opt_arg(rc: &ResolverContext<'_>, name: &str) -> Option<String> {
    arg(rc, name)
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `signUpInWorkspace(email, password, workspaceId?, workspaceInviteHash?,
/// workspacePersonalInviteToken?, locale?)`: signs a new or existing user into a workspace
/// and answers a login token for it.
///
/// - With an invitation (personal token or public link): the user (created here if new;
///   an existing user proves their password) joins the workspace.
/// - Without one, on a server that has no workspace yet: the user creates the first one,
///   `PENDING_CREATION` until `activateWorkspace` (Twenty's single-workspace sign-up).
/// - Without one, for a workspace the user is already a member of: a plain sign-in.
pub async fn sign_up_in_workspace(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let email = normalize_email(&arg_str(rc, "email")?)?;
    let pass = arg_str(rc, "password")?;
    let locale = opt_arg(rc, "locale").unwrap_or_else(|| "en".into());
    let hash = opt_arg(rc, "workspaceInviteHash");
    let personal = opt_arg(rc, "workspacePersonalInviteToken");
    let workspace_id = opt_arg(rc, "workspaceId");
    let d = dir(mc)?;

    let existing = d.user_by_email(&email).await.map_err(storage_err)?;
    let invited = if hash.is_some() || personal.is_some() {
        Some(invited_workspace(&d, &email, hash.as_deref(), personal.as_deref()).await?)
    } else {
        None
    };
    // An existing user proves who they are; a new one is created (password checked).
    let user = match existing {
        Some(_) => check_password(mc, &email, &pass).await?,
        None => {
            if invited.is_none() && d.any_workspace().await.map_err(storage_err)? {
                // No invitation and no workspace to create: nothing to sign up into.
                return Err(invitation_invalid("Invitation invalid"));
            }
            create_user(mc, &email, &pass, &locale).await?
        }
    };

    let workspace_id = match (invited, workspace_id) {
        (Some(w), _) => {
            join(mc, &d, &w, &user).await?;
            w.id
        }
        (None, Some(id)) => {
            d.membership(&user.id, &id)
                .await
                .map_err(storage_err)?
                .ok_or_else(|| invitation_invalid("Invitation invalid"))?;
            id
        }
        (None, None) => {
            if d.any_workspace().await.map_err(storage_err)? {
                let memberships = d.memberships(&user.id).await.map_err(storage_err)?;
                memberships
                    .first()
                    .map(|m| m.workspace_id.clone())
                    .ok_or_else(|| invitation_invalid("Invitation invalid"))?
            } else {
                create_workspace_for(mc, &user, None, "PENDING_CREATION").await?
            }
        }
    };
    Ok(json!({
        "loginToken": login_token(mc, &user.email, &workspace_id).await?,
        "workspace": { "id": workspace_id, "workspaceUrls": workspace_urls(mc) },
    }))
}

/// Makes `user` a member of `w` (directory membership, then the member record in the
/// actor) and clears their pending invitations there. Joining again repairs a join whose
/// actor step failed, and is otherwise a no-op (the actor's bootstrap is idempotent).
async fn join(mc: &MetaCtx, d: &Directory, w: &WorkspaceRow, user: &UserRow) -> QueryResult<()> {
    let (member_id, user_workspace_id) =
        match d.membership(&user.id, &w.id).await.map_err(storage_err)? {
            Some(m) => (m.workspace_member_id, m.user_workspace_id),
            None => {
                let member_id = uuid::Uuid::new_v4().to_string();
                match d
                    .removed_membership(&user.id, &w.id)
                    .await
                    .map_err(storage_err)?
                {
                    // Removed earlier and invited again: the membership comes back with a new
                    // member record (the old one stays soft-deleted).
                    Some(old) => {
                        d.restore_membership(&old.user_workspace_id, &member_id)
                            .await
                            .map_err(storage_err)?;
                        (member_id, old.user_workspace_id)
                    }
                    None => {
                        let id = uuid::Uuid::new_v4().to_string();
                        match d
                            .add_membership(&id, &user.id, &w.id, &member_id, &now_iso())
                            .await
                        {
                            Ok(()) => (member_id, id),
                            // A concurrent join of the same user won: use its membership.
                            Err(DirectoryError::Conflict) => {
                                let m = d
                                    .membership(&user.id, &w.id)
                                    .await
                                    .map_err(storage_err)?
                                    .ok_or_else(|| {
                                    QueryError::internal("membership vanished")
                                })?;
                                (m.workspace_member_id, m.user_workspace_id)
                            }
                            Err(e) => return Err(storage_err(e)),
                        }
                    }
                }
            }
        };
    bootstrap_member(mc, &w.id, user, &member_id, &user_workspace_id).await?;
    d.delete_invitations_of(&w.id, &user.email)
        .await
        .map_err(storage_err)?;
    Ok(())
}
