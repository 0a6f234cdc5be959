//! The web app's Settings and sign-up flows (issue #12), replayed as twenty-front sends
//! them: the same operation names, variables and selections (the source file of each is
//! named next to it). Emails go through the real `http` email transport to a receiver this
//! test runs on loopback, and the tests follow the links in them.

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FRONTEND_URL: &str = "http://localhost:3001";
const EMAIL_API_KEY: &str = "test-email-api-key";
const MEMBER_ROLE_ID: &str = "20202020-0000-4000-8000-00000000ad02";
const PASSWORD: &str = "correct horse battery staple";

/// One received message: its request headers and JSON body.
type Mail = (Vec<(String, String)>, Value);

/// An HTTP email API on loopback: records every POSTed message with its headers.
struct MailReceiver {
    url: String,
    received: Arc<Mutex<Vec<Mail>>>,
}

impl MailReceiver {
    fn start() -> MailReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mail receiver");
        let url = format!(
            "http://127.0.0.1:{}/emails",
            listener.local_addr().expect("addr").port()
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
                let mut headers = Vec::new();
                let mut line = String::new();
                // Request line, then headers up to the blank line.
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let len = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                sink.lock().unwrap().push((headers, message));
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                );
            }
        });
        MailReceiver { url, received }
    }

    fn server(&self) -> TestServer {
        self.server_with(vec![])
    }

    fn server_with(&self, mut vars: Vec<(&'static str, String)>) -> TestServer {
        vars.extend([
            ("EMAIL_DRIVER", "http".to_string()),
            ("EMAIL_HTTP_URL", self.url.clone()),
            ("EMAIL_HTTP_API_KEY", EMAIL_API_KEY.to_string()),
            ("EMAIL_FROM_ADDRESS", "crm@example.com".to_string()),
        ]);
        TestServer::start_with(common::Options {
            vars,
            ..Default::default()
        })
    }

    /// Messages sent to `to` so far.
    fn to(&self, to: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m["to"] == to)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Waits for the `n`th (1-based) message to `to` and returns it; checks the transport's
    /// request on the way (authorization, message fields).
    fn nth(&self, to: &str, n: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let all = self.received.lock().unwrap();
                let mine: Vec<_> = all.iter().filter(|(_, m)| m["to"] == to).collect();
                if let Some((headers, m)) = mine.get(n - 1) {
                    let auth = headers.iter().find(|(k, _)| k == "authorization");
                    assert_eq!(
                        auth.map(|(_, v)| v.as_str()),
                        Some(format!("Bearer {EMAIL_API_KEY}").as_str())
                    );
                    for field in ["from", "to", "subject", "text", "html"] {
                        assert!(
                            m[field].as_str().is_some_and(|s| !s.is_empty()),
                            "{field}: {m}"
                        );
                    }
                    assert!(
                        m["from"].as_str().unwrap().contains("<crm@example.com>"),
                        "{m}"
                    );
                    return m.clone();
                }
            }
            assert!(Instant::now() < deadline, "no email #{n} to {to}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The first link in an email's text that starts with `prefix`.
fn link(message: &Value, prefix: &str) -> url::Url {
    let text = message["text"].as_str().unwrap();
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link {prefix} in {text}"));
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |e| start + e);
    url::Url::parse(&text[start..end]).expect("link parses")
}

fn query_param(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// Asserts a GraphQL answer failed with `code` (extensions.code) and returns the error.
fn assert_gql_error(body: &Value, op: &str, code: &str) -> Value {
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], code, "{op}: {body}");
    assert!(e["message"].is_string(), "{op}: {body}");
    e.clone()
}

/// `data.<field>` of an operation that must succeed; names the operation when it fails.
fn ok(server: &TestServer, token: Option<&str>, op: &str, query: &str, vars: Value) -> Value {
    let body = server.gql("/metadata", token, query, vars);
    assert!(body.get("errors").is_none(), "{op} failed: {body}");
    body["data"].clone()
}

/// Every path in `paths` (dotted) is present and non-null in `v`.
fn assert_non_null(op: &str, v: &Value, paths: &[&str]) {
    for p in paths {
        let mut cur = v;
        for part in p.split('.') {
            cur = &cur[part];
        }
        assert!(!cur.is_null(), "{op}: {p} is null in {v}");
    }
}

// twenty-front: modules/auth/graphql/mutations/getAuthTokensFromLoginToken.ts
const GET_AUTH_TOKENS_FROM_LOGIN_TOKEN: &str = "mutation GetAuthTokensFromLoginToken($loginToken: String!, $origin: String!) { getAuthTokensFromLoginToken(loginToken: $loginToken, origin: $origin) { tokens { accessOrWorkspaceAgnosticToken { token expiresAt } refreshToken { token expiresAt } } } }";

