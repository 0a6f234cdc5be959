//! `<singular>Duplicates` and `merge<Plural>` (and their REST doors): Twenty's
//! `common-find-duplicates-query-runner.service.ts` and
//! `common-merge-many-query-runner.service.ts` with `merge-field-values.util.ts`.

use serde_json::{json, Map, Value};

use super::{output_record, Engine, FindArgs, Record, Selection, MAX_RECORDS};
use crate::schema::error::{ErrorKind, QueryError, QueryResult};
use crate::schema::metadata::{FieldMetadata, FieldType, ObjectMetadata};
use crate::schema::rest;

/// Most records one merge may combine (twenty-shared `MUTATION_MAX_MERGE_RECORDS`).
pub const MAX_MERGE_RECORDS: usize = 9;

/// Fields a merge never combines: identity and server-managed fields.
const NOT_MERGED: &[&str] = &[
    "id",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "createdBy",
    "updatedBy",
    "position",
    "searchVector",
];

fn bad(message: &str, friendly: &str) -> QueryError {
    QueryError::bad_input(message).with_user_friendly(friendly)
}

/// Whether the object has duplicate criteria, which Twenty requires to merge.
pub fn has_duplicate_criteria(o: &ObjectMetadata) -> bool {
    matches!(o.name_singular.as_str(), "person" | "company") || o.is_custom
}

