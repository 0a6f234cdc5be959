//! Validating and normalizing record writes against the model (FR-022): what a create or
//! update input becomes in storage, or a BAD_USER_INPUT error with nothing written.

use serde_json::{json, Map, Value};

use super::composite::{self, Hidden};
use super::error::{QueryError, QueryResult};
use super::metadata::{FieldMetadata, FieldType, ObjectMetadata};

/// Largest stored record (the JSON of all its fields). Cloudflare's SQLite caps a row at
/// 2 MB; the margin leaves room for the row's other columns and index entries.
pub const MAX_RECORD_BYTES: usize = 1_000_000;

/// Who writes and when; filled into createdAt/updatedAt/createdBy/updatedBy.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub now: String,
    /// Twenty's ACTOR value for the writer: `{source, workspaceMemberId, name, context}`.
    pub actor: Value,
}

/// Server-managed fields a client may not set on create or update.
const SERVER_FIELDS: &[&str] = &[
    "createdBy",
    "updatedBy",
    "updatedAt",
    "deletedAt",
    "searchVector",
];

/// A record as stored: `id`, `deletedAt` in columns, everything else in `data`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub id: String,
    pub data: Map<String, Value>,
    /// `position: "first"|"last"`, to be resolved against the table by the caller.
    pub position: Option<PositionRequest>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PositionRequest {
    First,
    Last,
}

