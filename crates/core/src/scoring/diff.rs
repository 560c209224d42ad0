//! Why a score moved: comparing two days' stored action scores.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::action::Progress;
use super::totals::CategoryTotal;
use crate::domain::{ActionCategory, ActionState, ActionStatus, ChangeReason};

/// What the diff needs of one stored action score.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoredAction {
    /// Catalog id.
    pub action_id: String,
    /// Points earned.
    pub score: f64,
    /// Points counted in the maximum.
    pub max_score: f64,
    /// Status that day.
    pub status: ActionStatus,
    /// Override state that day.
    pub state: ActionState,
    /// RATIO progress that day.
    pub progress: Option<Progress>,
    /// The catalog's maxScore that day.
    pub catalog_max_score: f64,
    /// The catalog's scored flag that day.
    pub catalog_scored: bool,
    /// The catalog's deprecated flag that day.
    pub catalog_deprecated: bool,
}

/// One action whose score, max, status, state or progress differs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionChange {
    /// Catalog id.
    pub action_id: String,
    /// Every reason that applies, in enum order.
    pub reasons: Vec<ChangeReason>,
    /// `after.score - before.score`, a missing side counting 0.
    pub score_delta: f64,
    /// The earlier day's row, if the action was scored then.
    pub before: Option<ScoredAction>,
    /// The later day's row, if the action was scored then.
    pub after: Option<ScoredAction>,
    /// The directory audit events between the two days' snapshots that can move the action,
    /// oldest first; none until they were looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_changes: Option<Vec<crate::domain::DirectoryChange>>,
}

impl ActionChange {
    /// True when the action lost points.
    pub fn is_regression(&self) -> bool {
        self.score_delta < 0.0
    }
}

/// Every action that differs between two days, largest absolute score delta first.
pub fn diff_actions(before: &[ScoredAction], after: &[ScoredAction]) -> Vec<ActionChange> {
    let mut pairs: BTreeMap<&str, (Option<&ScoredAction>, Option<&ScoredAction>)> = BTreeMap::new();
    for row in before {
        pairs.entry(&row.action_id).or_default().0 = Some(row);
    }
    for row in after {
        pairs.entry(&row.action_id).or_default().1 = Some(row);
    }
    let mut changes: Vec<ActionChange> = pairs
        .into_iter()
        .filter_map(|(id, (b, a))| {
            let reasons = reasons_for(b, a)?;
            Some(ActionChange {
                action_id: id.to_owned(),
                reasons,
                score_delta: a.map_or(0.0, |r| r.score) - b.map_or(0.0, |r| r.score),
                before: b.cloned(),
                after: a.cloned(),
                directory_changes: None,
            })
        })
        .collect();
    changes.sort_by(|x, y| {
        y.score_delta
            .abs()
            .total_cmp(&x.score_delta.abs())
            .then_with(|| x.action_id.cmp(&y.action_id))
    });
    changes
}

/// What trends read of one action's result on one day: the diff's [`ScoredAction`] and the
/// stored, packed result alike, so a stored day is trended without a copy.
pub trait ActionScoreView {
    /// Catalog id.
    fn action_id(&self) -> &str;
    /// Points earned.
    fn score(&self) -> f64;
    /// Points counted in the maximum.
    fn max_score(&self) -> f64;
    /// Status that day.
    fn status(&self) -> ActionStatus;
}

/// Implements [`ActionScoreView`] for types carrying the four fields under their names.
macro_rules! action_score_view {
    ($($kind:ty),+) => {$(
        impl ActionScoreView for $kind {
            fn action_id(&self) -> &str {
                &self.action_id
            }
            fn score(&self) -> f64 {
                self.score
            }
            fn max_score(&self) -> f64 {
                self.max_score
            }
            fn status(&self) -> ActionStatus {
                self.status
            }
        }
    )+};
}

action_score_view!(ScoredAction, entity::action_score_set::ActionResult);

