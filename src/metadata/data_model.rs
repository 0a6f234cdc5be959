//! The data model on `/metadata`: `objects`, `object`, `fields`, `field`, shaped as Twenty's
//! `Object` and `Field` types (nestjs-query connections with cursor paging and filters).

use async_graphql::dynamic::ResolverContext;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{arg, now_iso, require_workspace, MetaCtx};
use crate::schema::error::{QueryError, QueryResult};
use crate::schema::metadata::{
    FieldMetadata, FieldType, ObjectMetadata, OnDelete, RelationType, WorkspaceModel,
};
use crate::schema::model_change;
use crate::schema::rest;

/// Twenty attributes standard metadata to its "standard application"; one fixed id stands
/// for it here.
pub const APPLICATION_ID: &str = "20202020-64aa-4b6f-b003-9c74b97cee20";

fn model(mc: &MetaCtx) -> QueryResult<std::rc::Rc<WorkspaceModel>> {
    require_workspace(mc)?
        .model()
        .ok_or_else(|| QueryError::internal("workspace has no model"))
}

/// A `Field` as `/metadata` returns it. `relation` is filled for relation fields; the
/// objects and fields inside it are shallow (no nested connections).
pub fn field_json(
    model: &WorkspaceModel,
    o: &ObjectMetadata,
    f: &FieldMetadata,
    with_relation: bool,
) -> Value {
    let (relation, object) = if with_relation {
        (relation_json(model, o, f), object_json(model, o, false))
    } else {
        (Value::Null, Value::Null)
    };
    // Relation fields describe their side in `settings`, as Twenty's do.
    let settings = match (&f.settings, &f.relation) {
        (None, Some(r)) => match r.relation_type {
            RelationType::ManyToOne => json!({
                "relationType": "MANY_TO_ONE",
                "onDelete": r.on_delete.unwrap_or(OnDelete::SetNull),
                "joinColumnName": f.storage_key(),
            }),
            RelationType::OneToMany => json!({ "relationType": "ONE_TO_MANY" }),
        },
        (s, _) => s.clone().unwrap_or(Value::Null),
    };
    json!({
        "id": f.id,
        "universalIdentifier": f.id,
        "type": f.field_type.as_str(),
        "name": f.name,
        "label": f.label,
        "description": f.description,
        "icon": f.icon,
        "isActive": f.is_active,
        "isSystem": f.is_system,
        "isUIEditable": !f.is_system,
        "isUIReadOnly": f.is_system,
        "writability": "OPEN",
        "isCustom": f.is_custom,
        "isNullable": f.is_nullable,
        "isUnique": f.is_unique,
        "isSearchable": false,
        "isAuditLogged": true,
        "defaultValue": f.default_value,
        "options": f.options,
        "settings": settings,
        "objectMetadataId": o.id,
        "isLabelSyncedWithName": false,
        "morphId": morph_id(o, f),
        "createdAt": f.created_at,
        "updatedAt": f.updated_at,
        "applicationId": APPLICATION_ID,
        "object": object,
        "relation": relation,
        "morphRelations": if with_relation { morph_relations(model, o, f) } else { Value::Null },
    })
}

/// Twenty groups the fields of one morph relation (`noteTarget.targetPerson`,
/// `noteTarget.targetCompany`, …) under one `morphId`. Every morph relation field of a host
/// object belongs to its one group, so the id is derived from the host's id: stable across
/// requests and workspaces' own object ids.
fn morph_id(o: &ObjectMetadata, f: &FieldMetadata) -> Value {
    if f.field_type != FieldType::MorphRelation {
        return Value::Null;
    }
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("morph:{}", o.id).as_bytes());
    let h = format!("{d:x}");
    // Shaped as a version-4-like UUID (the schema's UUID scalar).
    Value::String(format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    ))
}

