//! Identity, black-box: Twenty's auth operations on /metadata, tokens, API keys, the
//! attacks a token verifier must refuse, and the rate limits. Against a real workerd.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use common::{dev_var, email, Options, Session, TestServer};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::Duration;

const CURRENT_USER: &str = "query GetCurrentUser { currentUser { id email firstName lastName hasPassword
    workspaceMember { id name { firstName lastName } userEmail locale colorScheme }
    workspaceMembers { id userEmail }
    currentUserWorkspace { id permissionFlags }
    currentWorkspace { id displayName activationStatus metadataVersion workspaceUrls { subdomainUrl customUrl } featureFlags { key value } }
    availableWorkspaces { availableWorkspacesForSignIn { id displayName } availableWorkspacesForSignUp { id } } } }";

const RENEW: &str = "mutation RenewToken($appToken: String!) { renewToken(appToken: $appToken) { tokens { accessOrWorkspaceAgnosticToken { token expiresAt } refreshToken { token expiresAt } } } }";

fn error_code(body: &Value) -> (String, String, String) {
    let e = &body["errors"][0];
    (
        e["extensions"]["code"].as_str().unwrap_or("").to_string(),
        e["extensions"]["subCode"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
    )
}

fn renew(server: &TestServer, refresh: &str) -> Value {
    server.gql("/metadata", None, RENEW, json!({ "appToken": refresh }))
}

fn pair(body: &Value, op: &str) -> (String, String) {
    let t = &body["data"][op]["tokens"];
    (
        t["accessOrWorkspaceAgnosticToken"]["token"]
            .as_str()
            .unwrap()
            .to_string(),
        t["refreshToken"]["token"].as_str().unwrap().to_string(),
    )
}

/// The claims of a JWT, without verifying it (to inspect what the server issued).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64URL.decode(payload).unwrap()).unwrap()
}

fn header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&B64URL.decode(h).unwrap()).unwrap()
}

