//! The record engine: every `/graphql` (and `/rest`) operation on records, as
//! parse → apply → encode over a [`Db`].
//!
//! Pure: SQL goes through the [`Db`] trait, implemented by the workspace actor on its
//! Durable Object SQLite and by rusqlite in the native tests. Results are JSON shaped
//! like Twenty's GraphQL answers, with nested relations resolved in batches (one query per
//! relation level, never one per record).

use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

use super::composite;
use super::cursor;
use super::error::{ErrorKind, QueryError, QueryResult};
use super::filter;
use super::metadata::{
    capitalize, FieldMetadata, FieldType, ObjectMetadata, OnDelete, WorkspaceModel,
};
use super::order;
use super::sql::{ident, Param, Sql};
use super::write::{self, PositionRequest, Prepared, WriteCtx};

mod group;
pub mod merge;

/// Default page size of find-many (the spec's default; Twenty's web app asks explicitly).
pub const DEFAULT_PAGE_SIZE: usize = 60;
/// Largest page, and the most records one mutation may create, update or destroy
/// (Twenty's `QUERY_MAX_RECORDS`).
pub const MAX_RECORDS: usize = 200;
/// Children per parent in a nested one-to-many connection
/// (`QUERY_MAX_RECORDS_FROM_RELATION`).
pub const MAX_NESTED_RECORDS: usize = 60;
/// Longest `searchInput`, and most words in it: FTS5's cost grows with the number of prefix
/// terms times the matches of each (40,000 words took 5.5 s). People search for a name or
/// a few words.
pub const MAX_SEARCH_INPUT_CHARS: usize = 200;
pub const MAX_SEARCH_WORDS: usize = 20;
/// How deep nested relations may go (`CONNECTION_MAX_DEPTH`).
pub const MAX_DEPTH: usize = 5;

/// The alias of the root table in every generated statement.
const ROOT: &str = "r";

/// A row as the database returns it: column name → value.
pub type Row = Map<String, Value>;

/// SQL execution, as the engine needs it.
pub trait Db {
    fn query(&self, sql: &Sql) -> QueryResult<Vec<Row>>;
    /// Runs a statement; returns the rows it changed.
    fn exec(&self, sql: &Sql) -> QueryResult<usize>;
}

/// What the client selected under a field: response key, field name, arguments, children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub fields: Vec<Selected>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub name: String,
    pub alias: Option<String>,
    pub args: Map<String, Value>,
    pub children: Selection,
}

impl Selected {
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

impl Selection {
    pub fn get<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Selected> + 's {
        self.fields.iter().filter(move |f| f.name == name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }

    /// Every field (used when a mutation's result selection is unknown, e.g. REST).
    pub fn all() -> Selection {
        Selection { fields: vec![] }
    }
}

/// Find-many arguments (Twenty's names).
#[derive(Debug, Clone, Default)]
pub struct FindArgs {
    pub filter: Value,
    pub order_by: Value,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub offset: Option<i64>,
}

impl FindArgs {
    pub fn from_json(args: &Map<String, Value>) -> QueryResult<FindArgs> {
        let int = |k: &str| -> QueryResult<Option<i64>> {
            match args.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| QueryError::bad_input(format!("{k} must be an integer"))),
                Some(_) => Err(QueryError::bad_input(format!("{k} must be an integer"))),
            }
        };
        let string = |k: &str| match args.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        Ok(FindArgs {
            filter: args.get("filter").cloned().unwrap_or(Value::Null),
            order_by: args.get("orderBy").cloned().unwrap_or(Value::Null),
            first: int("first")?,
            last: int("last")?,
            before: string("before"),
            after: string("after"),
            offset: int("offset")?,
        })
    }

    fn validate(&self) -> QueryResult<()> {
        let conflict = |m: &str| Err(QueryError::bad_input(m).with_sub_code("ARGS_CONFLICT"));
        if self.first.is_some() && self.last.is_some() {
            return conflict("Cannot provide both first and last");
        }
        if self.before.is_some() && self.after.is_some() {
            return conflict("Cannot provide both before and after");
        }
        if self.before.is_some() && self.first.is_some() {
            return conflict("Cannot provide both before and first");
        }
        if self.after.is_some() && self.last.is_some() {
            return conflict("Cannot provide both after and last");
        }
        if self.first.is_some_and(|f| f < 0) {
            return Err(QueryError::bad_input("First argument must be non-negative")
                .with_sub_code("INVALID_ARGS_FIRST"));
        }
        if self.last.is_some_and(|l| l < 0) {
            return Err(QueryError::bad_input("Last argument must be non-negative")
                .with_sub_code("INVALID_ARGS_LAST"));
        }
        if self.offset.is_some_and(|o| o < 0) {
            return Err(QueryError::bad_input(
                "Offset argument must be non-negative",
            ));
        }
        Ok(())
    }
}

/// What a write does, for events and webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: &'static str,
    pub object: String,
    pub record_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub struct Engine<'a> {
    pub model: &'a WorkspaceModel,
    pub db: &'a dyn Db,
    pub ctx: WriteCtx,
    /// Changes made so far (committed with the caller's transaction).
    pub changes: Vec<Change>,
}

fn internal(e: impl std::fmt::Display) -> QueryError {
    QueryError::internal(e.to_string())
}

/// A stored record (`id`, `deleted_at`, parsed `data`).
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub deleted_at: Option<String>,
    pub data: Map<String, Value>,
}

impl Record {
    fn from_row(row: &Row) -> QueryResult<Record> {
        let id = row
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| internal("row without id"))?
            .to_string();
        let deleted_at = row
            .get("deleted_at")
            .and_then(Value::as_str)
            .map(str::to_string);
        let data = match row.get("data") {
            Some(Value::String(s)) => serde_json::from_str(s).map_err(internal)?,
            _ => Map::new(),
        };
        Ok(Record {
            id,
            deleted_at,
            data,
        })
    }

    pub fn stored(&self) -> Value {
        write::output(&self.id, self.deleted_at.as_deref(), &self.data)
    }
}

fn base64_cursor(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(json!({ "offset": offset }).to_string())
}

/// Twenty's answer to a mass mutation without a filter.
fn empty_filter() -> QueryError {
    QueryError::bad_input("Filter is required and cannot be empty for this operation")
        .with_sub_code("INVALID_ARGS_FILTER")
}

fn table(o: &ObjectMetadata) -> String {
    ident(&o.table())
}

fn ids_param(ids: &[String]) -> Param {
    Param::Text(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()))
}

fn path(keys: &[&str]) -> String {
    let mut p = String::from("$");
    for k in keys {
        p.push_str(&format!(".\"{k}\""));
    }
    p
}

impl<'a> Engine<'a> {
    pub fn new(model: &'a WorkspaceModel, db: &'a dyn Db, ctx: WriteCtx) -> Self {
        Engine {
            model,
            db,
            ctx,
            changes: vec![],
        }
    }

    fn load(&self, sql: &Sql) -> QueryResult<Vec<Record>> {
        self.db.query(sql)?.iter().map(Record::from_row).collect()
    }

