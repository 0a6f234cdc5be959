//! Writes and the common list stay flat in the workspace's size (issue #11): every
//! statement the engine runs for a create, update, upsert, delete, destroy, the
//! case-insensitive name-prefix list and its totalCount is planned by real SQLite
//! (`EXPLAIN QUERY PLAN`) and must reach record tables and the search index through an
//! index, never by reading all of them. Not timed: the plans are what make the time flat
//! (bench/src/bin/scale.rs measures it).

use std::cell::RefCell;

use serde_json::{json, Map, Value};

use super::engine::tests::{setup, Sqlite};
use super::engine::{Db, Engine, FindArgs, Row, Selected, Selection};
use super::error::QueryResult;
use super::metadata::WorkspaceModel;
use super::sql::Sql;
use super::write::WriteCtx;

/// Runs statements on [`Sqlite`] and keeps each one's query plan.
struct Planned {
    db: Sqlite,
    plans: RefCell<Vec<(String, Vec<String>)>>,
}

impl Planned {
    fn plan(&self, sql: &Sql) {
        let mut explain = sql.clone();
        explain.text = format!("EXPLAIN QUERY PLAN {}", sql.text);
        let rows = self.db.query(&explain).unwrap();
        let details = rows
            .iter()
            .filter_map(|r| r.get("detail").and_then(Value::as_str).map(str::to_string))
            .collect();
        self.plans.borrow_mut().push((sql.text.clone(), details));
    }

    /// The plans recorded since the last call.
    fn take(&self) -> Vec<(String, Vec<String>)> {
        std::mem::take(&mut self.plans.borrow_mut())
    }
}

impl Db for Planned {
    fn query(&self, sql: &Sql) -> QueryResult<Vec<Row>> {
        self.plan(sql);
        self.db.query(sql)
    }
    fn exec(&self, sql: &Sql) -> QueryResult<usize> {
        self.plan(sql);
        self.db.exec(sql)
    }
}

/// Plan steps that read a whole record table or the whole search index.
fn full_reads(plans: &[(String, Vec<String>)]) -> Vec<String> {
    let mut bad = vec![];
    for (sql, details) in plans {
        for d in details {
            let scans_records = d.starts_with("SCAN ")
                && !d.starts_with("SCAN json_each")
                && !d.contains("VIRTUAL TABLE")
                && !d.starts_with("SCAN CONSTANT ROW");
            // FTS5 names the constraints it answers after the colon (`=` rowid, `M`
            // MATCH); with none it reads every row (`INDEX 0:`).
            let scans_search = d.contains("_search VIRTUAL TABLE INDEX") && d.ends_with(':');
            if scans_records || scans_search {
                bad.push(format!("{d}\n    in {sql}"));
            }
        }
    }
    bad
}

fn ctx() -> WriteCtx {
    WriteCtx {
        now: "2024-05-01T00:00:00.000Z".into(),
        actor: json!({"source": "API", "workspaceMemberId": null, "name": "k", "context": {}}),
    }
}

fn select(fields: &[(&str, &[&str])]) -> Selection {
    let leaf = |n: &str| Selected {
        name: n.into(),
        alias: None,
        args: Map::new(),
        children: Selection::default(),
    };
    Selection {
        fields: fields
            .iter()
            .map(|(n, kids)| Selected {
                children: Selection {
                    fields: kids.iter().copied().map(leaf).collect(),
                },
                ..leaf(n)
            })
            .collect(),
    }
}

