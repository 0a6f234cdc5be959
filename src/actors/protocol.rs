//! The internal HTTP protocol between the gateway and the actors.
//!
//! **API Boundary:** actors are reachable only through their namespace binding, never from
//! the Internet, so the headers below are trusted: the gateway sets them after it has
//! authenticated the caller, and strips any a client sent.

/// Host used in URLs sent to actor stubs; only the path matters.
pub const ACTOR_ORIGIN: &str = "https://actor.internal";

/// The request id, for logs on both sides.
pub const HEADER_REQUEST_ID: &str = "x-request-id";
/// The workspace the actor owns (its name in the namespace).
pub const HEADER_WORKSPACE_ID: &str = "x-twenty-workspace-id";

/// The client's model version (Twenty's web app sends its `metadataVersion`); answered
/// with the current one.
pub const HEADER_SCHEMA_VERSION: &str = "x-schema-version";

/// Actor paths.
pub const PATH_INSPECT: &str = "/inspect";
pub const PATH_DEBUG_PANIC: &str = "/debug/panic";
/// Seeds a new workspace: standard objects and the creator's workspace member.
pub const PATH_BOOTSTRAP: &str = "/bootstrap";
/// Twenty's `/metadata` GraphQL for a workspace principal.
pub const PATH_METADATA: &str = "/metadata";
/// The workspace's `/graphql`.
pub const PATH_GRAPHQL: &str = "/graphql";
/// The workspace's data model as JSON (for the gateway's OpenAPI documents).
pub const PATH_MODEL: &str = "/model";
/// Twenty's REST API: `/rest/...` keeps its path and query string.
pub const PATH_REST_PREFIX: &str = "/rest/";

/// Issues a single-use WebSocket ticket for the principal (`POST /ws/ticket`).
pub const PATH_WS_TICKET: &str = "/ws/ticket";
/// A WebSocket upgrade (`GET /ws`), with the principal header or a ticket header.
pub const PATH_WS_CONNECT: &str = "/ws/connect";
/// The ticket a `GET /ws?ticket=` carried; the actor consumes it.
pub const HEADER_WS_TICKET: &str = "x-twenty-ws-ticket";

/// An event stream's hibernatable WebSocket (graphql-sse `onEventSubscription` on
/// `/metadata`): the gateway holds the SSE response and bridges this socket into it.
pub const PATH_EVENT_STREAM_CONNECT: &str = "/event-stream/connect";
/// The `eventStreamId` of a [`PATH_EVENT_STREAM_CONNECT`] upgrade.
pub const HEADER_EVENT_STREAM_ID: &str = "x-twenty-event-stream-id";

/// Headers a client may not set, because actors trust them.
pub const TRUSTED_HEADERS: &[&str] = &[
    HEADER_WORKSPACE_ID,
    crate::identity::principal::HEADER_PRINCIPAL,
];