/// Normalizes a date-time to `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC), the stored form that sorts
/// correctly as text.
pub fn normalize_datetime(raw: &str) -> Option<String> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(
            d.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(
            d.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| {
            d.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
}

pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

fn input_object(input: &Value) -> QueryResult<&Map<String, Value>> {
    input
        .as_object()
        .ok_or_else(|| bad("data must be an object"))
}

fn bad(msg: impl Into<String>) -> QueryError {
    QueryError::bad_input(msg)
}

/// Prepares a create: validates every given field, applies defaults and server fields.
pub fn prepare_create(
    object: &ObjectMetadata,
    input: &Value,
    ctx: &WriteCtx,
) -> QueryResult<Prepared> {
    let input = input_object(input)?;
    let id = match input.get("id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(s)) if is_uuid(s) => s.to_lowercase(),
        Some(other) => return Err(bad(format!("Invalid UUID: '{}'", plain(other)))),
    };
    let mut data = Map::new();
    let mut position = None;
    apply_input(object, input, &mut data, &mut position, true)?;
    for field in object.active_fields() {
        let key = field.storage_key();
        if field.name == "id" || field.name == "deletedAt" || field.is_one_to_many() {
            continue;
        }
        match field.name.as_str() {
            "createdAt" => {
                data.entry(key).or_insert_with(|| json!(ctx.now));
                continue;
            }
            "updatedAt" => {
                data.insert(key, json!(ctx.now));
                continue;
            }
            "createdBy" | "updatedBy" => {
                // The server says who wrote; a client may only name the channel (Twenty
                // keeps a given `createdBy.source`, e.g. EMAIL or IMPORT).
                let mut actor = ctx.actor.clone();
                if let Some(source) = input
                    .get(&field.name)
                    .and_then(|v| v.get("source"))
                    .and_then(Value::as_str)
                    .filter(|s| composite::ACTOR_SOURCES.contains(s))
                {
                    actor["source"] = json!(source);
                }
                data.insert(key, actor);
                continue;
            }
            "searchVector" => continue,
            _ => {}
        }
        if field.field_type == FieldType::Position && !data.contains_key(&key) {
            // Twenty puts new records first by default.
            position.get_or_insert(PositionRequest::First);
            continue;
        }
        if !data.contains_key(&key) {
            if let Some(default) = field.default_json() {
                data.insert(key.clone(), generated_default(field, default, ctx));
            } else if let Some(subs) = composite::subfields(field.field_type) {
                // Composites are always stored whole, missing parts null.
                let obj: Map<String, Value> = subs
                    .iter()
                    .map(|s| (s.name.to_string(), Value::Null))
                    .collect();
                data.insert(key.clone(), Value::Object(obj));
            } else if field.field_type == FieldType::Text {
                // Twenty's TEXT default: '' (so filters on '' see new records too).
                data.insert(key.clone(), json!(""));
            }
        } else if let (Some(subs), Some(Value::Object(given))) = (
            composite::subfields(field.field_type),
            data.get(&key).cloned(),
        ) {
            // Fill the parts the input left out from the default.
            let default = field.default_json().unwrap_or(Value::Null);
            let mut whole = Map::new();
            for s in subs {
                let v = given
                    .get(s.name)
                    .cloned()
                    .or_else(|| default.get(s.name).cloned())
                    .unwrap_or(Value::Null);
                whole.insert(s.name.to_string(), v);
            }
            data.insert(key.clone(), Value::Object(whole));
        }
        let value = data.get(&key).cloned().unwrap_or(Value::Null);
        if !field.is_nullable && value.is_null() && !field.is_many_to_one() {
            return Err(bad(format!(
                "Field \"{}\" of object \"{}\" cannot be null",
                field.name, object.name_singular
            )));
        }
    }
    check_size(&data)?;
    Ok(Prepared { id, data, position })
}

/// Prepares an update of `existing` (stored data) with `input`.
pub fn prepare_update(
    object: &ObjectMetadata,
    existing: &Map<String, Value>,
    input: &Value,
    ctx: &WriteCtx,
) -> QueryResult<Prepared> {
    let input = input_object(input)?;
    let mut data = existing.clone();
    let mut changes = Map::new();
    let mut position = None;
    apply_input(object, input, &mut changes, &mut position, false)?;
    for (k, v) in changes {
        match (data.get_mut(&k), v) {
            // Composite updates merge sub-fields.
            (Some(Value::Object(old)), Value::Object(new))
                if object
                    .field_by_storage_key(&k)
                    .is_some_and(|f| f.field_type.is_composite()) =>
            {
                for (sk, sv) in new {
                    old.insert(sk, sv);
                }
            }
            (_, v) => {
                data.insert(k, v);
            }
        }
    }
    for field in object.active_fields() {
        let key = field.storage_key();
        if !field.is_nullable
            && !field.is_many_to_one()
            && !field.field_type.is_relation()
            && input.contains_key(&field.name)
            && data.get(&key).is_none_or(Value::is_null)
        {
            return Err(bad(format!(
                "Field \"{}\" of object \"{}\" cannot be null",
                field.name, object.name_singular
            )));
        }
    }
    data.insert("updatedAt".into(), json!(ctx.now));
    data.insert("updatedBy".into(), ctx.actor.clone());
    check_size(&data)?;
    Ok(Prepared {
        id: String::new(),
        data,
        position,
    })
}

fn check_size(data: &Map<String, Value>) -> QueryResult<()> {
    let size = serde_json::to_string(data).map(|s| s.len()).unwrap_or(0);
    if size > MAX_RECORD_BYTES {
        return Err(bad(format!(
            "Record is too large ({size} bytes, at most {MAX_RECORD_BYTES})"
        )));
    }
    Ok(())
}

fn generated_default(field: &FieldMetadata, default: Value, ctx: &WriteCtx) -> Value {
    match (&field.field_type, default) {
        (FieldType::Uuid, Value::String(s)) if s == "uuid" => {
            json!(uuid::Uuid::new_v4().to_string())
        }
        (FieldType::DateTime, Value::String(s)) if s == "now" => json!(ctx.now),
        (_, d) => d,
    }
}

fn apply_input(
    object: &ObjectMetadata,
    input: &Map<String, Value>,
    out: &mut Map<String, Value>,
    position: &mut Option<PositionRequest>,
    creating: bool,
) -> QueryResult<()> {
    for (key, value) in input {
        if key == "id" {
            if !creating {
                return Err(bad("id cannot be updated"));
            }
            continue;
        }
        if SERVER_FIELDS.contains(&key.as_str()) {
            // Twenty ignores server-managed fields in inputs rather than failing.
            continue;
        }
        let (field, via_join_column) = match object.field(key) {
            Some(f) => (f, false),
            None => match object.field_by_storage_key(key) {
                Some(f) if f.is_many_to_one() => (f, true),
                _ => {
                    return Err(bad(format!(
                        "Object {} doesn't have any \"{key}\" field.",
                        object.name_singular
                    )))
                }
            },
        };
        if field.is_one_to_many() {
            return Err(bad(format!(
                "Cannot write one-to-many relation \"{key}\" from {}: write the other side",
                object.name_singular
            )));
        }
        if field.is_many_to_one() {
            let target_id = if via_join_column {
                relation_id(key, value)?
            } else {
                connect_id(key, value)?
            };
            out.insert(field.storage_key(), target_id);
            continue;
        }
        if field.field_type == FieldType::Position {
            match value {
                Value::String(s) if s == "first" => *position = Some(PositionRequest::First),
                Value::String(s) if s == "last" => *position = Some(PositionRequest::Last),
                Value::Number(_) => {
                    out.insert(key.clone(), value.clone());
                }
                other => {
                    return Err(bad(format!(
                    "Invalid position value: '{}'. Position must be 'first', 'last', or a number",
                    plain(other)
                )))
                }
            }
            continue;
        }
        out.insert(key.clone(), coerce(object, field, value)?);
    }
    Ok(())
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn relation_id(key: &str, value: &Value) -> QueryResult<Value> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(s) if is_uuid(s) => Ok(json!(s.to_lowercase())),
        other => Err(bad(format!("Invalid UUID: '{}' for {key}", plain(other)))),
    }
}

/// `company: {connect: {where: {id}}}` or `{disconnect: true}`.
fn connect_id(key: &str, value: &Value) -> QueryResult<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    if value["disconnect"] == json!(true) {
        return Ok(Value::Null);
    }
    match &value["connect"]["where"]["id"] {
        Value::String(s) if is_uuid(s) => Ok(json!(s.to_lowercase())),
        _ => Err(bad(format!(
            "Relation field \"{key}\" expects {{connect: {{where: {{id}}}}}} or {{disconnect: true}}"
        ))),
    }
}

