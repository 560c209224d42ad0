//! How each period of a tenant's history went: points achieved and regressed between
//! consecutive stored days, regressions, risk-accepted points and the percentage at each
//! period's end. Pure functions of the stored days' steps.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::Enum;
use chrono::{Datelike, Duration, NaiveDate};

use super::diff::{ActionScoreView, score_deltas};
use crate::domain::ActionStatus;

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

    }
}
