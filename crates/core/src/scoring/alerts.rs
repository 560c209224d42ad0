//! Alert rules: which settings are valid, and whether a rule fires for a newly written day.

use super::diff::ActionChange;
use crate::domain::AlertKind;

/// Longest DROP window, in days.
pub const MAX_WINDOW_DAYS: i32 = 90;

/// A rule's settings, as created or after an update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RuleSettings {
    /// What the rule watches.
    pub kind: AlertKind,
    /// Percentage (BELOW_PERCENTAGE) or points (DROP).
    pub threshold: Option<f64>,
    /// Days back for DROP.
    pub window_days: i32,
}

impl RuleSettings {
    /// Checks the kind-specific fields; the message names the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        match (self.kind, self.threshold) {
            (AlertKind::BelowPercentage | AlertKind::Drop, None) => {
                return Err(format!("threshold is required for {}", self.kind.as_str()));
            }
            (AlertKind::Regression | AlertKind::PlanOverdue, Some(_)) => {
                return Err(format!(
                    "threshold does not apply to {}",
                    self.kind.as_str()
                ));
            }
            (_, Some(t)) if !(t.is_finite() && (0.0..=100.0).contains(&t)) => {
                return Err(format!("threshold must be within 0 to 100, not {t}"));
            }
            (AlertKind::Drop, Some(0.0)) => {
                return Err("threshold of a DROP must be above 0".into());
            }
            _ => {}
        }
        if !(1..=MAX_WINDOW_DAYS).contains(&self.window_days) {
            return Err(format!(
                "windowDays must be within 1 to {MAX_WINDOW_DAYS}, not {}",
                self.window_days
            ));
        }
        if self.kind != AlertKind::Drop && self.window_days != 1 {
            return Err("windowDays applies to DROP only".into());
        }
        Ok(())
    }

    /// How many days before the written date the rule compares with.
    pub fn days_back(&self) -> i64 {
        match self.kind {
            AlertKind::Drop => i64::from(self.window_days),
            AlertKind::BelowPercentage | AlertKind::Regression | AlertKind::PlanOverdue => 1,
        }
    }
}

/// What a written day looks like to the rules.
#[derive(Clone, Copy, Debug)]
pub struct WrittenDay<'a> {
    /// The day's percentage.
    pub percentage: f64,
    /// The percentage `days_back` days before, if that day is stored.
    pub percentage_before: Option<f64>,
    /// The actions that lost points against the previous day.
    pub regressions: &'a [ActionChange],
}

/// Whether a rule fires for a written day.
pub fn fires(rule: &RuleSettings, day: &WrittenDay<'_>) -> bool {
    match (rule.kind, rule.threshold) {
        (AlertKind::BelowPercentage, Some(threshold)) => day.percentage < threshold,
        (AlertKind::Drop, Some(threshold)) => day
            .percentage_before
            .is_some_and(|before| before - day.percentage >= threshold),
        (AlertKind::Regression, _) => !day.regressions.is_empty(),
        // Fires per plan, not per day (see `plan_overdue_fires`).
        (AlertKind::PlanOverdue, _) => false,
        (AlertKind::BelowPercentage | AlertKind::Drop, None) => false,
    }
}

