//! Enums stored in columns: each is read and written by sea-orm under its GraphQL name
//! (`THIRD_PARTY`), so a row reads the same in SQL as in the API, and an unknown stored value
//! is a loud error rather than a silent default.

use sea_orm::entity::prelude::*;

/// Declares a stored enum: sea-orm's `ActiveEnum`, async-graphql's `Enum` and serde, all under
/// one list of names, plus `ALL` and `as_str`.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:tt, )+ }
    ) => {
        $(#[$meta])*
        #[derive(
            Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum,
            async_graphql::Enum, serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and shown in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }
        }
    };
}

stored_enum! {
    /// The five areas an improvement action belongs to.
    ActionCategory {
        /// Identity and access.
        Identity = "IDENTITY",
        /// Data protection.
        Data = "DATA",
        /// Devices.
        Device = "DEVICE",
        /// Applications.
        Apps = "APPS",
        /// Infrastructure.
        Infrastructure = "INFRASTRUCTURE",
    }
}

stored_enum! {
    /// A tenant's chosen state on one action.
    #[derive(Default)]
    ActionState {
        /// No override: the rule decides.
        #[default]
        Default = "DEFAULT",
        /// The action does not apply; it counts for nothing.
        Ignored = "IGNORED",
        /// Resolved through a third-party product or alternate mitigation: full points.
        ThirdParty = "THIRD_PARTY",
        /// The risk is accepted: no points, the action stays in the maximum.
        RiskAccepted = "RISK_ACCEPTED",
        /// Planned; the rule still decides, and `plannedScore` counts it as done.
        Planned = "PLANNED",
    }
}

stored_enum! {
    /// How an action scored on one date.
    ActionStatus {
        /// Full points from the rule.
        Completed = "COMPLETED",
        /// Some but not all points from the rule.
        Partial = "PARTIAL",
        /// No points from the rule.
        NotCompleted = "NOT_COMPLETED",
        /// The rule does not apply (e.g. a ratio over zero users): 0 of 0.
        NotApplicable = "NOT_APPLICABLE",
        /// The facts the rule needs are missing or malformed: 0 of 0.
        NoData = "NO_DATA",
        /// "[Not Scored]" catalog entry: 0 of 0.
        NotScored = "NOT_SCORED",
        /// Deprecated catalog entry: 0 of 0.
        Deprecated = "DEPRECATED",
        /// Ignored by the tenant: 0 of 0.
        Ignored = "IGNORED",
        /// Resolved through a third party: full points.
        ThirdParty = "THIRD_PARTY",
        /// Risk accepted: 0 of max.
        RiskAccepted = "RISK_ACCEPTED",
        /// The tenant lacks a licence the action requires: 0 of 0.
        NotLicensed = "NOT_LICENSED",
    }
}

stored_enum! {
    /// How fundamental an action is, as Microsoft's control profiles rank it.
    ActionTier {
        /// A baseline every tenant should have.
        Core = "CORE",
        /// A further layer once the core is in place.
        DefenseInDepth = "DEFENSE_IN_DEPTH",
        /// For mature or high-risk tenants.
        Advanced = "ADVANCED",
    }
}

stored_enum! {
    /// What kind of work an action asks for.
    ActionType {
        /// A configuration change.
        Config = "CONFIG",
        /// A recurring review.
        Review = "REVIEW",
        /// A change in how people work.
        Behavior = "BEHAVIOR",
    }
}

stored_enum! {
    /// A three-step scale for user impact and implementation cost.
    Level {
        /// Low.
        Low = "LOW",
        /// Moderate.
        Moderate = "MODERATE",
        /// High.
        High = "HIGH",
    }
}

stored_enum! {
    /// How tenants are grouped for comparison.
    ComparisonBasis {
        /// Every scored tenant.
        AllTenants = "ALL_TENANTS",
        /// Tenants in the same seat-count bucket.
        SeatSize = "SEAT_SIZE",
        /// Tenants with the same industry.
        Industry = "INDUSTRY",
    }
}

stored_enum! {
    /// What started a scoring run.
    ScoringRunKind {
        /// The close of a date, planned by the scheduler.
        Daily = "DAILY",
        /// An explicit `recomputeScores`.
        Recompute = "RECOMPUTE",
    }
}

