//! Scaling benchmark (issue #11): grows ONE workspace to each of `--sizes` people (each
//! linked to one of 10 % as many companies), and at each size measures the bulk load rate
//! (`createPeople` of 200) and, one request at a time, createPerson, person by id,
//! updatePerson, the 60-row people list filtered by a case-insensitive first-name prefix and
//! ordered by first name with the company's name, that filter's totalCount, global
//! `search`, and the REST list. Prints (and with `--out` writes) a markdown table per size.
//! Not a test: it needs a running server (`node bench/serve-direct.mjs`, see README.md).

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use twenty_edge_bench::{agent, check_graphql, fail, flags, ms, percentile, positive, Bench};

const USAGE: &str = "\
Scaling benchmark: grows one workspace and measures record operations at each size.

Usage: cargo run --release --manifest-path bench/Cargo.toml --bin scale -- [OPTIONS]

Options:
  --base URL        server to measure [default: http://127.0.0.1:8788]
  --sizes LIST      people at each measuring point, ascending [default: 10000,100000]
  --samples N       measured requests per operation and size [default: 40]
  --parallel P      createPeople calls in flight while loading [default: 2]
  --rss-pid PID     also report the resident memory of this process (workerd) per size
  --out PATH        also write the markdown tables to PATH
  -h, --help        print this help";

/// Records per createPeople / createCompanies call (the server's maximum, Twenty's
/// QUERY_MAX_RECORDS).
const LOAD_BATCH: usize = 200;
/// Unmeasured requests before each operation (connection, caches).
const WARMUP: usize = 3;

/// First names: their first two letters are the list's prefixes.
const NAMES: &[&str] = &[
    "Abigail", "Aaron", "Abel", "Bob", "Bella", "Carl", "Chloe", "Dan", "Diana", "Ed", "Eva",
    "Frank", "Fay", "Gus", "Gina", "Hal", "Hana", "Ivan", "Iris", "Jack", "Jade", "Karl", "Kim",
    "Leo", "Lia", "Max", "Mia", "Ned", "Nia", "Otto", "Olga", "Paul", "Pia", "Quinn", "Rob",
    "Rita", "Sam", "Sara", "Tom", "Tia", "Uma", "Vic", "Vera", "Walt", "Wen", "Xavi", "Yan", "Zoe",
];
const PREFIXES: &[&str] = &["ab", "ca", "ja", "mi", "sa", "zo", "ol", "ha"];

const CREATE_COMPANIES: &str =
    "mutation($d: [CompanyCreateInput!]!) { createCompanies(data: $d) { id } }";
const CREATE_PEOPLE: &str = "mutation($d: [PersonCreateInput!]!) { createPeople(data: $d) { id } }";
const CREATE: &str = "mutation($d: PersonCreateInput!) { createPerson(data: $d) { id name { firstName } companyId } }";
const BY_ID: &str = "query($id: UUID!) { person(filter: {id: {eq: $id}}) { id name { firstName lastName } jobTitle emails { primaryEmail } company { id name } } }";
const UPDATE: &str = "mutation($id: UUID!, $d: PersonUpdateInput!) { updatePerson(id: $id, data: $d) { id jobTitle } }";
const LIST: &str = "query($f: PersonFilterInput, $o: [PersonOrderByInput]) { people(first: 60, filter: $f, orderBy: $o) { edges { cursor node { id name { firstName lastName } emails { primaryEmail } jobTitle company { id name } } } pageInfo { hasNextPage endCursor } } }";
const TOTAL: &str = "query($f: PersonFilterInput) { people(filter: $f) { totalCount } }";
const SEARCH: &str = "query($q: String!) { search(searchInput: $q, limit: 20) { edges { node { recordId objectNameSingular label } } } }";

struct Args {
    base: String,
    sizes: Vec<usize>,
    samples: usize,
    parallel: usize,
    rss_pid: Option<u32>,
    out: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        base: "http://127.0.0.1:8788".into(),
        sizes: vec![10_000, 100_000],
        samples: 40,
        parallel: 2,
        rss_pid: None,
        out: None,
    };
    for (flag, value) in flags(
        USAGE,
        &[
            "--base",
            "--sizes",
            "--samples",
            "--parallel",
            "--rss-pid",
            "--out",
        ],
    ) {
        match flag.as_str() {
            "--base" => args.base = value.trim_end_matches('/').to_string(),
            "--sizes" => {
                args.sizes = value
                    .split(',')
                    .map(|s| positive(USAGE, &flag, s.trim()))
                    .collect();
                if args.sizes.windows(2).any(|w| w[0] >= w[1]) {
                    fail("--sizes must be ascending");
                }
            }
            "--samples" => args.samples = positive(USAGE, &flag, &value),
            "--parallel" => args.parallel = positive(USAGE, &flag, &value),
            "--rss-pid" => args.rss_pid = Some(positive(USAGE, &flag, &value) as u32),
            _ => args.out = Some(value),
        }
    }
    args
}