/// The server's signing key, from .dev.vars (tests may forge tokens with it).
fn server_key() -> EncodingKey {
    let b64 = dev_var("JWT_PRIVATE_KEY");
    let pem = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    EncodingKey::from_rsa_pem(&pem).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn sign_up_sign_in_current_user_renew_sign_out() {
    let server = TestServer::start();
    let mail = email("flow");

    let exists = server.meta_ok(
        None,
        "query CheckUserExists($email: String!) { checkUserExists(email: $email) { exists availableWorkspacesCount isEmailVerified } }",
        json!({ "email": mail }),
    );
    assert_eq!(exists["checkUserExists"]["exists"], false);

    let s = server.new_workspace(&mail);
    let access = claims(&s.access);
    assert_eq!(access["type"], "ACCESS");
    assert_eq!(access["workspaceId"], s.workspace_id);
    for claim in [
        "sub",
        "userId",
        "workspaceMemberId",
        "userWorkspaceId",
        "exp",
        "iat",
    ] {
        assert!(!access[claim].is_null(), "{claim} in {access}");
    }
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        30 * 60
    );
    assert_eq!(header(&s.access)["alg"], "RS256");
    assert!(header(&s.access)["kid"].is_string());
    let refresh = claims(&s.refresh);
    assert_eq!(refresh["type"], "REFRESH");
    assert!(refresh["jti"].is_string());

    let exists = server.meta_ok(
        None,
        "query CheckUserExists($email: String!) { checkUserExists(email: $email) { exists availableWorkspacesCount } }",
        json!({ "email": mail.to_uppercase() }),
    );
    assert_eq!(exists["checkUserExists"]["exists"], true);
    assert_eq!(exists["checkUserExists"]["availableWorkspacesCount"], 1.0);

    // currentUser with the workspace token: the member created with the workspace.
    let me = server.meta_ok(Some(&s.access), CURRENT_USER, json!({}));
    let user = &me["currentUser"];
    assert_eq!(user["email"], mail);
    assert_eq!(user["hasPassword"], true);
    assert_eq!(user["workspaceMember"]["id"], access["workspaceMemberId"]);
    assert_eq!(user["workspaceMember"]["userEmail"], mail);
    assert_eq!(user["workspaceMember"]["colorScheme"], "System");
    assert_eq!(user["currentWorkspace"]["id"], s.workspace_id);
    assert_eq!(user["currentWorkspace"]["displayName"], "Acme");
    assert_eq!(user["currentWorkspace"]["activationStatus"], "ACTIVE");
    assert_eq!(user["workspaceMembers"].as_array().unwrap().len(), 1);
    assert!(user["currentUserWorkspace"]["permissionFlags"]
        .as_array()
        .unwrap()
        .contains(&json!("API_KEYS_AND_WEBHOOKS")));
    assert_eq!(
        user["availableWorkspaces"]["availableWorkspacesForSignIn"][0]["id"],
        s.workspace_id
    );

    // Sign in again the way the web app does: credentials -> login token -> tokens.
    let body = server.gql(
        "/metadata",
        None,
        "mutation GetLoginTokenFromCredentials($email: String!, $password: String!, $origin: String!) { getLoginTokenFromCredentials(email: $email, password: $password, origin: $origin) { loginToken { token expiresAt } } }",
        json!({ "email": mail, "password": s.password, "origin": "http://localhost:3001" }),
    );
    let login = body["data"]["getLoginTokenFromCredentials"]["loginToken"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let lc = claims(&login);
    assert_eq!(lc["type"], "LOGIN");
    assert_eq!(
        lc["exp"].as_i64().unwrap() - lc["iat"].as_i64().unwrap(),
        15 * 60
    );
    let exchange = "mutation GetAuthTokensFromLoginToken($loginToken: String!, $origin: String!) { getAuthTokensFromLoginToken(loginToken: $loginToken, origin: $origin) { tokens { accessOrWorkspaceAgnosticToken { token } refreshToken { token } } } }";
    let body = server.gql(
        "/metadata",
        None,
        exchange,
        json!({ "loginToken": login, "origin": "x" }),
    );
    let (access2, refresh2) = pair(&body, "getAuthTokensFromLoginToken");
    assert_eq!(claims(&access2)["workspaceId"], s.workspace_id);
    // A login token works once.
    let body = server.gql(
        "/metadata",
        None,
        exchange,
        json!({ "loginToken": login, "origin": "x" }),
    );
    assert_eq!(error_code(&body).0, "UNAUTHENTICATED", "{body}");

    // signIn returns a workspace-agnostic pair and the workspaces with login tokens.
    let body = server.gql(
        "/metadata",
        None,
        "mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { availableWorkspaces { availableWorkspacesForSignIn { id loginToken } } tokens { accessOrWorkspaceAgnosticToken { token } refreshToken { token } } } }",
        json!({ "email": mail, "password": s.password }),
    );
    let (agnostic, _) = pair(&body, "signIn");
    assert_eq!(claims(&agnostic)["type"], "WORKSPACE_AGNOSTIC");
    let ws = &body["data"]["signIn"]["availableWorkspaces"]["availableWorkspacesForSignIn"][0];
    assert_eq!(ws["id"], s.workspace_id);
    assert!(ws["loginToken"].is_string());
    // currentUser with an agnostic token: no workspace part.
    let me = server.meta_ok(Some(&agnostic), CURRENT_USER, json!({}));
    assert!(me["currentUser"]["workspaceMember"].is_null());
    assert!(me["currentUser"]["currentWorkspace"].is_null());
    assert_eq!(me["currentUser"]["workspaceMembers"], json!([]));

    // Renew rotates: a new pair that works, for the same workspace.
    let body = renew(&server, &refresh2);
    let (access3, refresh3) = pair(&body, "renewToken");
    assert_ne!(refresh3, refresh2);
    assert_eq!(claims(&access3)["workspaceId"], s.workspace_id);
    server.meta_ok(Some(&access3), CURRENT_USER, json!({}));

    // Sign out revokes the refresh token.
    let out = server.meta_ok(
        None,
        "mutation SignOut($refreshToken: String) { signOut(refreshToken: $refreshToken) }",
        json!({ "refreshToken": refresh3 }),
    );
    assert_eq!(out["signOut"], true);
    let body = renew(&server, &refresh3);
    assert!(
        body["errors"].is_array(),
        "renew after sign-out must fail: {body}"
    );
}

#[test]
fn credential_and_input_errors_use_twentys_codes() {
    let server = TestServer::start();
    let mail = email("errors");
    let sign_up = "mutation SignUp($email: String!, $password: String!) { signUp(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } } } }";
    let body = server.gql(
        "/metadata",
        None,
        sign_up,
        json!({ "email": mail, "password": "short" }),
    );
    assert_eq!(error_code(&body).0, "BAD_USER_INPUT", "{body}");
    let body = server.gql(
        "/metadata",
        None,
        sign_up,
        json!({ "email": "not-an-email", "password": "long enough pw" }),
    );
    assert_eq!(error_code(&body).0, "BAD_USER_INPUT", "{body}");
    server.meta_ok(
        None,
        sign_up,
        json!({ "email": mail, "password": "long enough pw" }),
    );
    let body = server.gql(
        "/metadata",
        None,
        sign_up,
        json!({ "email": mail, "password": "long enough pw" }),
    );
    assert_eq!(error_code(&body).0, "FORBIDDEN", "{body}");
    assert_eq!(error_code(&body).1, "USER_ALREADY_EXISTS", "{body}");

    let sign_in = "mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } } } }";
    let body = server.gql(
        "/metadata",
        None,
        sign_in,
        json!({ "email": mail, "password": "wrong password" }),
    );
    assert_eq!(error_code(&body).0, "FORBIDDEN", "{body}");
    assert_eq!(error_code(&body).2, "Wrong password");
    let body = server.gql(
        "/metadata",
        None,
        sign_in,
        json!({ "email": email("nobody"), "password": "whatever123" }),
    );
    assert_eq!(error_code(&body).1, "USER_NOT_FOUND", "{body}");
    // Not logged anywhere: the password.
    assert!(!server.logs().contains("long enough pw"));

    // Operations needing a session refuse anonymous callers.
    let body = server.gql("/metadata", None, CURRENT_USER, json!({}));
    assert_eq!(error_code(&body).0, "UNAUTHENTICATED", "{body}");
    let body = server.gql("/metadata", None, "{ currentUser { nope } }", json!({}));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nope"),
        "{body}"
    );
}

