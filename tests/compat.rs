//! Twenty compatibility found by running Twenty's own client flows (issue 11): relation
//! `connect` by any unique field, `""` for unset TEXT fields, `<plural>GroupBy` with its
//! aggregates, `<singular>Duplicates` and `merge<Plural>`, on /graphql and /rest.

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};

const CREATE_FIELD: &str =
    "mutation CreateOneFieldMetadataItem($input: CreateOneFieldMetadataInput!) {
  createOneField(input: $input) { id name } }";

struct Api<'a> {
    server: &'a TestServer,
    s: Session,
}

impl<'a> Api<'a> {
    fn new(server: &'a TestServer, tag: &str) -> Api<'a> {
        Api {
            server,
            s: server.new_workspace(&email(tag)),
        }
    }

    fn gql(&self, query: &str, variables: Value) -> Value {
        self.server
            .gql("/graphql", Some(&self.s.access), query, variables)
    }

    fn ok(&self, query: &str, variables: Value) -> Value {
        self.server.graphql_ok(&self.s.access, query, variables)
    }

    /// The first error of a request that must fail, checked to be BAD_USER_INPUT with a
    /// user-friendly message; returns its message.
    fn bad_input(&self, query: &str, variables: Value) -> String {
        let body = self.gql(query, variables);
        let e = &body["errors"][0];
        assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert!(e["extensions"]["userFriendlyMessage"].is_string(), "{body}");
        e["message"].as_str().unwrap_or_default().to_string()
    }

    fn rest(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut call = self
            .server
            .request(method, &format!("/rest{path}"))
            .bearer(&self.s.access);
        if let Some(b) = body {
            call = call.json(&b);
        }
        let r = call.send();
        let v = if r.text.is_empty() {
            Value::Null
        } else {
            r.json()
        };
        (r.status, v)
    }

    fn create_field(&self, object: &str, field: Value) {
        let object_id = self.server.object_id(&self.s, object);
        let mut field = field;
        field["objectMetadataId"] = json!(object_id);
        self.server.meta_ok(
            Some(&self.s.access),
            CREATE_FIELD,
            json!({ "input": { "field": field } }),
        );
    }

    fn create_company(&self, name: &str, domain: &str) -> String {
        self.ok(
            "mutation($d: CompanyCreateInput!) { createCompany(data: $d) { id } }",
            json!({ "d": { "name": name, "domainName": { "primaryLinkUrl": domain } } }),
        )["createCompany"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn create_person(&self, data: Value) -> Value {
        self.ok(
            "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id companyId company { id name } } }",
            json!({ "d": data }),
        )["createPerson"]
            .clone()
    }
}

fn url(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn connect_by_unique_fields_on_create_update_and_update_many() {
    let server = TestServer::start();
    let api = Api::new(&server, "connect");
    // A unique scalar on the target, next to the standard unique composite (domainName).
    api.create_field(
        "company",
        json!({ "type": "TEXT", "name": "code", "label": "Code", "isUnique": true }),
    );
    let acme = api.create_company("Acme", "https://acme.com");
    let beta = api.create_company("Beta", "https://beta.io");
    api.ok(
        "mutation($id: UUID!) { updateCompany(id: $id, data: {code: \"BETA-1\"}) { id } }",
        json!({ "id": beta }),
    );

    // Create: by the unique sub-field of a composite (URL compared as stored: normalized).
    let p1 = api.create_person(json!({
        "name": { "firstName": "Ada" },
        "company": { "connect": { "where": { "domainName": { "primaryLinkUrl": "https://ACME.com/" } } } }
    }));
    assert_eq!(p1["companyId"], acme.as_str(), "{p1}");
    assert_eq!(p1["company"]["name"], "Acme", "{p1}");
    // Create: by a unique scalar, and by id.
    let p2 =
        api.create_person(json!({ "company": { "connect": { "where": { "code": "BETA-1" } } } }));
    assert_eq!(p2["companyId"], beta.as_str(), "{p2}");
    let p3 = api.create_person(json!({ "company": { "connect": { "where": { "id": acme } } } }));
    assert_eq!(p3["companyId"], acme.as_str(), "{p3}");
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let (p1, p2, p3) = (id(&p1), id(&p2), id(&p3));

    // Update: connect elsewhere, `disconnect: false` keeps, `disconnect: true` clears.
    let update = "mutation($id: UUID!, $d: PersonUpdateInput!) { updatePerson(id: $id, data: $d) { id companyId jobTitle } }";
    let v = api.ok(
        update,
        json!({ "id": p1, "d": { "company": { "connect": { "where": { "domainName": { "primaryLinkUrl": "https://beta.io" } } } } } }),
    );
    assert_eq!(v["updatePerson"]["companyId"], beta.as_str());
    let v = api.ok(
        update,
        json!({ "id": p1, "d": { "jobTitle": "CTO", "company": { "disconnect": false } } }),
    );
    assert_eq!(
        v["updatePerson"]["companyId"],
        beta.as_str(),
        "disconnect: false keeps"
    );
    let v = api.ok(
        update,
        json!({ "id": p1, "d": { "company": { "disconnect": true } } }),
    );
    assert_eq!(
        v["updatePerson"]["companyId"],
        Value::Null,
        "disconnect: true clears"
    );

    // updateMany: one lookup, every matched record connected.
    let v = api.ok(
        "mutation($f: PersonFilterInput!, $d: PersonUpdateInput!) { updatePeople(filter: $f, data: $d) { id companyId } }",
        json!({ "f": { "id": { "in": [p1, p2, p3] } }, "d": { "company": { "connect": { "where": { "code": "BETA-1" } } } } }),
    );
    let people = v["updatePeople"].as_array().unwrap();
    assert_eq!(people.len(), 3);
    assert!(
        people.iter().all(|p| p["companyId"] == beta.as_str()),
        "{v}"
    );

    // Twenty's messages: both the relation and its join column, and no record to connect.
    let create = "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id } }";
    let count = || {
        api.ok("{ people { totalCount } }", json!({}))["people"]["totalCount"]
            .as_i64()
            .unwrap()
    };
    let before = count();
    assert_eq!(
        api.bad_input(
            create,
            json!({ "d": { "companyId": acme, "company": { "connect": { "where": { "id": acme } } } } })
        ),
        "company and companyId cannot be both provided."
    );
    assert_eq!(
        api.bad_input(
            create,
            json!({ "d": { "company": { "connect": { "where": { "domainName": { "primaryLinkUrl": "https://nope.dev" } } } } } })
        ),
        "Expected 1 record to connect to company, but found 0 for domainNamePrimaryLinkUrl = https://nope.dev"
    );
    assert_eq!(
        api.bad_input(
            update,
            json!({ "id": p2, "d": { "company": { "connect": { "where": { "code": "NOPE" } } } } })
        ),
        "Expected 1 record to connect to company, but found 0 for code = NOPE"
    );
    assert_eq!(count(), before, "refused connects wrote nothing");
    let v = api.ok(
        "query($id: UUID!) { person(filter: {id: {eq: $id}}) { companyId } }",
        json!({ "id": p2 }),
    );
    assert_eq!(
        v["person"]["companyId"],
        beta.as_str(),
        "failed update left the record"
    );

    // REST goes through the same operation.
    let (status, v) = api.rest(
        "POST",
        "/people",
        Some(json!({ "company": { "connect": { "where": { "domainName": { "primaryLinkUrl": "https://acme.com" } } } } })),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["data"]["createPerson"]["companyId"], acme.as_str(), "{v}");
    // A field that is not unique (GraphQL's WhereUniqueInput cannot even name it).
    let (status, v) = api.rest(
        "POST",
        "/people",
        Some(json!({ "company": { "connect": { "where": { "name": "Acme" } } } })),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["messages"][0],
        "Missing required fields: unique constraint fields are not all populated for 'company'."
    );
    let (status, v) = api.rest(
        "POST",
        "/people",
        Some(json!({ "company": { "connect": { "where": { "code": "NOPE" } } } })),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["messages"][0],
        "Expected 1 record to connect to company, but found 0 for code = NOPE"
    );
}

#[test]
fn unset_text_fields_read_empty_strings() {
    let server = TestServer::start();
    let api = Api::new(&server, "text");
    api.create_field(
        "person",
        json!({ "type": "TEXT", "name": "city", "label": "City" }),
    );
    let p = api.ok(
        "mutation { createPerson(data: {name: {firstName: \"Ada\"}}) { id jobTitle city } }",
        json!({}),
    )["createPerson"]
        .clone();
    assert_eq!(p["jobTitle"], "", "{p}");
    assert_eq!(p["city"], "", "{p}");
    let company = api.create_company("Old", "https://old.example");
    // A TEXT field added after the record was stored reads "" too, on both APIs.
    api.create_field(
        "company",
        json!({ "type": "TEXT", "name": "nickname", "label": "Nickname" }),
    );
    let v = api.ok(
        "query($id: UUID!) { company(filter: {id: {eq: $id}}) { nickname } }",
        json!({ "id": company }),
    );
    assert_eq!(v["company"]["nickname"], "", "{v}");
    let (status, v) = api.rest("GET", &format!("/companies/{company}"), None);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["company"]["nickname"], "", "{v}");
    let newer = api.create_company("New", "https://new.example");
    let v = api.ok(
        "query($id: UUID!) { companies(filter: {id: {eq: $id}}) { edges { node { nickname } } } }",
        json!({ "id": newer }),
    );
    assert_eq!(v["companies"]["edges"][0]["node"]["nickname"], "", "{v}");
    // Set values still read as set.
    let v = api.ok(
        "mutation($id: UUID!) { updateCompany(id: $id, data: {nickname: \"Neo\"}) { nickname } }",
        json!({ "id": newer }),
    );
    assert_eq!(v["updateCompany"]["nickname"], "Neo");
}

/// The document Twenty's web app sends for kanban columns and grouped tables
/// (`groupByOperationFactory` in Twenty's integration tests, with records).
const GROUP_BY: &str = "query OpportunitiesGroupBy($groupBy: [OpportunityGroupByInput!]!, $filter: OpportunityFilterInput, $orderBy: [OpportunityOrderByWithGroupByInput!], $orderByForRecords: [OpportunityOrderByInput!], $viewId: UUID, $limit: Int, $offsetForRecords: Int) {
  opportunitiesGroupBy(groupBy: $groupBy, filter: $filter, orderBy: $orderBy, orderByForRecords: $orderByForRecords, viewId: $viewId, limit: $limit, offsetForRecords: $offsetForRecords) {
    groupByDimensionValues
    totalCount
    sumAmountAmountMicros
    countNotEmptyName
    edges { node { id name } cursor }
    pageInfo { hasNextPage }
  }
}";

#[test]
fn group_by_with_aggregates_on_graphql_and_rest() {
    let server = TestServer::start();
    let api = Api::new(&server, "groupby");
    for (name, stage, amount) in [
        ("GB-a", "NEW", 100),
        ("GB-b", "NEW", 200),
        ("GB-c", "NEW", 300),
        ("GB-d", "MEETING", 50),
    ] {
        api.ok(
            "mutation($d: OpportunityCreateInput!) { createOpportunity(data: $d) { id } }",
            json!({ "d": { "name": name, "stage": stage, "amount": { "amountMicros": amount * 1_000_000, "currencyCode": "USD" } } }),
        );
    }
    let filter = json!({ "name": { "startsWith": "GB-" } });
    let v = api.ok(
        GROUP_BY,
        json!({
            "groupBy": [{ "stage": true }],
            "filter": filter,
            "orderBy": [{ "aggregate": { "totalCount": "DescNullsLast" } }],
            "orderByForRecords": [{ "name": "AscNullsFirst" }],
        }),
    );
    let groups = v["opportunitiesGroupBy"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    assert_eq!(groups[0]["groupByDimensionValues"], json!(["NEW"]));
    assert_eq!(groups[0]["totalCount"], 3);
    assert_eq!(
        groups[0]["sumAmountAmountMicros"].as_f64(),
        Some(6e8),
        "{v}"
    );
    assert_eq!(groups[0]["countNotEmptyName"], 3);
    let names = |g: &Value| -> Vec<String> {
        g["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&groups[0]), ["GB-a", "GB-b", "GB-c"]);
    assert_eq!(groups[1]["groupByDimensionValues"], json!(["MEETING"]));
    assert_eq!(groups[1]["totalCount"], 1);
    assert_eq!(
        groups[1]["sumAmountAmountMicros"].as_f64(),
        Some(5e7),
        "{v}"
    );

    // The kanban's next page of a column, and the group limit.
    let v = api.ok(
        GROUP_BY,
        json!({
            "groupBy": [{ "stage": true }],
            "filter": { "and": [filter, { "stage": { "in": ["NEW"] } }] },
            "orderByForRecords": [{ "name": "DescNullsLast" }],
            "offsetForRecords": 1,
            "limit": 1,
        }),
    );
    let groups = v["opportunitiesGroupBy"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!(names(&groups[0]), ["GB-b", "GB-a"]);
    assert_eq!(groups[0]["pageInfo"]["hasNextPage"], false);

    // Date buckets (the calendar and charts) and two dimensions.
    let v = api.ok(
        "query($g: [OpportunityGroupByInput!]!, $f: OpportunityFilterInput) { opportunitiesGroupBy(groupBy: $g, filter: $f) { groupByDimensionValues totalCount } }",
        json!({ "g": [{ "createdAt": { "granularity": "DAY", "timeZone": "UTC" } }, { "stage": true }], "f": filter }),
    );
    let groups = v["opportunitiesGroupBy"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    let day = groups[0]["groupByDimensionValues"][0].as_str().unwrap();
    assert_eq!(day.len(), 10, "YYYY-MM-DD: {v}");
    assert_eq!(groups[0]["groupByDimensionValues"][1], "MEETING", "{v}");
    let body = api.gql(
        "query($g: [OpportunityGroupByInput!]!) { opportunitiesGroupBy(groupBy: $g) { totalCount } }",
        json!({ "g": [{ "createdAt": { "granularity": "DAY" } }] }),
    );
    assert_eq!(
        body["errors"][0]["message"],
        "Time zone should be specified for a group by date on Day, Week, Month, Quarter or Year",
        "{body}"
    );

    // REST: the same operation, Twenty's query parameters, the groups as the answer.
    let path = format!(
        "/opportunities/groupBy?group_by={}&aggregate={}&order_by={}&filter={}",
        url(r#"[{"stage":true}]"#),
        url(r#"["totalCount","sumAmountAmountMicros"]"#),
        url(r#"[{"aggregate":{"totalCount":"AscNullsFirst"}}]"#),
        url("name[startsWith]:GB-"),
    );
    let (status, v) = api.rest("GET", &path, None);
    assert_eq!(status, 200, "{v}");
    let groups = v.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    for (g, (dim, count, sum)) in groups.iter().zip([("MEETING", 1, 5e7), ("NEW", 3, 6e8)]) {
        assert_eq!(g.as_object().unwrap().len(), 3, "only what was asked: {v}");
        assert_eq!(g["groupByDimensionValues"], json!([dim]), "{v}");
        assert_eq!(g["totalCount"], count, "{v}");
        assert_eq!(g["sumAmountAmountMicros"].as_f64(), Some(sum), "{v}");
    }
    let (status, v) = api.rest("GET", "/opportunities/groupBy?group_by=nope", None);
    assert_eq!(status, 400, "{v}");
}

#[test]
fn duplicates_and_merge_on_graphql_and_rest() {
    let server = TestServer::start();
    let api = Api::new(&server, "merge");
    api.create_field(
        "person",
        json!({ "type": "TEXT", "name": "city", "label": "City" }),
    );
    let create = |d: Value| -> String {
        api.ok(
            "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id } }",
            json!({ "d": d }),
        )["createPerson"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let john = json!({ "firstName": "John", "lastName": "Merge" });
    let p1 = create(
        json!({ "name": john, "emails": { "primaryEmail": "john@x.com" }, "jobTitle": "CEO" }),
    );
    let p2 =
        create(json!({ "name": john, "emails": { "primaryEmail": "jm@y.com" }, "city": "Paris" }));
    let opp = api.ok(
        "mutation($d: OpportunityCreateInput!) { createOpportunity(data: $d) { id } }",
        json!({ "d": { "name": "Deal", "pointOfContactId": p2 } }),
    )["createOpportunity"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // personDuplicates, by id and by input.
    let dup = "query($ids: [UUID!], $data: [PersonCreateInput!]) { personDuplicates(ids: $ids, data: $data) { totalCount edges { node { id } } } }";
    let v = api.ok(dup, json!({ "ids": [p1] }));
    assert_eq!(v["personDuplicates"][0]["totalCount"], 1, "{v}");
    assert_eq!(
        v["personDuplicates"][0]["edges"][0]["node"]["id"],
        p2.as_str()
    );
    let v = api.ok(dup, json!({ "data": [{ "name": john }] }));
    assert_eq!(v["personDuplicates"][0]["totalCount"], 2, "{v}");
    let body = api.gql(dup, json!({}));
    assert_eq!(
        body["errors"][0]["message"], "You have to provide either \"data\" or \"ids\" argument",
        "{body}"
    );

    // mergePeople: a dry run changes nothing.
    let merge = "mutation($ids: [UUID!]!, $i: Int!, $dry: Boolean) { mergePeople(ids: $ids, conflictPriorityIndex: $i, dryRun: $dry) { id deletedAt jobTitle city emails { primaryEmail additionalEmails } } }";
    let v = api.ok(merge, json!({ "ids": [p1, p2], "i": 0, "dry": true }));
    let preview = &v["mergePeople"];
    assert_ne!(preview["id"], p1.as_str(), "{v}");
    assert!(preview["deletedAt"].is_string(), "{v}");
    assert_eq!(preview["jobTitle"], "CEO");
    assert_eq!(preview["city"], "Paris");
    assert_eq!(preview["emails"]["primaryEmail"], "john@x.com");
    assert_eq!(preview["emails"]["additionalEmails"], json!(["jm@y.com"]));
    let live = |id: &str| -> bool {
        api.ok(
            "query($id: UUID!) { people(filter: {id: {eq: $id}}) { totalCount } }",
            json!({ "id": id }),
        )["people"]["totalCount"]
            == 1
    };
    assert!(live(&p2), "a dry run deletes nothing");

    // The real merge: values combined into the priority record, the other one soft-deleted,
    // relations moved.
    let v = api.ok(merge, json!({ "ids": [p1, p2], "i": 0 }));
    let merged = &v["mergePeople"];
    assert_eq!(merged["id"], p1.as_str(), "{v}");
    assert_eq!(merged["deletedAt"], Value::Null);
    assert_eq!(merged["city"], "Paris");
    assert_eq!(merged["emails"]["additionalEmails"], json!(["jm@y.com"]));
    assert!(!live(&p2), "the merged-away record is deleted");
    let v = api.ok(
        "query($id: UUID!) { people(filter: {id: {eq: $id}, deletedAt: {is: NOT_NULL}}) { totalCount } }",
        json!({ "id": p2 }),
    );
    assert_eq!(
        v["people"]["totalCount"], 1,
        "soft-deleted, restorable: {v}"
    );
    let v = api.ok(
        "query($id: UUID!) { opportunity(filter: {id: {eq: $id}}) { pointOfContactId } }",
        json!({ "id": opp }),
    );
    assert_eq!(v["opportunity"]["pointOfContactId"], p1.as_str(), "{v}");

    // Twenty's validation messages.
    assert_eq!(
        api.bad_input(merge, json!({ "ids": [p1], "i": 0 })),
        "At least 2 record IDs are required for merge"
    );
    assert_eq!(
        api.bad_input(merge, json!({ "ids": [p1, p2], "i": 2 })),
        "Invalid conflict priority '2'. Valid options for 2 records: 0-1"
    );
    let body = api.gql(merge, json!({ "ids": [p1, p2], "i": 0 }));
    assert_eq!(
        body["errors"][0]["message"], "One or more records not found",
        "{body}"
    );
    let body = api.gql(
        "mutation($ids: [UUID!]!) { mergeNotes(ids: $ids, conflictPriorityIndex: 0) { id } }",
        json!({ "ids": [p1, p2] }),
    );
    assert_eq!(
        body["errors"][0]["extensions"]["userFriendlyMessage"],
        "This type of record cannot be merged.",
        "{body}"
    );

    // REST: duplicates and merge through the same operations.
    let jane = json!({ "firstName": "Jane", "lastName": "Rest" });
    let p3 = create(json!({ "name": jane, "jobTitle": "Ops" }));
    let p4 = create(json!({ "name": jane, "city": "Lyon" }));
    let (status, v) = api.rest("POST", "/people/duplicates", Some(json!({ "ids": [p3] })));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["data"][0]["personDuplicates"][0]["id"],
        p4.as_str(),
        "{v}"
    );
    let (status, v) = api.rest(
        "PATCH",
        "/people/merge",
        Some(json!({ "ids": [p3, p4], "conflictPriorityIndex": 1 })),
    );
    assert_eq!(status, 200, "{v}");
    let merged = &v["data"]["mergePerson"];
    assert_eq!(merged["id"], p4.as_str(), "{v}");
    assert_eq!(merged["jobTitle"], "Ops");
    assert_eq!(merged["city"], "Lyon");
    assert!(!live(&p3));
    let (status, v) = api.rest(
        "PATCH",
        "/people/merge",
        Some(json!({ "ids": [p4], "conflictPriorityIndex": 0 })),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["messages"][0],
        "At least 2 record IDs are required for merge"
    );
}

#[test]
fn duplicate_values_answer_twenty_errors() {
    let server = TestServer::start();
    let api = Api::new(&server, "dupes");
    let create = "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id } }";
    let first = api.ok(
        create,
        json!({ "d": { "emails": { "primaryEmail": "same@x.com" } } }),
    )["createPerson"]["id"]
        .clone();
    // A unique value taken: Twenty names the field and the record that holds the value.
    let body = api.gql(
        create,
        json!({ "d": { "emails": { "primaryEmail": "same@x.com" } } }),
    );
    let e = &body["errors"][0];
    assert_eq!(e["message"], "A duplicate entry was detected", "{body}");
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        e["extensions"]["userFriendlyMessage"],
        "This Emails value is already in use. Please check your data and try again."
    );
    assert_eq!(e["extensions"]["conflictingRecordId"], first, "{body}");
    assert_eq!(e["extensions"]["conflictingObjectNameSingular"], "person");
    // An id taken.
    let body = api.gql(create, json!({ "d": { "id": first } }));
    let e = &body["errors"][0];
    assert_eq!(e["message"], "A duplicate entry was detected", "{body}");
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        e["extensions"]["userFriendlyMessage"],
        "This record already exists. Please check your data and try again."
    );
}