/// Checks and normalizes one field value.
pub fn coerce(object: &ObjectMetadata, field: &FieldMetadata, value: &Value) -> QueryResult<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let name = &field.name;
    let wrong = |expected: &str| {
        bad(format!(
            "Invalid value for field \"{name}\" of object \"{}\": expected {expected}, got {}",
            object.name_singular, value
        ))
    };
    Ok(match field.field_type {
        FieldType::Text => match value {
            Value::String(s) => json!(s),
            _ => return Err(wrong("a string")),
        },
        FieldType::Uuid => match value {
            Value::String(s) if is_uuid(s) => json!(s.to_lowercase()),
            _ => return Err(bad(format!("Invalid UUID: '{}'", plain(value)))),
        },
        FieldType::Number | FieldType::Position => match value {
            Value::Number(_) => value.clone(),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| json!(f))
                .ok_or_else(|| wrong("a number"))?,
            _ => return Err(wrong("a number")),
        },
        FieldType::Numeric => match value {
            Value::Number(n) => json!(n.to_string()),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => json!(s.trim()),
            _ => return Err(wrong("a number")),
        },
        FieldType::Boolean => match value {
            Value::Bool(_) => value.clone(),
            _ => return Err(wrong("a boolean")),
        },
        FieldType::DateTime => match value {
            Value::String(s) => normalize_datetime(s)
                .map(Value::String)
                .ok_or_else(|| wrong("an ISO 8601 date-time"))?,
            _ => return Err(wrong("an ISO 8601 date-time")),
        },
        FieldType::Date => match value {
            Value::String(s) => {
                chrono::NaiveDate::parse_from_str(&s[..s.len().min(10)], "%Y-%m-%d")
                    .map(|d| json!(d.format("%Y-%m-%d").to_string()))
                    .map_err(|_| wrong("a date (YYYY-MM-DD)"))?
            }
            _ => return Err(wrong("a date (YYYY-MM-DD)")),
        },
        FieldType::Select | FieldType::Rating => match value {
            Value::String(s) if field.option_values().contains(&s.as_str()) => json!(s),
            // Twenty's common data processor message (GraphQL refuses unknown enum values
            // earlier, in validation; REST and JSON inputs reach this).
            Value::String(s) => {
                return Err(bad(format!("Invalid value '{s}' for field \"{name}\"")))
            }
            _ => return Err(wrong("an option value")),
        },
        FieldType::MultiSelect => match value {
            Value::Array(items) => {
                let allowed = field.option_values();
                for i in items {
                    match i.as_str() {
                        Some(s) if allowed.contains(&s) => {}
                        _ => {
                            return Err(bad(format!(
                                "Invalid value '{}' for field \"{name}\"",
                                plain(i)
                            )))
                        }
                    }
                }
                value.clone()
            }
            _ => return Err(wrong("a list of option values")),
        },
        FieldType::Array => match value {
            Value::Array(items) if items.iter().all(Value::is_string) => value.clone(),
            _ => return Err(wrong("a list of strings")),
        },
        FieldType::RawJson | FieldType::Files => value.clone(),
        FieldType::TsVector => Value::Null,
        t if t.is_composite() => {
            let given = value.as_object().ok_or_else(|| wrong("an object"))?;
            let mut out = Map::new();
            for (k, v) in given {
                let sub = composite::subfield(t, k).ok_or_else(|| {
                    bad(format!(
                        "Field \"{k}\" is not defined by type \"{}\" of field \"{name}\"",
                        composite::type_name(t)
                    ))
                })?;
                if sub.hidden == Hidden::Input {
                    continue;
                }
                let mut v = coerce_sub(t, sub.field_type, k, v)
                    .map_err(|_| wrong("a valid composite value"))?;
                if t == FieldType::Links {
                    normalize_links(k, &mut v);
                }
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        _ => value.clone(),
    })
}

