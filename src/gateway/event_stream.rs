//! GraphQL over Server-Sent Events on `POST /metadata` (graphql-sse, "distinct connections
//! mode"), as Twenty's web app uses it for `onEventSubscription` (issue #6).
//!
//! The client (`graphql-sse`'s `createClient({url: '/metadata', headers: {Authorization}})`)
//! POSTs `{query, variables}` with `Accept: text/event-stream` and reads the answer as an
//! event stream: `event: next` with `data: <ExecutionResult JSON>` per result, then
//! `event: complete`. Errors before or during execution are `next` events with `errors`
//! (the protocol's rule: the client treats any non-2xx answer as a network failure and
//! retries). Operations other than subscriptions are answered as usual and wrapped as one
//! `next` and `complete` ([`as_event_stream`]).
//!
//! A subscription executes here, in the gateway, against Twenty's `/metadata` schema; its
//! one resolver, `onEventSubscription`, opens a hibernatable WebSocket into the workspace's
//! actor ([`open`]) and answers every frame the actor sends as the subscription's next
//! value. The actor never holds an HTTP stream (which would keep it awake): it keeps only
//! the socket, which hibernates. When the client goes, the response stream is dropped and
//! with it the socket, whose close deletes the stream in the actor; when the actor closes
//! the socket (member removed, stream replaced), the subscription completes.

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Waker;
use std::task::{Context, Poll};
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use worker::send::SendWrapper;
use worker::{Headers, Method, Request, Response, WebSocket};

use super::forward::{self, ActorRequest};
use crate::actors::event_stream::{check_stream_id, frame};
use crate::actors::protocol::{HEADER_EVENT_STREAM_ID, PATH_EVENT_STREAM_CONNECT};
use crate::encode;
use crate::identity::principal::Principal;
use crate::metadata::{self, MetaCtx};
use crate::schema::error::QueryError;

/// How often an idle stream carries a keep-alive comment, so proxies and load balancers
/// do not time the connection out (GraphQL Yoga pings every 12 s too).
const KEEPALIVE: Duration = Duration::from_secs(12);

/// The keep-alive: one SSE comment line. Deliberately NOT `:\n\n` (Yoga's): graphql-sse's
/// client parser returns early on an empty message and then misreads a message that
/// arrived in the same chunk; a lone comment line is skipped without ending a message.
const KEEPALIVE_LINE: &[u8] = b":\n";

/// The end of a stream. `data:` is present (empty) so `EventSource`-style readers, which
/// drop events without data, still see it.
const COMPLETE: &[u8] = b"event: complete\ndata:\n\n";

/// Whether a request asks for graphql-sse: `POST /metadata` accepting `text/event-stream`.
pub fn wants_event_stream(req: &Request) -> bool {
    req.method() == Method::Post
        && req.path() == "/metadata"
        && req
            .headers()
            .get("accept")
            .ok()
            .flatten()
            .is_some_and(|a| a.contains("text/event-stream"))
}

/// Whether the GraphQL request in `body` is a subscription (the operation its
/// `operationName` names, or its only one). Unparsable requests are not: the usual path
/// reports their errors.
pub fn is_subscription(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Req {
        query: String,
        operation_name: Option<String>,
    }
    let Ok(req) = serde_json::from_slice::<Req>(body) else {
        return false;
    };
    let Ok(doc) = async_graphql::parser::parse_query(&req.query) else {
        return false;
    };
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let ty = match (&doc.operations, req.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        // Named operations are `Multiple` even alone.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    ty == Some(OperationType::Subscription)
}

/// `event: next` with `value` as data.
fn next_event(value: &Value) -> Vec<u8> {
    format!("event: next\ndata: {value}\n\n").into_bytes()
}

fn event_stream_headers() -> Headers {
    let headers = Headers::new();
    let _ = headers.set("content-type", "text/event-stream; charset=utf-8");
    let _ = headers.set("cache-control", "no-cache");
    let _ = headers.set("x-accel-buffering", "no");
    headers
}

/// A GraphQL JSON answer (HTTP 200) as a one-result event stream: `next`, `complete`.
/// Other answers (rate limits, server errors) keep their status: graphql-sse clients back
/// off and retry on those.
pub async fn as_event_stream(mut resp: Response) -> Response {
    let is_json = resp
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|c| c.starts_with("application/json"));
    if resp.status_code() != 200 || !is_json {
        return resp;
    }
    let headers = event_stream_headers();
    for (k, v) in resp.headers().entries() {
        if k != "content-type" && k != "content-length" {
            let _ = headers.set(&k, &v);
        }
    }
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(_) => return Response::builder().with_status(500).empty(),
    };
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut out = next_event(&value);
    out.extend_from_slice(COMPLETE);
    match Response::from_bytes(out) {
        Ok(r) => r.with_headers(headers),
        Err(_) => Response::builder().with_status(500).empty(),
    }
}

