//! `<plural>GroupBy` (and `GET /rest/{plural}/groupBy`): Twenty's `groupBy`, `orderBy`
//! (`OrderByWithGroupBy`) and date buckets translated to SQLite expressions over the JSON
//! record (`common-group-by-query-runner.service.ts`, `get-group-by-expression.util.ts`).
//!
//! Pure: the engine runs the statement ([`super::engine::Engine::group_by`]).

use serde_json::{Map, Value};

use super::error::{QueryError, QueryResult};
use super::gql;
use super::metadata::{FieldMetadata, FieldType, ObjectMetadata};

/// Groups returned when the client gives no (valid) `limit` (`DEFAULT_NUMBER_OF_GROUPS_LIMIT`).
pub const DEFAULT_GROUP_LIMIT: usize = 50;
/// Most groups one request may return: a chart of daily buckets over a few years fits; each
/// group is one row of one statement, and its records at most [`RECORDS_PER_GROUP`].
pub const MAX_GROUP_LIMIT: usize = 1_000;
/// Records returned per group when `edges` are selected (Twenty's `RECORDS_PER_GROUP_LIMIT`;
/// the web app pages with `offsetForRecords`).
pub const RECORDS_PER_GROUP: usize = 10;

/// One dimension of the grouping: a SQL expression over the root alias `r`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    /// The groupBy key: a field name or a join column (`companyId`).
    pub field: String,
    /// The composite sub-field, if any.
    pub sub: Option<String>,
    pub expr: String,
}

fn bad(msg: impl Into<String>) -> QueryError {
    let msg = msg.into();
    QueryError::bad_input(msg.clone()).with_user_friendly(msg)
}

fn json_at(keys: &[&str]) -> String {
    format!("json_extract(r.data, '{}')", super::ddl::json_path(keys))
}

/// `UTC`, `Etc/UTC`, `GMT` or a fixed offset (`+02:00`, `-0530`, `+02`) → minutes east of UTC.
/// SQLite has no time-zone database; named zones with daylight saving are refused rather
/// than bucketed wrongly.
pub fn offset_minutes(tz: &str) -> Option<i64> {
    let tz = tz.trim();
    if matches!(
        tz,
        "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Z" | "UCT" | "Etc/UCT"
    ) {
        return Some(0);
    }
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits[..2].parse::<i64>().ok()?,
            digits[2..].parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The bucket expression of a date field (Twenty's `getGroupByExpression`).
fn date_expr(f: &FieldMetadata, raw: &str, spec: &Map<String, Value>) -> QueryResult<String> {
    let granularity = spec
        .get("granularity")
        .and_then(Value::as_str)
        .unwrap_or("NONE");
    if !gql::DATE_GRANULARITIES.contains(&granularity) {
        return Err(bad(format!("Invalid date granularity '{granularity}'")));
    }
    let needs_zone = matches!(granularity, "DAY" | "WEEK" | "MONTH" | "QUARTER" | "YEAR");
    let shifted = if needs_zone {
        let tz = spec
            .get("timeZone")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                bad("Time zone should be specified for a group by date on Day, Week, Month, Quarter or Year")
                    .with_sub_code("MISSING_TIMEZONE_FOR_DATE_GROUP_BY")
            })?;
        let minutes = offset_minutes(tz).ok_or_else(|| {
            bad(format!(
                "Time zone '{tz}' is not supported for date grouping: use UTC or a fixed offset such as +02:00"
            ))
            .with_sub_code("INVALID_TIMEZONE")
        })?;
        // A DATE has no time of day: it is its own day in every zone.
        if minutes == 0 || f.field_type == FieldType::Date {
            raw.to_string()
        } else {
            format!("datetime({raw}, '{minutes:+} minutes')")
        }
    } else {
        raw.to_string()
    };
    let s = &shifted;
    Ok(match granularity {
        "DAY" => format!("strftime('%Y-%m-%d', {s})"),
        "MONTH" => format!("strftime('%Y-%m-01', {s})"),
        "YEAR" => format!("strftime('%Y-01-01', {s})"),
        "QUARTER" => format!(
            "strftime('%Y', {s}) || '-' || printf('%02d', ((CAST(strftime('%m', {s}) AS INTEGER) - 1) / 3) * 3 + 1) || '-01'"
        ),
        "WEEK" => {
            // Days back to the start of the week: Monday by default (Postgres' week).
            let back = match spec.get("weekStartDay").and_then(Value::as_str) {
                Some("SUNDAY") => format!("CAST(strftime('%w', {s}) AS INTEGER)"),
                Some("SATURDAY") => format!("((CAST(strftime('%w', {s}) AS INTEGER) + 1) % 7)"),
                _ => format!("((CAST(strftime('%w', {s}) AS INTEGER) + 6) % 7)"),
            };
            format!("date({s}, '-' || {back} || ' days')")
        }
        "DAY_OF_THE_WEEK" => {
            let arms: String = WEEKDAYS
                .iter()
                .enumerate()
                .map(|(i, d)| format!(" WHEN '{i}' THEN '{d}'"))
                .collect();
            format!("CASE strftime('%w', {raw}){arms} END")
        }
        "MONTH_OF_THE_YEAR" => {
            let arms: String = MONTHS
                .iter()
                .enumerate()
                .map(|(i, m)| format!(" WHEN '{:02}' THEN '{m}'", i + 1))
                .collect();
            format!("CASE strftime('%m', {raw}){arms} END")
        }
        "QUARTER_OF_THE_YEAR" => {
            format!("'Q' || ((CAST(strftime('%m', {raw}) AS INTEGER) + 2) / 3)")
        }
        _ => raw.to_string(),
    })
}

