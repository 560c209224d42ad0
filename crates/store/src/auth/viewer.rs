//! The verified caller and the role matrix (docs/design.md, "Reach and roles"; docs/security.md).

use std::collections::{BTreeSet, HashSet};

use super::Claims;
use crate::domain::Role;
use crate::error::{ApiError, ApiResult};

/// The verified caller of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Viewer {
    /// Token subject.
    pub subject: String,
    /// Token issuer, when the token names one.
    pub issuer: Option<String>,
    /// Known roles from the token.
    pub roles: BTreeSet<Role>,
    /// Tenants within reach: `tid` then `tenants`, without duplicates.
    pub tenant_ids: Vec<String>,
    /// The same tenants, for lookups.
    reach: HashSet<String>,
}

/// Operations the role matrix decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Read the catalog.
    ReadCatalog,
    /// Read a tenant's scores, diffs, overrides and snapshots.
    ReadTenantData,
    /// Set an override state on an action.
    SetOverride,
    /// Recompute a tenant's scores.
    Recompute,
    /// Push a configuration snapshot.
    IngestSnapshot,
    /// Create or update tenants.
    ManageTenants,
    /// Change the catalog.
    ManageCatalog,
    /// Set a tenant's goal.
    SetGoal,
    /// Create, change and delete alert rules; acknowledge alerts.
    ManageAlerts,
    /// Create, change and delete webhook endpoints.
    ManageWebhooks,
    /// See tenants at all (their id, name, industry and seats).
    SeeTenants,
    /// Connect a tenant's directory, or delete the connection.
    ManageConnection,
    /// Ask for a collection of a tenant's directory now.
    CollectNow,
    /// Read a tenant's directory connection and its collections.
    ReadConnections,
    /// Set and clear plans, and the score zones.
    PlanImprovements,
    /// Set the partner application and connect directories to it in bulk.
    ManagePartnerApplication,
    /// Read scoring runs: one's own over tenants in reach, or every run.
    ReadRuns,
}

/// Whether `role` may perform `op`, and whether on every tenant rather than its own.
fn grant(role: Role, op: Operation) -> Option<Reach> {
    use Operation::*;
    use Role::*;
    match (role, op) {
        (_, ReadCatalog) => Some(Reach::Own),
        (PlatformAdmin, SeeTenants) => Some(Reach::All),
        (_, SeeTenants) => Some(Reach::Own),
        (PlatformAdmin, ReadRuns) => Some(Reach::All),
        (_, ReadRuns) => Some(Reach::Own),
        (GlobalAdmin | SecurityAdmin | SecurityReader, ReadTenantData) => Some(Reach::Own),
        (
            GlobalAdmin | SecurityAdmin,
            SetOverride | Recompute | SetGoal | ManageAlerts | PlanImprovements,
        ) => Some(Reach::Own),
        (GlobalAdmin, ManageWebhooks | ManageConnection) => Some(Reach::Own),
        (GlobalAdmin | SecurityAdmin, CollectNow) => Some(Reach::Own),
        (GlobalAdmin | SecurityAdmin | SecurityReader, ReadConnections) => Some(Reach::Own),
        (PlatformAdmin, ManageConnection | CollectNow | ReadConnections) => Some(Reach::All),
        (GlobalAdmin | Collector, IngestSnapshot) => Some(Reach::Own),
        (PlatformAdmin, ReadTenantData | Recompute) => Some(Reach::All),
        (PlatformAdmin, ManageTenants | ManageCatalog | ManagePartnerApplication) => {
            Some(Reach::All)
        }
        _ => None,
    }
}

/// Which tenants a granted operation reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// The token's `tid` and `tenants`.
    Own,
    /// Every tenant.
    All,
}

impl Viewer {
    /// Builds the viewer from verified claims.
    pub fn from_claims(claims: &Claims) -> Self {
        let roles = claims
            .roles
            .iter()
            .filter_map(|r| Role::from_claim(r))
            .collect();
        let tenant_ids = claims
            .tid
            .iter()
            .chain(claims.tenants.iter().flatten())
            .cloned()
            .collect();
        Viewer {
            issuer: claims.iss.clone(),
            ..Viewer::new(claims.sub.clone(), roles, tenant_ids)
        }
    }

    /// Who spends a query-cost budget: the subject within its issuer.
    pub fn caller(&self) -> String {
        format!(
            "{}\u{1f}{}",
            self.issuer.as_deref().unwrap_or(""),
            self.subject
        )
    }

    /// A viewer reaching `tenant_ids` (duplicates dropped, first occurrence kept).
    pub fn new(subject: String, roles: BTreeSet<Role>, tenant_ids: Vec<String>) -> Self {
        let mut reach = HashSet::with_capacity(tenant_ids.len());
        let tenant_ids = tenant_ids
            .into_iter()
            .filter(|id| reach.insert(id.clone()))
            .collect();
        Viewer {
            subject,
            issuer: None,
            roles,
            tenant_ids,
            reach,
        }
    }

