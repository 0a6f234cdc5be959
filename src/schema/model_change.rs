//! Changes to a workspace's data model: Twenty's `createOneObject`, `updateOneObject`,
//! `deleteOneObject`, `createOneField`, `updateOneField`, `deleteOneField`.
//!
//! Each operation is parse → validate → apply on a copy of the model, and returns the new
//! model with the storage statements that bring existing records in line (renamed keys,
//! removed keys, back-filled defaults, dropped tables and indexes). Nothing here touches
//! storage: the actor runs [`Applied::statements`], writes the new model, recreates tables
//! and indexes from it and bumps the metadata version, all in one transaction, so a change
//! either happens completely or not at all.

use serde_json::{json, Map, Value};

use super::ddl::{self, json_path};
use super::error::{ErrorKind, QueryError, QueryResult};
use super::metadata::{
    capitalize, is_valid_name, FieldMetadata, FieldType, ObjectMetadata, OnDelete, RelationType,
    SelectOption, WorkspaceModel,
};
use super::sql::{ident, Param, Sql};
use super::standard::{self, RelationEnd};
use super::write;

/// Fields one object may have, inactive ones included. Records are JSON in one column, so
/// SQLite's 100-column limit does not apply; this bounds the model row instead (about 700
/// bytes of JSON per field, and a Durable Object value is at most 2 MB) and the size of the
/// generated GraphQL types.
pub const MAX_FIELDS_PER_OBJECT: usize = 1_000;
/// Objects one workspace may have: every object adds about 25 GraphQL types, and the schema
/// is rebuilt in the actor after each model change.
pub const MAX_OBJECTS: usize = 300;
/// Options of one SELECT or MULTI_SELECT field.
pub const MAX_SELECT_OPTIONS: usize = 500;
/// Longest label or description accepted.
const MAX_LABEL_CHARS: usize = 63;
const MAX_DESCRIPTION_CHARS: usize = 4_000;

/// Names Twenty reserves (`twenty-shared` `RESERVED_METADATA_NAME_KEYWORDS`), compared
/// exactly.
const RESERVED_NAMES: &[&str] = &[
    "approvedAccessDomain",
    "approvedAccessDomains",
    "appToken",
    "appTokens",
    "billingCustomer",
    "billingCustomers",
    "billingEntitlement",
    "billingEntitlements",
    "billingMeter",
    "billingMeters",
    "billingProduct",
    "billingProducts",
    "billingSubscription",
    "billingSubscriptions",
    "billingSubscriptionItem",
    "billingSubscriptionItems",
    "featureFlag",
    "featureFlags",
    "job",
    "jobs",
    "keyValuePair",
    "keyValuePairs",
    "pageLayout",
    "pageLayouts",
    "pageLayoutTab",
    "pageLayoutTabs",
    "pageLayoutWidget",
    "pageLayoutWidgets",
    "postgresCredential",
    "postgresCredentials",
    "twoFactorMethod",
    "twoFactorMethods",
    "user",
    "users",
    "userWorkspace",
    "userWorkspaces",
    "workspace",
    "workspaces",
    "role",
    "roles",
    "userWorkspaceRole",
    "userWorkspaceRoles",
    "plan",
    "plans",
    "event",
    "events",
    "field",
    "fields",
    "link",
    "links",
    "currency",
    "currencies",
    "fullNames",
    "address",
    "addresses",
    "type",
    "types",
    "object",
    "objects",
    "index",
    "relation",
    "relations",
    "aggregate",
];

/// The result of a change: the whole new model, the statements to run first, and the id of
/// the object or field the operation returns.
#[derive(Debug, Clone)]
pub struct Applied {
    pub model: WorkspaceModel,
    pub statements: Vec<Sql>,
    pub id: String,
}

/// An input-shape error (Twenty's DTO validation): BAD_USER_INPUT.
fn bad(msg: impl Into<String>) -> QueryError {
    QueryError::bad_input(msg)
}

fn not_found(message: &str, sub_code: &str) -> QueryError {
    QueryError::new(ErrorKind::NotFound, message).with_sub_code(sub_code)
}

/// One broken rule, as Twenty lists it under `extensions.errors`.
#[derive(Debug, Clone)]
struct Issue {
    code: &'static str,
    message: String,
    friendly: Option<String>,
    value: Value,
}

fn issue(code: &'static str, message: impl Into<String>) -> Issue {
    Issue {
        code,
        message: message.into(),
        friendly: None,
        value: Value::Null,
    }
}

impl Issue {
    fn friendly(mut self, f: impl Into<String>) -> Self {
        self.friendly = Some(f.into());
        self
    }
    fn value(mut self, v: impl Into<Value>) -> Self {
        self.value = v.into();
        self
    }
}

/// The entity a change validates, for Twenty's METADATA_VALIDATION_FAILED error: which
/// operation (`create_object` … `delete_field`) on which object or field.
struct Subject {
    op: &'static str,
    info: Value,
}

impl Subject {
    fn object(op: &'static str, id: &str, singular: &str, plural: &str) -> Self {
        Subject {
            op,
            info: json!({ "id": id, "nameSingular": singular, "namePlural": plural }),
        }
    }

    fn field(op: &'static str, id: &str, name: &str, object_id: &str) -> Self {
        Subject {
            op,
            info: json!({ "id": id, "name": name, "objectMetadataId": object_id }),
        }
    }

    fn fail(&self, issue: Issue) -> QueryError {
        self.fail_all(vec![issue])
    }

    /// Twenty's METADATA_VALIDATION_FAILED: the failures under `extensions.errors`.
    fn fail_all(&self, issues: Vec<Issue>) -> QueryError {
        let is_object = self.op.ends_with("_object");
        let verb = match self.op {
            "create_object" => "creating object",
            "update_object" => "updating object",
            "delete_object" => "deleting object",
            "create_field" => "creating fields",
            "update_field" => "updating field",
            _ => "deleting field",
        };
        let errors: Vec<Value> = issues
            .iter()
            .map(|i| {
                json!({
                    "code": i.code,
                    "message": i.message,
                    "userFriendlyMessage": i.friendly.clone().unwrap_or_else(|| i.message.clone()),
                    "value": i.value,
                })
            })
            .collect();
        let entry = json!({
            "type": self.op,
            "status": "fail",
            "flatEntityMinimalInformation": self.info,
            "errors": errors,
        });
        let (objects, fields) = if is_object {
            (vec![entry], vec![])
        } else {
            (vec![], vec![entry])
        };
        let summary_line = format!(
            "Validation failed for {} object(s) and {} field(s)",
            objects.len(),
            fields.len()
        );
        let mut extra = Map::new();
        extra.insert("message".into(), json!(summary_line));
        extra.insert(
            "summary".into(),
            json!({
                "invalidObjectMetadata": objects.len(),
                "invalidFieldMetadata": fields.len(),
                "totalErrors": issues.len(),
            }),
        );
        extra.insert(
            "errors".into(),
            json!({ "objectMetadata": objects, "fieldMetadata": fields }),
        );
        let first = issues
            .first()
            .map(|i| i.message.clone())
            .unwrap_or_default();
        QueryError::new(
            ErrorKind::MetadataValidation,
            format!("Multiple validation errors occurred while {verb}: {first}"),
        )
        .with_user_friendly(summary_line)
        .with_extra(extra)
    }
}

fn str_of<'a>(input: &'a Map<String, Value>, key: &str) -> QueryResult<Option<&'a str>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

