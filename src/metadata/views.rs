//! Views on `/metadata` (issue #12): `minimalMetadata`, `getViews` and the other view
//! queries, `navigationMenuItems`, and create/update/delete/destroy of views, view fields,
//! view filters, view filter groups, view sorts, view groups, view field groups and
//! navigation menu items, shaped as Twenty's types in `generated/twenty-metadata.graphql`.
//!
//! Entities are stored per workspace by the actor (`actors::views`, table
//! `_view_entities`) as the JSON this module returns. Every object of the model gets a
//! default INDEX view with view fields, and every non-system object a navigation menu item,
//! the first time views are read after the object exists (standard objects at the first
//! boot, a custom object after it was created through the data model API), as Twenty
//! creates them with the object.
//!
//! `minimalMetadata.collectionHashes` are SHA-256 digests of each collection's content, so
//! a hash changes exactly when its collection does; collections twenty-edge has no concept
//! of are empty and keep a constant hash.

use async_graphql::dynamic::ResolverContext;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use super::data_model::APPLICATION_ID;
use super::{arg, now_iso, require_workspace, MetaCtx, WorkspaceAccess};
use crate::identity::principal::Principal;
use crate::schema::error::{ErrorKind, QueryError, QueryResult};
use crate::schema::metadata::{FieldType, ObjectMetadata, WorkspaceModel};

pub const VIEW: &str = "view";
pub const VIEW_FIELD: &str = "viewField";
pub const VIEW_FILTER: &str = "viewFilter";
pub const VIEW_FILTER_GROUP: &str = "viewFilterGroup";
pub const VIEW_SORT: &str = "viewSort";
pub const VIEW_GROUP: &str = "viewGroup";
pub const VIEW_FIELD_GROUP: &str = "viewFieldGroup";
pub const NAVIGATION_MENU_ITEM: &str = "navigationMenuItem";
/// Marks an object whose defaults were created (so a destroyed default is not re-created).
const SEEDED_OBJECT: &str = "seededObject";

/// The kinds that belong to one view (destroyed with it).
const VIEW_CHILDREN: [&str; 6] = [
    VIEW_FIELD,
    VIEW_FILTER,
    VIEW_FILTER_GROUP,
    VIEW_SORT,
    VIEW_GROUP,
    VIEW_FIELD_GROUP,
];

/// Twenty's `AllMetadataName`: the collections `minimalMetadata` reports hashes for.
const ALL_METADATA_NAMES: &[&str] = &[
    "fieldMetadata",
    "objectMetadata",
    "view",
    "viewField",
    "viewFieldGroup",
    "viewGroup",
    "viewSort",
    "rowLevelPermissionPredicate",
    "rowLevelPermissionPredicateGroup",
    "viewFilterGroup",
    "index",
    "logicFunction",
    "viewFilter",
    "role",
    "roleTarget",
    "agent",
    "skill",
    "pageLayout",
    "pageLayoutWidget",
    "pageLayoutTab",
    "commandMenuItem",
    "navigationMenuItem",
    "rolePermissionFlag",
    "permissionFlag",
    "objectPermission",
    "fieldPermission",
    "frontComponent",
    "webhook",
    "applicationVariable",
    "connectionProvider",
    "searchFieldMetadata",
    "timelineActivityType",
    "settingsMenuItem",
    "workflow",
    "workflowVersion",
];

/// Objects whose navigation menu items come first, in Twenty's sidebar order.
const NAVIGATION_ORDER: &[&str] = &["person", "company", "opportunity", "task", "note"];

/// Width of a default view's label identifier column and of its other columns (Twenty's).
const LABEL_IDENTIFIER_SIZE: f64 = 210.0;
const DEFAULT_FIELD_SIZE: f64 = 150.0;

/// One storage write; a list of them is applied in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewWrite {
    Put {
        kind: &'static str,
        id: String,
        view_id: Option<String>,
        data: Value,
    },
    Delete {
        kind: &'static str,
        id: String,
    },
    /// Every child entity of a view.
    DeleteChildren {
        view_id: String,
    },
}

fn put(kind: &'static str, data: Value) -> ViewWrite {
    let id = data["id"].as_str().unwrap_or_default().to_string();
    let view_id = if kind == VIEW || kind == NAVIGATION_MENU_ITEM {
        None
    } else {
        data["viewId"].as_str().map(str::to_string)
    };
    ViewWrite::Put {
        kind,
        id,
        view_id,
        data,
    }
}

