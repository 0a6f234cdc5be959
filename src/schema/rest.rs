//! Twenty's REST API (`/rest/*`), the parsing half: paths, query parameters (`filter`,
//! `order_by`, `limit`, cursors, `depth`, `fields`) and the record shape. Parsed requests
//! become the same operations and arguments GraphQL produces, and run through the same
//! engine; only the parsing here and the envelopes differ.
//!
//! Grammar and messages follow Twenty's `input-request-parsers/**` (research notes in
//! docs/ARCHITECTURE.md, "REST").

use serde_json::{json, Map, Value};

use super::composite;
use super::engine::{Selected, Selection};
use super::error::{QueryError, QueryResult};
use super::gql::Operation;
use super::metadata::{FieldType, ObjectMetadata, WorkspaceModel};
use super::write::is_uuid;

/// Records per page when `limit` is absent (Twenty's `QUERY_DEFAULT_LIMIT_RECORDS`).
pub const DEFAULT_LIMIT: i64 = 60;
/// Largest page; larger limits are clamped silently, as Twenty does (`QUERY_MAX_RECORDS`).
pub const MAX_LIMIT: i64 = 200;
/// Parentheses a REST `filter` may nest (`and(or(not(...)))`); each becomes two levels of
/// the filter JSON, which `filter::MAX_FILTER_NESTING` bounds again.
pub const MAX_FILTER_NESTING: usize = 16;
/// Parts of a dotted field path in a REST filter (`company.address.city` is the longest
/// that means anything: one relation hop, one composite subfield).
pub const MAX_FILTER_PATH: usize = 3;

const COMPARATORS: &[&str] = &[
    "eq",
    "neq",
    "in",
    "containsAny",
    "is",
    "gt",
    "gte",
    "lt",
    "lte",
    "startsWith",
    "endsWith",
    "like",
    "ilike",
];
const DIRECTIONS: &[&str] = &[
    "AscNullsFirst",
    "AscNullsLast",
    "DescNullsFirst",
    "DescNullsLast",
];

fn bad(msg: impl Into<String>) -> QueryError {
    QueryError::bad_input(msg)
}

/// What a REST request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub plural: String,
    pub id: Option<String>,
    pub op: RestOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestOp {
    FindMany,
    FindOne,
    CreateOne,
    CreateMany,
    UpdateOne,
    UpdateMany,
    /// DELETE: hard by default, soft with `soft_delete=true`.
    Delete,
    Restore,
    Duplicates,
    GroupBy,
    Merge,
}

/// A record id from a path: a UUID, lower-cased, or Twenty's 400.
pub fn checked_id(id: &str) -> QueryResult<String> {
    if is_uuid(id) {
        Ok(id.to_lowercase())
    } else {
        Err(bad(format!("'{id}' is not a valid UUID")))
    }
}

/// A request body as JSON (an empty body is `{}`).
pub fn body_json(body: &[u8]) -> QueryResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("Invalid JSON body: {e}")))
}

/// Parses `/rest/...` (Twenty's `parseCorePath`, plus the older `/rest/restore/{plural}`).
pub fn parse_route(method: &str, path: &str) -> QueryResult<Route> {
    let rest = path.strip_prefix("/rest").unwrap_or(path);
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let invalid = || {
        bad(format!(
            "Query path '{path}' invalid. Valid examples: /rest/companies/id or /rest/companies or /rest/batch/companies"
        ))
    };
    let route = |plural: &str, id: Option<String>, op| Route {
        plural: plural.to_string(),
        id,
        op,
    };
    let method = method.to_ascii_uppercase();
    let patch = matches!(method.as_str(), "PATCH" | "PUT");
    Ok(match (method.as_str(), segments.as_slice()) {
        (_, []) => return Err(invalid()),
        ("POST", ["batch", plural]) => route(plural, None, RestOp::CreateMany),
        ("POST", [plural, "duplicates"]) => route(plural, None, RestOp::Duplicates),
        ("GET", [plural, "groupBy"]) => route(plural, None, RestOp::GroupBy),
        (_, [plural, "merge"]) if patch => route(plural, None, RestOp::Merge),
        (_, ["restore", plural]) if patch => route(plural, None, RestOp::Restore),
        (_, ["restore", plural, id]) if patch => {
            route(plural, Some(checked_id(id)?), RestOp::Restore)
        }
        (_, [plural, "restore"]) if patch => route(plural, None, RestOp::Restore),
        (_, [plural, id, "restore"]) if patch => {
            route(plural, Some(checked_id(id)?), RestOp::Restore)
        }
        ("GET", [plural]) => route(plural, None, RestOp::FindMany),
        ("GET", [plural, id]) => route(plural, Some(checked_id(id)?), RestOp::FindOne),
        ("POST", [plural]) => route(plural, None, RestOp::CreateOne),
        (_, [plural]) if patch => route(plural, None, RestOp::UpdateMany),
        (_, [plural, id]) if patch => route(plural, Some(checked_id(id)?), RestOp::UpdateOne),
        ("DELETE", [plural]) => route(plural, None, RestOp::Delete),
        ("DELETE", [plural, id]) => route(plural, Some(checked_id(id)?), RestOp::Delete),
        _ => return Err(invalid()),
    })
}

