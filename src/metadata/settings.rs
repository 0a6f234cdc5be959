//! Settings pages of the web app: the data model list's record counts, the member's own
//! profile (`updateWorkspaceMemberSettings`), the workspace (`updateWorkspace`), and the
//! end of sign-up (`getWorkspaceCreationDefaults`, `activateWorkspace`).
//!
//! Workspace settings live in the directory (D1); member records in the workspace's actor.

use async_graphql::dynamic::ResolverContext;
use serde_json::{json, Map, Value};

use super::auth::{dir, err};
use super::user::{workspace_json, STORED_SETTINGS};
use super::{arg, require_workspace, storage_err, MetaCtx, WorkspaceAccess};
use crate::identity::directory::{Directory, MembershipRow, WorkspaceUpdate};
use crate::identity::principal::Principal;
use crate::schema::error::{ErrorKind, QueryError, QueryResult};
use std::rc::Rc;

/// Longest workspace name accepted (Twenty's form allows far less; this only bounds storage).
const MAX_DISPLAY_NAME_CHARS: usize = 512;
/// Longest logo URL accepted.
const MAX_LOGO_CHARS: usize = 2048;
/// Member fields the settings mutation may not touch: they tie the record to the directory.
const MEMBER_IDENTITY_FIELDS: &[&str] = &["id", "userId", "userEmail"];

pub(crate) fn permission_denied(friendly: &str) -> QueryError {
    QueryError::new(ErrorKind::Forbidden, "User does not have permission")
        .with_sub_code("PERMISSION_DENIED")
        .with_user_friendly(friendly)
}

/// Who calls, in the workspace the request runs in.
pub(crate) enum Caller {
    Member(Box<MembershipRow>),
    /// API keys hold the admin role here.
    ApiKey,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        match self {
            Caller::Member(m) => m.role == "ADMIN",
            Caller::ApiKey => true,
        }
    }
}

pub(crate) async fn caller(mc: &MetaCtx) -> QueryResult<(Rc<dyn WorkspaceAccess>, Caller)> {
    let ws = require_workspace(mc)?.clone();
    match &mc.principal {
        Principal::User { user_id, .. } => {
            let m = dir(mc)?
                .membership(user_id, ws.workspace_id())
                .await
                .map_err(storage_err)?
                .ok_or_else(|| {
                    QueryError::new(
                        ErrorKind::Forbidden,
                        "User is not a member of the workspace",
                    )
                    .with_sub_code("FORBIDDEN_EXCEPTION")
                })?;
            Ok((ws, Caller::Member(Box::new(m))))
        }
        Principal::ApiKey { .. } => Ok((ws, Caller::ApiKey)),
        Principal::Anonymous => Err(super::missing_token()),
    }
}

/// Requires an admin (Twenty's WORKSPACE / WORKSPACE_MEMBERS settings permissions).
pub(crate) async fn admin(
    mc: &MetaCtx,
    friendly: &str,
) -> QueryResult<(Rc<dyn WorkspaceAccess>, Caller)> {
    let (ws, c) = caller(mc).await?;
    if !c.is_admin() {
        return Err(permission_denied(friendly));
    }
    Ok((ws, c))
}

/// `objectRecordCounts`: live records per object, for Settings > Data model.
pub async fn object_record_counts(mc: &MetaCtx) -> QueryResult<Value> {
    let ws = require_workspace(mc)?;
    let counts = ws.record_counts()?;
    Ok(json!(counts
        .into_iter()
        .map(|(plural, n)| json!({ "objectNamePlural": plural, "totalCount": n }))
        .collect::<Vec<_>>()))
}