/// The value expression of a plain field, as a group key.
fn scalar_expr(f: &FieldMetadata, raw: &str) -> String {
    match f.field_type {
        // Unset TEXT reads '' (Twenty's default), so it groups with ''.
        FieldType::Text => format!("COALESCE({raw}, '')"),
        FieldType::Boolean => format!("CASE {raw} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"),
        _ => raw.to_string(),
    }
}

/// Parses `groupBy: [{stage: true}, {createdAt: {granularity: DAY, timeZone}}, {name:
/// {firstName: true}}, {companyId: true}]` into dimensions, in order.
pub fn dimensions(o: &ObjectMetadata, group_by: &Value) -> QueryResult<Vec<Dimension>> {
    let items = group_by
        .as_array()
        .ok_or_else(|| bad("groupBy must be a list of fields to group by"))?;
    let mut dims = vec![];
    for item in items {
        let Some(entry) = item.as_object() else {
            return Err(bad("Each groupBy item must be an object"));
        };
        if entry.len() != 1 {
            return Err(bad(
                "Each groupBy item must have exactly one field: [{\"firstField\": true}, {\"secondField\": true}]",
            ));
        }
        let (key, value) = entry.iter().next().expect("one entry");
        let field = o
            .field(key)
            .filter(|f| !f.field_type.is_relation())
            .or_else(|| o.field_by_storage_key(key).filter(|f| f.is_many_to_one()))
            .filter(|f| gql::groupable(f))
            .ok_or_else(|| {
                bad(format!(
                    "Cannot group by field \"{key}\" of object \"{}\"",
                    o.name_singular
                ))
            })?;
        if field.is_many_to_one() {
            if *value == Value::Bool(true) {
                dims.push(Dimension {
                    field: key.clone(),
                    sub: None,
                    expr: json_at(&[&field.storage_key()]),
                });
            }
            continue;
        }
        let raw = json_at(&[&field.name]);
        match (value, field.field_type) {
            (Value::Bool(false) | Value::Null, _) => {}
            (Value::Object(spec), FieldType::Date | FieldType::DateTime) => dims.push(Dimension {
                field: key.clone(),
                sub: None,
                expr: date_expr(field, &raw, spec)?,
            }),
            (Value::Object(subs), t) if t.is_composite() => {
                for (sub, on) in subs {
                    if super::composite::subfield(t, sub).is_none() {
                        return Err(bad(format!(
                            "Cannot group by \"{key}.{sub}\": no such sub-field"
                        )));
                    }
                    if *on == Value::Bool(true) {
                        dims.push(Dimension {
                            field: key.clone(),
                            sub: Some(sub.clone()),
                            expr: json_at(&[&field.name, sub]),
                        });
                    }
                }
            }
            (Value::Bool(true), t) if !t.is_composite() => dims.push(Dimension {
                field: key.clone(),
                sub: None,
                expr: scalar_expr(field, &raw),
            }),
            _ => return Err(bad(format!("Invalid groupBy value for field \"{key}\""))),
        }
    }
    if dims.is_empty() {
        return Err(bad("At least one field to group by is required"));
    }
    Ok(dims)
}

fn direction(v: &Value) -> QueryResult<&'static str> {
    Ok(match v.as_str() {
        Some("AscNullsFirst") => "ASC NULLS FIRST",
        Some("AscNullsLast") => "ASC NULLS LAST",
        Some("DescNullsFirst") => "DESC NULLS FIRST",
        Some("DescNullsLast") => "DESC NULLS LAST",
        _ => return Err(bad(format!("Invalid order by direction {v}"))),
    })
}

