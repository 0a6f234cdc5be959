//! Relation writes in record inputs (Twenty's nested relation queries): `company: {connect:
//! {where: {...}}}` by `id` or by any unique field of the target (unique scalars, or the unique
//! sub-field of a composite such as `domainName: {primaryLinkUrl}`), and `company:
//! {disconnect: true|false}`.
//!
//! Planning is pure ([`plan`]): it checks the input the way Twenty's
//! `compute-relation-connect-query-configs.util.ts` does and says which record to look up
//! ([`Connect::lookup`]). The engine runs the lookups and rewrites the input into join columns
//! before the usual write validation, so create, update and updateMany share one path.

use serde_json::{Map, Value};

use super::error::{QueryError, QueryResult};
use super::metadata::{FieldMetadata, FieldType, ObjectMetadata, WorkspaceModel};
use super::sql::{ident, Param, Sql};
use super::write;

/// A record to connect: the target object and the unique-constraint terms it must match.
#[derive(Debug, Clone, PartialEq)]
pub struct Connect<'a> {
    /// The relation field (`company`).
    pub field: &'a FieldMetadata,
    pub target: &'a ObjectMetadata,
    /// `(column name as Twenty prints it, JSON path keys in storage, value)`; `id` has no path.
    pub terms: Vec<(String, Vec<String>, String)>,
}

/// What an input does to one many-to-one relation.
#[derive(Debug, Clone, PartialEq)]
pub enum RelationWrite<'a> {
    Connect(Connect<'a>),
    /// `disconnect: true`: the join column becomes null.
    Disconnect(&'a FieldMetadata),
    /// `disconnect: false` (or an empty object): the relation is left as it is.
    Keep(&'a FieldMetadata),
}

fn bad(msg: String) -> QueryError {
    QueryError::bad_input(msg.clone()).with_user_friendly(msg)
}

/// The unique constraints of an object, each a list of fields, as Twenty's
/// `getUniqueConstraintsFields`: the primary key, then every unique field.
fn unique_constraints(o: &ObjectMetadata) -> Vec<Vec<&FieldMetadata>> {
    let mut out: Vec<Vec<&FieldMetadata>> = o.field("id").map(|f| vec![f]).into_iter().collect();
    out.extend(
        o.active_fields()
            .filter(|f| f.is_unique && f.name != "id")
            .map(|f| vec![f]),
    );
    out
}

/// Twenty only treats `{connect: {where}}` as a connect when every where value is a string or
/// an object of strings (`hasRelationConnect`).
fn is_connect_shape(where_: &Map<String, Value>) -> bool {
    !where_.is_empty()
        && where_.values().all(|v| match v {
            Value::String(_) => true,
            Value::Object(sub) => sub.values().all(Value::is_string),
            _ => false,
        })
}

fn connect_plan<'a>(
    model: &'a WorkspaceModel,
    o: &ObjectMetadata,
    field: &'a FieldMetadata,
    input: &Map<String, Value>,
    where_: &Map<String, Value>,
) -> QueryResult<Connect<'a>> {
    let name = &field.name;
    let join = field.storage_key();
    if input.get(&join).is_some_and(|v| !v.is_null()) {
        return Err(bad(format!("{name} and {join} cannot be both provided.")));
    }
    let target = model
        .target_of(field)
        .ok_or_else(|| bad(format!("Target object metadata not found for {name}")))?;
    let _ = o;
    let constraints = unique_constraints(target);
    let Some(constraint) = constraints.iter().find(|c| {
        c.iter()
            .all(|f| where_.get(&f.name).is_some_and(|v| !v.is_null()))
    }) else {
        return Err(bad(format!(
            "Missing required fields: unique constraint fields are not all populated for '{name}'."
        )));
    };
    if constraint.len() != where_.len() {
        return Err(bad(format!(
            "Too many fields provided for connect field '{name}'. Only fields from one unique constraint are allowed."
        )));
    }
    let mut terms = vec![];
    for f in constraint {
        match (&where_[&f.name], f.field_type.is_composite()) {
            (Value::String(s), false) => {
                let v = if f.name == "id" || f.field_type == FieldType::Uuid {
                    s.to_lowercase()
                } else {
                    s.clone()
                };
                let path = if f.name == "id" {
                    vec![]
                } else {
                    vec![f.storage_key()]
                };
                terms.push((f.name.clone(), path, v));
            }
            (Value::Object(sub), true) => {
                // Twenty formats the composite into its columns (`domainNamePrimaryLinkUrl`);
                // only the sub-fields its unique index covers identify a record.
                let unique = super::gql::unique_subfields(f.field_type);
                if sub.is_empty() {
                    return Err(bad(format!(
                        "Missing required fields: unique constraint fields are not all populated for '{name}'."
                    )));
                }
                for (key, v) in sub {
                    let (true, Value::String(s)) = (unique.contains(&key.as_str()), v) else {
                        return Err(bad(format!(
                            "Too many fields provided for connect field '{name}'. Only fields from one unique constraint are allowed."
                        )));
                    };
                    let v = if f.field_type == FieldType::Links && key == "primaryLinkUrl" {
                        write::normalize_url(s)
                    } else {
                        s.clone()
                    };
                    terms.push((
                        format!("{}{}", f.name, super::metadata::capitalize(key)),
                        vec![f.name.clone(), key.clone()],
                        v,
                    ));
                }
            }
            _ => {
                return Err(bad(format!(
                    "Missing required fields: unique constraint fields are not all populated for '{name}'."
                )))
            }
        }
    }
    Ok(Connect {
        field,
        target,
        terms,
    })
}

