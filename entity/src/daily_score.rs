//! A tenant's stored score for one UTC date.

use sea_orm::FromJsonQueryResult;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::ActionCategory;

/// One row of `daily_scores`, unique per tenant and date.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_scores")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Scored tenant.
    pub tenant_id: String,
    /// The UTC calendar day.
    pub date: Date,
    /// Sum of action scores, unrounded.
    pub score: f64,
    /// Sum of action maxima.
    pub max_score: f64,
    /// `100 × score / max_score`, 0 when the maximum is 0.
    pub percentage: f64,
    /// Score if every PLANNED action were completed.
    pub planned_score: f64,
    /// Per-category totals: `[{"category", "score", "maxScore"}]`.
    pub categories: StoredCategories,
    /// The snapshot the score was computed from.
    pub snapshot_id: Option<i64>,
    /// When the row was computed.
    pub computed_at: DateTimeUtc,
    /// True once the date is closed: only `recomputeScores` rewrites it then.
    pub r#final: bool,
    /// Points of scored, in-force actions that had no data (left out of `max_score`).
    pub no_data_max_score: f64,
    /// `100 × max_score / (max_score + no_data_max_score)`, 100 when both are 0.
    pub coverage: f64,
    /// The computation this row belongs to (microseconds since the epoch when it was written).
    pub version: i64,
    /// True while the action score sets this row named before may remain, for the sweeper.
    pub stale_actions: bool,
    /// The tenant's change sequence the row's inputs were read at; a computation from an
    /// older sequence never overwrites the row.
    pub input_seq: i64,
    /// What the licences the tenant lacks kept out of reach: `[{"license", "actions",
    /// "maxScore"}]`; none for days scored before licences were.
    pub license_gaps: Option<Json>,
    /// The day's action results (`action_score_sets`), shared with other days of the tenant
    /// whose results are the same.
    pub action_set_id: i64,
}

/// Relations of `daily_scores` (none navigated through the ORM).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// One category's sums on a day (stored as `{"category", "score", "maxScore"}`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryTotal {
    /// The category.
    pub category: ActionCategory,
    /// Sum of its action scores.
    pub score: f64,
    /// Sum of its action maxima.
    pub max_score: f64,
}

/// A day's category totals as its row stores them, read into 24 bytes a category rather than a
/// JSON tree (kilobytes a day in the closed-day cache).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct StoredCategories(Vec<CategoryTotal>);

impl StoredCategories {
    /// What a day's row stores: a category with nothing scored (0 of 0) is left out;
    /// [`StoredCategories::every`] puts it back. The one writer of the column.
    pub fn counted(totals: &[CategoryTotal]) -> StoredCategories {
        StoredCategories(
            totals
                .iter()
                .filter(|t| t.score != 0.0 || t.max_score != 0.0)
                .copied()
                .collect(),
        )
    }

    /// Every category as stored, none left out (as rows the release before wrote).
    pub fn whole(totals: &[CategoryTotal]) -> StoredCategories {
        StoredCategories(totals.to_vec())
    }

    /// Every category in declaration order, one left out counting 0 of 0: the one reader.
    pub fn every(&self) -> Vec<CategoryTotal> {
        ActionCategory::ALL
            .iter()
            .map(|&category| {
                self.0
                    .iter()
                    .find(|t| t.category == category)
                    .copied()
                    .unwrap_or(CategoryTotal {
                        category,
                        score: 0.0,
                        max_score: 0.0,
                    })
            })
            .collect()
    }
}