/// Executes a subscription request and streams its results.
pub fn subscription_response(
    env: &worker::Env,
    request_id: &str,
    principal: Principal,
    body: &[u8],
) -> Result<Response, crate::error::ApiError> {
    let results: BoxStream<'static, Vec<u8>> = match (
        metadata::schema(),
        serde_json::from_slice::<async_graphql::Request>(body),
    ) {
        (Ok(schema), Ok(request)) => {
            let mc = MetaCtx {
                env: env.clone(),
                principal,
                request_id: request_id.to_string(),
                workspace: None,
            };
            let request = request.data(SendWrapper::new(Rc::new(mc)));
            let request_id = request_id.to_string();
            schema
                .execute_stream(request)
                .map(move |r| {
                    let mut value = serde_json::to_value(&r).unwrap_or(Value::Null);
                    encode::take_internal_details(&mut value, &request_id);
                    encode::normalize_graphql_errors(&mut value);
                    next_event(&value)
                })
                .boxed()
        }
        (Err(e), _) => {
            tracing::error!(requestId = %request_id, error = %e, "metadata schema failed to build");
            let v = metadata::error_response(&QueryError::internal(e));
            stream::once(async move { next_event(&v) }).boxed()
        }
        (_, Err(e)) => {
            let v = metadata::error_response(
                &QueryError::bad_input(format!("Invalid GraphQL request: {e}"))
                    .with_sub_code("GRAPHQL_PARSE_FAILED"),
            );
            stream::once(async move { next_event(&v) }).boxed()
        }
    };
    Ok(
        Response::from_stream(with_keepalive(results).map(Ok::<_, worker::Error>))?
            .with_headers(event_stream_headers()),
    )
}

/// `results`, then `complete`, with a keep-alive comment every [`KEEPALIVE`] meanwhile.
fn with_keepalive(results: BoxStream<'static, Vec<u8>>) -> impl Stream<Item = Vec<u8>> {
    enum Item {
        Data(Vec<u8>),
        End,
    }
    let data = results
        .map(Item::Data)
        .chain(stream::once(async { Item::End }));
    let pings = stream::unfold((), |()| async {
        Timer::new(KEEPALIVE).await;
        Some((Item::Data(KEEPALIVE_LINE.to_vec()), ()))
    });
    // `select` never ends while pings tick: stop at the end marker instead.
    stream::select(data, pings)
        .take_while(|i| std::future::ready(matches!(i, Item::Data(_))))
        .filter_map(|i| async move {
            match i {
                Item::Data(bytes) => Some(bytes),
                Item::End => None,
            }
        })
        .chain(stream::once(async { COMPLETE.to_vec() }))
}

/// A one-shot timer that wakes the task that polled it LAST. `worker::Delay` keeps the
/// waker of its first poll; a response body is polled by a new task on every pull of its
/// `ReadableStream`, so a `Delay` first polled by a pull that a data frame then completed
/// woke nobody, keep-alives never went out, and a client that had gone was never noticed
/// (its stream slot stayed taken).
struct Timer {
    after: Duration,
    fired: Rc<Cell<bool>>,
    waker: Rc<RefCell<Option<Waker>>>,
    callback: Option<Closure<dyn FnMut()>>,
    timeout_id: Option<i32>,
}

