//! The core directory in D1: users, workspaces, memberships, refresh tokens, API keys and
//! signing keys. Every query of the directory is here.
//!
//! **Architecture Invariant:** D1 holds who-may-enter-what; it never holds workspace
//! records (those are in the workspace's actor).

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

pub const DB_BINDING: &str = "DB";

#[derive(Debug)]
pub enum DirectoryError {
    /// A unique constraint refused the write (e.g. the email is taken).
    Conflict,
    Storage(String),
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectoryError::Conflict => write!(f, "conflict"),
            DirectoryError::Storage(e) => write!(f, "D1: {e}"),
        }
    }
}

impl From<worker::Error> for DirectoryError {
    fn from(e: worker::Error) -> Self {
        let text = e.to_string();
        if text.contains("UNIQUE constraint failed") {
            DirectoryError::Conflict
        } else {
            DirectoryError::Storage(text)
        }
    }
}

pub type DirResult<T> = Result<T, DirectoryError>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: Option<String>,
    pub default_workspace_id: Option<String>,
    pub locale: String,
    pub is_email_verified: i64,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

/// A membership joined with its workspace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipRow {
    pub user_workspace_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub workspace_member_id: String,
    pub role: String,
    pub created_at: String,
    pub removed_at: Option<String>,
    pub display_name: Option<String>,
    pub activation_status: String,
    pub workspace_created_at: String,
    pub workspace_updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppTokenRow {
    pub id: String,
    pub user_id: String,
    pub workspace_id: Option<String>,
    pub target_type: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub replaced_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// SHA-256 (hex) of the token last issued for this key; `None` for older keys.
    #[serde(default)]
    pub token_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKeyRow {
    pub kid: String,
    pub public_jwk: String,
    pub max_expires_at: i64,
}

/// A workspace with the settings the web app edits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkspaceRow {
    pub id: String,
    pub display_name: Option<String>,
    pub activation_status: String,
    pub logo: Option<String>,
    pub invite_hash: Option<String>,
    pub is_public_invite_link_enabled: i64,
    /// JSON object of the settings stored and echoed only.
    pub settings: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The columns of `workspace` an update may set (`None` leaves a column as it is).
#[derive(Debug, Default)]
pub struct WorkspaceUpdate {
    pub display_name: Option<String>,
    pub logo: Option<Option<String>>,
    pub invite_hash: Option<String>,
    pub is_public_invite_link_enabled: Option<bool>,
    pub settings: Option<String>,
    pub activation_status: Option<String>,
}

/// A pending personal invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub role_id: Option<String>,
    pub token_hash: String,
    pub expires_at: String,
    pub created_at: String,
}

/// A password reset token (its hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetTokenRow {
    pub id: String,
    pub user_id: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

