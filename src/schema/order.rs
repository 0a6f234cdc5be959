//! Record ordering: Twenty's `orderBy` argument compiled to ordered leaves (the single
//! source of truth for the SQL `ORDER BY`, cursor encoding and keyset conditions, as in
//! Twenty's `resolveOrderByLeaves`).
//!
//! - `[{jobTitle: AscNullsFirst}]`, `[{name: {firstName: DescNullsLast}}]` (composite
//!   sub-fields in the given order), `[{company: {name: AscNullsLast}}]` (a many-to-one
//!   relation's field, read through a correlated subquery: NULL when the record has no
//!   live target, like Twenty's LEFT JOIN).
//! - The tie-breaker `{id: AscNullsFirst}` is appended; duplicate paths keep their first
//!   occurrence, so a caller's own `id` ordering wins.
//! - TEXT, SELECT and MULTI_SELECT values order by `lower(...)`.
//! - Backward pagination scans the exact reverse order ([`Direction::scan`], Twenty's
//!   `getEffectiveScanOrder`): both the direction and the side of the NULL block flip.

use serde_json::Value;

use super::composite;
use super::error::{QueryError, QueryResult};
use super::filter::{
    check_alias, is_referenced_by_name, resolve_field, typed_value, Column, STANDARD_ERROR_MESSAGE,
};
use super::metadata::{FieldMetadata, FieldType, ObjectMetadata, WorkspaceModel};
use super::sql::Sql;

/// Twenty's `OrderByDirection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    AscNullsFirst,
    AscNullsLast,
    DescNullsFirst,
    DescNullsLast,
}

impl Direction {
    pub const ALL: [Direction; 4] = [
        Direction::AscNullsFirst,
        Direction::AscNullsLast,
        Direction::DescNullsFirst,
        Direction::DescNullsLast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::AscNullsFirst => "AscNullsFirst",
            Direction::AscNullsLast => "AscNullsLast",
            Direction::DescNullsFirst => "DescNullsFirst",
            Direction::DescNullsLast => "DescNullsLast",
        }
    }

    /// `isOrderByDirection`.
    pub fn from_value(v: &Value) -> Option<Direction> {
        let s = v.as_str()?;
        Direction::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// For callers parsing a direction on its own (REST's `orderBy=name[AscNullsFirst]`):
    /// `Invalid direction: ${direction}` (INVALID_DIRECTION).
    pub fn parse(s: &str) -> QueryResult<Direction> {
        Direction::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                QueryError::bad_input(format!("Invalid direction: {s}"))
                    .with_sub_code("INVALID_DIRECTION")
                    .with_user_friendly(STANDARD_ERROR_MESSAGE)
            })
    }

    pub fn is_ascending(self) -> bool {
        matches!(self, Direction::AscNullsFirst | Direction::AscNullsLast)
    }

    pub fn nulls_presented_last(self) -> bool {
        matches!(self, Direction::AscNullsLast | Direction::DescNullsLast)
    }

    /// `getEffectiveScanOrder`: `(is_ascending, are_nulls_scanned_last)` of the scan a
    /// forward or backward page performs.
    pub fn scan(self, forward: bool) -> (bool, bool) {
        (
            self.is_ascending() == forward,
            if forward {
                self.nulls_presented_last()
            } else {
                !self.nulls_presented_last()
            },
        )
    }
}

/// What an ordered value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// A field of the record (including join columns such as `companyId`).
    Scalar,
    /// A composite sub-field (`name.firstName`).
    Composite,
    /// A field of a many-to-one relation's target (`company.name`).
    Relation,
}

/// One ordered value.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLeaf {
    /// Where the value sits in the output record: `["name", "firstName"]`,
    /// `["company", "name"]`. Also the cursor's nesting.
    pub path: Vec<String>,
    /// The SQL expression ordered by (lowered for TEXT/SELECT/MULTI_SELECT). Binds nothing.
    pub expr: Sql,
    pub direction: Direction,
    /// Whether NULL can occur (Twenty's `canFieldHoldNullValue`: the field's
    /// `isNullable` for scalars, always for composite and relation leaves).
    pub nullable: bool,
    pub kind: LeafKind,
    /// The type of the ordered value (the sub-field's or the target field's type).
    pub field_type: FieldType,
}

impl OrderLeaf {
    /// `checkIfLeafCanCarryCursorValue`: RAW_JSON sub-fields are ordered by in SQL but
    /// take no part in cursors.
    pub fn carries_cursor_value(&self) -> bool {
        self.kind == LeafKind::Scalar || self.field_type != FieldType::RawJson
    }