/// The non-zero score deltas between two days, one per action whose score moved (a missing
/// side counting 0): the `score_delta`s of [`diff_actions`] that are not 0, in action id
/// order, without building the changes. Stored days are in action id order already, so this
/// is one merge of the two.
pub fn score_deltas<A: ActionScoreView>(before: &[A], after: &[A]) -> Vec<f64> {
    let (before, after) = (by_action_id(before), by_action_id(after));
    let mut deltas = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        let order = match (before.get(i), after.get(j)) {
            (Some(b), Some(a)) => b.action_id().cmp(a.action_id()),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        let delta = match order {
            Ordering::Less => {
                i += 1;
                -before[i - 1].score()
            }
            Ordering::Greater => {
                j += 1;
                after[j - 1].score()
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
                after[j - 1].score() - before[i - 1].score()
            }
        };
        if delta != 0.0 {
            deltas.push(delta);
        }
    }
    deltas
}

/// `rows` in action id order (sorted only when they are not already).
fn by_action_id<A: ActionScoreView>(rows: &[A]) -> Vec<&A> {
    let mut sorted: Vec<&A> = rows.iter().collect();
    if !sorted.is_sorted_by(|x, y| x.action_id() <= y.action_id()) {
        sorted.sort_by(|x, y| x.action_id().cmp(y.action_id()));
    }
    sorted
}

/// The reasons for a difference, or `None` when nothing visible differs.
fn reasons_for(
    before: Option<&ScoredAction>,
    after: Option<&ScoredAction>,
) -> Option<Vec<ChangeReason>> {
    let (b, a) = match (before, after) {
        (None, None) => return None,
        (None, Some(_)) => return Some(vec![ChangeReason::ActionAdded]),
        (Some(_), None) => return Some(vec![ChangeReason::ActionRemoved]),
        (Some(b), Some(a)) => (b, a),
    };
    let differs = b.score != a.score
        || b.max_score != a.max_score
        || b.status != a.status
        || b.state != a.state
        || b.progress != a.progress;
    if !differs {
        return None;
    }
    let mut reasons = Vec::new();
    let rule_moved = b.progress != a.progress
        || matches!((rule_share(b), rule_share(a)), (Some(x), Some(y)) if x != y);
    if rule_moved {
        reasons.push(ChangeReason::ConfigurationChanged);
    }
    if b.state != a.state {
        reasons.push(ChangeReason::OverrideChanged);
    }
    if b.catalog_max_score != a.catalog_max_score
        || b.catalog_scored != a.catalog_scored
        || b.catalog_deprecated != a.catalog_deprecated
    {
        reasons.push(ChangeReason::CatalogChanged);
    }
    if reasons.is_empty() {
        // Neither the override nor the catalog moved, so the facts did.
        reasons.push(ChangeReason::ConfigurationChanged);
    }
    Some(reasons)
}

/// How each category moved between two days (after minus before), every category listed;
/// a category missing on one side counts 0 there.
pub fn category_deltas(before: &[CategoryTotal], after: &[CategoryTotal]) -> Vec<CategoryTotal> {
    let pick = |list: &[CategoryTotal], category| {
        list.iter()
            .find(|c| c.category == category)
            .map_or((0.0, 0.0), |c| (c.score, c.max_score))
    };
    ActionCategory::ALL
        .iter()
        .map(|&category| {
            let ((score_before, max_before), (score_after, max_after)) =
                (pick(before, category), pick(after, category));
            CategoryTotal {
                category,
                score: score_after - score_before,
                max_score: max_after - max_before,
            }
        })
        .collect()
}