// twenty-front: modules/auth/graphql/mutations/signUpInWorkspace.ts (without
// `isEmailVerificationRequired`, which twenty-client-sdk 2.43's SignUp type does not have)
const SIGN_UP_IN_WORKSPACE: &str = r#"
mutation SignUpInWorkspace($email: String!, $password: String!, $workspaceInviteHash: String, $workspacePersonalInviteToken: String = null, $captchaToken: String, $workspaceId: UUID, $locale: String, $verifyEmailRedirectPath: String) {
  signUpInWorkspace(email: $email, password: $password, workspaceInviteHash: $workspaceInviteHash, workspacePersonalInviteToken: $workspacePersonalInviteToken, captchaToken: $captchaToken, workspaceId: $workspaceId, locale: $locale, verifyEmailRedirectPath: $verifyEmailRedirectPath) {
    loginToken { ...AuthTokenFragment }
    workspace { id workspaceUrls { subdomainUrl customUrl } }
  }
}
fragment AuthTokenFragment on AuthToken { token expiresAt }"#;

/// The access token a login token is worth.
fn exchange(server: &TestServer, login_token: &str) -> (String, String) {
    let data = ok(
        server,
        None,
        "GetAuthTokensFromLoginToken",
        GET_AUTH_TOKENS_FROM_LOGIN_TOKEN,
        json!({ "loginToken": login_token, "origin": FRONTEND_URL }),
    );
    let t = &data["getAuthTokensFromLoginToken"]["tokens"];
    (
        t["accessOrWorkspaceAgnosticToken"]["token"]
            .as_str()
            .unwrap()
            .to_string(),
        t["refreshToken"]["token"].as_str().unwrap().to_string(),
    )
}

/// `signUpInWorkspace` then the token exchange: the new member's access token.
fn sign_up_in_workspace(server: &TestServer, vars: Value) -> (Value, String) {
    let data = ok(
        server,
        None,
        "SignUpInWorkspace",
        SIGN_UP_IN_WORKSPACE,
        vars,
    );
    let out = data["signUpInWorkspace"].clone();
    assert_non_null(
        "SignUpInWorkspace",
        &out,
        &[
            "loginToken.token",
            "loginToken.expiresAt",
            "workspace.id",
            "workspace.workspaceUrls.subdomainUrl",
        ],
    );
    let (access, _) = exchange(server, out["loginToken"]["token"].as_str().unwrap());
    (out, access)
}

const CURRENT_USER: &str = "{ currentUser { id email locale workspaceMember { id name { firstName lastName } colorScheme locale userEmail } workspaceMembers { id userEmail } currentWorkspace { id displayName logo inviteHash isPublicInviteLinkEnabled allowImpersonation activationStatus workspaceMembersCount } } }";

fn current_user(server: &TestServer, token: &str) -> Value {
    ok(server, Some(token), "currentUser", CURRENT_USER, json!({}))["currentUser"].clone()
}

// twenty-front: modules/object-metadata/graphql/queries.ts
const OBJECT_RECORD_COUNTS: &str =
    "query ObjectRecordCounts { objectRecordCounts { objectNamePlural totalCount } }";

// twenty-front: modules/settings/profile/graphql/mutations/updateWorkspaceMemberSettings.ts
const UPDATE_WORKSPACE_MEMBER_SETTINGS: &str = "mutation UpdateWorkspaceMemberSettings($input: UpdateWorkspaceMemberSettingsInput!) { updateWorkspaceMemberSettings(input: $input) }";

// twenty-front: modules/workspace/graphql/mutations/updateWorkspace.ts (with RoleFragment of
// modules/settings/roles/graphql/fragments/roleFragment.ts)
const UPDATE_WORKSPACE: &str = r#"
mutation UpdateWorkspace($input: UpdateWorkspaceInput!) {
  updateWorkspace(data: $input) {
    id customDomain subdomain displayName logo allowImpersonation isPublicInviteLinkEnabled
    isGoogleAuthEnabled isMicrosoftAuthEnabled isPasswordAuthEnabled isTwoFactorAuthenticationEnforced
    defaultRole { ...RoleFragment }
  }
}
fragment RoleFragment on Role {
  id label description icon canUpdateAllSettings canAccessAllTools isEditable canReadAllObjectRecords
  canUpdateAllObjectRecords canSoftDeleteAllObjectRecords canDestroyAllObjectRecords
  canBeAssignedToUsers canBeAssignedToAgents canBeAssignedToApiKeys
}"#;

// twenty-front: modules/workspace-invitation/graphql/queries/getWorkspaceInvitations.ts
const GET_WORKSPACE_INVITATIONS: &str =
    "query GetWorkspaceInvitations { findWorkspaceInvitations { id email roleId expiresAt } }";

// twenty-front: modules/workspace-invitation/graphql/mutations/sendInvitations.ts, with
// `$roleId: UUID` as twenty-client-sdk 2.43 declares the argument.
const SEND_INVITATIONS: &str = "mutation SendInvitations($emails: [String!]!, $roleId: UUID) { sendInvitations(emails: $emails, roleId: $roleId) { success errors result { ... on WorkspaceInvitation { id email expiresAt } } } }";