/// The object a plural names, with Twenty's hints when it does not.
pub fn object<'m>(model: &'m WorkspaceModel, plural: &str) -> QueryResult<&'m ObjectMetadata> {
    if let Some(o) = model.object_by_plural(plural) {
        return Ok(o);
    }
    Err(match model.object(plural) {
        Some(o) => bad(format!(
            "object '{plural}' not found. Did you mean '{}'?",
            o.name_plural
        )),
        None => bad(format!("object '{plural}' not found. eg: companies")),
    })
}

/// Query parameters, decoded, in order.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean flag: true only for the exact string `true`, as Twenty reads them.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }

    pub fn limit(&self) -> QueryResult<i64> {
        match self.get("limit") {
            None | Some("") => Ok(DEFAULT_LIMIT),
            Some(raw) => match raw.trim().parse::<f64>() {
                Ok(n) if n >= 0.0 && n.is_finite() => Ok((n as i64).min(MAX_LIMIT)),
                _ => Err(bad(format!(
                    "limit '{raw}' is invalid. Should be an integer"
                ))),
            },
        }
    }

    pub fn depth(&self) -> QueryResult<u8> {
        match self.get("depth") {
            None | Some("") | Some("0") => Ok(0),
            Some("1") => Ok(1),
            Some(raw) => Err(bad(format!(
                "'depth={raw}' parameter invalid. Allowed values are 0, 1"
            ))),
        }
    }

    pub fn filter(&self, model: &WorkspaceModel, o: &ObjectMetadata) -> QueryResult<Value> {
        match self.get("filter") {
            None => Ok(json!({})),
            Some(raw) => Ok(type_values(model, o, parse_filter(raw)?)),
        }
    }

    pub fn order_by(&self) -> QueryResult<Value> {
        parse_order_by(self.get("order_by"))
    }

    /// `fields=a,b`: the fields a response record keeps (`id` always).
    pub fn fields(&self, o: &ObjectMetadata, depth: u8) -> QueryResult<Option<Vec<String>>> {
        let raw: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k == "fields")
            .map(|(_, v)| v.as_str())
            .collect();
        if raw.is_empty() {
            return Ok(None);
        }
        let mut names: Vec<String> = vec![];
        for part in raw.iter().flat_map(|v| v.split(',')) {
            let n = part.trim();
            if !n.is_empty() && !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        if names.is_empty() {
            return Err(bad("'fields' parameter is empty. Expected a comma-separated list of field names, e.g. fields=id,name"));
        }
        let unknown: Vec<&str> = names
            .iter()
            .filter(|n| o.field(n).is_none() && o.field_by_storage_key(n).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(bad(format!(
                "'fields' parameter invalid. Unknown or unreadable fields on '{}': {}",
                o.name_singular,
                unknown.join(", ")
            )));
        }
        let to_many: Vec<&str> = names
            .iter()
            .filter(|n| o.field(n).is_some_and(|f| f.is_one_to_many()))
            .map(String::as_str)
            .collect();
        if depth == 0 && !to_many.is_empty() {
            return Err(bad(format!(
                "One-to-many relation fields on '{}' require a positive depth: {}",
                o.name_singular,
                to_many.join(", ")
            )));
        }
        if !names.iter().any(|n| n == "id") {
            names.insert(0, "id".into());
        }
        Ok(Some(names))
    }
}

// ---------------------------------------------------------------------------------------------
// filter
// ---------------------------------------------------------------------------------------------

fn conjunction(s: &str) -> Option<(&'static str, &str)> {
    for c in ["and", "or", "not"] {
        if let Some(rest) = s.strip_prefix(c).and_then(|r| r.strip_prefix('(')) {
            if let Some(inner) = rest.strip_suffix(')') {
                if !inner.is_empty() {
                    return Some((c, inner));
                }
            }
        }
    }
    None
}

