//! The Microsoft Graph connector: signs in to a tenant's Entra directory, reads it, and
//! returns what it collected, with the facts computed exactly as `docs/connector.md` says. It
//! stores nothing and owns no table: the server's collector (`crates/store/src/collector.rs`) queues and
//! claims collections and stores what this crate returns. It also holds the outbound-HTTP
//! guards (`net`) every client of the server shares.

pub mod audit;
pub mod client;
pub mod collect;
pub mod config;
mod coverage;
pub mod credential;
pub mod directory;
mod emergency_facts;
pub mod facts;
pub mod governance_facts;
pub mod net;
mod policy_checks;
pub mod setting_facts;
