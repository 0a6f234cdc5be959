//! The data model on `/metadata` (objects and fields), black-box, ported from Twenty's
//! `test/integration/metadata/suites/**` (same operation documents and inputs), plus the
//! 500-field object of the spec.

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};

const CREATE_OBJECT: &str = "mutation CreateOneObjectMetadataItem($input: CreateOneObjectInput!) {
  createOneObject(input: $input) { id nameSingular namePlural labelSingular labelPlural isActive labelIdentifierFieldMetadataId } }";
const UPDATE_OBJECT: &str = "mutation UpdateOneObjectMetadataItem($input: UpdateOneObjectInput!) {
  updateOneObject(input: $input) { id nameSingular namePlural labelSingular labelPlural isActive } }";
const DELETE_OBJECT: &str = "mutation DeleteOneObjectMetadataItem($input: DeleteOneObjectInput!) {
  deleteOneObject(input: $input) { id } }";
const CREATE_FIELD: &str = "mutation CreateOneFieldMetadataItem($input: CreateOneFieldMetadataInput!) {
  createOneField(input: $input) { id name label type isLabelSyncedWithName isNullable options defaultValue
    relation { type targetFieldMetadata { id } targetObjectMetadata { id } } settings object { id nameSingular } } }";
const UPDATE_FIELD: &str =
    "mutation UpdateOneFieldMetadataItem($input: UpdateOneFieldMetadataInput!) {
  updateOneField(input: $input) { id name label isActive options } }";
const DELETE_FIELD: &str = "mutation DeleteOneFieldMetadataItem($input: DeleteOneFieldInput!) {
  deleteOneField(input: $input) { id } }";

struct Meta<'a> {
    server: &'a TestServer,
    s: Session,
}

impl Meta<'_> {
    fn call(&self, query: &str, variables: Value) -> Value {
        self.server
            .gql("/metadata", Some(&self.s.access), query, variables)
    }

    fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.call(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    fn gql(&self, query: &str, variables: Value) -> Value {
        self.server
            .gql("/graphql", Some(&self.s.access), query, variables)
    }

    fn gql_ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables);
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    fn create_object(&self, object: Value) -> Value {
        self.ok(CREATE_OBJECT, json!({ "input": { "object": object } }))["createOneObject"].clone()
    }

    fn create_field(&self, field: Value) -> Value {
        self.ok(CREATE_FIELD, json!({ "input": { "field": field } }))["createOneField"].clone()
    }

    fn object_id(&self, singular: &str) -> String {
        self.server.object_id(&self.s, singular)
    }

    /// Fields of an object by name -> (id, type).
    fn fields(&self, object_id: &str) -> Vec<(String, String, String)> {
        let data = self.ok(
            "query($id: UUID!) { object(id: $id) { fieldsList { id name type } } }",
            json!({ "id": object_id }),
        );
        data["object"]["fieldsList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_string(),
                    f["name"].as_str().unwrap().to_string(),
                    f["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn metadata_version(&self) -> i64 {
        self.ok(
            "query { currentUser { currentWorkspace { metadataVersion } } }",
            json!({}),
        )["currentUser"]["currentWorkspace"]["metadataVersion"]
            .as_f64()
            .unwrap() as i64
    }
}

fn meta(server: &TestServer) -> Meta<'_> {
    Meta {
        server,
        s: server.new_workspace(&email("meta")),
    }
}

