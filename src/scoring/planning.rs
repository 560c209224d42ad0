//! Planning and review: a plan's status, the forecast its due dates lead to, how each period
//! of the history went, and score zones. Pure functions of stored days and plans.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::{Enum, SimpleObject};
use chrono::{Datelike, Duration, NaiveDate};

use super::action::percentage;
use super::diff::{ActionScoreView, score_deltas};
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

/// How the history is cut into periods.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TrendPeriod {
    /// One day each.
    Day,
    /// Seven-day windows from `from`.
    Week,
    /// Calendar months, clipped to the range.
    Month,
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

/// One stored day, as trends read it: its percentage and what changed since the stored day
/// before it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendDay {
    /// The date.
    pub date: NaiveDate,
    /// Its percentage.
    pub percentage: f64,
    /// Its results' change from the stored day before, shared by every day between the same
    /// two stored sets.
    pub step: Arc<TrendStep>,
}

/// What trends take of one day's results: their non-zero score deltas from the stored day
/// before, and the points they accept as a risk. A function of the two days' results alone,
/// so it is computed once per pair of stored sets.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendStep {
    /// The non-zero score deltas in action id order ([`score_deltas`]); none when there is no
    /// day before or it stored the same results.
    pub deltas: Vec<f64>,
    /// Summed maxima of the day's RISK_ACCEPTED actions.
    pub risk_accepted_points: f64,
}

impl TrendStep {
    /// The step to `after`'s results from `before`'s (`None`: no day before, or the same
    /// results).
    pub fn between<A: ActionScoreView>(before: Option<&[A]>, after: &[A]) -> TrendStep {
        TrendStep {
            deltas: before.map_or_else(Vec::new, |before| score_deltas(before, after)),
            // Folded from +0.0: `sum` of no value is -0.0, which clients show as "-0".
            risk_accepted_points: after
                .iter()
                .filter(|a| a.status() == ActionStatus::RiskAccepted)
                .fold(0.0, |sum, a| sum + a.max_score()),
        }
    }

    /// About the bytes it holds, for a cache's weigher.
    pub fn weight(&self) -> u32 {
        let deltas = u32::try_from(self.deltas.len()).unwrap_or(u32::MAX / 8);
        64u32.saturating_add(deltas.saturating_mul(8))
    }
}

/// How one period went.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    /// First date of the period.
    pub from: NaiveDate,
    /// Last date of the period.
    pub to: NaiveDate,
    /// Sum of the actions' positive score changes between consecutive stored days.
    pub points_achieved: f64,
    /// Sum of their negative changes, as a positive number.
    pub points_regressed: f64,
    /// How many changes lost points.
    pub regressed_actions: i32,
    /// Maxima of the RISK_ACCEPTED actions on the period's last stored day.
    pub risk_accepted_points: f64,
    /// The percentage of the period's last stored day; none without a stored day.
    pub percentage_at_end: Option<f64>,
}

/// The periods of `[from, to]`.
pub fn periods(from: NaiveDate, to: NaiveDate, period: TrendPeriod) -> Vec<(NaiveDate, NaiveDate)> {
    let mut cuts = Vec::new();
    let mut start = from;
    while start <= to {
        let end = match period {
            TrendPeriod::Day => start,
            TrendPeriod::Week => start + Duration::days(6),
            TrendPeriod::Month => {
                let next_month = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
                };
                next_month.map_or(to, |d| d - Duration::days(1))
            }
        }
        .min(to);
        cuts.push((start, end));
        start = end + Duration::days(1);
    }
    cuts
}

/// Trends over `[from, to]`: `days` are the stored days in date order, each with its step
/// from the stored day before it (which may precede `from`: its change to the first day counts
/// in the first period).
pub fn trends(
    days: &[TrendDay],
    from: NaiveDate,
    to: NaiveDate,
    period: TrendPeriod,
) -> Vec<TrendPoint> {
    let mut by_period: BTreeMap<NaiveDate, TrendPoint> = periods(from, to, period)
        .into_iter()
        .map(|(start, end)| {
            let point = TrendPoint {
                from: start,
                to: end,
                points_achieved: 0.0,
                points_regressed: 0.0,
                regressed_actions: 0,
                risk_accepted_points: 0.0,
                percentage_at_end: None,
            };
            (start, point)
        })
        .collect();
    for day in days {
        if day.date < from || day.date > to {
            continue;
        }
        let Some(key) = by_period_key(&by_period, day.date) else {
            continue;
        };
        let Some(point) = by_period.get_mut(&key) else {
            continue;
        };
        for &delta in &day.step.deltas {
            if delta > 0.0 {
                point.points_achieved += delta;
            } else {
                point.points_regressed -= delta;
                point.regressed_actions += 1;
            }
        }
        // Days come in date order: the last one seen is the period's last stored day.
        point.percentage_at_end = Some(day.percentage);
        point.risk_accepted_points = day.step.risk_accepted_points;
    }
    by_period.into_values().collect()
}

