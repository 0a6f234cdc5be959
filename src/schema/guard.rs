//! Bounds on the shape of a request, decided before anything expensive runs.
//!
//! The GraphQL parser (pest), serde's value conversions and our filter compiler are
//! recursive: a document nested a few thousand levels deep overflows the wasm stack, which
//! resets the whole isolate (every tenant's requests in flight fail). Fragments that spread
//! each other expand exponentially, and aliases multiply work. So, in this order:
//!
//! 1. [`check_nesting`] scans raw bytes (JSON bodies, GraphQL documents) with a counter, no
//!    recursion, and refuses anything nested deeper than the limits below;
//! 2. the document is parsed (linear once nesting is bounded) and [`check_document`]
//!    computes, without expanding anything, how many fields its fragments expand to and
//!    how many root fields each operation has.
//!
//! Refusals are GraphQL validation errors (`GRAPHQL_VALIDATION_FAILED`), answered 200 with
//! `errors` like every other validation failure.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, SelectionSet};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Brackets (`{`, `[`, `(`) a GraphQL document may nest. The web app's deepest query nests
/// about 20 (selections plus a filter literal); async-graphql refuses a selection depth
/// over 32 anyway. pest needs several stack frames per level, and the wasm stack
/// overflowed at about 2,000 levels: 64 keeps far from it.
pub const MAX_DOCUMENT_NESTING: usize = 64;
/// Brackets a JSON body (GraphQL variables, REST bodies) may nest. serde_json stops at 128
/// on its own; what we do with the value afterwards (filters, conversions) recurses too.
pub const MAX_JSON_NESTING: usize = 64;
/// Fields an operation may select once every fragment is expanded. The web app's largest
/// queries (a record page of a wide object with its relations) select well under 1,000;
/// 10 fragments spreading each other over 8 levels select 10^8.
pub const MAX_EXPANDED_FIELDS: u64 = 5_000;
/// Root fields (aliases included) per operation: each is a separate resolver run against
/// the workspace (5,000 aliased `search`es took 10 s of CPU). Schema tooling sends up to
/// 100 aliased `createOneField`s per request (tests/metadata.rs, 500 fields in 5
/// requests); the rows-read budget bounds what 100 root fields can cost.
pub const MAX_ROOT_FIELDS: u64 = 100;
/// Fragment definitions per document.
pub const MAX_FRAGMENTS: usize = 200;
/// Operations in one JSON batch. Each also counts against the rate limit.
pub const MAX_BATCH_OPERATIONS: usize = 50;

/// What the byte scanner understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Strings `"…"` with escapes.
    Json,
    /// Also block strings `"""…"""`, `#` comments and parentheses.
    GraphQl,
}

/// The deepest bracket nesting in `bytes`, stopping as soon as it exceeds `max`
/// (returns `Err(depth)` then). Brackets inside strings and comments do not count;
/// unbalanced input is left to the real parser to report.
pub fn check_nesting(bytes: &[u8], syntax: Syntax, max: usize) -> Result<usize, usize> {
    let graphql = syntax == Syntax::GraphQl;
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' if graphql && bytes[i..].starts_with(b"\"\"\"") => {
                // Block string: ends at the next unescaped `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' if graphql => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'{' | b'[' => depth += 1,
            b'(' if graphql => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b')' if graphql => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > deepest {
            deepest = depth;
            if deepest > max {
                return Err(deepest);
            }
        }
        i += 1;
    }
    Ok(deepest)
}