/// Twenty's `getMockCreateObjectInput`.
fn mock_object(overrides: Value) -> Value {
    let mut base = json!({
        "namePlural": "listingas", "nameSingular": "listinga", "labelPlural": "Listings",
        "labelSingular": "Listing", "description": "Listing object", "icon": "IconListNumbers",
        "isLabelSyncedWithName": false,
    });
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// Messages of a METADATA_VALIDATION_FAILED (or the plain message of another error).
fn failure(body: &Value) -> (String, Vec<String>) {
    let e = &body["errors"][0];
    let code = e["extensions"]["code"].as_str().unwrap_or("").to_string();
    let mut messages = vec![];
    for kind in ["objectMetadata", "fieldMetadata"] {
        for entry in e["extensions"]["errors"][kind]
            .as_array()
            .into_iter()
            .flatten()
        {
            for m in entry["errors"].as_array().into_iter().flatten() {
                messages.push(m["message"].as_str().unwrap_or("").to_string());
            }
        }
    }
    if messages.is_empty() {
        messages.push(e["message"].as_str().unwrap_or("").to_string());
    }
    (code, messages)
}

const INVALID_NAME: &str =
    "Name is not valid: it must start with lowercase letter and contain only alphanumeric letters";
const RESERVED: &str =
    "This name is reserved. Use a different name or the system will add \"Custom\" suffix.";

#[test]
fn failing_create_one_object_metadata() {
    let server = TestServer::start();
    let m = meta(&server);
    let v = "METADATA_VALIDATION_FAILED";
    let b = "BAD_USER_INPUT";
    let long = "a".repeat(64);
    let long_label = "A".repeat(64);
    let spaces = " ".repeat(17);
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"nameSingular": "μ"}), v, INVALID_NAME),
        (json!({"namePlural": "μ"}), v, INVALID_NAME),
        (json!({"nameSingular": "user"}), v, RESERVED),
        (json!({"namePlural": "users"}), v, RESERVED),
        (json!({"nameSingular": "Not_Camel_Case"}), v, INVALID_NAME),
        (json!({"namePlural": "Not_Camel_Case"}), v, INVALID_NAME),
        (
            json!({"namePlural": ""}),
            b,
            "namePlural should not be empty",
        ),
        (
            json!({"nameSingular": ""}),
            b,
            "nameSingular should not be empty",
        ),
        (json!({"nameSingular": spaces}), v, "Name is too short"),
        (
            json!({"nameSingular": "     a        a    "}),
            v,
            INVALID_NAME,
        ),
        (json!({"nameSingular": long}), v, "Name is too long"),
        (
            json!({"nameSingular": "fooBar", "namePlural": "fooBar"}),
            v,
            "The singular and plural names cannot be the same for an object",
        ),
        (
            json!({"nameSingular": "      fooBar               ", "namePlural": "fooBar"}),
            v,
            "The singular and plural names cannot be the same for an object",
        ),
        (
            json!({"labelSingular": ""}),
            b,
            "labelSingular should not be empty",
        ),
        (
            json!({"labelPlural": ""}),
            b,
            "labelPlural should not be empty",
        ),
        (
            json!({"labelSingular": long_label}),
            v,
            "Object label is too long",
        ),
        (
            json!({"labelPlural": long_label}),
            v,
            "Object label is too long",
        ),
        (
            json!({"labelSingular": "   "}),
            v,
            "Object label is too short",
        ),
        (
            json!({"labelPlural": "   "}),
            v,
            "Object label is too short",
        ),
        (
            json!({"labelSingular": "fooBar", "labelPlural": "fooBar"}),
            v,
            "The singular and plural labels cannot be the same for an object",
        ),
        (
            json!({"nameSingular": "person", "namePlural": "persons"}),
            v,
            "Object already exists",
        ),
    ];
    let before = m.metadata_version();
    for (overrides, code, message) in cases {
        let body = m.call(
            CREATE_OBJECT,
            json!({ "input": { "object": mock_object(overrides.clone()) } }),
        );
        assert_eq!(
            body["errors"].as_array().map(Vec::len),
            Some(1),
            "{overrides}: {body}"
        );
        assert!(body["data"].is_null(), "{body}");
        let (got, messages) = failure(&body);
        assert_eq!(got, code, "{overrides}: {body}");
        assert!(
            messages.iter().any(|m| m.contains(message)),
            "{overrides}: {messages:?} lacks {message}"
        );
    }
    assert_eq!(
        m.metadata_version(),
        before,
        "failed changes do not bump the version"
    );
}

