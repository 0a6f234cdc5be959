//! Object and field metadata, SQL generation, the dynamic GraphQL schema, filters and
//! cursors.
//!
//! **Architecture Invariant:** pure Rust: nothing here names a `worker` type, so all of it
//! is unit-tested natively with `cargo test`.
pub mod sdl;
pub mod composite;
pub mod metadata;
pub mod error;
pub mod sql;