    fn by_ids(
        &self,
        o: &ObjectMetadata,
        ids: &[String],
        with_deleted: bool,
    ) -> QueryResult<Vec<Record>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let deleted = if with_deleted {
            ""
        } else {
            " AND deleted_at IS NULL"
        };
        self.load(&Sql::with(
            format!(
                "SELECT id, deleted_at, data FROM {} WHERE id IN (SELECT value FROM json_each(?)){deleted}",
                table(o)
            ),
            vec![ids_param(ids)],
        ))
    }

    fn where_clause(&self, o: &ObjectMetadata, filter_json: &Value) -> QueryResult<Sql> {
        Ok(self.where_parts(o, filter_json)?.0)
    }

    /// The WHERE of a read, and whether it selects exactly the live records (no filter).
    fn where_parts(&self, o: &ObjectMetadata, filter_json: &Value) -> QueryResult<(Sql, bool)> {
        let compiled = filter::compile(self.model, o, filter_json, ROOT)?;
        let all_live = !compiled.constrains() && !compiled.mentions_deleted_at;
        let mut w = compiled.sql;
        if !compiled.mentions_deleted_at {
            w.push_str(&format!(" AND {ROOT}.deleted_at IS NULL"));
        }
        Ok((w, all_live))
    }

    // ----- reads -----------------------------------------------------------------------

    /// `people(filter, orderBy, first, last, before, after, offset)` → a Connection.
    pub fn find_many(
        &self,
        o: &ObjectMetadata,
        args: &FindArgs,
        sel: &Selection,
    ) -> QueryResult<Value> {
        args.validate()?;
        let leaves = order::compile(self.model, o, &args.order_by, ROOT)?;
        let forward = args.before.is_none();
        let limit = args
            .first
            .or(args.last)
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(MAX_RECORDS);
        let (mut w, all_live) = self.where_parts(o, &args.filter)?;
        let base_where = w.clone();
        let cursor_text = args.after.as_deref().or(args.before.as_deref());
        if let Some(c) = cursor_text {
            let decoded = cursor::decode(c)?;
            let keyset = cursor::keyset(&leaves, &decoded, forward)?;
            w.push_str(" AND (");
            w.push(keyset);
            w.push_str(")");
        }
        let mut sql = Sql::new(format!(
            "SELECT {ROOT}.id, {ROOT}.deleted_at, {ROOT}.data FROM {} AS {ROOT} WHERE ",
            table(o)
        ));
        sql.push(w);
        sql.push_str(&format!(
            " {} LIMIT {}",
            order::sql(&leaves, forward),
            limit + 1
        ));
        if let Some(off) = args.offset {
            sql.push_str(&format!(" OFFSET {off}"));
        }
        let mut rows = self.load(&sql)?;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        if !forward {
            rows.reverse();
        }
        let edges_sel = sel.get("edges").next().map(|e| &e.children);
        let node_sel = edges_sel
            .and_then(|e| e.get("node").next())
            .map(|n| n.children.clone())
            .unwrap_or_default();
        let nodes = self.shape(o, &rows, &node_sel, 0)?;
        let mut edges = Vec::with_capacity(nodes.len());
        let mut cursors = Vec::with_capacity(nodes.len());
        for (rec, node) in rows.iter().zip(nodes) {
            let c = cursor::encode(&rec.stored(), &leaves);
            cursors.push(c.clone());
            edges.push(json!({ "node": node, "cursor": c }));
        }
        let (has_next, has_previous) = if forward {
            (has_more, args.after.is_some())
        } else {
            (args.before.is_some(), has_more)
        };
        let mut conn = json!({
            "edges": edges,
            "pageInfo": {
                "startCursor": cursors.first(),
                "endCursor": cursors.last(),
                "hasNextPage": has_next,
                "hasPreviousPage": has_previous,
            },
        });
        self.add_aggregates(o, &base_where, all_live, sel, &mut conn)?;
        Ok(conn)
    }

    /// `person(filter)` → the record or NOT_FOUND.
    pub fn find_one(
        &self,
        o: &ObjectMetadata,
        filter_json: &Value,
        sel: &Selection,
    ) -> QueryResult<Value> {
        if filter_json.as_object().is_none_or(Map::is_empty) {
            return Err(QueryError::bad_input("Missing filter argument")
                .with_sub_code("INVALID_QUERY_INPUT"));
        }
        let mut sql = Sql::new(format!(
            "SELECT {ROOT}.id, {ROOT}.deleted_at, {ROOT}.data FROM {} AS {ROOT} WHERE ",
            table(o)
        ));
        sql.push(self.where_clause(o, filter_json)?);
        sql.push_str(&format!(" ORDER BY {ROOT}.id LIMIT 1"));
        let rows = self.load(&sql)?;
        if rows.is_empty() {
            return Err(QueryError::not_found());
        }
        Ok(self.shape(o, &rows, sel, 0)?.remove(0))
    }

    /// Aggregates the connection selection asks for, over the filtered set.
    fn add_aggregates(
        &self,
        o: &ObjectMetadata,
        where_: &Sql,
        all_live: bool,
        sel: &Selection,
        conn: &mut Value,
    ) -> QueryResult<()> {
        let mut exprs: Vec<(String, String)> = vec![];
        for s in &sel.fields {
            if matches!(s.name.as_str(), "edges" | "pageInfo" | "__typename") {
                continue;
            }
            if let Some(e) = aggregate_expr(o, &s.name) {
                exprs.push((s.key().to_string(), e));
            }
        }
        if exprs.is_empty() {
            return Ok(());
        }
        // The total of an unfiltered list (every table view and REST list asks for it):
        // all rows minus the soft-deleted ones. SQLite counts a whole table from its
        // smallest b-tree without reading rows, and the deleted ones through their partial
        // index (`ddl::object_ddl`); `count(*) WHERE deleted_at IS NULL` reads every record.
        if all_live && exprs.iter().all(|(_, e)| e == "count(*)") {
            let t = table(o);
            let rows = self.db.query(&Sql::new(format!(
                "SELECT (SELECT count(*) FROM {t}) - \
                 (SELECT count(*) FROM {t} WHERE deleted_at IS NOT NULL) AS n"
            )))?;
            let n = rows.first().and_then(|r| r.get("n")).cloned();
            for (key, _) in &exprs {
                conn[key] = n.clone().unwrap_or(Value::Null);
            }
            return Ok(());
        }
        let cols: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(i, (_, e))| format!("{e} AS a{i}"))
            .collect();
        let mut sql = Sql::new(format!(
            "SELECT {} FROM {} AS {ROOT} WHERE ",
            cols.join(", "),
            table(o)
        ));
        sql.push(where_.clone());
        let rows = self.db.query(&sql)?;
        let row = rows.into_iter().next().unwrap_or_default();
        for (i, (key, _)) in exprs.iter().enumerate() {
            conn[key] = row.get(&format!("a{i}")).cloned().unwrap_or(Value::Null);
        }
        Ok(())
    }

    // ----- shaping and nested relations -------------------------------------------------

    /// Turns stored records into GraphQL-shaped JSON for `sel`, resolving relations in
    /// batches.
    pub fn shape(
        &self,
        o: &ObjectMetadata,
        records: &[Record],
        sel: &Selection,
        depth: usize,
    ) -> QueryResult<Vec<Value>> {
        if depth > MAX_DEPTH {
            return Err(
                QueryError::bad_input(format!("Maximum depth of {MAX_DEPTH} reached"))
                    .with_sub_code("MAX_DEPTH_REACHED"),
            );
        }
        let mut out: Vec<Map<String, Value>> =
            records.iter().map(|r| output_record(o, r)).collect();
        for s in &sel.fields {
            let Some(field) = o.field(&s.name) else {
                continue;
            };
            if field.is_many_to_one() {
                self.resolve_many_to_one(field, &mut out, s, depth)?;
            } else if field.is_one_to_many() {
                self.resolve_one_to_many(o, field, &mut out, s, depth)?;
            } else if s.alias.is_some() {
                for rec in out.iter_mut() {
                    let v = rec.get(&s.name).cloned().unwrap_or(Value::Null);
                    rec.insert(s.key().to_string(), v);
                }
            }
        }
        // Join-column aliases (`cid: companyId`).
        for s in &sel.fields {
            if s.alias.is_some() && o.field(&s.name).is_none() {
                for rec in out.iter_mut() {
                    let v = rec.get(&s.name).cloned().unwrap_or(Value::Null);
                    rec.insert(s.key().to_string(), v);
                }
            }
        }
        Ok(out.into_iter().map(Value::Object).collect())
    }

    fn resolve_many_to_one(
        &self,
        field: &FieldMetadata,
        out: &mut [Map<String, Value>],
        s: &Selected,
        depth: usize,
    ) -> QueryResult<()> {
        let Some(target) = self.model.target_of(field) else {
            return Ok(());
        };
        let key = field.storage_key();
        let ids: BTreeSet<String> = out
            .iter()
            .filter_map(|r| r.get(&key).and_then(Value::as_str).map(str::to_string))
            .collect();
        let ids: Vec<String> = ids.into_iter().collect();
        let targets = self.by_ids(target, &ids, false)?;
        let shaped = self.shape(target, &targets, &s.children, depth + 1)?;
        let by_id: HashMap<&str, &Value> = targets
            .iter()
            .map(|t| t.id.as_str())
            .zip(shaped.iter())
            .collect();
        for rec in out.iter_mut() {
            let v = rec
                .get(&key)
                .and_then(Value::as_str)
                .and_then(|id| by_id.get(id).map(|v| (*v).clone()));
            // A soft-deleted target reads as no relation at all (Twenty nulls the join
            // column too).
            if v.is_none() && rec.get(&key).is_some_and(|k| !k.is_null()) {
                rec.insert(key.clone(), Value::Null);
            }
            rec.insert(s.key().to_string(), v.unwrap_or(Value::Null));
        }
        Ok(())
    }

    fn resolve_one_to_many(
        &self,
        o: &ObjectMetadata,
        field: &FieldMetadata,
        out: &mut [Map<String, Value>],
        s: &Selected,
        depth: usize,
    ) -> QueryResult<()> {
        let Some((target, inverse)) = self.model.inverse_of(field) else {
            return Ok(());
        };
        let _ = o;
        let fk = path(&[&inverse.storage_key()]);
        let parent_ids: Vec<String> = out
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        let args = FindArgs::from_json(&s.args)?;
        let per_parent = args
            .first
            .map(|n| n.max(0) as usize)
            .unwrap_or(MAX_NESTED_RECORDS)
            .min(MAX_NESTED_RECORDS);
        let leaves = order::compile(self.model, target, &args.order_by, ROOT)?;
        let mut w = self.where_clause(target, &args.filter)?;
        w.push_str(&format!(
            " AND json_extract({ROOT}.data, '{fk}') IN (SELECT value FROM json_each(?))"
        ));
        w.params.push(ids_param(&parent_ids));
        let order_sql = order::sql(&leaves, true);
        // Per-parent cap with a window function, in the requested order.
        let mut sql = Sql::new(format!(
            "SELECT id, deleted_at, data FROM (SELECT {ROOT}.id, {ROOT}.deleted_at, {ROOT}.data, \
             ROW_NUMBER() OVER (PARTITION BY json_extract({ROOT}.data, '{fk}') {order_sql}) AS rn \
             FROM {} AS {ROOT} WHERE ",
            table(target)
        ));
        sql.push(w.clone());
        sql.push_str(&format!(") WHERE rn <= {per_parent}"));
        let mut children = self.load(&sql)?;
        // Stable output order: the requested order within each parent.
        let ordered_ids: Vec<String> = {
            let mut q = Sql::new(format!(
                "SELECT {ROOT}.id FROM {} AS {ROOT} WHERE ",
                table(target)
            ));
            q.push(w.clone());
            q.push_str(&format!(" {order_sql}"));
            self.db
                .query(&q)?
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        };
        let rank: HashMap<&str, usize> = ordered_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        children.sort_by_key(|c| rank.get(c.id.as_str()).copied().unwrap_or(usize::MAX));

        let edges_sel = s
            .children
            .get("edges")
            .next()
            .map(|e| e.children.clone())
            .unwrap_or_default();
        let node_sel = edges_sel
            .get("node")
            .next()
            .map(|n| n.children.clone())
            .unwrap_or_default();
        let shaped = self.shape(target, &children, &node_sel, depth + 1)?;
        let inverse_key = inverse.storage_key();
        let mut grouped: HashMap<String, Vec<(Value, String)>> = HashMap::new();
        for (rec, node) in children.iter().zip(shaped) {
            let parent = rec
                .data
                .get(&inverse_key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let c = cursor::encode(&rec.stored(), &leaves);
            grouped.entry(parent).or_default().push((node, c));
        }
        let want_total = s.children.has("totalCount");
        let totals: HashMap<String, i64> = if want_total {
            let mut q = Sql::new(format!(
                "SELECT json_extract({ROOT}.data, '{fk}') AS parent, count(*) AS n FROM {} AS {ROOT} WHERE ",
                table(target)
            ));
            q.push(w);
            q.push_str(" GROUP BY parent");
            self.db
                .query(&q)?
                .iter()
                .filter_map(|r| {
                    Some((
                        r.get("parent")?.as_str()?.to_string(),
                        r.get("n")?.as_i64()?,
                    ))
                })
                .collect()
        } else {
            HashMap::new()
        };
        for rec in out.iter_mut() {
            let id = rec
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let items = grouped.remove(&id).unwrap_or_default();
            let edges: Vec<Value> = items
                .iter()
                .map(|(n, c)| json!({ "node": n, "cursor": c }))
                .collect();
            let mut conn = json!({
                "edges": edges,
                "pageInfo": {
                    "startCursor": items.first().map(|i| &i.1),
                    "endCursor": items.last().map(|i| &i.1),
                    "hasNextPage": false,
                    "hasPreviousPage": false,
                },
            });
            if want_total {
                conn["totalCount"] = json!(totals.get(&id).copied().unwrap_or(0));
            }
            for t in s.children.get("totalCount") {
                if let Some(a) = &t.alias {
                    conn[a] = conn["totalCount"].clone();
                }
            }
            rec.insert(s.key().to_string(), conn);
        }
        Ok(())
    }

    // ----- search ----------------------------------------------------------------------

    /// Keeps the search index of one record in step with its live state.
    fn index(
        &self,
        o: &ObjectMetadata,
        id: &str,
        live: Option<&Map<String, Value>>,
    ) -> QueryResult<()> {
        if search_fields(o).is_empty() {
            return Ok(());
        }
        // The FTS row is addressed by its rowid, looked up in `_search_ids` (indexed):
        // `_search.record_id` is UNINDEXED, and filtering on it reads the whole index.
        let key = || vec![Param::Text(id.into()), Param::Text(o.name_singular.clone())];
        self.db.exec(&Sql::with(
            "DELETE FROM _search WHERE rowid = \
             (SELECT id FROM _search_ids WHERE record_id = ? AND object = ?)",
            key(),
        ))?;
        let text = live.map(|data| search_text(o, data)).unwrap_or_default();
        if text.is_empty() {
            self.db.exec(&Sql::with(
                "DELETE FROM _search_ids WHERE record_id = ? AND object = ?",
                key(),
            ))?;
            return Ok(());
        }
        self.db.exec(&Sql::with(
            "INSERT INTO _search_ids (record_id, object) VALUES (?, ?) \
             ON CONFLICT (record_id, object) DO NOTHING",
            key(),
        ))?;
        let mut params = vec![Param::Text(text)];
        params.extend(key());
        self.db.exec(&Sql::with(
            "INSERT INTO _search (rowid, object, record_id, content) \
             SELECT id, object, record_id, ? FROM _search_ids WHERE record_id = ? AND object = ?",
            params,
        ))?;
        Ok(())
    }

    /// Twenty's global `search`: ranked matches across searchable objects.
    pub fn search(&self, args: &Map<String, Value>) -> QueryResult<Value> {
        let input = args
            .get("searchInput")
            .and_then(Value::as_str)
            .unwrap_or("");
        if input.chars().count() > MAX_SEARCH_INPUT_CHARS
            || input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .count()
                > MAX_SEARCH_WORDS
        {
            return Err(QueryError::bad_input(format!(
                "searchInput is limited to {MAX_SEARCH_INPUT_CHARS} characters and {MAX_SEARCH_WORDS} words"
            ))
            .with_sub_code("INVALID_ARGS"));
        }
        let limit = args
            .get("limit")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_PAGE_SIZE as i64)
            .clamp(0, MAX_RECORDS as i64) as usize;
        let offset: usize = match args.get("after").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => cursor::decode(c)?
                .get("offset")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    QueryError::bad_input(format!("Invalid cursor: {c}"))
                        .with_sub_code("INVALID_CURSOR")
                })? as usize,
            _ => 0,
        };
        let names = |k: &str| -> Option<Vec<String>> {
            args.get(k)?.as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
        };
        let included = names("includedObjectNameSingulars").filter(|v| !v.is_empty());
        let excluded = names("excludedObjectNameSingulars").unwrap_or_default();
        let Some(q) = fts_query(input) else {
            return Ok(
                json!({ "edges": [], "pageInfo": { "endCursor": null, "hasNextPage": false } }),
            );
        };
        let mut sql = Sql::with(
            "SELECT object, record_id, bm25(_search) AS rank FROM _search WHERE _search MATCH ?",
            vec![Param::Text(q)],
        );
        if let Some(inc) = &included {
            sql.push(Sql::with(
                " AND object IN (SELECT value FROM json_each(?))",
                vec![Param::Text(json!(inc).to_string())],
            ));
        }
        if !excluded.is_empty() {
            sql.push(Sql::with(
                " AND object NOT IN (SELECT value FROM json_each(?))",
                vec![Param::Text(json!(excluded).to_string())],
            ));
        }
        sql.push_str(&format!(
            " ORDER BY rank, record_id LIMIT {} OFFSET {offset}",
            limit + 1
        ));
        let rows = self.db.query(&sql)?;
        let has_next = rows.len() > limit;
        let mut edges = vec![];
        for (i, row) in rows.iter().take(limit).enumerate() {
            let object = row.get("object").and_then(Value::as_str).unwrap_or("");
            let id = row.get("record_id").and_then(Value::as_str).unwrap_or("");
            let Some(o) = self.model.object(object) else {
                continue;
            };
            let Some(rec) = self.by_ids(o, &[id.to_string()], false)?.pop() else {
                continue;
            };
            let rank = -row.get("rank").and_then(Value::as_f64).unwrap_or(0.0);
            let image = match object {
                "person" => rec.data.get("avatarUrl").cloned().unwrap_or(Value::Null),
                "company" => rec
                    .data
                    .get("domainName")
                    .and_then(|d| d.get("primaryLinkUrl"))
                    .cloned()
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            };
            let c = base64_cursor(offset + i + 1);
            edges.push(json!({
                "node": {
                    "recordId": id,
                    "objectNameSingular": object,
                    "objectLabelSingular": o.label_singular,
                    "label": record_label(o, &rec.data),
                    "imageUrl": image,
                    "tsRankCD": rank,
                    "tsRank": rank,
                },
                "cursor": c,
            }));
        }
        let end = edges
            .last()
            .map(|e| e["cursor"].clone())
            .unwrap_or(Value::Null);
        Ok(json!({ "edges": edges, "pageInfo": { "endCursor": end, "hasNextPage": has_next } }))
    }

    // ----- writes --------------------------------------------------------------------

    fn check_targets(&self, o: &ObjectMetadata, data: &Map<String, Value>) -> QueryResult<()> {
        for f in o.active_fields().filter(|f| f.is_many_to_one()) {
            let Some(Value::String(id)) = data.get(&f.storage_key()) else {
                continue;
            };
            let Some(target) = self.model.target_of(f) else {
                continue;
            };
            if self
                .by_ids(target, std::slice::from_ref(id), false)?
                .is_empty()
            {
                return Err(QueryError::bad_input(format!(
                    "Related {} record {id} of field \"{}\" not found",
                    target.name_singular, f.name
                ))
                .with_sub_code("CONNECT_RECORD_NOT_FOUND"));
            }
        }
        Ok(())
    }

    /// Rewrites the relation objects of an input (`company: {connect | disconnect}`) into
    /// join columns, looking up connected records by their unique fields
    /// ([`super::connect`]).
    fn resolve_relations(&self, o: &ObjectMetadata, input: &Value) -> QueryResult<Value> {
        let plan = super::connect::plan(self.model, o, input)?;
        if plan.is_empty() {
            return Ok(input.clone());
        }
        let mut out = input.as_object().cloned().unwrap_or_default();
        for w in plan {
            match w {
                super::connect::RelationWrite::Connect(c) => {
                    let rows = self.db.query(&c.lookup())?;
                    let [row] = &rows[..] else {
                        return Err(c.not_found(rows.len()));
                    };
                    let id = row.get("id").cloned().unwrap_or(Value::Null);
                    out.remove(&c.field.name);
                    out.insert(c.field.storage_key(), id);
                }
                super::connect::RelationWrite::Disconnect(f) => {
                    out.remove(&f.name);
                    out.insert(f.storage_key(), Value::Null);
                }
                super::connect::RelationWrite::Keep(f) => {
                    out.remove(&f.name);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn resolve_position(&self, o: &ObjectMetadata, p: &mut Prepared) -> QueryResult<()> {
        if let Some(req) = p.position.take() {
            let agg = if req == PositionRequest::First {
                "min"
            } else {
                "max"
            };
            // The same expression as the position index (`ddl::object_ddl`), so it is used.
            let rows = self.db.query(&Sql::new(format!(
                "SELECT {agg}(json_extract(data, '{}')) AS p FROM {}",
                super::ddl::json_path(&["position"]),
                table(o)
            )))?;
            let edge = rows
                .first()
                .and_then(|r| r.get("p"))
                .and_then(Value::as_f64);
            let pos = match (edge, req) {
                (None, _) => 0.0,
                (Some(p), PositionRequest::First) => p - 1.0,
                (Some(p), PositionRequest::Last) => p + 1.0,
            };
            p.data.insert("position".into(), json!(pos));
        }
        Ok(())
    }

    /// Twenty's answer to a unique-index violation (`handle-duplicate-key-error.util.ts`):
    /// the field's label, and the live record that holds the value. `id`/`data` are the
    /// record being written.
    fn map_write_error(
        &self,
        o: &ObjectMetadata,
        e: QueryError,
        id: &str,
        data: &Map<String, Value>,
    ) -> QueryError {
        if e.kind == ErrorKind::Internal && e.message.contains("UNIQUE constraint failed") {
            let field = o
                .active_fields()
                .find(|f| f.is_unique && e.message.contains(&f.id.replace('-', "")));
            let friendly = match field {
                Some(f) => format!(
                    "This {} value is already in use. Please check your data and try again.",
                    f.label
                ),
                None => {
                    "This record already exists. Please check your data and try again.".to_string()
                }
            };
            let mut err = QueryError::bad_input("A duplicate entry was detected")
                .with_sub_code("DUPLICATE_ENTRY_DETECTED")
                .with_user_friendly(friendly);
            if let Some(holder) = field.and_then(|f| self.value_holder(o, f, id, data)) {
                let mut extra = Map::new();
                extra.insert("conflictingRecordId".into(), json!(holder));
                extra.insert(
                    "conflictingObjectNameSingular".into(),
                    json!(o.name_singular),
                );
                err = err.with_extra(extra);
            }
            return err;
        }
        e
    }

    /// The other live record holding `data`'s value of the unique field `f` (the same
    /// expression as its unique index, `ddl::object_ddl`).
    fn value_holder(
        &self,
        o: &ObjectMetadata,
        f: &FieldMetadata,
        id: &str,
        data: &Map<String, Value>,
    ) -> Option<String> {
        let keys: Vec<&str> = match f.field_type {
            FieldType::Emails => vec![&f.name, "primaryEmail"],
            FieldType::Links => vec![&f.name, "primaryLinkUrl"],
            FieldType::Phones => vec![&f.name, "primaryPhoneNumber"],
            _ => vec![],
        };
        let key = f.storage_key();
        let keys = if keys.is_empty() {
            vec![key.as_str()]
        } else {
            keys
        };
        let mut value = Value::Object(data.clone());
        for k in &keys {
            value = value.get(*k).cloned().unwrap_or(Value::Null);
        }
        let value = match value {
            Value::String(s) => Param::Text(s),
            Value::Number(n) => Param::Real(n.as_f64()?),
            _ => return None,
        };
        let rows = self
            .db
            .query(&Sql::with(
                format!(
                    "SELECT id FROM {} WHERE deleted_at IS NULL AND id != ? AND json_extract(data, '{}') = ? LIMIT 1",
                    table(o),
                    path(&keys)
                ),
                vec![Param::Text(id.to_string()), value],
            ))
            .ok()?;
        rows.first()?.get("id")?.as_str().map(str::to_string)
    }

    fn insert(&mut self, o: &ObjectMetadata, mut p: Prepared) -> QueryResult<String> {
        self.resolve_position(o, &mut p)?;
        self.check_targets(o, &p.data)?;
        let data = serde_json::to_string(&p.data).map_err(internal)?;
        let sql = Sql::with(
            format!(
                "INSERT INTO {} (id, deleted_at, data) VALUES (?, NULL, ?)",
                table(o)
            ),
            vec![Param::Text(p.id.clone()), Param::Text(data)],
        );
        self.db.exec(&sql).map_err(|e| {
            if e.message.contains("UNIQUE constraint failed") && e.message.contains(".id") {
                // The primary key is not a unique field of the model: Twenty's generic answer.
                QueryError::bad_input("A duplicate entry was detected")
                    .with_sub_code("DUPLICATE_ENTRY_DETECTED")
                    .with_user_friendly(
                        "This record already exists. Please check your data and try again.",
                    )
            } else {
                self.map_write_error(o, e, &p.id, &p.data)
            }
        })?;
        self.index(o, &p.id, Some(&p.data))?;
        self.changes.push(Change {
            action: "created",
            object: o.name_singular.clone(),
            record_id: p.id.clone(),
            before: None,
            after: Some(write::output(&p.id, None, &p.data)),
        });
        Ok(p.id)
    }

    fn save(
        &mut self,
        o: &ObjectMetadata,
        before: &Record,
        data: Map<String, Value>,
    ) -> QueryResult<()> {
        self.check_targets(o, &data)?;
        let text = serde_json::to_string(&data).map_err(internal)?;
        self.db
            .exec(&Sql::with(
                format!("UPDATE {} SET data = ? WHERE id = ?", table(o)),
                vec![Param::Text(text), Param::Text(before.id.clone())],
            ))
            .map_err(|e| self.map_write_error(o, e, &before.id, &data))?;
        if before.deleted_at.is_none() {
            self.index(o, &before.id, Some(&data))?;
        }
        self.changes.push(Change {
            action: "updated",
            object: o.name_singular.clone(),
            record_id: before.id.clone(),
            before: Some(before.stored()),
            after: Some(write::output(
                &before.id,
                before.deleted_at.as_deref(),
                &data,
            )),
        });
        Ok(())
    }

    /// A record that `upsert` should update instead of creating: same id, or the same
    /// value of a unique field.
    fn upsert_match(
        &self,
        o: &ObjectMetadata,
        input: &Value,
        id: &str,
    ) -> QueryResult<Option<Record>> {
        if input.get("id").is_some_and(|v| !v.is_null()) {
            if let Some(r) = self.by_ids(o, &[id.to_string()], false)?.pop() {
                return Ok(Some(r));
            }
        }
        for f in o.active_fields().filter(|f| f.is_unique) {
            let (keys, value): (Vec<&str>, Option<&Value>) = match f.field_type {
                FieldType::Emails => (
                    vec![&f.name, "primaryEmail"],
                    input.get(&f.name).and_then(|v| v.get("primaryEmail")),
                ),
                FieldType::Links => (
                    vec![&f.name, "primaryLinkUrl"],
                    input.get(&f.name).and_then(|v| v.get("primaryLinkUrl")),
                ),
                FieldType::Phones => (
                    vec![&f.name, "primaryPhoneNumber"],
                    input.get(&f.name).and_then(|v| v.get("primaryPhoneNumber")),
                ),
                _ => (vec![&f.name], input.get(&f.name)),
            };
            let Some(Value::String(v)) = value else {
                continue;
            };
            if v.is_empty() {
                continue;
            }
            // Every term of the unique index's WHERE (`ddl::object_ddl`), so SQLite may use
            // that partial index; without `!= ''` this read every record.
            let p = path(&keys);
            let rows = self.load(&Sql::with(
                format!(
                    "SELECT id, deleted_at, data FROM {} WHERE deleted_at IS NULL \
                     AND json_extract(data, '{p}') = ? AND json_extract(data, '{p}') != '' LIMIT 2",
                    table(o),
                ),
                vec![Param::Text(v.clone())],
            ))?;
            if rows.len() > 1 {
                return Err(QueryError::bad_input(
                    "Multiple records found with the same unique field value",
                )
                .with_sub_code("UPSERT_MULTIPLE_MATCHING_RECORDS_CONFLICT"));
            }
            if let Some(r) = rows.into_iter().next() {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// `createPerson` / `createPeople` (with `upsert`). Returns the ids written, in order.
    pub fn create_many(
        &mut self,
        o: &ObjectMetadata,
        inputs: &[Value],
        upsert: bool,
    ) -> QueryResult<Vec<String>> {
        if inputs.len() > MAX_RECORDS {
            return Err(QueryError::bad_input(format!(
                "Maximum number of records to upsert is {MAX_RECORDS}."
            ))
            .with_sub_code("UPSERT_MAX_RECORDS_EXCEEDED"));
        }
        let mut ids = Vec::with_capacity(inputs.len());
        for input in inputs {
            let input = &self.resolve_relations(o, input)?;
            let prepared = write::prepare_create(o, input, &self.ctx)?;
            if upsert {
                if let Some(existing) = self.upsert_match(o, input, &prepared.id)? {
                    let mut update = input.clone();
                    if let Some(m) = update.as_object_mut() {
                        m.remove("id");
                    }
                    let p = write::prepare_update(o, &existing.data, &update, &self.ctx)?;
                    let mut p = p;
                    self.resolve_position(o, &mut p)?;
                    self.save(o, &existing, p.data)?;
                    ids.push(existing.id);
                    continue;
                }
            }
            ids.push(self.insert(o, prepared)?);
        }
        Ok(ids)
    }

    fn live_by_id(&self, o: &ObjectMetadata, id: &str) -> QueryResult<Record> {
        if !write::is_uuid(id) {
            return Err(
                QueryError::bad_input(format!("Value \"{id}\" is not a valid UUID"))
                    .with_sub_code("INVALID_QUERY_INPUT")
                    .with_user_friendly("Invalid UUID format."),
            );
        }
        self.by_ids(o, &[id.to_string()], false)?
            .pop()
            .ok_or_else(QueryError::not_found)
    }

    pub fn update_one(
        &mut self,
        o: &ObjectMetadata,
        id: &str,
        input: &Value,
    ) -> QueryResult<String> {
        let existing = self.live_by_id(o, id)?;
        let input = &self.resolve_relations(o, input)?;
        let mut p = write::prepare_update(o, &existing.data, input, &self.ctx)?;
        self.resolve_position(o, &mut p)?;
        self.save(o, &existing, p.data)?;
        Ok(existing.id)
    }

    /// Ids of the records matching a mutation's filter (at most [`MAX_RECORDS`]).
    fn matching(
        &self,
        o: &ObjectMetadata,
        filter_json: &Value,
        with_deleted: bool,
        what: &str,
    ) -> QueryResult<Vec<Record>> {
        let compiled = filter::compile(self.model, o, filter_json, ROOT)?;
        // Decided on the compiled predicate, so no nesting of empty lists and objects
        // reaches every record.
        if !compiled.constrains() {
            return Err(empty_filter());
        }
        let mut sql = Sql::new(format!(
            "SELECT {ROOT}.id, {ROOT}.deleted_at, {ROOT}.data FROM {} AS {ROOT} WHERE ",
            table(o)
        ));
        sql.push(compiled.sql);
        if !with_deleted && !compiled.mentions_deleted_at {
            sql.push_str(&format!(" AND {ROOT}.deleted_at IS NULL"));
        }
        sql.push_str(&format!(" ORDER BY {ROOT}.id LIMIT {}", MAX_RECORDS + 1));
        let rows = self.load(&sql)?;
        if rows.len() > MAX_RECORDS {
            return Err(QueryError::bad_input(format!(
                "Cannot {what} more than {MAX_RECORDS} records at once"
            ))
            .with_sub_code("TOO_MANY_RECORDS_TO_UPDATE"));
        }
        Ok(rows)
    }

    /// The mass-mutation guard: a filter given as anything but an object with keys is
    /// refused before compiling; [`Engine::matching`] refuses the rest of those that
    /// constrain nothing, on their compiled predicate.
    fn require_filter(filter_json: &Value) -> QueryResult<()> {
        if filter_json.as_object().is_none_or(Map::is_empty) {
            return Err(empty_filter());
        }
        Ok(())
    }

    pub fn update_many(
        &mut self,
        o: &ObjectMetadata,
        filter_json: &Value,
        input: &Value,
    ) -> QueryResult<Vec<String>> {
        Self::require_filter(filter_json)?;
        let input = &self.resolve_relations(o, input)?;
        let rows = self.matching(o, filter_json, false, "update")?;
        let mut ids = vec![];
        for r in rows {
            let mut p = write::prepare_update(o, &r.data, input, &self.ctx)?;
            self.resolve_position(o, &mut p)?;
            self.save(o, &r, p.data)?;
            ids.push(r.id);
        }
        Ok(ids)
    }

    fn set_deleted(
        &mut self,
        o: &ObjectMetadata,
        r: &Record,
        at: Option<&str>,
        action: &'static str,
    ) -> QueryResult<()> {
        self.db
            .exec(&Sql::with(
                format!("UPDATE {} SET deleted_at = ? WHERE id = ?", table(o)),
                vec![
                    at.map(|s| Param::Text(s.into())).unwrap_or(Param::Null),
                    Param::Text(r.id.clone()),
                ],
            ))
            .map_err(|e| self.map_write_error(o, e, &r.id, &r.data))?;
        self.index(o, &r.id, if at.is_none() { Some(&r.data) } else { None })?;
        self.changes.push(Change {
            action,
            object: o.name_singular.clone(),
            record_id: r.id.clone(),
            before: Some(r.stored()),
            after: Some(write::output(&r.id, at, &r.data)),
        });
        Ok(())
    }

    pub fn delete_one(&mut self, o: &ObjectMetadata, id: &str) -> QueryResult<String> {
        let r = self.live_by_id(o, id)?;
        let now = self.ctx.now.clone();
        self.set_deleted(o, &r, Some(&now), "deleted")?;
        Ok(r.id)
    }

    pub fn delete_many(
        &mut self,
        o: &ObjectMetadata,
        filter_json: &Value,
    ) -> QueryResult<Vec<String>> {
        let now = self.ctx.now.clone();
        self.set_deleted_many(o, filter_json, Some(&now), "delete")
    }

    /// A record by id, soft-deleted or not (restore and destroy reach both).
    fn any_by_id(&self, o: &ObjectMetadata, id: &str) -> QueryResult<Record> {
        self.by_ids(o, &[id.to_string()], true)?
            .pop()
            .ok_or_else(QueryError::not_found)
    }

    pub fn restore_one(&mut self, o: &ObjectMetadata, id: &str) -> QueryResult<String> {
        let r = self.any_by_id(o, id)?;
        self.set_deleted(o, &r, None, "restored")?;
        Ok(r.id)
    }

    pub fn restore_many(
        &mut self,
        o: &ObjectMetadata,
        filter_json: &Value,
    ) -> QueryResult<Vec<String>> {
        self.set_deleted_many(o, filter_json, None, "restore")
    }

    /// Soft-deletes (`at` = now) or restores (`at` = None) the records matching a filter;
    /// only records whose state changes are touched and returned.
    fn set_deleted_many(
        &mut self,
        o: &ObjectMetadata,
        filter_json: &Value,
        at: Option<&str>,
        verb: &str,
    ) -> QueryResult<Vec<String>> {
        Self::require_filter(filter_json)?;
        let restoring = at.is_none();
        let rows = self.matching(o, filter_json, restoring, verb)?;
        let action = if restoring { "restored" } else { "deleted" };
        let mut ids = vec![];
        for r in rows
            .into_iter()
            .filter(|r| r.deleted_at.is_some() == restoring)
        {
            self.set_deleted(o, &r, at, action)?;
            ids.push(r.id);
        }
        Ok(ids)
    }

    /// Hard delete, applying each inverse relation's on-delete rule (cascade or set null).
    /// Returns the records as they were, shaped as stored.
    pub fn destroy(&mut self, o: &ObjectMetadata, records: Vec<Record>) -> QueryResult<Vec<Value>> {
        let mut out = vec![];
        for r in records {
            for f in o.active_fields().filter(|f| f.is_one_to_many()) {
                let Some((child, inverse)) = self.model.inverse_of(f) else {
                    continue;
                };
                let fk = path(&[&inverse.storage_key()]);
                let rule = inverse
                    .relation
                    .as_ref()
                    .and_then(|r| r.on_delete)
                    .unwrap_or(OnDelete::SetNull);
                let kids = self.load(&Sql::with(
                    format!(
                        "SELECT id, deleted_at, data FROM {} WHERE json_extract(data, '{fk}') = ?",
                        table(child)
                    ),
                    vec![Param::Text(r.id.clone())],
                ))?;
                match rule {
                    OnDelete::Cascade => {
                        self.destroy(child, kids)?;
                    }
                    OnDelete::SetNull | OnDelete::Restrict => {
                        for k in kids {
                            let mut data = k.data.clone();
                            data.insert(inverse.storage_key(), Value::Null);
                            self.save(child, &k, data)?;
                        }
                    }
                }
            }
            self.db.exec(&Sql::with(
                format!("DELETE FROM {} WHERE id = ?", table(o)),
                vec![Param::Text(r.id.clone())],
            ))?;
            self.index(o, &r.id, None)?;
            self.changes.push(Change {
                action: "destroyed",
                object: o.name_singular.clone(),
                record_id: r.id.clone(),
                before: Some(r.stored()),
                after: None,
            });
            out.push(r.stored());
        }
        Ok(out)
    }

    pub fn destroy_one(&mut self, o: &ObjectMetadata, id: &str) -> QueryResult<Value> {
        let r = self.any_by_id(o, id)?;
        let shaped = self.shape(o, std::slice::from_ref(&r), &Selection::default(), 0)?;
        self.destroy(o, vec![r])?;
        Ok(shaped.into_iter().next().unwrap_or(Value::Null))
    }

    pub fn destroy_many(
        &mut self,
        o: &ObjectMetadata,
        filter_json: &Value,
    ) -> QueryResult<Vec<Value>> {
        Self::require_filter(filter_json)?;
        let rows = self.matching(o, filter_json, true, "destroy")?;
        let shaped = self.shape(o, &rows, &Selection::default(), 0)?;
        self.destroy(o, rows)?;
        Ok(shaped)
    }

    /// Loads records by id (deleted ones too) and shapes them for `sel`, in `ids` order.
    pub fn fetch(
        &self,
        o: &ObjectMetadata,
        ids: &[String],
        sel: &Selection,
    ) -> QueryResult<Vec<Value>> {
        let records = self.by_ids(o, ids, true)?;
        let pos: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut records = records;
        records.sort_by_key(|r| pos.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
        self.shape(o, &records, sel, 0)
    }

    /// `(namePlural, live records)` of every active object (Settings' data model list,
    /// Twenty's `objectRecordCounts`); soft-deleted records are not counted.
    pub fn live_counts(&self) -> QueryResult<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for o in self.model.active_objects() {
            let rows = self.db.query(&Sql::new(format!(
                "SELECT count(*) AS n FROM {} WHERE deleted_at IS NULL",
                table(o)
            )))?;
            let n = rows
                .first()
                .and_then(|r| r.get("n"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            out.push((o.name_plural.clone(), n));
        }
        Ok(out)
    }

    /// Total live records across objects (for the workspace quota).
    pub fn count_all(&self) -> QueryResult<i64> {
        let mut total = 0;
        for o in self.model.active_objects() {
            let rows = self
                .db
                .query(&Sql::new(format!("SELECT count(*) AS n FROM {}", table(o))))?;
            total += rows
                .first()
                .and_then(|r| r.get("n"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
        }
        Ok(total)
    }
}

/// The fields Twenty's `searchVector` covers, per standard object; custom objects search
/// their label identifier field.
pub fn search_fields(o: &ObjectMetadata) -> Vec<&FieldMetadata> {
    let names: &[&str] = match o.name_singular.as_str() {
        "person" => &["name", "emails", "phones", "jobTitle"],
        "company" => &["name", "domainName"],
        "opportunity" => &["name"],
        "note" | "task" => &["title"],
        "workspaceMember" => &["name", "userEmail"],
        _ => &[],
    };
    if names.is_empty() {
        if !o.is_searchable && !o.is_custom {
            return vec![];
        }
        let label = o.label_identifier_field_name.as_deref().unwrap_or("name");
        return o.field(label).into_iter().collect();
    }
    names.iter().filter_map(|n| o.field(n)).collect()
}

/// The searchable text of a record (composite parts and lists flattened).
fn search_text(o: &ObjectMetadata, data: &Map<String, Value>) -> String {
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if !s.is_empty() => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            Value::Object(m) => m.values().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let mut parts = vec![];
    for f in search_fields(o) {
        if let Some(v) = data.get(&f.storage_key()) {
            collect(v, &mut parts);
        }
    }
    parts.join(" ")
}

/// The record's display label (Twenty's `label` in search results).
fn record_label(o: &ObjectMetadata, data: &Map<String, Value>) -> String {
    let name = o.label_identifier_field_name.as_deref().unwrap_or("name");
    match data.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => {
            let first = m.get("firstName").and_then(Value::as_str).unwrap_or("");
            let last = m.get("lastName").and_then(Value::as_str).unwrap_or("");
            format!("{first} {last}").trim().to_string()
        }
        _ => String::new(),
    }
}

/// An FTS5 query matching every word of `input` as a prefix (`"ada"* "lov"*`).
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A record as GraphQL returns it: stored values converted to output types (NUMERIC as a
/// number, TS_VECTOR hidden), plus `id` and `deletedAt`.
pub fn output_record(o: &ObjectMetadata, r: &Record) -> Map<String, Value> {
    let mut out = r.data.clone();
    out.insert("id".into(), json!(r.id));
    out.insert("deletedAt".into(), json!(r.deleted_at));
    for f in o.active_fields() {
        match f.field_type {
            FieldType::Numeric => {
                if let Some(v) = out.get_mut(&f.name) {
                    *v = numeric_out(v);
                }
            }
            FieldType::Currency | FieldType::Address => {
                if let Some(Value::Object(c)) = out.get_mut(&f.name) {
                    for sub in composite::subfields(f.field_type).into_iter().flatten() {
                        if sub.field_type == FieldType::Numeric {
                            if let Some(v) = c.get_mut(sub.name) {
                                *v = numeric_out(v);
                            }
                        }
                    }
                }
            }
            FieldType::TsVector => {
                out.insert(f.name.clone(), Value::Null);
            }
            // Twenty's TEXT columns default to '' and are never null: records written
            // before a field existed, or without it, read ''.
            FieldType::Text => {
                let v = out.entry(f.name.clone()).or_insert(Value::Null);
                if v.is_null() {
                    *v = json!("");
                }
            }
            _ => {}
        }
    }
    out
}

/// NUMERIC is stored as text (exact); GraphQL's BigFloat answers a number
/// (`parseFloat`, as Twenty does).
fn numeric_out(v: &Value) -> Value {
    match v {
        Value::String(s) => s.parse::<f64>().map(|f| json!(f)).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// The SQL expression of a Connection aggregate field (`countEmptyJobTitle`, `sumAmountAmountMicros`...).
pub fn aggregate_expr(o: &ObjectMetadata, name: &str) -> Option<String> {
    if name == "totalCount" {
        return Some("count(*)".into());
    }
    const OPS: &[&str] = &[
        "countUniqueValues",
        "countNotEmpty",
        "countEmpty",
        "percentageNotEmpty",
        "percentageEmpty",
        "countTrue",
        "countFalse",
        "min",
        "max",
        "avg",
        "sum",
    ];
    for op in OPS {
        let Some(rest) = name.strip_prefix(op) else {
            continue;
        };
        for f in o.active_fields() {
            let x = capitalize(&f.name);
            let currency = f.field_type == FieldType::Currency;
            let matches = rest == x || (currency && rest == format!("{x}AmountMicros"));
            if !matches || f.field_type == FieldType::Relation {
                continue;
            }
            let value = value_expr(f);
            let numeric = if currency {
                format!(
                    "CAST(json_extract({ROOT}.data, '{}') AS REAL)",
                    path(&[&f.name, "amountMicros"])
                )
            } else {
                format!(
                    "CAST(json_extract({ROOT}.data, '{}') AS REAL)",
                    path(&[&f.storage_key()])
                )
            };
            let e = match *op {
                "countUniqueValues" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE count(DISTINCT {value}) END"),
                "countEmpty" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE count(*) - count({value}) END"),
                "countNotEmpty" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE count({value}) END"),
                "percentageEmpty" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE CAST(count(*) - count({value}) AS REAL) / count(*) END"),
                "percentageNotEmpty" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE CAST(count({value}) AS REAL) / count(*) END"),
                "countTrue" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE count(CASE WHEN {value} = 1 THEN 1 END) END"),
                "countFalse" => format!("CASE WHEN count(*) = 0 THEN NULL ELSE count(CASE WHEN {value} = 0 THEN 1 END) END"),
                "min" | "max" if matches!(f.field_type, FieldType::Date | FieldType::DateTime) => format!("{op}({value})"),
                _ => format!("{op}({numeric})"),
            };
            return Some(e);
        }
    }
    None
}

/// The value an aggregate counts: the field, or for composites the concatenation of its
/// aggregate sub-fields; `''` counts as empty.
fn value_expr(f: &FieldMetadata) -> String {
    let subs = composite::aggregate_subfields(f.field_type);
    if subs.is_empty() {
        let p = path(&[&f.storage_key()]);
        match f.field_type {
            FieldType::MultiSelect | FieldType::Array => {
                format!("NULLIF(NULLIF(json_extract({ROOT}.data, '{p}'), '[]'), '')")
            }
            _ => format!("NULLIF(json_extract({ROOT}.data, '{p}'), '')"),
        }
    } else {
        let parts: Vec<String> = subs
            .iter()
            .map(|s| {
                format!(
                    "COALESCE(json_extract({ROOT}.data, '{}'), '')",
                    path(&[&f.name, s])
                )
            })
            .collect();
        format!("NULLIF({}, '')", parts.join(" || "))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::schema::ddl::object_ddl;
    use crate::schema::standard::standard_model;
    use rusqlite::types::ValueRef;
    use std::cell::RefCell;

    /// The engine's `Db` on real SQLite.
    pub struct Sqlite(pub RefCell<rusqlite::Connection>);

    fn bind(stmt: &mut rusqlite::Statement<'_>, params: &[Param]) -> rusqlite::Result<()> {
        for (i, p) in params.iter().enumerate() {
            match p {
                Param::Null => stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
                Param::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
                Param::Real(v) => stmt.raw_bind_parameter(i + 1, v)?,
                Param::Text(v) => stmt.raw_bind_parameter(i + 1, v)?,
            }
        }
        Ok(())
    }

    impl Sqlite {
        /// Runs `run` on `sql` prepared, with its parameters bound.
        fn with_statement<T>(
            &self,
            sql: &Sql,
            run: impl FnOnce(&mut rusqlite::Statement<'_>) -> QueryResult<T>,
        ) -> QueryResult<T> {
            let sql = sql.bindable();
            let conn = self.0.borrow();
            let mut stmt = conn
                .prepare(&sql.text)
                .map_err(|e| internal(format!("{e}: {}", sql.text)))?;
            bind(&mut stmt, &sql.params).map_err(internal)?;
            run(&mut stmt)
        }
    }

    impl Db for Sqlite {
        fn query(&self, sql: &Sql) -> QueryResult<Vec<Row>> {
            self.with_statement(sql, |stmt| {
                let names: Vec<String> =
                    stmt.column_names().iter().map(|s| s.to_string()).collect();
                let mut rows = stmt.raw_query();
                let mut out = vec![];
                while let Some(r) = rows.next().map_err(internal)? {
                    let mut m = Map::new();
                    for (i, n) in names.iter().enumerate() {
                        let v = match r.get_ref(i).map_err(internal)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(i) => json!(i),
                            ValueRef::Real(f) => json!(f),
                            ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                            ValueRef::Blob(_) => Value::Null,
                        };
                        m.insert(n.clone(), v);
                    }
                    out.push(m);
                }
                Ok(out)
            })
        }

        fn exec(&self, sql: &Sql) -> QueryResult<usize> {
            self.with_statement(sql, |stmt| stmt.raw_execute().map_err(internal))
        }
    }

    pub fn setup() -> (WorkspaceModel, Sqlite) {
        let mut n = 0u64;
        let mut new_id = || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        };
        let model = standard_model("2024-01-01T00:00:00.000Z", &mut new_id);
        let db = Sqlite(RefCell::new(
            rusqlite::Connection::open_in_memory().unwrap(),
        ));
        db.0.borrow()
            .execute_batch(include_str!("../../migrations/actor/0003_search.sql"))
            .unwrap();
        db.0.borrow()
            .execute_batch(include_str!("../../migrations/actor/0007_search_ids.sql"))
            .unwrap();
        for o in &model.objects {
            for stmt in object_ddl(&model, o) {
                db.0.borrow().execute(&stmt, []).unwrap();
            }
        }
        (model, db)
    }

    fn ctx() -> WriteCtx {
        WriteCtx {
            now: "2024-05-01T00:00:00.000Z".into(),
            actor: json!({"source": "MANUAL", "workspaceMemberId": null, "name": "Tester", "context": {}}),
        }
    }

    fn sel(s: &str) -> Selection {
        // A tiny selection parser for tests: `id name { firstName } company { name }`.
        fn parse(tokens: &mut std::iter::Peekable<std::vec::IntoIter<String>>) -> Selection {
            let mut fields = vec![];
            while let Some(t) = tokens.next() {
                if t == "}" {
                    break;
                }
                let children = if tokens.peek().map(String::as_str) == Some("{") {
                    tokens.next();
                    parse(tokens)
                } else {
                    Selection::default()
                };
                fields.push(Selected {
                    name: t,
                    alias: None,
                    args: Map::new(),
                    children,
                });
            }
            Selection { fields }
        }
        let spaced = s.replace('{', " { ").replace('}', " } ");
        let tokens: Vec<String> = spaced.split_whitespace().map(str::to_string).collect();
        parse(&mut tokens.into_iter().peekable())
    }

    /// The objects of `model` named `names`.
    fn objects<'m, const N: usize>(
        model: &'m WorkspaceModel,
        names: [&str; N],
    ) -> [&'m ObjectMetadata; N] {
        names.map(|name| model.object(name).unwrap())
    }

    /// The `edges` of a connection.
    fn edges(connection: &Value) -> &[Value] {
        connection["edges"].as_array().unwrap()
    }

    /// `findMany` on `o` with `args`, selecting `selection`.
    fn find(e: &Engine, o: &ObjectMetadata, args: FindArgs, selection: &str) -> QueryResult<Value> {
        e.find_many(o, &args, &sel(selection))
    }

    /// `findMany` on `o` ordered by `order_by`, selecting `selection`.
    fn sorted(e: &Engine, o: &ObjectMetadata, order_by: Value, selection: &str) -> Value {
        let args = FindArgs {
            order_by,
            ..Default::default()
        };
        find(e, o, args, selection).unwrap()
    }

    /// How many records of `o` match `filter` (on one page).
    fn matching(e: &Engine, o: &ObjectMetadata, filter: Value) -> usize {
        let args = FindArgs {
            filter,
            ..Default::default()
        };
        edges(&find(e, o, args, "edges { node { id } }").unwrap()).len()
    }

    const P1: &str = "11111111-1111-4111-8111-111111111111";
    const P2: &str = "22222222-2222-4222-8222-222222222222";
    const P3: &str = "33333333-3333-4333-8333-333333333333";

    #[test]
    fn live_counts_list_every_object_without_soft_deleted_records() {
        let (model, db) = setup();
        let person = model.object("person").unwrap();
        let mut e = Engine::new(&model, &db, ctx());
        e.create_many(person, &[json!({"id": P1}), json!({"id": P2})], false)
            .unwrap();
        e.delete_one(person, P2).unwrap();
        let counts = e.live_counts().unwrap();
        assert_eq!(counts.len(), model.active_objects().count());
        let of = |plural: &str| counts.iter().find(|(p, _)| p == plural).map(|(_, n)| *n);
        assert_eq!(of("people"), Some(1));
        assert_eq!(of("companies"), Some(0));
    }

    /// Twenty's all-people-resolvers suite, on the engine.
    #[test]
    fn people_resolvers() {
        let (model, db) = setup();
        let person = model.object("person").unwrap();
        let mut e = Engine::new(&model, &db, ctx());
        let fields = sel(
            "id jobTitle name { firstName lastName } createdAt deletedAt createdBy { source name }",
        );
        // 1. createPeople
        let ids = e
            .create_many(
                person,
                &[
                    json!({"id": P1, "jobTitle": "A"}),
                    json!({"id": P2, "jobTitle": "B"}),
                ],
                false,
            )
            .unwrap();
        let created = e.fetch(person, &ids, &fields).unwrap();
        assert_eq!(created.len(), 2);
        assert_eq!(created[0]["jobTitle"], "A");
        assert_eq!(created[0]["createdBy"]["source"], "MANUAL");
        assert_eq!(created[0]["name"], json!({"firstName": "", "lastName": ""}));
        // 1b. createPerson
        e.create_many(person, &[json!({"id": P3, "jobTitle": "C"})], false)
            .unwrap();
        // 2. findMany
        let all = find(
            &e,
            person,
            FindArgs::default(),
            "edges { node { id jobTitle } } pageInfo { hasNextPage } totalCount",
        )
        .unwrap();
        assert_eq!(edges(&all).len(), 3);
        assert_eq!(all["totalCount"], 3);
        assert_eq!(all["pageInfo"]["hasNextPage"], false);
        // 2b. findOne
        let one = e
            .find_one(person, &json!({"id": {"eq": P3}}), &fields)
            .unwrap();
        assert_eq!(one["jobTitle"], "C");
        // 3. updateMany, 3b. updateOne
        let updated = e
            .update_many(
                person,
                &json!({"id": {"in": [P1, P2]}}),
                &json!({"jobTitle": "Updated City"}),
            )
            .unwrap();
        assert_eq!(updated.len(), 2);
        e.update_one(person, P3, &json!({"jobTitle": "New City"}))
            .unwrap();
        // 4. find by the new values
        let updated_city = json!({"jobTitle": {"eq": "Updated City"}});
        assert_eq!(matching(&e, person, updated_city), 2);
        // 5. deleteMany, 5b. deleteOne
        let deleted = e
            .delete_many(person, &json!({"id": {"in": [P1, P2]}}))
            .unwrap();
        assert_eq!(
            e.fetch(person, &deleted, &fields).unwrap()[0]["deletedAt"],
            "2024-05-01T00:00:00.000Z"
        );
        e.delete_one(person, P3).unwrap();
        // 6. not found anymore
        assert_eq!(matching(&e, person, json!({"id": {"in": [P1, P2]}})), 0);
        assert_eq!(
            e.find_one(person, &json!({"id": {"eq": P3}}), &fields)
                .unwrap_err()
                .kind,
            ErrorKind::NotFound
        );
        // 7. found with a deletedAt filter
        let with_deleted = json!({"id": {"in": [P1, P2]}, "not": {"deletedAt": {"is": "NULL"}}});
        assert_eq!(matching(&e, person, with_deleted), 2);
        // 8. destroy
        assert_eq!(
            e.destroy_many(person, &json!({"id": {"in": [P1, P2]}}))
                .unwrap()
                .len(),
            2
        );
        e.destroy_one(person, P3).unwrap();
        // 9. gone for good
        let deleted = json!({"not": {"deletedAt": {"is": "NULL"}}});
        assert_eq!(matching(&e, person, deleted), 0);
    }

    #[test]
    fn nested_relations_both_ways_in_batches() {
        let (model, db) = setup();
        let [company, person] = objects(&model, ["company", "person"]);
        let mut e = Engine::new(&model, &db, ctx());
        let c = e
            .create_many(
                company,
                &[json!({"name": "Acme"}), json!({"name": "Globex"})],
                false,
            )
            .unwrap();
        for i in 0..5 {
            e.create_many(
                person,
                &[json!({"jobTitle": format!("p{i}"), "companyId": c[i % 2]})],
                false,
            )
            .unwrap();
        }
        e.create_many(person, &[json!({"jobTitle": "loner"})], false)
            .unwrap();
        let people = sorted(
            &e,
            person,
            json!([{"jobTitle": "AscNullsFirst"}]),
            "edges { node { jobTitle companyId company { name } } }",
        );
        let people = edges(&people);
        assert_eq!(people[0]["node"]["jobTitle"], "loner");
        assert!(people[0]["node"]["company"].is_null());
        assert_eq!(people[1]["node"]["company"]["name"], "Acme");
        assert_eq!(people[2]["node"]["company"]["name"], "Globex");
        let companies = sorted(
            &e,
            company,
            json!([{"name": "AscNullsFirst"}]),
            "edges { node { name people { edges { node { jobTitle } } totalCount } } }",
        );
        let acme = &companies["edges"][0]["node"];
        assert_eq!(acme["name"], "Acme");
        assert_eq!(acme["people"]["totalCount"], 3);
        assert_eq!(edges(&acme["people"]).len(), 3);
        // Connecting to a missing company fails and writes nothing.
        let err = e
            .create_many(
                person,
                &[json!({"companyId": "99999999-9999-4999-8999-999999999999"})],
                false,
            )
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadUserInput);
        // Destroying a company detaches its people (SET_NULL).
        e.destroy_one(company, &c[0]).unwrap();
        assert_eq!(
            matching(&e, person, json!({"companyId": {"is": "NULL"}})),
            4
        );
    }

    #[test]
    fn cursor_pagination_visits_every_record_once() {
        let (model, db) = setup();
        let person = model.object("person").unwrap();
        let mut e = Engine::new(&model, &db, ctx());
        for i in 0..25 {
            let first = if i % 5 == 0 {
                Value::Null
            } else {
                json!(format!("n{:02}", i % 7))
            };
            e.create_many(
                person,
                &[json!({"name": {"firstName": first, "lastName": format!("L{i}")}})],
                false,
            )
            .unwrap();
        }
        let order = json!([{"name": {"firstName": "AscNullsLast"}}]);
        let mut seen = vec![];
        let mut after = None;
        loop {
            let page = e
                .find_many(
                    person,
                    &FindArgs {
                        order_by: order.clone(),
                        first: Some(4),
                        after: after.clone(),
                        ..Default::default()
                    },
                    &sel("edges { node { id } cursor } pageInfo { hasNextPage endCursor }"),
                )
                .unwrap();
            for edge in edges(&page) {
                seen.push(edge["node"]["id"].as_str().unwrap().to_string());
            }
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
        }
        assert_eq!(seen.len(), 25);
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), 25);
        // Backwards from the end gives the same order.
        let last = e
            .find_many(
                person,
                &FindArgs {
                    order_by: order.clone(),
                    last: Some(4),
                    before: after.clone(),
                    ..Default::default()
                },
                &sel("edges { node { id } } pageInfo { hasPreviousPage hasNextPage }"),
            )
            .unwrap();
        assert_eq!(last["pageInfo"]["hasNextPage"], true);
        let bad = e
            .find_many(
                person,
                &FindArgs {
                    after: Some("%%%".into()),
                    ..Default::default()
                },
                &sel("edges { node { id } }"),
            )
            .unwrap_err();
        assert!(bad.message.contains("Invalid cursor"), "{bad:?}");
        let conflict = e
            .find_many(
                person,
                &FindArgs {
                    first: Some(1),
                    last: Some(1),
                    ..Default::default()
                },
                &Selection::default(),
            )
            .unwrap_err();
        assert_eq!(conflict.message, "Cannot provide both first and last");
    }

    #[test]
    fn search_ranks_across_objects() {
        let (model, db) = setup();
        let [person, company] = objects(&model, ["person", "company"]);
        let mut e = Engine::new(&model, &db, ctx());
        e.create_many(person, &[json!({"name": {"firstName": "Ada", "lastName": "Lovelace"}, "emails": {"primaryEmail": "ada@analytical.org"}})], false).unwrap();
        let acme = e
            .create_many(company, &[json!({"name": "Adaptive Systems"})], false)
            .unwrap();
        e.create_many(person, &[json!({"name": {"firstName": "Bob"}})], false)
            .unwrap();
        let args = |input: &str| -> Map<String, Value> {
            json!({"searchInput": input, "limit": 10})
                .as_object()
                .unwrap()
                .clone()
        };
        let r = e.search(&args("ada")).unwrap();
        let labels: Vec<&str> = edges(&r)
            .iter()
            .map(|e| e["node"]["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels.len(), 2, "{r}");
        assert!(labels.contains(&"Ada Lovelace") && labels.contains(&"Adaptive Systems"));
        let r = e.search(&args("lovelace analytical")).unwrap();
        assert_eq!(r["edges"][0]["node"]["objectNameSingular"], "person");
        // Deleted records leave the index; restored ones come back.
        e.delete_one(company, &acme[0]).unwrap();
        assert_eq!(edges(&e.search(&args("adaptive")).unwrap()).len(), 0);
        e.restore_one(company, &acme[0]).unwrap();
        assert_eq!(edges(&e.search(&args("adaptive")).unwrap()).len(), 1);
        let mut only = args("ada");
        only.insert("includedObjectNameSingulars".into(), json!(["company"]));
        assert_eq!(edges(&e.search(&only).unwrap()).len(), 1);
    }

    #[test]
    fn aggregates() {
        let (model, db) = setup();
        let opp = model.object("opportunity").unwrap();
        let mut e = Engine::new(&model, &db, ctx());
        e.create_many(
            opp,
            &[
                json!({"name": "a", "amount": {"amountMicros": 1000000, "currencyCode": "USD"}, "stage": "NEW"}),
                json!({"name": "b", "amount": {"amountMicros": 3000000, "currencyCode": "USD"}, "stage": "MEETING"}),
                json!({"name": "", "stage": "NEW"}),
            ],
            false,
        )
        .unwrap();
        let conn = e
            .find_many(opp, &FindArgs::default(), &sel("totalCount countEmptyName countNotEmptyName countUniqueValuesStage sumAmountAmountMicros avgAmountAmountMicros percentageEmptyName"))
            .unwrap();
        assert_eq!(conn["totalCount"], 3);
        assert_eq!(conn["countEmptyName"], 1);
        assert_eq!(conn["countNotEmptyName"], 2);
        assert_eq!(conn["countUniqueValuesStage"], 2);
        assert_eq!(conn["sumAmountAmountMicros"], 4000000.0);
        assert_eq!(conn["avgAmountAmountMicros"], 2000000.0);
    }

    #[test]
    fn writes_are_validated_and_unique_fields_enforced() {
        let (model, db) = setup();
        let [person, opp] = objects(&model, ["person", "opportunity"]);
        let mut e = Engine::new(&model, &db, ctx());
        let check = |r: QueryResult<Vec<String>>, contains: &str| {
            let err = r.unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadUserInput, "{err:?}");
            assert!(
                err.message.contains(contains),
                "{} !~ {contains}",
                err.message
            );
        };
        check(
            e.create_many(person, &[json!({"nope": 1})], false),
            "doesn't have any \"nope\" field",
        );
        check(
            e.create_many(opp, &[json!({"stage": "LOST"})], false),
            "Invalid value 'LOST' for field \"stage\"",
        );
        check(
            e.create_many(person, &[json!({"id": "not-a-uuid"})], false),
            "Invalid UUID",
        );
        e.create_many(
            person,
            &[json!({"emails": {"primaryEmail": "a@x.com"}})],
            false,
        )
        .unwrap();
        check(
            e.create_many(
                person,
                &[json!({"emails": {"primaryEmail": "a@x.com"}})],
                false,
            ),
            "duplicate entry",
        );
        // upsert updates the match instead.
        let ids = e
            .create_many(
                person,
                &[json!({"emails": {"primaryEmail": "a@x.com"}, "jobTitle": "CEO"})],
                true,
            )
            .unwrap();
        let p = e
            .fetch(person, &ids, &sel("jobTitle emails { primaryEmail }"))
            .unwrap();
        assert_eq!(p[0]["jobTitle"], "CEO");
        // 300 OR-ed values: packed into one bound parameter, works on SQLite's limit of 100.
        let ors: Vec<Value> = (0..300)
            .map(|i| json!({"jobTitle": {"eq": format!("t{i}")}}))
            .collect();
        let r = e
            .find_many(
                person,
                &FindArgs {
                    filter: json!({"or": ors}),
                    ..Default::default()
                },
                &sel("totalCount"),
            )
            .unwrap();
        assert_eq!(r["totalCount"], 0);
        let too_many: Vec<Value> = (0..201).map(|_| json!({})).collect();
        check(
            e.create_many(person, &too_many, false),
            "Maximum number of records",
        );
    }
}