fn bool_of(input: &Map<String, Value>, key: &str) -> QueryResult<Option<bool>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(format!("{key} must be a boolean"))),
    }
}

fn object_input(v: &Value, what: &str) -> QueryResult<Map<String, Value>> {
    v.as_object()
        .cloned()
        .ok_or_else(|| bad(format!("{what} must be an object")))
}

fn is_reserved(name: &str) -> bool {
    RESERVED_NAMES.contains(&name)
}

/// Trims and collapses inner whitespace, as Twenty does with names and labels.
fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Twenty's name rules; every broken rule is reported.
fn name_issues(name: &str, code: &'static str) -> Vec<Issue> {
    let mut out = vec![];
    if name.len() > 63 {
        out.push(issue(code, "Name is too long").value(name));
    }
    if name.is_empty() {
        out.push(issue(code, "Name is too short").value(name));
    }
    if !is_valid_name(name) {
        out.push(
            issue(
                code,
                "Name is not valid: it must start with lowercase letter and contain only alphanumeric letters",
            )
            .value(name),
        );
    }
    if is_reserved(name) {
        out.push(
            issue(
                code,
                "This name is reserved. Use a different name or the system will add \"Custom\" suffix.",
            )
            .value(name),
        );
    }
    out
}

fn object_label_issues(label: &str) -> Vec<Issue> {
    let mut out = vec![];
    if label.is_empty() {
        out.push(issue("INVALID_OBJECT_INPUT", "Object label is too short").value(label));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        out.push(issue("INVALID_OBJECT_INPUT", "Object label is too long").value(label));
    }
    out
}