/// A morph relation field's `morphRelations`: one relation per target of its group, as
/// newest Twenty declares them (the front resolves `noteTargets`, `taskTargets`, timeline
/// activities and attachments through these).
fn morph_relations(model: &WorkspaceModel, o: &ObjectMetadata, f: &FieldMetadata) -> Value {
    if f.field_type != FieldType::MorphRelation {
        return json!([]);
    }
    Value::Array(
        o.fields
            .iter()
            .filter(|g| g.is_active && g.field_type == FieldType::MorphRelation)
            .map(|g| relation_json(model, o, g))
            .filter(|r| !r.is_null())
            .collect(),
    )
}

fn relation_json(model: &WorkspaceModel, o: &ObjectMetadata, f: &FieldMetadata) -> Value {
    let Some(r) = &f.relation else {
        return Value::Null;
    };
    let Some((target, inverse)) = model.inverse_of(f) else {
        return Value::Null;
    };
    json!({
        "type": match r.relation_type {
            RelationType::ManyToOne => "MANY_TO_ONE",
            RelationType::OneToMany => "ONE_TO_MANY",
        },
        "sourceObjectMetadata": object_json(model, o, false),
        "targetObjectMetadata": object_json(model, target, false),
        "sourceFieldMetadata": field_json(model, o, f, false),
        "targetFieldMetadata": field_json(model, target, inverse, false),
    })
}

/// An `Object`; `deep` includes its fields (connection and list).
pub fn object_json(model: &WorkspaceModel, o: &ObjectMetadata, deep: bool) -> Value {
    let id_of = |name: Option<&str>| {
        name.and_then(|n| o.field(n))
            .map(|f| Value::String(f.id.clone()))
            .unwrap_or(Value::Null)
    };
    let fields: Vec<Value> = if deep {
        o.fields
            .iter()
            .map(|f| field_json(model, o, f, true))
            .collect()
    } else {
        vec![]
    };
    json!({
        "id": o.id,
        "universalIdentifier": o.id,
        "nameSingular": o.name_singular,
        "namePlural": o.name_plural,
        "labelSingular": o.label_singular,
        "labelPlural": o.label_plural,
        "description": o.description,
        "icon": o.icon,
        "shortcut": null,
        "color": null,
        "isCustom": o.is_custom,
        "isRemote": false,
        "isActive": o.is_active,
        "isSystem": o.is_system,
        "isUIEditable": !o.is_system,
        "isUICreatable": !o.is_system,
        "isUIReadOnly": o.is_system,
        "isSearchable": o.is_searchable,
        "openRecordIn": "SIDE_PANEL",
        "readability": "OPEN",
        "readabilityParentFieldUniversalIdentifiers": null,
        "writability": "OPEN",
        "applicationId": APPLICATION_ID,
        "createdAt": o.created_at,
        "updatedAt": o.updated_at,
        "labelIdentifierFieldMetadataId": id_of(o.label_identifier_field_name.as_deref()),
        "imageIdentifierFieldMetadataId": id_of(o.image_identifier_field_name.as_deref()),
        "isLabelSyncedWithName": false,
        "duplicateCriteria": null,
        "fields": connection(fields.clone()),
        "indexMetadatas": connection(vec![]),
        "fieldsList": fields,
        "indexMetadataList": [],
        "searchFieldMetadataList": [],
    })
}

/// A nestjs-query connection of all `nodes` (nested connections are not paged).
fn connection(nodes: Vec<Value>) -> Value {
    page(nodes, &Value::Null).unwrap_or_else(|_| json!({ "edges": [], "pageInfo": {} }))
}

fn cursor(index: usize) -> String {
    B64.encode(format!("arrayconnection:{index}"))
}

fn decode_cursor(c: &str) -> QueryResult<usize> {
    B64.decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.strip_prefix("arrayconnection:")
                .and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| QueryError::bad_input(format!("Invalid cursor: {c}")))
}

