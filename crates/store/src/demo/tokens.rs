//! The demo's ready-made tokens: one per role reaching `contoso`, and a partner's reaching
//! several tenants.

use std::time::Duration as StdDuration;

use secrecy::SecretString;

use super::DEMO_TENANT;
use crate::auth::mint::{TokenRequest, mint_hs256};
use crate::domain::Role;

/// The demo's partner: a GlobalAdmin of `contoso` who also looks after these tenants.
const DEMO_PARTNER_TENANTS: &[&str] = &["contoso", "woodgrove-bank", "adventure-works", "litware"];

/// One ready-made demo token: what it grants and the JWT itself.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoToken {
    /// What to call it in a picker, e.g. `SecurityReader` or `Partner (GlobalAdmin)`.
    pub label: String,
    /// The role claim it carries.
    pub role: &'static str,
    /// Its `sub` claim.
    pub subject: String,
    /// The tenants it reaches (empty for a PlatformAdmin: all of them).
    pub tenants: Vec<String>,
    /// The signed JWT.
    pub token: String,
}

/// Mints the demo's tokens with the run's secret and configured `iss`/`aud`: one per role
/// (tenant-scoped ones reach `contoso`) and a partner's reaching several tenants, valid a day.
#[derive(Clone)]
pub struct DemoTokens {
    secret: SecretString,
    issuer: Option<String>,
    audience: Option<String>,
}

impl DemoTokens {
    /// Tokens signed with `secret`, carrying `issuer` and `audience` when the server checks them.
    pub fn new(secret: SecretString, issuer: Option<String>, audience: Option<String>) -> Self {
        DemoTokens {
            secret,
            issuer,
            audience,
        }
    }

    /// A fresh set of tokens, valid for a day from now.
    pub fn mint(&self) -> Vec<DemoToken> {
        let mut grants: Vec<(String, Role, String, Vec<String>)> = Role::ALL
            .iter()
            .map(|&role| {
                let tenants = match role {
                    Role::PlatformAdmin => Vec::new(),
                    _ => vec![DEMO_TENANT.to_owned()],
                };
                let subject = format!("demo-{}", role.claim_name().to_lowercase());
                (role.claim_name().to_owned(), role, subject, tenants)
            })
            .collect();
        grants.push((
            "Partner (GlobalAdmin)".to_owned(),
            Role::GlobalAdmin,
            "demo-partner".to_owned(),
            DEMO_PARTNER_TENANTS.iter().map(|&t| t.to_owned()).collect(),
        ));
        grants
            .into_iter()
            .filter_map(|(label, role, subject, tenants)| {
                let request = TokenRequest {
                    subject: subject.clone(),
                    roles: vec![role],
                    tenants: tenants.clone(),
                    ttl: StdDuration::from_secs(24 * 3600),
                    issuer: self.issuer.clone(),
                    audience: self.audience.clone(),
                };
                match mint_hs256(&self.secret, &request) {
                    Ok(token) => Some(DemoToken {
                        label,
                        role: role.claim_name(),
                        subject,
                        tenants,
                        token,
                    }),
                    Err(err) => {
                        tracing::error!(error = %err, "demo: cannot mint a token");
                        None
                    }
                }
            })
            .collect()
    }

    /// Prints the tokens, ready to paste.
    pub fn print(&self, address: &str) {
        println!(
            "\nsecurescore demo tokens (valid 24h; tenant-scoped ones reach `{DEMO_TENANT}`)."
        );
        println!("Open http://{address}/ for the dashboard (it offers these tokens), or");
        println!("in GraphiQL at /graphql, paste one into the Bearer token field.\n");
        for token in self.mint() {
            println!("{:<22} {}", token.label, token.token);
        }
        println!();
    }
}
