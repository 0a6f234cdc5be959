//! Realtime fan-out benchmark (issue #6): holds N WebSockets (10,000 by default) on one
//! workspace, all following `record:{workspace}:{person}`, then creates people over
//! `/graphql` one at a time and measures, for every socket, the delay from the mutation's
//! HTTP response to the event's arrival. Reports the server's memory (RSS of the local
//! `workerd` processes) before and after the sockets opened.
//!
//! Run it against `node bench/serve-direct.mjs` (see README.md, "Benchmarks"): behind
//! `wrangler dev`'s proxy, 10,000 sockets need more open files than one process may have.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Message};
use twenty_edge_bench::{agent, fail, flags, ms, percentile, positive, str_at, Bench, Pause};

const USAGE: &str = "\
Realtime fan-out benchmark for a running twenty-edge server (start one with
`node bench/serve-direct.mjs`).

Usage: cargo run --release --manifest-path bench/Cargo.toml --bin realtime -- [OPTIONS]

Options:
  --base URL          server to measure [default: http://127.0.0.1:8788]
  --sockets N         WebSockets held open on one workspace [default: 10000]
  --mutations M       people created (one event each, to every socket) [default: 20]
  --json PATH         also write the results as JSON to PATH
  -h, --help          print this help";

/// Upgrades in flight at once while opening the sockets: enough to open 10,000 in seconds,
/// few enough not to overflow the server's listen backlog.
const CONNECT_CONCURRENCY: usize = 200;
/// How long one mutation's event may take to reach every socket before the run fails.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause between mutations, so one mutation's fan-out is measured on its own.
const BETWEEN_MUTATIONS: Duration = Duration::from_millis(200);

const CREATE: &str = "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id } }";

struct Args {
    base: String,
    sockets: usize,
    mutations: usize,
    json: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        base: "http://127.0.0.1:8788".into(),
        sockets: 10_000,
        mutations: 20,
        json: None,
    };
    for (flag, value) in flags(USAGE, &["--base", "--sockets", "--mutations", "--json"]) {
        match flag.as_str() {
            "--base" => args.base = value.trim_end_matches('/').to_string(),
            "--sockets" => args.sockets = positive(USAGE, &flag, &value),
            "--mutations" => args.mutations = positive(USAGE, &flag, &value),
            _ => args.json = Some(value),
        }
    }
    args
}

/// Resident memory of the local `workerd` processes, in KiB (None if there are none: the
/// server runs elsewhere).
fn workerd_rss_kib() -> Option<u64> {
    let mut total = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let path = entry.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if comm.trim() != "workerd" {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if let Some(k) = kib {
            total = Some(total.unwrap_or(0) + k);
        }
    }
    total
}

/// One socket: connect, subscribe, report readiness, then report every record event's
/// arrival as (recordId, when).
async fn socket(
    url: String,
    token: Arc<str>,
    topic: Arc<str>,
    ready: mpsc::UnboundedSender<Result<(), String>>,
    events: mpsc::UnboundedSender<(String, Instant)>,
) {
    let opened = async {
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
        req.headers_mut().insert("authorization", auth);
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let subscribe = json!({ "type": "subscribe", "topic": &*topic }).to_string();
        ws.send(Message::text(subscribe))
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("\"subscribed\"") => Ok(ws),
            other => Err(format!("expected subscribed, got {other:?}")),
        }
    }
    .await;
    let mut ws = match opened {
        Ok(ws) => {
            let _ = ready.send(Ok(()));
            ws
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let at = Instant::now();
        let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if frame["type"] == "subscription" {
            if let Some(id) = frame["data"]["recordId"].as_str() {
                let _ = events.send((id.to_string(), at));
            }
        }
    }
}

struct Delays {
    /// Per (socket, mutation): response → arrival, 0 when the event came first.
    from_response: Vec<Duration>,
    /// Per (socket, mutation): request sent → arrival.
    from_request: Vec<Duration>,
    /// Per mutation: response → arrival on the last socket.
    all_delivered: Vec<Duration>,
    before_response: usize,
    mutation_ms: Vec<Duration>,
}

