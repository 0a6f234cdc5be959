//! twenty-edge: a Twenty CRM backend on Cloudflare workerd.
//!
//! One Worker serves three kinds of events (see docs/ARCHITECTURE.md):
//! - `fetch`: the [`gateway`] authenticates and routes each request to the
//!   [`actors::WorkspaceActor`] that owns the data;
//! - `queue`: the consumers of the four job queues ([`jobs`]);
//! - `scheduled`: the cron triggers ([`jobs::on_cron`]).
//!
//! **Architecture Invariant:** no panic escapes an entry point. Every handler runs inside
//! [`panic_boundary`], so a bug answers one request with a 500 and the instance keeps
//! serving (the build compiles with `panic=unwind` for this).

#![recursion_limit = "256"]

pub mod actors;
pub mod email;
pub mod encode;
pub mod error;
pub mod gateway;
pub mod identity;
pub mod jobs;
pub mod metadata;
pub mod observability;
pub mod ratelimit;
pub mod schema;

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use worker::{
    event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    gateway::serve(req, env, ctx).await
}

#[event(queue)]
async fn queue(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    // An Err returned here would become a panic in workers-rs: jobs ack/retry each message
    // themselves and a caught panic retries the whole batch.
    if let Err(panic) = panic_boundary(jobs::on_batch(&batch, &env)).await {
        tracing::error!(queue = %batch.queue(), error = %panic, "queue handler panicked");
        batch.retry_all();
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let cron = event.cron();
    if let Err(panic) = panic_boundary(jobs::on_cron(&cron, &env)).await {
        tracing::error!(cron = %cron, error = %panic, "cron handler panicked");
    }
}

/// Runs `fut`, turning a panic into `Err(message)`.
///
/// Works because the wasm is built with `panic=unwind` (scripts/build.sh); natively it is
/// plain `catch_unwind`. The panic message is for logs only, never for clients.
pub async fn panic_boundary<T>(fut: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|payload| {
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic with a non-string payload".to_string())
        })
}