#[test]
fn custom_object_lifecycle_rename_and_graphql() {
    let server = TestServer::start();
    let m = meta(&server);
    let v0 = m.metadata_version();
    // successful-create-one-object-metadata + rename-custom-object.
    let created = m.create_object(json!({
        "namePlural": "customObjects", "nameSingular": "customObject",
        "labelPlural": "Custom Objects", "labelSingular": "Custom Object",
        "description": "a custom object", "icon": "IconListNumbers", "isLabelSyncedWithName": false,
    }));
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created["labelIdentifierFieldMetadataId"].is_string());
    assert_eq!(m.metadata_version(), v0 + 1);
    let names: Vec<String> = m.fields(&id).into_iter().map(|f| f.1).collect();
    for f in [
        "id",
        "name",
        "createdAt",
        "updatedAt",
        "deletedAt",
        "createdBy",
        "updatedBy",
        "position",
    ] {
        assert!(names.contains(&f.to_string()), "{f} in {names:?}");
    }
    for (host, field) in [
        ("noteTarget", "targetCustomObject"),
        ("taskTarget", "targetCustomObject"),
        ("attachment", "targetCustomObject"),
        ("timelineActivity", "targetCustomObject"),
        ("favorite", "customObject"),
    ] {
        let host_id = m.object_id(host);
        assert!(
            m.fields(&host_id).iter().any(|f| f.1 == field),
            "{host}.{field}"
        );
    }

    // The next /graphql request sees it, with its base fields filled by the server.
    let data = m.gql_ok(
        "mutation { createCustomObject(data: {name: \"first\"}) { id name createdAt createdBy { source } position } }",
        json!({}),
    );
    let record = &data["createCustomObject"];
    assert_eq!(record["name"], "first");
    assert_eq!(record["createdBy"]["source"], "MANUAL");
    // ...and it is a note target.
    let note = m.gql_ok(
        "mutation { createNote(data: {title: \"n\"}) { id } }",
        json!({}),
    );
    let note_id = note["createNote"]["id"].as_str().unwrap();
    m.gql_ok(
        "mutation($n: UUID!, $t: UUID!) { createNoteTarget(data: {noteId: $n, targetCustomObjectId: $t}) { id } }",
        json!({ "n": note_id, "t": record["id"] }),
    );

    // Rename: the target fields follow, the data stays.
    let renamed = m.ok(
        UPDATE_OBJECT,
        json!({ "input": { "id": id, "update": {
            "nameSingular": "house", "namePlural": "houses",
            "labelSingular": "House", "labelPlural": "Houses" } } }),
    )["updateOneObject"]
        .clone();
    assert_eq!(renamed["nameSingular"], "house");
    assert_eq!(renamed["labelPlural"], "Houses");
    let data = m.gql_ok(
        "query { houses { edges { node { id name noteTargets { edges { node { id } } } } } } }",
        json!({}),
    );
    let houses = data["houses"]["edges"].as_array().unwrap();
    assert_eq!(houses.len(), 1);
    assert_eq!(houses[0]["node"]["name"], "first");
    assert_eq!(
        houses[0]["node"]["noteTargets"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the note target's stored key was renamed with the field"
    );
    // An old client that sends a query of the old schema is told to refetch.
    let resp = server
        .post("/graphql")
        .bearer(&m.s.access)
        .header("x-schema-version", &v0.to_string())
        .json(&json!({ "query": "{ customObjects { edges { node { id } } } }" }))
        .send();
    let body = resp.json();
    assert_eq!(
        body["errors"][0]["message"], "Schema version mismatch, please refresh the page.",
        "{body}"
    );
    let current = m.metadata_version().to_string();
    assert_eq!(resp.header("x-schema-version"), Some(current.as_str()));

    // Delete: refused while active, then gone with what pointed at it.
    let body = m.call(DELETE_OBJECT, json!({ "input": { "id": id } }));
    let (code, messages) = failure(&body);
    assert_eq!(code, "METADATA_VALIDATION_FAILED");
    assert_eq!(messages, vec!["Active objects cannot be deleted"]);
    m.ok(
        UPDATE_OBJECT,
        json!({ "input": { "id": id, "update": { "isActive": false } } }),
    );
    let deleted = m.ok(DELETE_OBJECT, json!({ "input": { "id": id } }));
    assert_eq!(deleted["deleteOneObject"]["id"], id.as_str());
    let note_target = m.object_id("noteTarget");
    assert!(!m.fields(&note_target).iter().any(|f| f.1 == "targetHouse"));
    let body = m.gql("{ houses { edges { node { id } } } }", json!({}));
    assert!(body["errors"].is_array(), "{body}");
    // Notes survive.
    let data = m.gql_ok("query { notes { edges { node { id } } } }", json!({}));
    assert_eq!(data["notes"]["edges"].as_array().unwrap().len(), 1);
    // And the same names can be used again (create-delete-and-create).
    m.create_object(json!({
        "namePlural": "houses", "nameSingular": "house", "labelPlural": "Houses", "labelSingular": "House",
    }));
}