fn main() {
    let args = parse_args();
    let bench = Bench {
        base: args.base.clone(),
        pause: Pause::default(),
    };
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let http = agent();
    eprintln!(
        "twenty-edge realtime bench against {}: {} sockets, {} mutations",
        args.base, args.sockets, args.mutations
    );
    let token = bench.new_workspace(&format!("bench-{run_id}-realtime@example.com"));
    let me = bench.gql(
        &http,
        "/metadata",
        Some(&token),
        "{ currentUser { currentWorkspace { id } } }",
        json!({}),
    );
    let workspace_id = str_at(&me, "/currentUser/currentWorkspace/id");
    let objects = bench.gql(
        &http,
        "/metadata",
        Some(&token),
        "{ objects(paging: {first: 1000}) { edges { node { id nameSingular } } } }",
        json!({}),
    );
    let person = objects["objects"]["edges"]
        .as_array()
        .and_then(|edges| edges.iter().find(|e| e["node"]["nameSingular"] == "person"))
        .map(|e| str_at(e, "/node/id"))
        .unwrap_or_else(|| fail("no person object"));
    let topic: Arc<str> = format!("record:{workspace_id}:{person}").into();
    let ws_url = format!("{}/ws", args.base.replacen("http", "ws", 1));
    let token: Arc<str> = token.into();

    let rss_before = workerd_rss_kib();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("tokio runtime: {e}")));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    for _ in 0..args.sockets {
        let (url, token, topic) = (ws_url.clone(), token.clone(), topic.clone());
        let (ready, events, gate) = (ready_tx.clone(), events_tx.clone(), gate.clone());
        runtime.spawn(async move {
            // The permit is held until this socket is ready (or failed), then released.
            let permit = gate.acquire_owned().await;
            let (tx, mut rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(socket(url, token, topic, tx, events));
            let result = rx.recv().await.unwrap_or(Err("socket task ended".into()));
            drop(permit);
            let _ = ready.send(result);
            let _ = task.await;
        });
    }
    drop(events_tx);
    for i in 0..args.sockets {
        match ready_rx.blocking_recv() {
            Some(Ok(())) => {}
            Some(Err(e)) => fail(&format!("socket {i} of {}: {e}", args.sockets)),
            None => fail("socket tasks ended early"),
        }
        if (i + 1) % 2_000 == 0 {
            eprintln!("  {} sockets open", i + 1);
        }
    }
    let open_time = started.elapsed();
    // Let the server settle (allocations after the last upgrade) before reading memory.
    std::thread::sleep(Duration::from_secs(2));
    let rss_after = workerd_rss_kib();
    eprintln!(
        "  all {} sockets subscribed in {:.1} s",
        args.sockets,
        open_time.as_secs_f64()
    );

    let mut d = Delays {
        from_response: vec![],
        from_request: vec![],
        all_delivered: vec![],
        before_response: 0,
        mutation_ms: vec![],
    };
    // Events that arrive before this side has read the response id wait here.
    let mut early: HashMap<String, Vec<Instant>> = HashMap::new();
    for m in 0..args.mutations {
        let vars = json!({ "d": { "name": { "firstName": "Realtime", "lastName": format!("{run_id}-{m}") } } });
        let sent = Instant::now();
        let data = bench.gql(&http, "/graphql", Some(&token), CREATE, vars);
        let responded = Instant::now();
        let id = str_at(&data, "/createPerson/id");
        d.mutation_ms.push(responded - sent);
        let mut arrivals = early.remove(&id).unwrap_or_default();
        let deadline = responded + DELIVERY_TIMEOUT;
        while arrivals.len() < args.sockets {
            let left = deadline.saturating_duration_since(Instant::now());
            let next =
                runtime.block_on(async { tokio::time::timeout(left, events_rx.recv()).await });
            match next {
                Ok(Some((rid, at))) if rid == id => arrivals.push(at),
                Ok(Some((rid, at))) => early.entry(rid).or_default().push(at),
                Ok(None) => fail("every socket closed"),
                Err(_) => fail(&format!(
                    "mutation {m}: {} of {} sockets got the event within {} s",
                    arrivals.len(),
                    args.sockets,
                    DELIVERY_TIMEOUT.as_secs()
                )),
            }
        }
        let last = arrivals.iter().max().copied().unwrap_or(responded);
        d.all_delivered
            .push(last.saturating_duration_since(responded));
        for at in arrivals {
            if at < responded {
                d.before_response += 1;
            }
            d.from_response
                .push(at.saturating_duration_since(responded));
            d.from_request.push(at - sent);
        }
        eprintln!(
            "  mutation {}: all delivered {:.1} ms after the response",
            m + 1,
            ms(*d.all_delivered.last().unwrap())
        );
        std::thread::sleep(BETWEEN_MUTATIONS);
    }
    report(&args, open_time, rss_before, rss_after, d);
    runtime.shutdown_timeout(Duration::from_secs(1));
}

