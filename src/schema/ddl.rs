//! Storage DDL derived from the model: one table per object, `rec_<objectId>` with `id`,
//! `deleted_at` and `data` (JSON of every other field), plus expression indexes for
//! foreign keys and unique fields. Storing fields as JSON keeps Cloudflare's
//! 100-columns-per-table limit out of the data model (an object may have 500 fields) and
//! makes adding, renaming or removing a field a metadata change, not a table rewrite.

use super::metadata::{FieldMetadata, FieldType, ObjectMetadata, WorkspaceModel};
use super::sql::ident;

/// The JSON path expression of a stored key.
pub fn json_path(keys: &[&str]) -> String {
    let mut p = String::from("$");
    for k in keys {
        p.push_str(&format!(".\"{k}\""));
    }
    p
}

/// Version of the DDL [`object_ddl`] derives from a model. Record tables follow each
/// workspace's own model, so their DDL cannot be a numbered SQL migration; instead an actor
/// whose `_actor_meta.recordDdlVersion` is lower re-runs [`object_ddl`] (idempotent) for
/// every object once, when it wakes. Raise it whenever [`object_ddl`] gains something.
/// 2: position indexes. 3: lowered label-identifier indexes, soft-deleted rows' index.
pub const RECORD_DDL_VERSION: i64 = 3;

/// DDL that makes storage match an object: its table and indexes (idempotent).
pub fn object_ddl(model: &WorkspaceModel, o: &ObjectMetadata) -> Vec<String> {
    let table = ident(&o.table());
    let mut ddl = vec![format!(
        "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, deleted_at TEXT, \
         data TEXT NOT NULL CHECK (json_valid(data)))"
    )];
    // Only soft-deleted rows: an unfiltered list's total is all rows minus these
    // (`Engine::add_aggregates`), and live writes never touch this index.
    ddl.push(format!(
        "CREATE INDEX IF NOT EXISTS {} ON {table} (deleted_at) WHERE deleted_at IS NOT NULL",
        ident(&format!("del_{}", o.id.replace('-', "")))
    ));
    // New records go first (or last): that reads the smallest (largest) position, which
    // without an index is a scan of the whole table on every create.
    if let Some(p) = o
        .active_fields()
        .find(|f| f.field_type == FieldType::Position)
    {
        ddl.push(format!(
            "CREATE INDEX IF NOT EXISTS {} ON {table} (json_extract(data, '{}'))",
            ident(&format!("pos_{}", o.id.replace('-', ""))),
            json_path(&[&p.storage_key()])
        ));
    }
    // Lists are filtered by a case-insensitive prefix of the record's name (`ilike 'ab%'`,
    // compiled with a range on `lower(...)`, `filter::prefix_range`) and ordered by it
    // (`order` lowers TEXT): `(lower(name), id)` serves both, and the `id` tie-break.
    if let Some(f) = o
        .label_identifier_field_name
        .as_deref()
        .and_then(|n| o.field(n))
        .filter(|f| f.is_active)
    {
        for (suffix, keys) in lowered_keys(f) {
            ddl.push(format!(
                "CREATE INDEX IF NOT EXISTS {} ON {table} (lower(json_extract(data, '{}')), id)",
                ident(&format!("{}{suffix}", index_names(o, f)[2])),
                json_path(&keys)
            ));
        }
    }
    for f in o.active_fields() {
        let [fk, uq, _] = index_names(o, f);
        if f.is_many_to_one() && model.target_of(f).is_some() {
            ddl.push(format!(
                "CREATE INDEX IF NOT EXISTS {} ON {table} (json_extract(data, '{}'))",
                ident(&fk),
                json_path(&[&f.storage_key()])
            ));
        }
        if f.is_unique {
            let path = match f.field_type {
                FieldType::Emails => json_path(&[&f.name, "primaryEmail"]),
                FieldType::Links => json_path(&[&f.name, "primaryLinkUrl"]),
                FieldType::Phones => json_path(&[&f.name, "primaryPhoneNumber"]),
                _ => json_path(&[&f.storage_key()]),
            };
            // Deleted rows and empty values do not take a value away from others.
            ddl.push(format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {table} (json_extract(data, '{path}')) \
                 WHERE deleted_at IS NULL AND json_extract(data, '{path}') IS NOT NULL \
                 AND json_extract(data, '{path}') != ''",
                ident(&uq)
            ));
        }
    }
    ddl
}

/// The stored text values of a label identifier that get a lowered index, with the index
/// name's suffix: a full name's two parts, or a TEXT field itself.
fn lowered_keys(f: &FieldMetadata) -> Vec<(&'static str, Vec<&str>)> {
    match f.field_type {
        FieldType::FullName => vec![
            ("_first", vec![f.name.as_str(), "firstName"]),
            ("_last", vec![f.name.as_str(), "lastName"]),
        ],
        FieldType::Text => vec![("", vec![f.name.as_str()])],
        _ => vec![],
    }
}

/// The names of the foreign-key, unique and lowered (prefix) indexes a field may have
/// (the lowered ones get [`lowered_keys`]' suffixes).
fn index_names(o: &ObjectMetadata, f: &FieldMetadata) -> [String; 3] {
    let short = o.id.replace('-', "");
    let fshort = f.id.replace('-', "");
    [
        format!("fk_{short}_{fshort}"),
        format!("uq_{short}_{fshort}"),
        format!("lo_{short}_{fshort}"),
    ]
}

/// Indexes to drop before a field's stored key changes or goes (they are recreated from the
/// new model by [`object_ddl`]).
pub fn field_index_names(o: &ObjectMetadata, f: &FieldMetadata) -> Vec<String> {
    let [fk, uq, _] = index_names(o, f);
    let mut names = vec![fk, uq];
    names.extend(lowered_index_names(o, f));
    names
}

/// The lowered (prefix) indexes a field may have as its object's label identifier.
pub fn lowered_index_names(o: &ObjectMetadata, f: &FieldMetadata) -> Vec<String> {
    let [_, _, lo] = index_names(o, f);
    ["", "_first", "_last"]
        .iter()
        .map(|suffix| format!("{lo}{suffix}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_with_a_position_get_a_position_index() {
        let mut n = 0;
        let model = crate::schema::standard::standard_model("2026-01-01T00:00:00Z", &mut || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        });
        let person = model.object("person").unwrap();
        let ddl = object_ddl(&model, person);
        let expr = format!("(json_extract(data, '{}'))", json_path(&["position"]));
        assert!(
            ddl.iter()
                .any(|s| s.contains("CREATE INDEX IF NOT EXISTS \"pos_") && s.ends_with(&expr)),
            "{ddl:#?}"
        );
        // Objects without a position field get none.
        for o in model
            .objects
            .iter()
            .filter(|o| o.field("position").is_none())
        {
            assert!(!object_ddl(&model, o).iter().any(|s| s.contains("pos_")));
        }
    }
}