    /// A value (a bound `?`) transformed like [`OrderLeaf::expr`], for keyset comparisons.
    pub(crate) fn param_expr(&self) -> &'static str {
        value_wrapper(self.field_type)
    }
}

fn lowered(t: FieldType) -> bool {
    matches!(
        t,
        FieldType::Text | FieldType::Select | FieldType::MultiSelect
    )
}

fn value_wrapper(t: FieldType) -> &'static str {
    if lowered(t) {
        "lower(?)"
    } else if t == FieldType::Numeric {
        "CAST(? AS REAL)"
    } else {
        "?"
    }
}

fn order_expr(column: &Column, t: FieldType) -> String {
    let v = typed_value(column, t);
    if lowered(t) {
        format!("lower({v})")
    } else {
        v
    }
}

fn invalid_order(message: String) -> QueryError {
    QueryError::bad_input(message)
        .with_sub_code("INVALID_QUERY_INPUT")
        .with_user_friendly(STANDARD_ERROR_MESSAGE)
}

fn field_not_found(message: String) -> QueryError {
    QueryError::bad_input(message)
        .with_sub_code("FIELD_NOT_FOUND")
        .with_user_friendly(STANDARD_ERROR_MESSAGE)
}

const DIRECTIONS: &str = "AscNullsFirst, AscNullsLast, DescNullsFirst, DescNullsLast";