/// Cursor paging (`first`/`after`, `last`/`before`) over an ordered list.
fn page(nodes: Vec<Value>, paging: &Value) -> QueryResult<Value> {
    let total = nodes.len();
    let after = match paging["after"].as_str() {
        Some(c) => decode_cursor(c)? + 1,
        None => 0,
    };
    let before = match paging["before"].as_str() {
        Some(c) => decode_cursor(c)?.min(total),
        None => total,
    };
    let (mut start, mut end) = (after.min(before), before);
    if let Some(first) = paging["first"].as_u64() {
        end = end.min(start + first as usize);
    }
    if let Some(last) = paging["last"].as_u64() {
        start = start.max(end.saturating_sub(last as usize));
    }
    let edges: Vec<Value> = nodes[start..end]
        .iter()
        .enumerate()
        .map(|(i, n)| json!({ "node": n, "cursor": cursor(start + i) }))
        .collect();
    Ok(json!({
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < total,
            "hasPreviousPage": start > 0,
            "startCursor": (start < end).then(|| cursor(start)),
            "endCursor": (start < end).then(|| cursor(end - 1)),
        },
    }))
}

/// nestjs-query filters (`and`, `or`, `field: {is, isNot, eq, neq, in, notIn}`) on JSON.
pub fn matches(node: &Value, filter: &Value) -> bool {
    let Some(map) = filter.as_object() else {
        return true;
    };
    map.iter().all(|(key, cond)| match key.as_str() {
        "and" => cond
            .as_array()
            .into_iter()
            .flatten()
            .all(|f| matches(node, f)),
        "or" => {
            let branches: Vec<&Value> = cond.as_array().into_iter().flatten().collect();
            branches.is_empty() || branches.iter().any(|f| matches(node, f))
        }
        field => {
            let v = &node[field];
            cond.as_object()
                .into_iter()
                .flatten()
                .all(|(op, arg)| match op.as_str() {
                    "is" => match arg {
                        Value::Null => v.is_null(),
                        other => v == other,
                    },
                    "isNot" => match arg {
                        Value::Null => !v.is_null(),
                        other => v != other,
                    },
                    "eq" => v == arg,
                    "neq" => v != arg,
                    "in" => arg.as_array().is_some_and(|a| a.contains(v)),
                    "notIn" => arg.as_array().is_none_or(|a| !a.contains(v)),
                    _ => true,
                })
        }
    })
}

pub async fn objects(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let model = model(mc)?;
    let filter = arg(rc, "filter");
    let nodes: Vec<Value> = model
        .objects
        .iter()
        .map(|o| object_json(&model, o, true))
        .filter(|n| matches(n, &filter))
        .collect();
    page(nodes, &arg(rc, "paging"))
}

pub async fn object(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let model = model(mc)?;
    let id = arg(rc, "id");
    model
        .objects
        .iter()
        .find(|o| Some(o.id.as_str()) == id.as_str())
        .map(|o| object_json(&model, o, true))
        .ok_or_else(|| {
            QueryError::new(
                crate::schema::error::ErrorKind::NotFound,
                "Object not found",
            )
        })
}

pub async fn fields(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let model = model(mc)?;
    let filter = arg(rc, "filter");
    let nodes: Vec<Value> = model
        .objects
        .iter()
        .flat_map(|o| o.fields.iter().map(move |f| (o, f)))
        .map(|(o, f)| field_json(&model, o, f, true))
        .filter(|n| matches(n, &filter))
        .collect();
    page(nodes, &arg(rc, "paging"))
}