// twenty-front: modules/workspace-invitation/graphql/mutations/resendWorkspaceInvitation.ts
const RESEND_WORKSPACE_INVITATION: &str = "mutation ResendWorkspaceInvitation($appTokenId: String!) { resendWorkspaceInvitation(appTokenId: $appTokenId) { success errors result { ... on WorkspaceInvitation { id email roleId expiresAt } } } }";

// twenty-front: modules/workspace-invitation/graphql/mutations/deleteWorkspaceInvitation.ts
const DELETE_WORKSPACE_INVITATION: &str = "mutation DeleteWorkspaceInvitation($appTokenId: String!) { deleteWorkspaceInvitation(appTokenId: $appTokenId) }";

// twenty-front: modules/workspace/graphql/queries/getWorkspaceFromInviteHash.ts
const GET_WORKSPACE_FROM_INVITE_HASH: &str = "query GetWorkspaceFromInviteHash($inviteHash: String!) { findWorkspaceFromInviteHash(inviteHash: $inviteHash) { id displayName logo allowImpersonation } }";

// twenty-server: test/integration (the front reads validity through the page above)
const CHECK_INVITE_HASH: &str = "query CheckWorkspaceInviteHashIsValid($inviteHash: String!) { checkWorkspaceInviteHashIsValid(inviteHash: $inviteHash) { isValid } }";

// twenty-front: modules/auth/graphql/queries/getWorkspaceCreationDefaults.ts
const GET_WORKSPACE_CREATION_DEFAULTS: &str =
    "query GetWorkspaceCreationDefaults { getWorkspaceCreationDefaults { displayName subdomain } }";

// twenty-front: modules/workspace/graphql/mutations/activateWorkspace.ts
const ACTIVATE_WORKSPACE: &str = "mutation ActivateWorkspace($input: ActivateWorkspaceInput!) { activateWorkspace(data: $input) { id } }";

// twenty-front: modules/auth/graphql/mutations/emailPasswordResetLink.ts
const EMAIL_PASSWORD_RESET_LINK: &str = "mutation EmailPasswordResetLink($email: String!) { emailPasswordResetLink(email: $email) { success } }";

// twenty-front: modules/auth/graphql/queries/validatePasswordResetToken.ts
const VALIDATE_PASSWORD_RESET_TOKEN: &str = "query ValidatePasswordResetToken($token: String!) { validatePasswordResetToken(passwordResetToken: $token) { id email hasPassword } }";

// twenty-front: modules/auth/graphql/mutations/updatePasswordViaResetToken.ts
const UPDATE_PASSWORD_VIA_RESET_TOKEN: &str = "mutation UpdatePasswordViaResetToken($token: String!, $newPassword: String!) { updatePasswordViaResetToken(passwordResetToken: $token, newPassword: $newPassword) { success } }";

// twenty-front: modules/auth/graphql/mutations/getLoginTokenFromCredentials.ts
const GET_LOGIN_TOKEN_FROM_CREDENTIALS: &str = "mutation GetLoginTokenFromCredentials($email: String!, $password: String!, $origin: String!) { getLoginTokenFromCredentials(email: $email, password: $password, origin: $origin) { loginToken { token expiresAt } } }";