#[test]
fn sessions_end_after_inactivity() {
    let server = TestServer::start_with(Options {
        vars: vec![("SESSION_IDLE_TIMEOUT_SECS", "2".into())],
        ..Default::default()
    });
    let s = server.new_workspace(&email("idle"));
    // Active session: renewing within the window works and extends it.
    let (_, r2) = pair(&renew(&server, &s.refresh), "renewToken");
    std::thread::sleep(Duration::from_millis(3_500));
    let body = renew(&server, &r2);
    let (code, _, msg) = error_code(&body);
    assert_eq!(code, "UNAUTHENTICATED", "{body}");
    assert!(msg.contains("inactivity"), "{msg}");
}

#[test]
fn reusing_a_rotated_refresh_token_revokes_every_session() {
    let server = TestServer::start_with(Options {
        vars: vec![("REFRESH_REUSE_GRACE_SECS", "1".into())],
        ..Default::default()
    });
    let s = server.new_workspace(&email("reuse"));
    let (_, r2) = pair(&renew(&server, &s.refresh), "renewToken");
    // Within the grace period a concurrent renew of the old token still works.
    let body = renew(&server, &s.refresh);
    assert!(body.get("errors").is_none(), "{body}");
    std::thread::sleep(Duration::from_millis(2_500));
    let body = renew(&server, &s.refresh);
    let (code, _, msg) = error_code(&body);
    assert_eq!(code, "FORBIDDEN", "{body}");
    assert!(msg.contains("Suspicious activity"), "{msg}");
    // Every refresh token of the user is now revoked, including the legitimate newest one.
    let body = renew(&server, &r2);
    assert!(body["errors"].is_array(), "{body}");
}

