//! Planning: a plan's status, the forecast its due dates lead to, and score zones. Pure
//! functions of stored days and plans (how each period went is `trends`).

use async_graphql::{Enum, SimpleObject};
use chrono::{Duration, NaiveDate};

use super::action::percentage;
use crate::domain::ActionStatus;

/// Where a plan stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    /// Not done, not late.
    Open,
    /// Not done and its due date has passed.
    Overdue,
    /// The action is COMPLETED or THIRD_PARTY in today's score.
    Completed,
}

/// A day's percentage against the tenant's thresholds.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScoreZone {
    /// At or above `good`.
    Good,
    /// At or above `fair`, under `good`.
    Fair,
    /// Under `fair`.
    Poor,
}

/// A tenant's zone thresholds, in percent.
#[derive(SimpleObject, Clone, Copy, Debug, PartialEq)]
pub struct ScoreZones {
    /// From this percentage up a day is GOOD.
    pub good: f64,
    /// From this percentage up (under `good`) a day is FAIR.
    pub fair: f64,
}

impl Default for ScoreZones {
    fn default() -> Self {
        ScoreZones {
            good: 70.0,
            fair: 40.0,
        }
    }
}

impl ScoreZones {
    /// Checks `0 ≤ fair ≤ good ≤ 100`; the error says which bound is broken.
    pub fn validate(&self) -> Result<(), String> {
        let finite = self.good.is_finite() && self.fair.is_finite();
        if !finite || self.fair < 0.0 || self.good > 100.0 {
            return Err("good and fair must be percentages between 0 and 100".into());
        }
        if self.fair > self.good {
            return Err("fair must not be above good".into());
        }
        Ok(())
    }

    /// The zone of a percentage.
    pub fn zone(&self, percentage: f64) -> ScoreZone {
        if percentage >= self.good {
            ScoreZone::Good
        } else if percentage >= self.fair {
            ScoreZone::Fair
        } else {
            ScoreZone::Poor
        }
    }
}

/// A plan's status: COMPLETED when today's score says the action is done, otherwise OVERDUE
/// once its due date is before today, otherwise OPEN.
pub fn plan_status(
    status_today: Option<ActionStatus>,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> PlanStatus {
    if matches!(
        status_today,
        Some(ActionStatus::Completed | ActionStatus::ThirdParty)
    ) {
        PlanStatus::Completed
    } else if due.is_some_and(|due| due < today) {
        PlanStatus::Overdue
    } else {
        PlanStatus::Open
    }
}

/// What a forecast needs of one plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedPoints {
    /// Its due date, if it has one (a plan without one adds nothing).
    pub due: Option<NaiveDate>,
    /// The action's points still available today (`maxScore - score`).
    pub points_left: f64,
    /// Its status.
    pub status: PlanStatus,
}

/// One forecast date.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastPoint {
    /// The date.
    pub date: NaiveDate,
    /// Today's score plus the points of the plans due by then.
    pub score: f64,
    /// Today's maximum.
    pub max_score: f64,
    /// `100 × score / maxScore`.
    pub percentage: f64,
}

/// Longest forecast and trend range, in days.
pub const MAX_PLANNING_DAYS: i64 = 366;

