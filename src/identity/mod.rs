//! Who is calling: passwords, tokens and signing keys (pure, natively tested), and the D1
//! directory of users, workspaces and memberships.

pub mod directory;
pub mod keyring;
pub mod one_time;
pub mod password;
pub mod principal;
pub mod tokens;
