//! One action's score on one date, by the order of precedence in docs/design.md.

use serde_json::Value;

use super::facts::flag;
use super::rule::{RuleOutcome, ScoringRule};
use crate::domain::{ActionCategory, ActionState, ActionStatus, License};

/// What the engine needs to know of a catalog entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionDefinition {
    /// Catalog id.
    pub id: String,
    /// Category the points count towards.
    pub category: ActionCategory,
    /// Points, above 0.
    pub max_score: f64,
    /// False for "[Not Scored]".
    pub scored: bool,
    /// Deprecated entries count for nothing.
    pub deprecated: bool,
    /// How facts turn into points.
    pub rule: ScoringRule,
    /// Licences the action's feature needs; a tenant whose licence fact is `false` cannot
    /// earn it.
    pub requires_licenses: Vec<License>,
}

/// `current` of `total`, e.g. 90 of 120 users.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Numerator fact.
    pub current: f64,
    /// Denominator fact.
    pub total: f64,
}

/// An action's score on one date.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionResult {
    /// Points earned, `0 <= score <= max_score`.
    pub score: f64,
    /// Points counted in the day's maximum.
    pub max_score: f64,
    /// Why the points are what they are.
    pub status: ActionStatus,
    /// The override state in force.
    pub state: ActionState,
    /// RATIO progress, whenever the facts give one.
    pub progress: Option<Progress>,
    /// For NOT_LICENSED: the required licences whose facts say the tenant lacks them.
    pub missing_licenses: Vec<License>,
}

/// Scores one action from the snapshot's facts and the override state in force.
pub fn score_action(action: &ActionDefinition, facts: &Value, state: ActionState) -> ActionResult {
    let outcome = action.rule.evaluate(facts);
    let progress = match outcome {
        RuleOutcome::Fraction {
            progress: Some((current, total)),
            ..
        } => Some(Progress { current, total }),
        _ => None,
    };
    let max = action.max_score;
    let mut missing_licenses = Vec::new();
    let (score, max_score, status) = if action.deprecated {
        (0.0, 0.0, ActionStatus::Deprecated)
    } else if !action.scored {
        (0.0, 0.0, ActionStatus::NotScored)
    } else {
        match state {
            ActionState::Ignored => (0.0, 0.0, ActionStatus::Ignored),
            ActionState::ThirdParty => (max, max, ActionStatus::ThirdParty),
            ActionState::RiskAccepted => (0.0, max, ActionStatus::RiskAccepted),
            ActionState::Default | ActionState::Planned => {
                missing_licenses = lacking(&action.requires_licenses, facts);
                if missing_licenses.is_empty() {
                    from_rule(outcome, max)
                } else {
                    (0.0, 0.0, ActionStatus::NotLicensed)
                }
            }
        }
    };
    ActionResult {
        score,
        max_score,
        status,
        state,
        progress,
        missing_licenses,
    }
}

/// The licences of `required` whose facts are `false`; a missing fact lacks nothing (the rule
/// decides).
pub fn lacking(required: &[License], facts: &Value) -> Vec<License> {
    required
        .iter()
        .copied()
        .filter(|license| flag(facts, license.fact_path()) == Some(false))
        .collect()
}

/// `maxScore - score`: the points an action still has to give (never negative).
pub fn potential_increase(score: f64, max_score: f64) -> f64 {
    (max_score - score).max(0.0)
}

/// `100 × maxScore / the day's total maxScore`: how much one action weighs in its day.
pub fn score_impact(max_score: f64, day_max_score: f64) -> f64 {
    percentage(max_score, day_max_score)
}

/// `100 × score / max_score`, 0 when the maximum is 0.
pub fn percentage(score: f64, max_score: f64) -> f64 {
    if max_score > 0.0 {
        100.0 * score / max_score
    } else {
        0.0
    }
}

/// Orders improvement candidates: largest potential increase first, ties by action id; those
/// with no points left are kept (last) only when `include_exhausted`.
pub fn rank_improvements<T>(
    candidates: impl IntoIterator<Item = T>,
    points_left: impl Fn(&T) -> f64,
    action_id: impl Fn(&T) -> &str,
    include_exhausted: bool,
) -> Vec<T> {
    let mut ranked: Vec<T> = candidates
        .into_iter()
        .filter(|c| include_exhausted || points_left(c) > 0.0)
        .collect();
    ranked.sort_by(|a, b| {
        points_left(b)
            .total_cmp(&points_left(a))
            .then_with(|| action_id(a).cmp(action_id(b)))
    });
    ranked
}