#[test]
fn expired_access_tokens_say_so_for_silent_refresh() {
    let server = TestServer::start_with(Options {
        vars: vec![("ACCESS_TOKEN_TTL_SECS", "1".into())],
        ..Default::default()
    });
    let s = server.new_workspace(&email("expired"));
    std::thread::sleep(Duration::from_millis(7_000)); // past exp plus the 5 s leeway
    let body = server.gql("/metadata", Some(&s.access), CURRENT_USER, json!({}));
    let (code, sub, msg) = error_code(&body);
    assert_eq!(
        (code.as_str(), sub.as_str()),
        ("UNAUTHENTICATED", "token_expired"),
        "{body}"
    );
    assert_eq!(msg, "Token has expired.");
    let resp = server.gql_call("/graphql", Some(&s.access), "{ __typename }", json!({}));
    assert_eq!(resp.status, 200);
    assert_eq!(error_code(&resp.json()).1, "token_expired");
    // The refresh token still renews.
    let body = renew(&server, &s.refresh);
    assert!(body.get("errors").is_none(), "{body}");
}

#[test]
fn forged_and_malformed_tokens_are_refused() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("attacks"));
    let good = claims(&s.access);
    let kid = header(&s.access)["kid"].as_str().unwrap().to_string();
    let unauthenticated = |token: &str, why: &str| {
        let body = server.gql("/metadata", Some(token), CURRENT_USER, json!({}));
        assert_eq!(error_code(&body).0, "UNAUTHENTICATED", "{why}: {body}");
    };
    let parts: Vec<&str> = s.access.split('.').collect();

    // alg: none.
    let none = format!(
        "{}.{}.",
        B64URL.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    unauthenticated(&none, "alg none");

    // HS256 signed with the public key (the JWKS modulus) as HMAC secret.
    let jwks = server.get("/.well-known/jwks.json").send().json();
    let public = jwks["keys"][0].to_string();
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::HS256)
        },
        &good,
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    unauthenticated(&hs, "HS256 with public key");

    // A different RSA key claiming our kid, and a wrong kid.
    let other_key = EncodingKey::from_rsa_pem(include_bytes!("fixtures/test-rsa-key.pem")).unwrap();
    let foreign = jsonwebtoken::encode(
        &Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::RS256)
        },
        &good,
        &other_key,
    )
    .unwrap();
    unauthenticated(&foreign, "foreign key");
    let wrong_kid = jsonwebtoken::encode(
        &Header {
            kid: Some("no-such-kid".into()),
            ..Header::new(Algorithm::RS256)
        },
        &good,
        &server_key(),
    )
    .unwrap();
    unauthenticated(&wrong_kid, "wrong kid");

    // Tampered payload (another workspace), original signature.
    let mut forged = good.clone();
    forged["workspaceId"] = json!(uuid::Uuid::new_v4().to_string());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64URL.encode(forged.to_string()),
        parts[2]
    );
    unauthenticated(&tampered, "tampered");

    // Validly signed but not yet valid (issued an hour from now).
    let mut future = good.clone();
    future["iat"] = json!(now() + 3600);
    future["exp"] = json!(now() + 7200);
    let nyv = jsonwebtoken::encode(
        &Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::RS256)
        },
        &future,
        &server_key(),
    )
    .unwrap();
    unauthenticated(&nyv, "not yet valid");

    // Validly signed, expired.
    let mut old = good.clone();
    old["iat"] = json!(now() - 7200);
    old["exp"] = json!(now() - 3600);
    let expired = jsonwebtoken::encode(
        &Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::RS256)
        },
        &old,
        &server_key(),
    )
    .unwrap();
    let body = server.gql("/metadata", Some(&expired), CURRENT_USER, json!({}));
    assert_eq!(error_code(&body).1, "token_expired", "{body}");

    // A refresh token is not an access token.
    let body = server.gql("/metadata", Some(&s.refresh), CURRENT_USER, json!({}));
    assert!(body["errors"].is_array(), "{body}");

    // Malformed Authorization headers.
    for h in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer a b",
        "garbage",
        "Bearer not.a.jwt",
    ] {
        let resp = server
            .post("/metadata")
            .header("authorization", h)
            .json(&json!({ "query": CURRENT_USER }))
            .send();
        assert_eq!(resp.status, 200, "{h}");
        assert_eq!(
            error_code(&resp.json()).0,
            "UNAUTHENTICATED",
            "{h}: {}",
            resp.text
        );
    }
    // None of it reached the logs.
    let logs = server.logs();
    assert!(
        !logs.contains(&s.access) && !logs.contains(&s.refresh),
        "a token was logged"
    );
}

