//! A day's totals: the sums of its action scores, overall and per category.

use std::collections::HashMap;

use serde_json::Value;

use super::action::{ActionDefinition, ActionResult, percentage, score_action};
use crate::domain::{ActionCategory, ActionState, ActionStatus, License};

/// One day's action results (in catalog order) and their totals.
#[derive(Clone, Debug, PartialEq)]
pub struct DayScore {
    /// `results[i]` scores `catalog[i]`.
    pub results: Vec<ActionResult>,
    /// Sums of the results.
    pub totals: DayTotals,
}

/// Scores every catalog action against one snapshot's facts and the states in force.
pub fn score_day(
    catalog: &[ActionDefinition],
    facts: &Value,
    states: &HashMap<String, ActionState>,
) -> DayScore {
    let results: Vec<ActionResult> = catalog
        .iter()
        .map(|action| {
            score_action(
                action,
                facts,
                states.get(&action.id).copied().unwrap_or_default(),
            )
        })
        .collect();
    let totals = total_scores(catalog.iter().zip(results.iter()));
    DayScore { results, totals }
}

pub use entity::daily_score::CategoryTotal;

/// What one licence the tenant lacks keeps out of reach on a day (stored as
/// `{"license", "actions", "maxScore"}` in the day's row).
#[derive(
    Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize, async_graphql::SimpleObject,
)]
#[serde(rename_all = "camelCase")]
pub struct LicenseGap {
    /// The licence.
    pub license: License,
    /// Actions that read NOT_LICENSED for it.
    pub actions: i32,
    /// Their summed maxima: the points the licence would add to what can be earned.
    pub max_score: f64,
}

impl LicenseGap {
    /// The JSON a day's row stores its gaps as: the one writer of that column.
    pub fn to_stored(gaps: &[LicenseGap]) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(gaps)
    }

    /// A day's gaps from its stored JSON (none stored: none): the one reader of that column.
    pub fn from_stored(
        stored: Option<&serde_json::Value>,
    ) -> Result<Vec<LicenseGap>, serde_json::Error> {
        use serde::Deserialize;
        match stored {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(stored) => Vec::<LicenseGap>::deserialize(stored),
        }
    }
}

/// A day's sums.
#[derive(Clone, Debug, PartialEq)]
pub struct DayTotals {
    /// Sum of action scores.
    pub score: f64,
    /// Sum of action maxima.
    pub max_score: f64,
    /// `100 × score / max_score`, 0 when the maximum is 0.
    pub percentage: f64,
    /// The score if every PLANNED action earned its remaining points.
    pub planned_score: f64,
    /// Points of scored, in-force actions that had no data (NO_DATA counts 0 of 0).
    pub no_data_max_score: f64,
    /// How much of the catalog could be measured: see [`coverage`].
    pub coverage: f64,
    /// Every category, in enum order, including empty ones.
    pub categories: Vec<CategoryTotal>,
    /// Per licence the tenant lacks (enum order), what NOT_LICENSED keeps out of reach.
    pub license_gaps: Vec<LicenseGap>,
}

/// Sums a day's action results, each paired with its definition.
pub fn total_scores<'a>(
    scored: impl IntoIterator<Item = (&'a ActionDefinition, &'a ActionResult)>,
) -> DayTotals {
    let mut categories: Vec<CategoryTotal> = ActionCategory::ALL
        .iter()
        .map(|&category| CategoryTotal {
            category,
            score: 0.0,
            max_score: 0.0,
        })
        .collect();
    let (mut score, mut max_score, mut planned_gain, mut no_data) = (0.0, 0.0, 0.0, 0.0);
    let mut license_gaps: Vec<LicenseGap> = License::ALL
        .iter()
        .map(|&license| LicenseGap {
            license,
            actions: 0,
            max_score: 0.0,
        })
        .collect();
    for (action, result) in scored {
        for gap in license_gaps
            .iter_mut()
            .filter(|g| result.missing_licenses.contains(&g.license))
        {
            gap.actions += 1;
            gap.max_score += action.max_score;
        }
        score += result.score;
        max_score += result.max_score;
        if result.status == ActionStatus::NoData {
            no_data += action.max_score;
        }
        if result.state == ActionState::Planned {
            planned_gain += result.max_score - result.score;
        }
        if let Some(total) = categories
            .iter_mut()
            .find(|c| c.category == action.category)
        {
            total.score += result.score;
            total.max_score += result.max_score;
        }
    }
    DayTotals {
        score,
        max_score,
        percentage: percentage(score, max_score),
        planned_score: score + planned_gain,
        no_data_max_score: no_data,
        coverage: coverage(max_score, no_data),
        categories,
        license_gaps: license_gaps.into_iter().filter(|g| g.actions > 0).collect(),
    }
}

