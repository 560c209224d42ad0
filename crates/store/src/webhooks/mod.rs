//! Webhooks: where alerts may be sent, how they are signed, and the worker that delivers them
//! from the outbox at least once.

pub mod address;
pub mod delivery;
pub mod payload;
pub mod signing;