pub struct Directory {
    db: D1Database,
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn opt(v: Option<&str>) -> JsValue {
    v.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

const MEMBERSHIP_SELECT: &str = "SELECT uw.id AS user_workspace_id, uw.user_id, uw.workspace_id, \
     uw.workspace_member_id, uw.role, uw.created_at, uw.removed_at, w.display_name, \
     w.activation_status, w.created_at AS workspace_created_at, w.updated_at AS workspace_updated_at \
     FROM user_workspace uw JOIN workspace w ON w.id = uw.workspace_id";

const WORKSPACE_SELECT: &str = "SELECT id, display_name, activation_status, logo, invite_hash, \
     is_public_invite_link_enabled, settings, created_at, updated_at FROM workspace";

impl Directory {
    pub fn new(env: &Env) -> DirResult<Self> {
        Ok(Directory {
            db: env.d1(DB_BINDING)?,
        })
    }

    fn stmt(&self, sql: &str, args: &[JsValue]) -> DirResult<D1PreparedStatement> {
        Ok(self.db.prepare(sql).bind(args)?)
    }

    async fn first<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> DirResult<Option<T>> {
        Ok(self.stmt(sql, args)?.first::<T>(None).await?)
    }

    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> DirResult<Vec<T>> {
        Ok(self.stmt(sql, args)?.all().await?.results::<T>()?)
    }

    /// Runs a statement; returns how many rows it changed.
    async fn run(&self, sql: &str, args: &[JsValue]) -> DirResult<usize> {
        let result = self.stmt(sql, args)?.run().await?;
        Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
    }

    // --- users ------------------------------------------------------------------------

    pub async fn user_by_email(&self, email: &str) -> DirResult<Option<UserRow>> {
        self.first(
            "SELECT * FROM user WHERE email = ? AND deleted_at IS NULL",
            &[s(email)],
        )
        .await
    }

    pub async fn user(&self, id: &str) -> DirResult<Option<UserRow>> {
        self.first(
            "SELECT * FROM user WHERE id = ? AND deleted_at IS NULL",
            &[s(id)],
        )
        .await
    }

    pub async fn create_user(
        &self,
        id: &str,
        email: &str,
        password_hash: &str,
        locale: &str,
        now: &str,
    ) -> DirResult<()> {
        self.run(
            "INSERT INTO user (id, email, password_hash, locale, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            &[s(id), s(email), s(password_hash), s(locale), s(now), s(now)],
        )
        .await
        .map(|_| ())
    }

    pub async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now: &str,
    ) -> DirResult<()> {
        self.run(
            "UPDATE user SET password_hash = ?, updated_at = ? WHERE id = ?",
            &[s(password_hash), s(now), s(user_id)],
        )
        .await
        .map(|_| ())
    }

    // --- workspaces and memberships ----------------------------------------------------

    /// The active membership matching `condition`.
    async fn first_membership(
        &self,
        condition: &str,
        args: &[JsValue],
    ) -> DirResult<Option<MembershipRow>> {
        self.first(
            &format!("{MEMBERSHIP_SELECT} WHERE {condition} AND uw.removed_at IS NULL"),
            args,
        )
        .await
    }

    /// Active memberships of a user, oldest first.
    pub async fn memberships(&self, user_id: &str) -> DirResult<Vec<MembershipRow>> {
        self.all(
            &format!(
                "{MEMBERSHIP_SELECT} WHERE uw.user_id = ? AND uw.removed_at IS NULL \
                 ORDER BY uw.created_at, uw.id"
            ),
            &[s(user_id)],
        )
        .await
    }

    /// The active membership of a user in a workspace.
    pub async fn membership(
        &self,
        user_id: &str,
        workspace_id: &str,
    ) -> DirResult<Option<MembershipRow>> {
        self.first_membership(
            "uw.user_id = ? AND uw.workspace_id = ?",
            &[s(user_id), s(workspace_id)],
        )
        .await
    }

    pub async fn membership_by_member_id(
        &self,
        workspace_id: &str,
        workspace_member_id: &str,
    ) -> DirResult<Option<MembershipRow>> {
        self.first_membership(
            "uw.workspace_id = ? AND uw.workspace_member_id = ?",
            &[s(workspace_id), s(workspace_member_id)],
        )
        .await
    }

    pub async fn workspace_memberships(&self, workspace_id: &str) -> DirResult<Vec<MembershipRow>> {
        self.all(
            &format!(
                "{MEMBERSHIP_SELECT} WHERE uw.workspace_id = ? AND uw.removed_at IS NULL \
                 ORDER BY uw.created_at, uw.id"
            ),
            &[s(workspace_id)],
        )
        .await
    }

    /// Creates a workspace and makes `user_id` its first (admin) member, atomically.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_workspace(
        &self,
        workspace_id: &str,
        display_name: Option<&str>,
        user_id: &str,
        user_workspace_id: &str,
        workspace_member_id: &str,
        activation_status: &str,
        invite_hash: &str,
        now: &str,
    ) -> DirResult<()> {
        // D1 runs a batch as one transaction.
        self.db
            .batch(vec![
                self.stmt(
                    "INSERT INTO workspace (id, display_name, activation_status, invite_hash, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                    &[s(workspace_id), opt(display_name), s(activation_status), s(invite_hash), s(now), s(now)],
                )?,
                self.stmt(
                    "INSERT INTO user_workspace (id, user_id, workspace_id, workspace_member_id, role, created_at) \
                     VALUES (?, ?, ?, ?, 'ADMIN', ?)",
                    &[s(user_workspace_id), s(user_id), s(workspace_id), s(workspace_member_id), s(now)],
                )?,
                self.stmt(
                    "UPDATE user SET default_workspace_id = COALESCE(default_workspace_id, ?), updated_at = ? \
                     WHERE id = ?",
                    &[s(workspace_id), s(now), s(user_id)],
                )?,
            ])
            .await?;
        Ok(())
    }

