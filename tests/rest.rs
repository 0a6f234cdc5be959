//! Twenty's REST API, black-box, ported from `test/integration/rest/suites/rest-api-core-*`
//! (same paths, bodies, fixture ids and assertions).

mod common;

use common::{email, Resp, Session, TestServer};
use serde_json::{json, Value};

const P1: &str = "777a8457-eb2d-40ac-a707-551b615b6980";
const P2: &str = "777a8457-eb2d-40ac-a707-551b615b6981";
const P3: &str = "777a8457-eb2d-40ac-a707-551b615b6982";
const P4: &str = "777a8457-eb2d-40ac-a707-551b615b6983";
const NOT_EXISTING: &str = "777a8457-eb2d-40ac-a707-551b615b6990";
const C1: &str = "525c282e-030a-4a3e-90a0-d8aad0d33a93";

fn record_name(id: &str) -> String {
    format!("test_record_-{id}")
}

/// `makeRestAPIRequest`: `/rest{path}` with the API key's token by default.
struct Rest<'a> {
    server: &'a TestServer,
    s: Session,
    api_key: String,
}

impl Rest<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_as(&self.api_key, method, path, body)
    }

    fn call_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut call = self
            .server
            .request(method, &format!("/rest{}", encode_query(path)))
            .bearer(token);
        if let Some(b) = body {
            call = call.json(&b);
        } else if matches!(method, "POST" | "PATCH" | "PUT") {
            call = call.json(&json!({}));
        }
        call.send()
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let resp = self.call(method, path, body);
        assert!(
            resp.status == 200 || resp.status == 201,
            "{method} {path}: {} {}",
            resp.status,
            resp.text
        );
        resp.json()
    }

    /// Twenty's REST error: status, `error` name, message fragment.
    fn fails(&self, method: &str, path: &str, body: Option<Value>, status: u16, fragment: &str) {
        let resp = self.call(method, path, body);
        let v = resp.json();
        assert_eq!(resp.status, status, "{method} {path}: {v}");
        assert_eq!(v["statusCode"], status);
        let expected_name = match status {
            400 => "BadRequestException",
            404 => "NotFoundException",
            _ => "",
        };
        if !expected_name.is_empty() {
            assert_eq!(v["error"], expected_name, "{v}");
        }
        let m = v["messages"][0].as_str().unwrap_or("");
        assert!(
            m.contains(fragment),
            "{method} {path}: {m} lacks {fragment}"
        );
    }

    /// `deleteAllRecords`: hard-deletes every record of an object.
    fn delete_all(&self, plural: &str) {
        let ids: Vec<String> = self.ok("GET", &format!("/{plural}?limit=200"), None)["data"]
            [plural]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        for id in ids {
            self.ok("DELETE", &format!("/{plural}/{id}"), None);
        }
    }

    fn seed_company(&self) {
        let _ = self.call(
            "POST",
            "/companies",
            Some(json!({ "id": C1, "domainName": { "primaryLinkUrl": "https://test.com/" } })),
        );
    }
}

/// Percent-encodes what a URI may not carry raw in the query (quotes, brackets, spaces),
/// as a browser or `fetch` would.
fn encode_query(path: &str) -> String {
    let Some((p, q)) = path.split_once('?') else {
        return path.to_string();
    };
    let mut out = format!("{p}?");
    for b in q.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'&'
            | b'='
            | b':'
            | b','
            | b'('
            | b')' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The fields Twenty's seed workspace adds and its REST suites use (`person.city`,
/// `company.employees`), created here through /metadata as custom fields.
fn seed_fields(server: &TestServer, s: &Session) {
    for (object, name, kind) in [
        ("person", "city", "TEXT"),
        ("company", "employees", "NUMBER"),
    ] {
        server.meta_ok(
            Some(&s.access),
            "mutation($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }",
            json!({ "input": { "field": { "objectMetadataId": server.object_id(s, object), "name": name, "label": name, "type": kind } } }),
        );
    }
}

fn rest(server: &TestServer) -> Rest<'_> {
    let s = server.new_workspace(&email("rest"));
    seed_fields(server, &s);
    let api_key = server.api_key_token(&s);
    Rest { server, s, api_key }
}