fn check_description(d: Option<&str>) -> QueryResult<()> {
    if d.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(bad(format!(
            "Description exceeds {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(())
}

/// Applies `description` and `icon` from an update (null clears them).
fn presentation(
    update: &Map<String, Value>,
    description: &mut Option<String>,
    icon: &mut Option<String>,
) -> QueryResult<()> {
    if update.contains_key("description") {
        let d = str_of(update, "description")?;
        check_description(d)?;
        *description = d.map(str::to_string);
    }
    if update.contains_key("icon") {
        *icon = str_of(update, "icon")?.map(str::to_string);
    }
    Ok(())
}

/// Whether an object other than `except` already uses either name, in either role.
fn object_name_taken(
    model: &WorkspaceModel,
    singular: &str,
    plural: &str,
    except: Option<&str>,
) -> bool {
    model.objects.iter().any(|o| {
        Some(o.id.as_str()) != except
            && [singular, plural]
                .iter()
                .any(|n| o.name_singular == *n || o.name_plural == *n)
    })
}

/// Names, labels and uniqueness of an object (create and update).
fn object_issues(model: &WorkspaceModel, o: &ObjectMetadata, except: Option<&str>) -> Vec<Issue> {
    let mut out = name_issues(&o.name_singular, "INVALID_OBJECT_INPUT");
    out.extend(name_issues(&o.name_plural, "INVALID_OBJECT_INPUT"));
    if o.name_singular.to_lowercase() == o.name_plural.to_lowercase() {
        out.push(
            issue(
                "INVALID_OBJECT_INPUT",
                "The singular and plural names cannot be the same for an object",
            )
            .value(o.name_plural.as_str()),
        );
    }
    out.extend(object_label_issues(&o.label_singular));
    out.extend(object_label_issues(&o.label_plural));
    if !o.label_singular.is_empty()
        && o.label_singular.to_lowercase() == o.label_plural.to_lowercase()
    {
        out.push(
            issue(
                "INVALID_OBJECT_INPUT",
                "The singular and plural labels cannot be the same for an object",
            )
            .value(o.label_plural.as_str()),
        );
    }
    if object_name_taken(model, &o.name_singular, &o.name_plural, except) {
        out.push(issue("OBJECT_ALREADY_EXISTS", "Object already exists"));
    }
    out
}

fn index_of(model: &WorkspaceModel, object_id: &str, message: &str) -> QueryResult<usize> {
    model
        .objects
        .iter()
        .position(|o| o.id == object_id)
        .ok_or_else(|| not_found(message, "OBJECT_METADATA_NOT_FOUND"))
}

fn field_position(
    model: &WorkspaceModel,
    field_id: &str,
    message: &str,
) -> QueryResult<(usize, usize)> {
    for (oi, o) in model.objects.iter().enumerate() {
        if let Some(fi) = o.fields.iter().position(|f| f.id == field_id) {
            return Ok((oi, fi));
        }
    }
    Err(not_found(message, "FIELD_METADATA_NOT_FOUND"))
}

/// A required, non-empty string of the input (Twenty's DTO rule: "x should not be empty").
fn required_str(input: &Map<String, Value>, key: &str) -> QueryResult<String> {
    match str_of(input, key)? {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(bad(format!("{key} should not be empty"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

/// `createOneObject(input: {object: CreateObjectInput})`.
pub fn create_object(
    model: &WorkspaceModel,
    input: &Value,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> QueryResult<Applied> {
    let input = object_input(input, "object")?;
    let singular = tidy(&required_str(&input, "nameSingular")?);
    let plural = tidy(&required_str(&input, "namePlural")?);
    let label_singular = tidy(&required_str(&input, "labelSingular")?);
    let label_plural = tidy(&required_str(&input, "labelPlural")?);
    let description = str_of(&input, "description")?.map(str::to_string);
    check_description(description.as_deref())?;
    if bool_of(&input, "isRemote")? == Some(true) {
        return Err(bad("Remote objects are not supported yet"));
    }
    if model.objects.len() >= MAX_OBJECTS {
        return Err(bad(format!(
            "A workspace can have at most {MAX_OBJECTS} objects"
        )));
    }
    let mut object = standard::custom_object(
        &singular,
        &plural,
        &capitalize(&label_singular),
        &capitalize(&label_plural),
        now,
        new_id,
    );
    let subject = Subject::object("create_object", &object.id, &singular, &plural);
    let issues = object_issues(model, &object, None);
    if !issues.is_empty() {
        return Err(subject.fail_all(issues));
    }
    object.description = description;
    object.icon = str_of(&input, "icon")?.map(str::to_string);
    if bool_of(&input, "skipNameField")? == Some(true) {
        object.fields.retain(|f| f.name != "name");
        object.label_identifier_field_name = Some("id".into());
    }
    let id = object.id.clone();
    let mut next = model.clone();
    next.objects.push(object);
    standard::add_standard_targets(&mut next, &id, now, new_id)
        .map_err(|e| subject.fail(issue("NOT_AVAILABLE", e)))?;
    Ok(Applied {
        model: next,
        statements: vec![],
        id,
    })
}

/// What `updateOneObject` may change on a standard object (Twenty's editable properties).
const STANDARD_OBJECT_EDITABLE: &[&str] = &[
    "color",
    "openRecordIn",
    "description",
    "icon",
    "isActive",
    "isSearchable",
    "labelPlural",
    "labelSingular",
    "imageIdentifierFieldMetadataId",
];

/// `updateOneObject(input: {id, update})`.
pub fn update_object(
    model: &WorkspaceModel,
    id: &str,
    update: &Value,
    now: &str,
) -> QueryResult<Applied> {
    let update = object_input(update, "update")?;
    let oi = index_of(model, id, "Object to update not found")?;
    let current = model.objects[oi].clone();
    if !current.is_custom {
        let refused: Vec<&str> = update
            .keys()
            .map(String::as_str)
            .filter(|k| !STANDARD_OBJECT_EDITABLE.contains(k))
            .collect();
        if !refused.is_empty() {
            return Err(bad(format!(
                "Cannot edit standard object metadata properties: {}",
                refused.join(", ")
            ))
            .with_sub_code("INVALID_OBJECT_INPUT"));
        }
    }
    let mut next = model.clone();
    let mut statements = vec![];
    let mut o = current.clone();
    if let Some(n) = str_of(&update, "nameSingular")? {
        o.name_singular = tidy(n);
    }
    if let Some(n) = str_of(&update, "namePlural")? {
        o.name_plural = tidy(n);
    }
    if let Some(l) = str_of(&update, "labelSingular")? {
        o.label_singular = tidy(l);
    }
    if let Some(l) = str_of(&update, "labelPlural")? {
        o.label_plural = tidy(l);
    }
    let subject = Subject::object("update_object", id, &o.name_singular, &o.name_plural);
    let mut issues = object_issues(model, &o, Some(id));
    presentation(&update, &mut o.description, &mut o.icon)?;
    if let Some(active) = bool_of(&update, "isActive")? {
        if !active && o.is_system {
            issues.push(issue(
                "INVALID_OBJECT_INPUT",
                format!(
                    "System object \"{}\" cannot be deactivated",
                    o.name_singular
                ),
            ));
        }
        o.is_active = active;
    }
    if let Some(v) = bool_of(&update, "isSearchable")? {
        o.is_searchable = v;
    }
    if update.contains_key("labelIdentifierFieldMetadataId") {
        match str_of(&update, "labelIdentifierFieldMetadataId")? {
            None => issues.push(
                issue(
                    "INVALID_OBJECT_INPUT",
                    "labelIdentifierFieldMetadataId cannot be null",
                )
                .friendly("Field label identifier is required"),
            ),
            Some(fid) => match o.fields.iter().find(|f| f.id == fid && f.is_active) {
                None => issues.push(
                    issue(
                        "INVALID_OBJECT_INPUT",
                        "labelIdentifierFieldMetadataId validation failed: related field metadata not found",
                    )
                    .friendly("Field declared as label identifier not found"),
                ),
                Some(f)
                    if !matches!(
                        f.field_type,
                        FieldType::Text | FieldType::FullName | FieldType::Uuid
                    ) =>
                {
                    issues.push(
                        issue(
                            "INVALID_OBJECT_INPUT",
                            "labelIdentifierFieldMetadataId validation failed: field type not compatible",
                        )
                        .friendly("Field cannot be used as label identifier"),
                    )
                }
                Some(f) => o.label_identifier_field_name = Some(f.name.clone()),
            },
        }
    }
    if update.contains_key("imageIdentifierFieldMetadataId") {
        o.image_identifier_field_name = match str_of(&update, "imageIdentifierFieldMetadataId")? {
            None => None,
            Some(fid) => match o.fields.iter().find(|f| f.id == fid && f.is_active) {
                Some(f) => Some(f.name.clone()),
                None => {
                    issues.push(issue(
                        "INVALID_OBJECT_INPUT",
                        "imageIdentifierFieldMetadataId validation failed: related field metadata not found",
                    ));
                    None
                }
            },
        };
    }
    if !issues.is_empty() {
        return Err(subject.fail_all(issues));
    }
    // The former label identifier's prefix index serves nothing any more (the new one's is
    // created with the object's DDL).
    if o.label_identifier_field_name != current.label_identifier_field_name {
        if let Some(f) = current
            .label_identifier_field_name
            .as_deref()
            .and_then(|n| current.field(n))
        {
            statements.extend(
                ddl::lowered_index_names(&current, f)
                    .into_iter()
                    .map(|name| Sql::new(format!("DROP INDEX IF EXISTS {}", ident(&name)))),
            );
        }
    }
    if o.name_singular != current.name_singular {
        statements.push(Sql::with(
            "UPDATE _search SET object = ? WHERE object = ?",
            vec![
                Param::from(o.name_singular.as_str()),
                Param::from(current.name_singular.as_str()),
            ],
        ));
        statements.push(Sql::with(
            "UPDATE _search_ids SET object = ? WHERE object = ?",
            vec![
                Param::from(o.name_singular.as_str()),
                Param::from(current.name_singular.as_str()),
            ],
        ));
        // The standard target hosts name their field after the object (`targetPet`):
        // follow the rename, stored keys included.
        for host in model.objects.iter() {
            let (Some(old), Some(new)) = (
                standard::target_field_name(&host.name_singular, &current.name_singular),
                standard::target_field_name(&host.name_singular, &o.name_singular),
            ) else {
                continue;
            };
            let Some(f) = host.fields.iter().find(|f| {
                f.name == old
                    && f.relation
                        .as_ref()
                        .is_some_and(|r| r.target_object_id == current.id)
            }) else {
                continue;
            };
            if host.fields.iter().any(|g| g.name == new) {
                return Err(subject.fail(issue(
                    "NOT_AVAILABLE",
                    format!(
                        "Name \"{new}\" is not available as it is already used by another field"
                    ),
                )));
            }
            let (hoi, hfi) = field_position(&next, &f.id, "Field not found")?;
            statements.extend(rename_storage(host, f, &new));
            let field = &mut next.objects[hoi].fields[hfi];
            field.name = new;
            field.label = o.label_singular.clone();
            field.updated_at = now.to_string();
        }
    }
    o.updated_at = now.to_string();
    next.objects[oi] = o;
    Ok(Applied {
        model: next,
        statements,
        id: id.to_string(),
    })
}

/// `deleteOneObject(input: {id})`: inactive custom objects only (Twenty's rule). Its records,
/// its table and every relation field pointing at it go with it.
pub fn delete_object(model: &WorkspaceModel, id: &str) -> QueryResult<Applied> {
    let oi = index_of(model, id, "Object to delete not found")?;
    let object = &model.objects[oi];
    let subject = Subject::object(
        "delete_object",
        id,
        &object.name_singular,
        &object.name_plural,
    );
    if !object.is_custom {
        return Err(subject.fail(issue(
            "INVALID_OBJECT_INPUT",
            "Standard objects cannot be deleted",
        )));
    }
    if object.is_active {
        return Err(subject.fail(issue(
            "INVALID_OBJECT_INPUT",
            "Active objects cannot be deleted",
        )));
    }
    let mut next = model.clone();
    let mut statements = vec![
        Sql::new(format!("DROP TABLE IF EXISTS {}", ident(&object.table()))),
        Sql::with(
            "DELETE FROM _search WHERE object = ?",
            vec![Param::from(object.name_singular.as_str())],
        ),
        Sql::with(
            "DELETE FROM _search_ids WHERE object = ?",
            vec![Param::from(object.name_singular.as_str())],
        ),
    ];
    next.objects.remove(oi);
    for other in next.objects.iter_mut() {
        let pointing: Vec<FieldMetadata> = other
            .fields
            .iter()
            .filter(|f| {
                f.relation
                    .as_ref()
                    .is_some_and(|r| r.target_object_id == id)
            })
            .cloned()
            .collect();
        for f in &pointing {
            statements.extend(remove_storage(other, f));
        }
        other
            .fields
            .retain(|f| f.relation.as_ref().is_none_or(|r| r.target_object_id != id));
    }
    Ok(Applied {
        model: next,
        statements,
        id: id.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

fn field_name_taken(o: &ObjectMetadata, name: &str, except: Option<&str>) -> bool {
    o.fields
        .iter()
        .filter(|f| Some(f.id.as_str()) != except)
        .any(|f| f.name == name || f.storage_key() == name)
}

fn not_available(name: &str) -> Issue {
    let m = format!("Name \"{name}\" is not available as it is already used by another field");
    issue("NOT_AVAILABLE", m).value(name)
}

fn field_issue(message: impl Into<String>) -> Issue {
    issue("INVALID_FIELD_INPUT", message)
}

/// Parses and validates SELECT / MULTI_SELECT options with Twenty's rules and messages.
fn parse_options(
    raw: &Value,
    existing: Option<&[SelectOption]>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<SelectOption>, Issue> {
    let items = match raw.as_array() {
        Some(items) if !items.is_empty() => items,
        _ => return Err(field_issue("Options are required for enum fields")),
    };
    if items.len() > MAX_SELECT_OPTIONS {
        return Err(field_issue(format!(
            "A select field can have at most {MAX_SELECT_OPTIONS} options"
        )));
    }
    let mut out: Vec<SelectOption> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item = item
            .as_object()
            .ok_or_else(|| field_issue("Option must be an object"))?;
        let label = match item.get("label") {
            None | Some(Value::Null) => return Err(field_issue("Option label is required")),
            Some(Value::String(l)) => tidy(l),
            Some(_) => {
                return Err(field_issue(
                    "Option label must be a string of at least one character",
                ))
            }
        };
        if label.is_empty() {
            return Err(field_issue("Label must not be empty"));
        }
        if label.chars().count() > MAX_LABEL_CHARS {
            return Err(field_issue("Option label exceeds 63 characters"));
        }
        if label.contains(',') {
            return Err(field_issue("Label must not contain a comma"));
        }
        let value = match item.get("value") {
            None | Some(Value::Null) => return Err(field_issue("Option value is required")),
            Some(Value::String(v)) if !v.trim().is_empty() => v.trim().to_string(),
            Some(_) => {
                return Err(field_issue(
                    "Option value must be a string of at least one character",
                ))
            }
        };
        if value.chars().count() > MAX_LABEL_CHARS {
            return Err(field_issue("Option value exceeds 63 characters"));
        }
        let snake = value.split('_').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        });
        if !snake {
            return Err(field_issue(format!(
                "Value must be in UPPER_CASE and follow snake_case \"{value}\""
            ))
            .value(value.as_str()));
        }
        let id = match item.get("id") {
            Some(Value::String(id)) if write::is_uuid(id.trim()) => id.trim().to_string(),
            None | Some(Value::Null) => existing
                .and_then(|e| e.iter().find(|o| o.value == value))
                .map(|o| o.id.clone())
                .unwrap_or_else(&mut *new_id),
            Some(_) => return Err(field_issue("Option id is invalid")),
        };
        let position = match item.get("position") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(i as f64) as i64,
            _ => i as i64,
        };
        if out.iter().any(|o| o.position == position) {
            return Err(field_issue("Duplicated option position"));
        }
        if out.iter().any(|o| o.id == id) {
            return Err(field_issue("Duplicated option id"));
        }
        if out.iter().any(|o| o.value == value) {
            return Err(field_issue("Duplicated option value"));
        }
        out.push(SelectOption {
            id,
            label,
            value,
            color: str_of(item, "color")
                .ok()
                .flatten()
                .unwrap_or("gray")
                .to_string(),
            position,
        });
    }
    Ok(out)
}

/// Checks a default value against the field's type and options; returns it as stored
/// (Twenty's SQL-quoted form: `"'VALUE'"`).
fn check_default(field: &FieldMetadata, raw: &Value) -> Result<Value, Issue> {
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let invalid = || {
        field_issue(format!(
            "Invalid default value {raw} for field \"{}\" of type {}",
            field.name,
            field.field_type.as_str()
        ))
        .value(raw.clone())
    };
    let quoted = |v: &Value| -> Result<String, Issue> {
        let s = v
            .as_str()
            .ok_or_else(|| field_issue("Default value must be a string"))?;
        if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
            Ok(s[1..s.len() - 1].to_string())
        } else {
            Err(field_issue("Default value should be as quoted string").value(s))
        }
    };
    let option = |v: &Value| -> Result<(), Issue> {
        let value = quoted(v)?;
        if field.option_values().contains(&value.as_str()) {
            Ok(())
        } else {
            Err(field_issue(format!(
                "Default value \"{}\" must be one of the option values",
                v.as_str().unwrap_or_default()
            )))
        }
    };
    match field.field_type {
        FieldType::Select | FieldType::Rating => option(raw)?,
        FieldType::MultiSelect => {
            let items = raw
                .as_array()
                .ok_or_else(|| field_issue("Multi-select field default value must be an array"))?;
            if items.is_empty() {
                return Err(field_issue(
                    "If defined default value must contain at least one value",
                ));
            }
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    return Err(field_issue("Default values must be unique"));
                }
                option(item)?;
            }
        }
        FieldType::Text => {
            quoted(raw)?;
        }
        FieldType::Uuid => {
            if raw != "uuid" && !write::is_uuid(&quoted(raw)?) {
                return Err(invalid());
            }
        }
        FieldType::DateTime | FieldType::Date => {
            if raw != "now" {
                quoted(raw)?;
            }
        }
        FieldType::Number | FieldType::Numeric | FieldType::Position => {
            if !raw.is_number() {
                return Err(invalid());
            }
        }
        FieldType::Boolean => {
            if !raw.is_boolean() {
                return Err(invalid());
            }
        }
        t if t.is_composite() => {
            let given = raw.as_object().ok_or_else(invalid)?;
            let subs = super::composite::subfields(t).unwrap_or(&[]);
            if given.keys().any(|k| !subs.iter().any(|s| s.name == k)) {
                return Err(invalid());
            }
        }
        FieldType::Array | FieldType::RawJson => {}
        _ => return Err(invalid()),
    }
    Ok(raw.clone())
}

/// `createOneField(input: {field: CreateFieldInput})`.
pub fn create_field(
    model: &WorkspaceModel,
    input: &Value,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> QueryResult<Applied> {
    let input = object_input(input, "field")?;
    let object_id = required_str(&input, "objectMetadataId")?;
    let name = tidy(&required_str(&input, "name")?);
    let label = tidy(&required_str(&input, "label")?);
    let type_name = required_str(&input, "type")?;
    let field_type: FieldType = serde_json::from_value(json!(type_name))
        .map_err(|_| bad(format!("Invalid field type {type_name}")))?;
    let id = new_id();
    let subject = Subject::field("create_field", &id, &name, &object_id);
    let Some(oi) = model.objects.iter().position(|o| o.id == object_id) else {
        return Err(subject.fail(
            issue("OBJECT_METADATA_NOT_FOUND", "Object metadata not found")
                .friendly("Field to create related object not found"),
        ));
    };
    let object = &model.objects[oi];
    let mut issues = name_issues(&name, "INVALID_FIELD_INPUT");
    if label.is_empty() {
        issues.push(field_issue("Label is too short").value(label.as_str()));
    } else if label.chars().count() > MAX_LABEL_CHARS {
        issues.push(field_issue("Label is too long").value(label.as_str()));
    }
    if field_name_taken(object, &name, None) {
        issues.push(not_available(&name));
    }
    match field_type {
        FieldType::Numeric => issues.push(
            field_issue(
                "Field type NUMERIC is not supported for field creation. Use NUMBER instead.",
            )
            .friendly("Field type NUMERIC is not supported. Use Number instead.")
            .value("NUMERIC"),
        ),
        FieldType::Position => issues.push(
            field_issue("Field type POSITION is a system type and cannot be created manually.")
                .value("POSITION"),
        ),
        FieldType::TsVector => {
            issues.push(field_issue("TS Vector is not supported for field creation"))
        }
        FieldType::MorphRelation => issues.push(field_issue(
            "MORPH_RELATION fields are not supported by twenty-edge",
        )),
        _ => {}
    }
    if bool_of(&input, "isLabelSyncedWithName")? == Some(true) && name != name_from_label(&label) {
        issues.push(
            issue(
                "NAME_NOT_SYNCED_WITH_LABEL",
                "Name is not synced with label",
            )
            .friendly("Field name is not synced with field label")
            .value(label.as_str()),
        );
    }
    if object.fields.len() >= MAX_FIELDS_PER_OBJECT {
        issues.push(field_issue(format!(
            "An object can have at most {MAX_FIELDS_PER_OBJECT} fields"
        )));
    }
    if !issues.is_empty() {
        return Err(subject.fail_all(issues));
    }
    let description = str_of(&input, "description")?.map(str::to_string);
    check_description(description.as_deref())?;
    let icon = str_of(&input, "icon")?.map(str::to_string);

    if field_type == FieldType::Relation {
        let spec = NewField {
            id,
            name,
            label,
            description,
            icon,
        };
        return create_relation(model, oi, &input, spec, &subject, now, new_id);
    }

    let mut field = FieldMetadata {
        id,
        object_id: object_id.clone(),
        name: name.clone(),
        label,
        field_type,
        description,
        icon,
        is_nullable: bool_of(&input, "isNullable")?.unwrap_or(true),
        is_unique: bool_of(&input, "isUnique")?.unwrap_or(false),
        is_custom: true,
        is_system: false,
        is_active: bool_of(&input, "isActive")?.unwrap_or(true),
        default_value: None,
        options: None,
        settings: input.get("settings").filter(|s| !s.is_null()).cloned(),
        relation: None,
        created_at: now.to_string(),
        updated_at: now.to_string(),
    };
    if field_type == FieldType::Rating {
        // Twenty always generates RATING_1..RATING_5.
        field.options = Some(rating_options(new_id));
    } else if field_type.is_enum() {
        let raw = input.get("options").cloned().unwrap_or(Value::Null);
        field.options = Some(parse_options(&raw, None, new_id).map_err(|e| subject.fail(e))?);
    }
    field.default_value = match input.get("defaultValue") {
        Some(v) if !v.is_null() => Some(check_default(&field, v).map_err(|e| subject.fail(e))?),
        _ => standard::composite_default(field_type),
    };
    if !field.is_nullable && field.default_value.is_none() {
        // Existing records would break the rule at once: a default fills them.
        return Err(subject.fail(field_issue(format!(
            "Field \"{name}\" is not nullable: give it a default value"
        ))));
    }
    let mut statements = vec![];
    if let Some(default) = field.default_json() {
        statements.push(backfill(object, &field, default, now));
    }
    let id = field.id.clone();
    let mut next = model.clone();
    next.objects[oi].fields.push(field);
    next.objects[oi].updated_at = now.to_string();
    Ok(Applied {
        model: next,
        statements,
        id,
    })
}

/// The parts of a new field that do not depend on its type.
struct NewField {
    id: String,
    name: String,
    label: String,
    description: Option<String>,
    icon: Option<String>,
}

fn rating_options(new_id: &mut dyn FnMut() -> String) -> Vec<SelectOption> {
    (1..=5)
        .map(|i| SelectOption {
            id: new_id(),
            label: i.to_string(),
            value: format!("RATING_{i}"),
            color: "gray".into(),
            position: i - 1,
        })
        .collect()
}

/// Existing records get the new field's default (as a column added with a default would).
fn backfill(o: &ObjectMetadata, f: &FieldMetadata, default: Value, now: &str) -> Sql {
    let value = match (&f.field_type, default) {
        (FieldType::DateTime, Value::String(s)) if s == "now" => json!(now),
        (FieldType::Date, Value::String(s)) if s == "now" => json!(&now[..10.min(now.len())]),
        (_, v) => v,
    };
    let path = json_path(&[&f.storage_key()]);
    Sql::with(
        format!(
            "UPDATE {} SET data = json_set(data, '{path}', json(?)) WHERE json_type(data, '{path}') IS NULL",
            ident(&o.table())
        ),
        vec![Param::Text(value.to_string())],
    )
}

fn create_relation(
    model: &WorkspaceModel,
    oi: usize,
    input: &Map<String, Value>,
    spec: NewField,
    subject: &Subject,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> QueryResult<Applied> {
    let payload = input
        .get("relationCreationPayload")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("relationCreationPayload is required for RELATION fields"))?;
    let target_id = required_str(payload, "targetObjectMetadataId")?;
    let Some(target) = model.object_by_id(&target_id) else {
        return Err(subject.fail(
            issue(
                "OBJECT_METADATA_NOT_FOUND",
                "Relation target object metadata not found",
            )
            .friendly("Object targeted by the relation not found"),
        ));
    };
    let raw_label = str_of(payload, "targetFieldLabel")?.unwrap_or_default();
    let target_label = tidy(raw_label);
    let target_name = match str_of(payload, "targetFieldName")? {
        Some(n) => n.to_string(),
        None => name_from_label(&target_label),
    };
    if target_name.is_empty() {
        return Err(subject.fail(field_issue(format!("Invalid label: \"{raw_label}\""))));
    }
    let mut issues = name_issues(&target_name, "INVALID_FIELD_INPUT");
    if field_name_taken(target, &target_name, None) {
        issues.push(not_available(&target_name));
    }
    if !issues.is_empty() {
        return Err(subject.fail_all(issues));
    }
    let target_icon = str_of(payload, "targetFieldIcon")?.unwrap_or("Icon123");
    let relation_type = match str_of(payload, "type")? {
        Some("MANY_TO_ONE") => RelationType::ManyToOne,
        Some("ONE_TO_MANY") => RelationType::OneToMany,
        other => {
            return Err(bad(format!(
                "Invalid relation type {}: use MANY_TO_ONE or ONE_TO_MANY",
                other.unwrap_or("(none)")
            )))
        }
    };
    let settings = input.get("settings").and_then(Value::as_object);
    let on_delete = match settings
        .and_then(|s| s.get("onDelete"))
        .and_then(Value::as_str)
    {
        Some("CASCADE") => OnDelete::Cascade,
        Some("RESTRICT") => OnDelete::Restrict,
        _ => OnDelete::SetNull,
    };
    let object = &model.objects[oi];
    let source_icon = spec.icon.as_deref().unwrap_or("IconRelationOneToMany");
    let mut here = RelationEnd::new(&object.id, &spec.name, &spec.label, source_icon).custom();
    if let Some(d) = spec.description.as_deref() {
        here = here.description(d);
    }
    let there = RelationEnd::new(&target.id, &target_name, &target_label, target_icon).custom();
    let mut next = model.clone();
    let (many, one) = match relation_type {
        RelationType::ManyToOne => (here, there),
        RelationType::OneToMany => (there, here),
    };
    // The field gets the id the subject reported; its partner a fresh one.
    let mut first = Some(spec.id.clone());
    let mut ids = || first.take().unwrap_or_else(&mut *new_id);
    let (many_id, one_id) = match relation_type {
        RelationType::ManyToOne => standard::relation_pair(
            &mut next,
            many,
            one,
            FieldType::Relation,
            on_delete,
            now,
            &mut ids,
        ),
        RelationType::OneToMany => {
            // relation_pair mints the many-to-one id first: reserve ours for the one side.
            let partner = new_id();
            let mut order = vec![spec.id.clone(), partner];
            let mut ids = || order.pop().unwrap_or_else(&mut *new_id);
            standard::relation_pair(
                &mut next,
                many,
                one,
                FieldType::Relation,
                on_delete,
                now,
                &mut ids,
            )
        }
    }
    .map_err(|e| subject.fail(issue("NOT_AVAILABLE", e)))?;
    let id = match relation_type {
        RelationType::ManyToOne => many_id,
        RelationType::OneToMany => one_id,
    };
    Ok(Applied {
        model: next,
        statements: vec![],
        id,
    })
}

/// Twenty's `computeMetadataNameFromLabel`: camelCase of the label's words, ASCII only.
pub fn name_from_label(label: &str) -> String {
    let words: Vec<String> = label
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i == 0 {
            out.push_str(&w[..1].to_ascii_lowercase());
            out.push_str(&w[1..]);
        } else {
            out.push_str(&capitalize(w));
        }
    }
    out
}

/// Statements that rename a field's stored key (and let its indexes be rebuilt).
fn rename_storage(o: &ObjectMetadata, f: &FieldMetadata, new_name: &str) -> Vec<Sql> {
    let old_key = f.storage_key();
    let new_key = if f.is_many_to_one() {
        format!("{new_name}Id")
    } else {
        new_name.to_string()
    };
    if f.is_one_to_many() || old_key == new_key {
        return vec![];
    }
    let (old, new) = (json_path(&[&old_key]), json_path(&[&new_key]));
    let mut out = drop_indexes(o, f);
    out.push(Sql::new(format!(
        "UPDATE {} SET data = json_remove(json_set(data, '{new}', json(data -> '{old}')), '{old}') \
         WHERE json_type(data, '{old}') IS NOT NULL",
        ident(&o.table())
    )));
    out
}

/// Statements that remove a field's stored values and indexes.
fn remove_storage(o: &ObjectMetadata, f: &FieldMetadata) -> Vec<Sql> {
    if f.is_one_to_many() {
        return vec![];
    }
    let path = json_path(&[&f.storage_key()]);
    let mut out = drop_indexes(o, f);
    out.push(Sql::new(format!(
        "UPDATE {} SET data = json_remove(data, '{path}') WHERE json_type(data, '{path}') IS NOT NULL",
        ident(&o.table())
    )));
    out
}

fn drop_indexes(o: &ObjectMetadata, f: &FieldMetadata) -> Vec<Sql> {
    ddl::field_index_names(o, f)
        .into_iter()
        .map(|name| Sql::new(format!("DROP INDEX IF EXISTS {}", ident(&name))))
        .collect()
}

/// What `updateOneField` may change on a standard field (Twenty's editable properties).
const STANDARD_FIELD_EDITABLE: &[&str] = &[
    "defaultValue",
    "description",
    "icon",
    "isActive",
    "label",
    "options",
    "settings",
    "isUnique",
];
/// What may change on a relation field (the pair's shape is fixed).
const RELATION_FIELD_EDITABLE: &[&str] = &[
    "label",
    "description",
    "isActive",
    "icon",
    "name",
    "settings",
];

/// `updateOneField(input: {id, update})`.
pub fn update_field(
    model: &WorkspaceModel,
    id: &str,
    update: &Value,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> QueryResult<Applied> {
    let update = object_input(update, "update")?;
    let (oi, fi) = field_position(model, id, "Field to update not found")?;
    let object = &model.objects[oi];
    let current = &object.fields[fi];
    // Keys sent with the value the field already has change nothing.
    let changed: Vec<&str> = update
        .iter()
        .filter(|(k, v)| {
            let now = match k.as_str() {
                "name" => json!(current.name),
                "label" => json!(current.label),
                "isNullable" => json!(current.is_nullable),
                "isUnique" => json!(current.is_unique),
                "isActive" => json!(current.is_active),
                "isSystem" => json!(current.is_system),
                "objectMetadataId" => json!(current.object_id),
                "defaultValue" => current.default_value.clone().unwrap_or(Value::Null),
                _ => return true,
            };
            **v != now
        })
        .map(|(k, _)| k.as_str())
        .collect();
    if !current.is_custom {
        let refused: Vec<&str> = changed
            .iter()
            .copied()
            .filter(|k| !STANDARD_FIELD_EDITABLE.contains(k))
            .collect();
        if !refused.is_empty() {
            return Err(QueryError::new(
                ErrorKind::Forbidden,
                format!(
                    "Cannot edit standard field metadata properties: {}",
                    refused.join(", ")
                ),
            )
            .with_sub_code("FIELD_MUTATION_NOT_ALLOWED"));
        }
    }
    let subject = Subject::field("update_field", id, &current.name, &current.object_id);
    if current.field_type.is_relation() {
        let refused: Vec<&str> = changed
            .iter()
            .copied()
            .filter(|k| !RELATION_FIELD_EDITABLE.contains(k))
            .collect();
        if !refused.is_empty() {
            return Err(subject.fail(issue(
                "FIELD_MUTATION_NOT_ALLOWED",
                format!(
                    "Forbidden updated properties for relation field metadata: {}",
                    refused.join(", ")
                ),
            )));
        }
    }
    if changed.contains(&"objectMetadataId") {
        return Err(subject.fail(field_issue("A field cannot move to another object")));
    }
    let mut next = model.clone();
    let mut statements = vec![];
    let mut f = current.clone();
    let mut issues = vec![];
    if let Some(name) = str_of(&update, "name")?.map(tidy) {
        if name != current.name {
            issues.extend(name_issues(&name, "INVALID_FIELD_INPUT"));
            if field_name_taken(object, &name, Some(&current.id)) {
                issues.push(not_available(&name));
            }
            statements.extend(rename_storage(object, current, &name));
            if object.label_identifier_field_name.as_deref() == Some(current.name.as_str()) {
                next.objects[oi].label_identifier_field_name = Some(name.clone());
            }
            if object.image_identifier_field_name.as_deref() == Some(current.name.as_str()) {
                next.objects[oi].image_identifier_field_name = Some(name.clone());
            }
            f.name = name;
        }
    }
    if let Some(l) = str_of(&update, "label")?.map(tidy) {
        if l.is_empty() {
            issues.push(field_issue("Label is too short"));
        } else if l.chars().count() > MAX_LABEL_CHARS {
            issues.push(field_issue("Label is too long"));
        }
        f.label = l;
    }
    if update.get("isLabelSyncedWithName") == Some(&json!(true))
        && f.name != name_from_label(&f.label)
    {
        issues.push(
            issue(
                "FIELD_MUTATION_NOT_ALLOWED",
                "Name is not synced with label.",
            )
            .friendly("Updated field name is not synced with label"),
        );
    }
    presentation(&update, &mut f.description, &mut f.icon)?;
    if let Some(active) = bool_of(&update, "isActive")? {
        if !active && (current.is_system || current.name == "id") {
            issues.push(field_issue(format!(
                "System field \"{}\" cannot be deactivated",
                current.name
            )));
        }
        if !active && object.label_identifier_field_name.as_deref() == Some(&current.name) {
            issues.push(issue(
                "FIELD_MUTATION_NOT_ALLOWED",
                "Cannot deactivate, please update the label identifier field first",
            ));
        }
        f.is_active = active;
    }
    if let Some(n) = bool_of(&update, "isNullable")? {
        f.is_nullable = n;
    }
    if let Some(u) = bool_of(&update, "isUnique")? {
        if u != current.is_unique {
            statements.extend(drop_indexes(object, current));
        }
        f.is_unique = u;
    }
    if update.contains_key("settings") {
        f.settings = update.get("settings").filter(|s| !s.is_null()).cloned();
    }
    if let Some(raw) = update.get("options").filter(|o| !o.is_null()) {
        if f.field_type.is_enum() && f.field_type != FieldType::Rating {
            match parse_options(raw, current.options.as_deref(), new_id) {
                Ok(options) => {
                    statements.extend(migrate_options(object, current, &options));
                    f.options = Some(options);
                    // A default that is no longer an option goes away with it.
                    if let Some(d) = &f.default_value {
                        if check_default(&f, d).is_err() {
                            f.default_value = None;
                        }
                    }
                }
                Err(e) => issues.push(e),
            }
        } else if !f.field_type.is_enum() {
            issues.push(field_issue(format!(
                "Options are only allowed on SELECT and MULTI_SELECT fields, not {}",
                f.field_type.as_str()
            )));
        }
    }
    if update.contains_key("defaultValue") {
        match update.get("defaultValue").cloned().unwrap_or(Value::Null) {
            Value::Null => f.default_value = None,
            v => match check_default(&f, &v) {
                Ok(v) => f.default_value = Some(v),
                Err(e) => issues.push(e),
            },
        }
    }
    if !issues.is_empty() {
        return Err(subject.fail_all(issues));
    }
    f.updated_at = now.to_string();
    // A renamed relation field keeps its partner's pointer (ids do not change).
    next.objects[oi].fields[fi] = f;
    next.objects[oi].updated_at = now.to_string();
    Ok(Applied {
        model: next,
        statements,
        id: id.to_string(),
    })
}

/// When options change, stored values follow: a renamed value (same option id) is rewritten,
/// a removed one is cleared, as Twenty's select-option migration does.
fn migrate_options(o: &ObjectMetadata, f: &FieldMetadata, new: &[SelectOption]) -> Vec<Sql> {
    let old = f.options.as_deref().unwrap_or(&[]);
    let path = json_path(&[&f.storage_key()]);
    let table = ident(&o.table());
    let mut out = vec![];
    // Old value -> new value (or null when removed).
    let mapping: Vec<(String, Option<String>)> = old
        .iter()
        .filter_map(|opt| {
            let renamed = new.iter().find(|n| n.id == opt.id).map(|n| n.value.clone());
            let kept = new.iter().any(|n| n.value == opt.value);
            match renamed {
                Some(v) if v != opt.value => Some((opt.value.clone(), Some(v))),
                None if !kept => Some((opt.value.clone(), None)),
                _ => None,
            }
        })
        .collect();
    if mapping.is_empty() {
        return out;
    }
    let map_json = Value::Object(
        mapping
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().map_or(Value::Null, Value::String)))
            .collect(),
    )
    .to_string();
    match f.field_type {
        FieldType::MultiSelect => out.push(Sql::with(
            format!(
                "UPDATE {table} SET data = json_set(data, '{path}', (\
                   SELECT json_group_array(CASE WHEN json_type(?1, '$.\"' || e.value || '\"') IS NULL \
                     THEN e.value ELSE json_extract(?1, '$.\"' || e.value || '\"') END) \
                   FROM json_each(data, '{path}') AS e \
                   WHERE json_type(?1, '$.\"' || e.value || '\"') IS NULL \
                      OR json_type(?1, '$.\"' || e.value || '\"') != 'null')) \
                 WHERE json_type(data, '{path}') = 'array'"
            ),
            vec![Param::Text(map_json)],
        )),
        _ => out.push(Sql::with(
            format!(
                "UPDATE {table} SET data = json_set(data, '{path}', \
                   json_extract(?1, '$.\"' || json_extract(data, '{path}') || '\"')) \
                 WHERE json_type(?1, '$.\"' || json_extract(data, '{path}') || '\"') IS NOT NULL"
            ),
            vec![Param::Text(map_json)],
        )),
    }
    out
}

/// `deleteOneField(input: {id})`: custom fields only, and (as in Twenty) only once
/// deactivated. A relation field takes its inverse with it.
pub fn delete_field(model: &WorkspaceModel, id: &str) -> QueryResult<Applied> {
    let (oi, fi) = field_position(model, id, "Field to delete not found")?;
    let object = &model.objects[oi];
    let f = &object.fields[fi];
    if !f.is_custom {
        return Err(QueryError::new(
            ErrorKind::Forbidden,
            "Deleting standard fields is not allowed",
        )
        .with_sub_code("FIELD_MUTATION_NOT_ALLOWED"));
    }
    let subject = Subject::field("delete_field", id, &f.name, &f.object_id);
    if object.label_identifier_field_name.as_deref() == Some(f.name.as_str()) {
        return Err(subject.fail(issue(
            "FIELD_MUTATION_NOT_ALLOWED",
            "Cannot delete, please update the label identifier field first",
        )));
    }
    if f.is_active {
        return Err(subject.fail(field_issue("Active fields can't be deleted")));
    }
    let mut next = model.clone();
    let mut statements = remove_storage(object, f);
    let mut doomed = vec![f.id.clone()];
    if let Some((target, inverse)) = model.inverse_of(f) {
        statements.extend(remove_storage(target, inverse));
        doomed.push(inverse.id.clone());
    }
    for o in next.objects.iter_mut() {
        o.fields.retain(|g| !doomed.contains(&g.id));
        if o.id == object.id && o.image_identifier_field_name.as_deref() == Some(f.name.as_str()) {
            o.image_identifier_field_name = None;
        }
    }
    Ok(Applied {
        model: next,
        statements,
        id: id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::standard::tests::{model, NOW};

    /// Ids that cannot collide with the standard model's (`standard::tests::ids`).
    fn ids() -> impl FnMut() -> String {
        let mut n = 0u64;
        move || {
            n += 1;
            format!("10000000-0000-4000-8000-{n:012x}")
        }
    }

    fn pet(model: &WorkspaceModel, new_id: &mut dyn FnMut() -> String) -> Applied {
        create_object(
            model,
            &json!({"nameSingular": "pet", "namePlural": "pets", "labelSingular": "Pet", "labelPlural": "Pets", "icon": "IconCat"}),
            NOW,
            new_id,
        )
        .unwrap()
    }

    #[test]
    fn custom_objects_get_base_fields_and_targets() {
        let mut new_id = ids();
        let base = model();
        let a = pet(&base, &mut new_id);
        let pet = a.model.object("pet").unwrap();
        assert_eq!(pet.id, a.id);
        for f in [
            "id",
            "name",
            "createdAt",
            "updatedAt",
            "deletedAt",
            "position",
            "createdBy",
        ] {
            assert!(pet.field(f).is_some(), "{f}");
        }
        for inverse in [
            "noteTargets",
            "taskTargets",
            "attachments",
            "favorites",
            "timelineActivities",
        ] {
            assert!(
                pet.field(inverse).is_some_and(|f| f.is_one_to_many()),
                "{inverse}"
            );
        }
        assert!(a
            .model
            .object("noteTarget")
            .unwrap()
            .field("targetPet")
            .is_some());
        assert!(a.model.object("favorite").unwrap().field("pet").is_some());
    }

    #[test]
    fn object_names_are_validated() {
        let mut new_id = ids();
        let base = model();
        let check = |input: Value, fragment: &str| {
            let e = create_object(&base, &input, NOW, &mut ids()).unwrap_err();
            assert!(
                matches!(
                    e.kind,
                    ErrorKind::BadUserInput | ErrorKind::MetadataValidation
                ),
                "{input}"
            );
            assert!(e.message.contains(fragment), "{} vs {fragment}", e.message);
        };
        let obj = |s: &str, p: &str| json!({"nameSingular": s, "namePlural": p, "labelSingular": "L", "labelPlural": "Ls"});
        check(obj("person", "persons"), "already exists");
        check(obj("pet", "pet"), "cannot be the same");
        check(obj("Pet", "pets"), "not valid");
        check(obj("my_pet", "pets"), "not valid");
        check(obj("event", "events"), "reserved");
        check(json!({"nameSingular": "pet"}), "should not be empty");
        let _ = pet(&base, &mut new_id);
    }

    #[test]
    fn fields_relations_and_options() {
        let mut new_id = ids();
        let a = pet(&model(), &mut new_id);
        let pet_id = a.id.clone();
        let person = a.model.object("person").unwrap().id.clone();
        // A many-to-one relation pet.owner -> person, inverse person.pets.
        let b = create_field(
            &a.model,
            &json!({"objectMetadataId": pet_id, "type": "RELATION", "name": "owner", "label": "Owner",
                    "relationCreationPayload": {"type": "MANY_TO_ONE", "targetObjectMetadataId": person,
                                                "targetFieldLabel": "Pets", "targetFieldIcon": "IconCat"}}),
            NOW,
            &mut new_id,
        )
        .unwrap();
        let owner = b.model.object("pet").unwrap().field("owner").unwrap();
        assert!(owner.is_many_to_one());
        assert_eq!(owner.id, b.id);
        let (_, inverse) = b.model.inverse_of(owner).unwrap();
        assert_eq!(inverse.name, "pets");
        assert!(inverse.is_one_to_many());

        // A select with options; bad option values and duplicate names are refused.
        let select = |options: Value, default: Value| {
            create_field(
                &b.model,
                &json!({"objectMetadataId": pet_id, "type": "SELECT", "name": "species", "label": "Species",
                        "options": options, "defaultValue": default}),
                NOW,
                &mut ids(),
            )
        };
        let opts = json!([{"label": "Dog", "value": "DOG", "color": "red", "position": 0},
                          {"label": "Cat", "value": "CAT", "color": "blue", "position": 1}]);
        let c = select(opts.clone(), json!("'CAT'")).unwrap();
        assert_eq!(
            c.model
                .object("pet")
                .unwrap()
                .field("species")
                .unwrap()
                .option_values(),
            vec!["DOG", "CAT"]
        );
        assert!(select(opts.clone(), json!("'COW'"))
            .unwrap_err()
            .message
            .contains("must be one of the option values"));
        assert!(select(json!([{"label": "x", "value": "lower"}]), Value::Null).is_err());
        assert!(select(
            json!([{"label": "A", "value": "A"}, {"label": "B", "value": "A"}]),
            Value::Null
        )
        .is_err());
        let dup = create_field(
            &c.model,
            &json!({"objectMetadataId": pet_id, "type": "TEXT", "name": "species", "label": "Again"}),
            NOW,
            &mut ids(),
        )
        .unwrap_err();
        assert!(dup.message.contains("is not available"), "{}", dup.message);
        // The join column name is taken too.
        let join = create_field(
            &c.model,
            &json!({"objectMetadataId": pet_id, "type": "TEXT", "name": "ownerId", "label": "x"}),
            NOW,
            &mut ids(),
        );
        assert!(join.is_err());
    }

    #[test]
    fn rename_and_delete_move_storage() {
        let mut new_id = ids();
        let a = pet(&model(), &mut new_id);
        let b = create_field(
            &a.model,
            &json!({"objectMetadataId": a.id, "type": "NUMBER", "name": "age", "label": "Age", "defaultValue": 3}),
            NOW,
            &mut new_id,
        )
        .unwrap();
        assert_eq!(b.statements.len(), 1, "existing records get the default");
        assert!(b.statements[0].text.contains("json_set"));
        let c = update_field(
            &b.model,
            &b.id,
            &json!({"name": "years", "label": "Years"}),
            NOW,
            &mut new_id,
        )
        .unwrap();
        let years = c.model.object("pet").unwrap().field("years").unwrap();
        assert_eq!(years.id, b.id);
        assert!(c
            .statements
            .iter()
            .any(|s| s.text.contains("json_remove(json_set")));
        assert!(delete_field(&c.model, &b.id).is_err(), "active fields stay");
        let c = update_field(
            &c.model,
            &b.id,
            &json!({"isActive": false}),
            NOW,
            &mut new_id,
        )
        .unwrap();
        let d = delete_field(&c.model, &b.id).unwrap();
        assert!(d.model.object("pet").unwrap().field("years").is_none());
        assert!(d
            .statements
            .iter()
            .any(|s| s.text.contains("json_remove(data")));
        // Standard fields stay.
        let person = d.model.object("person").unwrap();
        let city = person.field("jobTitle").unwrap().id.clone();
        assert!(delete_field(&d.model, &city).is_err());
        assert!(update_field(&d.model, &city, &json!({"name": "town"}), NOW, &mut new_id).is_err());
        assert!(update_field(&d.model, &city, &json!({"label": "Town"}), NOW, &mut new_id).is_ok());
    }

    #[test]
    fn deleting_an_object_removes_what_points_at_it() {
        let mut new_id = ids();
        let a = pet(&model(), &mut new_id);
        assert!(
            delete_object(&a.model, &a.id).is_err(),
            "active objects stay"
        );
        let a = update_object(&a.model, &a.id, &json!({"isActive": false}), NOW).unwrap();
        let b = delete_object(&a.model, &a.id).unwrap();
        assert!(b.model.object("pet").is_none());
        assert!(b
            .model
            .object("noteTarget")
            .unwrap()
            .field("targetPet")
            .is_none());
        assert!(b.statements[0].text.starts_with("DROP TABLE"));
        let person = b.model.object("person").unwrap().id.clone();
        assert!(delete_object(&b.model, &person).is_err());
    }

    #[test]
    fn renaming_an_object_renames_its_target_fields() {
        let mut new_id = ids();
        let a = pet(&model(), &mut new_id);
        let b = update_object(
            &a.model,
            &a.id,
            &json!({"nameSingular": "animal", "namePlural": "animals", "labelSingular": "Animal"}),
            NOW,
        )
        .unwrap();
        assert!(b.model.object("animal").is_some());
        assert!(b
            .model
            .object("noteTarget")
            .unwrap()
            .field("targetAnimal")
            .is_some());
        assert!(b.statements.iter().any(|s| s.text.contains("targetPetId")));
        let person = b.model.object("person").unwrap().id.clone();
        assert!(update_object(&b.model, &person, &json!({"nameSingular": "human"}), NOW).is_err());
        assert!(update_object(&b.model, &person, &json!({"labelSingular": "Human"}), NOW).is_ok());
    }

    #[test]
    fn labels_become_names() {
        for (label, name) in [
            ("Pets", "pets"),
            ("Favorite Pets", "favoritePets"),
            ("my pet 2", "myPet2"),
        ] {
            assert_eq!(name_from_label(label), name);
        }
    }
}
