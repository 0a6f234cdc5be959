//! Twenty's REST API inside the workspace actor: parse (`schema::rest`), apply (the same
//! [`graphql::apply`] GraphQL's resolver calls), encode (Twenty's envelopes).

use serde_json::{json, Map, Value};

use super::graphql::{self, GqlCtx};
use crate::schema::engine::{Selected, Selection};
use crate::schema::error::{QueryError, QueryResult};
use crate::schema::gql::Operation;
use crate::schema::rest::{self, body_json, Params, RestOp};

/// A REST answer: status and body.
pub type Answer = (u16, Value);

fn mandatory_filter(filter: &Value, what: &str) -> QueryResult<()> {
    if filter.as_object().is_none_or(Map::is_empty) {
        return Err(QueryError::bad_input(format!(
            "Filters are mandatory for bulk {what} operations. Please provide at least one filter to prevent accidental deletion of all records."
        )));
    }
    Ok(())
}

fn args(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Runs one REST request against the workspace.
pub fn handle(
    ctx: &GqlCtx,
    method: &str,
    path: &str,
    params: &Params,
    body: &[u8],
) -> QueryResult<Answer> {
    let route = rest::parse_route(method, path)?;
    let depth = params.depth()?;
    let model = ctx.model.clone();
    let o = rest::object(&model, &route.plural)?;
    let fields = params.fields(o, depth)?;
    let record_sel = rest::record_selection(o, depth);
    let shown = |v: Value| rest::record(&model, o, v, depth, fields.as_deref());
    let envelope = |op: Operation, v: Value| json!({ "data": { rest::envelope_key(o, op): v } });
    // The records of a connection, as REST shows them.
    let nodes = |conn: &Value| -> Vec<Value> {
        conn["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| shown(e["node"].clone()))
            .collect()
    };
    // A list result, each record shown as REST shows records.
    let many = |op: Operation, v: Value| {
        let list = v.as_array().cloned().unwrap_or_default();
        envelope(op, Value::Array(list.into_iter().map(shown).collect()))
    };
    let id_filter = |id: &str| json!({ "id": { "eq": id } });
    let run = |op: Operation, a: Map<String, Value>, sel: &_| {
        graphql::apply(ctx, op, &o.name_singular, a, sel)
    };

    match (route.op, route.id.as_deref()) {
        (RestOp::FindMany, _) => {
            let limit = params.limit()?;
            let after = params.get("starting_after").map(|s| json!(s));
            let before = params.get("ending_before").map(|s| json!(s));
            if after.is_some() && before.is_some() {
                return Err(QueryError::bad_input("Cannot provide both before and after"));
            }
            let (first, last) = if before.is_some() {
                (Value::Null, json!(limit))
            } else {
                (json!(limit), Value::Null)
            };
            let a = args(&[
                ("filter", params.filter(&model, o)?),
                ("orderBy", params.order_by()?),
                ("first", first),
                ("last", last),
                ("after", after.unwrap_or(Value::Null)),
                ("before", before.unwrap_or(Value::Null)),
            ]);
            let conn = run(
                Operation::FindMany,
                a,
                &rest::connection_selection(record_sel),
            )?;
            let records = nodes(&conn);
            Ok((
                200,
                json!({
                    "data": { o.name_plural.clone(): records },
                    "totalCount": conn["totalCount"],
                    "pageInfo": conn["pageInfo"],
                }),
            ))
        }
        (RestOp::FindOne, Some(id)) => {
            let v = run(
                Operation::FindOne,
                args(&[("filter", id_filter(id))]),
                &record_sel,
            )?;
            Ok((200, envelope(Operation::FindOne, shown(v))))
        }
        (RestOp::CreateOne, _) => {
            let data = body_json(body)?;
            if !data.is_object() {
                return Err(QueryError::bad_input("Body must be an object"));
            }
            let v = run(
                Operation::CreateOne,
                args(&[("data", data), ("upsert", json!(params.flag("upsert")))]),
                &record_sel,
            )?;
            Ok((201, envelope(Operation::CreateOne, shown(v))))
        }
        (RestOp::CreateMany, _) => {
            let data = body_json(body)?;
            let Some(items) = data.as_array() else {
                return Err(QueryError::bad_input("Body must be an array"));
            };
            if items.is_empty() {
                return Err(QueryError::bad_input("Input must not be empty"));
            }
            let v = run(
                Operation::CreateMany,
                args(&[("data", data.clone()), ("upsert", json!(params.flag("upsert")))]),
                &record_sel,
            )?;
            Ok((201, many(Operation::CreateMany, v)))
        }
        (RestOp::UpdateOne, Some(id)) => {
            let v = run(
                Operation::UpdateOne,
                args(&[("id", json!(id)), ("data", body_json(body)?)]),
                &record_sel,
            )?;
            Ok((200, envelope(Operation::UpdateOne, shown(v))))
        }
        (RestOp::UpdateMany, _) => {
            let filter = params.filter(&model, o)?;
            if filter.as_object().is_none_or(Map::is_empty) {
                return Err(QueryError::bad_input(
                    "Filters are mandatory for bulk update operations. Please provide at least one filter.",
                ));
            }
            let v = run(
                Operation::UpdateMany,
                args(&[("filter", filter), ("data", body_json(body)?)]),
                &record_sel,
            )?;
            Ok((200, many(Operation::UpdateMany, v)))
        }
        (RestOp::Delete, id) => {
            let soft = params.flag("soft_delete");
            let ids_only = |v: &Value| json!({ "id": v["id"] });
            match id {
                Some(id) => {
                    let op = if soft {
                        Operation::DeleteOne
                    } else {
                        Operation::DestroyOne
                    };
                    let v = run(op, args(&[("id", json!(id))]), &record_sel)?;
                    Ok((200, envelope(op, ids_only(&v))))
                }
                None => {
                    let filter = params.filter(&model, o)?;
                    mandatory_filter(&filter, if soft { "delete" } else { "destroy" })?;
                    let op = if soft {
                        Operation::DeleteMany
                    } else {
                        Operation::DestroyMany
                    };
                    let v = run(op, args(&[("filter", filter)]), &record_sel)?;
                    let list: Vec<Value> = v.as_array().into_iter().flatten().map(ids_only).collect();
                    Ok((200, envelope(op, Value::Array(list))))
                }
            }
        }
        (RestOp::Restore, Some(id)) => {
            let v = run(
                Operation::RestoreOne,
                args(&[("id", json!(id))]),
                &record_sel,
            )?;
            Ok((200, envelope(Operation::RestoreOne, shown(v))))
        }
        (RestOp::Restore, None) => {
            let filter = params.filter(&model, o)?;
            mandatory_filter(&filter, "restore")?;
            let v = run(
                Operation::RestoreMany,
                args(&[("filter", filter)]),
                &record_sel,
            )?;
            Ok((200, many(Operation::RestoreMany, v)))
        }
        (RestOp::Duplicates, _) => {
            let body = body_json(body)?;
            let Some(body) = body.as_object() else {
                return Err(QueryError::bad_input("Body must be an object"));
            };
            let a = args(&[
                ("data", body.get("data").cloned().unwrap_or(Value::Null)),
                ("ids", body.get("ids").cloned().unwrap_or(Value::Null)),
            ]);
            let conns = run(
                Operation::FindDuplicates,
                a,
                &rest::connection_selection(record_sel.clone()),
            )?;
            let key = format!("{}Duplicates", o.name_singular);
            let out: Vec<Value> = conns
                .as_array()
                .into_iter()
                .flatten()
                .map(|conn| {
                    let records = nodes(conn);
                    json!({ key.clone(): records.clone(), "totalCount": records.len(), "pageInfo": conn["pageInfo"] })
                })
                .collect();
            Ok((200, json!({ "data": out })))
        }
        (RestOp::GroupBy, _) => {
            // Twenty's REST groupBy: `group_by`, `aggregate` and `order_by` are JSON;
            // `filter` is the REST filter grammar. The answer is the groups themselves.
            let json_param = |name: &str, example: &str| -> QueryResult<Value> {
                match params.get(name) {
                    None => Ok(Value::Null),
                    Some(raw) => serde_json::from_str(raw).map_err(|_| {
                        QueryError::bad_input(format!(
                            "Invalid {name} query parameter - should be a valid {example}"
                        ))
                    }),
                }
            };
            let group_by = json_param(
                "group_by",
                "array of objects - ex: [{\"firstField\": true}, {\"secondField\": {\"subField\": true}}, {\"dateField\": {\"granularity\": 'DAY'}}]",
            )?;
            if !group_by.is_array() {
                return Err(QueryError::bad_input(
                    "Invalid group_by query parameter - should be a valid array of objects - ex: [{\"firstField\": true}, {\"secondField\": {\"subField\": true}}, {\"dateField\": {\"granularity\": 'DAY'}}]",
                ));
            }
            let aggregate = json_param(
                "aggregate",
                "array of string - ex: [\"countNotEmptyId\", \"countEmptyField\"]",
            )?;
            let aggregate_names: Vec<String> = match &aggregate {
                Value::Null => vec![],
                Value::Array(items) if items.iter().all(Value::is_string) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => {
                    return Err(QueryError::bad_input(
                        "Invalid aggregate query parameter - should be a valid array of string - ex: [\"countNotEmptyId\", \"countEmptyField\"]",
                    ))
                }
            };
            let order_by = json_param(
                "order_by",
                "array of objects - ex: [{\"firstField\": \"AscNullsFirst\"}, {\"aggregate\": {\"aggregateField\": \"DescNullsLast\"}}]",
            )?;
            let sel = Selection {
                fields: aggregate_names
                    .iter()
                    .map(|n| Selected {
                        name: n.clone(),
                        alias: None,
                        args: Map::new(),
                        children: Selection::default(),
                    })
                    .collect(),
            };
            let a = args(&[
                ("groupBy", group_by),
                ("filter", params.filter(&model, o)?),
                ("orderBy", order_by),
            ]);
            let groups = run(Operation::GroupBy, a, &sel)?;
            let out: Vec<Value> = groups
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| {
                    let mut item = Map::new();
                    for n in &aggregate_names {
                        item.insert(n.clone(), g.get(n).cloned().unwrap_or(Value::Null));
                    }
                    item.insert("groupByDimensionValues".into(), g["groupByDimensionValues"].clone());
                    Value::Object(item)
                })
                .collect();
            Ok((200, Value::Array(out)))
        }
        (RestOp::Merge, _) => {
            let body = body_json(body)?;
            let a = args(&[
                ("ids", body.get("ids").cloned().unwrap_or(Value::Null)),
                (
                    "conflictPriorityIndex",
                    body.get("conflictPriorityIndex").cloned().unwrap_or(Value::Null),
                ),
                ("dryRun", body.get("dryRun").cloned().unwrap_or(Value::Null)),
            ]);
            let v = run(Operation::MergeMany, a, &record_sel)?;
            // Twenty keys the merged record `merge<Singular>` here (not the plural of GraphQL).
            let key = format!("merge{}", crate::schema::metadata::capitalize(&o.name_singular));
            Ok((200, json!({ "data": { key: shown(v) } })))
        }
        (_, _) => Err(QueryError::bad_input(format!(
            "Query path '{path}' invalid. Valid examples: /rest/companies/id or /rest/companies or /rest/batch/companies"
        ))),
    }
}