/// The stored entities, by kind, each kind ordered by id.
#[derive(Debug, Default, Clone)]
pub struct Entities {
    by_kind: BTreeMap<String, Vec<Value>>,
}

impl Entities {
    pub fn from_rows(rows: Vec<(String, Value)>) -> Entities {
        let mut by_kind: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (kind, data) in rows {
            by_kind.entry(kind).or_default().push(data);
        }
        for list in by_kind.values_mut() {
            list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        }
        Entities { by_kind }
    }

    pub fn of(&self, kind: &str) -> &[Value] {
        self.by_kind.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }

    fn find(&self, kind: &str, id: &str) -> Option<&Value> {
        self.of(kind).iter().find(|e| e["id"] == id)
    }

    /// The entities of `kind` that are not soft-deleted.
    fn live<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Value> + 'a {
        self.of(kind).iter().filter(|e| e["deletedAt"].is_null())
    }

    /// Applies writes to this in-memory copy (what storage holds after they commit).
    fn apply(&mut self, writes: &[ViewWrite]) {
        for w in writes {
            match w {
                ViewWrite::Put { kind, id, data, .. } => {
                    let list = self.by_kind.entry(kind.to_string()).or_default();
                    match list.iter_mut().find(|e| e["id"] == id.as_str()) {
                        Some(e) => *e = data.clone(),
                        None => {
                            list.push(data.clone());
                            list.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
                        }
                    }
                }
                ViewWrite::Delete { kind, id } => {
                    if let Some(list) = self.by_kind.get_mut(*kind) {
                        list.retain(|e| e["id"] != id.as_str());
                    }
                }
                ViewWrite::DeleteChildren { view_id } => {
                    for kind in VIEW_CHILDREN {
                        if let Some(list) = self.by_kind.get_mut(kind) {
                            list.retain(|e| e["viewId"] != view_id.as_str());
                        }
                    }
                }
            }
        }
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Fields every stored entity carries.
fn base(kind: &str, id: &str, workspace_id: &str, now: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("workspaceId".into(), json!(workspace_id));
    m.insert("createdAt".into(), json!(now));
    m.insert("updatedAt".into(), json!(now));
    m.insert("deletedAt".into(), Value::Null);
    if matches!(kind, VIEW | VIEW_FIELD) {
        m.insert("universalIdentifier".into(), json!(id));
        m.insert("applicationId".into(), json!(APPLICATION_ID));
        m.insert("isSystemSideEffect".into(), json!(false));
    }
    m
}

/// The values of a new entity's optional fields (Twenty's column defaults).
fn defaults(kind: &str) -> Value {
    match kind {
        VIEW => json!({
            "type": "TABLE", "key": null, "position": 0, "isCompact": false, "isCustom": true,
            "openRecordIn": "SIDE_PANEL", "kanbanAggregateOperation": null,
            "kanbanAggregateOperationFieldMetadataId": null, "mainGroupByFieldMetadataId": null,
            "shouldHideEmptyGroups": false, "kanbanColumnWidth": null, "groupLoadLimit": null,
            "calendarFieldMetadataId": null, "calendarEndFieldMetadataId": null,
            "anyFieldFilterValue": null, "calendarLayout": null, "visibility": "WORKSPACE",
            "createdByUserWorkspaceId": null, "isActive": true,
        }),
        VIEW_FIELD => json!({
            "isVisible": true, "size": 0, "position": 0, "aggregateOperation": null,
            "viewFieldGroupId": null, "isActive": true, "isOverridden": false,
        }),
        VIEW_FILTER => json!({
            "operand": "IS", "viewFilterGroupId": null, "positionInViewFilterGroup": null,
            "subFieldName": null, "relationTargetFieldMetadataId": null,
        }),
        VIEW_FILTER_GROUP => json!({
            "parentViewFilterGroupId": null, "logicalOperator": "AND",
            "positionInViewFilterGroup": null,
        }),
        VIEW_SORT => json!({ "direction": "ASC", "subFieldName": null }),
        VIEW_GROUP => json!({ "isVisible": true, "position": 0 }),
        VIEW_FIELD_GROUP => json!({
            "position": 0, "isVisible": true, "isActive": true, "isOverridden": false,
        }),
        NAVIGATION_MENU_ITEM => json!({
            "userWorkspaceId": null, "targetRecordId": null, "targetObjectMetadataId": null,
            "viewId": null, "name": null, "link": null, "icon": null, "color": null,
            "folderId": null, "pageLayoutId": null, "position": 0, "applicationId": null,
            "targetRecordIdentifier": null,
        }),
        _ => json!({}),
    }
}

/// The fields a default INDEX view shows: the label identifier first, then the object's
/// own fields (not system, not lists of related records, not search vectors).
fn default_view_fields(o: &ObjectMetadata) -> Vec<&crate::schema::metadata::FieldMetadata> {
    let label = o.label_identifier_field_name.as_deref();
    let mut out: Vec<_> = o
        .fields
        .iter()
        .filter(|f| f.is_active && Some(f.name.as_str()) == label)
        .collect();
    out.extend(o.fields.iter().filter(|f| {
        f.is_active
            && !f.is_system
            && Some(f.name.as_str()) != label
            && !f.is_one_to_many()
            && !matches!(
                f.field_type,
                FieldType::TsVector | FieldType::Position | FieldType::MorphRelation
            )
    }));
    out
}

/// The writes that give every object of `model` its defaults (INDEX view, view fields,
/// navigation menu item) if it never had them, and drop the views and menu items of
/// objects that no longer exist. Pure: the caller commits the writes.
pub fn plan_defaults(
    model: &WorkspaceModel,
    ents: &Entities,
    workspace_id: &str,
    now: &str,
) -> Vec<ViewWrite> {
    let mut writes = Vec::new();
    let object_ids: HashSet<&str> = model.objects.iter().map(|o| o.id.as_str()).collect();
    for v in ents.of(VIEW) {
        let object_id = v["objectMetadataId"].as_str().unwrap_or_default();
        if !object_ids.contains(object_id) {
            let id = v["id"].as_str().unwrap_or_default().to_string();
            writes.push(ViewWrite::DeleteChildren {
                view_id: id.clone(),
            });
            writes.push(ViewWrite::Delete { kind: VIEW, id });
        }
    }
    for n in ents.of(NAVIGATION_MENU_ITEM) {
        if let Some(target) = n["targetObjectMetadataId"].as_str() {
            if !object_ids.contains(target) {
                writes.push(ViewWrite::Delete {
                    kind: NAVIGATION_MENU_ITEM,
                    id: n["id"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
    }
    for s in ents.of(SEEDED_OBJECT) {
        let id = s["id"].as_str().unwrap_or_default();
        if !object_ids.contains(id) {
            writes.push(ViewWrite::Delete {
                kind: SEEDED_OBJECT,
                id: id.to_string(),
            });
        }
    }

    let seeded: HashSet<&str> = ents
        .of(SEEDED_OBJECT)
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    let mut next_nav_position = ents
        .of(NAVIGATION_MENU_ITEM)
        .iter()
        .filter_map(|n| n["position"].as_f64())
        .fold(-1.0_f64, f64::max)
        + 1.0;
    // Standard objects in Twenty's sidebar order, then the others in model order.
    let mut objects: Vec<&ObjectMetadata> = model.objects.iter().collect();
    objects.sort_by_key(|o| {
        NAVIGATION_ORDER
            .iter()
            .position(|n| *n == o.name_singular && !o.is_custom)
            .unwrap_or(NAVIGATION_ORDER.len())
    });
    for o in objects {
        if seeded.contains(o.id.as_str()) || !o.is_active {
            continue;
        }
        let view_id = new_id();
        let mut view = base(VIEW, &view_id, workspace_id, now);
        merge(&mut view, &defaults(VIEW));
        merge(
            &mut view,
            &json!({
                "name": format!("All {}", o.label_plural),
                "objectMetadataId": o.id,
                "key": "INDEX",
                "icon": o.icon.clone().unwrap_or_else(|| "IconList".to_string()),
                "isCustom": false,
            }),
        );
        writes.push(put(VIEW, Value::Object(view)));
        let label = o.label_identifier_field_name.as_deref();
        for (i, f) in default_view_fields(o).into_iter().enumerate() {
            let id = new_id();
            let mut vf = base(VIEW_FIELD, &id, workspace_id, now);
            merge(&mut vf, &defaults(VIEW_FIELD));
            let size = if Some(f.name.as_str()) == label {
                LABEL_IDENTIFIER_SIZE
            } else {
                DEFAULT_FIELD_SIZE
            };
            merge(
                &mut vf,
                &json!({ "fieldMetadataId": f.id, "viewId": view_id, "position": i, "size": size }),
            );
            writes.push(put(VIEW_FIELD, Value::Object(vf)));
        }
        if !o.is_system {
            let id = new_id();
            let mut item = base(NAVIGATION_MENU_ITEM, &id, workspace_id, now);
            merge(&mut item, &defaults(NAVIGATION_MENU_ITEM));
            merge(
                &mut item,
                &json!({
                    "type": "OBJECT",
                    "targetObjectMetadataId": o.id,
                    "position": next_nav_position,
                }),
            );
            item.remove("deletedAt");
            next_nav_position += 1.0;
            writes.push(put(NAVIGATION_MENU_ITEM, Value::Object(item)));
        }
        writes.push(ViewWrite::Put {
            kind: SEEDED_OBJECT,
            id: o.id.clone(),
            view_id: None,
            data: json!({ "id": o.id }),
        });
    }
    writes
}

fn merge(into: &mut Map<String, Value>, from: &Value) {
    if let Value::Object(m) = from {
        for (k, v) in m {
            into.insert(k.clone(), v.clone());
        }
    }
}

fn digest(parts: impl IntoIterator<Item = String>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update(b"\n");
    }
    format!("{:x}", h.finalize())
}

/// `collectionHashes`: one per `AllMetadataName`, a digest of that collection's content.
pub fn collection_hashes(model: &WorkspaceModel, ents: &Entities) -> Vec<Value> {
    ALL_METADATA_NAMES
        .iter()
        .map(|name| {
            let content: Vec<String> = match *name {
                "objectMetadata" => model
                    .objects
                    .iter()
                    .map(|o| {
                        json!([
                            o.id,
                            o.name_singular,
                            o.name_plural,
                            o.label_singular,
                            o.label_plural,
                            o.description,
                            o.icon,
                            o.is_active,
                            o.is_custom,
                            o.is_system,
                            o.is_searchable,
                            o.label_identifier_field_name,
                            o.image_identifier_field_name,
                            o.updated_at
                        ])
                        .to_string()
                    })
                    .collect(),
                // Indexes are derived from fields (unique fields, relations).
                "fieldMetadata" | "index" | "searchFieldMetadata" => model
                    .objects
                    .iter()
                    .map(|o| serde_json::to_string(&o.fields).unwrap_or_default())
                    .collect(),
                kind if ents.by_kind.contains_key(kind) => {
                    ents.of(kind).iter().map(Value::to_string).collect()
                }
                _ => vec![],
            };
            json!({
                "collectionName": name,
                "hash": digest(std::iter::once(name.to_string()).chain(content)),
            })
        })
        .collect()
}

fn by_position(list: &mut [Value], key: &str) {
    list.sort_by(|a, b| {
        let pa = a[key].as_f64().unwrap_or(0.0);
        let pb = b[key].as_f64().unwrap_or(0.0);
        pa.partial_cmp(&pb)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a["createdAt"].as_str().cmp(&b["createdAt"].as_str()))
    });
}

/// The live children of `kind` of view `view_id`.
fn children(ents: &Entities, kind: &str, view_id: &str) -> Vec<Value> {
    let mut list: Vec<Value> = ents
        .live(kind)
        .filter(|e| e["viewId"] == view_id)
        .cloned()
        .collect();
    let key = match kind {
        VIEW_FILTER | VIEW_FILTER_GROUP => "positionInViewFilterGroup",
        _ => "position",
    };
    by_position(&mut list, key);
    list
}

fn field_group_output(ents: &Entities, group: &Value) -> Value {
    let mut g = group.clone();
    let id = group["id"].as_str().unwrap_or_default();
    let view_id = group["viewId"].as_str().unwrap_or_default();
    g["viewFields"] = Value::Array(
        children(ents, VIEW_FIELD, view_id)
            .into_iter()
            .filter(|f| f["viewFieldGroupId"] == id)
            .collect(),
    );
    g
}

/// A `View` with its children.
fn view_output(ents: &Entities, view: &Value) -> Value {
    let mut v = view.clone();
    let id = view["id"].as_str().unwrap_or_default();
    v["viewFields"] = Value::Array(children(ents, VIEW_FIELD, id));
    v["viewFilters"] = Value::Array(children(ents, VIEW_FILTER, id));
    v["viewFilterGroups"] = Value::Array(children(ents, VIEW_FILTER_GROUP, id));
    v["viewSorts"] = Value::Array(children(ents, VIEW_SORT, id));
    v["viewGroups"] = Value::Array(children(ents, VIEW_GROUP, id));
    v["viewFieldGroups"] = Value::Array(
        children(ents, VIEW_FIELD_GROUP, id)
            .iter()
            .map(|g| field_group_output(ents, g))
            .collect(),
    );
    v
}

fn output(ents: &Entities, kind: &str, e: &Value) -> Value {
    match kind {
        VIEW => view_output(ents, e),
        VIEW_FIELD_GROUP => field_group_output(ents, e),
        _ => e.clone(),
    }
}

// --- resolvers ----------------------------------------------------------------------------

struct Loaded {
    ws: Rc<dyn WorkspaceAccess>,
    model: Rc<WorkspaceModel>,
    ents: Entities,
}

/// The workspace's entities, after creating the defaults of objects that lack them.
fn load(mc: &MetaCtx) -> QueryResult<Loaded> {
    let ws = require_workspace(mc)?.clone();
    let model = ws
        .model()
        .ok_or_else(|| QueryError::internal("workspace has no model"))?;
    let mut ents = Entities::from_rows(ws.view_entities()?);
    let writes = plan_defaults(&model, &ents, ws.workspace_id(), &now_iso());
    if !writes.is_empty() {
        ws.write_view_entities(writes.clone())?;
        ents.apply(&writes);
    }
    Ok(Loaded { ws, model, ents })
}

/// `minimalMetadata`.
pub fn minimal_metadata(mc: &MetaCtx) -> QueryResult<Value> {
    let l = load(mc)?;
    let objects: Vec<Value> = l
        .model
        .objects
        .iter()
        .map(|o| {
            json!({
                "id": o.id, "nameSingular": o.name_singular, "namePlural": o.name_plural,
                "labelSingular": o.label_singular, "labelPlural": o.label_plural,
                "icon": o.icon, "color": null, "isActive": o.is_active,
                "isSystem": o.is_system, "isRemote": false,
            })
        })
        .collect();
    let views: Vec<Value> = l
        .ents
        .live(VIEW)
        .map(|v| {
            json!({
                "id": v["id"], "type": v["type"], "key": v["key"],
                "objectMetadataId": v["objectMetadataId"],
            })
        })
        .collect();
    Ok(json!({
        "objectMetadataItems": objects,
        "views": views,
        "collectionHashes": collection_hashes(&l.model, &l.ents),
    }))
}

/// `getViews(objectMetadataId, viewTypes)`.
pub fn get_views(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let l = load(mc)?;
    let object = arg(rc, "objectMetadataId");
    let types = arg(rc, "viewTypes");
    let mut views: Vec<Value> = l
        .ents
        .live(VIEW)
        .filter(|v| object.is_null() || v["objectMetadataId"] == object)
        .filter(|v| match &types {
            Value::Array(t) => t.contains(&v["type"]),
            _ => true,
        })
        .cloned()
        .collect();
    by_position(&mut views, "position");
    Ok(Value::Array(
        views.iter().map(|v| view_output(&l.ents, v)).collect(),
    ))
}

/// `getView(id)` and the single-entity queries (`getViewField(id)`, …): null when absent.
pub fn get_one(mc: &MetaCtx, rc: &ResolverContext<'_>, kind: &str) -> QueryResult<Value> {
    let l = load(mc)?;
    let id = arg(rc, "id");
    let found = l
        .ents
        .live(kind)
        .find(|e| e["id"] == id)
        .map(|e| output(&l.ents, kind, e))
        .unwrap_or(Value::Null);
    Ok(found)
}

/// `getViewFields(viewId)` and the other child lists (all views when `viewId` is absent).
pub fn get_children(mc: &MetaCtx, rc: &ResolverContext<'_>, kind: &str) -> QueryResult<Value> {
    let l = load(mc)?;
    let view_id = arg(rc, "viewId");
    let list: Vec<Value> = match view_id.as_str() {
        Some(v) => children(&l.ents, kind, v),
        None => l.ents.live(kind).cloned().collect(),
    };
    Ok(Value::Array(
        list.iter().map(|e| output(&l.ents, kind, e)).collect(),
    ))
}

/// `navigationMenuItems`, in position order.
pub fn navigation_menu_items(mc: &MetaCtx) -> QueryResult<Value> {
    let l = load(mc)?;
    let mut items: Vec<Value> = l.ents.of(NAVIGATION_MENU_ITEM).to_vec();
    by_position(&mut items, "position");
    Ok(Value::Array(items))
}

/// `navigationMenuItem(id)`.
pub fn navigation_menu_item(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let l = load(mc)?;
    let id = arg(rc, "id");
    Ok(l.ents
        .find(NAVIGATION_MENU_ITEM, id.as_str().unwrap_or_default())
        .cloned()
        .unwrap_or(Value::Null))
}

/// What a mutation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Update,
    Delete,
    Destroy,
}

/// `(op, kind, many)` of a view mutation name (`createManyViewFields`, `destroyViewSort`, …).
fn parse_mutation(name: &str) -> Option<(Op, &'static str, bool)> {
    let (op, rest) = [
        ("create", Op::Create),
        ("update", Op::Update),
        ("delete", Op::Delete),
        ("destroy", Op::Destroy),
    ]
    .iter()
    .find_map(|(p, op)| name.strip_prefix(p).map(|r| (*op, r)))?;
    let (many, entity) = match rest.strip_prefix("Many") {
        Some(e) => (true, e.strip_suffix('s')?),
        None => (false, rest),
    };
    let kind = match entity {
        "View" => VIEW,
        "ViewField" => VIEW_FIELD,
        "ViewFilter" => VIEW_FILTER,
        "ViewFilterGroup" => VIEW_FILTER_GROUP,
        "ViewSort" => VIEW_SORT,
        "ViewGroup" => VIEW_GROUP,
        "ViewFieldGroup" => VIEW_FIELD_GROUP,
        "NavigationMenuItem" => NAVIGATION_MENU_ITEM,
        _ => return None,
    };
    Some((op, kind, many))
}

/// Whether `name` is a view mutation this module serves.
pub fn is_mutation(name: &str) -> bool {
    parse_mutation(name).is_some()
}

/// The mutations whose schema type is `Boolean!`.
fn returns_bool(name: &str) -> bool {
    matches!(
        name,
        "deleteView"
            | "destroyView"
            | "deleteViewFilterGroup"
            | "destroyViewFilterGroup"
            | "deleteViewSort"
            | "destroyViewSort"
    )
}

fn type_name(kind: &str) -> &'static str {
    match kind {
        VIEW => "View",
        VIEW_FIELD => "View field",
        VIEW_FILTER => "View filter",
        VIEW_FILTER_GROUP => "View filter group",
        VIEW_SORT => "View sort",
        VIEW_GROUP => "View group",
        VIEW_FIELD_GROUP => "View field group",
        _ => "Navigation menu item",
    }
}

fn not_found(kind: &str, id: &str) -> QueryError {
    QueryError::new(
        ErrorKind::NotFound,
        format!("{} {id} not found", type_name(kind)),
    )
    .with_sub_code("NOT_FOUND")
}

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::bad_input(message).with_sub_code("INVALID_INPUT")
}

/// Keys a client may not change on an existing entity.
const IMMUTABLE: &[&str] = &[
    "id",
    "workspaceId",
    "createdAt",
    "viewId",
    "objectMetadataId",
    "universalIdentifier",
    "applicationId",
];

/// Checks the references of a created or updated entity: its view exists, its object and
/// fields are in the model and belong together.
fn check_references(
    model: &WorkspaceModel,
    ents: &Entities,
    kind: &str,
    e: &Value,
) -> QueryResult<()> {
    let object_id = if kind == VIEW || kind == NAVIGATION_MENU_ITEM {
        let key = if kind == VIEW {
            "objectMetadataId"
        } else {
            "targetObjectMetadataId"
        };
        match e[key].as_str() {
            Some(id) if model.object_by_id(id).is_none() => {
                return Err(invalid(format!("Object metadata {id} not found")))
            }
            Some(id) => Some(id.to_string()),
            None => None,
        }
    } else {
        let view_id = e["viewId"].as_str().unwrap_or_default();
        let view = ents
            .live(VIEW)
            .find(|v| v["id"] == view_id)
            .ok_or_else(|| not_found(VIEW, view_id))?;
        view["objectMetadataId"].as_str().map(str::to_string)
    };
    let field_keys = [
        "fieldMetadataId",
        "kanbanAggregateOperationFieldMetadataId",
        "mainGroupByFieldMetadataId",
        "calendarFieldMetadataId",
        "calendarEndFieldMetadataId",
    ];
    if let Some(object) = object_id.as_deref().and_then(|id| model.object_by_id(id)) {
        for key in field_keys {
            if let Some(fid) = e[key].as_str() {
                if object.field_by_id(fid).is_none() {
                    return Err(invalid(format!(
                        "Field metadata {fid} not found on object {}",
                        object.name_singular
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Runs a view mutation (create/update/delete/destroy of one or many entities).
pub fn mutate(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let name = rc.field().name();
    let (op, kind, many) = parse_mutation(name)
        .ok_or_else(|| QueryError::internal(format!("{name} is not a view mutation")))?;
    let mut l = load(mc)?;
    let now = now_iso();
    let workspace_id = l.ws.workspace_id().to_string();
    let user_workspace_id = match &mc.principal {
        Principal::User {
            user_workspace_id, ..
        } => user_workspace_id.clone(),
        _ => None,
    };

    // Inputs as (id, payload): creates carry the entity, updates the changes.
    let inputs: Vec<(Option<String>, Value)> = match (op, many) {
        (Op::Create, false) => vec![(None, arg(rc, "input"))],
        (Op::Create, true) => as_list(arg(rc, "inputs"))
            .into_iter()
            .map(|i| (None, i))
            .collect(),
        (Op::Update, false) => {
            let id = arg(rc, "id");
            let input = arg(rc, "input");
            match id.as_str() {
                // `updateView(id, input)`, `updateViewFilterGroup(id, input)`.
                Some(id) => vec![(Some(id.to_string()), input)],
                None => vec![(
                    input["id"].as_str().map(str::to_string),
                    input["update"].clone(),
                )],
            }
        }
        (Op::Update, true) => as_list(arg(rc, "inputs"))
            .into_iter()
            .map(|i| (i["id"].as_str().map(str::to_string), i["update"].clone()))
            .collect(),
        (Op::Delete | Op::Destroy, false) => {
            // `deleteView(id)` or `deleteViewField(input: {id})`.
            let id = arg(rc, "id")
                .as_str()
                .map(str::to_string)
                .or_else(|| arg(rc, "input")["id"].as_str().map(str::to_string));
            vec![(id, Value::Null)]
        }
        (Op::Delete | Op::Destroy, true) => as_list(arg(rc, "ids"))
            .into_iter()
            .map(|i| (i.as_str().map(str::to_string), Value::Null))
            .collect(),
    };

    let mut writes = Vec::new();
    let mut results = Vec::new();
    for (id, payload) in inputs {
        // Each entity sees the effect of the ones before it (createManyViewFields).
        let step = match op {
            Op::Create => {
                let mut e = Map::new();
                let id = payload["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(new_id);
                if l.ents.find(kind, &id).is_some() {
                    return Err(invalid(format!("{} {id} already exists", type_name(kind))));
                }
                e.extend(base(kind, &id, &workspace_id, &now));
                merge(&mut e, &defaults(kind));
                if kind == VIEW {
                    e.insert("createdByUserWorkspaceId".into(), json!(user_workspace_id));
                }
                if kind == NAVIGATION_MENU_ITEM {
                    e.remove("deletedAt");
                }
                match payload {
                    Value::Object(m) => {
                        for (k, v) in m {
                            // Known keys take explicit nulls; unknown null keys are dropped.
                            if k != "id" && (!v.is_null() || e.contains_key(&k)) {
                                e.insert(k, v);
                            }
                        }
                    }
                    _ => return Err(invalid("input must be an object")),
                }
                e.insert("id".into(), json!(id));
                let e = Value::Object(e);
                check_references(&l.model, &l.ents, kind, &e)?;
                vec![put(kind, e)]
            }
            Op::Update => {
                let id = id.ok_or_else(|| invalid("id is required"))?;
                let mut e = l
                    .ents
                    .find(kind, &id)
                    .cloned()
                    .ok_or_else(|| not_found(kind, &id))?;
                if let (Value::Object(target), Value::Object(changes)) = (&mut e, payload) {
                    for (k, v) in changes {
                        if !IMMUTABLE.contains(&k.as_str()) {
                            target.insert(k, v);
                        }
                    }
                    target.insert("updatedAt".into(), json!(now));
                }
                check_references(&l.model, &l.ents, kind, &e)?;
                vec![put(kind, e)]
            }
            Op::Delete if kind != NAVIGATION_MENU_ITEM => {
                let id = id.ok_or_else(|| invalid("id is required"))?;
                let mut e = l
                    .ents
                    .find(kind, &id)
                    .cloned()
                    .ok_or_else(|| not_found(kind, &id))?;
                e["deletedAt"] = json!(now);
                e["updatedAt"] = json!(now);
                vec![put(kind, e)]
            }
            Op::Delete | Op::Destroy => {
                let id = id.ok_or_else(|| invalid("id is required"))?;
                let e = l
                    .ents
                    .find(kind, &id)
                    .cloned()
                    .ok_or_else(|| not_found(kind, &id))?;
                let mut w = vec![ViewWrite::Delete {
                    kind,
                    id: id.clone(),
                }];
                if kind == VIEW {
                    w.push(ViewWrite::DeleteChildren { view_id: id });
                }
                // What the answer shows: the entity as it was.
                results.push(output(&l.ents, kind, &e));
                l.ents.apply(&w);
                writes.extend(w);
                continue;
            }
        };
        l.ents.apply(&step);
        if let Some(ViewWrite::Put { kind, id, .. }) = step.first() {
            if let Some(e) = l.ents.find(kind, id) {
                results.push(output(&l.ents, kind, e));
            }
        }
        writes.extend(step);
    }
    l.ws.write_view_entities(writes)?;

    if returns_bool(name) {
        return Ok(json!(true));
    }
    if many {
        return Ok(Value::Array(results));
    }
    results
        .into_iter()
        .next()
        .ok_or_else(|| QueryError::internal(format!("{name} produced nothing")))
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => vec![],
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> WorkspaceModel {
        let mut n = 0;
        crate::schema::standard::standard_model("2026-01-01T00:00:00.000Z", &mut || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        })
    }

    #[test]
    fn mutation_names_parse() {
        assert_eq!(
            parse_mutation("createManyViewFields"),
            Some((Op::Create, VIEW_FIELD, true))
        );
        assert_eq!(
            parse_mutation("destroyViewFilterGroup"),
            Some((Op::Destroy, VIEW_FILTER_GROUP, false))
        );
        assert_eq!(
            parse_mutation("deleteManyNavigationMenuItems"),
            Some((Op::Delete, NAVIGATION_MENU_ITEM, true))
        );
        assert_eq!(
            parse_mutation("updateView"),
            Some((Op::Update, VIEW, false))
        );
        assert_eq!(parse_mutation("upsertViewWidget"), None);
        assert_eq!(parse_mutation("createOneObject"), None);
    }

    #[test]
    fn every_object_gets_an_index_view_once_and_hashes_follow_content() {
        let m = model();
        let mut ents = Entities::default();
        let writes = plan_defaults(&m, &ents, "w", "2026-01-01T00:00:00.000Z");
        ents.apply(&writes);
        let views: Vec<&Value> = ents.of(VIEW).iter().collect();
        assert_eq!(views.len(), m.objects.len());
        for o in &m.objects {
            let v = views
                .iter()
                .find(|v| v["objectMetadataId"] == o.id.as_str())
                .expect("a view per object");
            assert_eq!(v["key"], "INDEX");
            let fields = children(&ents, VIEW_FIELD, v["id"].as_str().unwrap());
            assert!(!fields.is_empty(), "{} has view fields", o.name_singular);
        }
        let nav: Vec<&str> = ents
            .of(NAVIGATION_MENU_ITEM)
            .iter()
            .filter_map(|n| {
                let id = n["targetObjectMetadataId"].as_str()?;
                m.object_by_id(id).map(|o| o.name_singular.as_str())
            })
            .collect();
        assert!(nav.contains(&"person") && nav.contains(&"company"));
        assert!(!nav.contains(&"noteTarget"));
        // Nothing more to do the second time.
        assert!(plan_defaults(&m, &ents, "w", "later").is_empty());

        let before = collection_hashes(&m, &ents);
        let hash = |hs: &[Value], n: &str| {
            hs.iter()
                .find(|h| h["collectionName"] == n)
                .map(|h| h["hash"].clone())
                .unwrap()
        };
        // A view sort changes the viewSort hash only.
        let view_id = ents.of(VIEW)[0]["id"].as_str().unwrap().to_string();
        let sort = json!({ "id": "s1", "viewId": view_id, "direction": "ASC", "deletedAt": null });
        ents.apply(&[put(VIEW_SORT, sort)]);
        let after = collection_hashes(&m, &ents);
        assert_ne!(hash(&before, "viewSort"), hash(&after, "viewSort"));
        assert_eq!(hash(&before, "view"), hash(&after, "view"));
        assert_eq!(
            hash(&before, "objectMetadata"),
            hash(&after, "objectMetadata")
        );
        assert_eq!(before.len(), ALL_METADATA_NAMES.len());
    }
}