#[test]
fn workspaces_are_isolated_and_removed_members_are_locked_out() {
    let server = TestServer::start();
    let a = server.new_workspace(&email("alice"));
    let b = server.new_workspace(&email("bob"));
    assert_ne!(a.workspace_id, b.workspace_id);

    // Each token sees its own workspace only.
    let me_a = server.meta_ok(Some(&a.access), CURRENT_USER, json!({}));
    assert_eq!(
        me_a["currentUser"]["currentWorkspace"]["id"],
        a.workspace_id
    );
    let members: Vec<&Value> = me_a["currentUser"]["workspaceMembers"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["userEmail"], a.email);

    // A token claiming workspace B with A's member id, signed by the server's own key (as if
    // the signing key leaked into a client): B's actor does not know A's member.
    let mut crossed = claims(&a.access);
    crossed["workspaceId"] = json!(b.workspace_id);
    let kid = header(&a.access)["kid"].as_str().unwrap().to_string();
    let token = jsonwebtoken::encode(
        &Header {
            kid: Some(kid),
            ..Header::new(Algorithm::RS256)
        },
        &crossed,
        &server_key(),
    )
    .unwrap();
    let body = server.gql("/metadata", Some(&token), CURRENT_USER, json!({}));
    assert_eq!(error_code(&body).0, "FORBIDDEN", "{body}");

    // API keys of B are invisible to A.
    let key = create_api_key(&server, &b, "2099-01-01T00:00:00Z");
    let list = server.meta_ok(Some(&a.access), "{ apiKeys { id } }", json!({}));
    assert!(!list["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == key));

    // An admin removing a member locks that member's tokens out immediately.
    let member_id = claims(&a.access)["workspaceMemberId"]
        .as_str()
        .unwrap()
        .to_string();
    server.meta_ok(
        Some(&a.access),
        "mutation D($id: String!) { deleteUserFromWorkspace(workspaceMemberIdToDelete: $id) { id } }",
        json!({ "id": member_id }),
    );
    let body = server.gql("/metadata", Some(&a.access), CURRENT_USER, json!({}));
    assert_eq!(error_code(&body).0, "FORBIDDEN", "{body}");
    // And the refresh token no longer yields a workspace token.
    let body = renew(&server, &a.refresh);
    assert!(body["errors"].is_array(), "{body}");
}

fn create_api_key(server: &TestServer, s: &Session, expires_at: &str) -> String {
    let data = server.meta_ok(
        Some(&s.access),
        "mutation CreateApiKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { id name expiresAt revokedAt role { id label } } }",
        json!({ "input": { "name": "Zapier", "expiresAt": expires_at, "roleId": "20202020-0000-4000-8000-00000000ad01" } }),
    );
    assert_eq!(data["createApiKey"]["name"], "Zapier");
    data["createApiKey"]["id"].as_str().unwrap().to_string()
}

#[test]
fn api_key_lifecycle() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("keys"));
    let id = create_api_key(&server, &s, "2099-01-01T00:00:00Z");
    let data = server.meta_ok(
        Some(&s.access),
        "mutation G($apiKeyId: UUID!, $expiresAt: String!) { generateApiKeyToken(apiKeyId: $apiKeyId, expiresAt: $expiresAt) { token } }",
        json!({ "apiKeyId": id, "expiresAt": "2099-01-01T00:00:00Z" }),
    );
    let token = data["generateApiKeyToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let c = claims(&token);
    assert_eq!(c["type"], "API_KEY");
    assert_eq!(c["jti"], id);
    assert_eq!(c["sub"], s.workspace_id);

    // The key works, and is listed.
    let list = server.meta_ok(Some(&token), "{ apiKeys { id name revokedAt } }", json!({}));
    assert!(list["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["id"] == id));
    let one = server.meta_ok(
        Some(&s.access),
        "query K($input: GetApiKeyInput!) { apiKey(input: $input) { id createdAt } }",
        json!({ "input": { "id": id } }),
    );
    assert_eq!(one["apiKey"]["id"], id);

    // Revoked: refused with FORBIDDEN from the next request on.
    let revoked = server.meta_ok(
        Some(&s.access),
        "mutation R($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }",
        json!({ "input": { "id": id } }),
    );
    assert!(revoked["revokeApiKey"]["revokedAt"].is_string());
    let body = server.gql("/metadata", Some(&token), "{ apiKeys { id } }", json!({}));
    assert_eq!(error_code(&body).0, "FORBIDDEN", "{body}");
    let body = server.gql(
        "/metadata",
        Some(&s.access),
        "mutation G($apiKeyId: UUID!, $expiresAt: String!) { generateApiKeyToken(apiKeyId: $apiKeyId, expiresAt: $expiresAt) { token } }",
        json!({ "apiKeyId": id, "expiresAt": "2099-01-01T00:00:00Z" }),
    );
    assert_eq!(error_code(&body).1, "API_KEY_REVOKED", "{body}");

    // Expired keys cannot mint tokens, and an expired key token is refused.
    let past = create_api_key(&server, &s, "2020-01-01T00:00:00Z");
    let body = server.gql(
        "/metadata",
        Some(&s.access),
        "mutation G($apiKeyId: UUID!, $expiresAt: String!) { generateApiKeyToken(apiKeyId: $apiKeyId, expiresAt: $expiresAt) { token } }",
        json!({ "apiKeyId": past, "expiresAt": "2020-01-01T00:00:00Z" }),
    );
    assert_eq!(error_code(&body).0, "BAD_USER_INPUT", "{body}");
    let mut forged = claims(&token);
    forged["jti"] = json!(past);
    forged["exp"] = json!(now() + 3600);
    let kid = header(&token)["kid"].as_str().unwrap().to_string();
    let expired_key_token = jsonwebtoken::encode(
        &Header {
            kid: Some(kid),
            ..Header::new(Algorithm::RS256)
        },
        &forged,
        &server_key(),
    )
    .unwrap();
    let body = server.gql(
        "/metadata",
        Some(&expired_key_token),
        "{ apiKeys { id } }",
        json!({}),
    );
    assert_eq!(error_code(&body).0, "FORBIDDEN", "{body}");
}

#[test]
fn jwks_publishes_the_verifying_key() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("jwks"));
    let jwks = server.get("/.well-known/jwks.json").send().json();
    let kid = header(&s.access)["kid"].clone();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("{kid} not in {jwks}"));
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(&s.access, &decoding, &validation)
        .expect("verifies with the JWKS");
}

