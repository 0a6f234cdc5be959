//! Durable Objects. One [`WorkspaceActor`] per workspace owns that workspace's records and
//! metadata in its SQLite storage.

pub mod event_stream;
pub mod graphql;
pub mod limiter;
pub mod migrations;
pub mod protocol;
pub mod realtime;
pub mod rest;
pub mod socket_index;
pub mod sql;
pub mod store;
pub mod views;
pub mod workspace;

pub use limiter::LimiterActor;
pub use workspace::WorkspaceActor;