impl Timer {
    fn new(after: Duration) -> Timer {
        Timer {
            after,
            fired: Rc::new(Cell::new(false)),
            waker: Rc::new(RefCell::new(None)),
            callback: None,
            timeout_id: None,
        }
    }
}

impl std::future::Future for Timer {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.fired.get() {
            return Poll::Ready(());
        }
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        if self.callback.is_none() {
            let (fired, waker) = (self.fired.clone(), self.waker.clone());
            let callback = Closure::<dyn FnMut()>::wrap_assert_unwind_safe(Box::new(move || {
                fired.set(true);
                if let Some(w) = waker.borrow_mut().take() {
                    w.wake();
                }
            })
                as Box<dyn FnMut()>);
            let global: worker::web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
            self.timeout_id = global
                .set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.as_ref().unchecked_ref(),
                    i32::try_from(self.after.as_millis()).unwrap_or(i32::MAX),
                )
                .ok();
            self.callback = Some(callback);
        }
        Poll::Pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(id) = self.timeout_id {
            let global: worker::web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
            global.clear_timeout_with_handle(id);
        }
    }
}

/// A GraphQL error from the JSON error body an actor refused a stream with.
fn refusal(body: &Value) -> async_graphql::Error {
    let e = &body["errors"][0];
    let message = e["message"]
        .as_str()
        .or_else(|| body["error"]["message"].as_str())
        .unwrap_or("Could not open the event stream");
    let mut err = async_graphql::Error::new(message);
    let extensions = match &e["extensions"] {
        Value::Object(ext) => ext.clone(),
        _ => {
            serde_json::Map::from_iter([("code".to_string(), Value::from("INTERNAL_SERVER_ERROR"))])
        }
    };
    let mut ext = async_graphql::ErrorExtensionValues::default();
    for (k, v) in extensions {
        ext.set(k, async_graphql::Value::from_json(v).unwrap_or_default());
    }
    err.extensions = Some(ext);
    err
}

/// `onEventSubscription(eventStreamId)`: opens the stream's socket in the caller's
/// workspace actor and yields its `EventSubscription` values, starting with an empty one
/// (Twenty's initial value: the client marks the stream ready on it, then adds queries).
pub async fn open(
    mc: &MetaCtx,
    stream_id: &str,
) -> async_graphql::Result<BoxStream<'static, Value>> {
    let fail = |e: QueryError| encode::graphql_field_error(&e);
    let workspace_id = match &mc.principal {
        Principal::Anonymous => return Err(fail(metadata::missing_token())),
        p => p
            .workspace_id()
            .map(str::to_string)
            .ok_or_else(|| fail(super::graphql::workspace_required(p)))?,
    };
    check_stream_id(stream_id).map_err(fail)?;
    let resp = forward::to_workspace(
        &mc.env,
        &workspace_id,
        ActorRequest {
            method: Method::Get,
            path: PATH_EVENT_STREAM_CONNECT,
            body: None,
            request_id: &mc.request_id,
            principal: Some(&mc.principal),
            headers: vec![
                ("upgrade".to_string(), "websocket".to_string()),
                (HEADER_EVENT_STREAM_ID.to_string(), stream_id.to_string()),
            ],
        },
    )
    .await
    .map_err(|e| fail(QueryError::internal(e.log_message())))?;
    let mut resp = resp;
    if resp.status_code() != 101 {
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        return Err(refusal(&body));
    }
    let Some(ws) = resp.websocket() else {
        return Err(fail(QueryError::internal("actor upgrade without a socket")));
    };
    let bridge = Bridge::new(ws).map_err(|e| fail(QueryError::internal(e.to_string())))?;
    let initial = frame(stream_id, vec![]);
    Ok(stream::once(async move { initial }).chain(bridge).boxed())
}

type Listener<T> = Closure<dyn FnMut(T)>;

