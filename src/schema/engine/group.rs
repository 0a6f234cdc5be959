//! `<plural>GroupBy`: groups of records with their aggregates and, when `edges` are
//! selected, a page of each group's records (`common-group-by-query-runner.service.ts`,
//! `group-by-with-records-v2.service.ts`). The SQL shapes come from [`group_by`].

use serde_json::{json, Map, Value};
use std::collections::HashMap;

use super::{aggregate_expr, cursor, order, table, Engine, Selection, ROOT};
use crate::schema::error::{QueryError, QueryResult};
use crate::schema::group_by::{self, Dimension};
use crate::schema::metadata::ObjectMetadata;
use crate::schema::sql::{Param, Sql};

/// Selection keys of a group that are not aggregates.
const GROUP_FIELDS: &[&str] = &["edges", "pageInfo", "__typename", "groupByDimensionValues"];

fn group_key(dims: &[Dimension]) -> String {
    let exprs: Vec<&str> = dims.iter().map(|d| d.expr.as_str()).collect();
    format!("json_array({})", exprs.join(", "))
}

impl Engine<'_> {
    /// `peopleGroupBy(groupBy, filter, orderBy, orderByForRecords, limit, offsetForRecords,
    /// omitNullValues)` → one GroupByConnection per group.
    pub fn group_by(
        &self,
        o: &ObjectMetadata,
        args: &Map<String, Value>,
        sel: &Selection,
    ) -> QueryResult<Value> {
        let arg = |k: &str| args.get(k).unwrap_or(&Value::Null);
        let dims = group_by::dimensions(o, arg("groupBy"))?;
        let mut w = self.where_clause(o, arg("filter"))?;
        if arg("omitNullValues") == &json!(true) {
            for d in &dims {
                w.push_str(&format!(" AND ({}) IS NOT NULL", d.expr));
            }
        }
        let aggregates: Vec<(String, String)> = sel
            .fields
            .iter()
            .filter(|s| !GROUP_FIELDS.contains(&s.name.as_str()))
            .filter_map(|s| aggregate_expr(o, &s.name).map(|e| (s.key().to_string(), e)))
            .collect();
        let order_terms = group_by::order_terms(&dims, arg("orderBy"), &|n| aggregate_expr(o, n))?;
        let limit = group_by::group_limit(arg("limit"));
        let key = group_key(&dims);
        let exprs: Vec<&str> = dims.iter().map(|d| d.expr.as_str()).collect();

        let mut cols: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{e} AS d{i}"))
            .collect();
        cols.push(format!("{key} AS k"));
        cols.push("count(*) AS n".into());
        cols.extend(
            aggregates
                .iter()
                .enumerate()
                .map(|(i, (_, e))| format!("{e} AS a{i}")),
        );
        let mut sql = Sql::new(format!(
            "SELECT {} FROM {} AS {ROOT} WHERE ",
            cols.join(", "),
            table(o)
        ));
        sql.push(w.clone());
        sql.push_str(&format!(
            " GROUP BY {} ORDER BY {} LIMIT {limit}",
            exprs.join(", "),
            order_terms.join(", ")
        ));
        let groups = self.db.query(&sql)?;

        let edges_sel = sel.get("edges").next().map(|e| &e.children);
        let offset = match arg("offsetForRecords") {
            Value::Null => 0,
            v => v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
                QueryError::bad_input("offsetForRecords must be a non-negative integer")
            })? as usize,
        };
        // Each group's page of records, from one windowed statement over the chosen groups.
        let mut pages: HashMap<String, Vec<(Value, String)>> = HashMap::new();
        if let Some(edges_sel) = edges_sel.filter(|_| !groups.is_empty()) {
            let node_sel = edges_sel
                .get("node")
                .next()
                .map(|n| n.children.clone())
                .unwrap_or_default();
            let leaves = order::compile(self.model, o, arg("orderByForRecords"), ROOT)?;
            let keys: Vec<&str> = groups
                .iter()
                .filter_map(|g| g.get("k").and_then(Value::as_str))
                .collect();
            let mut q = Sql::new(format!(
                "SELECT id, deleted_at, data, k FROM (SELECT {ROOT}.id, {ROOT}.deleted_at, {ROOT}.data, \
                 {key} AS k, ROW_NUMBER() OVER (PARTITION BY {} {}) AS rn FROM {} AS {ROOT} WHERE ",
                exprs.join(", "),
                order::sql(&leaves, true),
                table(o)
            ));
            q.push(w);
            q.push(Sql::with(
                format!(" AND {key} IN (SELECT value FROM json_each(?))"),
                vec![Param::Text(json!(keys).to_string())],
            ));
            q.push_str(&format!(
                ") WHERE rn > {offset} AND rn <= {} ORDER BY k, rn",
                offset + group_by::RECORDS_PER_GROUP
            ));
            let rows = self.db.query(&q)?;
            let records = rows
                .iter()
                .map(super::Record::from_row)
                .collect::<QueryResult<Vec<_>>>()?;
            let shaped = self.shape(o, &records, &node_sel, 0)?;
            for ((row, rec), node) in rows.iter().zip(&records).zip(shaped) {
                let k = row
                    .get("k")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let c = cursor::encode(&rec.stored(), &leaves);
                pages.entry(k).or_default().push((node, c));
            }
        }

        let mut out = Vec::with_capacity(groups.len());
        for g in &groups {
            let dimension_values: Vec<Value> = (0..dims.len())
                .map(|i| group_by::dimension_value(g.get(&format!("d{i}")).unwrap_or(&Value::Null)))
                .collect();
            let total = g.get("n").and_then(Value::as_i64).unwrap_or(0);
            let mut item = json!({
                "groupByDimensionValues": dimension_values,
                "totalCount": total,
            });
            for (i, (k, _)) in aggregates.iter().enumerate() {
                item[k] = g.get(&format!("a{i}")).cloned().unwrap_or(Value::Null);
            }
            if edges_sel.is_some() {
                let k = g.get("k").and_then(Value::as_str).unwrap_or("");
                let page = pages.remove(k).unwrap_or_default();
                item["pageInfo"] = json!({
                    "startCursor": page.first().map(|p| &p.1),
                    "endCursor": page.last().map(|p| &p.1),
                    "hasNextPage": (offset + page.len()) < total as usize,
                    "hasPreviousPage": offset > 0,
                });
                item["edges"] = Value::Array(
                    page.into_iter()
                        .map(|(node, cursor)| json!({ "node": node, "cursor": cursor }))
                        .collect(),
                );
            } else {
                item["edges"] = json!([]);
                item["pageInfo"] = json!({ "startCursor": null, "endCursor": null, "hasNextPage": false, "hasPreviousPage": false });
            }
            out.push(item);
        }
        Ok(Value::Array(out))
    }
}
