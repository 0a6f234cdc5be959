//! Connection cursors and keyset pagination (Twenty's `cursors.util.ts`,
//! `computeCursorArgFilter`, `buildCursorKeysetCondition`).
//!
//! A cursor is standard base64 of the JSON `{...orderBy values nested by path, "id": ...}`
//! (keys in leaf order, `id` last unless the ordering itself names `id` earlier). Paging
//! after/before a cursor adds the keyset condition
//! `OR_i (AND_{j<i} leaf_j = c_j AND leaf_i after c_i)`, with NULLs placed exactly where
//! the scan ([`super::order::sql`]) puts them.
//!
//! The keyset compares the same expressions the `ORDER BY` uses (`lower(...)` for text),
//! so forward and backward pages visit every row exactly once.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::Value;

use super::error::{QueryError, QueryResult};
use super::filter::{json_param, STANDARD_ERROR_MESSAGE};
use super::order::{LeafKind, OrderLeaf};
use super::sql::{balanced, Sql};

/// The cursor of `record` (output-shaped: composites and loaded relations as nested
/// objects) under the ordering `leaves`.
///
/// A missing or `null` value (or container: no company) is carried as `null`, the value
/// the scan sorted by; a relation leaf whose relation is absent from `record` (not
/// loaded) is left out, like Twenty, and [`keyset`] then refuses the cursor.
pub fn encode(record: &Value, leaves: &[OrderLeaf]) -> String {
    let mut root = Node::default();
    for leaf in leaves.iter().filter(|l| l.carries_cursor_value()) {
        let Some((first, rest)) = leaf.path.split_first() else {
            continue;
        };
        // An unloaded relation contributes nothing; any other missing value is NULL in
        // SQL, so it is carried as null (Twenty reads these from the scan's raw rows).
        if leaf.kind == LeafKind::Relation && record.get(first).is_none() {
            continue;
        }
        let mut value = record.get(first);
        for key in rest {
            match value {
                Some(Value::Object(map)) => value = map.get(key),
                _ => value = None,
            }
        }
        let value = value.cloned().unwrap_or(Value::Null);
        let mut container = &mut root;
        for key in &leaf.path[..leaf.path.len() - 1] {
            container = container.child(key);
        }
        container.set(&leaf.path[leaf.path.len() - 1], value);
    }
    if let Some(id) = record.get("id") {
        root.set("id", id.clone());
    }
    STANDARD.encode(root.to_json())
}

/// Decodes an `after`/`before` cursor: `Invalid cursor: ${cursor}` (INVALID_CURSOR) when
/// it is not base64 of JSON. (Like Node's decoder, whitespace, URL-safe characters and
/// missing padding are tolerated.)
pub fn decode(cursor: &str) -> QueryResult<Value> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let cleaned: String = cursor
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT
        .decode(cleaned)
        .ok()
        .and_then(|bytes| serde_json::from_str(&String::from_utf8_lossy(&bytes)).ok())
        .ok_or_else(|| invalid_cursor(format!("Invalid cursor: {cursor}")))
}

fn invalid_cursor(message: String) -> QueryError {
    QueryError::bad_input(message)
        .with_sub_code("INVALID_CURSOR")
        .with_user_friendly(STANDARD_ERROR_MESSAGE)
}

/// `getCursorValueForLeaf`: the value along the leaf's path (legacy cursors carried
/// composite values under dotted keys); `None` when absent.
fn cursor_value<'a>(cursor: &'a Value, leaf: &OrderLeaf) -> Option<&'a Value> {
    let mut value = Some(cursor);
    for key in &leaf.path {
        value = match value {
            Some(Value::Object(map)) => map.get(key),
            _ => None,
        };
    }
    if value.is_none() && leaf.path.len() > 1 {
        return cursor.get(leaf.path.join("."));
    }
    value
}

