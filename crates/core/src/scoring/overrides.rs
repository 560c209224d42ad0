//! The override state in force at an instant, from an append-only history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::ActionState;

/// What the engine reads of one history entry, whatever stores it.
pub trait OverrideRecord {
    /// The action the state applies to.
    fn action_id(&self) -> &str;
    /// The state set.
    fn state(&self) -> ActionState;
    /// When it was set.
    fn set_at(&self) -> DateTime<Utc>;
    /// When it stops being in force, if ever.
    fn expires_at(&self) -> Option<DateTime<Utc>>;
}

/// A stored history entry, as the services read it.
impl OverrideRecord for entity::action_override::Model {
    fn action_id(&self) -> &str {
        &self.action_id
    }

    fn state(&self) -> ActionState {
        self.state
    }

    fn set_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }
}

/// The newest entry per action among `history` entries set up to `at`, unless it had expired
/// by then (the action is back to DEFAULT); the history is oldest first, ties in insertion order.
pub fn in_force_at<R: OverrideRecord>(history: &[R], at: DateTime<Utc>) -> HashMap<&str, &R> {
    let mut current = HashMap::new();
    for entry in history.iter().take_while(|r| r.set_at() <= at) {
        current.insert(entry.action_id(), entry);
    }
    current.retain(|_, entry| entry.expires_at().is_none_or(|expiry| expiry > at));
    current
}

/// The state each action is in at `at`; actions without an entry are DEFAULT.
pub fn states_at<R: OverrideRecord>(
    history: &[R],
    at: DateTime<Utc>,
) -> HashMap<String, ActionState> {
    in_force_at(history, at)
        .into_iter()
        .map(|(id, entry)| (id.to_owned(), entry.state()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Entry(
        &'static str,
        ActionState,
        &'static str,
        Option<&'static str>,
    );

    impl OverrideRecord for Entry {
        fn action_id(&self) -> &str {
            self.0
        }
        fn state(&self) -> ActionState {
            self.1
        }
        fn set_at(&self) -> DateTime<Utc> {
            self.2.parse().unwrap()
        }
        fn expires_at(&self) -> Option<DateTime<Utc>> {
            self.3.map(|at| at.parse().unwrap())
        }
    }

    #[test]
    fn the_newest_entry_up_to_the_instant_is_in_force() {
        let history = [
            Entry("a", ActionState::Ignored, "2026-01-01T10:00:00Z", None),
            Entry("b", ActionState::Planned, "2026-01-02T10:00:00Z", None),
            Entry("a", ActionState::ThirdParty, "2026-01-03T10:00:00Z", None),
        ];
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(states_at(&history, at("2026-01-01T09:59:59Z")).is_empty());
        let jan2 = states_at(&history, at("2026-01-02T12:00:00Z"));
        assert_eq!(jan2["a"], ActionState::Ignored);
        assert_eq!(jan2["b"], ActionState::Planned);
        assert_eq!(
            states_at(&history, at("2026-01-03T10:00:00Z"))["a"],
            ActionState::ThirdParty
        );
    }

    #[test]
    fn an_expired_entry_leaves_the_action_at_default() {
        let history = [
            Entry("a", ActionState::Ignored, "2026-01-01T10:00:00Z", None),
            Entry(
                "a",
                ActionState::RiskAccepted,
                "2026-01-02T10:00:00Z",
                Some("2026-01-03T00:00:00Z"),
            ),
        ];
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            states_at(&history, at("2026-01-02T23:59:59Z"))["a"],
            ActionState::RiskAccepted
        );
        assert!(states_at(&history, at("2026-01-03T00:00:00Z")).is_empty());
    }
}