fn report(
    args: &Args,
    open_time: Duration,
    rss_before: Option<u64>,
    rss_after: Option<u64>,
    mut d: Delays,
) {
    for v in [
        &mut d.from_response,
        &mut d.from_request,
        &mut d.all_delivered,
        &mut d.mutation_ms,
    ] {
        v.sort();
    }
    let p = |v: &[Duration], q| percentile(v, q);
    let mib = |k: u64| k as f64 / 1024.0;
    println!();
    println!(
        "twenty-edge realtime bench: {} sockets on one workspace, {} mutations, {}",
        args.sockets, args.mutations, args.base
    );
    println!();
    println!("| measure | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, v: &[Duration]| {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            p(v, 50.0),
            p(v, 99.0),
            ms(*v.last().unwrap())
        )
    };
    row(
        "delivery delay after the mutation's response, per socket",
        &d.from_response,
    );
    row(
        "delivery delay after the mutation's request, per socket",
        &d.from_request,
    );
    row(
        "until the last socket had it, per mutation (from the response)",
        &d.all_delivered,
    );
    row(
        "createPerson round trip (while holding the sockets)",
        &d.mutation_ms,
    );
    println!();
    println!(
        "{} deliveries; {} arrived before the HTTP response (counted as 0). Sockets opened and subscribed in {:.1} s.",
        d.from_response.len(),
        d.before_response,
        open_time.as_secs_f64()
    );
    match (rss_before, rss_after) {
        (Some(b), Some(a)) => println!(
            "workerd memory (RSS): {:.0} MiB before, {:.0} MiB with the sockets open: {:.1} KiB per socket.",
            mib(b),
            mib(a),
            a.saturating_sub(b) as f64 / args.sockets as f64
        ),
        _ => println!("workerd memory: no local workerd process found (server on another machine?)."),
    }
    if let Some(path) = &args.json {
        let stat = |v: &[Duration]| json!({ "p50_ms": p(v, 50.0), "p99_ms": p(v, 99.0), "max_ms": ms(*v.last().unwrap()) });
        let out = json!({
            "base": args.base, "sockets": args.sockets, "mutations": args.mutations,
            "open_seconds": open_time.as_secs_f64(),
            "delay_from_response": stat(&d.from_response),
            "delay_from_request": stat(&d.from_request),
            "all_delivered_from_response": stat(&d.all_delivered),
            "mutation_round_trip": stat(&d.mutation_ms),
            "arrived_before_response": d.before_response,
            "workerd_rss_kib_before": rss_before, "workerd_rss_kib_after": rss_after,
        });
        std::fs::write(path, serde_json::to_string_pretty(&out).unwrap() + "\n")
            .unwrap_or_else(|e| fail(&format!("writing {path}: {e}")));
        println!("Wrote {path}");
    }
}