/// The groups' `ORDER BY` terms from `orderBy: [{aggregate: {totalCount: DescNullsLast}},
/// {stage: AscNullsFirst}, {name: {firstName: AscNullsLast}}, {createdAt: {orderBy,
/// granularity}}]`; without one, the dimensions ascending, empty values last.
/// `aggregate` maps an aggregate field name to its SQL (the connection's aggregates).
pub fn order_terms(
    dims: &[Dimension],
    order_by: &Value,
    aggregate: &dyn Fn(&str) -> Option<String>,
) -> QueryResult<Vec<String>> {
    let items: Vec<&Value> = match order_by {
        Value::Null => vec![],
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![order_by],
        _ => return Err(bad("orderBy must be a list")),
    };
    let mut terms = vec![];
    for item in items {
        let Some(entry) = item.as_object() else {
            return Err(bad("Each orderBy item must be an object"));
        };
        for (key, value) in entry {
            if key == "aggregate" {
                let Some(aggs) = value.as_object() else {
                    return Err(bad("aggregate must be an object"));
                };
                for (name, dir) in aggs {
                    let e = aggregate(name)
                        .ok_or_else(|| bad(format!("Unknown aggregate \"{name}\" in orderBy")))?;
                    terms.push(format!("{e} {}", direction(dir)?));
                }
                continue;
            }
            let not_grouped = || {
                bad(format!(
                    "Cannot order by \"{key}\": only fields in groupBy or aggregates can order groups"
                ))
            };
            match value {
                Value::String(_) => {
                    let d = dims
                        .iter()
                        .find(|d| d.field == *key && d.sub.is_none())
                        .ok_or_else(not_grouped)?;
                    terms.push(format!("{} {}", d.expr, direction(value)?));
                }
                Value::Object(spec) if spec.contains_key("orderBy") => {
                    let d = dims
                        .iter()
                        .find(|d| d.field == *key)
                        .ok_or_else(not_grouped)?;
                    terms.push(format!("{} {}", d.expr, direction(&spec["orderBy"])?));
                }
                Value::Object(subs) => {
                    for (sub, dir) in subs {
                        let d = dims
                            .iter()
                            .find(|d| d.field == *key && d.sub.as_deref() == Some(sub))
                            .ok_or_else(not_grouped)?;
                        terms.push(format!("{} {}", d.expr, direction(dir)?));
                    }
                }
                _ => return Err(bad(format!("Invalid orderBy value for \"{key}\""))),
            }
        }
    }
    if terms.is_empty() {
        terms = dims
            .iter()
            .map(|d| format!("{} ASC NULLS LAST", d.expr))
            .collect();
    }
    Ok(terms)
}

/// The group limit: a positive integer, else the default (`getGroupLimit`), at most
/// [`MAX_GROUP_LIMIT`].
pub fn group_limit(limit: &Value) -> usize {
    match limit.as_i64() {
        Some(n) if n > 0 => (n as usize).min(MAX_GROUP_LIMIT),
        _ => DEFAULT_GROUP_LIMIT,
    }
}