#[test]
fn standard_objects_and_fields_keep_their_shape() {
    let server = TestServer::start();
    let m = meta(&server);
    let person = m.object_id("person");
    for (update, message) in [
        (
            json!({"nameSingular": "human"}),
            "Cannot edit standard object metadata properties: nameSingular",
        ),
        (
            json!({"namePlural": "humans"}),
            "Cannot edit standard object metadata properties: namePlural",
        ),
        (
            json!({"isLabelSyncedWithName": true, "namePlural": "humans"}),
            "Cannot edit standard object metadata properties: isLabelSyncedWithName, namePlural",
        ),
    ] {
        let body = m.call(
            UPDATE_OBJECT,
            json!({ "input": { "id": person, "update": update } }),
        );
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["subCode"],
            "INVALID_OBJECT_INPUT"
        );
        assert_eq!(body["errors"][0]["message"], message);
    }
    let relabeled = m.ok(
        UPDATE_OBJECT,
        json!({ "input": { "id": person, "update": { "labelSingular": "Human", "labelPlural": "Humans" } } }),
    );
    assert_eq!(relabeled["updateOneObject"]["labelSingular"], "Human");

    let job_title = m
        .fields(&person)
        .into_iter()
        .find(|f| f.1 == "jobTitle")
        .unwrap()
        .0;
    let body = m.call(
        UPDATE_FIELD,
        json!({ "input": { "id": job_title, "update": { "name": "role" } } }),
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["subCode"],
        "FIELD_MUTATION_NOT_ALLOWED"
    );
    assert_eq!(
        body["errors"][0]["message"],
        "Cannot edit standard field metadata properties: name"
    );
    let body = m.call(DELETE_FIELD, json!({ "input": { "id": job_title } }));
    assert_eq!(
        body["errors"][0]["message"],
        "Deleting standard fields is not allowed"
    );
    let body = m.call(DELETE_OBJECT, json!({ "input": { "id": person } }));
    assert_eq!(failure(&body).1, vec!["Standard objects cannot be deleted"]);
    let body = m.call(
        UPDATE_OBJECT,
        json!({ "input": { "id": "42422020-f49c-4159-8751-76a24f47b360", "update": { "icon": "x" } } }),
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
}