/// How many operations a GraphQL request body holds: the elements of a top-level JSON
/// array (a batch), else 1. Counted on bytes, before parsing.
pub fn batch_len(body: &[u8]) -> usize {
    let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return 1;
    };
    if body[start] != b'[' {
        return 1;
    }
    let (mut depth, mut commas, mut any, mut i) = (0usize, 0usize, false, start);
    while i < body.len() {
        match body[i] {
            b'"' => {
                any = true;
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > 1 {
                    any = true;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => commas += 1,
            c if !c.is_ascii_whitespace() => any = true,
            _ => {}
        }
        i += 1;
    }
    if any {
        commas + 1
    } else {
        0
    }
}

/// Why a request was refused before execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Refusal {
    /// The GraphQL error, in Twenty's format.
    pub fn to_json(&self) -> Value {
        json!({
            "message": self.0,
            "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED",
                "userFriendlyMessage": "This request is too complex.",
            },
        })
    }

    /// A whole response with this one error.
    pub fn response(&self) -> Value {
        json!({ "errors": [self.to_json()] })
    }
}

/// Nesting of a GraphQL document (the `query` text).
pub fn check_document_text(query: &str) -> Result<(), Refusal> {
    check_nesting(query.as_bytes(), Syntax::GraphQl, MAX_DOCUMENT_NESTING)
        .map(|_| ())
        .map_err(|_| {
            Refusal(format!(
                "The query is nested more than {MAX_DOCUMENT_NESTING} levels deep"
            ))
        })
}

/// Nesting of a JSON body.
pub fn check_json_body(body: &[u8]) -> Result<(), Refusal> {
    check_nesting(body, Syntax::Json, MAX_JSON_NESTING)
        .map(|_| ())
        .map_err(|_| {
            Refusal(format!(
                "The request body is nested more than {MAX_JSON_NESTING} levels deep"
            ))
        })
}

/// What one selection set contributes, fragments not yet expanded.
#[derive(Default)]
struct Shape {
    /// Fields at every level.
    fields: u64,
    /// Fields at the top level (inline fragments included).
    top: u64,
    /// Fragment spreads, and whether each is at the top level.
    spreads: Vec<(String, bool)>,
}

/// Recursion is bounded by the document's nesting, checked first.
fn walk(set: &SelectionSet, top: bool, out: &mut Shape) {
    use async_graphql::parser::types::Selection;
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                out.fields += 1;
                if top {
                    out.top += 1;
                }
                walk(&f.node.selection_set.node, false, out);
            }
            Selection::FragmentSpread(s) => out
                .spreads
                .push((s.node.fragment_name.node.to_string(), top)),
            Selection::InlineFragment(i) => walk(&i.node.selection_set.node, top, out),
        }
    }
}

/// Expanded (all levels, top level) field counts of every fragment, computed in dependency
/// order without recursing through spreads; a cycle is refused as graphql-js words it.
fn fragment_sizes(doc: &ExecutableDocument) -> Result<HashMap<String, (u64, u64)>, Refusal> {
    let shapes: HashMap<String, Shape> = doc
        .fragments
        .iter()
        .map(|(name, def)| {
            let mut s = Shape::default();
            walk(&def.node.selection_set.node, true, &mut s);
            (name.to_string(), s)
        })
        .collect();
    let mut sizes: HashMap<String, (u64, u64)> = HashMap::new();
    let mut in_progress: std::collections::HashSet<String> = Default::default();
    let mut names: Vec<&String> = shapes.keys().collect();
    names.sort();
    for root in names {
        // Iterative depth-first search: (fragment, next spread to look at).
        let mut stack: Vec<(&str, usize)> = vec![(root.as_str(), 0)];
        while let Some((name, next)) = stack.pop() {
            if sizes.contains_key(name) {
                continue;
            }
            let shape = &shapes[name];
            if next == 0 {
                in_progress.insert(name.to_string());
            }
            if let Some((dep, _)) = shape.spreads.get(next) {
                stack.push((name, next + 1));
                if !shapes.contains_key(dep.as_str()) || sizes.contains_key(dep.as_str()) {
                    // Unknown fragments are the validator's to report.
                    continue;
                }
                if in_progress.contains(dep.as_str()) {
                    return Err(Refusal(format!(
                        "Cannot spread fragment \"{dep}\" within itself."
                    )));
                }
                stack.push((dep.as_str(), 0));
                continue;
            }
            let (mut fields, mut top) = (shape.fields, shape.top);
            for (dep, at_top) in &shape.spreads {
                let (f, t) = sizes.get(dep).copied().unwrap_or((0, 0));
                fields = fields.saturating_add(f);
                if *at_top {
                    top = top.saturating_add(t);
                }
            }
            in_progress.remove(name);
            sizes.insert(name.to_string(), (fields, top));
        }
    }
    Ok(sizes)
}