/// The keyset condition selecting the rows strictly after (`forward`) or before the
/// decoded `cursor` under `leaves` (from [`super::order::compile`]), for the same scan
/// [`super::order::sql`] gives. `0` when nothing can follow.
pub fn keyset(leaves: &[OrderLeaf], cursor: &Value, forward: bool) -> QueryResult<Sql> {
    let mut with_values = Vec::new();
    for leaf in leaves.iter().filter(|l| l.carries_cursor_value()) {
        let Some(value) = cursor_value(cursor, leaf) else {
            return Err(invalid_cursor(format!(
                "Cursor is missing the value for orderBy field \"{}\": it was encoded for a different orderBy. Restart pagination without a cursor.",
                leaf.path.join(".")
            )));
        };
        with_values.push((leaf, value));
    }
    let equalities: Vec<Sql> = with_values
        .iter()
        .map(|(leaf, value)| {
            if value.is_null() {
                Sql::new(format!("{} IS NULL", leaf.expr.text))
            } else {
                compare(leaf, "=", value)
            }
        })
        .collect();
    let mut branches = Vec::new();
    for (i, (leaf, value)) in with_values.iter().enumerate() {
        let (ascending, nulls_last) = leaf.direction.scan(forward);
        let main = if value.is_null() {
            if nulls_last {
                // Inside the trailing NULL block: only later leaves can advance.
                continue;
            }
            Sql::new(format!("{} IS NOT NULL", leaf.expr.text))
        } else {
            let after = compare(leaf, if ascending { ">" } else { "<" }, value);
            if nulls_last && leaf.nullable {
                let mut s = Sql::new("(");
                s.push(after);
                s.push_str(&format!(" OR {} IS NULL)", leaf.expr.text));
                s
            } else {
                after
            }
        };
        let mut parts: Vec<Sql> = equalities[..i].to_vec();
        parts.push(main);
        branches.push(balanced(parts, "AND", "1"));
    }
    Ok(balanced(branches, "OR", "0"))
}

/// `expr op <value transformed like expr>`.
fn compare(leaf: &OrderLeaf, op: &str, value: &Value) -> Sql {
    // Arrays and objects (MULTI_SELECT, ARRAY, RAW_JSON) bind as their JSON text, which
    // is what `json_extract` yields for them.
    let param = json_param(value);
    Sql::with(
        format!("{} {op} {}", leaf.expr.text, leaf.param_expr()),
        vec![param],
    )
}

/// A JSON object that keeps insertion order (Twenty's cursors are JavaScript objects).
#[derive(Debug, Default)]
struct Node {
    entries: Vec<(String, Entry)>,
}

#[derive(Debug)]
enum Entry {
    Value(Value),
    Object(Node),
}

impl Node {
    fn child(&mut self, key: &str) -> &mut Node {
        let i = match self.entries.iter().position(|(k, _)| k == key) {
            Some(i) => {
                if !matches!(self.entries[i].1, Entry::Object(_)) {
                    self.entries[i].1 = Entry::Object(Node::default());
                }
                i
            }
            None => {
                self.entries
                    .push((key.to_string(), Entry::Object(Node::default())));
                self.entries.len() - 1
            }
        };
        match &mut self.entries[i].1 {
            Entry::Object(node) => node,
            Entry::Value(_) => unreachable!("replaced above"),
        }
    }

    fn set(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, entry)) => *entry = Entry::Value(value),
            None => self.entries.push((key.to_string(), Entry::Value(value))),
        }
    }

    fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, entry)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Value::String(key.clone()).to_string());
            out.push(':');
            match entry {
                Entry::Value(v) => out.push_str(&js_json(v)),
                Entry::Object(node) => out.push_str(&node.to_json()),
            }
        }
        out.push('}');
        out
    }
}

