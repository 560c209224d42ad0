//! The vocabulary shared by every layer: categories, states, statuses, rule kinds, roles.
//!
//! Each enum is stored in the database under its GraphQL name (`THIRD_PARTY`), so a row reads
//! the same in SQL as in the API.

use async_graphql::Enum;

/// Defines `as_str` and `parse` between an enum and its stored SCREAMING_CASE name.
macro_rules! stored_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// Reads a stored name back; `None` for anything else.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

/// The five areas an improvement action belongs to.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActionCategory {
    /// Identity and access.
    Identity,
    /// Data protection.
    Data,
    /// Devices.
    Device,
    /// Applications.
    Apps,
    /// Infrastructure.
    Infrastructure,
}
stored_names!(ActionCategory {
    Identity => "IDENTITY",
    Data => "DATA",
    Device => "DEVICE",
    Apps => "APPS",
    Infrastructure => "INFRASTRUCTURE",
});

/// A tenant's chosen state on one action.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ActionState {
    /// No override: the rule decides.
    #[default]
    Default,
    /// The action does not apply; it counts for nothing.
    Ignored,
    /// Resolved through a third-party product or alternate mitigation: full points.
    ThirdParty,
    /// The risk is accepted: no points, the action stays in the maximum.
    RiskAccepted,
    /// Planned; the rule still decides, and `plannedScore` counts it as done.
    Planned,
}
stored_names!(ActionState {
    Default => "DEFAULT",
    Ignored => "IGNORED",
    ThirdParty => "THIRD_PARTY",
    RiskAccepted => "RISK_ACCEPTED",
    Planned => "PLANNED",
});

/// How an action scored on one date.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    /// Full points from the rule.
    Completed,
    /// Some but not all points from the rule.
    Partial,
    /// No points from the rule.
    NotCompleted,
    /// The rule does not apply (e.g. a ratio over zero users): 0 of 0.
    NotApplicable,
    /// The facts the rule needs are missing or malformed: 0 of 0.
    NoData,
    /// "[Not Scored]" catalog entry: 0 of 0.
    NotScored,
    /// Deprecated catalog entry: 0 of 0.
    Deprecated,
    /// Ignored by the tenant: 0 of 0.
    Ignored,
    /// Resolved through a third party: full points.
    ThirdParty,
    /// Risk accepted: 0 of max.
    RiskAccepted,
}
stored_names!(ActionStatus {
    Completed => "COMPLETED",
    Partial => "PARTIAL",
    NotCompleted => "NOT_COMPLETED",
    NotApplicable => "NOT_APPLICABLE",
    NoData => "NO_DATA",
    NotScored => "NOT_SCORED",
    Deprecated => "DEPRECATED",
    Ignored => "IGNORED",
    ThirdParty => "THIRD_PARTY",
    RiskAccepted => "RISK_ACCEPTED",
});

/// The kinds of scoring rule.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleKind {
    /// Full points when a fact is `true`.
    Boolean,
    /// Partial credit: numerator / denominator of the maximum.
    Ratio,
    /// Full points when a number lies within inclusive bounds.
    Range,
}
stored_names!(RuleKind {
    Boolean => "BOOLEAN",
    Ratio => "RATIO",
    Range => "RANGE",
});

/// A three-step scale for user impact and implementation cost.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    /// Low.
    Low,
    /// Moderate.
    Moderate,
    /// High.
    High,
}
stored_names!(Level {
    Low => "LOW",
    Moderate => "MODERATE",
    High => "HIGH",
});

/// How tenants are grouped for comparison.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComparisonBasis {
    /// Every scored tenant.
    AllTenants,
    /// Tenants in the same seat-count bucket.
    SeatSize,
    /// Tenants with the same industry.
    Industry,
}
stored_names!(ComparisonBasis {
    AllTenants => "ALL_TENANTS",
    SeatSize => "SEAT_SIZE",
    Industry => "INDUSTRY",
});

/// Why an action's score differs between two dates.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeReason {
    /// The facts moved the rule's result.
    ConfigurationChanged,
    /// The override state changed.
    OverrideChanged,
    /// The catalog entry's max or scored flag changed.
    CatalogChanged,
    /// The action was not scored on the earlier date.
    ActionAdded,
    /// The action was not scored on the later date.
    ActionRemoved,
}

/// What a token holder may be.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Administers their tenants: reads, overrides, recomputes, ingests.
    GlobalAdmin,
    /// Reads, overrides and recomputes their tenants.
    SecurityAdmin,
    /// Reads their tenants.
    SecurityReader,
    /// Pushes snapshots for their tenants.
    Collector,
    /// Operates the platform: tenants, catalog, recompute everywhere, reads all tenants.
    PlatformAdmin,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: &'static [Role] = &[
        Role::GlobalAdmin,
        Role::SecurityAdmin,
        Role::SecurityReader,
        Role::Collector,
        Role::PlatformAdmin,
    ];

    /// The role's name in token claims (case-sensitive).
    pub fn claim_name(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "GlobalAdmin",
            Role::SecurityAdmin => "SecurityAdmin",
            Role::SecurityReader => "SecurityReader",
            Role::Collector => "Collector",
            Role::PlatformAdmin => "PlatformAdmin",
        }
    }

    /// Reads a claim name; unknown or differently-cased names grant nothing.
    pub fn from_claim(name: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.claim_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for s in ActionStatus::ALL {
            assert_eq!(ActionStatus::parse(s.as_str()), Some(*s));
        }
        for s in ActionState::ALL {
            assert_eq!(ActionState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(ActionCategory::parse("identity"), None);
    }

    #[test]
    fn role_claims_are_case_sensitive() {
        assert_eq!(Role::from_claim("GlobalAdmin"), Some(Role::GlobalAdmin));
        assert_eq!(Role::from_claim("globaladmin"), None);
        assert_eq!(Role::from_claim("Root"), None);
    }
}
