//! Latency benchmark for a running twenty-edge server.
//!
//! Measures a floor (a route that does no work) and four record operations through
//! `/graphql`, each as per-request wall times from C workers over keep-alive connections,
//! and compares the operations' p50/p99 with the floor's. See README.md, "Benchmarks".

use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use twenty_edge_bench::{
    agent, check_graphql, fail, flags, ms, percentile, positive, snippet, Bench, Pause, BATCH,
};

const USAGE: &str = "\
Latency benchmark for a running twenty-edge server (start one with
`node bench/serve-direct.mjs`, see README.md).

Usage: cargo run --release --manifest-path bench/Cargo.toml -- [OPTIONS]

Options:
  --base URL          server to measure [default: http://127.0.0.1:8788]
  --requests N        measured requests per scenario [default: 200]
  --concurrency C     concurrent workers, one keep-alive connection each [default: 4]
  --json PATH         also write the results as JSON to PATH
  -h, --help          print this help";

/// Unmeasured requests before each scenario: they open the connections and wake the
/// workspace's actor (and its schema cache), which a steady-state number should not include.
const WARMUP: usize = 20;
/// The server's per-workspace limit (src/ratelimit.rs), to warn when a run cannot fit.
const WORKSPACE_PER_MINUTE: usize = 1_000;

const CREATE: &str = "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id } }";
const BY_ID: &str = "query($id: UUID!) { person(filter: {id: {eq: $id}}) { id name { firstName lastName } jobTitle } }";
const LIST: &str = "query { people(filter: {jobTitle: {eq: \"bench\"}}, first: 60) { edges { node { id name { firstName lastName } jobTitle emails { primaryEmail } } } } }";
const TYPENAME: &str = "{ __typename }";
const UPDATE: &str = "mutation($id: UUID!, $d: PersonUpdateInput!) { updatePerson(id: $id, data: $d) { id jobTitle } }";

struct Args {
    base: String,
    requests: usize,
    concurrency: usize,
    json: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        base: "http://127.0.0.1:8788".into(),
        requests: 200,
        concurrency: 4,
        json: None,
    };
    for (flag, value) in flags(USAGE, &["--base", "--requests", "--concurrency", "--json"]) {
        match flag.as_str() {
            "--base" => args.base = value.trim_end_matches('/').to_string(),
            "--requests" => args.requests = positive(USAGE, &flag, &value),
            "--concurrency" => args.concurrency = positive(USAGE, &flag, &value),
            _ => args.json = Some(value),
        }
    }
    args
}

