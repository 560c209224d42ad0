//! Scoring rules: one enum whose every kind is validated, evaluated, stored and shown from here.
//!
//! A rule travels as [`RuleFields`], the flat shape of `upsertAction`, the catalog file, the
//! stored JSON column and the GraphQL `ScoringRule`; it becomes a [`ScoringRule`] only through
//! `TryFrom`, which checks that the fields fit the kind. Adding a kind touches this file and the
//! GraphQL enum `RuleKind`.

use async_graphql::{InputObject, SimpleObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::facts;
use crate::domain::RuleKind;

/// A catalog entry's rule, validated: only the fields its kind uses exist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RuleFields", into = "RuleFields")]
pub enum ScoringRule {
    /// Full points when the fact is `true`, none when `false`.
    Boolean {
        /// Dotted fact path.
        fact: String,
    },
    /// Partial credit: `maxScore × clamp(numerator / denominator, 0, 1)`.
    Ratio {
        /// Dotted path of the numerator fact.
        numerator: String,
        /// Dotted path of the denominator fact.
        denominator: String,
    },
    /// Full points when a number lies within inclusive bounds (either may be absent).
    Range {
        /// Dotted fact path.
        fact: String,
        /// Inclusive lower bound.
        min: Option<f64>,
        /// Inclusive upper bound.
        max: Option<f64>,
    },
}

/// How facts turn into points; which fields apply depends on `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, SimpleObject, InputObject)]
#[serde(deny_unknown_fields)]
#[graphql(name = "ScoringRule", input_name = "ScoringRuleInput")]
pub struct RuleFields {
    /// BOOLEAN (fact), RATIO (numerator, denominator) or RANGE (fact, min and/or max).
    pub kind: RuleKind,
    /// Dotted fact path read by BOOLEAN and RANGE rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<String>,
    /// Dotted numerator path of a RATIO rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<String>,
    /// Dotted denominator path of a RATIO rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// Inclusive lower bound of a RANGE rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Inclusive upper bound of a RANGE rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// What a rule says about a snapshot, before overrides and catalog flags.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RuleOutcome {
    /// The fraction of the points earned, in `[0, 1]`, and RATIO progress when there is one.
    Fraction {
        /// Share of the maximum earned.
        share: f64,
        /// `(current, total)` for RATIO rules.
        progress: Option<(f64, f64)>,
    },
    /// The rule does not apply (a RATIO over a zero denominator).
    NotApplicable,
    /// The facts the rule needs are missing or malformed.
    NoData,
}

impl TryFrom<RuleFields> for ScoringRule {
    type Error = String;

    /// Checks that the fields fit the kind; the error names the offending field.
    fn try_from(fields: RuleFields) -> Result<Self, String> {
        let kind = fields.kind.as_str();
        let path = |name: &str, value: Option<String>| -> Result<String, String> {
            match value {
                Some(path) if is_valid_path(&path) => Ok(path),
                Some(_) => Err(format!(
                    "rule.{name} must be a dotted fact path such as `users.total`"
                )),
                None => Err(format!("a {kind} rule needs rule.{name}")),
            }
        };
        let absent = |name: &str, is_set: bool| -> Result<(), String> {
            if is_set {
                Err(format!("a {kind} rule does not take rule.{name}"))
            } else {
                Ok(())
            }
        };
        match fields.kind {
            RuleKind::Boolean => {
                let fact = path("fact", fields.fact)?;
                absent("numerator", fields.numerator.is_some())?;
                absent("denominator", fields.denominator.is_some())?;
                absent("min", fields.min.is_some())?;
                absent("max", fields.max.is_some())?;
                Ok(ScoringRule::Boolean { fact })
            }
            RuleKind::Ratio => {
                let numerator = path("numerator", fields.numerator)?;
                let denominator = path("denominator", fields.denominator)?;
                absent("fact", fields.fact.is_some())?;
                absent("min", fields.min.is_some())?;
                absent("max", fields.max.is_some())?;
                Ok(ScoringRule::Ratio {
                    numerator,
                    denominator,
                })
            }
            RuleKind::Range => {
                let fact = path("fact", fields.fact)?;
                absent("numerator", fields.numerator.is_some())?;
                absent("denominator", fields.denominator.is_some())?;
                let (min, max) = (fields.min, fields.max);
                if min.is_none() && max.is_none() {
                    return Err("a RANGE rule needs rule.min, rule.max or both".into());
                }
                if min.is_some_and(|v| !v.is_finite()) || max.is_some_and(|v| !v.is_finite()) {
                    return Err("rule.min and rule.max must be finite numbers".into());
                }
                if let (Some(low), Some(high)) = (min, max)
                    && low > high
                {
                    return Err("rule.min must not be greater than rule.max".into());
                }
                Ok(ScoringRule::Range { fact, min, max })
            }
        }
    }
}

impl From<ScoringRule> for RuleFields {
    fn from(rule: ScoringRule) -> Self {
        let kind = rule.kind();
        let blank = RuleFields {
            kind,
            fact: None,
            numerator: None,
            denominator: None,
            min: None,
            max: None,
        };
        match rule {
            ScoringRule::Boolean { fact } => RuleFields {
                fact: Some(fact),
                ..blank
            },
            ScoringRule::Ratio {
                numerator,
                denominator,
            } => RuleFields {
                numerator: Some(numerator),
                denominator: Some(denominator),
                ..blank
            },
            ScoringRule::Range { fact, min, max } => RuleFields {
                fact: Some(fact),
                min,
                max,
                ..blank
            },
        }
    }
}

impl ScoringRule {
    /// The rule's kind.
    pub fn kind(&self) -> RuleKind {
        match self {
            ScoringRule::Boolean { .. } => RuleKind::Boolean,
            ScoringRule::Ratio { .. } => RuleKind::Ratio,
            ScoringRule::Range { .. } => RuleKind::Range,
        }
    }

    /// The fact paths the rule reads.
    pub fn fact_paths(&self) -> Vec<&str> {
        match self {
            ScoringRule::Boolean { fact } | ScoringRule::Range { fact, .. } => vec![fact],
            ScoringRule::Ratio {
                numerator,
                denominator,
            } => vec![numerator, denominator],
        }
    }

    /// The stored JSON form.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(RuleFields::from(self.clone())).unwrap_or(Value::Null)
    }

    /// Reads the stored JSON form back; anything else is an error naming what is wrong.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }

    /// Evaluates the rule against a snapshot's facts.
    pub fn evaluate(&self, facts: &Value) -> RuleOutcome {
        match self {
            ScoringRule::Boolean { fact } => match facts::flag(facts, fact) {
                Some(done) => RuleOutcome::Fraction {
                    share: if done { 1.0 } else { 0.0 },
                    progress: None,
                },
                None => RuleOutcome::NoData,
            },
            ScoringRule::Ratio {
                numerator,
                denominator,
            } => match (
                facts::count(facts, numerator),
                facts::count(facts, denominator),
            ) {
                (Some(_), Some(0.0)) => RuleOutcome::NotApplicable,
                (Some(n), Some(d)) => RuleOutcome::Fraction {
                    share: (n / d).clamp(0.0, 1.0),
                    progress: Some((n, d)),
                },
                _ => RuleOutcome::NoData,
            },
            ScoringRule::Range { fact, min, max } => match facts::count(facts, fact) {
                Some(value) => {
                    let within =
                        min.is_none_or(|min| value >= min) && max.is_none_or(|max| value <= max);
                    RuleOutcome::Fraction {
                        share: if within { 1.0 } else { 0.0 },
                        progress: None,
                    }
                }
                None => RuleOutcome::NoData,
            },
        }
    }
}

