//! What the web app asks before and right after sign-in that is not views
//! (`metadata::views`): the sign-in page's `getPublicWorkspaceDataByDomain`, and the lists
//! of the metadata store's stale-reload batch for concepts twenty-edge does not have (page
//! layouts, logic functions, command menu items, front components, agents, skills,
//! applications, webhooks), answered empty so the batch completes.

use serde_json::{json, Value};

use super::{auth, require_workspace, storage_err, MetaCtx};
use crate::gateway::client_config::{self, Settings};
use crate::identity::directory::Directory;
use crate::schema::error::{ErrorKind, QueryError, QueryResult};

/// The list queries answered with an empty list (twenty-front
/// `metadata-store/hooks/useLoadStaleMetadataEntities.ts` loads them with the views).
pub const EMPTY_LISTS: &[&str] = &[
    "getPageLayouts",
    "getPageLayoutTabs",
    "getPageLayoutWidgets",
    "findManyLogicFunctions",
    "commandMenuItems",
    "frontComponents",
    "findManyAgents",
    "skills",
    "findManyApplications",
    "webhooks",
];

/// The single-entity queries of the same concepts: nothing exists, so null.
pub const ABSENT_ONES: &[&str] = &["getPageLayout", "commandMenuItem", "frontComponent"];

pub fn empty_list(mc: &MetaCtx) -> QueryResult<Value> {
    require_workspace(mc)?;
    Ok(json!([]))
}

pub fn absent(mc: &MetaCtx) -> QueryResult<Value> {
    require_workspace(mc)?;
    Ok(Value::Null)
}

/// `getPublicWorkspaceDataByDomain(origin)`: with multi-workspace off (twenty-edge serves
/// every workspace on one front URL) this is the server's default workspace, the oldest
/// one, as in Twenty.
pub async fn public_workspace_data_by_domain(mc: &MetaCtx) -> QueryResult<Value> {
    let dir = Directory::new(&mc.env).map_err(storage_err)?;
    let (id, display_name) = dir
        .default_workspace()
        .await
        .map_err(storage_err)?
        .ok_or_else(|| {
            QueryError::new(ErrorKind::NotFound, "Workspace not found")
                .with_sub_code("WORKSPACE_NOT_FOUND")
        })?;
    let settings = Settings::from_env(&mc.env);
    Ok(json!({
        "id": id,
        "authProviders": client_config::auth_providers(&settings),
        "authBypassProviders": { "google": false, "password": false, "microsoft": false },
        "logo": null,
        "displayName": display_name,
        "workspaceUrls": auth::workspace_urls(mc),
    }))
}