/// Compiles `order_by` (a list of `{field: Direction}`, `{composite: {sub: Direction}}` or
/// `{relation: {field: Direction}}`; a single object counts as a one-item list, `null`
/// as none) for rows of `object` read through `alias`, and appends `{id: AscNullsFirst}`.
/// Errors are Twenty's strict-validation messages (BAD_USER_INPUT).
pub fn compile(
    model: &WorkspaceModel,
    object: &ObjectMetadata,
    order_by: &Value,
    alias: &str,
) -> QueryResult<Vec<OrderLeaf>> {
    check_alias(alias)?;
    let mut entries: Vec<&Value> = match order_by {
        Value::Null => vec![],
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let tie_breaker = serde_json::json!({"id": "AscNullsFirst"});
    entries.push(&tie_breaker);

    let mut leaves: Vec<OrderLeaf> = Vec::new();
    let mut push = |leaf: OrderLeaf| {
        if !leaves.iter().any(|l| l.path == leaf.path) {
            leaves.push(leaf);
        }
    };
    for entry in entries {
        let Value::Object(entry) = entry else {
            continue;
        };
        for (name, value) in entry {
            let Some(field) = resolve_field(object, name) else {
                return Err(field_not_found(format!(
                    "Field \"{name}\" does not exist or is not sortable"
                )));
            };
            let by_name =
                is_referenced_by_name(object, name) || name == "id" || name == "deletedAt";
            if by_name && field.field_type.is_relation() {
                if !value.is_object() {
                    return Err(invalid_order(format!(
                        "Relation field \"{name}\" requires nested field ordering (e.g., {{ {name}: {{ fieldName: 'AscNullsFirst' }} }})"
                    )));
                }
                let paths = flatten(value);
                if paths.is_empty() {
                    return Err(invalid_order(format!(
                        "Relation field \"{name}\" requires nested field ordering (e.g., {{ {name}: {{ fieldName: 'AscNullsFirst' }} }})"
                    )));
                }
                if !field.is_many_to_one() {
                    return Err(invalid_order(format!(
                        "Cannot filter or order through {name}: only to-one relations are supported"
                    ))
                    .with_user_friendly(
                        "Filtering or ordering through this relation is not supported.",
                    ));
                }
                for (path, direction) in paths {
                    push(relation_leaf(model, &field, alias, path, direction)?);
                }
                continue;
            }
            if let Some(subfields) = composite::subfields(field.field_type).filter(|_| by_name) {
                let Value::Object(subs) = value else {
                    return Err(invalid_order(format!(
                        "Composite field \"{name}\" requires subfield ordering (e.g., {{ {name}: {{ subFieldName: 'AscNullsFirst' }} }})"
                    )));
                };
                for (sub_name, direction) in subs {
                    let Some(sub) = subfields.iter().find(|s| s.name == sub_name) else {
                        return Err(invalid_order(format!(
                            "Sub field \"{sub_name}\" not found for composite field \"{name}\""
                        )));
                    };
                    let Some(direction) = Direction::from_value(direction) else {
                        return Err(invalid_order(format!(
                            "Composite sub field \"{name}.{sub_name}\" requires a direction value ({DIRECTIONS})"
                        )));
                    };
                    let column = Column::sub(alias, &field, sub.name)?;
                    push(OrderLeaf {
                        path: vec![name.clone(), sub_name.clone()],
                        expr: Sql::new(order_expr(&column, sub.field_type)),
                        direction,
                        nullable: true,
                        kind: LeafKind::Composite,
                        field_type: sub.field_type,
                    });
                }
                continue;
            }
            let Some(direction) = Direction::from_value(value) else {
                return Err(invalid_order(format!(
                    "Scalar field \"{name}\" requires a direction value ({DIRECTIONS})"
                )));
            };
            let column = Column::field(alias, &field)?;
            push(OrderLeaf {
                path: vec![name.clone()],
                expr: Sql::new(order_expr(&column, field.field_type)),
                direction,
                nullable: field.is_nullable,
                kind: LeafKind::Scalar,
                field_type: field.field_type,
            });
        }
    }
    Ok(leaves)
}

/// `flattenNestedOrderByValue`: nested objects become paths, non-directions are skipped.
fn flatten(value: &Value) -> Vec<(Vec<String>, Direction)> {
    let Value::Object(map) = value else {
        return vec![];
    };
    let mut out = Vec::new();
    for (key, nested) in map {
        if nested.is_object() {
            for (mut path, direction) in flatten(nested) {
                path.insert(0, key.clone());
                out.push((path, direction));
            }
        } else if let Some(direction) = Direction::from_value(nested) {
            out.push((vec![key.clone()], direction));
        }
    }
    out
}

/// `resolveRelationLeaf`: `path` is relative to the target (`["name"]`,
/// `["address", "addressCity"]`).
fn relation_leaf(
    model: &WorkspaceModel,
    relation: &FieldMetadata,
    alias: &str,
    path: Vec<String>,
    direction: Direction,
) -> QueryResult<OrderLeaf> {
    let Some(target) = model.target_of(relation) else {
        return Err(field_not_found(format!(
            "Field \"{}\" does not exist or is not sortable",
            relation.name
        )));
    };
    let target_name = &path[0];
    let target_field = if is_referenced_by_name(target, target_name)
        || target_name == "id"
        || target_name == "deletedAt"
    {
        resolve_field(target, target_name)
    } else {
        None
    };
    let Some(target_field) = target_field.filter(|f| !f.is_one_to_many()) else {
        return Err(field_not_found(format!(
            "Nested field \"{target_name}\" not found in target object \"{}\"",
            target.name_singular
        )));
    };
    let join_alias = format!("{alias}_{}", relation.name);
    let (column, field_type) =
        if let Some(subfields) = composite::subfields(target_field.field_type) {
            let sub = path
                .get(1)
                .and_then(|s| subfields.iter().find(|sf| sf.name == s));
            let (Some(sub), 2) = (sub, path.len()) else {
                return Err(invalid_order(format!(
                "Composite field \"{}.{target_name}\" requires one of its sub fields to be ordered",
                relation.name
            )));
            };
            (
                Column::sub(&join_alias, &target_field, sub.name)?,
                sub.field_type,
            )
        } else {
            if path.len() > 1 {
                return Err(invalid_order(format!(
                    "Field \"{}.{target_name}\" does not support nested ordering",
                    relation.name
                )));
            }
            (
                Column::field(&join_alias, &target_field)?,
                target_field.field_type,
            )
        };
    let fk = Column::field(alias, relation)?.value();
    let expr = format!(
        "(SELECT {} FROM {} AS {join_alias} WHERE {join_alias}.id = {fk} AND {join_alias}.deleted_at IS NULL)",
        order_expr(&column, field_type),
        target.table()
    );
    let mut full_path = vec![relation.name.clone()];
    full_path.extend(path);
    Ok(OrderLeaf {
        path: full_path,
        expr: Sql::new(expr),
        direction,
        nullable: true,
        kind: LeafKind::Relation,
        field_type,
    })
}

/// `ORDER BY` terms for a forward or backward scan (empty when there are no leaves).
pub fn sql(leaves: &[OrderLeaf], forward: bool) -> String {
    let terms: Vec<String> = leaves
        .iter()
        .map(|leaf| {
            debug_assert!(leaf.expr.params.is_empty());
            let (ascending, nulls_last) = leaf.direction.scan(forward);
            format!(
                "{} {} {}",
                leaf.expr.text,
                if ascending { "ASC" } else { "DESC" },
                if nulls_last {
                    "NULLS LAST"
                } else {
                    "NULLS FIRST"
                }
            )
        })
        .collect();
    if terms.is_empty() {
        String::new()
    } else {
        format!("ORDER BY {}", terms.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::filter::test_model::model;
    use super::*;
    use serde_json::json;

    fn run(order_by: Value) -> QueryResult<Vec<OrderLeaf>> {
        let m = model();
        let person = m.object("person").unwrap().clone();
        compile(&m, &person, &order_by, "p")
    }

    /// `order_by` gives these (path, ORDER BY term) pairs, forward.
    fn check(order_by: Value, expected: &[(&str, &str)]) {
        let leaves = run(order_by.clone()).unwrap_or_else(|e| panic!("{order_by}: {e}"));
        let got: Vec<(String, String)> = leaves
            .iter()
            .map(|l| {
                (
                    l.path.join("."),
                    sql(std::slice::from_ref(l), true)["ORDER BY ".len()..].to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect();
        assert_eq!(got, expected, "{order_by}");
    }

    fn check_err(order_by: Value, message: &str) {
        let e = run(order_by.clone()).expect_err(&order_by.to_string());
        assert_eq!(e.message, message, "{order_by}");
        assert_eq!(e.graphql_code(), "BAD_USER_INPUT");
    }

    const ID: (&str, &str) = ("id", "p.id ASC NULLS FIRST");

    #[test]
    fn leaves_and_terms() {
        check(Value::Null, &[ID]);
        check(json!([]), &[ID]);
        check(
            json!([{"jobTitle": "DescNullsLast"}]),
            &[
                (
                    "jobTitle",
                    r#"lower(json_extract(p.data, '$."jobTitle"')) DESC NULLS LAST"#,
                ),
                ID,
            ],
        );
        check(
            json!({"score": "AscNullsLast"}),
            &[
                (
                    "score",
                    r#"json_extract(p.data, '$."score"') ASC NULLS LAST"#,
                ),
                ID,
            ],
        );
        check(
            json!([{"name": {"lastName": "AscNullsFirst", "firstName": "DescNullsFirst"}}, {"createdAt": "DescNullsFirst"}]),
            &[
                (
                    "name.firstName",
                    r#"lower(json_extract(p.data, '$."name"."firstName"')) DESC NULLS FIRST"#,
                ),
                (
                    "name.lastName",
                    r#"lower(json_extract(p.data, '$."name"."lastName"')) ASC NULLS FIRST"#,
                ),
                (
                    "createdAt",
                    r#"json_extract(p.data, '$."createdAt"') DESC NULLS FIRST"#,
                ),
                ID,
            ],
        );
        check(
            json!([{"salary": "AscNullsFirst"}, {"stage": "AscNullsFirst"}, {"tags": "AscNullsFirst"}, {"isActive": "AscNullsFirst"}]),
            &[
                (
                    "salary",
                    r#"CAST(json_extract(p.data, '$."salary"') AS REAL) ASC NULLS FIRST"#,
                ),
                (
                    "stage",
                    r#"lower(json_extract(p.data, '$."stage"')) ASC NULLS FIRST"#,
                ),
                (
                    "tags",
                    r#"lower(json_extract(p.data, '$."tags"')) ASC NULLS FIRST"#,
                ),
                (
                    "isActive",
                    r#"json_extract(p.data, '$."isActive"') ASC NULLS FIRST"#,
                ),
                ID,
            ],
        );
        check(
            json!([{"deletedAt": "AscNullsLast"}, {"companyId": "DescNullsFirst"}]),
            &[
                ("deletedAt", "p.deleted_at ASC NULLS LAST"),
                (
                    "companyId",
                    r#"json_extract(p.data, '$."companyId"') DESC NULLS FIRST"#,
                ),
                ID,
            ],
        );
        // The caller's id ordering wins over the tie-breaker; duplicates keep the first.
        check(
            json!([{"id": "DescNullsLast"}]),
            &[("id", "p.id DESC NULLS LAST")],
        );
        check(
            json!([{"score": "AscNullsLast"}, {"score": "DescNullsLast"}]),
            &[
                (
                    "score",
                    r#"json_extract(p.data, '$."score"') ASC NULLS LAST"#,
                ),
                ID,
            ],
        );
    }

    #[test]
    fn relation_leaves() {
        let m = model();
        let company = m.object("company").unwrap().table();
        check(
            json!([{"company": {"name": "AscNullsLast"}}]),
            &[
                (
                    "company.name",
                    &format!(
                        r#"(SELECT lower(json_extract(p_company.data, '$."name"')) FROM {company} AS p_company WHERE p_company.id = json_extract(p.data, '$."companyId"') AND p_company.deleted_at IS NULL) ASC NULLS LAST"#
                    ),
                ),
                ID,
            ],
        );
        check(
            json!([{"company": {"address": {"addressCity": "DescNullsFirst"}}}]),
            &[
                (
                    "company.address.addressCity",
                    &format!(
                        r#"(SELECT lower(json_extract(p_company.data, '$."address"."addressCity"')) FROM {company} AS p_company WHERE p_company.id = json_extract(p.data, '$."companyId"') AND p_company.deleted_at IS NULL) DESC NULLS FIRST"#
                    ),
                ),
                ID,
            ],
        );
        let leaves = run(json!([{"company": {"name": "AscNullsLast"}}])).unwrap();
        assert_eq!(leaves[0].kind, LeafKind::Relation);
        assert!(leaves[0].nullable);
        assert!(!leaves[1].nullable);
    }

    #[test]
    fn backward_scans_reverse_everything() {
        let leaves =
            run(json!([{"score": "AscNullsLast"}, {"jobTitle": "DescNullsFirst"}])).unwrap();
        assert_eq!(
            sql(&leaves, true),
            r#"ORDER BY json_extract(p.data, '$."score"') ASC NULLS LAST, lower(json_extract(p.data, '$."jobTitle"')) DESC NULLS FIRST, p.id ASC NULLS FIRST"#
        );
        assert_eq!(
            sql(&leaves, false),
            r#"ORDER BY json_extract(p.data, '$."score"') DESC NULLS FIRST, lower(json_extract(p.data, '$."jobTitle"')) ASC NULLS LAST, p.id DESC NULLS LAST"#
        );
        assert_eq!(sql(&[], true), "");
        for (d, forward, expected) in [
            (Direction::AscNullsFirst, true, (true, false)),
            (Direction::AscNullsLast, true, (true, true)),
            (Direction::DescNullsFirst, true, (false, false)),
            (Direction::DescNullsLast, true, (false, true)),
            (Direction::AscNullsFirst, false, (false, true)),
            (Direction::AscNullsLast, false, (false, false)),
            (Direction::DescNullsFirst, false, (true, true)),
            (Direction::DescNullsLast, false, (true, false)),
        ] {
            assert_eq!(d.scan(forward), expected, "{d:?} {forward}");
        }
    }

    #[test]
    fn errors() {
        for (order_by, message) in [
            (
                json!([{"foo": "AscNullsFirst"}]),
                "Field \"foo\" does not exist or is not sortable",
            ),
            (
                json!([{"name": "AscNullsFirst"}]),
                "Composite field \"name\" requires subfield ordering (e.g., { name: { subFieldName: 'AscNullsFirst' } })",
            ),
            (
                json!([{"name": {"middleName": "AscNullsFirst"}}]),
                "Sub field \"middleName\" not found for composite field \"name\"",
            ),
            (
                json!([{"company": {"foo": "AscNullsFirst"}}]),
                "Nested field \"foo\" not found in target object \"company\"",
            ),
            (
                json!([{"company": {"address": "AscNullsFirst"}}]),
                "Composite field \"company.address\" requires one of its sub fields to be ordered",
            ),
            (
                json!([{"company": {"name": {"x": "AscNullsFirst"}}}]),
                "Field \"company.name\" does not support nested ordering",
            ),
        ] {
            check_err(order_by, message);
        }
        for (order_by, field) in [
            (json!([{"score": "Up"}]), "Scalar field \"score\""),
            (
                json!([{"name": {"firstName": "Up"}}]),
                "Composite sub field \"name.firstName\"",
            ),
        ] {
            check_err(
                order_by,
                &format!("{field} requires a direction value (AscNullsFirst, AscNullsLast, DescNullsFirst, DescNullsLast)"),
            );
        }
        for order_by in [
            json!([{"company": "AscNullsFirst"}]),
            json!([{"company": {"name": "Up"}}]),
        ] {
            check_err(
                order_by,
                "Relation field \"company\" requires nested field ordering (e.g., { company: { fieldName: 'AscNullsFirst' } })",
            );
        }
        let m = model();
        let company = m.object("company").unwrap();
        let e = compile(
            &m,
            company,
            &json!([{"people": {"jobTitle": "AscNullsFirst"}}]),
            "c",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Cannot filter or order through people: only to-one relations are supported"
        );
        let e = Direction::parse("Sideways").unwrap_err();
        assert_eq!(e.message, "Invalid direction: Sideways");
        assert_eq!(e.sub_code.as_deref(), Some("INVALID_DIRECTION"));
        assert_eq!(
            Direction::parse("DescNullsLast").unwrap(),
            Direction::DescNullsLast
        );
    }
}