#[test]
fn fields_relations_options_and_validation_on_write() {
    let server = TestServer::start();
    let m = meta(&server);
    let person = m.create_object(json!({"nameSingular": "personForRelation", "namePlural": "peopleForRelation",
        "labelSingular": "Person For Relation", "labelPlural": "People For Relation", "icon": "IconPerson"}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let opportunity = m.create_object(
        json!({"nameSingular": "opportunityForRelation", "namePlural": "opportunitiesForRelation",
        "labelSingular": "Opportunity For Relation", "labelPlural": "Opportunities For Relation"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();

    // create-one-field-metadata-relation, MANY_TO_ONE then ONE_TO_MANY.
    let relation = |name: &str, kind: &str| {
        json!({"objectMetadataId": opportunity, "name": name, "label": format!("{name} field"), "type": "RELATION",
               "isLabelSyncedWithName": false,
               "relationCreationPayload": {"targetObjectMetadataId": person, "targetFieldLabel": format!("opportunity {name}"),
                                           "targetFieldIcon": "IconListOpportunity", "type": kind}})
    };
    let many = m.create_field(relation("person", "MANY_TO_ONE"));
    assert_eq!(many["name"], "person");
    assert_eq!(many["relation"]["type"], "MANY_TO_ONE");
    assert_eq!(many["settings"]["joinColumnName"], "personId");
    assert_eq!(
        many["relation"]["targetObjectMetadata"]["id"],
        person.as_str()
    );
    let inverse_id = many["relation"]["targetFieldMetadata"]["id"]
        .as_str()
        .unwrap();
    let inverse = m.ok(
        "query($id: UUID!) { field(id: $id) { name relation { type } object { nameSingular } } }",
        json!({ "id": inverse_id }),
    );
    assert_eq!(inverse["field"]["name"], "opportunityPerson");
    assert_eq!(inverse["field"]["relation"]["type"], "ONE_TO_MANY");
    assert_eq!(
        inverse["field"]["object"]["nameSingular"],
        "personForRelation"
    );
    let one = m.create_field(relation("people", "ONE_TO_MANY"));
    assert_eq!(one["relation"]["type"], "ONE_TO_MANY");
    assert!(one["settings"]["joinColumnName"].is_null());

    // failing-field-metadata-relation-creation.
    for payload in [
        json!({"targetFieldLabel": ""}),
        json!({"targetFieldLabel": "A".repeat(64)}),
        json!({"targetObjectMetadataId": "42422020-f49c-4159-8751-76a24f47b360"}),
        json!({"targetFieldLabel": "   "}),
        json!({"targetFieldLabel": "opportunity person"}),
    ] {
        let mut field = relation("fieldname", "ONE_TO_MANY");
        for (k, v) in payload.as_object().unwrap() {
            field["relationCreationPayload"][k] = v.clone();
        }
        let body = m.call(CREATE_FIELD, json!({ "input": { "field": field } }));
        assert!(body["errors"].is_array(), "{payload}: {body}");
        assert_eq!(
            failure(&body).0,
            "METADATA_VALIDATION_FAILED",
            "{payload}: {body}"
        );
    }

    // failing-create-one-field-metadata.
    for (kind, name, fragment) in [
        ("NUMERIC", "numericField", "NUMERIC"),
        ("POSITION", "positionField", "POSITION"),
        ("TS_VECTOR", "tsVectorField", "TS Vector"),
    ] {
        let body = m.call(
            CREATE_FIELD,
            json!({ "input": { "field": {"objectMetadataId": person, "type": kind, "name": name, "label": name, "isLabelSyncedWithName": false} } }),
        );
        assert!(body["data"].is_null());
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "METADATA_VALIDATION_FAILED"
        );
        assert!(body["errors"][0]["extensions"]["errors"]
            .to_string()
            .contains(fragment));
    }
    // create-one-field-metadata: name/label sync.
    let synced = m.create_field(json!({"objectMetadataId": person, "type": "TEXT", "name": "testField", "label": "Test Field", "isLabelSyncedWithName": true}));
    assert_eq!(synced["name"], "testField");
    let body = m.call(
        CREATE_FIELD,
        json!({ "input": { "field": {"objectMetadataId": person, "type": "TEXT", "name": "otherField", "label": "Different Label", "isLabelSyncedWithName": true} } }),
    );
    assert_eq!(failure(&body).1, vec!["Name is not synced with label"]);
    let body = m.call(
        CREATE_FIELD,
        json!({ "input": { "field": {"objectMetadataId": person, "type": "TEXT", "name": "testField", "label": "Again"} } }),
    );
    assert_eq!(
        failure(&body).1,
        vec!["Name \"testField\" is not available as it is already used by another field"]
    );

    // Select options (enum suites): failing cases, then a field with a default.
    let option = json!({"label": "Option 1", "value": "OPTION_1", "color": "green", "position": 1});
    let with = |k: &str, v: Value| {
        let mut o = option.clone();
        o[k] = v;
        o
    };
    for (options, default, message) in [
        (
            json!([]),
            Value::Null,
            "Options are required for enum fields",
        ),
        (
            json!([with("id", json!("not a uuid"))]),
            Value::Null,
            "Option id is invalid",
        ),
        (
            json!([with("value", json!("Option 1 and some other things, /"))]),
            Value::Null,
            "Value must be in UPPER_CASE",
        ),
        (
            json!([with("label", json!("Option ,1"))]),
            Value::Null,
            "Label must not contain a comma",
        ),
        (
            json!([option, with("label", json!("Other"))]),
            Value::Null,
            "Duplicated option",
        ),
        (
            json!([option]),
            json!("invalid"),
            "Default value should be as quoted string",
        ),
        (
            json!([option]),
            json!("'OPTION_424242'"),
            "must be one of the option values",
        ),
    ] {
        let body = m.call(
            CREATE_FIELD,
            json!({ "input": { "field": {"objectMetadataId": person, "type": "SELECT", "name": "status", "label": "Status",
                                           "options": options, "defaultValue": default} } }),
        );
        let (code, messages) = failure(&body);
        assert_eq!(code, "METADATA_VALIDATION_FAILED", "{body}");
        assert!(
            messages.iter().any(|x| x.contains(message)),
            "{messages:?} lacks {message}"
        );
    }
    let status = m.create_field(json!({"objectMetadataId": person, "type": "SELECT", "name": "status", "label": "Status",
        "options": [{"label": "       Option        1       ", "value": "OPTION_1", "color": "green", "position": 0},
                    {"label": "Option 2", "value": "OPTION_2", "color": "red", "position": 1}],
        "defaultValue": "'OPTION_1'"}));
    assert_eq!(status["options"][0]["label"], "Option 1");
    assert_eq!(status["options"].as_array().unwrap().len(), 2);
    let code = m.create_field(
        json!({"objectMetadataId": person, "type": "TEXT", "name": "code", "label": "Code",
        "isUnique": true}),
    );
    let _ = code;
    let count = m.create_field(
        json!({"objectMetadataId": person, "type": "NUMBER", "name": "visits", "label": "Visits",
        "isNullable": false, "defaultValue": 0}),
    );
    let _ = count;

    // Validation from metadata on every write: nothing is written on failure.
    let create = "mutation($d: PersonForRelationCreateInput!) { createPersonForRelation(data: $d) { id status visits } }";
    let ok = m.gql_ok(create, json!({ "d": { "name": "a", "code": "A1" } }));
    assert_eq!(
        ok["createPersonForRelation"]["status"], "OPTION_1",
        "default applies"
    );
    assert_eq!(ok["createPersonForRelation"]["visits"], 0);
    for (data, fragment) in [
        (json!({"status": "NOPE"}), "NOPE"),
        (json!({"code": "A1"}), "duplicate entry"),
        (json!({"visits": null}), "cannot be null"),
        (json!({"visits": "many"}), "visits"),
    ] {
        let body = m.gql(create, json!({ "d": data }));
        let e = &body["errors"][0];
        assert!(
            e["extensions"]["code"] == "BAD_USER_INPUT"
                || e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED",
            "{data}: {body}"
        );
        assert!(
            e["message"].as_str().unwrap_or("").contains(fragment),
            "{data}: {body}"
        );
    }
    let data = m.gql_ok("{ peopleForRelation { totalCount } }", json!({}));
    assert_eq!(
        data["peopleForRelation"]["totalCount"], 1,
        "failed writes wrote nothing"
    );

    // Options change: a removed value is cleared from records, a renamed one follows.
    m.gql_ok(
        create,
        json!({ "d": { "name": "b", "status": "OPTION_2" } }),
    );
    let updated = m.ok(
        UPDATE_FIELD,
        json!({ "input": { "id": status["id"], "update": { "options": [
            {"id": status["options"][0]["id"], "label": "First", "value": "FIRST", "color": "green", "position": 0}
        ] } } }),
    );
    assert_eq!(updated["updateOneField"]["options"][0]["value"], "FIRST");
    let data = m.gql_ok(
        "{ peopleForRelation(orderBy: [{name: AscNullsFirst}]) { edges { node { name status } } } }",
        json!({}),
    );
    let nodes: Vec<&Value> = data["peopleForRelation"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert_eq!(nodes[0]["status"], "FIRST");
    assert!(nodes[1]["status"].is_null());
}

/// The spec's 500 fields: Cloudflare's 100-columns-per-table limit must not show through.
#[test]
fn five_hundred_custom_fields() {
    let server = TestServer::start();
    let m = meta(&server);
    let object = m.create_object(json!({"nameSingular": "wide", "namePlural": "wides",
        "labelSingular": "Wide", "labelPlural": "Wides"}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 500 fields, 100 aliased mutations per request (run in order, each in its own
    // transaction, as Twenty runs a document's mutations).
    for batch in 0..5 {
        let mut doc = String::from("mutation {");
        for i in batch * 100..(batch + 1) * 100 {
            let kind = if i % 2 == 0 { "NUMBER" } else { "TEXT" };
            doc.push_str(&format!(
                " f{i}: createOneField(input: {{field: {{objectMetadataId: \"{object}\", type: {kind}, name: \"field{i}\", label: \"Field {i}\"}}}}) {{ id }}"
            ));
        }
        doc.push('}');
        m.ok(&doc, json!({}));
    }
    let person = m.object_id("person");
    m.create_field(
        json!({"objectMetadataId": object, "type": "RELATION", "name": "owner", "label": "Owner",
        "relationCreationPayload": {"type": "MANY_TO_ONE", "targetObjectMetadataId": person,
                                    "targetFieldLabel": "Wides", "targetFieldIcon": "IconTable"}}),
    );
    assert!(m.fields(&object).len() > 500);

    let owner = m.gql_ok(
        "mutation { createPerson(data: {name: {firstName: \"Ada\", lastName: \"L\"}}) { id } }",
        json!({}),
    )["createPerson"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Records with every field set.
    let records: Vec<Value> = (0..5)
        .map(|r| {
            let mut data = json!({ "name": format!("row{r}"), "ownerId": owner });
            for i in 0..500 {
                data[format!("field{i}")] = if i % 2 == 0 {
                    json!(r * 1000 + i)
                } else {
                    json!(format!("r{r}f{i}"))
                };
            }
            data
        })
        .collect();
    m.gql_ok(
        "mutation($d: [WideCreateInput!]!) { createWides(data: $d) { id } }",
        json!({ "d": records }),
    );
    // Filter on field #499 (TEXT) and on #498 (NUMBER), sort, list.
    let data = m.gql_ok(
        "{ wides(filter: {field499: {eq: \"r3f499\"}}) { edges { node { name field0 field499 owner { name { firstName } } } } } }",
        json!({}),
    );
    let edges = data["wides"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["name"], "row3");
    assert_eq!(edges[0]["node"]["field0"], 3000);
    assert_eq!(edges[0]["node"]["owner"]["name"]["firstName"], "Ada");
    let data = m.gql_ok(
        "{ wides(filter: {field498: {gte: 2498}}, orderBy: [{field498: DescNullsLast}]) { totalCount edges { node { name } } } }",
        json!({}),
    );
    assert_eq!(data["wides"]["totalCount"], 3);
    assert_eq!(data["wides"]["edges"][0]["node"]["name"], "row4");
    // Person's inverse lists them.
    let data = m.gql_ok(
        "query($id: UUID!) { person(filter: {id: {eq: $id}}) { wides { edges { node { name } } } } }",
        json!({ "id": owner }),
    );
    assert_eq!(
        data["person"]["wides"]["edges"].as_array().unwrap().len(),
        5
    );

    // Rename a field, delete another: the other fields' data is intact.
    let fields = m.fields(&object);
    let id_of = |name: &str| fields.iter().find(|f| f.1 == name).unwrap().0.clone();
    m.ok(UPDATE_FIELD, json!({ "input": { "id": id_of("field1"), "update": { "name": "renamed1", "label": "Renamed 1" } } }));
    m.ok(
        UPDATE_FIELD,
        json!({ "input": { "id": id_of("field2"), "update": { "isActive": false } } }),
    );
    m.ok(DELETE_FIELD, json!({ "input": { "id": id_of("field2") } }));
    let data = m.gql_ok(
        "{ wides(orderBy: [{name: AscNullsFirst}]) { edges { node { name renamed1 field0 field3 field499 } } } }",
        json!({}),
    );
    let first = &data["wides"]["edges"][0]["node"];
    assert_eq!(first["name"], "row0");
    assert_eq!(first["renamed1"], "r0f1");
    assert_eq!(first["field0"], 0);
    assert_eq!(first["field3"], "r0f3");
    assert_eq!(first["field499"], "r0f499");
    let body = m.gql("{ wides { edges { node { field2 } } } }", json!({}));
    assert!(
        body["errors"].is_array(),
        "deleted field is gone from the schema: {body}"
    );
}

/// `/rest/metadata/*`: the same changes over REST, with REST envelopes and errors.
#[test]
fn metadata_over_rest() {
    let server = TestServer::start();
    let m = meta(&server);
    let call = |method: &str, path: &str, body: Option<Value>| {
        let mut c = server
            .request(method, &format!("/rest/metadata{path}"))
            .bearer(&m.s.access);
        if let Some(b) = body {
            c = c.json(&b);
        }
        c.send()
    };
    let created = call(
        "POST",
        "/objects",
        Some(
            json!({"nameSingular": "boat", "namePlural": "boats", "labelSingular": "Boat", "labelPlural": "Boats"}),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let boat = created.json()["data"]["createOneObject"].clone();
    let id = boat["id"].as_str().unwrap().to_string();
    assert!(boat["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "name"));
    let listed = call("GET", "/objects", None).json();
    assert!(listed["data"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == id.as_str()));
    let field = call(
        "POST",
        "/fields",
        Some(
            json!({"objectMetadataId": id, "type": "NUMBER", "name": "length", "label": "Length"}),
        ),
    );
    assert_eq!(field.status, 201, "{}", field.text);
    let field_id = field.json()["data"]["createOneField"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The record API sees it at once.
    let rec = server
        .post("/rest/boats")
        .bearer(&m.s.access)
        .json(&json!({"name": "Calypso", "length": 42}))
        .send();
    assert_eq!(rec.status, 201, "{}", rec.text);
    assert_eq!(rec.json()["data"]["createBoat"]["length"], 42);
    // Errors in the REST envelope.
    let dup = call(
        "POST",
        "/fields",
        Some(json!({"objectMetadataId": id, "type": "NUMBER", "name": "length", "label": "Again"})),
    );
    assert_eq!(dup.status, 400, "{}", dup.text);
    assert_eq!(dup.json()["error"], "BadRequestException");
    assert!(dup.json()["messages"][0]
        .as_str()
        .unwrap()
        .contains("is not available"));
    assert_eq!(call("GET", "/objects/not-a-uuid", None).status, 400);
    assert_eq!(
        call(
            "GET",
            &format!("/fields/{}", "42422020-f49c-4159-8751-76a24f47b360"),
            None
        )
        .status,
        404
    );
    let renamed = call(
        "PATCH",
        &format!("/fields/{field_id}"),
        Some(json!({"label": "Length (m)"})),
    );
    assert_eq!(
        renamed.json()["data"]["updateOneField"]["label"],
        "Length (m)"
    );
    assert_eq!(
        call(
            "PATCH",
            &format!("/objects/{id}"),
            Some(json!({"isActive": false}))
        )
        .status,
        200
    );
    let deleted = call("DELETE", &format!("/objects/{id}"), None);
    assert_eq!(deleted.json()["data"]["deleteOneObject"]["id"], id.as_str());
    assert_eq!(
        server.get("/rest/boats").bearer(&m.s.access).send().status,
        400
    );
}
