//! The Microsoft Graph connector: a tenant's Entra directory connected once, collected on a
//! schedule and on request, its facts computed exactly as docs/connector.md says and ingested
//! like any collector's snapshot. Collections are records that replicas claim with a lease.

pub mod audit;
pub mod client;
pub mod collect;
mod coverage;
pub mod credential;
pub mod directory;
mod emergency_facts;
pub mod facts;
pub mod governance_facts;
mod policy_checks;
pub mod setting_facts;