stored_enum! {
    /// Where a scoring run stands.
    ScoringRunStatus {
        /// Planned; no task has started.
        Queued = "QUEUED",
        /// Tasks are being worked on.
        Running = "RUNNING",
        /// Every tenant-day was scored.
        Succeeded = "SUCCEEDED",
        /// Finished with some tenant-days failed after their last try.
        Partial = "PARTIAL",
        /// Finished without scoring any tenant-day it planned.
        Failed = "FAILED",
    }
}

stored_enum! {
    /// What a scoring task does.
    ScoringTaskKind {
        /// Scores a batch of tenants over the run's dates.
        Tenants = "TENANTS",
        /// Computes the run's dates' comparisons, after every tenant task.
        Comparisons = "COMPARISONS",
    }
}

stored_enum! {
    /// Where a scoring task stands.
    ScoringTaskStatus {
        /// Waiting to be claimed (from `not_before`).
        Pending = "PENDING",
        /// Claimed by a replica until its lease ends.
        Running = "RUNNING",
        /// Finished (its failed tenants are counted, not retried).
        Done = "DONE",
        /// Given up after its last attempt.
        Failed = "FAILED",
    }
}

stored_enum! {
    /// What an alert rule watches.
    AlertKind {
        /// The day's percentage is under the threshold.
        BelowPercentage = "BELOW_PERCENTAGE",
        /// The percentage fell by at least the threshold against `windowDays` days before.
        Drop = "DROP",
        /// Some action lost points against the previous day.
        Regression = "REGRESSION",
        /// A plan's due date has passed and its action is not done (once per plan).
        PlanOverdue = "PLAN_OVERDUE",
    }
}

stored_enum! {
    /// Where a webhook delivery stands.
    DeliveryStatus {
        /// Not delivered yet; retried on the schedule.
        Pending = "PENDING",
        /// An attempt got a 2xx answer.
        Succeeded = "SUCCEEDED",
        /// Every attempt of the schedule failed.
        Failed = "FAILED",
    }
}

stored_enum! {
    /// What kind of credential a Graph connection holds.
    CredentialKind {
        /// A client secret.
        Secret = "SECRET",
        /// A certificate and its private key (a signed client assertion).
        Certificate = "CERTIFICATE",
    }
}

stored_enum! {
    /// Where a directory connection stands, after its last collection.
    ConnectionStatus {
        /// Connected; nothing collected yet.
        NeverCollected = "NEVER_COLLECTED",
        /// The last collection read every endpoint.
        Ok = "OK",
        /// The last collection stored a snapshot without some endpoints' facts.
        Partial = "PARTIAL",
        /// The last collection stored nothing.
        Failed = "FAILED",
        /// Not collected: turned off.
        Disabled = "DISABLED",
        /// Signs in as the partner application, and the directory's admin has not consented
        /// to it (the token endpoint answered AADSTS700016): send them the consent URL.
        ConsentRequired = "CONSENT_REQUIRED",
    }
}

stored_enum! {
    /// Where a collection stands.
    CollectionStatus {
        /// Waiting for a replica.
        Queued = "QUEUED",
        /// A replica is reading the directory.
        Running = "RUNNING",
        /// Every endpoint was read and the snapshot stored.
        Succeeded = "SUCCEEDED",
        /// The snapshot was stored without the facts of endpoints that failed.
        Partial = "PARTIAL",
        /// Nothing was stored (a refused credential, an unreachable directory).
        Failed = "FAILED",
    }
}

stored_enum! {
    /// A Microsoft Entra licence an action's feature needs.
    License {
        /// Microsoft Entra ID P1 (Conditional Access, group-based features).
        EntraP1 = "ENTRA_P1",
        /// Microsoft Entra ID P2 (ID Protection risk policies, Privileged Identity Management).
        EntraP2 = "ENTRA_P2",
        /// Microsoft Entra ID Governance (lifecycle workflows, advanced access reviews).
        EntraIdGovernance = "ENTRA_ID_GOVERNANCE",
    }
}

impl License {
    /// The fact that says whether the tenant holds the licence (`licenses.entraP2`).
    pub fn fact_path(self) -> &'static str {
        match self {
            License::EntraP1 => "licenses.entraP1",
            License::EntraP2 => "licenses.entraP2",
            License::EntraIdGovernance => "licenses.entraIdGovernance",
        }
    }
}