    /// True when the token names this tenant (a set lookup, however many it names).
    pub fn names_tenant(&self, tenant_id: &str) -> bool {
        self.reach.contains(tenant_id)
    }

    /// True when the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// True when some role of the caller reaches every tenant for `op`.
    pub fn reaches_all_tenants(&self, op: Operation) -> bool {
        self.roles.iter().any(|r| grant(*r, op) == Some(Reach::All))
    }

    /// True when the tenant exists for this caller at all (any role, any operation).
    pub fn can_see_tenant(&self, tenant_id: &str) -> bool {
        self.require_on_tenant(Operation::SeeTenants, tenant_id)
            .is_ok()
    }

    /// Refuses an operation no role of the caller grants: FORBIDDEN.
    pub fn require(&self, op: Operation) -> ApiResult<()> {
        if self.roles.iter().any(|r| grant(*r, op).is_some()) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "your roles do not allow this operation ({op:?})"
            )))
        }
    }

    /// [`Viewer::require_on_tenant`] for a record of `tenant_id` named by its own id: outside
    /// reach the record is `missing`, exactly as one that does not exist, and its tenant is
    /// never named.
    pub fn require_on_record(
        &self,
        op: Operation,
        tenant_id: &str,
        missing: impl FnOnce() -> ApiError,
    ) -> ApiResult<()> {
        match self.require_on_tenant(op, tenant_id) {
            Err(ApiError::NotFound(_)) => Err(missing()),
            other => other,
        }
    }

    /// Refuses `op` on `tenant_id`: FORBIDDEN without the role, NOT_FOUND outside reach.
    pub fn require_on_tenant(&self, op: Operation, tenant_id: &str) -> ApiResult<()> {
        self.require(op)?;
        let reached = self.roles.iter().any(|r| match grant(*r, op) {
            Some(Reach::All) => true,
            Some(Reach::Own) => self.names_tenant(tenant_id),
            None => false,
        });
        if reached {
            Ok(())
        } else {
            Err(ApiError::tenant_not_found(tenant_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(roles: &[Role], tenants: &[&str]) -> Viewer {
        Viewer::new(
            "s".into(),
            roles.iter().copied().collect(),
            tenants.iter().map(|t| t.to_string()).collect(),
        )
    }

    #[test]
    fn readers_read_only_their_own_tenants() {
        let reader = viewer(&[Role::SecurityReader], &["a"]);
        assert!(
            reader
                .require_on_tenant(Operation::ReadTenantData, "a")
                .is_ok()
        );
        assert_eq!(
            reader
                .require_on_tenant(Operation::ReadTenantData, "b")
                .unwrap_err()
                .code(),
            "NOT_FOUND"
        );
        assert_eq!(
            reader
                .require_on_tenant(Operation::SetOverride, "a")
                .unwrap_err()
                .code(),
            "FORBIDDEN"
        );
    }

    #[test]
    fn platform_admins_read_and_recompute_everywhere_but_do_not_override() {
        let admin = viewer(&[Role::PlatformAdmin], &[]);
        assert!(
            admin
                .require_on_tenant(Operation::ReadTenantData, "any")
                .is_ok()
        );
        assert!(admin.require_on_tenant(Operation::Recompute, "any").is_ok());
        assert!(
            admin
                .require_on_tenant(Operation::SetOverride, "any")
                .is_err()
        );
        assert!(
            admin
                .require_on_tenant(Operation::IngestSnapshot, "any")
                .is_err()
        );
    }

    #[test]
    fn collectors_only_ingest() {
        let collector = viewer(&[Role::Collector], &["a"]);
        assert!(
            collector
                .require_on_tenant(Operation::IngestSnapshot, "a")
                .is_ok()
        );
        assert!(
            collector
                .require_on_tenant(Operation::ReadTenantData, "a")
                .is_err()
        );
    }

    #[test]
    fn tenants_claim_extends_reach_without_duplicates() {
        let claims = Claims {
            sub: "p".into(),
            roles: vec!["SecurityReader".into(), "Wizard".into()],
            tid: Some("a".into()),
            tenants: Some(vec!["b".into(), "a".into()]),
            exp: 0,
            nbf: None,
            iat: None,
            iss: None,
            aud: None,
        };
        let v = Viewer::from_claims(&claims);
        assert_eq!(v.tenant_ids, vec!["a", "b"]);
        assert_eq!(v.roles.len(), 1);
    }

    #[test]
    fn a_token_without_known_roles_sees_no_tenant() {
        let nobody = viewer(&[], &["a"]);
        assert!(!nobody.can_see_tenant("a"));
        assert!(nobody.require(Operation::ReadCatalog).is_err());
    }
}