/// Twenty's depth checks on a person of company C1: at depth 0 the join column and no
/// relation; at depth 1 the company record, without its own relations.
fn assert_depth0(p: &Value) {
    assert_eq!(p["companyId"], C1, "{p}");
    assert!(p.get("company").is_none(), "{p}");
}

fn assert_depth1(p: &Value) {
    assert_eq!(
        p["company"]["domainName"]["primaryLinkUrl"], "https://test.com",
        "{p}"
    );
    assert!(p["company"].get("people").is_none(), "{p}");
}

fn people(v: &Value) -> Vec<Value> {
    v["data"]["people"].as_array().cloned().unwrap_or_default()
}

fn positions(v: &Value) -> Vec<i64> {
    people(v)
        .iter()
        .map(|p| p["position"].as_f64().unwrap() as i64)
        .collect()
}

/// rest-api-core-find-many.
#[test]
fn find_many() {
    let server = TestServer::start();
    let r = rest(&server);
    r.seed_company();
    for (i, id) in [P1, P2, P3, P4].iter().enumerate() {
        r.ok(
            "POST",
            "/people",
            Some(json!({ "id": id, "city": record_name(id), "position": i, "companyId": C1 })),
        );
    }
    // 1.
    let all = r.ok("GET", "/people", None);
    let list = people(&all);
    for id in [P1, P2, P3, P4] {
        let p = list.iter().find(|p| p["id"] == id).expect("person listed");
        assert_eq!(p["city"], record_name(id));
    }
    assert!(all["pageInfo"]["startCursor"].is_string());
    assert!(all["pageInfo"]["endCursor"].is_string());
    assert_eq!(all["totalCount"], 4);
    assert_eq!(all["pageInfo"]["hasNextPage"], false);
    // 2.
    let page = r.ok("GET", "/people?limit=3", None);
    assert_eq!(people(&page).len(), 3);
    assert_eq!(page["totalCount"], 4);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    // 3. 4.
    let f = r.ok("GET", "/people?filter=position[lte]:1", None);
    assert_eq!(people(&f).len(), 2);
    assert_eq!(f["totalCount"], 2);
    assert_eq!(f["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        people(&r.ok("GET", "/people?filter=position[lt]:2", None)).len(),
        2
    );
    // 5.
    let a = r.ok("GET", "/people?limit=2", None);
    let start = a["pageInfo"]["startCursor"].as_str().unwrap();
    let next = r.ok(
        "GET",
        &format!("/people?starting_after={start}&limit=1"),
        None,
    );
    assert_eq!(people(&next), vec![people(&a)[1].clone()]);
    // 6.
    let a = r.ok("GET", "/people?limit=4", None);
    let end = a["pageInfo"]["endCursor"].as_str().unwrap();
    let before = r.ok("GET", &format!("/people?ending_before={end}&limit=2"), None);
    assert_eq!(people(&before), people(&a)[1..3].to_vec());
    // 7. 9.
    assert_eq!(
        positions(&r.ok("GET", "/people?order_by=position[AscNullsLast]", None)),
        vec![0, 1, 2, 3]
    );
    assert_eq!(
        positions(&r.ok("GET", "/people?order_by=position[DescNullsLast]", None)),
        vec![3, 2, 1, 0]
    );
    // 8.
    let by_company = r.ok(
        "GET",
        &format!("/people?filter=companyId[in]:[\"{C1}\"]"),
        None,
    );
    assert_eq!(people(&by_company).len(), 4);
    // 10.
    let page = r.ok(
        "GET",
        "/people?order_by=position[DescNullsLast]&limit=2",
        None,
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(positions(&page), vec![3, 2]);
    let end = page["pageInfo"]["endCursor"].as_str().unwrap();
    let page = r.ok(
        "GET",
        &format!("/people?order_by=position[DescNullsLast]&limit=2&starting_after={end}"),
        None,
    );
    assert_eq!(positions(&page), vec![1, 0]);
    // 11.
    r.fails(
        "GET",
        "/people?starting_after=invalid-cursor",
        None,
        400,
        "Invalid cursor",
    );
    // 12.
    let page = r.ok(
        "GET",
        "/people?filter=position[gt]:0&order_by=city[AscNullsFirst]&limit=2",
        None,
    );
    assert!(people(&page).len() <= 2);
    assert!(page["pageInfo"].is_object());
    // 13.
    let resp = r.call("GET", "/people?order_by=name[AscNullsLast]", None);
    assert_eq!(resp.status, 400, "{}", resp.text);
    // 14. 15. 16.
    let d0 = people(&r.ok("GET", "/people?depth=0", None));
    assert_depth0(&d0[0]);
    let d1 = people(&r.ok("GET", "/people?depth=1", None));
    assert_depth1(&d1[0]);
    r.fails(
        "GET",
        "/people?depth=2",
        None,
        400,
        "'depth=2' parameter invalid",
    );
    // Grammar errors come back in Twenty's words.
    r.fails(
        "GET",
        "/people?filter=position[equals]:1",
        None,
        400,
        "comparator equals not in",
    );
    r.fails(
        "GET",
        "/people?filter=and(position[eq]:1",
        None,
        400,
        "close bracket is missing",
    );
    r.fails(
        "GET",
        "/people?limit=aaa",
        None,
        400,
        "limit 'aaa' is invalid. Should be an integer",
    );
    r.fails("GET", "/people?filter=nope[eq]:1", None, 400, "\"nope\"");
    r.fails(
        "GET",
        "/person",
        None,
        400,
        "object 'person' not found. Did you mean 'people'?",
    );
    r.fails(
        "GET",
        "/foos",
        None,
        400,
        "object 'foos' not found. eg: companies",
    );
    // Nested composite sub-field and `is`.
    let f = r.ok(
        "GET",
        "/people?filter=or(city[eq]:\"nowhere\",companyId[is]:NOT_NULL)",
        None,
    );
    assert_eq!(f["totalCount"], 4);
}

/// rest-api-core-find-one, -create-one, -create-many, -update.
#[test]
fn find_one_create_and_update() {
    let server = TestServer::start();
    let r = rest(&server);
    r.seed_company();
    // create-one 1.
    let created = r.call(
        "POST",
        "/people",
        Some(json!({ "id": P1, "city": record_name(P1), "companyId": C1 })),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let p = created.json()["data"]["createPerson"].clone();
    assert_eq!(p["id"], P1);
    assert_eq!(p["city"], record_name(P1));
    assert_eq!(p["createdBy"]["source"], "API");
    assert!(p["createdBy"]["workspaceMemberId"].is_null());
    // create-one 2.
    let p = r.ok(
        "POST",
        "/people",
        Some(json!({ "id": P2, "city": "x", "createdBy": { "source": "EMAIL" } })),
    )["data"]["createPerson"]
        .clone();
    assert_eq!(p["createdBy"]["source"], "EMAIL");
    assert!(p["createdBy"]["workspaceMemberId"].is_null());
    // create-one 3: a user's token.
    let resp = r.call_as(&r.s.access, "POST", "/people", Some(json!({ "id": P3 })));
    let p = resp.json()["data"]["createPerson"].clone();
    assert_eq!(p["createdBy"]["source"], "MANUAL");
    assert!(p["createdBy"]["workspaceMemberId"].is_string());
    // create-one 4. 5. 6.
    let p = r.ok("POST", "/people?depth=0", Some(json!({ "companyId": C1 })))["data"]
        ["createPerson"]
        .clone();
    assert_depth0(&p);
    let p = r.ok("POST", "/people?depth=1", Some(json!({ "companyId": C1 })))["data"]
        ["createPerson"]
        .clone();
    assert_depth1(&p);
    r.fails(
        "POST",
        "/people?depth=2",
        Some(json!({})),
        400,
        "'depth=2' parameter invalid",
    );
    // create-one 7. 8.
    r.fails(
        "POST",
        "/people",
        Some(json!({ "id": P1, "city": "again" })),
        400,
        "A duplicate entry was detected",
    );
    r.fails(
        "POST",
        "/opportunities",
        Some(json!({ "stage": "INVALID_ENUM_VALUE" })),
        400,
        "Invalid value 'INVALID_ENUM_VALUE' for field \"stage\"",
    );

    // find-one 1..6.
    let one = r.ok("GET", &format!("/people/{P1}"), None);
    assert_eq!(one["data"]["person"]["id"], P1);
    assert_eq!(one["data"]["person"]["city"], record_name(P1));
    r.fails(
        "GET",
        &format!("/people/{NOT_EXISTING}"),
        None,
        404,
        "Record not found",
    );
    r.fails(
        "GET",
        "/people/malformed-uuid",
        None,
        400,
        "'malformed-uuid' is not a valid UUID",
    );
    let d0 = r.ok("GET", &format!("/people/{P1}?depth=0"), None)["data"]["person"].clone();
    assert_depth0(&d0);
    let d1 = r.ok("GET", &format!("/people/{P1}?depth=1"), None)["data"]["person"].clone();
    assert_depth1(&d1);
    r.fails(
        "GET",
        &format!("/people/{P1}?depth=2"),
        None,
        400,
        "'depth=2'",
    );
    // Depth 1 from the other side: one-to-many as a plain array.
    let c = r.ok("GET", &format!("/companies/{C1}?depth=1"), None)["data"]["company"].clone();
    assert!(c["people"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == P1));

    // update 1..5.
    let u = json!({ "name": { "firstName": "Updated", "lastName": "Person" },
        "emails": { "primaryEmail": "updated@example.com", "additionalEmails": ["extra@example.com"] },
        "city": record_name(P1) });
    let p =
        r.ok("PATCH", &format!("/people/{P1}"), Some(u.clone()))["data"]["updatePerson"].clone();
    assert_eq!(p["id"], P1);
    assert_eq!(p["name"], u["name"]);
    assert_eq!(
        p["emails"]["additionalEmails"],
        json!(["extra@example.com"])
    );
    assert_eq!(p["city"], record_name(P1));
    // Twenty answers "" for a never-set TEXT field (its default).
    assert_eq!(p["jobTitle"], "");
    assert_eq!(p["companyId"], C1);
    let p = r.ok(
        "PUT",
        &format!("/people/{P1}?depth=1"),
        Some(json!({ "jobTitle": "CTO" })),
    )["data"]["updatePerson"]
        .clone();
    assert_eq!(p["jobTitle"], "CTO");
    assert!(p["company"].is_object());
    r.fails(
        "PATCH",
        &format!("/people/{P1}?depth=2"),
        Some(json!({})),
        400,
        "'depth=2'",
    );
    r.fails(
        "PATCH",
        &format!("/people/{NOT_EXISTING}"),
        Some(json!({})),
        404,
        "Record not found",
    );
    // Update many by filter.
    let many = r.ok(
        "PATCH",
        "/people?filter=city[eq]:x",
        Some(json!({ "jobTitle": "Bulk" })),
    );
    let updated = many["data"]["updatePeople"].as_array().unwrap();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["jobTitle"], "Bulk");

    // create-many 1. 7.
    r.delete_all("people");
    let batch = r.call(
        "POST",
        "/batch/people",
        Some(json!([{ "id": P1 }, { "id": P2, "companyId": C1 }])),
    );
    assert_eq!(batch.status, 201, "{}", batch.text);
    let list = batch.json()["data"]["createPeople"].clone();
    assert_eq!(list[0]["id"], P1);
    assert_eq!(list[1]["id"], P2);
    assert_eq!(list[0]["createdBy"]["source"], "API");
    r.fails(
        "POST",
        "/batch/people",
        Some(json!([{ "id": P1 }, { "id": P2 }])),
        400,
        "A duplicate entry was detected",
    );
    let list = r.ok(
        "POST",
        "/batch/people?depth=1",
        Some(json!([{ "id": P3, "companyId": C1 }])),
    )["data"]["createPeople"]
        .clone();
    assert_eq!(list[0]["company"]["id"], C1);
    // Upsert keeps the id and updates.
    let up = r.ok(
        "POST",
        "/people?upsert=true",
        Some(json!({ "id": P3, "city": "Upserted" })),
    );
    assert_eq!(up["data"]["createPerson"]["city"], "Upserted");
    assert_eq!(r.ok("GET", "/people", None)["totalCount"], 3);
}

/// rest-api-core-delete, -restore, -field-projection, -authentication.
#[test]
fn delete_restore_projection_and_auth() {
    let server = TestServer::start();
    let r = rest(&server);
    // delete one: hard by default.
    r.ok("POST", "/people", Some(json!({ "id": P1 })));
    let d = r.ok("DELETE", &format!("/people/{P1}"), None);
    assert_eq!(d["data"]["deletePerson"], json!({ "id": P1 }));
    r.fails(
        "GET",
        &format!("/people/{P1}"),
        None,
        404,
        "Record not found",
    );
    // ...also with a favorite pointing at it.
    r.ok("POST", "/people", Some(json!({ "id": P1 })));
    r.ok("POST", "/favorites", Some(json!({ "personId": P1 })));
    let d = r.ok("DELETE", &format!("/people/{P1}"), None);
    assert_eq!(d["data"]["deletePerson"], json!({ "id": P1 }));
    r.fails(
        "DELETE",
        &format!("/people/{NOT_EXISTING}"),
        None,
        404,
        "Record not found",
    );
    r.fails(
        "DELETE",
        "/people?soft_delete=true",
        None,
        400,
        "Filters are mandatory for bulk delete operations",
    );
    r.fails(
        "DELETE",
        "/people?soft_delete=false",
        None,
        400,
        "Filters are mandatory for bulk destroy operations",
    );

    // restore 1. 2. (with field projection).
    r.ok(
        "POST",
        "/people",
        Some(json!({ "id": P1, "jobTitle": "Selected fields test" })),
    );
    r.ok("DELETE", &format!("/people/{P1}?soft_delete=true"), None);
    r.fails(
        "GET",
        &format!("/people/{P1}"),
        None,
        404,
        "Record not found",
    );
    let deleted = r.ok("GET", "/people?filter=deletedAt[is]:NOT_NULL", None);
    assert_eq!(people(&deleted).len(), 1);
    let restored = r.ok("PATCH", &format!("/people/{P1}/restore?fields=id"), None);
    assert_eq!(restored["data"]["restorePerson"], json!({ "id": P1 }));
    let p = r.ok("GET", &format!("/people/{P1}"), None)["data"]["person"].clone();
    assert_eq!(p["jobTitle"], "Selected fields test");
    r.ok("DELETE", &format!("/people/{P1}?soft_delete=true"), None);
    let restored = r.ok(
        "PATCH",
        &format!("/people/restore?filter=id[eq]:{P1}&fields=id"),
        None,
    );
    assert_eq!(restored["data"]["restorePeople"], json!([{ "id": P1 }]));
    // The older path shape works too.
    r.ok(
        "DELETE",
        &format!("/people?soft_delete=true&filter=id[eq]:{P1}"),
        None,
    );
    r.ok("PATCH", &format!("/restore/people/{P1}"), None);
    r.ok("GET", &format!("/people/{P1}"), None);

    // field-projection.
    let created = r.ok(
        "POST",
        "/people?fields=id",
        Some(json!({ "id": P2, "jobTitle": "Projection test" })),
    );
    assert_eq!(created["data"]["createPerson"], json!({ "id": P2 }));
    let created = r.ok(
        "POST",
        "/batch/people?fields=id",
        Some(json!([{ "id": P3, "jobTitle": "Projection test" }])),
    );
    assert_eq!(created["data"]["createPeople"], json!([{ "id": P3 }]));
    r.fails(
        "GET",
        "/people?fields=id,nope",
        None,
        400,
        "Unknown or unreadable fields on 'person': nope",
    );
    r.fails(
        "GET",
        "/people?fields=noteTargets",
        None,
        400,
        "require a positive depth: noteTargets",
    );

    // Destroy many by filter.
    let gone = r.ok(
        "DELETE",
        &format!("/people?filter=id[in]:[{P2},{P3}]"),
        None,
    );
    assert_eq!(gone["data"]["deletePeople"].as_array().unwrap().len(), 2);
    assert_eq!(r.ok("GET", "/people", None)["totalCount"], 1);

    // authentication 1..3.
    let resp = server
        .request("POST", "/rest/people")
        .json(&json!({}))
        .send();
    assert_eq!(resp.status, 403, "{}", resp.text);
    assert_eq!(resp.json()["error"], "FORBIDDEN_EXCEPTION");
    assert_eq!(resp.json()["messages"][0], "Missing authentication token");
    let tampered = format!("{}x", &r.api_key[..r.api_key.len() - 1]);
    for token in [tampered.as_str(), "invalid-token"] {
        let resp = server
            .request("POST", "/rest/people")
            .bearer(token)
            .json(&json!({}))
            .send();
        assert_eq!(resp.status, 401, "{}", resp.text);
        assert_eq!(resp.json()["error"], "UNAUTHENTICATED");
        assert_eq!(resp.json()["messages"][0], "Token invalid.");
    }
    // groupBy answers the groups (tests/compat.rs covers it in depth).
    let resp = r.call("GET", "/people/groupBy?group_by=[{\"city\":true}]", None);
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(
        resp.json()[0]["groupByDimensionValues"].is_array(),
        "{}",
        resp.text
    );
}

/// REST and GraphQL share one implementation: what one writes the other reads, with the
/// same validation.
#[test]
fn rest_and_graphql_agree() {
    let server = TestServer::start();
    let r = rest(&server);
    r.ok(
        "POST",
        "/companies",
        Some(json!({ "id": C1, "name": "Acme", "employees": 12 })),
    );
    let body = server.gql(
        "/graphql",
        Some(&r.s.access),
        "query($id: UUID!) { company(filter: {id: {eq: $id}}) { name employees domainName { primaryLinkUrl } } }",
        json!({ "id": C1 }),
    );
    assert_eq!(body["data"]["company"]["name"], "Acme");
    assert_eq!(body["data"]["company"]["employees"], 12);
    let f = r.ok(
        "GET",
        "/companies?filter=employees[gte]:10,name[like]:\"Ac%\"",
        None,
    );
    assert_eq!(f["totalCount"], 1);
    r.fails(
        "POST",
        "/companies",
        Some(json!({ "employees": "many" })),
        400,
        "employees",
    );
    r.fails(
        "POST",
        "/companies",
        Some(json!({ "nope": 1 })),
        400,
        "\"nope\"",
    );
    assert_eq!(
        r.ok("GET", "/companies", None)["totalCount"],
        1,
        "refused writes wrote nothing"
    );
}

/// rest-api-core-find-duplicates.
#[test]
fn find_duplicates() {
    let server = TestServer::start();
    let r = rest(&server);
    r.seed_company();
    let john = json!({ "firstName": "John", "lastName": "Doe" });
    let created = r.call(
        "POST",
        "/batch/people",
        Some(json!([
            { "id": P1, "name": john, "companyId": C1 },
            { "id": P2, "name": john, "companyId": C1 },
            { "id": P3, "name": { "firstName": "Phil", "lastName": "Collins" }, "companyId": C1 },
        ])),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let ids = |v: &Value| -> Vec<String> {
        v["personDuplicates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    // 1.
    let d = r.ok(
        "POST",
        "/people/duplicates",
        Some(json!({ "data": [{ "name": john }] })),
    );
    assert_eq!(d["data"].as_array().unwrap().len(), 1);
    assert_eq!(d["data"][0]["totalCount"], 2);
    assert_eq!(ids(&d["data"][0]), vec![P1, P2]);
    // 2.
    let d = r.ok("POST", "/people/duplicates", Some(json!({ "ids": [P1] })));
    assert_eq!(d["data"][0]["totalCount"], 1);
    assert_eq!(ids(&d["data"][0]), vec![P2]);
    // 3.
    let d = r.ok(
        "POST",
        "/people/duplicates",
        Some(json!({ "data": [{ "name": { "firstName": "Not", "lastName": "Existing" } }] })),
    );
    assert_eq!(d["data"][0]["totalCount"], 0);
    // 4. 5. 6.
    r.fails(
        "POST",
        "/people/duplicates",
        Some(json!({ "data": [] })),
        400,
        "The \"data\" condition can not be empty when \"ids\" input not provided",
    );
    let d = r.ok("POST", "/people/duplicates", Some(json!({ "ids": [] })));
    assert_eq!(d["data"], json!([]));
    r.fails(
        "POST",
        "/people/duplicates",
        Some(json!({ "data": [], "ids": [] })),
        400,
        "You cannot provide both \"data\" and \"ids\" arguments",
    );
    // 7. 8. 9.
    let d = r.ok(
        "POST",
        "/people/duplicates?depth=0",
        Some(json!({ "data": [{ "name": john }] })),
    );
    for p in d["data"][0]["personDuplicates"].as_array().unwrap() {
        assert_depth0(p);
    }
    let d = r.ok(
        "POST",
        "/people/duplicates?depth=1",
        Some(json!({ "data": [{ "name": john }] })),
    );
    for p in d["data"][0]["personDuplicates"].as_array().unwrap() {
        assert_eq!(p["company"]["id"], C1);
        assert_depth1(p);
    }
    r.fails(
        "POST",
        "/people/duplicates?depth=2",
        Some(json!({ "ids": [P1] })),
        400,
        "'depth=2'",
    );
}