/// Splits at top-level commas (not inside parentheses, brackets or quotes), with Twenty's
/// quirks: brackets toggle, and parentheses count even inside quotes.
fn split_top(inner: &str) -> Vec<String> {
    let mut parts = vec![];
    let mut current = String::new();
    let (mut depth, mut bracket, mut dq, mut sq) = (0i32, false, false, false);
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '[' | ']' => bracket = !bracket,
            '"' if !sq => dq = !dq,
            '\'' if !dq => sq = !sq,
            ',' if depth == 0 && !bracket && !dq && !sq => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

/// Twenty's `filter` grammar into a GraphQL-shaped filter whose values are still strings
/// (see [`type_values`]).
pub fn parse_filter(raw: &str) -> QueryResult<Value> {
    // Parsing recurses once per parenthesis and copies the text at each level: bound the
    // nesting on the raw text first.
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in raw.chars() {
        match c {
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_FILTER_NESTING {
        return Err(bad(format!(
            "'filter' invalid. Conjunctions may nest at most {MAX_FILTER_NESTING} levels deep"
        )));
    }
    let open = raw.matches('(').count();
    let close = raw.matches(')').count();
    if open != close {
        let (n, which) = if open > close {
            (open - close, "close")
        } else {
            (close - open, "open")
        };
        let verb = if n > 1 { "brackets are" } else { "bracket is" };
        return Err(bad(format!(
            "'filter' invalid. {n} {which} {verb} missing in the query"
        )));
    }
    let wrapped = if conjunction(raw).is_some() {
        raw.to_string()
    } else {
        format!("and({raw})")
    };
    parse_node(&wrapped)
}

fn parse_node(s: &str) -> QueryResult<Value> {
    let Some((conj, inner)) = conjunction(s) else {
        return parse_predicate(s);
    };
    let parts = split_top(inner)
        .iter()
        .map(|p| parse_node(p))
        .collect::<QueryResult<Vec<Value>>>()?;
    Ok(match conj {
        "not" => {
            if parts.len() != 1 {
                return Err(bad("'filter' invalid. 'not' conjunction should contain only 1 condition. eg: not(field[eq]:1)"));
            }
            json!({ "not": parts.into_iter().next() })
        }
        c => json!({ c: parts }),
    })
}

fn unquote(v: &str) -> String {
    let quote = |c: Option<char>| matches!(c, Some('"') | Some('\''));
    if v.len() >= 2 && quote(v.chars().next()) && quote(v.chars().last()) {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

fn parse_predicate(pred: &str) -> QueryResult<Value> {
    let invalid = || bad(format!("'filter' invalid for '{pred}'. eg: price[gte]:10"));
    let open = pred.find('[').filter(|&i| i > 0).ok_or_else(invalid)?;
    let close = pred[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(invalid)?;
    let fields = &pred[..open];
    let op = &pred[open + 1..close];
    let value = pred[close + 1..]
        .strip_prefix(':')
        .filter(|v| !v.is_empty())
        .ok_or_else(invalid)?;
    if op.is_empty() {
        return Err(invalid());
    }
    if !COMPARATORS.contains(&op) {
        return Err(bad(format!(
            "'filter' invalid for '{pred}', comparator {op} not in {}",
            COMPARATORS.join(", ")
        )));
    }
    let value = match op {
        "in" | "containsAny" => {
            let inner = value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(|| {
                    bad(format!(
                        "'filter' invalid for '{op}' operator. Received '{value}' but array value expected eg: 'field[{op}]:[value_1,value_2]'"
                    ))
                })?;
            Value::Array(inner.split(',').map(|i| json!(unquote(i))).collect())
        }
        "is" => json!(value),
        _ => json!(unquote(value)),
    };
    if fields.split('.').count() > MAX_FILTER_PATH {
        return Err(bad(format!(
            "'filter' invalid for '{pred}': a field path has at most {MAX_FILTER_PATH} parts"
        )));
    }
    let mut node = json!({ op: value });
    for key in fields.split('.').rev() {
        node = json!({ key: node });
    }
    Ok(node)
}

/// Gives the string values of a parsed REST filter the types their fields need (numbers,
/// booleans), as Twenty's common filter processor does; everything else stays a string for
/// the shared filter validation to accept or refuse.
pub fn type_values(model: &WorkspaceModel, o: &ObjectMetadata, filter: Value) -> Value {
    let Value::Object(map) = filter else {
        return filter;
    };
    let mut out = Map::new();
    for (key, v) in map {
        let typed = match key.as_str() {
            "and" | "or" => match v {
                Value::Array(items) => Value::Array(
                    items
                        .into_iter()
                        .map(|i| type_values(model, o, i))
                        .collect(),
                ),
                other => other,
            },
            "not" => type_values(model, o, v),
            _ => match o.field(&key).or_else(|| o.field_by_storage_key(&key)) {
                Some(f) if f.is_many_to_one() && key == f.name => {
                    // `company.name[eq]:x`: a one-hop filter on the target's fields.
                    match model.target_of(f) {
                        Some(target) => type_values(model, target, v),
                        None => v,
                    }
                }
                Some(f) => match composite::subfields(f.field_type) {
                    Some(subs) => match v {
                        Value::Object(m) => Value::Object(
                            m.into_iter()
                                .map(|(sk, sv)| {
                                    let t =
                                        subs.iter().find(|s| s.name == sk).map(|s| s.field_type);
                                    let typed = t.map_or(sv.clone(), |t| type_ops(t, sv));
                                    (sk, typed)
                                })
                                .collect(),
                        ),
                        other => other,
                    },
                    None => type_ops(f.field_type, v),
                },
                None => v,
            },
        };
        out.insert(key, typed);
    }
    Value::Object(out)
}

fn type_ops(t: FieldType, ops: Value) -> Value {
    let Value::Object(map) = ops else { return ops };
    Value::Object(
        map.into_iter()
            .map(|(op, v)| {
                if op == "is" {
                    return (op, v);
                }
                let typed = match v {
                    Value::Array(items) => {
                        Value::Array(items.into_iter().map(|i| type_one(t, i)).collect())
                    }
                    other => type_one(t, other),
                };
                (op, typed)
            })
            .collect(),
    )
}

fn type_one(t: FieldType, v: Value) -> Value {
    let Value::String(s) = &v else { return v };
    match t {
        FieldType::Number | FieldType::Numeric | FieldType::Position => {
            if let Ok(i) = s.trim().parse::<i64>() {
                json!(i)
            } else if let Ok(f) = s.trim().parse::<f64>() {
                json!(f)
            } else {
                v
            }
        }
        FieldType::Boolean => match s.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            _ => v,
        },
        _ => v,
    }
}

// ---------------------------------------------------------------------------------------------
// order_by
// ---------------------------------------------------------------------------------------------

/// `order_by=a[AscNullsFirst],b.sub[DescNullsLast],c` into GraphQL's `orderBy` list
/// (id ascending when absent, as Twenty's REST default).
pub fn parse_order_by(raw: Option<&str>) -> QueryResult<Value> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(json!([{ "id": "AscNullsFirst" }]));
    };
    let mut out = vec![];
    for item in raw.split(',') {
        let (path, dir) = match item.find('[') {
            Some(i) if item.ends_with(']') => (&item[..i], &item[i + 1..item.len() - 1]),
            _ => (item, "AscNullsFirst"),
        };
        if !DIRECTIONS.contains(&dir) {
            return Err(bad(format!(
                "'order_by' direction '{dir}' invalid. Allowed values are 'AscNullsFirst', 'AscNullsLast', 'DescNullsFirst', 'DescNullsLast'. eg: ?order_by=field_1[AscNullsFirst],field_2[DescNullsLast],field_3"
            )));
        }
        let mut node = json!(dir);
        for key in path.split('.').rev() {
            node = json!({ key: node });
        }
        out.push(node);
    }
    Ok(Value::Array(out))
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

fn selected(name: &str, children: Selection) -> Selected {
    Selected {
        name: name.to_string(),
        alias: None,
        args: Map::new(),
        children,
    }
}

/// The engine selection of a REST record: every stored field, and at depth 1 every relation
/// (many-to-one as the target record, one-to-many as its records), one level deep.
pub fn record_selection(o: &ObjectMetadata, depth: u8) -> Selection {
    let mut fields = vec![];
    if depth >= 1 {
        for f in o.active_fields() {
            if f.is_many_to_one() {
                fields.push(selected(&f.name, Selection::default()));
            } else if f.is_one_to_many() {
                let node = Selection {
                    fields: vec![selected("node", Selection::default())],
                };
                let edges = Selection {
                    fields: vec![selected("edges", node)],
                };
                fields.push(selected(&f.name, edges));
            }
        }
    }
    Selection { fields }
}

/// A connection selection for find-many: records, cursors, page info and the total.
pub fn connection_selection(record: Selection) -> Selection {
    let node = Selection {
        fields: vec![
            selected("node", record),
            selected("cursor", Selection::default()),
        ],
    };
    Selection {
        fields: vec![
            selected("edges", node),
            selected("pageInfo", Selection::default()),
            selected("totalCount", Selection::default()),
        ],
    }
}

/// The engine's record as REST shows it: every non-relation field present, one-to-many
/// relations as plain arrays, nothing below depth 1, `fields=` applied.
pub fn record(
    model: &WorkspaceModel,
    o: &ObjectMetadata,
    v: Value,
    depth: u8,
    fields: Option<&[String]>,
) -> Value {
    let Value::Object(mut map) = v else { return v };
    for f in o.active_fields() {
        if f.field_type == FieldType::TsVector {
            map.remove(&f.name);
            continue;
        }
        if f.is_one_to_many() {
            if depth >= 1 {
                let target = model.target_of(f);
                let items: Vec<Value> = map
                    .get(&f.name)
                    .and_then(|c| c["edges"].as_array())
                    .into_iter()
                    .flatten()
                    .map(|e| match target {
                        Some(t) => record(model, t, e["node"].clone(), 0, None),
                        None => e["node"].clone(),
                    })
                    .collect();
                map.insert(f.name.clone(), Value::Array(items));
            }
            continue;
        }
        if f.is_many_to_one() {
            map.entry(f.storage_key()).or_insert(Value::Null);
            if depth >= 1 {
                let nested = map.get(&f.name).cloned().unwrap_or(Value::Null);
                let shown = match (model.target_of(f), nested) {
                    (Some(t), n @ Value::Object(_)) => record(model, t, n, 0, None),
                    (_, n) => n,
                };
                map.insert(f.name.clone(), shown);
            }
            continue;
        }
        map.entry(f.name.clone()).or_insert(Value::Null);
    }
    if let Some(keep) = fields {
        map.retain(|k, _| keep.iter().any(|n| n == k));
    }
    Value::Object(map)
}

/// Twenty's duplicate criteria (`DUPLICATE_CRITERIA_COLLECTION`) for a record-like value:
/// filters, any of which makes another record a duplicate. Empty values match nothing.
pub fn duplicate_criteria(o: &ObjectMetadata, v: &Value) -> Vec<Value> {
    let text = |path: &[&str]| -> Option<String> {
        let mut cur = v;
        for p in path {
            cur = cur.get(p)?;
        }
        cur.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut out = vec![];
    match o.name_singular.as_str() {
        "person" => {
            if let (Some(first), Some(last)) =
                (text(&["name", "firstName"]), text(&["name", "lastName"]))
            {
                out.push(
                    json!({ "name": { "firstName": { "eq": first }, "lastName": { "eq": last } } }),
                );
            }
            if let Some(email) = text(&["emails", "primaryEmail"]) {
                out.push(json!({ "emails": { "primaryEmail": { "eq": email } } }));
            }
            if let Some(url) = text(&["linkedinLink", "primaryLinkUrl"]) {
                out.push(json!({ "linkedinLink": { "primaryLinkUrl": { "eq": url } } }));
            }
        }
        "company" => {
            if let Some(name) = text(&["name"]) {
                out.push(json!({ "name": { "eq": name } }));
            }
            if let Some(url) = text(&["domainName", "primaryLinkUrl"]) {
                out.push(json!({ "domainName": { "primaryLinkUrl": { "eq": url } } }));
            }
        }
        _ => {
            // Custom objects: the label identifier, when it is a text.
            if let Some(f) = o
                .label_identifier_field_name
                .as_deref()
                .and_then(|n| o.field(n))
                .filter(|f| f.field_type == FieldType::Text)
            {
                if let Some(name) = text(&[&f.name]) {
                    out.push(json!({ f.name.clone(): { "eq": name } }));
                }
            }
        }
    }
    out
}

/// The GraphQL operation name a REST result is keyed by (`createPerson`, `updatePeople`...).
pub fn envelope_key(o: &ObjectMetadata, op: Operation) -> String {
    use super::metadata::capitalize;
    let (s, p) = (capitalize(&o.name_singular), capitalize(&o.name_plural));
    match op {
        Operation::FindMany => o.name_plural.clone(),
        Operation::FindOne => o.name_singular.clone(),
        Operation::CreateOne => format!("create{s}"),
        Operation::CreateMany => format!("create{p}"),
        Operation::UpdateOne => format!("update{s}"),
        Operation::UpdateMany => format!("update{p}"),
        Operation::DeleteOne | Operation::DestroyOne => format!("delete{s}"),
        Operation::DeleteMany | Operation::DestroyMany => format!("delete{p}"),
        Operation::RestoreOne => format!("restore{s}"),
        Operation::RestoreMany => format!("restore{p}"),
        _ => o.name_plural.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let check = |input: &str, expected: Value| {
            assert_eq!(parse_filter(input).unwrap(), expected, "{input}");
        };
        check(
            "position[lte]:1",
            json!({"and": [{"position": {"lte": "1"}}]}),
        );
        check(
            "name.firstName[eq]:\"J, R\"",
            json!({"and": [{"name": {"firstName": {"eq": "J, R"}}}]}),
        );
        check(
            "companyId[in]:[\"a\",'b']",
            json!({"and": [{"companyId": {"in": ["a", "b"]}}]}),
        );
        check(
            "or(a[eq]:1,and(b[gt]:2,not(c[is]:NULL)),d[in]:[1,2])",
            json!({"or": [
                {"a": {"eq": "1"}},
                {"and": [{"b": {"gt": "2"}}, {"not": {"c": {"is": "NULL"}}}]},
                {"d": {"in": ["1", "2"]}}
            ]}),
        );
        check(
            "a[eq]:1,b[eq]:x:y",
            json!({"and": [{"a": {"eq": "1"}}, {"b": {"eq": "x:y"}}]}),
        );
        let fails = |input: &str, fragment: &str| {
            let e = parse_filter(input).unwrap_err();
            assert!(e.message.contains(fragment), "{input}: {}", e.message);
        };
        fails("and(a[eq]:1", "1 close bracket is missing");
        fails("a[eq]:1))", "2 open brackets are missing");
        fails("", "'filter' invalid for 'and()'");
        fails("price:10", "eg: price[gte]:10");
        fails("a[equals]:1", "comparator equals not in eq, neq");
        fails("a[in]:1", "array value expected");
        fails(
            "not(a[eq]:1,b[eq]:2)",
            "'not' conjunction should contain only 1",
        );
    }

    #[test]
    fn order_limit_depth_routes() {
        assert_eq!(
            parse_order_by(Some(
                "position[DescNullsLast],name.firstName,city[AscNullsLast]"
            ))
            .unwrap(),
            json!([{"position": "DescNullsLast"}, {"name": {"firstName": "AscNullsFirst"}}, {"city": "AscNullsLast"}])
        );
        assert!(parse_order_by(Some("a[Up]")).is_err());
        let p = |q: &[(&str, &str)]| {
            Params(
                q.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert_eq!(p(&[]).limit().unwrap(), 60);
        assert_eq!(p(&[("limit", "500")]).limit().unwrap(), 200);
        assert_eq!(
            p(&[("limit", "aaa")]).limit().unwrap_err().message,
            "limit 'aaa' is invalid. Should be an integer"
        );
        assert_eq!(
            p(&[("depth", "2")]).depth().unwrap_err().message,
            "'depth=2' parameter invalid. Allowed values are 0, 1"
        );
        assert!(!p(&[("soft_delete", "TRUE")]).flag("soft_delete"));
        let id = "777a8457-eb2d-40ac-a707-551b615b6980";
        let r = |m: &str, path: &str| parse_route(m, path).map(|r| (r.plural, r.id, r.op));
        assert_eq!(
            r("GET", "/rest/people").unwrap(),
            ("people".into(), None, RestOp::FindMany)
        );
        assert_eq!(
            r("GET", &format!("/rest/people/{id}")).unwrap().2,
            RestOp::FindOne
        );
        assert_eq!(
            r("POST", "/rest/batch/people").unwrap().2,
            RestOp::CreateMany
        );
        assert_eq!(
            r("PATCH", &format!("/rest/people/{id}/restore")).unwrap().2,
            RestOp::Restore
        );
        assert_eq!(
            r("PATCH", "/rest/restore/people").unwrap(),
            ("people".into(), None, RestOp::Restore)
        );
        assert_eq!(
            r("PUT", &format!("/rest/people/{id}")).unwrap().2,
            RestOp::UpdateOne
        );
        assert_eq!(r("DELETE", "/rest/people").unwrap().2, RestOp::Delete);
        assert_eq!(
            r("GET", "/rest/people/malformed-uuid").unwrap_err().message,
            "'malformed-uuid' is not a valid UUID"
        );
        assert!(r("GET", "/rest").is_err());
    }
}