/// Refuses a parsed document whose operations would expand to more than
/// [`MAX_EXPANDED_FIELDS`] fields or [`MAX_ROOT_FIELDS`] root fields, has fragment cycles,
/// or more than [`MAX_FRAGMENTS`] fragments. Costs one pass over the document.
pub fn check_document(doc: &ExecutableDocument) -> Result<(), Refusal> {
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err(Refusal(format!(
            "A document may define at most {MAX_FRAGMENTS} fragments"
        )));
    }
    let sizes = fragment_sizes(doc)?;
    let operations: Vec<&SelectionSet> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    for set in operations {
        let mut shape = Shape::default();
        walk(set, true, &mut shape);
        let (mut fields, mut top) = (shape.fields, shape.top);
        for (dep, at_top) in &shape.spreads {
            let (f, t) = sizes.get(dep).copied().unwrap_or((0, 0));
            fields = fields.saturating_add(f);
            if *at_top {
                top = top.saturating_add(t);
            }
        }
        if fields > MAX_EXPANDED_FIELDS {
            return Err(Refusal(format!(
                "Query too complex: it selects {fields} fields once fragments are expanded; the maximum is {MAX_EXPANDED_FIELDS}"
            )));
        }
        if top > MAX_ROOT_FIELDS {
            return Err(Refusal(format!(
                "Query too complex: it has {top} root fields (aliases included); the maximum is {MAX_ROOT_FIELDS}"
            )));
        }
    }
    Ok(())
}

/// The whole check of a GraphQL request body (single or batched), before it is
/// deserialized for execution: body nesting, batch size, then each document's nesting,
/// parse and shape. A body that is not a GraphQL request is left for the executor to
/// refuse with its usual parse error.
pub fn check_graphql_body(body: &[u8]) -> Result<(), Refusal> {
    check_json_body(body)?;
    let n = batch_len(body);
    if n > MAX_BATCH_OPERATIONS {
        return Err(Refusal(format!(
            "A batch may hold at most {MAX_BATCH_OPERATIONS} operations ({n} sent)"
        )));
    }
    #[derive(serde::Deserialize)]
    struct Query {
        #[serde(default)]
        query: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Body {
        One(Query),
        Many(Vec<Query>),
    }
    let queries = match serde_json::from_slice::<Body>(body) {
        Ok(Body::One(q)) => vec![q],
        Ok(Body::Many(qs)) => qs,
        Err(_) => return Ok(()),
    };
    for q in &queries {
        check_query(&q.query)?;
    }
    Ok(())
}

/// Nesting, then parse and shape, of one document.
pub fn check_query(query: &str) -> Result<(), Refusal> {
    check_document_text(query)?;
    match async_graphql::parser::parse_query(query) {
        Ok(doc) => check_document(&doc),
        // The executor reports syntax errors in its own words.
        Err(_) => Ok(()),
    }
}

/// Rows one request may read from SQLite, over all its root fields and nested relations
/// (200 aliases of `people → company → people …` read millions and took 24 s of CPU).
/// A record page of the web app reads a few thousand.
pub const MAX_ROWS_PER_REQUEST: usize = 50_000;
/// Read statements one request may run (each nested relation level is two).
pub const MAX_READS_PER_REQUEST: usize = 2_000;

/// What one request may still read.
#[derive(Debug)]
pub struct Budget {
    rows: std::cell::Cell<usize>,
    reads: std::cell::Cell<usize>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            rows: std::cell::Cell::new(MAX_ROWS_PER_REQUEST),
            reads: std::cell::Cell::new(MAX_READS_PER_REQUEST),
        }
    }
}