/// `100 × max_score / (max_score + no_data_max_score)`: the share of the scorable points that
/// the facts could measure; 100 when both are 0.
pub fn coverage(max_score: f64, no_data_max_score: f64) -> f64 {
    let scorable = max_score + no_data_max_score;
    if scorable > 0.0 {
        100.0 * max_score / scorable
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::ScoringRule;
    use entity::daily_score::StoredCategories;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn categories_with_nothing_scored_are_not_stored_and_read_back_as_0_of_0() {
        let totals: Vec<CategoryTotal> = ActionCategory::ALL
            .iter()
            .map(|&category| CategoryTotal {
                category,
                score: if category == ActionCategory::Apps {
                    1.5
                } else {
                    0.0
                },
                max_score: match category {
                    ActionCategory::Apps => 4.0,
                    ActionCategory::Device => 2.0,
                    _ => 0.0,
                },
            })
            .collect();
        let stored = StoredCategories::counted(&totals);
        assert_eq!(
            serde_json::to_value(&stored).unwrap(),
            json!([
                {"category": "DEVICE", "score": 0.0, "maxScore": 2.0},
                {"category": "APPS", "score": 1.5, "maxScore": 4.0}
            ])
        );
        assert_eq!(stored.every(), totals);
        // Days stored with every category read the same.
        let whole: StoredCategories =
            serde_json::from_value(serde_json::to_value(&totals).unwrap()).unwrap();
        assert_eq!(whole.every(), totals);
    }

    fn boolean_action(id: &str, category: ActionCategory, max: f64) -> ActionDefinition {
        ActionDefinition {
            id: id.into(),
            category,
            max_score: max,
            scored: true,
            deprecated: false,
            rule: ScoringRule::Boolean { fact: id.into() },
            requires_licenses: vec![],
        }
    }

    #[test]
    fn planned_actions_count_as_done_in_planned_score_only() {
        let a = boolean_action("a", ActionCategory::Identity, 8.0);
        let b = boolean_action("b", ActionCategory::Apps, 4.0);
        let facts = json!({"a": true, "b": false});
        let ra = score_action(&a, &facts, ActionState::Default);
        let rb = score_action(&b, &facts, ActionState::Planned);
        assert_eq!(rb.status, ActionStatus::NotCompleted);
        let totals = total_scores([(&a, &ra), (&b, &rb)]);
        assert_eq!(totals.score, 8.0);
        assert_eq!(totals.max_score, 12.0);
        assert_eq!(totals.planned_score, 12.0);
        assert!((totals.percentage - 66.666_666).abs() < 1e-3);
        let apps = totals
            .categories
            .iter()
            .find(|c| c.category == ActionCategory::Apps)
            .unwrap();
        assert_eq!((apps.score, apps.max_score), (0.0, 4.0));
        assert_eq!(totals.categories.len(), ActionCategory::ALL.len());
    }

    #[test]
    fn score_day_applies_each_actions_state() {
        let catalog = vec![
            boolean_action("a", ActionCategory::Identity, 8.0),
            boolean_action("b", ActionCategory::Identity, 4.0),
        ];
        let states = HashMap::from([("b".to_string(), ActionState::ThirdParty)]);
        let day = score_day(&catalog, &json!({"a": false, "b": false}), &states);
        assert_eq!(day.results[1].status, ActionStatus::ThirdParty);
        assert_eq!((day.totals.score, day.totals.max_score), (4.0, 12.0));
    }

    #[test]
    fn nothing_to_score_is_zero_percent_with_full_coverage() {
        let totals = total_scores([]);
        assert_eq!((totals.percentage, totals.coverage), (0.0, 100.0));
    }

    #[test]
    fn actions_without_data_lower_coverage_but_not_the_percentage() {
        let catalog = vec![
            boolean_action("a", ActionCategory::Identity, 6.0),
            boolean_action("b", ActionCategory::Identity, 2.0),
            boolean_action("c", ActionCategory::Apps, 4.0),
        ];
        let mut deprecated = boolean_action("d", ActionCategory::Apps, 5.0);
        deprecated.deprecated = true;
        let mut all = catalog.clone();
        all.push(deprecated);
        // Only `a` has data; `c` is ignored; `d` is deprecated: 6 of 6 measured, 2 without data.
        let states = HashMap::from([("c".to_string(), ActionState::Ignored)]);
        let day = score_day(&all, &json!({"a": true}), &states);
        assert_eq!(day.totals.percentage, 100.0);
        assert_eq!(day.totals.no_data_max_score, 2.0);
        assert_eq!(day.totals.coverage, 75.0);
        assert_eq!(coverage(0.0, 3.0), 0.0);
    }

    #[test]
    fn licence_gaps_sum_what_each_missing_licence_keeps_out_and_leave_coverage_alone() {
        let licensed = |id: &str, max: f64, licenses: &[License]| ActionDefinition {
            requires_licenses: licenses.to_vec(),
            ..boolean_action(id, ActionCategory::Identity, max)
        };
        let catalog = vec![
            licensed("risk", 7.0, &[License::EntraP2]),
            licensed("pim", 5.0, &[License::EntraP1, License::EntraP2]),
            licensed("ca", 4.0, &[License::EntraP1]),
            licensed("accepted", 3.0, &[License::EntraP2]),
            boolean_action("free", ActionCategory::Identity, 2.0),
        ];
        let facts = json!({"licenses": {"entraP1": true, "entraP2": false},
                           "risk": true, "pim": true, "ca": true, "accepted": true, "free": true});
        let states = HashMap::from([("accepted".to_string(), ActionState::RiskAccepted)]);
        let day = score_day(&catalog, &facts, &states);
        // P2 keeps risk (7) and pim (5) out; the risk-accepted action stays in the maximum,
        // so it is no gap. Scored: ca 4 + free 2 of 4 + 3 + 2 = 9.
        assert_eq!(
            day.totals.license_gaps,
            vec![LicenseGap {
                license: License::EntraP2,
                actions: 2,
                max_score: 12.0
            }]
        );
        assert_eq!((day.totals.score, day.totals.max_score), (6.0, 9.0));
        assert_eq!(
            (day.totals.no_data_max_score, day.totals.coverage),
            (0.0, 100.0)
        );
        let stored = LicenseGap::to_stored(&day.totals.license_gaps).unwrap();
        assert_eq!(
            stored,
            json!([{"license": "ENTRA_P2", "actions": 2, "maxScore": 12.0}])
        );
        assert_eq!(
            LicenseGap::from_stored(Some(&stored)).unwrap(),
            day.totals.license_gaps
        );
        assert_eq!(LicenseGap::from_stored(None).unwrap(), vec![]);
    }

    proptest! {
        #[test]
        fn totals_are_the_sums_of_their_parts(values in prop::collection::vec((any::<bool>(), 0.5f64..20.0, 0usize..5), 0..30)) {
            let actions: Vec<_> = values.iter().enumerate()
                .map(|(i, (_, max, cat))| boolean_action(&format!("a{i}"), ActionCategory::ALL[*cat], *max))
                .collect();
            let facts = serde_json::Value::Object(values.iter().enumerate()
                .map(|(i, (done, _, _))| (format!("a{i}"), json!(done))).collect());
            let results: Vec<_> = actions.iter().map(|a| score_action(a, &facts, ActionState::Default)).collect();
            let totals = total_scores(actions.iter().zip(results.iter()));
            let sum: f64 = results.iter().map(|r| r.score).sum();
            let cat_sum: f64 = totals.categories.iter().map(|c| c.score).sum();
            let cat_max: f64 = totals.categories.iter().map(|c| c.max_score).sum();
            prop_assert!((totals.score - sum).abs() < 1e-9);
            prop_assert!((totals.score - cat_sum).abs() < 1e-9);
            prop_assert!((totals.max_score - cat_max).abs() < 1e-9);
            prop_assert!(totals.percentage >= 0.0 && totals.percentage <= 100.0 + 1e-9);
        }
    }
}