/// Reads the relation objects of a create or update input (`company: {connect | disconnect}`).
/// Join columns (`companyId`) and every other key are left to [`write`].
pub fn plan<'a>(
    model: &'a WorkspaceModel,
    o: &'a ObjectMetadata,
    input: &Value,
) -> QueryResult<Vec<RelationWrite<'a>>> {
    let Some(input) = input.as_object() else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    for (key, value) in input {
        let Some(field) = o.field(key) else { continue };
        if !field.field_type.is_relation() {
            continue;
        }
        let Value::Object(obj) = value else { continue };
        if let Some(connect) = obj.get("connect") {
            if !field.is_many_to_one() {
                let object = &o.name_singular;
                return Err(bad(format!("Connect is not allowed for {key} on {object}")));
            }
            let where_ = connect
                .get("where")
                .and_then(Value::as_object)
                .filter(|w| is_connect_shape(w))
                .ok_or_else(|| {
                    bad(format!(
                        "Relation field \"{key}\" expects {{connect: {{where: {{<unique field>: <value>}}}}}} or {{disconnect: true}}"
                    ))
                })?;
            out.push(RelationWrite::Connect(connect_plan(
                model, o, field, input, where_,
            )?));
        } else if field.is_many_to_one() {
            match obj.get("disconnect") {
                Some(Value::Bool(true)) => out.push(RelationWrite::Disconnect(field)),
                None | Some(Value::Bool(false)) | Some(Value::Null) => {
                    out.push(RelationWrite::Keep(field))
                }
                Some(_) => {
                    return Err(bad(format!(
                        "Relation field \"{key}\" expects {{disconnect: true}} or {{disconnect: false}}"
                    )))
                }
            }
        }
    }
    Ok(out)
}