/// One point per date from tomorrow to `to`: today's score plus, for every plan not COMPLETED
/// due on or before that date (overdue ones from tomorrow), its points still available today.
pub fn forecast(
    today: NaiveDate,
    to: NaiveDate,
    score: f64,
    max_score: f64,
    plans: &[PlannedPoints],
) -> Vec<ForecastPoint> {
    let mut due: Vec<(NaiveDate, f64)> = plans
        .iter()
        .filter(|p| p.status != PlanStatus::Completed)
        .filter_map(|p| p.due.map(|d| (d, p.points_left.max(0.0))))
        .collect();
    due.sort_by_key(|(date, _)| *date);
    let mut points = Vec::new();
    let mut added = 0.0;
    let mut next = due.iter().peekable();
    let mut date = today + Duration::days(1);
    while date <= to {
        while let Some((_, points_left)) = next.next_if(|(due, _)| *due <= date) {
            added += points_left;
        }
        let forecast_score = (score + added).min(max_score.max(score));
        points.push(ForecastPoint {
            date,
            score: forecast_score,
            max_score,
            percentage: percentage(forecast_score, max_score),
        });
        date += Duration::days(1);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_plan_is_completed_overdue_or_open() {
        let today = date("2026-06-10");
        let due = Some(date("2026-06-09"));
        assert_eq!(
            plan_status(Some(ActionStatus::ThirdParty), due, today),
            PlanStatus::Completed
        );
        assert_eq!(
            plan_status(Some(ActionStatus::Partial), due, today),
            PlanStatus::Overdue
        );
        assert_eq!(
            plan_status(Some(ActionStatus::Partial), Some(today), today),
            PlanStatus::Open
        );
        assert_eq!(plan_status(None, None, today), PlanStatus::Open);
    }

    #[test]
    fn the_forecast_adds_each_plans_points_from_its_due_date_overdue_ones_from_tomorrow() {
        let today = date("2026-06-10");
        let plans = [
            PlannedPoints {
                due: Some(date("2026-06-01")),
                points_left: 2.0,
                status: PlanStatus::Overdue,
            },
            PlannedPoints {
                due: Some(date("2026-06-12")),
                points_left: 3.0,
                status: PlanStatus::Open,
            },
            PlannedPoints {
                due: Some(date("2026-06-11")),
                points_left: 5.0,
                status: PlanStatus::Completed,
            },
            PlannedPoints {
                due: None,
                points_left: 7.0,
                status: PlanStatus::Open,
            },
        ];
        let points = forecast(today, date("2026-06-13"), 10.0, 20.0, &plans);
        let scores: Vec<(String, f64)> = points
            .iter()
            .map(|p| (p.date.to_string(), p.score))
            .collect();
        assert_eq!(
            scores,
            [
                ("2026-06-11".to_owned(), 12.0),
                ("2026-06-12".to_owned(), 15.0),
                ("2026-06-13".to_owned(), 15.0)
            ]
        );
        assert!(points.iter().all(|p| p.max_score == 20.0));
        assert_eq!(points[1].percentage, 75.0);
        assert!(forecast(today, today, 10.0, 20.0, &plans).is_empty());
    }

    #[test]
    fn zones_are_validated_and_cut_at_their_thresholds() {
        let zones = ScoreZones::default();
        assert_eq!(zones.zone(70.0), ScoreZone::Good);
        assert_eq!(zones.zone(69.9), ScoreZone::Fair);
        assert_eq!(zones.zone(39.9), ScoreZone::Poor);
        assert!(
            ScoreZones {
                good: 50.0,
                fair: 60.0
            }
            .validate()
            .is_err()
        );
        assert!(
            ScoreZones {
                good: 101.0,
                fair: 60.0
            }
            .validate()
            .is_err()
        );
        assert!(
            ScoreZones {
                good: 50.0,
                fair: -1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            ScoreZones {
                good: 50.0,
                fair: 50.0
            }
            .validate()
            .is_ok()
        );
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_forecast_never_falls_and_ends_with_every_due_plans_points(
            score in 0.0f64..50.0,
            plans in prop::collection::vec((prop::option::of(-10i64..40), 0.0f64..5.0, any::<bool>()), 0..8),
        ) {
            let today = date("2026-06-10");
            let planned: Vec<PlannedPoints> = plans
                .iter()
                .map(|&(due, left, done)| PlannedPoints {
                    due: due.map(|d| today + Duration::days(d)),
                    points_left: left,
                    status: if done { PlanStatus::Completed } else { PlanStatus::Open },
                })
                .collect();
            let max = score + planned.iter().map(|p| p.points_left).sum::<f64>();
            let points = forecast(today, today + Duration::days(30), score, max, &planned);
            prop_assert_eq!(points.len(), 30);
            prop_assert!(points.windows(2).all(|w| w[0].score <= w[1].score));
            let due_by_end: f64 = planned
                .iter()
                .filter(|p| p.status != PlanStatus::Completed)
                .filter(|p| p.due.is_some_and(|d| d <= today + Duration::days(30)))
                .map(|p| p.points_left)
                .sum();
            prop_assert!((points[29].score - (score + due_by_end)).abs() < 1e-9);
        }
    }
}
