//! `GET /ws` and `POST /ws/ticket`: the gateway's half of realtime (issue #6).
//!
//! Browsers cannot set headers on a WebSocket, so a connection authenticates one of three
//! ways, checked in this order:
//! - `?ticket=<ticket>`: a single-use ticket from `POST /ws/ticket`. The ticket names its
//!   workspace (`{workspaceId}.{secret}`), so the gateway knows which actor to ask; the
//!   actor consumes it (one connection per ticket, at most [`DEFAULT_TICKET_TTL_SECS`] old).
//! - `Sec-WebSocket-Protocol: twenty-edge, <accessToken>`: the token rides in the
//!   subprotocol list; the answer names only `twenty-edge`, never the token.
//! - `Authorization: Bearer` (non-browser clients).
//!
//! The gateway verifies what it can statelessly (the JWT), then forwards the upgrade to the
//! workspace's actor, which admits the principal (still a member?) and accepts the socket
//! with the hibernation API (`actors::realtime`).
//!
//! Tokens and tickets are never logged: the request log line has the path only, never the
//! query string.

use worker::{Env, Method, Request, Response};

use super::forward::{self, ActorRequest};
use super::RequestContext;
use crate::actors::protocol::{HEADER_WS_TICKET, PATH_WS_CONNECT, PATH_WS_TICKET};
use crate::error::ApiError;
use crate::identity::directory::Directory;
use crate::identity::principal::Principal;

/// The subprotocol a client offers next to its token, and the one the server answers.
pub const SUBPROTOCOL: &str = "twenty-edge";

/// How long a ticket stays usable, in seconds (`WS_TICKET_TTL_SECS` may shorten it, for
/// tests; never lengthen it). A ticket is fetched right before connecting, so a minute covers slow networks
/// while keeping a leaked URL (proxy logs, history) useless soon after.
pub const DEFAULT_TICKET_TTL_SECS: i64 = 60;

/// Longest `Sec-WebSocket-Protocol` header we parse: one RS256 JWT (~1 KB) plus our name.
const MAX_PROTOCOL_HEADER_LEN: usize = 8 * 1024;
/// Longest ticket we accept: a workspace id (a UUID), a dot and a 43-character secret.
const MAX_TICKET_LEN: usize = 128;

/// `POST /ws/ticket`: a single-use ticket for the caller's workspace.
pub async fn ticket(
    env: &Env,
    rc: &RequestContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let workspace_id = workspace_of(&principal)?;
    forward::to_workspace(
        env,
        &workspace_id,
        ActorRequest {
            method: Method::Post,
            path: PATH_WS_TICKET,
            body: None,
            request_id: &rc.request_id,
            principal: Some(&principal),
            headers: vec![],
        },
    )
    .await
}