fn seeded() -> (WorkspaceModel, Planned, Vec<String>, Vec<String>) {
    let (model, db) = setup();
    let db = Planned {
        db,
        plans: RefCell::new(vec![]),
    };
    let company = model.object("company").unwrap();
    let person = model.object("person").unwrap();
    let mut e = Engine::new(&model, &db, ctx());
    let companies: Vec<Value> = (0..50)
        .map(|i| json!({"name": format!("Company {i}"), "domainName": {"primaryLinkUrl": format!("https://c{i}.example")}}))
        .collect();
    let company_ids = e.create_many(company, &companies, false).unwrap();
    let names = ["Abe", "abby", "Bob", "Carla", "Zoe", "Ábel"];
    let mut person_ids = vec![];
    for chunk in 0..5 {
        let people: Vec<Value> = (0..200)
            .map(|i| {
                let n = chunk * 200 + i;
                json!({
                    "name": {"firstName": format!("{}{n}", names[n % names.len()]), "lastName": "L"},
                    "emails": {"primaryEmail": format!("p{n}@example.com")},
                    "companyId": company_ids[n % company_ids.len()],
                })
            })
            .collect();
        person_ids.extend(e.create_many(person, &people, false).unwrap());
    }
    db.take();
    (model, db, company_ids, person_ids)
}

#[test]
fn every_write_reaches_records_and_the_search_index_through_an_index() {
    let (model, db, companies, people) = seeded();
    let person = model.object("person").unwrap();
    let mut e = Engine::new(&model, &db, ctx());
    let check = |what: &str, db: &Planned| {
        let plans = db.take();
        assert!(!plans.is_empty(), "{what}: nothing ran");
        let bad = full_reads(&plans);
        assert!(
            bad.is_empty(),
            "{what} reads whole tables:\n{}",
            bad.join("\n")
        );
    };
    e.create_many(
        person,
        &[json!({"name": {"firstName": "New"}, "companyId": companies[3], "position": "first"})],
        false,
    )
    .unwrap();
    check("create", &db);
    e.update_one(
        person,
        &people[10],
        &json!({"jobTitle": "CTO", "name": {"firstName": "Renamed"}}),
    )
    .unwrap();
    check("update", &db);
    e.create_many(
        person,
        &[json!({"emails": {"primaryEmail": "p20@example.com"}, "jobTitle": "Upserted"})],
        true,
    )
    .unwrap();
    check("upsert", &db);
    e.delete_one(person, &people[11]).unwrap();
    check("delete", &db);
    e.restore_one(person, &people[11]).unwrap();
    check("restore", &db);
    e.destroy_one(person, &people[12]).unwrap();
    check("destroy", &db);
    e.fetch(person, &[people[13].clone()], &Selection::all())
        .unwrap();
    check("read back", &db);
}

#[test]
fn the_name_prefix_list_and_its_total_are_served_by_the_lowered_index() {
    let (model, db, _, _) = seeded();
    let person = model.object("person").unwrap();
    let e = Engine::new(&model, &db, ctx());
    let args = FindArgs::from_json(
        json!({
            "first": 60,
            "filter": {"name": {"firstName": {"ilike": "ab%"}}},
            "orderBy": [{"name": {"firstName": "AscNullsFirst"}}, {"id": "AscNullsFirst"}],
        })
        .as_object()
        .unwrap(),
    )
    .unwrap();
    let sel = select(&[("edges", &["node", "cursor"]), ("totalCount", &[])]);
    let conn = e.find_many(person, &args, &sel).unwrap();
    // "Abe…" and "abby…" match whatever their case; "Ábel" does not (SQLite folds ASCII).
    assert_eq!(conn["totalCount"], json!(334));
    let plans = db.take();
    let bad = full_reads(&plans);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The page walks the index in order: no sort of the matches.
    let list = &plans[0];
    assert!(
        list.1
            .iter()
            .any(|d| d.contains("USING INDEX \"lo_") || d.contains("USING INDEX lo_")),
        "{list:#?}"
    );
    assert!(
        !list.1.iter().any(|d| d.contains("TEMP B-TREE")),
        "{list:#?}"
    );
    // The same answer as the plain LIKE, i.e. the range changes no result.
    let scan = db
        .db
        .query(&Sql::new(format!(
            "SELECT count(*) AS n FROM \"{}\" WHERE deleted_at IS NULL AND \
             lower(json_extract(data, '$.\"name\".\"firstName\"')) LIKE 'ab%'",
            person.table()
        )))
        .unwrap();
    assert_eq!(scan[0]["n"], json!(334));
}
