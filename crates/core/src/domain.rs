//! The vocabulary shared by every layer: categories, states, statuses, rule kinds, roles.
//!
//! The enums stored in columns live with the entities (`entity::enums`), typed at the storage
//! edge; they are re-exported here so every layer names them the same way.

use async_graphql::Enum;

pub use entity::enums::{
    ActionCategory, ActionState, ActionStatus, ActionTier, ActionType, AlertKind, CollectionStatus,
    ComparisonBasis, CredentialKind, DeliveryStatus, Level, License, ScoringRunKind,
    ScoringRunStatus,
};

/// The kinds of scoring rule.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleKind {
    /// Full points when a fact is `true`.
    Boolean,
    /// Partial credit: numerator / denominator of the maximum.
    Ratio,
    /// Full points when a number lies within inclusive bounds.
    Range,
}
impl RuleKind {
    /// The kind's name, as in the API and the stored rule.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Boolean => "BOOLEAN",
            RuleKind::Ratio => "RATIO",
            RuleKind::Range => "RANGE",
        }
    }
}

/// Why an action's score differs between two dates.
#[derive(
    Enum,
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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

/// The first character of `text` that no input may hold: NUL and the other C0 control
/// characters but tab, line feed and carriage return, and DEL.
pub fn forbidden_character(text: &str) -> Option<char> {
    text.chars()
        .find(|c| (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || *c == '\u{7f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_graphql_names() {
        use sea_orm::ActiveEnum;
        for s in ActionStatus::ALL {
            assert_eq!(s.to_value(), s.as_str());
            assert_eq!(
                ActionStatus::try_from_value(&s.as_str().to_owned()).ok(),
                Some(*s)
            );
        }
        assert_eq!(ActionState::ThirdParty.as_str(), "THIRD_PARTY");
        assert!(ActionCategory::try_from_value(&"identity".to_owned()).is_err());
    }

    #[test]
    fn control_characters_but_tab_and_line_breaks_are_forbidden() {
        assert_eq!(
            forbidden_character("plain text, with\ttab\nand lines\r\n"),
            None
        );
        assert_eq!(forbidden_character("a\0b"), Some('\0'));
        assert_eq!(forbidden_character("a\u{4}b"), Some('\u{4}'));
        assert_eq!(forbidden_character("del\u{7f}"), Some('\u{7f}'));
        assert_eq!(forbidden_character("ünïcødé ✓"), None);
    }

    #[test]
    fn role_claims_are_case_sensitive() {
        assert_eq!(Role::from_claim("GlobalAdmin"), Some(Role::GlobalAdmin));
        assert_eq!(Role::from_claim("globaladmin"), None);
        assert_eq!(Role::from_claim("Root"), None);
    }
}

/// One audit event as kept and shown (`DirectoryChange`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryChange {
    /// The event's id in the audit log.
    pub id: String,
    /// When it happened (`activityDateTime`).
    pub at: chrono::DateTime<chrono::Utc>,
    /// `activityDisplayName`.
    pub activity: String,
    /// `category`.
    pub category: String,
    /// `result`.
    pub result: Option<String>,
    /// The user's principal name or the app's display name.
    pub initiated_by: Option<String>,
    /// What it changed.
    pub targets: Vec<ChangeTarget>,
}

/// One object an event changed (`DirectoryChangeTarget`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeTarget {
    /// `type`: Policy, User, Group, Role, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The object's id.
    pub id: Option<String>,
    /// Its display name.
    pub display_name: Option<String>,
    /// The names of the properties the event changed.
    pub modified_properties: Vec<String>,
}