/// `GET /ws`: authenticates the upgrade and hands it to the workspace's actor.
/// `principal` is what `Authorization: Bearer` or the offered subprotocol gave (anonymous
/// when neither).
pub async fn connect(
    req: &Request,
    env: &Env,
    rc: &mut RequestContext,
    principal: Principal,
) -> Result<Response, ApiError> {
    let is_upgrade = req
        .headers()
        .get("upgrade")
        .ok()
        .flatten()
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return Err(ApiError::validation(
            "GET /ws expects a WebSocket upgrade (Upgrade: websocket)",
        ));
    }
    let url = req.url()?;
    let ticket = url
        .query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned());
    let offered = req.headers().get("sec-websocket-protocol").ok().flatten();
    let offers_ours = offered
        .as_deref()
        .is_some_and(|o| o.split(',').any(|p| p.trim() == SUBPROTOCOL));

    let mut forwarded = vec![("upgrade".to_string(), "websocket".to_string())];
    let (workspace_id, principal) = if let Some(ticket) = ticket {
        let workspace_id = ticket_workspace(&ticket)
            .ok_or_else(|| ApiError::Unauthorized("Invalid or expired ticket".into()))?
            .to_string();
        // The workspace part is unverified until the actor consumes the ticket; checking
        // it exists keeps made-up ids from creating actors.
        let exists = Directory::new(env)
            .map_err(|e| ApiError::Internal(format!("directory: {e:?}")))?
            .workspace_exists(&workspace_id)
            .await
            .map_err(|e| ApiError::Internal(format!("directory: {e:?}")))?;
        if !exists {
            return Err(ApiError::Unauthorized("Invalid or expired ticket".into()));
        }
        forwarded.push((HEADER_WS_TICKET.to_string(), ticket));
        (workspace_id, None)
    } else {
        // `principal` came from `Authorization` or the offered subprotocol (gateway::auth).
        (workspace_of(&principal)?, Some(principal))
    };
    rc.workspace_id = Some(workspace_id.clone());
    rc.user_id = principal
        .as_ref()
        .and_then(|p| p.user_id())
        .map(str::to_string);

    let resp = forward::to_workspace(
        env,
        &workspace_id,
        ActorRequest {
            method: Method::Get,
            path: PATH_WS_CONNECT,
            body: None,
            request_id: &rc.request_id,
            principal: principal.as_ref(),
            headers: forwarded,
        },
    )
    .await?;
    // A client that offered subprotocols fails the handshake unless we pick one of them.
    if resp.status_code() == 101 && offers_ours {
        return Ok(super::with_header(
            resp,
            "sec-websocket-protocol",
            SUBPROTOCOL,
        ));
    }
    Ok(resp)
}

/// The workspace a connection or ticket is for; 401 without credentials.
fn workspace_of(principal: &Principal) -> Result<String, ApiError> {
    match principal {
        Principal::Anonymous => Err(ApiError::Unauthorized(
            "Realtime needs an access token (Sec-WebSocket-Protocol, Authorization) or a ticket"
                .into(),
        )),
        p => p
            .workspace_id()
            .map(str::to_string)
            .ok_or_else(|| ApiError::Forbidden("Realtime needs a workspace token".into())),
    }
}

/// The token in `twenty-edge, <token>` (either order); `None` when our protocol is not
/// offered or no other entry is.
pub fn protocol_token(header: &str) -> Option<&str> {
    if header.len() > MAX_PROTOCOL_HEADER_LEN {
        return None;
    }
    let parts: Vec<&str> = header.split(',').map(str::trim).collect();
    if !parts.contains(&SUBPROTOCOL) {
        return None;
    }
    parts
        .into_iter()
        .find(|p| *p != SUBPROTOCOL && !p.is_empty())
}

/// The workspace id a ticket names, if it is shaped like one of ours.
pub fn ticket_workspace(ticket: &str) -> Option<&str> {
    if ticket.len() > MAX_TICKET_LEN {
        return None;
    }
    let (workspace, secret) = ticket.split_once('.')?;
    (crate::schema::write::is_uuid(workspace) && !secret.is_empty()).then_some(workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_token_parsing() {
        assert_eq!(protocol_token("twenty-edge, abc.def"), Some("abc.def"));
        assert_eq!(protocol_token("abc.def,twenty-edge"), Some("abc.def"));
        assert_eq!(protocol_token("twenty-edge"), None);
        assert_eq!(protocol_token("graphql-ws, abc"), None);
        assert_eq!(protocol_token(""), None);
    }

    #[test]
    fn ticket_parsing() {
        let ws = "0b0d9a43-5c1e-4a57-9d1e-2f3a4b5c6d7e";
        assert_eq!(ticket_workspace(&format!("{ws}.secret")), Some(ws));
        assert_eq!(ticket_workspace(&format!("{ws}.")), None);
        assert_eq!(ticket_workspace("nope.secret"), None);
        assert_eq!(ticket_workspace("no-dot"), None);
        assert_eq!(ticket_workspace(&"x".repeat(500)), None);
    }
}