#[test]
fn cors_for_the_frontend() {
    let server = TestServer::start();
    let resp = server
        .request("OPTIONS", "/graphql")
        .header("origin", "http://localhost:3001")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send();
    assert_eq!(resp.status, 204, "{}", resp.text);
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://localhost:3001")
    );
    assert_eq!(
        resp.header("access-control-allow-credentials"),
        Some("true")
    );
    let resp = server
        .request("OPTIONS", "/graphql")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send();
    assert_eq!(resp.status, 403);
    assert!(resp.header("access-control-allow-origin").is_none());
    let resp = server
        .get("/health")
        .header("origin", "http://localhost:3001")
        .send();
    assert_eq!(
        resp.header("access-control-allow-origin"),
        Some("http://localhost:3001")
    );
    assert!(resp
        .header("access-control-expose-headers")
        .unwrap()
        .contains("X-RateLimit-Remaining"));
}

#[test]
fn anonymous_limit_is_exactly_100_per_minute() {
    let server = TestServer::start();
    let q = "query C($email: String!) { checkUserExists(email: $email) { exists } }";
    let first = server.gql_call("/metadata", None, q, json!({ "email": "a@b.co" }));
    assert_eq!(first.header("x-ratelimit-limit"), Some("100"));
    let mut remaining: u32 = first
        .header("x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!(first.header("x-ratelimit-reset").is_some());
    // Spend the rest of the window (start-up polling of /health counted too).
    while remaining > 0 {
        let r = server.gql_call("/metadata", None, q, json!({ "email": "a@b.co" }));
        assert_eq!(r.status, 200, "{}", r.text);
        let now: u32 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
        assert_eq!(now, remaining - 1, "every request counts exactly once");
        remaining = now;
    }
    let r = server.gql_call("/metadata", None, q, json!({ "email": "a@b.co" }));
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(
        r.json()["errors"][0]["extensions"]["code"],
        "TOO_MANY_REQUESTS"
    );
    // Plain routes use the plain envelope.
    server
        .get("/health")
        .send()
        .assert_error(429, "RATE_LIMITED");
}

#[test]
fn workspace_limit_is_exactly_1000_per_minute() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("busy"));
    let q = "{ apiKeys { id } }";
    let mut last_remaining = None;
    for i in 0..1000 {
        let r = server.gql_call("/metadata", Some(&s.access), q, json!({}));
        assert_eq!(r.status, 200, "request {}: {}", i + 1, r.text);
        let rem: u32 = r.header("x-ratelimit-remaining").unwrap().parse().unwrap();
        if let Some(prev) = last_remaining {
            assert_eq!(rem, prev - 1);
        }
        assert_eq!(r.header("x-ratelimit-limit"), Some("1000"));
        last_remaining = Some(rem);
        if rem == 0 {
            break;
        }
    }
    assert_eq!(last_remaining, Some(0));
    let r = server.gql_call("/metadata", Some(&s.access), q, json!({}));
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.header("retry-after").is_some());
    // Another workspace is unaffected.
    let other = server.new_workspace(&email("calm"));
    let r = server.gql_call("/metadata", Some(&other.access), q, json!({}));
    assert_eq!(r.status, 200);
}

