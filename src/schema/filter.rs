//! Record filters: Twenty's GraphQL `filter` argument (as JSON) compiled to a SQLite
//! boolean expression over the record storage layout.
//!
//! Storage layout: each object's table has `id TEXT PRIMARY KEY`, `deleted_at TEXT` (NULL
//! when live) and `data TEXT NOT NULL` (a JSON object holding every other field under its
//! [`FieldMetadata::storage_key`], composites as nested objects). So `id` reads
//! `<alias>.id`, `deletedAt` reads `<alias>.deleted_at` and everything else reads
//! `json_extract(<alias>.data, '$."name"."firstName"')`.
//!
//! Semantics follow Twenty's filter-arg processor (validation and messages) and its
//! `computeWhereConditionParts` (operator templates, null-equivalence of `''`/`[]`,
//! DATE_TIME 1 ms windows), translated to SQLite:
//! - `like` is case-sensitive: the LIKE pattern is rewritten to a `GLOB` pattern;
//! - `ilike` is `lower(col) LIKE lower(?) ESCAPE '\'` (Postgres' default escape);
//! - `startsWith`/`endsWith` are `GLOB` with the value escaped (one bound parameter);
//! - `in` binds its whole list as ONE JSON array: `col IN (SELECT value FROM json_each(?))`;
//! - many-to-one relation filters (`company: {name: {eq: "x"}}`) evaluate the sub-filter
//!   over a one-row LEFT JOIN inside a scalar subquery, so a record without a (live)
//!   target sees NULL columns exactly as Twenty's `LEFT JOIN` does.
//!
//! The caller adds `<alias>.deleted_at IS NULL` unless [`Compiled::mentions_deleted_at`].

use std::borrow::Cow;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::composite::{self, ACTOR_SOURCES};
use super::error::{QueryError, QueryResult};
use super::metadata::{capitalize, FieldMetadata, FieldType, ObjectMetadata, WorkspaceModel};
use super::sql::{balanced, Param, Sql};

/// Most values one filter may compare against (besides `in` lists, which bind as one).
/// Beyond SQLite's 100 bound parameters statements are packed ([`Sql::bindable`]); this
/// bounds the work one request can ask for.
pub const MAX_FILTER_VALUES: usize = 1000;

/// Twenty's `STANDARD_ERROR_MESSAGE`, the user-friendly text of most query errors.
pub const STANDARD_ERROR_MESSAGE: &str = "An error occurred.";

/// How deeply a filter's JSON may nest (objects and lists: `{and: [{or: [...]}]}` is 4).
/// Compilation recurses once per level and SQLite refuses expression trees deeper than
/// 100; the web app's nested filter groups stay under 10. Checked without recursion
/// before compiling, so a filter nested thousands of levels deep costs one scan.
pub const MAX_FILTER_NESTING: usize = 40;

/// How deep relation filters may traverse (`MAX_RELATION_FILTER_DEPTH`).
const MAX_RELATION_FILTER_DEPTH: usize = 1;

/// A compiled filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// A boolean SQL expression; exactly [`TRUE`] for a filter that constrains nothing.
    pub sql: Sql,
    /// The filter names `deletedAt` at top level or inside `and`/`or`/`not`: soft-deleted
    /// rows are then NOT excluded (Twenty's `withDeleted()`); otherwise the caller adds
    /// `<alias>.deleted_at IS NULL`.
    pub mentions_deleted_at: bool,
}

impl Compiled {
    /// Whether the predicate can exclude a record. Constants are folded while compiling,
    /// so `{}`, `{and: []}`, `{or: [{}]}`, `{name: {}}`, `{company: {}}` and any nesting
    /// of them (and `id IS NOT NULL`) compile to [`TRUE`]. Mass mutations refuse those.
    pub fn constrains(&self) -> bool {
        self.sql.text != TRUE
    }
}

/// Compiles `filter` (Twenty's `<Object>FilterInput` as JSON) for rows of `object` read
/// through the table alias `alias`. `null` and `{}` give `1`.
///
/// Errors are BAD_USER_INPUT with Twenty's messages (unknown field, operator not valid
/// for the type, not exactly one operator, bad values, empty `in`, relation misuse), or
/// a TOO_COMPLEX_QUERY error when the expression would bind more than
/// [`MAX_FILTER_VALUES`] values.
pub fn compile(
    model: &WorkspaceModel,
    object: &ObjectMetadata,
    filter: &Value,
    alias: &str,
) -> QueryResult<Compiled> {
    check_alias(alias)?;
    check_nesting(filter)?;
    let sql = match filter {
        Value::Null => Sql::new("1"),
        Value::Object(map) => compile_object(model, object, map, alias, 0)?,
        _ => return Err(filter_error("Filter must be an object".to_string())),
    };
    if sql.params.len() > MAX_FILTER_VALUES {
        return Err(QueryError::bad_input(format!(
            "Query complexity is too high. The filter binds {} values; the maximum is {MAX_FILTER_VALUES}.",
            sql.params.len()
        ))
        .with_sub_code("TOO_COMPLEX_QUERY")
        .with_user_friendly(STANDARD_ERROR_MESSAGE));
    }
    Ok(Compiled {
        sql,
        mentions_deleted_at: mentions_deleted_at(filter),
    })
}

