//! Property tests of the mass-mutation guard (`updateMany`, `deleteMany`, `destroyMany`,
//! `restoreMany`): generated filters mix real conditions with every logically empty shape
//! (empty `and`/`or` lists, lists of empty objects, empty composite and relation objects,
//! `not`, any nesting). On real SQLite:
//! - a filter the guard accepts excludes at least one record of a table of diverse
//!   records (in particular the record whose fields are all empty);
//! - a filter the guard refuses matches every record (so refusing it was right), and the
//!   refused mutation changes nothing.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::engine::tests::{setup, Sqlite};
use super::engine::{Db, Engine};
use super::filter;
use super::metadata::WorkspaceModel;
use super::sql::{Param, Sql};
use super::write::WriteCtx;

const COMPANY: &str = "c0000000-0000-4000-8000-000000000001";

/// Conditions that constrain: each is NULL or false on a record with no values, so no
/// and/or/not combination of them is true for it.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z]{1,3}".prop_map(|s| json!({"jobTitle": {"eq": s}})),
        "[a-z]{1,2}".prop_map(|s| json!({"name": {"firstName": {"ilike": format!("{s}%")}}})),
        Just(json!({"jobTitle": {"in": ["a", "bb"]}})),
        Just(json!({"company": {"name": {"eq": "Acme"}}})),
        Just(json!({"emails": {"primaryEmail": {"eq": "a@example.com"}}})),
        Just(json!({"companyId": {"eq": COMPANY}})),
        Just(json!({"deletedAt": {"is": "NOT_NULL"}})),
        (0i64..5).prop_map(|n| json!({"position": {"gt": n}})),
    ]
}

/// Filters that constrain nothing, however nested.
fn empty_shape() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        Just(json!({"and": []})),
        Just(json!({"or": []})),
        Just(json!({"and": null})),
        Just(json!({"name": {}})),
        Just(json!({"company": {}})),
        Just(json!({"emails": {}})),
    ]
}

/// Any filter: leaves, empty shapes, and their combinations.
fn filter_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![leaf(), empty_shape()].prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"or": v})),
            inner.clone().prop_map(|f| json!({"or": f})),
            inner.clone().prop_map(|f| json!({"not": f})),
            inner
                .clone()
                .prop_map(|f| json!({"company": f.get("company").cloned().unwrap_or(json!({}))})),
            // Two conditions side by side in one object (ANDed).
            (inner.clone(), inner).prop_map(|(a, b)| {
                let mut m = a.as_object().cloned().unwrap_or_default();
                for (k, v) in b.as_object().cloned().unwrap_or_default() {
                    m.entry(k).or_insert(v);
                }
                Value::Object(m)
            }),
        ]
    })
}

fn ctx() -> WriteCtx {
    WriteCtx {
        now: "2024-05-01T00:00:00.000Z".into(),
        actor: json!({"source": "MANUAL", "workspaceMemberId": null, "name": "T", "context": {}}),
    }
}

/// People with diverse values, one with none at all, two soft-deleted (one with no values),
/// and their company.
fn seeded() -> (WorkspaceModel, Sqlite) {
    let (model, db) = setup();
    let company = model.object("company").unwrap();
    let person = model.object("person").unwrap();
    db.exec(&Sql::with(
        format!("INSERT INTO \"{}\" VALUES (?, NULL, ?)", company.table()),
        vec![
            Param::Text(COMPANY.into()),
            Param::Text(json!({"name": "Acme"}).to_string()),
        ],
    ))
    .unwrap();
    let people = [
        (None, json!({})),
        (
            None,
            json!({"name": {"firstName": "Ab", "lastName": "C"}, "jobTitle": "a", "city": "Paris",
                   "companyId": COMPANY, "emails": {"primaryEmail": "a@example.com"}, "position": 9}),
        ),
        (
            None,
            json!({"name": {"firstName": "zed", "lastName": ""}, "jobTitle": "", "city": "Rome",
                   "position": 0}),
        ),
        (
            Some("2024-01-01T00:00:00.000Z"),
            json!({"name": {"firstName": "b"}, "jobTitle": "bb", "position": 3}),
        ),
        // Soft-deleted with no values: `not {deletedAt: {is: NOT_NULL}}` is true for every
        // live record, so only this one shows such a filter is not always true.
        (Some("2024-01-02T00:00:00.000Z"), json!({})),
    ];
    for (i, (deleted, data)) in people.iter().enumerate() {
        db.exec(&Sql::with(
            format!("INSERT INTO \"{}\" VALUES (?, ?, ?)", person.table()),
            vec![
                Param::Text(format!("20202020-0000-4000-8000-{i:012}")),
                deleted
                    .map(|d| Param::Text(d.into()))
                    .unwrap_or(Param::Null),
                Param::Text(data.to_string()),
            ],
        ))
        .unwrap();
    }
    (model, db)
}

