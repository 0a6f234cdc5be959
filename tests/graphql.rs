//! The workspace /graphql API, black-box, with request documents built like Twenty's own
//! integration tests (`test/integration/graphql/utils/*-operation-factory.util.ts`).

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

// --- Twenty's operation factories -----------------------------------------------------

fn find_many(singular: &str, plural: &str, fields: &str) -> String {
    format!(
        "query {P}($filter: {S}FilterInput, $orderBy: [{S}OrderByInput], $after: String, $before: String, $first: Int, $last: Int) {{
          {plural}(filter: $filter, orderBy: $orderBy, after: $after, before: $before, first: $first, last: $last) {{
            edges {{ node {{ {fields} }} cursor }}
            pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
          }}
        }}",
        P = cap(plural),
        S = cap(singular)
    )
}

fn find_one(singular: &str, fields: &str) -> String {
    format!(
        "query FindOne{S}($filter: {S}FilterInput!) {{ {singular}(filter: $filter) {{ {fields} }} }}",
        S = cap(singular)
    )
}

fn create_one(singular: &str, fields: &str) -> String {
    format!(
        "mutation CreateOne{S}($input: {S}CreateInput!) {{ create{S}(data: $input) {{ {fields} }} }}",
        S = cap(singular)
    )
}

fn create_many(singular: &str, plural: &str, fields: &str) -> String {
    format!(
        "mutation Create{S}($data: [{S}CreateInput!]!, $upsert: Boolean) {{ create{P}(data: $data, upsert: $upsert) {{ {fields} }} }}",
        S = cap(singular),
        P = cap(plural)
    )
}

fn update_one(singular: &str, fields: &str) -> String {
    format!(
        "mutation Update{S}(${singular}Id: UUID!, $data: {S}UpdateInput!) {{ update{S}(id: ${singular}Id, data: $data) {{ {fields} }} }}",
        S = cap(singular)
    )
}

fn update_many(singular: &str, plural: &str, fields: &str) -> String {
    format!(
        "mutation Update{P}($data: {S}UpdateInput! $filter: {S}FilterInput!) {{ update{P}(data: $data, filter: $filter) {{ {fields} }} }}",
        S = cap(singular),
        P = cap(plural)
    )
}

fn by_id(verb: &str, singular: &str, fields: &str) -> String {
    format!(
        "mutation {V}{S}(${singular}Id: UUID!) {{ {verb}{S}(id: ${singular}Id) {{ {fields} }} }}",
        V = cap(verb),
        S = cap(singular)
    )
}

fn by_filter(verb: &str, singular: &str, plural: &str, fields: &str) -> String {
    format!(
        "mutation {V}{P}($filter: {S}FilterInput!) {{ {verb}{P}(filter: $filter) {{ {fields} }} }}",
        V = cap(verb),
        S = cap(singular),
        P = cap(plural)
    )
}

const PERSON_GQL_FIELDS: &str =
    "id jobTitle avatarUrl searchVector name { firstName lastName } createdAt deletedAt";
const TEST_PERSON_1_ID: &str = "777a8457-eb2d-40ac-a707-551b615b6980";
const TEST_PERSON_2_ID: &str = "777a8457-eb2d-40ac-a707-551b615b6981";
const TEST_PERSON_3_ID: &str = "777a8457-eb2d-40ac-a707-551b615b6982";

struct Api<'a> {
    server: &'a TestServer,
    s: Session,
}

impl Api<'_> {
    fn gql(&self, query: &str, variables: Value) -> Value {
        self.server
            .gql("/graphql", Some(&self.s.access), query, variables)
    }
    fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }
}

fn api(server: &TestServer) -> Api<'_> {
    Api {
        server,
        s: server.new_workspace(&email("gql")),
    }
}