pub async fn field(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let model = model(mc)?;
    let id = arg(rc, "id");
    model
        .objects
        .iter()
        .flat_map(|o| o.fields.iter().map(move |f| (o, f)))
        .find(|(_, f)| Some(f.id.as_str()) == id.as_str())
        .map(|(o, f)| field_json(&model, o, f, true))
        .ok_or_else(|| {
            QueryError::new(crate::schema::error::ErrorKind::NotFound, "Field not found")
        })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn object_of(model: &WorkspaceModel, id: &str) -> QueryResult<Value> {
    model
        .object_by_id(id)
        .map(|o| object_json(model, o, true))
        .ok_or_else(|| QueryError::internal("changed object missing from the new model"))
}

fn field_of(model: &WorkspaceModel, id: &str) -> QueryResult<Value> {
    model
        .objects
        .iter()
        .flat_map(|o| o.fields.iter().map(move |f| (o, f)))
        .find(|(_, f)| f.id == id)
        .map(|(o, f)| field_json(model, o, f, true))
        .ok_or_else(|| QueryError::internal("changed field missing from the new model"))
}

/// `input.id` as a string.
fn input_id(input: &Value) -> QueryResult<String> {
    input["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| QueryError::bad_input("input.id is required"))
}

pub async fn create_one_object(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let input = arg(rc, "input");
    let now = now_iso();
    let (model, id) = require_workspace(mc)?
        .change_model(&|m| model_change::create_object(m, &input["object"], &now, &mut new_id))?;
    object_of(&model, &id)
}

pub async fn update_one_object(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let input = arg(rc, "input");
    let id = input_id(&input)?;
    let now = now_iso();
    let (model, id) = require_workspace(mc)?
        .change_model(&|m| model_change::update_object(m, &id, &input["update"], &now))?;
    object_of(&model, &id)
}

pub async fn delete_one_object(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let id = input_id(&arg(rc, "input"))?;
    let before = model(mc)?;
    let shown = before
        .object_by_id(&id)
        .map(|o| object_json(&before, o, false));
    require_workspace(mc)?.change_model(&|m| model_change::delete_object(m, &id))?;
    shown.ok_or_else(|| QueryError::internal("deleted object had no metadata"))
}

pub async fn create_one_field(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let input = arg(rc, "input");
    let now = now_iso();
    let (model, id) = require_workspace(mc)?
        .change_model(&|m| model_change::create_field(m, &input["field"], &now, &mut new_id))?;
    field_of(&model, &id)
}

pub async fn update_one_field(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let input = arg(rc, "input");
    let id = input_id(&input)?;
    let now = now_iso();
    let (model, id) = require_workspace(mc)?.change_model(&|m| {
        model_change::update_field(m, &id, &input["update"], &now, &mut new_id)
    })?;
    field_of(&model, &id)
}

pub async fn delete_one_field(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let id = input_id(&arg(rc, "input"))?;
    let before = model(mc)?;
    let shown = field_of(&before, &id).ok();
    require_workspace(mc)?.change_model(&|m| model_change::delete_field(m, &id))?;
    shown.ok_or_else(|| QueryError::internal("deleted field had no metadata"))
}

/// `/rest/metadata/{objects,fields}[/{id}]` (Twenty's metadata REST API): the same reads and
/// changes as the GraphQL operations above, with REST envelopes.
pub fn rest(
    ws: &dyn super::WorkspaceAccess,
    method: &str,
    path: &str,
    body: &[u8],
) -> QueryResult<(u16, Value)> {
    let segments: Vec<&str> = path
        .trim_start_matches("/rest/metadata")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let model = ws
        .model()
        .ok_or_else(|| QueryError::internal("workspace has no model"))?;
    let input = || rest::body_json(body);
    let checked = rest::checked_id;
    let not_found = |what: &str| {
        QueryError::new(
            crate::schema::error::ErrorKind::NotFound,
            format!("{what} not found"),
        )
    };
    let now = now_iso();
    let data = |key: &str, v: Value| json!({ "data": { key: v } });
    let list = |key: &str, nodes: Vec<Value>| {
        json!({ "data": { key: nodes }, "totalCount": nodes.len(),
                "pageInfo": { "hasNextPage": false, "hasPreviousPage": false } })
    };
    let method = method.to_ascii_uppercase();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["objects"]) => {
            let nodes = model.objects.iter().map(|o| rest_object(&model, o)).collect();
            Ok((200, list("objects", nodes)))
        }
        ("GET", ["objects", id]) => {
            let id = checked(id)?;
            let o = model.object_by_id(&id).ok_or_else(|| not_found("Object"))?;
            Ok((200, data("object", rest_object(&model, o))))
        }
        ("POST", ["objects"]) => {
            let body = input()?;
            let (m, id) =
                ws.change_model(&|m| model_change::create_object(m, &body, &now, &mut new_id))?;
            let o = m.object_by_id(&id).ok_or_else(|| not_found("Object"))?;
            Ok((201, data("createOneObject", rest_object(&m, o))))
        }
        ("PATCH" | "PUT", ["objects", id]) => {
            let id = checked(id)?;
            let body = input()?;
            let (m, id) =
                ws.change_model(&|m| model_change::update_object(m, &id, &body, &now))?;
            let o = m.object_by_id(&id).ok_or_else(|| not_found("Object"))?;
            Ok((200, data("updateOneObject", rest_object(&m, o))))
        }
        ("DELETE", ["objects", id]) => {
            let id = checked(id)?;
            ws.change_model(&|m| model_change::delete_object(m, &id))?;
            Ok((200, data("deleteOneObject", json!({ "id": id }))))
        }
        ("GET", ["fields"]) => {
            let nodes = model
                .objects
                .iter()
                .flat_map(|o| o.fields.iter().map(move |f| (o, f)))
                .map(|(o, f)| field_json(&model, o, f, false))
                .collect();
            Ok((200, list("fields", nodes)))
        }
        ("GET", ["fields", id]) => {
            let id = checked(id)?;
            let f = field_of(&model, &id).map_err(|_| not_found("Field"))?;
            Ok((200, data("field", f)))
        }
        ("POST", ["fields"]) => {
            let body = input()?;
            let (m, id) =
                ws.change_model(&|m| model_change::create_field(m, &body, &now, &mut new_id))?;
            Ok((201, data("createOneField", field_of(&m, &id)?)))
        }
        ("PATCH" | "PUT", ["fields", id]) => {
            let id = checked(id)?;
            let body = input()?;
            let (m, id) = ws.change_model(&|m| {
                model_change::update_field(m, &id, &body, &now, &mut new_id)
            })?;
            Ok((200, data("updateOneField", field_of(&m, &id)?)))
        }
        ("DELETE", ["fields", id]) => {
            let id = checked(id)?;
            ws.change_model(&|m| model_change::delete_field(m, &id))?;
            Ok((200, data("deleteOneField", json!({ "id": id }))))
        }
        _ => Err(QueryError::bad_input(format!(
            "Query path '{path}' invalid. Valid examples: /rest/metadata/objects or /rest/metadata/fields/id"
        ))),
    }
}