fn counts(server: &TestServer, s: &Session) -> Vec<(String, i64)> {
    let data = ok(
        server,
        Some(&s.access),
        "ObjectRecordCounts",
        OBJECT_RECORD_COUNTS,
        json!({}),
    );
    data["objectRecordCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_non_null("ObjectRecordCounts", c, &["objectNamePlural", "totalCount"]);
            (
                c["objectNamePlural"].as_str().unwrap().to_string(),
                c["totalCount"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn count_of(counts: &[(String, i64)], plural: &str) -> i64 {
    counts
        .iter()
        .find(|(p, _)| p == plural)
        .unwrap_or_else(|| panic!("no count for {plural}: {counts:?}"))
        .1
}

#[test]
fn settings_data_model_counts_profile_and_workspace() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("settings"));
    let (_, member_id) = server.me(&s);

    // Data model list: one count per object, soft-deleted records left out.
    let before = counts(&server, &s);
    assert_eq!(count_of(&before, "workspaceMembers"), 1);
    let people = before
        .iter()
        .find(|(p, _)| p == "people")
        .map(|c| c.1)
        .unwrap();
    let created = server.graphql_ok(
        &s.access,
        "mutation { a: createPerson(data: {jobTitle: \"a\"}) { id } b: createPerson(data: {jobTitle: \"b\"}) { id } }",
        json!({}),
    );
    server.graphql_ok(
        &s.access,
        "mutation D($id: UUID!) { deletePerson(id: $id) { id } }",
        json!({ "id": created["b"]["id"] }),
    );
    assert_eq!(count_of(&counts(&server, &s), "people"), people + 1);

    // Profile: name, color scheme and locale, read back as the web app reads them.
    let data = ok(
        &server,
        Some(&s.access),
        "UpdateWorkspaceMemberSettings",
        UPDATE_WORKSPACE_MEMBER_SETTINGS,
        json!({ "input": { "workspaceMemberId": member_id, "update": {
            "name": { "firstName": "Ada", "lastName": "Lovelace" },
            "colorScheme": "Dark",
            "locale": "fr-FR",
        } } }),
    );
    assert_eq!(data["updateWorkspaceMemberSettings"], true);
    let me = current_user(&server, &s.access);
    assert_eq!(
        me["workspaceMember"]["name"],
        json!({"firstName": "Ada", "lastName": "Lovelace"})
    );
    assert_eq!(me["workspaceMember"]["colorScheme"], "Dark");
    assert_eq!(me["workspaceMember"]["locale"], "fr-FR");
    assert_eq!(me["locale"], "fr-FR");
    // The record the actor stores is the one /graphql serves.
    let record = server.graphql_ok(
        &s.access,
        "query W($id: UUID!) { workspaceMember(filter: {id: {eq: $id}}) { name { firstName } colorScheme } }",
        json!({ "id": member_id }),
    );
    assert_eq!(record["workspaceMember"]["name"]["firstName"], "Ada");
    assert_eq!(record["workspaceMember"]["colorScheme"], "Dark");

    // Identity fields and unknown fields are refused, and change nothing.
    for update in [
        json!({"userId": "00000000-0000-4000-8000-000000000000"}),
        json!({"nope": 1}),
        json!({}),
    ] {
        let body = server.gql(
            "/metadata",
            Some(&s.access),
            UPDATE_WORKSPACE_MEMBER_SETTINGS,
            json!({ "input": { "workspaceMemberId": member_id, "update": update } }),
        );
        assert_gql_error(&body, "UpdateWorkspaceMemberSettings", "BAD_USER_INPUT");
    }
    let body = server.gql(
        "/metadata",
        Some(&s.access),
        UPDATE_WORKSPACE_MEMBER_SETTINGS,
        json!({ "input": { "workspaceMemberId": "6f0a1b2c-0000-4000-8000-000000000000", "update": {"colorScheme": "Light"} } }),
    );
    assert_gql_error(&body, "UpdateWorkspaceMemberSettings", "BAD_USER_INPUT");

    // Workspace: name, logo, invite link.
    let original = current_user(&server, &s.access)["currentWorkspace"].clone();
    assert_non_null(
        "currentUser",
        &original,
        &[
            "inviteHash",
            "isPublicInviteLinkEnabled",
            "activationStatus",
        ],
    );
    assert_eq!(original["activationStatus"], "ACTIVE");
    assert_eq!(original["isPublicInviteLinkEnabled"], true);
    let new_hash = uuid::Uuid::new_v4().to_string();
    let data = ok(
        &server,
        Some(&s.access),
        "UpdateWorkspace",
        UPDATE_WORKSPACE,
        json!({ "input": {
            "displayName": "Renamed Co",
            "logo": "https://example.com/logo.png",
            "inviteHash": new_hash,
            "isPublicInviteLinkEnabled": false,
            "allowImpersonation": true,
        } }),
    );
    let w = &data["updateWorkspace"];
    assert_non_null(
        "UpdateWorkspace",
        w,
        &[
            "id",
            "subdomain",
            "displayName",
            "logo",
            "allowImpersonation",
            "isPublicInviteLinkEnabled",
            "isGoogleAuthEnabled",
            "isMicrosoftAuthEnabled",
            "isPasswordAuthEnabled",
            "isTwoFactorAuthenticationEnforced",
            "defaultRole.id",
            "defaultRole.label",
            "defaultRole.canUpdateAllSettings",
            "defaultRole.isEditable",
            "defaultRole.canBeAssignedToApiKeys",
        ],
    );
    assert_eq!(w["displayName"], "Renamed Co");
    assert_eq!(w["logo"], "https://example.com/logo.png");
    assert_eq!(w["allowImpersonation"], true);
    assert_eq!(w["isPublicInviteLinkEnabled"], false);
    let after = current_user(&server, &s.access)["currentWorkspace"].clone();
    assert_eq!(after["displayName"], "Renamed Co");
    assert_eq!(after["logo"], "https://example.com/logo.png");
    assert_eq!(after["inviteHash"], new_hash.as_str());
    assert_eq!(after["isPublicInviteLinkEnabled"], false);
    assert_eq!(after["allowImpersonation"], true);
    assert_eq!(after["workspaceMembersCount"], 1.0);
    // The old invite link leads nowhere, the new one to this workspace.
    let old_hash = original["inviteHash"].as_str().unwrap();
    let check = ok(
        &server,
        None,
        "CheckWorkspaceInviteHashIsValid",
        CHECK_INVITE_HASH,
        json!({ "inviteHash": old_hash }),
    );
    assert_eq!(check["checkWorkspaceInviteHashIsValid"]["isValid"], false);
    let check = ok(
        &server,
        None,
        "CheckWorkspaceInviteHashIsValid",
        CHECK_INVITE_HASH,
        json!({ "inviteHash": new_hash }),
    );
    assert_eq!(check["checkWorkspaceInviteHashIsValid"]["isValid"], true);

    // Bad input is refused with Twenty's codes and leaves the workspace as it was.
    for (input, code) in [
        (json!({"displayName": ""}), "BAD_USER_INPUT"),
        (json!({"inviteHash": "not a hash!"}), "BAD_USER_INPUT"),
        (json!({"isPasswordAuthEnabled": false}), "FORBIDDEN"),
        (json!({"subdomain": "acme"}), "METHOD_NOT_ALLOWED"),
    ] {
        let body = server.gql(
            "/metadata",
            Some(&s.access),
            UPDATE_WORKSPACE,
            json!({ "input": input }),
        );
        assert_gql_error(&body, "UpdateWorkspace", code);
    }
    assert_eq!(
        current_user(&server, &s.access)["currentWorkspace"]["displayName"],
        "Renamed Co"
    );
    // Without a token: authentication first.
    let body = server.gql(
        "/metadata",
        None,
        UPDATE_WORKSPACE,
        json!({ "input": {"displayName": "x"} }),
    );
    assert_gql_error(&body, "UpdateWorkspace", "UNAUTHENTICATED");
}

#[test]
fn invitations_go_out_by_email_and_their_links_join_the_workspace() {
    let mail = MailReceiver::start();
    let server = mail.server();
    let admin = server.new_workspace(&email("inviter"));
    let invitee_a = email("invitee-a");
    let invitee_b = email("invitee-b");

    let data = ok(
        &server,
        Some(&admin.access),
        "GetWorkspaceInvitations",
        GET_WORKSPACE_INVITATIONS,
        json!({}),
    );
    assert_eq!(data["findWorkspaceInvitations"], json!([]));

    // Send: one invitation and one email each.
    let data = ok(
        &server,
        Some(&admin.access),
        "SendInvitations",
        SEND_INVITATIONS,
        json!({ "emails": [invitee_a, invitee_b], "roleId": MEMBER_ROLE_ID }),
    );
    let sent = &data["sendInvitations"];
    assert_eq!(sent["success"], true, "{sent}");
    assert_eq!(sent["errors"], json!([]));
    let result = sent["result"].as_array().unwrap();
    assert_eq!(result.len(), 2);
    for r in result {
        assert_non_null("SendInvitations", r, &["id", "email", "expiresAt"]);
    }
    let email_a = mail.nth(&invitee_a, 1);
    assert_eq!(email_a["subject"], "Join your team on Twenty");
    let hash = current_user(&server, &admin.access)["currentWorkspace"]["inviteHash"]
        .as_str()
        .unwrap()
        .to_string();
    let link_a = link(&email_a, FRONTEND_URL);
    assert_eq!(link_a.path(), format!("/invite/{hash}"));
    assert_eq!(query_param(&link_a, "email"), invitee_a);
    assert!(email_a["html"]
        .as_str()
        .unwrap()
        .contains(&format!("/invite/{hash}?inviteToken=")));
    let first_link_b = link(&mail.nth(&invitee_b, 1), FRONTEND_URL);

    // The same address again: reported, not sent twice.
    let data = ok(
        &server,
        Some(&admin.access),
        "SendInvitations",
        SEND_INVITATIONS,
        json!({ "emails": [invitee_a, "not-an-email"], "roleId": MEMBER_ROLE_ID }),
    );
    assert_eq!(data["sendInvitations"]["success"], false);
    let errors = data["sendInvitations"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].as_str().unwrap().contains("already invited"));
    assert_eq!(mail.to(&invitee_a).len(), 1);

    let data = ok(
        &server,
        Some(&admin.access),
        "GetWorkspaceInvitations",
        GET_WORKSPACE_INVITATIONS,
        json!({}),
    );
    let list = data["findWorkspaceInvitations"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for i in &list {
        assert_non_null(
            "GetWorkspaceInvitations",
            i,
            &["id", "email", "roleId", "expiresAt"],
        );
    }
    let id_of = |list: &[Value], e: &str| {
        list.iter().find(|i| i["email"] == e).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // Resend: a new invitation and a new email; the first link stops working.
    let data = ok(
        &server,
        Some(&admin.access),
        "ResendWorkspaceInvitation",
        RESEND_WORKSPACE_INVITATION,
        json!({ "appTokenId": id_of(&list, &invitee_b) }),
    );
    let resent = &data["resendWorkspaceInvitation"];
    assert_eq!(resent["success"], true, "{resent}");
    assert_non_null(
        "ResendWorkspaceInvitation",
        &resent["result"][0],
        &["id", "email", "roleId", "expiresAt"],
    );
    assert_ne!(
        resent["result"][0]["id"].as_str().unwrap(),
        id_of(&list, &invitee_b)
    );
    let link_b = link(&mail.nth(&invitee_b, 2), FRONTEND_URL);
    assert_ne!(
        query_param(&link_b, "inviteToken"),
        query_param(&first_link_b, "inviteToken")
    );
    let stale = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({
            "email": invitee_b, "password": PASSWORD, "workspaceInviteHash": hash,
            "workspacePersonalInviteToken": query_param(&first_link_b, "inviteToken"),
        }),
    );
    assert_gql_error(&stale, "SignUpInWorkspace", "FORBIDDEN");

    // Delete: "success", then "error" for what is gone.
    let delete = |id: &str| {
        ok(
            &server,
            Some(&admin.access),
            "DeleteWorkspaceInvitation",
            DELETE_WORKSPACE_INVITATION,
            json!({ "appTokenId": id }),
        )["deleteWorkspaceInvitation"]
            .clone()
    };
    let a_id = id_of(&list, &invitee_a);
    assert_eq!(delete(&a_id), "success");
    assert_eq!(delete(&a_id), "error");
    let deleted_a = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({
            "email": invitee_a, "password": PASSWORD, "workspaceInviteHash": hash,
            "workspacePersonalInviteToken": query_param(&link_a, "inviteToken"),
        }),
    );
    assert_gql_error(&deleted_a, "SignUpInWorkspace", "FORBIDDEN");

    // Follow the emailed link as the invite page does.
    let ws = ok(
        &server,
        None,
        "GetWorkspaceFromInviteHash",
        GET_WORKSPACE_FROM_INVITE_HASH,
        json!({ "inviteHash": hash }),
    );
    assert_non_null(
        "GetWorkspaceFromInviteHash",
        &ws["findWorkspaceFromInviteHash"],
        &["id", "displayName", "allowImpersonation"],
    );
    assert_eq!(
        ws["findWorkspaceFromInviteHash"]["id"],
        admin.workspace_id.as_str()
    );
    // Someone else's address with b's token: refused.
    let wrong = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({
            "email": email("intruder"), "password": PASSWORD, "workspaceInviteHash": hash,
            "workspacePersonalInviteToken": query_param(&link_b, "inviteToken"),
        }),
    );
    assert_gql_error(&wrong, "SignUpInWorkspace", "FORBIDDEN");
    let (joined, b_access) = sign_up_in_workspace(
        &server,
        json!({
            "email": query_param(&link_b, "email"), "password": PASSWORD,
            "workspaceInviteHash": link_b.path().rsplit('/').next().unwrap(),
            "workspacePersonalInviteToken": query_param(&link_b, "inviteToken"),
            "locale": "en",
        }),
    );
    assert_eq!(joined["workspace"]["id"], admin.workspace_id.as_str());
    let b = current_user(&server, &b_access);
    assert_eq!(b["email"], invitee_b.as_str());
    assert_eq!(b["workspaceMember"]["userEmail"], invitee_b.as_str());
    assert_eq!(b["currentWorkspace"]["id"], admin.workspace_id.as_str());
    let members = current_user(&server, &admin.access)["workspaceMembers"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(members, 2);
    let data = ok(
        &server,
        Some(&admin.access),
        "GetWorkspaceInvitations",
        GET_WORKSPACE_INVITATIONS,
        json!({}),
    );
    assert_eq!(
        data["findWorkspaceInvitations"],
        json!([]),
        "joining used up the invitation"
    );
    // The link is single-use.
    let replay = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({
            "email": invitee_b, "password": PASSWORD, "workspaceInviteHash": hash,
            "workspacePersonalInviteToken": query_param(&link_b, "inviteToken"),
        }),
    );
    assert_gql_error(&replay, "SignUpInWorkspace", "FORBIDDEN");

    // A member is not an admin: members and other people's profiles are not theirs to edit.
    let body = server.gql(
        "/metadata",
        Some(&b_access),
        SEND_INVITATIONS,
        json!({ "emails": [email("x")], "roleId": MEMBER_ROLE_ID }),
    );
    assert_gql_error(&body, "SendInvitations", "FORBIDDEN");
    let body = server.gql(
        "/metadata",
        Some(&b_access),
        GET_WORKSPACE_INVITATIONS,
        json!({}),
    );
    assert_gql_error(&body, "GetWorkspaceInvitations", "FORBIDDEN");
    let body = server.gql(
        "/metadata",
        Some(&b_access),
        UPDATE_WORKSPACE,
        json!({ "input": {"displayName": "Mine"} }),
    );
    assert_gql_error(&body, "UpdateWorkspace", "FORBIDDEN");
    let (_, admin_member) = server.me(&admin);
    let body = server.gql("/metadata", Some(&b_access), UPDATE_WORKSPACE_MEMBER_SETTINGS, json!({ "input": { "workspaceMemberId": admin_member, "update": {"colorScheme": "Light"} } }));
    assert_gql_error(&body, "UpdateWorkspaceMemberSettings", "FORBIDDEN");
    // …but their own profile is.
    let b_member = b["workspaceMember"]["id"].as_str().unwrap();
    ok(
        &server,
        Some(&b_access),
        "UpdateWorkspaceMemberSettings",
        UPDATE_WORKSPACE_MEMBER_SETTINGS,
        json!({ "input": { "workspaceMemberId": b_member, "update": {"colorScheme": "Light"} } }),
    );

    // The public invite link (on by default) lets anyone in; an admin can turn it off.
    let c = email("public-c");
    let (_, c_access) = sign_up_in_workspace(
        &server,
        json!({ "email": c, "password": PASSWORD, "workspaceInviteHash": hash }),
    );
    assert_eq!(
        current_user(&server, &c_access)["currentWorkspace"]["id"],
        admin.workspace_id.as_str()
    );
    ok(
        &server,
        Some(&admin.access),
        "UpdateWorkspace",
        UPDATE_WORKSPACE,
        json!({ "input": {"isPublicInviteLinkEnabled": false} }),
    );
    let closed = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({ "email": email("public-d"), "password": PASSWORD, "workspaceInviteHash": hash }),
    );
    assert_gql_error(&closed, "SignUpInWorkspace", "FORBIDDEN");
    // Without any invitation there is nothing to join on a server that has a workspace.
    let none = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({ "email": email("nobody"), "password": PASSWORD }),
    );
    assert_gql_error(&none, "SignUpInWorkspace", "FORBIDDEN");
}