/// Twenty's `all-people-resolvers.integration-spec.ts`, step by step.
#[test]
fn all_people_resolvers() {
    let server = TestServer::start();
    let api = api(&server);
    let f = PERSON_GQL_FIELDS;
    // 1. should create and return people
    let data = api.ok(
        &create_many("person", "people", f),
        json!({ "data": [{ "id": TEST_PERSON_1_ID, "jobTitle": "Job 1" }, { "id": TEST_PERSON_2_ID, "jobTitle": "Job 2" }], "upsert": false }),
    );
    let people = data["createPeople"].as_array().unwrap();
    assert_eq!(people.len(), 2);
    for p in people {
        for prop in [
            "id",
            "jobTitle",
            "avatarUrl",
            "searchVector",
            "name",
            "createdAt",
            "deletedAt",
        ] {
            assert!(p.get(prop).is_some(), "{prop} in {p}");
        }
        assert!(["Job 1", "Job 2"].contains(&p["jobTitle"].as_str().unwrap()));
    }
    // 1b. should create and return one person
    let data = api.ok(
        &create_one("person", f),
        json!({ "input": { "id": TEST_PERSON_3_ID, "jobTitle": "Job 3" } }),
    );
    assert_eq!(data["createPerson"]["jobTitle"], "Job 3");
    // 2. should find many people
    let data = api.ok(
        &find_many("person", "people", f),
        json!({ "filter": {}, "orderBy": {} }),
    );
    assert_eq!(data["people"]["edges"].as_array().unwrap().len(), 3);
    // 2b. should find one person
    let data = api.ok(
        &find_one("person", f),
        json!({ "filter": { "id": { "eq": TEST_PERSON_3_ID } } }),
    );
    assert_eq!(data["person"]["jobTitle"], "Job 3");
    // 3. should update many people
    let data = api.ok(
        &update_many("person", "people", f),
        json!({ "data": { "jobTitle": "Updated City" }, "filter": { "id": { "in": [TEST_PERSON_1_ID, TEST_PERSON_2_ID] } } }),
    );
    let updated = data["updatePeople"].as_array().unwrap();
    assert_eq!(updated.len(), 2);
    assert!(updated.iter().all(|p| p["jobTitle"] == "Updated City"));
    // 3b. should update one person
    let data = api.ok(
        &update_one("person", f),
        json!({ "data": { "jobTitle": "New City" }, "personId": TEST_PERSON_3_ID }),
    );
    assert_eq!(data["updatePerson"]["jobTitle"], "New City");
    // 4. should find many people with updated city
    let data = api.ok(
        &find_many("person", "people", f),
        json!({ "filter": { "jobTitle": { "eq": "Updated City" } } }),
    );
    assert_eq!(data["people"]["edges"].as_array().unwrap().len(), 2);
    // 4b. should find one person with updated city
    let data = api.ok(
        &find_one("person", f),
        json!({ "filter": { "jobTitle": { "eq": "New City" } } }),
    );
    assert_eq!(data["person"]["jobTitle"], "New City");
    // 5. should delete many people
    let data = api.ok(
        &by_filter("delete", "person", "people", f),
        json!({ "filter": { "id": { "in": [TEST_PERSON_1_ID, TEST_PERSON_2_ID] } } }),
    );
    let deleted = data["deletePeople"].as_array().unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(deleted.iter().all(|p| p["deletedAt"].is_string()));
    // 5b. should delete one person
    let data = api.ok(
        &by_id("delete", "person", f),
        json!({ "personId": TEST_PERSON_3_ID }),
    );
    assert!(data["deletePerson"]["deletedAt"].is_string());
    // 6. should not find many people anymore
    let data = api.ok(
        &find_many("person", "people", f),
        json!({ "filter": { "id": { "in": [TEST_PERSON_1_ID, TEST_PERSON_2_ID] } } }),
    );
    assert_eq!(data["people"]["edges"].as_array().unwrap().len(), 0);
    // 6b. should not find one person anymore
    let body = api.gql(
        &find_one("person", f),
        json!({ "filter": { "id": { "eq": TEST_PERSON_3_ID } } }),
    );
    assert!(body["data"]["person"].is_null(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    // 7. should find many deleted people with deletedAt filter
    let data = api.ok(
        &find_many("person", "people", f),
        json!({ "filter": { "id": { "in": [TEST_PERSON_1_ID, TEST_PERSON_2_ID] }, "not": { "deletedAt": { "is": "NULL" } } } }),
    );
    assert_eq!(data["people"]["edges"].as_array().unwrap().len(), 2);
    // 7b. should find one deleted person with deletedAt filter
    let data = api.ok(&find_one("person", f), json!({ "filter": { "id": { "eq": TEST_PERSON_3_ID }, "not": { "deletedAt": { "is": "NULL" } } } }));
    assert_eq!(data["person"]["id"], TEST_PERSON_3_ID);
    // restore is the way back
    let data = api.ok(
        &by_id("restore", "person", f),
        json!({ "personId": TEST_PERSON_3_ID }),
    );
    assert!(data["restorePerson"]["deletedAt"].is_null());
    api.ok(
        &by_id("delete", "person", f),
        json!({ "personId": TEST_PERSON_3_ID }),
    );
    // 8. should destroy many people
    let data = api.ok(
        &by_filter("destroy", "person", "people", f),
        json!({ "filter": { "id": { "in": [TEST_PERSON_1_ID, TEST_PERSON_2_ID] } } }),
    );
    assert_eq!(data["destroyPeople"].as_array().unwrap().len(), 2);
    // 8b. should destroy one person
    let data = api.ok(
        &by_id("destroy", "person", f),
        json!({ "personId": TEST_PERSON_3_ID }),
    );
    assert!(data["destroyPerson"].is_object());
    // 9. should not find many people anymore
    let data = api.ok(
        &find_many("person", "people", f),
        json!({ "filter": { "id": { "in": [TEST_PERSON_1_ID, TEST_PERSON_2_ID] }, "not": { "deletedAt": { "is": "NULL" } } } }),
    );
    assert_eq!(data["people"]["edges"].as_array().unwrap().len(), 0);
    // 9b. should not find one person anymore
    let body = api.gql(&find_one("person", f), json!({ "filter": { "id": { "eq": TEST_PERSON_3_ID }, "not": { "deletedAt": { "is": "NULL" } } } }));
    assert!(body["data"]["person"].is_null(), "{body}");
}

/// The same create/find/update/delete/destroy cycle on the other standard objects
/// (all-notes/tasks/opportunities/companies-resolvers).
#[test]
fn all_standard_object_resolvers() {
    let server = TestServer::start();
    let api = api(&server);
    let cases = [
        (
            "company",
            "companies",
            "id name domainName { primaryLinkUrl secondaryLinks } address { addressCity } createdAt deletedAt",
            json!({ "name": "Acme", "domainName": { "primaryLinkUrl": "https://acme.com", "secondaryLinks": [{ "url": "https://acme.fr", "label": "FR" }] }, "address": { "addressCity": "Paris" } }),
            json!({ "name": "Acme 2", "domainName": { "secondaryLinks": [{ "url": "https://acme.de", "label": "DE" }] } }),
        ),
        (
            "opportunity",
            "opportunities",
            "id name stage amount { amountMicros currencyCode } closeDate deletedAt",
            json!({ "name": "Deal", "stage": "MEETING", "amount": { "amountMicros": 1500000, "currencyCode": "EUR" }, "closeDate": "2025-01-01T00:00:00Z" }),
            json!({ "stage": "CUSTOMER" }),
        ),
        (
            "note",
            "notes",
            "id title bodyV2 { markdown blocknote } deletedAt",
            json!({ "title": "Hello", "bodyV2": { "markdown": "# Hi" } }),
            json!({ "title": "Hello again" }),
        ),
        (
            "task",
            "tasks",
            "id title status dueAt deletedAt",
            json!({ "title": "Call", "status": "TODO", "dueAt": "2025-02-01T10:00:00.000Z" }),
            json!({ "status": "DONE" }),
        ),
    ];
    for (singular, plural, fields, data, update) in cases {
        let created = api.ok(&create_one(singular, fields), json!({ "input": data }));
        let id = created[format!("create{}", cap(singular))]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let found = api.ok(
            &find_many(singular, plural, fields),
            json!({ "filter": { "id": { "eq": id } } }),
        );
        assert_eq!(
            found[plural]["edges"].as_array().unwrap().len(),
            1,
            "{singular}"
        );
        let var = format!("{singular}Id");
        let updated = api.ok(
            &update_one(singular, fields),
            json!({ "data": update, var.clone(): id }),
        );
        let node = &updated[format!("update{}", cap(singular))];
        for (k, v) in update.as_object().unwrap() {
            match v {
                // Composite updates merge: the given sub-fields read back.
                Value::Object(sub) => {
                    for (sk, sv) in sub {
                        assert_eq!(&node[k][sk], sv, "{singular}.{k}.{sk}");
                    }
                }
                _ => assert_eq!(&node[k], v, "{singular}.{k}"),
            }
        }
        api.ok(
            &by_id("delete", singular, fields),
            json!({ var.clone(): id }),
        );
        api.ok(&by_id("destroy", singular, fields), json!({ var: id }));
    }
    // Values come back in Twenty's types.
    let opp = api.ok(
        &create_one("opportunity", "amount { amountMicros currencyCode } stage closeDate"),
        json!({ "input": { "name": "x", "amount": { "amountMicros": 2500000, "currencyCode": "USD" }, "closeDate": "2025-03-04" } }),
    );
    assert_eq!(
        opp["createOpportunity"]["amount"]["amountMicros"],
        2500000.0
    );
    assert_eq!(opp["createOpportunity"]["stage"], "NEW", "default stage");
    assert_eq!(
        opp["createOpportunity"]["closeDate"],
        "2025-03-04T00:00:00.000Z"
    );
}

#[test]
fn relations_nest_both_ways_in_one_request() {
    let server = TestServer::start();
    let api = api(&server);
    let c = api.ok(
        &create_one("company", "id"),
        json!({ "input": { "name": "Acme" } }),
    )["createCompany"]["id"]
        .clone();
    api.ok(
        &create_many("person", "people", "id"),
        json!({ "data": [
            { "name": { "firstName": "Ada" }, "companyId": c },
            { "name": { "firstName": "Bob" }, "company": { "connect": { "where": { "id": c } } } },
            { "name": { "firstName": "Cy" } }
        ] }),
    );
    let data = api.ok(
        "{ companies { edges { node { name people(orderBy: [{name: {firstName: AscNullsFirst}}]) { totalCount edges { node { name { firstName } company { name } } } } } } } }",
        json!({}),
    );
    let acme = &data["companies"]["edges"][0]["node"];
    assert_eq!(acme["people"]["totalCount"], 2);
    let names: Vec<&str> = acme["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"]["firstName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Bob"]);
    assert_eq!(
        acme["people"]["edges"][0]["node"]["company"]["name"],
        "Acme"
    );
    // Aliases: the same relation twice with different arguments.
    let data = api.ok(
        "{ companies { edges { node { a: people(filter: {name: {firstName: {eq: \"Ada\"}}}) { totalCount } all: people { totalCount } } } } }",
        json!({}),
    );
    let node = &data["companies"]["edges"][0]["node"];
    assert_eq!(node["a"]["totalCount"], 1);
    assert_eq!(node["all"]["totalCount"], 2);
    // Filter through the many-to-one relation.
    let data = api.ok(
        "{ people(filter: {company: {name: {eq: \"Acme\"}}}) { totalCount } }",
        json!({}),
    );
    assert_eq!(data["people"]["totalCount"], 2);
}

#[test]
fn pagination_with_composite_sort_and_cursors() {
    let server = TestServer::start();
    let api = api(&server);
    let names = ["Zoe", "adam", "Bea", "carl", "Dora", "eve", "Finn"];
    let data: Vec<Value> = names
        .iter()
        .map(|n| json!({ "name": { "firstName": n } }))
        .collect();
    api.ok(
        &create_many("person", "people", "id"),
        json!({ "data": data }),
    );
    let q = find_many("person", "people", "name { firstName }");
    let order = json!([{ "name": { "firstName": "AscNullsFirst" } }]);
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let page = api.ok(&q, json!({ "orderBy": order, "first": 3, "after": after }));
        for e in page["people"]["edges"].as_array().unwrap() {
            seen.push(e["node"]["name"]["firstName"].as_str().unwrap().to_string());
        }
        let info = &page["people"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], after.is_some());
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_string);
    }
    // Case-insensitive order, as Twenty (lower()).
    assert_eq!(seen, ["adam", "Bea", "carl", "Dora", "eve", "Finn", "Zoe"]);
    // last + before walks back.
    let page = api.ok(&q, json!({ "orderBy": order, "first": 4 }));
    let cursor = page["people"]["edges"][3]["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let back = api.ok(&q, json!({ "orderBy": order, "last": 2, "before": cursor }));
    let got: Vec<&str> = back["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"]["firstName"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["Bea", "carl"]);
    assert_eq!(back["people"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(back["people"]["pageInfo"]["hasPreviousPage"], true);
    // Stable under inserts: a record inserted before the cursor does not shift the next page.
    api.ok(
        &create_one("person", "id"),
        json!({ "input": { "name": { "firstName": "Aaron" } } }),
    );
    let next = api.ok(&q, json!({ "orderBy": order, "first": 2, "after": cursor }));
    let got: Vec<&str> = next["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"]["firstName"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["eve", "Finn"]);
    // Default page 60; first is capped at 200.
    let many: Vec<Value> = (0..130)
        .map(|i| json!({ "jobTitle": format!("j{i}") }))
        .collect();
    api.ok(
        &create_many("person", "people", "id"),
        json!({ "data": many }),
    );
    let page = api.ok("{ people { edges { node { id } } totalCount } }", json!({}));
    assert_eq!(page["people"]["edges"].as_array().unwrap().len(), 60);
    assert_eq!(page["people"]["totalCount"], 138);
    // A broken cursor is a clear error.
    let body = api.gql(&q, json!({ "after": "not a cursor" }));
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Invalid cursor"));
}

/// Excerpts of Twenty's filter-validation suites (failing and successful cases).
#[test]
fn filter_validation() {
    let server = TestServer::start();
    let api = api(&server);
    api.ok(
        &create_many("opportunity", "opportunities", "id"),
        json!({ "data": [
            { "name": "alpha", "stage": "NEW", "amount": { "amountMicros": 1000000, "currencyCode": "USD" }, "closeDate": "2024-01-01T00:00:00Z" },
            { "name": "Beta", "stage": "MEETING", "closeDate": "2024-06-01T12:00:00Z" },
            { "name": "", "stage": "CUSTOMER" }
        ] }),
    );
    let q = find_many("opportunity", "opportunities", "id name stage");
    let failing: &[(Value, &str)] = &[
        (json!({ "id": { "eq": "invalid-uuid" } }), "Invalid UUID"),
        (
            json!({ "name": { "regex": "test" } }),
            "Operator \"regex\" is not valid",
        ),
        (
            json!({ "name": { "iregex": "test" } }),
            "Operator \"iregex\" is not valid",
        ),
        (
            json!({ "stage": { "eq": "not-a-select" } }),
            "does not exist in \"OpportunityStageEnum\" enum",
        ),
        (json!({ "nope": { "eq": "x" } }), "is not defined by type"),
        (
            json!({ "name": { "eq": "a", "neq": "b" } }),
            "exactly one operator",
        ),
        (json!({ "closeDate": { "eq": "not-a-date-time" } }), ""),
        (json!({ "name": { "in": [] } }), "non-empty array"),
    ];
    for (filter, message) in failing {
        let body = api.gql(&q, json!({ "filter": filter }));
        assert!(body["errors"].is_array(), "{filter} should fail: {body}");
        let got = body["errors"][0]["message"].as_str().unwrap();
        assert!(got.contains(message), "{filter}: {got:?} !~ {message:?}");
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        assert!(
            ["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", ""].contains(&code),
            "{filter}: {code}"
        );
    }
    let count = |filter: Value| -> usize {
        api.ok(&q, json!({ "filter": filter }))["opportunities"]["edges"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(json!({ "name": { "ilike": "%ALPHA%" } })), 1);
    assert_eq!(
        count(json!({ "name": { "like": "%ALPHA%" } })),
        0,
        "like is case-sensitive"
    );
    assert_eq!(count(json!({ "name": { "startsWith": "B" } })), 1);
    assert_eq!(
        count(json!({ "name": { "is": "NULL" } })),
        1,
        "'' counts as NULL"
    );
    assert_eq!(count(json!({ "stage": { "in": ["NEW", "MEETING"] } })), 2);
    assert_eq!(
        count(json!({ "amount": { "amountMicros": { "gte": 1000000 } } })),
        1
    );
    assert_eq!(
        count(json!({ "closeDate": { "gt": "2024-03-01T00:00:00Z" } })),
        1
    );
    assert_eq!(count(json!({ "closeDate": { "is": "NOT_NULL" } })), 2);
    assert_eq!(
        count(json!({ "or": [{ "stage": { "eq": "NEW" } }, { "stage": { "eq": "CUSTOMER" } }] })),
        2
    );
    assert_eq!(count(json!({ "not": { "stage": { "eq": "NEW" } } })), 2);
    // 300 ids in one `in`: one bound parameter, under SQLite's limit of 100.
    let ids: Vec<String> = (0..300).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    assert_eq!(count(json!({ "id": { "in": ids } })), 0);
    // 150 OR branches: a balanced tree, under SQLite's expression depth of 100.
    let ors: Vec<Value> = (0..150)
        .map(|i| json!({ "name": { "eq": format!("n{i}") } }))
        .collect();
    assert_eq!(count(json!({ "or": ors })), 0);
}

#[test]
fn failed_mutations_change_nothing() {
    let server = TestServer::start();
    let api = api(&server);
    let body = api.gql(
        &create_many("person", "people", "id"),
        json!({ "data": [ { "jobTitle": "ok 1" }, { "jobTitle": "ok 2" }, { "nope": true } ] }),
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is not defined by type"),
        "{body}"
    );
    // Passes validation, fails in storage at the third record (same unique email as the
    // first): the whole batch is rolled back.
    let body = api.gql(
        &create_many("person", "people", "id"),
        json!({ "data": [
            { "emails": { "primaryEmail": "same@x.com" } },
            { "jobTitle": "ok 2" },
            { "emails": { "primaryEmail": "same@x.com" } }
        ] }),
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    let data = api.ok("{ people { totalCount } }", json!({}));
    assert_eq!(
        data["people"]["totalCount"], 0,
        "half of a failed batch must not survive"
    );
    // Unique fields: the second duplicate fails, the first stays.
    api.ok(
        &create_one("person", "id"),
        json!({ "input": { "emails": { "primaryEmail": "dup@x.com" } } }),
    );
    let body = api.gql(
        &create_one("person", "id"),
        json!({ "input": { "emails": { "primaryEmail": "dup@x.com" } } }),
    );
    assert_eq!(
        body["errors"][0]["message"], "A duplicate entry was detected",
        "{body}"
    );
    // Upsert updates the existing record instead.
    let data = api.ok(
        &create_many("person", "people", "id jobTitle"),
        json!({ "data": [ { "emails": { "primaryEmail": "dup@x.com" }, "jobTitle": "CEO" } ], "upsert": true }),
    );
    assert_eq!(data["createPeople"][0]["jobTitle"], "CEO");
    assert_eq!(
        api.ok("{ people { totalCount } }", json!({}))["people"]["totalCount"],
        1
    );
    // A bad id is a clear error.
    let body = api.gql(
        &update_one("person", "id"),
        json!({ "personId": "00000000-0000-4000-8000-000000000000", "data": { "jobTitle": "x" } }),
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
}

#[test]
fn server_fills_created_by_and_position() {
    let server = TestServer::start();
    let api = api(&server);
    let a = api.ok(
        &create_one(
            "company",
            "id position createdBy { source workspaceMemberId name } updatedBy { source }",
        ),
        json!({ "input": { "name": "A" } }),
    );
    let created_by = &a["createCompany"]["createdBy"];
    assert_eq!(created_by["source"], "MANUAL");
    assert!(created_by["workspaceMemberId"].is_string());
    let b = api.ok(
        &create_one("company", "position"),
        json!({ "input": { "name": "B", "position": "last" } }),
    );
    let c = api.ok(
        &create_one("company", "position"),
        json!({ "input": { "name": "C", "position": "first" } }),
    );
    let pa = a["createCompany"]["position"].as_f64().unwrap();
    assert!(b["createCompany"]["position"].as_f64().unwrap() > pa);
    assert!(c["createCompany"]["position"].as_f64().unwrap() < pa);
    // Clients may name the channel (Twenty keeps a given source) but not the author.
    let d = api.ok(
        &create_one("company", "createdBy { source workspaceMemberId }"),
        json!({ "input": { "name": "D", "createdBy": { "source": "IMPORT" } } }),
    );
    assert_eq!(d["createCompany"]["createdBy"]["source"], "IMPORT");
    assert_eq!(
        d["createCompany"]["createdBy"]["workspaceMemberId"],
        created_by["workspaceMemberId"]
    );
}

#[test]
fn global_search_ranks_records_across_objects() {
    let server = TestServer::start();
    let api = api(&server);
    api.ok(&create_many("person", "people", "id"), json!({ "data": [
        { "name": { "firstName": "Ada", "lastName": "Lovelace" }, "emails": { "primaryEmail": "ada@analytical.org" } },
        { "name": { "firstName": "Grace", "lastName": "Hopper" } }
    ] }));
    api.ok(
        &create_one("company", "id"),
        json!({ "input": { "name": "Adamant Engines" } }),
    );
    let q = "query Search($searchInput: String!, $limit: Int!, $includedObjectNameSingulars: [String!]) {
        search(searchInput: $searchInput, limit: $limit, includedObjectNameSingulars: $includedObjectNameSingulars) {
          edges { node { recordId objectNameSingular objectLabelSingular label imageUrl tsRankCD tsRank } cursor }
          pageInfo { hasNextPage endCursor } } }";
    let data = api.ok(q, json!({ "searchInput": "ada", "limit": 10 }));
    let labels: Vec<&str> = data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 2, "{data}");
    assert!(labels.contains(&"Ada Lovelace") && labels.contains(&"Adamant Engines"));
    let data = api.ok(
        q,
        json!({ "searchInput": "ada", "limit": 10, "includedObjectNameSingulars": ["company"] }),
    );
    assert_eq!(
        data["search"]["edges"][0]["node"]["objectNameSingular"],
        "company"
    );
    assert_eq!(data["search"]["edges"].as_array().unwrap().len(), 1);
    // Paging.
    let data = api.ok(q, json!({ "searchInput": "ada", "limit": 1 }));
    assert_eq!(data["search"]["pageInfo"]["hasNextPage"], true);
    // Updates reindex.
    let grace = api.ok(
        &find_many("person", "people", "id"),
        json!({ "filter": { "name": { "firstName": { "eq": "Grace" } } } }),
    );
    let id = grace["people"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.ok(
        &update_one("person", "id"),
        json!({ "personId": id, "data": { "jobTitle": "Admiral" } }),
    );
    let data = api.ok(q, json!({ "searchInput": "admiral", "limit": 5 }));
    assert_eq!(data["search"]["edges"][0]["node"]["recordId"], id);
}

#[test]
fn record_quota_answers_402_and_warns_from_80_percent() {
    let server = TestServer::start_with(common::Options {
        vars: vec![("WORKSPACE_RECORD_QUOTA", "10".into())],
        ..Default::default()
    });
    let api = api(&server);
    // The workspace holds its member record: 1 of 10.
    let seven: Vec<Value> = (0..7).map(|i| json!({ "name": format!("c{i}") })).collect();
    let resp = server.gql_call(
        "/graphql",
        Some(&api.s.access),
        &create_many("company", "companies", "id"),
        json!({ "data": seven }),
    );
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(
        resp.header("x-quota-warning").unwrap().contains("8 of 10"),
        "{:?}",
        resp.headers
    );
    let three: Vec<Value> = (0..3).map(|i| json!({ "name": format!("d{i}") })).collect();
    let resp = server.gql_call(
        "/graphql",
        Some(&api.s.access),
        &create_many("company", "companies", "id"),
        json!({ "data": three }),
    );
    assert_eq!(resp.status, 402, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYMENT_REQUIRED");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Upgrade"));
    // Nothing of the refused batch was written; the rest of the quota is still usable.
    let two: Vec<Value> = (0..2).map(|i| json!({ "name": format!("e{i}") })).collect();
    api.ok(
        &create_many("company", "companies", "id"),
        json!({ "data": two }),
    );
    assert_eq!(
        api.ok("{ companies { totalCount } }", json!({}))["companies"]["totalCount"],
        9
    );
    // Destroying frees room.
    api.ok(
        &by_filter("destroy", "company", "companies", "id"),
        json!({ "filter": { "name": { "eq": "e0" } } }),
    );
    api.ok(
        &create_one("company", "id"),
        json!({ "input": { "name": "f" } }),
    );
}

#[test]
fn api_key_writes_are_attributed_to_the_api() {
    let server = TestServer::start();
    let api = api(&server);
    let token = server.api_key_token(&api.s);
    let body = server.gql(
        "/graphql",
        Some(&token),
        &create_one("company", "createdBy { source }"),
        json!({ "input": { "name": "via api" } }),
    );
    assert_eq!(
        body["data"]["createCompany"]["createdBy"]["source"], "API",
        "{body}"
    );
}

/// The data model as Twenty's web app reads it on start (`objects` on /metadata).
#[test]
fn metadata_lists_objects_and_fields() {
    let server = TestServer::start();
    let api = api(&server);
    let data = server.meta_ok(
        Some(&api.s.access),
        "query ObjectMetadataItems($objectFilter: ObjectFilter, $fieldFilter: FieldFilter) {
          objects(paging: {first: 1000}, filter: $objectFilter) {
            edges { node { id nameSingular namePlural labelSingular labelPlural isActive isSystem
              labelIdentifierFieldMetadataId
              fieldsList { id name type }
              fields(paging: {first: 1000}, filter: $fieldFilter) {
                edges { node { id type name label isNullable isUnique defaultValue options
                  relation { type targetObjectMetadata { id nameSingular } targetFieldMetadata { id name } } } }
              } } }
            pageInfo { hasNextPage } } }",
        json!({ "objectFilter": { "isActive": { "is": true } } }),
    );
    let objects = data["objects"]["edges"].as_array().unwrap();
    let person = objects
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["nameSingular"] == "person")
        .expect("person");
    assert_eq!(person["namePlural"], "people");
    let fields = person["fields"]["edges"].as_array().unwrap();
    let company = fields
        .iter()
        .map(|e| &e["node"])
        .find(|f| f["name"] == "company")
        .expect("person.company");
    assert_eq!(company["type"], "RELATION");
    assert_eq!(company["relation"]["type"], "MANY_TO_ONE");
    assert_eq!(
        company["relation"]["targetObjectMetadata"]["nameSingular"],
        "company"
    );
    assert_eq!(company["relation"]["targetFieldMetadata"]["name"], "people");
    let name_id = fields
        .iter()
        .map(|e| &e["node"])
        .find(|f| f["name"] == "name")
        .unwrap()["id"]
        .clone();
    assert_eq!(person["labelIdentifierFieldMetadataId"], name_id);
    for standard in [
        "company",
        "opportunity",
        "note",
        "task",
        "noteTarget",
        "taskTarget",
        "attachment",
        "workspaceMember",
        "favorite",
        "timelineActivity",
    ] {
        assert!(
            objects
                .iter()
                .any(|e| e["node"]["nameSingular"] == standard),
            "{standard}"
        );
    }
    // Paging, and one object by id.
    let page = server.meta_ok(Some(&api.s.access), "{ objects(paging: {first: 2}) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }", json!({}));
    assert_eq!(page["objects"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(page["objects"]["pageInfo"]["hasNextPage"], true);
    let one = server.meta_ok(
        Some(&api.s.access),
        "query O($id: UUID!) { object(id: $id) { nameSingular } }",
        json!({ "id": person["id"] }),
    );
    assert_eq!(one["object"]["nameSingular"], "person");
}