/// One request of a scenario.
enum Call {
    Get(&'static str),
    Graphql(&'static str, Value),
}

/// Runs `warmup` unmeasured and then `n` measured calls of `make(i)` on `concurrency`
/// workers; each response must pass `check`. Returns the samples and the wall time of the
/// measured part minus rate-limit waits.
fn measure(
    bench: &Bench,
    token: Option<&str>,
    n: usize,
    concurrency: usize,
    make: &(dyn Fn(usize) -> Call + Sync),
    check: &(dyn Fn(u16, &str) -> Result<(), String> + Sync),
) -> (Vec<Duration>, Duration) {
    // Each worker owns an agent, so it keeps one connection alive for the whole scenario.
    let agents: Vec<ureq::Agent> = (0..concurrency).map(|_| agent()).collect();
    let run = |first: usize, count: usize| -> Vec<Duration> {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let workers: Vec<_> = agents
                .iter()
                .map(|a| {
                    let next = &next;
                    s.spawn(move || {
                        let mut samples = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= count {
                                return samples;
                            }
                            // Built before the clock starts: that is client work.
                            let (path, body) = match make(first + i) {
                                Call::Get(p) => (p, None),
                                Call::Graphql(q, vars) => (
                                    "/graphql",
                                    Some(json!({ "query": q, "variables": vars }).to_string()),
                                ),
                            };
                            let (status, text, elapsed) =
                                bench.send(a, token, path, body.as_deref());
                            check(status, &text).unwrap_or_else(|e| fail(&e));
                            samples.push(elapsed);
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        })
    };
    run(0, WARMUP);
    let before = bench.pause.snapshot().waited;
    let started = Instant::now();
    let samples = run(WARMUP, n);
    let wall = started
        .elapsed()
        .saturating_sub(bench.pause.snapshot().waited - before);
    (samples, wall)
}

struct Stats {
    name: &'static str,
    count: usize,
    p50: f64,
    p99: f64,
    mean: f64,
    rps: f64,
    limited: usize,
    /// The maximum ratio to the floor's p50 and p99 that counts as PASS.
    target: Option<f64>,
}

fn stats(
    name: &'static str,
    target: Option<f64>,
    mut samples: Vec<Duration>,
    wall: Duration,
    limited: usize,
) -> Stats {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let s = Stats {
        name,
        count: samples.len(),
        p50: percentile(&samples, 50.0),
        p99: percentile(&samples, 99.0),
        mean: ms(total) / samples.len() as f64,
        rps: samples.len() as f64 / wall.as_secs_f64(),
        limited,
        target,
    };
    eprintln!(
        "  {name}: n={} p50={:.2} ms p99={:.2} ms mean={:.2} ms {:.1} req/s",
        s.count, s.p50, s.p99, s.mean, s.rps
    );
    s
}

fn main() {
    let args = parse_args();
    let bench = Bench {
        base: args.base.clone(),
        pause: Pause::default(),
    };
    let (n, c) = (args.requests, args.concurrency);
    // Distinct per run, so sign-up emails and names never collide with an earlier run's.
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    eprintln!(
        "twenty-edge bench against {}: {n} requests per scenario, {c} workers",
        args.base
    );
    // Setup (at most 2 calls) + warm-up + the measured requests go to one fresh workspace
    // per scenario; more than the limit means 429 waits (excluded, but slow).
    if WARMUP + n + 2 > WORKSPACE_PER_MINUTE {
        eprintln!(
            "note: {} requests per workspace exceed its limit of {WORKSPACE_PER_MINUTE}/min; \
             the run will pause on 429s (pauses are excluded from the numbers)",
            WARMUP + n + 2
        );
    }

    // The floor: the cheapest thing the gateway can answer. /ping skips auth, limits and I/O.
    let probe = bench.send(&agent(), None, "/ping", None);
    let floor_path = match probe.0 {
        200 => "/ping",
        404 => {
            eprintln!(
                "WARNING: GET /ping answered 404; falling back to GET /health, which reads D1 and \
                 KV and is rate-limited per IP, so the floor is inflated and the ratios flattered"
            );
            "/health"
        }
        s => fail(&format!(
            "GET /ping answered HTTP {s}: {}",
            snippet(&probe.1)
        )),
    };
    let ok_200 = |status: u16, text: &str| -> Result<(), String> {
        if status == 200 {
            Ok(())
        } else {
            Err(format!(
                "GET {floor_path} answered HTTP {status}: {}",
                snippet(text)
            ))
        }
    };
    let graphql_ok = |status: u16, text: &str| check_graphql("/graphql", status, text).map(|_| ());

    let mut results = Vec::new();
    let mut scenario =
        |name: &'static str,
         target: Option<f64>,
         token: Option<&str>,
         make: &(dyn Fn(usize) -> Call + Sync),
         check: &(dyn Fn(u16, &str) -> Result<(), String> + Sync)| {
            let hits = bench.pause.snapshot().hits;
            let (samples, wall) = measure(&bench, token, n, c, make, check);
            let limited = bench.pause.snapshot().hits - hits;
            results.push(stats(name, target, samples, wall, limited));
        };

    eprintln!("floor: GET {floor_path}");
    scenario("floor", None, None, &|_| Call::Get(floor_path), &ok_200);

    // The cheapest request that reaches the workspace's actor: gateway, token, the hop to
    // the Durable Object, admission and GraphQL with no storage. No target: it shows how
    // much of each operation below is the hop every workspace request pays.
    eprintln!("actor floor: signing up");
    let token = bench.new_workspace(&format!("bench-{run_id}-hop@example.com"));
    scenario(
        "actor floor ({ __typename })",
        None,
        Some(&token),
        &|_| Call::Graphql(TYPENAME, json!({})),
        &graphql_ok,
    );

    // Each GraphQL scenario gets its own fresh workspace, so its setup, warm-up and
    // measured requests fit in one workspace's budget and scenarios do not see each
    // other's rows.
    eprintln!("createPerson: signing up");
    let token = bench.new_workspace(&format!("bench-{run_id}-create@example.com"));
    scenario(
        "createPerson",
        Some(1.5),
        Some(&token),
        &|i| {
            Call::Graphql(
                CREATE,
                json!({ "d": { "name": { "firstName": "Bench", "lastName": format!("{run_id}-{i}") } } }),
            )
        },
        &graphql_ok,
    );

    eprintln!("person by id: signing up, seeding {BATCH} people");
    let token = bench.new_workspace(&format!("bench-{run_id}-byid@example.com"));
    let ids = bench.seed_people(&token, BATCH, "seed", "byid");
    scenario(
        "person by id",
        Some(1.5),
        Some(&token),
        &|i| Call::Graphql(BY_ID, json!({ "id": ids[i % ids.len()] })),
        &|status, text| {
            let body = check_graphql("/graphql", status, text)?;
            match body.pointer("/data/person/id") {
                Some(Value::String(_)) => Ok(()),
                _ => Err(format!("person by id found nothing: {}", snippet(text))),
            }
        },
    );

    eprintln!("people filter: signing up, seeding {} people", 2 * BATCH);
    let token = bench.new_workspace(&format!("bench-{run_id}-list@example.com"));
    bench.seed_people(&token, 2 * BATCH, "bench", "list");
    scenario(
        "people filter (60 rows)",
        Some(2.0),
        Some(&token),
        &|_| Call::Graphql(LIST, json!({})),
        &|status, text| {
            let body = check_graphql("/graphql", status, text)?;
            let edges = body
                .pointer("/data/people/edges")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if edges == 60 {
                Ok(())
            } else {
                Err(format!("people filter returned {edges} edges, expected 60"))
            }
        },
    );

    eprintln!("updatePerson: signing up, seeding {BATCH} people");
    let token = bench.new_workspace(&format!("bench-{run_id}-update@example.com"));
    let ids = bench.seed_people(&token, BATCH, "seed", "update");
    scenario(
        "updatePerson",
        Some(1.5),
        Some(&token),
        &|i| {
            Call::Graphql(
                UPDATE,
                json!({ "id": ids[i % ids.len()], "d": { "jobTitle": format!("updated-{i}") } }),
            )
        },
        &graphql_ok,
    );

    report(&args, floor_path, &results);
}

fn report(args: &Args, floor_path: &str, results: &[Stats]) {
    let floor = &results[0];
    let ratio = |s: &Stats| (s.p50 / floor.p50, s.p99 / floor.p99);
    println!();
    println!(
        "twenty-edge bench: {} requests per scenario, {} workers, floor GET {floor_path}, {}",
        args.requests, args.concurrency, args.base
    );
    println!();
    println!("| scenario | n | p50 ms | p99 ms | mean ms | req/s | p50/floor | p99/floor | target | result |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for s in results {
        let (r50, r99) = ratio(s);
        let (r50, r99, target, result) = match s.target {
            None => ("".into(), "".into(), "".into(), ""),
            Some(t) => (
                format!("{r50:.2}"),
                format!("{r99:.2}"),
                format!("≤ {t}"),
                if r50 <= t && r99 <= t { "PASS" } else { "MISS" },
            ),
        };
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {r50} | {r99} | {target} | {result} |",
            s.name, s.count, s.p50, s.p99, s.mean, s.rps
        );
    }
    println!();
    println!("Targets: p50 and p99 at most 1.5× the floor's for single-record operations, 2× for the 60-row list.");
    let limited: usize = results.iter().map(|s| s.limited).sum();
    if limited > 0 {
        println!("Rate limited: {limited} responses were 429; they were retried after Retry-After and are not samples, and the waits are excluded from req/s.");
    } else {
        println!("No 429 responses.");
    }
    if floor_path != "/ping" {
        println!("WARNING: the floor is GET {floor_path} (no /ping on this server), so it is inflated and the ratios look better than they are.");
    }

    if let Some(path) = &args.json {
        let scenarios: Vec<Value> = results
            .iter()
            .map(|s| {
                let (r50, r99) = ratio(s);
                json!({
                    "name": s.name, "count": s.count,
                    "p50_ms": s.p50, "p99_ms": s.p99, "mean_ms": s.mean, "throughput_rps": s.rps,
                    "rate_limited": s.limited,
                    "p50_ratio": s.target.map(|_| r50), "p99_ratio": s.target.map(|_| r99),
                    "target_ratio": s.target,
                    "pass": s.target.map(|t| r50 <= t && r99 <= t),
                })
            })
            .collect();
        let out = json!({
            "base": args.base, "requests": args.requests, "concurrency": args.concurrency,
            "warmup": WARMUP, "floor_path": floor_path, "rate_limited": limited,
            "scenarios": scenarios,
        });
        std::fs::write(path, serde_json::to_string_pretty(&out).unwrap() + "\n")
            .unwrap_or_else(|e| fail(&format!("writing {path}: {e}")));
        println!("Wrote {path}");
    }
}
