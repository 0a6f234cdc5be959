//! Mass mutations never match everything by accident (issue #11): `updateMany`,
//! `deleteMany`, `destroyMany` and `restoreMany`, over GraphQL and REST, refuse every filter
//! that constrains nothing (empty and/or lists, lists of empty objects, empty composite and
//! relation objects, any nesting), with Twenty's error, and a refused request changes
//! nothing. The generated cases are in `src/schema/mass_mutation_guard.rs` (proptest on
//! real SQLite); this checks the same guard end to end on workerd.

mod common;

use common::{email, TestServer};
use serde_json::{json, Value};

/// Filters that constrain nothing, in the shapes the issue names.
fn logically_empty() -> Vec<Value> {
    vec![
        json!({}),
        json!({"and": []}),
        json!({"or": []}),
        json!({"and": [{}, {}]}),
        json!({"or": [{}]}),
        json!({"and": [{"or": [{}, {"and": []}]}]}),
        json!({"name": {}}),
        json!({"emails": {}}),
        json!({"company": {}}),
        json!({"and": [{"name": {}}, {"company": {}}]}),
        json!({"not": {"not": {}}}),
        // One real condition ORed with nothing still matches everything.
        json!({"or": [{"jobTitle": {"eq": "nobody"}}, {}]}),
    ]
}

fn people(server: &TestServer, token: &str) -> Value {
    server.graphql_ok(
        token,
        "{ people(filter: {or: [{deletedAt: {is: NULL}}, {deletedAt: {is: NOT_NULL}}]}, orderBy: [{id: AscNullsFirst}]) { edges { node { id jobTitle deletedAt } } } }",
        json!({}),
    )["people"]["edges"]
        .clone()
}

#[test]
fn logically_empty_filters_change_nothing_over_graphql_and_rest() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("mass-guard"));
    let token = s.access.as_str();
    let data = server.graphql_ok(
        token,
        "mutation($d: [PersonCreateInput!]!) { createPeople(data: $d) { id } }",
        json!({"d": [
            {"name": {"firstName": "Ada"}, "jobTitle": "keep"},
            {"name": {"firstName": "Bob"}, "jobTitle": "keep"},
            {"name": {"firstName": "Cy"}, "jobTitle": "keep"},
        ]}),
    );
    assert_eq!(data["createPeople"].as_array().unwrap().len(), 3);
    let before = people(&server, token);
    assert_eq!(before.as_array().unwrap().len(), 3);

    let mutations = [
        (
            "updatePeople",
            "mutation($f: PersonFilterInput!) { updatePeople(filter: $f, data: {jobTitle: \"wiped\"}) { id } }",
        ),
        (
            "deletePeople",
            "mutation($f: PersonFilterInput!) { deletePeople(filter: $f) { id } }",
        ),
        (
            "destroyPeople",
            "mutation($f: PersonFilterInput!) { destroyPeople(filter: $f) { id } }",
        ),
        (
            "restorePeople",
            "mutation($f: PersonFilterInput!) { restorePeople(filter: $f) { id } }",
        ),
    ];
    for filter in logically_empty() {
        for (name, query) in mutations {
            let body = server.gql("/graphql", Some(token), query, json!({"f": filter}));
            let error = &body["errors"][0];
            assert_eq!(
                error["message"], "Filter is required and cannot be empty for this operation",
                "{name} {filter}: {body}"
            );
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
            assert!(
                body["data"].is_null() || body["data"][name].is_null(),
                "{body}"
            );
        }
    }
    // REST: no filter, and the grammar's empty conjunctions.
    for query in ["", "?filter=and()", "?filter=or()", "?filter=and(or())"] {
        for (method, body) in [
            ("PATCH", Some(json!({"jobTitle": "wiped"}))),
            ("DELETE", None),
        ] {
            let path = format!("/rest/people{query}");
            let mut call = server.request(method, &path).bearer(token);
            if let Some(b) = &body {
                call = call.json(b);
            }
            let resp = call.send();
            assert_eq!(resp.status, 400, "{method} {path}: {}", resp.text);
        }
        let resp = server
            .request(
                "DELETE",
                &format!(
                    "/rest/people{query}{}soft_delete=true",
                    if query.is_empty() { "?" } else { "&" }
                ),
            )
            .bearer(token)
            .send();
        assert_eq!(resp.status, 400, "soft DELETE {query}: {}", resp.text);
    }
    assert_eq!(
        people(&server, token),
        before,
        "a refused mutation changed records"
    );

    // A filter that constrains is still served, and touches only what it matches.
    let data = server.graphql_ok(
        token,
        "mutation { updatePeople(filter: {and: [{}, {name: {firstName: {eq: \"Ada\"}}}]}, data: {jobTitle: \"changed\"}) { id } }",
        json!({}),
    );
    assert_eq!(data["updatePeople"].as_array().unwrap().len(), 1);
}