fn count(db: &Sqlite, table: &str, predicate: Option<Sql>) -> i64 {
    let mut sql = Sql::new(format!("SELECT count(*) AS n FROM \"{table}\" AS r WHERE "));
    sql.push(predicate.unwrap_or_else(|| Sql::new("1")));
    db.query(&sql).unwrap()[0]["n"].as_i64().unwrap()
}

fn snapshot(db: &Sqlite, table: &str) -> Vec<serde_json::Map<String, Value>> {
    db.query(&Sql::new(format!(
        "SELECT id, deleted_at, data FROM \"{table}\" ORDER BY id"
    )))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_guard_refuses_exactly_the_filters_that_match_everything(f in filter_strategy()) {
        let (model, db) = seeded();
        let person = model.object("person").unwrap();
        let table = person.table();
        let compiled = filter::compile(&model, person, &f, "r").unwrap();
        let total = count(&db, &table, None);
        let matched = count(&db, &table, Some(compiled.sql.clone()));
        if compiled.constrains() {
            prop_assert!(matched < total, "accepted {f} but it matches all {total} records");
        } else {
            prop_assert_eq!(matched, total, "refused {} which matches {}", f, matched);
            let before = snapshot(&db, &table);
            let mut e = Engine::new(&model, &db, ctx());
            let errors = [
                e.update_many(person, &f, &json!({"jobTitle": "wiped"})).err(),
                e.delete_many(person, &f).err(),
                e.restore_many(person, &f).err(),
                e.destroy_many(person, &f).err(),
            ];
            for err in errors {
                let err = err.expect("a refused filter must be an error");
                prop_assert_eq!(err.sub_code.as_deref(), Some("INVALID_ARGS_FILTER"));
                prop_assert_eq!(
                    &err.message,
                    "Filter is required and cannot be empty for this operation"
                );
            }
            prop_assert!(e.changes.is_empty());
            prop_assert_eq!(snapshot(&db, &table), before);
        }
    }
}

/// The shapes the issue names, spelled out (the generator covers their nestings).
#[test]
fn logically_empty_filters_are_refused() {
    let (model, db) = seeded();
    let person = model.object("person").unwrap();
    for f in [
        json!({}),
        json!({"and": []}),
        json!({"or": []}),
        json!({"and": [{}, {}]}),
        json!({"or": [{}, {"and": [{}]}]}),
        json!({"name": {}}),
        json!({"company": {}}),
        json!({"and": [{"name": {}}, {"or": [{"company": {}}]}]}),
        json!({"not": {"not": {}}}),
        json!({"or": [{"jobTitle": {"eq": "a"}}, {}]}),
    ] {
        let mut e = Engine::new(&model, &db, ctx());
        let err = e.delete_many(person, &f).unwrap_err();
        assert_eq!(err.sub_code.as_deref(), Some("INVALID_ARGS_FILTER"), "{f}");
    }
    // A filter that matches nothing constrains, and changes nothing.
    let mut e = Engine::new(&model, &db, ctx());
    assert_eq!(e.delete_many(person, &json!({"not": {}})).unwrap().len(), 0);
    assert_eq!(
        e.delete_many(person, &json!({"and": [{}, {"jobTitle": {"eq": "a"}}]}))
            .unwrap()
            .len(),
        1
    );
}
