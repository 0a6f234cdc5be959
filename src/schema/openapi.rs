//! OpenAPI 3.1 documents of a workspace's REST API, generated from its model (custom objects
//! included), as Twenty serves them at `/open-api/core` and `/open-api/metadata`.
//!
//! **Architecture Invariant:** the documents describe what `schema::rest` and the actor
//! really answer: every status an operation can return is listed, record schemas allow the
//! nulls storage holds, and a schema-driven fuzzer runs against them in `tests/openapi.rs`.

use serde_json::{json, Map, Value};

use super::composite;
use super::metadata::{FieldMetadata, FieldType, ObjectMetadata, WorkspaceModel};
use super::rest::{DEFAULT_LIMIT, MAX_LIMIT};

fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut m) => {
            match m.get("type").cloned() {
                Some(Value::String(t)) => {
                    m.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(values)) = m.get_mut("enum") {
                        values.push(Value::Null);
                    }
                }
                _ => {
                    return json!({ "anyOf": [Value::Object(m), { "type": "null" }] });
                }
            }
            Value::Object(m)
        }
        other => other,
    }
}

/// The JSON schema of a field's value (`input`: as written, else as read).
fn field_schema(f: &FieldMetadata, input: bool) -> Value {
    let options = || -> Vec<Value> { f.option_values().into_iter().map(|v| json!(v)).collect() };
    let base = match f.field_type {
        FieldType::Uuid => json!({ "type": "string", "format": "uuid" }),
        FieldType::Text => json!({ "type": "string" }),
        FieldType::Number | FieldType::Numeric | FieldType::Position => json!({ "type": "number" }),
        FieldType::Boolean => json!({ "type": "boolean" }),
        FieldType::DateTime => {
            if input {
                json!({ "type": "string", "format": "date-time" })
            } else {
                json!({ "type": "string" })
            }
        }
        FieldType::Date => {
            if input {
                json!({ "type": "string", "format": "date" })
            } else {
                json!({ "type": "string" })
            }
        }
        FieldType::Select | FieldType::Rating => json!({ "type": "string", "enum": options() }),
        FieldType::MultiSelect => {
            json!({ "type": "array", "items": { "type": "string", "enum": options() } })
        }
        FieldType::Array => json!({ "type": "array", "items": { "type": "string" } }),
        FieldType::RawJson | FieldType::Files | FieldType::TsVector => return json!({}),
        t if t.is_composite() => {
            let mut props = Map::new();
            for s in composite::subfields(t).unwrap_or(&[]) {
                if input && s.hidden == composite::Hidden::Input {
                    continue;
                }
                let sub = match s.field_type {
                    FieldType::Text => json!({ "type": "string" }),
                    FieldType::Number => json!({ "type": "number" }),
                    FieldType::Numeric => json!({ "type": "number" }),
                    FieldType::Uuid => json!({ "type": "string", "format": "uuid" }),
                    FieldType::Select if t == FieldType::Actor => {
                        json!({ "type": "string", "enum": composite::ACTOR_SOURCES })
                    }
                    _ => json!({}),
                };
                props.insert(s.name.to_string(), nullable(sub));
            }
            let mut schema = json!({ "type": "object", "properties": props });
            if input {
                schema["additionalProperties"] = json!(false);
            }
            schema
        }
        _ => return json!({}),
    };
    nullable(base)
}

/// Fields a client may write (system fields are the server's, relations go through their
/// join columns).
fn writable(f: &FieldMetadata) -> bool {
    f.is_active
        && !f.is_one_to_many()
        && !matches!(
            f.field_type,
            FieldType::TsVector | FieldType::Files | FieldType::MorphRelation
        )
        && !matches!(
            f.name.as_str(),
            "createdAt" | "updatedAt" | "deletedAt" | "updatedBy" | "searchVector"
        )
}

fn record_schema(o: &ObjectMetadata) -> Value {
    let mut props = Map::new();
    for f in o.active_fields() {
        if f.is_one_to_many() || f.field_type == FieldType::TsVector {
            continue;
        }
        if f.is_many_to_one() {
            props.insert(
                f.storage_key(),
                json!({ "type": ["string", "null"], "format": "uuid" }),
            );
            continue;
        }
        props.insert(f.name.clone(), field_schema(f, false));
    }
    let mut schema = json!({ "type": "object", "properties": props, "required": ["id"] });
    if let Some(d) = &o.description {
        schema["description"] = json!(d);
    }
    schema
}