/// Twenty's `lowercaseUrlOriginAndRemoveTrailingSlash` on link URLs, so equal links compare
/// equal (and unique link fields mean what users expect).
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    let (host, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.strip_suffix('/').unwrap_or(path);
    format!("{}{}{path}", scheme.to_lowercase(), host.to_lowercase())
}

fn normalize_links(sub: &str, v: &mut Value) {
    match (sub, v) {
        ("primaryLinkUrl", Value::String(s)) => *s = normalize_url(s),
        ("secondaryLinks", Value::Array(items)) => {
            for item in items {
                if let Some(Value::String(s)) = item.get_mut("url") {
                    *s = normalize_url(s);
                }
            }
        }
        _ => {}
    }
}

fn coerce_sub(t: FieldType, sub_type: FieldType, name: &str, v: &Value) -> Result<Value, ()> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    match sub_type {
        FieldType::Text => v.as_str().map(|s| json!(s)).ok_or(()),
        FieldType::Numeric => match v {
            Value::Number(n) => Ok(json!(n.to_string())),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(json!(s.trim())),
            _ => Err(()),
        },
        FieldType::Select if t == FieldType::Actor && name == "source" => v
            .as_str()
            .filter(|s| composite::ACTOR_SOURCES.contains(s))
            .map(|s| json!(s))
            .ok_or(()),
        FieldType::RawJson => Ok(v.clone()),
        FieldType::Uuid => v
            .as_str()
            .filter(|s| is_uuid(s))
            .map(|s| json!(s))
            .ok_or(()),
        _ => Ok(v.clone()),
    }
}

/// The record as GraphQL returns it: stored data plus `id` and `deletedAt`.
pub fn output(id: &str, deleted_at: Option<&str>, data: &Map<String, Value>) -> Value {
    let mut out = data.clone();
    out.insert("id".into(), json!(id));
    out.insert("deletedAt".into(), json!(deleted_at));
    Value::Object(out)
}
