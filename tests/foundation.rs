//! The foundation, black-box: health, request ids, errors, panics, logs, the admin actor
//! inspection, and persistence across a restart. Every test talks HTTP to a real workerd.

mod common;

use common::{Options, TestServer};

const WS: &str = "6f0b8a3e-1111-4222-8333-444455556666";

#[test]
fn health_checks_every_service_for_real() {
    let server = TestServer::start();
    let resp = server.get("/health").send();
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["status"], "healthy", "{body}");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok(),
        "{body}"
    );
    for service in ["database", "cache", "storage", "queues"] {
        assert_eq!(
            body["services"][service]["status"], "up",
            "{service}: {body}"
        );
        assert!(body["services"][service]["latencyMs"].is_u64(), "{body}");
    }
}

#[test]
fn health_is_degraded_without_kv_and_unhealthy_without_d1() {
    let server = TestServer::start_with(Options {
        without_bindings: vec!["CACHE_STORE"],
        ..Default::default()
    });
    let resp = server.get("/health").send();
    assert_eq!(resp.status, 200, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["services"]["cache"]["status"], "down", "{body}");
    assert_eq!(body["services"]["database"]["status"], "up", "{body}");
    drop(server);

    let server = TestServer::start_with(Options {
        without_bindings: vec!["DB"],
        ..Default::default()
    });
    let resp = server.get("/health").send();
    assert_eq!(resp.status, 503, "{}", resp.text);
    let body = resp.json();
    assert_eq!(body["status"], "unhealthy", "{body}");
    assert_eq!(body["services"]["database"]["status"], "down", "{body}");
    assert_eq!(body["services"]["cache"]["status"], "up", "{body}");
}

#[test]
fn request_ids_are_honoured_or_generated() {
    let server = TestServer::start();
    let resp = server
        .get("/health")
        .header("x-request-id", "trace-abc-123")
        .send();
    assert_eq!(resp.header("x-request-id"), Some("trace-abc-123"));

    let resp = server.get("/health").send();
    let generated = resp.header("x-request-id").expect("x-request-id");
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    // A hostile id is replaced, not echoed.
    let resp = server
        .get("/health")
        .header("x-request-id", "<script>alert(1)</script>")
        .send();
    let id = resp.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    // Errors carry it too, in the header and the body.
    let resp = server
        .get("/no/such/route")
        .header("x-request-id", "rid-404")
        .send();
    let body = resp.assert_error(404, "NOT_FOUND");
    assert_eq!(body["error"]["requestId"], "rid-404");
}

#[test]
fn admin_requires_the_admin_token() {
    let server = TestServer::start();
    let path = format!("/admin/actors/workspaces/{WS}");
    server.get(&path).send().assert_error(401, "UNAUTHORIZED");
    server
        .get(&path)
        .bearer("not-the-token")
        .send()
        .assert_error(401, "UNAUTHORIZED");
    // Right length, wrong content.
    let wrong = "x".repeat(server.admin_token().len());
    server
        .get(&path)
        .bearer(&wrong)
        .send()
        .assert_error(401, "UNAUTHORIZED");
    server
        .get(&path)
        .header("authorization", &server.admin_token())
        .send()
        .assert_error(401, "UNAUTHORIZED");
    let body = server
        .get("/admin/actors/workspaces/not-a-uuid")
        .bearer(&server.admin_token())
        .send()
        .assert_error(400, "VALIDATION_ERROR");
    assert_eq!(body["error"]["details"]["field"], "workspaceId");
}

#[test]
fn the_actor_migrates_itself_and_reports_its_state() {
    let server = TestServer::start();
    let body = server.inspect(WS);
    assert_eq!(body["workspaceId"], WS);
    assert_eq!(body["schemaVersion"], body["latestSchemaVersion"], "{body}");
    assert!(body["schemaVersion"].as_u64().unwrap() >= 1);
    assert_eq!(body["migrations"][0]["id"], 1);
    assert_eq!(body["migrations"][0]["name"], "init");
    let tables: Vec<&str> = body["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in ["_migrations", "_actor_meta", "_outbox"] {
        assert!(tables.contains(&t), "{t} in {tables:?}");
    }
    assert_eq!(body["outboxDepth"], 0);
    assert_eq!(body["webSockets"], 0);
    assert!(body["storageBytes"].as_u64().unwrap() > 0, "{body}");

    // Another workspace is another actor with its own storage.
    let other = server.inspect("00000000-0000-4000-8000-00000000000b");
    assert_eq!(other["workspaceId"], "00000000-0000-4000-8000-00000000000b");
}