/// A fact path: dot-separated, non-empty segments of at most 200 characters in all.
fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && path
            .split('.')
            .all(|segment| !segment.is_empty() && !segment.chars().any(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ratio() -> ScoringRule {
        ScoringRule::Ratio {
            numerator: "users.mfa".into(),
            denominator: "users.total".into(),
        }
    }

    fn range(min: Option<f64>, max: Option<f64>) -> ScoringRule {
        ScoringRule::Range {
            fact: "admins".into(),
            min,
            max,
        }
    }

    fn fields(value: Value) -> Result<ScoringRule, String> {
        ScoringRule::try_from(serde_json::from_value::<RuleFields>(value).unwrap())
    }

    #[test]
    fn ratio_gives_partial_credit_with_progress() {
        let outcome = ratio().evaluate(&json!({"users": {"mfa": 90, "total": 120}}));
        assert_eq!(
            outcome,
            RuleOutcome::Fraction {
                share: 0.75,
                progress: Some((90.0, 120.0))
            }
        );
    }

    #[test]
    fn ratio_is_clamped_to_one() {
        let outcome = ratio().evaluate(&json!({"users": {"mfa": 130, "total": 120}}));
        assert!(matches!(outcome, RuleOutcome::Fraction { share, .. } if share == 1.0));
    }

    #[test]
    fn ratio_over_zero_is_not_applicable() {
        let outcome = ratio().evaluate(&json!({"users": {"mfa": 0, "total": 0}}));
        assert_eq!(outcome, RuleOutcome::NotApplicable);
    }

    #[test]
    fn ratio_with_negative_or_missing_numbers_has_no_data() {
        assert_eq!(
            ratio().evaluate(&json!({"users": {"mfa": -1, "total": 5}})),
            RuleOutcome::NoData
        );
        assert_eq!(
            ratio().evaluate(&json!({"users": {"total": 5}})),
            RuleOutcome::NoData
        );
        assert_eq!(
            ratio().evaluate(&json!({"users": {"mfa": "3", "total": 5}})),
            RuleOutcome::NoData
        );
    }

    #[test]
    fn boolean_needs_a_real_boolean() {
        let rule = ScoringRule::Boolean { fact: "a.b".into() };
        assert!(
            matches!(rule.evaluate(&json!({"a": {"b": true}})), RuleOutcome::Fraction { share, .. } if share == 1.0)
        );
        assert!(
            matches!(rule.evaluate(&json!({"a": {"b": false}})), RuleOutcome::Fraction { share, .. } if share == 0.0)
        );
        assert_eq!(
            rule.evaluate(&json!({"a": {"b": "true"}})),
            RuleOutcome::NoData
        );
    }

    #[test]
    fn range_bounds_are_inclusive_and_optional() {
        let at_least_two = range(Some(2.0), None);
        let at_most_four = range(None, Some(4.0));
        let full = |o| matches!(o, RuleOutcome::Fraction { share, .. } if share == 1.0);
        assert!(full(at_least_two.evaluate(&json!({"admins": 2}))));
        assert!(!full(at_least_two.evaluate(&json!({"admins": 1}))));
        assert!(full(at_most_four.evaluate(&json!({"admins": 4}))));
        assert!(!full(at_most_four.evaluate(&json!({"admins": 5}))));
        assert_eq!(
            at_most_four.evaluate(&json!({"admins": null})),
            RuleOutcome::NoData
        );
    }

    #[test]
    fn validation_names_the_field_that_does_not_fit() {
        assert_eq!(
            fields(json!({"kind": "RATIO", "numerator": "a", "denominator": "b", "min": 1}))
                .unwrap_err(),
            "a RATIO rule does not take rule.min"
        );
        assert_eq!(
            fields(json!({"kind": "RATIO", "numerator": "a"})).unwrap_err(),
            "a RATIO rule needs rule.denominator"
        );
        assert!(fields(json!({"kind": "RANGE", "fact": "a"})).is_err());
        assert!(fields(json!({"kind": "RANGE", "fact": "a", "min": 5, "max": 1})).is_err());
        assert!(
            fields(json!({"kind": "RATIO", "numerator": "users..x", "denominator": "b"})).is_err()
        );
        assert_eq!(
            fields(
                json!({"kind": "RATIO", "numerator": "users.mfa", "denominator": "users.total"})
            ),
            Ok(ratio())
        );
    }

    #[test]
    fn stored_json_round_trips_and_unknown_shapes_are_refused() {
        for rule in [
            ratio(),
            range(Some(2.0), None),
            ScoringRule::Boolean { fact: "a".into() },
        ] {
            assert_eq!(ScoringRule::from_json(&rule.to_json()), Ok(rule));
        }
        assert_eq!(
            range(None, Some(4.0)).to_json(),
            json!({"kind": "RANGE", "fact": "admins", "max": 4.0})
        );
        assert!(ScoringRule::from_json(&json!({"kind": "MAGIC", "fact": "a"})).is_err());
        assert!(
            ScoringRule::from_json(&json!({"kind": "BOOLEAN", "fact": "a", "extra": 1})).is_err()
        );
        assert!(ScoringRule::from_json(&json!({"kind": "BOOLEAN"})).is_err());
    }
}
