//! `currentUser` and the workspace/role objects around it, shaped as Twenty's web app
//! queries them (`UserQueryFragment`).

use async_graphql::dynamic::ResolverContext;
use serde_json::{json, Value};

use super::auth::workspace_urls;
use super::{arg_str, now_iso, require_user, require_workspace, storage_err, MetaCtx};
use crate::identity::directory::{Directory, MembershipRow, UserRow, WorkspaceRow};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};

/// Fixed ids of the two roles every workspace has (Twenty seeds Admin and Member).
pub const ADMIN_ROLE_ID: &str = "20202020-0000-4000-8000-00000000ad01";
pub const MEMBER_ROLE_ID: &str = "20202020-0000-4000-8000-00000000ad02";

/// Every settings permission flag of Twenty 2.43 (admins hold all of them).
const PERMISSION_FLAGS: &[&str] = &[
    "API_KEYS_AND_WEBHOOKS",
    "WORKSPACE",
    "WORKSPACE_MEMBERS",
    "ROLES",
    "DATA_MODEL",
    "SECURITY",
    "WORKFLOWS",
    "IMPERSONATE",
    "SSO_BYPASS",
    "APPLICATIONS",
    "MARKETPLACE_APPS",
    "LAYOUTS",
    "BILLING",
    "AI_SETTINGS",
    "AI",
    "VIEWS",
    "UPLOAD_FILE",
    "DOWNLOAD_FILE",
    "SEND_EMAIL_TOOL",
    "CREATE_CALENDAR_EVENT_TOOL",
    "HTTP_REQUEST_TOOL",
    "CODE_INTERPRETER_TOOL",
    "IMPORT_CSV",
    "EXPORT_CSV",
    "CONNECTED_ACCOUNTS",
    "PROFILE_INFORMATION",
];

pub fn role(admin: bool) -> Value {
    json!({
        "id": if admin { ADMIN_ROLE_ID } else { MEMBER_ROLE_ID },
        "universalIdentifier": null,
        "label": if admin { "Admin" } else { "Member" },
        "description": if admin { "Admin role" } else { "Member role" },
        "icon": if admin { "IconUserCog" } else { "IconUser" },
        "isEditable": false,
        "canBeAssignedToUsers": true,
        "canBeAssignedToAgents": false,
        "canBeAssignedToApiKeys": true,
        "workspaceMembers": [],
        "agents": [],
        "apiKeys": [],
        "canUpdateAllSettings": admin,
        "canAccessAllTools": true,
        "canReadAllObjectRecords": true,
        "canUpdateAllObjectRecords": true,
        "canSoftDeleteAllObjectRecords": true,
        "canDestroyAllObjectRecords": admin,
        "permissionFlags": [],
        "objectPermissions": [],
        "fieldPermissions": [],
        "rowLevelPermissionPredicates": [],
        "rowLevelPermissionPredicateGroups": [],
    })
}

pub async fn roles(_mc: &MetaCtx) -> QueryResult<Value> {
    Ok(json!([role(true), role(false)]))
}