/// Points, maximum and status that the rule alone gives.
fn from_rule(outcome: RuleOutcome, max: f64) -> (f64, f64, ActionStatus) {
    match outcome {
        RuleOutcome::NotApplicable => (0.0, 0.0, ActionStatus::NotApplicable),
        RuleOutcome::NoData => (0.0, 0.0, ActionStatus::NoData),
        RuleOutcome::Fraction { share, .. } => {
            let score = (max * share).clamp(0.0, max);
            let status = if share >= 1.0 {
                ActionStatus::Completed
            } else if score > 0.0 {
                ActionStatus::Partial
            } else {
                ActionStatus::NotCompleted
            };
            (score, max, status)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn mfa_action() -> ActionDefinition {
        ActionDefinition {
            id: "MFARegistration".into(),
            category: ActionCategory::Identity,
            max_score: 9.0,
            scored: true,
            deprecated: false,
            rule: ScoringRule::Ratio {
                numerator: "users.mfaRegistered".into(),
                denominator: "users.total".into(),
            },
            requires_licenses: vec![],
        }
    }

    /// The sign-in risk policy: Entra ID P2 only.
    fn risk_action() -> ActionDefinition {
        ActionDefinition {
            requires_licenses: vec![License::EntraP2],
            ..mfa_action()
        }
    }

    fn licensed(facts: Value, p2: Option<bool>) -> Value {
        let mut facts = facts;
        if let Some(p2) = p2 {
            facts["licenses"] = json!({"entraP1": true, "entraP2": p2});
        }
        facts
    }

    #[test]
    fn a_licence_the_tenant_lacks_counts_nothing_of_nothing() {
        let r = score_action(
            &risk_action(),
            &licensed(facts(30.0, 120.0), Some(false)),
            ActionState::Default,
        );
        // 30 of 120 users would be 2.25 of 9; without P2 it is 0 of 0.
        assert_eq!(
            (r.score, r.max_score, r.status),
            (0.0, 0.0, ActionStatus::NotLicensed)
        );
        assert_eq!(r.missing_licenses, vec![License::EntraP2]);
        assert_eq!(r.progress.map(|p| p.current), Some(30.0));
        let planned = score_action(
            &risk_action(),
            &licensed(facts(30.0, 120.0), Some(false)),
            ActionState::Planned,
        );
        assert_eq!(planned.status, ActionStatus::NotLicensed);
    }

    #[test]
    fn a_held_or_unknown_licence_leaves_the_rule_to_decide() {
        for p2 in [Some(true), None] {
            let r = score_action(
                &risk_action(),
                &licensed(facts(30.0, 120.0), p2),
                ActionState::Default,
            );
            assert_eq!((r.score, r.status), (2.25, ActionStatus::Partial), "{p2:?}");
            assert!(r.missing_licenses.is_empty());
        }
        // A licence fact that is not a boolean is not `false`.
        let mut odd = facts(30.0, 120.0);
        odd["licenses"] = json!({"entraP2": "no"});
        assert_eq!(
            score_action(&risk_action(), &odd, ActionState::Default).status,
            ActionStatus::Partial
        );
    }

    #[test]
    fn overrides_and_catalog_flags_win_over_licences() {
        let f = licensed(facts(30.0, 120.0), Some(false));
        let third = score_action(&risk_action(), &f, ActionState::ThirdParty);
        assert_eq!((third.score, third.status), (9.0, ActionStatus::ThirdParty));
        assert!(third.missing_licenses.is_empty());
        let accepted = score_action(&risk_action(), &f, ActionState::RiskAccepted);
        assert_eq!(
            (accepted.max_score, accepted.status),
            (9.0, ActionStatus::RiskAccepted)
        );
        let ignored = score_action(&risk_action(), &f, ActionState::Ignored);
        assert_eq!(ignored.status, ActionStatus::Ignored);
        let mut deprecated = risk_action();
        deprecated.deprecated = true;
        assert_eq!(
            score_action(&deprecated, &f, ActionState::Default).status,
            ActionStatus::Deprecated
        );
    }

    fn facts(mfa: f64, total: f64) -> Value {
        json!({"users": {"mfaRegistered": mfa, "total": total}})
    }

    #[test]
    fn partial_mfa_scores_pro_rata() {
        let result = score_action(&mfa_action(), &facts(90.0, 120.0), ActionState::Default);
        assert_eq!(result.score, 6.75);
        assert_eq!(result.max_score, 9.0);
        assert_eq!(result.status, ActionStatus::Partial);
        assert_eq!(
            result.progress,
            Some(Progress {
                current: 90.0,
                total: 120.0
            })
        );
    }

    #[test]
    fn full_and_empty_ratios_are_completed_and_not_completed() {
        let done = score_action(&mfa_action(), &facts(120.0, 120.0), ActionState::Planned);
        assert_eq!((done.score, done.status), (9.0, ActionStatus::Completed));
        let none = score_action(&mfa_action(), &facts(0.0, 120.0), ActionState::Default);
        assert_eq!(
            (none.score, none.max_score, none.status),
            (0.0, 9.0, ActionStatus::NotCompleted)
        );
    }

    #[test]
    fn overrides_follow_precedence() {
        let f = facts(30.0, 120.0);
        let ignored = score_action(&mfa_action(), &f, ActionState::Ignored);
        assert_eq!(
            (ignored.score, ignored.max_score, ignored.status),
            (0.0, 0.0, ActionStatus::Ignored)
        );
        let third = score_action(&mfa_action(), &f, ActionState::ThirdParty);
        assert_eq!(
            (third.score, third.max_score, third.status),
            (9.0, 9.0, ActionStatus::ThirdParty)
        );
        let accepted = score_action(
            &mfa_action(),
            &facts(120.0, 120.0),
            ActionState::RiskAccepted,
        );
        assert_eq!(
            (accepted.score, accepted.max_score, accepted.status),
            (0.0, 9.0, ActionStatus::RiskAccepted)
        );
    }

    #[test]
    fn catalog_flags_win_over_overrides() {
        let mut deprecated = mfa_action();
        deprecated.deprecated = true;
        deprecated.scored = false;
        let r = score_action(&deprecated, &facts(1.0, 1.0), ActionState::ThirdParty);
        assert_eq!(
            (r.score, r.max_score, r.status),
            (0.0, 0.0, ActionStatus::Deprecated)
        );
        let mut not_scored = mfa_action();
        not_scored.scored = false;
        let r = score_action(&not_scored, &facts(1.0, 1.0), ActionState::ThirdParty);
        assert_eq!(
            (r.score, r.max_score, r.status),
            (0.0, 0.0, ActionStatus::NotScored)
        );
    }

    #[test]
    fn missing_facts_and_zero_denominators_count_nothing() {
        let r = score_action(&mfa_action(), &json!({}), ActionState::Default);
        assert_eq!(
            (r.score, r.max_score, r.status),
            (0.0, 0.0, ActionStatus::NoData)
        );
        let r = score_action(&mfa_action(), &facts(0.0, 0.0), ActionState::Default);
        assert_eq!(
            (r.score, r.max_score, r.status),
            (0.0, 0.0, ActionStatus::NotApplicable)
        );
    }

    #[test]
    fn improvements_rank_by_points_left_then_id() {
        let candidates = [("b", 2.0), ("a", 2.0), ("e", 0.0), ("c", 0.0), ("d", 5.0)];
        let ranked = rank_improvements(candidates, |c| c.1, |c| c.0, false);
        assert_eq!(ranked, vec![("d", 5.0), ("a", 2.0), ("b", 2.0)]);
        let all = rank_improvements(candidates, |c| c.1, |c| c.0, true);
        assert_eq!(
            all,
            vec![("d", 5.0), ("a", 2.0), ("b", 2.0), ("c", 0.0), ("e", 0.0)]
        );
        assert_eq!(potential_increase(6.75, 9.0), 2.25);
        assert_eq!(score_impact(9.0, 48.0), 18.75);
        assert_eq!(score_impact(9.0, 0.0), 0.0);
    }

    fn any_state() -> impl Strategy<Value = ActionState> {
        prop::sample::select(ActionState::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn score_stays_within_bounds(
            mfa in -10.0f64..1e6, total in -10.0f64..1e6, max in 0.001f64..1000.0,
            scored in any::<bool>(), deprecated in any::<bool>(), state in any_state(),
        ) {
            let mut action = mfa_action();
            action.max_score = max;
            action.scored = scored;
            action.deprecated = deprecated;
            let r = score_action(&action, &facts(mfa, total), state);
            prop_assert!(r.score >= 0.0);
            prop_assert!(r.score <= r.max_score);
            prop_assert!(r.max_score == 0.0 || r.max_score == max);
        }

        #[test]
        fn a_lacking_licence_only_ever_takes_the_action_out(
            mfa in 0.0f64..500.0, total in 0.0f64..500.0, p2 in any::<bool>(), state in any_state(),
        ) {
            let f = licensed(facts(mfa, total), Some(p2));
            let with = score_action(&risk_action(), &f, state);
            let without = score_action(&mfa_action(), &f, state);
            if with.status == ActionStatus::NotLicensed {
                prop_assert!(!p2);
                prop_assert!(matches!(state, ActionState::Default | ActionState::Planned));
                prop_assert_eq!((with.score, with.max_score), (0.0, 0.0));
            } else {
                prop_assert_eq!(with, without);
            }
        }

        #[test]
        fn overrides_win_over_any_facts(mfa in 0.0f64..500.0, total in 0.0f64..500.0) {
            let f = facts(mfa, total);
            let action = mfa_action();
            prop_assert_eq!(score_action(&action, &f, ActionState::ThirdParty).score, 9.0);
            prop_assert_eq!(score_action(&action, &f, ActionState::RiskAccepted).score, 0.0);
            prop_assert_eq!(score_action(&action, &f, ActionState::RiskAccepted).max_score, 9.0);
            prop_assert_eq!(score_action(&action, &f, ActionState::Ignored).max_score, 0.0);
            prop_assert_eq!(
                score_action(&action, &f, ActionState::Planned),
                ActionResult { state: ActionState::Planned, ..score_action(&action, &f, ActionState::Default) }
            );
        }
    }
}