/// `updateWorkspaceMemberSettings(input: {workspaceMemberId, update})`: a member edits their
/// own profile (name, color scheme, locale, formats…); admins may edit anyone's.
pub async fn update_workspace_member_settings(
    mc: &MetaCtx,
    rc: &ResolverContext<'_>,
) -> QueryResult<Value> {
    let input = arg(rc, "input");
    let target = input["workspaceMemberId"]
        .as_str()
        .ok_or_else(|| QueryError::bad_input("workspaceMemberId must be a string"))?
        .to_string();
    let update = input["update"]
        .as_object()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| QueryError::bad_input("update must be a non-empty object"))?;
    let (ws, caller) = caller(mc).await?;
    let is_self = matches!(&caller, Caller::Member(m) if m.workspace_member_id == target);
    if !is_self && !caller.is_admin() {
        return Err(permission_denied(
            "You do not have permission to update this workspace member.",
        ));
    }
    check_member_update(ws.as_ref(), update)?;
    if ws.member(&target)?.is_none() {
        return Err(
            QueryError::bad_input("Workspace member not found").with_sub_code("BAD_REQUEST")
        );
    }
    ws.update_member(&target, &Value::Object(update.clone()))?;
    if let Some(locale) = update.get("locale").and_then(Value::as_str) {
        let d = dir(mc)?;
        if let Some(m) = d
            .membership_by_member_id(ws.workspace_id(), &target)
            .await
            .map_err(storage_err)?
        {
            d.set_locale(&m.user_id, locale, &super::now_iso())
                .await
                .map_err(storage_err)?;
        }
    }
    Ok(json!(true))
}

/// Twenty accepts only the standard fields of workspaceMember here.
fn check_member_update(ws: &dyn WorkspaceAccess, update: &Map<String, Value>) -> QueryResult<()> {
    let model = ws
        .model()
        .ok_or_else(|| QueryError::internal("workspace has no model"))?;
    let object = model
        .object("workspaceMember")
        .ok_or_else(|| QueryError::internal("model without workspaceMember"))?;
    for key in update.keys() {
        let field = object.fields.iter().find(|f| &f.name == key);
        let allowed = field.is_some_and(|f| !f.is_custom && f.is_active)
            && !MEMBER_IDENTITY_FIELDS.contains(&key.as_str());
        if !allowed {
            return Err(QueryError::bad_input(format!(
                "Field \"{key}\" cannot be updated through workspace member settings"
            ))
            .with_sub_code("INVALID_INPUT"));
        }
    }
    Ok(())
}

fn bool_of(input: &Map<String, Value>, key: &str) -> QueryResult<Option<bool>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(QueryError::bad_input(format!("{key} must be a boolean"))),
    }
}