/// Settings of `UpdateWorkspaceInput` the server stores (in `workspace.settings`) and echoes
/// back, with Twenty's defaults.
/// A stored setting: its name and Twenty's default.
type StoredSetting = (&'static str, fn() -> Value);

pub const STORED_SETTINGS: &[StoredSetting] = &[
    ("allowImpersonation", || json!(false)),
    ("workspaceDiscoverability", || json!("MEMBERS_AND_INVITEES")),
    ("trashRetentionDays", || json!(14.0)),
    ("eventLogRetentionDays", || json!(365.0)),
    ("isGoogleAuthEnabled", || json!(false)),
    ("isGoogleAuthBypassEnabled", || json!(false)),
    ("isMicrosoftAuthEnabled", || json!(false)),
    ("isMicrosoftAuthBypassEnabled", || json!(false)),
    ("isPasswordAuthEnabled", || json!(true)),
    ("isPasswordAuthBypassEnabled", || json!(false)),
    ("isTwoFactorAuthenticationEnforced", || json!(false)),
    ("isInternalMessagesImportEnabled", || json!(false)),
    ("editableProfileFields", || json!([])),
    ("aiChatModelTier", || json!("balanced")),
    ("aiAgentModelTier", || json!("balanced")),
    ("isAutoModelSelectionEnabled", || json!(false)),
    ("aiModelIdByTier", || json!({})),
    ("aiEvaluationModelId", || Value::Null),
    ("aiAdditionalInstructions", || Value::Null),
];

/// A workspace in the `/metadata` Workspace shape.
pub fn workspace_json(
    mc: &MetaCtx,
    w: &WorkspaceRow,
    metadata_version: i64,
    members: Option<usize>,
) -> Value {
    let stored: serde_json::Map<String, Value> =
        serde_json::from_str(&w.settings).unwrap_or_default();
    let mut out = json!({
        "id": w.id,
        "displayName": w.display_name,
        "logo": w.logo,
        "logoFileId": null,
        "inviteHash": w.invite_hash,
        "deletedAt": null,
        "createdAt": w.created_at,
        "updatedAt": w.updated_at,
        "isPublicInviteLinkEnabled": w.is_public_invite_link_enabled != 0,
        "workspaceMembersCount": members.map(|n| n as f64),
        "activationStatus": w.activation_status,
        "metadataVersion": metadata_version as f64,
        "databaseSchema": null,
        "subdomain": "",
        "customDomain": null,
        "isCustomDomainEnabled": false,
        "allowedIframeOrigins": [],
        "defaultRole": role(false),
        "workspaceCustomApplication": null,
        "featureFlags": [],
        "billingSubscriptions": [],
        "installedApplications": [],
        "currentBillingSubscription": null,
        "billingCustomer": null,
        "billingEntitlements": [],
        "hasValidSignedEnterpriseKey": false,
        "hasValidEnterpriseValidityToken": false,
        "workspaceUrls": workspace_urls(mc),
        "workspaceCustomApplicationId": "",
        "views": [],
        "viewFields": [],
        "viewFilters": [],
        "viewFilterGroups": [],
        "viewGroups": [],
        "viewSorts": [],
    });
    for (key, default) in STORED_SETTINGS {
        out[*key] = stored.get(*key).cloned().unwrap_or_else(default);
    }
    out
}

fn user_workspace_json(m: &MembershipRow, user: &UserRow) -> Value {
    let admin = m.role == "ADMIN";
    json!({
        "id": m.user_workspace_id,
        "userId": m.user_id,
        "locale": user.locale,
        "createdAt": m.created_at,
        "updatedAt": m.created_at,
        "deletedAt": m.removed_at,
        "permissionFlags": if admin { PERMISSION_FLAGS.to_vec() } else { vec!["PROFILE_INFORMATION", "UPLOAD_FILE", "DOWNLOAD_FILE", "VIEWS"] },
        "objectPermissions": [],
        "objectsPermissions": [],
        "twoFactorAuthenticationMethodSummary": [],
        "isImpersonating": false,
    })
}

/// A workspaceMember record in the `/metadata` WorkspaceMember shape.
fn member_json(record: &Value, user_workspace_id: Option<&str>) -> Value {
    let mut m = json!({
        "id": record["id"],
        "name": {
            "firstName": record["name"]["firstName"].as_str().unwrap_or(""),
            "lastName": record["name"]["lastName"].as_str().unwrap_or(""),
        },
        "userEmail": record["userEmail"].as_str().unwrap_or(""),
        "colorScheme": record["colorScheme"].as_str().unwrap_or("System"),
        "uiScale": record["uiScale"].as_str().unwrap_or("Default"),
        "openRecordIn": record["openRecordIn"].as_str().unwrap_or("SIDE_PANEL"),
        "avatarUrl": record["avatarUrl"],
        "locale": record["locale"],
        "calendarStartDay": record["calendarStartDay"],
        "timeZone": record["timeZone"],
        "dateFormat": record["dateFormat"],
        "timeFormat": record["timeFormat"],
        "numberFormat": record["numberFormat"],
        "roles": [],
        "userWorkspaceId": user_workspace_id,
    });
    if m["calendarStartDay"].is_f64() {
        m["calendarStartDay"] = json!(m["calendarStartDay"].as_f64().unwrap_or(7.0) as i64);
    }
    m
}

pub async fn current_user(mc: &MetaCtx, _rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let user_id = require_user(mc)?;
    let d = Directory::new(&mc.env).map_err(storage_err)?;
    let user = d.user(user_id).await.map_err(storage_err)?.ok_or_else(|| {
        QueryError::new(ErrorKind::Unauthenticated, "UserEntity not found")
            .with_sub_code("USER_NOT_FOUND")
    })?;
    let memberships = d.memberships(user_id).await.map_err(storage_err)?;
    let available = available_for(mc, &memberships);
    let user_workspaces: Vec<Value> = memberships
        .iter()
        .map(|m| user_workspace_json(m, &user))
        .collect();
    let mut out = json!({
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "isEmailVerified": user.is_email_verified != 0,
        "disabled": false,
        "canImpersonate": false,
        "canAccessFullAdminPanel": false,
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
        "deletedAt": user.deleted_at,
        "locale": user.locale,
        "hasPassword": user.password_hash.is_some(),
        "supportUserHash": null,
        "isWorkspaceCreator": false,
        "onboardingStatus": null,
        "previousOnboardingStatus": null,
        "userVars": {},
        "workspaceMember": null,
        "workspaceMembers": [],
        "deletedWorkspaceMembers": [],
        "currentWorkspace": null,
        "currentUserWorkspace": null,
        "userWorkspaces": user_workspaces,
        "workspaces": user_workspaces,
        "availableWorkspaces": available,
    });
    if let Some(ws) = &mc.workspace {
        let membership = memberships
            .iter()
            .find(|m| m.workspace_id == ws.workspace_id())
            .ok_or_else(|| {
                QueryError::new(
                    ErrorKind::Forbidden,
                    "User is not a member of the workspace",
                )
                .with_sub_code("FORBIDDEN_EXCEPTION")
            })?;
        let all = d
            .workspace_memberships(ws.workspace_id())
            .await
            .map_err(storage_err)?;
        let uw_of = |member_id: &str| {
            all.iter()
                .find(|m| m.workspace_member_id == member_id)
                .map(|m| m.user_workspace_id.clone())
        };
        let records = ws.members()?;
        let members: Vec<Value> = records
            .iter()
            .map(|r| member_json(r, uw_of(r["id"].as_str().unwrap_or("")).as_deref()))
            .collect();
        let me = ws
            .member(&membership.workspace_member_id)?
            .map(|r| member_json(&r, Some(&membership.user_workspace_id)));
        out["workspaceMember"] = me.unwrap_or(Value::Null);
        out["workspaceMembers"] = json!(members);
        let workspace = d
            .workspace(ws.workspace_id())
            .await
            .map_err(storage_err)?
            .ok_or_else(QueryError::not_found)?;
        out["currentWorkspace"] =
            workspace_json(mc, &workspace, ws.metadata_version(), Some(records.len()));
        out["currentUserWorkspace"] = user_workspace_json(membership, &user);
        out["onboardingStatus"] = json!("COMPLETED");
        out["isWorkspaceCreator"] = json!(membership.role == "ADMIN");
    }
    Ok(out)
}

fn available_for(mc: &MetaCtx, memberships: &[MembershipRow]) -> Value {
    // Login tokens are handed out by signIn; currentUser lists the workspaces without them.
    let list: Vec<Value> = memberships
        .iter()
        .map(|m| {
            json!({
                "id": m.workspace_id,
                "displayName": m.display_name,
                "loginToken": null,
                "personalInviteToken": null,
                "inviteHash": null,
                "workspaceUrls": workspace_urls(mc),
                "logo": null,
                "sso": [],
            })
        })
        .collect();
    json!({ "availableWorkspacesForSignIn": list, "availableWorkspacesForSignUp": [] })
}

/// `deleteUserFromWorkspace(workspaceMemberIdToDelete)`: an admin removes a member. Their
/// tokens stop working at once: the actor refuses a removed member.
pub async fn delete_user_from_workspace(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let user_id = require_user(mc)?;
    let ws = require_workspace(mc)?;
    let d = Directory::new(&mc.env).map_err(storage_err)?;
    let me = d
        .membership(user_id, ws.workspace_id())
        .await
        .map_err(storage_err)?
        .ok_or_else(|| {
            QueryError::new(
                ErrorKind::Forbidden,
                "User is not a member of the workspace",
            )
        })?;
    if me.role != "ADMIN" {
        return Err(QueryError::new(
            ErrorKind::Forbidden,
            "Only admins can remove workspace members",
        )
        .with_sub_code("FORBIDDEN_EXCEPTION"));
    }
    let target_member = arg_str(rc, "workspaceMemberIdToDelete")?;
    let target = d
        .membership_by_member_id(ws.workspace_id(), &target_member)
        .await
        .map_err(storage_err)?
        .ok_or_else(QueryError::not_found)?;
    let now = now_iso();
    d.remove_membership(&target.user_workspace_id, &now)
        .await
        .map_err(storage_err)?;
    ws.remove_member(&target_member)?;
    let user = d
        .user(&target.user_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(QueryError::not_found)?;
    let mut uw = user_workspace_json(&target, &user);
    uw["deletedAt"] = json!(now);
    Ok(uw)
}
