//! Scoring rules: their validation and their evaluation against facts.

use serde_json::Value;

use super::facts;
use crate::domain::RuleKind;

/// A catalog entry's rule, as stored and as accepted from `upsertAction` or the catalog file.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ScoringRule {
    /// Which fields apply and how they score.
    pub kind: RuleKind,
    /// Fact path for BOOLEAN and RANGE.
    pub fact: Option<String>,
    /// Numerator fact path for RATIO.
    pub numerator: Option<String>,
    /// Denominator fact path for RATIO.
    pub denominator: Option<String>,
    /// Inclusive lower bound for RANGE.
    pub min: Option<f64>,
    /// Inclusive upper bound for RANGE.
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

impl ScoringRule {
    /// Checks that the fields fit the kind; the error names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let kind = self.kind.as_str();
        let present = |name: &str, value: &Option<String>| -> Result<(), String> {
            match value {
                Some(path) if is_valid_path(path) => Ok(()),
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
        match self.kind {
            RuleKind::Boolean => {
                present("fact", &self.fact)?;
                absent("numerator", self.numerator.is_some())?;
                absent("denominator", self.denominator.is_some())?;
                absent("min", self.min.is_some())?;
                absent("max", self.max.is_some())
            }
            RuleKind::Ratio => {
                present("numerator", &self.numerator)?;
                present("denominator", &self.denominator)?;
                absent("fact", self.fact.is_some())?;
                absent("min", self.min.is_some())?;
                absent("max", self.max.is_some())
            }
            RuleKind::Range => {
                present("fact", &self.fact)?;
                absent("numerator", self.numerator.is_some())?;
                absent("denominator", self.denominator.is_some())?;
                if self.min.is_none() && self.max.is_none() {
                    return Err("a RANGE rule needs rule.min, rule.max or both".into());
                }
                if self.min.is_some_and(|v| !v.is_finite())
                    || self.max.is_some_and(|v| !v.is_finite())
                {
                    return Err("rule.min and rule.max must be finite numbers".into());
                }
                match (self.min, self.max) {
                    (Some(min), Some(max)) if min > max => {
                        Err("rule.min must not be greater than rule.max".into())
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Evaluates the rule; assumes `validate` passed (a missing path reads as no data).
    pub fn evaluate(&self, facts: &Value) -> RuleOutcome {
        let path = |p: &Option<String>| p.as_deref().unwrap_or_default().to_owned();
        match self.kind {
            RuleKind::Boolean => match facts::flag(facts, &path(&self.fact)) {
                Some(done) => RuleOutcome::Fraction {
                    share: if done { 1.0 } else { 0.0 },
                    progress: None,
                },
                None => RuleOutcome::NoData,
            },
            RuleKind::Ratio => {
                let numerator = facts::count(facts, &path(&self.numerator));
                let denominator = facts::count(facts, &path(&self.denominator));
                match (numerator, denominator) {
                    (Some(_), Some(0.0)) => RuleOutcome::NotApplicable,
                    (Some(n), Some(d)) => RuleOutcome::Fraction {
                        share: (n / d).clamp(0.0, 1.0),
                        progress: Some((n, d)),
                    },
                    _ => RuleOutcome::NoData,
                }
            }
            RuleKind::Range => match facts::count(facts, &path(&self.fact)) {
                Some(value) => {
                    let within = self.min.is_none_or(|min| value >= min)
                        && self.max.is_none_or(|max| value <= max);
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
        ScoringRule {
            kind: RuleKind::Ratio,
            fact: None,
            numerator: Some("users.mfa".into()),
            denominator: Some("users.total".into()),
            min: None,
            max: None,
        }
    }

    fn range(min: Option<f64>, max: Option<f64>) -> ScoringRule {
        ScoringRule {
            kind: RuleKind::Range,
            fact: Some("admins".into()),
            numerator: None,
            denominator: None,
            min,
            max,
        }
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
        let rule = ScoringRule {
            kind: RuleKind::Boolean,
            fact: Some("a.b".into()),
            ..ratio_blank()
        };
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
        let mut bad = ratio();
        bad.min = Some(1.0);
        assert_eq!(
            bad.validate().unwrap_err(),
            "a RATIO rule does not take rule.min"
        );
        let mut bad = ratio();
        bad.denominator = None;
        assert_eq!(
            bad.validate().unwrap_err(),
            "a RATIO rule needs rule.denominator"
        );
        assert!(range(None, None).validate().is_err());
        assert!(range(Some(5.0), Some(1.0)).validate().is_err());
        let mut bad = ratio();
        bad.numerator = Some("users..x".into());
        assert!(bad.validate().is_err());
        assert!(ratio().validate().is_ok());
    }

    fn ratio_blank() -> ScoringRule {
        ScoringRule {
            kind: RuleKind::Boolean,
            fact: None,
            numerator: None,
            denominator: None,
            min: None,
            max: None,
        }
    }
}
