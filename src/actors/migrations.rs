//! Append-only, numbered SQL migrations for actor storage.
//!
//! Each actor records the ids it has applied in its own `_migrations` table, so an actor that
//! sleeps through several releases applies every missing migration, in order, the next time
//! it wakes. Each migration runs with its ledger row in one storage transaction: it is
//! applied entirely or not at all.
//!
//! **Architecture Invariant:** migrations are never edited or renumbered once released;
//! new behaviour is a new file `migrations/actor/NNNN_name.sql` plus a line in
//! [`MIGRATIONS`]. A test checks the two agree.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub id: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// A migration entry: `id` and `name` spell the file `migrations/actor/{id:04}_{name}.sql`.
macro_rules! migration {
    ($id:literal, $name:literal, $file:literal) => {
        Migration {
            id: $id,
            name: $name,
            sql: include_str!(concat!("../../migrations/actor/", $file)),
        }
    };
}

/// Every actor migration, in order (a test checks entries and files agree).
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "init", "0001_init.sql"),
    migration!(2, "metadata", "0002_metadata.sql"),
    migration!(3, "search", "0003_search.sql"),
    migration!(4, "realtime", "0004_realtime.sql"),
    migration!(5, "event_streams", "0005_event_streams.sql"),
    migration!(6, "member_removals", "0006_member_removals.sql"),
    migration!(7, "search_ids", "0007_search_ids.sql"),
    migration!(8, "views", "0008_views.sql"),
];

/// The schema version a fully migrated actor reports.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map(|m| m.id).unwrap_or(0)
}

/// The ledger, created before anything else. Not itself a migration: it must exist to know
/// which migrations exist.
pub const LEDGER_DDL: &str = "CREATE TABLE IF NOT EXISTS _migrations (\
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

#[derive(Debug, PartialEq, Eq)]
pub enum MigrationError {
    /// The actor has applied a migration this code does not know: it was migrated by a newer
    /// release (a rollback). Serving it with older code could corrupt data.
    UnknownApplied { id: u32 },
    /// The storage failed while applying migration `id`; nothing of it was kept.
    Storage { id: u32, message: String },
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationError::UnknownApplied { id } => write!(
                f,
                "actor storage has migration {id}, unknown to this release (rolled back?)"
            ),
            MigrationError::Storage { id, message } => {
                write!(f, "actor migration {id} failed: {message}")
            }
        }
    }
}

/// Where migrations are applied: the Durable Object's SQLite in production, rusqlite in
/// the native tests.
pub trait MigrationStore {
    /// Creates the ledger if needed and returns the applied ids.
    fn applied(&self) -> Result<Vec<u32>, String>;
    /// Runs `migration.sql` and inserts its ledger row, atomically.
    fn apply(&self, migration: &Migration, applied_at: &str) -> Result<(), String>;
}

/// The migrations still to apply, in order.
pub fn pending<'a>(
    applied: &[u32],
    all: &'a [Migration],
) -> Result<Vec<&'a Migration>, MigrationError> {
    if let Some(&id) = applied.iter().find(|id| !all.iter().any(|m| m.id == **id)) {
        return Err(MigrationError::UnknownApplied { id });
    }
    Ok(all.iter().filter(|m| !applied.contains(&m.id)).collect())
}

/// Brings `store` up to the last of `all`; returns the ids applied now.
pub fn migrate(
    store: &impl MigrationStore,
    all: &[Migration],
    now: &str,
) -> Result<Vec<u32>, MigrationError> {
    let applied = store
        .applied()
        .map_err(|message| MigrationError::Storage { id: 0, message })?;
    let mut done = Vec::new();
    for m in pending(&applied, all)? {
        store
            .apply(m, now)
            .map_err(|message| MigrationError::Storage { id: m.id, message })?;
        done.push(m.id);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use std::cell::RefCell;

    /// The same contract as the Durable Object store, on real SQLite.
    struct Sqlite(RefCell<Connection>);

    impl MigrationStore for Sqlite {
        fn applied(&self) -> Result<Vec<u32>, String> {
            let conn = self.0.borrow();
            conn.execute(LEDGER_DDL, []).map_err(|e| e.to_string())?;
            let mut stmt = conn
                .prepare("SELECT id FROM _migrations ORDER BY id")
                .map_err(|e| e.to_string())?;
            let ids = stmt
                .query_map([], |r| r.get::<_, u32>(0))
                .map_err(|e| e.to_string())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            Ok(ids)
        }

        fn apply(&self, m: &Migration, applied_at: &str) -> Result<(), String> {
            let mut conn = self.0.borrow_mut();
            let tx = conn.transaction().map_err(|e| e.to_string())?;
            tx.execute_batch(m.sql).map_err(|e| e.to_string())?;
            tx.execute(
                "INSERT INTO _migrations (id, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![m.id, m.name, applied_at],
            )
            .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())
        }
    }

    fn store() -> Sqlite {
        Sqlite(RefCell::new(Connection::open_in_memory().unwrap()))
    }

    const A: Migration = Migration {
        id: 1,
        name: "a",
        sql: "CREATE TABLE a (x INTEGER);",
    };
    const B: Migration = Migration {
        id: 2,
        name: "b",
        sql: "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);",
    };
    const BROKEN: Migration = Migration {
        id: 3,
        name: "broken",
        sql: "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1);",
    };

    #[test]
    fn an_old_actor_upgrades_itself() {
        let s = store();
        // Created by a release that knew only migration 1 ...
        assert_eq!(migrate(&s, &[A], "t1"), Ok(vec![1]));
        // ... woken by a release that knows 1 and 2.
        assert_eq!(migrate(&s, &[A, B], "t2"), Ok(vec![2]));
        assert_eq!(migrate(&s, &[A, B], "t3"), Ok(vec![]));
        let conn = s.0.borrow();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM a", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "migration 2 ran exactly once");
        let at: String = conn
            .query_row("SELECT applied_at FROM _migrations WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(at, "t1");
    }

    #[test]
    fn a_failed_migration_leaves_nothing_behind() {
        let s = store();
        let err = migrate(&s, &[A, B, BROKEN], "t").unwrap_err();
        assert!(
            matches!(err, MigrationError::Storage { id: 3, .. }),
            "{err}"
        );
        assert_eq!(s.applied().unwrap(), vec![1, 2]);
        let conn = s.0.borrow();
        let c_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'c'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(c_exists, 0, "half of migration 3 must not survive");
    }

    #[test]
    fn newer_storage_is_refused() {
        assert_eq!(
            pending(&[1, 2, 3], &[A, B]),
            Err(MigrationError::UnknownApplied { id: 3 })
        );
    }

    #[test]
    fn the_real_migrations_apply_in_order() {
        let s = store();
        let done = migrate(&s, MIGRATIONS, "now").unwrap();
        assert_eq!(done, MIGRATIONS.iter().map(|m| m.id).collect::<Vec<_>>());
        assert_eq!(latest_version(), *done.last().unwrap());
    }

    #[test]
    fn ids_increase_and_match_the_files() {
        for (list, dir) in [(MIGRATIONS, "actor")] {
            // Increasing; gaps are allowed (concurrent branches take disjoint ranges).
            for pair in list.windows(2) {
                assert!(pair[0].id < pair[1].id, "{dir}: ids must increase");
            }
            assert_eq!(list.first().map(|m| m.id), Some(1));
            let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            let expected: Vec<String> = list
                .iter()
                .map(|m| format!("{:04}_{}.sql", m.id, m.name))
                .collect();
            assert_eq!(
                files, expected,
                "{dir}: every file registered, every entry a file"
            );
        }
    }
}
