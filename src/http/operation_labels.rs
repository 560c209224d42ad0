//! The operation-name label of the GraphQL metrics, bounded: the dashboard's operations always
//! keep their names, other names while there is room overall and for their caller.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use sha2::Digest;

/// Distinct operation names kept as labels; later ones are counted as `other`.
const MAX_OPERATION_NAMES: usize = 200;
/// New operation names one caller may add to the labels; its later new ones count as `other`,
/// so no single caller can take the label set.
const MAX_OPERATION_NAMES_PER_CALLER: usize = 20;
/// The dashboard's own operations: always counted under their names, whoever sends them.
const DASHBOARD_OPERATIONS: &str = include_str!("dashboard/operations.graphql");

/// The label of an operation name: `anonymous` without one; the name itself for the
/// dashboard's operations, and for others (letters, digits and `_` only, at most 64) while
/// fewer than 200 distinct names have been seen and `caller` has added fewer than 20 of them;
/// `other` after.
pub fn operation_label(name: Option<&str>, caller: &str) -> String {
    static SEEN: OnceLock<Mutex<OperationNames>> = OnceLock::new();
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "anonymous".into();
    };
    let valid = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return "other".into();
    }
    if is_dashboard_operation(name) {
        return name.to_owned();
    }
    let Ok(mut seen) = SEEN.get_or_init(Default::default).lock() else {
        return "other".into();
    };
    if seen.admit(name, caller) {
        name.to_owned()
    } else {
        "other".into()
    }
}

/// Whether `name` is one of the operations the dashboard sends.
fn is_dashboard_operation(name: &str) -> bool {
    static NAMES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            DASHBOARD_OPERATIONS
                .lines()
                .filter_map(|line| {
                    let mut words = line.split_whitespace();
                    let keyword = words.next()?;
                    ["query", "mutation", "subscription"]
                        .contains(&keyword)
                        .then(|| words.next())?
                        .map(|rest| rest.split(['(', '{']).next().unwrap_or(rest))
                })
                .collect()
        })
        .contains(name)
}

/// Operation names kept as labels, and how many each caller added.
#[derive(Default)]
struct OperationNames {
    kept: HashSet<String>,
    added_by: HashMap<[u8; 32], usize>,
}

impl OperationNames {
    /// Whether `name` may be a label: already one, or room left overall and for `caller`.
    fn admit(&mut self, name: &str, caller: &str) -> bool {
        if self.kept.contains(name) {
            return true;
        }
        if self.kept.len() >= MAX_OPERATION_NAMES {
            return false;
        }
        let key: [u8; 32] = sha2::Sha256::digest(caller.as_bytes()).into();
        let added = self.added_by.entry(key).or_default();
        if *added >= MAX_OPERATION_NAMES_PER_CALLER {
            return false;
        }
        *added += 1;
        self.kept.insert(name.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        assert_eq!(operation_label(None, "a"), "anonymous");
        assert_eq!(operation_label(Some(""), "a"), "anonymous");
        assert_eq!(operation_label(Some("Dashboard"), "a"), "Dashboard");
        assert_eq!(operation_label(Some("drop table; --"), "a"), "other");
        assert_eq!(operation_label(Some(&"x".repeat(65)), "a"), "other");
    }

    #[test]
    fn one_caller_cannot_take_the_label_set_and_the_dashboard_keeps_its_names() {
        let mut names = OperationNames::default();
        let flooded = (0..MAX_OPERATION_NAMES)
            .filter(|n| names.admit(&format!("Flood{n}"), "collector"))
            .count();
        assert_eq!(flooded, MAX_OPERATION_NAMES_PER_CALLER);
        assert!(names.admit("PartnerSync", "partner"));
        assert!(names.admit("Flood0", "partner"), "a kept name stays kept");
        for name in [
            "DashboardTenant",
            "DashboardViewer",
            "DashboardSetActionPlan",
        ] {
            assert!(is_dashboard_operation(name), "{name}");
        }
        assert!(!is_dashboard_operation("Dashboard"));
        assert_eq!(
            operation_label(Some("DashboardTenant"), "anyone"),
            "DashboardTenant"
        );
    }
}