/// `JSON.stringify` of a value (integral floats without `.0`).
fn js_json(v: &Value) -> String {
    match v {
        Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 1e21 {
                format!("{f:.0}")
            } else {
                v.to_string()
            }
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(js_json).collect::<Vec<_>>().join(",")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), js_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::filter::test_model::model;
    use super::super::order;
    use super::super::sql::Param;
    use super::*;
    use serde_json::json;

    fn leaves(order_by: Value) -> Vec<OrderLeaf> {
        let m = model();
        let person = m.object("person").unwrap().clone();
        order::compile(&m, &person, &order_by, "p").unwrap()
    }

    fn decoded(cursor: &str) -> String {
        String::from_utf8(STANDARD.decode(cursor).unwrap()).unwrap()
    }

    #[test]
    fn encoding_matches_twenty() {
        let record = json!({
            "id": "20202020-0687-4c41-b707-ed1bfca972a7",
            "name": {"firstName": "Ann", "lastName": null},
            "score": 3.0,
            "company": null,
            "createdAt": "2024-01-02T03:04:05.678Z",
        });
        for (order_by, expected) in [
            (
                json!(null),
                r#"{"id":"20202020-0687-4c41-b707-ed1bfca972a7"}"#,
            ),
            (
                json!([{"name": {"firstName": "AscNullsLast"}}]),
                r#"{"name":{"firstName":"Ann"},"id":"20202020-0687-4c41-b707-ed1bfca972a7"}"#,
            ),
            (
                json!([{"score": "DescNullsLast"}, {"name": {"lastName": "AscNullsFirst", "firstName": "AscNullsFirst"}}]),
                r#"{"score":3,"name":{"firstName":"Ann","lastName":null},"id":"20202020-0687-4c41-b707-ed1bfca972a7"}"#,
            ),
            // A null relation carries null; the id ordering keeps its place.
            (
                json!([{"id": "DescNullsFirst"}, {"company": {"name": "AscNullsFirst"}}]),
                r#"{"id":"20202020-0687-4c41-b707-ed1bfca972a7","company":{"name":null}}"#,
            ),
            // Missing values are NULL in SQL, hence null.
            (
                json!([{"jobTitle": "AscNullsFirst"}]),
                r#"{"jobTitle":null,"id":"20202020-0687-4c41-b707-ed1bfca972a7"}"#,
            ),
        ] {
            let cursor = encode(&record, &leaves(order_by.clone()));
            assert_eq!(decoded(&cursor), expected, "{order_by}");
            assert_eq!(
                decode(&cursor).unwrap(),
                serde_json::from_str::<Value>(expected).unwrap()
            );
        }
        // An unloaded relation is left out entirely.
        let record = json!({"id": "x"});
        let cursor = encode(
            &record,
            &leaves(json!([{"company": {"name": "AscNullsFirst"}}])),
        );
        assert_eq!(decoded(&cursor), r#"{"id":"x"}"#);
        // Loaded: nested under the relation.
        let record = json!({"id": "x", "company": {"name": "Acme"}});
        let cursor = encode(
            &record,
            &leaves(json!([{"company": {"name": "AscNullsFirst"}}])),
        );
        assert_eq!(decoded(&cursor), r#"{"company":{"name":"Acme"},"id":"x"}"#);
        // Standard base64 with padding.
        assert_eq!(
            encode(&json!({"id": "a"}), &leaves(json!(null))),
            "eyJpZCI6ImEifQ=="
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(decode("eyJpZCI6ImEifQ==").unwrap(), json!({"id": "a"}));
        assert_eq!(decode("eyJpZCI6ImEifQ").unwrap(), json!({"id": "a"}));
        for bad in ["", "not a cursor!", "bm90IGpzb24="] {
            let e = decode(bad).unwrap_err();
            assert_eq!(e.message, format!("Invalid cursor: {bad}"));
            assert_eq!(e.graphql_code(), "BAD_USER_INPUT");
            assert_eq!(e.sub_code.as_deref(), Some("INVALID_CURSOR"));
        }
    }

    fn t(s: &str) -> Param {
        Param::Text(s.into())
    }

    /// `(text, params)` of the keyset for `order_by`, `cursor`, `forward`.
    fn check(order_by: Value, cursor: Value, forward: bool, text: &str, params: Vec<Param>) {
        let sql = keyset(&leaves(order_by.clone()), &cursor, forward).unwrap();
        assert_eq!(sql.text, text, "{order_by} {cursor} {forward}");
        assert_eq!(sql.params, params, "{order_by} {cursor} {forward}");
    }

    const S: &str = r#"json_extract(p.data, '$."score"')"#;
    const F: &str = r#"lower(json_extract(p.data, '$."name"."firstName"'))"#;

    #[test]
    fn keyset_conditions() {
        // Only the tie-breaker.
        for (forward, text) in [(true, "((p.id > ?))"), (false, "((p.id < ?))")] {
            check(json!(null), json!({"id": "b"}), forward, text, vec![t("b")]);
        }
        for (forward, text) in [
            // Ascending, NULLs last, forward: after v, or NULL.
            (
                true,
                format!("(((({S} > ? OR {S} IS NULL))) OR ((({S} = ?) AND (p.id > ?))))"),
            ),
            // Backward over the same ordering: NULLs are scanned first, so none follow.
            (
                false,
                format!("((({S} < ?)) OR ((({S} = ?) AND (p.id < ?))))"),
            ),
        ] {
            check(
                json!([{"score": "AscNullsLast"}]),
                json!({"score": 3, "id": "b"}),
                forward,
                &text,
                vec![Param::Int(3), Param::Int(3), t("b")],
            );
        }
        for (direction, text) in [
            // Cursor inside the leading NULL block: any non-NULL follows.
            (
                "AscNullsFirst",
                format!("((({S} IS NOT NULL)) OR ((({S} IS NULL) AND (p.id > ?))))"),
            ),
            // Cursor inside the trailing NULL block: only the tie-breaker advances.
            ("DescNullsLast", format!("((({S} IS NULL) AND (p.id > ?)))")),
        ] {
            check(
                json!([{"score": direction}]),
                json!({"score": null, "id": "b"}),
                true,
                &text,
                vec![t("b")],
            );
        }
        // Text compares lowered, like the ORDER BY; legacy dotted keys are read too.
        for cursor in [
            json!({"name": {"firstName": "Bob"}, "id": "b"}),
            json!({"name.firstName": "Bob", "id": "b"}),
        ] {
            check(
                json!([{"name": {"firstName": "DescNullsFirst"}}]),
                cursor,
                true,
                &format!("((({F} < lower(?))) OR ((({F} = lower(?)) AND (p.id > ?))))"),
                vec![t("Bob"), t("Bob"), t("b")],
            );
        }
        // A non-nullable field never gets the IS NULL branch.
        check(
            json!([{"createdAt": "AscNullsLast"}]),
            json!({"createdAt": "2024-01-01T00:00:00.000Z", "id": "b"}),
            true,
            r#"(((json_extract(p.data, '$."createdAt"') > ?)) OR (((json_extract(p.data, '$."createdAt"') = ?) AND (p.id > ?))))"#,
            vec![
                t("2024-01-01T00:00:00.000Z"),
                t("2024-01-01T00:00:00.000Z"),
                t("b"),
            ],
        );
        // Booleans compare as 1/0, NUMERIC as REAL.
        check(
            json!([{"isActive": "AscNullsFirst"}, {"salary": "AscNullsFirst"}]),
            json!({"isActive": true, "salary": "10.5", "id": "b"}),
            true,
            r#"(((json_extract(p.data, '$."isActive"') > ?)) OR ((((json_extract(p.data, '$."isActive"') = ?) AND (CAST(json_extract(p.data, '$."salary"') AS REAL) > CAST(? AS REAL)))) OR (((json_extract(p.data, '$."isActive"') = ?) AND ((CAST(json_extract(p.data, '$."salary"') AS REAL) = CAST(? AS REAL)) AND (p.id > ?))))))"#,
            vec![
                Param::Int(1),
                Param::Int(1),
                t("10.5"),
                Param::Int(1),
                t("10.5"),
                t("b"),
            ],
        );
    }

    #[test]
    fn keyset_requires_every_leaf() {
        let e = keyset(
            &leaves(json!([{"name": {"firstName": "AscNullsFirst"}}])),
            &json!({"id": "b"}),
            true,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Cursor is missing the value for orderBy field \"name.firstName\": it was encoded for a different orderBy. Restart pagination without a cursor."
        );
        assert_eq!(e.sub_code.as_deref(), Some("INVALID_CURSOR"));
        // RAW_JSON sub-fields take no part in cursors.
        let l = leaves(json!([{"emails": {"additionalEmails": "AscNullsFirst"}}]));
        assert_eq!(l.len(), 2);
        assert!(!l[0].carries_cursor_value());
        assert_eq!(
            keyset(&l, &json!({"id": "b"}), true).unwrap().text,
            "((p.id > ?))"
        );
    }
}

/// The generated SQL against real SQLite (bundled, with JSON1) in the storage layout.
#[cfg(test)]
mod sqlite_tests {
    use super::super::filter::{self, test_model::model};
    use super::super::metadata::{ObjectMetadata, WorkspaceModel};
    use super::super::order;
    use super::super::sql::{Param, Sql};
    use super::*;
    use rusqlite::{params_from_iter, Connection};
    use serde_json::json;

    const ACME: &str = "c0000000-0000-4000-8000-000000000001";
    const GLOBEX: &str = "c0000000-0000-4000-8000-000000000002";
    const GONE: &str = "c0000000-0000-4000-8000-000000000003";

    fn pid(n: u32) -> String {
        format!("a0000000-0000-4000-8000-{n:012}")
    }

    struct Db {
        conn: Connection,
        model: WorkspaceModel,
    }

    fn to_sql(p: &Param) -> rusqlite::types::Value {
        match p {
            Param::Null => rusqlite::types::Value::Null,
            Param::Int(i) => rusqlite::types::Value::Integer(*i),
            Param::Real(f) => rusqlite::types::Value::Real(*f),
            Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
        }
    }

    impl Db {
        fn person(&self) -> &ObjectMetadata {
            self.model.object("person").unwrap()
        }

        fn new() -> Db {
            let model = model();
            let conn = Connection::open_in_memory().unwrap();
            for o in &model.objects {
                conn.execute_batch(&format!(
                    "CREATE TABLE {} (id TEXT PRIMARY KEY, deleted_at TEXT, data TEXT NOT NULL)",
                    o.table()
                ))
                .unwrap();
            }
            let company = model.object("company").unwrap().table();
            for (id, deleted, data) in [
                (
                    ACME,
                    None,
                    json!({"name": "Acme", "address": {"addressCity": "Paris"}}),
                ),
                (GLOBEX, None, json!({"name": "globex"})),
                (
                    GONE,
                    Some("2024-01-01T00:00:00.000Z"),
                    json!({"name": "Gone"}),
                ),
            ] {
                conn.execute(
                    &format!("INSERT INTO {company} (id, deleted_at, data) VALUES (?1, ?2, ?3)"),
                    rusqlite::params![id, deleted, data.to_string()],
                )
                .unwrap();
            }
            let people = model.object("person").unwrap().table();
            let rows: Vec<(u32, Option<&str>, Value)> = vec![
                (
                    1,
                    None,
                    json!({"name": {"firstName": "Ann", "lastName": "Lee"}, "jobTitle": "CEO", "score": 10, "salary": "100.5", "isActive": true, "createdAt": "2024-01-01T10:00:00.000Z", "birthday": "1990-05-01", "stage": "NEW", "tags": ["VIP", "HOT"], "aliases": ["Annie", "AL"], "extra": {"vip": true}, "emails": {"primaryEmail": "ann@acme.com", "additionalEmails": []}, "companyId": ACME, "createdBy": {"source": "API", "name": "x"}}),
                ),
                (
                    2,
                    None,
                    json!({"name": {"firstName": "bob", "lastName": ""}, "jobTitle": "", "score": 5, "salary": "20", "isActive": false, "createdAt": "2024-01-01T10:00:00.001Z", "stage": "MEETING", "tags": [], "aliases": [], "emails": {"primaryEmail": ""}, "companyId": GLOBEX, "createdBy": {"source": "MANUAL"}}),
                ),
                (
                    3,
                    None,
                    json!({"name": {"firstName": "Bob", "lastName": "Marley"}, "jobTitle": "cto", "score": null, "isActive": true, "createdAt": "2024-01-02T00:00:00.000Z", "stage": "CUSTOMER", "tags": ["COLD"], "companyId": GONE}),
                ),
                (
                    4,
                    None,
                    json!({"name": {"firstName": null, "lastName": "Nobody"}, "score": 5, "createdAt": "2024-01-03T00:00:00.000Z", "tags": null}),
                ),
                (
                    5,
                    None,
                    json!({"name": {"firstName": "Émile", "lastName": "Zola"}, "jobTitle": "Writer_%", "score": 7.5, "salary": "1e3", "createdAt": "2024-02-01T00:00:00.000Z", "stage": "NEW", "companyId": ACME, "aliases": ["zed"]}),
                ),
                (
                    6,
                    None,
                    json!({"name": {"firstName": "ann", "lastName": "Smith"}, "jobTitle": "ceo", "score": 10, "createdAt": "2024-02-01T00:00:00.000Z", "companyId": GLOBEX}),
                ),
                (
                    7,
                    None,
                    json!({"name": {"firstName": "Carl"}, "jobTitle": "Engineer", "score": -1, "createdAt": "2023-12-31T23:59:59.999Z", "extra": [1, 2]}),
                ),
                (
                    8,
                    None,
                    json!({"name": {"firstName": ""}, "score": 0, "createdAt": "2024-03-01T00:00:00.000Z"}),
                ),
                (
                    9,
                    Some("2024-04-01T00:00:00.000Z"),
                    json!({"name": {"firstName": "Deleted"}, "jobTitle": "CEO", "score": 10, "createdAt": "2024-01-01T10:00:00.000Z"}),
                ),
                (
                    10,
                    None,
                    json!({"name": {"firstName": "dave"}, "jobTitle": "Writer_x", "createdAt": "2024-01-01T10:00:00.000Z", "companyId": ACME}),
                ),
            ];
            for (n, deleted, data) in rows {
                conn.execute(
                    &format!("INSERT INTO {people} (id, deleted_at, data) VALUES (?1, ?2, ?3)"),
                    rusqlite::params![pid(n), deleted, data.to_string()],
                )
                .unwrap();
            }
            Db { conn, model }
        }

        /// Ids (as row numbers) of `SELECT ... WHERE where ORDER BY order LIMIT limit`.
        fn query(&self, where_: &Sql, order: &str, limit: Option<usize>) -> Vec<u32> {
            let sql = format!(
                "SELECT p.id FROM {} AS p WHERE {} {order} {}",
                self.person().table(),
                where_.text,
                limit.map(|l| format!("LIMIT {l}")).unwrap_or_default()
            );
            let mut stmt = self
                .conn
                .prepare(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let rows = stmt
                .query_map(params_from_iter(where_.params.iter().map(to_sql)), |r| {
                    r.get::<_, String>(0)
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.map(|r| {
                let id = r.unwrap();
                id[id.len() - 12..].parse().unwrap()
            })
            .collect()
        }

        /// Row numbers matching `filter` (soft-delete rule applied), in id order.
        fn find(&self, filter: Value) -> Vec<u32> {
            let c = filter::compile(&self.model, self.person(), &filter, "p")
                .unwrap_or_else(|e| panic!("{filter}: {e}"));
            let mut sql = c.sql;
            if !c.mentions_deleted_at {
                sql = Sql {
                    text: format!("({}) AND p.deleted_at IS NULL", sql.text),
                    params: sql.params,
                };
            }
            self.query(&sql, "ORDER BY p.id", None)
        }

        /// The record as output (for cursors): data + id, relation loaded.
        fn record(&self, n: u32) -> Value {
            let data: String = self
                .conn
                .query_row(
                    &format!("SELECT data FROM {} WHERE id = ?1", self.person().table()),
                    [pid(n)],
                    |r| r.get(0),
                )
                .unwrap();
            let mut v: Value = serde_json::from_str(&data).unwrap();
            v["id"] = json!(pid(n));
            let company = v.get("companyId").and_then(Value::as_str).and_then(|cid| {
                self.conn
                    .query_row(
                        &format!(
                            "SELECT data FROM {} WHERE id = ?1 AND deleted_at IS NULL",
                            self.model.object("company").unwrap().table()
                        ),
                        [cid],
                        |r| r.get::<_, String>(0),
                    )
                    .ok()
            });
            v["company"] = company
                .map(|d| serde_json::from_str(&d).unwrap())
                .unwrap_or(Value::Null);
            v
        }
    }

    #[test]
    fn filters_select_the_right_rows() {
        let db = Db::new();
        let u = |n: u32| pid(n);
        let cases: Vec<(Value, Vec<u32>)> = vec![
            (json!({}), vec![1, 2, 3, 4, 5, 6, 7, 8, 10]),
            // Soft delete.
            (json!({"deletedAt": {"is": "NOT_NULL"}}), vec![9]),
            (json!({"not": {"deletedAt": {"is": "NULL"}}}), vec![9]),
            (
                json!({"or": [{"deletedAt": {"is": "NULL"}}, {"deletedAt": {"is": "NOT_NULL"}}]}),
                (1..=10).collect(),
            ),
            // Text: exact, case-sensitive like, case-insensitive ilike.
            (json!({"jobTitle": {"eq": "CEO"}}), vec![1]),
            (json!({"jobTitle": {"neq": "CEO"}}), vec![2, 3, 5, 6, 7, 10]),
            (json!({"jobTitle": {"like": "C%"}}), vec![1]),
            (json!({"jobTitle": {"ilike": "c%"}}), vec![1, 3, 6]),
            (json!({"jobTitle": {"like": "Writer\\_%"}}), vec![5, 10]),
            (json!({"jobTitle": {"like": "Writer\\_\\%"}}), vec![5]),
            (json!({"jobTitle": {"ilike": "%\\%"}}), vec![5]),
            (json!({"jobTitle": {"startsWith": "Writer_"}}), vec![5, 10]),
            (json!({"jobTitle": {"startsWith": "c"}}), vec![3, 6]),
            (json!({"jobTitle": {"endsWith": "_%"}}), vec![5]),
            (json!({"jobTitle": {"in": ["CEO", "cto"]}}), vec![1, 3]),
            (json!({"jobTitle": {"gte": "Writer"}}), vec![3, 5, 6, 10]),
            // Null-equivalence: '' counts as NULL for is NULL and eq ''.
            (json!({"jobTitle": {"is": "NULL"}}), vec![2, 4, 8]),
            (
                json!({"jobTitle": {"is": "NOT_NULL"}}),
                vec![1, 2, 3, 5, 6, 7, 10],
            ),
            (json!({"jobTitle": {"eq": ""}}), vec![2, 4, 8]),
            (json!({"jobTitle": {"neq": ""}}), vec![1, 3, 5, 6, 7, 10]),
            (json!({"name": {"firstName": {"is": "NULL"}}}), vec![4, 8]),
            (
                json!({"name": {"lastName": {"is": "NULL"}}}),
                vec![2, 7, 8, 10],
            ),
            (
                json!({"emails": {"primaryEmail": {"is": "NULL"}}}),
                vec![2, 3, 4, 5, 6, 7, 8, 10],
            ),
            (
                json!({"emails": {"additionalEmails": {"is": "NULL"}}}),
                vec![1, 2, 3, 4, 5, 6, 7, 8, 10],
            ),
            // Composite sub-fields.
            (json!({"name": {"firstName": {"ilike": "ann"}}}), vec![1, 6]),
            (
                json!({"name": {"firstName": {"eq": "Bob"}, "lastName": {"like": "M%"}}}),
                vec![3],
            ),
            (json!({"createdBy": {"source": {"eq": "API"}}}), vec![1]),
            (json!({"createdBy": {"source": {"gt": "API"}}}), vec![2]),
            // Numbers (strings coerced), NUMERIC stored as strings.
            (json!({"score": {"eq": 5}}), vec![2, 4]),
            (json!({"score": {"gt": "5"}}), vec![1, 5, 6]),
            (json!({"score": {"lte": 0}}), vec![7, 8]),
            (json!({"score": {"in": [10, 7.5]}}), vec![1, 5, 6]),
            (json!({"score": {"is": "NULL"}}), vec![3, 10]),
            (json!({"salary": {"gt": 50}}), vec![1, 5]),
            (json!({"salary": {"in": ["20", 1000]}}), vec![2, 5]),
            // Booleans.
            (json!({"isActive": {"eq": true}}), vec![1, 3]),
            (json!({"isActive": {"eq": "false"}}), vec![2]),
            (json!({"isActive": {"is": "NULL"}}), vec![4, 5, 6, 7, 8, 10]),
            // DATE_TIME: 1 ms windows, normalised input.
            (
                json!({"createdAt": {"eq": "2024-01-01T10:00:00Z"}}),
                vec![1, 10],
            ),
            (
                json!({"createdAt": {"eq": "2024-01-01T11:00:00.000+01:00"}}),
                vec![1, 10],
            ),
            (
                json!({"createdAt": {"neq": "2024-01-01T10:00:00.000Z"}}),
                vec![2, 3, 4, 5, 6, 7, 8],
            ),
            (
                json!({"createdAt": {"gt": "2024-01-01T10:00:00.000Z"}}),
                vec![2, 3, 4, 5, 6, 8],
            ),
            (
                json!({"createdAt": {"lte": "2024-01-01T10:00:00.000Z"}}),
                vec![1, 7, 10],
            ),
            (
                json!({"createdAt": {"lt": "2024-01-02"}}),
                vec![1, 2, 7, 10],
            ),
            (
                json!({"createdAt": {"gte": "2024-01-01T10:00:00.0005Z"}}),
                vec![2, 3, 4, 5, 6, 8],
            ),
            (
                json!({"createdAt": {"in": ["2024-02-01T00:00:00Z", "2024-03-01"]}}),
                vec![5, 6, 8],
            ),
            (json!({"birthday": {"eq": "05/01/1990"}}), vec![1]),
            // SELECT / MULTI_SELECT / ARRAY / RAW_JSON.
            (json!({"stage": {"eq": "NEW"}}), vec![1, 5]),
            (
                json!({"stage": {"in": ["MEETING", "CUSTOMER"]}}),
                vec![2, 3],
            ),
            (json!({"stage": {"gte": "MEETING"}}), vec![2, 3]),
            (json!({"stage": {"is": "NULL"}}), vec![4, 6, 7, 8, 10]),
            (
                json!({"tags": {"containsAny": ["HOT", "COLD"]}}),
                vec![1, 3],
            ),
            (
                json!({"not": {"tags": {"containsAny": ["VIP"]}}}),
                vec![2, 3],
            ),
            (json!({"tags": {"is": "NULL"}}), vec![2, 4, 5, 6, 7, 8, 10]),
            (json!({"tags": {"isEmptyArray": true}}), vec![2]),
            (json!({"tags": {"isEmptyArray": false}}), vec![1, 3]),
            (json!({"aliases": {"containsIlike": "%AN%"}}), vec![1]),
            (json!({"aliases": {"containsIlike": "z%"}}), vec![5]),
            (
                json!({"aliases": {"is": "NULL"}}),
                vec![2, 3, 4, 6, 7, 8, 10],
            ),
            (json!({"extra": {"is": "NOT_NULL"}}), vec![1, 7]),
            (json!({"extra": {"like": "%\"vip\":true%"}}), vec![1]),
            (json!({"extra": {"like": "[1,2]"}}), vec![7]),
            // UUIDs and join columns.
            (json!({"id": {"eq": u(3).to_uppercase()}}), vec![3]),
            (json!({"id": {"in": [u(1), u(9), u(10)]}}), vec![1, 10]),
            (json!({"companyId": {"eq": ACME}}), vec![1, 5, 10]),
            (json!({"companyId": {"is": "NULL"}}), vec![4, 7, 8]),
            // Relation filters see a soft-deleted target as no target (NULL columns).
            (json!({"company": {"name": {"eq": "Acme"}}}), vec![1, 5, 10]),
            (json!({"company": {"name": {"ilike": "%o%"}}}), vec![2, 6]),
            (
                json!({"company": {"name": {"is": "NULL"}}}),
                vec![3, 4, 7, 8],
            ),
            (
                json!({"not": {"company": {"name": {"eq": "Acme"}}}}),
                vec![2, 6],
            ),
            (
                json!({"company": {"address": {"addressCity": {"eq": "Paris"}}}}),
                vec![1, 5, 10],
            ),
            (
                json!({"company": {"or": [{"name": {"eq": "Acme"}}, {"id": {"eq": GLOBEX}}]}}),
                vec![1, 2, 5, 6, 10],
            ),
            // Logic.
            (
                json!({"and": [{"score": {"gte": 5}}, {"jobTitle": {"ilike": "ceo"}}]}),
                vec![1, 6],
            ),
            (
                json!({"or": [{"score": {"lt": 0}}, {"jobTitle": {"eq": "cto"}}]}),
                vec![3, 7],
            ),
            (json!({"not": {"score": {"eq": 5}}}), vec![1, 5, 6, 7, 8]),
            (
                json!({"not": {"or": [{"score": {"eq": 5}}, {"score": {"is": "NULL"}}]}}),
                vec![1, 5, 6, 7, 8],
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(db.find(filter.clone()), expected, "{filter}");
        }
        // A 500-item list binds one parameter.
        let mut ids: Vec<String> = (100..600).map(pid).collect();
        ids.push(pid(2));
        assert_eq!(db.find(json!({"id": {"in": ids}})), vec![2]);
    }

    /// Pages of `size` forward from the start, then backward from the end, must each
    /// visit the full ordering exactly once.
    fn check_paging(db: &Db, order_by: Value, size: usize) {
        let person = db.person();
        let leaves = order::compile(&db.model, person, &order_by, "p").unwrap();
        let live = Sql::new("p.deleted_at IS NULL");
        let all = db.query(&live, &order::sql(&leaves, true), None);
        assert_eq!(all.len(), 9, "{order_by}");
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 9, "{order_by}");
        // The backward scan is the exact reverse.
        let mut reversed = db.query(&live, &order::sql(&leaves, false), None);
        reversed.reverse();
        assert_eq!(reversed, all, "{order_by} backward scan");

        let page = |cursor: Option<&str>, forward: bool| -> Vec<u32> {
            let mut where_ = live.clone();
            if let Some(c) = cursor {
                let k = keyset(&leaves, &decode(c).unwrap(), forward).unwrap();
                where_.push_str(" AND ");
                where_.push(k);
            }
            let mut rows = db.query(&where_, &order::sql(&leaves, forward), Some(size));
            if !forward {
                rows.reverse();
            }
            rows
        };

        let mut forward = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let rows = page(cursor.as_deref(), true);
            if rows.is_empty() {
                break;
            }
            cursor = Some(encode(&db.record(*rows.last().unwrap()), &leaves));
            forward.extend(rows);
            assert!(forward.len() <= 9, "{order_by}: runaway paging {forward:?}");
        }
        assert_eq!(forward, all, "{order_by} forward pages");

        let last = *all.last().unwrap();
        let mut backward = vec![last];
        let mut cursor = encode(&db.record(last), &leaves);
        loop {
            let rows = page(Some(&cursor), false);
            if rows.is_empty() {
                break;
            }
            cursor = encode(&db.record(rows[0]), &leaves);
            let mut merged = rows;
            merged.extend(backward);
            backward = merged;
            assert!(
                backward.len() <= 9,
                "{order_by}: runaway paging {backward:?}"
            );
        }
        assert_eq!(backward, all, "{order_by} backward pages");
    }

    #[test]
    fn cursor_paging_visits_every_row_once() {
        let db = Db::new();
        for order_by in [
            json!(null),
            json!([{"id": "DescNullsLast"}]),
            json!([{"score": "AscNullsFirst"}]),
            json!([{"score": "AscNullsLast"}]),
            json!([{"score": "DescNullsFirst"}]),
            json!([{"score": "DescNullsLast"}]),
            json!([{"name": {"firstName": "AscNullsLast"}}]),
            json!([{"name": {"firstName": "DescNullsFirst"}, "jobTitle": "AscNullsLast"}]),
            json!([{"jobTitle": "AscNullsFirst"}, {"score": "DescNullsLast"}]),
            json!([{"createdAt": "DescNullsLast"}]),
            json!([{"salary": "AscNullsLast"}]),
            json!([{"isActive": "DescNullsFirst"}, {"stage": "AscNullsLast"}]),
            json!([{"tags": "AscNullsLast"}]),
            json!([{"company": {"name": "AscNullsLast"}}, {"score": "AscNullsFirst"}]),
            json!([{"company": {"name": "DescNullsFirst"}}]),
            json!([{"companyId": "AscNullsFirst"}]),
        ] {
            for size in [1, 2, 3, 4] {
                check_paging(&db, order_by.clone(), size);
            }
        }
    }

    #[test]
    fn text_orders_case_insensitively_with_nulls_placed() {
        let db = Db::new();
        let leaves = order::compile(
            &db.model,
            db.person(),
            &json!([{"name": {"firstName": "AscNullsLast"}}]),
            "p",
        )
        .unwrap();
        let rows = db.query(
            &Sql::new("p.deleted_at IS NULL"),
            &order::sql(&leaves, true),
            None,
        );
        // '' < ann = Ann < bob = Bob < Carl < dave < Émile; NULL last; ties by id.
        assert_eq!(rows, vec![8, 1, 6, 2, 3, 7, 10, 5, 4]);
    }
}