/// The rule's own verdict when the rule decided the status: status and share of the maximum.
fn rule_share(row: &ScoredAction) -> Option<(ActionStatus, f64)> {
    match row.status {
        ActionStatus::Completed
        | ActionStatus::Partial
        | ActionStatus::NotCompleted
        | ActionStatus::NotApplicable
        | ActionStatus::NoData => {
            let share = if row.max_score > 0.0 {
                row.score / row.max_score
            } else {
                0.0
            };
            Some((row.status, share))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        id: &str,
        score: f64,
        max: f64,
        status: ActionStatus,
        state: ActionState,
    ) -> ScoredAction {
        ScoredAction {
            action_id: id.into(),
            score,
            max_score: max,
            status,
            state,
            progress: None,
            catalog_max_score: max,
            catalog_scored: true,
            catalog_deprecated: false,
        }
    }

    #[test]
    fn unchanged_actions_are_left_out() {
        let same = row("a", 1.0, 1.0, ActionStatus::Completed, ActionState::Default);
        assert!(diff_actions(std::slice::from_ref(&same), std::slice::from_ref(&same)).is_empty());
    }

    #[test]
    fn facts_that_move_the_rule_are_configuration_changes() {
        let mut b = row("mfa", 4.5, 9.0, ActionStatus::Partial, ActionState::Default);
        b.progress = Some(Progress {
            current: 60.0,
            total: 120.0,
        });
        let mut a = row(
            "mfa",
            6.75,
            9.0,
            ActionStatus::Partial,
            ActionState::Default,
        );
        a.progress = Some(Progress {
            current: 90.0,
            total: 120.0,
        });
        let changes = diff_actions(&[b], &[a]);
        assert_eq!(changes[0].reasons, vec![ChangeReason::ConfigurationChanged]);
        assert_eq!(changes[0].score_delta, 2.25);
        assert!(!changes[0].is_regression());
    }

    #[test]
    fn override_and_catalog_changes_are_named_and_sorted_by_size() {
        let before = vec![
            row(
                "small",
                1.0,
                1.0,
                ActionStatus::Completed,
                ActionState::Default,
            ),
            row(
                "big",
                8.0,
                8.0,
                ActionStatus::Completed,
                ActionState::Default,
            ),
        ];
        let mut small_after = row(
            "small",
            2.0,
            2.0,
            ActionStatus::Completed,
            ActionState::Default,
        );
        small_after.catalog_max_score = 2.0;
        let after = vec![
            small_after,
            row(
                "big",
                0.0,
                8.0,
                ActionStatus::RiskAccepted,
                ActionState::RiskAccepted,
            ),
        ];
        let changes = diff_actions(&before, &after);
        assert_eq!(changes[0].action_id, "big");
        assert_eq!(changes[0].reasons, vec![ChangeReason::OverrideChanged]);
        assert!(changes[0].is_regression());
        assert_eq!(changes[1].reasons, vec![ChangeReason::CatalogChanged]);
    }

    #[test]
    fn category_deltas_list_every_category() {
        let total = |category, score, max_score| CategoryTotal {
            category,
            score,
            max_score,
        };
        let deltas = category_deltas(
            &[total(ActionCategory::Identity, 10.0, 20.0)],
            &[
                total(ActionCategory::Identity, 12.5, 20.0),
                total(ActionCategory::Apps, 1.0, 4.0),
            ],
        );
        assert_eq!(deltas.len(), ActionCategory::ALL.len());
        assert_eq!(deltas[0], total(ActionCategory::Identity, 2.5, 0.0));
        assert_eq!(deltas[3], total(ActionCategory::Apps, 1.0, 4.0));
    }

    #[test]
    fn added_and_removed_actions_are_reported() {
        let old = row(
            "old",
            1.0,
            1.0,
            ActionStatus::Completed,
            ActionState::Default,
        );
        let new = row(
            "new",
            0.0,
            0.0,
            ActionStatus::NotScored,
            ActionState::Default,
        );
        let changes = diff_actions(&[old], &[new]);
        assert_eq!(changes[0].action_id, "old");
        assert_eq!(changes[0].reasons, vec![ChangeReason::ActionRemoved]);
        assert_eq!(changes[0].score_delta, -1.0);
        assert_eq!(changes[1].reasons, vec![ChangeReason::ActionAdded]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Up to six actions of a day, each scored 0 to 3 or missing.
        fn any_day() -> impl Strategy<Value = Vec<ScoredAction>> {
            prop::collection::vec(prop::option::of(0u8..4), 6).prop_map(|scores| {
                scores
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, score)| {
                        let id = ["a", "b", "c", "d", "e", "f"][i];
                        score.map(|s| {
                            let status = ActionStatus::Partial;
                            row(id, f64::from(s), 3.0, status, ActionState::Default)
                        })
                    })
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn score_deltas_are_the_diffs_moved_scores(before in any_day(), after in any_day()) {
                let mut changes = diff_actions(&before, &after);
                changes.sort_by(|x, y| x.action_id.cmp(&y.action_id));
                let moved: Vec<f64> = changes
                    .iter()
                    .map(|c| c.score_delta)
                    .filter(|d| *d != 0.0)
                    .collect();
                prop_assert_eq!(score_deltas(&before, &after), moved);
            }
        }
    }
}