/// An object for REST: its fields as a plain list.
fn rest_object(model: &WorkspaceModel, o: &ObjectMetadata) -> Value {
    let mut v = object_json(model, o, false);
    v["fields"] = Value::Array(
        o.fields
            .iter()
            .map(|f| field_json(model, o, f, false))
            .collect(),
    );
    if let Some(map) = v.as_object_mut() {
        map.remove("fieldsList");
        map.remove("indexMetadatas");
        map.remove("indexMetadataList");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging() {
        let nodes: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let p = page(nodes.clone(), &json!({"first": 2})).unwrap();
        assert_eq!(p["edges"].as_array().unwrap().len(), 2);
        assert_eq!(p["pageInfo"]["hasNextPage"], true);
        let after = p["pageInfo"]["endCursor"].as_str().unwrap().to_string();
        let p = page(nodes.clone(), &json!({"first": 10, "after": after})).unwrap();
        assert_eq!(p["edges"][0]["node"], 2);
        assert_eq!(p["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(p["pageInfo"]["hasNextPage"], false);
        assert!(page(nodes, &json!({"after": "junk"})).is_err());
    }

    #[test]
    fn filters() {
        let n = json!({"id": "a", "isActive": true, "isSystem": false});
        let check = |f: Value, want: bool| assert_eq!(matches(&n, &f), want, "{f}");
        check(json!({}), true);
        check(json!({"isActive": {"is": true}}), true);
        check(json!({"isSystem": {"is": true}}), false);
        check(json!({"id": {"in": ["a", "b"]}}), true);
        check(json!({"id": {"eq": "b"}}), false);
        check(
            json!({"or": [{"id": {"eq": "b"}}, {"isActive": {"is": true}}]}),
            true,
        );
        check(
            json!({"and": [{"id": {"eq": "a"}}, {"isSystem": {"isNot": false}}]}),
            false,
        );
    }
}