/// A dimension value as `groupByDimensionValues` shows it: text, numbers without a spurious
/// fraction, null for no value.
pub fn dimension_value(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) => Value::String(s.clone()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Value::String(format!("{}", f as i64)),
            _ => Value::String(n.to_string()),
        },
        other => Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::standard::tests::model;
    use serde_json::json;

    #[test]
    fn group_by_translates_to_sql() {
        let m = model();
        let opp = m.object("opportunity").unwrap();
        let person = m.object("person").unwrap();
        let created = "json_extract(r.data, '$.\"createdAt\"')";
        let cases: Vec<(&ObjectMetadata, Value, Vec<&str>)> = vec![
            (
                opp,
                json!([{ "stage": true }]),
                vec!["json_extract(r.data, '$.\"stage\"')"],
            ),
            (
                person,
                json!([{ "companyId": true }]),
                vec!["json_extract(r.data, '$.\"companyId\"')"],
            ),
            (
                person,
                json!([{ "jobTitle": true }]),
                vec!["COALESCE(json_extract(r.data, '$.\"jobTitle\"'), '')"],
            ),
            (
                person,
                json!([{ "name": { "firstName": true, "lastName": false } }]),
                vec!["json_extract(r.data, '$.\"name\".\"firstName\"')"],
            ),
            (
                opp,
                json!([{ "createdAt": { "granularity": "NONE" } }]),
                vec![created],
            ),
        ];
        let day = format!("strftime('%Y-%m-%d', {created})");
        let day_paris = format!("strftime('%Y-%m-%d', datetime({created}, '+120 minutes'))");
        let month = format!("strftime('%Y-%m-01', {created})");
        let week = format!(
            "date({created}, '-' || ((CAST(strftime('%w', {created}) AS INTEGER) + 6) % 7) || ' days')"
        );
        let quarter_of_year =
            format!("'Q' || ((CAST(strftime('%m', {created}) AS INTEGER) + 2) / 3)");
        let dated: Vec<(Value, &str)> = vec![
            (json!({ "granularity": "DAY", "timeZone": "UTC" }), &day),
            (
                json!({ "granularity": "DAY", "timeZone": "+02:00" }),
                &day_paris,
            ),
            (
                json!({ "granularity": "MONTH", "timeZone": "Etc/UTC" }),
                &month,
            ),
            (json!({ "granularity": "WEEK", "timeZone": "UTC" }), &week),
            (
                json!({ "granularity": "QUARTER_OF_THE_YEAR" }),
                &quarter_of_year,
            ),
        ];
        for (o, group_by, exprs) in cases {
            let dims = dimensions(o, &group_by).unwrap();
            let got: Vec<&str> = dims.iter().map(|d| d.expr.as_str()).collect();
            assert_eq!(got, exprs, "{group_by}");
        }
        for (spec, expr) in dated {
            let dims = dimensions(opp, &json!([{ "createdAt": spec }])).unwrap();
            assert_eq!(dims[0].expr, expr, "{spec}");
        }
    }

    #[test]
    fn group_by_errors() {
        let m = model();
        let opp = m.object("opportunity").unwrap();
        let cases = [
            (json!([]), "At least one field to group by is required"),
            (json!([{ "position": true }]), "Cannot group by field \"position\" of object \"opportunity\""),
            (json!([{ "stage": true, "name": true }]), "Each groupBy item must have exactly one field: [{\"firstField\": true}, {\"secondField\": true}]"),
            (json!([{ "createdAt": { "granularity": "DAY" } }]), "Time zone should be specified for a group by date on Day, Week, Month, Quarter or Year"),
            (json!([{ "createdAt": { "granularity": "DAY", "timeZone": "Europe/Paris" } }]), "Time zone 'Europe/Paris' is not supported for date grouping: use UTC or a fixed offset such as +02:00"),
        ];
        for (group_by, message) in cases {
            assert_eq!(
                dimensions(opp, &group_by).unwrap_err().message,
                message,
                "{group_by}"
            );
        }
    }

    #[test]
    fn group_order_translates_to_sql() {
        let m = model();
        let opp = m.object("opportunity").unwrap();
        let dims = dimensions(opp, &json!([{ "stage": true }])).unwrap();
        let stage = "json_extract(r.data, '$.\"stage\"')";
        let agg = |n: &str| (n == "totalCount").then(|| "count(*)".to_string());
        let cases: Vec<(Value, Vec<String>)> = vec![
            (Value::Null, vec![format!("{stage} ASC NULLS LAST")]),
            (
                json!([{ "aggregate": { "totalCount": "DescNullsLast" } }]),
                vec!["count(*) DESC NULLS LAST".into()],
            ),
            (
                json!([{ "stage": "AscNullsFirst" }, { "aggregate": { "totalCount": "AscNullsLast" } }]),
                vec![
                    format!("{stage} ASC NULLS FIRST"),
                    "count(*) ASC NULLS LAST".into(),
                ],
            ),
        ];
        for (order, expected) in cases {
            assert_eq!(
                order_terms(&dims, &order, &agg).unwrap(),
                expected,
                "{order}"
            );
        }
        assert!(order_terms(&dims, &json!([{ "name": "AscNullsFirst" }]), &agg).is_err());
        assert!(order_terms(
            &dims,
            &json!([{ "aggregate": { "nope": "AscNullsFirst" } }]),
            &agg
        )
        .is_err());
    }

    #[test]
    fn offsets_and_values() {
        assert_eq!(offset_minutes("UTC"), Some(0));
        assert_eq!(offset_minutes("+02:00"), Some(120));
        assert_eq!(offset_minutes("-0530"), Some(-330));
        assert_eq!(offset_minutes("Europe/Paris"), None);
        assert_eq!(dimension_value(&json!(5.0)), json!("5"));
        assert_eq!(dimension_value(&json!(2.5)), json!("2.5"));
        assert_eq!(dimension_value(&json!(null)), json!(null));
        assert_eq!(group_limit(&json!(0)), DEFAULT_GROUP_LIMIT);
        assert_eq!(group_limit(&json!(7)), 7);
    }
}