fn input_schema(o: &ObjectMetadata, for_update: bool) -> Value {
    let mut props = Map::new();
    let mut required = vec![];
    for f in o.active_fields().filter(|f| writable(f)) {
        if f.is_many_to_one() {
            props.insert(
                f.storage_key(),
                json!({ "type": ["string", "null"], "format": "uuid" }),
            );
            continue;
        }
        if for_update && f.name == "id" {
            continue;
        }
        let schema = if f.name == "createdBy" {
            json!({ "type": "object", "properties": {
                "source": { "type": "string", "enum": composite::ACTOR_SOURCES } } })
        } else if f.field_type == FieldType::Position {
            json!({ "anyOf": [{ "type": "number" }, { "type": "string", "enum": ["first", "last"] }] })
        } else {
            field_schema(f, true)
        };
        let schema = if !f.is_nullable && !for_update {
            // The server fills defaults; only a value without one is required.
            if f.default_json().is_none() && !f.field_type.is_composite() && f.name != "id" {
                required.push(json!(f.name));
            }
            strip_null(schema)
        } else if !f.is_nullable {
            strip_null(schema)
        } else {
            schema
        };
        props.insert(f.name.clone(), schema);
    }
    json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

fn strip_null(schema: Value) -> Value {
    match schema {
        Value::Object(mut m) => {
            if let Some(Value::Array(types)) = m.get("type") {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                m.insert(
                    "type".into(),
                    if kept.len() == 1 {
                        kept[0].clone()
                    } else {
                        Value::Array(kept)
                    },
                );
                if let Some(Value::Array(values)) = m.get_mut("enum") {
                    values.retain(|v| !v.is_null());
                }
            }
            Value::Object(m)
        }
        other => other,
    }
}

fn pascal(name: &str) -> String {
    super::metadata::capitalize(name)
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// Twenty's REST error envelope.
fn error_schema() -> Value {
    json!({ "type": "object", "required": ["statusCode", "error", "messages"], "properties": {
        "statusCode": { "type": "integer" }, "error": { "type": "string" },
        "messages": { "type": "array", "items": { "type": "string" } } } })
}

/// Every error an operation may answer with (Twenty's REST error envelope).
fn errors(responses: &mut Map<String, Value>) {
    for (code, description) in [
        ("400", "Bad request: invalid parameters or data"),
        ("401", "Unauthenticated"),
        ("402", "Record quota reached"),
        ("403", "Forbidden"),
        ("404", "Record not found"),
        ("405", "Not supported"),
        ("429", "Too many requests"),
    ] {
        responses.insert(code.into(), response(description, schema_ref("Error")));
    }
}

fn param(name: &str, location: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": location, "required": location == "path",
            "schema": schema, "description": description })
}

fn id_param() -> Value {
    param(
        "id",
        "path",
        json!({ "type": "string", "format": "uuid" }),
        "Record id",
    )
}

fn depth_param() -> Value {
    param(
        "depth",
        "query",
        json!({ "type": "integer", "enum": [0, 1] }),
        "0: the record; 1: with its relations",
    )
}

fn filter_param() -> Value {
    param(
        "filter",
        "query",
        json!({ "type": "string" }),
        "Twenty's filter grammar, e.g. `and(name[eq]:\"x\",createdAt[gte]:\"2024-01-01\")`",
    )
}

fn envelope(key: &str, value: Value) -> Value {
    json!({ "type": "object", "required": ["data"],
            "properties": { "data": { "type": "object", "required": [key], "properties": { key: value } } } })
}

fn operation(
    summary: String,
    tag: &str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: (&str, Value),
) -> Value {
    let mut responses = Map::new();
    responses.insert(ok.0.into(), response("Success", ok.1));
    errors(&mut responses);
    let mut op =
        json!({ "summary": summary, "tags": [tag], "parameters": params, "responses": responses });
    if let Some(b) = body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": b } } });
    }
    op
}