/// The gateway's end of an event-stream socket, as a stream of the JSON frames the actor
/// sends. Ends when the socket closes; closes the socket when dropped (the client went).
struct Bridge {
    ws: WebSocket,
    /// `Some(text)` per frame, `None` once the socket closed or failed.
    rx: UnboundedReceiver<Option<String>>,
    _listeners: (
        Listener<worker::web_sys::MessageEvent>,
        Listener<worker::web_sys::CloseEvent>,
        Listener<worker::web_sys::Event>,
    ),
    done: bool,
}

// The Workers runtime is single-threaded; the executor only needs the marker.
unsafe impl Send for Bridge {}

impl Bridge {
    fn new(ws: WebSocket) -> worker::Result<Bridge> {
        ws.accept()?;
        let (tx, rx) = unbounded::<Option<String>>();
        // Closures must be unwind-safe (the wasm is built with panic=unwind); a sender that
        // a panic interrupted can at worst drop a frame.
        let tx = AssertUnwindSafe(tx);
        let on_message = {
            let tx = AssertUnwindSafe((*tx).clone());
            Closure::<dyn FnMut(worker::web_sys::MessageEvent)>::new(
                move |e: worker::web_sys::MessageEvent| {
                    if let Some(text) = e.data().as_string() {
                        let _ = tx.unbounded_send(Some(text));
                    }
                },
            )
        };
        let on_close = {
            let tx = AssertUnwindSafe((*tx).clone());
            Closure::<dyn FnMut(worker::web_sys::CloseEvent)>::new(
                move |_: worker::web_sys::CloseEvent| {
                    let _ = tx.unbounded_send(None);
                },
            )
        };
        let on_error =
            Closure::<dyn FnMut(worker::web_sys::Event)>::new(move |_: worker::web_sys::Event| {
                let _ = tx.unbounded_send(None);
            });
        let socket: &worker::web_sys::WebSocket = ws.as_ref();
        let listen = |name: &str, f: &js_sys::Function| {
            socket
                .add_event_listener_with_callback(name, f)
                .map_err(worker::Error::from)
        };
        listen("message", on_message.as_ref().unchecked_ref())?;
        listen("close", on_close.as_ref().unchecked_ref())?;
        listen("error", on_error.as_ref().unchecked_ref())?;
        Ok(Bridge {
            ws,
            rx,
            _listeners: (on_message, on_close, on_error),
            done: false,
        })
    }
}

impl Stream for Bridge {
    type Item = Value;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Value>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match self.rx.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Some(text))) => match serde_json::from_str(&text) {
                    Ok(v) => return Poll::Ready(Some(v)),
                    Err(e) => tracing::warn!(error = %e, "unreadable event stream frame"),
                },
                Poll::Ready(Some(None)) | Poll::Ready(None) => self.done = true,
            }
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // The client went (or the stream ended): the actor's close handler deletes the
        // stream and its queries. Fails harmlessly on a socket already closed.
        let _ = self.ws.close(Some(1000), Some("event stream ended"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_are_told_from_other_operations() {
        let body = |query: &str, name: Option<&str>| {
            serde_json::json!({ "query": query, "operationName": name, "variables": {} })
                .to_string()
                .into_bytes()
        };
        let sub = "subscription OnEventSubscription($eventStreamId: String!) { onEventSubscription(eventStreamId: $eventStreamId) { eventStreamId } }";
        assert!(is_subscription(&body(sub, None)));
        assert!(is_subscription(&body(sub, Some("OnEventSubscription"))));
        assert!(!is_subscription(&body("{ currentUser { id } }", None)));
        let two = format!("{sub} query Q {{ currentUser {{ id }} }}");
        assert!(is_subscription(&body(&two, Some("OnEventSubscription"))));
        assert!(!is_subscription(&body(&two, Some("Q"))));
        assert!(!is_subscription(&body(&two, None)));
        assert!(!is_subscription(&body("subscription {", None)));
        assert!(!is_subscription(b"not json"));
    }
}