/// What an `UpdateWorkspaceInput` changes, checked; pure.
pub(crate) fn workspace_update(
    input: &Map<String, Value>,
    stored_settings: &str,
) -> QueryResult<WorkspaceUpdate> {
    let mut u = WorkspaceUpdate::default();
    for key in ["subdomain", "customDomain"] {
        if input.get(key).is_some_and(|v| !v.is_null()) {
            return Err(QueryError::new(
                ErrorKind::NotSupported,
                format!("{key} is not supported by twenty-edge: the web app is served from FRONTEND_URL"),
            ));
        }
    }
    match input.get("displayName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > MAX_DISPLAY_NAME_CHARS {
                return Err(QueryError::bad_input(format!(
                    "displayName must have 1 to {MAX_DISPLAY_NAME_CHARS} characters"
                ))
                .with_sub_code("INVALID_INPUT"));
            }
            u.display_name = Some(name.to_string());
        }
        Some(_) => return Err(QueryError::bad_input("displayName must be a string")),
    }
    match input.get("logo") {
        None => {}
        Some(Value::Null) => u.logo = Some(None),
        Some(Value::String(logo)) if logo.chars().count() <= MAX_LOGO_CHARS => {
            u.logo = Some(Some(logo.clone()).filter(|l| !l.is_empty()))
        }
        Some(_) => {
            return Err(QueryError::bad_input(format!(
                "logo must be a string of at most {MAX_LOGO_CHARS} characters"
            )))
        }
    }
    match input.get("inviteHash") {
        None | Some(Value::Null) => {}
        // The web app's "reset invite link" sends a fresh uuid.
        Some(Value::String(h))
            if (8..=128).contains(&h.len())
                && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            u.invite_hash = Some(h.clone())
        }
        Some(_) => {
            return Err(QueryError::bad_input(
                "inviteHash must be 8 to 128 letters, digits or dashes",
            )
            .with_sub_code("INVALID_INPUT"))
        }
    }
    u.is_public_invite_link_enabled = bool_of(input, "isPublicInviteLinkEnabled")?;
    if bool_of(input, "isPasswordAuthEnabled")? == Some(false) {
        // Password is the only sign-in method this server offers.
        return Err(QueryError::new(
            ErrorKind::Forbidden,
            "At least one authentication method must be enabled",
        )
        .with_sub_code("FORBIDDEN_EXCEPTION"));
    }
    let mut settings: Map<String, Value> =
        serde_json::from_str(stored_settings).unwrap_or_default();
    let mut changed = false;
    for (key, _) in STORED_SETTINGS {
        if let Some(v) = input.get(*key) {
            settings.insert(key.to_string(), v.clone());
            changed = true;
        }
    }
    if let Some(role) = input.get("defaultRoleId").filter(|v| !v.is_null()) {
        if role != super::user::MEMBER_ROLE_ID && role != super::user::ADMIN_ROLE_ID {
            return Err(QueryError::bad_input(
                "defaultRoleId is not a role of this workspace",
            ));
        }
    }
    if changed {
        u.settings = Some(Value::Object(settings).to_string());
    }
    Ok(u)
}

/// `updateWorkspace(data)`: an admin changes the workspace's name, logo, invite link…
pub async fn update_workspace(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let input = arg(rc, "data");
    let input = input
        .as_object()
        .ok_or_else(|| QueryError::bad_input("data must be an object"))?;
    let (ws, _) = admin(
        mc,
        "You do not have permission to update this workspace. Please contact your workspace administrator for access.",
    )
    .await?;
    let d = dir(mc)?;
    let current = d
        .workspace(ws.workspace_id())
        .await
        .map_err(storage_err)?
        .ok_or_else(QueryError::not_found)?;
    let update = workspace_update(input, &current.settings)?;
    match d
        .update_workspace(ws.workspace_id(), &update, &super::now_iso())
        .await
    {
        Ok(()) => {}
        Err(crate::identity::directory::DirectoryError::Conflict) => {
            return Err(err(
                ErrorKind::Conflict,
                "CONFLICT",
                "This invite hash is already used by another workspace",
            ))
        }
        Err(e) => return Err(storage_err(e)),
    }
    updated_workspace(mc, &d, ws.as_ref()).await
}

/// The workspace as `updateWorkspace` and `activateWorkspace` answer it: read back from the
/// directory after the change, with the actor's member count.
async fn updated_workspace(
    mc: &MetaCtx,
    d: &Directory,
    ws: &dyn WorkspaceAccess,
) -> QueryResult<Value> {
    let w = d
        .workspace(ws.workspace_id())
        .await
        .map_err(storage_err)?
        .ok_or_else(QueryError::not_found)?;
    let members = ws.members()?.len();
    Ok(workspace_json(mc, &w, ws.metadata_version(), Some(members)))
}