/// Twenty's `hasRecordFieldValue`: not null, not '', not [], and for objects some part set.
fn has_value(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => m.values().any(has_value),
        _ => true,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn push_unique(list: &mut Vec<Value>, v: Value) {
    if has_value(&v) && !list.contains(&v) {
        list.push(v);
    }
}

/// One field's merged value from the records that have one (priority record first).
fn merge_field(f: &FieldMetadata, values: &[&Value]) -> Value {
    match f.field_type {
        FieldType::Array | FieldType::MultiSelect => {
            let mut out = vec![];
            for v in values {
                for item in v.as_array().into_iter().flatten() {
                    push_unique(&mut out, item.clone());
                }
            }
            Value::Array(out)
        }
        FieldType::Emails => {
            let primary = values.iter().find_map(|v| text(v, "primaryEmail"));
            let mut extra = vec![];
            for v in values {
                if let Some(p) = text(v, "primaryEmail") {
                    push_unique(&mut extra, json!(p));
                }
                for e in v["additionalEmails"].as_array().into_iter().flatten() {
                    push_unique(&mut extra, e.clone());
                }
            }
            extra.retain(|e| e.as_str() != primary.as_deref());
            json!({ "primaryEmail": primary.unwrap_or_default(), "additionalEmails": extra })
        }
        FieldType::Links => {
            let source = values
                .iter()
                .find(|v| text(v, "primaryLinkUrl").is_some())
                .copied()
                .unwrap_or(values[0]);
            let primary = text(source, "primaryLinkUrl");
            let mut extra = vec![];
            for v in values {
                if let Some(url) = text(v, "primaryLinkUrl") {
                    push_unique(
                        &mut extra,
                        json!({ "url": url, "label": v.get("primaryLinkLabel").cloned().unwrap_or(json!("")) }),
                    );
                }
                for l in v["secondaryLinks"].as_array().into_iter().flatten() {
                    push_unique(&mut extra, l.clone());
                }
            }
            extra.retain(|l| l["url"].as_str() != primary.as_deref());
            json!({
                "primaryLinkUrl": primary.unwrap_or_default(),
                "primaryLinkLabel": source.get("primaryLinkLabel").cloned().unwrap_or(json!("")),
                "secondaryLinks": extra,
            })
        }
        FieldType::Phones => {
            let source = values
                .iter()
                .find(|v| text(v, "primaryPhoneNumber").is_some())
                .copied()
                .unwrap_or(values[0]);
            let primary = text(source, "primaryPhoneNumber");
            let mut extra = vec![];
            for v in values {
                if let Some(n) = text(v, "primaryPhoneNumber") {
                    push_unique(
                        &mut extra,
                        json!({
                            "number": n,
                            "countryCode": v.get("primaryPhoneCountryCode").cloned().unwrap_or(json!("")),
                            "callingCode": v.get("primaryPhoneCallingCode").cloned().unwrap_or(json!("")),
                        }),
                    );
                }
                for p in v["additionalPhones"].as_array().into_iter().flatten() {
                    push_unique(&mut extra, p.clone());
                }
            }
            extra.retain(|p| p["number"].as_str() != primary.as_deref());
            let mut out = source.as_object().cloned().unwrap_or_default();
            out.insert("additionalPhones".into(), Value::Array(extra));
            Value::Object(out)
        }
        _ => values[0].clone(),
    }
}

/// The merged data: for every field some record has a value for, the priority record's
/// value first (`defaultMergeFieldValue`), lists and multi-item composites combined.
pub fn merged_data(o: &ObjectMetadata, records: &[&Record]) -> Map<String, Value> {
    let mut out = Map::new();
    for f in o.active_fields() {
        if NOT_MERGED.contains(&f.name.as_str()) || f.is_system || f.is_one_to_many() {
            continue;
        }
        let key = f.storage_key();
        let values: Vec<&Value> = records
            .iter()
            .filter_map(|r| r.data.get(&key))
            .filter(|v| has_value(v))
            .collect();
        match values.len() {
            0 => {}
            1 => {
                out.insert(key, values[0].clone());
            }
            _ => {
                out.insert(key, merge_field(f, &values));
            }
        }
    }
    out
}

impl Engine<'_> {
    /// `personDuplicates(ids, data)`: for each record (by id) or input, the connection of
    /// the other records that match one of the object's duplicate criteria.
    pub fn find_duplicates(
        &self,
        o: &ObjectMetadata,
        args: &Map<String, Value>,
        sel: &Selection,
    ) -> QueryResult<Value> {
        let sources: Vec<Value> = match (args.get("data"), args.get("ids")) {
            (Some(d), Some(i)) if !d.is_null() && !i.is_null() => {
                return Err(QueryError::bad_input(
                    "You cannot provide both \"data\" and \"ids\" arguments",
                ))
            }
            (Some(d), _) if !d.is_null() => {
                let items = d.as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    return Err(QueryError::bad_input(
                        "The \"data\" condition can not be empty when \"ids\" input not provided",
                    ));
                }
                items
            }
            (_, Some(i)) if !i.is_null() => {
                let ids: Vec<String> = i
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_lowercase))
                    .collect();
                let mut records = self.by_ids(o, &ids, false)?;
                records.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
                records
                    .iter()
                    .map(|r| Value::Object(output_record(o, r)))
                    .collect()
            }
            _ => {
                return Err(QueryError::bad_input(
                    "You have to provide either \"data\" or \"ids\" argument",
                ))
            }
        };
        let mut out = vec![];
        for source in sources {
            let criteria = rest::duplicate_criteria(o, &source);
            if criteria.is_empty() {
                let mut empty = json!({
                    "edges": [],
                    "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null },
                });
                for s in &sel.fields {
                    if s.name == "totalCount" || s.name.starts_with("count") {
                        empty[s.key()] = json!(0);
                    }
                }
                out.push(empty);
                continue;
            }
            let mut filter = json!({ "or": criteria });
            if let Some(id) = source.get("id").filter(|v| v.is_string()) {
                filter = json!({ "and": [filter, { "id": { "neq": id } }] });
            }
            let args = FindArgs {
                filter,
                order_by: json!([{ "id": "AscNullsFirst" }]),
                first: Some(MAX_RECORDS as i64),
                ..FindArgs::default()
            };
            out.push(self.find_many(o, &args, sel)?);
        }
        Ok(Value::Array(out))
    }

    /// `mergePeople(ids, conflictPriorityIndex, dryRun)`: one record keeps the merged values,
    /// the others are soft-deleted, and every relation pointing at them moves to it. A dry
    /// run writes nothing and answers the would-be record (new id, `deletedAt` set, as Twenty).
    pub fn merge_many(
        &mut self,
        o: &ObjectMetadata,
        args: &Map<String, Value>,
        sel: &Selection,
    ) -> QueryResult<Value> {
        if !has_duplicate_criteria(o) {
            return Err(bad(
                &format!(
                    "Merge is only available for objects with duplicate criteria. Object '{}' does not have duplicate criteria defined.",
                    o.name_singular
                ),
                "This type of record cannot be merged.",
            ));
        }
        let ids: Vec<String> = args
            .get("ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_lowercase))
            .collect();
        if ids.len() < 2 {
            return Err(bad(
                "At least 2 record IDs are required for merge",
                "Please select at least 2 records to merge.",
            ));
        }
        if ids.len() > MAX_MERGE_RECORDS {
            return Err(bad(
                &format!("Maximum {MAX_MERGE_RECORDS} records can be merged at once"),
                &format!("You can merge up to {MAX_MERGE_RECORDS} records at once."),
            ));
        }
        let n = ids.len();
        let priority_index = args
            .get("conflictPriorityIndex")
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        if priority_index < 0 || priority_index as usize >= n {
            return Err(bad(
                &format!(
                    "Invalid conflict priority '{priority_index}'. Valid options for {n} records: 0-{}",
                    n - 1
                ),
                "An error occurred.",
            ));
        }
        let mut records = self.by_ids(o, &ids, false)?;
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        if records.len() != n || distinct.len() != n {
            return Err(
                QueryError::new(ErrorKind::NotFound, "One or more records not found")
                    .with_user_friendly("One or more records were not found."),
            );
        }
        records.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        let priority_id = ids[priority_index as usize].clone();
        let priority = records
            .iter()
            .find(|r| r.id == priority_id)
            .cloned()
            .ok_or_else(QueryError::not_found)?;
        // The priority record's values come first.
        let ordered: Vec<&Record> = std::iter::once(&priority)
            .chain(records.iter().filter(|r| r.id != priority_id))
            .collect();
        let merged = merged_data(o, &ordered);

        if args.get("dryRun") == Some(&json!(true)) {
            let mut data = priority.data.clone();
            data.extend(merged);
            let preview = Record {
                id: uuid::Uuid::new_v4().to_string(),
                deleted_at: Some(self.ctx.now.clone()),
                data,
            };
            return Ok(self.shape(o, &[preview], sel, 0)?.remove(0));
        }

        let losers: Vec<&Record> = records.iter().filter(|r| r.id != priority_id).collect();
        let loser_ids: Vec<String> = losers.iter().map(|r| r.id.clone()).collect();
        // Relations pointing at the merged-away records now point at the one kept.
        let model = self.model;
        for other in model.active_objects() {
            for f in other
                .active_fields()
                .filter(|f| f.is_many_to_one() && model.target_of(f).is_some_and(|t| t.id == o.id))
            {
                let key = f.storage_key();
                let sql = crate::schema::sql::Sql::with(
                    format!(
                        "SELECT id, deleted_at, data FROM {} WHERE json_extract(data, '{}') IN (SELECT value FROM json_each(?))",
                        super::table(other),
                        crate::schema::ddl::json_path(&[&key])
                    ),
                    vec![super::ids_param(&loser_ids)],
                );
                for r in self.load(&sql)? {
                    let mut data = r.data.clone();
                    data.insert(key.clone(), json!(priority_id));
                    data.insert("updatedAt".into(), json!(self.ctx.now));
                    self.save(other, &r, data)?;
                }
            }
        }
        let now = self.ctx.now.clone();
        for r in &losers {
            self.set_deleted(o, r, Some(&now), "deleted")?;
        }
        let mut data = priority.data.clone();
        data.extend(merged);
        data.insert("updatedAt".into(), json!(self.ctx.now));
        data.insert("updatedBy".into(), self.ctx.actor.clone());
        self.save(o, &priority, data)?;
        Ok(self
            .fetch(o, &[priority_id], sel)?
            .into_iter()
            .next()
            .unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(t: FieldType) -> FieldMetadata {
        serde_json::from_value(json!({
            "id": "f", "objectId": "o", "name": "x", "label": "X", "type": t,
            "description": null, "icon": null, "isNullable": true, "defaultValue": null,
            "options": null, "settings": null, "relation": null,
            "createdAt": "", "updatedAt": ""
        }))
        .unwrap()
    }

    #[test]
    fn field_values_merge_like_twenty() {
        let cases: Vec<(FieldType, Vec<Value>, Value)> = vec![
            (
                FieldType::Text,
                vec![json!("kept"), json!("other")],
                json!("kept"),
            ),
            (
                FieldType::Array,
                vec![json!(["a", "b"]), json!(["b", "c"])],
                json!(["a", "b", "c"]),
            ),
            (
                FieldType::Emails,
                vec![
                    json!({ "primaryEmail": "a@x.com", "additionalEmails": ["c@x.com"] }),
                    json!({ "primaryEmail": "b@x.com", "additionalEmails": ["a@x.com"] }),
                ],
                json!({ "primaryEmail": "a@x.com", "additionalEmails": ["c@x.com", "b@x.com"] }),
            ),
            (
                FieldType::Links,
                vec![
                    json!({ "primaryLinkUrl": "", "primaryLinkLabel": "", "secondaryLinks": [] }),
                    json!({ "primaryLinkUrl": "https://b.com", "primaryLinkLabel": "B", "secondaryLinks": [{ "url": "https://c.com", "label": "" }] }),
                ],
                json!({ "primaryLinkUrl": "https://b.com", "primaryLinkLabel": "B", "secondaryLinks": [{ "url": "https://c.com", "label": "" }] }),
            ),
        ];
        for (t, values, expected) in cases {
            let refs: Vec<&Value> = values.iter().collect();
            assert_eq!(merge_field(&field(t), &refs), expected, "{t:?}");
        }
        assert!(!has_value(
            &json!({ "primaryEmail": "", "additionalEmails": [] })
        ));
        assert!(has_value(&json!({ "primaryEmail": "a@x.com" })));
    }
}