#[test]
fn first_sign_up_creates_the_workspace_and_activation_names_it() {
    let server = TestServer::start();
    let founder = "founder@acme.io";

    // A server without a workspace: the first sign-up creates one, pending activation.
    let (out, access) = sign_up_in_workspace(
        &server,
        json!({ "email": founder, "password": PASSWORD, "locale": "en" }),
    );
    let workspace_id = out["workspace"]["id"].as_str().unwrap().to_string();
    let me = current_user(&server, &access);
    assert_eq!(me["currentWorkspace"]["id"], workspace_id.as_str());
    assert_eq!(
        me["currentWorkspace"]["activationStatus"],
        "PENDING_CREATION"
    );
    assert_eq!(me["workspaceMember"]["userEmail"], founder);

    let data = ok(
        &server,
        Some(&access),
        "GetWorkspaceCreationDefaults",
        GET_WORKSPACE_CREATION_DEFAULTS,
        json!({}),
    );
    assert_eq!(
        data["getWorkspaceCreationDefaults"],
        json!({"displayName": "Acme", "subdomain": "acme"})
    );

    let data = ok(
        &server,
        Some(&access),
        "ActivateWorkspace",
        ACTIVATE_WORKSPACE,
        json!({ "input": {"displayName": "Acme Industries"} }),
    );
    assert_eq!(data["activateWorkspace"]["id"], workspace_id.as_str());
    let ws = current_user(&server, &access)["currentWorkspace"].clone();
    assert_eq!(ws["activationStatus"], "ACTIVE");
    assert_eq!(ws["displayName"], "Acme Industries");
    let again = server.gql(
        "/metadata",
        Some(&access),
        ACTIVATE_WORKSPACE,
        json!({ "input": {"displayName": "x"} }),
    );
    assert_gql_error(&again, "ActivateWorkspace", "FORBIDDEN");

    // The workspace works like any other: records through /graphql.
    server.graphql_ok(
        &access,
        "mutation { createCompany(data: {name: \"First\"}) { id } }",
        json!({}),
    );

    // Signing up again is signing in: the existing user gets their workspace back, with the
    // right password only.
    let (again, _) =
        sign_up_in_workspace(&server, json!({ "email": founder, "password": PASSWORD }));
    assert_eq!(again["workspace"]["id"], workspace_id.as_str());
    let wrong = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({ "email": founder, "password": "wrong password here" }),
    );
    assert_gql_error(&wrong, "SignUpInWorkspace", "FORBIDDEN");
    // Nobody else gets in without an invitation.
    let other = server.gql(
        "/metadata",
        None,
        SIGN_UP_IN_WORKSPACE,
        json!({ "email": email("second"), "password": PASSWORD }),
    );
    assert_gql_error(&other, "SignUpInWorkspace", "FORBIDDEN");

    // Defaults for a user still without a workspace (workspace-agnostic token).
    let data = ok(&server, None, "SignUp", "mutation SignUp($email: String!, $password: String!) { signUp(email: $email, password: $password) { tokens { accessOrWorkspaceAgnosticToken { token } } } }", json!({ "email": "solo@gmail.com", "password": PASSWORD }));
    let agnostic = data["signUp"]["tokens"]["accessOrWorkspaceAgnosticToken"]["token"]
        .as_str()
        .unwrap();
    let data = ok(
        &server,
        Some(agnostic),
        "GetWorkspaceCreationDefaults",
        GET_WORKSPACE_CREATION_DEFAULTS,
        json!({}),
    );
    assert_eq!(
        data["getWorkspaceCreationDefaults"],
        json!({"displayName": "My Workspace", "subdomain": "my-workspace"})
    );
    let body = server.gql(
        "/metadata",
        None,
        GET_WORKSPACE_CREATION_DEFAULTS,
        json!({}),
    );
    assert_gql_error(&body, "GetWorkspaceCreationDefaults", "UNAUTHENTICATED");
}

