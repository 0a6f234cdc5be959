//! Twenty's event streams on `/metadata` (graphql-sse, issue #6): the subscription
//! `onEventSubscription(eventStreamId)` and the mutations `addQueryToEventStream` /
//! `removeQueryFromEventStream` (Twenty: `engine/subscriptions/event-stream.resolver.ts`).
//!
//! The mutations run in the workspace's actor, like every `/metadata` request of a
//! workspace principal, against its `_event_streams` tables (`actors::event_stream`). The
//! subscription runs in the gateway, which holds the SSE response (`gateway::event_stream`).

use async_graphql::dynamic::ResolverContext;
use futures::stream::BoxStream;
use futures::StreamExt;
use serde_json::Value;

use super::{arg, ctx, missing_token, require_workspace, unsupported, MetaCtx};
use crate::actors::event_stream::owner_of;
use crate::encode;
use crate::schema::error::{QueryError, QueryResult};
use crate::schema::sdl;

/// `input: {eventStreamId, queryId, operationSignature?}` of the two mutations.
fn input(rc: &ResolverContext<'_>) -> QueryResult<(String, String, Value)> {
    let input = arg(rc, "input");
    let text = |name: &str| match &input[name] {
        Value::String(s) => Ok(s.clone()),
        _ => Err(QueryError::bad_input(format!(
            "input.{name} must be a string"
        ))),
    };
    Ok((
        text("eventStreamId")?,
        text("queryId")?,
        input["operationSignature"].clone(),
    ))
}

/// The caller's claim on streams, in the caller's workspace.
fn owner(mc: &MetaCtx) -> QueryResult<String> {
    require_workspace(mc)?;
    owner_of(&mc.principal).ok_or_else(missing_token)
}

/// `addQueryToEventStream(input: AddQuerySubscriptionInput!): Boolean!`
pub fn add_query(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let owner = owner(mc)?;
    let (stream_id, query_id, signature) = input(rc)?;
    let ws = require_workspace(mc)?;
    ws.add_event_stream_query(&owner, &stream_id, &query_id, &signature)
        .map(Value::Bool)
}

/// `removeQueryFromEventStream(input: RemoveQueryFromEventStreamInput!): Boolean!`
pub fn remove_query(mc: &MetaCtx, rc: &ResolverContext<'_>) -> QueryResult<Value> {
    let owner = owner(mc)?;
    let (stream_id, query_id, _) = input(rc)?;
    let ws = require_workspace(mc)?;
    ws.remove_event_stream_query(&owner, &stream_id, &query_id)
        .map(Value::Bool)
}

/// The root fields of `Subscription`. Only `onEventSubscription` is served; its values
/// are `EventSubscription` objects.
pub async fn subscribe(
    rc: ResolverContext<'_>,
) -> async_graphql::Result<BoxStream<'_, async_graphql::Result<async_graphql::Value>>> {
    let field = rc.field().name();
    if field != "onEventSubscription" {
        return Err(unsupported(field));
    }
    let mc = ctx(&rc)?;
    let stream_id = match arg(&rc, "eventStreamId") {
        Value::String(s) => s,
        _ => {
            return Err(encode::graphql_field_error(&QueryError::bad_input(
                "eventStreamId must be a string",
            )))
        }
    };
    let frames = crate::gateway::event_stream::open(mc, &stream_id).await?;
    Ok(frames.map(|v| Ok(sdl::from_json(v))).boxed())
}