/// The start of the period holding `date`.
fn by_period_key(periods: &BTreeMap<NaiveDate, TrendPoint>, date: NaiveDate) -> Option<NaiveDate> {
    periods
        .range(..=date)
        .next_back()
        .filter(|(_, point)| date <= point.to)
        .map(|(start, _)| *start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ActionState;
    use crate::scoring::diff::ScoredAction;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn action(id: &str, score: f64, max: f64, status: ActionStatus) -> ScoredAction {
        ScoredAction {
            action_id: id.into(),
            score,
            max_score: max,
            status,
            state: ActionState::Default,
            progress: None,
            catalog_max_score: max,
            catalog_scored: true,
            catalog_deprecated: false,
        }
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
    fn periods_are_days_seven_day_windows_or_clipped_calendar_months() {
        let (from, to) = (date("2026-01-30"), date("2026-03-02"));
        assert_eq!(
            periods(from, to, TrendPeriod::Month),
            [
                (date("2026-01-30"), date("2026-01-31")),
                (date("2026-02-01"), date("2026-02-28")),
                (date("2026-03-01"), date("2026-03-02")),
            ]
        );
        let weeks = periods(from, to, TrendPeriod::Week);
        assert_eq!(weeks[0], (date("2026-01-30"), date("2026-02-05")));
        assert_eq!(weeks.last().unwrap().1, to);
        assert_eq!(periods(from, from, TrendPeriod::Day), [(from, from)]);
    }

    /// A stored day with its results, before its step is taken.
    #[derive(Clone, Debug, PartialEq)]
    struct StoredDay {
        date: NaiveDate,
        percentage: f64,
        actions: Vec<ScoredAction>,
    }

    /// Each day with its step from the day before it (the first has none).
    fn steps(days: &[StoredDay]) -> Vec<TrendDay> {
        days.iter()
            .enumerate()
            .map(|(i, day)| TrendDay {
                date: day.date,
                percentage: day.percentage,
                step: Arc::new(TrendStep::between(
                    i.checked_sub(1).map(|p| days[p].actions.as_slice()),
                    &day.actions,
                )),
            })
            .collect()
    }

    #[test]
    fn trends_sum_the_changes_between_consecutive_stored_days() {
        let day = |d: &str, pct: f64, actions: Vec<ScoredAction>| StoredDay {
            date: date(d),
            percentage: pct,
            actions,
        };
        let days = [
            // The day before the range: its change to the first day counts.
            day(
                "2026-05-31",
                10.0,
                vec![action("a", 1.0, 4.0, ActionStatus::Partial)],
            ),
            day(
                "2026-06-01",
                20.0,
                vec![action("a", 3.0, 4.0, ActionStatus::Partial)],
            ),
            // 06-02 is not stored; 06-03 compares with 06-01.
            day(
                "2026-06-03",
                15.0,
                vec![
                    action("a", 2.0, 4.0, ActionStatus::Partial),
                    action("b", 0.0, 5.0, ActionStatus::RiskAccepted),
                ],
            ),
            day(
                "2026-06-08",
                30.0,
                vec![
                    action("a", 4.0, 4.0, ActionStatus::Completed),
                    action("b", 0.0, 5.0, ActionStatus::RiskAccepted),
                ],
            ),
        ];
        let days = steps(&days);
        let weeks = trends(
            &days,
            date("2026-06-01"),
            date("2026-06-14"),
            TrendPeriod::Week,
        );
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[0].points_achieved, 2.0);
        assert_eq!(weeks[0].points_regressed, 1.0);
        assert_eq!(weeks[0].regressed_actions, 1);
        assert_eq!(weeks[0].risk_accepted_points, 5.0);
        assert_eq!(weeks[0].percentage_at_end, Some(15.0));
        assert_eq!(weeks[1].points_achieved, 2.0);
        assert_eq!(weeks[1].percentage_at_end, Some(30.0));
        let daily = trends(
            &days,
            date("2026-06-01"),
            date("2026-06-02"),
            TrendPeriod::Day,
        );
        assert_eq!(daily[1].percentage_at_end, None, "no stored day");
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

    /// Up to 60 stored days (some skipped) from 2026-01-01, three actions each, some missing.
    fn any_days() -> impl Strategy<Value = Vec<StoredDay>> {
        prop::collection::vec(
            (
                any::<bool>(),
                // Few scores, so that consecutive days are often equal.
                prop::collection::vec(
                    prop::option::of(prop::sample::select(vec![0.0, 2.5, 10.0])),
                    3,
                ),
            ),
            1..60,
        )
        .prop_map(|days| {
            days.into_iter()
                .enumerate()
                .filter(|(i, (stored, _))| *stored || *i == 0)
                .map(|(i, (_, scores))| StoredDay {
                    date: date("2026-01-01") + Duration::days(i as i64),
                    percentage: 50.0,
                    actions: scores
                        .into_iter()
                        .enumerate()
                        .filter_map(|(a, score)| {
                            score
                                .map(|s| action(["a", "b", "c"][a], s, 10.0, ActionStatus::Partial))
                        })
                        .collect(),
                })
                .collect()
        })
    }

    fn total(day: &StoredDay) -> f64 {
        day.actions.iter().map(|a| a.score).sum()
    }

    proptest! {
        #[test]
        fn trends_telescope_to_the_change_over_the_range_whatever_the_period(days in any_days()) {
            let from = days[0].date + Duration::days(1);
            let to = date("2026-03-15");
            let expected = total(days.last().unwrap()) - total(&days[0]);
            let stepped = steps(&days);
            for period in [TrendPeriod::Day, TrendPeriod::Week, TrendPeriod::Month] {
                let points = trends(&stepped, from, to, period);
                let net: f64 = points.iter().map(|p| p.points_achieved - p.points_regressed).sum();
                prop_assert!((net - expected).abs() < 1e-9, "{period:?}: {net} vs {expected}");
                prop_assert!(points.iter().all(|p| p.points_achieved >= 0.0 && p.points_regressed >= 0.0));
                let covered: i64 = points.iter().map(|p| (p.to - p.from).num_days() + 1).sum();
                prop_assert_eq!(covered, (to - from).num_days() + 1);
            }
            // A day storing its predecessor's results, as a day naming the same set does, takes
            // the step of a day with none before it.
            for (i, day) in stepped.iter().enumerate().skip(1) {
                if days[i].actions == days[i - 1].actions {
                    prop_assert_eq!(&*day.step, &TrendStep::between(None, &days[i].actions));
                }
            }
        }

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