impl Connect<'_> {
    /// The live records matching the terms (at most two: one is expected). The expressions
    /// and conditions are those of the unique indexes (`ddl::object_ddl`), so SQLite uses them.
    pub fn lookup(&self) -> Sql {
        let mut sql = Sql::new(format!(
            "SELECT id FROM {} WHERE deleted_at IS NULL",
            ident(&self.target.table())
        ));
        for (_, path, value) in &self.terms {
            if path.is_empty() {
                sql.push(Sql::with(" AND id = ?", vec![Param::Text(value.clone())]));
            } else {
                let keys: Vec<&str> = path.iter().map(String::as_str).collect();
                let p = super::ddl::json_path(&keys);
                sql.push(Sql::with(
                    format!(
                        " AND json_extract(data, '{p}') = ? AND json_extract(data, '{p}') IS NOT NULL \
                         AND json_extract(data, '{p}') != ''"
                    ),
                    vec![Param::Text(value.clone())],
                ));
            }
        }
        sql.push_str(" LIMIT 2");
        sql
    }

    /// Twenty's message when the lookup did not find exactly one record.
    pub fn not_found(&self, found: usize) -> QueryError {
        let condition = self
            .terms
            .iter()
            .map(|(column, _, value)| format!("{column} = {value}"))
            .collect::<Vec<_>>()
            .join(" and ");
        bad(format!(
            "Expected 1 record to connect to {}, but found {found} for {condition}",
            self.field.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::standard::tests::model;
    use serde_json::json;

    fn first_connect<'a>(
        m: &'a WorkspaceModel,
        object: &str,
        input: Value,
    ) -> QueryResult<Connect<'a>> {
        let o = m.object(object).unwrap();
        let plan = plan(m, o, &input)?;
        match plan.into_iter().next() {
            Some(RelationWrite::Connect(c)) => Ok(c),
            other => panic!("not a connect: {other:?}"),
        }
    }

    #[test]
    fn connect_lookups_translate_to_indexed_sql() {
        let m = model();
        let company = m.object("company").unwrap();
        let table = ident(&company.table());
        let link = "$.\"domainName\".\"primaryLinkUrl\"";
        let id = "3f9a1c2e-0000-4000-8000-00000000000a";
        // (input, expected SQL, expected params, message when nothing matches)
        let cases: Vec<(Value, String, Vec<Param>, String)> = vec![
            (
                json!({ "company": { "connect": { "where": { "id": id.to_uppercase() } } } }),
                format!("SELECT id FROM {table} WHERE deleted_at IS NULL AND id = ? LIMIT 2"),
                vec![Param::Text(id.into())],
                format!("Expected 1 record to connect to company, but found 0 for id = {id}"),
            ),
            (
                json!({ "company": { "connect": { "where": { "domainName": { "primaryLinkUrl": "https://Acme.COM/" } } } } }),
                format!(
                    "SELECT id FROM {table} WHERE deleted_at IS NULL AND json_extract(data, '{link}') = ? \
                     AND json_extract(data, '{link}') IS NOT NULL AND json_extract(data, '{link}') != '' LIMIT 2"
                ),
                vec![Param::Text("https://acme.com".into())],
                "Expected 1 record to connect to company, but found 0 for domainNamePrimaryLinkUrl = https://acme.com".into(),
            ),
        ];
        for (input, sql, params, message) in cases {
            let c = first_connect(&m, "person", input.clone()).unwrap();
            let q = c.lookup();
            assert_eq!(q.text, sql, "{input}");
            assert_eq!(q.params, params, "{input}");
            assert_eq!(c.not_found(0).message, message);
        }
    }

    #[test]
    fn connect_inputs_are_checked_like_twenty() {
        let m = model();
        let cases = [
            (
                json!({ "companyId": "3f9a1c2e-0000-4000-8000-00000000000a", "company": { "connect": { "where": { "id": "3f9a1c2e-0000-4000-8000-00000000000b" } } } }),
                "company and companyId cannot be both provided.",
            ),
            (
                json!({ "company": { "connect": { "where": { "name": "Acme" } } } }),
                "Missing required fields: unique constraint fields are not all populated for 'company'.",
            ),
            (
                json!({ "company": { "connect": { "where": { "id": "3f9a1c2e-0000-4000-8000-00000000000a", "name": "Acme" } } } }),
                "Too many fields provided for connect field 'company'. Only fields from one unique constraint are allowed.",
            ),
            (
                json!({ "company": { "connect": { "where": { "id": 3 } } } }),
                "Relation field \"company\" expects {connect: {where: {<unique field>: <value>}}} or {disconnect: true}",
            ),
        ];
        let person = m.object("person").unwrap();
        for (input, message) in cases {
            let e = plan(&m, person, &input).unwrap_err();
            assert_eq!(e.message, message, "{input}");
        }
        let company = m.object("company").unwrap();
        let e = plan(
            &m,
            company,
            &json!({ "people": { "connect": { "where": { "id": "x" } } } }),
        )
        .unwrap_err();
        assert_eq!(e.message, "Connect is not allowed for people on company");
    }

    #[test]
    fn disconnect_true_clears_and_false_keeps() {
        let m = model();
        let person = m.object("person").unwrap();
        let p = plan(&m, person, &json!({ "company": { "disconnect": true } })).unwrap();
        assert!(matches!(p[..], [RelationWrite::Disconnect(f)] if f.name == "company"));
        let p = plan(&m, person, &json!({ "company": { "disconnect": false } })).unwrap();
        assert!(matches!(p[..], [RelationWrite::Keep(f)] if f.name == "company"));
    }
}