/// The `/open-api/core` document: the records of every active object.
pub fn core_document(model: &WorkspaceModel, server_url: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert("Error".into(), error_schema());
    schemas.insert(
        "PageInfo".into(),
        json!({ "type": "object", "properties": {
            "startCursor": { "type": ["string", "null"] }, "endCursor": { "type": ["string", "null"] },
            "hasNextPage": { "type": "boolean" }, "hasPreviousPage": { "type": "boolean" } } }),
    );
    for o in model.active_objects() {
        let s = pascal(&o.name_singular);
        let p = pascal(&o.name_plural);
        let (single, plural) = (&o.name_singular, &o.name_plural);
        schemas.insert(s.clone(), record_schema(o));
        schemas.insert(format!("{s}ForCreate"), input_schema(o, false));
        schemas.insert(format!("{s}ForUpdate"), input_schema(o, true));
        let record = schema_ref(&s);
        let records = json!({ "type": "array", "items": record });
        let id_only = json!({ "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } });
        let list_params = vec![
            filter_param(),
            param(
                "order_by",
                "query",
                json!({ "type": "string" }),
                "e.g. `createdAt[DescNullsLast],id`",
            ),
            param(
                "limit",
                "query",
                json!({ "type": "integer", "minimum": 0, "default": DEFAULT_LIMIT, "maximum": MAX_LIMIT }),
                "Page size",
            ),
            param(
                "starting_after",
                "query",
                json!({ "type": "string" }),
                "Cursor: records after it",
            ),
            param(
                "ending_before",
                "query",
                json!({ "type": "string" }),
                "Cursor: records before it",
            ),
            depth_param(),
        ];
        let list_ok = json!({ "type": "object", "required": ["data", "totalCount", "pageInfo"], "properties": {
            "data": { "type": "object", "required": [plural], "properties": { plural: records } },
            "totalCount": { "type": "integer" }, "pageInfo": schema_ref("PageInfo") } });
        paths.insert(
            format!("/{plural}"),
            json!({
                "get": operation(format!("Find {}", o.label_plural), plural, list_params, None, ("200", list_ok)),
                "post": operation(
                    format!("Create one {}", o.label_singular), plural,
                    vec![depth_param(), param("upsert", "query", json!({ "type": "boolean" }), "Update the record when it exists")],
                    Some(schema_ref(&format!("{s}ForCreate"))),
                    ("201", envelope(&format!("create{s}"), record.clone())),
                ),
                "patch": operation(
                    format!("Update {} matching a filter", o.label_plural), plural,
                    vec![filter_param(), depth_param()],
                    Some(schema_ref(&format!("{s}ForUpdate"))),
                    ("200", envelope(&format!("update{p}"), records.clone())),
                ),
                "delete": operation(
                    format!("Delete {} matching a filter", o.label_plural), plural,
                    vec![filter_param(), param("soft_delete", "query", json!({ "type": "boolean" }), "Soft delete (sets deletedAt)")],
                    None,
                    ("200", envelope(&format!("delete{p}"), json!({ "type": "array", "items": id_only }))),
                ),
            }),
        );
        paths.insert(
            format!("/{plural}/{{id}}"),
            json!({
                "get": operation(format!("Find one {}", o.label_singular), plural, vec![id_param(), depth_param()], None,
                                 ("200", envelope(single, record.clone()))),
                "patch": operation(format!("Update one {}", o.label_singular), plural, vec![id_param(), depth_param()],
                                   Some(schema_ref(&format!("{s}ForUpdate"))), ("200", envelope(&format!("update{s}"), record.clone()))),
                "put": operation(format!("Update one {}", o.label_singular), plural, vec![id_param(), depth_param()],
                                 Some(schema_ref(&format!("{s}ForUpdate"))), ("200", envelope(&format!("update{s}"), record.clone()))),
                "delete": operation(
                    format!("Delete one {}", o.label_singular), plural,
                    vec![id_param(), param("soft_delete", "query", json!({ "type": "boolean" }), "Soft delete (sets deletedAt)")],
                    None, ("200", envelope(&format!("delete{s}"), id_only.clone())),
                ),
            }),
        );
        paths.insert(
            format!("/batch/{plural}"),
            json!({ "post": operation(
                format!("Create many {}", o.label_plural), plural, vec![depth_param()],
                Some(json!({ "type": "array", "minItems": 1, "maxItems": MAX_LIMIT, "items": schema_ref(&format!("{s}ForCreate")) })),
                ("201", envelope(&format!("create{p}"), records.clone())),
            ) }),
        );
        let duplicates_ok = json!({ "type": "object", "required": ["data"], "properties": {
            "data": { "type": "array", "items": { "type": "object", "properties": {
                format!("{single}Duplicates"): records.clone(),
                "totalCount": { "type": "integer" }, "pageInfo": schema_ref("PageInfo") } } } } });
        paths.insert(
            format!("/{plural}/duplicates"),
            json!({ "post": operation(
                format!("Find duplicates of {}", o.label_plural), plural, vec![depth_param()],
                Some(json!({ "type": "object", "description": "Either `data` (records to compare) or `ids`",
                    "properties": {
                        "data": { "type": "array", "items": { "type": "object" } },
                        "ids": { "type": "array", "items": { "type": "string", "format": "uuid" } } } })),
                ("200", duplicates_ok),
            ) }),
        );
        paths.insert(
            format!("/{plural}/{{id}}/restore"),
            json!({ "patch": operation(format!("Restore one {}", o.label_singular), plural, vec![id_param(), depth_param()], None,
                                       ("200", envelope(&format!("restore{s}"), record.clone()))) }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "twenty-edge REST API",
            "version": "1.0.0",
            "description": "Twenty's REST API for this workspace's records, generated from its data model.",
        },
        "servers": [{ "url": format!("{}/rest", server_url.trim_end_matches('/')) }],
        "security": [{ "bearerAuth": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearerAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
        },
    })
}

/// The `/open-api/metadata` document: `/rest/metadata/objects` and `/rest/metadata/fields`.
pub fn metadata_document(server_url: &str) -> Value {
    let types: Vec<&str> = ALL_FIELD_TYPES.iter().map(|t| t.as_str()).collect();
    let object = json!({ "type": "object", "required": ["id", "nameSingular", "namePlural"], "properties": {
        "id": { "type": "string" }, "nameSingular": { "type": "string" }, "namePlural": { "type": "string" },
        "labelSingular": { "type": "string" }, "labelPlural": { "type": "string" },
        "description": { "type": ["string", "null"] }, "icon": { "type": ["string", "null"] },
        "isCustom": { "type": "boolean" }, "isActive": { "type": "boolean" }, "isSystem": { "type": "boolean" },
        "fields": { "type": "array", "items": schema_ref("Field") } } });
    let field = json!({ "type": "object", "required": ["id", "name", "type"], "properties": {
        "id": { "type": "string" }, "name": { "type": "string" }, "label": { "type": "string" },
        "type": { "type": "string", "enum": types.clone() }, "objectMetadataId": { "type": "string" },
        "description": { "type": ["string", "null"] }, "isNullable": { "type": ["boolean", "null"] },
        "isActive": { "type": ["boolean", "null"] }, "isCustom": { "type": ["boolean", "null"] } } });
    let name = json!({ "type": "string", "minLength": 1, "maxLength": 63 });
    let object_create = json!({ "type": "object", "additionalProperties": false,
        "required": ["nameSingular", "namePlural", "labelSingular", "labelPlural"], "properties": {
        "nameSingular": name, "namePlural": name, "labelSingular": name, "labelPlural": name,
        "description": { "type": "string" }, "icon": { "type": "string" } } });
    let object_update = json!({ "type": "object", "additionalProperties": false, "properties": {
        "labelSingular": name, "labelPlural": name, "description": { "type": "string" },
        "icon": { "type": "string" }, "isActive": { "type": "boolean" } } });
    let field_create = json!({ "type": "object", "additionalProperties": false,
        "required": ["objectMetadataId", "type", "name", "label"], "properties": {
        "objectMetadataId": { "type": "string", "format": "uuid" },
        "type": { "type": "string", "enum": types }, "name": name, "label": name,
        "description": { "type": "string" }, "icon": { "type": "string" },
        "isNullable": { "type": "boolean" }, "defaultValue": {}, "options": {}, "settings": {},
        "relationCreationPayload": { "type": "object" } } });
    let field_update = json!({ "type": "object", "additionalProperties": false, "properties": {
        "name": name, "label": name, "description": { "type": "string" }, "icon": { "type": "string" },
        "isActive": { "type": "boolean" }, "options": {}, "defaultValue": {} } });
    let list = |key: &str, item: Value| {
        json!({ "type": "object", "required": ["data"], "properties": {
            "data": { "type": "object", "required": [key], "properties": { key: { "type": "array", "items": item } } },
            "totalCount": { "type": "integer" }, "pageInfo": { "type": "object" } } })
    };
    let id_only = json!({ "type": "object", "required": ["id"], "properties": { "id": { "type": "string" } } });
    let mut paths = Map::new();
    for (plural, single, kind, create, update) in [
        ("objects", "object", "Object", object_create, object_update),
        ("fields", "field", "Field", field_create, field_update),
    ] {
        paths.insert(
            format!("/metadata/{plural}"),
            json!({
                "get": operation(format!("List {plural}"), plural, vec![], None, ("200", list(plural, schema_ref(kind)))),
                "post": operation(format!("Create one {single}"), plural, vec![], Some(create),
                                  ("201", envelope(&format!("createOne{kind}"), schema_ref(kind)))),
            }),
        );
        paths.insert(
            format!("/metadata/{plural}/{{id}}"),
            json!({
                "get": operation(format!("Find one {single}"), plural, vec![id_param()], None, ("200", envelope(single, schema_ref(kind)))),
                "patch": operation(format!("Update one {single}"), plural, vec![id_param()], Some(update),
                                   ("200", envelope(&format!("updateOne{kind}"), schema_ref(kind)))),
                "delete": operation(format!("Delete one {single}"), plural, vec![id_param()], None,
                                    ("200", envelope(&format!("deleteOne{kind}"), id_only.clone()))),
            }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "twenty-edge metadata REST API", "version": "1.0.0",
                  "description": "The workspace's data model: objects and fields." },
        "servers": [{ "url": format!("{}/rest", server_url.trim_end_matches('/')) }],
        "security": [{ "bearerAuth": [] }],
        "paths": paths,
        "components": {
            "schemas": { "Error": error_schema(), "Object": object, "Field": field },
            "securitySchemes": { "bearerAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
        },
    })
}

/// Field types, as the metadata API names them.
const ALL_FIELD_TYPES: &[FieldType] = &[
    FieldType::Uuid,
    FieldType::Text,
    FieldType::Phones,
    FieldType::Emails,
    FieldType::DateTime,
    FieldType::Date,
    FieldType::Boolean,
    FieldType::Number,
    FieldType::Numeric,
    FieldType::Links,
    FieldType::Currency,
    FieldType::FullName,
    FieldType::Rating,
    FieldType::Select,
    FieldType::MultiSelect,
    FieldType::Position,
    FieldType::Address,
    FieldType::RawJson,
    FieldType::RichText,
    FieldType::Actor,
    FieldType::Array,
    FieldType::Relation,
    FieldType::MorphRelation,
    FieldType::TsVector,
    FieldType::Files,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::standard::tests::model;

    #[test]
    fn documents_every_object_with_nullable_records() {
        let doc = core_document(&model(), "http://localhost:8787/");
        assert_eq!(doc["servers"][0]["url"], "http://localhost:8787/rest");
        assert!(doc["paths"]["/people"]["get"].is_object());
        assert!(doc["paths"]["/people/{id}"]["delete"].is_object());
        assert!(doc["paths"]["/batch/companies"]["post"].is_object());
        let person = &doc["components"]["schemas"]["Person"];
        assert_eq!(
            person["properties"]["companyId"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(
            person["properties"]["jobTitle"]["type"],
            json!(["string", "null"])
        );
        assert!(person["properties"].get("company").is_none());
        let stage = &doc["components"]["schemas"]["OpportunityForCreate"]["properties"]["stage"];
        assert_eq!(stage["enum"][0], "NEW");
        assert_eq!(stage["type"], "string", "required select: no null");
        for (_, item) in doc["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                assert!(op["responses"]["400"].is_object());
            }
        }
    }
}