/// Links live this long in the password reset test: long enough for its steps, short
/// enough to watch one expire.
const RESET_TTL_SECS: u64 = 15;

#[test]
fn password_reset_by_emailed_single_use_link() {
    let mail = MailReceiver::start();
    let server = mail.server_with(vec![(
        "PASSWORD_RESET_TOKEN_TTL_SECS",
        RESET_TTL_SECS.to_string(),
    )]);
    let s = server.new_workspace(&email("forgetful"));
    let request = |e: &str| {
        let data = ok(
            &server,
            None,
            "EmailPasswordResetLink",
            EMAIL_PASSWORD_RESET_LINK,
            json!({ "email": e }),
        );
        assert_eq!(data["emailPasswordResetLink"]["success"], true);
    };

    // Unknown addresses get the same answer and no email.
    let unknown = email("unknown");
    request(&unknown);

    request(&s.email);
    let message = mail.nth(&s.email, 1);
    assert_eq!(message["subject"], "Action Needed to Reset Password");
    let first = link(&message, FRONTEND_URL);
    let token_of = |u: &url::Url| {
        let path = u.path().to_string();
        path.strip_prefix("/reset-password/")
            .unwrap_or_else(|| panic!("{u}"))
            .to_string()
    };
    // A second request: a new link, and the first one stops working.
    request(&s.email);
    let token = token_of(&link(&mail.nth(&s.email, 2), FRONTEND_URL));
    let old = server.gql(
        "/metadata",
        None,
        VALIDATE_PASSWORD_RESET_TOKEN,
        json!({ "token": token_of(&first) }),
    );
    assert_gql_error(&old, "ValidatePasswordResetToken", "FORBIDDEN");
    assert!(mail.to(&unknown).is_empty());

    let (user_id, _) = server.me(&s);
    let data = ok(
        &server,
        None,
        "ValidatePasswordResetToken",
        VALIDATE_PASSWORD_RESET_TOKEN,
        json!({ "token": token }),
    );
    assert_eq!(
        data["validatePasswordResetToken"],
        json!({ "id": user_id, "email": s.email, "hasPassword": true })
    );
    let bad = server.gql(
        "/metadata",
        None,
        VALIDATE_PASSWORD_RESET_TOKEN,
        json!({ "token": "0".repeat(64) }),
    );
    assert_gql_error(&bad, "ValidatePasswordResetToken", "FORBIDDEN");

    // A weak password is refused without spending the link.
    let weak = server.gql(
        "/metadata",
        None,
        UPDATE_PASSWORD_VIA_RESET_TOKEN,
        json!({ "token": token, "newPassword": "short" }),
    );
    assert_gql_error(&weak, "UpdatePasswordViaResetToken", "BAD_USER_INPUT");
    let new_password = "a brand new passphrase";
    let data = ok(
        &server,
        None,
        "UpdatePasswordViaResetToken",
        UPDATE_PASSWORD_VIA_RESET_TOKEN,
        json!({ "token": token, "newPassword": new_password }),
    );
    assert_eq!(data["updatePasswordViaResetToken"]["success"], true);
    // Single use.
    let replay = server.gql(
        "/metadata",
        None,
        UPDATE_PASSWORD_VIA_RESET_TOKEN,
        json!({ "token": token, "newPassword": "yet another passphrase" }),
    );
    assert_gql_error(&replay, "UpdatePasswordViaResetToken", "FORBIDDEN");
    // The user is told their password changed.
    assert!(mail.nth(&s.email, 3)["subject"]
        .as_str()
        .unwrap()
        .contains("Password"));

    // The new password signs in, the old one does not, and old sessions are over.
    let login = |p: &str| {
        server.gql(
            "/metadata",
            None,
            GET_LOGIN_TOKEN_FROM_CREDENTIALS,
            json!({ "email": s.email, "password": p, "origin": FRONTEND_URL }),
        )
    };
    assert_gql_error(
        &login(&s.password),
        "GetLoginTokenFromCredentials",
        "FORBIDDEN",
    );
    let fresh = login(new_password);
    assert!(fresh.get("errors").is_none(), "{fresh}");
    let token = fresh["data"]["getLoginTokenFromCredentials"]["loginToken"]["token"]
        .as_str()
        .unwrap();
    let (access, _) = exchange(&server, token);
    assert_eq!(current_user(&server, &access)["email"], s.email.as_str());
    let renew = server.gql("/metadata", None, "mutation RenewToken($appToken: String!) { renewToken(appToken: $appToken) { tokens { accessOrWorkspaceAgnosticToken { token } } } }", json!({ "appToken": s.refresh }));
    assert_gql_error(&renew, "RenewToken", "FORBIDDEN");

    // Links expire.
    request(&s.email);
    let late = token_of(&link(&mail.nth(&s.email, 4), FRONTEND_URL));
    std::thread::sleep(Duration::from_secs(RESET_TTL_SECS + 1));
    let expired = server.gql(
        "/metadata",
        None,
        UPDATE_PASSWORD_VIA_RESET_TOKEN,
        json!({ "token": late, "newPassword": "too late passphrase" }),
    );
    assert_gql_error(&expired, "UpdatePasswordViaResetToken", "FORBIDDEN");
}