/// A small deterministic generator (xorshift), so runs load the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn person(i: usize, company: &str) -> Value {
    let first = NAMES[(i * 7919) % NAMES.len()];
    json!({
        "name": {"firstName": format!("{first}{}", ["", "a", "e", "o"][i % 4]), "lastName": format!("Person{i}")},
        "emails": {"primaryEmail": format!("person{i}@scale.example")},
        "jobTitle": "Engineer",
        "companyId": company,
    })
}

/// Sends `batches` createX calls, `parallel` in flight; returns the ids in order and the
/// wall time.
fn load(
    bench: &Bench,
    token: &str,
    query: &str,
    field: &str,
    batches: Vec<Vec<Value>>,
    parallel: usize,
) -> (Vec<String>, Duration) {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let mut results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..parallel)
            .map(|_| {
                let (next, batches) = (&next, &batches);
                s.spawn(move || {
                    let a = agent();
                    let mut out = vec![];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(batch) = batches.get(i) else {
                            return out;
                        };
                        let data =
                            bench.gql(&a, "/graphql", Some(token), query, json!({"d": batch}));
                        let ids = data[field]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                                    .collect::<Vec<_>>()
                            })
                            .unwrap_or_default();
                        if ids.len() != batch.len() {
                            fail(&format!("{field} created {} of {}", ids.len(), batch.len()));
                        }
                        out.push((i, ids));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let wall = started.elapsed();
    results.sort_by_key(|(i, _)| *i);
    (results.into_iter().flat_map(|(_, ids)| ids).collect(), wall)
}

struct Row {
    op: &'static str,
    samples: Vec<Duration>,
}

/// Runs `make(i)` sequentially (one keep-alive connection): WARMUP unmeasured, then
/// `n` measured; each answer must pass `check`.
fn measure(
    bench: &Bench,
    token: &str,
    n: usize,
    make: &mut dyn FnMut(usize) -> (String, Option<String>),
    check: &dyn Fn(u16, &str) -> Result<(), String>,
) -> Vec<Duration> {
    let a = agent();
    let mut samples = vec![];
    for i in 0..WARMUP + n {
        let (path, body) = make(i);
        let (status, text, elapsed) = bench.send(&a, Some(token), &path, body.as_deref());
        check(status, &text).unwrap_or_else(|e| fail(&e));
        if i >= WARMUP {
            samples.push(elapsed);
        }
    }
    samples
}

fn gql_call(query: &str, vars: Value) -> (String, Option<String>) {
    (
        "/graphql".into(),
        Some(json!({"query": query, "variables": vars}).to_string()),
    )
}

fn graphql_ok(status: u16, text: &str) -> Result<(), String> {
    check_graphql("/graphql", status, text).map(|_| ())
}

fn rss_kib(pid: u32) -> Option<u64> {
    // The server process and its children (workerd runs under node).
    let mut total = 0;
    let mut pids = vec![pid];
    while let Some(p) = pids.pop() {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).ok()?;
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    Some(total)
}

fn main() {
    let args = parse_args();
    let bench = Bench {
        base: args.base.clone(),
        pause: Default::default(),
    };
    let email = format!(
        "scale-{}@bench.example",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let token = bench.new_workspace(&email);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut companies: Vec<String> = vec![];
    let mut people: Vec<String> = vec![];
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# Scaling bench ({}), samples per op: {}, load parallelism: {}\n",
        args.base, args.samples, args.parallel
    );
    print!("{report}");
    for &size in &args.sizes {
        // Companies first (people link to them), then people, up to this size.
        let want_companies = (size / 10).max(1);
        let batches: Vec<Vec<Value>> = (companies.len()..want_companies)
            .collect::<Vec<_>>()
            .chunks(LOAD_BATCH)
            .map(|c| {
                c.iter()
                    .map(|i| json!({"name": format!("Company {i}"), "domainName": {"primaryLinkUrl": format!("https://c{i}.scale.example")}}))
                    .collect()
            })
            .collect();
        let (ids, company_wall) = load(
            &bench,
            &token,
            CREATE_COMPANIES,
            "createCompanies",
            batches,
            args.parallel,
        );
        let companies_loaded = ids.len();
        companies.extend(ids);
        let start = people.len();
        let batches: Vec<Vec<Value>> = (start..size)
            .collect::<Vec<_>>()
            .chunks(LOAD_BATCH)
            .map(|c| {
                c.iter()
                    .map(|&i| person(i, &companies[(i * 31) % companies.len()]))
                    .collect()
            })
            .collect();
        let (ids, people_wall) = load(
            &bench,
            &token,
            CREATE_PEOPLE,
            "createPeople",
            batches,
            args.parallel,
        );
        let people_loaded = ids.len();
        people.extend(ids);
        let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);

        let n = args.samples;
        let mut rows = vec![];
        let mut created = 0usize;
        let next_index = people.len() + 10_000_000;
        let company_count = companies.len();
        rows.push(Row {
            op: "createPerson",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |_| {
                    created += 1;
                    let c = &companies[rng.below(company_count)];
                    gql_call(CREATE, json!({"d": person(next_index + created + size, c)}))
                },
                &graphql_ok,
            ),
        });
        let mut pick = Rng(size as u64 | 1);
        rows.push(Row {
            op: "person by id",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |_| gql_call(BY_ID, json!({"id": people[pick.below(people.len())]})),
                &|status, text| {
                    let body = check_graphql("/graphql", status, text)?;
                    if body["data"]["person"]["id"].is_string() {
                        Ok(())
                    } else {
                        Err(format!("no person: {text}"))
                    }
                },
            ),
        });
        rows.push(Row {
            op: "updatePerson",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |i| {
                    gql_call(
                        UPDATE,
                        json!({"id": people[pick.below(people.len())], "d": {"jobTitle": format!("Title {i}")}}),
                    )
                },
                &graphql_ok,
            ),
        });
        let filter = |i: usize| json!({"name": {"firstName": {"ilike": format!("{}%", PREFIXES[i % PREFIXES.len()])}}});
        rows.push(Row {
            op: "60-row list (ilike prefix, by first name, with company)",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |i| {
                    gql_call(
                        LIST,
                        json!({"f": filter(i), "o": [{"name": {"firstName": "AscNullsFirst"}}, {"id": "AscNullsFirst"}]}),
                    )
                },
                &|status, text| {
                    let body = check_graphql("/graphql", status, text)?;
                    match body["data"]["people"]["edges"].as_array() {
                        // 60 once the workspace is big enough for every prefix.
                        Some(e) if !e.is_empty() && e.len() <= 60 => Ok(()),
                        _ => Err(format!("no rows or too many: {}", twenty_edge_bench::snippet(text))),
                    }
                },
            ),
        });
        rows.push(Row {
            op: "totalCount of that filter",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |i| gql_call(TOTAL, json!({"f": filter(i)})),
                &|status, text| {
                    let body = check_graphql("/graphql", status, text)?;
                    match body["data"]["people"]["totalCount"].as_i64() {
                        Some(t) if t > 0 => Ok(()),
                        _ => Err(format!("bad total: {text}")),
                    }
                },
            ),
        });
        rows.push(Row {
            op: "search (a first name)",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |i| gql_call(SEARCH, json!({"q": NAMES[(i * 5) % NAMES.len()]})),
                &|status, text| {
                    let body = check_graphql("/graphql", status, text)?;
                    match body["data"]["search"]["edges"].as_array() {
                        Some(e) if !e.is_empty() => Ok(()),
                        _ => Err(format!("no search results: {text}")),
                    }
                },
            ),
        });
        rows.push(Row {
            op: "REST list (GET /rest/people, 60)",
            samples: measure(
                &bench,
                &token,
                n,
                &mut |_| ("/rest/people?limit=60".into(), None),
                &|status, text| {
                    if status == 200 && text.contains("\"people\"") {
                        Ok(())
                    } else {
                        Err(format!(
                            "REST list answered {status}: {}",
                            twenty_edge_bench::snippet(text)
                        ))
                    }
                },
            ),
        });

        let mut table = String::new();
        let _ = writeln!(
            table,
            "## {} people, {} companies\n",
            people.len(),
            companies.len()
        );
        let _ = writeln!(
            table,
            "Bulk load to this size: people {:.0} records/s ({} in {:.1} s), companies {:.0} records/s ({} in {:.1} s); batches of {LOAD_BATCH}, {} in flight.",
            rate(people_loaded, people_wall),
            people_loaded,
            people_wall.as_secs_f64(),
            rate(companies_loaded, company_wall),
            companies_loaded,
            company_wall.as_secs_f64(),
            args.parallel
        );
        if let Some(kib) = args.rss_pid.and_then(rss_kib) {
            let _ = writeln!(
                table,
                "Server resident memory after measuring: {} MiB.",
                kib / 1024
            );
        }
        let _ = writeln!(
            table,
            "\n| operation | n | p50 ms | p90 ms | mean ms | max ms |"
        );
        let _ = writeln!(table, "|---|---:|---:|---:|---:|---:|");
        for mut r in rows {
            r.samples.sort();
            let mean = r.samples.iter().map(|d| ms(*d)).sum::<f64>() / r.samples.len() as f64;
            let _ = writeln!(
                table,
                "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                r.op,
                r.samples.len(),
                percentile(&r.samples, 50.0),
                percentile(&r.samples, 90.0),
                mean,
                percentile(&r.samples, 100.0)
            );
        }
        let _ = writeln!(table);
        print!("{table}");
        report.push_str(&table);
        if let Some(path) = &args.out {
            std::fs::write(path, &report).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
        }
    }
}