/// `activateWorkspace(data)`: ends the creation of a workspace a first sign-up made
/// (`PENDING_CREATION`), naming it.
pub async fn activate_workspace(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let data = arg(rc, "data");
    let (ws, caller) = caller(mc).await?;
    if !caller.is_admin() {
        return Err(permission_denied(
            "Only the workspace's creator can activate it.",
        ));
    }
    let d = dir(mc)?;
    let w = d
        .workspace(ws.workspace_id())
        .await
        .map_err(storage_err)?
        .ok_or_else(QueryError::not_found)?;
    if w.activation_status != "PENDING_CREATION" {
        return Err(err(
            ErrorKind::Forbidden,
            "WORKSPACE_ALREADY_ACTIVATED",
            "Workspace is already activated",
        ));
    }
    let name = data["displayName"]
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= MAX_DISPLAY_NAME_CHARS)
        .map(str::to_string);
    let update = WorkspaceUpdate {
        display_name: name,
        activation_status: Some("ACTIVE".into()),
        ..Default::default()
    };
    d.update_workspace(ws.workspace_id(), &update, &super::now_iso())
        .await
        .map_err(storage_err)?;
    updated_workspace(mc, &d, ws.as_ref()).await
}

/// Email domains of public mail providers: their users get no company-named workspace.
const PUBLIC_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "example.com",
];

/// The name and subdomain proposed for a new workspace of `email`; pure.
pub(crate) fn creation_defaults(email: &str) -> (String, String) {
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    let company = domain
        .filter(|d| !PUBLIC_EMAIL_DOMAINS.contains(&d.as_str()))
        .and_then(|d| d.split('.').next().map(str::to_string))
        .filter(|label| label.chars().any(|c| c.is_ascii_alphanumeric()));
    let name = match company {
        Some(label) => {
            let mut chars = label.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
        None => "My Workspace".to_string(),
    };
    let subdomain: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    (name, subdomain)
}

/// `getWorkspaceCreationDefaults`: what the create-workspace form starts with.
pub async fn get_workspace_creation_defaults(mc: &MetaCtx) -> QueryResult<Value> {
    let user_id = super::require_user(mc)?;
    let user = dir(mc)?
        .user(user_id)
        .await
        .map_err(storage_err)?
        .ok_or_else(super::auth::user_not_found)?;
    let (name, subdomain) = creation_defaults(&user.email);
    Ok(json!({ "displayName": name, "subdomain": subdomain }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn workspace_updates_are_checked_and_settings_merged() {
        let u = workspace_update(
            &input(json!({"displayName": "  Acme  ", "logo": null, "isPublicInviteLinkEnabled": false, "allowImpersonation": true})),
            r#"{"trashRetentionDays": 30}"#,
        )
        .unwrap();
        assert_eq!(u.display_name.as_deref(), Some("Acme"));
        assert_eq!(u.logo, Some(None));
        assert_eq!(u.is_public_invite_link_enabled, Some(false));
        let settings: Value = serde_json::from_str(u.settings.as_deref().unwrap()).unwrap();
        assert_eq!(
            settings,
            json!({"trashRetentionDays": 30, "allowImpersonation": true})
        );

        let none = workspace_update(
            &input(json!({"inviteHash": "0f3c2b4e-1a2b-4c3d-9e8f-001122334455"})),
            "{}",
        )
        .unwrap();
        assert!(none.settings.is_none());
        assert!(none.invite_hash.is_some());

        for bad in [
            json!({"displayName": ""}),
            json!({"displayName": 3}),
            json!({"inviteHash": "x y"}),
            json!({"isPublicInviteLinkEnabled": "yes"}),
            json!({"isPasswordAuthEnabled": false}),
            json!({"subdomain": "acme"}),
            json!({"defaultRoleId": "00000000-0000-4000-8000-000000000000"}),
            json!({"logo": "x".repeat(MAX_LOGO_CHARS + 1)}),
        ] {
            assert!(
                workspace_update(&input(bad.clone()), "{}").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn creation_defaults_come_from_the_company_domain() {
        assert_eq!(
            creation_defaults("ann@acme.io"),
            ("Acme".to_string(), "acme".to_string())
        );
        assert_eq!(
            creation_defaults("bob@gmail.com"),
            ("My Workspace".to_string(), "my-workspace".to_string())
        );
        assert_eq!(
            creation_defaults("x@big-corp.co.uk"),
            ("Big-corp".to_string(), "big-corp".to_string())
        );
    }
}
