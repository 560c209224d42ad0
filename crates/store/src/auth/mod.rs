//! Who is calling: bearer-token verification, the resulting `Viewer`, and the role matrix.

pub mod bearer;
pub mod claims;
pub mod mint;
pub mod remote_keys;
pub mod verifier;
pub mod viewer;

pub use claims::Claims;
pub use verifier::{KeySources, TokenVerifier};
pub use viewer::{Operation, Viewer};
