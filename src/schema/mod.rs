//! Object and field metadata, SQL generation, the dynamic GraphQL schema, filters and
//! cursors.
//!
//! **Architecture Invariant:** pure Rust: nothing here names a `worker` type, so all of it
//! is unit-tested natively with `cargo test`.
pub mod composite;
pub mod connect;
pub mod cursor;
pub mod ddl;
pub mod engine;
pub mod error;
pub mod filter;
pub mod gql;
pub mod group_by;
pub mod guard;
#[cfg(test)]
mod mass_mutation_guard;
pub mod metadata;
pub mod model_change;
pub mod openapi;
pub mod order;
pub mod rest;
#[cfg(test)]
mod scale_plans;
pub mod sdl;
pub mod sql;
pub mod standard;
pub mod write;