    /// The oldest workspace: the one a single-workspace server shows on its sign-in page
    /// (Twenty's default workspace when multi-workspace is off).
    pub async fn default_workspace(&self) -> DirResult<Option<(String, Option<String>)>> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            display_name: Option<String>,
        }
        Ok(self
            .first::<Row>(
                "SELECT id, display_name FROM workspace ORDER BY created_at, id LIMIT 1",
                &[],
            )
            .await?
            .map(|r| (r.id, r.display_name)))
    }

    pub async fn workspace_exists(&self, workspace_id: &str) -> DirResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            id: String,
        }
        Ok(self
            .first::<Row>("SELECT id FROM workspace WHERE id = ?", &[s(workspace_id)])
            .await?
            .is_some())
    }

    pub async fn remove_membership(&self, user_workspace_id: &str, now: &str) -> DirResult<usize> {
        self.run(
            "UPDATE user_workspace SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            &[s(now), s(user_workspace_id)],
        )
        .await
    }

    pub async fn workspace(&self, id: &str) -> DirResult<Option<WorkspaceRow>> {
        self.first(&format!("{WORKSPACE_SELECT} WHERE id = ?"), &[s(id)])
            .await
    }

    pub async fn workspace_by_invite_hash(&self, hash: &str) -> DirResult<Option<WorkspaceRow>> {
        self.first(
            &format!("{WORKSPACE_SELECT} WHERE invite_hash = ?"),
            &[s(hash)],
        )
        .await
    }

    /// Whether any workspace exists (the first sign-up of a server creates one).
    pub async fn any_workspace(&self) -> DirResult<bool> {
        #[derive(Deserialize)]
        struct Row {
            #[allow(dead_code)]
            id: String,
        }
        Ok(self
            .first::<Row>("SELECT id FROM workspace LIMIT 1", &[])
            .await?
            .is_some())
    }

    /// Applies `u` to a workspace; `Conflict` when the invite hash is taken.
    pub async fn update_workspace(
        &self,
        id: &str,
        u: &WorkspaceUpdate,
        now: &str,
    ) -> DirResult<()> {
        let mut sets = vec!["updated_at = ?"];
        let mut args = vec![s(now)];
        if let Some(v) = &u.display_name {
            sets.push("display_name = ?");
            args.push(s(v));
        }
        if let Some(v) = &u.logo {
            sets.push("logo = ?");
            args.push(opt(v.as_deref()));
        }
        if let Some(v) = &u.invite_hash {
            sets.push("invite_hash = ?");
            args.push(s(v));
        }
        if let Some(v) = u.is_public_invite_link_enabled {
            sets.push("is_public_invite_link_enabled = ?");
            args.push(JsValue::from_f64(if v { 1.0 } else { 0.0 }));
        }
        if let Some(v) = &u.settings {
            sets.push("settings = ?");
            args.push(s(v));
        }
        if let Some(v) = &u.activation_status {
            sets.push("activation_status = ?");
            args.push(s(v));
        }
        args.push(s(id));
        self.run(
            &format!("UPDATE workspace SET {} WHERE id = ?", sets.join(", ")),
            &args,
        )
        .await
        .map(|_| ())
    }

    /// Adds a member to an existing workspace; `Conflict` when the user already has (or
    /// had) a membership there, which is then reactivated instead by the caller.
    pub async fn add_membership(
        &self,
        user_workspace_id: &str,
        user_id: &str,
        workspace_id: &str,
        workspace_member_id: &str,
        now: &str,
    ) -> DirResult<()> {
        self.db
            .batch(vec![
                self.stmt(
                    "INSERT INTO user_workspace (id, user_id, workspace_id, workspace_member_id, role, created_at) \
                     VALUES (?, ?, ?, ?, 'MEMBER', ?)",
                    &[s(user_workspace_id), s(user_id), s(workspace_id), s(workspace_member_id), s(now)],
                )?,
                self.stmt(
                    "UPDATE user SET default_workspace_id = COALESCE(default_workspace_id, ?), updated_at = ? \
                     WHERE id = ?",
                    &[s(workspace_id), s(now), s(user_id)],
                )?,
            ])
            .await?;
        Ok(())
    }

    /// A removed membership of a user in a workspace (re-invited users come back through it).
    pub async fn removed_membership(
        &self,
        user_id: &str,
        workspace_id: &str,
    ) -> DirResult<Option<MembershipRow>> {
        self.first(
            &format!("{MEMBERSHIP_SELECT} WHERE uw.user_id = ? AND uw.workspace_id = ? AND uw.removed_at IS NOT NULL"),
            &[s(user_id), s(workspace_id)],
        )
        .await
    }

    /// Reactivates a removed membership with a new member record id.
    pub async fn restore_membership(
        &self,
        user_workspace_id: &str,
        workspace_member_id: &str,
    ) -> DirResult<()> {
        self.run(
            "UPDATE user_workspace SET removed_at = NULL, role = 'MEMBER', workspace_member_id = ? WHERE id = ?",
            &[s(workspace_member_id), s(user_workspace_id)],
        )
        .await
        .map(|_| ())
    }

    pub async fn set_locale(&self, user_id: &str, locale: &str, now: &str) -> DirResult<()> {
        self.run(
            "UPDATE user SET locale = ?, updated_at = ? WHERE id = ?",
            &[s(locale), s(now), s(user_id)],
        )
        .await
        .map(|_| ())
    }

    // --- invitations ---------------------------------------------------------------------

    pub async fn invitations(&self, workspace_id: &str) -> DirResult<Vec<InvitationRow>> {
        self.all(
            "SELECT * FROM workspace_invitation WHERE workspace_id = ? ORDER BY created_at, id",
            &[s(workspace_id)],
        )
        .await
    }

    pub async fn invitation(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> DirResult<Option<InvitationRow>> {
        self.first(
            "SELECT * FROM workspace_invitation WHERE workspace_id = ? AND id = ?",
            &[s(workspace_id), s(id)],
        )
        .await
    }

    pub async fn invitation_by_token_hash(&self, hash: &str) -> DirResult<Option<InvitationRow>> {
        self.first(
            "SELECT * FROM workspace_invitation WHERE token_hash = ?",
            &[s(hash)],
        )
        .await
    }

    /// `Conflict` when the email already has an invitation to the workspace.
    pub async fn insert_invitation(&self, i: &InvitationRow) -> DirResult<()> {
        self.run(
            "INSERT INTO workspace_invitation (id, workspace_id, email, role_id, token_hash, expires_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                s(&i.id),
                s(&i.workspace_id),
                s(&i.email),
                opt(i.role_id.as_deref()),
                s(&i.token_hash),
                s(&i.expires_at),
                s(&i.created_at),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Deletes an invitation; returns whether it existed.
    pub async fn delete_invitation(&self, workspace_id: &str, id: &str) -> DirResult<bool> {
        Ok(self
            .run(
                "DELETE FROM workspace_invitation WHERE workspace_id = ? AND id = ?",
                &[s(workspace_id), s(id)],
            )
            .await?
            > 0)
    }

    /// Deletes the invitations of an email to a workspace (it joined); returns how many.
    pub async fn delete_invitations_of(&self, workspace_id: &str, email: &str) -> DirResult<usize> {
        self.run(
            "DELETE FROM workspace_invitation WHERE workspace_id = ? AND email = ?",
            &[s(workspace_id), s(email)],
        )
        .await
    }

    // --- password reset tokens -----------------------------------------------------------

    /// Stores a new reset token and revokes the user's earlier ones (only the newest link
    /// works), in one transaction.
    pub async fn insert_reset_token(
        &self,
        id: &str,
        user_id: &str,
        token_hash: &str,
        expires_at: &str,
        now: &str,
    ) -> DirResult<()> {
        self.db
            .batch(vec![
                self.stmt(
                    "UPDATE password_reset_token SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    &[s(now), s(user_id)],
                )?,
                self.stmt(
                    "INSERT INTO password_reset_token (id, user_id, token_hash, expires_at, created_at) \
                     VALUES (?, ?, ?, ?, ?)",
                    &[s(id), s(user_id), s(token_hash), s(expires_at), s(now)],
                )?,
            ])
            .await?;
        Ok(())
    }

    /// The live (unrevoked, unexpired) reset token with this hash.
    pub async fn live_reset_token(
        &self,
        token_hash: &str,
        now: &str,
    ) -> DirResult<Option<ResetTokenRow>> {
        self.first(
            "SELECT id, user_id, expires_at, revoked_at FROM password_reset_token \
             WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?",
            &[s(token_hash), s(now)],
        )
        .await
    }

    /// Consumes a live reset token: one statement marks it used, so of two concurrent uses
    /// exactly one gets the user id back.
    pub async fn consume_reset_token(
        &self,
        token_hash: &str,
        now: &str,
    ) -> DirResult<Option<String>> {
        #[derive(Deserialize)]
        struct Row {
            user_id: String,
        }
        Ok(self
            .first::<Row>(
                "UPDATE password_reset_token SET revoked_at = ? \
                 WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ? RETURNING user_id",
                &[s(now), s(token_hash), s(now)],
            )
            .await?
            .map(|r| r.user_id))
    }

    /// Revokes every reset token of a user (after a password change).
    pub async fn revoke_reset_tokens(&self, user_id: &str, now: &str) -> DirResult<()> {
        self.run(
            "UPDATE password_reset_token SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            &[s(now), s(user_id)],
        )
        .await
        .map(|_| ())
    }

    // --- refresh tokens ------------------------------------------------------------------

    pub async fn insert_app_token(&self, t: &AppTokenRow) -> DirResult<()> {
        self.run(
            "INSERT INTO app_token (id, user_id, workspace_id, target_type, created_at, last_used_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                s(&t.id),
                s(&t.user_id),
                opt(t.workspace_id.as_deref()),
                s(&t.target_type),
                s(&t.created_at),
                s(&t.last_used_at),
                s(&t.expires_at),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn app_token(&self, id: &str) -> DirResult<Option<AppTokenRow>> {
        self.first(
            "SELECT id, user_id, workspace_id, target_type, created_at, last_used_at, expires_at, \
             revoked_at, replaced_by FROM app_token WHERE id = ?",
            &[s(id)],
        )
        .await
    }

    /// Marks `old` as rotated into `new` and inserts `new`. Returns false (and inserts
    /// nothing) when `old` was revoked in the meantime.
    pub async fn rotate_app_token(
        &self,
        old: &str,
        new: &AppTokenRow,
        now: &str,
    ) -> DirResult<bool> {
        let changed = self
            .run(
                "UPDATE app_token SET revoked_at = ?, replaced_by = ? WHERE id = ? AND revoked_at IS NULL",
                &[s(now), s(&new.id), s(old)],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        self.insert_app_token(new).await?;
        Ok(true)
    }

    pub async fn revoke_app_token(&self, id: &str, now: &str) -> DirResult<()> {
        self.run(
            "UPDATE app_token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            &[s(now), s(id)],
        )
        .await
        .map(|_| ())
    }

    pub async fn revoke_all_app_tokens(&self, user_id: &str, now: &str) -> DirResult<usize> {
        self.run(
            "UPDATE app_token SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            &[s(now), s(user_id)],
        )
        .await
    }

    /// Deletes refresh tokens that can no longer be used (expired, or revoked long ago).
    pub async fn prune_app_tokens(&self, now: &str, revoked_before: &str) -> DirResult<usize> {
        self.run(
            "DELETE FROM app_token WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)",
            &[s(now), s(revoked_before)],
        )
        .await
    }

    /// Marks a login token as used; false if it already was (a replay).
    pub async fn consume_login_token(&self, jti: &str, expires_at: i64) -> DirResult<bool> {
        match self
            .run(
                "INSERT INTO used_login_token (jti, expires_at) VALUES (?, ?)",
                &[s(jti), JsValue::from_f64(expires_at as f64)],
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(DirectoryError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn prune_used_login_tokens(&self, now_secs: i64) -> DirResult<usize> {
        self.run(
            "DELETE FROM used_login_token WHERE expires_at < ?",
            &[JsValue::from_f64(now_secs as f64)],
        )
        .await
    }

    // --- API keys ------------------------------------------------------------------------

    pub async fn insert_api_key(&self, k: &ApiKeyRow) -> DirResult<()> {
        self.run(
            "INSERT INTO api_key (id, workspace_id, name, expires_at, revoked_at, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                s(&k.id),
                s(&k.workspace_id),
                s(&k.name),
                s(&k.expires_at),
                opt(k.revoked_at.as_deref()),
                s(&k.created_at),
                s(&k.updated_at),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn api_key(&self, workspace_id: &str, id: &str) -> DirResult<Option<ApiKeyRow>> {
        self.first(
            "SELECT * FROM api_key WHERE workspace_id = ? AND id = ?",
            &[s(workspace_id), s(id)],
        )
        .await
    }

    pub async fn api_keys(&self, workspace_id: &str) -> DirResult<Vec<ApiKeyRow>> {
        self.all(
            "SELECT * FROM api_key WHERE workspace_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
            &[s(workspace_id)],
        )
        .await
    }

    /// Binds the key to the token just issued for it (only that token is accepted).
    pub async fn set_api_key_token(
        &self,
        workspace_id: &str,
        id: &str,
        token_sha256: &str,
        now: &str,
    ) -> DirResult<()> {
        self.run(
            "UPDATE api_key SET token_sha256 = ?, updated_at = ? WHERE workspace_id = ? AND id = ?",
            &[s(token_sha256), s(now), s(workspace_id), s(id)],
        )
        .await
        .map(|_| ())
    }

    pub async fn revoke_api_key(&self, workspace_id: &str, id: &str, now: &str) -> DirResult<()> {
        self.run(
            "UPDATE api_key SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? \
             WHERE workspace_id = ? AND id = ?",
            &[s(now), s(now), s(workspace_id), s(id)],
        )
        .await
        .map(|_| ())
    }

    // --- signing keys ----------------------------------------------------------------------

    /// Records that `kid` signs tokens valid until `expires_at` (unix seconds).
    pub async fn record_signing_key(
        &self,
        kid: &str,
        public_jwk: &str,
        now: &str,
        expires_at: i64,
    ) -> DirResult<()> {
        self.run(
            "INSERT INTO signing_key (kid, public_jwk, first_used_at, max_expires_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (kid) DO UPDATE SET max_expires_at = max(max_expires_at, excluded.max_expires_at)",
            &[s(kid), s(public_jwk), s(now), JsValue::from_f64(expires_at as f64)],
        )
        .await
        .map(|_| ())
    }

    pub async fn signing_key(&self, kid: &str) -> DirResult<Option<SigningKeyRow>> {
        self.first(
            "SELECT kid, public_jwk, max_expires_at FROM signing_key WHERE kid = ?",
            &[s(kid)],
        )
        .await
    }

    /// Keys that still verify some unexpired token.
    pub async fn live_signing_keys(&self, now_secs: i64) -> DirResult<Vec<SigningKeyRow>> {
        self.all(
            "SELECT kid, public_jwk, max_expires_at FROM signing_key WHERE max_expires_at > ? ORDER BY first_used_at",
            &[JsValue::from_f64(now_secs as f64)],
        )
        .await
    }
}
