//! Twenty's REST API inside the workspace actor: parse (`schema::rest`), apply (the same
//! [`graphql::apply`] GraphQL's resolver calls), encode (Twenty's envelopes).

use serde_json::{json, Map, Value};

use super::graphql::{self, GqlCtx};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};
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
            let (data, ids) = (body.get("data"), body.get("ids"));
            let sources: Vec<Value> = match (data, ids) {
                (Some(_), Some(_)) => {
                    return Err(QueryError::bad_input(
                        "You cannot provide both \"data\" and \"ids\" arguments",
                    ))
                }
                (None, None) => {
                    return Err(QueryError::bad_input(
                        "You have to provide either \"data\" or \"ids\" argument",
                    ))
                }
                (Some(d), None) => {
                    let items = d.as_array().cloned().unwrap_or_default();
                    if items.is_empty() {
                        return Err(QueryError::bad_input(
                            "The \"data\" condition can not be empty when \"ids\" input not provided",
                        ));
                    }
                    items
                }
                (None, Some(ids)) => {
                    let ids = ids.as_array().cloned().unwrap_or_default();
                    if ids.is_empty() {
                        return Ok((200, json!({ "data": [] })));
                    }
                    let mut records = vec![];
                    for id in ids {
                        let v = run(
                            Operation::FindOne,
                            args(&[("filter", json!({ "id": { "eq": id } }))]),
                            &rest::record_selection(o, 0),
                        )?;
                        records.push(v);
                    }
                    records
                }
            };
            let key = format!("{}Duplicates", o.name_singular);
            let mut out = vec![];
            for source in sources {
                let criteria = rest::duplicate_criteria(o, &source);
                let (records, page) = if criteria.is_empty() {
                    (vec![], json!({ "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null }))
                } else {
                    let mut filter = json!({ "or": criteria });
                    if let Some(id) = source.get("id").filter(|v| v.is_string()) {
                        filter = json!({ "and": [filter, { "id": { "neq": id } }] });
                    }
                    let conn = run(
                        Operation::FindMany,
                        args(&[
                            ("filter", filter),
                            ("orderBy", json!([{ "id": "AscNullsFirst" }])),
                            ("first", json!(rest::MAX_LIMIT)),
                        ]),
                        &rest::connection_selection(record_sel.clone()),
                    )?;
                    let records = nodes(&conn);
                    (records, conn["pageInfo"].clone())
                };
                out.push(json!({ key.clone(): records.clone(), "totalCount": records.len(), "pageInfo": page }));
            }
            Ok((200, json!({ "data": out })))
        }
        (op @ (RestOp::GroupBy | RestOp::Merge), _) => {
            Err(QueryError::new(
                ErrorKind::NotSupported,
                format!("{op:?} is not supported by twenty-edge yet"),
            ))
        }
        (_, _) => Err(QueryError::bad_input(format!(
            "Query path '{path}' invalid. Valid examples: /rest/companies/id or /rest/companies or /rest/batch/companies"
        ))),
    }
}