/// Refuses a filter nested deeper than [`MAX_FILTER_NESTING`], walking it with an
/// explicit stack.
pub fn check_nesting(filter: &Value) -> QueryResult<()> {
    let mut stack: Vec<(&Value, usize)> = vec![(filter, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth + 1 > MAX_FILTER_NESTING {
            return Err(QueryError::bad_input(format!(
                "Query complexity is too high. The filter is nested more than {MAX_FILTER_NESTING} levels deep."
            ))
            .with_sub_code("TOO_COMPLEX_QUERY")
            .with_user_friendly(STANDARD_ERROR_MESSAGE));
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// Twenty's soft-delete rule (`checkForDeletedAtFilter`): the key `deletedAt` at top level
/// or nested only in `and`/`or`/`not`. Composite and relation nesting refer to another
/// entity's `deletedAt` and do not count.
pub fn mentions_deleted_at(filter: &Value) -> bool {
    match filter {
        Value::Array(items) => items.iter().any(mentions_deleted_at),
        Value::Object(map) => map.iter().any(|(key, value)| {
            key == "deletedAt"
                || (matches!(key.as_str(), "and" | "or" | "not")
                    && (value.is_object() || value.is_array())
                    && mentions_deleted_at(value))
        }),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Column expressions (shared with `order` and `cursor`).

/// `'$."a"."b"'`: a JSON path as a SQL string literal. Names are validated
/// (`[a-z][a-zA-Z0-9]*`), so embedding is safe; anything else is refused.
pub(crate) fn json_path(keys: &[&str]) -> QueryResult<String> {
    let mut path = String::from("'$");
    for key in keys {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(QueryError::internal(format!(
                "unsafe JSON path key {key:?}"
            )));
        }
        path.push_str(&format!(".\"{key}\""));
    }
    path.push('\'');
    Ok(path)
}

/// Table aliases are embedded unquoted.
pub(crate) fn check_alias(alias: &str) -> QueryResult<()> {
    let mut chars = alias.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(QueryError::internal(format!(
            "unsafe table alias {alias:?}"
        )))
    }
}

/// Where a value lives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Column {
    /// `<alias>.id`
    Id(String),
    /// `<alias>.deleted_at`
    DeletedAt(String),
    /// `json_extract(<alias>.data, <path>)`; `path` is a SQL literal from [`json_path`].
    Json { alias: String, path: String },
}

impl Column {
    /// The column of a top-level field (by name or storage key) of a record.
    pub(crate) fn field(alias: &str, field: &FieldMetadata) -> QueryResult<Column> {
        Ok(match field.name.as_str() {
            "id" => Column::Id(alias.to_string()),
            "deletedAt" => Column::DeletedAt(alias.to_string()),
            _ => Column::Json {
                alias: alias.to_string(),
                path: json_path(&[&field.storage_key()])?,
            },
        })
    }

    /// A composite sub-field (`data.name.firstName`).
    pub(crate) fn sub(alias: &str, field: &FieldMetadata, sub: &str) -> QueryResult<Column> {
        Ok(Column::Json {
            alias: alias.to_string(),
            path: json_path(&[&field.storage_key(), sub])?,
        })
    }

    /// The SQL value: TEXT, numbers, 1/0 for booleans, minified JSON text for arrays and
    /// objects, NULL when absent or JSON null.
    pub(crate) fn value(&self) -> String {
        match self {
            Column::Id(a) => format!("{a}.id"),
            Column::DeletedAt(a) => format!("{a}.deleted_at"),
            Column::Json { alias, path } => format!("json_extract({alias}.data, {path})"),
        }
    }

    /// The JSON text of the value (strings quoted), like Postgres' `jsonb::text`.
    fn json_text(&self) -> String {
        match self {
            Column::Json { alias, path } => format!("({alias}.data -> {path})"),
            other => other.value(),
        }
    }

    /// A `json_each` table over the value's elements.
    fn each(&self) -> String {
        match self {
            Column::Json { alias, path } => format!("json_each({alias}.data, {path})"),
            other => format!("json_each(json_array({}))", other.value()),
        }
    }
}

/// The value expression of a column of type `t` (NUMERIC may be stored as a string for
/// precision: compare it as REAL).
pub(crate) fn typed_value(column: &Column, t: FieldType) -> String {
    if t == FieldType::Numeric {
        format!("CAST({} AS REAL)", column.value())
    } else {
        column.value()
    }
}

/// The field `key` names: by name, then by storage key (`companyId`); `id` and
/// `deletedAt` exist on every object even if the model omits them.
pub(crate) fn resolve_field<'a>(
    object: &'a ObjectMetadata,
    key: &str,
) -> Option<Cow<'a, FieldMetadata>> {
    if let Some(f) = object.field(key) {
        return Some(Cow::Borrowed(f));
    }
    if let Some(f) = object.field_by_storage_key(key) {
        return Some(Cow::Borrowed(f));
    }
    match key {
        "id" => Some(Cow::Owned(synthetic(object, "id", FieldType::Uuid, false))),
        "deletedAt" => Some(Cow::Owned(synthetic(
            object,
            "deletedAt",
            FieldType::DateTime,
            true,
        ))),
        _ => None,
    }
}

fn synthetic(object: &ObjectMetadata, name: &str, t: FieldType, nullable: bool) -> FieldMetadata {
    FieldMetadata {
        id: format!("{}:{name}", object.id),
        object_id: object.id.clone(),
        name: name.to_string(),
        label: name.to_string(),
        field_type: t,
        description: None,
        icon: None,
        is_nullable: nullable,
        is_unique: false,
        is_custom: false,
        is_system: true,
        is_active: true,
        default_value: None,
        options: None,
        settings: None,
        relation: None,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

/// Twenty's `isReferencedByFieldName`: `key` is a field's name (not its join column).
pub(crate) fn is_referenced_by_name(object: &ObjectMetadata, key: &str) -> bool {
    object.field(key).is_some()
}

// ---------------------------------------------------------------------------------------
// Errors.

fn filter_error(message: String) -> QueryError {
    QueryError::bad_input(message).with_sub_code("INVALID_ARGS_FILTER")
}

fn filter_error_uf(message: String, user_friendly: String) -> QueryError {
    filter_error(message).with_user_friendly(user_friendly)
}

fn use_join_column_instead(key: &str) -> QueryError {
    filter_error_uf(
        format!("Cannot filter by relation field \"{key}\": use \"{key}Id\" instead"),
        format!("Invalid filter: use \"{key}Id\" to filter by this relation field"),
    )
}

// ---------------------------------------------------------------------------------------
// Structure: and / or / not / field keys.

fn compile_object(
    model: &WorkspaceModel,
    object: &ObjectMetadata,
    filter: &Map<String, Value>,
    alias: &str,
    depth: usize,
) -> QueryResult<Sql> {
    let mut parts = Vec::new();
    for (key, value) in filter {
        match key.as_str() {
            "and" | "or" => {
                let items: Vec<&Value> = match value {
                    Value::Null => continue,
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                let mut group = Vec::with_capacity(items.len());
                for item in items {
                    group.push(match item {
                        Value::Null => Sql::new("1"),
                        Value::Object(map) => compile_object(model, object, map, alias, depth)?,
                        _ => return Err(not_an_object(key)),
                    });
                }
                let op = if key == "and" { "AND" } else { "OR" };
                parts.push(fold(group, op));
            }
            "not" => match value {
                Value::Null => {}
                Value::Object(map) => {
                    parts.push(negate(compile_object(model, object, map, alias, depth)?));
                }
                _ => return Err(not_an_object(key)),
            },
            _ => parts.push(compile_key(model, object, key, value, alias, depth)?),
        }
    }
    Ok(fold(parts, "AND"))
}

/// The constant predicates. Folding keeps them bare (never parenthesised or combined), so
/// a filter that constrains nothing, however it is nested, compiles to exactly [`TRUE`]
/// (what the mass-mutation guard checks, [`Compiled::constrains`]).
pub const TRUE: &str = "1";
pub const FALSE: &str = "0";

fn constant(s: &Sql) -> Option<bool> {
    match s.text.as_str() {
        TRUE => Some(true),
        FALSE => Some(false),
        _ => None,
    }
}

fn literal(b: bool) -> Sql {
    Sql::new(if b { TRUE } else { FALSE })
}

/// `parts` joined by `op` (`AND`/`OR`) with constants folded: an absorbing constant
/// (`0` for AND, `1` for OR) decides the whole, an identity one is dropped. An empty list
/// is no condition (`1`) for both, as Twenty treats `and: []` and `or: []`.
fn fold(parts: Vec<Sql>, op: &str) -> Sql {
    if parts.is_empty() {
        return literal(true);
    }
    let absorbing = op == "OR";
    let mut kept = Vec::with_capacity(parts.len());
    for p in parts {
        match constant(&p) {
            Some(c) if c == absorbing => return literal(absorbing),
            Some(_) => {}
            None => kept.push(p),
        }
    }
    if kept.is_empty() {
        return literal(!absorbing);
    }
    balanced(kept, op, TRUE)
}

fn negate(s: Sql) -> Sql {
    if let Some(c) = constant(&s) {
        return literal(!c);
    }
    let mut out = Sql::new("NOT ");
    out.push(s);
    out
}

fn not_an_object(field_name: &str) -> QueryError {
    filter_error_uf(
        format!("Filter value for field \"{field_name}\" must be an object"),
        "Invalid filter: filter value must be an object".to_string(),
    )
}

fn compile_key(
    model: &WorkspaceModel,
    object: &ObjectMetadata,
    key: &str,
    value: &Value,
    alias: &str,
    depth: usize,
) -> QueryResult<Sql> {
    // A relation addressed by its name is a traversal (or refused); by its join column
    // (`companyId`) it is a UUID leaf.
    if let Some(field) = object.field(key) {
        if field.field_type.is_relation() {
            return compile_relation(model, field, key, value, alias, depth);
        }
    }
    let Some(field) = resolve_field(object, key) else {
        return Err(filter_error_uf(
            format!(
                "Object {} doesn't have any \"{key}\" field.",
                object.name_singular
            ),
            format!(
                "Invalid filter : {} object doesn't have any \"{key}\" field.",
                object.name_singular
            ),
        ));
    };
    if let Some(subfields) = composite::subfields(field.field_type) {
        let Value::Object(map) = value else {
            return Err(not_an_object(key));
        };
        let mut parts = Vec::new();
        for (sub_key, sub_filter) in map {
            let Some(sub) = subfields.iter().find(|s| s.name == sub_key) else {
                return Err(filter_error_uf(
                    format!(
                        "Sub field \"{sub_key}\" not found for composite type: {}",
                        field.field_type.as_str()
                    ),
                    STANDARD_ERROR_MESSAGE.to_string(),
                ));
            };
            let leaf = Leaf {
                field_name: format!("{}.{sub_key}", field.name),
                error_key: sub_key.clone(),
                op_type: sub.field_type,
                column: Column::sub(alias, &field, sub.name)?,
                null_eq: if sub.empty_is_null {
                    NullEq::Text
                } else if sub.empty_array_is_null {
                    NullEq::Array
                } else {
                    NullEq::None
                },
                // Twenty passes the composite type, never DATE_TIME, for sub-fields.
                date_window: false,
                enum_values: if field.field_type == FieldType::Actor && sub.name == "source" {
                    Some((
                        "ActorSourceEnum".to_string(),
                        ACTOR_SOURCES.iter().map(|s| s.to_string()).collect(),
                    ))
                } else {
                    None
                },
            };
            parts.push(leaf.compile(sub_filter)?);
        }
        return Ok(fold(parts, "AND"));
    }
    let leaf = Leaf {
        field_name: key.to_string(),
        error_key: key.to_string(),
        op_type: field.field_type,
        column: Column::field(alias, &field)?,
        null_eq: match field.field_type {
            FieldType::Text => NullEq::Text,
            FieldType::MultiSelect | FieldType::Array => NullEq::Array,
            _ => NullEq::None,
        },
        date_window: field.field_type == FieldType::DateTime,
        enum_values: enum_values(object, &field),
    };
    leaf.compile(value)
}

/// The options of a SELECT/RATING field in enum order (for `gt`/`lt`: Postgres compares
/// enum values by declaration order).
fn enum_values(object: &ObjectMetadata, field: &FieldMetadata) -> Option<(String, Vec<String>)> {
    if !matches!(field.field_type, FieldType::Select | FieldType::Rating) {
        return None;
    }
    let mut options = field.options.clone()?;
    if options.is_empty() {
        return None;
    }
    options.sort_by_key(|o| o.position);
    Some((
        format!(
            "{}{}Enum",
            capitalize(&object.name_singular),
            capitalize(&field.name)
        ),
        options.into_iter().map(|o| o.value).collect(),
    ))
}

fn compile_relation(
    model: &WorkspaceModel,
    field: &FieldMetadata,
    key: &str,
    value: &Value,
    alias: &str,
    depth: usize,
) -> QueryResult<Sql> {
    if !field.is_many_to_one() {
        return Err(filter_error_uf(
            format!("Cannot filter by relation field \"{key}\""),
            format!("Invalid filter: filtering by relation field \"{key}\" is not supported"),
        ));
    }
    let Value::Object(sub_filter) = value else {
        return Err(use_join_column_instead(key));
    };
    let Some(target) = model.target_of(field) else {
        return Err(use_join_column_instead(key));
    };
    if depth >= MAX_RELATION_FILTER_DEPTH {
        return Err(filter_error_uf(
            format!(
                "Relation filter nesting deeper than {MAX_RELATION_FILTER_DEPTH} hop is not supported"
            ),
            "Relation filters can only traverse one relation deep".to_string(),
        ));
    }
    let join_alias = format!("{alias}_{}", field.name);
    let condition = compile_object(model, target, sub_filter, &join_alias, depth + 1)?;
    // A constant condition is the same for every record, with or without a target.
    if constant(&condition).is_some() {
        return Ok(condition);
    }
    let fk = Column::field(alias, field)?.value();
    // One row whatever happens: the target's columns are NULL when the record has no
    // (live) target, and the condition keeps its three-valued result.
    let mut s = Sql::new("(SELECT ");
    s.push(condition);
    s.push_str(&format!(
        " FROM (SELECT 1) LEFT JOIN {} AS {join_alias} ON {join_alias}.id = {fk} AND {join_alias}.deleted_at IS NULL)",
        target.table()
    ));
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// Leaves: one field, one operator.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NullEq {
    None,
    /// `''` counts as NULL.
    Text,
    /// `[]` counts as NULL.
    Array,
}

struct Leaf {
    /// For messages (`name.firstName` for composite sub-fields).
    field_name: String,
    /// For the parser's empty-array message (the sub-field key alone for composites).
    error_key: String,
    /// Decides the allowed operators and the value validation.
    op_type: FieldType,
    column: Column,
    null_eq: NullEq,
    /// DATE_TIME: `eq`/`neq`/`gt`/`lte` use a 1 ms window.
    date_window: bool,
    /// SELECT/RATING/actor source: the enum's name and values in order.
    enum_values: Option<(String, Vec<String>)>,
}

/// The comparisons text, numbers, dates, ids and enums share, in Twenty's order.
const COMPARISON_OPS: &[&str] = &["eq", "neq", "gt", "gte", "lt", "lte", "in"];
const STRING_OPS: &[&str] = &concat_ops::<12>(
    COMPARISON_OPS,
    &["is", "like", "ilike", "startsWith", "endsWith"],
);
const NUMBER_OPS: &[&str] = &concat_ops::<8>(COMPARISON_OPS, &["is"]);
const BOOLEAN_OPS: &[&str] = &["eq", "is"];
const ARRAY_OPS: &[&str] = &["containsIlike", "is", "isEmptyArray"];
const MULTI_SELECT_OPS: &[&str] = &["containsAny", "is", "isEmptyArray"];
const ENUM_OPS: &[&str] = &concat_ops::<10>(COMPARISON_OPS, MULTI_SELECT_OPS);
const RAW_JSON_OPS: &[&str] = &["is", "like"];
const RICH_TEXT_OPS: &[&str] = &["ilike"];
const COMPOSITE_OPS: &[&str] = &["eq", "neq", "is"];

/// `first` followed by `rest`, as an array of their total length `N` (checked when compiling).
const fn concat_ops<const N: usize>(
    first: &[&'static str],
    rest: &[&'static str],
) -> [&'static str; N] {
    assert!(first.len() + rest.len() == N);
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < first.len() {
            first[i]
        } else {
            rest[i - first.len()]
        };
        i += 1;
    }
    out
}

/// `getOperatorsForFieldType`.
fn operators_for(t: FieldType) -> &'static [&'static str] {
    use FieldType::*;
    match t {
        Text => STRING_OPS,
        Number | Numeric | Position => NUMBER_OPS,
        Boolean => BOOLEAN_OPS,
        Date | DateTime => NUMBER_OPS,
        Uuid | Relation | MorphRelation => NUMBER_OPS,
        Array => ARRAY_OPS,
        MultiSelect => MULTI_SELECT_OPS,
        Select | Rating => ENUM_OPS,
        RawJson | Files => RAW_JSON_OPS,
        RichText => RICH_TEXT_OPS,
        TsVector | Actor | Address | Currency | Emails | FullName | Links | Phones => COMPOSITE_OPS,
    }
}

impl Leaf {
    fn compile(&self, filter: &Value) -> QueryResult<Sql> {
        let Value::Object(map) = filter else {
            return Err(not_an_object(&self.field_name));
        };
        let mut entries = map.iter();
        let (Some((op, value)), None) = (entries.next(), entries.next()) else {
            return Err(filter_error_uf(
                format!(
                    "Filter for field \"{}\" must have exactly one operator",
                    self.field_name
                ),
                "Invalid filter: exactly one operator per field is required".to_string(),
            ));
        };
        let allowed = operators_for(self.op_type);
        if !allowed.contains(&op.as_str()) {
            let t = self.op_type.as_str();
            return Err(filter_error_uf(
                format!(
                    "Operator \"{op}\" is not valid for field \"{}\" of type {t} - Allowed operators: {}",
                    self.field_name,
                    allowed.join(", ")
                ),
                format!(
                    "Invalid filter : Operator \"{op}\" is not valid for this \"{}\" {t} field",
                    self.field_name
                ),
            ));
        }
        self.operator(op, value)
    }

    /// Twenty's `findPostgresDefaultNullEquivalentValue`: the SQL literal a NULL-like
    /// value also matches.
    fn null_equivalent(&self, value: &Value) -> Option<&'static str> {
        let is_null_like = |v: &Value| v.is_null() || v.as_str() == Some("NULL");
        match self.null_eq {
            NullEq::None => None,
            NullEq::Text => (is_null_like(value) || value.as_str() == Some("")).then_some("''"),
            NullEq::Array => (is_null_like(value)
                || value.as_array().is_some_and(|a| a.is_empty()))
            .then_some("'[]'"),
        }
    }

    fn operator(&self, op: &str, raw: &Value) -> QueryResult<Sql> {
        let c = typed_value(&self.column, self.op_type);
        let null_eq = self.null_equivalent(raw);
        let or_null = |mut s: String| {
            if null_eq.is_some() {
                s.push_str(&format!(" OR {c} IS NULL"));
            }
            s
        };
        match op {
            "is" => {
                let is_null = match raw.as_str() {
                    Some("NULL") => true,
                    Some("NOT_NULL") => false,
                    _ => {
                        return Err(filter_error_uf(
                            "Invalid filter value for \"is\" operator. Expected \"NULL\" or \"NOT_NULL\"".to_string(),
                            "Invalid value for \"is\" operator".to_string(),
                        ))
                    }
                };
                let mut s = format!("{c} IS {}", if is_null { "NULL" } else { "NOT NULL" });
                if let Some(literal) = null_eq {
                    s.push_str(&format!(" OR {c} = {literal}"));
                }
                Ok(Sql::new(s))
            }
            "isEmptyArray" => {
                let Some(empty) = raw.as_bool() else {
                    return Err(filter_error_uf(
                        format!(
                            "Filter operator \"isEmptyArray\" requires a boolean value for field {}",
                            self.field_name
                        ),
                        "Invalid filter: \"isEmptyArray\" operator requires a boolean".to_string(),
                    ));
                };
                Ok(Sql::new(if empty {
                    format!("{c} = '[]'")
                } else {
                    format!("{c} != '[]'")
                }))
            }
            "in" | "containsAny" => {
                let Value::Array(items) = raw else {
                    return Err(filter_error_uf(
                        format!(
                            "Filter operator \"{op}\" requires an array value for field {}",
                            self.field_name
                        ),
                        format!("Invalid filter: \"{op}\" operator requires an array"),
                    ));
                };
                let items = if op == "in" {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(if item.is_null() {
                            Value::Null
                        } else {
                            self.validate(item)?.json()
                        });
                    }
                    if out.is_empty() {
                        return Err(QueryError::bad_input(format!(
                            "Invalid filter value for field {}. Expected non-empty array",
                            self.error_key
                        ))
                        .with_sub_code("INVALID_QUERY_INPUT")
                        .with_user_friendly("Invalid filter value"));
                    }
                    out
                } else {
                    items.iter().map(|v| self.text_json(v)).collect()
                };
                let list = Param::Text(Value::Array(items).to_string());
                if op == "containsAny" && self.op_type == FieldType::MultiSelect {
                    return Ok(Sql::with(
                        format!(
                            "CASE WHEN {c} IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM {} AS e WHERE e.value IN (SELECT v.value FROM json_each(?) AS v)) END",
                            self.column.each()
                        ),
                        vec![list],
                    ));
                }
                Ok(Sql::with(
                    format!("{c} IN (SELECT value FROM json_each(?))"),
                    vec![list],
                ))
            }
            "like" | "ilike" | "startsWith" | "endsWith" | "containsIlike" => {
                let Some(pattern) = raw.as_str() else {
                    return Err(filter_error_uf(
                        format!(
                            "Filter operator \"{op}\" requires a string value for field \"{}\", got {}",
                            self.field_name,
                            js_typeof(raw)
                        ),
                        format!("Invalid filter: \"{op}\" operator requires a String"),
                    ));
                };
                let text = if matches!(self.op_type, FieldType::RawJson | FieldType::Files) {
                    self.column.json_text()
                } else {
                    c.clone()
                };
                Ok(match op {
                    "like" => Sql::with(
                        or_null(format!("{text} GLOB ?")),
                        vec![Param::Text(like_to_glob(pattern))],
                    ),
                    "ilike" => match prefix_range(pattern).filter(|_| null_eq.is_none()) {
                        // The same rows, plus a range an index on `lower(column)` serves
                        // (`ddl::object_ddl`); LIKE alone makes SQLite scan every record.
                        Some((low, high)) => Sql::with(
                            format!(
                                "lower({text}) LIKE lower(?) ESCAPE '\\' \
                                 AND lower({text}) >= ? AND lower({text}) < ?"
                            ),
                            vec![
                                Param::Text(pattern.to_string()),
                                Param::Text(low),
                                Param::Text(high),
                            ],
                        ),
                        None => Sql::with(
                            or_null(format!("lower({text}) LIKE lower(?) ESCAPE '\\'")),
                            vec![Param::Text(pattern.to_string())],
                        ),
                    },
                    "startsWith" => Sql::with(
                        format!("{text} GLOB ?"),
                        vec![Param::Text(format!("{}*", glob_escape(pattern)))],
                    ),
                    "endsWith" => Sql::with(
                        format!("{text} GLOB ?"),
                        vec![Param::Text(format!("*{}", glob_escape(pattern)))],
                    ),
                    _ => Sql::with(
                        format!(
                            "EXISTS (SELECT 1 FROM {} AS e WHERE lower(e.value) LIKE lower(?) ESCAPE '\\')",
                            self.column.each()
                        ),
                        vec![Param::Text(pattern.to_string())],
                    ),
                })
            }
            "eq" | "neq" | "gt" | "gte" | "lt" | "lte" => {
                let value = self.validate(raw)?;
                if self.date_window {
                    return Ok(self.date_time_comparison(op, &c, &value));
                }
                if let (Some((enum_name, values)), "gt" | "gte" | "lt" | "lte") =
                    (&self.enum_values, op)
                {
                    return self.enum_comparison(op, &c, &value, enum_name, values);
                }
                let p = value.param();
                let sql_op = match op {
                    "eq" => "=",
                    "neq" => "!=",
                    "gt" => ">",
                    "gte" => ">=",
                    "lt" => "<",
                    _ => "<=",
                };
                let mut s = format!("{c} {sql_op} ?");
                // Twenty widens only eq and neq.
                match (null_eq, op) {
                    (Some(_), "eq") => s.push_str(&format!(" OR {c} IS NULL")),
                    (Some(_), "neq") => s.push_str(&format!(" AND {c} IS NOT NULL")),
                    _ => {}
                }
                Ok(Sql::with(s, vec![p]))
            }
            other => Err(
                QueryError::bad_input(format!("Operator \"{other}\" is not supported"))
                    .with_sub_code("UNSUPPORTED_OPERATOR")
                    .with_user_friendly(STANDARD_ERROR_MESSAGE),
            ),
        }
    }

    /// DATE_TIME with Postgres' microsecond instants emulated over millisecond strings:
    /// every bound is rounded up to the next stored millisecond, which keeps `>=`/`<`
    /// exact.
    fn date_time_comparison(&self, op: &str, c: &str, value: &Checked) -> Sql {
        let at = match value {
            Checked::DateTime(t) => Some(*t),
            _ => None,
        };
        let bound = |t: Option<DateTime<Utc>>| match t {
            Some(t) => Param::Text(format_millis(ceil_millis(t))),
            None => Param::Null,
        };
        let plus_1ms = at.map(|t| t + Duration::milliseconds(1));
        match op {
            "eq" => Sql::with(
                format!("({c} >= ? AND {c} < ?)"),
                vec![bound(at), bound(plus_1ms)],
            ),
            "neq" => Sql::with(
                format!("({c} < ? OR {c} >= ?)"),
                vec![bound(at), bound(plus_1ms)],
            ),
            "gt" => Sql::with(format!("{c} >= ?"), vec![bound(plus_1ms)]),
            "gte" => Sql::with(format!("{c} >= ?"), vec![bound(at)]),
            "lt" => Sql::with(format!("{c} < ?"), vec![bound(at)]),
            _ => Sql::with(format!("{c} < ?"), vec![bound(plus_1ms)]),
        }
    }

    /// `gt`/`lt` on an enum compare declaration positions, as Postgres does.
    fn enum_comparison(
        &self,
        op: &str,
        c: &str,
        value: &Checked,
        enum_name: &str,
        values: &[String],
    ) -> QueryResult<Sql> {
        let position = match value {
            Checked::Null => Param::Null,
            other => {
                let text = other.text();
                let Some(i) = values.iter().position(|v| *v == text) else {
                    return Err(QueryError::bad_input(format!(
                        "Value \"{text}\" does not exist in \"{enum_name}\" enum."
                    )));
                };
                Param::Int(i as i64)
            }
        };
        let sql_op = match op {
            "gt" => ">",
            "gte" => ">=",
            "lt" => "<",
            _ => "<=",
        };
        let order = Value::Array(values.iter().map(|v| Value::String(v.clone())).collect());
        Ok(Sql::with(
            format!("(SELECT o.key FROM json_each(?) AS o WHERE o.value = {c}) {sql_op} ?"),
            vec![Param::Text(order.to_string()), position],
        ))
    }

    /// `validateAndTransformValueByFieldType`, plus the normalisation the storage needs.
    fn validate(&self, value: &Value) -> QueryResult<Checked> {
        let name = &self.field_name;
        use FieldType::*;
        Ok(match self.op_type {
            Number | Numeric | Position => {
                let n = match value {
                    Value::Null => return Ok(Checked::Null),
                    Value::String(s) => js_parse_float(s),
                    Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                    other => {
                        return Err(invalid_value(&inspect(other), name, "number"));
                    }
                };
                if !n.is_finite() {
                    return Err(invalid_value(&js_number(n), name, "number"));
                }
                Checked::Number(n)
            }
            Boolean => match value {
                Value::Null => Checked::Null,
                Value::Bool(b) => Checked::Bool(*b),
                Value::String(s) if s == "true" => Checked::Bool(true),
                Value::String(s) if s == "false" => Checked::Bool(false),
                other => return Err(invalid_value(&inspect(other), name, "boolean")),
            },
            Uuid | Relation | MorphRelation => match value {
                Value::Null => Checked::Null,
                Value::String(s) if is_valid_uuid(s) => Checked::Text(s.to_ascii_lowercase()),
                other => return Err(invalid_value(&inspect(other), name, "UUID")),
            },
            Date => match (value, value.as_str().and_then(parse_date)) {
                (Value::Null, _) => Checked::Null,
                (_, Some(d)) => Checked::Text(d.format("%Y-%m-%d").to_string()),
                (other, None) => return Err(invalid_format(other, name, "date", "YYYY-MM-DD")),
            },
            DateTime => match (value, value.as_str().and_then(parse_date_time)) {
                (Value::Null, _) => Checked::Null,
                (_, Some(t)) => Checked::DateTime(t),
                (other, None) => {
                    return Err(invalid_format(
                        other,
                        name,
                        "date-time",
                        "YYYY-MM-DDTHH:mm:ssZ",
                    ))
                }
            },
            Text | Select | Rating | MultiSelect | Array | TsVector => match value {
                Value::Null => Checked::Null,
                Value::Array(_) | Value::Object(_) => Checked::Other(value.clone()),
                scalar => Checked::Text(js_string(scalar)),
            },
            _ => Checked::Other(value.clone()),
        })
    }

    /// A list item of a text-valued operator (`containsAny`).
    fn text_json(&self, value: &Value) -> Value {
        match value {
            Value::Null | Value::Array(_) | Value::Object(_) => value.clone(),
            scalar => Value::String(js_string(scalar)),
        }
    }
}

/// A value `kind` (`number`, `boolean`, `UUID`) cannot take, shown as `inspected`. The
/// user-facing message names the kind, except for booleans (as in Twenty).
fn invalid_value(inspected: &str, name: &str, kind: &str) -> QueryError {
    let user = if kind == "boolean" {
        format!("Invalid value: \"{inspected}\"")
    } else {
        format!("Invalid value for {kind}: \"{inspected}\"")
    };
    filter_error_uf(
        format!("Invalid {kind} value {inspected} for field \"{name}\""),
        user,
    )
}

/// A `kind` (`date`, `date-time`) value that does not parse as `format`.
fn invalid_format(value: &Value, name: &str, kind: &str, format: &str) -> QueryError {
    let inspected = inspect(value);
    filter_error_uf(
        format!(
            "Invalid value {inspected} for {kind} field \"{name}\". Expected format: '{format}'"
        ),
        format!("Invalid value for {kind}: \"{inspected}\". Expected format: '{format}'"),
    )
}

/// A validated filter value.
#[derive(Debug, Clone, PartialEq)]
enum Checked {
    Null,
    Number(f64),
    Bool(bool),
    Text(String),
    DateTime(DateTime<Utc>),
    Other(Value),
}

impl Checked {
    fn param(&self) -> Param {
        match self {
            Checked::Null => Param::Null,
            Checked::Number(n) => number_param(*n),
            Checked::Bool(b) => Param::Int(*b as i64),
            Checked::Text(s) => Param::Text(s.clone()),
            Checked::DateTime(t) => Param::Text(format_date_time(*t)),
            Checked::Other(v) => json_param(v),
        }
    }

    /// As an item of a `json_each(?)` list (compared like [`Checked::param`]).
    fn json(&self) -> Value {
        match self {
            Checked::Null => Value::Null,
            Checked::Number(n) => serde_json::Number::from_f64(*n)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Checked::Bool(b) => Value::from(*b as i64),
            Checked::Text(s) => Value::String(s.clone()),
            Checked::DateTime(t) => Value::String(format_date_time(*t)),
            Checked::Other(v) => v.clone(),
        }
    }

    fn text(&self) -> String {
        match self {
            Checked::Text(s) => s.clone(),
            Checked::Number(n) => js_number(*n),
            Checked::Bool(b) => b.to_string(),
            Checked::DateTime(t) => format_date_time(*t),
            Checked::Null => "null".to_string(),
            Checked::Other(v) => v.to_string(),
        }
    }
}

fn number_param(n: f64) -> Param {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Param::Int(n as i64)
    } else {
        Param::Real(n)
    }
}

/// A JSON value as SQLite compares it with `json_extract` results.
pub(crate) fn json_param(v: &Value) -> Param {
    match v {
        Value::Null => Param::Null,
        Value::Bool(b) => Param::Int(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Param::Int(i),
            None => Param::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Param::Text(s.clone()),
        other => Param::Text(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// Patterns.

/// For an `ilike` pattern that is a literal ASCII prefix followed by one `%` (`"ab%"`):
/// the bounds `[low, high)` that `lower(column)` lies within exactly when it matches.
/// SQLite's `lower()` and `LIKE` fold ASCII letters only, so a lowered ASCII prefix is
/// compared bytewise; patterns with other wildcards, escapes or non-ASCII text get none.
pub(crate) fn prefix_range(pattern: &str) -> Option<(String, String)> {
    let prefix = pattern.strip_suffix('%')?;
    let plain = |c: char| c.is_ascii() && !matches!(c, '%' | '_' | '\\' | '\x7f');
    if prefix.is_empty() || !prefix.chars().all(plain) {
        return None;
    }
    let low = prefix.to_ascii_lowercase();
    let mut high = low.clone();
    let last = high.pop()?;
    high.push(char::from(last as u8 + 1));
    Some((low, high))
}

fn push_glob_literal(out: &mut String, c: char) {
    match c {
        '*' => out.push_str("[*]"),
        '?' => out.push_str("[?]"),
        '[' => out.push_str("[[]"),
        c => out.push(c),
    }
}

/// A literal as a GLOB pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_glob_literal(&mut out, c);
    }
    out
}

/// A Postgres LIKE pattern (`%`, `_`, backslash escapes) as an equivalent case-sensitive
/// SQLite GLOB pattern.
fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => push_glob_literal(&mut out, chars.next().unwrap_or('\\')),
            '%' => out.push('*'),
            '_' => out.push('?'),
            c => push_glob_literal(&mut out, c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Values: UUIDs, dates, JavaScript-like coercion and inspection.

/// twenty-shared's `isValidUuid`, widened to the RFC 9562 versions 1–8 (this server may
/// mint v7 ids; Twenty's regex stops at 5).
fn is_valid_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
        && (b'1'..=b'8').contains(&b[14])
        && matches!(b[19].to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b')
}

const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y/%m/%d",
    "%m-%d-%Y",
    "%m/%d/%Y",
    "%m.%d.%Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%Y-%b-%d",
];

const NAIVE_DATE_TIME_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// A DATE_TIME filter value: RFC 3339 / ISO 8601 with or without offset (UTC when
/// absent), or one of twenty-shared's `ACCEPTED_DATE_TIME_FORMATS` dates (midnight UTC).
pub(crate) fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in NAIVE_DATE_TIME_FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    parse_plain_date(s).map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
}

fn parse_plain_date(s: &str) -> Option<NaiveDate> {
    if s.len() < 6 || s.contains(':') {
        return None;
    }
    DATE_FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// A DATE filter value: a date, or the date part of a date-time as written.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Some(d) = parse_plain_date(s) {
        return Some(d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.date_naive());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.date_naive());
        }
    }
    NAIVE_DATE_TIME_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.date())
}