#[test]
fn a_panic_costs_one_request_and_nothing_else() {
    let server = TestServer::start();
    let admin = server.admin_token();
    let before = server.inspect(WS);

    for target in ["gateway", "actor"] {
        let resp = server
            .post(&format!(
                "/admin/debug/panic?target={target}&workspaceId={WS}"
            ))
            .bearer(&admin)
            .header("x-request-id", &format!("panic-{target}"))
            .send();
        let body = resp.assert_error(500, "INTERNAL_ERROR");
        assert_eq!(body["error"]["requestId"], format!("panic-{target}"));
        assert_eq!(body["error"]["message"], "Internal server error");
        assert!(
            !resp.text.contains("deliberate"),
            "panic text leaked: {}",
            resp.text
        );

        // The next requests work, and the actor's data is intact.
        assert_eq!(server.get("/health").send().status, 200);
        let after = server.inspect(WS);
        assert_eq!(after["migrations"], before["migrations"]);
    }
    // The panic was logged with the request id.
    server.wait_for_log("for the actor panic", |l| {
        l["requestId"] == "panic-actor" && l["level"] == "ERROR"
    });
}

#[test]
fn one_json_log_line_per_request_without_secrets() {
    let server = TestServer::start();
    let admin = server.admin_token();
    server
        .get(&format!("/admin/actors/workspaces/{WS}"))
        .bearer(&admin)
        .header("x-request-id", "log-check-1")
        .send();
    let line = server.wait_for_log("for log-check-1", |l| {
        l["requestId"] == "log-check-1" && l["message"] == "request"
    });
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["workspaceId"], WS);
    assert_eq!(line["status"], 200);
    assert_eq!(line["method"], "GET");
    assert!(line["duration"].is_u64(), "{line}");
    assert!(
        chrono::DateTime::parse_from_rfc3339(line["timestamp"].as_str().unwrap()).is_ok(),
        "{line}"
    );
    let count = server
        .json_logs()
        .iter()
        .filter(|l| l["requestId"] == "log-check-1" && l["message"] == "request")
        .count();
    assert_eq!(count, 1);

    // A refused request is a warning with the error.
    server
        .get(&format!("/admin/actors/workspaces/{WS}"))
        .bearer("wrong-token-value")
        .header("x-request-id", "log-check-2")
        .send();
    let line = server.wait_for_log("for log-check-2", |l| l["requestId"] == "log-check-2");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["status"], 401);
    assert!(line["error"].is_string());

    let logs = server.logs();
    assert!(!logs.contains(&admin), "the admin token was logged");
    assert!(
        !logs.contains("wrong-token-value"),
        "a presented token was logged"
    );
}

#[test]
fn log_level_is_respected() {
    let server = TestServer::start_with(Options {
        vars: vec![("LOG_LEVEL", "warn".into())],
        ..Default::default()
    });
    server
        .get("/health")
        .header("x-request-id", "quiet-1")
        .send();
    server
        .get("/nowhere")
        .header("x-request-id", "loud-1")
        .send();
    server.wait_for_log("for the 404 at warn", |l| l["requestId"] == "loud-1");
    assert!(
        !server
            .json_logs()
            .iter()
            .any(|l| l["requestId"] == "quiet-1"),
        "an info line was logged at LOG_LEVEL=warn"
    );
}

#[test]
fn cron_triggers_run() {
    let server = TestServer::start();
    let resp = server
        .get("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*")
        .send();
    assert!(resp.status < 300, "{} {}", resp.status, resp.text);
    let line = server.wait_for_log("for the cron tick", |l| l["message"] == "cron tick");
    assert_eq!(line["cron"], "*/5 * * * *");
}

#[test]
fn actor_data_survives_a_restart() {
    let server = TestServer::start();
    let before = server.inspect(WS);
    // A real workspace with a record in it, too.
    let s = server.new_workspace(&common::email("restart"));
    let created = server.gql(
        "/graphql",
        Some(&s.access),
        "mutation { createCompany(data: {name: \"Durable Inc\"}) { id } }",
        serde_json::json!({}),
    );
    let id = created["data"]["createCompany"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let server = server.restart();
    let after = server.inspect(WS);
    assert_eq!(after["workspaceId"], WS);
    // Same ledger, same timestamps: the actor was not re-created, its storage was kept.
    assert_eq!(after["migrations"], before["migrations"]);
    let found = server.gql(
        "/graphql",
        Some(&s.access),
        "query Q($id: UUID!) { company(filter: {id: {eq: $id}}) { name } }",
        serde_json::json!({ "id": id }),
    );
    assert_eq!(found["data"]["company"]["name"], "Durable Inc", "{found}");
}