#[test]
fn sign_in_attempts_per_email_are_limited() {
    let server = TestServer::start();
    let mail = email("guess");
    let sign_in = "mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } } } }";
    for i in 0..20 {
        let body = server.gql(
            "/metadata",
            None,
            sign_in,
            json!({ "email": mail, "password": format!("guess-{i}-xx") }),
        );
        assert_ne!(
            error_code(&body).0,
            "TOO_MANY_REQUESTS",
            "attempt {}",
            i + 1
        );
    }
    let body = server.gql(
        "/metadata",
        None,
        sign_in,
        json!({ "email": mail, "password": "guess-21-xx" }),
    );
    assert_eq!(error_code(&body).0, "TOO_MANY_REQUESTS", "{body}");
}

#[test]
fn rotated_signing_keys_keep_verifying_their_tokens() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("rotate"));
    let old_kid = header(&s.access)["kid"].as_str().unwrap().to_string();
    // Rotate: the same state, a new JWT_PRIVATE_KEY secret.
    let new_key = base64::engine::general_purpose::STANDARD
        .encode(include_bytes!("fixtures/test-rsa-key.pem"));
    let server = server.restart_with(Options {
        vars: vec![("JWT_PRIVATE_KEY", new_key)],
        ..Default::default()
    });
    // Tokens signed before the rotation still verify ...
    let me = server.meta_ok(Some(&s.access), CURRENT_USER, json!({}));
    assert_eq!(me["currentUser"]["email"], s.email);
    // ... and renew into tokens signed by the new key.
    let body = renew(&server, &s.refresh);
    let (access, _) = pair(&body, "renewToken");
    let new_kid = header(&access)["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, old_kid);
    server.meta_ok(Some(&access), CURRENT_USER, json!({}));
    // Both keys are published while tokens of the old one can be alive.
    let jwks = server.get("/.well-known/jwks.json").send().json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
}
