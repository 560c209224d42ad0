//! Framework scores: what a day's action scores mean for a compliance framework (CIS, NIST
//! 800-53, or any name a custom action maps to), summed from the day's action results.

use std::collections::BTreeMap;

use async_graphql::{InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use crate::domain::ActionStatus;

/// The controls of one framework an action serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SimpleObject, InputObject)]
#[serde(deny_unknown_fields)]
#[graphql(name = "ComplianceMapping", input_name = "ComplianceMappingInput")]
pub struct ComplianceMapping {
    /// The framework's name, e.g. `CIS Microsoft 365 Foundations Benchmark v7.0.0`.
    pub framework: String,
    /// Its control or recommendation ids, e.g. `5.2.2.1` or `IA-2(1)`.
    pub controls: Vec<String>,
}

/// One action's score on a day, as framework totals read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredAction {
    /// Points earned.
    pub score: f64,
    /// Points it counted for that day.
    pub max_score: f64,
    /// Why.
    pub status: ActionStatus,
}

/// One framework's totals on one day.
#[derive(Clone, Debug, PartialEq, SimpleObject)]
pub struct FrameworkScore {
    /// The framework's name.
    pub framework: String,
    /// Sum of the scores of the actions mapped to it.
    pub score: f64,
    /// Sum of their maxima.
    pub max_score: f64,
    /// `100 × score / maxScore`, 0 when `maxScore` is 0.
    pub percentage: f64,
    /// Mapped actions with a maximum above 0 that day that are COMPLETED or THIRD_PARTY.
    pub actions_completed: i32,
    /// Mapped actions with a maximum above 0 that day.
    pub actions_total: i32,
}

/// Every framework the given actions map to, with its totals, sorted by name. `mappings`
/// yields each action's score with the frameworks it maps to; an action mapped to a framework
/// twice counts once.
pub fn framework_scores<'a>(
    actions: impl IntoIterator<Item = (ScoredAction, &'a [ComplianceMapping])>,
) -> Vec<FrameworkScore> {
    let mut by_framework: BTreeMap<&str, FrameworkScore> = BTreeMap::new();
    for (action, mappings) in actions {
        let mut frameworks: Vec<&str> = mappings.iter().map(|m| m.framework.as_str()).collect();
        frameworks.sort_unstable();
        frameworks.dedup();
        for framework in frameworks {
            let total = by_framework
                .entry(framework)
                .or_insert_with(|| FrameworkScore {
                    framework: framework.to_owned(),
                    score: 0.0,
                    max_score: 0.0,
                    percentage: 0.0,
                    actions_completed: 0,
                    actions_total: 0,
                });
            total.score += action.score;
            total.max_score += action.max_score;
            if action.max_score > 0.0 {
                total.actions_total += 1;
                if matches!(
                    action.status,
                    ActionStatus::Completed | ActionStatus::ThirdParty
                ) {
                    total.actions_completed += 1;
                }
            }
        }
    }
    by_framework
        .into_values()
        .map(|mut total| {
            total.percentage = super::percentage(total.score, total.max_score);
            total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(framework: &str) -> ComplianceMapping {
        ComplianceMapping {
            framework: framework.into(),
            controls: vec!["1".into()],
        }
    }

    fn scored(score: f64, max_score: f64, status: ActionStatus) -> ScoredAction {
        ScoredAction {
            score,
            max_score,
            status,
        }
    }

    #[test]
    fn sums_scores_and_counts_only_actions_with_a_maximum() {
        let cis = [mapping("CIS"), mapping("NIST")];
        let nist = [mapping("NIST")];
        let twice = [mapping("CIS"), mapping("CIS")];
        let none: [ComplianceMapping; 0] = [];
        let scores = framework_scores([
            (scored(10.0, 10.0, ActionStatus::Completed), &cis[..]),
            (scored(4.5, 9.0, ActionStatus::Partial), &cis[..]),
            (scored(8.0, 8.0, ActionStatus::ThirdParty), &nist[..]),
            (scored(0.0, 0.0, ActionStatus::NoData), &nist[..]),
            (scored(0.0, 0.0, ActionStatus::Ignored), &twice[..]),
            (scored(0.0, 7.0, ActionStatus::RiskAccepted), &twice[..]),
            (scored(3.0, 3.0, ActionStatus::Completed), &none[..]),
        ]);
        assert_eq!(
            scores,
            vec![
                FrameworkScore {
                    framework: "CIS".into(),
                    score: 14.5,
                    max_score: 26.0,
                    percentage: 100.0 * 14.5 / 26.0,
                    actions_completed: 1,
                    actions_total: 3,
                },
                FrameworkScore {
                    framework: "NIST".into(),
                    score: 22.5,
                    max_score: 27.0,
                    percentage: 100.0 * 22.5 / 27.0,
                    actions_completed: 2,
                    actions_total: 3,
                },
            ]
        );
    }

    #[test]
    fn a_framework_with_nothing_to_score_reads_zero_percent() {
        let nist = [mapping("NIST")];
        let scores = framework_scores([(scored(0.0, 0.0, ActionStatus::NoData), &nist[..])]);
        assert_eq!(scores[0].percentage, 0.0);
        assert_eq!(scores[0].actions_total, 0);
    }
}