fn ceil_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let rest = t.timestamp_subsec_nanos() % 1_000_000;
    if rest == 0 {
        t
    } else {
        t + Duration::nanoseconds(i64::from(1_000_000 - rest))
    }
}

/// The storage form of an instant: `2024-01-02T03:04:05.678Z`.
pub fn format_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The storage form when the instant is a whole millisecond; the exact instant otherwise
/// (which then equals no stored value, as in Postgres).
fn format_date_time(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        format_millis(t)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Nanos, true)
    }
}

/// JavaScript's `parseFloat`.
fn js_parse_float(s: &str) -> f64 {
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    if rest.starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    let b = rest.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
            digits += 1;
        }
        i = j;
    }
    if digits == 0 {
        return f64::NAN;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > start {
            i = j;
        }
    }
    sign * rest[..i].parse::<f64>().unwrap_or(f64::NAN)
}

/// A number as JavaScript prints it (integers without `.0`).
fn js_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == 0.0 && n.is_sign_negative() {
        "-0".into()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// `String(value)` for a scalar.
fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => js_number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// JavaScript's `typeof`.
fn js_typeof(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        _ => "object",
    }
}

/// Node's `util.inspect` for JSON values (as Twenty's messages print them).
fn inspect(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => js_string(v),
        Value::String(s) => inspect_str(s),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => format!(
            "[ {} ]",
            items.iter().map(inspect).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| {
                    let plain = k
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                        && k.chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
                    let key = if plain { k.clone() } else { inspect_str(k) };
                    format!("{key}: {}", inspect(v))
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn inspect_str(s: &str) -> String {
    let quote = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') {
        '`'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------------------------------

/// A small hand-built workspace for the tests of `filter`, `order` and `cursor`.
#[cfg(test)]
pub(crate) mod test_model {
    use super::super::metadata::{FieldMetadata, ObjectMetadata, WorkspaceModel};
    use serde_json::{json, Value};

    pub const PERSON_ID: &str = "0b0c5e1c-0000-4000-8000-000000000001";
    pub const COMPANY_ID: &str = "0b0c5e1c-0000-4000-8000-000000000002";

    /// A field from its name, Twenty type and extra metadata keys (camelCase).
    pub fn field(object_id: &str, name: &str, field_type: &str, extra: Value) -> FieldMetadata {
        let mut v = json!({
            "id": format!("{object_id}:{name}"),
            "objectId": object_id,
            "name": name,
            "label": name,
            "type": field_type,
            "isNullable": true,
            "createdAt": "2024-01-01T00:00:00.000Z",
            "updatedAt": "2024-01-01T00:00:00.000Z",
        });
        if let (Value::Object(map), Value::Object(more)) = (&mut v, extra) {
            map.extend(more);
        }
        serde_json::from_value(v).expect("field metadata")
    }

    pub fn object(
        id: &str,
        singular: &str,
        plural: &str,
        fields: Vec<FieldMetadata>,
    ) -> ObjectMetadata {
        serde_json::from_value(json!({
            "id": id,
            "nameSingular": singular,
            "namePlural": plural,
            "labelSingular": singular,
            "labelPlural": plural,
            "createdAt": "2024-01-01T00:00:00.000Z",
            "updatedAt": "2024-01-01T00:00:00.000Z",
            "fields": fields,
        }))
        .expect("object metadata")
    }

    /// A SELECT / MULTI_SELECT field whose options are `values`, in order.
    fn select(object_id: &str, name: &str, field_type: &str, values: &[&str]) -> FieldMetadata {
        let options: Vec<Value> = values
            .iter()
            .zip(0..)
            .map(|(value, position)| {
                json!({"id": value, "label": value, "value": value, "color": "blue", "position": position})
            })
            .collect();
        field(object_id, name, field_type, json!({ "options": options }))
    }

    /// A relation field pointing at `target_field` (`"<objectId>:<name>"`) on `target_id`.
    pub fn relation(
        object_id: &str,
        name: &str,
        relation_type: &str,
        target_id: &str,
        target_field: &str,
    ) -> FieldMetadata {
        field(
            object_id,
            name,
            "RELATION",
            json!({"relation": {"relationType": relation_type, "targetObjectId": target_id, "targetFieldId": target_field}}),
        )
    }

    /// `person` (every interesting type, `company` many-to-one) and `company`.
    pub fn model() -> WorkspaceModel {
        let p = PERSON_ID;
        let c = COMPANY_ID;
        let person = object(
            p,
            "person",
            "people",
            vec![
                field(p, "id", "UUID", json!({"isNullable": false})),
                field(p, "createdAt", "DATE_TIME", json!({"isNullable": false})),
                field(p, "deletedAt", "DATE_TIME", json!({})),
                field(p, "jobTitle", "TEXT", json!({})),
                field(p, "name", "FULL_NAME", json!({})),
                field(p, "emails", "EMAILS", json!({})),
                field(p, "score", "NUMBER", json!({})),
                field(p, "salary", "NUMERIC", json!({})),
                field(p, "position", "POSITION", json!({})),
                field(p, "isActive", "BOOLEAN", json!({})),
                field(p, "birthday", "DATE", json!({})),
                select(p, "stage", "SELECT", &["NEW", "MEETING", "CUSTOMER"]),
                select(p, "tags", "MULTI_SELECT", &["VIP", "COLD", "HOT"]),
                field(p, "aliases", "ARRAY", json!({})),
                field(p, "extra", "RAW_JSON", json!({})),
                field(p, "externalId", "UUID", json!({})),
                field(p, "createdBy", "ACTOR", json!({})),
                relation(p, "company", "MANY_TO_ONE", c, &format!("{c}:people")),
            ],
        );
        let company = object(
            c,
            "company",
            "companies",
            vec![
                field(c, "id", "UUID", json!({"isNullable": false})),
                field(c, "name", "TEXT", json!({})),
                field(c, "address", "ADDRESS", json!({})),
                relation(c, "people", "ONE_TO_MANY", p, &format!("{p}:company")),
            ],
        );
        WorkspaceModel {
            objects: vec![person, company],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_model::{model, COMPANY_ID};
    use super::*;
    use crate::schema::sql::tests::max_depth;
    use serde_json::json;

    const U1: &str = "20202020-0687-4c41-b707-ed1bfca972a7";

    fn run(filter: Value) -> QueryResult<Compiled> {
        let m = model();
        let person = m.object("person").unwrap().clone();
        compile(&m, &person, &filter, "p")
    }

    /// `filter` compiles to `text` with `params`.
    fn check(filter: Value, text: &str, params: Vec<Param>) {
        let c = run(filter.clone()).unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(c.sql.text, text, "{filter}");
        assert_eq!(c.sql.params, params, "{filter}");
    }

    /// `filter` is refused with `message` (BAD_USER_INPUT).
    fn check_err(filter: Value, message: &str) {
        let e = run(filter.clone()).expect_err(&filter.to_string());
        assert_eq!(e.message, message, "{filter}");
        assert_eq!(e.graphql_code(), "BAD_USER_INPUT", "{filter}");
    }

    fn t(s: &str) -> Param {
        Param::Text(s.into())
    }

    /// `{field: {op: value}}` compiles to `({column} {sql_op} ?)` binding `param`.
    fn check_cmp(field: &str, column: &str, op: &str, value: Value, sql_op: &str, param: Param) {
        check(
            json!({field: {op: value}}),
            &format!("({column} {sql_op} ?)"),
            vec![param],
        );
    }

    /// How `field`'s value is read in SQL.
    fn col(field: &str) -> String {
        format!(r#"json_extract(p.data, '$."{field}"')"#)
    }

    #[test]
    fn text_operators() {
        let j: &str = &col("jobTitle");
        check(json!({}), "1", vec![]);
        check(Value::Null, "1", vec![]);
        for (op, value, sql_op, param) in [
            ("eq", "CEO", "=", "CEO"),
            ("neq", "CEO", "!=", "CEO"),
            ("gt", "b", ">", "b"),
            ("gte", "b", ">=", "b"),
            ("lt", "b", "<", "b"),
            ("lte", "b", "<=", "b"),
            ("like", "%a_b\\%*?[c%", "GLOB", "*a?b%[*][?][[]c*"),
            ("startsWith", "a*", "GLOB", "a[*]*"),
            ("endsWith", "?z", "GLOB", "*[?]z"),
        ] {
            check_cmp("jobTitle", j, op, json!(value), sql_op, t(param));
        }
        // Non-string scalars are compared as their string.
        check_cmp("jobTitle", j, "eq", json!(5), "=", t("5"));
        for (filter, text, params) in [
            (
                json!({"jobTitle": {"in": ["a", "b"]}}),
                format!("({j} IN (SELECT value FROM json_each(?)))"),
                vec![t(r#"["a","b"]"#)],
            ),
            (
                json!({"jobTitle": {"ilike": "%Ab%"}}),
                format!("(lower({j}) LIKE lower(?) ESCAPE '\\')"),
                vec![t("%Ab%")],
            ),
            // A literal prefix adds the range an index on lower(...) serves.
            (
                json!({"jobTitle": {"ilike": "Ab%"}}),
                format!(
                    "(lower({j}) LIKE lower(?) ESCAPE '\\' AND lower({j}) >= ? AND lower({j}) < ?)"
                ),
                vec![t("Ab%"), t("ab"), t("ac")],
            ),
            (
                json!({"jobTitle": {"is": "NULL"}}),
                format!("({j} IS NULL OR {j} = '')"),
                vec![],
            ),
            (
                json!({"jobTitle": {"is": "NOT_NULL"}}),
                format!("({j} IS NOT NULL)"),
                vec![],
            ),
            // Null-equivalence: '' and null (and Twenty's literal "NULL") widen eq/neq/like.
            (
                json!({"jobTitle": {"eq": ""}}),
                format!("({j} = ? OR {j} IS NULL)"),
                vec![t("")],
            ),
            (
                json!({"jobTitle": {"eq": null}}),
                format!("({j} = ? OR {j} IS NULL)"),
                vec![Param::Null],
            ),
            (
                json!({"jobTitle": {"neq": ""}}),
                format!("({j} != ? AND {j} IS NOT NULL)"),
                vec![t("")],
            ),
            (
                json!({"jobTitle": {"like": ""}}),
                format!("({j} GLOB ? OR {j} IS NULL)"),
                vec![t("")],
            ),
        ] {
            check(filter, &text, params);
        }
    }

    #[test]
    fn number_boolean_uuid_operators() {
        let s: &str = &col("score");
        let n: &str = &format!("CAST({} AS REAL)", col("salary"));
        let b: &str = &col("isActive");
        let fk: &str = &col("companyId");
        for (field, column, op, value, sql_op, param) in [
            ("score", s, "eq", json!(3), "=", Param::Int(3)),
            ("score", s, "gt", json!(2.5), ">", Param::Real(2.5)),
            ("score", s, "lte", json!("12abc"), "<=", Param::Int(12)),
            ("salary", n, "gte", json!("100.5"), ">=", Param::Real(100.5)),
            (
                "position",
                &col("position"),
                "lt",
                json!(1),
                "<",
                Param::Int(1),
            ),
            ("isActive", b, "eq", json!(true), "=", Param::Int(1)),
            ("isActive", b, "eq", json!("false"), "=", Param::Int(0)),
            ("id", "p.id", "eq", json!(U1.to_uppercase()), "=", t(U1)),
            ("id", "p.id", "neq", json!(U1), "!=", t(U1)),
            ("id", "p.id", "gt", json!(U1), ">", t(U1)),
            ("companyId", fk, "eq", json!(U1), "=", t(U1)),
        ] {
            check_cmp(field, column, op, value, sql_op, param);
        }
        for (field, column, is, sql) in [
            ("score", s, "NULL", "IS NULL"),
            ("isActive", b, "NOT_NULL", "IS NOT NULL"),
            ("externalId", &col("externalId"), "NULL", "IS NULL"),
        ] {
            check(
                json!({field: {"is": is}}),
                &format!("({column} {sql})"),
                vec![],
            );
        }
        check(
            json!({"score": {"in": [1, "2.5", null]}}),
            &format!("({s} IN (SELECT value FROM json_each(?)))"),
            vec![t("[1.0,2.5,null]")],
        );
        check(
            json!({"companyId": {"in": [U1]}}),
            &format!("({fk} IN (SELECT value FROM json_each(?)))"),
            vec![t(&format!("[\"{U1}\"]"))],
        );
    }

    #[test]
    fn date_operators() {
        let c: &str = &col("createdAt");
        let v = "2024-01-02T03:04:05.678Z";
        let next = "2024-01-02T03:04:05.679Z";
        check(
            json!({"createdAt": {"eq": v}}),
            &format!("(({c} >= ? AND {c} < ?))"),
            vec![t(v), t(next)],
        );
        check(
            json!({"createdAt": {"neq": v}}),
            &format!("(({c} < ? OR {c} >= ?))"),
            vec![t(v), t(next)],
        );
        let d: &str = &col("birthday");
        for (field, column, op, value, sql_op, param) in [
            ("createdAt", c, "gt", v, ">=", next),
            ("createdAt", c, "gte", v, ">=", v),
            ("createdAt", c, "lt", v, "<", v),
            ("createdAt", c, "lte", v, "<", next),
            // Other offsets and date-only input are normalised to UTC milliseconds.
            (
                "createdAt",
                c,
                "gte",
                "2024-01-02T05:04:05+02:00",
                ">=",
                "2024-01-02T03:04:05.000Z",
            ),
            (
                "createdAt",
                c,
                "lt",
                "2024-01-02",
                "<",
                "2024-01-02T00:00:00.000Z",
            ),
            // Sub-millisecond bounds round up to the next stored millisecond.
            (
                "createdAt",
                c,
                "gte",
                "2024-01-02T03:04:05.6781Z",
                ">=",
                "2024-01-02T03:04:05.679Z",
            ),
            ("deletedAt", "p.deleted_at", "gte", v, ">=", v),
            // DATE values of any accepted shape compare as YYYY-MM-DD.
            ("birthday", d, "eq", "2020-02-03", "=", "2020-02-03"),
            ("birthday", d, "gt", "02/03/2020", ">", "2020-02-03"),
            (
                "birthday",
                d,
                "lt",
                "2020-02-03T23:00:00-05:00",
                "<",
                "2020-02-03",
            ),
        ] {
            check_cmp(field, column, op, json!(value), sql_op, t(param));
        }
        check(
            json!({"createdAt": {"in": ["2024-01-02T03:04:05Z"]}}),
            &format!("({c} IN (SELECT value FROM json_each(?)))"),
            vec![t(r#"["2024-01-02T03:04:05.000Z"]"#)],
        );
        check(
            json!({"deletedAt": {"is": "NULL"}}),
            "(p.deleted_at IS NULL)",
            vec![],
        );
    }

    #[test]
    fn select_array_json_operators() {
        let st: &str = &col("stage");
        let tg: &str = &col("tags");
        for (filter, text, params) in [
            (
                json!({"stage": {"eq": "NEW"}}),
                format!("({st} = ?)"),
                vec![t("NEW")],
            ),
            (json!({"stage": {"is": "NULL"}}), format!("({st} IS NULL)"), vec![]),
            (
                json!({"stage": {"in": ["NEW", "MEETING"]}}),
                format!("({st} IN (SELECT value FROM json_each(?)))"),
                vec![t(r#"["NEW","MEETING"]"#)],
            ),
            (
                json!({"stage": {"containsAny": ["NEW"]}}),
                format!("({st} IN (SELECT value FROM json_each(?)))"),
                vec![t(r#"["NEW"]"#)],
            ),
            (
                json!({"stage": {"gt": "MEETING"}}),
                format!("((SELECT o.key FROM json_each(?) AS o WHERE o.value = {st}) > ?)"),
                vec![t(r#"["NEW","MEETING","CUSTOMER"]"#), Param::Int(1)],
            ),
            (
                json!({"tags": {"containsAny": ["VIP", "HOT"]}}),
                format!(
                    "(CASE WHEN {tg} IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM json_each(p.data, '$.\"tags\"') AS e WHERE e.value IN (SELECT v.value FROM json_each(?) AS v)) END)"
                ),
                vec![t(r#"["VIP","HOT"]"#)],
            ),
            (
                json!({"tags": {"is": "NULL"}}),
                format!("({tg} IS NULL OR {tg} = '[]')"),
                vec![],
            ),
            (json!({"tags": {"isEmptyArray": true}}), format!("({tg} = '[]')"), vec![]),
            (json!({"tags": {"isEmptyArray": false}}), format!("({tg} != '[]')"), vec![]),
            (
                json!({"aliases": {"containsIlike": "%bo%"}}),
                "(EXISTS (SELECT 1 FROM json_each(p.data, '$.\"aliases\"') AS e WHERE lower(e.value) LIKE lower(?) ESCAPE '\\'))".to_string(),
                vec![t("%bo%")],
            ),
            (
                json!({"aliases": {"is": "NOT_NULL"}}),
                format!("({} IS NOT NULL)", col("aliases")),
                vec![],
            ),
            (
                json!({"extra": {"is": "NULL"}}),
                format!("({} IS NULL)", col("extra")),
                vec![],
            ),
            (
                json!({"extra": {"like": "%\"vip\":true%"}}),
                "((p.data -> '$.\"extra\"') GLOB ?)".to_string(),
                vec![t("*\"vip\":true*")],
            ),
        ] {
            check(filter, &text, params);
        }
        check_err(
            json!({"stage": {"lt": "LOST"}}),
            "Value \"LOST\" does not exist in \"PersonStageEnum\" enum.",
        );
    }

    #[test]
    fn composite_sub_fields() {
        let f = r#"json_extract(p.data, '$."name"."firstName"')"#;
        let l = r#"json_extract(p.data, '$."name"."lastName"')"#;
        check(
            json!({"name": {"firstName": {"ilike": "%a%"}, "lastName": {"is": "NULL"}}}),
            &format!("(((lower({f}) LIKE lower(?) ESCAPE '\\') AND ({l} IS NULL OR {l} = '')))"),
            vec![t("%a%")],
        );
        check(json!({"name": {}}), "1", vec![]);
        let e = r#"json_extract(p.data, '$."emails"."additionalEmails"')"#;
        check(
            json!({"emails": {"additionalEmails": {"is": "NULL"}}}),
            &format!("(({e} IS NULL OR {e} = '[]'))"),
            vec![],
        );
        let pe = r#"json_extract(p.data, '$."emails"."primaryEmail"')"#;
        check(
            json!({"emails": {"primaryEmail": {"eq": ""}}}),
            &format!("(({pe} = ? OR {pe} IS NULL))"),
            vec![t("")],
        );
        let src = r#"json_extract(p.data, '$."createdBy"."source"')"#;
        check(
            json!({"createdBy": {"source": {"eq": "API"}}}),
            &format!("(({src} = ?))"),
            vec![t("API")],
        );
        check(
            json!({"createdBy": {"source": {"gte": "MANUAL"}}}),
            &format!("(((SELECT o.key FROM json_each(?) AS o WHERE o.value = {src}) >= ?))"),
            vec![
                t(&serde_json::to_string(ACTOR_SOURCES).unwrap()),
                Param::Int(6),
            ],
        );
        let wm = r#"json_extract(p.data, '$."createdBy"."workspaceMemberId"')"#;
        check(
            json!({"createdBy": {"workspaceMemberId": {"eq": U1}}}),
            &format!("(({wm} = ?))"),
            vec![t(U1)],
        );
        check_err(
            json!({"name": {"eq": "x"}}),
            "Sub field \"eq\" not found for composite type: FULL_NAME",
        );
        check_err(
            json!({"name": {"firstName": {"eq": "x", "neq": "y"}}}),
            "Filter for field \"name.firstName\" must have exactly one operator",
        );
        check_err(
            json!({"name": {"firstName": {"in": []}}}),
            "Invalid filter value for field firstName. Expected non-empty array",
        );
        check_err(
            json!({"createdBy": {"workspaceMemberId": {"eq": "abc"}}}),
            "Invalid UUID value 'abc' for field \"createdBy.workspaceMemberId\"",
        );
    }

    #[test]
    fn logical_operators_and_balanced_trees() {
        let a = r#"json_extract(p.data, '$."jobTitle"') = ?"#;
        check(
            json!({"and": [{"jobTitle": {"eq": "a"}}, {"jobTitle": {"eq": "b"}}]}),
            &format!("(((({a})) AND (({a}))))"),
            vec![t("a"), t("b")],
        );
        check(
            json!({"or": [{"jobTitle": {"eq": "a"}}, {"jobTitle": {"eq": "b"}}, {"jobTitle": {"eq": "c"}}]}),
            &format!("(((({a})) OR ((({a})) OR (({a})))))"),
            vec![t("a"), t("b"), t("c")],
        );
        // A single object instead of a list; empty lists and objects are no condition.
        check(
            json!({"or": {"jobTitle": {"eq": "a"}}}),
            &format!("((({a})))"),
            vec![t("a")],
        );
        check(json!({"and": []}), "1", vec![]);
        check(json!({"or": [{}]}), "1", vec![]);
        check(
            json!({"not": {"jobTitle": {"eq": "a"}}}),
            &format!("(NOT ({a}))"),
            vec![t("a")],
        );
        // Constants fold: nothing is true of every record, NOT nothing of none.
        check(json!({"not": {}}), "0", vec![]);
        check(json!({"or": [{}, {"jobTitle": {"eq": "a"}}]}), "1", vec![]);
        check(
            json!({"and": [{}, {"jobTitle": {"eq": "a"}}]}),
            &format!("((({a})))"),
            vec![t("a")],
        );
        // Keys of one object are ANDed.
        check(
            json!({"id": {"eq": U1}, "jobTitle": {"eq": "a"}}),
            &format!("((p.id = ?) AND ({a}))"),
            vec![t(U1), t("a")],
        );
        // Hundreds of OR terms stay shallow (SQLite's expression depth limit is 100).
        let many: Vec<Value> = (0..60).map(|i| json!({"score": {"eq": i}})).collect();
        let c = run(json!({"or": many})).unwrap();
        assert_eq!(c.sql.params.len(), 60);
        let depth = max_depth(&c.sql.text);
        assert!(depth < 30, "{depth}");
    }

    #[test]
    fn large_in_lists_bind_one_parameter() {
        let ids: Vec<String> = (0..500)
            .map(|i| format!("20202020-0000-4000-8000-{i:012}"))
            .collect();
        let c = run(json!({"id": {"in": ids}})).unwrap();
        assert_eq!(c.sql.text, "(p.id IN (SELECT value FROM json_each(?)))");
        assert_eq!(c.sql.params.len(), 1);
        // Too many bound values in one filter is refused rather than failing in SQLite.
        let many: Vec<Value> = (0..=MAX_FILTER_VALUES)
            .map(|i| json!({"score": {"eq": i}}))
            .collect();
        let e = run(json!({"or": many})).unwrap_err();
        assert_eq!(e.sub_code.as_deref(), Some("TOO_COMPLEX_QUERY"));
    }

    #[test]
    fn relation_filters() {
        let m = model();
        let company = m.object_by_id(COMPANY_ID).unwrap();
        let table = company.table();
        check(
            json!({"company": {"name": {"eq": "Acme"}}}),
            &format!(
                "((SELECT (json_extract(p_company.data, '$.\"name\"') = ?) FROM (SELECT 1) LEFT JOIN {table} AS p_company ON p_company.id = json_extract(p.data, '$.\"companyId\"') AND p_company.deleted_at IS NULL))"
            ),
            vec![t("Acme")],
        );
        check(json!({"company": {}}), "1", vec![]);
        check_err(
            json!({"company": {"eq": U1}}),
            "Object company doesn't have any \"eq\" field.",
        );
        check_err(
            json!({"company": "x"}),
            "Cannot filter by relation field \"company\": use \"companyId\" instead",
        );
        let m2 = model();
        let c = m2.object("company").unwrap();
        let e = compile(&m2, c, &json!({"people": {"jobTitle": {"eq": "x"}}}), "c").unwrap_err();
        assert_eq!(e.message, "Cannot filter by relation field \"people\"");
        // The target's deletedAt does not widen the root query.
        let r = run(json!({"company": {"deletedAt": {"is": "NOT_NULL"}}})).unwrap();
        assert!(!r.mentions_deleted_at);
    }

    #[test]
    fn relation_depth_is_limited() {
        // A company -> person -> company chain needs a second hop.
        let mut m = model();
        let person_id = test_model::PERSON_ID;
        let company = m
            .objects
            .iter_mut()
            .find(|o| o.name_singular == "company")
            .unwrap();
        company.fields.push(test_model::relation(
            COMPANY_ID,
            "ceo",
            "MANY_TO_ONE",
            person_id,
            "x",
        ));
        let person = m.object("person").unwrap();
        let e = compile(
            &m,
            person,
            &json!({"company": {"ceo": {"jobTitle": {"eq": "x"}}}}),
            "p",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Relation filter nesting deeper than 1 hop is not supported"
        );
        assert!(compile(&m, person, &json!({"company": {"ceoId": {"eq": U1}}}), "p").is_ok());
    }

    #[test]
    fn validation_errors() {
        check_err(
            json!({"foo": {"eq": 1}}),
            "Object person doesn't have any \"foo\" field.",
        );
        let text_ops = "eq, neq, gt, gte, lt, lte, in, is, like, ilike, startsWith, endsWith";
        for (field, op, value, field_type, allowed) in [
            ("jobTitle", "regex", json!("a"), "TEXT", text_ops),
            ("jobTitle", "iregex", json!("a"), "TEXT", text_ops),
            ("isActive", "in", json!([true]), "BOOLEAN", "eq, is"),
            (
                "tags",
                "eq",
                json!("VIP"),
                "MULTI_SELECT",
                "containsAny, is, isEmptyArray",
            ),
            (
                "companyId",
                "like",
                json!("x"),
                "RELATION",
                "eq, neq, gt, gte, lt, lte, in, is",
            ),
        ] {
            check_err(
                json!({field: {op: value}}),
                &format!("Operator \"{op}\" is not valid for field \"{field}\" of type {field_type} - Allowed operators: {allowed}"),
            );
        }
        for filter in [
            json!({"jobTitle": {"eq": "a", "neq": "b"}}),
            json!({"jobTitle": {}}),
        ] {
            check_err(
                filter,
                "Filter for field \"jobTitle\" must have exactly one operator",
            );
        }
        check_err(
            json!({"jobTitle": "a"}),
            "Filter value for field \"jobTitle\" must be an object",
        );
        for (field, op, value, expected) in [
            (
                "jobTitle",
                "in",
                json!("a"),
                "an array value for field jobTitle",
            ),
            (
                "tags",
                "containsAny",
                json!("VIP"),
                "an array value for field tags",
            ),
            (
                "jobTitle",
                "like",
                json!(3),
                "a string value for field \"jobTitle\", got number",
            ),
            (
                "aliases",
                "containsIlike",
                json!(["a"]),
                "a string value for field \"aliases\", got object",
            ),
            (
                "tags",
                "isEmptyArray",
                json!("yes"),
                "a boolean value for field tags",
            ),
        ] {
            check_err(
                json!({field: {op: value}}),
                &format!("Filter operator \"{op}\" requires {expected}"),
            );
        }
        check_err(
            json!({"jobTitle": {"in": []}}),
            "Invalid filter value for field jobTitle. Expected non-empty array",
        );
        check_err(
            json!({"jobTitle": {"is": "EMPTY"}}),
            "Invalid filter value for \"is\" operator. Expected \"NULL\" or \"NOT_NULL\"",
        );
        // Values shown as Node's `util.inspect` shows them.
        for (field, value, kind, shown) in [
            ("id", json!("abc"), "UUID", "'abc'"),
            ("id", json!(""), "UUID", "''"),
            ("id", json!(2), "UUID", "2"),
            ("score", json!("abc"), "number", "NaN"),
            ("score", json!(true), "number", "true"),
            ("score", json!([1]), "number", "[ 1 ]"),
            ("score", json!("Infinity"), "number", "Infinity"),
            ("isActive", json!("yes"), "boolean", "'yes'"),
        ] {
            check_err(
                json!({field: {"eq": value}}),
                &format!("Invalid {kind} value {shown} for field \"{field}\""),
            );
        }
        check_err(
            json!({"id": {"in": [U1, "x"]}}),
            "Invalid UUID value 'x' for field \"id\"",
        );
        for (field, value, shown, kind, format) in [
            (
                "createdAt",
                json!("not-a-date-time"),
                "'not-a-date-time'",
                "date-time",
                "YYYY-MM-DDTHH:mm:ssZ",
            ),
            (
                "createdAt",
                json!({}),
                "{}",
                "date-time",
                "YYYY-MM-DDTHH:mm:ssZ",
            ),
            (
                "birthday",
                json!("not-a-date"),
                "'not-a-date'",
                "date",
                "YYYY-MM-DD",
            ),
        ] {
            check_err(
                json!({field: {"eq": value}}),
                &format!("Invalid value {shown} for {kind} field \"{field}\". Expected format: '{format}'"),
            );
        }
        let e = run(json!({"foo": {"eq": 1}})).unwrap_err();
        assert_eq!(e.sub_code.as_deref(), Some("INVALID_ARGS_FILTER"));
        assert_eq!(
            e.user_friendly.as_deref(),
            Some("Invalid filter : person object doesn't have any \"foo\" field.")
        );
        let e = run(json!({"id": {"in": []}})).unwrap_err();
        assert_eq!(e.sub_code.as_deref(), Some("INVALID_QUERY_INPUT"));
    }

    #[test]
    fn soft_delete_detection() {
        for (filter, expected) in [
            (json!({}), false),
            (json!({"deletedAt": {"is": "NOT_NULL"}}), true),
            (json!({"not": {"deletedAt": {"is": "NULL"}}}), true),
            (
                json!({"or": [{"deletedAt": {"is": "NULL"}}, {"deletedAt": {"is": "NOT_NULL"}}]}),
                true,
            ),
            (
                json!({"and": [{"id": {"eq": U1}}, {"or": [{"deletedAt": {"is": "NULL"}}]}]}),
                true,
            ),
            (json!({"and": {"deletedAt": {"is": "NULL"}}}), true),
            (json!({"company": {"deletedAt": {"is": "NULL"}}}), false),
            (json!({"name": {"deletedAt": {"is": "NULL"}}}), false),
            (json!({"id": {"eq": U1}}), false),
        ] {
            assert_eq!(mentions_deleted_at(&filter), expected, "{filter}");
        }
        assert!(
            run(json!({"deletedAt": {"is": "NOT_NULL"}}))
                .unwrap()
                .mentions_deleted_at
        );
    }

    #[test]
    fn ilike_prefix_ranges() {
        let r = |low: &str, high: &str| Some((low.to_string(), high.to_string()));
        assert_eq!(prefix_range("Ab%"), r("ab", "ac"));
        assert_eq!(prefix_range("z%"), r("z", "{"));
        assert_eq!(prefix_range("a~%"), r("a~", "a\x7f"));
        assert_eq!(prefix_range("Jo Z%"), r("jo z", "jo {"));
        // Anything but a literal ASCII prefix and one final `%`: no range, LIKE alone.
        for p in [
            "%ab%", "ab", "a_b%", "a\\%%", "ab%%", "%", "\u{e9}%", "a\x7f%", "",
        ] {
            assert_eq!(prefix_range(p), None, "{p:?}");
        }
        // On real SQLite the range never changes what LIKE matches.
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let values = [
            "ab", "Ab", "AB", "abc", "a", "b", "ac", "aB\u{e9}", "\u{c1}b", "", "a~", "a\x7f",
        ];
        for pattern in ["ab%", "A%", "a~%", "aB%"] {
            let (low, high) = prefix_range(pattern).unwrap();
            for v in values {
                let (like, range): (bool, bool) = conn
                    .query_row(
                        "SELECT lower(?1) LIKE lower(?2) ESCAPE '\\', lower(?1) >= ?3 AND lower(?1) < ?4",
                        rusqlite::params![v, pattern, low, high],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(like, range, "{v:?} {pattern:?}");
            }
        }
    }

    #[test]
    fn value_helpers() {
        for (s, expected) in [
            ("12abc", 12.0),
            ("  -1.5e3x", -1500.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e", 1.0),
        ] {
            assert_eq!(js_parse_float(s), expected, "{s}");
        }
        assert!(js_parse_float("abc").is_nan());
        assert!(js_parse_float(".").is_nan());
        assert_eq!(js_parse_float("-Infinity"), f64::NEG_INFINITY);
        assert_eq!(inspect(&json!("it's")), "\"it's\"");
        assert_eq!(
            inspect(&json!({"a": 1, "b-c": [true, null]})),
            "{ a: 1, 'b-c': [ true, null ] }"
        );
        assert_eq!(js_number(3.0), "3");
        assert_eq!(js_number(0.25), "0.25");
        assert!(is_valid_uuid(U1));
        assert!(is_valid_uuid("0190d7a4-7e1c-7cc1-9c3e-3b8f1b4f1e2a")); // v7
        assert!(!is_valid_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(!is_valid_uuid("20202020-0687-4c41-b707-ed1bfca972a"));
        for (input, expected) in [
            ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"),
            ("2024-01-02T03:04:05.678+01:00", "2024-01-02T02:04:05.678Z"),
            ("2024-01-02 03:04:05", "2024-01-02T03:04:05.000Z"),
            ("2024-01-02T03:04", "2024-01-02T03:04:00.000Z"),
            ("2024-01-02T03:04:05+0200", "2024-01-02T01:04:05.000Z"),
            ("2024-01-02", "2024-01-02T00:00:00.000Z"),
            ("20240102", "2024-01-02T00:00:00.000Z"),
            ("January 2, 2024", "2024-01-02T00:00:00.000Z"),
            ("2 Jan 2024", "2024-01-02T00:00:00.000Z"),
        ] {
            let parsed = parse_date_time(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(format_millis(parsed), expected, "{input}");
        }
        for bad in ["", "abc", "2024-13-01", "2024-01-02T25:00:00Z", "12"] {
            assert!(parse_date_time(bad).is_none(), "{bad}");
        }
        assert_eq!(like_to_glob(r"a\\b\_"), "a\\b_");
        assert_eq!(like_to_glob("trailing\\"), "trailing\\");
    }
}