/// Whether a PLAN_OVERDUE rule fires for a plan on the written `date`: its due date has passed,
/// its action is not done that day, and no alert was raised for this due date yet.
pub fn plan_overdue_fires(
    due: Option<chrono::NaiveDate>,
    alerted_for: Option<chrono::NaiveDate>,
    status_that_day: Option<crate::domain::ActionStatus>,
    date: chrono::NaiveDate,
) -> bool {
    use crate::domain::ActionStatus;
    let done = matches!(
        status_that_day,
        Some(ActionStatus::Completed | ActionStatus::ThirdParty)
    );
    due.is_some_and(|due| due < date && alerted_for != Some(due)) && !done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: AlertKind, threshold: Option<f64>, window_days: i32) -> RuleSettings {
        RuleSettings {
            kind,
            threshold,
            window_days,
        }
    }

    fn day(percentage: f64, before: Option<f64>) -> WrittenDay<'static> {
        WrittenDay {
            percentage,
            percentage_before: before,
            regressions: &[],
        }
    }

    #[test]
    fn each_kind_checks_its_own_fields() {
        assert!(
            rule(AlertKind::BelowPercentage, Some(50.0), 1)
                .validate()
                .is_ok()
        );
        assert!(rule(AlertKind::Drop, Some(5.0), 7).validate().is_ok());
        assert!(rule(AlertKind::Regression, None, 1).validate().is_ok());
        for (bad, words) in [
            (rule(AlertKind::BelowPercentage, None, 1), "required"),
            (rule(AlertKind::Regression, Some(1.0), 1), "does not apply"),
            (rule(AlertKind::BelowPercentage, Some(100.5), 1), "0 to 100"),
            (
                rule(AlertKind::BelowPercentage, Some(f64::NAN), 1),
                "0 to 100",
            ),
            (rule(AlertKind::Drop, Some(-1.0), 1), "0 to 100"),
            (rule(AlertKind::Drop, Some(0.0), 1), "above 0"),
            (rule(AlertKind::Drop, Some(5.0), 0), "1 to 90"),
            (rule(AlertKind::Drop, Some(5.0), 91), "1 to 90"),
            (rule(AlertKind::BelowPercentage, Some(5.0), 7), "DROP only"),
        ] {
            let message = bad.validate().unwrap_err();
            assert!(message.contains(words), "{bad:?}: {message}");
        }
    }

    #[test]
    fn below_fires_strictly_under_the_threshold() {
        let below = rule(AlertKind::BelowPercentage, Some(50.0), 1);
        assert!(fires(&below, &day(49.99, None)));
        assert!(!fires(&below, &day(50.0, None)));
    }

    #[test]
    fn a_drop_needs_the_earlier_day_and_a_fall_of_at_least_the_threshold() {
        let drop = rule(AlertKind::Drop, Some(5.0), 7);
        assert!(fires(&drop, &day(60.0, Some(65.0))));
        assert!(!fires(&drop, &day(60.1, Some(65.0))));
        assert!(!fires(&drop, &day(10.0, None)));
        assert!(!fires(&drop, &day(70.0, Some(65.0))));
        assert_eq!(drop.days_back(), 7);
    }

    #[test]
    fn a_regression_fires_when_some_action_lost_points() {
        let regression = rule(AlertKind::Regression, None, 1);
        assert!(!fires(&regression, &day(10.0, Some(90.0))));
        let lost = [ActionChange {
            action_id: "AdminMFA".into(),
            reasons: vec![crate::domain::ChangeReason::ConfigurationChanged],
            score_delta: -2.0,
            before: None,
            after: None,
            directory_changes: None,
        }];
        let with_loss = WrittenDay {
            percentage: 10.0,
            percentage_before: Some(12.0),
            regressions: &lost,
        };
        assert!(fires(&regression, &with_loss));
    }

    #[test]
    fn a_plan_is_overdue_once_per_due_date_and_never_when_done() {
        use crate::domain::ActionStatus;
        let date = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let today = date("2026-06-10");
        let due = Some(date("2026-06-09"));
        assert!(plan_overdue_fires(
            due,
            None,
            Some(ActionStatus::Partial),
            today
        ));
        assert!(!plan_overdue_fires(
            due,
            due,
            Some(ActionStatus::Partial),
            today
        ));
        assert!(plan_overdue_fires(
            due,
            Some(date("2026-05-01")),
            None,
            today
        ));
        assert!(!plan_overdue_fires(
            due,
            None,
            Some(ActionStatus::ThirdParty),
            today
        ));
        assert!(!plan_overdue_fires(Some(today), None, None, today));
        assert!(!plan_overdue_fires(None, None, None, today));
    }
}