fn too_much(what: &str, max: usize) -> crate::schema::error::QueryError {
    crate::schema::error::QueryError::bad_input(format!(
        "Query complexity is too high: a request may read at most {max} {what}. Ask for fewer records, relations or aliases."
    ))
    .with_sub_code("TOO_COMPLEX_QUERY")
    .with_user_friendly(crate::schema::filter::STANDARD_ERROR_MESSAGE)
}

/// A database whose reads are charged to a request's [`Budget`].
pub struct Budgeted<'a> {
    pub db: &'a dyn crate::schema::engine::Db,
    pub budget: &'a Budget,
}

impl crate::schema::engine::Db for Budgeted<'_> {
    fn query(
        &self,
        sql: &crate::schema::sql::Sql,
    ) -> crate::schema::error::QueryResult<Vec<crate::schema::engine::Row>> {
        let reads = self.budget.reads.get();
        if reads == 0 {
            return Err(too_much("statements", MAX_READS_PER_REQUEST));
        }
        self.budget.reads.set(reads - 1);
        let rows = self.db.query(sql)?;
        let left = self.budget.rows.get();
        if rows.len() > left {
            self.budget.rows.set(0);
            return Err(too_much("rows", MAX_ROWS_PER_REQUEST));
        }
        self.budget.rows.set(left - rows.len());
        Ok(rows)
    }

    fn exec(&self, sql: &crate::schema::sql::Sql) -> crate::schema::error::QueryResult<usize> {
        self.db.exec(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting(s: &str, syntax: Syntax) -> usize {
        check_nesting(s.as_bytes(), syntax, usize::MAX).unwrap()
    }

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert_eq!(nesting(r#"{ a(b: "{{{[[[") }"#, Syntax::GraphQl), 2);
        assert_eq!(nesting("{ a # {{{{\n b }", Syntax::GraphQl), 1);
        assert_eq!(
            nesting(r#"{ a(b: """ {{{ \""" {{ """) }"#, Syntax::GraphQl),
            2
        );
        assert_eq!(nesting(r#"{"a": "\"{{{", "b": [[1]]}"#, Syntax::Json), 3);
        assert_eq!(nesting("(((", Syntax::Json), 0);
        assert_eq!(
            check_nesting("[".repeat(10_000).as_bytes(), Syntax::Json, 64),
            Err(65)
        );
    }

    #[test]
    fn batches_are_counted_on_bytes() {
        assert_eq!(batch_len(br#"{"query": "[1,2]"}"#), 1);
        assert_eq!(batch_len(br#" [{"query": "a"}, {"query": "b,c"}, {}]"#), 3);
        assert_eq!(batch_len(b"[]"), 0);
        assert_eq!(batch_len(b"  [ ] "), 0);
    }

    #[test]
    fn deep_documents_are_refused_before_parsing() {
        let deep = format!(
            "{{ checkUserExists(email: {}\"a\"{}) }}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        assert!(check_query(&deep).is_err());
        let body = json!({ "query": deep }).to_string();
        let e = check_graphql_body(body.as_bytes()).unwrap_err();
        assert!(e.0.contains("nested"), "{e:?}");
    }

    #[test]
    fn fragment_fan_out_is_counted_not_expanded() {
        // f0 spreads f1 ten times, f1 spreads f2 ten times, … : 10^8 fields.
        let mut q = String::from("query { ...f0 }\n");
        for i in 0..8 {
            q.push_str(&format!("fragment f{i} on Query {{ "));
            for _ in 0..10 {
                q.push_str(&format!("...f{} ", i + 1));
            }
            q.push_str("}\n");
        }
        q.push_str("fragment f8 on Query { currentUser { id } }\n");
        let e = check_query(&q).unwrap_err();
        assert!(e.0.contains("fields once fragments are expanded"), "{e:?}");
    }

    #[test]
    fn fragment_cycles_and_long_chains() {
        let e =
            check_query("{ ...a } fragment a on Q { ...b } fragment b on Q { ...a }").unwrap_err();
        assert!(e.0.contains("within itself"), "{e:?}");
        // A chain of 150 fragments (no recursion through spreads).
        let mut q = String::from("{ ...f0 }");
        for i in 0..150 {
            q.push_str(&format!(" fragment f{i} on Q {{ ...f{} }}", i + 1));
        }
        q.push_str(" fragment f150 on Q { a }");
        assert_eq!(check_query(&q), Ok(()));
    }

    #[test]
    fn aliases_count_as_root_fields() {
        let many: String = (0..=MAX_ROOT_FIELDS)
            .map(|i| format!("a{i}: currentUser {{ id }} "))
            .collect();
        let e = check_query(&format!("{{ {many} }}")).unwrap_err();
        assert!(e.0.contains("root fields"), "{e:?}");
        let ok: String = (0..MAX_ROOT_FIELDS)
            .map(|i| format!("a{i}: currentUser {{ id }} "))
            .collect();
        assert_eq!(check_query(&format!("{{ {ok} }}")), Ok(()));
        // Through a fragment at the root too.
        let q = format!("{{ ...r }} fragment r on Query {{ {many} }}");
        assert!(check_query(&q).is_err());
    }

    #[test]
    fn batches_are_bounded() {
        let batch: Vec<Value> = (0..51).map(|_| json!({ "query": "{ a }" })).collect();
        let body = serde_json::to_vec(&batch).unwrap();
        assert!(check_graphql_body(&body).is_err());
        let body = serde_json::to_vec(&batch[..50]).unwrap();
        assert_eq!(check_graphql_body(&body), Ok(()));
    }

    #[test]
    fn reads_are_charged_to_the_request() {
        use crate::schema::engine::{Db, Row};
        use crate::schema::sql::Sql;
        struct Rows(usize);
        impl Db for Rows {
            fn query(&self, _: &Sql) -> crate::schema::error::QueryResult<Vec<Row>> {
                Ok(vec![Row::new(); self.0])
            }
            fn exec(&self, _: &Sql) -> crate::schema::error::QueryResult<usize> {
                Ok(0)
            }
        }
        let budget = Budget::default();
        let db = Rows(MAX_ROWS_PER_REQUEST / 2);
        let charged = Budgeted {
            db: &db,
            budget: &budget,
        };
        assert!(charged.query(&Sql::new("x")).is_ok());
        assert!(charged.query(&Sql::new("x")).is_ok());
        let e = charged.query(&Sql::new("x")).unwrap_err();
        assert_eq!(e.sub_code.as_deref(), Some("TOO_COMPLEX_QUERY"));
        // Statements are counted too, even when they return nothing.
        let budget = Budget::default();
        let db = Rows(0);
        let charged = Budgeted {
            db: &db,
            budget: &budget,
        };
        for _ in 0..MAX_READS_PER_REQUEST {
            assert!(charged.query(&Sql::new("x")).is_ok());
        }
        assert!(charged.query(&Sql::new("x")).is_err());
    }

    mod properties {
        use super::super::*;
        use crate::schema::error::ErrorKind;
        use crate::schema::filter::{self, test_model::model, MAX_FILTER_NESTING};
        use proptest::prelude::*;

        /// One level of nesting in a GraphQL document, and how it is written.
        #[derive(Debug, Clone, Copy)]
        enum Level {
            Selection,
            List,
            Object,
            Arguments,
        }

        fn level() -> impl Strategy<Value = Level> {
            prop_oneof![
                Just(Level::Selection),
                Just(Level::List),
                Just(Level::Object),
                Just(Level::Arguments),
            ]
        }

        /// Noise that must not count: strings and comments full of brackets.
        fn noise() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                Just(r#" "{[(\"" "#.to_string()),
                Just(" # {{{[[[(((\n".to_string()),
                Just(r#" """ {{ \""" [[ """ "#.to_string()),
            ]
        }

        /// A document nested exactly `levels.len()` brackets deep (plus the outer
        /// selection), built without recursion.
        fn document(levels: &[Level], noise: &str) -> String {
            let mut open = String::from("{ ");
            let mut close = String::from(" }");
            for l in levels {
                let (o, c) = match l {
                    Level::Selection => ("a { ", " }"),
                    Level::List => ("[", "]"),
                    Level::Object => ("{k: ", "}"),
                    Level::Arguments => ("f(x: ", ")"),
                };
                open.push_str(o);
                open.push_str(noise);
                close.insert_str(0, c);
            }
            format!("{open}1{close}")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn nesting_is_measured_exactly_and_deep_documents_never_reach_the_parser(
                levels in proptest::collection::vec(level(), 0..400),
                noise in noise(),
            ) {
                let doc = document(&levels, &noise);
                let expected = levels.len() + 1;
                match check_nesting(doc.as_bytes(), Syntax::GraphQl, MAX_DOCUMENT_NESTING) {
                    Ok(d) => {
                        prop_assert_eq!(d, expected);
                        prop_assert!(d <= MAX_DOCUMENT_NESTING);
                    }
                    Err(d) => {
                        prop_assert!(expected > MAX_DOCUMENT_NESTING);
                        prop_assert_eq!(d, MAX_DOCUMENT_NESTING + 1);
                    }
                }
                // The whole check never panics, and refuses exactly the deep ones.
                let body = json!({ "query": doc, "variables": {} }).to_string();
                let refused = check_graphql_body(body.as_bytes()).is_err();
                prop_assert_eq!(refused, expected > MAX_DOCUMENT_NESTING);
            }

            #[test]
            fn filters_of_any_depth_are_refused_cleanly_or_compiled(
                ops in proptest::collection::vec(0u8..3, 0..200),
                leaf_in in any::<bool>(),
            ) {
                // Built inside out, iteratively.
                let mut f = if leaf_in {
                    json!({ "jobTitle": { "in": ["a", "b"] } })
                } else {
                    json!({ "score": { "gt": 1 } })
                };
                for op in &ops {
                    f = match op {
                        0 => json!({ "and": [f, { "jobTitle": { "eq": "x" } }] }),
                        1 => json!({ "or": [f] }),
                        _ => json!({ "not": f }),
                    };
                }
                let depth = if leaf_in { 3 } else { 2 } + ops
                    .iter()
                    .map(|op| if *op == 2 { 1 } else { 2 })
                    .sum::<usize>();
                let m = model();
                let person = m.object("person").unwrap().clone();
                match filter::compile(&m, &person, &f, "p") {
                    Ok(c) => {
                        prop_assert!(depth <= MAX_FILTER_NESTING, "depth {depth} compiled");
                        // What compiles stays within SQLite's expression depth.
                        prop_assert!(crate::schema::sql::tests::max_depth(&c.sql.text) < 100);
                    }
                    Err(e) => {
                        prop_assert_eq!(e.kind, ErrorKind::BadUserInput);
                        prop_assert!(depth > MAX_FILTER_NESTING, "{}", e.message);
                    }
                }
                // Deep filters are dropped by the test without overflowing either.
                while let Some(inner) = f.as_object_mut().and_then(|m| {
                    m.remove("and").or_else(|| m.remove("or")).or_else(|| m.remove("not"))
                }) {
                    f = match inner {
                        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
                        other => other,
                    };
                }
            }

            #[test]
            fn rest_filters_of_any_depth_are_refused_cleanly(
                depth in 0usize..300,
            ) {
                let raw = format!("{}name.firstName[eq]:a{}", "and(".repeat(depth), ")".repeat(depth));
                match crate::schema::rest::parse_filter(&raw) {
                    Ok(_) => prop_assert!(depth <= crate::schema::rest::MAX_FILTER_NESTING),
                    Err(e) => {
                        prop_assert_eq!(e.kind, ErrorKind::BadUserInput);
                        prop_assert!(depth > crate::schema::rest::MAX_FILTER_NESTING);
                    }
                }
            }
        }
    }
}
