//! Which directory audit events can move which facts, as the built-in catalog file declares:
//! named groups of activities (`auditActivities`) and, on each fact, the groups that change it
//! (`changedBy`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use super::built_in::{AuditActivityGroup, BuiltInCatalog};
use crate::domain::DirectoryChange;
use crate::msgraph::audit::AuditSelection;

/// The shipped declarations, indexed for matching events and facts.
#[derive(Debug, Default)]
pub struct AuditIndex {
    /// Group name → the group.
    groups: BTreeMap<String, AuditActivityGroup>,
    /// Fact path → the groups whose events can move it.
    fact_groups: HashMap<String, Vec<String>>,
}

/// The parts of an audit event the declarations match on.
pub trait AuditedEvent {
    /// The event's `category`.
    fn category(&self) -> &str;
    /// The event's `activityDisplayName`.
    fn activity(&self) -> &str;
    /// The ids of its targets of type `Group`.
    fn group_target_ids(&self) -> Vec<&str>;
}

impl AuditIndex {
    /// The declarations of the catalog this release ships.
    pub fn shipped() -> &'static AuditIndex {
        static INDEX: OnceLock<AuditIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            BuiltInCatalog::shipped()
                .map(|catalog| AuditIndex::of(&catalog))
                .unwrap_or_default()
        })
    }

    /// The declarations of `catalog`.
    pub fn of(catalog: &BuiltInCatalog) -> AuditIndex {
        AuditIndex {
            groups: catalog.audit_activities.clone(),
            fact_groups: catalog
                .facts
                .iter()
                .map(|f| (f.path.clone(), f.changed_by.clone()))
                .collect(),
        }
    }

    /// The groups whose activities the event is one of.
    fn groups_of<'a>(
        &'a self,
        event: &impl AuditedEvent,
    ) -> impl Iterator<Item = (&'a str, &'a AuditActivityGroup)> {
        let category = event.category().to_owned();
        let activity = event.activity().to_owned();
        self.groups.iter().filter_map(move |(name, group)| {
            group
                .matches
                .iter()
                .any(|m| {
                    m.category.eq_ignore_ascii_case(&category)
                        && m.activities
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case(&activity))
                })
                .then_some((name.as_str(), group))
        })
    }

    /// Whether a collection keeps the event: it is one a group declares and, for a group
    /// limited to the groups the connector reads, it targets one of `groups_read`.
    pub fn keeps(&self, event: &impl AuditedEvent, groups_read: &HashSet<String>) -> bool {
        self.groups_of(event).any(|(_, group)| {
            !group.only_groups_the_connector_reads
                || event
                    .group_target_ids()
                    .iter()
                    .any(|id| groups_read.contains(*id))
        })
    }

    /// The first group declared to change `fact_path`, with its first category and activity.
    pub fn first_activity_changing(&self, fact_path: &str) -> Option<(&str, &str, &str)> {
        let name = self.fact_groups.get(fact_path)?.first()?;
        let (name, group) = self.groups.get_key_value(name)?;
        let first = group.matches.first()?;
        Some((name, &first.category, first.activities.first()?))
    }

    /// Whether the event can move a rule that reads `fact_paths`.
    pub fn moves<'f>(
        &self,
        fact_paths: impl IntoIterator<Item = &'f str>,
        event: &impl AuditedEvent,
    ) -> bool {
        let moving: HashSet<&str> = self.groups_of(event).map(|(name, _)| name).collect();
        fact_paths.into_iter().any(|path| {
            self.fact_groups
                .get(path)
                .is_some_and(|groups| groups.iter().any(|g| moving.contains(g.as_str())))
        })
    }
}

impl AuditSelection for AuditIndex {
    fn keeps(&self, change: &DirectoryChange, groups_read: &HashSet<String>) -> bool {
        AuditIndex::keeps(self, change, groups_read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Event(&'static str, &'static str, Vec<&'static str>);

    impl AuditedEvent for Event {
        fn category(&self) -> &str {
            self.0
        }
        fn activity(&self) -> &str {
            self.1
        }
        fn group_target_ids(&self) -> Vec<&str> {
            self.2.clone()
        }
    }

    #[test]
    fn every_group_a_fact_names_is_declared_and_every_group_is_used() {
        let catalog = BuiltInCatalog::shipped().unwrap();
        let mut used = HashSet::new();
        for fact in &catalog.facts {
            for group in &fact.changed_by {
                assert!(
                    catalog.audit_activities.contains_key(group),
                    "{}: {group} is not declared",
                    fact.path
                );
                used.insert(group.clone());
            }
        }
        let declared: HashSet<String> = catalog.audit_activities.keys().cloned().collect();
        assert_eq!(used, declared, "a declared group no fact names");
    }

    #[test]
    fn a_policy_edit_moves_coverage_facts_and_not_settings_ones() {
        let index = AuditIndex::shipped();
        let edit = Event("Policy", "update conditional access policy", vec![]);
        assert!(index.keeps(&edit, &HashSet::new()));
        assert!(index.moves(["users.mfaRequired", "users.total"], &edit));
        assert!(!index.moves(["devices.userQuota"], &edit));
        let unrelated = Event("UserManagement", "Update user", vec![]);
        assert!(!index.keeps(&unrelated, &HashSet::new()));
    }

    #[test]
    fn group_membership_is_kept_only_for_groups_the_connector_reads() {
        let index = AuditIndex::shipped();
        let added = Event("GroupManagement", "Add member to group", vec!["g-policy"]);
        assert!(!index.keeps(&added, &HashSet::new()));
        let read: HashSet<String> = ["g-policy".to_owned()].into();
        assert!(index.keeps(&added, &read));
        assert!(index.moves(["admins.total"], &added));
    }
}
